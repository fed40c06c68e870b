/*
 * s3_multipart.c: volumes larger than --s3-multipart-chunk-size go up in
 * parts, several at once.
 *
 * Initiate, upload the parts in parallel (each with its own Content-MD5
 * and SHA-256, so the server refuses a damaged part), complete with the
 * list of ETags.  The object appears only when the upload completes, so a
 * run cut short never leaves a volume that looks whole; on any failure
 * the upload is aborted so its parts do not linger (and cost money).  A
 * failed part is not retried here: the core retries the whole upload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/s3_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

/* S3's own limits. */
#define S3_MAX_PARTS	10000
#define S3_MIB		(1024u * 1024u)

struct part {
	char num[16];
	char sha256[65];
	char md5_b64[32];
	char md5[33];
	char etag[130];
};

struct mp {
	struct arca_s3 *st;
	int fd;
	uint64_t size, chunk;
	size_t nparts;
	const char *key, *name;
	char *upload_id;
	struct part *parts;
};

struct upload_id_ud {
	char *id;
	int root_ok;
};

static int
upload_id_event(void *ud, enum arca_s3_xml_event ev, const char *path,
    const char *text, size_t len)
{
	struct upload_id_ud *u = ud;

	if (ev == ARCA_S3_XML_START && strcmp(path,
	    "InitiateMultipartUploadResult") == 0)
		u->root_ok = 1;
	if (ev == ARCA_S3_XML_TEXT && strcmp(path,
	    "InitiateMultipartUploadResult/UploadId") == 0 && u->id == NULL &&
	    len > 0 && strlen(text) == len &&
	    (u->id = arca_strndup(text, len)) == NULL)
		return ARCA_ERR_NOMEM;
	return 0;
}

static int
mp_initiate(struct mp *mp)
{
	struct arca_s3 *st = mp->st;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct upload_id_ud u = { NULL, 0 };
	char what[512], err[128];
	int rc;

	snprintf(what, sizeof(what), "upload of %s (starting a multipart "
	    "upload)", mp->name);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.key = mp->key;
	rq.query[rq.nquery++] = (struct arca_s3_kv){ "uploads", "" };
	rq.nheaders = arca_s3_put_headers(st, mp->name, rq.headers,
	    ARCA_S3_MAX_HEADERS);
	rq.body_fd = -1;
	rq.out_fd = -1;
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0)
		goto out;
	if ((rc = arca_s3_check(st, &rs, what)) != 0)
		goto out;
	rc = arca_s3_xml_parse((const char *)rs.body.data, rs.body.len,
	    upload_id_event, &u, err, sizeof(err));
	if (rc == ARCA_ERR_NOMEM) {
		rc = arca_error(st->ctx, rc, "out of memory");
		goto out;
	}
	if (rc != 0 || !u.root_ok || u.id == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "%s: the answer "
		    "holds no upload id%s%s", what, err[0] ? ": " : "", err);
		goto out;
	}
	mp->upload_id = u.id;
	u.id = NULL;
out:
	free(u.id);
	arca_s3_response_free(&rs);
	return rc;
}

static int
part_prep(void *ud, size_t i, struct arca_s3_request *rq)
{
	struct mp *mp = ud;
	struct part *p = &mp->parts[i];
	uint64_t off = (uint64_t)i * mp->chunk;
	uint64_t len = mp->size - off < mp->chunk ? mp->size - off :
	    mp->chunk;

	if (arca_s3_hash_fd(mp->fd, off, len, p->sha256, p->md5) != 0)
		return arca_error(mp->st->ctx, ARCA_ERR_IO, "upload of %s: "
		    "cannot read part %zu: %s", mp->name, i + 1,
		    errno ? strerror(errno) : "the file is shorter than "
		    "it was");
	arca_s3_md5_base64(p->md5, p->md5_b64);
	snprintf(p->num, sizeof(p->num), "%zu", i + 1);
	rq->method = "PUT";
	rq->key = mp->key;
	rq->query[rq->nquery++] = (struct arca_s3_kv){ "partNumber", p->num };
	rq->query[rq->nquery++] = (struct arca_s3_kv){ "uploadId",
	    mp->upload_id };
	rq->headers[rq->nheaders++] = (struct arca_s3_kv){ "content-md5",
	    p->md5_b64 };
	rq->body_fd = mp->fd;
	rq->body_off = off;
	rq->body_size = len;
	rq->payload_sha256 = p->sha256;
	rq->timeout = mp->st->part_timeout;
	return 0;
}

static int
part_done(void *ud, size_t i, int rc, const struct arca_s3_request *rq,
    struct arca_s3_response *rs)
{
	struct mp *mp = ud;
	struct part *p = &mp->parts[i];
	char what[512];

