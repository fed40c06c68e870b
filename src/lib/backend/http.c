/*
 * http.c: the HTTP client of the HTTP-based backends, on libcurl.
 *
 * Everything curl-specific stays here: the backends describe a request
 * (struct arca_http_req) and get a status, a body and headers back, and
 * curl's error codes become arca_err codes.  Request bodies are streamed
 * from the file with pread, response bodies to a file descriptor or a
 * sink, so a volume is never held in memory; what is kept in memory
 * (JSON, XML, error pages) is capped.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/http.h"
#include "util/buf.h"
#include "util/ctx.h"

/* Headers of one response beyond this are dropped (never needed). */
#define HTTP_HDRS_MAX		(64u * 1024)
/* duplicity's default --timeout */
#define HTTP_TIMEOUT_DEFAULT	30L

struct arca_http {
	struct arca_ctx *ctx;
	CURL *curl;
	char *cacert;
	char *capath;
	int insecure;
	long timeout;
	long authmask;		/* the server's choice, once known */
	struct arca_buf body;	/* the last response body (capped) */
	struct arca_buf hdrs;	/* the last response's header lines */
	struct arca_buf hval;	/* arca_http_header's answer */
	char server[256];	/* "https://host:port" of the request */
	char errbuf[CURL_ERROR_SIZE];
	/* the transfer in progress */
	struct arca_http_req *req;
	uint64_t rpos;
	int local_errno;
	int sink_rc;
	int overflow;
	int shrank;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;

static void
http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
arca_http_req_init(struct arca_http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->body_fd = -1;
	r->out_fd = -1;
}

int
arca_http_new(struct arca_ctx *ctx, const struct arca_url *url,
    struct arca_http **out)
{
	struct arca_http *h = NULL;
	const char *v;
	char *end;
	long t;
	int rc = 0;

	*out = NULL;
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK)
		return arca_error(ctx, ARCA_ERR_FATAL, "cannot initialise "
		    "libcurl: %s", curl_easy_strerror(http_global_rc));
	if ((h = arca_calloc(1, sizeof(*h))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	h->ctx = ctx;
	h->timeout = HTTP_TIMEOUT_DEFAULT;
	h->hdrs.max = HTTP_HDRS_MAX;
	if ((h->curl = curl_easy_init()) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((v = arca_url_option(url, "ssl-cacert-file")) != NULL) {
		if (v[0] == '\0' || access(v, R_OK) != 0) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "cannot read "
			    "--ssl-cacert-file '%s': %s", v, v[0] ? strerror(
			    errno) : "empty name");
			goto out;
		}
		if ((h->cacert = arca_strdup(v)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((v = arca_url_option(url, "ssl-cacert-path")) != NULL &&
	    (h->capath = arca_strdup(v)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((v = arca_url_option(url, "timeout")) != NULL) {
		errno = 0;
		t = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || t < 1 ||
		    t > 86400) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "bad --timeout "
			    "'%s': give seconds, 1 to 86400", v);
			goto out;
		}
		h->timeout = t;
	}
	if (arca_url_option(url, "ssl-no-check-certificate") != NULL) {
		h->insecure = 1;
		arca_warn(ctx, "--ssl-no-check-certificate: the server's TLS "
		    "certificate is not checked, anyone on the path can read "
		    "and change what is sent");
	}

out:
	if (rc != 0)
		arca_http_free(h);
	else
		*out = h;
	return rc;
}

void
arca_http_free(struct arca_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->cacert);
	free(h->capath);
	/* Bodies may hold tokens (an OAuth answer). */
	arca_buf_wipe(&h->body);
	arca_buf_wipe(&h->hdrs);
	arca_buf_wipe(&h->hval);
	free(h);
}

static int
is_2xx(struct arca_http *h)
{
	long code = 0;

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	return code >= 200 && code < 300;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct arca_http *h = ud;
	size_t len = size * n;

	/* A new response (100 Continue, a 401 before the digest retry):
	 * what came before belongs to another one. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		arca_buf_reset(&h->hdrs);
		arca_buf_reset(&h->body);
		h->overflow = 0;
	}
	if (h->hdrs.len + len <= HTTP_HDRS_MAX)
		(void)arca_buf_append(&h->hdrs, p, len);
	return len;
}

static size_t
on_write(char *p, size_t size, size_t n, void *ud)
{
	struct arca_http *h = ud;
	struct arca_http_req *r = h->req;
	size_t len = size * n, max = ARCA_HTTP_BODY_MAX, off;
	ssize_t w;
	int ok = is_2xx(h);

	if (ok && r->out_fd >= 0) {
		for (off = 0; off < len; off += (size_t)w) {
			if ((w = write(r->out_fd, p + off, len - off)) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				h->local_errno = errno;
				return 0;
			}
		}
		return len;
	}
	if (ok && r->sink != NULL) {
		if ((h->sink_rc = r->sink(r->sink_ud, p, len)) != 0)
			return 0;
		return len;
	}
	if (ok && r->max_body != 0)
		max = r->max_body;
	if (h->body.len + len > max) {
		if (ok) {
			h->overflow = 1;
			return 0;
		}
		/* An error page: its start is enough for a message. */
		if (h->body.len < max)
			(void)arca_buf_append(&h->body, p, max - h->body.len);
		return len;
	}
	if (arca_buf_append(&h->body, p, len) != 0) {
		h->local_errno = ENOMEM;
		return 0;
	}
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
	struct arca_http *h = ud;
	struct arca_http_req *r = h->req;
	uint64_t left = r->body_len - h->rpos;
	size_t want = size * n;
	ssize_t got;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (r->body_fd < 0) {
		memcpy(p, (const char *)r->body + h->rpos, want);
		h->rpos += want;
		return want;
	}
	do
		got = pread(r->body_fd, p, want, (off_t)(r->body_off +
		    h->rpos));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		/* A file that shrinks under us must not be sent short. */
		h->local_errno = got < 0 ? errno : EIO;
		h->shrank = got == 0;
		return CURL_READFUNC_ABORT;
	}
	h->rpos += (uint64_t)got;
	return (size_t)got;
}

