/*
 * verify.c: compare the backup at a time with a local tree.  Metadata
 * (type, permissions, mtime, symlink target, size) is always compared;
 * file contents only with --compare-data.
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
#include "util/ctx.h"
#include "util/path.h"

struct verifier {
	struct arca_engine *e;
	int dirfd;		/* the local tree */
	int compare_data;
	uint64_t differences;
	char *tmppath;
	int tmpfd;
};

static void
differ(struct verifier *v, const char *index, const char *what)
{
	v->differences++;
	arca_notice(v->e->ctx, "Difference found: %s %s",
	    index[0] ? index : ".", what);
}

static int
v_lstat(struct verifier *v, const char *index, struct stat *st)
{
	if (index[0] == '\0')
		return fstat(v->dirfd, st);
	return fstatat(v->dirfd, index, st, AT_SYMLINK_NOFOLLOW);
}

static int
check_meta(struct verifier *v, const char *index, const struct arca_meta *m,
    struct stat *st)
{
	int want = 0;

	if (v_lstat(v, index, st) != 0) {
		differ(v, index, "is missing locally");
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
		return 0;
	}
	if (m->type == ARCA_T_SYMLINK) {
		char buf[4097];
		ssize_t n = readlinkat(v->dirfd, index, buf, sizeof(buf) - 1);

		if (n < 0 || m->linkname == NULL ||
		    (buf[n] = '\0', strcmp(buf, m->linkname) != 0))
			differ(v, index, "has a different symlink target");
		return 0;
	}
	if ((uint32_t)(st->st_mode & 07777) != m->mode)
		differ(v, index, "has different permissions");
	if (m->type != ARCA_T_DIR && (int64_t)st->st_mtime != m->mtime &&
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
	int lfd, same;

	if (!check_meta(v, index, m, &st))
		return 0;
	if (fstat(fd, &bst) == 0 && bst.st_size != st.st_size) {
		differ(v, index, "has a different size");
		return 0;
	}
	if (!v->compare_data)
		return 0;
	lfd = index[0] ? openat(v->dirfd, index, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC) : -1;
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
	struct stat st;

	check_meta(ud, index, m, &st);
	return 0;
}

int
arca_run_verify(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	struct verifier v = { 0 };
	struct arca_restore_consumer c = { &v, v_file_begin, v_file_commit,
	    v_file_abort, v_other };
	struct arca_chain *ch;
	uint64_t found = 0;
	char *prefix = NULL;
	int64_t t;
	int r;

	v.dirfd = v.tmpfd = -1;
	v.compare_data = o->compare_data;
	if ((v.dirfd = open(o->local, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return arca_error(ctx, ARCA_ERR_NOTFOUND,
		    "cannot open the directory to verify %s: %s", o->local,
		    strerror(errno));
	if ((prefix = strdup(o->path_to_restore ? o->path_to_restore : "")) == NULL ||
	    arca_path_normalize(o->path_to_restore ? o->path_to_restore : "",
	    prefix) != 0) {
		r = arca_error(ctx, ARCA_ERR_USAGE, "bad path '%s'",
		    o->path_to_restore);
		goto out;
	}
	if ((r = arca_engine_open(ctx, o, 0, &e)) != 0)
		goto out;
	v.e = e;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	if ((r = arca_engine_tmpfile(e, "verify", &v.tmppath, &v.tmpfd)) != 0)
		goto out;
	t = o->restore_time >= 0 ? o->restore_time : o->now;
	if ((ch = arca_collection_chain_at(e->col, t)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NODATA, "no backup found at %s",
		    o->url);
		goto out;
	}
	if ((r = arca_restore_stream(e, ch, t, prefix, &c, &found)) != 0)
		goto out;
	arca_out(ctx, "Verify complete: %llu files compared, %llu differences "
	    "found.\n", (unsigned long long)found,
	    (unsigned long long)v.differences);
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
	if (v.dirfd >= 0)
		close(v.dirfd);
	free(prefix);
	arca_engine_close(e);
	return r;
}
