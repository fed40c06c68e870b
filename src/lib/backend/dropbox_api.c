/*
 * dropbox_api.c: calls to Dropbox's API v2 for the Dropbox backend
 * (dropbox.c): the three styles of endpoint, access tokens and their
 * renewal, 429s waited out, error answers turned into messages, and
 * content_hash.  JSON through util/json.c.
 *
 * RPC endpoints (api host) take a JSON body; upload and download endpoints
 * (content host) take their argument as JSON in the Dropbox-API-Arg
 * header, non-ASCII escaped as \uXXXX.  With a refresh token a new access
 * token is fetched from /oauth2/token when there is none and, once per
 * call, when Dropbox answers expired_access_token (or invalid_access_token:
 * a stale DPBX_ACCESS_TOKEN next to a refresh token).
 *
 * 429 answers are waited out here (Retry-After, or the retry_after of the
 * JSON error), because the wait is the server's to choose; other transient
 * failures go back to the core's retry loop.  409 answers carry an error
 * union ({".tag": ...}) and an error_summary, which become the message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/dropbox_internal.h"
#include "backend/http.h"
#include "crypto/digest.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/json.h"

#define DPBX_BLOCK		(4u << 20)	/* content_hash block */
#define DPBX_RATE_TRIES		8	/* 429s waited out per call */
#define DPBX_RATE_WAIT_MAX	300.0


void
arca_dpbx_call_init(struct arca_dpbx_call *c, enum arca_dpbx_style style,
    const char *route, struct arca_json *arg, const char *what)
{
	memset(c, 0, sizeof(*c));
	c->style = style;
	c->route = route;
	c->arg = arg;
	c->body_fd = -1;
	c->out_fd = -1;
	c->what = what;
}

void
arca_dpbx_call_free(struct arca_dpbx_call *c)
{
	arca_json_free(c->result);
	arca_json_free(c->error);
	c->result = c->error = NULL;
}

/* ---- content_hash ---------------------------------------------------- */

int
arca_dpbx_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = (unsigned char)hex[2 * i];
		lo = (unsigned char)hex[2 * i + 1];
		hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
