/*
 * ssh_config.c: the settings of an SSH connection (struct arca_ssh), from
 * the URL, the backend options, ssh's config files and the environment.
 *
 * As in duplicity's SSH backends: user, password and port from the URL;
 * the password may come from FTP_PASSWORD instead; --ssh-options takes
 * ssh's "-oName=value" spelling (also "-o Name=value", "-i FILE", "-p N",
 * "-P N", "-F FILE"), may be given more than once; ~/.ssh/config and
 * /etc/ssh/ssh_config apply as they do for ssh (Host blocks, first value
 * wins).  Of ssh_config's settings, IdentityFile, HostName, Port, User,
 * UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking,
 * IdentitiesOnly and ConnectTimeout are understood; the rest are ignored,
 * as duplicity's paramiko backend ignores most of them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

#define SSH_DEFAULT_TIMEOUT	30	/* seconds; duplicity's --timeout */
#define SSH_MAX_TIMEOUT		86400
#define SSH_OPTS_MAX		8192

char *
arca_ssh_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h == NULL || h[0] == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		h = pw->pw_dir;
	}
	return arca_strdup(h);
}

/*
 * Split an --ssh-options value into words as a shell would for the forms
 * duplicity documents: words separated by blanks, with '...' or "..."
 * quoting (backslash escapes inside "...").  Words go to out.
 */
static int
split_words(const char *v, struct arca_strlist *out)
{
	struct arca_buf w = { 0 };
	int q = 0, inword = 0, rc = 0;

	for (;; v++) {
		if (*v == '\0' || (!q && (*v == ' ' || *v == '\t' ||
		    *v == '\n'))) {
			if (inword && (arca_strlist_add(out, w.len ? (char *)
			    w.data : "") != 0)) {
				rc = ARCA_ERR_NOMEM;
				break;
			}
			arca_buf_reset(&w);
			inword = 0;
			if (*v == '\0')
				break;
			continue;
		}
		inword = 1;
		if (q == 0 && (*v == '\'' || *v == '"')) {
			q = (unsigned char)*v;
			continue;
		}
		if (q != 0 && *v == q) {
			q = 0;
			continue;
		}
		if (q == '"' && *v == '\\' && v[1] != '\0')
			v++;
		if (arca_buf_putc(&w, *v) != 0) {
			rc = ARCA_ERR_NOMEM;
			break;
		}
	}
	arca_buf_free(&w);
	if (rc == 0 && q != 0)
		rc = 1;
	return rc;
}

static int
parse_seconds(const char *v, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 ||
	    n > SSH_MAX_TIMEOUT)
		return -1;
	*out = n;
	return 0;
}

/*
 * Settings on their way into struct arca_ssh.  ssh's rule: the first value
 * obtained wins, and the command line (--ssh-options) comes first, then
 * ~/.ssh/config, then /etc/ssh/ssh_config; identity files add up.  The
 * URL's user and port beat them all (duplicity's paramiko backend reads
 * the same files and lets the URL win too).
 */
struct ssh_set {
	const char *host;	/* the URL's host: Host patterns match it */
	char origin[512];	/* "--ssh-options" or "FILE line N" */
	int port;		/* 0: not set */
	char *user;
	char *hostname;
	int strict;		/* -1 not set; 0 yes; 1 accept-new */
	int ids_only;		/* -1 not set */
	long connect_ms;	/* 0 not set */
	char *config;		/* -F FILE, "none", or NULL */
};

/*
 * Expand ~ and ssh's %d (home), %u (local user), %h (the host as given)
 * and %% in v.  Other % sequences are kept as they are.
 */
