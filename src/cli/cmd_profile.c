/*
 * cmd_profile.c: profiles (arca run NAME) and their schedules.
 *
 * A profile is ~/.config/arca/NAME.conf (root: also /etc/arca/NAME.conf),
 * "key = value" lines.  Every key is an arca option name (include,
 * exclude, volsize, archive-dir, s3-endpoint-url, ...) and keeps its order,
 * so a profile says exactly what a command line would; a few keys are the
 * profile's own: source, target, keep-full, max-age, full-every,
 * encryption, passphrase-file, pre, post and env.NAME.  A profile is
 * turned into an argument vector and parsed by the ordinary option parser,
 * so it is checked exactly like a command line.
 *
 * Profiles and passphrase files hold secrets: arca refuses them when
 * anyone but their owner can read or write them, as ssh does with keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arca/arca.h"
#include "cli.h"
#include "util/timefmt.h"

#define PROFILE_MAX_LINE 4096
#define PROFILE_MAX_ARGS 512

struct profile {
	char path[PATH_MAX];
	char *source, *target, *keep_full, *max_age, *pass_file, *pre, *post;
	char *args[PROFILE_MAX_ARGS];	/* option words, owned */
	int nargs;
};

static int
perr(const char *fmt, const char *a, const char *b)
{
	fputs("arca: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 2;
}

static void
profile_free(struct profile *p)
{
	int i;

	free(p->source);
	free(p->target);
	free(p->keep_full);
	free(p->max_age);
	free(p->pass_file);
	free(p->pre);
	free(p->post);
	for (i = 0; i < p->nargs; i++)
		free(p->args[i]);
}

/* A file holding secrets must be the user's own and private. */
static int
check_private(const char *path, const char *what)
{
	struct stat st;
	char mode[8];

	if (stat(path, &st) != 0)
		return perr("cannot read %s: %s", path, strerror(errno));
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "arca: %s %s belongs to uid %u, not to you "
		    "(uid %u): refusing it; fix: chown %u %s\n", what, path,
		    (unsigned)st.st_uid, (unsigned)geteuid(),
		    (unsigned)geteuid(), path);
		return 2;
	}
	if (st.st_mode & 077) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		fprintf(stderr, "arca: permissions %s for %s %s are too open: "
		    "others could read or change it; refusing it.\n"
		    "arca: fix: chmod 600 %s\n", mode, what, path, path);
		return 2;
	}
	return 0;
}

