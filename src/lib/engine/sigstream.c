/*
 * sigstream.c: k-way merge of a chain's signature files by index.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/tar.h"
#include "compress/gzip.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/sigstream.h"
#include "util/ctx.h"
#include "util/path.h"
#include "util/stream.h"

struct sigfile {
	const char *name;
	int fd;
	struct arca_source *raw;
	struct arca_source *gz;
	struct arca_tar_reader *tar;
	int have;		/* cur holds an entry */
	int done;
	struct arca_buf path;
	struct arca_sigent cur;
};

struct arca_sigstream {
	struct arca_engine *e;
	struct sigfile *f;
	size_t n;
	int with_deleted;
	struct arca_buf outpath;
	struct arca_sigent out;
};

static void
sigfile_close(struct sigfile *f)
{
	arca_tar_reader_free(f->tar);
	arca_source_free(f->gz);
	arca_source_free(f->raw);
	if (f->fd >= 0)
		close(f->fd);
	arca_buf_free(&f->path);
	arca_buf_free(&f->cur.sig);
	arca_meta_clear(&f->cur.meta);
}

/* Read f's next entry into f->cur. */
static int
sigfile_advance(struct arca_sigstream *s, struct sigfile *f)
{
	const struct arca_meta *m;
	const char *name;
	enum arca_mkind kind;
	unsigned long chunk;
	unsigned char buf[65536];
	ssize_t n;
	int r;

	f->have = 0;
	if (f->done)
		return 0;
	r = arca_tar_next(f->tar, &name, &m);
	if (r < 0) {
		arca_error_prefix(s->e->ctx, "signature file %s", f->name);
		return r;
	}
	if (r == 0) {
		f->done = 1;
		return 0;
	}
	if ((r = arca_member_parse(name, strlen(name), &kind, &f->path,
	    &chunk)) != 0)
		return arca_member_refused(s->e->ctx, r, "signature file",
		    f->name, name);
	if (kind != ARCA_M_SIGNATURE && kind != ARCA_M_SNAPSHOT &&
	    kind != ARCA_M_DELETED)
		return arca_error(s->e->ctx, ARCA_ERR_CORRUPT,
		    "signature file %s: unexpected member %s", f->name, name);
	arca_meta_clear(&f->cur.meta);
	if ((r = arca_meta_copy(&f->cur.meta, m)) != 0)
		return r;
	f->cur.kind = kind;
	f->cur.path = (const char *)f->path.data ? (const char *)f->path.data : "";
	arca_buf_reset(&f->cur.sig);
	f->cur.sig.max = ARCA_SIG_MAX;
	while ((n = arca_tar_read_data(f->tar, buf, sizeof(buf))) > 0)
		if (kind == ARCA_M_SIGNATURE &&
		    arca_buf_append(&f->cur.sig, buf, (size_t)n) != 0)
			return arca_error(s->e->ctx, ARCA_ERR_CORRUPT,
			    "signature file %s: signature of %s too large",
			    f->name, f->cur.path);
	if (n < 0) {
		arca_error_prefix(s->e->ctx, "signature file %s", f->name);
		return (int)n;
	}
	if (kind == ARCA_M_SIGNATURE)
		f->cur.meta.type = ARCA_T_REG;
	f->have = 1;
	return 1;
}

static int
sigfile_open(struct arca_sigstream *s, struct sigfile *f, const char *name)
{
	struct arca_ctx *ctx = s->e->ctx;
	int r;

	f->name = name;
	f->fd = -1;
	/* The archive dir holds every signature file gzipped (§4.4). */
	{
		struct arca_buf cname = { 0 };
		char key[4096];

		if (arca_fname_key(name, key, sizeof(key)) != 0)
			return arca_error(ctx, ARCA_ERR_CORRUPT, "bad name %s", name);
		arca_buf_printf(&cname, "%s.gz", key);
		f->fd = arca_engine_open_cached(s->e, (char *)cname.data);
		arca_buf_free(&cname);
	}
	if (f->fd < 0)
		return f->fd;
	if ((f->raw = arca_source_fd(ctx, f->fd, name)) == NULL ||
	    (f->gz = arca_gunzip_source(ctx, f->raw, 0)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((r = arca_tar_reader_new(ctx, f->gz, &f->tar)) != 0) {
		arca_error_prefix(ctx, "signature file %s", name);
		return r;
	}
	r = sigfile_advance(s, f);
	return r < 0 ? r : 0;
}

int
arca_sigstream_open(struct arca_engine *e, const struct arca_sigchain *sc,
    int64_t t, int with_deleted, struct arca_sigstream **out)
{
	struct arca_sigstream *s;
	size_t i, n = 1;
	int r;

	for (i = 0; i < sc->nnews; i++)
		if (t < 0 || sc->news_end[i] <= t)
			n++;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->f = arca_calloc(n, sizeof(*s->f))) == NULL) {
		free(s);
		return ARCA_ERR_NOMEM;
	}
	s->e = e;
	s->with_deleted = with_deleted;
	for (i = 0; i < n; i++)
		s->f[i].fd = -1;
	s->n = n;
	if ((r = sigfile_open(s, &s->f[0], sc->full)) != 0)
		goto fail;
	for (i = 0, n = 1; i < sc->nnews; i++) {
		if (t >= 0 && sc->news_end[i] > t)
			continue;
		if ((r = sigfile_open(s, &s->f[n++], sc->news[i])) != 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	arca_sigstream_free(s);
	return r;
}

int
arca_sigstream_next(struct arca_sigstream *s, const struct arca_sigent **ent)
{
	struct sigfile *win;
	const char *min;
	size_t i;
	int r;

	for (;;) {
		min = NULL;
		for (i = 0; i < s->n; i++)
			if (s->f[i].have && (min == NULL ||
			    arca_path_cmp(s->f[i].cur.path, min) < 0))
				min = s->f[i].cur.path;
		if (min == NULL)
			return 0;
		/* The newest file that has this path wins. */
		win = NULL;
		for (i = s->n; i-- > 0; )
			if (s->f[i].have && strcmp(s->f[i].cur.path, min) == 0) {
				win = &s->f[i];
				break;
			}
		arca_buf_reset(&s->outpath);
		/* win != NULL: min is the path of an entry that has it. */
		/* cppcheck-suppress nullPointer */
		if (arca_buf_puts(&s->outpath, win->cur.path) != 0)
			return ARCA_ERR_NOMEM;
		/* Hand the winner's entry over, then advance all with this path. */
		arca_meta_clear(&s->out.meta);
		arca_buf_free(&s->out.sig);
		s->out.kind = win->cur.kind;
		s->out.meta = win->cur.meta;
		memset(&win->cur.meta, 0, sizeof(win->cur.meta));
		s->out.sig = win->cur.sig;
		memset(&win->cur.sig, 0, sizeof(win->cur.sig));
		s->out.path = (const char *)s->outpath.data;
		for (i = 0; i < s->n; i++)
			if (s->f[i].have &&
			    strcmp(s->f[i].cur.path, s->out.path) == 0 &&
			    (r = sigfile_advance(s, &s->f[i])) < 0)
				return r;
		if (s->out.kind == ARCA_M_DELETED && !s->with_deleted)
			continue;
		*ent = &s->out;
		return 1;
	}
}

void
arca_sigstream_free(struct arca_sigstream *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		sigfile_close(&s->f[i]);
	free(s->f);
	arca_buf_free(&s->outpath);
	arca_buf_free(&s->out.sig);
	arca_meta_clear(&s->out.meta);
	free(s);
}
