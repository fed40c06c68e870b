/*
 * sftp.c: the sftp:// and scp:// backends (libssh2's SFTP).
 *
 *   sftp://[user[:password]@]host[:port]/relative/dir	(to the login dir)
 *   sftp://[user[:password]@]host[:port]//absolute/dir
 *
 * duplicity's convention: the first '/' after the host only separates.
 * The connection (host keys, login) is ssh.c's.
 *
 * scp:// works as in duplicity's default (paramiko) SSH backend with its
 * --use-scp off: everything goes over the SFTP subsystem, which every
 * OpenSSH server has unless its administrator removed it; a server without
 * it gets the SCP protocol plus a POSIX shell (scp.c).
 *
 * Uploads go to ".<name>.arca-tmp-<pid>" in the target directory and are
 * renamed to their name once written and flushed, so a name never points at
 * a partial file.  OpenSSH's SFTP rename (protocol version 3) will not
 * replace an existing file and libssh2 1.10 cannot send the
 * posix-rename@openssh.com extension, so replacing a file (rare: only a
 * re-upload of a name that already exists) removes the old file first; in
 * that window the name is missing, never partial.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "backend/backend.h"
#include "backend/sftp_internal.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#define SFTP_TMP_MARK	".arca-tmp-"
/*
 * libssh2 pipelines a large read or write into many SFTP requests: 1 MiB
 * per call moves data at twice the speed of 256 KiB here.  --timeout
 * bounds one such call, so a link must carry 1 MiB within it (35 kB/s at
 * the default 30 s).
 */
#define SFTP_IO_BUF	(1024 * 1024)
#define SFTP_PATH_MAX	4096
/* A listing is untrusted input: this many names is far past any backup. */
#define SFTP_MAX_NAMES	4000000

/* An SFTP status code's meaning, for messages. */
static const char *
fx_text(unsigned long fx)
{
	static const char *const t[] = { "ok", "end of file", "no such file",
		"permission denied", "failure", "bad message",
		"no connection", "connection lost", "operation unsupported",
		"invalid handle", "no such path", "file already exists",
		"write protected", "no media", "no space left on the server",
		"quota exceeded", "unknown principal", "lock conflict",
		"directory not empty", "not a directory", "invalid file name",
		"link loop" };

	return fx < sizeof(t) / sizeof(t[0]) ? t[fx] : "unknown SFTP error";
}

/* Close the SFTP channel and the connection: the next call reconnects. */
static void
sftp_drop(struct sftp_state *st)
{
	if (st->sftp != NULL) {
		libssh2_sftp_shutdown(st->sftp);
		st->sftp = NULL;
	}
	arca_ssh_disconnect(st->ssh);
}

/*
 * Translate a failed libssh2 SFTP call.  A broken connection is dropped
 * (so *h, if open, is freed first) and worth retrying; so is the SFTP
 * "failure" status, which OpenSSH sends for any errno it has no code for.
 */
static int
sftp_fail(struct sftp_state *st, int rc, LIBSSH2_SFTP_HANDLE **h,
    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
sftp_fail(struct sftp_state *st, int rc, LIBSSH2_SFTP_HANDLE **h,
    const char *fmt, ...)
{
	char what[1024];
	unsigned long fx;
	va_list ap;
	int code;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/*
	 * No SFTP channel: it could not be started, or a call made on our
	 * behalf in between lost the connection.  Start over next time.
	 */
	if (st->sftp == NULL) {
		code = arca_ssh_is_transport(rc) ? arca_ssh_fail(st->ssh, rc,
		    what) : arca_error(st->ctx, ARCA_ERR_RETRY, "%s: "
		    "connection to %s lost", what, st->ssh->where);
		arca_ssh_disconnect(st->ssh);
		return code;
	}
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		fx = libssh2_sftp_last_error(st->sftp);
		switch (fx) {
		case LIBSSH2_FX_NO_SUCH_FILE:
		case LIBSSH2_FX_NO_SUCH_PATH:
			code = ARCA_ERR_NOTFOUND;
			break;
		case LIBSSH2_FX_FAILURE:
			code = ARCA_ERR_RETRY;
			break;
		case LIBSSH2_FX_NO_CONNECTION:
		case LIBSSH2_FX_CONNECTION_LOST:
			rc = LIBSSH2_ERROR_SOCKET_DISCONNECT;
			goto transport;
		default:
			code = ARCA_ERR_BACKEND;
		}
		return arca_error(st->ctx, code, "%s: %s", what, fx_text(fx));
	}
	if (!arca_ssh_is_transport(rc))
		return arca_ssh_fail(st->ssh, rc, what);
transport:
	code = arca_ssh_fail(st->ssh, rc, what);
	if (h != NULL && *h != NULL) {
		libssh2_sftp_close_handle(*h);
		*h = NULL;
	}
	sftp_drop(st);
	return code;
}

