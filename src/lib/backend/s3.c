/*
 * s3.c: the S3 backend, for Amazon S3 and S3-compatible servers.
 *
 * URLs, as duplicity takes them:
 *   s3://host[:port]/bucket[/prefix]	a server of your own (0.8's boto);
 *					path-style, HTTPS unless
 *					--s3-unencrypted-connection
 *   s3+http://bucket[/prefix]		a bucket on AWS
 *   s3:///bucket[/prefix]		a bucket on AWS, or on the server of
 *					--s3-endpoint-url (duplicity 2.x);
 *					with that option, s3://bucket/prefix
 *					names a bucket too, as in 2.x
 * Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN.  Nothing is sent until the first operation (the
 * core retries operations, not opening); a backup that lists a missing
 * bucket creates it, as duplicity 0.8 does.
 *
 * Every file is one object, prefix + name.  Uploads are atomic on S3: an
 * object appears whole or not at all (multipart ones on completion), and
 * each carries Content-MD5 and its SHA-256 so the server refuses damaged
 * data; downloads are checked against the ETag when it is an MD5.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/s3_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

/* A ListObjectsV2 page holds at most 1000 keys; this leaves room for
 * servers that are generous, and stops one that never ends a page. */
#define S3_PAGE_MAX_KEYS	100000
/* A listing that pages on past this many names is not a backup target. */
#define S3_LIST_MAX_NAMES	(10u * 1000 * 1000)

/* ------------------------------------------------------------ requests */

void
arca_s3_request_init(struct arca_s3_request *rq, const char *method,
    const char *key)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = method;
	rq->key = key;
	rq->body_fd = -1;
	rq->out_fd = -1;
}

/* Is the answer an S3 error document with this code? */
int
arca_s3_error_code_is(const struct arca_s3_response *rs, const char *code)
{
	struct arca_s3_error e;

	return arca_s3_parse_error((const char *)rs->body.data, rs->body.len,
	    &e) && strcmp(e.code, code) == 0;
}

/* prefix + name, malloc'd; NULL if out of memory (message set). */
char *
arca_s3_object_key(struct arca_s3 *st, const char *name)
{
	struct arca_buf b = { 0 };

	if (arca_buf_puts(&b, st->prefix) != 0 ||
	    arca_buf_puts(&b, name) != 0) {
		arca_buf_free(&b);
		arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return arca_buf_steal(&b);
}

static int
create_bucket(struct arca_s3 *st)
{
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct arca_buf body = { 0 };
	const char *loc = NULL;
	char what[400];
	int rc;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "creating bucket %s", st->bucket);
	if (strcmp(st->region, ARCA_S3_AWS_REGION) != 0)
		loc = st->region;
	if (st->eu_buckets)
		loc = "EU";
	arca_s3_request_init(&rq, "PUT", NULL);
	if (loc != NULL) {
		if (arca_buf_puts(&body, "<CreateBucketConfiguration xmlns="
		    "\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		    "<LocationConstraint>") != 0 ||
		    arca_s3_xml_escape(&body, loc) != 0 ||
		    arca_buf_puts(&body, "</LocationConstraint>"
		    "</CreateBucketConfiguration>") != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			goto out;
		}
		rq.body = body.data;
		rq.body_len = body.len;
	}
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0)
		goto out;
	/* Made by us a moment ago, in a race, or earlier: all fine. */
	if (rs.status == 409 && arca_s3_error_code_is(&rs,
	    "BucketAlreadyOwnedByYou"))
		rc = 0;
	else
		rc = arca_s3_check(st, &rs, what);
	if (rc == 0)
		arca_notice(st->ctx, "created bucket %s", st->bucket);
out:
	arca_buf_free(&body);
	arca_s3_response_free(&rs);
	return rc;
}

