/*
 * ssh_hostkey.c: the SSH handshake and the host key check.
 *
 * Host keys are checked as ssh does with StrictHostKeyChecking=yes, against
 * the user's known_hosts (~/.ssh/known_hosts or -oUserKnownHostsFile) and
 * the global one (/etc/ssh/ssh_known_hosts or -oGlobalKnownHostsFile): a
 * key not recorded is refused, unless --ssh-accept-new-host-key (or
 * StrictHostKeyChecking=accept-new) records it; a key that differs from
 * the recorded one is always refused, loudly; an @revoked key is refused.
 *
 * libssh2 has no notion of "prefer the key types known_hosts holds", so we
 * find them out first (kh_known_types) and offer only those: otherwise a
 * host recorded with its ECDSA key would, on negotiating ED25519, look
 * unknown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libssh2.h>

#include "backend/backend.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

/* A known_hosts line longer than this is not a host key. */
#define SSH_KH_LINE_MAX		(64 * 1024)

/* Host key types: libssh2's, known_hosts', and the algorithm names. */
static const struct kh_type {
	int hostkey;		/* LIBSSH2_HOSTKEY_TYPE_* */
	int kh;			/* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;	/* known_hosts / algorithm name */
	const char *label;	/* for people */
} kh_types[] = {
	/* Our preference order: libssh2 1.10 signs RSA host keys only
	 * with SHA-1, which OpenSSH servers no longer offer. */
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	  "ssh-ed25519", "ED25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	  "ecdsa-sha2-nistp256", "ECDSA" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	  "ecdsa-sha2-nistp384", "ECDSA" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	  "ecdsa-sha2-nistp521", "ECDSA" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA,
	  "ssh-rsa", "RSA" },
};
#define KH_NTYPES	(sizeof(kh_types) / sizeof(kh_types[0]))

/* base64 without padding, as ssh prints SHA256 fingerprints. */
static void
b64(const unsigned char *in, size_t n, int pad, struct arca_buf *out,
    int *err)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*err |= arca_buf_putc(out, t[v >> 18 & 63]);
		*err |= arca_buf_putc(out, t[v >> 12 & 63]);
		if (i + 1 < n)
			*err |= arca_buf_putc(out, t[v >> 6 & 63]);
		else if (pad)
			*err |= arca_buf_putc(out, '=');
		if (i + 2 < n)
			*err |= arca_buf_putc(out, t[v & 63]);
		else if (pad)
			*err |= arca_buf_putc(out, '=');
	}
}

struct kh_file {
	const char *path;
	LIBSSH2_KNOWNHOSTS *keys;
	LIBSSH2_KNOWNHOSTS *revoked;
	int exists;
};

/*
 * Load one known_hosts file.  A line libssh2 cannot read (a key type it
 * does not know, @cert-authority, garbage) is skipped, not fatal, as ssh
 * does: one odd line must not lock anybody out.  @revoked lines go to
 * their own set.
 */
static int
kh_load(struct arca_ssh *s, struct kh_file *f)
{
	FILE *fp;
	char *line = NULL, *p;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	if ((f->keys = libssh2_knownhost_init(s->session)) == NULL ||
	    (f->revoked = libssh2_knownhost_init(s->session)) == NULL)
		return arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((fp = fopen(f->path, "re")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot read "
		    "known hosts file %s: %s", f->path, strerror(errno));
	}
	f->exists = 1;
	while ((n = getline(&line, &cap, fp)) != -1) {
		LIBSSH2_KNOWNHOSTS *into = f->keys;

		lineno++;
		if (n > SSH_KH_LINE_MAX)
			continue;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '@') {
			if (strncmp(p, "@revoked", 8) != 0 ||
			    (p[8] != ' ' && p[8] != '\t'))
				continue;
			p += 8 + strspn(p + 8, " \t");
			into = f->revoked;
		}
		if (libssh2_knownhost_readline(into, p, strlen(p),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
			arca_debug(s->ctx, "ssh: %s:%zu: skipping a line "
			    "libssh2 cannot read", f->path, lineno);
	}
	if (ferror(fp))
		rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot read known "
		    "hosts file %s: %s", f->path, strerror(errno));
	free(line);
	fclose(fp);
	return rc;
}

static int
kh_check(LIBSSH2_KNOWNHOSTS *h, const char *name, const char *key,
    size_t len, int kh)
{
	struct libssh2_knownhost *e;

	if (h == NULL)
		return LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
	return libssh2_knownhost_checkp(h, name, -1, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kh,
	    &e);
}

/*
 * Which key types the files record for name.  A check with a key that
 * cannot be anybody's says MISMATCH exactly when an entry of that type
 * exists for the name; this also works for hashed host names, which
 * cannot be listed.  Returns a bit per kh_types entry.
 */