static int
on_seek(void *ud, curl_off_t off, int origin)
{
	struct arca_http *h = ud;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > h->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	h->rpos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* "scheme://authority" of url, for messages. */
static void
set_server(struct arca_http *h, const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	n = p == NULL ? strlen(url) : (size_t)(p + 3 - url) +
	    strcspn(p + 3, "/?#");
	if (n >= sizeof(h->server))
		n = sizeof(h->server) - 1;
	memcpy(h->server, url, n);
	h->server[n] = '\0';
}

/* Drop the trailing newline curl puts on some messages. */
static const char *
curl_message(struct arca_http *h, CURLcode cc)
{
	size_t n = strlen(h->errbuf);

	while (n > 0 && (h->errbuf[n - 1] == '\n' || h->errbuf[n - 1] == '\r'))
		h->errbuf[--n] = '\0';
	return n ? h->errbuf : curl_easy_strerror(cc);
}

static int
transfer_error(struct arca_http *h, CURLcode cc)
{
	struct arca_http_req *r = h->req;

	switch (cc) {
	case CURLE_WRITE_ERROR:
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		if (h->sink_rc != 0)
			return h->sink_rc;
		if (h->overflow)
			return arca_error(h->ctx, ARCA_ERR_CORRUPT, "the "
			    "answer of %s to %s is larger than %zu bytes",
			    h->server, r->method, r->max_body ? r->max_body :
			    (size_t)ARCA_HTTP_BODY_MAX);
		if (h->shrank)
			return arca_error(h->ctx, ARCA_ERR_IO, "the file being "
			    "sent to %s got shorter while it was sent",
			    h->server);
		if (h->local_errno == ENOMEM)
			return arca_error(h->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
		if (h->local_errno != 0)
			return arca_error(h->ctx, ARCA_ERR_IO, "%s local "
			    "file for %s: %s", cc == CURLE_WRITE_ERROR ?
			    "writing the" : "reading the", h->server,
			    strerror(h->local_errno));
		break;
	case CURLE_OUT_OF_MEMORY:
		return arca_error(h->ctx, ARCA_ERR_NOMEM, "out of memory");
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return arca_error(h->ctx, ARCA_ERR_USAGE, "cannot reach %s: %s",
		    h->server, curl_message(h, cc));
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
		return arca_error(h->ctx, ARCA_ERR_BACKEND, "TLS connection to "
		    "%s failed: %s (a server with a private CA needs "
		    "--ssl-cacert-file)", h->server, curl_message(h, cc));
	case CURLE_OPERATION_TIMEDOUT:
		return arca_error(h->ctx, ARCA_ERR_RETRY, "%s %s: timed out: "
		    "nothing came for %ld s (--timeout)", r->method, h->server,
		    h->timeout);
	default:
		break;
	}
	/* Refused, reset, timed out, cut short: the next try may work. */
	return arca_error(h->ctx, ARCA_ERR_RETRY, "%s %s: %s", r->method,
	    h->server, curl_message(h, cc));
}

#define SETOPT(h, opt, val) do {					\
	if (curl_easy_setopt((h)->curl, (opt), (val)) != CURLE_OK) {	\
		rc = arca_error((h)->ctx, ARCA_ERR_FATAL,		\
		    "libcurl refused option " #opt);			\
		goto out;						\
	}								\
} while (0)

int
arca_http_do(struct arca_http *h, struct arca_http_req *r, long *status)
{
	struct curl_slist *hl = NULL, *t;
	const char *const *hp;
	CURLcode cc;
	long auth;
	int rc = 0;

	*status = 0;
	h->req = r;
	h->rpos = 0;
	h->local_errno = h->sink_rc = h->overflow = h->shrank = 0;
	h->errbuf[0] = '\0';
	/* The last body may have held a token. */
	if (h->body.data != NULL)
		explicit_bzero(h->body.data, h->body.len);
	arca_buf_reset(&h->body);
	arca_buf_reset(&h->hdrs);
	set_server(h, r->url);
	if (r->body_fd < 0 && r->body == NULL)
		r->body_len = 0;

	/*
	 * No curl_easy_reset: it would forget a digest nonce, and every
	 * request would go twice.  What the last request set is undone
	 * instead; POSTFIELDS makes a POST of anything, so the method is
	 * set back to GET after it.
	 */
	SETOPT(h, CURLOPT_POSTFIELDS, (char *)NULL);
	SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	SETOPT(h, CURLOPT_READFUNCTION, (curl_read_callback)NULL);
	SETOPT(h, CURLOPT_SEEKFUNCTION, (curl_seek_callback)NULL);
	SETOPT(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	SETOPT(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	SETOPT(h, CURLOPT_UPLOAD, 0L);
	SETOPT(h, CURLOPT_POST, 0L);
	SETOPT(h, CURLOPT_HTTPGET, 1L);
	SETOPT(h, CURLOPT_USERNAME, (char *)NULL);
	SETOPT(h, CURLOPT_PASSWORD, (char *)NULL);
	SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	SETOPT(h, CURLOPT_URL, r->url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_ERRORBUFFER, h->errbuf);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, h->timeout);
	/* No byte for timeout seconds: the server is gone. */
	SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(h, CURLOPT_LOW_SPEED_TIME, h->timeout);
	SETOPT(h, CURLOPT_USERAGENT, "arca/" ARCA_VERSION);
	SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(h, CURLOPT_HEADERDATA, h);
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(h, CURLOPT_WRITEDATA, h);
	if (h->cacert != NULL) {
		SETOPT(h, CURLOPT_CAINFO, h->cacert);
		/* Only the CA given, not the system's as well. */
		if (h->capath == NULL)
			SETOPT(h, CURLOPT_CAPATH, (char *)NULL);
	}
	if (h->capath != NULL) {
		SETOPT(h, CURLOPT_CAPATH, h->capath);
		if (h->cacert == NULL)
			SETOPT(h, CURLOPT_CAINFO, (char *)NULL);
	}
	if (h->insecure) {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (r->user != NULL) {
		SETOPT(h, CURLOPT_USERNAME, r->user);
		SETOPT(h, CURLOPT_PASSWORD, r->password ? r->password : "");
		/* Once the server said which it wants, send only that, so
		 * curl need not ask first on every request. */
		SETOPT(h, CURLOPT_HTTPAUTH, h->authmask ? h->authmask :
		    (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
	}
	for (hp = r->headers; hp != NULL && *hp != NULL; hp++) {
		if ((t = curl_slist_append(hl, *hp)) == NULL) {
			rc = arca_error(h->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			goto out;
		}
		hl = t;
	}
	if (hl != NULL)
		SETOPT(h, CURLOPT_HTTPHEADER, hl);
	if (r->body_fd >= 0 || r->body != NULL ||
	    strcmp(r->method, "PUT") == 0) {
		SETOPT(h, CURLOPT_READFUNCTION, on_read);
		SETOPT(h, CURLOPT_READDATA, h);
		SETOPT(h, CURLOPT_SEEKFUNCTION, on_seek);
		SETOPT(h, CURLOPT_SEEKDATA, h);
		if (strcmp(r->method, "POST") == 0) {
			SETOPT(h, CURLOPT_POST, 1L);
			SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)r->body_len);
		} else {
			SETOPT(h, CURLOPT_UPLOAD, 1L);
			SETOPT(h, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)r->body_len);
		}
	} else if (strcmp(r->method, "POST") == 0) {
		SETOPT(h, CURLOPT_POSTFIELDS, "");
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0 &&
	    strcmp(r->method, "PUT") != 0)
		SETOPT(h, CURLOPT_CUSTOMREQUEST, r->method);

	cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		rc = transfer_error(h, cc);
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	if (r->user != NULL && h->authmask == 0 &&
	    curl_easy_getinfo(h->curl, CURLINFO_HTTPAUTH_AVAIL, &auth) ==
	    CURLE_OK && *status != 401) {
		if (auth & CURLAUTH_DIGEST)
			h->authmask = CURLAUTH_DIGEST;
		else if (auth & CURLAUTH_BASIC)
			h->authmask = CURLAUTH_BASIC;
	}

out:
	/* curl keeps no copy of the list: let it forget the pointer. */
	(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER,
	    (struct curl_slist *)NULL);
	/* The headers may carry a token. */
	for (t = hl; t != NULL; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hl);
	h->req = NULL;
	return rc;
}

const char *
arca_http_body(const struct arca_http *h, size_t *len)
{
	if (len != NULL)
		*len = h->body.len;
	return h->body.data ? (const char *)h->body.data : "";
}

const char *
arca_http_header(const struct arca_http *h, const char *name)
{
	const char *p = (const char *)h->hdrs.data, *end, *eol, *v;
	struct arca_http *wh = (struct arca_http *)h;
	size_t n = strlen(name);

	if (p == NULL)
		return NULL;
	end = p + h->hdrs.len;
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) <= n || p[n] != ':' ||
		    strncasecmp(p, name, n) != 0)
			continue;
		for (v = p + n + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		n = (size_t)(eol - v);
		while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' ' ||
		    v[n - 1] == '\t'))
			n--;
		arca_buf_reset(&wh->hval);
		if (arca_buf_append(&wh->hval, v, n) != 0 ||
		    arca_buf_putc(&wh->hval, '\0') != 0)
			return NULL;
		return (const char *)wh->hval.data;
	}
	return NULL;
}

