/*
 * test_sftp.c: the parts of the sftp://, scp:// and rclone:// backends
 * that need no server: --ssh-options and the URL into connection
 * settings; rclone:// URLs into rclone's remote syntax, secrets hidden in
 * messages, and the commands run (against a stand-in "rclone" script on
 * PATH that logs its arguments).  The real servers are in
 * tests/integration/21_sftp.sh and 22_rclone.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/ssh_internal.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "test.h"

static int
ssh_new(struct arca_ctx *ctx, const char *text, const char *const *opts,
    struct arca_ssh **out)
{
	struct arca_url u;
	int rc;

	*out = NULL;
	if ((rc = arca_url_parse(ctx, text, &u)) != 0)
		return rc;
	u.options = opts;
	rc = arca_ssh_new(ctx, &u, "sftp", out);
	arca_url_free(&u);
	return rc;
}

static void
test_ssh_options(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_ssh *s;
	const char *const opts[] = {
		"ssh-options=-oIdentityFile='/k 1' -o Port=99 -i /k2 "
		    "-oUserKnownHostsFile=~/kh -oStrictHostKeyChecking=accept-new",
		"s3-foo=bar",
		"ssh-options=-oProtocol=2 -o \"IdentityFile /k3\" -oUser=nobody",
		"timeout=7",
		NULL };
	char want[4096];

	setenv("HOME", "/home/t", 1);
	unsetenv("FTP_PASSWORD");
	CHECK_INT(ssh_new(&ctx, "sftp://bob:p%40w@host.example:2200/d", opts,
	    &s), 0);
	if (s == NULL)
		return;
	CHECK_STR(s->host, "host.example");
	CHECK_INT(s->port, 2200);		/* the URL's port wins */
	CHECK_STR(s->user, "bob");		/* and its user */
	CHECK_STR(s->password, "p@w");
	CHECK_INT(s->nidentities, 3);
	CHECK_STR(s->identities[0], "/k 1");
	CHECK_STR(s->identities[1], "/k2");
	CHECK_STR(s->identities[2], "/k3");
	CHECK_STR(s->known_hosts, "/home/t/kh");
	CHECK_STR(s->global_known_hosts, "/etc/ssh/ssh_known_hosts");
	CHECK_INT(s->accept_new, 1);
	CHECK_INT(s->timeout_ms, 7000);
	CHECK(strstr(s->where, "p@w") == NULL && strstr(s->where, "p%40w") ==
	    NULL);
	arca_ssh_free(s);

	/* No port or user in the URL: -p and -oUser; FTP_PASSWORD. */
	{
		const char *const o2[] = { "ssh-options=-p 2222 -oUser=carol "
		    "-oStrictHostKeyChecking=yes", "ssh-accept-new-host-key",
		    NULL };

		setenv("FTP_PASSWORD", "from-env", 1);
		CHECK_INT(ssh_new(&ctx, "sftp://h/x", o2, &s), 0);
		if (s != NULL) {
			CHECK_INT(s->port, 2222);
			CHECK_STR(s->user, "carol");
			CHECK_STR(s->password, "from-env");
			/* the switch beats -oStrictHostKeyChecking=yes */
			CHECK_INT(s->accept_new, 1);
			snprintf(want, sizeof(want), "%s", "/home/t/.ssh/known_hosts");
			CHECK_STR(s->known_hosts, want);
			CHECK_INT(s->timeout_ms, 30000);
			arca_ssh_free(s);
		}
		unsetenv("FTP_PASSWORD");
	}
	/* Defaults: port 22, LOGNAME. */
	setenv("LOGNAME", "dave", 1);
	CHECK_INT(ssh_new(&ctx, "sftp://h", NULL, &s), 0);
	if (s != NULL) {
		CHECK_INT(s->port, 22);
		CHECK_STR(s->user, "dave");
		CHECK(s->password == NULL);
		CHECK_INT(s->accept_new, 0);
		arca_ssh_free(s);
	}
}

