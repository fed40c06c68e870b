/*
 * backup.c: full and incremental backups (spec §9).
 *
 * One pass: the sorted source walk is merge-joined with the chain's
 * combined signatures (an incremental) or with nothing (a full).  For each
 * path we decide unchanged / new / changed / deleted and stream members
 * into volumes, the new signature file and the Filelist at once; memory
 * does not grow with the tree.  Publishing order: volumes, then the
 * signature file, then the manifest, so a set is complete exactly when its
 * manifest exists on the target.
 *
 * A run that dies leaves its set partial (resume.h); the next run resumes
 * it or, when that is not safe, deletes it and starts cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/tar.h"
#include "backend/backend.h"
#include "compress/deflate.h"
#include "delta/rsync.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/manifest_head.h"
#include "engine/meta.h"
#include "engine/progress.h"
#include "engine/resume.h"
#include "engine/sigstream.h"
#include "engine/volwriter.h"
#include "format/manifest.h"
#include "select/selection.h"
#include "select/walk.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/path.h"
#include "util/stream.h"
#include "util/timefmt.h"

#define CHUNK 65536

struct stats {
	uint64_t files, bytes;
	uint64_t new_files, changed_files, deleted_files;
	uint64_t delta_bytes;
	uint64_t errors;
};

struct backup {
	struct arca_engine *e;
	struct arca_ctx *ctx;
	const struct arca_options *o;
	int is_full;
	int64_t start, end;
	struct arca_volwriter *vw;
	int resumed;		/* continuing an interrupted set */
	int64_t racy_from;	/* files modified since are read again (do_entry) */
	/* new signature file, plain tar in the archive dir (.sigtar.part) */
	char sigpart[4096];
	int sigfd;
	struct arca_sink *sigsink;
	struct arca_tar_writer *sigtar;
	/* the signature file made ready to send (sig_prepare) */
	char sigremote[4096];
	char *sigenc;		/* encoded for the target, a temp file */
	int sigencfd;
	struct arca_buf gzname;	/* its gzipped copy in the archive dir... */
	struct arca_buf gztmp;	/* ...written under this name */
	int prepared;
	/* partial manifest in the archive dir */
	char manpart[4096];
	int manfd;
	/* Filelist lines, collected in a temp file */
	char *listpath;
	int listfd;
	uint64_t nlist;
	struct arca_walk *walk;
	struct arca_selection *sel;
	struct arca_sigstream *sigs;
	struct stats st;
	struct arca_buf name;	/* scratch: member names */
	struct arca_buf chunk;	/* pending payload bytes */
	struct arca_buf sigout;	/* signature of the current file */
	struct arca_buf delta;	/* scratch delta output */
};

/* ----- payload chunking (§7.4) ----- */

struct chunker {
	struct backup *b;
	enum arca_mkind kind;	/* ARCA_M_SNAPSHOT or ARCA_M_DIFF */
	const char *index;
	struct arca_meta *meta;
	unsigned long k;	/* chunks emitted */
};

static int
emit_chunk(struct chunker *c, const void *p, size_t n, int final)
{
	struct backup *b = c->b;
	enum arca_mkind kind;
	unsigned long k = 0;
	long block = -1;
	int r;

	if (final && c->k == 0) {
		kind = c->kind;
	} else {
		kind = c->kind == ARCA_M_SNAPSHOT ? ARCA_M_MV_SNAPSHOT :
		    ARCA_M_MV_DIFF;
		k = ++c->k;
		if (!final)
			block = (long)k;
	}
	arca_buf_reset(&b->name);
	if ((r = arca_member_name(&b->name, kind, c->index, 0, 1, k)) != 0)
		return r;
	c->meta->size = n;
	return arca_volwriter_add(b->vw, (char *)b->name.data, c->meta, p, n,
	    c->index, block);
}

/* Append payload bytes; emit every full 64 KiB chunk. */
static int
chunker_push(struct chunker *c, const void *p, size_t n)
{
	struct arca_buf *buf = &c->b->chunk;
	size_t take;
	int r;

	while (n > 0) {
		take = CHUNK - buf->len;
		if (take > n)
			take = n;
		if ((r = arca_buf_append(buf, p, take)) != 0)
			return r;
		p = (const unsigned char *)p + take;
		n -= take;
		if (buf->len == CHUNK) {
			if ((r = emit_chunk(c, buf->data, CHUNK, 0)) != 0)
				return r;
			arca_buf_reset(buf);
		}
	}
	return 0;
}

static int
chunker_finish(struct chunker *c)
{
	struct arca_buf *buf = &c->b->chunk;
	int r = emit_chunk(c, buf->data, buf->len, 1);

	arca_buf_reset(buf);
	return r;
}

/* ----- outputs ----- */

static int
sig_member(struct backup *b, enum arca_mkind kind, const char *index,
    const struct arca_meta *m, const void *data, size_t n)
{
	struct arca_meta mm = *m;
	int r;

	arca_buf_reset(&b->name);
	if ((r = arca_member_name(&b->name, kind, index,
	    m->type == ARCA_T_DIR, 0, 0)) != 0)
		return r;
	mm.size = n;
	if ((r = arca_tar_write_header(b->sigtar, (char *)b->name.data, &mm)) != 0)
		return r;
	return n > 0 ? arca_tar_write_data(b->sigtar, data, n) : 0;
}

