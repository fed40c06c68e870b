/*
 * url.c: backend URLs.
 *
 * Two shapes are accepted:
 *
 *   scheme://[user[:password]@]host[:port][/path]
 *   file://PATH		PATH is everything after "file://", so
 *				file:///abs/dir is absolute and
 *				file://rel/dir is relative (duplicity's rule)
 *
 * user, password and path are percent-decoded.  The password never appears
 * in an error message: messages quote u->redacted, where it is "***".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/backend.h"
#include "util/buf.h"
#include "util/ctx.h"

/* No sane backend URL is longer; keeps messages and copies bounded. */
#define ARCA_URL_MAX	8192

static int
scheme_char(int c, int first)
{
	if (isascii(c) && isalpha(c))
		return 1;
	if (first)
		return 0;
	return (isascii(c) && isdigit(c)) || c == '+' || c == '-' || c == '.';
}

/* Length of the scheme if text starts with "scheme://", else 0. */
static size_t
scheme_len(const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0' && scheme_char((unsigned char)text[i],
	    i == 0); i++)
		;
	if (i == 0 || strncmp(text + i, "://", 3) != 0)
		return 0;
	return i;
}

int
arca_url_is_url(const char *text)
{
	return text != NULL && scheme_len(text) != 0;
}

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

/*
 * Percent-decode s[0..n) into a new string in *out.  Returns 0, ARCA_ERR_NOMEM,
 * or 1 for a malformed escape, 2 for an escape that decodes to NUL (which
 * would silently cut the string short).
 */
static int
pct_decode(const char *s, size_t n, char **out)
{
	char *d;
	size_t i, j;
	int hi, lo;

	*out = NULL;
	if ((d = malloc(n + 1)) == NULL)
		return ARCA_ERR_NOMEM;
	for (i = j = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 2])) < 0) {
			explicit_bzero(d, n + 1);
			free(d);
			return 1;
		}
		if (hi == 0 && lo == 0) {
			explicit_bzero(d, n + 1);
			free(d);
			return 2;
		}
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/*
 * The URL with any password replaced by "***".  The password is whatever
 * lies between the first ':' of the userinfo and the last '@' of the
 * authority, the same split arca_url_parse makes.
 */
static char *
redact(const char *text, size_t slen)
{
	const char *auth, *end, *at, *colon;
	struct arca_buf b = { 0 };

	auth = text + slen + 3;
	end = auth + strcspn(auth, "/");
	for (at = NULL, colon = auth; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if ((slen == 4 && strncasecmp(text, "file", 4) == 0) ||
	    (slen == 6 && strncasecmp(text, "rclone", 6) == 0))
		at = NULL;
	if (at == NULL || (colon = memchr(auth, ':', (size_t)(at - auth))) ==
	    NULL)
		return arca_strdup(text);
	if (arca_buf_append(&b, text, (size_t)(colon + 1 - text)) != 0 ||
	    arca_buf_puts(&b, "***") != 0 || arca_buf_puts(&b, at) != 0) {
		arca_buf_free(&b);
		return NULL;
	}
	return arca_buf_steal(&b);
}

/* Parse "host[:port]" or "[v6]:port" in s[0..n). */
static int
parse_hostport(struct arca_ctx *ctx, const char *s, size_t n,
    struct arca_url *u)
{
	const char *hend, *p;
	long port;

	if (n > 0 && s[0] == '[') {
		if ((hend = memchr(s, ']', n)) == NULL)
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: missing ']' after IPv6 address",
			    u->redacted);
		if ((u->host = arca_strndup(s + 1, (size_t)(hend - s - 1))) ==
		    NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		p = hend + 1;
		if (p < s + n && *p != ':')
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: unexpected text after IPv6 address",
			    u->redacted);
	} else {
		if ((p = memchr(s, ':', n)) == NULL)
			p = s + n;
		if ((u->host = arca_strndup(s, (size_t)(p - s))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	if (u->host[0] == '\0') {
		free(u->host);
		u->host = NULL;
		if (p < s + n)
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: port given without a host",
			    u->redacted);
	}
	if (p == s + n)
		return 0;
	/* p points at ':' */
	p++;
	if (p == s + n)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "bad URL %s: empty port after ':'", u->redacted);
	for (port = 0; p < s + n; p++) {
		if (!isascii((unsigned char)*p) || !isdigit((unsigned char)*p))
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: port is not a number", u->redacted);
		port = port * 10 + (*p - '0');
		if (port > 65535)
			break;
	}
	if (port < 1 || port > 65535)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "bad URL %s: port must be 1 to 65535", u->redacted);
	u->port = (int)port;
	return 0;
}