static void
test_ssh_config(void)
{
	static const char conf[] =
	    "# comment\n"
	    "ConnectTimeout 9\n"
	    "Host other\n"
	    "  Port 1\n"
	    "Host back* !backupx\n"
	    "  HostName 127.0.0.9\n"
	    "  Port=2022\n"
	    "  User cfguser\n"
	    "  IdentityFile ~/.ssh/k_%h\n"
	    "  IdentityFile \"/path with space/k\"\n"
	    "  UserKnownHostsFile ~/kh_cfg\n"
	    "  StrictHostKeyChecking accept-new\n"
	    "  ForwardAgent yes\n"
	    "Match exec false\n"
	    "  Port 7\n"
	    "Host *\n"
	    "  Port 3\n"
	    "  User star\n";
	struct arca_ctx ctx = { 0 };
	struct arca_ssh *s;
	char *home = test_tmpdir(), path[4096], want[4096];
	FILE *f;

	setenv("HOME", home, 1);
	snprintf(path, sizeof(path), "%s/.ssh", home);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.ssh/config", home);
	if ((f = fopen(path, "w")) == NULL)
		goto out;
	fputs(conf, f);
	fclose(f);

	CHECK_INT(ssh_new(&ctx, "sftp://backup1/x", NULL, &s), 0);
	if (s != NULL) {
		CHECK_STR(s->host, "127.0.0.9");
		CHECK_INT(s->port, 2022);
		CHECK_STR(s->user, "cfguser");
		CHECK_INT(s->nidentities, 2);
		snprintf(want, sizeof(want), "%s/.ssh/k_backup1", home);
		CHECK_STR(s->identities[0], want);
		CHECK_STR(s->identities[1], "/path with space/k");
		snprintf(want, sizeof(want), "%s/kh_cfg", home);
		CHECK_STR(s->known_hosts, want);
		CHECK_INT(s->accept_new, 1);
		CHECK_INT(s->connect_timeout_ms, 9000);
		arca_ssh_free(s);
	}
	/* negated pattern: only "Host *" applies */
	CHECK_INT(ssh_new(&ctx, "sftp://backupx/x", NULL, &s), 0);
	if (s != NULL) {
		CHECK_STR(s->host, "backupx");
		CHECK_INT(s->port, 3);
		CHECK_STR(s->user, "star");
		CHECK_INT(s->nidentities, 0);
		CHECK_INT(s->accept_new, 0);
		arca_ssh_free(s);
	}
	/* the command line comes first, the URL beats both */
	{
		const char *const o[] = { "ssh-options=-oPort=5 -i /cli "
		    "-oUser=cli", NULL };

		CHECK_INT(ssh_new(&ctx, "sftp://url@backup1/x", o, &s), 0);
		if (s != NULL) {
			CHECK_INT(s->port, 5);
			CHECK_STR(s->user, "url");
			CHECK_INT(s->nidentities, 3);
			CHECK_STR(s->identities[0], "/cli");
			arca_ssh_free(s);
		}
	}
	/* -F none: no config files at all; -F FILE must exist */
	{
		const char *const o[] = { "ssh-options=-F none", NULL };
		const char *const o2[] = { "ssh-options=-F /nonexistent/cfg",
		    NULL };

		CHECK_INT(ssh_new(&ctx, "sftp://backup1/x", o, &s), 0);
		if (s != NULL) {
			CHECK_STR(s->host, "backup1");
			CHECK_INT(s->port, 22);
			arca_ssh_free(s);
		}
		CHECK_INT(ssh_new(&ctx, "sftp://backup1/x", o2, &s),
		    ARCA_ERR_USAGE);
	}
	/* a bad value says where it is */
	if ((f = fopen(path, "a")) != NULL) {
		fputs("Host backup1\n  Port many\n", f);
		fclose(f);
	}
	CHECK_INT(ssh_new(&ctx, "sftp://backup1/x", NULL, &s), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "config line 20: bad Port 'many'") != NULL);
out:
	setenv("HOME", "/home/t", 1);
	free(home);
}

