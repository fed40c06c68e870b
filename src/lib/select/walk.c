/*
 * walk.c: the source walk in duplicity's order (spec §6.4, §9.3).
 *
 * Depth first, each directory's names sorted by raw bytes, every lookup
 * relative to an open directory fd so a path is never re-resolved from the
 * root (no races with renames above us, no PATH_MAX limit).  Only the fds
 * of the current entry's ancestors are open.
 *
 * Directories the selection answers "scan" are pushed as pending frames and
 * emitted only when an included entry turns up below them, outermost
 * first, just before that entry.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/arca_error.h"
#include "select/selection.h"
#include "select/walk.h"
#include "util/buf.h"
#include "util/ctx.h"

/* Longest index we walk into; deeper entries are skipped with a warning. */
#define ARCA_WALK_MAX_INDEX	65536

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct walk_frame {
	int fd;
	struct arca_buf names;	/* NUL-terminated names, back to back */
	size_t *off;		/* sorted offsets into names */
	size_t n, pos;
	size_t idxlen;		/* length of this directory's index */
	size_t namepos;		/* where its name starts in the index */
	struct stat st;
	int pending;		/* "scan" directory not yet emitted */
};

struct arca_walk {
	struct arca_ctx *ctx;
	struct arca_selection *sel;
	char *root;
	struct stat root_st;
	struct walk_frame *f;	/* f[0] is the root when it is a directory */
	size_t nf, capf;
	struct arca_buf idx;	/* index of the entry under consideration */
	struct arca_buf out;	/* index of the entry handed out */
	struct arca_walk_entry e;
	int started, done;
	int held;		/* an included entry waits for its ancestors */
	struct stat held_st;
	int held_fd;		/* its directory fd, -1 if none */
	size_t held_namepos;
	int descend;		/* push held_fd on the next call */
	uint64_t errors;
};

/* For messages: the root joined with index. */
static const char *
display(struct arca_walk *w, const char *index, struct arca_buf *b)
{
	size_t rl = strlen(w->root);

	arca_buf_reset(b);
	if (*index == '\0')
		return w->root;
	if (arca_buf_printf(b, "%s%s%s", w->root,
	    (rl > 0 && w->root[rl - 1] == '/') ? "" : "/", index) != 0)
		return index;
	return (const char *)b->data;
}

static void
walk_warn(struct arca_walk *w, const char *what, const char *index, int err)
{
	struct arca_buf b = { 0 };

	w->errors++;
	arca_warn(w->ctx, "%s %s: %s", what, display(w, index, &b),
	    strerror(err));
	arca_buf_free(&b);
}

static int
name_cmp(const void *a, const void *b, void *base)
{
	/* strcmp compares as unsigned char: the raw byte order we need. */
	return strcmp((const char *)base + *(const size_t *)a,
	    (const char *)base + *(const size_t *)b);
}

/*
 * Read all names of f->fd and sort them.  A failure is a warning: the
 * directory is then treated as empty.
 */
