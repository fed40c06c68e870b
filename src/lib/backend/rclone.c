/*
 * rclone.c: the rclone:// backend, which runs the rclone binary and so
 * reaches every storage service rclone knows.
 *
 *   rclone://REMOTE:PATH	REMOTE is a name from rclone's config (which
 *				RCLONE_CONFIG may point at), or a connection
 *				string such as :sftp,host=h,user=u
 *
 * duplicity's spelling rclone://remote:/dir means remote:dir (the first
 * '/' after the colon only separates, as in sftp://), and
 * rclone://remote://abs means remote:/abs.
 *
 *   put	rclone copyto FILE REMOTE:PATH/.<name>.arca-tmp-<pid>, then
 *		rclone moveto to the name: rclone checks size and hash of the
 *		copy, and a cut-off upload never shows under the name
 *   get	rclone cat, straight into the file
 *   list	rclone lsjson --files-only, read by rclone_lsjson.c
 *   del	rclone deletefile; several at once: rclone delete
 *		--files-from-raw
 *
 * rclone is run without a shell (posix_spawnp, "rclone" on PATH) with
 * --retries 1: the core owns retries, rclone keeps its per-request
 * low-level retries.  Every RCLONE_* environment variable reaches it.
 * Connection strings can hold secrets (pass=...), so messages show the
 * remote with such values as "***".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/rclone_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

extern char **environ;

#define RCLONE_BIN	"rclone"
#define RCLONE_TMP_MARK	ARCA_RCLONE_TMP_MARK
#define RCLONE_OUT_MAX	ARCA_RCLONE_OUT_MAX
/* What we keep of rclone's stderr: its last words say what failed. */
#define RCLONE_ERR_KEEP	8192
#define RCLONE_MAX_ARGS	16

struct rclone_state {
	struct arca_ctx *ctx;
	char *spec;		/* "REMOTE:PATH" as rclone wants it */
	char *shown_spec;	/* the same with secrets as "***" */
	char *where;		/* "rclone://" + shown_spec, for messages */
	char *timeout;		/* "30s" from --timeout, or NULL */
	int create;
	long pid;
};

/* Connection-string parameters whose values are secrets. */
static int
secret_param(const char *name, size_t n)
{
	static const char *const parts[] = { "pass", "secret", "token",
		"pem", "sas", "auth", "cookie", "credentials" };
	size_t i, k;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (k = 0; k + strlen(parts[i]) <= n; k++)
			if (strncasecmp(name + k, parts[i], strlen(parts[i])) ==
			    0)
				return 1;
	/* access_key_id is not secret; secret_access_key, account_key are */
	return n >= 3 && strncasecmp(name + n - 3, "key", 3) == 0;
}

/*
 * Split spec at the colon that ends the remote: the first one not inside
 * a quoted connection-string value.  Writes the redacted remote to shown.
 * Returns the offset of that colon, or -1.
 */
static long
split_remote(const char *spec, struct arca_buf *shown, int *err)
{
	const char *p = spec, *name = NULL;
	int q = 0, inval = 0, secret = 0;

	if (*p == ':')
		p++;
	for (; *p != '\0'; p++) {
		if (q != 0) {
			if (*p == q) {
				if (p[1] == q) {	/* doubled quote */
					if (!secret)
						*err |= arca_buf_putc(shown, *p);
					p++;
					if (!secret)
						*err |= arca_buf_putc(shown, *p);
					continue;
				}
				q = 0;
			}
			if (!secret)
				*err |= arca_buf_putc(shown, *p);
			continue;
		}
		if (*p == ':')
			return (long)(p - spec);
		if (*p == ',') {
			inval = 0;
			secret = 0;
			name = p + 1;
		} else if (*p == '=' && name != NULL && !inval) {
			inval = 1;
			secret = secret_param(name, (size_t)(p - name));
			*err |= arca_buf_putc(shown, '=');
			if (secret)
				*err |= arca_buf_puts(shown, "***");
			continue;
		} else if (inval && (*p == '\'' || *p == '"') && p[-1] == '=') {
			q = (unsigned char)*p;
		}
		if (!(inval && secret))
			*err |= arca_buf_putc(shown, *p);
	}
	return -1;
}

