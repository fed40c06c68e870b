/*
 * dropbox.c: Dropbox targets, dpbx:///folder, over API v2 (requests in
 * dropbox_api.c, through http.c; JSON through jansson).
 *
 * Credentials come from the environment, as in duplicity:
 * DPBX_ACCESS_TOKEN, or DPBX_APP_KEY + DPBX_REFRESH_TOKEN (+
 * DPBX_APP_SECRET for apps that have one); `arca dropbox-auth`
 * (dropbox_auth.c) gets a refresh token.
 *
 * Paths are those of the account, or of the app's folder for an "App
 * folder" app: Dropbox resolves them, the client never needs to know which.
 * The root is "" (not "/") for list_folder.
 *
 * Uploads up to the threshold (150 MiB, the API's limit, or
 * --dpbx-upload-threshold) are one files/upload; larger ones an upload
 * session (start, append_v2, finish), each call streaming its part of the
 * file.  A file appears only when its upload commits, so no temp name is
 * needed.  After every upload the content_hash Dropbox reports is compared
 * with the local file's (SHA-256 over the SHA-256 of each 4 MiB block);
 * a mismatch deletes the file and asks for a retry.  Downloads are checked
 * the same way against the metadata in Dropbox-API-Result.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/dropbox_internal.h"
#include "backend/http.h"
#include "util/buf.h"
#include "util/ctx.h"

/* The most files/upload takes in one call (and one session call). */
#define DPBX_UPLOAD_MAX		(150ull << 20)
/* Session calls send this much at most: a multiple of 4 MiB. */
#define DPBX_CHUNK		(16ull << 20)
#define DPBX_LIST_BODY_MAX	(32u << 20)
#define DPBX_NAMES_MAX		(4u * 1024 * 1024)

static const struct arca_backend_optdef dpbx_options[] = {
	{ "dpbx-upload-threshold", 1, "files larger than BYTES (K, M "
	  "suffixes) go in upload sessions (default and most: 150M)" },
	{ NULL, 0, NULL }
};


/* ---- the backend ----------------------------------------------------- */

static void
dpbx_close(void *vst)
{
	struct arca_dpbx *st = vst;

	if (st == NULL)
		return;
	arca_http_free(st->http);
	free(st->api);
	free(st->content);
	free(st->folder);
	free(st->where);
	arca_wipe_free(st->access);
	arca_wipe_free(st->refresh);
	free(st->app_key);
	arca_wipe_free(st->app_secret);
	free(st);
}

/* "/a/b" from the URL's path: slashes folded, none at the end. */
static char *
folder_of(const char *p)
{
	struct arca_buf b = { 0 };
	const char *s, *e;

	if (arca_buf_puts(&b, "") != 0)
		return NULL;
	for (s = p; *s != '\0'; s = e) {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = s + strcspn(s, "/");
		if (arca_buf_putc(&b, '/') != 0 ||
		    arca_buf_append(&b, s, (size_t)(e - s)) != 0) {
			arca_buf_free(&b);
			return NULL;
		}
	}
	return arca_buf_steal(&b);
}