static int
valid_name(const char *name)
{
	const char *p;

	if (*name == '\0' || *name == '.')
		return 0;
	for (p = name; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z')))
			return 0;
	return 1;
}

/* Find NAME's profile: $XDG_CONFIG_HOME/arca, ~/.config/arca, /etc/arca (root). */
static int
profile_find(const char *name, char *out, size_t outsz)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dirs[3][PATH_MAX];
	int n = 0, i;

	if (!valid_name(name))
		return perr("bad profile name '%s'%s: use letters, digits, '-', "
		    "'_' and '.'", name, "");
	if (x != NULL && *x != '\0')
		snprintf(dirs[n++], PATH_MAX, "%s/arca", x);
	else if (home != NULL && *home != '\0')
		snprintf(dirs[n++], PATH_MAX, "%s/.config/arca", home);
	if (geteuid() == 0)
		snprintf(dirs[n++], PATH_MAX, "/etc/arca");
	for (i = 0; i < n; i++) {
		if (snprintf(out, outsz, "%s/%s.conf", dirs[i], name) <
		    (int)outsz && access(out, F_OK) == 0)
			return 0;
	}
	fprintf(stderr, "arca: no profile '%s': looked for", name);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %s/%s.conf", dirs[i], name);
	fputs("\n", stderr);
	return 2;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
add_arg(struct profile *p, const char *fmt, const char *a, const char *b)
{
	char *s;

	if (p->nargs >= PROFILE_MAX_ARGS)
		return perr("%s: too many settings%s", p->path, "");
	if (asprintf(&s, fmt, a, b) < 0)
		return perr("%s%s", "out of memory", "");
	p->args[p->nargs++] = s;
	return 0;
}

static int
set_once(char **slot, const char *v)
{
	free(*slot);
	return (*slot = strdup(v)) == NULL ? -1 : 0;
}

static int
profile_load(const char *name, struct profile *p)
{
	char line[PROFILE_MAX_LINE], where[PATH_MAX + 32];
	FILE *f;
	int r, lineno = 0;

	memset(p, 0, sizeof(*p));
	if ((r = profile_find(name, p->path, sizeof(p->path))) != 0)
		return r;
	if ((r = check_private(p->path, "profile")) != 0)
		return r;
	if ((f = fopen(p->path, "r")) == NULL)
		return perr("cannot read %s: %s", p->path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k, *v, *eq;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", p->path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			r = perr("%s: line too long%s", where, "");
			break;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			r = perr("%s: expected 'key = value', got '%s'", where, k);
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (strcmp(k, "source") == 0)
			r = set_once(&p->source, v);
		else if (strcmp(k, "target") == 0)
			r = set_once(&p->target, v);
		else if (strcmp(k, "keep-full") == 0)
			r = set_once(&p->keep_full, v);
		else if (strcmp(k, "max-age") == 0)
			r = set_once(&p->max_age, v);
		else if (strcmp(k, "passphrase-file") == 0)
			r = set_once(&p->pass_file, v);
		else if (strcmp(k, "pre") == 0)
			r = set_once(&p->pre, v);
		else if (strcmp(k, "post") == 0)
			r = set_once(&p->post, v);
		else if (strcmp(k, "full-every") == 0)
			r = add_arg(p, "--full-if-older-than=%s%s", v, "");
		else if (strcmp(k, "encryption") == 0) {
			if (strcmp(v, "no") == 0)
				r = add_arg(p, "--no-encryption%s%s", "", "");
			else if (strcmp(v, "yes") != 0)
				r = perr("%s: encryption must be yes or no, not '%s'",
				    where, v);
		} else if (strncmp(k, "env.", 4) == 0 && k[4] != '\0') {
			if (setenv(k + 4, v, 1) != 0)
				r = perr("%s: cannot set %s", where, k + 4);
		} else if (*v == '\0' || strcmp(v, "yes") == 0)
			r = add_arg(p, "--%s%s", k, "");	/* a switch */
		else
			r = add_arg(p, "--%s=%s", k, v);
		if (r != 0) {
			if (r < 0)
				r = perr("%s%s", "out of memory", "");
			break;
		}
	}
	fclose(f);
	if (r == 0 && (p->source == NULL || p->target == NULL))
		r = perr("%s: a profile needs 'source = DIR' and 'target = URL'%s",
		    p->path, "");
	return r;
}

/* Read the passphrase file into c (wiped later by cli_free). */
static int
load_passphrase(struct cli *c, const char *path)
{
	char buf[1024];
	ssize_t n;
	int fd, r;

	if ((r = check_private(path, "passphrase file")) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return perr("cannot read %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return perr("cannot read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		explicit_bzero(buf, sizeof(buf));
		return perr("passphrase file %s is empty%s", path, "");
	}
	if (c->passphrase != NULL) {
		explicit_bzero(c->passphrase, strlen(c->passphrase));
		free(c->passphrase);
	}
	c->passphrase = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	c->o.passphrase = c->passphrase;
	return c->passphrase ? 0 : perr("%s%s", "out of memory", "");
}

/* Run a hook program (no shell); returns its exit status, or -1. */
static int
run_hook(const char *prog, const char *name, const char *phase, int result)
{
	char res[16];
	pid_t pid;
	int st;

	snprintf(res, sizeof(res), "%d", result);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* The hook gets the profile, not the passphrase. */
		unsetenv("PASSPHRASE");
		unsetenv("SIGN_PASSPHRASE");
		setenv("ARCA_PROFILE", name, 1);
		setenv("ARCA_PHASE", phase, 1);
		setenv("ARCA_RESULT", res, 1);
		execl(prog, prog, name, phase, (char *)NULL);
		fprintf(stderr, "arca: cannot run %s hook %s: %s\n", phase, prog,
		    strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Build a command line for `command` from the profile and the options
 * given after `arca run NAME`, and parse it into sub.
 */
static int
parse_for(struct cli *c, const struct profile *p, const char *command,
    int with_paths, struct cli *sub, char ***vec)
{
	char **v;
	int n = 0, i, seen_cmd, seen_name;

	v = calloc((size_t)p->nargs + (size_t)c->argc + 5, sizeof(*v));
	if (v == NULL)
		return perr("%s%s", "out of memory", "");
	v[n++] = c->argv[0];
	v[n++] = (char *)command;
	for (i = 0; i < p->nargs; i++)
		v[n++] = p->args[i];
	/* Then the command line minus "run NAME": its options come later,
	 * so they win over the profile's. */
	for (i = 1, seen_cmd = seen_name = 0; i < c->argc; i++) {
		if (!seen_cmd && strcmp(c->argv[i], c->cmd->name) == 0) {
			seen_cmd = 1;
			continue;
		}
		if (seen_cmd && !seen_name && strcmp(c->argv[i], c->pos[0]) == 0) {
			seen_name = 1;
			continue;
		}
		v[n++] = c->argv[i];
	}
	if (with_paths) {
		v[n++] = p->source;
		v[n++] = p->target;
	} else {
		v[n++] = p->target;
	}
	*vec = v;
	return cli_parse(sub, n, v);
}

int
cli_run_profile(struct cli *c, struct arca_ctx *ctx)
{
	struct profile p;
	struct cli sub;
	char **vec = NULL;
	int r, code = 0, rc;
	int64_t t;

	memset(&sub, 0, sizeof(sub));
	if ((code = profile_load(c->pos[0], &p)) != 0)
		goto out;
	if ((code = parse_for(c, &p, "backup", 1, &sub, &vec)) != 0)
		goto out;
	if (p.pass_file != NULL &&
	    (code = load_passphrase(&sub, p.pass_file)) != 0)
		goto out;
	if (p.pre != NULL && (rc = run_hook(p.pre, c->pos[0], "pre", 0)) != 0) {
		fprintf(stderr, "arca: pre hook %s failed (status %d): not "
		    "backing up\n", p.pre, rc);
		code = 30;
		goto out;
	}
	/* Prune first, so a full disk is relieved before the backup. */
	sub.o.url = p.target;
	sub.o.local = p.source;
	sub.o.force = 1;
	if (p.max_age != NULL) {
		if (arca_time_parse_user(p.max_age, sub.o.now, &t) != 0) {
			code = perr("%s: bad max-age '%s'", p.path, p.max_age);
			goto hooks;
		}
		if ((r = arca_run_remove_older_than(ctx, &sub.o, t)) != 0 &&
		    r != ARCA_ERR_NODATA && r != ARCA_ERR_NOTFOUND) {
			fprintf(stderr, "arca: %s\n", arca_ctx_errmsg(ctx));
			code = cli_exit_code(r);
			goto hooks;
		}
	}
	if (p.keep_full != NULL) {
		char *end;
		long n = strtol(p.keep_full, &end, 10);

		if (*end != '\0' || n < 1 || n > 100000) {
			code = perr("%s: keep-full must be a number of full backups "
			    "(1 or more), not '%s'", p.path, p.keep_full);
			goto hooks;
		}
		if ((r = arca_run_remove_all_but_n_full(ctx, &sub.o,
		    (unsigned)n)) != 0 && r != ARCA_ERR_NODATA && r != ARCA_ERR_NOTFOUND) {
			fprintf(stderr, "arca: %s\n", arca_ctx_errmsg(ctx));
			code = cli_exit_code(r);
			goto hooks;
		}
	}
	sub.o.force = 0;
	r = arca_run_backup(ctx, &sub.o, ARCA_BACKUP_AUTO);
	if (r != 0)
		fprintf(stderr, "arca: %s\n", arca_ctx_errmsg(ctx));
	code = cli_exit_code(r);
	if (r == 0 || r == ARCA_ERR_PARTIAL) {
		sub.o.force = 1;
		if ((r = arca_run_cleanup(ctx, &sub.o)) != 0) {
			fprintf(stderr, "arca: cleanup: %s\n", arca_ctx_errmsg(ctx));
			if (code == 0)
				code = cli_exit_code(r);
		}
	}
hooks:
	if (p.post != NULL && (rc = run_hook(p.post, c->pos[0], "post",
	    code)) != 0) {
		fprintf(stderr, "arca: post hook %s failed (status %d)\n",
		    p.post, rc);
		if (code == 0)
			code = 30;
	}
out:
	cli_free(&sub);
	free(vec);
	profile_free(&p);
	/* An exit status: every message was given here. */
	return code;
}

/* ----- schedules ----- */

/*
 * Where unit files go: $ARCA_SYSTEMD_DIR when set (packagers, tests), else
 * /etc/systemd/system for root and the user's systemd/user directory for
 * others.  *manage says whether to talk to a running systemd.
 */
static int
unit_dir(char *out, size_t outsz, int *manage, int *user)
{
	const char *x = getenv("ARCA_SYSTEMD_DIR"), *home = getenv("HOME");
	const char *cfg = getenv("XDG_CONFIG_HOME");
	struct stat st;

	*user = geteuid() != 0;
	*manage = stat("/run/systemd/system", &st) == 0;
	if (x != NULL && *x != '\0') {
		snprintf(out, outsz, "%s", x);
		*manage = 0;
		return 1;
	}
	if (!*manage)
		return 0;
	if (!*user)
		snprintf(out, outsz, "/etc/systemd/system");
	else if (cfg != NULL && *cfg != '\0')
		snprintf(out, outsz, "%s/systemd/user", cfg);
	else
		snprintf(out, outsz, "%s/.config/systemd/user", home ? home : "");
	return 1;
}

static int
write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 16];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return perr("cannot write %s: %s", tmp, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return perr("cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

static int
systemctl(int user, const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "systemctl %s%s %s >/dev/null 2>&1",
	    user ? "--user " : "", a, b ? b : "");
	/* Fixed words and a unit name valid_name() allowed: nothing the
	 * shell would read as more than words. */
	return system(cmd);	/* NOLINT(cert-env33-c) */
}

/* mkdir -p for the unit directory. */
static int
make_dirs(const char *dir)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return perr("cannot create %s: %s", p, strerror(errno));
	return 0;
}

int
cli_run_schedule(struct cli *c, struct arca_ctx *ctx)
{
	const char *name = c->pos[0];
	char dir[PATH_MAX], path[PATH_MAX + 64], self[PATH_MAX], text[4096];
	struct profile p;
	int manage, user, r;
	ssize_t n;

	if ((r = profile_load(name, &p)) != 0)
		return r;
	profile_free(&p);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return perr("cannot find the arca program: %s%s",
		    strerror(errno), "");
	self[n] = '\0';
	if (!unit_dir(dir, sizeof(dir), &manage, &user)) {
		/* No systemd: a crontab line does the same job. */
		printf("systemd is not running here; add this line to your "
		    "crontab (crontab -e):\n%d %d * * * %s run %s\n",
		    (int)(getpid() % 60), 1 + (int)(getpid() % 5), self, name);
		return 0;
	}
	if ((r = make_dirs(dir)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/arca-%s.service", dir, name);
	if (snprintf(text, sizeof(text),
	    "[Unit]\n"
	    "Description=arca backup (profile %s)\n"
	    "Wants=network-online.target\n"
	    "After=network-online.target\n"
	    "\n"
	    "[Service]\n"
	    "Type=oneshot\n"
	    "ExecStart=%s run %s\n"
	    "Nice=10\n"
	    "IOSchedulingClass=idle\n", name, self, name) >= (int)sizeof(text))
		return perr("path of arca too long: %s%s", self, "");
	if ((r = write_file(path, text)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/arca-%s.timer", dir, name);
	snprintf(text, sizeof(text),
	    "[Unit]\n"
	    "Description=Daily arca backup (profile %s)\n"
	    "\n"
	    "[Timer]\n"
	    "OnCalendar=daily\n"
	    "RandomizedDelaySec=1h\n"
	    "Persistent=true\n"
	    "\n"
	    "[Install]\n"
	    "WantedBy=timers.target\n", name);
	if ((r = write_file(path, text)) != 0)
		return r;
	printf("wrote %s/arca-%s.service and arca-%s.timer\n", dir, name, name);
	if (manage) {
		char unit[300];

		snprintf(unit, sizeof(unit), "arca-%s.timer", name);
		if (systemctl(user, "daemon-reload", NULL) != 0 ||
		    systemctl(user, "enable --now", unit) != 0)
			return perr("the units are written, but systemctl could "
			    "not enable %s; run: systemctl %senable --now", unit,
			    user ? "--user " : "");
		printf("enabled %s\n", unit);
	}
	(void)ctx;
	return 0;
}

int
cli_run_unschedule(struct cli *c, struct arca_ctx *ctx)
{
	const char *name = c->pos[0];
	char dir[PATH_MAX], path[PATH_MAX + 64], unit[300];
	int manage, user, removed = 0;

	if (!valid_name(name))
		return perr("bad profile name '%s'%s", name, "");
	if (!unit_dir(dir, sizeof(dir), &manage, &user)) {
		printf("systemd is not running here; remove the 'arca run %s' "
		    "line from your crontab (crontab -e)\n", name);
		return 0;
	}
	snprintf(unit, sizeof(unit), "arca-%s.timer", name);
	if (manage)
		systemctl(user, "disable --now", unit);
	snprintf(path, sizeof(path), "%s/arca-%s.timer", dir, name);
	removed += unlink(path) == 0;
	snprintf(path, sizeof(path), "%s/arca-%s.service", dir, name);
	removed += unlink(path) == 0;
	if (manage)
		systemctl(user, "daemon-reload", NULL);
	if (removed == 0)
		return perr("no schedule for profile '%s' in %s", name, dir);
	printf("removed the schedule of profile %s from %s\n", name, dir);
	(void)ctx;
	return 0;
}
