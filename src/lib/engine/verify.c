/*
 * verify.c: compare the backup at a time with a local tree.
 *
 * The backup's final entries (the restore stream) are merge-joined with a
 * walk of the local tree, both in index order: entries only in the backup
 * are missing locally, entries only in the tree are new.  Type,
 * permissions, mtime, symlink targets and sizes are always compared; file
 * contents with --compare-data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/restore.h"
#include "select/selection.h"
#include "select/walk.h"
#include "util/ctx.h"
#include "util/path.h"

struct verifier {
	struct arca_engine *e;
	const char *root;	/* the local tree (a directory or one file) */
	int compare_data;
	uint64_t differences;	/* entries that differ */
	uint64_t compared;	/* entries of the backup compared */
	struct arca_buf last;	/* index of the last entry counted */
	int counted;
	char *tmppath;
	int tmpfd;
	struct arca_walk *walk;
	const struct arca_walk_entry *we;	/* current local entry, NULL at end */
	int walk_err;
};

static void
differ(struct verifier *v, const char *index, const char *what)
{
	if (!v->counted || strcmp((char *)v->last.data, index) != 0) {
		v->differences++;
		arca_buf_reset(&v->last);
		arca_buf_puts(&v->last, index);
		v->counted = 1;
	}
	arca_notice(v->e->ctx, "Difference found: %s %s",
	    index[0] ? index : ".", what);
}

static int
walk_advance(struct verifier *v)
{
	int r = arca_walk_next(v->walk, &v->we);

	if (r <= 0)
		v->we = NULL;
	if (r < 0 && v->walk_err == 0)
		v->walk_err = r;
	return r;
}

/* Report local entries before index as new; step past index itself. */
static void
catch_up(struct verifier *v, const char *index)
{
	int c;

	while (v->we != NULL) {
		c = index ? arca_path_cmp(v->we->index, index) : -1;
		if (c > 0)
			return;
		if (c < 0)
			differ(v, v->we->index, "is new locally");
		walk_advance(v);
		if (c == 0)
			return;
	}
}

static char *
local_path(struct verifier *v, const char *index)
{
	return index[0] ? arca_path_join(v->root, index) : strdup(v->root);
}

static int
check_meta(struct verifier *v, const char *index, const struct arca_meta *m,
    struct stat *st)
{
	char *p = local_path(v, index);
	int want = 0, ok;

	if (p == NULL)
		return -1;
	ok = lstat(p, st) == 0;
	if (!ok) {
		differ(v, index, "is missing locally");
		free(p);
		return 0;
	}
	switch (m->type) {
	case ARCA_T_REG: want = S_ISREG(st->st_mode); break;
	case ARCA_T_DIR: want = S_ISDIR(st->st_mode); break;
	case ARCA_T_SYMLINK: want = S_ISLNK(st->st_mode); break;
	case ARCA_T_FIFO: want = S_ISFIFO(st->st_mode); break;
	case ARCA_T_CHR: want = S_ISCHR(st->st_mode); break;
	case ARCA_T_BLK: want = S_ISBLK(st->st_mode); break;
	default: break;
	}
	if (!want) {
		differ(v, index, "has a different type");
		free(p);
		return 0;
	}
	if (m->type == ARCA_T_SYMLINK) {
		char buf[4097];
		ssize_t n = readlink(p, buf, sizeof(buf) - 1);

		if (n < 0 || m->linkname == NULL ||
		    (buf[n] = '\0', strcmp(buf, m->linkname) != 0))
			differ(v, index, "has a different symlink target");
		free(p);
		return 0;
	}
	free(p);
	if ((uint32_t)(st->st_mode & 07777) != m->mode)
		differ(v, index, "has different permissions");
	if ((int64_t)st->st_mtime != m->mtime &&
	    !(st->st_mtime <= 0 && m->mtime <= 0))
		differ(v, index, "has a different modification time");
	return 1;
}

