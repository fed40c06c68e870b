/*
 * main.c: the arca command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arca/arca.h"
#include "cli.h"

static void
log_to_stderr(void *ud, int level, const char *msg)
{
	cli_draw_pause(0);
	if (level <= 0)
		fprintf(stderr, "arca: error: %s\n", msg);
	else if (level <= 2)
		fprintf(stderr, "arca: warning: %s\n", msg);
	else
		fprintf(stderr, "%s\n", msg);
	cli_draw_resume();
}

static void
out_to_stdout(void *ud, const char *text, size_t len)
{
	cli_draw_pause(1);
	fwrite(text, 1, len, stdout);
	cli_draw_resume();
}

/*
 * cli_parse copied the passphrases into c.  Take them out of the
 * environment, which every child (gpg through GPGME, ssh, rclone) inherits
 * and /proc/PID/environ shows: unsetenv alone leaves the bytes in the
 * initial environment block, so they are zeroed in place first.  Keep the
 * copies out of swap where mlock is allowed, and out of core dumps for the
 * rest of the run (tests/integration/40_secrets.sh checks all of this).
 */
static void
hold_secrets(const struct cli *c)
{
	static const char *const names[] = { "PASSPHRASE", "SIGN_PASSPHRASE" };
	const struct rlimit nocore = { 0, 0 };
	char *v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((v = getenv(names[i])) == NULL)
			continue;
		explicit_bzero(v, strlen(v));
		unsetenv(names[i]);
	}
	if (c->passphrase == NULL && c->sign_passphrase == NULL)
		return;
	(void)setrlimit(RLIMIT_CORE, &nocore);
	/* Failure (no CAP_IPC_LOCK, RLIMIT_MEMLOCK) is not fatal. */
	if (c->passphrase != NULL)
		(void)mlock(c->passphrase, strlen(c->passphrase) + 1);
	if (c->sign_passphrase != NULL)
		(void)mlock(c->sign_passphrase, strlen(c->sign_passphrase) + 1);
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct arca_ctx *ctx;
	int r, code;

	/* The bash completion's lists (contrib/bash-completion/arca). */
	if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
		return cli_complete(argc - 2, argv + 2);
	if ((r = cli_parse(&c, argc, argv)) != 0) {
		cli_free(&c);
		return r;
	}
	hold_secrets(&c);
	if (c.help) {
		cli_usage(stdout);
		cli_free(&c);
		return 0;
	}
	if (c.version) {
		printf("arca %s\n", ARCA_VERSION);
		cli_free(&c);
		return 0;
	}
	if ((ctx = arca_ctx_new()) == NULL) {
		fputs("arca: out of memory\n", stderr);
		cli_free(&c);
		return 30;
	}
	arca_ctx_set_log(ctx, c.verbosity, log_to_stderr, NULL);
	arca_ctx_set_out(ctx, out_to_stdout, NULL);
	cli_draw_setup(ctx, c.progress);
	r = c.cmd->run(&c, ctx);
	fflush(stdout);
	/* A positive result is an exit status whose message was given. */
	code = r > 0 ? r : cli_exit_code(r);
	if (r < 0)
		fprintf(stderr, "arca: %s\n", arca_ctx_errmsg(ctx));
	arca_ctx_free(ctx);
	cli_free(&c);
	return code;
}
