/*
 * s3_xml.c: a small XML reader for S3's answers (listings, errors, upload
 * ids, delete results), and the two answers the backend reads whole.
 *
 * S3 answers are plain: elements, text, a declaration, an xmlns attribute.
 * This reads exactly that and refuses the rest: a DTD (so no entity can
 * ever expand), unknown entities, mismatched tags, text outside the root,
 * and anything past the depth, path and text limits.  The server is not
 * trusted: every length is bounded and every malformed document is an
 * error, never a guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "backend/s3_internal.h"
#include "util/buf.h"

struct xml {
	const char *p, *end;
	arca_s3_xml_fn *fn;
	void *ud;
	char *err;
	size_t errlen;
	char path[ARCA_S3_XML_MAXPATH + 1];
	size_t plen[ARCA_S3_XML_MAXDEPTH + 1];	/* path length per level */
	int has_child[ARCA_S3_XML_MAXDEPTH + 1];
	int depth;
	int seen_root;
	struct arca_buf text;
};

static int
xml_fail(struct xml *x, const char *what)
{
	if (x->errlen > 0)
		snprintf(x->err, x->errlen, "%s", what);
	return ARCA_ERR_CORRUPT;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == ':' || c >= 0x80;
}

/* Does the input at x->p start with s? */
static int
at(const struct xml *x, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* Move past the next occurrence of s; 0, or -1 if there is none. */
static int
skip_past(struct xml *x, const char *s)
{
	size_t n = strlen(s);

	for (; (size_t)(x->end - x->p) >= n; x->p++)
		if (memcmp(x->p, s, n) == 0) {
			x->p += n;
			return 0;
		}
	return -1;
}

static int
put_utf8(struct arca_buf *b, unsigned long c)
{
	unsigned char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | c >> 6);
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | c >> 12);
		u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | c >> 18);
		u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return arca_buf_append(b, u, n);
}