static char *
expand_path(const struct ssh_set *o, const char *v)
{
	struct arca_buf b = { 0 };
	struct passwd *pw;
	char *home = arca_ssh_home_dir(), *r = NULL;
	const char *lu;
	int err = 0;

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home != NULL) {
		err |= arca_buf_puts(&b, home);
		v++;
	}
	for (; *v != '\0'; v++) {
		if (*v != '%' || v[1] == '\0') {
			err |= arca_buf_putc(&b, *v);
			continue;
		}
		switch (*++v) {
		case '%':
			err |= arca_buf_putc(&b, '%');
			break;
		case 'd':
			err |= arca_buf_puts(&b, home ? home : "");
			break;
		case 'h':
			err |= arca_buf_puts(&b, o->host);
			break;
		case 'u':
			lu = (pw = getpwuid(getuid())) ? pw->pw_name : "";
			err |= arca_buf_puts(&b, lu);
			break;
		default:
			err |= arca_buf_putc(&b, '%');
			err |= arca_buf_putc(&b, *v);
		}
	}
	if (err == 0)
		r = b.data ? arca_buf_steal(&b) : arca_strdup("");
	arca_buf_free(&b);
	free(home);
	return r;
}

/* Set *slot, if still unset, to path v ("none" is /dev/null, as in ssh). */
static int
set_path(const struct ssh_set *o, char **slot, const char *v)
{
	struct arca_strlist w = { 0 };
	int rc = 0;

	if (*slot != NULL)
		return 0;
	/* Several files may be named; the first is the one written to. */
	if ((rc = split_words(v, &w)) != 0 || w.n == 0)
		rc = rc == ARCA_ERR_NOMEM ? rc : 1;
	else if (strcmp(w.v[0], "none") == 0)
		*slot = arca_strdup("/dev/null");
	else
		*slot = expand_path(o, w.v[0]);
	if (rc == 0 && *slot == NULL)
		rc = ARCA_ERR_NOMEM;
	arca_strlist_free(&w);
	return rc;
}

/* One ssh_config setting, "Name=value" or "Name value". */
static int
apply_option(struct arca_ssh *s, struct ssh_set *o, const char *opt)
{
	const char *sep, *v;
	size_t nlen;
	long n;
	int rc = 0;

	nlen = strcspn(opt, "= \t");
	sep = opt + nlen;
	v = sep + strspn(sep, " \t");
	if (*v == '=')
		v += 1 + strspn(v + 1, " \t");
	if (nlen == 0 || *v == '\0')
		return arca_error(s->ctx, ARCA_ERR_USAGE, "%s: '%s' has no "
		    "value (want Name=value)", o->origin, opt);
#define IS(name) (nlen == strlen(name) && strncasecmp(opt, name, nlen) == 0)
	if (IS("IdentityFile")) {
		if (s->nidentities == ARCA_SSH_MAX_IDENTITIES)
			return arca_error(s->ctx, ARCA_ERR_USAGE, "%s: more "
			    "than %d identity files", o->origin,
			    ARCA_SSH_MAX_IDENTITIES);
		if ((s->identities[s->nidentities] = expand_path(o, v)) ==
		    NULL)
			return ARCA_ERR_NOMEM;
		s->nidentities++;
	} else if (IS("Port")) {
		if (parse_seconds(v, &n) != 0 || n > 65535)
			return arca_error(s->ctx, ARCA_ERR_USAGE, "%s: bad Port "
			    "'%s'", o->origin, v);
		if (o->port == 0)
			o->port = (int)n;
	} else if (IS("User")) {
		if (o->user == NULL && (o->user = arca_strdup(v)) == NULL)
			return ARCA_ERR_NOMEM;
	} else if (IS("HostName")) {
		if (o->hostname == NULL &&
		    (o->hostname = expand_path(o, v)) == NULL)
			return ARCA_ERR_NOMEM;
	} else if (IS("UserKnownHostsFile")) {
		if ((rc = set_path(o, &s->known_hosts, v)) == 1)
			rc = arca_error(s->ctx, ARCA_ERR_USAGE, "%s: bad "
			    "UserKnownHostsFile", o->origin);
	} else if (IS("GlobalKnownHostsFile")) {
		if ((rc = set_path(o, &s->global_known_hosts, v)) == 1)
			rc = arca_error(s->ctx, ARCA_ERR_USAGE, "%s: bad "
			    "GlobalKnownHostsFile", o->origin);
	} else if (IS("StrictHostKeyChecking")) {
		/* "no" would also let changed keys through: we never do. */
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "ask") == 0)
			n = 0;
		else if (strcasecmp(v, "accept-new") == 0 ||
		    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
			n = 1;
		else
			return arca_error(s->ctx, ARCA_ERR_USAGE, "%s: bad "
			    "StrictHostKeyChecking '%s'", o->origin, v);
		if (o->strict < 0)
			o->strict = (int)n;
	} else if (IS("IdentitiesOnly")) {
		if (o->ids_only < 0)
			o->ids_only = strcasecmp(v, "yes") == 0;
	} else if (IS("ConnectTimeout")) {
		if (parse_seconds(v, &n) != 0)
			return arca_error(s->ctx, ARCA_ERR_USAGE, "%s: bad "
			    "ConnectTimeout '%s'", o->origin, v);
		if (o->connect_ms == 0)
			o->connect_ms = n * 1000;
	} else
		arca_debug(s->ctx, "ssh: %s: ignoring %s", o->origin, opt);
