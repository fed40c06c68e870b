/*
 * s3_http.c: S3 requests over libcurl, one at a time or several in
 * parallel on one thread, and S3's answers turned into arca errors.
 *
 * Every request is signed here (s3_sign.c) with the real SHA-256 of its
 * body; curl never changes the path (CURLOPT_PATH_AS_IS) or adds a header
 * that is signed, so what is signed is what is sent.  Bodies stream from
 * the file (pread) and downloads stream to it; only listings and error
 * documents are kept in memory, capped.
 *
 * Why not through http.c, the client WebDAV and Dropbox share: a
 * multipart upload sends its parts in parallel, which takes curl's multi
 * interface (several transfers on this one thread, so one arca_ctx and no
 * locks), and SigV4 wants every request built and signed from parts that
 * http.c takes ready-made.  This file is the S3 module's only contact
 * with libcurl.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/s3_internal.h"
#include "crypto/digest.h"
#include "util/buf.h"
#include "util/ctx.h"

#define S3_EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_MAX_PARALLEL		64

/* One request in flight. */
struct xfer {
	struct arca_s3 *st;
	const struct arca_s3_request *rq;
	struct arca_s3_response *rs;
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	uint64_t sent;		/* body bytes handed to curl */
	struct arca_digest *md5;
	int status_known;
	int to_fd;		/* 2xx answer: the body goes to out_fd */
	int werr;		/* errno of a failed local write or read */
	int rerr;
	int too_big;		/* an in-memory answer passed the cap */
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_setup(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    0 : -1;
}

int
arca_s3_http_open(struct arca_s3 *st)
{
	pthread_once(&curl_once, curl_setup);
	if (curl_init_rc != 0)
		return arca_error(st->ctx, ARCA_ERR_BACKEND,
		    "cannot initialise libcurl");
	if ((st->curl = curl_easy_init()) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

void
arca_s3_http_close(struct arca_s3 *st)
{
	if (st->curl != NULL)
		curl_easy_cleanup(st->curl);
	st->curl = NULL;
}

void
arca_s3_response_free(struct arca_s3_response *rs)
{
	if (rs == NULL)
		return;
	arca_buf_free(&rs->body);
	memset(rs, 0, sizeof(*rs));
}

/* ------------------------------------------------------------ callbacks */

static void
status_check(struct xfer *x)
{
	long code = 0;

	if (x->status_known)
		return;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	x->rs->status = code;
	x->status_known = 1;
	x->to_fd = code >= 200 && code < 300 && x->rq->out_fd >= 0;
}

static size_t
on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n, off;
	ssize_t w;

	status_check(x);
	if (!x->to_fd) {
		if (len > ARCA_S3_MAX_BODY - x->rs->body.len) {
			x->too_big = 1;
			return 0;
		}
		return arca_buf_append(&x->rs->body, p, len) == 0 ? len : 0;
	}
	for (off = 0; off < len; off += (size_t)w) {
		w = write(x->rq->out_fd, p + off, len - off);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			x->werr = w < 0 ? errno : EIO;
			return 0;
		}
	}
	if (x->md5 != NULL)
		arca_digest_update(x->md5, p, len);
	x->rs->written += len;
	return len;
}

/* Copy a header's value, trimmed, if line is "name: value". */
static void
header_value(const char *line, size_t len, const char *name, char *dst,
    size_t cap)
{
	size_t nl = strlen(name), e;
	const char *v;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	len -= nl + 1;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	for (e = len; e > 0 && (v[e - 1] == '\r' || v[e - 1] == '\n' ||
	    v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
		;
	if (e >= cap)
		e = cap - 1;	/* longer than any real one: cut */
	memcpy(dst, v, e);
	dst[e] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	/* A new status line (after "100 Continue"): forget the last one. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->rs->etag[0] = '\0';
		x->rs->bucket_region[0] = '\0';
		x->rs->sse[0] = '\0';
		x->rs->sse_customer[0] = '\0';
		x->status_known = 0;
		return len;
	}
	header_value(p, len, "etag", x->rs->etag, sizeof(x->rs->etag));
	header_value(p, len, "x-amz-bucket-region", x->rs->bucket_region,
	    sizeof(x->rs->bucket_region));
	header_value(p, len, "x-amz-server-side-encryption", x->rs->sse,
	    sizeof(x->rs->sse));
	header_value(p, len, "x-amz-server-side-encryption-customer-algorithm",
	    x->rs->sse_customer, sizeof(x->rs->sse_customer));
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	const struct arca_s3_request *rq = x->rq;
	uint64_t total = rq->body_fd >= 0 ? rq->body_size : rq->body_len;
	size_t want = size * n;
	ssize_t r;

	if (x->sent >= total)
		return 0;
	if (want > total - x->sent)
		want = (size_t)(total - x->sent);
	if (rq->body_fd < 0) {
		memcpy(p, (const char *)rq->body + x->sent, want);
		x->sent += want;
		return want;
	}
	do
		r = pread(rq->body_fd, p, want, (off_t)(rq->body_off +
		    x->sent));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		/* The file shrank or failed: never send a short body. */
		x->rerr = r < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	x->sent += (uint64_t)r;
	return (size_t)r;
}

/* curl rewinds the body to resend it (after a redirect, a 100 refusal). */
static int
on_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* ---------------------------------------------------------------- setup */

static int
add_header(struct xfer *x, const char *name, const char *value)
{
	struct arca_buf b = { 0 };
	struct curl_slist *l;
	int rc = 0;

	if (arca_buf_printf(&b, "%s: %s", name, value) != 0)
		return ARCA_ERR_NOMEM;
	if ((l = curl_slist_append(x->hdrs, (char *)b.data)) == NULL)
		rc = ARCA_ERR_NOMEM;
	else
		x->hdrs = l;
	/* The security token is a credential. */
	arca_buf_wipe(&b);
	return rc;
}

static void
xfer_free(struct xfer *x)
{
	struct curl_slist *l;

	/* One of them may carry the session token. */
	for (l = x->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	free(x->url);
	x->url = NULL;
	arca_digest_free(x->md5);
	x->md5 = NULL;
}

/* The Host header: [bucket.]host[:port], IPv6 addresses bracketed. */
static int
host_value(const struct arca_s3 *st, struct arca_buf *b)
{
	int v6 = strchr(st->host, ':') != NULL;

	if (!st->path_style && arca_buf_printf(b, "%s.", st->bucket) != 0)
		return ARCA_ERR_NOMEM;
	if (arca_buf_printf(b, v6 ? "[%s]" : "%s", st->host) != 0)
		return ARCA_ERR_NOMEM;
	if (st->port != 0 && arca_buf_printf(b, ":%d", st->port) != 0)
		return ARCA_ERR_NOMEM;
	return 0;
}

static void
amz_now(char *out, size_t cap)
{
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

/* Sign rq and set every option of x->h for it. */
static int
xfer_setup(struct xfer *x, struct arca_s3 *st, CURL *h,
    const struct arca_s3_request *rq, struct arca_s3_response *rs)
{
	struct arca_s3_sigv4_req sr;
	struct arca_s3_sigv4 sig;
	struct arca_s3_kv hv[ARCA_S3_MAX_HEADERS + 4];
	struct arca_buf host = { 0 }, path = { 0 }, url = { 0 };
	char date[32], sha[65];
	const char *payload;
	size_t nh = 0, i;
	int rc, has_ctype = 0;

	memset(x, 0, sizeof(*x));
	memset(rs, 0, sizeof(*rs));
	memset(&sig, 0, sizeof(sig));
	x->st = st;
	x->rq = rq;
	x->rs = rs;
	x->h = h;
	if (rq->out_fd >= 0 && (x->md5 = arca_digest_new(ARCA_DIGEST_MD5)) ==
	    NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((payload = rq->payload_sha256) == NULL) {
		if (rq->body_fd >= 0) {
			rc = arca_error(st->ctx, ARCA_ERR_FATAL,
			    "s3: a file body without its hash");
			goto out;
		}
		if (rq->body_len == 0)
			payload = S3_EMPTY_SHA256;
		else {
			arca_s3_sha256_hex(rq->body, rq->body_len, sha);
			payload = sha;
		}
	}
	rc = ARCA_ERR_NOMEM;
	if (host_value(st, &host) != 0)
		goto out;
	if (st->path_style && (arca_buf_printf(&path, "/%s", st->bucket) != 0 ||
	    (rq->key != NULL && arca_buf_printf(&path, "/%s", rq->key) != 0)))
		goto out;
	if (!st->path_style && arca_buf_printf(&path, "/%s", rq->key ?
	    rq->key : "") != 0)
		goto out;
	/* A bucket's own path is "/bucket" path-style; "/" otherwise. */
	if (path.data == NULL && arca_buf_puts(&path, "/") != 0)
		goto out;

	amz_now(date, sizeof(date));
	hv[nh++] = (struct arca_s3_kv){ "host", (char *)host.data };
	hv[nh++] = (struct arca_s3_kv){ "x-amz-date", date };
	hv[nh++] = (struct arca_s3_kv){ "x-amz-content-sha256", payload };
	if (st->session_token != NULL)
		hv[nh++] = (struct arca_s3_kv){ "x-amz-security-token",
		    st->session_token };
	for (i = 0; i < rq->nheaders && i < ARCA_S3_MAX_HEADERS; i++) {
		hv[nh++] = rq->headers[i];
		if (strcasecmp(rq->headers[i].name, "content-type") == 0)
			has_ctype = 1;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = rq->method;
	sr.path = (char *)path.data;
	sr.query = rq->query;
	sr.nquery = rq->nquery;
	sr.headers = hv;
	sr.nheaders = nh;
	sr.payload_sha256 = payload;
	sr.amz_date = date;
	sr.region = st->region;
	sr.service = "s3";
	sr.access_key = st->access_key;
	sr.secret_key = st->secret_key;
	if ((rc = arca_s3_sigv4_sign(&sr, &sig)) != 0) {
		if (rc != ARCA_ERR_NOMEM)
			rc = arca_error(st->ctx, ARCA_ERR_USAGE, "s3: cannot "
			    "sign a request for %s (bad header or region)",
			    st->where);
		goto out;
	}
	rc = ARCA_ERR_NOMEM;
	if (arca_buf_printf(&url, "%s://%s%s%s%s", st->https ? "https" :
	    "http", (char *)host.data, sig.path, sig.query[0] ? "?" : "",
	    sig.query) != 0 || (x->url = arca_buf_steal(&url)) == NULL)
		goto out;
	for (i = 0; i < nh; i++)
		if (add_header(x, hv[i].name, hv[i].value) != 0)
			goto out;
	if (add_header(x, "Authorization", sig.authorization) != 0)
		goto out;
	/* Nothing unsigned that S3 would store or check. */
	if (!has_ctype && (x->hdrs = curl_slist_append(x->hdrs,
	    "Content-Type:")) == NULL)
		goto out;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "arca/" ARCA_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, st->stall_timeout);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, st->stall_timeout);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rq->timeout > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, rq->timeout);
	if (st->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, st->cacert);
	if (st->capath != NULL)
		curl_easy_setopt(h, CURLOPT_CAPATH, st->capath);
	if (st->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(rq->method, "PUT") == 0 ||
	    strcmp(rq->method, "POST") == 0) {
		curl_off_t size = (curl_off_t)(rq->body_fd >= 0 ?
		    rq->body_size : rq->body_len);

		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		if (rq->method[1] == 'U') {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
		} else {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
		}
	} else if (strcmp(rq->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	rc = 0;
out:
	if (rc == ARCA_ERR_NOMEM)
		rc = arca_error(st->ctx, rc, "out of memory");
	arca_s3_sigv4_free(&sig);
	arca_buf_free(&host);
	arca_buf_free(&path);
	arca_buf_free(&url);
	if (rc != 0)
		xfer_free(x);
	return rc;
}

/* After the transfer: translate curl's result.  0 when an answer came. */
static int
xfer_finish(struct xfer *x, CURLcode cc)
{
	struct arca_s3 *st = x->st;
	char where[300], msg[CURL_ERROR_SIZE];
	int code;

	status_check(x);
	if (x->md5 != NULL)
		arca_digest_hex(x->md5, x->rs->md5);
	if (cc == CURLE_OK)
		return 0;
	snprintf(msg, sizeof(msg), "%s", x->errbuf[0] ? x->errbuf :
	    curl_easy_strerror(cc));
	arca_s3_clean_text(msg);
	arca_s3_endpoint_text(st, where, sizeof(where));
	if (cc == CURLE_WRITE_ERROR && x->werr != 0)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot write the "
		    "download: %s", strerror(x->werr));
	if (cc == CURLE_WRITE_ERROR && x->too_big)
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "the answer of "
		    "%s is larger than %u bytes: not S3's", where,
		    ARCA_S3_MAX_BODY);
	if ((cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_READ_ERROR) &&
	    x->rerr != 0)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot read the file "
		    "to upload: %s", x->rerr == EIO ? "it changed while "
		    "being uploaded" : strerror(x->rerr));
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return arca_error(st->ctx, ARCA_ERR_RETRY, "%s timed out (no "
		    "progress for %ld s, see --timeout%s): %s", where,
		    st->stall_timeout, x->rq->timeout > 0 ? ", or longer than "
		    "--s3-multipart-max-timeout" : "", msg);
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_AGAIN:
	case CURLE_WEIRD_SERVER_REPLY:
		code = ARCA_ERR_RETRY;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "the TLS "
		    "certificate of %s is not trusted: %s (give its CA with "
		    "--ssl-cacert-file)", where, msg);
	default:
		code = ARCA_ERR_BACKEND;
		break;
	}
	return arca_error(st->ctx, code, "%s: %s", where, msg);
}

int
arca_s3_http_do(struct arca_s3 *st, const struct arca_s3_request *rq,
    struct arca_s3_response *rs)
{
	struct xfer x;
	int rc;

