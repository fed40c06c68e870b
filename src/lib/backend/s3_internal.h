/*
 * s3_internal.h: the pieces of the S3 backend (s3.c), shared by its files
 * and the unit tests.
 *
 *   s3.c		the backend: put, get, list; its ops tables
 *   s3_open.c		URL, options and credentials into struct arca_s3
 *   s3_delete.c	deletes, one or in batches of 1000
 *   s3_multipart.c	multipart uploads, parts in parallel
 *   s3_error.c		S3's error answers into messages and error codes
 *   s3_http.c		requests over libcurl (the only s3 file that
 *			includes <curl/curl.h>; see there why not through
 *			http.c)
 *   s3_sign.c		AWS Signature Version 4 and HMAC-SHA256, on the
 *			digests of crypto/digest.c
 *   s3_xml.c		a small, bounded XML reader for S3's answers
 */
#ifndef ARCA_BACKEND_S3_INTERNAL_H
#define ARCA_BACKEND_S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "util/buf.h"

struct arca_ctx;

#define ARCA_S3_AWS_REGION	"us-east-1"

/* ------------------------------------------------------------ signing */

struct arca_s3_kv {
	const char *name;
	const char *value;
};

/* One request to sign; every string is borrowed. */
struct arca_s3_sigv4_req {
	const char *method;		/* "GET", "PUT", ... */
	const char *path;		/* raw (not encoded) absolute path */
	const struct arca_s3_kv *query;	/* raw names and values */
	size_t nquery;
	/* Names in any case, raw values; every one is signed. */
	const struct arca_s3_kv *headers;
	size_t nheaders;
	const char *payload_sha256;	/* lower-case hex */
	const char *amz_date;		/* YYYYMMDDTHHMMSSZ */
	const char *region;
	const char *service;		/* "s3" */
	const char *access_key;
	const char *secret_key;
};

struct arca_s3_sigv4 {
	char *path;		/* encoded path, as signed and to be sent */
	char *query;		/* canonical query string, to be sent as is */
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;
	char *authorization;	/* the Authorization header's value */
	char signature[65];
};

/*
 * Sign r with SigV4 (the S3 flavour: the path is encoded once, not
 * normalised).  Fills *out, which the caller frees with
 * arca_s3_sigv4_free (also after a failure).  Returns 0, ARCA_ERR_NOMEM, or
 * ARCA_ERR_USAGE for a header that cannot be sent (empty name, CR/LF).
 */
int arca_s3_sigv4_sign(const struct arca_s3_sigv4_req *r,
    struct arca_s3_sigv4 *out);
void arca_s3_sigv4_free(struct arca_s3_sigv4 *s);

/*
 * Append s[0..n) URI-encoded as SigV4 wants: everything but A-Z a-z 0-9
 * - . _ ~ as %XX (upper-case hex), and '/' too unless keep_slash.
 * Returns 0 or ARCA_ERR_NOMEM.
 */
int arca_s3_uri_encode(struct arca_buf *b, const char *s, size_t n,
    int keep_slash);

/* SHA-256 of p[0..n) as lower-case hex into hex[65]. */
void arca_s3_sha256_hex(const void *p, size_t n, char *hex);
/* Standard base64 of p[0..n) into out (4 * ((n + 2) / 3) + 1 bytes). */
void arca_s3_base64(const unsigned char *p, size_t n, char *out);

/*
 * SHA-256 (hex into sha256[65]) and MD5 (hex into md5[33]) of len bytes of
 * fd from offset off, in one pass (pread).  Returns 0, or -1 with errno set
 * (EIO when the file is shorter than off + len).
 */
int arca_s3_hash_fd(int fd, uint64_t off, uint64_t len, char *sha256,
    char *md5);
/* Content-MD5's base64 (25 bytes) of an MD5 in hex; 0, or -1 if not one. */
int arca_s3_md5_base64(const char *md5hex, char *out);

/* ---------------------------------------------------------------- XML */

/* No answer of S3's nests deeper or has longer names or text. */
#define ARCA_S3_XML_MAXDEPTH	16
#define ARCA_S3_XML_MAXPATH	512
#define ARCA_S3_XML_MAXTEXT	(64 * 1024)

enum arca_s3_xml_event {
	ARCA_S3_XML_START,	/* an element opens */
	ARCA_S3_XML_TEXT,	/* a leaf element's text, just before its END */
	ARCA_S3_XML_END		/* an element closes */
};

/*
 * Called for each event with the element's path from the root, names
 * joined by '/' without namespace prefixes ("ListBucketResult/Contents/
 * Key").  text (NUL-terminated, entities decoded, may hold no NUL) is set
 * for ARCA_S3_XML_TEXT only.  A non-zero return stops the parse and is
 * returned by arca_s3_xml_parse.
 */
