/*
 * rclone_internal.h: what rclone.c shares with rclone_lsjson.c (and the
 * fuzz target fuzz/fuzz_rclone.c).
 */
#ifndef ARCA_BACKEND_RCLONE_INTERNAL_H
#define ARCA_BACKEND_RCLONE_INTERNAL_H

#include <stddef.h>

struct arca_ctx;
struct arca_strlist;

/* Marks the temporary name an upload goes to before it is moved. */
#define ARCA_RCLONE_TMP_MARK	".arca-tmp-"
/* lsjson output is untrusted: about 2 million entries fit. */
#define ARCA_RCLONE_OUT_MAX	(256u * 1024 * 1024)
#define ARCA_RCLONE_MAX_NAMES	4000000

/* 1 when name is one of our temporary upload names, else 0. */
int arca_rclone_is_tmp(const char *name);

/*
 * Parse the output of `rclone lsjson --files-only` (text, len bytes, at
 * most ARCA_RCLONE_OUT_MAX): [{"Path":..,"Name":..,"IsDir":..}, ...].
 * Adds to l the name of every file entry that is a plain, flat name (no
 * '/', not empty, not "." or "..", not one of our temporary names); other
 * entries are skipped.  where names the target in messages.  Returns 0,
 * ARCA_ERR_BACKEND (not a JSON list, or more than ARCA_RCLONE_MAX_NAMES
 * names in l) or ARCA_ERR_NOMEM, with the message on ctx; l keeps the
 * names added so far either way (the caller frees it).
 */
int arca_rclone_parse_lsjson(struct arca_ctx *ctx, const char *where,
    const char *text, size_t len, struct arca_strlist *l);

#endif /* !ARCA_BACKEND_RCLONE_INTERNAL_H */