static int
parse_size(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || v[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	if (*end != '\0' || n == 0 || n > DPBX_UPLOAD_MAX)
		return -1;
	*out = n;
	return 0;
}

static int
dpbx_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	struct arca_dpbx *st;
	const char *v;
	int rc = 0;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->create = create;
	st->threshold = DPBX_UPLOAD_MAX;
	if ((st->where = arca_strdup(url->redacted)) == NULL ||
	    (st->api = arca_dpbx_base_url("ARCA_DROPBOX_API_URL",
	    DPBX_API_DEFAULT)) == NULL ||
	    (st->content = arca_dpbx_base_url("ARCA_DROPBOX_CONTENT_URL",
	    DPBX_CONTENT_DEFAULT)) == NULL ||
	    (st->folder = folder_of(url->path ? url->path : "")) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (url->host != NULL || url->user != NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "bad Dropbox URL %s: "
		    "write dpbx:///folder (three slashes; the folder is in "
		    "the account, or in the app's folder)", st->where);
		goto out;
	}
	if ((v = arca_url_option(url, "dpbx-upload-threshold")) != NULL &&
	    parse_size(v, &st->threshold) != 0) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "bad "
		    "--dpbx-upload-threshold '%s': give bytes (K, M "
		    "suffixes), 1 to 150M", v);
		goto out;
	}
	st->chunk = st->threshold < DPBX_CHUNK ? st->threshold : DPBX_CHUNK;
	if (arca_dpbx_set_str(&st->access, getenv("DPBX_ACCESS_TOKEN")) != 0 ||
	    arca_dpbx_set_str(&st->refresh, getenv("DPBX_REFRESH_TOKEN")) !=
	    0 || arca_dpbx_set_str(&st->app_key, getenv("DPBX_APP_KEY")) != 0 ||
	    arca_dpbx_set_str(&st->app_secret, getenv("DPBX_APP_SECRET")) !=
	    0) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* An empty variable counts as unset. */
	if (st->access != NULL && st->access[0] == '\0')
		arca_dpbx_set_str(&st->access, NULL);
	if (st->refresh != NULL && st->refresh[0] == '\0')
		arca_dpbx_set_str(&st->refresh, NULL);
	if (st->refresh != NULL && (st->app_key == NULL ||
	    st->app_key[0] == '\0')) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "DPBX_REFRESH_TOKEN needs "
		    "DPBX_APP_KEY (the app key the token was made for)");
		goto out;
	}
	if (st->access == NULL && st->refresh == NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "no Dropbox credentials: "
		    "set DPBX_APP_KEY and DPBX_REFRESH_TOKEN (arca "
		    "dropbox-auth gets a refresh token), or DPBX_ACCESS_TOKEN");
		goto out;
	}
	rc = arca_http_new(ctx, url, &st->http);

out:
	if (rc != 0)
		dpbx_close(st);
	else
		*state = st;
	return rc;
}

static char *
dpbx_path(struct arca_dpbx *st, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", st->folder, name) < 0) {
		arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return p;
}

/* Delete path; a missing file is fine. */
static int
dpbx_delete_path(struct arca_dpbx *st, const char *path, const char *what)
{
	struct arca_dpbx_call c;
	json_t *arg;
	int rc;

	if ((arg = json_pack("{s:s}", "path", path)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the name is "
		    "not UTF-8", what);
	arca_dpbx_call_init(&c, ARCA_DPBX_RPC, "files/delete_v2", arg, what);
	rc = arca_dpbx_call(st, &c);
	if (rc == ARCA_ERR_BACKEND && c.error != NULL &&
	    strcmp(arca_dpbx_tag(c.error), "path_lookup") == 0 &&
	    strcmp(arca_dpbx_leaf_tag(c.error), "not_found") == 0)
		rc = 0;
	arca_dpbx_call_free(&c);
	json_decref(arg);
	return rc;
}

static json_t *
commit_info(const char *path)
{
	return json_pack("{s:s, s:s, s:b, s:b, s:b}", "path", path, "mode",
	    "overwrite", "autorename", 0, "mute", 1, "strict_conflict", 0);
}

/* The offset Dropbox says the session is at, from an incorrect_offset. */
static int
correct_offset(json_t *e, uint64_t *off)
{
	json_t *n;
	int depth;

	for (depth = 0; depth < 4 && json_is_object(e); depth++) {
		if (strcmp(arca_dpbx_tag(e), "incorrect_offset") == 0) {
			n = json_object_get(e, "correct_offset");
			if (!json_is_integer(n) || json_integer_value(n) < 0)
				return -1;
			*off = (uint64_t)json_integer_value(n);
			return 0;
		}
		e = json_object_get(e, arca_dpbx_tag(e));
	}
	return -1;
}

/* Upload fd (size bytes) to path in an upload session; metadata in c. */
static int
dpbx_session(struct arca_dpbx *st, int fd, uint64_t size, const char *path,
    const char *what, struct arca_dpbx_call *c)
{
	json_t *arg = NULL;
	char *sid = NULL;
	const char *s;
	uint64_t off, n, good;
	int rc;

	arg = json_pack("{s:b}", "close", 0);
	arca_dpbx_call_init(c, ARCA_DPBX_UPLOAD, "files/upload_session/start",
	    arg, what);
	c->body_fd = fd;
	c->body_len = st->chunk;
	if ((rc = arca_dpbx_call(st, c)) != 0)
		goto out;
	if ((s = json_string_value(json_object_get(c->result,
	    "session_id"))) == NULL || (sid = arca_strdup(s)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: no session_id "
		    "in Dropbox's answer", what);
		goto out;
	}
	off = st->chunk;
	for (;;) {
		n = size - off > st->chunk ? st->chunk : size - off;
		json_decref(arg);
		if (off + n < size)
			arg = json_pack("{s:{s:s, s:I}, s:b}", "cursor",
			    "session_id", sid, "offset", (json_int_t)off,
			    "close", 0);
		else
			arg = json_pack("{s:{s:s, s:I}, s:o}", "cursor",
			    "session_id", sid, "offset", (json_int_t)off,
			    "commit", commit_info(path));
		if (arg == NULL) {
			rc = arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the name "
			    "is not UTF-8", what);
			goto out;
		}
		arca_dpbx_call_free(c);
		arca_dpbx_call_init(c, ARCA_DPBX_UPLOAD, off + n < size ?
		    "files/upload_session/append_v2" :
		    "files/upload_session/finish", arg, what);
		c->body_fd = fd;
		c->body_off = off;
		c->body_len = n;
		rc = arca_dpbx_call(st, c);
		/* A reply lost on the way: Dropbox has more than we think. */
		if (rc == ARCA_ERR_BACKEND && correct_offset(c->error,
		    &good) == 0 && good > off && good <= size) {
			arca_info(st->ctx, "dpbx: %s: resuming at offset %llu",
			    what, (unsigned long long)good);
			off = good;
			continue;
		}
		if (rc != 0)
			goto out;
		if (off + n == size)
			break;
		off += n;
	}
out:
	json_decref(arg);
	free(sid);
	return rc;
}

