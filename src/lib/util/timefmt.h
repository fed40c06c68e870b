/*
 * timefmt.h: duplicity's time strings.
 */
#ifndef ARCA_UTIL_TIMEFMT_H
#define ARCA_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Format t (UTC) as YYYYMMDDTHHMMSSZ into out (at least 17 bytes). */
void arca_time_format(int64_t t, char out[17]);

/*
 * Parse a time as found inside remote file names (§3.1): the 16-char UTC
 * form, or the legacy `YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)` form (':' may be any
 * separator character).  s need not be NUL-terminated (n bytes).
 * Returns 0 or ARCA_ERR_CORRUPT.
 */
int arca_time_parse_name(const char *s, size_t n, int64_t *out);

/*
 * Parse a user time string (--time, remove-older-than, ...) as duplicity
 * does (§3.3), relative to now.  Returns 0 or ARCA_ERR_USAGE.
 */
int arca_time_parse_user(const char *s, int64_t now, int64_t *out);

/* asctime(localtime(t)) without the newline, e.g. "Mon Jan  1 00:00:00 2024". */
void arca_time_asctime(int64_t t, char out[32]);

/* Lower-case base 36 (short file names). */
int arca_b36_parse(const char *s, size_t n, uint64_t *out);

#endif /* !ARCA_UTIL_TIMEFMT_H */
