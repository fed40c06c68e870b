/*
 * s3_open.c: an S3 target from its URL, the backend options and the
 * environment (see s3.c for the URL forms), and the headers every upload
 * carries.  Opening sends nothing: the core retries operations, not
 * opening.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/http.h"
#include "backend/s3_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#define S3_MIB			(1024u * 1024u)
/* duplicity's defaults and S3's limits */
#define S3_CHUNK_DEFAULT	25
#define S3_CHUNK_MIN		5
#define S3_CHUNK_MAX		5120
#define S3_PROCS_DEFAULT	4
#define S3_PROCS_MAX		64


const struct arca_backend_optdef arca_s3_options[] = {
	{ "s3-endpoint-url", 1, "S3 server URL (http or https, any port); "
	  "path-style addressing" },
	{ "s3-region-name", 1, "S3 region to sign for (default us-east-1, "
	  "or AWS_REGION)" },
	{ "s3-use-new-style", 0, "virtual-host addressing "
	  "(bucket.host) on a non-AWS server" },
	{ "s3-unencrypted-connection", 0, "plain HTTP to the S3 server" },
	{ "s3-european-buckets", 0, "create the bucket in the EU region" },
	{ "s3-use-rrs", 0, "store with REDUCED_REDUNDANCY" },
	{ "s3-use-ia", 0, "store with STANDARD_IA" },
	{ "s3-use-onezone-ia", 0, "store with ONEZONE_IA" },
	{ "s3-use-glacier", 0, "store volumes with GLACIER" },
	{ "s3-use-glacier-ir", 0, "store volumes with GLACIER_IR" },
	{ "s3-use-deep-archive", 0, "store volumes with DEEP_ARCHIVE" },
	{ "s3-multipart-chunk-size", 1, "multipart upload above this many "
	  "MiB, in parts of this size (default 25)" },
	{ "s3-multipart-max-procs", 1, "parts uploaded at once (default 4)" },
	{ "s3-multipart-max-timeout", 1, "seconds one part may take" },
	{ "s3-use-multiprocessing", 0, "accepted for duplicity; parts are "
	  "always parallel" },
	{ "s3-use-server-side-encryption", 0, "ask S3 to encrypt with AES256" },
	{ "s3-use-server-side-kms-encryption", 0, "ask S3 to encrypt with "
	  "KMS (needs --s3-kms-key-id)" },
	{ "s3-kms-key-id", 1, "KMS key for --s3-use-server-side-kms-"
	  "encryption" },
	{ "s3-kms-grant", 1, "grant full control to these KMS grantees" },
	{ "timeout", 1, "seconds without progress before a transfer is "
	  "given up (default 30)" },
	ARCA_HTTP_OPTIONS,
	{ NULL, 0, NULL }
};