static int
put_once(struct arca_s3 *st, const char *local_path, const char *name)
{
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct stat sb;
	char sha[65], md5[33], md5b64[32], what[400];
	char *key = NULL;
	int fd = -1, rc;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "upload of %s", name);
	if ((key = arca_s3_object_key(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((fd = open(local_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot read %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	if ((uint64_t)sb.st_size > st->chunk_size) {
		rc = arca_s3_multipart_put(st, fd, (uint64_t)sb.st_size, key,
		    name);
		goto out;
	}
	if (arca_s3_hash_fd(fd, 0, (uint64_t)sb.st_size, sha, md5) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot read %s: %s",
		    local_path, errno ? strerror(errno) : "it shrank");
		goto out;
	}
	arca_s3_md5_base64(md5, md5b64);
	arca_s3_request_init(&rq, "PUT", key);
	rq.nheaders = arca_s3_put_headers(st, name, rq.headers,
	    ARCA_S3_MAX_HEADERS - 1);
	rq.headers[rq.nheaders++] = (struct arca_s3_kv){ "content-md5",
	    md5b64 };
	rq.body_fd = fd;
	rq.body_size = (uint64_t)sb.st_size;
	rq.payload_sha256 = sha;
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0 ||
	    (rc = arca_s3_check(st, &rs, what)) != 0)
		goto out;
	if (arca_s3_response_etag_differs(&rs, md5))
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: the server's "
		    "ETag does not match the file's MD5", what);
out:
	if (fd != -1)
		close(fd);
	arca_s3_response_free(&rs);
	free(key);
	return rc;
}

static int
s3_put(void *vst, const char *local_path, const char *name)
{
	struct arca_s3 *st = vst;
	int rc;

	/* A backup into a bucket not made yet (list makes it too). */
	if ((rc = put_once(st, local_path, name)) == ARCA_ERR_NOTFOUND &&
	    st->no_bucket && st->create) {
		if ((rc = create_bucket(st)) != 0)
			return rc;
		rc = put_once(st, local_path, name);
	}
	return rc;
}

static int
s3_get(void *vst, const char *name, const char *local_path)
{
	struct arca_s3 *st = vst;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	char what[400];
	char *key = NULL;
	int fd = -1, rc;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "download of %s", name);
	if ((key = arca_s3_object_key(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	arca_s3_request_init(&rq, "GET", key);
	rq.out_fd = fd;
	if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0 ||
	    (rc = arca_s3_check(st, &rs, what)) != 0)
		goto out;
	if (arca_s3_response_etag_differs(&rs, rs.md5)) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: the data does "
		    "not match the server's ETag (damaged on the way)", what);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	fd = -1;
out:
	if (fd != -1)
		close(fd);
	/* Nothing half-downloaded is left to look like the file. */
	if (rc != 0)
		unlink(local_path);
	arca_s3_response_free(&rs);
	free(key);
	return rc;
}

static int
s3_list(void *vst, struct arca_strlist *out)
{
	struct arca_s3 *st = vst;
	struct arca_s3_request rq;
	struct arca_s3_response rs;
	struct arca_strlist keys = { 0 };
	char *token = NULL, *next = NULL, err[160], what[400];
	size_t plen = strlen(st->prefix), i, total = 0;
	int rc = 0, truncated;

	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "listing of %s", st->where);
	do {
		arca_s3_request_init(&rq, "GET", NULL);
		rq.query[rq.nquery++] = (struct arca_s3_kv){ "list-type", "2" };
		rq.query[rq.nquery++] = (struct arca_s3_kv){ "delimiter", "/" };
		if (plen > 0)
			rq.query[rq.nquery++] = (struct arca_s3_kv){ "prefix",
			    st->prefix };
		if (token != NULL)
			rq.query[rq.nquery++] = (struct arca_s3_kv){
			    "continuation-token", token };
		if ((rc = arca_s3_http_do(st, &rq, &rs)) != 0)
			goto out;
		if ((rc = arca_s3_check(st, &rs, what)) != 0) {
			/* A backup into a bucket not made yet: make it. */
			if (rc == ARCA_ERR_NOTFOUND && st->create &&
			    token == NULL && st->no_bucket)
				rc = create_bucket(st);
			goto out;
		}
		rc = arca_s3_parse_list((const char *)rs.body.data,
		    rs.body.len, S3_PAGE_MAX_KEYS, &keys, &truncated, &next,
		    err, sizeof(err));
		if (rc == ARCA_ERR_NOMEM) {
			rc = arca_error(st->ctx, rc, "out of memory");
			goto out;
		}
		if (rc != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_CORRUPT, "%s: bad "
			    "answer from the server: %s", what, err);
			goto out;
		}
		if (truncated && token != NULL && strcmp(token, next) == 0) {
			rc = arca_error(st->ctx, ARCA_ERR_CORRUPT, "%s: the "
			    "server sent the same continuation token twice",
			    what);
			goto out;
		}
		for (i = 0; i < keys.n; i++) {
			const char *k = keys.v[i];

			if (strncmp(k, st->prefix, plen) != 0) {
				rc = arca_error(st->ctx, ARCA_ERR_CORRUPT,
				    "%s: the server listed a key outside the "
				    "prefix", what);
				goto out;
			}
			/* Deeper keys are not this target's files. */
			if (k[plen] == '\0' || strchr(k + plen, '/') != NULL)
				continue;
			if (++total > S3_LIST_MAX_NAMES) {
				rc = arca_error(st->ctx, ARCA_ERR_CORRUPT,
				    "%s: more than %u files", what,
				    S3_LIST_MAX_NAMES);
				goto out;
			}
			if (arca_strlist_add(out, k + plen) != 0) {
				rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
		}
		arca_strlist_free(&keys);
		arca_s3_response_free(&rs);
		free(token);
		token = next;
		next = NULL;
	} while (truncated);
out:
	arca_strlist_free(&keys);
	arca_s3_response_free(&rs);
	free(token);
	free(next);
	return rc;
}

const struct arca_backend_ops arca_backend_s3 = {
	.scheme = "s3",
	.options = arca_s3_options,
	.open = arca_s3_open,
	.put = s3_put,
	.get = s3_get,
	.list = s3_list,
	.del = arca_s3_del,
	.del_many = arca_s3_del_many,
	.close = arca_s3_close,
};

/* The same backend; its options are listed once, under s3. */
const struct arca_backend_ops arca_backend_s3_http = {
	.scheme = "s3+http",
	.open = arca_s3_open,
	.put = s3_put,
	.get = s3_get,
	.list = s3_list,
	.del = arca_s3_del,
	.del_many = arca_s3_del_many,
	.close = arca_s3_close,
};