static int
rclone_parse(struct rclone_state *st, const struct arca_url *url)
{
	struct arca_buf spec = { 0 }, shown = { 0 };
	const char *text = url->path ? url->path : "", *path;
	long sep;
	int err = 0, rc = 0;

	if (text[0] == ':')
		err |= arca_buf_putc(&shown, ':');
	if ((sep = split_remote(text, &shown, &err)) < 1 ||
	    (text[0] == ':' && sep == 1)) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "bad rclone URL "
		    "'rclone://%s': want rclone://REMOTE:PATH, for example "
		    "rclone://gdrive:/backups", err || shown.data == NULL ? "" :
		    (char *)shown.data);
		goto out;
	}
	/* duplicity's rule: the first '/' after the colon separates. */
	path = text + sep + 1;
	if (*path == '/')
		path++;
	err |= arca_buf_append(&spec, text, (size_t)sep + 1);
	err |= arca_buf_puts(&spec, path);
	err |= arca_buf_putc(&shown, ':');
	err |= arca_buf_puts(&shown, path);
	/* strip trailing slashes: names are appended after one */
	while (spec.len > (size_t)sep + 1 && spec.data[spec.len - 1] == '/') {
		spec.data[--spec.len] = '\0';
		shown.data[--shown.len] = '\0';
	}
	if (err != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	st->spec = arca_buf_steal(&spec);
	st->shown_spec = arca_buf_steal(&shown);
	if (asprintf(&st->where, "rclone://%s", st->shown_spec) < 0) {
		st->where = NULL;
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
out:
	arca_buf_wipe(&spec);
	arca_buf_free(&shown);
	return rc;
}

/* spec + "/" + name (no '/' when the path part is empty). */
static char *
rclone_path(struct rclone_state *st, const char *name)
{
	size_t n = strlen(st->spec);
	char *p;

	if (asprintf(&p, "%s%s%s", st->spec, st->spec[n - 1] == ':' ? "" :
	    "/", name) < 0)
		return NULL;
	return p;
}

/* Keep the tail of rclone's stderr within RCLONE_ERR_KEEP bytes. */
static void
keep_tail(struct arca_buf *b, const char *p, size_t n)
{
	if (n >= RCLONE_ERR_KEEP) {
		p += n - RCLONE_ERR_KEEP / 2;
		n = RCLONE_ERR_KEEP / 2;
	}
	if (b->len + n > RCLONE_ERR_KEEP) {
		size_t drop = b->len + n - RCLONE_ERR_KEEP;

		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
	}
	arca_buf_append(b, p, n);
}

/*
 * The last line of rclone's stderr, without its timestamp, and with the
 * remote (which may hold secrets) replaced by its shown form.
 */
static char *
last_words(struct rclone_state *st, struct arca_buf *err)
{
	struct arca_buf b = { 0 };
	char *s, *line, *hit;
	size_t n;

	if (err->len == 0)
		return arca_strdup("(no message)");
	s = (char *)err->data;
	s[err->len] = '\0';
	while ((n = strlen(s)) > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[n - 1] = '\0';
	line = (line = strrchr(s, '\n')) ? line + 1 : s;
	/* "2026/11/26 13:41:27 " */
	if (strlen(line) > 20 && line[4] == '/' && line[7] == '/' &&
	    line[10] == ' ' && line[13] == ':' && line[19] == ' ')
		line += 20;
	n = strlen(st->spec);
	while ((hit = strstr(line, st->spec)) != NULL) {
		arca_buf_append(&b, line, (size_t)(hit - line));
		arca_buf_puts(&b, st->shown_spec);
		line = hit + n;
	}
	arca_buf_puts(&b, line);
	return arca_buf_steal(&b);
}

/*
 * Run rclone with args (NULL-terminated, without argv[0]).  stdin is
 * in_fd or /dev/null; stdout goes to out_fd, or into out (capped at
 * out->max), or nowhere.  *status: rclone's exit code, or -1 if it died
 * by a signal.  Returns 0, or an error if rclone could not be run.
 */
static int
rclone_run(struct rclone_state *st, const char *const *args, int in_fd,
    int out_fd, struct arca_buf *out, struct arca_buf *err, int *status)
{
	const char *argv[RCLONE_MAX_ARGS + 8];
	posix_spawn_file_actions_t fa;
	struct pollfd pf[2];
	char buf[65536];
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, fa_ok = 0, rc = 0;
	int n, nf, i, w;
	pid_t pid = -1;
	ssize_t r;

	*status = -1;
	argv[0] = RCLONE_BIN;
	for (n = 0; n < RCLONE_MAX_ARGS && args[n] != NULL; n++)
		argv[n + 1] = args[n];
	n++;
	argv[n++] = "--retries";
	argv[n++] = "1";
	if (st->timeout != NULL) {
		argv[n++] = "--contimeout";
		argv[n++] = st->timeout;
		argv[n++] = "--timeout";
		argv[n++] = st->timeout;
	}
	argv[n] = NULL;
	arca_debug(st->ctx, "rclone: running rclone %s on %s", args[0],
	    st->where);

	if (pipe2(ep, O_CLOEXEC) == -1 || (out != NULL && pipe2(op,
	    O_CLOEXEC) == -1) || posix_spawn_file_actions_init(&fa) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot run rclone: %s",
		    strerror(errno));
		goto out;
	}
	fa_ok = 1;
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
		    0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else if (out != NULL)
		posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
		    0);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	if ((errno = posix_spawnp(&pid, RCLONE_BIN, &fa, NULL,
	    (char *const *)argv, environ)) != 0) {
		pid = -1;
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "cannot run rclone "
		    "for %s: %s%s", st->where, strerror(errno), errno == ENOENT
		    ? " (is rclone installed and on PATH?)" : "");
		goto out;
	}
	close(ep[1]);
	ep[1] = -1;
	if (op[1] != -1) {
		close(op[1]);
		op[1] = -1;
	}
	/* Read both pipes as they fill, or a chatty rclone would block. */
	for (;;) {
		nf = 0;
		if (ep[0] != -1)
			pf[nf++] = (struct pollfd){ .fd = ep[0], .events = POLLIN };
		if (op[0] != -1)
			pf[nf++] = (struct pollfd){ .fd = op[0], .events = POLLIN };
		if (nf == 0)
			break;
		if (poll(pf, (nfds_t)nf, -1) == -1) {
			if (errno == EINTR)
				continue;
			rc = arca_error(st->ctx, ARCA_ERR_IO, "waiting for rclone: "
			    "%s", strerror(errno));
			goto out;
		}
		for (i = 0; i < nf; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, buf, sizeof(buf));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pf[i].fd);
				if (pf[i].fd == ep[0])
					ep[0] = -1;
				else
					op[0] = -1;
				continue;
			}
			if (pf[i].fd == ep[0])
				keep_tail(err, buf, (size_t)r);
			else if (out != NULL && out->len < out->max)
				/* over the cap: drained, not kept; the caller
				 * sees len == max */
				arca_buf_append(out, buf, (size_t)r < out->max -
				    out->len ? (size_t)r : out->max - out->len);
		}
	}
