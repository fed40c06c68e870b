/*
 * webdav_xml.c: the PROPFIND answer scanner of the WebDAV backend
 * (webdav_internal.h).
 *
 * Not a general XML parser: a byte-at-a-time state machine that knows
 * tags, attributes in quotes, comments, CDATA, entities and namespace
 * prefixes (any, or none), which is all a 207 multistatus needs.  It keeps
 * one <response> at a time, so memory does not grow with the size of the
 * answer, only with the names kept, and every piece it buffers has a cap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/webdav_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

/* Our upload temp names (webdav.c): ".<name>.arca-tmp-<pid>" */
#define DAV_TMP_MARK	".arca-tmp-"
/* Longest tag (with its attributes) and href the scanner accepts. */
#define DAV_TAG_MAX	(16u * 1024)
#define DAV_HREF_MAX	(8u * 1024)
/* Most names a listing may hold; far beyond any real target. */
#define DAV_NAMES_MAX	(4u * 1024 * 1024)

enum xstate { X_TEXT, X_TAG, X_COMMENT, X_CDATA };

struct arca_dav_scan {
	struct arca_ctx *ctx;
	const char *where;
	struct arca_strlist *out;
	enum xstate state;
	struct arca_buf tag;	/* the tag being read, without '<' '>' */
	struct arca_buf href;	/* text of the response's href */
	char quote;		/* inside an attribute value: its quote */
	unsigned tail;		/* last chars, to spot "-->" and "]]>" */
	int in_response, in_propstat, in_href, have_href;
	int in_resourcetype, is_collection;
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append code point cp as UTF-8. */
static int
put_utf8(struct arca_buf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return arca_buf_append(b, u, n);
}

/* XML entities of s into b.  -1 for a malformed or unknown one. */
static int
xml_unescape(struct arca_buf *b, const char *s)
{
	static const struct { const char *name; char c; } ent[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' } };
	unsigned long cp;
	size_t i, n;
	char *end;

	while (*s != '\0') {
		if (*s != '&') {
			if (arca_buf_putc(b, *s++) != 0)
				return -1;
			continue;
		}
		s++;
		if (*s == '#') {
			errno = 0;
			cp = s[1] == 'x' ? strtoul(s + 2, &end, 16) :
			    strtoul(s + 1, &end, 10);
			if (errno != 0 || *end != ';' || end == s + 1 ||
			    put_utf8(b, cp) != 0)
				return -1;
			s = end + 1;
			continue;
		}
		for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
			n = strlen(ent[i].name);
			if (strncmp(s, ent[i].name, n) == 0)
				break;
		}
		if (i == sizeof(ent) / sizeof(ent[0]) ||
		    arca_buf_putc(b, ent[i].c) != 0)
			return -1;
		s += n;
	}
	return 0;
}

/*
 * The file name an href names: the last segment of its path,
 * percent-decoded; NULL for a collection (trailing '/'), an href that
 * cannot be decoded, or our own temp files.
 */
static char *
href_name(const char *href)
{
	struct arca_buf b = { 0 };
	const char *p, *s, *e;
	int hi, lo;

	if ((p = strstr(href, "://")) != NULL && p < href + strcspn(href, "/"))
		href = p + 3 + strcspn(p + 3, "/");
	e = href + strcspn(href, "?#");
	if (e == href || e[-1] == '/')
		return NULL;
	for (s = e; s > href && s[-1] != '/'; s--)
		;
	for (; s < e; s++) {
		if (*s != '%') {
			if (arca_buf_putc(&b, *s) != 0)
				goto bad;
			continue;
		}
		if (e - s < 3 || (hi = hexval((unsigned char)s[1])) < 0 ||
		    (lo = hexval((unsigned char)s[2])) < 0 || (hi | lo) == 0 ||
		    arca_buf_putc(&b, hi << 4 | lo) != 0)
			goto bad;
		s += 2;
	}
	if (b.len == 0 || (b.data[0] == '.' && strstr((char *)b.data,
	    DAV_TMP_MARK) != NULL) || strchr((char *)b.data, '/') != NULL ||
	    strcmp((char *)b.data, ".") == 0 ||
	    strcmp((char *)b.data, "..") == 0)
		goto bad;
	return arca_buf_steal(&b);
bad:
	arca_buf_free(&b);
	return NULL;
}

static int
scan_emit(struct arca_dav_scan *sc)
{
	struct arca_buf dec = { 0 };
	char *name = NULL;
	int rc = 0;

	if (!sc->have_href || sc->is_collection)
		return 0;
	if (arca_buf_putc(&sc->href, '\0') != 0 ||
	    xml_unescape(&dec, (const char *)sc->href.data) != 0 ||
	    arca_buf_putc(&dec, '\0') != 0) {
		rc = arca_error(sc->ctx, ARCA_ERR_CORRUPT, "bad href in "
		    "the listing of %s", sc->where);
		goto out;
	}
	if ((name = href_name((const char *)dec.data)) == NULL)
		goto out;
	if (sc->out->n >= DAV_NAMES_MAX)
		rc = arca_error(sc->ctx, ARCA_ERR_CORRUPT, "the listing of "
		    "%s has more than %u files", sc->where,
		    DAV_NAMES_MAX);
	else if (arca_strlist_add(sc->out, name) != 0)
		rc = arca_error(sc->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	free(name);
	arca_buf_free(&dec);
	return rc;
}

/* A complete tag in sc->tag: track where we are in the multistatus. */
static int
scan_tag(struct arca_dav_scan *sc)
{
	char *t = (char *)sc->tag.data, *name, *local;
	size_t n = sc->tag.len;
	int closing = 0, empty = 0;

	if (n == 0 || t[0] == '?' || t[0] == '!')
		return 0;	/* <?xml ...?>, <!DOCTYPE ...> */
	t[n] = '\0';
	if (t[0] == '/') {
		closing = 1;
		t++;
	} else if (t[n - 1] == '/')
		empty = 1;
	name = t;
	name[strcspn(name, " \t\r\n/")] = '\0';
	local = strrchr(name, ':') ? strrchr(name, ':') + 1 : name;

	if (strcmp(local, "response") == 0) {
		if (closing) {
			sc->in_response = 0;
			return scan_emit(sc);
		}
		sc->in_response = !empty;
		sc->in_propstat = sc->in_href = sc->have_href = 0;
		sc->in_resourcetype = sc->is_collection = 0;
		arca_buf_reset(&sc->href);
	} else if (!sc->in_response)
		return 0;
	else if (strcmp(local, "propstat") == 0)
		sc->in_propstat = !closing && !empty;
	else if (strcmp(local, "href") == 0 && !sc->in_propstat) {
		if (closing && sc->in_href) {
			sc->in_href = 0;
			sc->have_href = 1;
		} else if (!closing && !empty && !sc->have_href) {
			sc->in_href = 1;
			arca_buf_reset(&sc->href);
		}
	} else if (strcmp(local, "resourcetype") == 0)
		sc->in_resourcetype = !closing && !empty;
	else if (strcmp(local, "collection") == 0 && sc->in_resourcetype &&
	    !closing)
		sc->is_collection = 1;
	return 0;
}

static int
scan_text(struct arca_dav_scan *sc, char c)
{
	if (!sc->in_href)
		return 0;
	if (sc->href.len >= DAV_HREF_MAX)
		return arca_error(sc->ctx, ARCA_ERR_CORRUPT, "an href in "
		    "the listing of %s is longer than %u bytes",
		    sc->where, DAV_HREF_MAX);
	if (arca_buf_putc(&sc->href, c) != 0)
		return arca_error(sc->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

int
arca_dav_scan_new(struct arca_ctx *ctx, const char *where,
    struct arca_strlist *out, struct arca_dav_scan **scp)
{
	struct arca_dav_scan *sc;

	*scp = NULL;
	if ((sc = arca_calloc(1, sizeof(*sc))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	sc->ctx = ctx;
	sc->where = where;
	sc->out = out;
	*scp = sc;
	return 0;
}

void
arca_dav_scan_free(struct arca_dav_scan *sc)
{
	if (sc == NULL)
		return;
	arca_buf_free(&sc->tag);
	arca_buf_free(&sc->href);
	free(sc);
}

int
arca_dav_scan_end(struct arca_dav_scan *sc)
{
	if (sc->state != X_TEXT || sc->in_response)
		return arca_error(sc->ctx, ARCA_ERR_RETRY, "the listing of %s "
		    "ends in the middle", sc->where);
	return 0;
}

int
arca_dav_scan_feed(struct arca_dav_scan *sc, const void *p, size_t n)
{
	const char *s = p;
	size_t i;
	int rc;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		sc->tail = (sc->tail << 8 | (unsigned char)c) & 0xffffff;
		switch (sc->state) {
		case X_TEXT:
			if (c == '<') {
				sc->state = X_TAG;
				sc->quote = 0;
				arca_buf_reset(&sc->tag);
			} else if ((rc = scan_text(sc, c)) != 0)
				return rc;
			break;
		case X_TAG:
			if (sc->quote != 0 && c == sc->quote)
				sc->quote = 0;
			else if (sc->quote == 0 && (c == '"' || c == '\'') &&
			    sc->tag.len > 0 && sc->tag.data[0] != '!')
				sc->quote = c;
			else if (sc->quote == 0 && c == '>') {
				sc->state = X_TEXT;
				if ((rc = scan_tag(sc)) != 0)
					return rc;
				break;
			}
			if (sc->tag.len + 1 >= DAV_TAG_MAX)
				return arca_error(sc->ctx,
				    ARCA_ERR_CORRUPT, "a tag in the listing "
				    "of %s is longer than %u bytes",
				    sc->where, DAV_TAG_MAX);
			if (arca_buf_putc(&sc->tag, c) != 0)
				return arca_error(sc->ctx, ARCA_ERR_NOMEM,
				    "out of memory");
			if (sc->tag.len == 3 && memcmp(sc->tag.data, "!--",
			    3) == 0) {
				sc->state = X_COMMENT;
				sc->tail = 0;
			} else if (sc->tag.len == 8 && memcmp(sc->tag.data,
			    "![CDATA[", 8) == 0) {
				sc->state = X_CDATA;
				sc->tail = 0;
			}
			break;
		case X_COMMENT:
			if (sc->tail == ('-' << 16 | '-' << 8 | '>'))
				sc->state = X_TEXT;
			break;
		case X_CDATA:
			if (sc->tail == (']' << 16 | ']' << 8 | '>')) {
				/* "]]" went into the text: take it out */
				if (sc->in_href && sc->href.len >= 2)
					sc->href.len -= 2;
				sc->state = X_TEXT;
			} else if (c == '&' && sc->in_href) {
				/* literal in CDATA, but entities are decoded
				 * later: keep it literal */
				if (arca_buf_puts(&sc->href, "&amp;") != 0)
					return ARCA_ERR_NOMEM;
			} else if ((rc = scan_text(sc, c)) != 0)
				return rc;
			break;
		}
	}
	return 0;
}
