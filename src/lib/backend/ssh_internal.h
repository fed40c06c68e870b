/*
 * ssh_internal.h: one SSH connection (libssh2) shared by the sftp:// and
 * scp:// backends: settings from the URL, --ssh-options and the
 * environment; TCP connect; host key check against known_hosts; login.
 *
 * ssh_config.c fills in the settings, ssh.c connects and logs in,
 * ssh_hostkey.c does the handshake and checks the host key; together with
 * sftp.c and scp.c they are the only files that include libssh2.
 */
#ifndef ARCA_BACKEND_SSH_INTERNAL_H
#define ARCA_BACKEND_SSH_INTERNAL_H

#include <libssh2.h>

struct arca_ctx;
struct arca_url;

#define ARCA_SSH_MAX_IDENTITIES	16

struct arca_ssh {
	struct arca_ctx *ctx;
	const char *proto;	/* "sftp" or "scp", for messages */
	char *where;		/* the URL with any password as "***" */
	char *host;
	int port;
	char *user;
	char *password;		/* URL or FTP_PASSWORD; NULL if none; wiped */
	char *identities[ARCA_SSH_MAX_IDENTITIES];	/* -oIdentityFile, -i */
	int nidentities;
	int identities_only;	/* -oIdentitiesOnly=yes: no agent, no defaults */
	char *known_hosts;	/* user file: read, and appended to */
	char *global_known_hosts;	/* read only; may be absent */
	int accept_new;		/* record unknown host keys instead of failing */
	long timeout_ms;	/* per blocking network call */
	long connect_timeout_ms;
	/* Live connection, or -1/NULL. */
	int sock;
	LIBSSH2_SESSION *session;
};

/*
 * Fill a new arca_ssh for url (sftp://, scp://) from the URL, the backend
 * options ("ssh-options", "ssh-accept-new-host-key", "timeout") and the
 * environment (FTP_PASSWORD, HOME, LOGNAME/USER).  Does not connect.
 * Returns 0 with *out set (free with arca_ssh_free), ARCA_ERR_USAGE for a
 * bad option or URL, or ARCA_ERR_NOMEM.
 */
int arca_ssh_new(struct arca_ctx *ctx, const struct arca_url *url,
    const char *proto, struct arca_ssh **out);

/*
 * Connect, check the host key and log in (a no-op when connected).
 * Returns 0; ARCA_ERR_RETRY for network trouble (refused, reset, timeout);
 * ARCA_ERR_AUTH for an unknown or changed host key or a refused login;
 * ARCA_ERR_BACKEND for other permanent failures; ARCA_ERR_NOMEM.  On
 * failure nothing stays connected.
 */
int arca_ssh_connect(struct arca_ssh *s);

/* Drop the connection (no-op when not connected). */
void arca_ssh_disconnect(struct arca_ssh *s);

/*
 * Record a failed libssh2 session call (rc < 0) as an arca error:
 * "<what>: <libssh2's message>".  Transport failures (reset, closed,
 * timeout) return ARCA_ERR_RETRY, and the caller then frees its channels
 * or SFTP handles and calls arca_ssh_disconnect; allocation failures
 * return ARCA_ERR_NOMEM; anything else ARCA_ERR_BACKEND.
 */
int arca_ssh_fail(struct arca_ssh *s, int rc, const char *what);

/* 1 if libssh2 code rc means the connection itself is broken. */
int arca_ssh_is_transport(int rc);

/* Disconnect and free; NULL is a no-op.  Wipes the password. */
void arca_ssh_free(struct arca_ssh *s);

/*
 * For the parts of the module: the handshake on s->session (created,
 * socket connected) with the host key check (ssh_hostkey.c), with
 * arca_ssh_connect's return values; the message libssh2 left on the
 * session, or fallback (valid until the next libssh2 call); $HOME or the
 * passwd entry's home (malloc'd; NULL if neither).
 */
int arca_ssh_handshake(struct arca_ssh *s);
const char *arca_ssh_msg(struct arca_ssh *s, const char *fallback);
char *arca_ssh_home_dir(void);

#endif /* !ARCA_BACKEND_SSH_INTERNAL_H */
