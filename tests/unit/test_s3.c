/*
 * test_s3.c: the S3 backend's pieces without a server: SigV4 against the
 * AWS documentation's published examples and, for odd keys, queries and
 * headers, against botocore's own signer (Debian's python3-botocore);
 * the XML reader with real and hostile documents; URL forms and options.
 * The round trips against a real S3 server are tests/integration/20_s3.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/s3_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#include "test.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The key pair of the AWS S3 SigV4 documentation's examples. */
#define DOC_AK	"AKIAIOSFODNN7EXAMPLE"
#define DOC_SK	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void
doc_req(struct arca_s3_sigv4_req *r, const char *method, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
	r->amz_date = "20130524T000000Z";
	r->region = "us-east-1";
	r->service = "s3";
	r->access_key = DOC_AK;
	r->secret_key = DOC_SK;
	r->payload_sha256 = EMPTY_SHA256;
}

/* ------------------------------------------ SigV4: published examples */

/* "Example: GET Object" of the S3 SigV4 header-based auth documentation. */
static void
test_sigv4_doc_get_object(void)
{
	struct arca_s3_sigv4_req r;
	struct arca_s3_sigv4 s;
	struct arca_s3_kv h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", EMPTY_SHA256 },
		{ "x-amz-date", "20130524T000000Z" },
	};

	doc_req(&r, "GET", "/test.txt");
	r.headers = h;
	r.nheaders = 4;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.canonical_request,
	    "GET\n/test.txt\n\n"
	    "host:examplebucket.s3.amazonaws.com\n"
	    "range:bytes=0-9\n"
	    "x-amz-content-sha256:" EMPTY_SHA256 "\n"
	    "x-amz-date:20130524T000000Z\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256);
	CHECK_STR(s.string_to_sign,
	    "AWS4-HMAC-SHA256\n20130524T000000Z\n"
	    "20130524/us-east-1/s3/aws4_request\n"
	    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	CHECK_STR(s.signature,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	CHECK_STR(s.authorization,
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
	    "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature="
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	arca_s3_sigv4_free(&s);
}

/* "Example: PUT Object": a '$' in the key, a body, a storage class. */
static void
test_sigv4_doc_put_object(void)
{
	struct arca_s3_sigv4_req r;
	struct arca_s3_sigv4 s;
	const char *body = "Welcome to Amazon S3.";
	char sha[65];
	struct arca_s3_kv h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", sha },
	};

	arca_s3_sha256_hex(body, strlen(body), sha);
	CHECK_STR(sha,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	doc_req(&r, "PUT", "/test$file.text");
	r.headers = h;
	r.nheaders = 5;
	r.payload_sha256 = sha;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.path, "/test%24file.text");
	CHECK_STR(s.signed_headers, "date;host;x-amz-content-sha256;"
	    "x-amz-date;x-amz-storage-class");
	CHECK_STR(s.signature,
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	arca_s3_sigv4_free(&s);
}

/* "GET Bucket Lifecycle" (a query name without a value) and "Get Bucket
 * (List Objects)" (query parameters sorted). */
static void
test_sigv4_doc_bucket(void)
{
	struct arca_s3_sigv4_req r;
	struct arca_s3_sigv4 s;
	struct arca_s3_kv h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-content-sha256", EMPTY_SHA256 },
		{ "x-amz-date", "20130524T000000Z" },
	};
	struct arca_s3_kv lc[] = { { "lifecycle", "" } };
	struct arca_s3_kv ls[] = { { "prefix", "J" }, { "max-keys", "2" } };

	doc_req(&r, "GET", "/");
	r.headers = h;
	r.nheaders = 3;
	r.query = lc;
	r.nquery = 1;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.query, "lifecycle=");
	CHECK_STR(s.signature,
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	arca_s3_sigv4_free(&s);

	r.query = ls;
	r.nquery = 2;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.query, "max-keys=2&prefix=J");
	CHECK_STR(s.string_to_sign,
	    "AWS4-HMAC-SHA256\n20130524T000000Z\n"
	    "20130524/us-east-1/s3/aws4_request\n"
	    "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
	CHECK_STR(s.signature,
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	arca_s3_sigv4_free(&s);
}

/* The aws-sig-v4-test-suite's get-vanilla and get-vanilla-query-order-key-
 * case (service "service", its own key pair). */
static void
test_sigv4_suite_vanilla(void)
{
	struct arca_s3_sigv4_req r;
	struct arca_s3_sigv4 s;
	struct arca_s3_kv h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct arca_s3_kv q[] = { { "Param2", "value2" },
		{ "Param1", "value1" } };

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = "/";
	r.headers = h;
	r.nheaders = 2;
	r.payload_sha256 = EMPTY_SHA256;
	r.amz_date = "20150830T123600Z";
	r.region = "us-east-1";
	r.service = "service";
	r.access_key = "AKIDEXAMPLE";
	r.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA256);
	CHECK_STR(s.string_to_sign, "AWS4-HMAC-SHA256\n20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	CHECK_STR(s.signature,
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	arca_s3_sigv4_free(&s);

	r.query = q;
	r.nquery = 2;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), 0);
	CHECK_STR(s.query, "Param1=value1&Param2=value2");
	CHECK_STR(s.signature,
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	arca_s3_sigv4_free(&s);
}

static void
test_sigv4_refuses(void)
{
	struct arca_s3_sigv4_req r;
	struct arca_s3_sigv4 s;
	struct arca_s3_kv crlf[] = { { "host", "a" }, { "x-a", "b\r\nx: y" } };
	struct arca_s3_kv dup[] = { { "host", "a" }, { "HOST", "b" } };
	struct arca_s3_kv badname[] = { { "ho st", "a" } };

	doc_req(&r, "GET", "/");
	r.headers = crlf;
	r.nheaders = 2;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), ARCA_ERR_USAGE);
	arca_s3_sigv4_free(&s);
	r.headers = dup;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), ARCA_ERR_USAGE);
	arca_s3_sigv4_free(&s);
	r.headers = badname;
	r.nheaders = 1;
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), ARCA_ERR_USAGE);
	arca_s3_sigv4_free(&s);
	r.headers = NULL;
	r.nheaders = 0;
	r.amz_date = "20130524";
	CHECK_INT(arca_s3_sigv4_sign(&r, &s), ARCA_ERR_USAGE);
	arca_s3_sigv4_free(&s);
}

