/*
 * ssh.c: the SSH connection under the sftp:// and scp:// backends: TCP,
 * the session, login, and libssh2's error codes turned into ours.
 * Settings are ssh_config.c's, the host key check ssh_hostkey.c's.
 *
 * Logins are tried as duplicity's paramiko backend does: the identity
 * files given (-oIdentityFile, -i), ssh-agent, then ~/.ssh/id_ed25519,
 * id_ecdsa and id_rsa; the password (URL or FTP_PASSWORD) also unlocks an
 * encrypted key, and is tried last, as "password" or as the answer to
 * "keyboard-interactive" prompts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <libssh2.h>

#include "backend/backend.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;
static int ssh_init_rc;

static void
ssh_init(void)
{
	ssh_init_rc = libssh2_init(0);
}

const char *
arca_ssh_msg(struct arca_ssh *s, const char *fallback)
{
	char *m = NULL;

	if (s->session != NULL)
		libssh2_session_last_error(s->session, &m, NULL, 0);
	return m != NULL && m[0] != '\0' ? m : fallback;
}

int
arca_ssh_is_transport(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_INVALID_MAC:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_PROTO:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_ENCRYPT:
	case LIBSSH2_ERROR_BAD_SOCKET:
		return 1;
	}
	return 0;
}

int
arca_ssh_fail(struct arca_ssh *s, int rc, const char *what)
{
	const char *m = arca_ssh_msg(s, "unknown libssh2 error");

	if (rc == LIBSSH2_ERROR_ALLOC)
		return arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	if (arca_ssh_is_transport(rc))
		return arca_error(s->ctx, ARCA_ERR_RETRY,
		    "%s: connection to %s:%d lost: %s", what, s->host, s->port,
		    rc == LIBSSH2_ERROR_TIMEOUT ? "timed out" : m);
	return arca_error(s->ctx, ARCA_ERR_BACKEND, "%s: %s", what, m);
}

/* ---- TCP ---- */

/* connect() with a time limit; returns 0 or an errno value. */
static int
connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t el = sizeof(int);
	int e = 0, n;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	do
		n = poll(&p, 1, ms > 0x7fffffffL ? 0x7fffffff : (int)ms);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return ETIMEDOUT;
	if (n == -1)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
		return errno;
	return e;
}

static int
tcp_connect(struct arca_ssh *s)
{
	struct addrinfo hints = { 0 }, *ai = NULL, *a;
	char port[16];
	int fd = -1, e = 0, one = 1, flags, g;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", s->port);
	if ((g = getaddrinfo(s->host, port, &hints, &ai)) != 0) {
		if (g == EAI_AGAIN)
			return arca_error(s->ctx, ARCA_ERR_RETRY, "cannot look "
			    "up host %s: %s", s->host, gai_strerror(g));
		return arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot look up "
		    "host %s for %s: %s", s->host, s->where, gai_strerror(g));
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, a->ai_protocol)) == -1) {
			e = errno;
			continue;
		}
		if ((e = connect_timeout(fd, a->ai_addr, a->ai_addrlen,
		    s->connect_timeout_ms)) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd == -1)
		return arca_error(s->ctx, ARCA_ERR_RETRY, "cannot connect to "
		    "%s port %d: %s", s->host, s->port, strerror(e));
	/* libssh2 runs blocking, bounded by its own timeout. */
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	s->sock = fd;
	return 0;
}

/* ---- login ---- */

static void
kbd_answer(const char *name, int name_len, const char *instruction,
    int instruction_len, int num_prompts,
    const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
    LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	struct arca_ssh *s = *abstract;
	int i;

	/* Every prompt gets the password (as ssh with one password does). */
	for (i = 0; i < num_prompts; i++) {
		responses[i].text = s->password ? strdup(s->password) : NULL;
		responses[i].length = responses[i].text ?
		    (unsigned)strlen(responses[i].text) : 0;
	}
}

