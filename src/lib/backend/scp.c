/*
 * scp.c: scp:// on a server without the SFTP subsystem.
 *
 * As duplicity's scp mode: files travel by the SCP protocol (libssh2 runs
 * "scp -t" / "scp -f" on the server) and everything else is a POSIX shell
 * command: listing, deleting, making the directory, and the rename that
 * publishes an upload (written as ".<name>.arca-tmp-<pid>", then
 * "mv -f").  Every path is single-quoted for the shell, quotes included,
 * so any name works (duplicity refuses names with a quote).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh2.h>

#include "backend/backend.h"
#include "backend/sftp_internal.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#define SCP_IO_BUF	(256 * 1024)
/* Output of a listing: untrusted, so capped (about 4 million names). */
#define SCP_OUT_MAX	(256u * 1024 * 1024)
#define SCP_ERR_MAX	2048
#define SCP_MAX_NAMES	4000000

/* Append s to b as one single-quoted shell word. */
static int
sh_quote(struct arca_buf *b, const char *s)
{
	int err = arca_buf_putc(b, '\'');

	for (; *s != '\0'; s++)
		err |= *s == '\'' ? arca_buf_puts(b, "'\\''") :
		    arca_buf_putc(b, *s);
	return err | arca_buf_putc(b, '\'');
}

/* Broken connection: drop it; the caller frees ch first. */
static int
scp_fail(struct sftp_state *st, int r, const char *what)
{
	int rc = arca_ssh_fail(st->ssh, r, what);

	if (arca_ssh_is_transport(r))
		arca_ssh_disconnect(st->ssh);
	return rc;
}

/* Read a channel stream to its end into b (capped by b->max). */
static int
drain(LIBSSH2_CHANNEL *ch, int stream, struct arca_buf *b)
{
	char buf[16384];
	ssize_t n;

	for (;;) {
		n = libssh2_channel_read_ex(ch, stream, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		/* Past the cap: keep reading (the command must finish),
		 * drop the rest; the caller sees b->len == b->max. */
		if (b->len < b->max)
			arca_buf_append(b, buf, (size_t)n < b->max - b->len ?
			    (size_t)n : b->max - b->len);
	}
}

/*
 * Run cmd on the server through the login shell.  stdout into out (if
 * not NULL), the exit status into *status, stderr's first line into err.
 */
static int
scp_run(struct sftp_state *st, const char *cmd, struct arca_buf *out,
    int *status, struct arca_buf *err)
{
	LIBSSH2_CHANNEL *ch;
	struct arca_buf sink = { .max = SCP_ERR_MAX };
	int r, rc = 0;

	*status = -1;
	arca_debug(st->ctx, "scp: running %s", cmd);
	if ((ch = libssh2_channel_open_session(st->ssh->session)) == NULL)
		return scp_fail(st, libssh2_session_last_errno(
		    st->ssh->session), "cannot open an SSH channel");
	if ((r = libssh2_channel_exec(ch, cmd)) != 0 ||
	    (r = drain(ch, 0, out ? out : &sink)) != 0 ||
	    (r = drain(ch, SSH_EXTENDED_DATA_STDERR, err)) != 0 ||
	    (r = libssh2_channel_close(ch)) != 0 ||
	    (r = libssh2_channel_wait_closed(ch)) != 0) {
		libssh2_channel_free(ch);
		rc = scp_fail(st, r, "remote command failed");
		goto out;
	}
	*status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_free(ch);
	if (err->len > 0 && memchr(err->data, '\n', err->len))
		err->len = (size_t)((unsigned char *)memchr(err->data, '\n',
		    err->len) - err->data);
	if (err->data)
		err->data[err->len] = '\0';
out:
	arca_buf_free(&sink);
	return rc;
}

/* Run cmd; status 0 or a message naming what failed. */
static int
scp_run_ok(struct sftp_state *st, const char *cmd, const char *what)
{
	struct arca_buf err = { .max = SCP_ERR_MAX };
	int status, rc;

	if ((rc = scp_run(st, cmd, NULL, &status, &err)) == 0 && status != 0)
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "%s on %s failed "
		    "(exit status %d)%s%s", what, st->ssh->where, status,
		    err.len ? ": " : "", err.len ? (char *)err.data : "");
	arca_buf_free(&err);
	return rc;
}

