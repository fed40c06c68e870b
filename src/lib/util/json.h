/*
 * json.h: JSON documents, on jansson.  The only module that includes
 * <jansson.h>: build documents for machine-readable output, and parse
 * (bounded) responses from services.
 *
 * A struct arca_json is a reference to a JSON value.  Values returned by
 * the getters are borrowed from their parent; values from the builders
 * and arca_json_parse are owned and released with arca_json_free().
 */
#ifndef ARCA_UTIL_JSON_H
#define ARCA_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

struct arca_ctx;
struct arca_json;

/* Builders: NULL on allocation failure. */
struct arca_json *arca_json_object(void);
struct arca_json *arca_json_array(void);
/* Set key to a value; set() takes ownership of v.  0 or ARCA_ERR_NOMEM. */
int arca_json_set(struct arca_json *o, const char *key, struct arca_json *v);
int arca_json_set_str(struct arca_json *o, const char *key, const char *s);
int arca_json_set_int(struct arca_json *o, const char *key, int64_t n);
int arca_json_set_bool(struct arca_json *o, const char *key, int b);
int arca_json_set_null(struct arca_json *o, const char *key);
/*
 * A time as arca's JSON documents give it (docs/JSON.md):
 * {"unix": T, "utc": "YYYYMMDDTHHMMSSZ"}; NULL on allocation failure.
 */
struct arca_json *arca_json_time(int64_t t);
/* Append v (ownership taken) to an array. */
int arca_json_append(struct arca_json *a, struct arca_json *v);
/* Serialise (indented, keys in insertion order, UTF-8; invalid UTF-8 in
 * strings is escaped byte-wise as \u00XX); caller frees the text. */
char *arca_json_dump(const struct arca_json *v);
void arca_json_free(struct arca_json *v);

/* Parse text (len bytes, at most max_len accepted) holding any JSON value
 * (also a bare string, number or null); ARCA_ERR_CORRUPT with the position
 * on ctx for malformed input, duplicate keys or \u0000 in a string (so
 * strings from a document never hold NUL bytes). */
int arca_json_parse(struct arca_ctx *ctx, const char *text, size_t len,
    size_t max_len, struct arca_json **out);
/* Getters: NULL / -1 / fallback when absent or of another type. */
struct arca_json *arca_json_get(const struct arca_json *o, const char *key);
const char *arca_json_get_str(const struct arca_json *o, const char *key);
int arca_json_get_int(const struct arca_json *o, const char *key, int64_t *n);
int arca_json_get_bool(const struct arca_json *o, const char *key, int fallback);
size_t arca_json_array_len(const struct arca_json *a);
struct arca_json *arca_json_array_at(const struct arca_json *a, size_t i);
const char *arca_json_str(const struct arca_json *v);	/* v itself a string */
int arca_json_is_object(const struct arca_json *v);	/* 1 or 0 */
int arca_json_is_array(const struct arca_json *v);	/* 1 or 0 */
/* An integer or real member as a double: 0, or -1 when absent or not a
 * number. */
int arca_json_get_number(const struct arca_json *o, const char *key,
    double *d);
/* Another reference to v (NULL stays NULL), released with arca_json_free. */
struct arca_json *arca_json_ref(struct arca_json *v);

/*
 * Set key to s, which must be valid UTF-8: names a service has to see
 * exactly are refused rather than escaped as arca_json_set_str() does.
 * 0, ARCA_ERR_USAGE (not UTF-8; no message set) or ARCA_ERR_NOMEM.
 */
int arca_json_set_utf8(struct arca_json *o, const char *key, const char *s);
/* Serialise on one line with everything outside ASCII as \uXXXX (fit for
 * an HTTP header); caller frees the text, NULL on no memory. */
char *arca_json_dump_ascii(const struct arca_json *v);
/* Overwrite the bytes of the string member key of o (a parsed secret) with
 * zeros; no-op when absent or not a string. */
void arca_json_wipe_str(struct arca_json *o, const char *key);

#endif /* !ARCA_UTIL_JSON_H */