static char *
sftp_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" :
	    "/", name) < 0)
		return NULL;
	return p;
}

/* stat path: 1 directory, 0 missing, 2 something else; <0 error */
static int
sftp_kind(struct sftp_state *st, const char *path)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r;

	r = libssh2_sftp_stat_ex(st->sftp, path, (unsigned)strlen(path),
	    LIBSSH2_SFTP_STAT, &a);
	if (r == 0)
		return (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
		    !LIBSSH2_SFTP_S_ISDIR(a.permissions) ? 2 : 1;
	r = sftp_fail(st, r, NULL, "cannot look at %s on %s", path,
	    st->ssh->where);
	return r == ARCA_ERR_NOTFOUND ? 0 : r;
}

/*
 * Make the target directory and its missing parents (backups), or check
 * it exists (everything else), then remember its absolute path.
 */
static int
sftp_resolve(struct sftp_state *st)
{
	char buf[SFTP_PATH_MAX + 1], *p = NULL, *s;
	const char *rel;
	int k, r, rc = 0;

	/* "" and "/" are the login dir, "/x" is x in it, "//x" is /x. */
	rel = st->path[0] == '/' ? st->path + 1 : st->path;
	if (rel[0] == '\0')
		rel = ".";
	if ((p = arca_strdup(rel)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	for (s = p + 1; st->create; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			char c = *s;

			*s = '\0';
			if ((k = sftp_kind(st, p)) < 0) {
				rc = k;
				goto out;
			}
			if (k == 0 && (r = libssh2_sftp_mkdir_ex(st->sftp, p,
			    (unsigned)strlen(p), 0700)) != 0 &&
			    sftp_kind(st, p) != 1) {
				rc = sftp_fail(st, r, NULL, "cannot create "
				    "directory %s for backup target %s", p,
				    st->ssh->where);
				goto out;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	if ((k = sftp_kind(st, p)) < 0) {
		rc = k;
		goto out;
	}
	if (k == 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "backup target %s "
		    "does not exist", st->ssh->where);
		goto out;
	}
	if (k == 2) {
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "backup target %s is "
		    "not a directory", st->ssh->where);
		goto out;
	}
	r = libssh2_sftp_symlink_ex(st->sftp, p, (unsigned)strlen(p), buf,
	    SFTP_PATH_MAX, LIBSSH2_SFTP_REALPATH);
	if (r < 0) {
		rc = sftp_fail(st, r, NULL, "cannot resolve %s on %s", p,
		    st->ssh->where);
		goto out;
	}
	buf[r] = '\0';
	if (buf[0] != '/') {
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "server of %s "
		    "resolved %s to a relative path", st->ssh->where, p);
		goto out;
	}
	if ((st->dir = arca_strdup(buf)) == NULL)
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	arca_debug(st->ctx, "sftp: backup target directory is %s", buf);
out:
	free(p);
	return rc;
}

/* Connected, with an SFTP channel and the directory known. */
static int
sftp_ready(struct sftp_state *st)
{
	int rc, r;

	if (st->scp)
		return arca_scp_ready(st);
	if (st->sftp != NULL)
		return 0;
	if ((rc = arca_ssh_connect(st->ssh)) != 0)
		return rc;
	if ((st->sftp = libssh2_sftp_init(st->ssh->session)) == NULL) {
		r = libssh2_session_last_errno(st->ssh->session);
		if (arca_ssh_is_transport(r))
			return sftp_fail(st, r, NULL, "cannot start SFTP on %s",
			    st->ssh->where);
		if (st->scp_allowed) {
			arca_info(st->ctx, "scp: %s has no SFTP subsystem; "
			    "using SCP and shell commands", st->ssh->where);
			st->scp = 1;
			return arca_scp_ready(st);
		}
		rc = arca_error(st->ctx, r == LIBSSH2_ERROR_ALLOC ?
		    ARCA_ERR_NOMEM : ARCA_ERR_BACKEND, "cannot start SFTP on "
		    "%s: the server refused the sftp subsystem (scp:// works "
		    "without it)", st->ssh->where);
		arca_ssh_disconnect(st->ssh);
		return rc;
	}
	if (st->dir == NULL && (rc = sftp_resolve(st)) != 0) {
		sftp_drop(st);
		return rc;
	}
	return 0;
}

static int
sftp_open_proto(struct arca_ctx *ctx, const struct arca_url *url,
    int create, void **state, const char *proto, int scp_allowed)
{
	struct sftp_state *st;
	int rc;

	*state = NULL;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->create = create;
	st->scp_allowed = scp_allowed;
	st->pid = (long)getpid();
	if ((rc = arca_ssh_new(ctx, url, proto, &st->ssh)) != 0)
		goto out;
	if ((st->path = arca_strdup(url->path ? url->path : "")) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (arca_url_option(url, "ssh-askpass") != NULL)
		arca_warn(ctx, "--ssh-askpass is ignored: arca never prompts; "
		    "give the password in the URL or FTP_PASSWORD");
	/*
	 * Connect now so that a refused login or host key is reported before
	 * any work; a network failure is left for the first operation, which
	 * the core retries.
	 */
	if ((rc = sftp_ready(st)) == ARCA_ERR_RETRY) {
		arca_warn(ctx, "%s", ctx->errmsg);
		rc = 0;
	}
out:
	if (rc != 0)
		arca_sftp_close(st);
	else
		*state = st;
	return rc;
}

static int
sftp_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	int scp = arca_url_option(url, "use-scp") != NULL;

	return sftp_open_proto(ctx, url, create, state, scp ? "scp" : "sftp",
	    scp);
}

static int
scp_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	return sftp_open_proto(ctx, url, create, state, "scp", 1);
}

