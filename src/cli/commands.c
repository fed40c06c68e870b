/*
 * commands.c: the command table and what each command does with the
 * parsed command line.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/arca.h"
#include "backend/backend.h"
#include "cli.h"
#include "util/timefmt.h"

static int
run_backup_mode(struct cli *c, struct arca_ctx *ctx, enum arca_backup_mode m)
{
	c->o.local = c->pos[0];
	c->o.url = c->pos[1];
	return arca_run_backup(ctx, &c->o, m);
}

static int
run_full(struct cli *c, struct arca_ctx *ctx)
{
	return run_backup_mode(c, ctx, ARCA_BACKUP_FULL);
}

static int
run_incremental(struct cli *c, struct arca_ctx *ctx)
{
	return run_backup_mode(c, ctx, ARCA_BACKUP_INC);
}

static int
run_backup(struct cli *c, struct arca_ctx *ctx)
{
	return run_backup_mode(c, ctx, ARCA_BACKUP_AUTO);
}

static int
run_restore(struct cli *c, struct arca_ctx *ctx)
{
	c->o.url = c->pos[0];
	c->o.local = c->pos[1];
	return arca_run_restore(ctx, &c->o);
}

static int
run_verify(struct cli *c, struct arca_ctx *ctx)
{
	c->o.url = c->pos[0];
	c->o.local = c->pos[1];
	return arca_run_verify(ctx, &c->o);
}

static int
run_status(struct cli *c, struct arca_ctx *ctx)
{
	c->o.url = c->pos[0];
	return arca_run_collection_status(ctx, &c->o);
}

static int
run_list(struct cli *c, struct arca_ctx *ctx)
{
	c->o.url = c->pos[0];
	return arca_run_list_current_files(ctx, &c->o);
}

const struct cli_command cli_commands[] = {
	{ "full", { "fb" }, 2, "full [options] SOURCE_DIR TARGET_URL",
	  "make a full backup", run_full },
	{ "incremental", { "incr", "inc", "ib" }, 2,
	  "incremental [options] SOURCE_DIR TARGET_URL",
	  "make an incremental backup on the current chain", run_incremental },
	{ "backup", { "bu" }, 2, "backup [options] SOURCE_DIR TARGET_URL",
	  "incremental if a chain exists, else full (also: arca SOURCE_DIR URL)",
	  run_backup },
	{ "restore", { "rb" }, 2, "restore [options] SOURCE_URL TARGET_DIR",
	  "restore everything, or one path with -r (also: arca URL DIR)",
	  run_restore },
	{ "verify", { "vb" }, 2, "verify [options] SOURCE_URL LOCAL_DIR",
	  "compare a backup with a local tree (contents with --compare-data)",
	  run_verify },
	{ "collection-status", { "st" }, 1, "collection-status [options] TARGET_URL",
	  "show the backup chains and sets at the target", run_status },
	{ "list-current-files", { "ls" }, 1,
	  "list-current-files [options] TARGET_URL",
	  "list the files in the backup at --time (default: now)", run_list },
	{ "cleanup", { "cl" }, 1, "cleanup [options] TARGET_URL",
	  "delete interrupted and orphaned files (listed only without --force)",
	  cli_run_cleanup },
	{ "remove-older-than", { "ro" }, 2,
	  "remove-older-than TIME [options] TARGET_URL",
	  "delete chains older than TIME (listed only without --force)",
	  cli_run_remove_older_than },
	{ "remove-all-but-n-full", { "ra" }, 2,
	  "remove-all-but-n-full COUNT [options] TARGET_URL",
	  "delete all but the COUNT newest chains (needs --force)",
	  cli_run_remove_all_but_n_full },
	{ "remove-all-inc-of-but-n-full", { "ri" }, 2,
	  "remove-all-inc-of-but-n-full COUNT [options] TARGET_URL",
	  "delete the incrementals of all but the COUNT newest chains",
	  cli_run_remove_all_inc_of_but_n_full },
	{ "run", { NULL }, 1, "run [options] PROFILE",
	  "prune, back up and clean up as the profile ~/.config/arca/PROFILE.conf says",
	  cli_run_profile },
	{ "schedule", { NULL }, 1, "schedule PROFILE",
	  "run the profile daily (systemd timer, or a crontab line)",
	  cli_run_schedule },
	{ "unschedule", { NULL }, 1, "unschedule PROFILE",
	  "stop running the profile daily", cli_run_unschedule },
	{ "help", { NULL }, -1, "help [COMMAND]",
	  "describe a command", cli_run_help },
	{ "dropbox-auth", { NULL }, 0, "dropbox-auth",
	  "get a Dropbox refresh token for dpbx:// (asks for a code)",
	  cli_run_dropbox_auth },
	{ NULL, { NULL }, 0, NULL, NULL, NULL }
};

int
cli_run_help(struct cli *c, struct arca_ctx *ctx)
{
	const struct cli_command *k;

	(void)ctx;
	if (c->npos == 0) {
		cli_usage(stdout);
		return 0;
	}
	if ((k = cli_find_command(c->pos[0])) == NULL) {
		fprintf(stderr, "arca: no command '%s'; 'arca help' lists them\n",
		    c->pos[0]);
		return 2;
	}
	printf("usage: arca %s\n\n%s.\n", k->usage, k->help);
	if (k->aliases[0] != NULL) {
		size_t i;

		printf("Also called:");
		for (i = 0; i < 4 && k->aliases[i] != NULL; i++)
			printf(" %s", k->aliases[i]);
		printf("\n");
	}
	printf("\nOptions: arca --help lists them all; see also man arca.\n");
	return 0;
}

const struct cli_command *
cli_find_command(const char *word)
{
	const struct cli_command *c, *found = NULL;
	size_t n = strlen(word), i;
	struct stat st;
	int matches = 0;

	for (c = cli_commands; c->name != NULL; c++) {
		if (strcmp(c->name, word) == 0)
			return c;
		for (i = 0; i < 4 && c->aliases[i] != NULL; i++)
			if (strcmp(c->aliases[i], word) == 0)
				return c;
	}
	/* duplicity 0.8 accepts unique prefixes; never when a local path by
	 * that name exists (a source directory called "res"). */
	if (n < 3 || strchr(word, '/') != NULL || lstat(word, &st) == 0)
		return NULL;
	for (c = cli_commands; c->name != NULL; c++)
		if (strncmp(c->name, word, n) == 0) {
			found = c;
			matches++;
		}
	return matches == 1 ? found : NULL;
}

const struct cli_command *
cli_implicit_command(const char *a, const char *b)
{
	/* URL first: restore; otherwise a backup, full or incremental. */
	return cli_find_command(arca_url_is_url(a) ? "restore" : "backup");
}

int
cli_exit_code(int err)
{
	switch (err) {
	case 0: return 0;
	case ARCA_ERR_USAGE: return 2;
	case ARCA_ERR_DIFFERS: return 1;
	case ARCA_ERR_EXISTS: return 11;
	case ARCA_ERR_SOURCE: return 13;
	case ARCA_ERR_NOCHAIN: return 17;
	case ARCA_ERR_NOTFOUND: return 19;
	case ARCA_ERR_NODATA: return 20;
	case ARCA_ERR_HASH: return 21;
	case ARCA_ERR_SIGNATURE: return 22;
	case ARCA_ERR_LOCKED: return 23;
	case ARCA_ERR_PARTIAL: return 24;
	case ARCA_ERR_AUTH:
	case ARCA_ERR_CRYPTO: return 31;
	case ARCA_ERR_MISMATCH: return 42;
	case ARCA_ERR_BACKEND:
	case ARCA_ERR_RETRY: return 50;
	default: return 30;
	}
}
