/*
 * extract.h: writing restored entries below a target directory, safely.
 *
 * Every path is resolved component by component from a directory fd held
 * for the target, with O_NOFOLLOW: a member can never write outside the
 * target, through a symlink, or via "..".  File content goes to a temp
 * file in its final directory and is renamed into place when complete;
 * directories get their final mode, owner and mtime after their contents.
 */
#ifndef ARCA_ENGINE_EXTRACT_H
#define ARCA_ENGINE_EXTRACT_H

#include "format/entry.h"

struct arca_ctx;
struct arca_extract;

/*
 * Prepare to restore into target.  as_file = 1 when the target itself is
 * to become a single file (restore of one file).  An existing non-empty
 * target directory is ARCA_ERR_EXISTS unless force.  Nothing is created
 * until the first entry arrives.
 */
int arca_extract_new(struct arca_ctx *ctx, const char *target, int as_file,
    int force, int numeric_owner, int no_owner, struct arca_extract **out);

/*
 * Start a regular file at index (relative to the target; "" = the target
 * itself): returns an fd to write the content into.
 */
int arca_extract_file_begin(struct arca_extract *x, const char *index,
    int *fd);
/* Content complete: set metadata and move it into place. */
int arca_extract_file_commit(struct arca_extract *x, const struct arca_meta *m);
/* Drop the file being written. */
void arca_extract_file_abort(struct arca_extract *x);

/* A directory, symlink, fifo or device at index. */
int arca_extract_other(struct arca_extract *x, const char *index,
    const struct arca_meta *m);

/* Apply pending directory metadata; returns 0 or the first error. */
int arca_extract_finish(struct arca_extract *x);
void arca_extract_free(struct arca_extract *x);

#endif /* !ARCA_ENGINE_EXTRACT_H */
