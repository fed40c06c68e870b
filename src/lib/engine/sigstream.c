/*
 * sigstream.c: k-way merge of a chain's signature files by index.
 *
 * With ARCA_SIGS_AHEAD the merge runs on its own thread, a few batches
 * ahead of the reader: a backup's walk (system calls) and the reading of
 * the signature files (inflate, tar headers) then use a core each.  The
 * thread works on a private copy of the context, so its messages and the
 * reader's never overwrite each other; its error reaches the reader, with
 * its message, in order, after the entries read before it.
 */
#include <pthread.h>
#include <stdio.h>
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

/*
 * Read-ahead: batches of entries handed from the merge thread to the
 * reader.  A batch closes at AHEAD_ENTRIES entries or when its signatures
 * pass AHEAD_BYTES, so memory stays a few batches whatever the tree.
 */
#define AHEAD_BATCHES	4
#define AHEAD_ENTRIES	512
#define AHEAD_BYTES	((size_t)1 << 20)

struct sigbatch {
	size_t n;
	int tail;		/* after the last entry: 1 more, 0 end, < 0 error */
	struct arca_buf paths;	/* the entries' paths, NUL-separated */
	size_t pathoff[AHEAD_ENTRIES];
	struct arca_sigent ent[AHEAD_ENTRIES];	/* meta and sig owned */
};

struct arca_sigstream {
	struct arca_engine *e;
	struct arca_ctx *ctx;	/* e->ctx, or tctx for the merge thread */
	struct sigfile *f;
	size_t n;
	int with_deleted;
	struct arca_buf outpath;
	struct arca_sigent out;