static int
list_change(struct backup *b, char type, const char *index)
{
	struct arca_buf line = { 0 };
	int r;

	if ((r = arca_manifest_fmt_change(&line, type, index)) == 0 &&
	    (r = arca_write_all(b->listfd, line.data, line.len)) != 0)
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    b->listpath, strerror(-r));
	arca_buf_free(&line);
	if (r == 0)
		b->nlist++;
	return r;
}

/* ----- per-entry decisions (§9.2) ----- */

static int
do_deleted(struct backup *b, const struct arca_sigent *se)
{
	struct arca_meta zero = { 0 };
	int r;

	if (se->path[0] == '\0')	/* the root is never deleted */
		return 0;
	zero.type = ARCA_T_REG;
	arca_buf_reset(&b->name);
	if ((r = arca_member_name(&b->name, ARCA_M_DELETED, se->path, 0, 1,
	    0)) != 0)
		return r;
	if ((r = arca_volwriter_add(b->vw, (char *)b->name.data, &zero, NULL,
	    0, se->path, -1)) != 0)
		return r;
	if ((r = sig_member(b, ARCA_M_DELETED, se->path, &zero, NULL, 0)) != 0)
		return r;
	if (se->kind == ARCA_M_SIGNATURE && (r = list_change(b, 'd',
	    se->path)) != 0)
		return r;
	b->st.deleted_files++;
	return 0;
}

static int
do_regular(struct backup *b, const struct arca_walk_entry *we,
    struct arca_meta *m, const struct arca_sigent *old)
{
	struct arca_rsync_sig *sig = NULL;
	struct arca_rsync_delta *delta = NULL;
	struct chunker c = { b, ARCA_M_SNAPSHOT, we->index, m, 0 };
	unsigned char *buf = NULL;
	uint64_t total = 0;
	ssize_t n;
	int fd, r;