arca_dpbx_content_hash(struct arca_ctx *ctx, int fd, const char *path,
    char *hex)
{
	struct arca_digest *all = NULL, *blk = NULL;
	unsigned char *buf = NULL, bin[32];
	char bhex[DPBX_HASH_HEX];
	uint64_t off = 0, inblk = 0;
	ssize_t n;
	int rc = 0, e;

	if ((buf = malloc(1u << 16)) == NULL ||
	    (all = arca_digest_new(ARCA_DIGEST_SHA256)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		size_t want = 1u << 16;

		if (want > DPBX_BLOCK - inblk)
			want = (size_t)(DPBX_BLOCK - inblk);
		n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			rc = arca_error(ctx, ARCA_ERR_IO, "reading %s: %s",
			    path, strerror(e));
			goto out;
		}
		if (n > 0 && blk == NULL &&
		    (blk = arca_digest_new(ARCA_DIGEST_SHA256)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (n > 0) {
			arca_digest_update(blk, buf, (size_t)n);
			off += (uint64_t)n;
			inblk += (uint64_t)n;
		}
		if (blk != NULL && (n == 0 || inblk == DPBX_BLOCK)) {
			arca_digest_hex(blk, bhex);
			arca_digest_free(blk);
			blk = NULL;
			inblk = 0;
			if (arca_dpbx_unhex(bhex, bin, sizeof(bin)) != 0) {
				rc = arca_error(ctx, ARCA_ERR_FATAL,
				    "bad digest");
				goto out;
			}
			arca_digest_update(all, bin, sizeof(bin));
		}
		if (n == 0)
			break;
	}
	arca_digest_hex(all, hex);
out:
	arca_digest_free(blk);
	arca_digest_free(all);
	free(buf);
	return rc;
}

/* ---- errors ---------------------------------------------------------- */

/* error_summary without the padding Dropbox appends ("path/not_found/.."). */
static void
trim_summary(const char *s, char *out, size_t n)
{
	size_t len = strlen(s), i;

	while (len > 0 && (s[len - 1] == '.' || s[len - 1] == '/' ||
	    s[len - 1] == ','))
		len--;
	if (len >= n)
		len = n - 1;
	for (i = 0; i < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[len] = '\0';
}

/* What a tag of an error union means, for the tags a backup meets. */
static const char *
tag_meaning(const char *summary)
{
	static const struct { const char *tag, *text; } t[] = {
		{ "not_found", "no such file or folder" },
		{ "malformed_path", "Dropbox cannot use this path" },
		{ "not_file", "it is a folder, not a file" },
		{ "not_folder", "it is a file, not a folder" },
		{ "restricted_content", "Dropbox does not allow this content "
		  "here" },
		{ "insufficient_space", "the Dropbox account is full" },
		{ "no_write_permission", "no permission to write there" },
		{ "disallowed_name", "Dropbox does not allow this name" },
		{ "conflict", "a file or folder of that name is in the way" },
		{ "too_many_write_operations", "too many writes at once in "
		  "this account" },
		{ "incorrect_offset", "the upload session is at another "
		  "offset" },
		{ "content_hash_mismatch", "the data Dropbox received does not "
		  "match its hash" },
		{ "payload_too_large", "a part of the upload is too large" },
		{ "team_folder", "it is a team folder" },
		{ "locked", "the file is locked" },
		{ "unsupported_file", "Dropbox cannot serve this file" },
		{ "closed", "the upload session was closed" },
		{ "too_large", "the file is too large for Dropbox" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strstr(summary, t[i].tag) != NULL)
			return t[i].text;
	return NULL;
}

/* The .tag of union u, or "". */
const char *
arca_dpbx_tag(const struct arca_json *u)
{
	const char *s = arca_json_get_str(u, ".tag");

	return s ? s : "";
}

/*
 * The leaf tag of error union e: follow {".tag": "x", "x": {".tag": ...}}
 * down to the last.
 */
const char *
arca_dpbx_leaf_tag(const struct arca_json *e)
{
	const char *tag = arca_dpbx_tag(e);
	struct arca_json *next;
	int depth;

	for (depth = 0; depth < 8; depth++) {
		next = arca_json_get(e, tag);
		if (!arca_json_is_object(next) ||
		    arca_dpbx_tag(next)[0] == '\0')
			break;
		e = next;
		tag = arca_dpbx_tag(e);
	}
	return tag;
}

/* Printable, short copy of a text body for a message. */
static void
text_line(const char *b, size_t len, char *out, size_t n)
{
	size_t i, j;

	for (j = i = 0; i < len && b[i] != '\0' && b[i] != '\n' && j + 1 < n &&
	    i < 300; i++)
		out[j++] = b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '?';
	out[j] = '\0';
}

struct arca_json *
arca_dpbx_parse_json(const char *s, size_t n)
{
	struct arca_json *j;

	/* No context: each caller says what was malformed in its words. */
	return arca_json_parse(NULL, s, n, n, &j) == 0 ? j : NULL;
}

void
arca_dpbx_error_text(const char *body, size_t len, char *out, size_t n)
{
	char summary[256];
	const char *v, *meaning;
	struct arca_json *j;

	j = arca_dpbx_parse_json(body, len);
	v = arca_json_get_str(j, "error_summary");
	trim_summary(v ? v : arca_dpbx_leaf_tag(arca_json_get(j, "error")),
	    summary, sizeof(summary));
	arca_json_free(j);
	if (summary[0] == '\0')
		text_line(body, len, summary, sizeof(summary));
	meaning = tag_meaning(summary);
	snprintf(out, n, "%s%s%s", summary, meaning ? ": " : "",
	    meaning ? meaning : "");
}

/* ---- requests -------------------------------------------------------- */

int
arca_dpbx_set_str(char **dst, const char *src)
{
	char *n = src ? arca_strdup(src) : NULL;

	if (src != NULL && n == NULL)
		return ARCA_ERR_NOMEM;
	arca_wipe_free(*dst);
	*dst = n;
	return 0;
}

int
arca_dpbx_form_add(struct arca_buf *b, const char *name,
    const char *value)
{
	if (b->len > 0 && arca_buf_putc(b, '&') != 0)
		return ARCA_ERR_NOMEM;
	if (arca_buf_puts(b, name) != 0 || arca_buf_putc(b, '=') != 0)
		return ARCA_ERR_NOMEM;
	return arca_http_escape(b, value, 0);
}

int
arca_dpbx_oauth_post(struct arca_ctx *ctx, struct arca_http *http,
    const char *api, struct arca_buf *form, const char *what,
    struct arca_json **out)
{
	static const char *const hdrs[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL };
	struct arca_http_req r;
	char *url = NULL, line[320];
	const char *body, *err, *desc;
	struct arca_json *j = NULL;
	size_t len;
	long status;
	int rc;

	*out = NULL;
	if (asprintf(&url, "%s/oauth2/token", api) < 0)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	arca_http_req_init(&r);
	r.method = "POST";
	r.url = url;
	r.headers = hdrs;
	r.body = form->data;
	r.body_len = form->len;
	if ((rc = arca_http_do(http, &r, &status)) != 0)
		goto out;
	body = arca_http_body(http, &len);
	j = arca_dpbx_parse_json(body, len);
	if (status == 200) {
		if (!arca_json_is_object(j)) {
			rc = arca_error(ctx, ARCA_ERR_RETRY, "%s: Dropbox "
			    "answered with malformed JSON", what);
			goto out;
		}
		*out = j;
		j = NULL;
		goto out;
	}
	if (status >= 500 || status == 429) {
		rc = arca_http_status_error(http, status, what);
		goto out;
	}
	err = arca_json_get_str(j, "error");
	desc = arca_json_get_str(j, "error_description");
	if (err == NULL)
		text_line(body, len, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "%s%s%s", err, desc ? ": " : "",
		    desc ? desc : "");
	rc = arca_error(ctx, ARCA_ERR_BACKEND, "%s: Dropbox refused (%ld): "
	    "%s", what, status, line);
out:
	arca_json_free(j);
	free(url);
	return rc;
}

/* A new access token from the refresh token. */
static int
dpbx_refresh(struct arca_dpbx *st)
{
	struct arca_buf form = { 0 };
	const char *tok;
	struct arca_json *j = NULL;
	int rc;

	arca_info(st->ctx, "dpbx: getting a new access token");
	if (arca_dpbx_form_add(&form, "grant_type", "refresh_token") != 0 ||
	    arca_dpbx_form_add(&form, "refresh_token", st->refresh) != 0 ||
	    arca_dpbx_form_add(&form, "client_id", st->app_key) != 0 ||
	    (st->app_secret != NULL && arca_dpbx_form_add(&form,
	    "client_secret", st->app_secret) != 0)) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = arca_dpbx_oauth_post(st->ctx, st->http, st->api, &form,
	    "refreshing the Dropbox access token", &j)) != 0) {
		if (rc == ARCA_ERR_BACKEND) {
			char msg[sizeof(st->ctx->errmsg)];

			snprintf(msg, sizeof(msg), "%s", st->ctx->errmsg);
			/* The token endpoint's 4xx answer (not a TLS or
			 * connection failure): the credentials are refused. */
			if (strstr(msg, ": Dropbox refused (") != NULL)
				rc = ARCA_ERR_AUTH;
			rc = arca_error(st->ctx, rc, "%.1800s; check "
			    "DPBX_APP_KEY and DPBX_REFRESH_TOKEN (arca "
			    "dropbox-auth makes a new one)", msg);
		}
		goto out;
	}
	if ((tok = arca_json_get_str(j, "access_token")) ==
	    NULL || tok[0] == '\0') {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "refreshing the "
		    "Dropbox access token: no access_token in the answer");
		goto out;
	}
	if (arca_dpbx_set_str(&st->access, tok) != 0)
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	/* The answer holds the token: clear our copy of it. */
	arca_json_wipe_str(j, "access_token");
	arca_json_free(j);
	arca_buf_wipe(&form);
	return rc;
}

/* The message for an error answer other than 409, 429 and 5xx. */
static int
dpbx_http_error(struct arca_dpbx *st, struct arca_dpbx_call *c, long status)
{
	const char *body = arca_http_body(st->http, NULL), *tag;
	char line[320];
	struct arca_json *j;

	if (status == 401) {
		j = arca_dpbx_parse_json(body, strlen(body));
		tag = arca_dpbx_tag(arca_json_get(j, "error"));
		if (tag[0] == '\0')
			tag = "unauthorized";
		snprintf(line, sizeof(line), "%s", tag);
		arca_json_free(j);
		if (strcmp(line, "expired_access_token") == 0 &&
		    st->refresh != NULL)
			return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: "
			    "Dropbox says the access token it just gave has "
			    "expired (is the clock right?)", c->what);
		/* Refused credentials are an auth error (exit 31, as
		 * for SSH, WebDAV and S3), never retried. */
		if (strcmp(line, "expired_access_token") == 0)
			return arca_error(st->ctx, ARCA_ERR_AUTH, "%s: the "
			    "Dropbox access token has expired (access tokens "
			    "last 4 hours): set DPBX_APP_KEY and "
			    "DPBX_REFRESH_TOKEN (see arca dropbox-auth) so "
			    "arca can renew it", c->what);
		if (strcmp(line, "missing_scope") == 0)
			return arca_error(st->ctx, ARCA_ERR_AUTH, "%s: the "
			    "Dropbox app lacks a permission (missing_scope): "
			    "give it files.content.read, files.content.write "
			    "and files.metadata.read, then authorize again",
			    c->what);
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s: Dropbox "
		    "refused the credentials (%s)", c->what, line);
	}
	if (status == 403)
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: Dropbox "
		    "denied access (403)", c->what);
	if (status == 400) {
		text_line(body, strlen(body), line, sizeof(line));
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: Dropbox "
		    "refused the request (400): %s", c->what, line);
	}
	return arca_http_status_error(st->http, status, c->what);
}