static const char *
reason(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	}
	return "";
}

/*
 * The first line of a plain-text body, printable ASCII only and at most
 * 200 bytes; "" for HTML and binary bodies (an error page says nothing
 * the status does not).
 */
static void
body_line(struct arca_http *h, char *out, size_t outsz)
{
	const char *ct = arca_http_header(h, "Content-Type");
	const char *b = arca_http_body(h, NULL);
	size_t i, j;

	out[0] = '\0';
	if (ct == NULL || (strncasecmp(ct, "text/plain", 10) != 0 &&
	    strncasecmp(ct, "application/json", 16) != 0))
		return;
	while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
		b++;
	for (i = j = 0; b[i] != '\0' && b[i] != '\n' && j + 1 < outsz &&
	    i < 200; i++)
		out[j++] = isprint((unsigned char)b[i]) ? b[i] : '?';
	out[j] = '\0';
}

int
arca_http_status_error(struct arca_http *h, long status, const char *what)
{
	char line[256];
	int code;

	if (status >= 500 || status == 408 || status == 429)
		code = ARCA_ERR_RETRY;
	else if (status == 404 || status == 410)
		code = ARCA_ERR_NOTFOUND;
	else
		code = ARCA_ERR_BACKEND;
	body_line(h, line, sizeof(line));
	return arca_error(h->ctx, code, "%s: %s answered %ld%s%s%s%s", what,
	    h->server, status, reason(status)[0] ? " " : "", reason(status),
	    line[0] ? ": " : "", line);
}

int
arca_http_escape(struct arca_buf *b, const char *s, int keep_slash)
{
	static const char x[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)s; *p != '\0' && rc == 0; p++) {
		if (isascii(*p) && (isalnum(*p) || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~' || (keep_slash && *p == '/')))
			rc = arca_buf_putc(b, *p);
		else if ((rc = arca_buf_putc(b, '%')) == 0 &&
		    (rc = arca_buf_putc(b, x[*p >> 4])) == 0)
			rc = arca_buf_putc(b, x[*p & 15]);
	}
	return rc != 0 ? ARCA_ERR_NOMEM : 0;
}

double
arca_http_retry_after(const char *v, double dflt, double max)
{
	char *end;
	double d;
	time_t t;

	d = dflt;
	if (v != NULL && isdigit((unsigned char)*v)) {
		d = strtod(v, &end);
		if (*end != '\0')
			d = dflt;
	} else if (v != NULL && *v != '\0' &&
	    (t = curl_getdate(v, NULL)) != -1)
		d = difftime(t, time(NULL));
	if (!(d >= 0))
		d = 0;
	return d > max ? max : d;
}