	if ((rc = xfer_setup(&x, st, st->curl, rq, rs)) != 0)
		return rc;
	rc = xfer_finish(&x, curl_easy_perform(st->curl));
	xfer_free(&x);
	return rc;
}

struct slot {
	CURL *h;
	struct xfer x;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	size_t i;
	int busy;
};

int
arca_s3_http_parallel(struct arca_s3 *st, size_t n, int parallel,
    arca_s3_prep_fn *prep, arca_s3_done_fn *done, void *ud)
{
	struct slot *slots = NULL;
	CURLM *m = NULL;
	CURLMsg *msg;
	size_t next = 0, k;
	int running = 0, still, left, rc = 0, r;

	if (parallel < 1)
		parallel = 1;
	if (parallel > S3_MAX_PARALLEL)
		parallel = S3_MAX_PARALLEL;
	if ((size_t)parallel > n)
		parallel = n > 0 ? (int)n : 1;
	if ((m = curl_multi_init()) == NULL ||
	    (slots = arca_calloc((size_t)parallel, sizeof(*slots))) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		for (k = 0; rc == 0 && next < n && running < parallel &&
		    k < (size_t)parallel; k++) {
			struct slot *s = &slots[k];

			if (s->busy)
				continue;
			if (s->h == NULL && (s->h = curl_easy_init()) == NULL) {
				rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
				    "out of memory");
				break;
			}
			memset(&s->rq, 0, sizeof(s->rq));
			s->rq.body_fd = -1;
			s->rq.out_fd = -1;
			s->i = next;
			if ((rc = prep(ud, next, &s->rq)) != 0 ||
			    (rc = xfer_setup(&s->x, st, s->h, &s->rq, &s->rs))
			    != 0)
				break;
			if (curl_multi_add_handle(m, s->h) != CURLM_OK) {
				xfer_free(&s->x);
				rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
				    "out of memory");
				break;
			}
			s->busy = 1;
			running++;
			next++;
		}
		if (running == 0)
			break;
		if (curl_multi_perform(m, &still) != CURLM_OK) {
			if (rc == 0)
				rc = arca_error(st->ctx, ARCA_ERR_BACKEND,
				    "s3: the transfer engine failed");
			break;
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *x;
			struct slot *s;
			char *pv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    &pv);
			x = (struct xfer *)(void *)pv;
			s = (struct slot *)((char *)x - offsetof(struct slot,
			    x));
			r = xfer_finish(x, msg->data.result);
			curl_multi_remove_handle(m, s->h);
			xfer_free(x);
			s->busy = 0;
			running--;
			r = done(ud, s->i, r, &s->rq, &s->rs);
			arca_s3_response_free(&s->rs);
			if (r != 0 && rc == 0)
				rc = r;
		}
		/* After a failure the others are not worth waiting for. */
		if (rc != 0)
			break;
		if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK) {
			rc = arca_error(st->ctx, ARCA_ERR_BACKEND,
			    "s3: the transfer engine failed");
			break;
		}
	}
out:
	for (k = 0; slots != NULL && k < (size_t)parallel; k++) {
		if (slots[k].busy) {
			curl_multi_remove_handle(m, slots[k].h);
			xfer_free(&slots[k].x);
			arca_s3_response_free(&slots[k].rs);
		}
		if (slots[k].h != NULL)
			curl_easy_cleanup(slots[k].h);
	}
	free(slots);
	if (m != NULL)
		curl_multi_cleanup(m);
	return rc;
}