static void
test_ssh_option_errors(void)
{
	static const char *const bad[] = {
		"ssh-options=-oIdentityFile='/unterminated",
		"ssh-options=-oPort=abc",
		"ssh-options=-oPort=70000",
		"ssh-options=--long",
		"ssh-options=plain",
		"ssh-options=-o",
		"ssh-options=-oIdentityFile",
		"ssh-options=-oStrictHostKeyChecking=maybe",
		"timeout=0",
		"timeout=12x",
	};
	struct arca_ctx ctx = { 0 };
	struct arca_ssh *s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const o[] = { bad[i], NULL };

		s = NULL;
		CHECK_INT(ssh_new(&ctx, "sftp://u@h/x", o, &s), ARCA_ERR_USAGE);
		CHECK(s == NULL);
		arca_ssh_free(s);
	}
	CHECK_INT(ssh_new(&ctx, "sftp:///nohost", NULL, &s), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "no host name") != NULL);
}

/* A stand-in rclone: logs its arguments and answers per subcommand. */
static char *
fake_rclone(const char *dir)
{
	static const char script[] =
	    "#!/bin/sh\n"
	    "d=$(dirname \"$0\")\n"
	    "echo \"$*\" >>\"$d/log\"\n"
	    "case $1 in\n"
	    "lsjson) [ -f \"$d/lsjson.exit\" ] && exit $(cat \"$d/lsjson.exit\")\n"
	    "  cat \"$d/lsjson.out\" ;;\n"
	    "cat) printf 'volume bytes' ;;\n"
	    "copyto) [ -f \"$2\" ] || exit 9 ;;\n"
	    "moveto) ;;\n"
	    "deletefile) echo \"2026/01/01 00:00:00 Failed to deletefile: $2 is a "
	    "directory or doesn't exist\" >&2; exit 1 ;;\n"
	    "fail) ;;\n"
	    "esac\n"
	    "exit 0\n";
	char *path = NULL, *p;
	FILE *f;

	if (asprintf(&path, "%s/rclone", dir) < 0)
		return NULL;
	if ((f = fopen(path, "w")) == NULL)
		return path;
	fputs(script, f);
	fclose(f);
	chmod(path, 0755);
	if (asprintf(&p, "%s:%s", dir, getenv("PATH") ? getenv("PATH") :
	    "/usr/bin:/bin") >= 0) {
		setenv("PATH", p, 1);
		free(p);
	}
	return path;
}