	fd = arca_walk_open(b->walk, we);
	if (fd < 0) {
		/* Unreadable: warned and skipped; the old state stays. */
		arca_warn(b->ctx, "Error accessing possibly locked file %s: %s",
		    we->index, b->ctx->errmsg);
		b->st.errors++;
		return 0;
	}
	if ((buf = malloc(CHUNK)) == NULL) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	arca_buf_reset(&b->sigout);
	if ((r = arca_rsync_sig_new(b->ctx, m->size, b->o->max_blocksize,
	    &sig)) != 0)
		goto out;
	if (old != NULL && old->kind == ARCA_M_SIGNATURE) {
		c.kind = ARCA_M_DIFF;
		if ((r = arca_rsync_delta_new(b->ctx, old->sig.data, old->sig.len,
		    &delta)) != 0) {
			arca_error_prefix(b->ctx, "old signature of %s",
			    we->index);
			goto out;
		}
	}
	for (;;) {
		n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = arca_error(b->ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    we->index, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		arca_progress_bytes(b->ctx, (uint64_t)n);
		if ((r = arca_rsync_sig_update(sig, buf, (size_t)n,
		    &b->sigout)) != 0)
			goto out;
		if (delta != NULL) {
			arca_buf_reset(&b->delta);
			if ((r = arca_rsync_delta_update(delta, buf, (size_t)n,
			    &b->delta)) != 0 ||
			    (r = chunker_push(&c, b->delta.data, b->delta.len)) != 0)
				goto out;
			b->st.delta_bytes += b->delta.len;
		} else if ((r = chunker_push(&c, buf, (size_t)n)) != 0)
			goto out;
	}
	if ((r = arca_rsync_sig_finish(sig, &b->sigout)) != 0)
		goto out;
	if (delta != NULL) {
		arca_buf_reset(&b->delta);
		if ((r = arca_rsync_delta_finish(delta, &b->delta)) != 0 ||
		    (r = chunker_push(&c, b->delta.data, b->delta.len)) != 0)
			goto out;
		b->st.delta_bytes += b->delta.len;
	}
	if ((r = chunker_finish(&c)) != 0)
		goto out;
	m->size = total;
	if ((r = sig_member(b, ARCA_M_SIGNATURE, we->index, m, b->sigout.data,
	    b->sigout.len)) != 0)
		goto out;
	if ((r = list_change(b, delta ? 'c' : 'n', we->index)) != 0)
		goto out;
	if (delta != NULL)
		b->st.changed_files++;
	else
		b->st.new_files++;
	b->st.bytes += total;
out:
	arca_rsync_delta_free(delta);
	arca_rsync_sig_free(sig);
	free(buf);
	close(fd);
	return r;
}

static int
do_entry(struct backup *b, const struct arca_walk_entry *we,
    const struct arca_sigent *old)
{
	struct arca_meta m;
	int r;

	r = arca_meta_from_stat(b->ctx, &we->st, we->parent_fd, we->name, &m);
	if (r == ARCA_ERR_FAILED) {
		if (S_ISSOCK(we->st.st_mode))
			return 0;
		arca_warn(b->ctx, "Skipping %s: %s", we->index, b->ctx->errmsg);
		b->st.errors++;
		return 0;
	}
	if (r != 0)
		return r;
	b->st.files++;
	/*
	 * Unchanged: same metadata, as duplicity decides, unless the file
	 * is racy: modified in or after the second the last backup began,
	 * but not later than now.  It may have changed again after that
	 * backup read it, in the same second, with nothing in its metadata
	 * to show it (mtimes are whole seconds here): read it again.
	 * duplicity misses such a change.  Only with real set times: under
	 * --current-time (tests) a set's time says nothing of when its
	 * files were read.
	 */
	if (old != NULL && old->kind != ARCA_M_DELETED &&
	    !arca_meta_changed(&old->meta, &m, b->o->numeric_owner) &&
	    !(m.type == ARCA_T_REG && b->racy_from > 0 &&
	    m.mtime >= b->racy_from && m.mtime <= b->o->now)) {
		/* duplicity's SourceFileSize counts unchanged files too. */
		if (m.type == ARCA_T_REG)
			b->st.bytes += m.size;
		arca_progress_file(b->ctx, m.type == ARCA_T_REG ? m.size : 0, 1);
		arca_meta_clear(&m);
		return 0;
	}
	arca_progress_file(b->ctx, 0, 0);	/* its bytes as they are read */
	if (old != NULL && old->kind == ARCA_M_DELETED)
		old = NULL;
	if (m.type == ARCA_T_REG) {
		r = do_regular(b, we, &m, old);
	} else {
		m.size = 0;
		arca_buf_reset(&b->name);
		if ((r = arca_member_name(&b->name, ARCA_M_SNAPSHOT, we->index,
		    m.type == ARCA_T_DIR, 1, 0)) == 0 &&
		    (r = arca_volwriter_add(b->vw, (char *)b->name.data, &m,
		    NULL, 0, we->index, -1)) == 0)
			r = sig_member(b, ARCA_M_SNAPSHOT, we->index, &m, NULL, 0);
	}
	arca_meta_clear(&m);
	return r;
}

/* Merge-join the walk with the old signatures. */
static int
run_merge(struct backup *b)
{
	const struct arca_walk_entry *we = NULL;
	const struct arca_sigent *se = NULL;
	int hw, hs = 0, c, r;

	if ((hw = arca_walk_next(b->walk, &we)) < 0)
		return hw;
	if (b->sigs != NULL && (hs = arca_sigstream_next(b->sigs, &se)) < 0)
		return hs;
	while (hw > 0 || hs > 0) {
		arca_killpoint("walk");
		if (hw > 0 && hs > 0)
			c = arca_path_cmp(we->index, se->path);
		else
			c = hw > 0 ? -1 : 1;
		if (c < 0) {
			r = do_entry(b, we, NULL);
		} else if (c > 0) {
			r = se->kind == ARCA_M_DELETED ? 0 : do_deleted(b, se);
		} else {
			r = do_entry(b, we, se);
		}
		if (r != 0)
			return r;
		if (c <= 0 && (hw = arca_walk_next(b->walk, &we)) < 0)
			return hw;
		if (c >= 0 && (hs = arca_sigstream_next(b->sigs, &se)) < 0)
			return hs;
	}
	return 0;
}

/* ----- setup and publishing ----- */

/*
 * Sleep until just past the wall clock's next whole second: 20 ms past,
 * because time() may read a coarse clock that lags by a tick.
 */
static void
sleep_to_next_second(void)
{
	struct timespec now, ts;
	long ns;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
		sleep(1);
		return;
	}
	ns = 1000000000L - now.tv_nsec + 20000000L;
	ts.tv_sec = ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The source path as duplicity records it: '.' parts and trailing '/' dropped. */
static char *
canon_localdir(const char *p)
{
	struct arca_buf b = { 0 };
	const char *s = p, *e;
	size_t n;

	if (*p == '/')
		arca_buf_putc(&b, '/');
	while (*s != '\0') {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (!(n == 1 && s[0] == '.')) {
			if (b.len > 0 && b.data[b.len - 1] != '/')
				arca_buf_putc(&b, '/');
			arca_buf_append(&b, s, n);
		}
		s += n;
	}
	if (b.len == 0)
		arca_buf_putc(&b, '.');
	return arca_buf_steal(&b);
}

/*
 * Create an archive-dir file.  A dry run keeps its files in the run's temp
 * dir: it must not touch an interrupted backup's.
 */
static int
open_archdir_file(struct backup *b, const char *name, int *fd)
{
	int dirfd = b->e->archdir_fd, tfd = -1;

	if (b->o->dry_run &&
	    (dirfd = tfd = open(b->e->tempdir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return arca_error(b->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    b->e->tempdir, strerror(errno));
	*fd = openat(dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tfd >= 0)
		close(tfd);
	if (*fd < 0)
		return arca_error(b->ctx, ARCA_ERR_IO, "cannot create %s/%s: %s",
		    b->e->archdir, name, strerror(errno));
	return 0;
}

/* Encode archive-dir plaintext fd for remote name into a new temp file. */
static int
encode_tmp(struct backup *b, enum arca_payload kind, int plainfd,
    const char *remote, char **path, int *fd)
{
	int r;

	if ((r = arca_engine_tmpfile(b->e, "upload", path, fd)) != 0)
		return r;
	if ((r = arca_engine_encode(b->e, kind, plainfd, *fd, remote)) == 0 &&
	    fsync(*fd) != 0 && errno != EINVAL)
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot write %s: %s", *path,
		    strerror(errno));
	return r;
}

/* Upload archive-dir plaintext fd under remote name (encoded per options). */
static int
upload_encoded(struct backup *b, enum arca_payload kind, int plainfd,
    const char *remote)
{
	char *path = NULL;
	int fd = -1, r;

	if ((r = encode_tmp(b, kind, plainfd, remote, &path, &fd)) == 0)
		r = arca_backend_put(b->e->be, path, remote);
	if (fd >= 0)
		close(fd);
	if (path != NULL)
		unlink(path);
	free(path);
	return r;
}

/*
 * Make the signature file ready to send: close its tar, encode it for the
 * target, and write its gzipped copy into the archive dir under a temp
 * name.  Nothing is sent or renamed: finish_set does that once the volumes
 * are out.  With the built-in OpenPGP engine this runs beside the senders
 * still encoding the last volumes.
 */
static int
sig_prepare(struct backup *b)
{
	struct arca_engine *e = b->e;
	struct arca_fname fn = { 0 };
	char key[4096];
	int gzfd = -1, r;

	b->prepared = 1;
	if ((r = arca_tar_writer_close(b->sigtar, 1)) != 0)
		return r;
	fn.kind = b->is_full ? ARCA_FK_FULL_SIG : ARCA_FK_NEW_SIG;
	fn.start = b->start;
	fn.end = b->end;
	arca_engine_fname_flags(e, ARCA_PAYLOAD_SIGNATURES, &fn);
	if ((r = arca_fname_make(&fn, &e->pfx, b->sigremote,
	    sizeof(b->sigremote))) != 0 ||
	    (r = arca_fname_key(b->sigremote, key, sizeof(key))) != 0)
		return r;
	if (b->o->dry_run)
		return 0;
	if ((r = encode_tmp(b, ARCA_PAYLOAD_SIGNATURES, b->sigfd, b->sigremote,
	    &b->sigenc, &b->sigencfd)) != 0)
		return r;
	arca_buf_printf(&b->gzname, "%s.gz", key);
	arca_buf_printf(&b->gztmp, ".%s.arca-tmp", key);
	if ((r = open_archdir_file(b, (char *)b->gztmp.data, &gzfd)) != 0)
		return r;
	if (lseek(b->sigfd, 0, SEEK_SET) < 0 ||
	    (r = arca_deflate_gzip_file(b->ctx, b->sigfd, gzfd, 1)) != 0 ||
	    fsync(gzfd) != 0)
		r = r ? r : arca_error(b->ctx, ARCA_ERR_IO, "cannot write "
		    "%s/%s: %s", e->archdir, (char *)b->gzname.data,
		    strerror(errno));
	close(gzfd);
	return r;
}

static int
finish_set(struct backup *b)
{
	struct arca_engine *e = b->e;
	struct arca_fname fn = { 0 };
	struct arca_buf text = { 0 };
	char remote[4096], final[4096];
	int r;

	/* Signature file: send it, then make its cached copy final. */
	if (!b->prepared && (r = sig_prepare(b)) != 0)
		goto out;
	arca_killpoint("sig-put");
	if (!b->o->dry_run &&
	    (r = arca_backend_put(e->be, b->sigenc, b->sigremote)) != 0)
		goto out;
	arca_killpoint("sig-uploaded");
	if (!b->o->dry_run &&
	    renameat(e->archdir_fd, (char *)b->gztmp.data, e->archdir_fd,
	    (char *)b->gzname.data) != 0) {
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot write %s/%s: %s",
		    e->archdir, (char *)b->gzname.data, strerror(errno));
		goto out;
	}

	/* Manifest: append the Filelist, upload it last, then make the
	 * cached copy final. */
	if ((r = arca_manifest_fmt_filelist_head(&text, b->nlist)) != 0 ||
	    (r = arca_write_all(b->manfd, text.data, text.len)) != 0) {
		r = r < 0 && r != ARCA_ERR_NOMEM ? arca_error(b->ctx,
		    ARCA_ERR_IO, "cannot write the manifest") : r;
		goto out;
	}
	if ((r = arca_copy_fd(b->ctx, b->listfd, b->manfd, b->listpath)) != 0)
		goto out;
	if (fsync(b->manfd) != 0) {
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    b->manpart, strerror(errno));
		goto out;
	}
	memset(&fn, 0, sizeof(fn));
	fn.kind = b->is_full ? ARCA_FK_FULL_MANIFEST : ARCA_FK_INC_MANIFEST;
	fn.start = b->start;
	fn.end = b->end;
	arca_engine_fname_flags(e, ARCA_PAYLOAD_MANIFEST, &fn);
	if ((r = arca_fname_make(&fn, &e->pfx, remote, sizeof(remote))) != 0)
		goto out;
	if (b->o->dry_run)
		goto out;
	arca_killpoint("manifest-put");
	if ((r = upload_encoded(b, ARCA_PAYLOAD_MANIFEST, b->manfd, remote)) != 0)
		goto out;
	arca_killpoint("manifest-uploaded");
	fn.encrypted = fn.compressed = 0;
	if ((r = arca_fname_make(&fn, &e->pfx, final, sizeof(final))) != 0)
		goto out;
	if (renameat(e->archdir_fd, b->manpart, e->archdir_fd, final) != 0) {
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot rename %s: %s",
		    b->manpart, strerror(errno));
		goto out;
	}
	arca_killpoint("finished");
	unlinkat(e->archdir_fd, b->sigpart, 0);
	arca_resume_drop_state(e);
out:
	arca_buf_free(&text);
	return r;
}

