/*
 * webdav.c: WebDAV targets, webdav://[user[:password]@]host[:port]/path
 * over HTTP and webdavs:// over HTTPS (RFC 4918), through http.c.
 *
 * The password comes from the URL or, as in duplicity, FTP_PASSWORD; the
 * server picks basic or digest authentication.  What servers in the wild
 * need from a client (nginx, Apache, rclone): collections are always named
 * with a trailing slash, missing parents are made with MKCOL before the
 * first upload (a PUT into a missing collection fails), and 201 and 204
 * mean the same.
 *
 * Uploads are streamed from the file to ".<name>.arca-tmp-<pid>" and
 * renamed with MOVE (Overwrite: T), so a name the listing reports is always
 * complete.  A server that refuses MOVE (405/501) gets the file PUT under
 * its final name instead, with a warning: there an interrupted upload can
 * leave a partial file, which the next run's manifest check catches.
 *
 * Listings are PROPFIND Depth 1, read as they arrive by the scanner of
 * webdav_xml.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/http.h"
#include "backend/webdav_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#define DAV_TMP_MARK	".arca-tmp-"

struct dav_state {
	struct arca_ctx *ctx;
	struct arca_http *http;
	char *base;		/* "https://host:port" */
	char *dir;		/* escaped collection path: "/", "/a/b/" */
	char *where;		/* the URL for messages (no password) */
	char *user;
	char *password;		/* wiped on close */
	int create;
	int ready;		/* the collection is known to exist */
	int no_move;		/* the server refused MOVE once */
};

/* The options of every HTTP backend (dpbx too), listed once: here. */
static const struct arca_backend_optdef dav_options[] = {
	ARCA_HTTP_OPTIONS,
	{ "timeout", 1, "seconds without progress before an HTTP transfer "
	  "is given up (default 30)" },
	{ NULL, 0, NULL }
};


static void
dav_close(void *vst)
{
	struct dav_state *st = vst;

	if (st == NULL)
		return;
	arca_http_free(st->http);
	free(st->base);
	free(st->dir);
	free(st->where);
	free(st->user);
	arca_wipe_free(st->password);
	free(st);
}

/*
 * The escaped collection path of the decoded path p: slashes folded, one
 * leading and one trailing.
 */
static int
dav_dir(const char *p, char **out)
{
	struct arca_buf b = { 0 }, seg = { 0 };
	const char *s, *e;
	int rc = 0;

	*out = NULL;
	if (arca_buf_putc(&b, '/') != 0)
		rc = ARCA_ERR_NOMEM;
	for (s = p; rc == 0 && *s != '\0'; s = e) {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = s + strcspn(s, "/");
		arca_buf_reset(&seg);
		if (arca_buf_append(&seg, s, (size_t)(e - s)) != 0 ||
		    arca_buf_putc(&seg, '\0') != 0 ||
		    arca_http_escape(&b, (const char *)seg.data, 0) != 0 ||
		    arca_buf_putc(&b, '/') != 0)
			rc = ARCA_ERR_NOMEM;
	}
	arca_buf_free(&seg);
	if (rc == 0 && (*out = arca_buf_steal(&b)) == NULL)
		rc = ARCA_ERR_NOMEM;
	arca_buf_free(&b);
	return rc;
}