static int
decode_field(struct arca_ctx *ctx, struct arca_url *u, const char *s,
    size_t n, const char *what, char **out)
{
	int rc;

	if ((rc = pct_decode(s, n, out)) == ARCA_ERR_NOMEM)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	if (rc == 1)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "bad URL %s: bad %%-escape in the %s (want %%XX, "
		    "two hex digits)", u->redacted, what);
	if (rc == 2)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "bad URL %s: %%00 is not allowed in the %s", u->redacted,
		    what);
	return 0;
}

int
arca_url_parse(struct arca_ctx *ctx, const char *text, struct arca_url *out)
{
	struct arca_url u = { 0 };
	const char *auth, *aend, *at, *colon, *hp;
	size_t slen, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (text == NULL || text[0] == '\0')
		return arca_error(ctx, ARCA_ERR_USAGE, "empty URL");
	if (strlen(text) > ARCA_URL_MAX)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "URL longer than %d bytes", ARCA_URL_MAX);
	if ((slen = scheme_len(text)) == 0) {
		/* Don't echo one with '@': it may hold a password. */
		if (strchr(text, '@') != NULL)
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL: expected scheme://..., for example "
			    "file:///path/to/dir");
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "bad URL '%s': expected scheme://..., for example "
		    "file:///path/to/dir", text);
	}
	if ((u.text = arca_strdup(text)) == NULL ||
	    (u.redacted = redact(text, slen)) == NULL ||
	    (u.scheme = arca_strndup(text, slen)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < slen; i++)
		u.scheme[i] = (char)tolower((unsigned char)u.scheme[i]);
	auth = text + slen + 3;

	/* rclone://REMOTE:PATH is rclone's syntax, not host:port; the
	 * rclone backend parses it (raw: duplicity does not decode it). */
	if (strcmp(u.scheme, "rclone") == 0) {
		rc = (u.path = arca_strdup(auth)) == NULL ? arca_error(ctx,
		    ARCA_ERR_NOMEM, "out of memory") : 0;
		goto out;
	}

	if (strcmp(u.scheme, "file") == 0) {
		if (*auth == '\0') {
			rc = arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: no path after file://", u.redacted);
			goto out;
		}
		rc = decode_field(ctx, &u, auth, strlen(auth), "path",
		    &u.path);
		goto out;
	}

	aend = auth + strcspn(auth, "/");
	for (at = NULL, hp = auth; hp < aend; hp++)
		if (*hp == '@')
			at = hp;
	hp = auth;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if ((rc = decode_field(ctx, &u, auth, (size_t)((colon ? colon :
		    at) - auth), "user name", &u.user)) != 0)
			goto out;
		if (colon != NULL && (rc = decode_field(ctx, &u, colon + 1,
		    (size_t)(at - colon - 1), "password", &u.password)) != 0)
			goto out;
		if (u.user[0] == '\0') {
			rc = arca_error(ctx, ARCA_ERR_USAGE,
			    "bad URL %s: empty user name before '@'",
			    u.redacted);
			goto out;
		}
		hp = at + 1;
	}
	if ((rc = parse_hostport(ctx, hp, (size_t)(aend - hp), &u)) != 0)
		goto out;
	rc = decode_field(ctx, &u, aend, strlen(aend), "path", &u.path);

out:
	if (rc != 0)
		arca_url_free(&u);
	else
		*out = u;
	return rc;
}

void
arca_url_free(struct arca_url *u)
{
	if (u == NULL)
		return;
	if (u->password != NULL) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	/* The text as given holds the password too. */
	if (u->text != NULL) {
		explicit_bzero(u->text, strlen(u->text));
		free(u->text);
	}
	free(u->scheme);
	free(u->user);
	free(u->host);
	free(u->path);
	free(u->redacted);
	memset(u, 0, sizeof(*u));
}