/* 1 if fds a and b hold the same bytes, 0 if not, or a negative arca_err. */
static int
same_content(struct arca_ctx *ctx, int a, int b, const char *what)
{
	unsigned char x[32768], y[32768];
	struct stat sa, sb;
	off_t off = 0;
	ssize_t n, m;

	if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
		return arca_error(ctx, ARCA_ERR_IO, "cannot stat %s: %s", what,
		    strerror(errno));
	if (sa.st_size != sb.st_size)
		return 0;
	while (off < sa.st_size) {
		n = pread(a, x, sizeof(x), off);
		m = pread(b, y, sizeof(y), off);
		if (n < 0 || m < 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    what, strerror(errno));
		if (n == 0 || n != m || memcmp(x, y, (size_t)n) != 0)
			return 0;
		off += n;
	}
	return 1;
}

/* §5.5: the newest set's manifest must match the cache and the source. */
static int
check_chain(struct backup *b, const struct arca_chain *ch)
{
	struct arca_engine *e = b->e;
	const struct arca_set *last = ch->sets[ch->nsets - 1];
	struct arca_manifest *m = NULL;
	struct arca_buf text = { 0 };
	struct arca_fname fn = { 0 }, rf;
	char cname[4096], host[256] = "";
	char *path = NULL, *ld = NULL;
	int fd = -1, r, remote = 1, pubkey;

	if (last->manifest == NULL)
		return 0;
	fn.kind = last->is_full ? ARCA_FK_FULL_MANIFEST : ARCA_FK_INC_MANIFEST;
	fn.start = last->start;
	fn.end = last->end;
	if ((r = arca_fname_make(&fn, &e->pfx, cname, sizeof(cname))) != 0)
		return r;
	/*
	 * Public keys and no secret key here (the point of --encrypt-key):
	 * the target's manifest cannot be decrypted, so the archive dir is
	 * trusted, as duplicity does.  Nothing needs proving: what is
	 * written next is encrypted to the keys given, not with a passphrase
	 * that must match the chain's.
	 */
	pubkey = b->o->encrypt && (b->o->encrypt_keys != NULL ||
	    b->o->hidden_keys != NULL);
	if (pubkey && arca_fname_parse(last->manifest, &e->pfx, &rf) &&
	    rf.encrypted) {
		if ((r = arca_engine_pubkey_only(e)) < 0)
			return r;
		remote = !r;
	}
	if (!remote)
		goto cached;
	/* Decrypting the remote manifest proves the passphrase is the
	 * chain's before anything is encrypted with it. */
	if ((r = arca_engine_tmpfile(e, "manifest", &path, &fd)) != 0)
		return r;
	if ((r = arca_engine_fetch_plain(e, last->manifest, fd)) != 0) {
		if (r == ARCA_ERR_AUTH && pubkey && b->o->passphrase == NULL) {
			/* A secret key is here, but locked: like duplicity,
			 * check the remote copy only given a passphrase. */
			arca_info(b->ctx, "Not checking %s against the target: "
			    "%s", cname, arca_ctx_errmsg(b->ctx));
			remote = 0;
			goto cached;
		}
		if (r == ARCA_ERR_AUTH && !pubkey && b->o->passphrase != NULL)
			arca_error(b->ctx, r, "cannot decrypt %s with this "
			    "passphrase: the backup chain was made with a "
			    "different one; nothing was written", last->manifest);
		goto out;
	}
	if ((r = arca_manifest_head_read(b->ctx, fd, last->manifest, &text)) != 0)
		goto out;
cached:
	if (!remote) {
		int cfd = arca_engine_open_cached(e, cname);

		if (cfd < 0) {
			r = arca_error(b->ctx, ARCA_ERR_AUTH, "the archive dir "
			    "%s has no %s, and the target's %s cannot be "
			    "decrypted here (no secret key for the encryption "
			    "keys). With --encrypt-key an incremental backup "
			    "needs only the public key, but it works from the "
			    "archive dir of earlier runs: put that directory "
			    "back, or make the secret key available (and "
			    "PASSPHRASE, if it has one) once to rebuild it",
			    e->archdir, cname, last->manifest);
			goto out;
		}
		r = arca_manifest_head_read(b->ctx, cfd, cname, &text);
		close(cfd);
		if (r != 0)
			goto out;
	}
	if ((r = arca_manifest_parse(b->ctx, (char *)text.data, text.len, 0,
	    &m)) != 0) {
		arca_error_prefix(b->ctx, "%s", remote ? last->manifest : cname);
		goto out;
	}
	/* The cached copy must say the same. */
	if (remote) {
		int cfd = arca_engine_open_cached(e, cname);

		if (cfd >= 0) {
			r = same_content(b->ctx, fd, cfd, cname);
			close(cfd);
			if (r == 0)
				r = arca_error(b->ctx, ARCA_ERR_CORRUPT,
				    "the cached manifest %s/%s differs from the "
				    "target's %s; remove the archive dir to "
				    "rebuild it", e->archdir, cname,
				    last->manifest);
			if (r < 0)
				goto out;
			r = 0;
		}
	}
	if (b->o->allow_source_mismatch)
		goto out;
	gethostname(host, sizeof(host) - 1);
	if (m->hostname != NULL && strcmp(m->hostname, host) != 0) {
		r = arca_error(b->ctx, ARCA_ERR_MISMATCH,
		    "the backup chain was made on host '%s', this is '%s'; use "
		    "--allow-source-mismatch if this is intended",
		    m->hostname, host);
		goto out;
	}
	ld = canon_localdir(b->o->local);
	if (m->localdir != NULL && ld != NULL && strcmp(m->localdir, ld) != 0)
		r = arca_error(b->ctx, ARCA_ERR_MISMATCH,
		    "the backup chain was made from source '%s', not '%s'; use "
		    "--allow-source-mismatch if this is intended",
		    m->localdir, ld);
out:
	free(ld);
	arca_manifest_free(m);
	arca_buf_free(&text);
	if (fd >= 0)
		close(fd);
	if (path != NULL) {
		unlink(path);
		free(path);
	}
	return r;
}