/* Write all of in (from its offset) to h. */
static int
sftp_copy_up(struct sftp_state *st, int in, LIBSSH2_SFTP_HANDLE **h,
    const char *local_path, const char *name, char *buf)
{
	ssize_t n, w, off;

	for (;;) {
		if ((n = read(in, buf, SFTP_IO_BUF)) == -1) {
			if (errno == EINTR)
				continue;
			return arca_error(st->ctx, ARCA_ERR_IO, "cannot read "
			    "%s: %s", local_path, strerror(errno));
		}
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += w)
			if ((w = libssh2_sftp_write(*h, buf + off,
			    (size_t)(n - off))) < 0)
				return sftp_fail(st, (int)w, h, "upload of %s "
				    "to %s", name, st->ssh->where);
	}
}

static int
sftp_rename(struct sftp_state *st, const char *from, const char *to)
{
	const long flags = LIBSSH2_SFTP_RENAME_OVERWRITE |
	    LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE;
	int r;

	r = libssh2_sftp_rename_ex(st->sftp, from, (unsigned)strlen(from), to,
	    (unsigned)strlen(to), flags);
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL && sftp_kind(st, to) == 2) {
		/* See the top of the file: version 3 renames never replace. */
		if ((r = libssh2_sftp_unlink_ex(st->sftp, to,
		    (unsigned)strlen(to))) == 0)
			r = libssh2_sftp_rename_ex(st->sftp, from,
			    (unsigned)strlen(from), to, (unsigned)strlen(to),
			    flags);
	}
	if (r != 0)
		return sftp_fail(st, r, NULL, "cannot rename %s to %s on %s",
		    from, to, st->ssh->where);
	return 0;
}

/*
 * OpenSSH reports a full disk (or quota) as the catch-all "failure", which
 * is otherwise worth retrying.  While our partial upload still takes its
 * space, ask the server (statvfs@openssh.com) whether it has run out, and
 * if so say so and stop.  Returns rc, or the new error.
 */