#undef IS
	return rc;
}

/* apply_option of "name=value" */
static int
apply_pair(struct arca_ssh *s, struct ssh_set *o, const char *name,
    const char *value)
{
	struct arca_buf b = { 0 };
	int rc;

	rc = arca_buf_printf(&b, "%s=%s", name, value) ? ARCA_ERR_NOMEM :
	    apply_option(s, o, (char *)b.data);
	arca_buf_free(&b);
	return rc;
}

/* Every --ssh-options given, in order (they accumulate, as in duplicity). */
static int
parse_ssh_options(struct arca_ssh *s, struct ssh_set *o,
    const struct arca_url *url)
{
	struct arca_strlist w = { 0 };
	const char *const *opt;
	const char *v, *arg;
	size_t i;
	int rc = 0;

	snprintf(o->origin, sizeof(o->origin), "--ssh-options");
	for (opt = url->options; opt != NULL && *opt != NULL; opt++) {
		if (strncmp(*opt, "ssh-options=", 12) != 0)
			continue;
		v = *opt + 12;
		arca_strlist_free(&w);
		if (strlen(v) > SSH_OPTS_MAX)
			return arca_error(s->ctx, ARCA_ERR_USAGE,
			    "--ssh-options longer than %d bytes", SSH_OPTS_MAX);
		if ((rc = split_words(v, &w)) != 0) {
			rc = rc == ARCA_ERR_NOMEM ? rc : arca_error(s->ctx,
			    ARCA_ERR_USAGE, "--ssh-options: unbalanced quote "
			    "in '%s'", v);
			goto out;
		}
		for (i = 0; i < w.n; i++) {
			const char *t = w.v[i];

			if (t[0] != '-' || t[1] == '\0' || t[1] == '-') {
				rc = arca_error(s->ctx, ARCA_ERR_USAGE,
				    "--ssh-options: expected -oName=value, got "
				    "'%s'", t);
				goto out;
			}
			/* -oX=y, -o X=y, -i FILE, -p N (ssh), -P N (scp),
			 * -F FILE; ssh's other flags mean nothing here */
			if (strchr("oipPF", t[1]) == NULL) {
				arca_debug(s->ctx, "ssh: ignoring option %s", t);
				continue;
			}
			arg = t + 2;
			if (*arg == '\0') {
				if (i + 1 >= w.n) {
					rc = arca_error(s->ctx, ARCA_ERR_USAGE,
					    "--ssh-options: %s needs a value", t);
					goto out;
				}
				arg = w.v[++i];
			}
			if (t[1] == 'o')
				rc = apply_option(s, o, arg);
			else if (t[1] == 'i')
				rc = apply_pair(s, o, "IdentityFile", arg);
			else if (t[1] == 'F') {
				if (o->config == NULL && (o->config =
				    expand_path(o, arg)) == NULL)
					rc = ARCA_ERR_NOMEM;
			} else
				rc = apply_pair(s, o, "Port", arg);
			if (rc != 0)
				goto out;
		}
	}
out:
	arca_strlist_free(&w);
	return rc;
}

