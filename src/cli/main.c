/*
 * main.c: the arca command.
 */
#include <stdio.h>
#include <unistd.h>

#include "arca/arca.h"
#include "cli.h"

static void
log_to_stderr(void *ud, int level, const char *msg)
{
	if (level <= 0)
		fprintf(stderr, "arca: error: %s\n", msg);
	else if (level <= 2)
		fprintf(stderr, "arca: warning: %s\n", msg);
	else
		fprintf(stderr, "%s\n", msg);
}

static void
out_to_stdout(void *ud, const char *text, size_t len)
{
	fwrite(text, 1, len, stdout);
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct arca_ctx *ctx;
	int r, code;

	if ((r = cli_parse(&c, argc, argv)) != 0) {
		cli_free(&c);
		return r;
	}
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
	r = c.cmd->run(&c, ctx);
	fflush(stdout);
	code = cli_exit_code(r);
	if (r != 0)
		fprintf(stderr, "arca: %s\n", arca_ctx_errmsg(ctx));
	arca_ctx_free(ctx);
	cli_free(&c);
	return code;
}