static int
dav_open_scheme(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state, const char *http_scheme)
{
	struct dav_state *st;
	const char *pw;
	int rc = 0;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->create = create;
	if ((st->where = arca_strdup(url->redacted)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (url->host == NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "backup target %s has no "
		    "host: use %s://[user@]host[:port]/path", st->where,
		    url->scheme);
		goto out;
	}
	if (url->port != 0)
		rc = asprintf(&st->base, "%s://%s%s%s:%d", http_scheme,
		    strchr(url->host, ':') ? "[" : "", url->host,
		    strchr(url->host, ':') ? "]" : "", url->port);
	else
		rc = asprintf(&st->base, "%s://%s%s%s", http_scheme,
		    strchr(url->host, ':') ? "[" : "", url->host,
		    strchr(url->host, ':') ? "]" : "");
	if (rc < 0) {
		st->base = NULL;
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = dav_dir(url->path ? url->path : "", &st->dir)) != 0) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (url->user != NULL) {
		pw = url->password ? url->password : getenv("FTP_PASSWORD");
		if ((st->user = arca_strdup(url->user)) == NULL ||
		    (pw != NULL && (st->password = arca_strdup(pw)) ==
		    NULL)) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	rc = arca_http_new(ctx, url, &st->http);

out:
	if (rc != 0)
		dav_close(st);
	else
		*state = st;
	return rc;
}

static int
dav_open_http(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	return dav_open_scheme(ctx, url, create, state, "http");
}

static int
dav_open_https(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	return dav_open_scheme(ctx, url, create, state, "https");
}

/* The full URL of name (NULL: the collection) in the target. */
static char *
dav_url(struct dav_state *st, const char *name)
{
	struct arca_buf b = { 0 };

	if (arca_buf_puts(&b, st->base) != 0 || arca_buf_puts(&b, st->dir) !=
	    0 || (name != NULL && arca_http_escape(&b, name, 0) != 0)) {
		arca_buf_free(&b);
		arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return arca_buf_steal(&b);
}

static void
dav_req(struct dav_state *st, struct arca_http_req *r, const char *method,
    const char *url)
{
	arca_http_req_init(r);
	r->method = method;
	r->url = url;
	r->user = st->user;
	r->password = st->password;
}

/* The error for status, with the WebDAV-specific cases spelt out. */
static int
dav_status(struct dav_state *st, long status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
dav_status(struct dav_state *st, long status, const char *fmt, ...)
{
	char what[1024];
	const char *loc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	switch (status) {
	case 401:
		/* As a refused SSH login or S3 key: an auth error (exit
		 * 31), never retried. */
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s: the server "
		    "refused the login (401)%s", what, st->user == NULL ?
		    ": give user[:password]@ in the URL" : st->password ==
		    NULL ? ": give the password in the URL or FTP_PASSWORD" :
		    ": check the user name and password");
	case 403:
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: permission "
		    "denied by the server (403)", what);
	case 507:
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: no space "
		    "left on the server (507)", what);
	case 413:
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: the server "
		    "refuses a file this large (413); use a smaller --volsize "
		    "or raise the server's limit", what);
	case 301:
	case 302:
	case 307:
	case 308:
		/* Redirects are not followed: a PUT or MOVE must not land
		 * somewhere the user did not name. */
		loc = arca_http_header(st->http, "Location");
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: the server "
		    "redirects (%ld) to %.300s; give that address in the URL "
		    "(webdavs:// for https)", what, status, loc ? loc : "?");
	}
	return arca_http_status_error(st->http, status, what);
}

/* Run a bodiless request (MKCOL, DELETE, MOVE) on url. */
static int
dav_simple(struct dav_state *st, const char *method, const char *url,
    const char *const *headers, long *status)
{
	struct arca_http_req r;

	dav_req(st, &r, method, url);
	r.headers = headers;
	return arca_http_do(st->http, &r, status);
}

/*
 * MKCOL every collection on the way to st->dir, top down.  A collection
 * that exists answers 405 (nginx, Apache) or 301; one above the user's
 * own area may refuse (403, 409), which only matters for the last one.
 */