/* 1 if host matches ssh_config "Host" pattern list pats. */
static int
host_matches(const char *pats, const char *host)
{
	struct arca_strlist w = { 0 };
	size_t i;
	int hit = 0;

	if (split_words(pats, &w) != 0) {
		arca_strlist_free(&w);
		return 0;
	}
	for (i = 0; i < w.n; i++) {
		const char *p = w.v[i];
		int neg = p[0] == '!';

		if (fnmatch(p + neg, host, FNM_CASEFOLD) != 0)
			continue;
		if (neg) {
			hit = 0;	/* a negated match rules the host out */
			break;
		}
		hit = 1;
	}
	arca_strlist_free(&w);
	return hit;
}

/*
 * Read an ssh_config file: settings before the first Host line and in
 * Host blocks matching the URL's host.  Match blocks other than "Match
 * all" are skipped, Include is not followed.  A missing file is fine
 * unless must_exist (-F FILE).
 */
static int
read_config(struct arca_ssh *s, struct ssh_set *o, const char *path,
    int must_exist)
{
	FILE *fp;
	char *line = NULL, *k, *v, *e;
	size_t cap = 0, lineno = 0, klen;
	ssize_t n;
	int on = 1, rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return arca_error(s->ctx, ARCA_ERR_USAGE, "cannot read ssh "
		    "config %s: %s", path, strerror(errno));
	}
	while (rc == 0 && (n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > SSH_OPTS_MAX)
			continue;
		k = line + strspn(line, " \t");
		for (e = k + strlen(k); e > k && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = '\0';
		if (*k == '\0' || *k == '#')
			continue;
		klen = strcspn(k, " \t=");
		v = k + klen;
		v += strspn(v, " \t");
		if (*v == '=')
			v += 1 + strspn(v + 1, " \t");
		k[klen] = '\0';
		if (strcasecmp(k, "Host") == 0) {
			on = host_matches(v, o->host);
			continue;
		}
		if (strcasecmp(k, "Match") == 0) {
			on = strcasecmp(v, "all") == 0;
			continue;
		}
		if (!on)
			continue;
		if (strcasecmp(k, "Include") == 0) {
			arca_debug(s->ctx, "ssh: %s line %zu: Include is not "
			    "followed", path, lineno);
			continue;
		}
		if (v[0] == '"' && (e = strrchr(v + 1, '"')) != NULL &&
		    e[1] == '\0') {
			v++;
			*e = '\0';
		}
		snprintf(o->origin, sizeof(o->origin), "%s line %zu", path,
		    lineno);
		rc = apply_pair(s, o, k, v);
	}
	free(line);
	fclose(fp);
	return rc;
}