int
arca_scp_ready(struct sftp_state *st)
{
	struct arca_buf cmd = { 0 }, out = { .max = 8192 };
	struct arca_buf err = { .max = SCP_ERR_MAX };
	const char *rel;
	int rc, status, e = 0;

	if ((rc = arca_ssh_connect(st->ssh)) != 0 || st->dir != NULL)
		return rc;
	rel = st->path[0] == '/' ? st->path + 1 : st->path;
	if (rel[0] == '\0')
		rel = ".";
	/* 3: missing, 4: not a directory; else its physical path. */
	if (st->create) {
		e |= arca_buf_puts(&cmd, "(umask 077 && mkdir -p -- ");
		e |= sh_quote(&cmd, rel);
		e |= arca_buf_puts(&cmd, ") || exit 5; ");
	}
	e |= arca_buf_puts(&cmd, "if [ -d ");
	e |= sh_quote(&cmd, rel);
	e |= arca_buf_puts(&cmd, " ]; then cd -- ");
	e |= sh_quote(&cmd, rel);
	e |= arca_buf_puts(&cmd, " && pwd -P; elif [ -e ");
	e |= sh_quote(&cmd, rel);
	e |= arca_buf_puts(&cmd, " ]; then exit 4; else exit 3; fi");
	if (e != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = scp_run(st, (char *)cmd.data, &out, &status, &err)) != 0)
		goto out;
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	if (status == 3)
		rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "backup target %s "
		    "does not exist", st->ssh->where);
	else if (status == 4)
		rc = arca_error(st->ctx, ARCA_ERR_USAGE, "backup target %s is "
		    "not a directory", st->ssh->where);
	else if (status != 0 || out.len == 0 || out.data[0] != '/')
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "cannot %s backup "
		    "target %s through the server's shell (exit status %d)%s%s",
		    st->create ? "create" : "find", st->ssh->where, status,
		    err.len ? ": " : "", err.len ? (char *)err.data : "");
	else if ((st->dir = arca_strdup((char *)out.data)) == NULL)
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	if (rc != 0 && rc != ARCA_ERR_RETRY)
		arca_ssh_disconnect(st->ssh);
	arca_buf_free(&cmd);
	arca_buf_free(&out);
	arca_buf_free(&err);
	return rc;
}

static char *
scp_path(struct sftp_state *st, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", st->dir, name) < 0)
		return NULL;
	return p;
}

int
arca_scp_put(struct sftp_state *st, const char *local_path,
    const char *name)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct arca_buf cmd = { 0 };
	struct stat sb;
	char *tmp = NULL, *final = NULL, *tmpname = NULL, *buf = NULL;
	ssize_t n, w, off;
	int in = -1, rc = 0, r, e = 0, sent = 0;

	if (asprintf(&tmpname, ".%s.arca-tmp-%ld", name, st->pid) < 0) {
		tmpname = NULL;
		goto nomem;
	}
	if ((tmp = scp_path(st, tmpname)) == NULL ||
	    (final = scp_path(st, name)) == NULL ||
	    (buf = malloc(SCP_IO_BUF)) == NULL)
		goto nomem;
	if ((in = open(local_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(in, &sb) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	if ((ch = libssh2_scp_send64(st->ssh->session, tmp, 0600,
	    (libssh2_int64_t)sb.st_size, 0, 0)) == NULL) {
		r = libssh2_session_last_errno(st->ssh->session);
		rc = scp_fail(st, r, "SCP upload failed");
		goto out;
	}
	sent = 1;
	for (;;) {
		if ((n = read(in, buf, SCP_IO_BUF)) == -1) {
			if (errno == EINTR)
				continue;
			rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot read %s: "
			    "%s", local_path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		for (off = 0; off < n; off += w)
			if ((w = libssh2_channel_write(ch, buf + off,
			    (size_t)(n - off))) < 0) {
				libssh2_channel_free(ch);
				ch = NULL;
				rc = scp_fail(st, (int)w, "SCP upload failed");
				goto out;
			}
	}
	/*
	 * The source ends a file with a NUL byte (the SCP protocol; libssh2
	 * leaves it to us): without it OpenSSH's sink exits 1.  The sink
	 * then exits 0 only when all of the file arrived.
	 */
	if ((r = (int)libssh2_channel_write(ch, "", 1)) != 1 ||
	    (r = libssh2_channel_send_eof(ch)) != 0 ||
	    (r = libssh2_channel_wait_eof(ch)) != 0 ||
	    (r = libssh2_channel_wait_closed(ch)) != 0) {
		libssh2_channel_free(ch);
		ch = NULL;
		rc = scp_fail(st, r, "SCP upload failed");
		goto out;
	}
	if ((r = libssh2_channel_get_exit_status(ch)) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_RETRY, "SCP upload of %s to "
		    "%s failed (scp exit status %d)", name, st->ssh->where, r);
		goto out;
	}
	libssh2_channel_free(ch);
	ch = NULL;
	e |= arca_buf_puts(&cmd, "mv -f -- ");
	e |= sh_quote(&cmd, tmp);
	e |= arca_buf_putc(&cmd, ' ');
	e |= sh_quote(&cmd, final);
	if (e != 0)
		goto nomem;
	if ((rc = scp_run_ok(st, (char *)cmd.data, "renaming the upload")) ==
	    0)
		sent = 0;
	goto out;

nomem:
	rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	if (ch != NULL)
		libssh2_channel_free(ch);
	if (sent && st->ssh->session != NULL) {
		arca_buf_reset(&cmd);
		if (arca_buf_puts(&cmd, "rm -f -- ") == 0 &&
		    sh_quote(&cmd, tmp) == 0) {
			char msg[sizeof(st->ctx->errmsg)];
			int code = st->ctx->err;

			/* Keep the message of the real failure. */
			snprintf(msg, sizeof(msg), "%s", st->ctx->errmsg);
			scp_run_ok(st, (char *)cmd.data, "removing the upload");
			arca_error(st->ctx, code, "%s", msg);
		}
	}
	if (in != -1)
		close(in);
	arca_buf_free(&cmd);
	free(buf);
	free(tmp);
	free(tmpname);
	free(final);
	return rc;
}

int
arca_scp_get(struct sftp_state *st, const char *name, const char *local_path)
{
	LIBSSH2_CHANNEL *ch = NULL;
	libssh2_struct_stat sb;
	char *path = NULL, *buf = NULL, *m = NULL;
	long long left;
	ssize_t n, w, off;
	int out = -1, rc = 0, r;

	if ((path = scp_path(st, name)) == NULL ||
	    (buf = malloc(SCP_IO_BUF)) == NULL) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&sb, 0, sizeof(sb));
	if ((ch = libssh2_scp_recv2(st->ssh->session, path, &sb)) == NULL) {
		r = libssh2_session_last_errno(st->ssh->session);
		libssh2_session_last_error(st->ssh->session, &m, NULL, 0);
		if (r == LIBSSH2_ERROR_SCP_PROTOCOL && m != NULL &&
		    strstr(m, "No such file") != NULL)
			rc = arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not "
			    "found in backup target %s", name, st->ssh->where);
		else
			rc = scp_fail(st, r, "SCP download failed");
		goto out;
	}
	if ((out = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    local_path, strerror(errno));
		goto out;
	}
	for (left = (long long)sb.st_size; left > 0; left -= n) {
		n = libssh2_channel_read(ch, buf, left < SCP_IO_BUF ?
		    (size_t)left : SCP_IO_BUF);
		if (n <= 0) {
			libssh2_channel_free(ch);
			ch = NULL;
			rc = n == 0 ? arca_error(st->ctx, ARCA_ERR_RETRY, "SCP "
			    "download of %s from %s ended early", name,
			    st->ssh->where) : scp_fail(st, (int)n,
			    "SCP download failed");
			goto out;
		}
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
	r = close(out);
	out = -1;
	if (r == -1)
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    local_path, strerror(errno));

out:
	if (ch != NULL)
		libssh2_channel_free(ch);
	if (out != -1)
		close(out);
	free(buf);
	free(path);
	return rc;
}

