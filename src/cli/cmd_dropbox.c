/*
 * cmd_dropbox.c: `arca dropbox-auth`, which walks a person through getting
 * a Dropbox refresh token for dpbx:// targets.
 *
 * Dropbox's "PKCE, no redirect" flow: they open a URL, allow the app, and
 * paste the code Dropbox shows; arca trades it for a refresh token and
 * prints the two variables to export.  Nothing is stored anywhere.  The
 * app key comes from DPBX_APP_KEY or is asked for; DPBX_APP_SECRET is sent
 * along when set (PKCE does not need it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca.h"
#include "backend/dropbox.h"
#include "cli.h"
#include "util/ctx.h"

/* Read one line from stdin into buf, without surrounding blanks. */
static int
read_line(const char *prompt, char *buf, size_t n)
{
	size_t len, skip;

	fputs(prompt, stderr);
	fflush(stderr);
	if (fgets(buf, (int)n, stdin) == NULL)
		return -1;
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	skip = strspn(buf, " \t");
	memmove(buf, buf + skip, len - skip + 1);
	return buf[0] == '\0' ? -1 : 0;
}

/* Single-quoted for a POSIX shell. */
static void
print_export(const char *name, const char *value)
{
	const char *p;

	printf("export %s='", name);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	fputs("'\n", stdout);
}

int
cli_run_dropbox_auth(struct cli *c, struct arca_ctx *ctx)
{
	char key[256], code[1024];
	char *verifier = NULL, *url = NULL, *token = NULL, *account = NULL;
	const char *env = getenv("DPBX_APP_KEY");
	int rc;

	if (env != NULL && env[0] != '\0')
		snprintf(key, sizeof(key), "%s", env);
	else if (read_line("Dropbox app key (from the App Console at "
	    "https://www.dropbox.com/developers/apps): ", key, sizeof(key)) !=
	    0)
		return arca_error(ctx, ARCA_ERR_USAGE, "no app key given");
	if ((rc = arca_dropbox_auth_start(ctx, key, &verifier, &url)) != 0)
		goto out;
	fprintf(stderr, "1. Open this address in a browser and sign in to "
	    "Dropbox:\n\n   %s\n\n2. Allow the app, then copy the code "
	    "Dropbox shows.\n", url);
	if (read_line("3. Paste the code here: ", code, sizeof(code)) != 0) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "no code given");
		goto out;
	}
	rc = arca_dropbox_auth_finish(ctx, key, getenv("DPBX_APP_SECRET"),
	    verifier, code, c->o.backend_options, &token, &account);
	explicit_bzero(code, sizeof(code));
	if (rc != 0)
		goto out;
	fprintf(stderr, "\nDone%s%s. Keep the refresh token secret; with "
	    "these two variables set,\narca renews its access token by "
	    "itself:\n\n", account ? " for account " : "",
	    account ? account : "");
	print_export("DPBX_APP_KEY", key);
	print_export("DPBX_REFRESH_TOKEN", token);
	fflush(stdout);
out:
	if (verifier != NULL) {
		explicit_bzero(verifier, strlen(verifier));
		free(verifier);
	}
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(url);
	free(account);
	return rc;
}
