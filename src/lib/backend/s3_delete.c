/*
 * s3_delete.c: deleting files, one (DeleteObject) or up to 1000 at a
 * time (DeleteObjects).  A file that is gone already counts as deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/s3_internal.h"
#include "crypto/digest.h"
#include "util/buf.h"
#include "util/ctx.h"

/* DeleteObjects takes up to 1000 keys. */
#define S3_DELETE_BATCH		1000

int
arca_s3_del(void *vst, const char *name)
{
	struct arca_s3 *st = vst;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	char what[400];
	char *key;
	int rc;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "deletion of %s", name);
	if ((key = arca_s3_object_key(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	arca_s3_request_init(&rq, "DELETE", key);
	if ((rc = arca_s3_http_do(st, &rq, &rs)) == 0) {
		rc = arca_s3_check(st, &rs, what);
		/* Already gone is what was asked for. */
		if (rc == ARCA_ERR_NOTFOUND && !arca_s3_error_code_is(&rs,
		    "NoSuchBucket"))
			rc = 0;
	}
	arca_s3_response_free(&rs);
	free(key);
	return rc;
}


struct delres_ud {
	struct arca_s3_error first;	/* the first per-key failure */
	struct arca_s3_error cur;
	int nerr;
	int root_ok;
};

static int
delres_event(void *ud, enum arca_s3_xml_event ev, const char *path,
    const char *text, size_t len)
{
	struct delres_ud *u = ud;

	(void)len;
	if (ev == ARCA_S3_XML_START && strcmp(path, "DeleteResult") == 0)
		u->root_ok = 1;
	if (ev == ARCA_S3_XML_START && strcmp(path, "DeleteResult/Error") == 0)
		memset(&u->cur, 0, sizeof(u->cur));
	if (ev == ARCA_S3_XML_TEXT) {
		if (strcmp(path, "DeleteResult/Error/Key") == 0)
			snprintf(u->cur.key, sizeof(u->cur.key), "%s", text);
		else if (strcmp(path, "DeleteResult/Error/Code") == 0)
			snprintf(u->cur.code, sizeof(u->cur.code), "%s", text);
		else if (strcmp(path, "DeleteResult/Error/Message") == 0)
			snprintf(u->cur.message, sizeof(u->cur.message), "%s",
			    text);
	}
	/* Gone already is what was asked for. */
	if (ev == ARCA_S3_XML_END && strcmp(path, "DeleteResult/Error") == 0 &&
	    strcmp(u->cur.code, "NoSuchKey") != 0 && u->nerr++ == 0)
		u->first = u->cur;
	return 0;
}

/* XML 1.0 cannot carry most control characters, whatever the escaping. */
static int
xml_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			return 0;
	return 1;
}

static int
delete_batch(struct arca_s3 *st, const char *const *names, size_t n)
{
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct arca_buf body = { 0 };
	struct delres_ud u;
	char sha[65], md5[33], md5b64[32], what[400], err[128];
	size_t i;
	int rc;

	memset(&rs, 0, sizeof(rs));
	memset(&u, 0, sizeof(u));
	snprintf(what, sizeof(what), "deletion of %zu files from %s", n,
	    st->where);
	/* Quiet: the answer lists only what failed. */
	if (arca_buf_puts(&body, "<Delete><Quiet>true</Quiet>") != 0)
		goto nomem;
	for (i = 0; i < n; i++)
		if (arca_buf_puts(&body, "<Object><Key>") != 0 ||
		    arca_s3_xml_escape(&body, st->prefix) != 0 ||
		    arca_s3_xml_escape(&body, names[i]) != 0 ||
		    arca_buf_puts(&body, "</Key></Object>") != 0)
			goto nomem;
	if (arca_buf_puts(&body, "</Delete>") != 0)
		goto nomem;
	/* DeleteObjects insists on Content-MD5. */
	arca_s3_sha256_hex(body.data, body.len, sha);
	arca_digest_buffer(ARCA_DIGEST_MD5, body.data, body.len, md5);
	arca_s3_md5_base64(md5, md5b64);
	arca_s3_request_init(&rq, "POST", NULL);
	rq.query[rq.nquery++] = (struct arca_s3_kv){ "delete", "" };
	rq.headers[rq.nheaders++] = (struct arca_s3_kv){ "content-md5",
	    md5b64 };
	rq.headers[rq.nheaders++] = (struct arca_s3_kv){ "content-type",
	    "application/xml" };
	rq.body = body.data;
	rq.body_len = body.len;
	rq.payload_sha256 = sha;
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0 ||
	    (rc = arca_s3_check(st, &rs, what)) != 0)
		goto out;
	rc = arca_s3_xml_parse((const char *)rs.body.data, rs.body.len,
	    delres_event, &u, err, sizeof(err));
	if (rc == ARCA_ERR_NOMEM)
		goto nomem;
	if (rc != 0 || !u.root_ok) {
		/* S3 may answer 200 with an <Error> document. */
		if (arca_s3_parse_error((const char *)rs.body.data,
		    rs.body.len, &u.first)) {
			rs.status = 400;
			rc = arca_s3_check(st, &rs, what);
			goto out;
		}
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: bad answer "
		    "from the server%s%s", what, err[0] ? ": " : "", err);
		goto out;
	}
	if (u.nerr > 0) {
		int code = ARCA_ERR_BACKEND;

		if (strcmp(u.first.code, "AccessDenied") == 0)
			code = ARCA_ERR_AUTH;
		else if (strcmp(u.first.code, "InternalError") == 0 ||
		    strcmp(u.first.code, "SlowDown") == 0 ||
		    strcmp(u.first.code, "ServiceUnavailable") == 0)
			code = ARCA_ERR_RETRY;
		for (i = 0; u.first.key[i] != '\0'; i++)
			if ((unsigned char)u.first.key[i] < ' ')
				u.first.key[i] = '?';
		for (i = 0; u.first.message[i] != '\0'; i++)
			if ((unsigned char)u.first.message[i] < ' ')
				u.first.message[i] = '?';
		rc = arca_error(st->ctx, code, "%s: %d not deleted, the first "
		    "%s (S3 %.60s: %s)", what, u.nerr, u.first.key,
		    u.first.code, u.first.message);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	arca_buf_free(&body);
	arca_s3_response_free(&rs);
	return rc;
}

int
arca_s3_del_many(void *vst, const char *const *names, size_t n)
{
	struct arca_s3 *st = vst;
	size_t i, k;
	int rc;

	for (i = 0; i < n; i += k) {
		/* A batch of XML-safe names, or one name on its own. */
		for (k = 0; i + k < n && k < S3_DELETE_BATCH &&
		    xml_safe(names[i + k]); k++)
			;
		if (k == 0) {
			if ((rc = arca_s3_del(st, names[i])) != 0)
				return rc;
			k = 1;
			continue;
		}
		if ((rc = delete_batch(st, names + i, k)) != 0)
			return rc;
	}
	return 0;
}
