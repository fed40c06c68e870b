/*
 * file.c: the local directory backend (file://).
 *
 * Everything goes through one O_DIRECTORY descriptor and the *at() calls,
 * so the target stays the same directory even if its path is renamed or
 * replaced while we run.  Uploads are written to ".<name>.arca-tmp-<pid>",
 * flushed, and renamed over the final name, then the directory is flushed:
 * a file under its final name is always complete, and a crash leaves at
 * most a temp file that list() does not report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

#define FILE_TMP_MARK	".arca-tmp-"
#define FILE_COPY_BUF	(128 * 1024)

struct file_state {
	struct arca_ctx *ctx;
	int dirfd;
	char *where;		/* URL for messages (no password) */
};

/*
 * Record a failure with errno e.  A full disk is not worth retrying and
 * gets a message that says so; interrupted or would-block calls are.
 * space names the place that filled up.
 */
static int
file_fail(struct file_state *st, int e, const char *space,
    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
file_fail(struct file_state *st, int e, const char *space,
    const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e == ENOSPC || e == EDQUOT)
		return arca_error(st->ctx, ARCA_ERR_IO,
		    "no space left on %s (%s: %s)", space, what, strerror(e));
	return arca_error(st->ctx, e == EINTR || e == EAGAIN ||
	    e == ETIMEDOUT ? ARCA_ERR_RETRY : ARCA_ERR_IO, "%s: %s", what,
	    strerror(e));
}

/*
 * Copy in to out from their current offsets to the end of in.  Returns 0,
 * or -1 with errno set.  copy_file_range lets the kernel (or the file
 * system, by reflink) do the work; where it cannot (another file system on
 * older kernels, special files) read/write carries on from the offsets it
 * left.
 */