out:
	if (pid > 0) {
		pid_t got;

		while ((got = waitpid(pid, &w, 0)) == -1 && errno == EINTR)
			;
		if (got == pid)
			*status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (op[i] != -1)
			close(op[i]);
		if (ep[i] != -1)
			close(ep[i]);
	}
	return rc;
}

/*
 * rclone fails to "create the file system" for a bad configuration (not
 * worth retrying) and for an unreachable server (worth it): tell by the
 * words of the network errors Go reports.
 */
static int
transient(const char *msg)
{
	static const char *const words[] = { "connection refused",
		"connection reset", "timeout", "timed out", "no route to host",
		"network is unreachable", "temporary", "EOF", "broken pipe",
		"try again", "too many", "503", "500 ", "502", "504", "429" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(msg, words[i]) != NULL)
			return 1;
	return 0;
}

/*
 * rclone's words for credentials the service refused (its SSH client,
 * HTTP 401/403 from WebDAV and S3, S3's and others' error codes).
 */
static int
refused_login(const char *msg)
{
	static const char *const words[] = { "unable to authenticate",
		"401 Unauthorized", "403 Forbidden", "InvalidAccessKeyId",
		"SignatureDoesNotMatch", "AccessDenied", "invalid_grant",
		"invalid_access_token" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(msg, words[i]) != NULL)
			return 1;
	return 0;
}

