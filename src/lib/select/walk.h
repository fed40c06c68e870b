/*
 * walk.h: the source walk in duplicity order (spec §6.4, §9.3), filtered by
 * a selection.
 *
 * A pull iterator: each call yields the next selected entry in index order
 * (depth first, each directory's names sorted by raw bytes).  Memory is the
 * sorted name lists of the current directory and its ancestors.
 * Directories answered "scan" by the selection are emitted only when
 * something below them is included, just before that descendant.
 * A directory that cannot be opened is still emitted when included (it is
 * a directory, only its contents are missing), with a warning that names
 * the path and counts in arca_walk_errors(); entries that vanish between
 * readdir and stat are skipped silently, sockets are skipped.  Only the
 * fds of the current entry's ancestors (and of a directory just emitted)
 * are open.
 */
#ifndef ARCA_SELECT_WALK_H
#define ARCA_SELECT_WALK_H

#include <stdint.h>
#include <sys/stat.h>

struct arca_ctx;
struct arca_selection;
struct arca_walk;

struct arca_walk_entry {
	const char *index;	/* relative path, "" for the root */
	struct stat st;		/* lstat of the entry */
	int parent_fd;		/* fd of the parent directory (-1 for root) */
	const char *name;	/* name within parent ("" for root) */
};

/*
 * Start walking root (a directory, or a single regular file: then the only
 * entry is the root itself).  sel may be NULL (everything).  A missing or
 * unreadable root is ARCA_ERR_SOURCE.
 */
int arca_walk_new(struct arca_ctx *ctx, const char *root,
    struct arca_selection *sel, struct arca_walk **out);

/*
 * Next entry: returns 1 and *e (valid until the next call), 0 at the end,
 * or a negative arca_err for a fatal problem.
 */
int arca_walk_next(struct arca_walk *w, const struct arca_walk_entry **e);

/*
 * Open the current entry's content for reading (O_NOFOLLOW, relative to its
 * parent fd).  Returns an fd or a negative arca_err (warning left on ctx).
 */
int arca_walk_open(struct arca_walk *w, const struct arca_walk_entry *e);

/* Number of entries skipped with a warning so far. */
uint64_t arca_walk_errors(const struct arca_walk *w);

void arca_walk_free(struct arca_walk *w);

#endif /* !ARCA_SELECT_WALK_H */
