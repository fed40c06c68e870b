/*
 * meta.h: entry metadata from the file system, owner names, and
 * duplicity's change-detection rule (§9.2).
 */
#ifndef ARCA_ENGINE_META_H
#define ARCA_ENGINE_META_H

#include <sys/stat.h>

#include "format/entry.h"

struct arca_ctx;

/*
 * Fill m from st (lstat of the entry); for symlinks read the target with
 * readlinkat(dirfd, name).  Returns 0, or a negative arca_err (a warning
 * is the caller's to give).  Sockets give ARCA_ERR_FAILED.
 */
int arca_meta_from_stat(struct arca_ctx *ctx, const struct stat *st,
    int dirfd, const char *name, struct arca_meta *m);

/* Local uid/gid for a stored entry: by name when the name exists locally
 * (unless numeric), else the stored number. */
uint64_t arca_meta_local_uid(const struct arca_meta *m, int numeric);
uint64_t arca_meta_local_gid(const struct arca_meta *m, int numeric);

/* 1 when the source entry `cur` differs from the stored entry `old`. */
int arca_meta_changed(const struct arca_meta *old, const struct arca_meta *cur,
    int numeric);

#endif /* !ARCA_ENGINE_META_H */