typedef int arca_s3_xml_fn(void *ud, enum arca_s3_xml_event ev,
    const char *path, const char *text, size_t len);

/*
 * Read the document doc[0..len).  Returns 0; ARCA_ERR_CORRUPT for a
 * malformed document, a DTD (no entity expansion, ever), or one beyond the
 * limits above, with the reason in err[errlen]; ARCA_ERR_NOMEM; or what fn
 * returned.
 */
int arca_s3_xml_parse(const char *doc, size_t len, arca_s3_xml_fn *fn,
    void *ud, char *err, size_t errlen);

/* Append s with & < > " ' escaped, for request bodies.  0 or ARCA_ERR_NOMEM. */
int arca_s3_xml_escape(struct arca_buf *b, const char *s);

/*
 * One page of a ListObjectsV2 answer: keys are appended to keys (whole
 * keys, prefix included), *truncated and *token (malloc'd, or NULL) say
 * whether and how to go on.  Returns 0, ARCA_ERR_CORRUPT with a message in
 * err, or ARCA_ERR_NOMEM.  At most max_keys keys are accepted per page.
 */
int arca_s3_parse_list(const char *doc, size_t len, size_t max_keys,
    struct arca_strlist *keys, int *truncated, char **token, char *err,
    size_t errlen);

/* An S3 <Error> document's fields (empty strings when absent). */
struct arca_s3_error {
	char code[64];
	char message[256];
	char region[64];	/* AuthorizationHeaderMalformed, redirects */
	char key[256];		/* DeleteObjects' per-key errors */
};

/*
 * Read an error document (root <Error>) into *e.  Returns 1 if doc is one,
 * 0 if it is something else (or malformed: the status says enough then).
 */
int arca_s3_parse_error(const char *doc, size_t len, struct arca_s3_error *e);

/* ------------------------------------------------------------ requests */

#define ARCA_S3_MAX_QUERY	6
#define ARCA_S3_MAX_HEADERS	12
/* Listings and error documents larger than this are not S3's. */
#define ARCA_S3_MAX_BODY	(16u * 1024 * 1024)

struct arca_s3_request {
	const char *method;
	const char *key;		/* full object key; NULL: the bucket */
	struct arca_s3_kv query[ARCA_S3_MAX_QUERY];	/* raw */
	size_t nquery;
	struct arca_s3_kv headers[ARCA_S3_MAX_HEADERS];	/* sent and signed */
	size_t nheaders;
	/* The body: body[0..body_len) or, if body_fd >= 0, body_size bytes
	 * of body_fd from body_off. */
	const void *body;
	size_t body_len;
	int body_fd;
	uint64_t body_off;
	uint64_t body_size;
	/* Hex SHA-256 of the body; NULL: computed here for a memory body. */
	const char *payload_sha256;
	/* A 2xx answer's body goes to out_fd if >= 0, else to the
	 * response's buffer; other answers always to the buffer. */
	int out_fd;
	long timeout;			/* seconds for the whole request; 0 */
};

struct arca_s3_response {
	long status;			/* 0 if no answer came */
	struct arca_buf body;
	char etag[130];
	char bucket_region[64];		/* x-amz-bucket-region */
	/* x-amz-server-side-encryption and its SSE-C sibling: with KMS or
	 * customer keys the ETag is no MD5 of the data. */
	char sse[32];
	char sse_customer[32];
	uint64_t written;		/* bytes written to out_fd */
	char md5[33];			/* MD5 (hex) of those bytes */
};

/* The backend's state, shared by its files. */
struct arca_s3 {
	struct arca_ctx *ctx;
	char *where;		/* s3://... as given, for messages */
	int https;
	char *host;		/* endpoint host, without the bucket */
	int port;		/* 0: the scheme's default */
	int path_style;		/* /bucket/key, else bucket.host/key */
	char *bucket;
	char *prefix;		/* "" or "a/b/" */
	char *region;
	char *access_key;
	char *secret_key;	/* wiped on close */
	char *session_token;	/* wiped on close */
	const char *storage_class;	/* NULL: not sent */
	int glacier;		/* the class is a cold one: not for manifests */
	const char *sse;	/* x-amz-server-side-encryption or NULL */
	char *kms_key_id;
	char *kms_grant;
	uint64_t chunk_size;	/* multipart above this */
	int max_procs;		/* parts in flight */
	long part_timeout;	/* seconds per part; 0 none */
	char *cacert;		/* NULL: the system's */
	char *capath;
	int insecure;
	long stall_timeout;	/* seconds without progress; and to connect */
	int eu_buckets;		/* create buckets in "EU" */
	int create;		/* may create the bucket */
	int no_bucket;		/* the last arca_s3_check saw NoSuchBucket */
	void *curl;		/* the easy handle kept for keep-alive */
};