/*
 * The partial manifest of a resumed set, rewritten to its header and the
 * kept volumes (atomically: a crash here must not lose the blocks), then
 * opened for appending the volumes still to come.
 */
static int
resume_manifest(struct backup *b, const struct arca_resume *rs,
    const struct arca_buf *head)
{
	struct arca_engine *e = b->e;
	struct arca_buf text = { 0 }, tmp = { 0 };
	size_t i;
	int fd = -1, r = 0;

	if (arca_buf_append(&text, head->data, head->len) != 0 ||
	    arca_buf_printf(&tmp, ".%s.arca-tmp", b->manpart) != 0) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < rs->mf->nvols && r == 0; i++)
		r = arca_manifest_fmt_volume(&text, &rs->mf->vols[i]);
	if (r != 0)
		goto out;
	fd = openat(e->archdir_fd, (char *)tmp.data, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || arca_write_all(fd, text.data, text.len) != 0 ||
	    fsync(fd) != 0 || renameat(e->archdir_fd, (char *)tmp.data,
	    e->archdir_fd, b->manpart) != 0) {
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot write %s/%s: %s",
		    e->archdir, b->manpart, strerror(errno));
		goto out;
	}
	b->manfd = openat(e->archdir_fd, b->manpart, O_RDWR | O_APPEND |
	    O_CLOEXEC);
	if (b->manfd < 0)
		r = arca_error(b->ctx, ARCA_ERR_IO, "cannot open %s/%s: %s",
		    e->archdir, b->manpart, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && tmp.data != NULL)
		unlinkat(e->archdir_fd, (char *)tmp.data, 0);
	arca_buf_free(&text);
	arca_buf_free(&tmp);
	return r;
}