static int
sftp_no_space(struct sftp_state *st, int rc, const char *name)
{
	LIBSSH2_SFTP_STATVFS v;

	if (libssh2_sftp_last_error(st->sftp) != LIBSSH2_FX_FAILURE ||
	    libssh2_sftp_statvfs(st->sftp, st->dir, strlen(st->dir), &v) != 0)
		return rc;
	if (v.f_bavail * (v.f_frsize ? v.f_frsize : v.f_bsize) >= SFTP_IO_BUF)
		return rc;
	return arca_error(st->ctx, ARCA_ERR_BACKEND, "no space left on the "
	    "server for %s in %s (%llu bytes free)", name, st->ssh->where,
	    (unsigned long long)(v.f_bavail * (v.f_frsize ? v.f_frsize :
	    v.f_bsize)));
}

static int
sftp_put(void *vst, const char *local_path, const char *name)
{
	struct sftp_state *st = vst;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	char *tmp = NULL, *final = NULL, *tmpname = NULL, *buf = NULL;
	int in = -1, made = 0, rc, r;

	if ((rc = sftp_ready(st)) != 0)
		return rc;
	if (st->scp)
		return arca_scp_put(st, local_path, name);
	if (asprintf(&tmpname, ".%s" SFTP_TMP_MARK "%ld", name, st->pid) < 0) {
		tmpname = NULL;
		goto nomem;
	}
	if ((tmp = sftp_join(st->dir, tmpname)) == NULL ||
	    (final = sftp_join(st->dir, name)) == NULL ||
	    (buf = malloc(SFTP_IO_BUF)) == NULL)
		goto nomem;
	if ((in = open(local_path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	if ((h = libssh2_sftp_open_ex(st->sftp, tmp, (unsigned)strlen(tmp),
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600,
	    LIBSSH2_SFTP_OPENFILE)) == NULL) {
		rc = sftp_fail(st, libssh2_session_last_errno(
		    st->ssh->session), NULL, "cannot create %s on %s", tmp,
		    st->ssh->where);
		goto out;
	}
	made = 1;
	if ((rc = sftp_copy_up(st, in, &h, local_path, name, buf)) != 0)
		goto out;
	/* fsync@openssh.com: the data must be on disk before the rename. */
	if ((r = libssh2_sftp_fsync(h)) != 0 && !(r ==
	    LIBSSH2_ERROR_SFTP_PROTOCOL && libssh2_sftp_last_error(st->sftp) ==
	    LIBSSH2_FX_OP_UNSUPPORTED)) {
		rc = sftp_fail(st, r, &h, "cannot flush %s on %s", tmp,
		    st->ssh->where);
		goto out;
	}
	r = libssh2_sftp_close_handle(h);
	h = NULL;
	if (r != 0) {
		rc = sftp_fail(st, r, NULL, "cannot finish writing %s on %s",
		    tmp, st->ssh->where);
		goto out;
	}
	if ((rc = sftp_rename(st, tmp, final)) != 0)
		goto out;
	made = 0;
	goto out;

nomem:
	rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	if (rc == ARCA_ERR_RETRY && made && st->sftp != NULL)
		rc = sftp_no_space(st, rc, name);
	if (h != NULL)
		libssh2_sftp_close_handle(h);
	/* Best effort: a lost connection leaves the (hidden) temp file. */
	if (made && st->sftp != NULL)
		libssh2_sftp_unlink_ex(st->sftp, tmp, (unsigned)strlen(tmp));
	if (in != -1)
		close(in);
	free(buf);
	free(tmp);
	free(tmpname);
	free(final);
	return rc;
}

static int
sftp_get(void *vst, const char *name, const char *local_path)
{
	struct sftp_state *st = vst;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *path = NULL, *buf = NULL;
	unsigned long long got = 0;
	ssize_t n, w, off;
	int out = -1, rc, r;

	if ((rc = sftp_ready(st)) != 0)
		return rc;
	if (st->scp)
		return arca_scp_get(st, name, local_path);
	if ((path = sftp_join(st->dir, name)) == NULL ||
	    (buf = malloc(SFTP_IO_BUF)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((h = libssh2_sftp_open_ex(st->sftp, path, (unsigned)strlen(path),
	    LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE)) == NULL) {
		rc = sftp_fail(st, libssh2_session_last_errno(
		    st->ssh->session), NULL, "cannot open %s on %s", name,
		    st->ssh->where);
		if (rc == ARCA_ERR_NOTFOUND)
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not "
			    "found in backup target %s", name, st->ssh->where);
		goto out;
	}
	if ((r = libssh2_sftp_fstat_ex(h, &a, 0)) != 0) {
		rc = sftp_fail(st, r, &h, "cannot stat %s on %s", name,
		    st->ssh->where);
		goto out;
	}
	if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	    !LIBSSH2_SFTP_S_ISREG(a.permissions)) {
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "%s in backup target"
		    " %s is not a regular file", name, st->ssh->where);
		goto out;
	}
	if ((out = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	for (;;) {
		if ((n = libssh2_sftp_read(h, buf, SFTP_IO_BUF)) < 0) {
			rc = sftp_fail(st, (int)n, &h, "download of %s from %s",
			    name, st->ssh->where);
			goto out;
		}
		if (n == 0)
			break;
		got += (unsigned long long)n;
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) ==
			    -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot "
				    "write %s: %s", local_path, strerror(errno));
				goto out;
			}
	}
	/* A file replaced or cut short while we read is worth another go. */
	if ((a.flags & LIBSSH2_SFTP_ATTR_SIZE) && got != a.filesize) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "download of %s from "
		    "%s: got %llu bytes of %llu", name, st->ssh->where, got,
		    (unsigned long long)a.filesize);
		goto out;
	}
	r = close(out);
	out = -1;
	if (r == -1)
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    local_path, strerror(errno));