int
arca_ssh_new(struct arca_ctx *ctx, const struct arca_url *url,
    const char *proto, struct arca_ssh **out)
{
	struct ssh_set o = { .strict = -1, .ids_only = -1 };
	struct arca_ssh *s;
	struct passwd *pw;
	const char *v;
	char *home = NULL, *path = NULL;
	int rc = 0;
	long t;

	*out = NULL;
	if ((s = arca_calloc(1, sizeof(*s))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	s->ctx = ctx;
	s->proto = proto;
	s->sock = -1;
	s->timeout_ms = SSH_DEFAULT_TIMEOUT * 1000L;
	if ((s->where = arca_strdup(url->redacted)) == NULL)
		goto nomem;
	if (url->host == NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "backup target %s has no "
		    "host name (want %s://[user[:password]@]host[:port]/path)",
		    s->where, proto);
		goto out;
	}
	o.host = url->host;
	if ((v = arca_url_option(url, "timeout")) != NULL) {
		if (parse_seconds(v, &t) != 0) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "bad --timeout "
			    "'%s' (want seconds, 1 to %d)", v, SSH_MAX_TIMEOUT);
			goto out;
		}
		s->timeout_ms = t * 1000;
	}
	if ((rc = parse_ssh_options(s, &o, url)) != 0)
		goto out;
	home = arca_ssh_home_dir();
	if (o.config != NULL) {
		if (strcmp(o.config, "none") != 0 &&
		    (rc = read_config(s, &o, o.config, 1)) != 0)
			goto out;
	} else {
		if (home != NULL) {
			if (asprintf(&path, "%s/.ssh/config", home) < 0) {
				path = NULL;
				goto nomem;
			}
			if ((rc = read_config(s, &o, path, 0)) != 0)
				goto out;
		}
		if ((rc = read_config(s, &o, "/etc/ssh/ssh_config", 0)) != 0)
			goto out;
	}

	if ((s->host = arca_strdup(o.hostname ? o.hostname : url->host)) ==
	    NULL)
		goto nomem;
	s->port = url->port ? url->port : o.port ? o.port : 22;
	s->accept_new = o.strict == 1;
	/* The explicit switch beats any StrictHostKeyChecking. */
	if (arca_url_option(url, "ssh-accept-new-host-key") != NULL)
		s->accept_new = 1;
	s->identities_only = o.ids_only == 1;
	s->connect_timeout_ms = o.connect_ms ? o.connect_ms : s->timeout_ms;

	if (url->user != NULL)
		v = url->user;
	else if (o.user != NULL)
		v = o.user;
	else if ((v = getenv("LOGNAME")) == NULL || *v == '\0') {
		if ((v = getenv("USER")) == NULL || *v == '\0')
			v = (pw = getpwuid(getuid())) ? pw->pw_name : NULL;
	}
	if (v == NULL) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "no user name for %s: "
		    "give one in the URL (%s://user@host/path)", s->where,
		    proto);
		goto out;
	}
	if ((s->user = arca_strdup(v)) == NULL)
		goto nomem;

	v = url->password != NULL ? url->password : getenv("FTP_PASSWORD");
	if (v != NULL && (s->password = arca_strdup(v)) == NULL)
		goto nomem;

	if (s->known_hosts == NULL) {
		if (home == NULL) {
			rc = arca_error(ctx, ARCA_ERR_USAGE, "no home directory "
			    "for ~/.ssh/known_hosts: set HOME, or give "
			    "--ssh-options=-oUserKnownHostsFile=FILE");
			goto out;
		}
		if (asprintf(&s->known_hosts, "%s/.ssh/known_hosts", home) < 0) {
			s->known_hosts = NULL;
			goto nomem;
		}
	}
	if (s->global_known_hosts == NULL &&
	    (s->global_known_hosts = arca_strdup("/etc/ssh/ssh_known_hosts"))
	    == NULL)
		goto nomem;
	goto out;

nomem:
	rc = ARCA_ERR_NOMEM;
out:
	if (rc == ARCA_ERR_NOMEM)
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	free(o.user);
	free(o.hostname);
	free(o.config);
	free(path);
	free(home);
	if (rc != 0)
		arca_ssh_free(s);
	else
		*out = s;
	return rc;
}

void
arca_ssh_free(struct arca_ssh *s)
{
	int i;

	if (s == NULL)
		return;
	arca_ssh_disconnect(s);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	for (i = 0; i < s->nidentities; i++)
		free(s->identities[i]);
	free(s->where);
	free(s->host);
	free(s->user);
	free(s->known_hosts);
	free(s->global_known_hosts);
	free(s);
}