	snprintf(what, sizeof(what), "upload of %s (part %zu of %zu)",
	    mp->name, i + 1, mp->nparts);
	if (rc != 0) {
		arca_error_prefix(mp->st->ctx, "%s", what);
		return rc;
	}
	if ((rc = arca_s3_check(mp->st, rs, what)) != 0)
		return rc;
	if (rs->etag[0] == '\0')
		return arca_error(mp->st->ctx, ARCA_ERR_BACKEND, "%s: the "
		    "server sent no ETag", what);
	if (arca_s3_response_etag_differs(rs, p->md5))
		return arca_error(mp->st->ctx, ARCA_ERR_RETRY, "%s: the "
		    "server's ETag does not match the part's MD5", what);
	snprintf(p->etag, sizeof(p->etag), "%s", rs->etag);
	return 0;
}

static int
mp_complete(struct mp *mp)
{
	struct arca_s3 *st = mp->st;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct arca_s3_error e;
	struct arca_buf body = { 0 };
	char what[512];
	size_t i;
	int rc;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "upload of %s (completing the multipart "
	    "upload)", mp->name);
	if (arca_buf_puts(&body, "<CompleteMultipartUpload>") != 0)
		goto nomem;
	for (i = 0; i < mp->nparts; i++)
		if (arca_buf_printf(&body, "<Part><PartNumber>%zu</PartNumber>"
		    "<ETag>", i + 1) != 0 ||
		    arca_s3_xml_escape(&body, mp->parts[i].etag) != 0 ||
		    arca_buf_puts(&body, "</ETag></Part>") != 0)
			goto nomem;
	if (arca_buf_puts(&body, "</CompleteMultipartUpload>") != 0)
		goto nomem;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.key = mp->key;
	rq.query[rq.nquery++] = (struct arca_s3_kv){ "uploadId",
	    mp->upload_id };
	rq.headers[rq.nheaders++] = (struct arca_s3_kv){ "content-type",
	    "application/xml" };
	rq.body = body.data;
	rq.body_len = body.len;
	rq.body_fd = -1;
	rq.out_fd = -1;
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0 ||
	    (rc = arca_s3_check(st, &rs, what)) != 0)
		goto out;
	/* S3 may answer 200 and then report an error in the body. */
	if (arca_s3_parse_error((const char *)rs.body.data, rs.body.len, &e)) {
		rs.status = 400;
		rc = arca_s3_check(st, &rs, what);
		goto out;
	}
	if (rs.body.len == 0 || strstr((const char *)rs.body.data,
	    "CompleteMultipartUploadResult") == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: the answer does "
		    "not confirm the upload", what);
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

/* Best effort: the first error's message and code are what counts. */
static void
mp_abort(struct mp *mp, int rc)
{
	struct arca_ctx *ctx = mp->st->ctx;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	char *saved;

	saved = arca_strdup(ctx->errmsg);
	memset(&rq, 0, sizeof(rq));
	rq.method = "DELETE";
	rq.key = mp->key;
	rq.query[rq.nquery++] = (struct arca_s3_kv){ "uploadId",
	    mp->upload_id };
	rq.body_fd = -1;
	rq.out_fd = -1;
	if (arca_s3_http_do(mp->st, &rq, &rs) == 0 &&
	    rs.status >= 300 && rs.status != 404)
		arca_warn(ctx, "could not abort the multipart upload of %s "
		    "(HTTP %ld); its parts may remain in bucket %s",
		    mp->name, rs.status, mp->st->bucket);
	arca_s3_response_free(&rs);
	arca_error(ctx, rc, "%s", saved ? saved : "multipart upload failed");
	free(saved);
}

int
arca_s3_multipart_put(struct arca_s3 *st, int fd, uint64_t size,
    const char *key, const char *name)
{
	struct mp mp;
	int rc;

	memset(&mp, 0, sizeof(mp));
	mp.st = st;
	mp.fd = fd;
	mp.size = size;
	mp.key = key;
	mp.name = name;
	mp.chunk = st->chunk_size;
	/* Bigger parts rather than more than S3 allows. */
	if (size / mp.chunk >= S3_MAX_PARTS) {
		mp.chunk = size / (S3_MAX_PARTS - 1);
		mp.chunk = (mp.chunk / S3_MIB + 1) * S3_MIB;
	}
	mp.nparts = (size_t)((size + mp.chunk - 1) / mp.chunk);
	if (mp.nparts == 0)
		mp.nparts = 1;
	if ((mp.parts = arca_calloc(mp.nparts, sizeof(*mp.parts))) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((rc = mp_initiate(&mp)) != 0)
		goto out;
	arca_debug(st->ctx, "uploading %s in %zu parts of %llu bytes", name,
	    mp.nparts, (unsigned long long)mp.chunk);
	if ((rc = arca_s3_http_parallel(st, mp.nparts, st->max_procs,
	    part_prep, part_done, &mp)) != 0 ||
	    (rc = mp_complete(&mp)) != 0) {
		mp_abort(&mp, rc);
		goto out;
	}
out:
	free(mp.upload_id);
	free(mp.parts);
	return rc;
}