/*
 * Turn a failed rclone run (status != 0) into an error.  rclone's exit
 * codes: 3 directory not found, 4 file not found, 5 temporary, 7 fatal,
 * 8 transfer limit; 1, 2, 6 say little, so those count as transient
 * except for an unknown remote or a remote rclone cannot set up.
 */
static int
rclone_fail(struct rclone_state *st, int status, struct arca_buf *err,
    const char *what)
{
	char *msg = last_words(st, err);
	int code;

	switch (status) {
	case 3:
	case 4:
		code = ARCA_ERR_NOTFOUND;
		break;
	case 7:
	case 8:
		code = ARCA_ERR_BACKEND;
		break;
	default:
		code = ARCA_ERR_RETRY;
		if (msg != NULL && strstr(msg, "Failed to create file system")
		    && !transient(msg))
			code = ARCA_ERR_BACKEND;
		if (msg != NULL && strstr(msg, "didn't find section in config")) {
			free(msg);
			return arca_error(st->ctx, ARCA_ERR_USAGE, "%s: rclone "
			    "has no remote by that name in its config (see "
			    "rclone config; RCLONE_CONFIG names the file)",
			    st->where);
		}
	}
	/* A refused login is permanent: say so (exit 31), never retry. */
	if (code != ARCA_ERR_NOTFOUND && msg != NULL && refused_login(msg))
		code = ARCA_ERR_AUTH;
	code = arca_error(st->ctx, code, "%s (rclone exit status %d): %s",
	    what, status, msg ? msg : "out of memory");
	free(msg);
	return code;
}

static int
rclone_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	struct rclone_state *st;
	const char *t;
	char *end;
	long secs;
	int rc;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->create = create;
	st->pid = (long)getpid();
	if ((rc = rclone_parse(st, url)) != 0)
		goto out;
	if ((t = arca_url_option(url, "timeout")) != NULL) {
		errno = 0;
		secs = strtol(t, &end, 10);
		if (errno != 0 || end == t || *end != '\0' || secs < 1 ||
		    secs > 86400) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "bad --timeout '%s' "
			    "(want seconds, 1 to 86400)", t);
			goto out;
		}
		if (asprintf(&st->timeout, "%lds", secs) < 0) {
			st->timeout = NULL;
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		}
	}
out:
	if (rc != 0) {
		free(st->spec);
		free(st->shown_spec);
		free(st->where);
		free(st->timeout);
		free(st);
	} else
		*state = st;
	return rc;
}

/* Delete path, best effort, keeping the message already on ctx. */
static void
rclone_forget(struct rclone_state *st, const char *path)
{
	struct arca_buf err = { 0 };
	const char *args[] = { "deletefile", path, NULL };
	int status;

	rclone_run(st, args, -1, -1, NULL, &err, &status);
	arca_buf_free(&err);
}