static void
print_stats(struct backup *b, time_t t0)
{
	char ts[32], te[32];
	time_t now = time(NULL);

	arca_time_asctime(b->end, ts);
	arca_time_asctime(now, te);
	arca_out(b->ctx,
	    "--------------[ Backup Statistics ]--------------\n"
	    "StartTime %lld (%s)\n"
	    "ElapsedTime %lld seconds\n"
	    "SourceFiles %llu\n"
	    "SourceFileSize %llu\n"
	    "NewFiles %llu\n"
	    "ChangedFiles %llu\n"
	    "DeletedFiles %llu\n"
	    "RawDeltaSize %llu\n"
	    "TotalDestinationSizeChange %llu\n"
	    "Errors %llu\n"
	    "-------------------------------------------------\n",
	    (long long)b->end, ts, (long long)(now - t0),
	    (unsigned long long)b->st.files, (unsigned long long)b->st.bytes,
	    (unsigned long long)b->st.new_files,
	    (unsigned long long)b->st.changed_files,
	    (unsigned long long)b->st.deleted_files,
	    (unsigned long long)b->st.delta_bytes,
	    (unsigned long long)arca_volwriter_bytes(b->vw),
	    (unsigned long long)b->st.errors);
}

/* --json: the statistics as one object, documented in docs/JSON.md. */
static int
report_json(struct backup *b, time_t t0)
{
	struct arca_backup_report rp = { 0 };

	rp.url = arca_backend_url(b->e->be);
	rp.source = b->o->local;
	rp.is_full = b->is_full;
	rp.resumed = b->resumed;
	rp.dry_run = b->o->dry_run;
	rp.backup_time = b->end;
	rp.start_time = t0;
	rp.end_time = time(NULL);
	rp.files = b->st.files;
	rp.bytes = b->st.bytes;
	rp.new_files = b->st.new_files;
	rp.changed_files = b->st.changed_files;
	rp.deleted_files = b->st.deleted_files;
	rp.delta_bytes = b->st.delta_bytes;
	rp.sent_bytes = arca_volwriter_bytes(b->vw);
	rp.volumes = arca_volwriter_count(b->vw);
	rp.errors = b->st.errors;
	rp.warnings = b->ctx->warnings;
	return arca_progress_report_json(b->ctx, &rp);
}

int
arca_run_backup(struct arca_ctx *ctx, const struct arca_options *o,
    enum arca_backup_mode mode)
{
	struct backup b;
	struct arca_engine *e = NULL;
	struct arca_pgp *pgp = NULL;
	struct arca_chain *ch = NULL, base;
	struct arca_resume rs;
	struct arca_fname fn = { 0 };
	struct arca_buf head = { 0 };
	char host[256] = "", *ld = NULL;
	struct stat st;
	time_t t0 = time(NULL);
	int r, resumed;

