/*
 * cli.h: the arca command's parsed command line and command table.
 */
#ifndef ARCA_CLI_H
#define ARCA_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "arca/arca.h"

#define CLI_MAX_POS 8

struct cli {
	struct arca_options o;
	const struct cli_command *cmd;
	const char *pos[CLI_MAX_POS];	/* positional arguments after the command */
	size_t npos;
	int verbosity;
	int help;
	int version;
	int progress;		/* --progress 1, --no-progress 0, default -1 */
	/* storage that o points into */
	struct arca_selopt *sel;
	size_t nsel, capsel;
	const char **ekeys;
	size_t nekeys;
	const char **hkeys;	/* --hidden-encrypt-key */
	size_t nhkeys;
	const char **bopts;	/* backend options, "name=value" */
	size_t nbopts;
	char *passphrase;	/* wiped on exit */
	char *sign_passphrase;
	int argc;		/* the command line as given */
	char **argv;
};

struct cli_command {
	const char *name;
	const char *aliases[4];
	int nargs;		/* positional arguments it takes */
	const char *usage;
	const char *help;
	int (*run)(struct cli *c, struct arca_ctx *ctx);
};

/* Parse argv into c; returns 0, or 2 after printing a usage error. */
int cli_parse(struct cli *c, int argc, char **argv);
void cli_free(struct cli *c);
void cli_usage(FILE *f);

/* The command table (commands.c). */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *word);
const struct cli_command *cli_implicit_command(const char *a, const char *b);

/* Exit code for an arca_err. */
int cli_exit_code(int err);

/* arca dropbox-auth (cmd_dropbox.c). */
int cli_run_dropbox_auth(struct cli *c, struct arca_ctx *ctx);

/* Retention commands (cmd_retention.c). */
int cli_run_remove_older_than(struct cli *c, struct arca_ctx *ctx);
int cli_run_remove_all_but_n_full(struct cli *c, struct arca_ctx *ctx);
int cli_run_remove_all_inc_of_but_n_full(struct cli *c, struct arca_ctx *ctx);
int cli_run_cleanup(struct cli *c, struct arca_ctx *ctx);

/* Profiles (cmd_profile.c): arca run / schedule / unschedule NAME. */
int cli_run_profile(struct cli *c, struct arca_ctx *ctx);
int cli_run_schedule(struct cli *c, struct arca_ctx *ctx);
int cli_run_unschedule(struct cli *c, struct arca_ctx *ctx);
/*
 * The progress line (draw.c): draw on stderr if it is a terminal and want
 * is not 0.  Everything else written to the terminal goes between
 * cli_draw_pause() (erases the line; to_stdout: for stdout) and
 * cli_draw_resume().
 */
void cli_draw_setup(struct arca_ctx *ctx, int want);
void cli_draw_pause(int to_stdout);
void cli_draw_resume(void);

/* Visit every option of the table (options.c), hidden aliases too. */
void cli_each_option(void (*fn)(void *ud, const char *name, int has_arg),
    void *ud);
/* arca __complete WHAT (cmd_complete.c): lists for the bash completion;
 * argv holds the words after "__complete".  Returns the exit status. */
int cli_complete(int argc, char **argv);

/* arca help [COMMAND] (commands.c). */
int cli_run_help(struct cli *c, struct arca_ctx *ctx);

#endif /* !ARCA_CLI_H */
