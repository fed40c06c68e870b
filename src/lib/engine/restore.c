/*
 * restore.c: merging a chain's sets (§10.2) and the restore command.
 *
 * Each set is read as one member stream across its volumes (a file split
 * into 64 KiB chunks may cross volume boundaries).  The sets' streams are
 * merged by index; for each path the newest snapshot or deletion is the
 * base and the deltas after it are applied in order, so each file is
 * written once, at its final content.  Only one volume per set is on local
 * disk at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/tar.h"
#include "backend/backend.h"
#include "compress/gzip.h"
#include "crypto/digest.h"
#include "delta/rsync.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/extract.h"
#include "engine/manifest_head.h"
#include "engine/pipeline.h"
#include "engine/progress.h"
#include "engine/restore.h"
#include "format/manifest.h"
#include "util/ctx.h"
#include "util/path.h"
#include "util/stream.h"
#include "util/timefmt.h"

/* Cap on what one volume may inflate to: refuses decompression bombs. */
#define VOLUME_INFLATE_MAX ((uint64_t)64 << 30)

struct setstream {
	struct arca_engine *e;
	const struct arca_set *set;
	struct arca_manifest *man;
	unsigned *vols;		/* volume numbers to read, in order */
	unsigned nvols;
	unsigned next;		/* index into vols of the next volume */
	/* current volume */
	const char *volname;
	char *dlpath;
	int dlfd;
	char *plainpath;
	int plainfd;
	struct arca_source *raw;
	struct arca_source *gz;
	struct arca_tar_reader *tar;
	struct arca_decoder *dec;	/* decrypting raw's pipe, if any */
	/* current entry */
	int have;
	struct arca_buf path;
	enum arca_mkind kind;	/* SNAPSHOT, DIFF or DELETED */
	int multivol;
	unsigned long chunk;	/* multivol: the chunk number being read */
	unsigned long entries;	/* entries started so far */
	struct arca_meta meta;
	int in_data;		/* the current member's data is being read */
	/* a member read ahead while looking for the next chunk */
	int pend;
	struct arca_buf pend_name;
	struct arca_meta pend_meta;
	int done;
};

static void
ss_close_volume(struct setstream *s)
{
	/* First: it reads dlfd and writes the pipe raw reads. */
	arca_decoder_free(s->dec);
	s->dec = NULL;
	arca_tar_reader_free(s->tar);
	arca_source_free(s->gz);
	arca_source_free(s->raw);
	s->tar = NULL;
	s->gz = s->raw = NULL;
	if (s->dlfd >= 0)
		close(s->dlfd);
	if (s->plainfd >= 0)
		close(s->plainfd);
	s->dlfd = s->plainfd = -1;
	if (s->dlpath != NULL) {
		unlink(s->dlpath);
		free(s->dlpath);
		s->dlpath = NULL;
	}
	if (s->plainpath != NULL) {
		unlink(s->plainpath);
		free(s->plainpath);
		s->plainpath = NULL;
	}
}

static const char *
set_time_str(int64_t t)
{
	static char buf[32];

	arca_time_asctime(t, buf);
	return buf;
}

/* Download, check and open the next volume; 0 when there is none left. */
static int
ss_open_volume(struct setstream *s)
{
	struct arca_engine *e = s->e;
	struct arca_ctx *ctx = e->ctx;
	const struct arca_manifest_vol *mv;
	struct arca_fname f;
	char hex[129];
	unsigned num;
	int r, fetches, fd, hashed = 0;

	ss_close_volume(s);
again:
	if (s->next >= s->nvols)
		return 0;
	num = s->vols[s->next++];
	mv = &s->man->vols[num - 1];
	if (num > s->set->nvols || s->set->vols[num - 1] == NULL) {
		char want[512];

		/* Name the file the manifest wants, as a listing shows it. */
		memset(&f, 0, sizeof(f));
		f.kind = s->set->is_full ? ARCA_FK_FULL_VOL : ARCA_FK_INC_VOL;
		f.start = s->set->start;
		f.end = s->set->end;
		f.vol = num;
		f.encrypted = s->set->encrypted;
		f.compressed = !s->set->encrypted;
		if (arca_fname_make(&f, &e->pfx, want, sizeof(want)) != 0)
			snprintf(want, sizeof(want), "(name too long)");
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "volume %u of the backup set of %s is missing from the "
		    "target: %s", num, set_time_str(s->set->end), want);
	}
	s->volname = s->set->vols[num - 1];
	fetches = 0;