static void
test_uri_encode(void)
{
	struct arca_buf b = { 0 };
	const char *s = "a b/c+d=e&f~g_h-i.j*k%l\xc3\xbc";

	CHECK_INT(arca_s3_uri_encode(&b, s, strlen(s), 1), 0);
	CHECK_INT(arca_buf_putc(&b, 0), 0);
	CHECK_STR((char *)b.data,
	    "a%20b/c%2Bd%3De%26f~g_h-i.j%2Ak%25l%C3%BC");
	arca_buf_free(&b);
	CHECK_INT(arca_s3_uri_encode(&b, "x/y", 3, 0), 0);
	CHECK_INT(arca_buf_putc(&b, 0), 0);
	CHECK_STR((char *)b.data, "x%2Fy");
	arca_buf_free(&b);
}

static void
test_hashes(void)
{
	char out[32], sha[65], md5[33], *dir, path[512];
	unsigned char raw[3] = { 0xff, 0x00, 0x10 };
	int fd;

	arca_s3_base64((const unsigned char *)"", 0, out);
	CHECK_STR(out, "");
	arca_s3_base64((const unsigned char *)"f", 1, out);
	CHECK_STR(out, "Zg==");
	arca_s3_base64((const unsigned char *)"fo", 2, out);
	CHECK_STR(out, "Zm8=");
	arca_s3_base64((const unsigned char *)"foobar", 6, out);
	CHECK_STR(out, "Zm9vYmFy");
	arca_s3_base64(raw, 3, out);
	CHECK_STR(out, "/wAQ");
	/* Content-MD5 of "" */
	CHECK_INT(arca_s3_md5_base64("d41d8cd98f00b204e9800998ecf8427e", out),
	    0);
	CHECK_STR(out, "1B2M2Y8AsgTpgAmY7PhCfg==");
	CHECK_INT(arca_s3_md5_base64("d41d8cd98f00b204e9800998ecf8427", out),
	    -1);
	CHECK_INT(arca_s3_md5_base64("z41d8cd98f00b204e9800998ecf8427e", out),
	    -1);

	dir = test_tmpdir();
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "xxhello worldyy", 15), 15);
	CHECK_INT(arca_s3_hash_fd(fd, 2, 11, sha, md5), 0);
	CHECK_STR(sha, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088"
	    "f7ace2efcde9");
	CHECK_STR(md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
	/* Past the end: the file is shorter than asked, never a guess. */
	errno = 0;
	CHECK_INT(arca_s3_hash_fd(fd, 10, 10, sha, md5), -1);
	CHECK_INT(errno, EIO);
	close(fd);
	unlink(path);
	rmdir(dir);
	free(dir);

	CHECK_INT(arca_s3_etag_differs("\"5eb63bbbe01eeed093cb22bb8f5acdc3\"",
	    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 0);
	CHECK_INT(arca_s3_etag_differs("5EB63BBBE01EEED093CB22BB8F5ACDC3",
	    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 0);
	CHECK_INT(arca_s3_etag_differs("\"5eb63bbbe01eeed093cb22bb8f5acdc4\"",
	    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 1);
	/* multipart ETags are no MD5 of the data */
	CHECK_INT(arca_s3_etag_differs("\"5eb63bbbe01eeed093cb22bb8f5acdc4-3\"",
	    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 0);
	CHECK_INT(arca_s3_etag_differs("", "5eb63bbbe01eeed093cb22bb8f5acdc3"),
	    0);
	{
		/* With KMS or customer keys the ETag is no MD5 at all. */
		struct arca_s3_response rs;

		memset(&rs, 0, sizeof(rs));
		snprintf(rs.etag, sizeof(rs.etag), "\"%s\"",
		    "0123456789abcdef0123456789abcdef");
		CHECK_INT(arca_s3_response_etag_differs(&rs,
		    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 1);
		snprintf(rs.sse, sizeof(rs.sse), "AES256");
		CHECK_INT(arca_s3_response_etag_differs(&rs,
		    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 1);
		snprintf(rs.sse, sizeof(rs.sse), "aws:kms");
		CHECK_INT(arca_s3_response_etag_differs(&rs,
		    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 0);
		rs.sse[0] = '\0';
		snprintf(rs.sse_customer, sizeof(rs.sse_customer), "AES256");
		CHECK_INT(arca_s3_response_etag_differs(&rs,
		    "5eb63bbbe01eeed093cb22bb8f5acdc3"), 0);
	}
}

/* -------------------------------------------- SigV4: botocore's opinion */

/*
 * botocore signs the same requests; both must agree on the canonical
 * request, the string to sign and the signature.  Everything crosses as
 * hex, so no byte is lost to quoting.  The path goes to botocore encoded
 * by botocore's own S3 key encoder, the query as parameters it encodes
 * itself: so the encodings are compared too.
 */
static const char botocore_script[] =
"import sys\n"
"from botocore.auth import S3SigV4Auth\n"
"from botocore.awsrequest import AWSRequest\n"
"from botocore.credentials import Credentials\n"
"from botocore.utils import percent_encode\n"
"def h(x): return bytes.fromhex(x[1:]).decode('utf-8')\n"
"for line in sys.stdin:\n"
"    f = line.split()\n"
"    method, path, i = h(f[0]), h(f[1]), 2\n"
"    nq = int(f[i]); i += 1\n"
"    q = [(h(f[i + 2 * k]), h(f[i + 2 * k + 1])) for k in range(nq)]\n"
"    i += 2 * nq\n"
"    nh = int(f[i]); i += 1\n"
"    hd = [(h(f[i + 2 * k]), h(f[i + 2 * k + 1])) for k in range(nh)]\n"
"    i += 2 * nh\n"
"    payload, date, region, ak, sk, tok = [h(x) for x in f[i:i + 6]]\n"
"    host = [v for n, v in hd if n.lower() == 'host'][0]\n"
"    url = 'https://' + host + percent_encode(path, safe='/~')\n"
"    a = S3SigV4Auth(Credentials(ak, sk, tok or None), 's3', region)\n"
"    r = AWSRequest(method=method, url=url, params=q)\n"
"    for n, v in hd: r.headers[n] = v\n"
"    r.headers['X-Amz-Content-SHA256'] = payload\n"
"    r.headers['X-Amz-Date'] = date\n"
"    if tok: r.headers['X-Amz-Security-Token'] = tok\n"
"    r.context['timestamp'] = date\n"
"    cr = a.canonical_request(r)\n"
"    sts = a.string_to_sign(r, cr)\n"
"    print(cr.encode().hex(), sts.encode().hex(), a.signature(sts, r))\n";

struct bcase {
	const char *method, *path;
	struct arca_s3_kv q[4];
	size_t nq;
	struct arca_s3_kv h[5];
	size_t nh;
	const char *region, *token;
};

static const struct bcase bcases[] = {
	{ "GET", "/bucket/dir/duplicity-full.20240101T000000Z.vol1.difftar"
	  ".gpg", { { 0 } }, 0, { { "Host", "127.0.0.1:8080" } }, 1,
	  "us-east-1", NULL },
	{ "PUT", "/b/a b+c=d&e;f:g@h,i$j!k*l'm(n)o[p]q{r}s|t^u`v\"w<x>y#z",
	  { { 0 } }, 0, { { "host", "s3.example" },
	  { "content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
	  { "x-amz-storage-class", "STANDARD_IA" } }, 3, "eu-central-1",
	  NULL },
	{ "GET", "/b/\xc3\xbcnicode/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87~x_y-z.",
	  { { 0 } }, 0, { { "Host", "h" } }, 1, "us-east-1", NULL },
	{ "GET", "/bucket", { { "list-type", "2" }, { "prefix",
	  "some prefix/with+plus&amp=" }, { "delimiter", "/" },
	  { "continuation-token", "1/ab+cd==ef gh~" } }, 4,
	  { { "Host", "127.0.0.1:9000" } }, 1, "us-east-1", NULL },
	{ "POST", "/bucket/key", { { "uploads", "" } }, 1,
	  { { "Host", "h:1" }, { "Content-Type", "application/xml" },
	  { "X-Odd", "  a   b \t c  " } }, 3, "ap-southeast-2",
	  "FQoGZXIvYXdzE/+=token" },
	{ "PUT", "/bucket/key%41%", { { "partNumber", "10" }, { "uploadId",
	  "VXBsb2FkIElE+/=" } }, 2, { { "Host", "h" } }, 1, "us-east-1",
	  NULL },
	{ "DELETE", "/bucket/./../x//y/", { { 0 } }, 0, { { "Host", "h" } },
	  1, "us-east-1", NULL },
};

/* 'x' then the bytes in hex, so that "" is "x". */
static int
put_hex(FILE *f, const char *s)
{
	if (fputc('x', f) == EOF)
		return -1;
	for (; *s != '\0'; s++)
		if (fprintf(f, "%02x", (unsigned char)*s) < 0)
			return -1;
	return 0;
}

static char *
unhex(const char *h)
{
	size_t n = strlen(h) / 2, i;
	char *s = malloc(n + 1);
	unsigned v;

	for (i = 0; i < n; i++) {
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			v = '?';
		s[i] = (char)v;
	}
	s[n] = '\0';
	return s;
}

static void
test_sigv4_vs_botocore(void)
{
	char *dir, script[512], in[512], outp[512], cmd[2048], line[65536];
	char *cr = NULL, *sts = NULL;
	struct arca_s3_sigv4 sigs[sizeof(bcases) / sizeof(bcases[0])];
	size_t ncase = sizeof(bcases) / sizeof(bcases[0]), i, k;
	char sha[sizeof(bcases) / sizeof(bcases[0])][65];
	FILE *f;
	int st;

	dir = test_tmpdir();
	snprintf(script, sizeof(script), "%s/sign.py", dir);
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	f = fopen(script, "w");
	CHECK(f != NULL);
	fputs(botocore_script, f);
	fclose(f);
	f = fopen(in, "w");
	CHECK(f != NULL);
	for (i = 0; i < ncase; i++) {
		const struct bcase *c = &bcases[i];
		struct arca_s3_sigv4_req r;
		struct arca_s3_kv h[8];

		/* A different payload hash per case. */
		arca_s3_sha256_hex(c->path, strlen(c->path), sha[i]);
		memset(&r, 0, sizeof(r));
		r.method = c->method;
		r.path = c->path;
		r.query = c->q;
		r.nquery = c->nq;
		for (k = 0; k < c->nh; k++)
			h[k] = c->h[k];
		h[k++] = (struct arca_s3_kv){ "x-amz-date",
		    "20240229T235959Z" };
		h[k++] = (struct arca_s3_kv){ "x-amz-content-sha256", sha[i] };
		if (c->token != NULL)
			h[k++] = (struct arca_s3_kv){ "x-amz-security-token",
			    c->token };
		r.headers = h;
		r.nheaders = k;
		r.payload_sha256 = sha[i];
		r.amz_date = "20240229T235959Z";
		r.region = c->region;
		r.service = "s3";
		r.access_key = "test:tester";
		r.secret_key = "s3cr3t/+=key";
		CHECK_INT(arca_s3_sigv4_sign(&r, &sigs[i]), 0);

		put_hex(f, c->method);
		fputc(' ', f);
		put_hex(f, c->path);
		fprintf(f, " %zu", c->nq);
		for (k = 0; k < c->nq; k++) {
			fputc(' ', f);
			put_hex(f, c->q[k].name);
			fputc(' ', f);
			put_hex(f, c->q[k].value);
		}
		fprintf(f, " %zu", c->nh);
		for (k = 0; k < c->nh; k++) {
			fputc(' ', f);
			put_hex(f, c->h[k].name);
			fputc(' ', f);
			put_hex(f, c->h[k].value);
		}
		fputc(' ', f);
		put_hex(f, sha[i]);
		fputs(" ", f);
		put_hex(f, "20240229T235959Z");
		fputc(' ', f);
		put_hex(f, c->region);
		fputc(' ', f);
		put_hex(f, "test:tester");
		fputc(' ', f);
		put_hex(f, "s3cr3t/+=key");
		fputc(' ', f);
		put_hex(f, c->token ? c->token : "");
		fputc('\n', f);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s < %s > %s", script, in,
	    outp);
	st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "botocore cross-check did not run (needs "
		    "/usr/bin/python3 and python3-botocore: "
		    "scripts/deps.sh)\n");
		CHECK(0);
	}
	f = fopen(outp, "r");
	CHECK(f != NULL);
	for (i = 0; f != NULL && i < ncase; i++) {
		char *sp1, *sp2;

		if (fgets(line, sizeof(line), f) == NULL) {
			CHECK(0);
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		sp1 = strchr(line, ' ');
		sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		if (sp1 == NULL || sp2 == NULL) {
			CHECK(0);
			break;
		}
		*sp1 = *sp2 = '\0';
		cr = unhex(line);
		sts = unhex(sp1 + 1);
		CHECK_STR(sigs[i].canonical_request, cr);
		CHECK_STR(sigs[i].string_to_sign, sts);
		CHECK_STR(sigs[i].signature, sp2 + 1);
		free(cr);
		free(sts);
	}
	if (f != NULL)
		fclose(f);
	for (i = 0; i < ncase; i++)
		arca_s3_sigv4_free(&sigs[i]);
	unlink(script);
	unlink(in);
	unlink(outp);
	rmdir(dir);
	free(dir);
}

/* ----------------------------------------------------------- listings */

static int
parse_list(const char *doc, struct arca_strlist *keys, int *trunc,
    char **token, char *err, size_t errlen)
{
	return arca_s3_parse_list(doc, strlen(doc), 1000, keys, trunc, token,
	    err, errlen);
}

static void
test_list_pages(void)
{
	const char *p1 =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListBucketResult "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Name>bkt</Name><Prefix>pre/</Prefix><KeyCount>3</KeyCount>"
	    "<MaxKeys>3</MaxKeys><Delimiter>/</Delimiter>"
	    "<IsTruncated>true</IsTruncated>"
	    "<Contents><Key>pre/duplicity-full.20240101T000000Z.manifest.gpg"
	    "</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
	    "<ETag>&quot;abc&quot;</ETag><Size>12</Size>"
	    "<StorageClass>STANDARD</StorageClass></Contents>\n"
	    "  <Contents><Key>pre/a&amp;b &lt;c&gt; &#x263A;&#65;</Key>"
	    "</Contents>"
	    "<Contents><Key><![CDATA[pre/<raw>&]]></Key></Contents>"
	    "<CommonPrefixes><Prefix>pre/sub/</Prefix></CommonPrefixes>"
	    "<NextContinuationToken>1/xyz+=</NextContinuationToken>"
	    "</ListBucketResult>";
	const char *p2 =
	    "<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "<Contents><Key>pre/last</Key></Contents></ListBucketResult>";
	const char *empty =
	    "<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "<KeyCount>0</KeyCount></ListBucketResult>";
	struct arca_strlist keys = { 0 };
	char *token = NULL, err[128];
	int trunc = -1;

	CHECK_INT(parse_list(p1, &keys, &trunc, &token, err, sizeof(err)), 0);
	CHECK_INT(keys.n, 3);
	if (keys.n == 3) {
		CHECK_STR(keys.v[0],
		    "pre/duplicity-full.20240101T000000Z.manifest.gpg");
		CHECK_STR(keys.v[1], "pre/a&b <c> \xe2\x98\xba" "A");
		CHECK_STR(keys.v[2], "pre/<raw>&");
	}
	CHECK_INT(trunc, 1);
	CHECK_STR(token, "1/xyz+=");
	free(token);
	CHECK_INT(parse_list(p2, &keys, &trunc, &token, err, sizeof(err)), 0);
	CHECK_INT(keys.n, 4);
	CHECK_INT(trunc, 0);
	CHECK(token == NULL);
	CHECK_INT(parse_list(empty, &keys, &trunc, &token, err, sizeof(err)),
	    0);
	CHECK_INT(keys.n, 4);
	arca_strlist_free(&keys);
}

/* A hostile or broken listing is refused with a reason, adds nothing. */
static void
expect_bad_list(const char *doc, const char *reason)
{
	struct arca_strlist keys = { 0 };
	char *token = (char *)"unset", err[128];
	int trunc = 7;

	arca_strlist_add(&keys, "before");
	CHECK_INT(arca_s3_parse_list(doc, strlen(doc), 1000, &keys, &trunc,
	    &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	if (strstr(err, reason) == NULL)
		fprintf(stderr, "  error \"%s\" lacks \"%s\" for: %.80s\n", err,
		    reason, doc);
	CHECK(strstr(err, reason) != NULL);
	CHECK_INT(keys.n, 1);
	CHECK(token == NULL);
	CHECK_INT(trunc, 0);
	arca_strlist_free(&keys);
}

static void
test_list_hostile(void)
{
	struct arca_buf b = { 0 };
	struct arca_strlist keys = { 0 };
	char *token, err[128];
	int trunc, i;

	/* No DTD at all: no billion laughs, no external entities. */
	expect_bad_list("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a "
	    "\"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><ListBucketResult><Contents>"
	    "<Key>&b;</Key></Contents></ListBucketResult>",
	    "document type declarations are refused");
	expect_bad_list("<ListBucketResult><Contents><Key>&xxe;</Key>"
	    "</Contents></ListBucketResult>", "unknown entity");
	expect_bad_list("<ListBucketResult><Contents><Key>a&#0;b</Key>"
	    "</Contents></ListBucketResult>", "non-character");
	expect_bad_list("<ListBucketResult><Contents><Key>&#xD800;</Key>"
	    "</Contents></ListBucketResult>", "non-character");
	expect_bad_list("<ListBucketResult><Contents><Key>&#x110000;</Key>"
	    "</Contents></ListBucketResult>", "out of range");
	expect_bad_list("<ListBucketResult><Contents><Key>&#12a;</Key>"
	    "</Contents></ListBucketResult>", "bad character reference");
	expect_bad_list("<ListBucketResult><Contents><Key>x</Contents>"
	    "</Key></ListBucketResult>", "does not match");
	expect_bad_list("<ListBucketResult><Contents><Key>x</Key>",
	    "ends inside an element");
	expect_bad_list("<ListBucketResult><Contents><Key>x</Key></Contents",
	    "unterminated end tag");
	expect_bad_list("<ListBucketResult></ListBucketResult><Extra/>",
	    "more than one root");
	expect_bad_list("junk<ListBucketResult></ListBucketResult>",
	    "text outside the root");
	expect_bad_list("", "no root element");
	expect_bad_list("<Error><Code>AccessDenied</Code></Error>",
	    "not a bucket listing");
	expect_bad_list("<ListBucketResult><IsTruncated>true</IsTruncated>"
	    "<Contents><Key>x</Key></Contents></ListBucketResult>",
	    "without a continuation token");
	expect_bad_list("<ListBucketResult><IsTruncated>maybe</IsTruncated>"
	    "</ListBucketResult>", "neither true nor false");
	expect_bad_list("<ListBucketResult><Contents><Key></Key></Contents>"
	    "</ListBucketResult>", "empty key");
	expect_bad_list("<ListBucketResult><Contents><Key a='>'>x</Key>"
	    "</Contents><![CDATA[unterminated</ListBucketResult>",
	    "unterminated CDATA");
	expect_bad_list("<ListBucketResult><!-- never closed",
	    "unterminated comment");
	expect_bad_list("<ListBucketResult a=\"x<y\"/>", "'<' in an attribute");
	expect_bad_list("<ListBucketResult><Contents><Key>x</Key></Contents>"
	    "<NextContinuationToken>a</NextContinuationToken>"
	    "<NextContinuationToken>b</NextContinuationToken>"
	    "</ListBucketResult>", "two continuation tokens");

	/* A NUL byte in the document itself */
	CHECK_INT(arca_s3_parse_list("<ListBucketResult>\0</ListBucketResult>",
	    37, 1000, &keys, &trunc, &token, err, sizeof(err)),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "NUL") != NULL);

	/* Nesting deeper than any answer of S3's */
	arca_buf_puts(&b, "<ListBucketResult>");
	for (i = 0; i < 40; i++)
		arca_buf_puts(&b, "<a>");
	arca_buf_putc(&b, 0);
	CHECK_INT(arca_s3_parse_list((char *)b.data, b.len - 1, 1000, &keys,
	    &trunc, &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "nested too deeply") != NULL);
	arca_buf_free(&b);

	/* Text longer than any key or token */
	arca_buf_puts(&b, "<ListBucketResult><Contents><Key>");
	for (i = 0; i < ARCA_S3_XML_MAXTEXT + 10; i++)
		arca_buf_putc(&b, 'k');
	arca_buf_puts(&b, "</Key></Contents></ListBucketResult>");
	CHECK_INT(arca_s3_parse_list((char *)b.data, b.len, 1000, &keys,
	    &trunc, &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "too long") != NULL);
	arca_buf_free(&b);

	/* ... also when it comes as CDATA */
	arca_buf_puts(&b, "<ListBucketResult><Contents><Key><![CDATA[");
	for (i = 0; i < ARCA_S3_XML_MAXTEXT + 10; i++)
		arca_buf_putc(&b, 'k');
	arca_buf_puts(&b, "]]></Key></Contents></ListBucketResult>");
	CHECK_INT(arca_s3_parse_list((char *)b.data, b.len, 1000, &keys,
	    &trunc, &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "too long") != NULL);
	arca_buf_free(&b);

	/* A name longer than the path limit */
	arca_buf_puts(&b, "<");
	for (i = 0; i < ARCA_S3_XML_MAXPATH + 1; i++)
		arca_buf_putc(&b, 'n');
	arca_buf_puts(&b, "/>");
	CHECK_INT(arca_s3_parse_list((char *)b.data, b.len, 1000, &keys,
	    &trunc, &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "path too long") != NULL);
	arca_buf_free(&b);

	/* More keys in a page than a page may hold */
	arca_buf_puts(&b, "<ListBucketResult>");
	for (i = 0; i < 1001; i++)
		arca_buf_printf(&b, "<Contents><Key>k%d</Key></Contents>", i);
	arca_buf_puts(&b, "</ListBucketResult>");
	CHECK_INT(arca_s3_parse_list((char *)b.data, b.len, 1000, &keys,
	    &trunc, &token, err, sizeof(err)), ARCA_ERR_CORRUPT);
	CHECK(strstr(err, "more keys") != NULL);
	CHECK_INT(keys.n, 0);
	arca_buf_free(&b);

	/* Truncated anywhere, a real listing is refused, never half-read. */
	{
		const char *doc = "<?xml version=\"1.0\"?><ListBucketResult "
		    "xmlns=\"x\"><IsTruncated>false</IsTruncated><Contents>"
		    "<Key>a&amp;b</Key></Contents></ListBucketResult>";
		size_t n, len = strlen(doc);

		for (n = 0; n < len; n++) {
			int r = arca_s3_parse_list(doc, n, 1000, &keys, &trunc,
			    &token, err, sizeof(err));

			CHECK_INT(r, ARCA_ERR_CORRUPT);
			CHECK_INT(keys.n, 0);
		}
		CHECK_INT(arca_s3_parse_list(doc, len, 1000, &keys, &trunc,
		    &token, err, sizeof(err)), 0);
		CHECK_INT(keys.n, 1);
		arca_strlist_free(&keys);
	}
}

/* Every byte value, everywhere: no crash, no read past the end (ASan). */
static void
test_xml_fuzzish(void)
{
	const char *seed = "<?xml v?><ListBucketResult a='1'><Contents><Key>"
	    "k&amp;&#65;&#x42;<![CDATA[c]]></Key></Contents><!--c-->"
	    "<IsTruncated>true</IsTruncated><NextContinuationToken>t"
	    "</NextContinuationToken></ListBucketResult>";
	struct arca_strlist keys = { 0 };
	size_t len = strlen(seed), i;
	char *doc, *token, err[128];
	int trunc, c;

	for (i = 0; i < len; i++)
		for (c = 0; c < 256; c += 7) {
			doc = malloc(len);
			memcpy(doc, seed, len);
			doc[i] = (char)c;
			if (arca_s3_parse_list(doc, len, 1000, &keys, &trunc,
			    &token, err, sizeof(err)) == 0)
				free(token);
			arca_strlist_free(&keys);
			free(doc);
		}
	CHECK(1);
}

static void
test_error_doc(void)
{
	const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
	    "<Code>AuthorizationHeaderMalformed</Code><Message>the region "
	    "'eu-west-1' is wrong; expecting 'us-east-1'</Message>"
	    "<Region>us-east-1</Region><RequestId>tx1</RequestId></Error>";
	struct arca_s3_error e;

	CHECK_INT(arca_s3_parse_error(doc, strlen(doc), &e), 1);
	CHECK_STR(e.code, "AuthorizationHeaderMalformed");
	CHECK_STR(e.region, "us-east-1");
	CHECK(strstr(e.message, "expecting 'us-east-1'") != NULL);
	CHECK_INT(arca_s3_parse_error("<html>502</html>", 16, &e), 0);
	CHECK_STR(e.code, "");
	CHECK_INT(arca_s3_parse_error("<Error><Code>x", 14, &e), 0);
	CHECK_INT(arca_s3_parse_error(NULL, 0, &e), 0);
}

static void
test_xml_escape(void)
{
	struct arca_buf b = { 0 };

	CHECK_INT(arca_s3_xml_escape(&b, "a&b<c>d\"e'f"), 0);
	arca_buf_putc(&b, 0);
	CHECK_STR((char *)b.data, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	arca_buf_free(&b);
}

/* ----------------------------------------------------- URLs and options */

struct s3_open_case {
	const char *url;
	const char *const *opts;
	int rc;
	const char *host;
	int port, https, path_style;
	const char *bucket, *prefix, *region;
};

static void
check_open(const struct s3_open_case *c, const struct arca_backend_ops *ops)
{
	struct arca_ctx ctx = { 0 };
	struct arca_url u;
	struct arca_s3 *st = NULL;
	void *state = NULL;
	int rc;

	ctx.verbosity = -1;
	CHECK_INT(arca_url_parse(&ctx, c->url, &u), 0);
	u.options = c->opts;
	rc = ops->open(&ctx, &u, 1, &state);
	if (rc != c->rc)
		fprintf(stderr, "  %s: %s\n", c->url, ctx.errmsg);
	CHECK_INT(rc, c->rc);
	st = state;
	if (rc == 0 && st != NULL) {
		CHECK_STR(st->host, c->host);
		CHECK_INT(st->port, c->port);
		CHECK_INT(st->https, c->https);
		CHECK_INT(st->path_style, c->path_style);
		CHECK_STR(st->bucket, c->bucket);
		CHECK_STR(st->prefix, c->prefix);
		CHECK_STR(st->region, c->region);
		ops->close(state);
	}
	arca_url_free(&u);
}

static void
test_open_forms(void)
{
	static const char *const plain[] = { "s3-unencrypted-connection",
		NULL };
	static const char *const ep[] = { "s3-endpoint-url=http://127.0.0.1:"
		"9000", "s3-region-name=eu-west-3", NULL };
	static const char *const eps[] = { "s3-endpoint-url=https://[::1]:443/",
		"s3-use-new-style", NULL };
	static const char *const bad_ep[] = { "s3-endpoint-url=ftp://x", NULL };
	static const char *const ep_path[] = { "s3-endpoint-url=http://x/y",
		NULL };
	static const char *const chunk[] = { "s3-multipart-chunk-size=0",
		NULL };
	static const char *const two[] = { "s3-use-ia", "s3-use-rrs", NULL };
	static const char *const kms[] = {
		"s3-use-server-side-kms-encryption", NULL };
	static const struct s3_open_case cases[] = {
		{ "s3://127.0.0.1:8080/bkt/a//b/", plain, 0, "127.0.0.1",
		  8080, 0, 1, "bkt", "a/b/", "us-east-1" },
		{ "s3://minio.example/bkt", NULL, 0, "minio.example", 0, 1,
		  1, "bkt", "", "us-east-1" },
		{ "s3:///bkt/x/y", ep, 0, "127.0.0.1", 9000, 0, 1, "bkt",
		  "x/y/", "eu-west-3" },
		/* duplicity 2.x: with an endpoint, the URL's host is the
		 * bucket */
		{ "s3://bkt/x", ep, 0, "127.0.0.1", 9000, 0, 1, "bkt", "x/",
		  "eu-west-3" },
		{ "s3:///bkt", eps, 0, "::1", 443, 1, 0, "bkt", "",
		  "us-east-1" },
		/* ... unless it is the endpoint's own host (0.8's form) */
		{ "s3://127.0.0.1:9000/bkt/x", ep, 0, "127.0.0.1", 9000, 0, 1,
		  "bkt", "x/", "eu-west-3" },
		{ "s3://127.0.0.1/bkt/x", ep, 0, "127.0.0.1", 9000, 0, 1,
		  "bkt", "x/", "eu-west-3" },
		{ "s3://127.0.0.1:9001/bkt/x", ep, .rc = ARCA_ERR_USAGE },
		{ "s3+http://bkt/p/q", NULL, 0, "s3.amazonaws.com", 0, 1, 0,
		  "bkt", "p/q/", "us-east-1" },
		{ "s3+http://Old_Bucket/p", NULL, 0, "s3.amazonaws.com", 0, 1,
		  1, "Old_Bucket", "p/", "us-east-1" },
		{ "s3:///my.dotted.bkt/p", ep + 1, 0,
		  "s3.eu-west-3.amazonaws.com", 0, 1, 1, "my.dotted.bkt",
		  "p/", "eu-west-3" },
		{ "s3://127.0.0.1:8080/", NULL, .rc = ARCA_ERR_USAGE },
		{ "s3:///", NULL, .rc = ARCA_ERR_USAGE },
		{ "s3://h/bad%20bucket/x", NULL, .rc = ARCA_ERR_USAGE },
		{ "s3:///b", bad_ep, .rc = ARCA_ERR_USAGE },
		{ "s3:///b", ep_path, .rc = ARCA_ERR_USAGE },
		{ "s3:///b", chunk, .rc = ARCA_ERR_USAGE },
		{ "s3:///b", two, .rc = ARCA_ERR_USAGE },
		{ "s3:///b", kms, .rc = ARCA_ERR_USAGE },
		{ "s3://AKID:secret@h/b", NULL, .rc = ARCA_ERR_USAGE },
	};
	size_t i;

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_open(&cases[i], strncmp(cases[i].url, "s3+http", 7) == 0 ?
		    &arca_backend_s3_http : &arca_backend_s3);
}

static void
test_open_credentials(void)
{
	static const struct s3_open_case c = { "s3:///b", NULL,
		.rc = ARCA_ERR_AUTH };
	static const char *const opts[] = { "s3-use-glacier",
		"s3-use-server-side-encryption", "s3-multipart-chunk-size=7",
		"s3-multipart-max-procs=3", NULL };
	struct arca_s3_kv h[4];
	struct arca_ctx ctx = { 0 };
	struct arca_url u;
	struct arca_s3 *st;
	void *state = NULL;

	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	check_open(&c, &arca_backend_s3);
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	check_open(&c, &arca_backend_s3);

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	setenv("AWS_REGION", "sa-east-1", 1);
	ctx.verbosity = -1;
	CHECK_INT(arca_url_parse(&ctx, "s3://h:1/b/p", &u), 0);
	u.options = opts;
	CHECK_INT(arca_backend_s3.open(&ctx, &u, 0, &state), 0);
	st = state;
	if (st != NULL) {
		CHECK_STR(st->session_token, "tok");
		CHECK_STR(st->region, "sa-east-1");
		CHECK_INT(st->chunk_size, 7 * 1024 * 1024);
		CHECK_INT(st->max_procs, 3);
		/* Volumes go cold, manifests stay at hand (duplicity). */
		CHECK_INT(arca_s3_put_headers(st, "duplicity-full.x.vol1."
		    "difftar.gpg", h, 4), 2);
		CHECK_STR(h[0].name, "x-amz-storage-class");
		CHECK_STR(h[0].value, "GLACIER");
		CHECK_STR(h[1].value, "AES256");
		CHECK_INT(arca_s3_put_headers(st, "duplicity-full.x."
		    "manifest.gpg", h, 4), 1);
		CHECK_STR(h[0].name, "x-amz-server-side-encryption");
		arca_backend_s3.close(state);
	}
	arca_url_free(&u);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
}

/* ------------------------------------------- live, against a real server */

/*
 * Run only when tests/integration/20_s3.sh points them at its Swift:
 * ARCA_S3_LIVE_URL (an empty prefix of a bucket), ARCA_S3_LIVE_OPTS
 * (backend options, space-separated), ARCA_S3_LIVE_BIG_URL and
 * ARCA_S3_LIVE_BIG_MIN (a prefix holding at least that many files), and
 * the AWS_* credentials.  They drive the backend through the core's own
 * interface, as the engine does.
 */
static char *live_optbuf;
static const char *live_opts[16];

static int
live_on(void)
{
	static int done;
	const char *o = getenv("ARCA_S3_LIVE_OPTS");
	char *p, *save = NULL;
	size_t n = 0;

	if (getenv("ARCA_S3_LIVE_URL") == NULL)
		return 0;
	if (!done && o != NULL) {
		live_optbuf = strdup(o);
		for (p = strtok_r(live_optbuf, " ", &save); p != NULL &&
		    n < 15; p = strtok_r(NULL, " ", &save))
			live_opts[n++] = p;
		live_opts[n] = NULL;
	}
	done = 1;
	return 1;
}

static struct arca_backend *
live_open(struct arca_ctx *ctx, const char *url)
{
	struct arca_backend *b = NULL;
	int rc;

	ctx->verbosity = -1;
	rc = arca_backend_open(ctx, url, 1, live_opts, &b);
	if (rc != 0)
		fprintf(stderr, "  open %s: %s\n", url, ctx->errmsg);
	CHECK_INT(rc, 0);
	if (b != NULL)
		arca_backend_set_retries(b, 2, 0.2);
	return b;
}

static void
write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK_INT(write(fd, data, n), (long long)n);
	close(fd);
}

/* The file's content, malloc'd, length in *n; NULL if unreadable. */
static char *
read_file(const char *path, size_t *n)
{
	struct arca_buf b = { 0 };
	char tmp[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		arca_buf_append(&b, tmp, (size_t)r);
	close(fd);
	*n = b.len;
	return arca_buf_steal(&b);
}

/* Every character duplicity's names use, and the awkward ones besides. */
static const char *const live_names[] = {
	"duplicity-full.20240101T000000Z.vol1.difftar.gpg",
	"duplicity-full.20240101T000000Z.manifest.gpg",
	"duplicity-full-signatures.20240101T000000Z.sigtar.gpg",
	"duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol12.difftar.gz",
	"duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z."
	    "sigtar.gz",
	"a b+c=d&e;f:g@h,i$j!k*l'm(n)o~p%41%",
	"\xc3\xbcn\xc3\xaf\xe2\x82\xac-\xe6\x97\xa5\xe6\x9c\xac",
	"x<y>&\"'#?[]{}|^`\\",
	"..x", ".hidden", "-dash", "~",
};
#define NLIVE (sizeof(live_names) / sizeof(live_names[0]))

static void
test_live_roundtrip(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b;
	struct arca_strlist l = { 0 }, want = { 0 };
	char *dir, path[512], *got;
	const char *gone[NLIVE + 1];
	size_t i, n;

	if (!live_on())
		return;
	if ((b = live_open(&ctx, getenv("ARCA_S3_LIVE_URL"))) == NULL)
		return;
	dir = test_tmpdir();
	for (i = 0; i < NLIVE; i++) {
		snprintf(path, sizeof(path), "%s/up", dir);
		/* Each file holds its own name, and one is empty. */
		write_file(path, live_names[i], i == 1 ? 0 :
		    strlen(live_names[i]));
		if (arca_backend_put(b, path, live_names[i]) != 0)
			fprintf(stderr, "  put %s: %s\n", live_names[i],
			    ctx.errmsg);
		arca_strlist_add(&want, live_names[i]);
	}
	CHECK_INT(arca_backend_list(b, &l), 0);
	arca_strlist_sort(&l);
	arca_strlist_sort(&want);
	CHECK_INT(l.n, NLIVE);
	for (i = 0; i < l.n && i < want.n; i++)
		CHECK_STR(l.v[i], want.v[i]);
	arca_strlist_free(&l);
	for (i = 0; i < NLIVE; i++) {
		snprintf(path, sizeof(path), "%s/down", dir);
		CHECK_INT(arca_backend_get(b, live_names[i], path), 0);
		got = read_file(path, &n);
		CHECK(got != NULL);
		CHECK_INT(n, i == 1 ? 0 : strlen(live_names[i]));
		if (got != NULL && n == strlen(live_names[i]))
			CHECK_MEM(got, live_names[i], n);
		free(got);
		unlink(path);
	}

	/* A missing file: NOTFOUND, and no file left behind. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_INT(arca_backend_get(b, "duplicity-nothing-here", path),
	    ARCA_ERR_NOTFOUND);
	CHECK(access(path, F_OK) != 0);

	/* One DeleteObjects for all, a missing one among them. */
	for (i = 0; i < NLIVE; i++)
		gone[i] = live_names[i];
	gone[NLIVE] = "never-there";
	CHECK_INT(arca_backend_delete_many(b, gone, NLIVE + 1), 0);
	CHECK_INT(arca_backend_list(b, &l), 0);
	CHECK_INT(l.n, 0);
	arca_strlist_free(&l);
	CHECK_INT(arca_backend_delete(b, "never-there"), 0);
	/* Names the core refuses never reach the server. */
	gone[0] = "a/b";
	CHECK_INT(arca_backend_delete_many(b, gone, 1), ARCA_ERR_UNSAFE);

	arca_backend_close(b);
	arca_strlist_free(&want);
	snprintf(path, sizeof(path), "%s/up", dir);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Larger than a chunk: a multipart upload, read back whole. */
static void
test_live_multipart(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b;
	struct arca_strlist l = { 0 };
	char *dir, up[512], down[512], *data, *got;
	size_t n = 11 * 1024 * 1024 + 3, i, gn;
	const char *name = "duplicity-full.20240101T000000Z.vol2.difftar.gpg";

	if (!live_on())
		return;
	if ((b = live_open(&ctx, getenv("ARCA_S3_LIVE_URL"))) == NULL)
		return;
	dir = test_tmpdir();
	snprintf(up, sizeof(up), "%s/up", dir);
	snprintf(down, sizeof(down), "%s/down", dir);
	data = malloc(n);
	for (i = 0; i < n; i++)
		data[i] = (char)((i * 2654435761u) >> 13);
	write_file(up, data, n);
	if (arca_backend_put(b, up, name) != 0)
		fprintf(stderr, "  multipart put: %s\n", ctx.errmsg);
	CHECK_INT(arca_backend_get(b, name, down), 0);
	got = read_file(down, &gn);
	CHECK_INT(gn, n);
	if (got != NULL && gn == n)
		CHECK_MEM(got, data, n);
	free(got);
	CHECK_INT(arca_backend_list(b, &l), 0);
	CHECK_INT(l.n, 1);
	arca_strlist_free(&l);
	CHECK_INT(arca_backend_delete(b, name), 0);
	arca_backend_close(b);
	free(data);
	unlink(up);
	unlink(down);
	rmdir(dir);
	free(dir);
}

static void
test_live_bad_secret(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b;
	struct arca_strlist l = { 0 };
	char *secret;

	if (!live_on())
		return;
	secret = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
	setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-one", 1);
	b = live_open(&ctx, getenv("ARCA_S3_LIVE_URL"));
	if (b != NULL) {
		CHECK_INT(arca_backend_list(b, &l), ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "AWS_SECRET_ACCESS_KEY") != NULL);
		CHECK(strstr(ctx.errmsg, "not-the-right-one") == NULL);
		arca_backend_close(b);
	}
	setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
	free(secret);
}

/* More than a page: ListObjectsV2 continues until the end. */
static void
test_live_big_listing(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b;
	struct arca_strlist l = { 0 };
	const char *url = getenv("ARCA_S3_LIVE_BIG_URL");
	const char *min = getenv("ARCA_S3_LIVE_BIG_MIN");
	size_t i;

	if (!live_on() || url == NULL || min == NULL)
		return;
	if ((b = live_open(&ctx, url)) == NULL)
		return;
	CHECK_INT(arca_backend_list(b, &l), 0);
	if (l.n < (size_t)atol(min))
		fprintf(stderr, "  listed %zu, want %s or more\n", l.n, min);
	CHECK(l.n >= (size_t)atol(min));
	arca_strlist_sort(&l);
	for (i = 1; i < l.n; i++)
		CHECK(strcmp(l.v[i - 1], l.v[i]) != 0);
	arca_strlist_free(&l);
	arca_backend_close(b);
}

/* The offline tests set their own credentials; the live ones need these. */
static char *saved_ak, *saved_sk;

static void
creds_save(void)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");

	saved_ak = ak ? strdup(ak) : NULL;
	saved_sk = sk ? strdup(sk) : NULL;
}

static void
creds_restore(void)
{
	if (saved_ak != NULL)
		setenv("AWS_ACCESS_KEY_ID", saved_ak, 1);
	if (saved_sk != NULL)
		setenv("AWS_SECRET_ACCESS_KEY", saved_sk, 1);
	free(saved_ak);
	free(saved_sk);
}

int
main(void)
{
	creds_save();
	RUN(test_sigv4_doc_get_object);
	RUN(test_sigv4_doc_put_object);
	RUN(test_sigv4_doc_bucket);
	RUN(test_sigv4_suite_vanilla);
	RUN(test_sigv4_refuses);
	RUN(test_uri_encode);
	RUN(test_hashes);
	RUN(test_sigv4_vs_botocore);
	RUN(test_list_pages);
	RUN(test_list_hostile);
	RUN(test_xml_fuzzish);
	RUN(test_error_doc);
	RUN(test_xml_escape);
	RUN(test_open_forms);
	RUN(test_open_credentials);
	creds_restore();
	if (live_on()) {
		RUN(test_live_roundtrip);
		RUN(test_live_multipart);
		RUN(test_live_bad_secret);
		RUN(test_live_big_listing);
	} else
		fprintf(stderr, "live tests not run here: "
		    "tests/integration/20_s3.sh runs them against Swift\n");
	free(live_optbuf);
	TEST_DONE();
}