	memset(&b, 0, sizeof(b));
	memset(&rs, 0, sizeof(rs));
	b.ctx = ctx;
	b.o = o;
	b.sigfd = b.manfd = b.listfd = b.sigencfd = -1;
	if (stat(o->local, &st) != 0)
		return arca_error(ctx, ARCA_ERR_SOURCE,
		    "backup source %s: %s", o->local, strerror(errno));
	if (o->encrypt && o->encrypt_keys == NULL && o->hidden_keys == NULL &&
	    !o->use_agent &&
	    (o->passphrase == NULL || o->passphrase[0] == '\0'))
		return arca_error(ctx, ARCA_ERR_AUTH, "%s",
		    o->passphrase == NULL ? "no passphrase: set the PASSPHRASE "
		    "environment variable (or use --no-encryption for "
		    "unencrypted backups)" : "PASSPHRASE is empty: GnuPG "
		    "cannot encrypt with an empty passphrase");
	if ((r = arca_engine_selection(ctx, o, &b.sel)) != 0)
		goto out;
	if ((r = arca_engine_open(ctx, o, ARCA_ENGINE_CREATE, &e)) != 0)
		goto out;
	b.e = e;
	gethostname(host, sizeof(host) - 1);
	if ((ld = canon_localdir(o->local)) == NULL) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	/* A dry run leaves an interrupted backup as it is. */
	if (!o->dry_run && (r = arca_resume_settle(e)) != 0)
		goto out;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	if (!o->dry_run && (r = arca_resume_prepare(e, host, ld, &rs)) < 0)
		goto out;
	/* b.resumed for the helpers; resumed below, where clang's analyzer
	 * can see that it does not change once rs is filled in. */
	resumed = b.resumed = r == 1;
	r = 0;

	/* Full or incremental (§9.1 step 5); a resumed set keeps its own. */
	ch = e->col->primary;
	b.is_full = 1;
	if (b.resumed) {
		b.is_full = rs.set->is_full;
		if (!b.is_full) {
			base = *rs.chain;
			base.nsets = rs.base_nsets;
			base.end = base.sets[base.nsets - 1]->end;
			base.sig = (struct arca_sigchain *)rs.basesig;
			ch = &base;
		}
	} else if (mode != ARCA_BACKUP_FULL && ch != NULL) {
		b.is_full = 0;
		if (o->full_if_older_than > 0 &&
		    ch->sets[0]->end < o->full_if_older_than) {
			arca_notice(ctx, "Last full backup is too old, forcing "
			    "full backup");
			b.is_full = 1;
		}
	} else if (mode == ARCA_BACKUP_INC) {
		r = arca_error(ctx, ARCA_ERR_NOCHAIN, "no backup chain with "
		    "signatures found at %s: run a full backup first",
		    arca_backend_url(e->be));
		goto out;
	} else if (mode == ARCA_BACKUP_AUTO) {
		arca_notice(ctx, "No signatures found, switching to full backup.");
	}
	b.end = o->current_time >= 0 ? o->current_time : o->now;
	if (b.resumed) {
		b.start = rs.set->start;
		b.end = rs.set->end;
	}
	if (!b.is_full) {
		/* Where the signatures end: after a set was discarded for lack
		 * of its signature file, the chain's end is later (§11.4). */
		if (!b.resumed)
			b.start = ch->sig != NULL ? ch->sig->end : ch->end;
		if (b.end <= b.start) {
			if (o->current_time >= 0) {
				r = arca_error(ctx, ARCA_ERR_USAGE,
				    "--current-time %lld is not after the last "
				    "backup (%lld)", (long long)b.end,
				    (long long)b.start);
				goto out;
			}
			/*
			 * Set times are whole seconds and must grow: wait
			 * for the next second to begin, not a whole second
			 * more (a second backup straight after the first).
			 * Not overlapped with the work: a set's time must
			 * not be later than the reading of its files (see
			 * do_entry).
			 */
			while ((b.end = time(NULL)) <= b.start)
				sleep_to_next_second();
		}
		if (o->current_time < 0)
			b.racy_from = b.start;
		if ((r = check_chain(&b, ch)) != 0)
			goto out;
		/* The walk and the signature reading on a core each. */
		if ((r = arca_sigstream_open(e, ch->sig, b.resumed ? b.start : -1,
		    ARCA_SIGS_DELETED | (o->concurrency != 1 ?
		    ARCA_SIGS_AHEAD : 0), &b.sigs)) != 0)
			goto out;
	} else {
		b.start = b.end;
		if (o->encrypt) {
			struct arca_gpg *g;
			struct arca_pgp *p;

			/* Refuse bad options and missing keys early. */
			if ((r = arca_engine_pgp(e, &p)) != 0 ||
			    (p == NULL && (r = arca_engine_gpg(e, &g)) != 0))
				goto out;
		}
	}

