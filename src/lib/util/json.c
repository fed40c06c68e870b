/*
 * json.c: JSON through jansson.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/ctx.h"
#include "util/json.h"
#include "util/timefmt.h"

#define J(v) ((json_t *)(v))
#define A(v) ((struct arca_json *)(v))

struct arca_json *
arca_json_object(void)
{
	return A(json_object());
}

struct arca_json *
arca_json_array(void)
{
	return A(json_array());
}

int
arca_json_set(struct arca_json *o, const char *key, struct arca_json *v)
{
	if (v == NULL || json_object_set_new(J(o), key, J(v)) != 0)
		return ARCA_ERR_NOMEM;
	return 0;
}

/*
 * File names are bytes: keep valid UTF-8 as it is and escape anything
 * else byte by byte, so no name is lost or refused.
 */
static json_t *
string_value(const char *s)
{
	struct arca_buf b = { 0 };
	json_t *v;
	size_t i, n = strlen(s);

	if ((v = json_string(s)) != NULL)
		return v;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			arca_buf_putc(&b, c);
		else
			arca_buf_printf(&b, "\\\\x%02x", c);
	}
	v = b.data ? json_stringn((char *)b.data, b.len) : NULL;
	arca_buf_free(&b);
	return v;
}

int
arca_json_set_str(struct arca_json *o, const char *key, const char *s)
{
	return arca_json_set(o, key, A(s ? string_value(s) : json_null()));
}

int
arca_json_set_int(struct arca_json *o, const char *key, int64_t n)
{
	return arca_json_set(o, key, A(json_integer((json_int_t)n)));
}

int
arca_json_set_bool(struct arca_json *o, const char *key, int b)
{
	return arca_json_set(o, key, A(json_boolean(b)));
}

int
arca_json_set_null(struct arca_json *o, const char *key)
{
	return arca_json_set(o, key, A(json_null()));
}

struct arca_json *
arca_json_time(int64_t t)
{
	struct arca_json *o = arca_json_object();
	char ts[17];

	if (o == NULL)
		return NULL;
	arca_time_format(t, ts);
	if (arca_json_set_int(o, "unix", t) != 0 ||
	    arca_json_set_str(o, "utc", ts) != 0) {
		arca_json_free(o);
		return NULL;
	}
	return o;
}

int
arca_json_append(struct arca_json *a, struct arca_json *v)
{
	if (v == NULL || json_array_append_new(J(a), J(v)) != 0)
		return ARCA_ERR_NOMEM;
	return 0;
}

char *
arca_json_dump(const struct arca_json *v)
{
	return json_dumps(J(v), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

void
arca_json_free(struct arca_json *v)
{
	json_decref(J(v));
}

int
arca_json_parse(struct arca_ctx *ctx, const char *text, size_t len,
    size_t max_len, struct arca_json **out)
{
	json_error_t err;
	json_t *v;

	*out = NULL;
	if (len > max_len)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "JSON document of %zu "
		    "bytes is larger than the %zu accepted", len, max_len);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &err);
	if (v == NULL)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "malformed JSON at "
		    "line %d column %d: %s", err.line, err.column, err.text);
	*out = A(v);
	return 0;
}

struct arca_json *
arca_json_get(const struct arca_json *o, const char *key)
{
	return json_is_object(J(o)) ? A(json_object_get(J(o), key)) : NULL;
}

const char *
arca_json_get_str(const struct arca_json *o, const char *key)
{
	return arca_json_str(arca_json_get(o, key));
}

const char *
arca_json_str(const struct arca_json *v)
{
	return json_is_string(J(v)) ? json_string_value(J(v)) : NULL;
}

int
arca_json_get_int(const struct arca_json *o, const char *key, int64_t *n)
{
	json_t *v = J(arca_json_get(o, key));

	if (!json_is_integer(v))
		return -1;
	*n = (int64_t)json_integer_value(v);
	return 0;
}

int
arca_json_get_bool(const struct arca_json *o, const char *key, int fallback)
{
	json_t *v = J(arca_json_get(o, key));

	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

size_t
arca_json_array_len(const struct arca_json *a)
{
	return json_is_array(J(a)) ? json_array_size(J(a)) : 0;
}

struct arca_json *
arca_json_array_at(const struct arca_json *a, size_t i)
{
	return json_is_array(J(a)) ? A(json_array_get(J(a), i)) : NULL;
}

int
arca_json_is_object(const struct arca_json *v)
{
	return json_is_object(J(v));
}

int
arca_json_is_array(const struct arca_json *v)
{
	return json_is_array(J(v));
}

int
arca_json_get_number(const struct arca_json *o, const char *key, double *d)
{
	json_t *v = J(arca_json_get(o, key));

	if (!json_is_number(v))
		return -1;
	*d = json_number_value(v);
	return 0;
}

struct arca_json *
arca_json_ref(struct arca_json *v)
{
	return A(json_incref(J(v)));
}

/* Strict UTF-8 as jansson wants it: no overlong forms, no surrogates. */
static int
valid_utf8(const unsigned char *p)
{
	unsigned int c, min;
	int n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1, c = *p & 0x1f, min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2, c = *p & 0x0f, min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3, c = *p & 0x07, min = 0x10000;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

int
arca_json_set_utf8(struct arca_json *o, const char *key, const char *s)
{
	if (s == NULL || !valid_utf8((const unsigned char *)s))
		return ARCA_ERR_USAGE;
	return arca_json_set(o, key, A(json_string(s)));
}

char *
arca_json_dump_ascii(const struct arca_json *v)
{
	return json_dumps(J(v), JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_ENCODE_ANY);
}

void
arca_json_wipe_str(struct arca_json *o, const char *key)
{
	json_t *v = J(arca_json_get(o, key));

	/* jansson keeps the bytes it hands out; they are ours to clear. */
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
}