int
arca_s3_etag_differs(const char *etag, const char *md5)
{
	size_t n = strlen(etag), i;

	if (n == 34 && etag[0] == '"' && etag[33] == '"') {
		etag++;
		n = 32;
	}
	if (n != 32)
		return 0;
	for (i = 0; i < 32; i++) {
		int c = (unsigned char)etag[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return 0;	/* not an MD5: some servers differ */
		if ((c | 0x20) != md5[i])
			return 1;
	}
	return 0;
}

int
arca_s3_response_etag_differs(const struct arca_s3_response *rs,
    const char *md5)
{
	if (strncmp(rs->sse, "aws:kms", 7) == 0 || rs->sse_customer[0] != '\0')
		return 0;
	return arca_s3_etag_differs(rs->etag, md5);
}

size_t
arca_s3_put_headers(const struct arca_s3 *st, const char *name,
    struct arca_s3_kv *h, size_t max)
{
	size_t n = 0;

	/* duplicity keeps manifests out of the cold classes: they are read
	 * by every run. */
	if (st->storage_class != NULL && n < max &&
	    !(st->glacier && strstr(name, "manifest") != NULL))
		h[n++] = (struct arca_s3_kv){ "x-amz-storage-class",
		    st->storage_class };
	if (st->sse != NULL && n < max)
		h[n++] = (struct arca_s3_kv){ "x-amz-server-side-encryption",
		    st->sse };
	if (st->kms_key_id != NULL && n < max)
		h[n++] = (struct arca_s3_kv){
		    "x-amz-server-side-encryption-aws-kms-key-id",
		    st->kms_key_id };
	if (st->kms_grant != NULL && n < max)
		h[n++] = (struct arca_s3_kv){ "x-amz-grant-full-control",
		    st->kms_grant };
	return n;
}

/* ------------------------------------------------------------- opening */

static int
opt_number(struct arca_ctx *ctx, const struct arca_url *url,
    const char *name, long min, long max, long dflt, long *out)
{
	const char *v = arca_url_option(url, name);
	char *end;
	long n;

	*out = dflt;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return arca_error(ctx, ARCA_ERR_USAGE, "bad --%s '%s': give a "
		    "number from %ld to %ld", name, v, min, max);
	*out = n;
	return 0;
}

/* Bucket names go into Host headers and paths: keep to S3's alphabet. */
static int
check_bucket(struct arca_ctx *ctx, const struct arca_url *url,
    const char *b)
{
	size_t i;

	if (b[0] == '\0')
		return arca_error(ctx, ARCA_ERR_USAGE, "URL %s names no "
		    "bucket (s3://host/bucket/prefix, s3+http://bucket/"
		    "prefix or s3:///bucket/prefix)", url->redacted);
	for (i = 0; b[i] != '\0'; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_'))
			return arca_error(ctx, ARCA_ERR_USAGE, "bad bucket "
			    "name '%s' in %s: letters, digits, '.', '-' and "
			    "'_' only", b, url->redacted);
	}
	if (i > 255)
		return arca_error(ctx, ARCA_ERR_USAGE, "bucket name too long "
		    "in %s", url->redacted);
	return 0;
}

/*
 * Split path into the bucket (unless bucket_given) and the key prefix,
 * folding empty components as duplicity does: //b//x/ is b and "x/".
 */
static int
split_path(struct arca_s3 *st, const char *path, int bucket_given)
{
	struct arca_buf pre = { 0 };
	const char *p = path, *e;
	size_t n;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (!bucket_given) {
			if ((st->bucket = arca_strndup(p, n)) == NULL)
				goto nomem;
			bucket_given = 1;
		} else if (arca_buf_append(&pre, p, n) != 0 ||
		    arca_buf_putc(&pre, '/') != 0)
			goto nomem;
		p = e;
	}
	if (st->bucket == NULL && (st->bucket = arca_strdup("")) == NULL)
		goto nomem;
	if ((st->prefix = arca_buf_steal(&pre)) == NULL)
		goto nomem;
	return 0;
nomem:
	arca_buf_free(&pre);
	return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
}