static int
dpbx_put(void *vst, const char *local_path, const char *name)
{
	struct arca_dpbx *st = vst;
	struct arca_dpbx_call c;
	char hash[DPBX_HASH_HEX], *path = NULL, what[512];
	const char *rhash;
	json_t *arg = NULL;
	struct stat sb;
	json_int_t rsize;
	int fd = -1, rc, e;

	arca_dpbx_call_init(&c, ARCA_DPBX_UPLOAD, "", NULL, "");
	snprintf(what, sizeof(what), "upload of %s to %s", name, st->where);
	if ((fd = open(local_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    local_path, strerror(e));
		goto out;
	}
	if ((rc = arca_dpbx_content_hash(st->ctx, fd, local_path, hash)) != 0)
		goto out;
	if ((path = dpbx_path(st, name)) == NULL) {
		rc = ARCA_ERR_NOMEM;
		goto out;
	}
	if ((uint64_t)sb.st_size <= st->threshold) {
		if ((arg = commit_info(path)) == NULL) {
			rc = arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the name "
			    "is not UTF-8", what);
			goto out;
		}
		arca_dpbx_call_init(&c, ARCA_DPBX_UPLOAD, "files/upload", arg,
		    what);
		c.body_fd = fd;
		c.body_len = (uint64_t)sb.st_size;
		rc = arca_dpbx_call(st, &c);
	} else
		rc = dpbx_session(st, fd, (uint64_t)sb.st_size, path, what, &c);
	if (rc != 0)
		goto out;
	rhash = json_string_value(json_object_get(c.result, "content_hash"));
	rsize = json_integer_value(json_object_get(c.result, "size"));
	if (rhash == NULL || strcmp(rhash, hash) != 0 ||
	    rsize != (json_int_t)sb.st_size) {
		char msg[sizeof(st->ctx->errmsg)];

		snprintf(msg, sizeof(msg), "%s: Dropbox holds %lld bytes with "
		    "content_hash %.64s, but the file has %lld bytes with "
		    "content_hash %s; the upload was damaged and is deleted",
		    what, (long long)rsize, rhash ? rhash : "(none)",
		    (long long)sb.st_size, hash);
		rc = dpbx_delete_path(st, path, what);
		if (rc == 0 || rc == ARCA_ERR_RETRY)
			rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s", msg);
		else
			arca_error_prefix(st->ctx, "%s; deleting it failed",
			    msg);
		goto out;
	}
	arca_debug(st->ctx, "dpbx: uploaded %s (%lld bytes, content_hash %s)",
	    path, (long long)sb.st_size, hash);
out:
	arca_dpbx_call_free(&c);
	json_decref(arg);
	free(path);
	if (fd != -1)
		close(fd);
	return rc;
}