refetch:
	/*
	 * A target on this machine is read in place: a copy first would
	 * cost a pass over the volume and its size in page cache.
	 */
	if ((r = arca_backend_open_read(e->be, s->volname, &s->dlfd)) < 0)
		return r;
	if (r > 0) {
		if ((r = arca_engine_tmpfile(e, "vol", &s->dlpath,
		    &s->dlfd)) != 0)
			return r;
		if ((r = arca_backend_get(e->be, s->volname, s->dlpath)) != 0)
			return r;
	}
	arca_progress_volume(ctx, arca_progress_fd_size(s->dlfd));
	/* The volume's hash is checked before any of it is used. */
	if (strcasecmp(mv->hash_name, "SHA1") == 0) {
		if ((r = arca_digest_fd(ARCA_DIGEST_SHA1, s->dlfd, hex)) != 0)
			return arca_error(ctx, r, "cannot hash %s", s->volname);
		if (strcmp(hex, mv->hash_hex) != 0) {
			/*
			 * A download cut short or garbled on the way is worth
			 * one more; a second mismatch is the stored volume.
			 * A volume read in place is the stored one already.
			 */
			if (s->dlpath != NULL && fetches++ == 0) {
				arca_warn(ctx, "SHA1 hash mismatch for %s "
				    "(calculated %s, manifest says %s); "
				    "downloading it again", s->volname, hex,
				    mv->hash_hex);
				ss_close_volume(s);
				goto refetch;
			}
			if (e->o->ignore_errors) {
				arca_warn(ctx, "Invalid data - SHA1 hash mismatch "
				    "for file: %s; skipping it (--ignore-errors)",
				    s->volname);
				ss_close_volume(s);
				goto again;
			}
			return arca_error(ctx, ARCA_ERR_HASH,
			    "Invalid data - SHA1 hash mismatch for file: %s "
			    "(calculated %s, manifest says %s)", s->volname, hex,
			    mv->hash_hex);
		}
		hashed = 1;
	} else {
		arca_warn(ctx, "no SHA1 for %s in its manifest; not checked",
		    s->volname);
	}
	if (!arca_fname_parse(s->volname, &e->pfx, &f))
		memset(&f, 0, sizeof(f));
	/*
	 * Decrypted on a second thread while the files are written, when
	 * its hash vouches for it: the MDC is only checked at its end, and
	 * so is a --sign-key signature (then decrypt first, as before).
	 */
	if (f.encrypted && hashed && e->o->concurrency != 1 &&
	    e->o->sign_key == NULL &&
	    arca_decoder_start(e, s->volname, s->dlfd, &s->dec, &fd) == 0) {
		s->raw = arca_decoder_source(s->dec);
		if (s->raw == NULL)
			return ARCA_ERR_NOMEM;
	} else if (f.encrypted) {
		if ((r = arca_engine_tmpfile(e, "vol.tar", &s->plainpath,
		    &s->plainfd)) != 0)
			return r;
		if ((r = arca_engine_decode(e, s->volname, s->dlfd,
		    s->plainfd)) != 0)
			return r;
		if (lseek(s->plainfd, 0, SEEK_SET) < 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot rewind %s",
			    s->plainpath);
		s->raw = arca_source_fd(ctx, s->plainfd, s->volname);
		if (s->raw == NULL)
			return ARCA_ERR_NOMEM;
	} else {
		if (lseek(s->dlfd, 0, SEEK_SET) < 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot rewind %s",
			    s->volname);
		s->raw = arca_source_fd(ctx, s->dlfd, s->volname);
		if (s->raw == NULL)
			return ARCA_ERR_NOMEM;
		if (f.compressed) {
			s->gz = arca_gunzip_source(ctx, s->raw, VOLUME_INFLATE_MAX);
			if (s->gz == NULL)
				return ARCA_ERR_NOMEM;
		}
	}
	if ((r = arca_tar_reader_new(ctx, s->gz ? s->gz : s->raw, &s->tar)) != 0) {
		arca_error_prefix(ctx, "volume %s", s->volname);
		return r;
	}
	return 1;
}