static int
file_copy(int in, int out)
{
	char *buf = NULL;
	ssize_t n, w, off;
	int e;

	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return -1;
		break;
	}
	if ((buf = malloc(FILE_COPY_BUF)) == NULL)
		return -1;
	for (;;) {
		if ((n = read(in, buf, FILE_COPY_BUF)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		for (off = 0; off < n; off += w) {
			if ((w = write(out, buf + off, (size_t)(n - off))) ==
			    -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				goto fail;
			}
		}
	}
	free(buf);
	return 0;
fail:
	e = errno;
	free(buf);
	errno = e;
	return -1;
}

/* mkdir -p path with mode 0700 for the directories it makes. */
static int
file_mkdirs(struct file_state *st, const char *path)
{
	char *p, *s;
	int rc = 0;

	if ((p = arca_strdup(path)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST) {
				rc = file_fail(st, errno, "the backup target's "
				    "file system", "cannot create directory "
				    "%s for backup target %s", p, st->where);
				goto out;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
out:
	free(p);
	return rc;
}

static int
file_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	struct file_state *st;
	int rc = 0;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->dirfd = -1;
	if ((st->where = arca_strdup(url->redacted ? url->redacted :
	    "file://")) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (url->path == NULL || url->path[0] == '\0') {
		rc = arca_error(ctx, ARCA_ERR_USAGE,
		    "backup target %s has no path", st->where);
		goto out;
	}
	if (create && (rc = file_mkdirs(st, url->path)) != 0)
		goto out;
	if ((st->dirfd = open(url->path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			rc = arca_error(ctx, ARCA_ERR_NOTFOUND,
			    "backup target %s does not exist", st->where);
		else if (errno == ENOTDIR)
			rc = arca_error(ctx, ARCA_ERR_USAGE,
			    "backup target %s is not a directory", st->where);
		else
			rc = file_fail(st, errno, "the backup target",
			    "cannot open backup target %s", st->where);
		goto out;
	}

out:
	if (rc != 0) {
		free(st->where);
		free(st);
	} else
		*state = st;
	return rc;
}

/* A file being written under its temp name (ops->create). */
struct file_upload {
	struct arca_sink base;
	struct file_state *st;
	int fd;
	int committed;
	char *name;
	char tmp[NAME_MAX + 1];
};

static int
upload_write(struct arca_sink *s, const void *p, size_t n)
{
	struct file_upload *u = (struct file_upload *)s;
	int r;

	if (u->fd == -1)
		return arca_error(u->st->ctx, ARCA_ERR_FATAL, "writing %s "
		    "after it was closed", u->name);
	if ((r = arca_write_all(u->fd, p, n)) != 0)
		return file_fail(u->st, -r, u->st->where, "writing %s in %s",
		    u->name, u->st->where);
	return 0;
}

/* Flush and close: after this the data is durable, the file released. */
static int
upload_close(struct arca_sink *s)
{
	struct file_upload *u = (struct file_upload *)s;
	int n;

	if (u->fd == -1)
		return 0;
	/* NFS and quotas can report a full disk only at fsync/close. */
	if (fsync(u->fd) == -1) {
		n = errno;
		close(u->fd);
		u->fd = -1;
		return file_fail(u->st, n, u->st->where, "writing %s in %s",
		    u->name, u->st->where);
	}
	n = close(u->fd);
	u->fd = -1;
	if (n == -1)
		return file_fail(u->st, errno, u->st->where, "writing %s in "
		    "%s", u->name, u->st->where);
	return 0;
}

static void
upload_free(struct arca_sink *s)
{
	struct file_upload *u = (struct file_upload *)s;

	if (u == NULL)
		return;
	if (u->fd != -1)
		close(u->fd);
	if (!u->committed)
		unlinkat(u->st->dirfd, u->tmp, 0);
	free(u->name);
	free(u);
}

static int
file_create(void *vst, const char *name, struct arca_sink **sink)
{
	struct file_state *st = vst;
	struct file_upload *u;
	int n;

	*sink = NULL;
	if ((u = arca_calloc(1, sizeof(*u))) == NULL ||
	    (u->name = arca_strdup(name)) == NULL) {
		free(u);
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	u->base.write = upload_write;
	u->base.close = upload_close;
	u->base.free = upload_free;
	u->st = st;
	u->committed = 1;	/* nothing to delete yet */
	n = snprintf(u->tmp, sizeof(u->tmp), ".%s" FILE_TMP_MARK "%ld", name,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(u->tmp)) {
		upload_free(&u->base);
		return arca_error(st->ctx, ARCA_ERR_USAGE,
		    "file name %s is too long for backup target %s", name,
		    st->where);
	}
	if ((u->fd = openat(st->dirfd, u->tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		n = file_fail(st, errno, st->where, "cannot create %s in %s",
		    u->tmp, st->where);
		upload_free(&u->base);
		return n;
	}
	u->committed = 0;
	*sink = &u->base;
	return 0;
}

/* Publish a closed upload under its name, and make the name durable. */
static int
file_commit(void *vst, struct arca_sink *sink)
{
	struct file_state *st = vst;
	struct file_upload *u = (struct file_upload *)sink;

	if (u->fd != -1 || u->committed)
		return arca_error(st->ctx, ARCA_ERR_FATAL, "%s committed "
		    "before it was closed, or twice", u->name);
	if (renameat(st->dirfd, u->tmp, st->dirfd, u->name) == -1)
		return file_fail(st, errno, st->where, "cannot rename %s to %s "
		    "in %s", u->tmp, u->name, st->where);
	u->committed = 1;
	/* Some file systems cannot flush a directory (EINVAL). */
	if (fsync(st->dirfd) == -1 && errno != EINVAL)
		return file_fail(st, errno, st->where, "flushing %s",
		    st->where);
	return 0;
}

static int
file_put(void *vst, const char *local_path, const char *name)
{
	struct file_state *st = vst;
	struct arca_sink *sink = NULL;
	int in, rc;

	if ((in = open(local_path, O_RDONLY | O_CLOEXEC)) == -1)
		return file_fail(st, errno, "the local disk", "cannot open %s",
		    local_path);
	if ((rc = file_create(st, name, &sink)) != 0 || sink == NULL)
		goto out;
	if (file_copy(in, ((struct file_upload *)sink)->fd) == -1) {
		rc = file_fail(st, errno, st->where, "copying %s to %s in %s",
		    local_path, name, st->where);
		goto out;
	}
	if ((rc = arca_sink_close(sink)) == 0)
		rc = file_commit(st, sink);
out:
	close(in);
	arca_sink_free(sink);
	return rc;
}

/* Open stored file name for reading: a regular file, or an error. */
static int
file_open_read(void *vst, const char *name, int *fd)
{
	struct file_state *st = vst;
	struct stat sb;
	int in, rc;

	*fd = -1;
	if ((in = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return arca_error(st->ctx, ARCA_ERR_NOTFOUND,
			    "%s not found in backup target %s", name,
			    st->where);
		return file_fail(st, errno, st->where, "cannot open %s in %s",
		    name, st->where);
	}
	if (fstat(in, &sb) == -1) {
		rc = file_fail(st, errno, st->where, "cannot stat %s in %s",
		    name, st->where);
		close(in);
		return rc;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(in);
		return arca_error(st->ctx, ARCA_ERR_IO,
		    "%s in backup target %s is not a regular file", name,
		    st->where);
	}
	*fd = in;
	return 0;
}

static int
file_get(void *vst, const char *name, const char *local_path)
{
	struct file_state *st = vst;
	int in = -1, out = -1, rc = 0, n;

	if ((rc = file_open_read(st, name, &in)) != 0)
		goto out;
	if ((out = open(local_path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1) {
		rc = file_fail(st, errno, "the local disk", "cannot create %s",
		    local_path);
		goto out;
	}
	if (file_copy(in, out) == -1) {
		rc = file_fail(st, errno, "the local disk",
		    "copying %s from %s to %s", name, st->where, local_path);
		goto out;
	}
	n = close(out);
	out = -1;
	if (n == -1)
		rc = file_fail(st, errno, "the local disk", "writing %s",
		    local_path);

out:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	return rc;
}

/* Our own upload in progress (or left by a crash): ".<name>.arca-tmp-<pid>" */
static int
file_is_tmp(const char *name)
{
	return name[0] == '.' && strstr(name, FILE_TMP_MARK) != NULL;
}

/* The target directory, for reading its entries: 0 or an error. */
static int
file_opendir(struct file_state *st, DIR **d)
{
	int fd;

	if ((fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (*d = fdopendir(fd)) == NULL) {
		int e = errno, rc;

		if (fd != -1)
			close(fd);
		rc = file_fail(st, e, st->where, "cannot list %s", st->where);
		return rc != 0 ? rc : ARCA_ERR_IO;	/* never 0 */
	}
	return 0;
}

static int
file_list(void *vst, struct arca_strlist *outl)
{
	struct file_state *st = vst;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	int rc = 0;

	if ((rc = file_opendir(st, &d)) != 0)
		goto out;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				rc = file_fail(st, errno, st->where,
				    "cannot list %s", st->where);
			break;
		}
		if (file_is_tmp(de->d_name) || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* A symlink to a file is fetched through, so it counts. */
		if (de->d_type != DT_REG) {
			if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
				continue;
			if (fstatat(st->dirfd, de->d_name, &sb, 0) == -1 ||
			    !S_ISREG(sb.st_mode))
				continue;
		}
		if (arca_strlist_add(outl, de->d_name) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			break;
		}
	}

out:
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
file_del(void *vst, const char *name)
{
	struct file_state *st = vst;

	if (unlinkat(st->dirfd, name, 0) == -1) {
		if (errno == ENOENT)
			return 0;
		return file_fail(st, errno, st->where, "cannot delete %s "
		    "from %s", name, st->where);
	}
	if (fsync(st->dirfd) == -1 && errno != EINVAL)
		return file_fail(st, errno, st->where, "flushing %s",
		    st->where);
	return 0;
}

static int
file_size(void *vst, const char *name, uint64_t *size)
{
	struct file_state *st = vst;
	struct stat sb;

	if (fstatat(st->dirfd, name, &sb, 0) == -1) {
		if (errno == ENOENT)
			return arca_error(st->ctx, ARCA_ERR_NOTFOUND,
			    "%s not found in backup target %s", name,
			    st->where);
		return file_fail(st, errno, st->where, "cannot stat %s in %s",
		    name, st->where);
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

/*
 * A temp file is stale when the process that wrote it is gone: its pid
 * (from the name) is not running on this machine, or the file has not
 * changed for FILE_TMP_STALE seconds (a run on another machine that shares
 * the directory, whose pid means nothing here, is dead by then).
 */
#define FILE_TMP_STALE	(24 * 60 * 60)

static int
file_tmp_stale(const char *name, const struct stat *sb)
{
	const char *m = strstr(name, FILE_TMP_MARK), *p;
	char *end;
	long pid;

	if (time(NULL) - sb->st_mtime > FILE_TMP_STALE)
		return 1;
	while (m != NULL && (p = strstr(m + 1, FILE_TMP_MARK)) != NULL)
		m = p;
	if (m == NULL)
		return 0;
	errno = 0;
	pid = strtol(m + strlen(FILE_TMP_MARK), &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT_MAX ||
	    pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

static int
file_sweep(void *vst, int apply, struct arca_strlist *found)
{
	struct file_state *st = vst;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	int rc = 0;

	if ((rc = file_opendir(st, &d)) != 0)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!file_is_tmp(de->d_name) ||
		    fstatat(st->dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(sb.st_mode) || !file_tmp_stale(de->d_name, &sb))
			continue;
		if (arca_strlist_add(found, de->d_name) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			goto out;
		}
		if (apply && (rc = file_del(st, de->d_name)) != 0)
			goto out;
	}

out:
	if (d != NULL)
		closedir(d);
	return rc;
}

static void
file_close(void *vst)
{
	struct file_state *st = vst;

	if (st == NULL)
		return;
	if (st->dirfd != -1)
		close(st->dirfd);
	free(st->where);
	free(st);
}

const struct arca_backend_ops arca_backend_file = {
	.scheme = "file",
	.open = file_open,
	.put = file_put,
	.get = file_get,
	.list = file_list,
	.del = file_del,
	.size = file_size,
	.open_read = file_open_read,
	.create = file_create,
	.commit = file_commit,
	.sweep = file_sweep,
	.close = file_close,
};