static int
dpbx_get(void *vst, const char *name, const char *local_path)
{
	struct arca_dpbx *st = vst;
	struct arca_dpbx_call c;
	char hash[DPBX_HASH_HEX], *path = NULL, what[512];
	const char *rhash;
	json_t *arg = NULL;
	struct stat sb;
	int fd = -1, rc, e;

	arca_dpbx_call_init(&c, ARCA_DPBX_DOWNLOAD, "", NULL, "");
	snprintf(what, sizeof(what), "download of %s from %s", name,
	    st->where);
	if ((path = dpbx_path(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((arg = json_pack("{s:s}", "path", path)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the name is not "
		    "UTF-8", what);
		goto out;
	}
	if ((fd = open(local_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(e));
		goto out;
	}
	arca_dpbx_call_init(&c, ARCA_DPBX_DOWNLOAD, "files/download", arg,
	    what);
	c.out_fd = fd;
	if ((rc = arca_dpbx_call(st, &c)) != 0) {
		if (rc == ARCA_ERR_BACKEND && c.error != NULL &&
		    strcmp(arca_dpbx_leaf_tag(c.error), "not_found") == 0)
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not "
			    "found in backup target %s", name, st->where);
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "%s: %s", local_path,
		    strerror(e));
		goto out;
	}
	if ((rc = arca_dpbx_content_hash(st->ctx, fd, local_path, hash)) != 0)
		goto out;
	rhash = json_string_value(json_object_get(c.result, "content_hash"));
	if (json_integer_value(json_object_get(c.result, "size")) !=
	    (json_int_t)sb.st_size || (rhash != NULL && strcmp(rhash, hash) !=
	    0))
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: got %lld bytes "
		    "with content_hash %s, Dropbox says %lld bytes with %.64s",
		    what, (long long)sb.st_size, hash, (long long)
		    json_integer_value(json_object_get(c.result, "size")),
		    rhash ? rhash : "(none)");
out:
	if (fd != -1 && close(fd) == -1 && rc == 0) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "writing %s: %s",
		    local_path, strerror(e));
	}
	arca_dpbx_call_free(&c);
	json_decref(arg);
	free(path);
	return rc;
}

/* Add the files among entries to out. */
static int
list_entries(struct arca_ctx *ctx, const char *where, json_t *entries,
    struct arca_strlist *out)
{
	const char *name;
	json_t *e;
	size_t i;

	if (!json_is_array(entries))
		return arca_error(ctx, ARCA_ERR_RETRY, "listing %s: no "
		    "entries in Dropbox's answer", where);
	json_array_foreach(entries, i, e) {
		if (strcmp(arca_dpbx_tag(e), "file") != 0)
			continue;
		name = json_string_value(json_object_get(e, "name"));
		/* A name that could point elsewhere is not ours. */
		if (name == NULL || name[0] == '\0' || strchr(name, '/') ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (out->n >= DPBX_NAMES_MAX)
			return arca_error(ctx, ARCA_ERR_CORRUPT, "the "
			    "listing of %s has more than %u files", where,
			    DPBX_NAMES_MAX);
		if (arca_strlist_add(out, name) != 0)
			return arca_error(ctx, ARCA_ERR_NOMEM,
			    "out of memory");
	}
	return 0;
}

/*
 * One page of list_folder: its files added to out, *cursor (the caller's,
 * freed first) for the next page or NULL when there is none.
 */
static int
list_page(struct arca_ctx *ctx, const char *where, json_t *page,
    struct arca_strlist *out, char **cursor)
{
	const char *c;
	int rc;