/* Retries here: one renewal of the token, and 429s as the server asks. */
int
arca_dpbx_call(struct arca_dpbx *st, struct arca_dpbx_call *c)
{
	struct arca_http_req r;
	struct arca_buf auth = { 0 }, arghdr = { 0 };
	const char *hdrs[5], *body, *v;
	char *argjson = NULL, *url = NULL, line[320];
	struct arca_json *j = NULL;
	int refreshed = 0, rate = 0, rc = 0, nh;
	double wait;
	size_t len;
	long status;

	arca_dpbx_call_free(c);
	if (st->access == NULL && (rc = dpbx_refresh(st)) != 0)
		return rc;
	if (c->arg != NULL && (argjson = arca_json_dump_ascii(c->arg)) ==
	    NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "%s: cannot encode "
		    "the request (names must be UTF-8)", c->what);
		goto out;
	}
	if (asprintf(&url, "%s/2/%s", c->style == ARCA_DPBX_RPC ? st->api :
	    st->content, c->route) < 0) {
		url = NULL;
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (c->style != ARCA_DPBX_RPC && (arca_buf_puts(&arghdr,
	    "Dropbox-API-Arg: ") != 0 || arca_buf_puts(&arghdr, argjson ?
	    argjson : "null") != 0)) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		arca_buf_wipe(&auth);
		if (arca_buf_puts(&auth, "Authorization: Bearer ") != 0 ||
		    arca_buf_puts(&auth, st->access) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			goto out;
		}
		nh = 0;
		hdrs[nh++] = (const char *)auth.data;
		arca_http_req_init(&r);
		r.method = "POST";
		r.url = url;
		r.max_body = c->max_body;
		if (c->style == ARCA_DPBX_RPC) {
			hdrs[nh++] = "Content-Type: application/json";
			r.body = argjson ? argjson : "null";
			r.body_len = strlen(r.body);
		} else {
			hdrs[nh++] = (const char *)arghdr.data;
		}
		if (c->style == ARCA_DPBX_UPLOAD) {
			hdrs[nh++] = "Content-Type: application/octet-stream";
			r.body_fd = c->body_fd;
			r.body_off = c->body_off;
			r.body_len = c->body_len;
			/* An empty body must still be sent as one. */
			if (c->body_len == 0) {
				r.body_fd = -1;
				r.body = "";
			}
		}
		if (c->style == ARCA_DPBX_DOWNLOAD) {
			/* No body, and none of curl's form Content-Type,
			 * which Dropbox refuses on downloads. */
			hdrs[nh++] = "Content-Type:";
			if (c->out_fd >= 0 && (ftruncate(c->out_fd, 0) != 0 ||
			    lseek(c->out_fd, 0, SEEK_SET) != 0)) {
				rc = arca_error(st->ctx, ARCA_ERR_IO, "%s: "
				    "cannot reset the local file: %s", c->what,
				    strerror(errno));
				goto out;
			}
			r.out_fd = c->out_fd;
		}
		hdrs[nh] = NULL;
		r.headers = hdrs;
		if ((rc = arca_http_do(st->http, &r, &status)) != 0) {
			arca_error_prefix(st->ctx, "%s", c->what);
			goto out;
		}
		body = arca_http_body(st->http, &len);
		if (status == 200) {
			if (c->style == ARCA_DPBX_DOWNLOAD) {
				v = arca_http_header(st->http,
				    "Dropbox-API-Result");
				j = v ? arca_dpbx_parse_json(v, strlen(v)) :
				    NULL;
			} else
				j = arca_dpbx_parse_json(body, len);
			if (j == NULL) {
				rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: "
				    "Dropbox answered with malformed JSON",
				    c->what);
				goto out;
			}
			c->result = j;
			j = NULL;
			goto out;
		}
		/* An invalid token too: DPBX_ACCESS_TOKEN may be an old
		 * one left next to a good refresh token. */
		if (status == 401 && !refreshed && st->refresh != NULL) {
			j = arca_dpbx_parse_json(body, len);
			v = arca_dpbx_tag(arca_json_get(j, "error"));
			if (strcmp(v, "expired_access_token") == 0 ||
			    strcmp(v, "invalid_access_token") == 0) {
				arca_json_free(j);
				j = NULL;
				refreshed = 1;
				if ((rc = dpbx_refresh(st)) != 0)
					goto out;
				continue;
			}
			arca_json_free(j);
			j = NULL;
		}
		if (status == 429) {
			j = arca_dpbx_parse_json(body, len);
			wait = 0;
			(void)arca_json_get_number(arca_json_get(j, "error"),
			    "retry_after", &wait);
			v = arca_http_header(st->http, "Retry-After");
			wait = arca_http_retry_after(v, wait,
			    DPBX_RATE_WAIT_MAX);
			arca_json_free(j);
			j = NULL;
			if (!(wait > 0))
				wait = 1 << (rate < 6 ? rate : 6);
			if (++rate > DPBX_RATE_TRIES) {
				rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: "
				    "Dropbox still asks to slow down (429) "
				    "after %d waits", c->what, DPBX_RATE_TRIES);
				goto out;
			}
			arca_info(st->ctx, "dpbx: %s: Dropbox asks to slow "
			    "down (429): waiting %g s", c->what, wait);
			arca_backend_sleep(wait);
			continue;
		}
		if (status == 409) {
			j = arca_dpbx_parse_json(body, len);
			c->error = arca_json_ref(arca_json_get(j, "error"));
			arca_json_free(j);
			j = NULL;
			arca_dpbx_error_text(body, len, line, sizeof(line));
			rc = arca_error(st->ctx, strstr(line,
			    "too_many_write_operations") ? ARCA_ERR_RETRY :
			    ARCA_ERR_BACKEND, "%s: Dropbox refused it (%s)",
			    c->what, line);
			goto out;
		}
		rc = dpbx_http_error(st, c, status);
		goto out;
	}
out:
	arca_json_free(j);
	arca_buf_wipe(&auth);
	arca_buf_free(&arghdr);
	free(argjson);
	free(url);
	return rc;
}

char *
arca_dpbx_base_url(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	size_t n;

	if (v == NULL || v[0] == '\0')
		v = dflt;
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	return arca_strndup(v, n);
}