/* Decode the reference at x->p ('&') into the text buffer. */
static int
entity(struct xml *x)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	unsigned long c = 0;
	size_t i;
	int digits = 0, hex;

	x->p++;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (at(x, named[i].name)) {
			x->p += strlen(named[i].name);
			return arca_buf_putc(&x->text, named[i].c) != 0 ?
			    ARCA_ERR_NOMEM : 0;
		}
	if (x->p >= x->end || *x->p != '#')
		return xml_fail(x, "unknown entity (only the five of XML and "
		    "character references are read)");
	x->p++;
	hex = x->p < x->end && *x->p == 'x';
	if (hex)
		x->p++;
	for (; x->p < x->end && *x->p != ';'; x->p++, digits++) {
		int d, ch = (unsigned char)*x->p;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (hex && ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (hex && ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			return xml_fail(x, "bad character reference");
		c = c * (hex ? 16 : 10) + (unsigned long)d;
		if (c > 0x10ffff)
			return xml_fail(x, "character reference out of range");
	}
	if (x->p >= x->end || digits == 0)
		return xml_fail(x, "bad character reference");
	x->p++;
	/* NUL would cut keys short; surrogates are not characters. */
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
		return xml_fail(x, "character reference to a non-character");
	return put_utf8(&x->text, c) != 0 ? ARCA_ERR_NOMEM : 0;
}

/* Read a name at x->p; *n is its length. */
static int
read_name(struct xml *x, const char **name, size_t *n)
{
	const char *s = x->p;

	while (x->p < x->end && name_char((unsigned char)*x->p))
		x->p++;
	*name = s;
	*n = (size_t)(x->p - s);
	if (*n == 0)
		return xml_fail(x, "missing element name");
	return 0;
}

/* The local part of a name (after any namespace prefix). */
static void
local_name(const char **name, size_t *n)
{
	const char *c = memchr(*name, ':', *n);

	if (c != NULL) {
		*n -= (size_t)(c + 1 - *name);
		*name = c + 1;
	}
}

static int
open_element(struct xml *x)
{
	const char *name;
	size_t n, base;
	int rc, empty = 0;
	char q;

	x->p++;		/* '<' */
	if ((rc = read_name(x, &name, &n)) != 0)
		return rc;
	/* Attributes are skipped, but their quotes are honoured. */
	for (;;) {
		if (x->p >= x->end)
			return xml_fail(x, "unterminated start tag");
		if (*x->p == '>') {
			x->p++;
			break;
		}
		if (*x->p == '/' && x->p + 1 < x->end && x->p[1] == '>') {
			x->p += 2;
			empty = 1;
			break;
		}
		if (*x->p == '"' || *x->p == '\'') {
			q = *x->p++;
			while (x->p < x->end && *x->p != q) {
				if (*x->p == '<')
					return xml_fail(x, "'<' in an "
					    "attribute value");
				x->p++;
			}
			if (x->p >= x->end)
				return xml_fail(x, "unterminated attribute");
			x->p++;
			continue;
		}
		if (*x->p != '=' && !is_space((unsigned char)*x->p) &&
		    !name_char((unsigned char)*x->p))
			return xml_fail(x, "bad character in a start tag");
		x->p++;
	}
	if (x->depth == 0 && x->seen_root)
		return xml_fail(x, "more than one root element");
	if (x->depth >= ARCA_S3_XML_MAXDEPTH)
		return xml_fail(x, "elements nested too deeply");
	local_name(&name, &n);
	base = x->plen[x->depth];
	if (base + (x->depth ? 1 : 0) + n > ARCA_S3_XML_MAXPATH)
		return xml_fail(x, "element path too long");
	if (x->depth > 0) {
		x->has_child[x->depth] = 1;
		x->path[base++] = '/';
	}
	memcpy(x->path + base, name, n);
	x->path[base + n] = '\0';
	x->depth++;
	x->seen_root = 1;
	x->plen[x->depth] = base + n;
	x->has_child[x->depth] = 0;
	arca_buf_reset(&x->text);
	if ((rc = x->fn(x->ud, ARCA_S3_XML_START, x->path, NULL, 0)) != 0)
		return rc;
	if (!empty)
		return 0;
	if ((rc = x->fn(x->ud, ARCA_S3_XML_TEXT, x->path, "", 0)) != 0 ||
	    (rc = x->fn(x->ud, ARCA_S3_XML_END, x->path, NULL, 0)) != 0)
		return rc;
	x->depth--;
	x->path[x->plen[x->depth]] = '\0';
	return 0;
}

static int
close_element(struct xml *x)
{
	const char *name, *top;
	size_t n, tn;
	int rc;

	x->p += 2;	/* "</" */
	if ((rc = read_name(x, &name, &n)) != 0)
		return rc;
	while (x->p < x->end && is_space((unsigned char)*x->p))
		x->p++;
	if (x->p >= x->end || *x->p != '>')
		return xml_fail(x, "unterminated end tag");
	x->p++;
	if (x->depth == 0)
		return xml_fail(x, "end tag without a start tag");
	local_name(&name, &n);
	top = x->path + x->plen[x->depth - 1] + (x->depth > 1 ? 1 : 0);
	tn = x->plen[x->depth] - (size_t)(top - x->path);
	if (tn != n || memcmp(top, name, n) != 0)
		return xml_fail(x, "end tag does not match its start tag");
	if (!x->has_child[x->depth]) {
		if (arca_buf_putc(&x->text, 0) != 0)
			return ARCA_ERR_NOMEM;
		x->text.len--;
		if ((rc = x->fn(x->ud, ARCA_S3_XML_TEXT, x->path,
		    (const char *)x->text.data, x->text.len)) != 0)
			return rc;
	}
	if ((rc = x->fn(x->ud, ARCA_S3_XML_END, x->path, NULL, 0)) != 0)
		return rc;
	arca_buf_reset(&x->text);
	x->depth--;
	x->path[x->plen[x->depth]] = '\0';
	return 0;
}

static int
text_char(struct xml *x)
{
	if (x->depth == 0) {
		if (!is_space((unsigned char)*x->p))
			return xml_fail(x, "text outside the root element");
		x->p++;
		return 0;
	}
	if (*x->p == '&')
		return entity(x);
	if (arca_buf_putc(&x->text, (unsigned char)*x->p) != 0)
		return ARCA_ERR_NOMEM;
	x->p++;
	return 0;
}

int
arca_s3_xml_parse(const char *doc, size_t len, arca_s3_xml_fn *fn,
    void *ud, char *err, size_t errlen)
{
	struct xml x;
	const char *s;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	x.p = doc;
	x.end = doc + len;
	x.fn = fn;
	x.ud = ud;
	x.err = err;
	x.errlen = errlen;
	/* The limit is checked as text grows; the buffer's own cap is a
	 * second guard, with room for the last character and a NUL. */
	x.text.max = ARCA_S3_XML_MAXTEXT + 16;
	if (errlen > 0)
		err[0] = '\0';
	if (len >= 3 && memcmp(doc, "\xef\xbb\xbf", 3) == 0)
		x.p += 3;	/* a UTF-8 byte order mark */
	while (x.p < x.end) {
		if (*x.p == '\0') {
			rc = xml_fail(&x, "NUL byte in the document");
			goto out;
		}
		if (*x.p != '<') {
			if ((rc = text_char(&x)) != 0)
				goto out;
			if (x.text.len > ARCA_S3_XML_MAXTEXT) {
				rc = xml_fail(&x, "element text too long");
				goto out;
			}
			continue;
		}
		if (at(&x, "<?")) {
			if (skip_past(&x, "?>") != 0) {
				rc = xml_fail(&x, "unterminated declaration");
				goto out;
			}
		} else if (at(&x, "<!--")) {
			if (skip_past(&x, "-->") != 0) {
				rc = xml_fail(&x, "unterminated comment");
				goto out;
			}
		} else if (at(&x, "<![CDATA[")) {
			if (x.depth == 0) {
				rc = xml_fail(&x, "CDATA outside the root");
				goto out;
			}
			x.p += 9;
			s = x.p;
			if (skip_past(&x, "]]>") != 0) {
				rc = xml_fail(&x, "unterminated CDATA");
				goto out;
			}
			/* The NUL check above skips CDATA (fuzz/fuzz_s3). */
			if (memchr(s, '\0', (size_t)(x.p - 3 - s)) != NULL) {
				rc = xml_fail(&x, "NUL byte in the document");
				goto out;
			}
			if ((size_t)(x.p - 3 - s) > ARCA_S3_XML_MAXTEXT -
			    x.text.len) {
				rc = xml_fail(&x, "element text too long");
				goto out;
			}
			if (arca_buf_append(&x.text, s, (size_t)(x.p - 3 - s))
			    != 0) {
				rc = ARCA_ERR_NOMEM;
				goto out;
			}
		} else if (at(&x, "<!")) {
			rc = xml_fail(&x, "document type declarations are "
			    "refused");
			goto out;
		} else if (at(&x, "</")) {
			if ((rc = close_element(&x)) != 0)
				goto out;
		} else if ((rc = open_element(&x)) != 0)
			goto out;
	}
	if (x.depth != 0)
		rc = xml_fail(&x, "document ends inside an element");
	else if (!x.seen_root)
		rc = xml_fail(&x, "no root element");
out:
	arca_buf_free(&x.text);
	return rc;
}

int
arca_s3_xml_escape(struct arca_buf *b, const char *s)
{
	const char *r;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&apos;"; break;
		default:
			if (arca_buf_putc(b, (unsigned char)*s) != 0)
				return ARCA_ERR_NOMEM;
			continue;
		}
		if (arca_buf_puts(b, r) != 0)
			return ARCA_ERR_NOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------ listings */

struct list_ud {
	struct arca_strlist *keys;
	size_t max_keys, nkeys;
	int truncated;
	char *token;
	int root_ok;
	char *err;
	size_t errlen;
};

static int
list_fail(struct list_ud *u, const char *what)
{
	if (u->errlen > 0)
		snprintf(u->err, u->errlen, "%s", what);
	return ARCA_ERR_CORRUPT;
}

static int
list_event(void *ud, enum arca_s3_xml_event ev, const char *path,
    const char *text, size_t len)
{
	struct list_ud *u = ud;

	if (ev == ARCA_S3_XML_START && strchr(path, '/') == NULL) {
		if (strcmp(path, "ListBucketResult") != 0)
			return list_fail(u, "the answer is not a bucket "
			    "listing");
		u->root_ok = 1;
		return 0;
	}
	if (ev != ARCA_S3_XML_TEXT)
		return 0;
	if (strcmp(path, "ListBucketResult/Contents/Key") == 0) {
		if (len == 0)
			return list_fail(u, "empty key in the listing");
		if (strlen(text) != len)
			return list_fail(u, "NUL in a key in the listing");
		if (++u->nkeys > u->max_keys)
			return list_fail(u, "more keys in one listing page "
			    "than asked for");
		return arca_strlist_addn(u->keys, text, len) != 0 ?
		    ARCA_ERR_NOMEM : 0;
	}
	if (strcmp(path, "ListBucketResult/IsTruncated") == 0) {
		if (strcmp(text, "true") == 0)
			u->truncated = 1;
		else if (strcmp(text, "false") == 0)
			u->truncated = 0;
		else
			return list_fail(u, "IsTruncated is neither true nor "
			    "false");
		return 0;
	}
	if (strcmp(path, "ListBucketResult/NextContinuationToken") == 0) {
		if (u->token != NULL)
			return list_fail(u, "two continuation tokens");
		if ((u->token = arca_strndup(text, len)) == NULL)
			return ARCA_ERR_NOMEM;
	}
	return 0;
}

int
arca_s3_parse_list(const char *doc, size_t len, size_t max_keys,
    struct arca_strlist *keys, int *truncated, char **token, char *err,
    size_t errlen)
{
	struct list_ud u;
	size_t n0 = keys->n, i;
	int rc;

	memset(&u, 0, sizeof(u));
	u.keys = keys;
	u.max_keys = max_keys;
	u.err = err;
	u.errlen = errlen;
	*truncated = 0;
	*token = NULL;
	rc = arca_s3_xml_parse(doc, len, list_event, &u, err, errlen);
	if (rc == 0 && !u.root_ok)
		rc = list_fail(&u, "the answer is not a bucket listing");
	if (rc == 0 && u.truncated && (u.token == NULL || u.token[0] == '\0'))
		rc = list_fail(&u, "a truncated listing without a "
		    "continuation token");
	if (rc != 0) {
		/* Take back what this page added. */
		for (i = n0; i < keys->n; i++)
			free(keys->v[i]);
		keys->n = n0;
		free(u.token);
		return rc;
	}
	*truncated = u.truncated;
	if (u.truncated)
		*token = u.token;
	else
		free(u.token);
	return 0;
}

/* -------------------------------------------------------------- errors */

struct err_ud {
	struct arca_s3_error *e;
	int is_error;
};

static void
copy_field(char *dst, size_t cap, const char *text)
{
	snprintf(dst, cap, "%s", text);
}

static int
err_event(void *ud, enum arca_s3_xml_event ev, const char *path,
    const char *text, size_t len)
{
	struct err_ud *u = ud;

	if (ev == ARCA_S3_XML_START && strchr(path, '/') == NULL)
		u->is_error = strcmp(path, "Error") == 0;
	if (ev != ARCA_S3_XML_TEXT || !u->is_error)
		return 0;
	if (strcmp(path, "Error/Code") == 0)
		copy_field(u->e->code, sizeof(u->e->code), text);
	else if (strcmp(path, "Error/Message") == 0)
		copy_field(u->e->message, sizeof(u->e->message), text);
	else if (strcmp(path, "Error/Region") == 0)
		copy_field(u->e->region, sizeof(u->e->region), text);
	else if (strcmp(path, "Error/Key") == 0)
		copy_field(u->e->key, sizeof(u->e->key), text);
	return 0;
}

int
arca_s3_parse_error(const char *doc, size_t len, struct arca_s3_error *e)
{
	struct err_ud u = { e, 0 };
	char err[128];

	memset(e, 0, sizeof(*e));
	if (doc == NULL || len == 0 ||
	    arca_s3_xml_parse(doc, len, err_event, &u, err, sizeof(err)) != 0 ||
	    !u.is_error) {
		memset(e, 0, sizeof(*e));
		return 0;
	}
	return 1;
}