	free(*cursor);
	*cursor = NULL;
	if ((rc = list_entries(ctx, where, json_object_get(page, "entries"),
	    out)) != 0)
		return rc;
	if (!json_is_true(json_object_get(page, "has_more")))
		return 0;
	if ((c = json_string_value(json_object_get(page, "cursor"))) == NULL ||
	    c[0] == '\0')
		return arca_error(ctx, ARCA_ERR_RETRY, "listing %s: no cursor "
		    "in Dropbox's answer", where);
	if ((*cursor = arca_strdup(c)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

int
arca_dpbx_list_page(struct arca_ctx *ctx, const char *where,
    const char *text, size_t len, struct arca_strlist *out, char **cursor)
{
	json_t *j;
	int rc;

	*cursor = NULL;
	if ((j = arca_dpbx_parse_json(text, len)) == NULL)
		return arca_error(ctx, ARCA_ERR_RETRY, "listing %s: Dropbox "
		    "answered with malformed JSON", where);
	rc = list_page(ctx, where, j, out, cursor);
	json_decref(j);
	return rc;
}

static int
dpbx_list(void *vst, struct arca_strlist *out)
{
	struct arca_dpbx *st = vst;
	struct arca_dpbx_call c;
	char what[512], *cursor = NULL;
	json_t *arg;
	int rc;

	snprintf(what, sizeof(what), "listing of %s", st->where);
	arg = json_pack("{s:s, s:b, s:b, s:i}", "path", st->folder,
	    "recursive", 0, "include_deleted", 0, "limit", 2000);
	if (arg == NULL)
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the folder "
		    "name is not UTF-8", what);
	arca_dpbx_call_init(&c, ARCA_DPBX_RPC, "files/list_folder", arg, what);
	c.max_body = DPBX_LIST_BODY_MAX;
	if ((rc = arca_dpbx_call(st, &c)) != 0) {
		if (rc == ARCA_ERR_BACKEND && c.error != NULL &&
		    strcmp(arca_dpbx_leaf_tag(c.error), "not_found") == 0)
			rc = st->create ? 0 : arca_error(st->ctx,
			    ARCA_ERR_NOTFOUND, "backup target %s does not "
			    "exist", st->where);
		goto out;
	}
	for (;;) {
		if ((rc = list_page(st->ctx, st->where, c.result, out,
		    &cursor)) != 0 || cursor == NULL)
			goto out;
		json_decref(arg);
		if ((arg = json_pack("{s:s}", "cursor", cursor)) == NULL) {
			rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: the "
			    "cursor is not UTF-8", what);
			goto out;
		}
		arca_dpbx_call_free(&c);
		arca_dpbx_call_init(&c, ARCA_DPBX_RPC,
		    "files/list_folder/continue", arg, what);
		c.max_body = DPBX_LIST_BODY_MAX;
		if ((rc = arca_dpbx_call(st, &c)) != 0) {
			/* The cursor went stale: the core starts over. */
			if (rc == ARCA_ERR_BACKEND && c.error != NULL &&
			    strcmp(arca_dpbx_tag(c.error), "reset") == 0)
				rc = ARCA_ERR_RETRY;
			goto out;
		}
	}
out:
	arca_dpbx_call_free(&c);
	json_decref(arg);
	free(cursor);
	return rc;
}

static int
dpbx_del(void *vst, const char *name)
{
	struct arca_dpbx *st = vst;
	char *path, what[512];
	int rc;

	snprintf(what, sizeof(what), "deletion of %s from %s", name,
	    st->where);
	if ((path = dpbx_path(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	rc = dpbx_delete_path(st, path, what);
	free(path);
	return rc;
}

const struct arca_backend_ops arca_backend_dpbx = {
	.scheme = "dpbx",
	.options = dpbx_options,
	.open = dpbx_open,
	.put = dpbx_put,
	.get = dpbx_get,
	.list = dpbx_list,
	.del = dpbx_del,
	.close = dpbx_close,
};
