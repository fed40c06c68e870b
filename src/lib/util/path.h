/*
 * path.h: backup-relative paths ("indices") and their order.
 *
 * An index is the path of an entry relative to the backup root, components
 * joined with '/', as a NUL-terminated byte string; the root is "".
 * duplicity orders indices component by component in byte order (shorter
 * prefix first), which equals byte order with '/' sorting below every other
 * byte.
 */
#ifndef ARCA_UTIL_PATH_H
#define ARCA_UTIL_PATH_H

#include <stddef.h>

/* Compare two indices in duplicity order: <0, 0, >0. */
int arca_path_cmp(const char *a, const char *b);

/* 1 if `prefix` is an ancestor of (or equal to) `path`, component-wise. */
int arca_path_is_under(const char *path, const char *prefix);

/*
 * Normalise a user-given relative path (strip leading/trailing '/', drop "."
 * components and empty components) into out.  Returns 0, or ARCA_ERR_USAGE
 * for ".." components.  out must hold strlen(in)+1 bytes.
 */
int arca_path_normalize(const char *in, char *out);

/*
 * 1 if index is safe to create below a restore target: not absolute, no "."
 * or ".." or empty components.  The root "" is safe.
 */
int arca_path_is_safe(const char *index);

/* Join dir and name with '/' into a new string (dir "" gives name). NULL on ENOMEM. */
char *arca_path_join(const char *dir, const char *name);

/* mkdir -p: create path and its missing parents with mode. */
struct arca_ctx;
int arca_mkdir_p(struct arca_ctx *ctx, const char *path, unsigned mode);

#endif /* !ARCA_UTIL_PATH_H */