static int
dav_mkcols(struct dav_state *st)
{
	char *url = NULL, *p, c;
	long status;
	int rc = 0;

	if ((url = dav_url(st, NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	p = url + strlen(st->base) + 1;
	for (;;) {
		if ((p = strchr(p, '/')) == NULL)
			break;
		c = *++p;
		*p = '\0';
		rc = dav_simple(st, "MKCOL", url, NULL, &status);
		*p = c;
		if (rc != 0)
			goto out;
		if (status == 401) {
			rc = dav_status(st, status, "cannot create backup "
			    "target %s", st->where);
			goto out;
		}
		if (*p == '\0' && status != 201 && status != 405 &&
		    status != 301) {
			rc = dav_status(st, status, "cannot create backup "
			    "target %s", st->where);
			goto out;
		}
		if (status == 201)
			arca_debug(st->ctx, "webdav: made collection %.*s",
			    (int)(p - url), url);
	}
out:
	free(url);
	return rc;
}

/*
 * Make sure the collection exists before the first operation: a PROPFIND
 * Depth 0 answers 207 if it does.  Done lazily, so that a transient
 * failure here is retried by the core like any other.
 */
static int
dav_ready(struct dav_state *st)
{
	static const char *const hdrs[] = { "Depth: 0",
		"Content-Type: application/xml; charset=utf-8", NULL };
	static const char body[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/></D:prop>"
	    "</D:propfind>";
	struct arca_http_req r;
	char *url;
	long status;
	int rc;

	if (st->ready)
		return 0;
	if ((url = dav_url(st, NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	dav_req(st, &r, "PROPFIND", url);
	r.headers = hdrs;
	r.body = body;
	r.body_len = sizeof(body) - 1;
	if ((rc = arca_http_do(st->http, &r, &status)) != 0)
		goto out;
	if (status == 207 || status == 200) {
		st->ready = 1;
		goto out;
	}
	if (status == 404 || status == 409) {
		if (!st->create) {
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "backup "
			    "target %s does not exist", st->where);
			goto out;
		}
		if ((rc = dav_mkcols(st)) == 0)
			st->ready = 1;
		goto out;
	}
	if (status == 405 || status == 501)
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "%s does not "
		    "speak WebDAV: PROPFIND answered %ld", st->where, status);
	else
		rc = dav_status(st, status, "cannot open backup target %s",
		    st->where);
out:
	free(url);
	return rc;
}

/* Restore the error message around a clean-up that may fail. */
struct saved_err {
	char msg[sizeof(((struct arca_ctx *)0)->errmsg)];
	int err;
};

static void
save_err(struct arca_ctx *ctx, struct saved_err *s)
{
	memcpy(s->msg, ctx->errmsg, sizeof(s->msg));
	s->err = ctx->err;
}

static void
restore_err(struct arca_ctx *ctx, const struct saved_err *s)
{
	memcpy(ctx->errmsg, s->msg, sizeof(s->msg));
	ctx->err = s->err;
}

/* Delete an upload's temp file after a failure, keeping the message. */
static void
dav_drop(struct dav_state *st, const char *url)
{
	struct saved_err *s;
	long status;

	if ((s = malloc(sizeof(*s))) == NULL)
		return;
	save_err(st->ctx, s);
	(void)dav_simple(st, "DELETE", url, NULL, &status);
	restore_err(st->ctx, s);
	free(s);
}

/* PUT the whole of fd (size bytes) at url. */
static int
dav_put_fd(struct dav_state *st, int fd, uint64_t size, const char *url,
    const char *name)
{
	struct arca_http_req r;
	long status;
	int rc;

	dav_req(st, &r, "PUT", url);
	r.body_fd = fd;
	r.body_len = size;
	if ((rc = arca_http_do(st->http, &r, &status)) != 0)
		return rc;
	if (status == 201 || status == 204 || status == 200)
		return 0;
	return dav_status(st, status, "cannot upload %s to %s", name,
	    st->where);
}

static int
dav_put(void *vst, const char *local_path, const char *name)
{
	struct dav_state *st = vst;
	struct arca_buf dest = { 0 };
	const char *hdrs[3];
	char *tmp = NULL, *turl = NULL, *furl = NULL;
	struct stat sb;
	long status;
	int fd = -1, rc, e;

	if ((rc = dav_ready(st)) != 0)
		return rc;
	if ((fd = open(local_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    local_path, strerror(e));
		goto out;
	}
	if ((furl = dav_url(st, name)) == NULL) {
		rc = ARCA_ERR_NOMEM;
		goto out;
	}
	if (st->no_move) {
		rc = dav_put_fd(st, fd, (uint64_t)sb.st_size, furl, name);
		goto out;
	}
	if (asprintf(&tmp, ".%s" DAV_TMP_MARK "%ld", name, (long)getpid()) <
	    0) {
		tmp = NULL;
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((turl = dav_url(st, tmp)) == NULL) {
		rc = ARCA_ERR_NOMEM;
		goto out;
	}
	if ((rc = dav_put_fd(st, fd, (uint64_t)sb.st_size, turl, name)) !=
	    0) {
		dav_drop(st, turl);
		goto out;
	}
	if (arca_buf_puts(&dest, "Destination: ") != 0 ||
	    arca_buf_puts(&dest, furl) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	hdrs[0] = (const char *)dest.data;
	hdrs[1] = "Overwrite: T";
	hdrs[2] = NULL;
	if ((rc = dav_simple(st, "MOVE", turl, hdrs, &status)) != 0) {
		dav_drop(st, turl);
		goto out;
	}
	if (status == 201 || status == 204 || status == 200)
		goto out;
	if (status == 405 || status == 501) {
		arca_warn(st->ctx, "%s refuses MOVE (%ld): uploading in place "
		    "from now on, so an interrupted upload can leave a partial "
		    "file", st->where, status);
		st->no_move = 1;
		dav_drop(st, turl);
		rc = dav_put_fd(st, fd, (uint64_t)sb.st_size, furl, name);
		goto out;
	}
	rc = dav_status(st, status, "cannot rename the upload of %s in %s",
	    name, st->where);
	dav_drop(st, turl);

out:
	if (fd != -1)
		close(fd);
	arca_buf_free(&dest);
	free(tmp);
	free(turl);
	free(furl);
	return rc;
}

static int
dav_get(void *vst, const char *name, const char *local_path)
{
	struct dav_state *st = vst;
	struct arca_http_req r;
	char *url = NULL;
	long status;
	int fd = -1, rc, e;

	if ((rc = dav_ready(st)) != 0)
		return rc;
	if ((url = dav_url(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(e));
		goto out;
	}
	dav_req(st, &r, "GET", url);
	r.out_fd = fd;
	if ((rc = arca_http_do(st->http, &r, &status)) != 0)
		goto out;
	if (status == 404 || status == 410)
		rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not found in "
		    "backup target %s", name, st->where);
	else if (status != 200)
		rc = dav_status(st, status, "cannot download %s from %s", name,
		    st->where);
out:
	if (fd != -1 && close(fd) == -1 && rc == 0) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "writing %s: %s",
		    local_path, strerror(e));
	}
	free(url);
	return rc;
}

static int
dav_del(void *vst, const char *name)
{
	struct dav_state *st = vst;
	char *url;
	long status;
	int rc;

	if ((rc = dav_ready(st)) != 0)
		return rc;
	if ((url = dav_url(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((rc = dav_simple(st, "DELETE", url, NULL, &status)) == 0 &&
	    status != 200 && status != 204 && status != 404)
		rc = dav_status(st, status, "cannot delete %s from %s", name,
		    st->where);
	free(url);
	return rc;
}

static int
dav_sink(void *ud, const void *p, size_t n)
{
	return arca_dav_scan_feed(ud, p, n);
}

static int
dav_list(void *vst, struct arca_strlist *out)
{
	static const char *const hdrs[] = { "Depth: 1",
		"Content-Type: application/xml; charset=utf-8", NULL };
	static const char body[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/></D:prop>"
	    "</D:propfind>";
	struct dav_state *st = vst;
	struct arca_dav_scan *sc = NULL;
	struct arca_http_req r;
	char *url;
	long status;
	int rc;

	if ((rc = dav_ready(st)) != 0)
		return rc;
	if ((url = dav_url(st, NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((rc = arca_dav_scan_new(st->ctx, st->where, out, &sc)) != 0)
		goto out;
	dav_req(st, &r, "PROPFIND", url);
	r.headers = hdrs;
	r.body = body;
	r.body_len = sizeof(body) - 1;
	r.sink = dav_sink;
	r.sink_ud = sc;
	if ((rc = arca_http_do(st->http, &r, &status)) != 0)
		goto out;
	if (status == 404)
		rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "backup target %s "
		    "does not exist", st->where);
	else if (status != 207)
		rc = dav_status(st, status, "cannot list %s", st->where);
	else
		rc = arca_dav_scan_end(sc);
out:
	arca_dav_scan_free(sc);
	free(url);
	return rc;
}

const struct arca_backend_ops arca_backend_webdav = {
	.scheme = "webdav",
	.options = dav_options,
	.open = dav_open_http,
	.put = dav_put,
	.get = dav_get,
	.list = dav_list,
	.del = dav_del,
	.close = dav_close,
};

const struct arca_backend_ops arca_backend_webdavs = {
	.scheme = "webdavs",
	.open = dav_open_https,
	.put = dav_put,
	.get = dav_get,
	.list = dav_list,
	.del = dav_del,
	.close = dav_close,
};