static int
set_endpoint(struct arca_s3 *st, const struct arca_url *url,
    const char *endpoint)
{
	struct arca_url eu;
	int rc;

	if ((rc = arca_url_parse(st->ctx, endpoint, &eu)) != 0) {
		arca_error_prefix(st->ctx, "--s3-endpoint-url");
		goto out;
	}
	if (strcmp(eu.scheme, "http") != 0 && strcmp(eu.scheme, "https")
	    != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "--s3-endpoint-url "
		    "%s: want http://host[:port] or https://host[:port]",
		    eu.redacted);
		goto out;
	}
	if (eu.host == NULL || eu.user != NULL || (eu.path[0] != '\0' &&
	    strcmp(eu.path, "/") != 0)) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "--s3-endpoint-url "
		    "%s: want a host and port only, no user or path (the "
		    "bucket goes in the URL: s3:///bucket/prefix)",
		    eu.redacted);
		goto out;
	}
	st->https = strcmp(eu.scheme, "https") == 0;
	st->port = eu.port;
	if ((st->host = arca_strdup(eu.host)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	(void)url;
out:
	arca_url_free(&eu);
	return rc;
}

/* AWS's own endpoint for the region. */
static int
set_aws(struct arca_s3 *st)
{
	struct arca_buf b = { 0 };

	if (strcmp(st->region, ARCA_S3_AWS_REGION) == 0 ?
	    arca_buf_puts(&b, "s3.amazonaws.com") != 0 :
	    arca_buf_printf(&b, "s3.%s.amazonaws.com", st->region) != 0) {
		arca_buf_free(&b);
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	st->host = arca_buf_steal(&b);
	return st->host == NULL ? arca_error(st->ctx, ARCA_ERR_NOMEM,
	    "out of memory") : 0;
}

static int
set_storage(struct arca_s3 *st, const struct arca_url *url)
{
	static const struct {
		const char *opt, *cls;
		int glacier;
	} classes[] = {
		{ "s3-use-rrs", "REDUCED_REDUNDANCY", 0 },
		{ "s3-use-ia", "STANDARD_IA", 0 },
		{ "s3-use-onezone-ia", "ONEZONE_IA", 0 },
		{ "s3-use-glacier", "GLACIER", 1 },
		{ "s3-use-glacier-ir", "GLACIER_IR", 1 },
		{ "s3-use-deep-archive", "DEEP_ARCHIVE", 1 },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (arca_url_option(url, classes[i].opt) == NULL)
			continue;
		if (st->storage_class != NULL)
			return arca_error(st->ctx, ARCA_ERR_USAGE, "give only "
			    "one storage class option (--s3-use-...)");
		st->storage_class = classes[i].cls;
		st->glacier = classes[i].glacier;
	}
	if (arca_url_option(url, "s3-use-server-side-kms-encryption") !=
	    NULL) {
		if ((v = arca_url_option(url, "s3-kms-key-id")) == NULL ||
		    v[0] == '\0')
			return arca_error(st->ctx, ARCA_ERR_USAGE, "--s3-use-"
			    "server-side-kms-encryption needs --s3-kms-key-id");
		st->sse = "aws:kms";
		if ((st->kms_key_id = arca_strdup(v)) == NULL ||
		    ((v = arca_url_option(url, "s3-kms-grant")) != NULL &&
		    (st->kms_grant = arca_strdup(v)) == NULL))
			return arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
	} else if (arca_url_option(url, "s3-use-server-side-encryption") !=
	    NULL)
		st->sse = "AES256";
	return 0;
}

static int
set_credentials(struct arca_s3 *st, const struct arca_url *url)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");

	/* Anyone can read a command line in the process listing. */
	if (url->user != NULL || url->password != NULL)
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s: give S3 "
		    "credentials in AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY, not in the URL", url->redacted);
	if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0')
		return arca_error(st->ctx, ARCA_ERR_AUTH, "S3 needs "
		    "credentials: set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
		    "temporary ones)");
	if ((st->access_key = arca_strdup(ak)) == NULL ||
	    (st->secret_key = arca_strdup(sk)) == NULL ||
	    (tok != NULL && tok[0] != '\0' &&
	    (st->session_token = arca_strdup(tok)) == NULL))
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

void
arca_s3_close(void *vst)
{
	struct arca_s3 *st = vst;

	if (st == NULL)
		return;
	arca_s3_http_close(st);
	if (st->secret_key != NULL) {
		explicit_bzero(st->secret_key, strlen(st->secret_key));
		free(st->secret_key);
	}
	if (st->session_token != NULL) {
		explicit_bzero(st->session_token, strlen(st->session_token));
		free(st->session_token);
	}
	free(st->access_key);
	free(st->where);
	free(st->host);
	free(st->bucket);
	free(st->prefix);
	free(st->region);
	free(st->kms_key_id);
	free(st->kms_grant);
	free(st->cacert);
	free(st->capath);
	free(st);
}

int
arca_s3_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	struct arca_s3 *st;
	const char *endpoint, *region, *v;
	long n;
	int rc, aws = 0, host_form;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->create = create;
	if ((st->where = arca_strdup(url->redacted)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((region = arca_url_option(url, "s3-region-name")) == NULL &&
	    ((region = getenv("AWS_REGION")) == NULL || region[0] == '\0') &&
	    ((region = getenv("AWS_DEFAULT_REGION")) == NULL ||
	    region[0] == '\0'))
		region = ARCA_S3_AWS_REGION;
	if (region[0] == '\0' || strlen(region) > 60 ||
	    strpbrk(region, "/ \t\r\n") != NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "bad --s3-region-name "
		    "'%s'", region);
		goto out;
	}
	if ((st->region = arca_strdup(region)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	st->https = 1;
	st->path_style = arca_url_option(url, "s3-use-new-style") == NULL;
	endpoint = arca_url_option(url, "s3-endpoint-url");
	if (endpoint != NULL) {
		if ((rc = set_endpoint(st, url, endpoint)) != 0)
			goto out;
		/* s3://host:port/bucket naming the endpoint's own server
		 * is 0.8's form; otherwise, as in duplicity 2.x, the URL
		 * names only bucket and prefix. */
		host_form = url->host != NULL && (url->port != 0 ||
		    strcmp(url->host, st->host) == 0);
		if (host_form && (strcmp(url->host, st->host) != 0 ||
		    (url->port != 0 && url->port != st->port))) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "%s and "
			    "--s3-endpoint-url %s name different servers",
			    url->redacted, endpoint);
			goto out;
		}
		if (url->host != NULL && !host_form &&
		    (st->bucket = arca_strdup(url->host)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = split_path(st, url->path, url->host != NULL &&
		    !host_form)) != 0)
			goto out;
	} else if (strcmp(url->scheme, "s3") == 0 && url->host != NULL) {
		if ((st->host = arca_strdup(url->host)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		st->port = url->port;
		if ((rc = split_path(st, url->path, 0)) != 0)
			goto out;
	} else {
		aws = 1;
		if (url->port != 0) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "%s: a port needs "
			    "a host (s3://host:port/bucket)", url->redacted);
			goto out;
		}
		if ((rc = set_aws(st)) != 0)
			goto out;
		if (url->host != NULL &&
		    (st->bucket = arca_strdup(url->host)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = split_path(st, url->path, url->host != NULL)) != 0)
			goto out;
	}
	if (arca_url_option(url, "s3-unencrypted-connection") != NULL &&
	    endpoint == NULL)
		st->https = 0;
	if ((rc = check_bucket(ctx, url, st->bucket)) != 0)
		goto out;
	/* AWS wants virtual hosts, but a dotted name breaks its TLS
	 * wildcard certificate, and old buckets may have names that are no
	 * host names (capitals, '_'): those stay path-style. */
	if (aws && strpbrk(st->bucket, ".ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == NULL)
		st->path_style = 0;
	if ((rc = set_storage(st, url)) != 0)
		goto out;
	if ((rc = opt_number(ctx, url, "s3-multipart-chunk-size", 1,
	    S3_CHUNK_MAX, S3_CHUNK_DEFAULT, &n)) != 0)
		goto out;
	if (n < S3_CHUNK_MIN) {
		arca_warn(ctx, "--s3-multipart-chunk-size %ld is below S3's "
		    "minimum part size: using %d MiB", n, S3_CHUNK_MIN);
		n = S3_CHUNK_MIN;
	}
	st->chunk_size = (uint64_t)n * S3_MIB;
	if ((rc = opt_number(ctx, url, "s3-multipart-max-procs", 1,
	    S3_PROCS_MAX, S3_PROCS_DEFAULT, &n)) != 0)
		goto out;
	st->max_procs = (int)n;
	if ((rc = opt_number(ctx, url, "s3-multipart-max-timeout", 1,
	    7L * 86400, 0, &n)) != 0)
		goto out;
	st->part_timeout = n;
	/* duplicity's --timeout default, as the other HTTP backends */
	if ((rc = opt_number(ctx, url, "timeout", 1, 86400, 30, &n)) != 0)
		goto out;
	st->stall_timeout = n;
	if ((v = arca_url_option(url, "ssl-cacert-file")) != NULL) {
		if (v[0] == '\0' || access(v, R_OK) != 0) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "cannot read "
			    "--ssl-cacert-file '%s': %s", v, v[0] ?
			    strerror(errno) : "empty name");
			goto out;
		}
		if ((st->cacert = arca_strdup(v)) == NULL) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((v = arca_url_option(url, "ssl-cacert-path")) != NULL &&
	    (st->capath = arca_strdup(v)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	st->eu_buckets = arca_url_option(url, "s3-european-buckets") != NULL;
	if (arca_url_option(url, "ssl-no-check-certificate") != NULL) {
		st->insecure = 1;
		arca_warn(ctx, "--ssl-no-check-certificate: the server's TLS "
		    "certificate is not checked");
	}
	if ((rc = set_credentials(st, url)) != 0)
		goto out;
	rc = arca_s3_http_open(st);
out:
	if (rc != 0)
		arca_s3_close(st);
	else
		*state = st;
	return rc;
}