out:
	if (h != NULL)
		libssh2_sftp_close_handle(h);
	if (out != -1)
		close(out);
	free(buf);
	free(path);
	return rc;
}

int
arca_sftp_is_tmp(const char *name)
{
	return name[0] == '.' && strstr(name, SFTP_TMP_MARK) != NULL;
}

/* Add name to out, within the cap. */
static int
sftp_list_add(struct sftp_state *st, struct arca_strlist *out,
    const char *name)
{
	if (out->n >= SFTP_MAX_NAMES)
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "backup target %s "
		    "holds more than %d files", st->ssh->where, SFTP_MAX_NAMES);
	if (arca_strlist_add(out, name) != 0)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

/*
 * Call fn for each entry of the target directory (name NUL-terminated;
 * names with a NUL inside, which no backup file has, are passed over),
 * until it returns non-zero; returns that, 0, or the listing's error.
 */
static int
sftp_each_entry(struct sftp_state *st,
    int (*fn)(struct sftp_state *, void *, const char *,
    const LIBSSH2_SFTP_ATTRIBUTES *), void *ud)
{
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char name[SFTP_PATH_MAX + 1];
	int n, rc = 0;

	if ((h = libssh2_sftp_open_ex(st->sftp, st->dir,
	    (unsigned)strlen(st->dir), 0, 0, LIBSSH2_SFTP_OPENDIR)) == NULL)
		return sftp_fail(st, libssh2_session_last_errno(
		    st->ssh->session), NULL, "cannot list %s", st->ssh->where);
	for (;;) {
		n = libssh2_sftp_readdir_ex(h, name, SFTP_PATH_MAX, NULL, 0, &a);
		if (n < 0) {
			rc = sftp_fail(st, n, &h, "cannot list %s",
			    st->ssh->where);
			break;
		}
		if (n == 0)
			break;
		name[n] = '\0';
		if (strlen(name) != (size_t)n)
			continue;
		if ((rc = fn(st, ud, name, &a)) != 0)
			break;
	}
	if (h != NULL)
		libssh2_sftp_close_handle(h);
	return rc;
}

struct list_ctx {
	struct arca_strlist *out;
	struct arca_strlist *links;
};

static int
list_entry(struct sftp_state *st, void *ud, const char *name,
    const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	struct list_ctx *lc = ud;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    arca_sftp_is_tmp(name))
		return 0;
	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		/* A symlink to a file is fetched through: it counts, but can
		 * only be looked at once the listing is over. */
		if (LIBSSH2_SFTP_S_ISLNK(a->permissions))
			return sftp_list_add(st, lc->links, name);
		if (!LIBSSH2_SFTP_S_ISREG(a->permissions))
			return 0;
	}
	return sftp_list_add(st, lc->out, name);
}