	/* ARCA_SIGS_AHEAD */
	struct arca_ctx tctx;
	struct sigbatch *ring;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t ready;	/* a batch was published */
	pthread_cond_t space;	/* a batch was given back */
	int running;		/* thread not joined yet */
	int stop;		/* reader gone: stop filling */
	uint64_t made, taken;	/* batches published, batches given back */
	struct sigbatch *cur;	/* the reader's batch */
	size_t pos;
	int final;		/* 1 until the stream ended (0) or failed (< 0) */
	char msg[sizeof(((struct arca_ctx *)0)->errmsg)];
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
		arca_error_prefix(s->ctx, "signature file %s", f->name);
		return r;
	}
	if (r == 0) {
		f->done = 1;
		return 0;
	}
	if ((r = arca_member_parse(name, strlen(name), &kind, &f->path,
	    &chunk)) != 0)
		return arca_member_refused(s->ctx, r, "signature file",
		    f->name, name);
	if (kind != ARCA_M_SIGNATURE && kind != ARCA_M_SNAPSHOT &&
	    kind != ARCA_M_DELETED)
		return arca_error(s->ctx, ARCA_ERR_CORRUPT,
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
			return arca_error(s->ctx, ARCA_ERR_CORRUPT,
			    "signature file %s: signature of %s too large",
			    f->name, f->cur.path);
	if (n < 0) {
		arca_error_prefix(s->ctx, "signature file %s", f->name);
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
	struct arca_ctx *ctx = s->ctx;
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

static void *ahead_main(void *arg);

/* Free s->ring's entries (the thread is not running). */
static void
ahead_free_ring(struct arca_sigstream *s)
{
	size_t b, i;

	if (s->ring == NULL)
		return;
	for (b = 0; b < AHEAD_BATCHES; b++) {
		for (i = 0; i < AHEAD_ENTRIES; i++) {
			arca_meta_clear(&s->ring[b].ent[i].meta);
			arca_buf_free(&s->ring[b].ent[i].sig);
		}
		arca_buf_free(&s->ring[b].paths);
	}
	free(s->ring);
	s->ring = NULL;
}

static int
ahead_start(struct arca_sigstream *s)
{
	if ((s->ring = arca_calloc(AHEAD_BATCHES, sizeof(*s->ring))) == NULL)
		return arca_error(s->e->ctx, ARCA_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&s->ready, NULL) != 0) {
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	if (pthread_cond_init(&s->space, NULL) != 0) {
		pthread_cond_destroy(&s->ready);
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	s->final = 1;
	if (pthread_create(&s->th, NULL, ahead_main, s) != 0) {
		pthread_cond_destroy(&s->space);
		pthread_cond_destroy(&s->ready);
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	s->running = 1;
	return 0;
fail:
	ahead_free_ring(s);
	return arca_error(s->e->ctx, ARCA_ERR_NOMEM,
	    "cannot start the signature reader thread");
}

int
arca_sigstream_open(struct arca_engine *e, const struct arca_sigchain *sc,
    int64_t t, unsigned flags, struct arca_sigstream **out)
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
	s->ctx = e->ctx;
	if (flags & ARCA_SIGS_AHEAD) {
		/* The thread's own context: same callbacks, own message. */
		s->tctx = *e->ctx;
		s->tctx.errmsg[0] = '\0';
		s->tctx.err = 0;
		s->tctx.progress = NULL;
		s->ctx = &s->tctx;
	}
	s->with_deleted = (flags & ARCA_SIGS_DELETED) != 0;
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
	if ((flags & ARCA_SIGS_AHEAD) && (r = ahead_start(s)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->ctx != e->ctx && s->tctx.err != 0)
		arca_error(e->ctx, r, "%s", s->tctx.errmsg);
	arca_sigstream_free(s);
	return r;
}

/* The merge itself: the next entry of the combined stream. */
static int
merge_next(struct arca_sigstream *s, const struct arca_sigent **ent)
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

/*
 * Fill batch b from the merge.  Entries are moved out of s->out (its meta
 * and signature buffer change owner); paths are copied.
 */
static void
ahead_fill(struct arca_sigstream *s, struct sigbatch *b)
{
	const struct arca_sigent *se;
	size_t i, bytes = 0;
	int r;

	for (i = 0; i < b->n; i++) {
		arca_meta_clear(&b->ent[i].meta);
		arca_buf_free(&b->ent[i].sig);
	}
	b->n = 0;
	b->tail = 1;
	arca_buf_reset(&b->paths);
	while (b->n < AHEAD_ENTRIES && bytes < AHEAD_BYTES &&
	    !__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if ((r = merge_next(s, &se)) <= 0) {
			b->tail = r;
			if (r < 0)
				snprintf(s->msg, sizeof(s->msg), "%s",
				    s->tctx.errmsg);
			break;
		}
		b->pathoff[b->n] = b->paths.len;
		if (arca_buf_append(&b->paths, se->path,
		    strlen(se->path) + 1) != 0) {
			b->tail = ARCA_ERR_NOMEM;
			snprintf(s->msg, sizeof(s->msg), "out of memory");
			break;
		}
		b->ent[b->n].kind = s->out.kind;
		b->ent[b->n].meta = s->out.meta;
		memset(&s->out.meta, 0, sizeof(s->out.meta));
		b->ent[b->n].sig = s->out.sig;
		memset(&s->out.sig, 0, sizeof(s->out.sig));
		bytes += b->ent[b->n].sig.len;
		b->n++;
	}
	/* The paths buffer may have moved while it grew. */
	for (i = 0; i < b->n; i++)
		b->ent[i].path = (const char *)b->paths.data + b->pathoff[i];
}

static void *
ahead_main(void *arg)
{
	struct arca_sigstream *s = arg;
	struct sigbatch *b;
	int tail;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->made - s->taken == AHEAD_BATCHES)
			pthread_cond_wait(&s->space, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		b = &s->ring[s->made % AHEAD_BATCHES];
		pthread_mutex_unlock(&s->mu);

		ahead_fill(s, b);
		tail = b->tail;

		pthread_mutex_lock(&s->mu);
		s->made++;
		pthread_cond_signal(&s->ready);
		pthread_mutex_unlock(&s->mu);
		if (tail != 1)
			return NULL;
	}
}

/* The reader's next entry from the batches. */
static int
ahead_next(struct arca_sigstream *s, const struct arca_sigent **ent)
{
	for (;;) {
		if (s->cur != NULL && s->pos < s->cur->n) {
			*ent = &s->cur->ent[s->pos++];
			return 1;
		}
		if (s->final != 1)
			return s->final;
		if (s->cur != NULL) {
			if (s->cur->tail != 1) {
				s->final = s->cur->tail;
				if (s->final < 0)
					arca_error(s->e->ctx, s->final, "%s",
					    s->msg);
				return s->final;
			}
			/* Give it back; the thread clears it when reused. */
			pthread_mutex_lock(&s->mu);
			s->taken++;
			pthread_cond_signal(&s->space);
			pthread_mutex_unlock(&s->mu);
			s->cur = NULL;
		}
		pthread_mutex_lock(&s->mu);
		while (s->made == s->taken)
			pthread_cond_wait(&s->ready, &s->mu);
		s->cur = &s->ring[s->taken % AHEAD_BATCHES];
		pthread_mutex_unlock(&s->mu);
		s->pos = 0;
	}
}

int
arca_sigstream_next(struct arca_sigstream *s, const struct arca_sigent **ent)
{
	if (s->ring != NULL)
		return ahead_next(s, ent);
	return merge_next(s, ent);
}

void
arca_sigstream_free(struct arca_sigstream *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&s->space);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		pthread_cond_destroy(&s->space);
		pthread_cond_destroy(&s->ready);
		pthread_mutex_destroy(&s->mu);
	}
	ahead_free_ring(s);
	for (i = 0; i < s->n; i++)
		sigfile_close(&s->f[i]);
	free(s->f);
	arca_buf_free(&s->outpath);
	arca_buf_free(&s->out.sig);
	arca_meta_clear(&s->out.meta);
	free(s);
}
