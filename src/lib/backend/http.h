/*
 * http.h: the small HTTP client the HTTP-based backends share (WebDAV,
 * Dropbox), on libcurl.  http.c is the only file that includes
 * <curl/curl.h>; it translates curl's errors into arca_err codes.
 *
 * One struct arca_http is one connection cache (a curl easy handle): the
 * requests of one backend reuse its connections.  It is not for use by two
 * threads at once.
 *
 * TLS is verified by default.  The backend options it reads (every HTTP
 * backend lists ARCA_HTTP_OPTIONS in its option table):
 *   --ssl-cacert-file FILE      trust only the CAs in FILE
 *   --ssl-cacert-path DIR       trust only the CAs in DIR (c_rehash form)
 *   --ssl-no-check-certificate  do not verify the server (a warning says so)
 */
#ifndef ARCA_BACKEND_HTTP_H
#define ARCA_BACKEND_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct arca_ctx;
struct arca_url;
struct arca_buf;

/* The TLS options, for a backend's option table. */
#define ARCA_HTTP_OPTIONS \
	{ "ssl-cacert-file", 1, "trust only the CA certificates in FILE" }, \
	{ "ssl-cacert-path", 1, "trust only the CA certificates in DIR" }, \
	{ "ssl-no-check-certificate", 0, "do not verify the server's TLS " \
	  "certificate" }

/* Largest response body kept in memory unless a request asks for more. */
#define ARCA_HTTP_BODY_MAX	(1u << 20)

struct arca_http;

struct arca_http_req {
	const char *method;		/* "GET", "PUT", "PROPFIND", ... */
	const char *url;		/* no user info in it, ever */
	const char *const *headers;	/* "Name: value", NULL-terminated */
	/* Request body: body_fd >= 0 sends body_len bytes of the file from
	 * body_off (streamed, never held in memory); else body/body_len
	 * (body NULL: no body). */
	int body_fd;
	uint64_t body_off;
	uint64_t body_len;
	const void *body;
	/* A 2xx response body goes to out_fd when >= 0, else to sink when
	 * set (a nonzero return aborts the transfer with that arca_err),
	 * else into memory (arca_http_body), up to max_body bytes (0:
	 * ARCA_HTTP_BODY_MAX); beyond that the request fails.  Bodies of
	 * other statuses always go to memory, cut at ARCA_HTTP_BODY_MAX. */
	int out_fd;
	int (*sink)(void *ud, const void *p, size_t n);
	void *sink_ud;
	size_t max_body;
	/* HTTP basic or digest authentication, or NULL. */
	const char *user;
	const char *password;
};

/* Set the defaults: no body, no headers, fds -1. */
void arca_http_req_init(struct arca_http_req *r);

/*
 * A new client for url (its TLS options are read here).  Returns 0,
 * ARCA_ERR_NOMEM, or ARCA_ERR_USAGE for an unreadable --ssl-cacert-file.
 * Free with arca_http_free.
 */
int arca_http_new(struct arca_ctx *ctx, const struct arca_url *url,
    struct arca_http **out);
void arca_http_free(struct arca_http *h);

/*
 * Perform a request.  Returns 0 once a response arrived, whatever its
 * status (*status gets it); ARCA_ERR_RETRY when the connection failed, was
 * reset or timed out; ARCA_ERR_BACKEND for a TLS failure (an untrusted
 * certificate is not worth retrying); ARCA_ERR_IO when the local file
 * could not be read or written; or the error a sink returned.  The message
 * names the server but never the credentials.
 */
int arca_http_do(struct arca_http *h, struct arca_http_req *r, long *status);

/* The last response's body (NUL-terminated), valid until the next request. */
const char *arca_http_body(const struct arca_http *h, size_t *len);
/* The last final response's header name (any case), or NULL; valid until
 * the next request. */
const char *arca_http_header(const struct arca_http *h, const char *name);

/*
 * The error for a non-2xx status: 5xx, 408 and 429 are ARCA_ERR_RETRY,
 * 404 and 410 ARCA_ERR_NOTFOUND, others ARCA_ERR_BACKEND.  The message is
 * "<what>: <server> answered <status> <reason>", with the first line of a
 * short text body when there is one.
 */
int arca_http_status_error(struct arca_http *h, long status,
    const char *what);

/* Append s percent-encoded (RFC 3986 unreserved kept; '/' kept when
 * keep_slash) to b.  Returns 0 or ARCA_ERR_NOMEM. */
int arca_http_escape(struct arca_buf *b, const char *s, int keep_slash);

/*
 * Seconds to wait from a Retry-After value (delta-seconds or an HTTP
 * date), clamped to [0, max]; dflt when v is NULL or unreadable.
 */
double arca_http_retry_after(const char *v, double dflt, double max);

#endif /* !ARCA_BACKEND_HTTP_H */