/* 1 if the key at path is RSA (its .pub or PEM header says so). */
static int
key_is_rsa(const char *path)
{
	char buf[64] = { 0 }, *pub = NULL;
	FILE *fp;
	int rsa = 0;

	if (asprintf(&pub, "%s.pub", path) >= 0 &&
	    (fp = fopen(pub, "re")) != NULL) {
		rsa = fgets(buf, sizeof(buf), fp) != NULL &&
		    strncmp(buf, "ssh-rsa ", 8) == 0;
		fclose(fp);
	} else if ((fp = fopen(path, "re")) != NULL) {
		rsa = fgets(buf, sizeof(buf), fp) != NULL &&
		    strstr(buf, "BEGIN RSA PRIVATE KEY") != NULL;
		fclose(fp);
	}
	free(pub);
	return rsa;
}

/* Try one key file.  0: logged in; 1: not accepted (why noted); <0: error */
static int
try_key(struct arca_ssh *s, const char *path, struct arca_buf *why)
{
	int r, err = 0;

	if (access(path, R_OK) != 0) {
		err = arca_buf_printf(why, "; key %s: %s", path,
		    strerror(errno));
		return err ? ARCA_ERR_NOMEM : 1;
	}
	r = libssh2_userauth_publickey_fromfile_ex(s->session, s->user,
	    (unsigned)strlen(s->user), NULL, path, s->password);
	if (r == 0)
		return 0;
	if (arca_ssh_is_transport(r) || r == LIBSSH2_ERROR_ALLOC)
		return arca_ssh_fail(s, r, "SSH login failed");
	if (r == LIBSSH2_ERROR_FILE)
		err = arca_buf_printf(why, "; key %s: cannot be read (%s) - "
		    "an encrypted key needs its passphrase as the password "
		    "(URL or FTP_PASSWORD)", path, arca_ssh_msg(s, "bad file"));
	else if (key_is_rsa(path))
		err = arca_buf_printf(why, "; RSA key %s: refused by the server"
		    " (libssh2 %s signs RSA keys with SHA-1 only, which "
		    "OpenSSH 8.8 and later refuse unless the server allows "
		    "PubkeyAcceptedAlgorithms +ssh-rsa; an ed25519 or ecdsa "
		    "key works)", path, LIBSSH2_VERSION);
	else
		err = arca_buf_printf(why, "; key %s: refused by the server",
		    path);
	return err ? ARCA_ERR_NOMEM : 1;
}

static int
try_agent(struct arca_ssh *s, struct arca_buf *why)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	int r, rc = 1, n = 0;

	if ((agent = libssh2_agent_init(s->session)) == NULL)
		return 1;
	if (libssh2_agent_connect(agent) != 0 ||
	    libssh2_agent_list_identities(agent) != 0)
		goto out;
	while ((r = libssh2_agent_get_identity(agent, &id, prev)) == 0) {
		n++;
		if ((r = libssh2_agent_userauth(agent, s->user, id)) == 0) {
			rc = 0;
			goto out;
		}
		if (arca_ssh_is_transport(r)) {
			rc = arca_ssh_fail(s, r, "SSH login failed");
			goto out;
		}
		prev = id;
	}
	if (n > 0 && arca_buf_printf(why, "; %d key%s from ssh-agent: "
	    "refused", n, n == 1 ? "" : "s") != 0)
		rc = ARCA_ERR_NOMEM;
out:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return rc;
}