static char *
slurp(const char *dir, const char *name)
{
	struct arca_buf b = { 0 };
	char path[4096], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return strdup("");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		arca_buf_append(&b, buf, n);
	fclose(f);
	if (b.data == NULL)
		return strdup("");
	return arca_buf_steal(&b);
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_rclone(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	struct arca_strlist l = { 0 };
	char *dir = test_tmpdir(), *script, *log, want[8192], local[4096];
	char *oldpath = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	script = fake_rclone(dir);
	CHECK(script != NULL && access(script, X_OK) == 0);
	unsetenv("RCLONE_CONFIG");

	/* Bad URLs never run rclone. */
	CHECK_INT(arca_backend_open_ops(&ctx, &arca_backend_rclone,
	    "rclone://nocolon", 1, &b), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "rclone://REMOTE:PATH") != NULL);
	CHECK_INT(arca_backend_open_ops(&ctx, &arca_backend_rclone,
	    "rclone://:nothing", 1, &b), ARCA_ERR_USAGE);

	/* duplicity's remote:/dir is remote:dir; quoted values may hold ':' */
	CHECK_INT(arca_backend_open_ops(&ctx, &arca_backend_rclone,
	    "rclone://:s3,endpoint='http://h:9000',secret_access_key=S3KRIT:/bk/",
	    1, &b), 0);
	if (b == NULL)
		goto out;
	put_file(dir, "lsjson.out", "[{\"Path\":\"a\",\"Name\":\"a\",\"IsDir\":false},"
	    "{\"Path\":\"d\",\"IsDir\":true},{\"Path\":\".a.arca-tmp-12\"},"
	    "{\"Path\":\"x/y\"},{\"Path\":\"b\",\"IsDir\":false}]");
	CHECK_INT(arca_backend_list(b, &l), 0);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_STR(l.v[0], "a");
		CHECK_STR(l.v[1], "b");
	}
	arca_strlist_free(&l);
	log = slurp(dir, "log");
	CHECK_STR(log, "lsjson --files-only --no-modtime --no-mimetype "
	    ":s3,endpoint='http://h:9000',secret_access_key=S3KRIT:bk "
	    "--retries 1\n");
	free(log);

	/* A new target that does not exist yet lists empty (exit 3). */
	put_file(dir, "lsjson.exit", "3");
	CHECK_INT(arca_backend_list(b, &l), 0);
	CHECK_INT(l.n, 0);

	/* put: copy to a temp name, then move; the local path stays local */
	unlink(strcat(strcpy(want, dir), "/log"));
	snprintf(local, sizeof(local), "%s/lsjson.out", dir);
	CHECK_INT(arca_backend_put(b, local, "vol1"), 0);
	log = slurp(dir, "log");
	snprintf(want, sizeof(want), "copyto %s :s3,endpoint='http://h:9000',"
	    "secret_access_key=S3KRIT:bk/.vol1.arca-tmp-%ld --retries 1\n"
	    "moveto :s3,endpoint='http://h:9000',secret_access_key=S3KRIT:bk/"
	    ".vol1.arca-tmp-%ld :s3,endpoint='http://h:9000',"
	    "secret_access_key=S3KRIT:bk/vol1 --retries 1\n", local,
	    (long)getpid(), (long)getpid());
	CHECK_STR(log, want);
	free(log);

	/* get: rclone cat into the file */
	snprintf(local, sizeof(local), "%s/got", dir);
	CHECK_INT(arca_backend_get(b, "vol1", local), 0);
	log = slurp(dir, "got");
	CHECK_STR(log, "volume bytes");
	free(log);

	/* deletefile of a missing file: gone is gone (lsjson says 3) */
	CHECK_INT(arca_backend_delete(b, "vol9"), 0);
	/* but a file still listed after a failed delete is an error,
	 * with the secret hidden in the message */
	unlink(strcat(strcpy(want, dir), "/lsjson.exit"));
	put_file(dir, "lsjson.out", "[{\"Path\":\"vol9\",\"IsDir\":false}]");
	arca_backend_set_retries(b, 1, 0);
	CHECK_INT(arca_backend_delete(b, "vol9"), ARCA_ERR_BACKEND);
	CHECK(strstr(ctx.errmsg, "S3KRIT") == NULL);
	CHECK(strstr(ctx.errmsg, "secret_access_key=***:bk/vol9 is a "
	    "directory or doesn't exist") != NULL);
	arca_backend_close(b);
	b = NULL;

	/* rclone://remote://abs is remote:/abs */
	CHECK_INT(arca_backend_open_ops(&ctx, &arca_backend_rclone,
	    "rclone://gd://abs/dir", 0, &b), 0);
	if (b != NULL) {
		unlink(strcat(strcpy(want, dir), "/log"));
		put_file(dir, "lsjson.out", "[]");
		CHECK_INT(arca_backend_list(b, &l), 0);
		log = slurp(dir, "log");
		CHECK(strstr(log, " gd:/abs/dir ") != NULL);
		free(log);
		/* an existing target that is gone: not found (restores) */
		put_file(dir, "lsjson.exit", "3");
		CHECK_INT(arca_backend_list(b, &l), ARCA_ERR_NOTFOUND);
		CHECK(strstr(ctx.errmsg, "does not exist") != NULL);
	}
out:
	arca_backend_close(b);
	arca_strlist_free(&l);
	if (oldpath != NULL)
		setenv("PATH", oldpath, 1);
	free(oldpath);
	free(script);
	free(dir);
}

int
main(void)
{
	RUN(test_ssh_options);
	RUN(test_ssh_config);
	RUN(test_ssh_option_errors);
	RUN(test_rclone);
	TEST_DONE();
}
