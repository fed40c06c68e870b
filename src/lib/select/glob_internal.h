/*
 * glob_internal.h: duplicity's glob patterns (spec §13.2), private to the
 * select module.
 *
 * duplicity matches Python str objects: the path bytes decoded as UTF-8 with
 * surrogateescape.  Patterns and paths are therefore compared as arrays of
 * code points, so that `?` matches one character of a UTF-8 name and not
 * one byte of it.
 */
#ifndef ARCA_SELECT_GLOB_INTERNAL_H
#define ARCA_SELECT_GLOB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct arca_ctx;
struct arca_glob;

/* arca_glob_match results. */
#define ARCA_GLOB_NONE	0	/* nothing to say */
#define ARCA_GLOB_MATCH	1	/* the path or one of its ancestors matches */
#define ARCA_GLOB_SCAN	2	/* a directory the pattern might match below */

/*
 * Compile pattern as the user wrote it (with an optional case-insensitive
 * "ignorecase:" keyword).  Returns 0 and *out, ARCA_ERR_USAGE (message on
 * ctx) for an empty pattern, empty components or a bad character range,
 * ARCA_ERR_NOMEM.
 */
int arca_glob_new(struct arca_ctx *ctx, const char *pattern,
    struct arca_glob **out);
void arca_glob_free(struct arca_glob *g);

/*
 * Match the full path p[0..n) (code points from arca_glob_decode).  isdir
 * says whether the path is a directory (for patterns ending in '/');
 * want_scan asks for ARCA_GLOB_SCAN answers (include patterns only).
 * The glob keeps scratch space, hence not const and not thread-safe.
 */
int arca_glob_match(struct arca_glob *g, const uint32_t *p, size_t n,
    int isdir, int want_scan);

/* 1 if the pattern is the literal "**", which matches everything. */
int arca_glob_is_all(const struct arca_glob *g);

/*
 * Decode n bytes of s as UTF-8 the way Python's surrogateescape does:
 * each byte of an invalid sequence becomes U+DC80..U+DCFF.  out must have
 * room for n code points; returns how many were written.
 */
size_t arca_glob_decode(const char *s, size_t n, uint32_t *out);

#endif /* !ARCA_SELECT_GLOB_INTERNAL_H */