static int
rclone_put(void *vst, const char *local_path, const char *name)
{
	struct rclone_state *st = vst;
	struct arca_buf err = { 0 };
	char *tmpname = NULL, *tmp = NULL, *final = NULL, *src = NULL;
	char msg[sizeof(st->ctx->errmsg)];
	int rc, status, code;

	if (asprintf(&tmpname, ".%s" RCLONE_TMP_MARK "%ld", name, st->pid) <
	    0) {
		tmpname = NULL;
		goto nomem;
	}
	/* rclone takes "a:b" for a remote; "./a:b" is a local file. */
	if (asprintf(&src, "%s%s", local_path[0] == '/' ? "" : "./",
	    local_path) < 0) {
		src = NULL;
		goto nomem;
	}
	if ((tmp = rclone_path(st, tmpname)) == NULL ||
	    (final = rclone_path(st, name)) == NULL)
		goto nomem;
	{
		const char *args[] = { "copyto", src, tmp, NULL };

		if ((rc = rclone_run(st, args, -1, -1, NULL, &err, &status)))
			goto out;
		if (status != 0) {
			rc = rclone_fail(st, status, &err, "upload failed");
			if (rc == ARCA_ERR_NOTFOUND)
				rc = arca_error(st->ctx, ARCA_ERR_RETRY, "%s",
				    st->ctx->errmsg);
			goto cleanup;
		}
	}
	{
		const char *args[] = { "moveto", tmp, final, NULL };

		arca_buf_reset(&err);
		if ((rc = rclone_run(st, args, -1, -1, NULL, &err, &status)))
			goto cleanup;
		if (status != 0) {
			rc = rclone_fail(st, status, &err, "publishing the "
			    "upload failed");
			goto cleanup;
		}
	}
	goto out;

cleanup:
	/* The temp copy may exist; it never shows in a listing anyway. */
	code = st->ctx->err;
	snprintf(msg, sizeof(msg), "%s", st->ctx->errmsg);
	rclone_forget(st, tmp);
	arca_error(st->ctx, code, "%s", msg);
	goto out;
nomem:
	rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	arca_buf_free(&err);
	free(tmpname);
	free(tmp);
	free(final);
	free(src);
	return rc;
}

static int
rclone_get(void *vst, const char *name, const char *local_path)
{
	struct rclone_state *st = vst;
	struct arca_buf err = { 0 };
	char *path;
	int fd = -1, rc, status;

	if ((path = rclone_path(st, name)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	{
		const char *args[] = { "cat", path, NULL };

		if ((rc = rclone_run(st, args, -1, fd, NULL, &err, &status)))
			goto out;
	}
	if (status != 0) {
		rc = rclone_fail(st, status, &err, "download failed");
		if (rc == ARCA_ERR_NOTFOUND)
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not found "
			    "in backup target %s", name, st->where);
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
	arca_buf_free(&err);
	free(path);
	return rc;
}

static int
rclone_list(void *vst, struct arca_strlist *l)
{
	struct rclone_state *st = vst;
	struct arca_buf out = { .max = RCLONE_OUT_MAX }, err = { 0 };
	const char *args[] = { "lsjson", "--files-only", "--no-modtime",
		"--no-mimetype", st->spec, NULL };
	int rc, status;

	if ((rc = rclone_run(st, args, -1, -1, &out, &err, &status)) != 0)
		goto out;
	if (status == 3 && st->create)
		goto out;	/* a new target: made by the first upload */
	if (status != 0) {
		rc = rclone_fail(st, status, &err, "listing failed");
		if (rc == ARCA_ERR_NOTFOUND)
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "backup "
			    "target %s does not exist", st->where);
		goto out;
	}
	if (out.len == out.max) {
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "listing of %s is "
		    "larger than %u bytes", st->where, RCLONE_OUT_MAX);
		goto out;
	}
	rc = arca_rclone_parse_lsjson(st->ctx, st->where,
	    (const char *)out.data, out.len, l);
out:
	arca_buf_free(&out);
	arca_buf_free(&err);
	return rc;
}