/* Set up and tear down the HTTP side of st.  0 or ARCA_ERR_NOMEM. */
int arca_s3_http_open(struct arca_s3 *st);
void arca_s3_http_close(struct arca_s3 *st);

/*
 * Send rq and read the answer into *rs (zeroed first; the caller frees it
 * with arca_s3_response_free).  Returns 0 when an answer came, whatever
 * its status, or an error with the message on st->ctx when none did:
 * ARCA_ERR_RETRY for the network's usual troubles, ARCA_ERR_IO when a
 * local file failed, ARCA_ERR_BACKEND for the rest (TLS verification...).
 */
int arca_s3_http_do(struct arca_s3 *st, const struct arca_s3_request *rq,
    struct arca_s3_response *rs);

/*
 * Fill request i (0 <= i < n) of a parallel run; its strings must stay
 * valid until done is called for it.  Returns 0 or an error code.
 */
typedef int arca_s3_prep_fn(void *ud, size_t i, struct arca_s3_request *rq);
/* Request i has finished (rc as from arca_s3_http_do).  Non-zero stops. */
typedef int arca_s3_done_fn(void *ud, size_t i, int rc,
    const struct arca_s3_request *rq, struct arca_s3_response *rs);

/*
 * Run n requests with at most parallel of them in flight, on one thread.
 * Stops starting new ones at the first non-zero return of prep or done,
 * lets the running ones finish (their done is still called), and returns
 * that first error; 0 when all went through.
 */
int arca_s3_http_parallel(struct arca_s3 *st, size_t n, int parallel,
    arca_s3_prep_fn *prep, arca_s3_done_fn *done, void *ud);

void arca_s3_response_free(struct arca_s3_response *rs);

/*
 * Turn an answer that is not 2xx into an error with a clear message on
 * st->ctx: ARCA_ERR_RETRY for 5xx, 429, timeouts and S3's "try again"
 * codes; ARCA_ERR_AUTH for bad keys and signatures; ARCA_ERR_NOTFOUND for
 * a missing key or bucket; ARCA_ERR_BACKEND otherwise.  what names the
 * operation ("upload of NAME").  Returns 0 for a 2xx answer.
 */
int arca_s3_check(struct arca_s3 *st, const struct arca_s3_response *rs,
    const char *what);

/* ------------------------------------------------------ the backend ops */

/* The s3 backend's command-line options (s3_open.c). */
extern const struct arca_backend_optdef arca_s3_options[];

/* The backend operations (struct arca_backend_ops), across the files. */
int arca_s3_open(struct arca_ctx *ctx, const struct arca_url *url,
    int create, void **state);
void arca_s3_close(void *state);
int arca_s3_del(void *state, const char *name);
int arca_s3_del_many(void *state, const char *const *names, size_t n);

/* A request with no query, headers or body, for key (NULL: the bucket). */
void arca_s3_request_init(struct arca_s3_request *rq, const char *method,
    const char *key);
/* 1 if the answer is an S3 error document with this code. */
int arca_s3_error_code_is(const struct arca_s3_response *rs,
    const char *code);
/* prefix + name, malloc'd; NULL (message set) if out of memory. */
char *arca_s3_object_key(struct arca_s3 *st, const char *name);

/* Replace control characters, so server text is safe in a message. */
void arca_s3_clean_text(char *s);
/* "http[s]://host[:port]" of st, for messages: nothing secret in it. */
void arca_s3_endpoint_text(const struct arca_s3 *st, char *out, size_t cap);

/* ------------------------------------------------------------ multipart */

/*
 * Upload size bytes of fd as key in parts of st->chunk_size, with up to
 * st->max_procs parts in flight; on failure the upload is aborted so no
 * parts linger.  Returns 0 or an error (ARCA_ERR_RETRY when worth another
 * try) with the message on st->ctx.
 */
int arca_s3_multipart_put(struct arca_s3 *st, int fd, uint64_t size,
    const char *key, const char *name);

/*
 * 1 if etag (quoted or not) is an MD5 in hex that differs from md5 (hex);
 * 0 if it matches or is no plain MD5 (multipart ETags, other servers).
 */
int arca_s3_etag_differs(const char *etag, const char *md5);
/* The same, for an answer: 0 as well when its ETag is no MD5 (SSE-KMS). */
int arca_s3_response_etag_differs(const struct arca_s3_response *rs,
    const char *md5);

/* The headers every object upload carries (storage class, encryption). */
size_t arca_s3_put_headers(const struct arca_s3 *st, const char *name,
    struct arca_s3_kv *h, size_t max);

#endif /* !ARCA_BACKEND_S3_INTERNAL_H */
