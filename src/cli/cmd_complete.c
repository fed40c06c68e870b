/*
 * cmd_complete.c: `arca __complete WHAT`, the hidden entry point of the
 * bash completion (contrib/bash-completion/arca).  The completion asks the
 * binary for its lists instead of keeping copies, so it cannot drift from
 * the command and option tables.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cli.h"

struct want {
	int with_arg;	/* -1: every option; 1: only those taking a value */
};

static void
print_option(void *ud, const char *name, int has_arg)
{
	const struct want *w = ud;

	if (w->with_arg < 0 || has_arg)
		printf("--%s\n", name);
}

static void
print_backend_option(void *ud, const char *scheme,
    const struct arca_backend_optdef *d)
{
	print_option(ud, d->name, d->has_arg);
}

/* NAME for each DIR/NAME.conf. */
static void
print_profiles_in(const char *dir)
{
	struct dirent *de;
	DIR *d;
	size_t n;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n > 5 && de->d_name[0] != '.' &&
		    strcmp(de->d_name + n - 5, ".conf") == 0)
			printf("%.*s\n", (int)(n - 5), de->d_name);
	}
	closedir(d);
}

/* The directories cmd_profile.c looks in, in its order. */
static void
print_profiles(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];

	if (x != NULL && *x != '\0') {
		snprintf(dir, sizeof(dir), "%s/arca", x);
		print_profiles_in(dir);
	} else if (home != NULL && *home != '\0') {
		snprintf(dir, sizeof(dir), "%s/.config/arca", home);
		print_profiles_in(dir);
	}
	if (geteuid() == 0)
		print_profiles_in("/etc/arca");
}

int
cli_complete(int argc, char **argv)
{
	const struct cli_command *c;
	struct want w = { -1 };

	if (argc != 1)
		goto usage;
	if (strcmp(argv[0], "commands") == 0) {
		for (c = cli_commands; c->name != NULL; c++)
			printf("%s\n", c->name);
	} else if (strcmp(argv[0], "options") == 0 ||
	    strcmp(argv[0], "options-with-arg") == 0) {
		if (argv[0][7] != '\0')
			w.with_arg = 1;
		cli_each_option(print_option, &w);
		arca_backend_each_option(print_backend_option, &w);
	} else if (strcmp(argv[0], "profiles") == 0) {
		print_profiles();
	} else {
		goto usage;
	}
	return fflush(stdout) == 0 ? 0 : 30;
usage:
	fputs("usage: arca __complete commands|options|options-with-arg|"
	    "profiles\n", stderr);
	return 2;
}