static unsigned
kh_known_types(struct kh_file *f, size_t nf, const char *name)
{
	unsigned bits = 0;
	size_t i, j;

	for (i = 0; i < KH_NTYPES; i++)
		for (j = 0; j < nf; j++)
			if (kh_check(f[j].keys, name, "\0", 1, kh_types[i].kh)
			    == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
				bits |= 1u << i;
	return bits;
}

/* Offer only the host key algorithms known_hosts has keys for. */
static int
kh_prefer(struct arca_ssh *s, unsigned bits)
{
	struct arca_buf b = { 0 };
	size_t i;
	int rc = 0;

	if (bits == 0)
		return 0;
	for (i = 0; i < KH_NTYPES; i++)
		if (bits & (1u << i) && arca_buf_printf(&b, "%s%s",
		    b.len ? "," : "", kh_types[i].name) != 0)
			rc = ARCA_ERR_NOMEM;
	if (rc == 0 && libssh2_session_method_pref(s->session,
	    LIBSSH2_METHOD_HOSTKEY, (char *)b.data) != 0)
		arca_debug(s->ctx, "ssh: cannot prefer host key types %s",
		    (char *)b.data);
	arca_buf_free(&b);
	return rc == 0 ? 0 : arca_error(s->ctx, ARCA_ERR_NOMEM,
	    "out of memory");
}

/* Append "name type base64key" to the user's known_hosts. */
static int
kh_record(struct arca_ssh *s, const char *name, const struct kh_type *t,
    const char *key, size_t len, const char *fp)
{
	struct arca_buf line = { 0 };
	char *dir = NULL, *slash;
	int fd, err = 0, rc = 0, e;
	ssize_t w;

	err |= arca_buf_printf(&line, "%s %s ", name, t->name);
	b64((const unsigned char *)key, len, 1, &line, &err);
	err |= arca_buf_putc(&line, '\n');
	if (err != 0 || (dir = arca_strdup(s->known_hosts)) == NULL) {
		rc = arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* ssh makes ~/.ssh on first use; so do we (only that one level). */
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot "
			    "create %s to record the host key of %s: %s", dir,
			    name, strerror(errno));
			goto out;
		}
	}
	if ((fd = open(s->known_hosts, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1) {
		rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot record the "
		    "host key of %s in %s: %s", name, s->known_hosts,
		    strerror(errno));
		goto out;
	}
	w = write(fd, line.data, line.len);
	e = errno;
	if (close(fd) != 0 && w == (ssize_t)line.len) {
		w = -1;
		e = errno;
	}
	if (w != (ssize_t)line.len) {
		rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot record the "
		    "host key of %s in %s: %s", name, s->known_hosts,
		    w < 0 ? strerror(e) : "short write");
		goto out;
	}
	arca_warn(s->ctx, "ssh: permanently added the %s host key of %s (%s) "
	    "to %s", t->label, name, fp, s->known_hosts);
out:
	arca_buf_free(&line);
	free(dir);
	return rc;
}

/* The "[host]:port" (or "host" for port 22) known_hosts name. */
static char *
kh_name(struct arca_ssh *s)
{
	char *n;

	if (s->port == 22)
		return arca_strdup(s->host);
	if (asprintf(&n, "[%s]:%d", s->host, s->port) < 0)
		return NULL;
	return n;
}

/*
 * Handshake, then check the server's key.  Loads the files first so that
 * the handshake can be steered to a key type they hold.
 */