static int
v_file_begin(void *ud, const char *index, const struct arca_meta *m, int *fd)
{
	struct verifier *v = ud;

	if (ftruncate(v->tmpfd, 0) != 0 || lseek(v->tmpfd, 0, SEEK_SET) < 0)
		return arca_error(v->e->ctx, ARCA_ERR_IO, "cannot reuse %s",
		    v->tmppath);
	*fd = v->tmpfd;
	return 0;
}

static int
same_content(int a, int b)
{
	unsigned char x[65536], y[65536];
	off_t off = 0;
	ssize_t n, k;

	for (;;) {
		n = pread(a, x, sizeof(x), off);
		k = pread(b, y, sizeof(y), off);
		if (n < 0 || k < 0)
			return -1;
		if (n != k || memcmp(x, y, (size_t)n) != 0)
			return 0;
		if (n == 0)
			return 1;
		off += n;
	}
}

static int
v_file_commit(void *ud, const char *index, const struct arca_meta *m, int fd)
{
	struct verifier *v = ud;
	struct stat st, bst;
	char *p;
	int lfd, same;

	catch_up(v, index);
	v->compared++;
	if (check_meta(v, index, m, &st) <= 0)
		return 0;
	if (fstat(fd, &bst) == 0 && bst.st_size != st.st_size) {
		differ(v, index, "has a different size");
		return 0;
	}
	if (!v->compare_data)
		return 0;
	if ((p = local_path(v, index)) == NULL)
		return ARCA_ERR_NOMEM;
	lfd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(p);
	if (lfd < 0) {
		differ(v, index, "cannot be read locally");
		return 0;
	}
	same = same_content(fd, lfd);
	close(lfd);
	if (same != 1)
		differ(v, index, "has different contents");
	return 0;
}

static void
v_file_abort(void *ud, const char *index, int fd)
{
}

static int
v_other(void *ud, const char *index, const struct arca_meta *m)
{
	struct verifier *v = ud;
	struct stat st;

	catch_up(v, index);
	v->compared++;
	return check_meta(v, index, m, &st) < 0 ? ARCA_ERR_NOMEM : 0;
}

int
arca_run_verify(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	struct arca_selection *sel = NULL;
	struct verifier v = { 0 };
	struct arca_restore_consumer c = { &v, v_file_begin, v_file_commit,
	    v_file_abort, v_other };
	struct stat st;
	int r;

	v.tmpfd = -1;
	v.root = o->local;
	v.compare_data = o->compare_data;
	if (lstat(o->local, &st) != 0)
		return arca_error(ctx, ARCA_ERR_SOURCE,
		    "cannot verify against %s: %s", o->local, strerror(errno));
	/* Selection applies to a whole-tree verify, as for the backup. */
	if (o->path_to_restore == NULL && o->nsel > 0 &&
	    (r = arca_engine_selection(ctx, o, &sel)) != 0)
		goto out;
	if ((r = arca_walk_new(ctx, o->local, sel, &v.walk)) != 0)
		goto out;
	walk_advance(&v);
	if ((r = arca_engine_open(ctx, o, ARCA_ENGINE_COMPLETE, &e)) != 0)
		goto out;
	v.e = e;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	if ((r = arca_engine_tmpfile(e, "verify", &v.tmppath, &v.tmpfd)) != 0)
		goto out;
	if ((r = arca_restore_at(e, &c)) != 0)
		goto out;
	catch_up(&v, NULL);
	if ((r = v.walk_err) != 0)
		goto out;
	arca_out(ctx, "Verify complete: %llu %s compared, %llu %s found.\n",
	    (unsigned long long)v.compared, v.compared == 1 ? "file" : "files",
	    (unsigned long long)v.differences,
	    v.differences == 1 ? "difference" : "differences");
	if (v.differences > 0)
		r = arca_error(ctx, ARCA_ERR_DIFFERS, "verify found %llu "
		    "difference(s)", (unsigned long long)v.differences);
out:
	if (v.tmpfd >= 0)
		close(v.tmpfd);
	if (v.tmppath) {
		unlink(v.tmppath);
		free(v.tmppath);
	}
	arca_walk_free(v.walk);
	arca_selection_free(sel);
	arca_buf_free(&v.last);
	arca_engine_close(e);
	return r;
}
