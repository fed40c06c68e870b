/*
 * s3_sign.c: AWS Signature Version 4 for S3, and the hashes S3 wants
 * (SHA-256 of every payload, MD5 for Content-MD5 and ETags), all on the
 * SHA-256 and MD5 of crypto/digest.c (HMAC is built on them here), so
 * libgcrypt stays behind that module.
 *
 * Why sign ourselves rather than use CURLOPT_AWS_SIGV4: libcurl 7.88 signs
 * but does not hash bodies (it wants UNSIGNED-PAYLOAD) and its query and
 * path canonicalisation were fixed after 7.88; signing the real payload
 * hash lets AWS check every byte, and makes the canonical form ours to test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/arca_error.h"
#include "backend/s3_internal.h"
#include "crypto/digest.h"
#include "util/buf.h"

#define SIGV4_ALGO	"AWS4-HMAC-SHA256"
#define HASH_BUF	(256 * 1024)
#define SHA256_BLOCK	64

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

/* hex (2 * n digits) into raw[n]; 0, or -1 if it is not hex. */
static int
from_hex(const char *hex, unsigned char *raw, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = hexval((unsigned char)hex[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)hex[2 * i + 1])) < 0)
			return -1;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
to_hex(const unsigned char *p, size_t n, char *hex)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = x[p[i] >> 4];
		hex[2 * i + 1] = x[p[i] & 15];
	}
	hex[2 * n] = '\0';
}

void
arca_s3_sha256_hex(const void *p, size_t n, char *hex)
{
	arca_digest_buffer(ARCA_DIGEST_SHA256, p, n, hex);
}