int
arca_scp_list(struct sftp_state *st, struct arca_strlist *l)
{
	struct arca_buf cmd = { 0 }, out = { .max = SCP_OUT_MAX };
	struct arca_buf err = { .max = SCP_ERR_MAX };
	const char *p, *end, *z;
	int rc, status, e = 0;

	/* Regular files (or links to them), NUL-terminated, any name. */
	e |= arca_buf_puts(&cmd, "cd -- ");
	e |= sh_quote(&cmd, st->dir);
	e |= arca_buf_puts(&cmd, " || exit 3; for f in * .[!.]* ..?*; do "
	    "[ -f \"$f\" ] && printf '%s\\000' \"$f\"; done; exit 0");
	if (e != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = scp_run(st, (char *)cmd.data, &out, &status, &err)) != 0)
		goto out;
	if (status != 0) {
		rc = arca_error(st->ctx, status == 3 ? ARCA_ERR_NOTFOUND :
		    ARCA_ERR_BACKEND, "cannot list %s (exit status %d)%s%s",
		    st->ssh->where, status, err.len ? ": " : "",
		    err.len ? (char *)err.data : "");
		goto out;
	}
	if (out.len == out.max) {
		rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "listing of %s is "
		    "larger than %u bytes", st->ssh->where, SCP_OUT_MAX);
		goto out;
	}
	for (p = (char *)out.data, end = p + out.len; p < end; p = z + 1) {
		if ((z = memchr(p, '\0', (size_t)(end - p))) == NULL)
			break;	/* cut short: the last name is incomplete */
		if (arca_sftp_is_tmp(p) || z == p)
			continue;
		if (l->n >= SCP_MAX_NAMES) {
			rc = arca_error(st->ctx, ARCA_ERR_BACKEND, "backup "
			    "target %s holds more than %d files",
			    st->ssh->where, SCP_MAX_NAMES);
			goto out;
		}
		if (arca_strlist_add(l, p) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	arca_buf_free(&cmd);
	arca_buf_free(&out);
	arca_buf_free(&err);
	return rc;
}

int
arca_scp_del(struct sftp_state *st, const char *name)
{
	struct arca_buf cmd = { 0 };
	char *path;
	int rc, e = 0;

	if ((path = scp_path(st, name)) == NULL)
		return arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
	e |= arca_buf_puts(&cmd, "rm -f -- ");
	e |= sh_quote(&cmd, path);
	rc = e ? arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory") :
	    scp_run_ok(st, (char *)cmd.data, "deleting a file");
	arca_buf_free(&cmd);
	free(path);
	return rc;
}