static int
read_names(struct arca_walk *w, struct walk_frame *f, const char *index)
{
	struct dirent *de;
	DIR *d;
	size_t *off, cap = 0, len;
	int fd, err;

	if ((fd = dup(f->fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd != -1)
			close(fd);
		walk_warn(w, "cannot list directory", index, err);
		return 0;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (f->n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((off = arca_reallocarray(f->off, cap,
			    sizeof(*off))) == NULL)
				goto nomem;
			f->off = off;
		}
		len = strlen(de->d_name);
		f->off[f->n] = f->names.len;
		if (arca_buf_append(&f->names, de->d_name, len + 1) != 0)
			goto nomem;
		f->n++;
	}
	if (errno != 0) {
		/*
		 * Drop the partial listing, as duplicity does: either way
		 * the missing names look deleted, and the warning marks the
		 * run as partial.
		 */
		err = errno;
		f->n = 0;
		walk_warn(w, "cannot list directory", index, err);
	}
	closedir(d);
	if (f->n > 1)
		qsort_r(f->off, f->n, sizeof(*f->off), name_cmp, f->names.data);
	return 0;
nomem:
	closedir(d);
	return arca_error(w->ctx, ARCA_ERR_NOMEM, "out of memory");
}

/* Push a directory frame for fd (owned from now on). */
static int
push(struct arca_walk *w, int fd, const struct stat *st, size_t namepos,
    int pending, const char *index)
{
	struct walk_frame *f;
	size_t ncap;

	if (w->nf == w->capf) {
		ncap = w->capf ? w->capf * 2 : 16;
		if ((f = arca_reallocarray(w->f, ncap, sizeof(*f))) == NULL) {
			close(fd);
			return arca_error(w->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
		}
		w->f = f;
		w->capf = ncap;
	}
	f = &w->f[w->nf++];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->st = *st;
	f->idxlen = w->idx.len;
	f->namepos = namepos;
	f->pending = pending;
	return read_names(w, f, index);
}

static void
pop(struct arca_walk *w)
{
	struct walk_frame *f = &w->f[--w->nf];

	close(f->fd);
	arca_buf_free(&f->names);
	free(f->off);
}

int
arca_walk_new(struct arca_ctx *ctx, const char *root,
    struct arca_selection *sel, struct arca_walk **out)
{
	struct arca_walk *w;
	int fd, rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	w->ctx = ctx;
	w->sel = sel;
	w->held_fd = -1;
	w->idx.max = ARCA_WALK_MAX_INDEX;
	if ((w->root = arca_strdup(root)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (lstat(root, &w->root_st) == -1) {
		rc = arca_error(ctx, ARCA_ERR_SOURCE, "cannot read %s: %s",
		    root, strerror(errno));
		goto fail;
	}
	if (S_ISSOCK(w->root_st.st_mode)) {
		rc = arca_error(ctx, ARCA_ERR_SOURCE,
		    "%s is a socket, which cannot be backed up", root);
		goto fail;
	}
	if (S_ISDIR(w->root_st.st_mode)) {
		if ((fd = open(root, DIR_FLAGS)) == -1) {
			rc = arca_error(ctx, ARCA_ERR_SOURCE,
			    "cannot open directory %s: %s", root,
			    strerror(errno));
			goto fail;
		}
		/* Pushed now so an unlistable root fails here, not later. */
		if ((rc = push(w, fd, &w->root_st, 0, 0, "")) != 0)
			goto fail;
		if (w->errors != 0) {
			rc = arca_error(ctx, ARCA_ERR_SOURCE,
			    "cannot list directory %s", root);
			goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	arca_walk_free(w);
	return rc;
}

/*
 * Hand out the entry whose index is the first len bytes of idx: a pending
 * directory or the held entry.
 */
static void
emit(struct arca_walk *w, size_t len, size_t namepos, const struct stat *st,
    int parent_fd)
{
	/* idx holds at least len bytes; out can only fail on ENOMEM. */
	arca_buf_reset(&w->out);
	if (arca_buf_append(&w->out, w->idx.data, len) != 0)
		w->out.len = 0;
	w->e.index = w->out.data ? (const char *)w->out.data : "";
	w->e.name = w->e.index + (namepos <= w->out.len ? namepos : 0);
	w->e.st = *st;
	w->e.parent_fd = parent_fd;
}

/*
 * Look at the name just appended to idx in the top frame: stat it, ask the
 * selection, and hold it, push it as pending, or drop it.
 */
static int
consider(struct arca_walk *w, const char *name, size_t namepos)
{
	struct walk_frame *f = &w->f[w->nf - 1];
	const char *index = (const char *)w->idx.data;
	struct stat st;
	int dfd = -1, derr = 0, r;

	if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		/* Gone since readdir: as if it had never been there. */
		if (errno != ENOENT)
			walk_warn(w, "cannot stat", index, errno);
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		arca_info(w->ctx, "skipping socket %s", index);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		/*
		 * Opened before the selection sees it: --exclude-if-present
		 * looks inside, and an included directory is entered next.
		 */
		if ((dfd = openat(f->fd, name, DIR_FLAGS)) == -1) {
			derr = errno;
			/* Removed, or replaced by a non-directory. */
			if (derr == ENOENT || derr == ENOTDIR || derr == ELOOP)
				return 0;
		} else if (fstat(dfd, &st) == -1) {
			derr = errno;
			close(dfd);
			dfd = -1;
		}
	}
	r = w->sel ? arca_selection_test(w->sel, index, &st, dfd) :
	    ARCA_SEL_INCLUDE;
	if (r < 0) {
		if (dfd != -1)
			close(dfd);
		return r;
	}
	if (r == ARCA_SEL_EXCLUDE ||
	    (r == ARCA_SEL_SCAN && !S_ISDIR(st.st_mode))) {
		if (dfd != -1)
			close(dfd);
		return 0;
	}
	if (S_ISDIR(st.st_mode) && dfd == -1) {
		/* Still a directory, just one we cannot look into. */
		walk_warn(w, "cannot open directory", index, derr);
		if (r == ARCA_SEL_SCAN)
			return 0;
	} else if (r == ARCA_SEL_SCAN)
		return push(w, dfd, &st, namepos, 1, index);
	w->held = 1;
	w->held_st = st;
	w->held_fd = dfd;
	w->held_namepos = namepos;
	return 0;
}

int
arca_walk_next(struct arca_walk *w, const struct arca_walk_entry **e)
{
	struct walk_frame *f;
	const char *name;
	size_t i, namepos;
	int rc;

	*e = NULL;
	if (w->done)
		return 0;
	if (!w->started) {
		w->started = 1;
		arca_buf_reset(&w->idx);
		emit(w, 0, 0, &w->root_st, -1);
		if (w->nf == 0)
			w->done = 1;
		*e = &w->e;
		return 1;
	}
	if (w->descend) {
		w->descend = 0;
		rc = push(w, w->held_fd, &w->held_st, w->held_namepos, 0,
		    (const char *)w->idx.data);
		w->held_fd = -1;
		if (rc != 0)
			return rc;
	}
	for (;;) {
		if (w->held) {
			for (i = 0; i < w->nf; i++) {
				f = &w->f[i];
				if (!f->pending)
					continue;
				f->pending = 0;
				emit(w, f->idxlen, f->namepos, &f->st,
				    w->f[i - 1].fd);
				*e = &w->e;
				return 1;
			}
			w->held = 0;
			emit(w, w->idx.len, w->held_namepos, &w->held_st,
			    w->f[w->nf - 1].fd);
			if (w->held_fd != -1)
				w->descend = 1;
			*e = &w->e;
			return 1;
		}
		if (w->nf == 0) {
			w->done = 1;
			return 0;
		}
		f = &w->f[w->nf - 1];
		if (f->pos == f->n) {
			pop(w);
			continue;
		}
		name = (const char *)f->names.data + f->off[f->pos++];
		w->idx.len = f->idxlen;
		if (w->idx.data != NULL)
			w->idx.data[w->idx.len] = '\0';
		if (w->idx.len > 0 && arca_buf_putc(&w->idx, '/') != 0)
			goto toolong;
		namepos = w->idx.len;
		if (arca_buf_puts(&w->idx, name) != 0)
			goto toolong;
		if ((rc = consider(w, name, namepos)) != 0)
			return rc;
		continue;
toolong:
		w->idx.len = f->idxlen;
		if (w->idx.data != NULL)
			w->idx.data[w->idx.len] = '\0';
		w->errors++;
		arca_warn(w->ctx, "skipping %s/%s: path longer than %d bytes",
		    (const char *)w->idx.data, name, ARCA_WALK_MAX_INDEX);
	}
}

int
arca_walk_open(struct arca_walk *w, const struct arca_walk_entry *e)
{
	struct arca_buf b = { 0 };
	struct stat st;
	int fd, fl, rc;
	const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK;

	/* O_NONBLOCK: a file swapped for a FIFO must not hang the run. */
	if (e->parent_fd < 0)
		fd = open(w->root, flags);
	else
		fd = openat(e->parent_fd, e->name, flags);
	if (fd == -1) {
		rc = arca_error(w->ctx, ARCA_ERR_FAILED, "cannot open %s: %s",
		    display(w, e->index, &b), strerror(errno));
		goto out;
	}
	/* The type too: a freed inode number is soon handed out again. */
	if (fstat(fd, &st) == -1 || st.st_dev != e->st.st_dev ||
	    st.st_ino != e->st.st_ino ||
	    (st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT)) {
		close(fd);
		rc = arca_error(w->ctx, ARCA_ERR_FAILED,
		    "%s was replaced during the backup",
		    display(w, e->index, &b));
		goto out;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		rc = arca_error(w->ctx, ARCA_ERR_FAILED, "cannot open %s: %s",
		    display(w, e->index, &b), strerror(errno));
		close(fd);
		goto out;
	}
	rc = fd;
out:
	arca_buf_free(&b);
	return rc;
}

uint64_t
arca_walk_errors(const struct arca_walk *w)
{
	return w->errors;
}

void
arca_walk_free(struct arca_walk *w)
{
	if (w == NULL)
		return;
	while (w->nf > 0)
		pop(w);
	if (w->held_fd != -1)
		close(w->held_fd);
	free(w->f);
	free(w->root);
	arca_buf_free(&w->idx);
	arca_buf_free(&w->out);
	free(w);
}