	/* Partial manifest and signature file in the archive dir (§15.1). */
	fn.kind = b.is_full ? ARCA_FK_FULL_MANIFEST : ARCA_FK_INC_MANIFEST;
	fn.start = b.start;
	fn.end = b.end;
	fn.partial = 1;
	if ((r = arca_fname_make(&fn, &e->pfx, b.manpart, sizeof(b.manpart))) != 0)
		goto out;
	fn.kind = b.is_full ? ARCA_FK_FULL_SIG : ARCA_FK_NEW_SIG;
	if ((r = arca_fname_make(&fn, &e->pfx, b.sigpart, sizeof(b.sigpart))) != 0)
		goto out;
	if ((r = arca_manifest_fmt_header(&head, host, ld)) != 0)
		goto out;
	/*
	 * The resume state first, then the partial manifest, then the
	 * signature file: whatever exists after a crash, the files before
	 * it in this order exist too.
	 */
	if (!o->dry_run && (r = arca_resume_save_state(e, b.manpart)) != 0)
		goto out;
	if (resumed) {
		if ((r = resume_manifest(&b, &rs, &head)) != 0)
			goto out;
	} else {
		if ((r = open_archdir_file(&b, b.manpart, &b.manfd)) != 0)
			goto out;
		if ((r = arca_write_all(b.manfd, head.data, head.len)) != 0 ||
		    fsync(b.manfd) != 0) {
			r = arca_error(ctx, ARCA_ERR_IO, "cannot write %s",
			    b.manpart);
			goto out;
		}
	}
	if ((r = open_archdir_file(&b, b.sigpart, &b.sigfd)) != 0)
		goto out;
	if ((b.sigsink = arca_sink_fd(ctx, b.sigfd, b.sigpart)) == NULL) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	if ((r = arca_tar_writer_new(ctx, b.sigsink, &b.sigtar)) != 0)
		goto out;
	if ((r = arca_engine_tmpfile(e, "filelist", &b.listpath, &b.listfd)) != 0)
		goto out;
	fn.kind = b.is_full ? ARCA_FK_FULL_VOL : ARCA_FK_INC_VOL;
	fn.partial = 0;
	if ((r = arca_volwriter_new(e, &fn, b.manfd, &b.vw)) != 0)
		goto out;
	if (resumed) {
		arca_notice(ctx, "Restarting after volume %u, file %s, block %ld",
		    rs.start_vol, rs.last_index[0] ? rs.last_index : ".",
		    rs.last_block < 0 ? 0 : rs.last_block);
		if ((r = arca_volwriter_resume(b.vw, rs.start_vol,
		    rs.last_index, rs.last_block)) != 0)
			goto out;
	}

	if ((r = arca_walk_new(ctx, o->local, b.sel, &b.walk)) != 0)
		goto out;
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, b.is_full ? o : NULL);
	if ((r = run_merge(&b)) != 0)
		goto out;
	if ((r = arca_volwriter_flush(b.vw)) != 0)
		goto out;
	/* The signature file is made ready while the last volumes are
	 * encoded, unless GnuPG (one thread at a time) encodes both. */
	if ((!o->encrypt || ((r = arca_engine_pgp(e, &pgp)) == 0 &&
	    pgp != NULL)) && (r = sig_prepare(&b)) != 0)
		goto out;
	if (r != 0 || (r = arca_volwriter_finish(b.vw)) != 0)
		goto out;
	b.st.errors += arca_walk_errors(b.walk);
	if ((r = finish_set(&b)) != 0)
		goto out;
	if (o->json) {
		if ((r = report_json(&b, t0)) != 0)
			goto out;
	} else if (!o->no_print_statistics) {
		print_stats(&b, t0);
	}
	if (b.st.errors > 0)
		r = arca_error(ctx, ARCA_ERR_PARTIAL, "backup completed, but "
		    "%llu file(s) could not be read and were skipped (see the "
		    "warnings above)", (unsigned long long)b.st.errors);
out:
	if (b.vw != NULL && r != 0 && r != ARCA_ERR_PARTIAL) {
		/*
		 * The volume on its way out is sent (or fails) before we look
		 * at what reached the target; a failure there must not replace
		 * this run's own message.
		 */
		char msg[sizeof(ctx->errmsg)];

		snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
		if (arca_volwriter_stop(b.vw) != 0)
			arca_error(ctx, r, "%s", msg);
	}
	if (e != NULL && !b.o->dry_run && r != 0 && r != ARCA_ERR_PARTIAL &&
	    !b.resumed && (b.vw == NULL || arca_volwriter_count(b.vw) == 0)) {
		/* Nothing reached the target: leave nothing that looks like an
		 * interrupted backup. */
		if (b.sigfd >= 0)
			unlinkat(e->archdir_fd, b.sigpart, 0);
		if (b.manfd >= 0)
			unlinkat(e->archdir_fd, b.manpart, 0);
		if (b.manfd >= 0 || b.sigfd >= 0)
			arca_resume_drop_state(e);
	}
	arca_progress_end(ctx);
	arca_resume_clear(&rs);
	free(ld);
	arca_buf_free(&head);
	arca_walk_free(b.walk);
	arca_selection_free(b.sel);
	arca_sigstream_free(b.sigs);
	arca_volwriter_free(b.vw);
	arca_tar_writer_free(b.sigtar);
	if (b.sigencfd >= 0)
		close(b.sigencfd);
	if (b.sigenc != NULL)
		unlink(b.sigenc);
	free(b.sigenc);
	/* Renamed when the set was finished; a leftover otherwise. */
	if (b.gztmp.len > 0 && e != NULL)
		unlinkat(e->archdir_fd, (char *)b.gztmp.data, 0);
	arca_buf_free(&b.gzname);
	arca_buf_free(&b.gztmp);
	arca_sink_free(b.sigsink);
	if (b.sigfd >= 0)
		close(b.sigfd);
	if (b.manfd >= 0)
		close(b.manfd);
	if (b.listfd >= 0) {
		close(b.listfd);
		unlink(b.listpath);
	}
	free(b.listpath);
	arca_buf_free(&b.name);
	arca_buf_free(&b.chunk);
	arca_buf_free(&b.sigout);
	arca_buf_free(&b.delta);
	arca_engine_close(e);
	return r;
}