/* The next tar member of the set, crossing volumes: 1, 0 at the end, <0. */
static int
ss_member(struct setstream *s, const char **name, const struct arca_meta **m)
{
	int r;

	for (;;) {
		if (s->tar != NULL) {
			r = arca_tar_next(s->tar, name, m);
			if (r < 0) {
				arca_error_prefix(s->e->ctx, "volume %s", s->volname);
				/* A decryption failure truncates the tar. */
				return s->dec ? arca_decoder_fail(s->dec, r) : r;
			}
			if (r > 0)
				return 1;
			/* The volume's MDC is checked only at its end. */
			if (s->dec != NULL && (r = arca_decoder_finish(s->dec)) != 0)
				return r;
		}
		if ((r = ss_open_volume(s)) <= 0)
			return r;
	}
}

static enum arca_mkind
base_kind(enum arca_mkind k)
{
	if (k == ARCA_M_MV_SNAPSHOT)
		return ARCA_M_SNAPSHOT;
	if (k == ARCA_M_MV_DIFF)
		return ARCA_M_DIFF;
	return k;
}

/* Read current entry data (across chunks); count, 0 at its end, <0. */
static ssize_t
ss_read(struct setstream *s, void *p, size_t n)
{
	const struct arca_meta *m;
	const char *name;
	struct arca_buf path = { 0 };
	enum arca_mkind kind;
	unsigned long chunk;
	ssize_t got;
	int r;

	while (s->in_data) {
		got = arca_tar_read_data(s->tar, p, n);
		if (got != 0) {
			if (got < 0)
				arca_error_prefix(s->e->ctx, "volume %s",
				    s->volname);
			return got;
		}
		s->in_data = 0;
		if (!s->multivol)
			return 0;
		/* The next chunk of the same file continues the data. */
		if ((r = ss_member(s, &name, &m)) < 0)
			return r;
		if (r == 0) {
			s->done = 1;
			return 0;
		}
		r = arca_member_parse(name, strlen(name), &kind, &path, &chunk);
		if (r == 0 && (kind == ARCA_M_MV_SNAPSHOT ||
		    kind == ARCA_M_MV_DIFF) && base_kind(kind) == s->kind &&
		    strcmp(path.data ? (char *)path.data : "",
		    (char *)s->path.data) == 0) {
			arca_buf_free(&path);
			/* duplicity ignores the numbers; a gap or repeat
			 * would restore wrong content without a word. */
			if (chunk != s->chunk + 1)
				return arca_error(s->e->ctx, ARCA_ERR_CORRUPT,
				    "volume %s: %s follows chunk %lu of the "
				    "same file", s->volname, name, s->chunk);
			s->chunk = chunk;
			s->in_data = 1;
			continue;
		}
		arca_buf_free(&path);
		/* Keep it for the next entry. */
		arca_buf_reset(&s->pend_name);
		if (arca_buf_puts(&s->pend_name, name) != 0)
			return ARCA_ERR_NOMEM;
		arca_meta_clear(&s->pend_meta);
		if ((r = arca_meta_copy(&s->pend_meta, m)) != 0)
			return r;
		s->pend = 1;
		return 0;
	}
	return 0;
}

