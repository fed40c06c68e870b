/*
 * extract.c: the restore side's path policy and file creation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/extract.h"
#include "engine/meta.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/path.h"

struct pending_dir {
	char *index;
	struct arca_meta meta;
};

struct arca_extract {
	struct arca_ctx *ctx;
	char *target;
	int as_file;
	int force;
	int numeric_owner;
	int set_owner;
	int rootfd;		/* the target dir, or the parent of a file target */
	char *filename;		/* as_file: the target's own name */
	/* one cached parent directory */
	char *cache_index;
	int cache_fd;
	/* file being written */
	int curfd;
	int curparent;
	char curtmp[64];
	char *curname;
	char *curindex;
	struct pending_dir *dirs;
	size_t ndirs, capdirs;
	unsigned long seq;
};

static int
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (d == NULL)
		return 1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int
arca_extract_new(struct arca_ctx *ctx, const char *target, int as_file,
    int force, int numeric_owner, int no_owner, struct arca_extract **out)
{
	struct arca_extract *x;
	struct stat st;

	if (lstat(target, &st) == 0 && !force) {
		if (!as_file && S_ISDIR(st.st_mode) && dir_is_empty(target))
			;
		else
			return arca_error(ctx, ARCA_ERR_EXISTS,
			    "restore destination %s already exists; will not "
			    "overwrite it without --force", target);
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return ARCA_ERR_NOMEM;
	x->ctx = ctx;
	x->as_file = as_file;
	x->force = force;
	x->numeric_owner = numeric_owner;
	x->set_owner = !no_owner && geteuid() == 0;
	x->rootfd = x->cache_fd = x->curfd = x->curparent = -1;
	if ((x->target = strdup(target)) == NULL) {
		free(x);
		return ARCA_ERR_NOMEM;
	}
	*out = x;
	return 0;
}

/* Open (creating if needed) the target directory, once. */
static int
open_root(struct arca_extract *x)
{
	char *dir, *slash;

	if (x->rootfd >= 0)
		return 0;
	if (x->as_file) {
		if ((dir = strdup(x->target)) == NULL)
			return ARCA_ERR_NOMEM;
		slash = strrchr(dir, '/');
		while (slash != NULL && slash[1] == '\0' && slash != dir) {
			*slash = '\0';
			slash = strrchr(dir, '/');
		}
		if (slash == NULL) {
			x->filename = strdup(dir);
			/* dir may be "" (1 byte): no strcpy of "." into it. */
			free(dir);
			if ((dir = strdup(".")) == NULL) {
				free(x->filename);
				x->filename = NULL;
				return ARCA_ERR_NOMEM;
			}
		} else {
			x->filename = strdup(slash + 1);
			if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
		if (arca_mkdir_p(x->ctx, dir, 0700) != 0) {
			free(dir);
			return x->ctx->err;
		}
		x->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (x->rootfd < 0) {
			int e = errno;

			free(dir);
			return arca_error(x->ctx, ARCA_ERR_IO,
			    "cannot open directory for %s: %s", x->target,
			    strerror(e));
		}
		free(dir);
		return x->filename ? 0 : ARCA_ERR_NOMEM;
	}
	if (arca_mkdir_p(x->ctx, x->target, 0700) != 0)
		return x->ctx->err;
	x->rootfd = open(x->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->rootfd < 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    x->target, strerror(errno));
	return 0;
}

static int
refuse(struct arca_extract *x, const char *index, const char *why)
{
	return arca_error(x->ctx, ARCA_ERR_UNSAFE,
	    "refusing to restore '%s': %s", index, why);
}

/*
 * Resolve the parent directory of index: returns an fd (owned by the
 * cache, do not close) and points *name at the last component.
 * Missing parents are created (mode 0700; their metadata comes later or
 * not at all); a symlink or non-directory on the way is refused.
 */
static int
resolve_parent(struct arca_extract *x, const char *index, const char **name,
    int *pfd)
{
	const char *slash = strrchr(index, '/');
	size_t plen = slash ? (size_t)(slash - index) : 0;
	char *parent, *p, *e;
	int fd, nfd, r;

	if (!arca_path_is_safe(index) || index[0] == '\0')
		return refuse(x, index, "unsafe path");
	if ((r = open_root(x)) != 0)
		return r;
	*name = slash ? slash + 1 : index;
	if (x->as_file)
		return refuse(x, index, "a single-file restore has no children");
	if (x->cache_index != NULL && strlen(x->cache_index) == plen &&
	    strncmp(x->cache_index, index, plen) == 0) {
		*pfd = x->cache_fd;
		return 0;
	}
	if ((parent = arca_strndup(index, plen)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((fd = dup(x->rootfd)) < 0) {
		free(parent);
		return arca_error(x->ctx, ARCA_ERR_IO, "dup: %s", strerror(errno));
	}
	for (p = parent; plen > 0 && *p != '\0'; p = e + 1) {
		e = strchr(p, '/');
		if (e != NULL)
			*e = '\0';
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			if (mkdirat(fd, p, 0700) != 0 && errno != EEXIST) {
				r = arca_error(x->ctx, ARCA_ERR_IO,
				    "cannot create directory for %s: %s", index,
				    strerror(errno));
				goto fail;
			}
			nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		}
		if (nfd < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				r = refuse(x, index, "a parent is a symlink or "
				    "not a directory");
			else
				r = arca_error(x->ctx, ARCA_ERR_IO,
				    "cannot open directory for %s: %s", index,
				    strerror(errno));
			goto fail;
		}
		close(fd);
		fd = nfd;
		if (e == NULL)
			break;
	}
	if (x->cache_fd >= 0)
		close(x->cache_fd);
	free(x->cache_index);
	if ((x->cache_index = arca_strndup(index, plen)) == NULL) {
		x->cache_fd = -1;
		close(fd);
		free(parent);
		return ARCA_ERR_NOMEM;
	}
	x->cache_fd = fd;
	*pfd = fd;
	free(parent);
	return 0;
fail:
	close(fd);
	free(parent);
	return r;
}

/* Apply metadata to an open fd (files, directories). */
static int
apply_fd_meta(struct arca_extract *x, int fd, const struct arca_meta *m,
    const char *index)
{
	struct timespec ts[2];

	if (x->set_owner)
		(void)fchown(fd, (uid_t)arca_meta_local_uid(m, x->numeric_owner),
		    (gid_t)arca_meta_local_gid(m, x->numeric_owner));
	if (fchmod(fd, m->mode & 07777) != 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot chmod %s: %s",
		    index, strerror(errno));
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_sec = (time_t)m->mtime;
	ts[1].tv_nsec = 0;
	if (futimens(fd, ts) != 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot set times of %s: %s",
		    index, strerror(errno));
	return 0;
}

static int
apply_dir(struct arca_extract *x, struct pending_dir *d)
{
	const char *name;
	int pfd, fd, r;

	if (d->index[0] == '\0') {
		if ((r = open_root(x)) != 0)
			return r;
		fd = dup(x->rootfd);
	} else {
		if ((r = resolve_parent(x, d->index, &name, &pfd)) != 0)
			return r;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd < 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    d->index, strerror(errno));
	r = apply_fd_meta(x, fd, &d->meta, d->index);
	close(fd);
	return r;
}

static void
pop_dir(struct arca_extract *x, int apply, int *r)
{
	struct pending_dir *d = &x->dirs[--x->ndirs];
	int rr = apply ? apply_dir(x, d) : 0;

	if (rr != 0 && *r == 0)
		*r = rr;
	free(d->index);
	arca_meta_clear(&d->meta);
}

/* Leave directories that index is not inside of. */
static int
leave_dirs(struct arca_extract *x, const char *index)
{
	int r = 0;

	while (x->ndirs > 0 &&
	    !(arca_path_is_under(index, x->dirs[x->ndirs - 1].index) &&
	    strcmp(index, x->dirs[x->ndirs - 1].index) != 0))
		pop_dir(x, 1, &r);
	return r;
}

static int
push_dir(struct arca_extract *x, const char *index, const struct arca_meta *m)
{
	struct pending_dir *d;
	int r;

	if (x->ndirs == x->capdirs) {
		size_t n = x->capdirs ? x->capdirs * 2 : 16;

		if ((d = arca_reallocarray(x->dirs, n, sizeof(*d))) == NULL)
			return ARCA_ERR_NOMEM;
		x->dirs = d;
		x->capdirs = n;
	}
	d = &x->dirs[x->ndirs];
	memset(d, 0, sizeof(*d));
	if ((d->index = strdup(index)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((r = arca_meta_copy(&d->meta, m)) != 0) {
		free(d->index);
		return r;
	}
	x->ndirs++;
	return 0;
}

/* Remove whatever is at name so that a new entry can take its place. */
static int
clear_slot(struct arca_extract *x, int pfd, const char *name,
    const char *index, int keep_dir)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 0;
		if (unlinkat(pfd, name, AT_REMOVEDIR) != 0)
			return arca_error(x->ctx, ARCA_ERR_IO,
			    "cannot replace directory %s: %s", index,
			    strerror(errno));
		return 0;
	}
	if (unlinkat(pfd, name, 0) != 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot replace %s: %s",
		    index, strerror(errno));
	return 0;
}

int
arca_extract_file_begin(struct arca_extract *x, const char *index, int *fd)
{
	const char *name;
	int pfd, r;

	if ((r = leave_dirs(x, index)) != 0)
		return r;
	if (index[0] == '\0' || x->as_file) {
		if (index[0] != '\0')
			return refuse(x, index, "unexpected path in a single-file "
			    "restore");
		if (!x->as_file)
			return refuse(x, index, "the restore target cannot be a "
			    "file here");
		if ((r = open_root(x)) != 0)
			return r;
		pfd = x->rootfd;
		name = x->filename;
	} else if ((r = resolve_parent(x, index, &name, &pfd)) != 0) {
		return r;
	}
	snprintf(x->curtmp, sizeof(x->curtmp), ".arca-restore-%ld-%lu",
	    (long)getpid(), ++x->seq);
	x->curfd = openat(pfd, x->curtmp, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (x->curfd < 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot create file for "
		    "%s: %s", index, strerror(errno));
	free(x->curname);
	free(x->curindex);
	x->curname = strdup(name);
	x->curindex = strdup(index);
	if ((x->curparent = dup(pfd)) < 0 || x->curname == NULL ||
	    x->curindex == NULL) {
		arca_extract_file_abort(x);
		return ARCA_ERR_NOMEM;
	}
	*fd = x->curfd;
	return 0;
}

void
arca_extract_file_abort(struct arca_extract *x)
{
	if (x->curfd >= 0) {
		close(x->curfd);
		unlinkat(x->curparent, x->curtmp, 0);
	}
	if (x->curparent >= 0)
		close(x->curparent);
	x->curfd = x->curparent = -1;
}

int
arca_extract_file_commit(struct arca_extract *x, const struct arca_meta *m)
{
	int r;

	if (x->curfd < 0)
		return arca_error(x->ctx, ARCA_ERR_FATAL, "no file in progress");
	if ((r = apply_fd_meta(x, x->curfd, m, x->curindex)) != 0)
		goto fail;
	if ((r = clear_slot(x, x->curparent, x->curname, x->curindex, 0)) != 0)
		goto fail;
	if (renameat(x->curparent, x->curtmp, x->curparent, x->curname) != 0) {
		r = arca_error(x->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    x->curindex, strerror(errno));
		goto fail;
	}
	close(x->curfd);
	close(x->curparent);
	x->curfd = x->curparent = -1;
	return 0;
fail:
	arca_extract_file_abort(x);
	return r;
}

int
arca_extract_other(struct arca_extract *x, const char *index,
    const struct arca_meta *m)
{
	struct timespec ts[2];
	const char *name;
	int pfd, r;

	if ((r = leave_dirs(x, index)) != 0)
		return r;
	if (m->type == ARCA_T_DIR) {
		if (index[0] == '\0' && !x->as_file) {
			if ((r = open_root(x)) != 0)
				return r;
			return push_dir(x, index, m);
		}
		if (x->as_file)
			return refuse(x, index, "a directory cannot be restored "
			    "as a single file");
		if ((r = resolve_parent(x, index, &name, &pfd)) != 0)
			return r;
		if ((r = clear_slot(x, pfd, name, index, 1)) != 0)
			return r;
		if (mkdirat(pfd, name, 0700) != 0 && errno != EEXIST)
			return arca_error(x->ctx, ARCA_ERR_IO,
			    "cannot create directory %s: %s", index,
			    strerror(errno));
		return push_dir(x, index, m);
	}
	if (index[0] == '\0' || x->as_file) {
		if (!x->as_file || index[0] != '\0')
			return refuse(x, index, "unexpected entry for the target");
		if ((r = open_root(x)) != 0)
			return r;
		pfd = x->rootfd;
		name = x->filename;
	} else if ((r = resolve_parent(x, index, &name, &pfd)) != 0) {
		return r;
	}
	if ((r = clear_slot(x, pfd, name, index, 0)) != 0)
		return r;
	switch (m->type) {
	case ARCA_T_SYMLINK:
		if (m->linkname == NULL)
			return arca_error(x->ctx, ARCA_ERR_CORRUPT,
			    "symlink %s has no target", index);
		if (symlinkat(m->linkname, pfd, name) != 0)
			return arca_error(x->ctx, ARCA_ERR_IO,
			    "cannot create symlink %s: %s", index, strerror(errno));
		if (x->set_owner)
			(void)fchownat(pfd, name,
			    (uid_t)arca_meta_local_uid(m, x->numeric_owner),
			    (gid_t)arca_meta_local_gid(m, x->numeric_owner),
			    AT_SYMLINK_NOFOLLOW);
		return 0;
	case ARCA_T_FIFO:
		r = mkfifoat(pfd, name, 0600);
		break;
	case ARCA_T_CHR:
	case ARCA_T_BLK:
		r = mknodat(pfd, name, (m->type == ARCA_T_CHR ? S_IFCHR : S_IFBLK) |
		    0600, makedev(m->devmajor, m->devminor));
		break;
	default:
		return arca_error(x->ctx, ARCA_ERR_CORRUPT,
		    "unsupported entry type for %s", index);
	}
	if (r != 0) {
		arca_warn(x->ctx, "cannot create %s: %s", index, strerror(errno));
		return 0;
	}
	if (x->set_owner)
		(void)fchownat(pfd, name,
		    (uid_t)arca_meta_local_uid(m, x->numeric_owner),
		    (gid_t)arca_meta_local_gid(m, x->numeric_owner),
		    AT_SYMLINK_NOFOLLOW);
	if (fchmodat(pfd, name, m->mode & 07777, 0) != 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot chmod %s: %s",
		    index, strerror(errno));
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_sec = (time_t)m->mtime;
	ts[1].tv_nsec = 0;
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return arca_error(x->ctx, ARCA_ERR_IO, "cannot set times of %s: %s",
		    index, strerror(errno));
	return 0;
}

int
arca_extract_finish(struct arca_extract *x)
{
	int r = 0;

	while (x->ndirs > 0)
		pop_dir(x, 1, &r);
	return r;
}

void
arca_extract_free(struct arca_extract *x)
{
	int r = 0;

	if (x == NULL)
		return;
	arca_extract_file_abort(x);
	while (x->ndirs > 0)
		pop_dir(x, 0, &r);
	free(x->dirs);
	if (x->cache_fd >= 0)
		close(x->cache_fd);
	if (x->rootfd >= 0)
		close(x->rootfd);
	free(x->cache_index);
	free(x->filename);
	free(x->curname);
	free(x->curindex);
	free(x->target);
	free(x);
}