static int
login(struct arca_ssh *s)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa",
		"id_rsa" };
	struct arca_buf why = { 0 };
	const char *methods;
	char *home = NULL, *path = NULL;
	int rc = 1, i, tried_key = 0;

	methods = libssh2_userauth_list(s->session, s->user,
	    (unsigned)strlen(s->user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(s->session))
			return 0;
		rc = libssh2_session_last_errno(s->session);
		return arca_ssh_fail(s, rc, "SSH login failed");
	}
	arca_debug(s->ctx, "ssh: %s:%d accepts %s", s->host, s->port, methods);

	if (strstr(methods, "publickey") != NULL) {
		for (i = 0; rc == 1 && i < s->nidentities; i++) {
			tried_key = 1;
			rc = try_key(s, s->identities[i], &why);
		}
		if (rc == 1 && !s->identities_only && getenv("SSH_AUTH_SOCK"))
			rc = try_agent(s, &why);
		if (!s->identities_only && (home = arca_ssh_home_dir()) != NULL)
			for (i = 0; rc == 1 && i < 3; i++) {
				free(path);
				if (asprintf(&path, "%s/.ssh/%s", home,
				    defaults[i]) < 0) {
					path = NULL;
					rc = ARCA_ERR_NOMEM;
					break;
				}
				if (access(path, F_OK) != 0)
					continue;
				tried_key = 1;
				rc = try_key(s, path, &why);
			}
	}
	if (rc == 1 && s->password != NULL) {
		int r = LIBSSH2_ERROR_METHOD_NONE;

		if (strstr(methods, "password") != NULL)
			r = libssh2_userauth_password_ex(s->session, s->user,
			    (unsigned)strlen(s->user), s->password,
			    (unsigned)strlen(s->password), NULL);
		else if (strstr(methods, "keyboard-interactive") != NULL)
			r = libssh2_userauth_keyboard_interactive_ex(s->session,
			    s->user, (unsigned)strlen(s->user), kbd_answer);
		if (r == 0)
			rc = 0;
		else if (arca_ssh_is_transport(r) || r == LIBSSH2_ERROR_ALLOC)
			rc = arca_ssh_fail(s, r, "SSH login failed");
		else if (r == LIBSSH2_ERROR_PASSWORD_EXPIRED)
			rc = arca_buf_puts(&why, "; password expired (change "
			    "it with ssh first)") ? ARCA_ERR_NOMEM : 1;
		else if (r == LIBSSH2_ERROR_METHOD_NONE)
			rc = arca_buf_puts(&why, "; a password was given but "
			    "the server does not take passwords") ? ARCA_ERR_NOMEM : 1;
		else
			rc = arca_buf_puts(&why, "; password rejected") ?
			    ARCA_ERR_NOMEM : 1;
	}
	if (rc == 1) {
		if (!tried_key && s->password == NULL &&
		    arca_buf_printf(&why, "; no key (%s~/.ssh/id_ed25519, "
		    "id_ecdsa, id_rsa) and no password (give it in the URL or "
		    "FTP_PASSWORD)", s->nidentities ? "" :
		    "--ssh-options=-oIdentityFile=FILE, ") != 0)
			rc = ARCA_ERR_NOMEM;
		else
			rc = arca_error(s->ctx, ARCA_ERR_AUTH, "SSH login as "
			    "%s to %s port %d failed: %s (the server accepts "
			    "%s)", s->user, s->host, s->port, why.len ?
			    (char *)why.data + 2 : "nothing to try", methods);
	}
	if (rc == ARCA_ERR_NOMEM)
		rc = arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	arca_buf_free(&why);
	free(path);
	free(home);
	return rc;
}

int
arca_ssh_connect(struct arca_ssh *s)
{
	int rc;

	if (s->session != NULL)
		return 0;
	pthread_once(&ssh_once, ssh_init);
	if (ssh_init_rc != 0)
		return arca_error(s->ctx, ARCA_ERR_BACKEND, "cannot initialise "
		    "libssh2");
	if ((rc = tcp_connect(s)) != 0)
		return rc;
	if ((s->session = libssh2_session_init_ex(NULL, NULL, NULL, s)) ==
	    NULL) {
		arca_ssh_disconnect(s);
		return arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	libssh2_session_set_blocking(s->session, 1);
	libssh2_session_set_timeout(s->session, s->timeout_ms);
	if ((rc = arca_ssh_handshake(s)) != 0 || (rc = login(s)) != 0) {
		arca_ssh_disconnect(s);
		return rc;
	}
	arca_debug(s->ctx, "ssh: logged in as %s to %s port %d", s->user,
	    s->host, s->port);
	return 0;
}

void
arca_ssh_disconnect(struct arca_ssh *s)
{
	if (s->session != NULL) {
		/* A dead peer must not hold us up for the full timeout. */
		libssh2_session_set_timeout(s->session, 2000);
		libssh2_session_disconnect(s->session, "arca done");
		libssh2_session_free(s->session);
		s->session = NULL;
	}
	if (s->sock != -1) {
		close(s->sock);
		s->sock = -1;
	}
}