int
arca_ssh_handshake(struct arca_ssh *s)
{
	struct kh_file f[2] = { { .path = s->known_hosts },
		{ .path = s->global_known_hosts } };
	struct arca_buf fp = { 0 };
	const struct kh_type *t = NULL;
	const unsigned char *hash;
	const char *key;
	char *name = NULL;
	size_t len, i;
	unsigned known;
	int type, rc, r, err = 0, mismatch = -1, match = 0;

	if ((name = kh_name(s)) == NULL) {
		rc = arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < 2; i++)
		if ((rc = kh_load(s, &f[i])) != 0)
			goto out;
	known = kh_known_types(f, 2, name);
	if ((rc = kh_prefer(s, known)) != 0)
		goto out;

	if ((r = libssh2_session_handshake(s->session, s->sock)) != 0) {
		if (r == LIBSSH2_ERROR_KEX_FAILURE && known)
			rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "SSH handshake "
			    "with %s port %d failed: %s.  Only the host key "
			    "types that known_hosts holds for %s were offered, "
			    "and the server has none of them (libssh2 %s "
			    "checks RSA host keys only by SHA-1 signatures, "
			    "which OpenSSH 8.8 and later no longer make: record "
			    "the server's ed25519 or ecdsa key instead)",
			    s->host, s->port, arca_ssh_msg(s, "no common "
			    "algorithm"), name, LIBSSH2_VERSION);
		else if (r == LIBSSH2_ERROR_KEX_FAILURE)
			rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "SSH handshake "
			    "with %s port %d failed: %s", s->host, s->port,
			    arca_ssh_msg(s, "no common algorithm"));
		else if (arca_ssh_is_transport(r))
			rc = arca_error(s->ctx, ARCA_ERR_RETRY, "SSH handshake "
			    "with %s port %d failed: %s", s->host, s->port,
			    arca_ssh_msg(s, "connection lost"));
		else
			rc = arca_ssh_fail(s, r, "SSH handshake failed");
		goto out;
	}

	if ((key = libssh2_session_hostkey(s->session, &len, &type)) == NULL) {
		rc = arca_error(s->ctx, ARCA_ERR_BACKEND, "%s did not send a "
		    "host key", name);
		goto out;
	}
	for (i = 0; i < KH_NTYPES; i++)
		if (kh_types[i].hostkey == type)
			t = &kh_types[i];
	if (t == NULL) {
		rc = arca_error(s->ctx, ARCA_ERR_AUTH, "%s sent a host key of "
		    "a type arca does not check (%d); refusing it", name, type);
		goto out;
	}
	err |= arca_buf_puts(&fp, "SHA256:");
	if ((hash = (const unsigned char *)libssh2_hostkey_hash(s->session,
	    LIBSSH2_HOSTKEY_HASH_SHA256)) != NULL)
		b64(hash, 32, 0, &fp, &err);
	if (err != 0) {
		rc = arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}

	for (i = 0; i < 2; i++)
		if (kh_check(f[i].revoked, name, key, len, t->kh) ==
		    LIBSSH2_KNOWNHOST_CHECK_MATCH) {
			rc = arca_error(s->ctx, ARCA_ERR_AUTH, "the %s host "
			    "key of %s (%s) is marked @revoked in %s: "
			    "refusing to connect", t->label, name, fp.data,
			    f[i].path);
			goto out;
		}
	for (i = 0; i < 2; i++) {
		r = kh_check(f[i].keys, name, key, len, t->kh);
		if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
			match = 1;
		else if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && mismatch < 0)
			mismatch = (int)i;
	}
	if (match) {
		arca_debug(s->ctx, "ssh: %s host key of %s is known (%s)",
		    t->label, name, (char *)fp.data);
		rc = 0;
	} else if (mismatch >= 0) {
		/* As loud as ssh: this is the one that may be an attack. */
		rc = arca_error(s->ctx, ARCA_ERR_AUTH, "\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@    WARNING: THE HOST KEY OF %s HAS CHANGED!\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "Someone could be eavesdropping on you right now "
		    "(man-in-the-middle attack),\nor the host key has just been "
		    "changed.  The %s key the server sent is\n%s, not the one "
		    "recorded in %s.\nRefusing to connect.  If the new key is "
		    "right (ask the server's administrator),\nremove the old one "
		    "with: ssh-keygen -R '%s' -f %s",
		    name, t->label, (char *)fp.data, f[mismatch].path, name,
		    f[mismatch].path);
	} else if (known != 0) {
		rc = arca_error(s->ctx, ARCA_ERR_AUTH, "the host key of %s is "
		    "not the one recorded: known_hosts (%s) holds keys of "
		    "other types for it, but the server sent an %s key (%s).  "
		    "Refusing to connect; if the server's keys really changed, "
		    "remove the old ones with: ssh-keygen -R '%s'", name,
		    s->known_hosts, t->label, (char *)fp.data, name);
	} else if (s->accept_new) {
		rc = kh_record(s, name, t, key, len, (char *)fp.data);
	} else {
		rc = arca_error(s->ctx, ARCA_ERR_AUTH, "the host key of %s is "
		    "unknown: %s key fingerprint %s is not in %s%s%s.  "
		    "Refusing to connect.  Check the fingerprint with the "
		    "server's administrator, then add it (ssh-keyscan -p %d "
		    "%s >> %s), or pass --ssh-accept-new-host-key once", name,
		    t->label, (char *)fp.data, s->known_hosts,
		    f[1].exists ? " or " : "", f[1].exists ? f[1].path : "",
		    s->port, s->host, s->known_hosts);
	}

out:
	for (i = 0; i < 2; i++) {
		if (f[i].keys != NULL)
			libssh2_knownhost_free(f[i].keys);
		if (f[i].revoked != NULL)
			libssh2_knownhost_free(f[i].revoked);
	}
	arca_buf_free(&fp);
	free(name);
	return rc;
}

