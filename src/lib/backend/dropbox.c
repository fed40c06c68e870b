/*
 * dropbox.c: Dropbox targets, dpbx:///folder, over API v2 (requests in
 * dropbox_api.c, through http.c; JSON through util/json.c).
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
#include "util/json.h"

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

/*
 * {key: value}: NULL when value is not UTF-8, which Dropbox's names must
 * be (or when out of memory).
 */
static struct arca_json *
dpbx_arg(const char *key, const char *value)
{
	struct arca_json *a = arca_json_object();

	if (a != NULL && arca_json_set_utf8(a, key, value) != 0) {
		arca_json_free(a);
		a = NULL;
	}
	return a;
}

/* Delete path; a missing file is fine. */
static int
dpbx_delete_path(struct arca_dpbx *st, const char *path, const char *what)
{
	struct arca_dpbx_call c;
	struct arca_json *arg;
	int rc;

	if ((arg = dpbx_arg("path", path)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_USAGE, "%s: the name is "
		    "not UTF-8", what);
	arca_dpbx_call_init(&c, ARCA_DPBX_RPC, "files/delete_v2", arg, what);
	rc = arca_dpbx_call(st, &c);
	if (rc == ARCA_ERR_BACKEND && c.error != NULL &&
	    strcmp(arca_dpbx_tag(c.error), "path_lookup") == 0 &&
	    strcmp(arca_dpbx_leaf_tag(c.error), "not_found") == 0)
		rc = 0;
	arca_dpbx_call_free(&c);
	arca_json_free(arg);
	return rc;
}

static struct arca_json *
commit_info(const char *path)
{
	struct arca_json *a = dpbx_arg("path", path);

	if (a != NULL && (arca_json_set_str(a, "mode", "overwrite") != 0 ||
	    arca_json_set_bool(a, "autorename", 0) != 0 ||
	    arca_json_set_bool(a, "mute", 1) != 0 ||
	    arca_json_set_bool(a, "strict_conflict", 0) != 0)) {
		arca_json_free(a);
		a = NULL;
	}
	return a;
}

/*
 * The argument of upload_session/append_v2 (path NULL) or of
 * upload_session/finish (committing to path); NULL when a string is not
 * UTF-8 or out of memory.
 */
static struct arca_json *
session_arg(const char *sid, uint64_t off, const char *path)
{
	struct arca_json *a, *cur;

	if ((a = arca_json_object()) == NULL)
		return NULL;
	if ((cur = arca_json_object()) == NULL ||
	    arca_json_set_utf8(cur, "session_id", sid) != 0 ||
	    arca_json_set_int(cur, "offset", (int64_t)off) != 0) {
		arca_json_free(cur);
		goto fail;
	}
	/* set() owns cur from here, on failure too. */
	if (arca_json_set(a, "cursor", cur) != 0)
		goto fail;
	if (path == NULL ? arca_json_set_bool(a, "close", 0) != 0 :
	    arca_json_set(a, "commit", commit_info(path)) != 0)
		goto fail;
	return a;
fail:
	arca_json_free(a);
	return NULL;
}

/* The offset Dropbox says the session is at, from an incorrect_offset. */
static int
correct_offset(struct arca_json *e, uint64_t *off)
{
	int64_t n;
	int depth;

	for (depth = 0; depth < 4 && arca_json_is_object(e); depth++) {
		if (strcmp(arca_dpbx_tag(e), "incorrect_offset") == 0) {
			if (arca_json_get_int(e, "correct_offset", &n) != 0 ||
			    n < 0)
				return -1;
			*off = (uint64_t)n;
			return 0;
		}
		e = arca_json_get(e, arca_dpbx_tag(e));
	}
	return -1;
}

/* Upload fd (size bytes) to path in an upload session; metadata in c. */
static int
dpbx_session(struct arca_dpbx *st, int fd, uint64_t size, const char *path,
    const char *what, struct arca_dpbx_call *c)
{
	struct arca_json *arg = NULL;
	char *sid = NULL;
	const char *s;
	uint64_t off, n, good;
	int rc;

	if ((arg = arca_json_object()) == NULL ||
	    arca_json_set_bool(arg, "close", 0) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	arca_dpbx_call_init(c, ARCA_DPBX_UPLOAD, "files/upload_session/start",
	    arg, what);
	c->body_fd = fd;
	c->body_len = st->chunk;
	if ((rc = arca_dpbx_call(st, c)) != 0)
		goto out;
	if ((s = arca_json_get_str(c->result,
	    "session_id")) == NULL || (sid = arca_strdup(s)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: no session_id "
		    "in Dropbox's answer", what);
		goto out;
	}
	off = st->chunk;
	for (;;) {
		n = size - off > st->chunk ? st->chunk : size - off;
		arca_json_free(arg);
		if ((arg = session_arg(sid, off, off + n < size ? NULL :
		    path)) == NULL) {
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
	arca_json_free(arg);
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
	struct arca_json *arg = NULL;
	struct stat sb;
	int64_t rsize;
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
	rhash = arca_json_get_str(c.result, "content_hash");
	if (arca_json_get_int(c.result, "size", &rsize) != 0)
		rsize = -1;
	if (rhash == NULL || strcmp(rhash, hash) != 0 ||
	    rsize != (int64_t)sb.st_size) {
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
	arca_json_free(arg);
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
	struct arca_json *arg = NULL;
	struct stat sb;
	int64_t rsize;
	int fd = -1, rc, e;

	arca_dpbx_call_init(&c, ARCA_DPBX_DOWNLOAD, "", NULL, "");
	snprintf(what, sizeof(what), "download of %s from %s", name,
	    st->where);
	if ((path = dpbx_path(st, name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((arg = dpbx_arg("path", path)) == NULL) {
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
	rhash = arca_json_get_str(c.result, "content_hash");
	if (arca_json_get_int(c.result, "size", &rsize) != 0)
		rsize = -1;
	if (rsize != (int64_t)sb.st_size || (rhash != NULL &&
	    strcmp(rhash, hash) != 0))
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s: got %lld bytes "
		    "with content_hash %s, Dropbox says %lld bytes with %.64s",
		    what, (long long)sb.st_size, hash, (long long)rsize,
		    rhash ? rhash : "(none)");
out:
	if (fd != -1 && close(fd) == -1 && rc == 0) {
		e = errno;
		rc = arca_error(st->ctx, ARCA_ERR_IO, "writing %s: %s",
		    local_path, strerror(e));
	}
	arca_dpbx_call_free(&c);
	arca_json_free(arg);
	free(path);
	return rc;
}

/* Add the files among entries to out. */
static int
list_entries(struct arca_ctx *ctx, const char *where,
    struct arca_json *entries, struct arca_strlist *out)
{
	const char *name;
	struct arca_json *e;
	size_t i, n;

	if (!arca_json_is_array(entries))
		return arca_error(ctx, ARCA_ERR_RETRY, "listing %s: no "
		    "entries in Dropbox's answer", where);
	n = arca_json_array_len(entries);
	for (i = 0; i < n; i++) {
		e = arca_json_array_at(entries, i);
		if (strcmp(arca_dpbx_tag(e), "file") != 0)
			continue;
		name = arca_json_get_str(e, "name");
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
list_page(struct arca_ctx *ctx, const char *where,
    struct arca_json *page, struct arca_strlist *out, char **cursor)
{
	const char *c;
	int rc;

	free(*cursor);
	*cursor = NULL;
	if ((rc = list_entries(ctx, where, arca_json_get(page, "entries"),
	    out)) != 0)
		return rc;
	if (!arca_json_get_bool(page, "has_more", 0))
		return 0;
	if ((c = arca_json_get_str(page, "cursor")) == NULL ||
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
	struct arca_json *j;
	int rc;

	*cursor = NULL;
	if ((j = arca_dpbx_parse_json(text, len)) == NULL)
		return arca_error(ctx, ARCA_ERR_RETRY, "listing %s: Dropbox "
		    "answered with malformed JSON", where);
	rc = list_page(ctx, where, j, out, cursor);
	arca_json_free(j);
	return rc;
}

static int
dpbx_list(void *vst, struct arca_strlist *out)
{
	struct arca_dpbx *st = vst;
	struct arca_dpbx_call c;
	char what[512], *cursor = NULL;
	struct arca_json *arg;
	int rc;

	snprintf(what, sizeof(what), "listing of %s", st->where);
	if ((arg = dpbx_arg("path", st->folder)) != NULL &&
	    (arca_json_set_bool(arg, "recursive", 0) != 0 ||
	    arca_json_set_bool(arg, "include_deleted", 0) != 0 ||
	    arca_json_set_int(arg, "limit", 2000) != 0)) {
		arca_json_free(arg);
		arg = NULL;
	}
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
		arca_json_free(arg);
		if ((arg = dpbx_arg("cursor", cursor)) == NULL) {
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
	arca_json_free(arg);
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