/* Move to the next entry; 1, 0 at the end, <0. */
static int
ss_advance(struct setstream *s)
{
	unsigned char buf[65536];
	const struct arca_meta *m;
	const char *name;
	unsigned long chunk;
	ssize_t n;
	int r;

	/* Skip what is left of the current entry. */
	while ((n = ss_read(s, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		return (int)n;
	s->have = 0;
	if (s->pend) {
		s->pend = 0;
		name = (char *)s->pend_name.data;
		m = &s->pend_meta;
	} else {
		if (s->done)
			return 0;
		if ((r = ss_member(s, &name, &m)) <= 0) {
			s->done = 1;
			return r;
		}
	}
	if ((r = arca_member_parse(name, strlen(name), &s->kind, &s->path,
	    &chunk)) != 0)
		return arca_member_refused(s->e->ctx, r, "volume", s->volname,
		    name);
	if (s->kind == ARCA_M_SIGNATURE)
		return arca_error(s->e->ctx, ARCA_ERR_CORRUPT,
		    "volume %s: unexpected member %s", s->volname, name);
	if (s->path.data == NULL && arca_buf_puts(&s->path, "") != 0)
		return ARCA_ERR_NOMEM;
	s->multivol = s->kind == ARCA_M_MV_SNAPSHOT || s->kind == ARCA_M_MV_DIFF;
	/*
	 * A file's chunks start at 1, except at the very start of a stream
	 * that skips volume 1: its earlier chunks are in volumes not read.
	 */
	if (s->multivol && chunk != 1 && (s->entries > 0 || s->nvols == 0 ||
	    s->vols[0] == 1))
		return arca_error(s->e->ctx, ARCA_ERR_CORRUPT, "volume %s: %s "
		    "is chunk %lu of its file, but chunk 1 was not seen",
		    s->volname, name, chunk);
	s->chunk = chunk;
	s->entries++;
	s->kind = base_kind(s->kind);
	arca_meta_clear(&s->meta);
	if ((r = arca_meta_copy(&s->meta, m)) != 0)
		return r;
	s->in_data = 1;
	s->have = 1;
	return 1;
}

/* Does a volume covering [start, end] possibly hold path p (§10.1)? */
static int
vol_may_hold(const struct arca_manifest_vol *v, const char *p)
{
	size_t comps = 0;
	const char *q;
	char *trunc;
	int ok;

	if (*p == '\0')
		return 1;
	if (arca_path_cmp(p, v->end_path) > 0)
		return 0;
	for (q = p, comps = 1; *q != '\0'; q++)
		if (*q == '/')
			comps++;
	if ((trunc = strdup(v->start_path)) == NULL)
		return 1;
	for (q = trunc; *q != '\0'; q++)
		if (*q == '/' && --comps == 0) {
			trunc[q - trunc] = '\0';
			break;
		}
	ok = arca_path_cmp(trunc, p) <= 0;
	free(trunc);
	return ok;
}

static int
ss_open(struct arca_engine *e, const struct arca_set *set, const char *prefix,
    struct setstream *s)
{
	struct arca_ctx *ctx = e->ctx;
	struct arca_fname fn = { 0 };
	struct arca_buf text = { 0 };
	char cname[4096];
	unsigned i;
	int fd, r;

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->set = set;
	s->dlfd = s->plainfd = -1;
	/* The manifest: the cached copy, or the target's. */
	fn.kind = set->is_full ? ARCA_FK_FULL_MANIFEST : ARCA_FK_INC_MANIFEST;
	fn.start = set->start;
	fn.end = set->end;
	if ((r = arca_fname_make(&fn, &e->pfx, cname, sizeof(cname))) != 0)
		return r;
	/* Without the Filelist: it grows with the tree, and is not needed. */
	fd = openat(e->archdir_fd, cname, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = arca_manifest_head_read(ctx, fd, cname, &text);
		close(fd);
	} else {
		char *path = NULL;

		if ((r = arca_engine_tmpfile(e, "manifest", &path, &fd)) != 0)
			return r;
		if ((r = arca_engine_fetch_plain(e, set->manifest, fd)) == 0)
			r = arca_manifest_head_read(ctx, fd, set->manifest,
			    &text);
		close(fd);
		unlink(path);
		free(path);
	}
	if (r == 0 && (r = arca_manifest_parse(ctx, (char *)text.data, text.len,
	    0, &s->man)) != 0)
		arca_error_prefix(ctx, "manifest %s", set->manifest);
	arca_buf_free(&text);
	if (r != 0)
		return r;
	if ((s->vols = arca_calloc(s->man->nvols, sizeof(*s->vols))) == NULL)
		return ARCA_ERR_NOMEM;
	for (i = 0; i < s->man->nvols; i++)
		if (vol_may_hold(&s->man->vols[i], prefix))
			s->vols[s->nvols++] = i + 1;
	r = ss_advance(s);
	return r < 0 ? r : 0;
}

static void
ss_free(struct setstream *s)
{
	ss_close_volume(s);
	arca_manifest_free(s->man);
	free(s->vols);
	arca_buf_free(&s->path);
	arca_buf_free(&s->pend_name);
	arca_meta_clear(&s->meta);
	arca_meta_clear(&s->pend_meta);
}

/* Copy the current entry's data into fd. */
static int
ss_copy_to(struct setstream *s, int fd, const char *what)
{
	unsigned char buf[65536];
	ssize_t n;
	int r;

	while ((n = ss_read(s, buf, sizeof(buf))) > 0)
		if ((r = arca_write_all(fd, buf, (size_t)n)) != 0)
			return arca_error(s->e->ctx, ARCA_ERR_IO,
			    "cannot write %s: %s", what, strerror(-r));
	return (int)n;
}

/* Apply the current entry's delta to basis_fd, writing the result to out_fd.
 * Output goes through a sink in bounded pieces: a few delta bytes can copy
 * a whole basis file. */
static int
ss_patch_to(struct setstream *s, int basis_fd, int out_fd, const char *what)
{
	struct arca_rsync_patch *p = NULL;
	struct arca_sink *out;
	unsigned char buf[65536];
	ssize_t n;
	int r;

	if ((out = arca_sink_fd(s->e->ctx, out_fd, what)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((r = arca_rsync_patch_new(s->e->ctx, basis_fd, &p)) != 0)
		goto out;
	while ((n = ss_read(s, buf, sizeof(buf))) > 0)
		if ((r = arca_rsync_patch_update_sink(p, buf, (size_t)n, out)) != 0)
			goto out;
	if ((r = (int)n) < 0)
		goto out;
	if ((r = arca_rsync_patch_finish_sink(p, out)) != 0)
		arca_error_prefix(s->e->ctx, "delta for %s", what);
out:
	arca_rsync_patch_free(p);
	arca_sink_free(out);
	return r;
}

/* Build the final content of a regular file from base + deltas into fd. */
static int
build_file(struct arca_engine *e, struct setstream **L, size_t nl, int fd,
    const char *index)
{
	char *p1 = NULL, *p2 = NULL;
	int t1 = -1, t2 = -1, r, tmp;
	size_t i;

	if (nl == 1)
		return ss_copy_to(L[0], fd, index);
	if ((r = arca_engine_tmpfile(e, "basis", &p1, &t1)) != 0 ||
	    (r = arca_engine_tmpfile(e, "patched", &p2, &t2)) != 0)
		goto out;
	if ((r = ss_copy_to(L[0], t1, index)) != 0)
		goto out;
	for (i = 1; i < nl; i++) {
		int last = i == nl - 1;

		if (!last && (ftruncate(t2, 0) != 0 || lseek(t2, 0, SEEK_SET) < 0)) {
			r = arca_error(e->ctx, ARCA_ERR_IO, "cannot reuse %s", p2);
			goto out;
		}
		if ((r = ss_patch_to(L[i], t1, last ? fd : t2, index)) != 0)
			goto out;
		tmp = t1;
		t1 = t2;
		t2 = tmp;
	}
out:
	if (t1 >= 0)
		close(t1);
	if (t2 >= 0)
		close(t2);
	if (p1) {
		unlink(p1);
		free(p1);
	}
	if (p2) {
		unlink(p2);
		free(p2);
	}
	return r;
}

static const char *
relative_index(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return path;
	if (!arca_path_is_under(path, prefix))
		return NULL;
	return path[n] == '/' ? path + n + 1 : path + n;
}

int
arca_restore_stream(struct arca_engine *e, const struct arca_chain *ch,
    int64_t t, const char *prefix, const struct arca_restore_consumer *c,
    uint64_t *found)
{
	struct arca_ctx *ctx = e->ctx;
	struct setstream *ss = NULL, **L = NULL;
	size_t n = 0, i, nl, b;
	uint64_t nvols = 0;	/* to fetch, for the progress line */
	const char *min, *rel;
	int r = 0, fd;

	*found = 0;
	for (i = 0; i < ch->nsets; i++)
		if (i == 0 || ch->sets[i]->end <= t || t < 0)
			n++;
	if ((ss = arca_calloc(n, sizeof(*ss))) == NULL ||
	    (L = arca_calloc(n, sizeof(*L))) == NULL) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		ss[i].dlfd = ss[i].plainfd = -1;
	/* Started before ss_open, which fetches each set's first volume. */
	arca_progress_start(ctx, ARCA_PROGRESS_RESTORE, 0, NULL);
	for (i = 0; i < n; i++) {
		if ((r = ss_open(e, ch->sets[i], prefix, &ss[i])) != 0)
			goto out;
		nvols += ss[i].nvols;
	}
	arca_progress_expect(ctx, nvols);
	for (;;) {
		min = NULL;
		for (i = 0; i < n; i++)
			if (ss[i].have && (min == NULL ||
			    arca_path_cmp((char *)ss[i].path.data, min) < 0))
				min = (char *)ss[i].path.data;
		if (min == NULL)
			break;
		for (i = nl = 0; i < n; i++)
			if (ss[i].have && strcmp((char *)ss[i].path.data, min) == 0)
				L[nl++] = &ss[i];
		/* The newest snapshot or deletion is the base (§10.2). */
		for (b = nl; b-- > 0; )
			if (L[b]->kind != ARCA_M_DIFF)
				break;
		rel = relative_index(min, prefix);
		/* Streams are in path order: past the prefix's subtree,
		 * nothing more can match; stop without reading the rest. */
		if (rel == NULL && prefix[0] != '\0' &&
		    arca_path_cmp(min, prefix) > 0)
			break;
		if (rel == NULL || L[nl - 1]->kind == ARCA_M_DELETED) {
			;
		} else if (b == (size_t)-1 || L[b]->kind == ARCA_M_DELETED) {
			arca_warn(ctx, "%s: a delta without a base snapshot; "
			    "skipped", min[0] ? min : ".");
		} else if (L[nl - 1]->meta.type == ARCA_T_REG) {
			const struct arca_meta *m = &L[nl - 1]->meta;

			if (L[b]->meta.type != ARCA_T_REG && nl - b > 1) {
				arca_warn(ctx, "%s: a delta on a non-file; skipped",
				    min);
			} else {
				if ((r = c->file_begin(c->ud, rel, m, &fd)) != 0)
					goto out;
				r = build_file(e, L + b, nl - b, fd, min);
				if (r != 0) {
					c->file_abort(c->ud, rel, fd);
					goto out;
				}
				arca_progress_file(ctx, arca_progress_fd_size(fd), 0);
				if ((r = c->file_commit(c->ud, rel, m, fd)) != 0)
					goto out;
				(*found)++;
			}
		} else {
			if ((r = c->other(c->ud, rel, &L[nl - 1]->meta)) != 0)
				goto out;
			arca_progress_file(ctx, 0, 0);
			(*found)++;
		}
		for (i = 0; i < nl; i++)
			if ((r = ss_advance(L[i])) < 0)
				goto out;
		r = 0;
	}
out:
	arca_progress_end(ctx);
	for (i = 0; ss != NULL && i < n; i++)
		ss_free(&ss[i]);
	free(ss);
	free(L);
	return r;
}

int
arca_restore_at(struct arca_engine *e, const struct arca_restore_consumer *c)
{
	const struct arca_options *o = e->o;
	const char *want = o->path_to_restore ? o->path_to_restore : "";
	struct arca_chain *ch;
	uint64_t found = 0;
	char *prefix;
	int64_t t;
	int r;

	if ((prefix = strdup(want)) == NULL)
		return ARCA_ERR_NOMEM;
	if (arca_path_normalize(want, prefix) != 0) {
		r = arca_error(e->ctx, ARCA_ERR_USAGE, "bad path to restore "
		    "'%s'", want);
		goto out;
	}
	t = o->restore_time >= 0 ? o->restore_time : o->now;
	if ((ch = arca_collection_chain_at(e->col, t)) == NULL) {
		r = arca_error(e->ctx, ARCA_ERR_NODATA, "no backup found at %s",
		    arca_backend_url(e->be));
		goto out;
	}
	if ((r = arca_restore_stream(e, ch, t, prefix, c, &found)) == 0 &&
	    found == 0)
		r = arca_error(e->ctx, ARCA_ERR_NOTFOUND, "%s not found in "
		    "archive - no files restored.", prefix[0] ? prefix : ".");
out:
	free(prefix);
	return r;
}

/* ----- the restore command ----- */

static int
x_file_begin(void *ud, const char *index, const struct arca_meta *m, int *fd)
{
	return arca_extract_file_begin(ud, index, fd);
}

static int
x_file_commit(void *ud, const char *index, const struct arca_meta *m, int fd)
{
	return arca_extract_file_commit(ud, m);
}

static void
x_file_abort(void *ud, const char *index, int fd)
{
	arca_extract_file_abort(ud);
}

static int
x_other(void *ud, const char *index, const struct arca_meta *m)
{
	return arca_extract_other(ud, index, m);
}

/* Lazily created extractor: a single file is known only when it shows up. */
struct lazy_extract {
	struct arca_ctx *ctx;
	const struct arca_options *o;
	struct arca_extract *x;
};

static int
lazy_get(struct lazy_extract *l, const char *index, const struct arca_meta *m)
{
	int as_file;

	if (l->x != NULL)
		return 0;
	as_file = index[0] == '\0' && m->type != ARCA_T_DIR;
	return arca_extract_new(l->ctx, l->o->local, as_file, 1,
	    l->o->numeric_owner, l->o->no_restore_ownership, &l->x);
}

static int
l_file_begin(void *ud, const char *index, const struct arca_meta *m, int *fd)
{
	struct lazy_extract *l = ud;
	int r;

	if ((r = lazy_get(l, index, m)) != 0)
		return r;
	return x_file_begin(l->x, index, m, fd);
}

static int
l_file_commit(void *ud, const char *index, const struct arca_meta *m, int fd)
{
	return x_file_commit(((struct lazy_extract *)ud)->x, index, m, fd);
}

static void
l_file_abort(void *ud, const char *index, int fd)
{
	x_file_abort(((struct lazy_extract *)ud)->x, index, fd);
}

static int
l_other(void *ud, const char *index, const struct arca_meta *m)
{
	struct lazy_extract *l = ud;
	int r;

	if ((r = lazy_get(l, index, m)) != 0)
		return r;
	return x_other(l->x, index, m);
}

int
arca_run_restore(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	struct lazy_extract lz = { ctx, o, NULL };
	struct arca_restore_consumer c = { &lz, l_file_begin, l_file_commit,
	    l_file_abort, l_other };
	struct stat st;
	int r;

	if (lstat(o->local, &st) == 0 && !o->force) {
		struct arca_extract *probe = NULL;

		/* Same rule as the extractor: only an empty directory is ok. */
		r = arca_extract_new(ctx, o->local, !S_ISDIR(st.st_mode), 0, 0, 1,
		    &probe);
		arca_extract_free(probe);
		if (r != 0)
			return r;
	}
	if ((r = arca_engine_open(ctx, o, ARCA_ENGINE_COMPLETE, &e)) == 0 &&
	    (r = arca_engine_sync_cache(e)) == 0 &&
	    (r = arca_restore_at(e, &c)) == 0)
		r = arca_extract_finish(lz.x);
	arca_extract_free(lz.x);
	arca_engine_close(e);
	return r;
}