void
arca_s3_base64(const unsigned char *p, size_t n, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = t[v >> 18];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
		out[o++] = t[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)p[i] << 16;
		out[o++] = t[v >> 18];
		out[o++] = t[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		out[o++] = t[v >> 18];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

int
arca_s3_md5_base64(const char *md5hex, char *out)
{
	unsigned char raw[16];

	if (strlen(md5hex) != 32 || from_hex(md5hex, raw, 16) != 0)
		return -1;
	arca_s3_base64(raw, 16, out);
	return 0;
}

int
arca_s3_hash_fd(int fd, uint64_t off, uint64_t len, char *sha256,
    char *md5)
{
	struct arca_digest *s = NULL, *m = NULL;
	unsigned char *buf = NULL;
	ssize_t r;
	size_t want;
	int e = 0;

	/* Both at once: the data is read once. */
	if ((buf = malloc(HASH_BUF)) == NULL ||
	    (s = arca_digest_new(ARCA_DIGEST_SHA256)) == NULL ||
	    (m = arca_digest_new(ARCA_DIGEST_MD5)) == NULL) {
		e = ENOMEM;
		goto out;
	}
	while (len > 0) {
		want = len < HASH_BUF ? (size_t)len : HASH_BUF;
		r = pread(fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto out;
		}
		if (r == 0) {
			/* The file shrank under us. */
			e = EIO;
			goto out;
		}
		arca_digest_update(s, buf, (size_t)r);
		arca_digest_update(m, buf, (size_t)r);
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	arca_digest_hex(s, sha256);
	arca_digest_hex(m, md5);
out:
	arca_digest_free(s);
	arca_digest_free(m);
	free(buf);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * HMAC-SHA256(key, msg) into out[32] (RFC 2104), on the SHA-256 of
 * crypto/digest.c.  Key material on the stack is wiped.  0 or
 * ARCA_ERR_NOMEM.
 */
static int
hmac(const void *key, size_t klen, const char *msg, size_t mlen,
    unsigned char *out)
{
	unsigned char k[SHA256_BLOCK], pad[SHA256_BLOCK], inner[32];
	struct arca_digest *d = NULL;
	char hex[65];
	size_t i;
	int rc = ARCA_ERR_NOMEM;

	memset(k, 0, sizeof(k));
	if (klen > SHA256_BLOCK) {
		arca_digest_buffer(ARCA_DIGEST_SHA256, key, klen, hex);
		from_hex(hex, k, 32);
	} else
		memcpy(k, key, klen);
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	if ((d = arca_digest_new(ARCA_DIGEST_SHA256)) == NULL)
		goto out;
	arca_digest_update(d, pad, sizeof(pad));
	arca_digest_update(d, msg, mlen);
	arca_digest_hex(d, hex);
	arca_digest_free(d);
	from_hex(hex, inner, 32);
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	if ((d = arca_digest_new(ARCA_DIGEST_SHA256)) == NULL)
		goto out;
	arca_digest_update(d, pad, sizeof(pad));
	arca_digest_update(d, inner, sizeof(inner));
	arca_digest_hex(d, hex);
	arca_digest_free(d);
	from_hex(hex, out, 32);
	rc = 0;
out:
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

int
arca_s3_uri_encode(struct arca_buf *b, const char *s, size_t n,
    int keep_slash)
{
	static const char x[] = "0123456789ABCDEF";
	unsigned char c;
	char e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c) || (c == '/' && keep_slash)) {
			if (arca_buf_putc(b, c) != 0)
				return ARCA_ERR_NOMEM;
			continue;
		}
		e[0] = '%';
		e[1] = x[c >> 4];
		e[2] = x[c & 15];
		if (arca_buf_append(b, e, 3) != 0)
			return ARCA_ERR_NOMEM;
	}
	return 0;
}

struct pair {
	char *name;
	char *value;
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->value, y->value);
}

static void
pairs_free(struct pair *p, size_t n)
{
	size_t i;

	for (i = 0; p != NULL && i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* The canonical query string: names and values encoded, then sorted. */
static int
canonical_query(const struct arca_s3_sigv4_req *r, char **out)
{
	struct arca_buf b = { 0 };
	struct pair *p;
	size_t i;
	int rc = ARCA_ERR_NOMEM;

	*out = NULL;
	if ((p = arca_calloc(r->nquery + 1, sizeof(*p))) == NULL)
		return ARCA_ERR_NOMEM;
	for (i = 0; i < r->nquery; i++) {
		if (arca_s3_uri_encode(&b, r->query[i].name,
		    strlen(r->query[i].name), 0) != 0 ||
		    (p[i].name = arca_buf_steal(&b)) == NULL)
			goto out;
		if (arca_s3_uri_encode(&b, r->query[i].value,
		    strlen(r->query[i].value), 0) != 0 ||
		    (p[i].value = arca_buf_steal(&b)) == NULL)
			goto out;
	}
	qsort(p, r->nquery, sizeof(*p), pair_cmp);
	for (i = 0; i < r->nquery; i++)
		if (arca_buf_printf(&b, "%s%s=%s", i ? "&" : "", p[i].name,
		    p[i].value) != 0)
			goto out;
	*out = arca_buf_steal(&b);
	rc = 0;
out:
	arca_buf_free(&b);
	pairs_free(p, r->nquery);
	return rc;
}

/*
 * Lower-case names and values trimmed, with runs of spaces made one, as
 * the canonical headers want.  ARCA_ERR_USAGE for a name that is empty or
 * not a token, a value with CR or LF, or a name given twice.
 */
static int
canonical_headers(const struct arca_s3_sigv4_req *r, struct pair **outp)
{
	struct pair *p;
	const char *v;
	size_t i, j, k;
	int rc = ARCA_ERR_NOMEM;

	*outp = NULL;
	if ((p = arca_calloc(r->nheaders + 1, sizeof(*p))) == NULL)
		return ARCA_ERR_NOMEM;
	for (i = 0; i < r->nheaders; i++) {
		if ((p[i].name = arca_strdup(r->headers[i].name)) == NULL ||
		    (p[i].value = malloc(strlen(r->headers[i].value) + 1)) ==
		    NULL)
			goto out;
		if (p[i].name[0] == '\0') {
			rc = ARCA_ERR_USAGE;
			goto out;
		}
		for (j = 0; p[i].name[j] != '\0'; j++) {
			unsigned char c = (unsigned char)p[i].name[j];

			if (c <= ' ' || c >= 127 || c == ':') {
				rc = ARCA_ERR_USAGE;
				goto out;
			}
			if (c >= 'A' && c <= 'Z')
				p[i].name[j] = (char)(c - 'A' + 'a');
		}
		v = r->headers[i].value;
		while (*v == ' ' || *v == '\t')
			v++;
		for (k = 0; *v != '\0'; v++) {
			if (*v == '\r' || *v == '\n') {
				rc = ARCA_ERR_USAGE;
				goto out;
			}
			if ((*v == ' ' || *v == '\t') && (v[1] == ' ' ||
			    v[1] == '\t' || v[1] == '\0'))
				continue;
			p[i].value[k++] = *v == '\t' ? ' ' : *v;
		}
		p[i].value[k] = '\0';
	}
	qsort(p, r->nheaders, sizeof(*p), pair_cmp);
	for (i = 1; i < r->nheaders; i++)
		if (strcmp(p[i - 1].name, p[i].name) == 0) {
			rc = ARCA_ERR_USAGE;
			goto out;
		}
	*outp = p;
	return 0;
out:
	pairs_free(p, r->nheaders);
	return rc;
}

/* kSigning = HMAC chain from "AWS4" + secret over date, region, service. */
static int
signing_key(const struct arca_s3_sigv4_req *r, unsigned char *key)
{
	struct arca_buf k0 = { 0 };
	unsigned char a[32], b[32];
	int rc = ARCA_ERR_NOMEM;

	if (arca_buf_puts(&k0, "AWS4") != 0 ||
	    arca_buf_puts(&k0, r->secret_key) != 0)
		goto out;
	if (hmac(k0.data, k0.len, r->amz_date, 8, a) != 0 ||
	    hmac(a, 32, r->region, strlen(r->region), b) != 0 ||
	    hmac(b, 32, r->service, strlen(r->service), a) != 0 ||
	    hmac(a, 32, "aws4_request", 12, key) != 0)
		goto out;
	rc = 0;
out:
	arca_buf_wipe(&k0);
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return rc;
}

int
arca_s3_sigv4_sign(const struct arca_s3_sigv4_req *r,
    struct arca_s3_sigv4 *out)
{
	struct arca_buf b = { 0 };
	struct pair *h = NULL;
	unsigned char key[32], sig[32];
	char hash[65], scope[256];
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strlen(r->amz_date) != 16) {
		rc = ARCA_ERR_USAGE;
		goto out;
	}
	rc = ARCA_ERR_NOMEM;
	if (arca_s3_uri_encode(&b, r->path, strlen(r->path), 1) != 0 ||
	    (out->path = arca_buf_steal(&b)) == NULL)
		goto out;
	if ((rc = canonical_query(r, &out->query)) != 0)
		goto out;
	if ((rc = canonical_headers(r, &h)) != 0)
		goto out;
	rc = ARCA_ERR_NOMEM;
	for (i = 0; i < r->nheaders; i++)
		if (arca_buf_printf(&b, "%s%s", i ? ";" : "", h[i].name) != 0)
			goto out;
	if ((out->signed_headers = arca_buf_steal(&b)) == NULL)
		goto out;

	if (arca_buf_printf(&b, "%s\n%s\n%s\n", r->method, out->path,
	    out->query) != 0)
		goto out;
	for (i = 0; i < r->nheaders; i++)
		if (arca_buf_printf(&b, "%s:%s\n", h[i].name, h[i].value) != 0)
			goto out;
	if (arca_buf_printf(&b, "\n%s\n%s", out->signed_headers,
	    r->payload_sha256) != 0 ||
	    (out->canonical_request = arca_buf_steal(&b)) == NULL)
		goto out;

	if ((size_t)snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request",
	    r->amz_date, r->region, r->service) >= sizeof(scope)) {
		rc = ARCA_ERR_USAGE;
		goto out;
	}
	arca_s3_sha256_hex(out->canonical_request,
	    strlen(out->canonical_request), hash);
	if (arca_buf_printf(&b, SIGV4_ALGO "\n%s\n%s\n%s", r->amz_date, scope,
	    hash) != 0 || (out->string_to_sign = arca_buf_steal(&b)) == NULL)
		goto out;

	if ((rc = signing_key(r, key)) != 0)
		goto out;
	rc = hmac(key, sizeof(key), out->string_to_sign,
	    strlen(out->string_to_sign), sig);
	explicit_bzero(key, sizeof(key));
	if (rc != 0)
		goto out;
	to_hex(sig, sizeof(sig), out->signature);
	rc = ARCA_ERR_NOMEM;
	if (arca_buf_printf(&b, SIGV4_ALGO " Credential=%s/%s, "
	    "SignedHeaders=%s, Signature=%s", r->access_key, scope,
	    out->signed_headers, out->signature) != 0 ||
	    (out->authorization = arca_buf_steal(&b)) == NULL)
		goto out;
	rc = 0;
out:
	arca_buf_free(&b);
	pairs_free(h, r->nheaders);
	return rc;
}

void
arca_s3_sigv4_free(struct arca_s3_sigv4 *s)
{
	if (s == NULL)
		return;
	free(s->path);
	free(s->query);
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->signed_headers);
	free(s->authorization);
	memset(s, 0, sizeof(*s));
}