static int
sftp_list(void *vst, struct arca_strlist *outl)
{
	struct sftp_state *st = vst;
	struct arca_strlist links = { 0 };
	struct list_ctx lc = { outl, &links };
	char *path;
	size_t i;
	int n, rc;

	if ((rc = sftp_ready(st)) != 0)
		return rc;
	if (st->scp)
		return arca_scp_list(st, outl);
	if ((rc = sftp_each_entry(st, list_entry, &lc)) != 0)
		goto out;
	for (i = 0; i < links.n; i++) {
		if ((path = sftp_join(st->dir, links.v[i])) == NULL) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		n = sftp_kind(st, path);
		free(path);
		if (n < 0) {
			rc = n;
			goto out;
		}
		if (n == 2 && (rc = sftp_list_add(st, outl, links.v[i])) != 0)
			goto out;
	}
out:
	arca_strlist_free(&links);
	return rc;
}

static int
sftp_del(void *vst, const char *name)
{
	struct sftp_state *st = vst;
	char *path;
	int rc, r;

	if ((rc = sftp_ready(st)) != 0)
		return rc;
	if (st->scp)
		return arca_scp_del(st, name);
	if ((path = sftp_join(st->dir, name)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((r = libssh2_sftp_unlink_ex(st->sftp, path,
	    (unsigned)strlen(path))) != 0) {
		rc = sftp_fail(st, r, NULL, "cannot delete %s from %s", name,
		    st->ssh->where);
		if (rc == ARCA_ERR_NOTFOUND)
			rc = 0;
	}
	free(path);
	return rc;
}

/*
 * The pid in a temp name is the writer's on its own machine, so here only
 * the age tells a dead upload: one untouched for a day is stale (a live
 * upload writes all the time; clocks may differ by minutes, not a day).
 */
#define SFTP_TMP_STALE	(24 * 60 * 60)

static int
sweep_entry(struct sftp_state *st, void *ud, const char *name,
    const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	if (!arca_sftp_is_tmp(name) ||
	    !(a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ||
	    !(a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
	    !LIBSSH2_SFTP_S_ISREG(a->permissions) ||
	    (long long)time(NULL) - (long long)a->mtime <= SFTP_TMP_STALE)
		return 0;
	return sftp_list_add(st, ud, name);
}

static int
sftp_sweep(void *vst, int apply, struct arca_strlist *found)
{
	struct sftp_state *st = vst;
	struct arca_strlist stale = { 0 };
	size_t i;
	int rc;

	if ((rc = sftp_ready(st)) != 0)
		return rc;
	if (st->scp)	/* no file times without SFTP: cannot tell */
		return 0;
	if ((rc = sftp_each_entry(st, sweep_entry, &stale)) != 0)
		goto out;
	for (i = 0; i < stale.n; i++) {
		if (arca_strlist_add(found, stale.v[i]) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (apply && (rc = sftp_del(st, stale.v[i])) != 0)
			goto out;
	}
out:
	arca_strlist_free(&stale);
	return rc;
}

void
arca_sftp_close(void *vst)
{
	struct sftp_state *st = vst;

	if (st == NULL)
		return;
	if (st->sftp != NULL)
		libssh2_sftp_shutdown(st->sftp);
	arca_ssh_free(st->ssh);
	free(st->path);
	free(st->dir);
	free(st);
}

static const struct arca_backend_optdef sftp_options[] = {
	{ "ssh-options", 1, "options for sftp:// and scp://, ssh's spelling: "
	  "\"-oIdentityFile=FILE -oPort=N -oUserKnownHostsFile=FILE\"" },
	{ "ssh-accept-new-host-key", 0, "record an SSH host key not yet in "
	  "known_hosts instead of refusing it (a changed key is always "
	  "refused)" },
	{ "use-scp", 0, "sftp:// behaves as scp:// (duplicity's switch)" },
	{ "ssh-askpass", 0, "accepted for duplicity's sake; ignored" },
	{ "timeout", 1, "seconds one network step may take (sftp://, scp://,"
	  " rclone://; default 30)" },
	{ NULL, 0, NULL }
};

const struct arca_backend_ops arca_backend_sftp = {
	.scheme = "sftp",
	.options = sftp_options,
	.open = sftp_open,
	.put = sftp_put,
	.get = sftp_get,
	.list = sftp_list,
	.del = sftp_del,
	.sweep = sftp_sweep,
	.close = arca_sftp_close,
};

const struct arca_backend_ops arca_backend_scp = {
	.scheme = "scp",
	.open = scp_open,
	.put = sftp_put,
	.get = sftp_get,
	.list = sftp_list,
	.del = sftp_del,
	.close = arca_sftp_close,
};
