/*
 * s3_error.c: S3's error answers turned into arca errors with messages a
 * person can act on (which key, which region, which clock), and the
 * retryable ones (5xx, 429, timeouts, "slow down") marked so.
 */
#include <stdio.h>
#include <string.h>

#include "backend/s3_internal.h"
#include "util/ctx.h"

/* Keep server text printable in our messages. */
void
arca_s3_clean_text(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s == 127)
			*s = '?';
}

/* The endpoint for messages: no path, no query, nothing secret. */
void
arca_s3_endpoint_text(const struct arca_s3 *st, char *out, size_t cap)
{
	const char *v6 = strchr(st->host, ':') != NULL ? "[" : "";

	if (st->port != 0)
		snprintf(out, cap, "%s://%s%s%s:%d", st->https ? "https" :
		    "http", v6, st->host, *v6 ? "]" : "", st->port);
	else
		snprintf(out, cap, "%s://%s%s%s", st->https ? "https" :
		    "http", v6, st->host, *v6 ? "]" : "");
}

static int
code_is(const struct arca_s3_error *e, const char *c)
{
	return strcmp(e->code, c) == 0;
}

int
arca_s3_check(struct arca_s3 *st, const struct arca_s3_response *rs,
    const char *what)
{
	struct arca_s3_error e;
	char detail[400], where[300];
	const char *region;
	long s = rs->status;

	st->no_bucket = 0;
	if (s >= 200 && s < 300)
		return 0;
	arca_s3_parse_error((const char *)rs->body.data, rs->body.len, &e);
	arca_s3_clean_text(e.code);
	arca_s3_clean_text(e.message);
	arca_s3_clean_text(e.region);
	if (e.code[0] != '\0')
		snprintf(detail, sizeof(detail), "S3 %s%s%s, HTTP %ld", e.code,
		    e.message[0] ? ": " : "", e.message, s);
	else
		snprintf(detail, sizeof(detail), "HTTP %ld", s);
	arca_s3_endpoint_text(st, where, sizeof(where));
	region = e.region[0] ? e.region : rs->bucket_region;

	if (code_is(&e, "SignatureDoesNotMatch"))
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s refused: the "
		    "request signature does not match; the secret key "
		    "(AWS_SECRET_ACCESS_KEY) is wrong for this access key, "
		    "or the server is not the one for region %s (%s)", what,
		    st->region, detail);
	if (code_is(&e, "InvalidAccessKeyId"))
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s refused: the "
		    "server does not know the access key in "
		    "AWS_ACCESS_KEY_ID (%s)", what, detail);
	if (code_is(&e, "ExpiredToken") || code_is(&e, "InvalidToken") ||
	    code_is(&e, "TokenRefreshRequired"))
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s refused: the "
		    "session token (AWS_SESSION_TOKEN) has expired or is not "
		    "valid (%s)", what, detail);
	if (code_is(&e, "AccessDenied") || code_is(&e, "AllAccessDisabled") ||
	    (s == 403 && e.code[0] == '\0'))
		return arca_error(st->ctx, ARCA_ERR_AUTH, "%s refused: access "
		    "denied to bucket %s for these credentials (%s)", what,
		    st->bucket, detail);
	if (code_is(&e, "RequestTimeTooSkewed"))
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s refused: this "
		    "computer's clock differs from the server's by more than "
		    "15 minutes; set the clock right (%s)", what, detail);
	if (code_is(&e, "NoSuchBucket")) {
		st->no_bucket = 1;
		return arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s failed: "
		    "bucket %s does not exist at %s", what, st->bucket, where);
	}
	if (code_is(&e, "NoSuchKey") || (s == 404 && e.code[0] == '\0'))
		return arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s failed: not "
		    "found (%s)", what, detail);
	if (code_is(&e, "AuthorizationHeaderMalformed") ||
	    code_is(&e, "PermanentRedirect") || code_is(&e, "Redirect") ||
	    code_is(&e, "IllegalLocationConstraintException") ||
	    s == 301 || s == 307) {
		if (region[0] != '\0' && strcmp(region, st->region) != 0)
			return arca_error(st->ctx, ARCA_ERR_USAGE, "%s failed: "
			    "bucket %s is in region %s, not %s; give "
			    "--s3-region-name %s (%s)", what, st->bucket,
			    region, st->region, region, detail);
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s failed: the "
		    "server sends us elsewhere; check the endpoint and "
		    "--s3-region-name (%s)", what, detail);
	}
	if (code_is(&e, "InvalidStorageClass"))
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s refused: the "
		    "server does not offer storage class %s (%s)", what,
		    st->storage_class ? st->storage_class : "STANDARD",
		    detail);
	if (code_is(&e, "EntityTooSmall"))
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s refused: "
		    "multipart chunks are too small for this server; raise "
		    "--s3-multipart-chunk-size (%s)", what, detail);
	if (code_is(&e, "InvalidBucketName"))
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s refused: '%s' "
		    "is not a valid bucket name (%s)", what, st->bucket,
		    detail);
	/* Damaged on the way (Content-MD5 or SHA-256 checked by the server),
	 * or the service asking us to come back: worth another try. */
	if (code_is(&e, "BadDigest") || code_is(&e, "InvalidDigest") ||
	    code_is(&e, "XAmzContentSHA256Mismatch") ||
	    code_is(&e, "IncompleteBody") || code_is(&e, "SlowDown") ||
	    code_is(&e, "RequestTimeout") || code_is(&e, "InternalError") ||
	    code_is(&e, "ServiceUnavailable") ||
	    code_is(&e, "OperationAborted") || s >= 500 || s == 429 ||
	    s == 408)
		return arca_error(st->ctx, ARCA_ERR_RETRY, "%s failed: %s",
		    what, detail);
	return arca_error(st->ctx, ARCA_ERR_BACKEND, "%s failed: %s", what,
	    detail);
}