static int
rclone_del(void *vst, const char *name)
{
	struct rclone_state *st = vst;
	struct arca_buf err = { 0 }, out = { .max = 65536 }, err2 = { 0 };
	char *path;
	int rc, status, st2;

	if ((path = rclone_path(st, name)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	{
		const char *args[] = { "deletefile", path, NULL };

		if ((rc = rclone_run(st, args, -1, -1, NULL, &err, &status)) ||
		    status == 0)
			goto out;
	}
	/*
	 * rclone says "doesn't exist" with the same exit status as for any
	 * other failure: ask whether the file is still there.
	 */
	{
		const char *args[] = { "lsjson", "--files-only", path, NULL };

		if ((rc = rclone_run(st, args, -1, -1, &out, &err2, &st2)))
			goto out;
		if (st2 == 3 || st2 == 4 || (st2 == 0 && out.len > 0 &&
		    strchr((char *)out.data, '{') == NULL))
			goto out;	/* gone: deleting it is done */
	}
	rc = rclone_fail(st, status, &err, "deletion failed");
out:
	arca_buf_free(&err);
	arca_buf_free(&err2);
	arca_buf_free(&out);
	free(path);
	return rc;
}

/*
 * Delete names with one rclone process: rclone delete with the names in
 * a --files-from-raw list.  One process per file (deletefile) takes
 * minutes for a retention run over a long chain.  Names that are not
 * there simply match nothing.  A name with a line break cannot go in the
 * list: then each is deleted on its own.
 */
static int
rclone_del_many(void *vst, const char *const *names, size_t n)
{
	struct rclone_state *st = vst;
	struct arca_buf err = { 0 }, list = { 0 };
	char tmpl[] = "/tmp/arca-rclone-XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	char *file = NULL;
	size_t i;
	int fd = -1, rc = 0, status;

	for (i = 0; i < n; i++)
		if (strpbrk(names[i], "\r\n") != NULL)
			break;
	if (i < n) {
		for (i = 0; i < n && rc == 0; i++)
			rc = rclone_del(vst, names[i]);
		return rc;
	}
	for (i = 0; i < n; i++)
		if (arca_buf_printf(&list, "%s\n", names[i]) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
			goto out;
		}
	if (tmpdir == NULL || *tmpdir == '\0')
		file = strdup(tmpl);
	else if (asprintf(&file, "%s/arca-rclone-XXXXXX", tmpdir) < 0)
		file = NULL;
	if (file == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = mkstemp(file)) < 0) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot make a temp "
		    "file for rclone's list of files to delete (%s): %s",
		    file, strerror(errno));
		free(file);
		file = NULL;
		goto out;
	}
	if (list.len > 0 && write(fd, list.data, list.len) !=
	    (ssize_t)list.len) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    file, strerror(errno));
		goto out;
	}
	{
		const char *args[] = { "delete", "--files-from-raw", file,
			st->spec, NULL };

		if ((rc = rclone_run(st, args, -1, -1, NULL, &err,
		    &status)) != 0)
			goto out;
	}
	/* A directory that is not there holds none of the names. */
	if (status != 0 && status != 3)
		rc = rclone_fail(st, status, &err, "deletion failed");
out:
	if (fd >= 0)
		close(fd);
	if (file != NULL)
		unlink(file);
	free(file);
	arca_buf_free(&list);
	arca_buf_free(&err);
	return rc;
}

static void
rclone_close(void *vst)
{
	struct rclone_state *st = vst;

	if (st == NULL)
		return;
	if (st->spec != NULL) {
		explicit_bzero(st->spec, strlen(st->spec));
		free(st->spec);
	}
	free(st->shown_spec);
	free(st->where);
	free(st->timeout);
	free(st);
}

const struct arca_backend_ops arca_backend_rclone = {
	.scheme = "rclone",
	.open = rclone_open,
	.put = rclone_put,
	.get = rclone_get,
	.list = rclone_list,
	.del = rclone_del,
	.del_many = rclone_del_many,
	.close = rclone_close,
};
