/*
 * options.c: duplicity's command line: a command word (or none), options
 * anywhere, --opt=value or --opt value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "cli.h"
#include "util/buf.h"
#include "util/timefmt.h"

enum opt_id {
	O_INCLUDE, O_EXCLUDE, O_INCLUDE_FILELIST, O_EXCLUDE_FILELIST,
	O_INCLUDE_REGEXP, O_EXCLUDE_REGEXP, O_EXCLUDE_IF_PRESENT,
	O_EXCLUDE_DEVICE_FILES, O_EXCLUDE_OTHER_FS, O_EXCLUDE_OLDER_THAN,
	O_VOLSIZE, O_TIME, O_FILE_TO_RESTORE, O_FORCE, O_NO_ENCRYPTION,
	O_NO_COMPRESSION, O_ARCHIVE_DIR, O_NAME, O_ALLOW_SOURCE_MISMATCH,
	O_FULL_IF_OLDER_THAN, O_DRY_RUN, O_VERBOSITY, O_CURRENT_TIME,
	O_GPG_OPTIONS, O_TEMPDIR, O_COMPARE_DATA, O_IGNORE_ERRORS,
	O_NUM_RETRIES, O_RETRY_DELAY, O_MAX_BLOCKSIZE, O_FILE_PREFIX,
	O_FILE_PREFIX_ARCHIVE, O_FILE_PREFIX_MANIFEST, O_FILE_PREFIX_SIGNATURE,
	O_NUMERIC_OWNER, O_NO_RESTORE_OWNERSHIP, O_NO_PRINT_STATISTICS,
	O_ENCRYPT_KEY, O_SIGN_KEY, O_GPG_BINARY, O_JSON, O_HELP, O_VERSION, O_IGNORED, O_IGNORED_ARG,
	O_HIDDEN_ENCRYPT_KEY, O_ENCRYPT_SIGN_KEY, O_ENCRYPT_SECRET_KEYRING, O_USE_AGENT,
	O_GPG_ENGINE, O_ALLOW_NO_MDC, O_CONCURRENCY, O_PROGRESS, O_NO_PROGRESS
};

struct opt {
	const char *name;	/* long name without "--" */
	char shortname;
	int has_arg;
	enum opt_id id;
	const char *help;	/* NULL: not listed in --help */
};

static const struct opt opts[] = {
	{ "include", 0, 1, O_INCLUDE, "include files matching a glob" },
	{ "exclude", 0, 1, O_EXCLUDE, "exclude files matching a glob" },
	{ "include-filelist", 0, 1, O_INCLUDE_FILELIST, "globs from a file (+/- prefixes)" },
	{ "exclude-filelist", 0, 1, O_EXCLUDE_FILELIST, "globs from a file to exclude" },
	{ "include-globbing-filelist", 0, 1, O_INCLUDE_FILELIST, NULL },
	{ "exclude-globbing-filelist", 0, 1, O_EXCLUDE_FILELIST, NULL },
	{ "include-regexp", 0, 1, O_INCLUDE_REGEXP, "include paths a regex finds" },
	{ "exclude-regexp", 0, 1, O_EXCLUDE_REGEXP, "exclude paths a regex finds" },
	{ "exclude-if-present", 0, 1, O_EXCLUDE_IF_PRESENT, "exclude dirs holding this name" },
	{ "exclude-device-files", 0, 0, O_EXCLUDE_DEVICE_FILES, "exclude device files" },
	{ "exclude-other-filesystems", 0, 0, O_EXCLUDE_OTHER_FS, "stay on the source's file system" },
	{ "exclude-older-than", 0, 1, O_EXCLUDE_OLDER_THAN, "exclude files older than TIME" },
	{ "volsize", 0, 1, O_VOLSIZE, "volume size in MiB (default 200)" },
	{ "time", 't', 1, O_TIME, "restore/list as of TIME (e.g. 3D, 2024-01-02)" },
	{ "restore-time", 0, 1, O_TIME, NULL },
	{ "file-to-restore", 'r', 1, O_FILE_TO_RESTORE, "restore only PATH (relative)" },
	{ "path-to-restore", 0, 1, O_FILE_TO_RESTORE, NULL },
	{ "force", 0, 0, O_FORCE, "overwrite on restore; really delete" },
	{ "no-encryption", 0, 0, O_NO_ENCRYPTION, "write gzip instead of OpenPGP" },
	{ "no-compression", 0, 0, O_NO_COMPRESSION, "with --no-encryption: plain files" },
	{ "archive-dir", 0, 1, O_ARCHIVE_DIR, "local cache dir (default ~/.cache/duplicity)" },
	{ "name", 0, 1, O_NAME, "cache subdir name (default: MD5 of the URL)" },
	{ "allow-source-mismatch", 0, 0, O_ALLOW_SOURCE_MISMATCH, "allow another host/source on a chain" },
	{ "full-if-older-than", 0, 1, O_FULL_IF_OLDER_THAN, "full backup when the last full is older" },
	{ "dry-run", 0, 0, O_DRY_RUN, "compute but write nothing" },
	{ "verbosity", 'v', 1, O_VERBOSITY, "0-9 or e,w,n,i,d (default n)" },
	{ "current-time", 0, 1, O_CURRENT_TIME, "backup time in Unix seconds (testing)" },
	{ "gpg-options", 0, 1, O_GPG_OPTIONS, "extra options for gpg" },
	{ "gpg-engine", 0, 1, O_GPG_ENGINE, "passphrase OpenPGP: builtin (default) or gnupg" },
	{ "allow-no-mdc", 0, 0, O_ALLOW_NO_MDC, "read old OpenPGP files without integrity check" },
	{ "tempdir", 0, 1, O_TEMPDIR, "where volumes are built" },
	{ "compare-data", 0, 0, O_COMPARE_DATA, "verify: compare file contents" },
	{ "ignore-errors", 0, 0, O_IGNORE_ERRORS, "skip volumes with bad hashes" },
	{ "num-retries", 0, 1, O_NUM_RETRIES, "tries per backend operation (default 5)" },
	{ "backend-retry-delay", 0, 1, O_RETRY_DELAY, "seconds before the first retry" },
	{ "max-blocksize", 0, 1, O_MAX_BLOCKSIZE, "largest signature block (default 2048)" },
	{ "file-prefix", 0, 1, O_FILE_PREFIX, "prefix for every remote name" },
	{ "file-prefix-archive", 0, 1, O_FILE_PREFIX_ARCHIVE, NULL },
	{ "file-prefix-manifest", 0, 1, O_FILE_PREFIX_MANIFEST, NULL },
	{ "file-prefix-signature", 0, 1, O_FILE_PREFIX_SIGNATURE, NULL },
	{ "numeric-owner", 0, 0, O_NUMERIC_OWNER, "restore owners by number" },
	{ "do-not-restore-ownership", 0, 0, O_NO_RESTORE_OWNERSHIP, "do not chown on restore" },
	{ "no-restore-ownership", 0, 0, O_NO_RESTORE_OWNERSHIP, NULL },
	{ "no-print-statistics", 0, 0, O_NO_PRINT_STATISTICS, "no statistics after a backup" },
	{ "encrypt-key", 0, 1, O_ENCRYPT_KEY, "encrypt to this public key (repeatable)" },
	{ "hidden-encrypt-key", 0, 1, O_HIDDEN_ENCRYPT_KEY, "encrypt to this key, recipient hidden" },
	{ "sign-key", 0, 1, O_SIGN_KEY, "sign with this key (hex id); restore checks it" },
	{ "encrypt-sign-key", 0, 1, O_ENCRYPT_SIGN_KEY, "--encrypt-key and --sign-key in one" },
	{ "encrypt-secret-keyring", 0, 1, O_ENCRYPT_SECRET_KEYRING, NULL },
	{ "use-agent", 0, 0, O_USE_AGENT, "passphrases from gpg-agent, not PASSPHRASE" },
	{ "json", 0, 0, O_JSON, "machine-readable output (status, statistics)" },
	{ "progress", 0, 0, O_PROGRESS, "progress line (default when stderr is a terminal)" },
	{ "no-progress", 0, 0, O_NO_PROGRESS, "no progress line" },
	{ "help", 'h', 0, O_HELP, "this help" },
	{ "version", 'V', 0, O_VERSION, "print the version" },
	{ "concurrency", 0, 1, O_CONCURRENCY, "1: one thread; N: N-1 volumes encrypted at once, signatures read ahead (default 3)" },
	/* accepted for compatibility, no effect here */
	{ "asynchronous-upload", 0, 0, O_IGNORED, NULL },	/* always on */
	{ "no-files-changed", 0, 0, O_IGNORED, NULL },
	{ "metadata-sync-mode", 0, 1, O_IGNORED_ARG, NULL },
	{ "gpg-binary", 0, 1, O_GPG_BINARY, "the gpg program to run" },
	{ NULL, 0, 0, 0, NULL }
};

static int
usage_error(const char *fmt, const char *arg)
{
	fputs("arca: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'arca --help' for more information.\n", stderr);
	return 2;
}

static int
add_sel(struct cli *c, enum arca_selkind kind, const char *arg)
{
	struct arca_selopt *v;

	if (c->nsel == c->capsel) {
		size_t n = c->capsel ? c->capsel * 2 : 8;

		if ((v = realloc(c->sel, n * sizeof(*v))) == NULL)
			return usage_error("%s", "out of memory");
		c->sel = v;
		c->capsel = n;
	}
	c->sel[c->nsel].kind = kind;
	c->sel[c->nsel].arg = arg;
	c->nsel++;
	return 0;
}

static int
parse_uint(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int
parse_verbosity(const char *s, int *out)
{
	uint64_t v;

	if (parse_uint(s, &v) == 0 && v <= 9) {
		*out = (int)v;
		return 0;
	}
	switch (s[0]) {
	case 'e': *out = 0; return 0;
	case 'w': *out = 2; return 0;
	case 'n': *out = 3; return 0;
	case 'i': *out = 4; return 0;
	case 'd': *out = 9; return 0;
	}
	return -1;
}

/* Append a key name to a NULL-terminated list. */
static int
add_key(const char ***list, size_t *n, const char *arg)
{
	const char **k = realloc(*list, (*n + 2) * sizeof(*k));

	if (k == NULL)
		return usage_error("%s", "out of memory");
	*list = k;
	k[(*n)++] = arg;
	k[*n] = NULL;
	return 0;
}

/*
 * duplicity takes only a key id for --sign-key (restore compares it with
 * the id of the key that signed each volume): 8, 16 or 40 hex digits.
 */
static int
sign_key_ok(const char *k)
{
	size_t n;

	if (k[0] == '0' && (k[1] == 'x' || k[1] == 'X'))
		k += 2;
	n = strspn(k, "0123456789abcdefABCDEF");
	return k[n] == '\0' && (n == 8 || n == 16 || n == 40);
}

static int
apply(struct cli *c, const struct opt *o, const char *arg, const char **times,
    const char **full_older)
{
	struct arca_options *op = &c->o;
	uint64_t v;

	switch (o->id) {
	case O_INCLUDE: return add_sel(c, ARCA_SELOPT_INCLUDE, arg);
	case O_EXCLUDE: return add_sel(c, ARCA_SELOPT_EXCLUDE, arg);
	case O_INCLUDE_FILELIST: return add_sel(c, ARCA_SELOPT_INCLUDE_FILELIST, arg);
	case O_EXCLUDE_FILELIST: return add_sel(c, ARCA_SELOPT_EXCLUDE_FILELIST, arg);
	case O_INCLUDE_REGEXP: return add_sel(c, ARCA_SELOPT_INCLUDE_REGEXP, arg);
	case O_EXCLUDE_REGEXP: return add_sel(c, ARCA_SELOPT_EXCLUDE_REGEXP, arg);
	case O_EXCLUDE_IF_PRESENT: return add_sel(c, ARCA_SELOPT_EXCLUDE_IF_PRESENT, arg);
	case O_EXCLUDE_DEVICE_FILES: return add_sel(c, ARCA_SELOPT_EXCLUDE_DEVICE_FILES, NULL);
	case O_EXCLUDE_OTHER_FS: return add_sel(c, ARCA_SELOPT_EXCLUDE_OTHER_FILESYSTEMS, NULL);
	case O_EXCLUDE_OLDER_THAN: return add_sel(c, ARCA_SELOPT_EXCLUDE_OLDER_THAN, arg);
	case O_VOLSIZE:
		if (parse_uint(arg, &v) != 0 || v == 0 || v > 1024 * 1024)
			return usage_error("bad --volsize '%s': give MiB, 1 or more", arg);
		op->volsize = v << 20;
		return 0;
	case O_TIME: *times = arg; return 0;
	case O_FILE_TO_RESTORE: op->path_to_restore = arg; return 0;
	case O_FORCE: op->force = 1; return 0;
	case O_NO_ENCRYPTION: op->encrypt = 0; return 0;
	case O_NO_COMPRESSION: op->compress = 0; return 0;
	case O_ARCHIVE_DIR: op->archive_dir = arg; return 0;
	case O_NAME: op->name = arg; return 0;
	case O_ALLOW_SOURCE_MISMATCH: op->allow_source_mismatch = 1; return 0;
	case O_FULL_IF_OLDER_THAN: *full_older = arg; return 0;
	case O_DRY_RUN: op->dry_run = 1; return 0;
	case O_VERBOSITY:
		if (parse_verbosity(arg, &c->verbosity) != 0)
			return usage_error("bad verbosity '%s': 0-9 or e,w,n,i,d", arg);
		return 0;
	case O_CURRENT_TIME:
		if (parse_uint(arg, &v) != 0 || v > INT64_MAX)
			return usage_error("bad --current-time '%s': Unix seconds", arg);
		op->current_time = (int64_t)v;
		return 0;
	case O_GPG_OPTIONS: op->gpg_options = arg; return 0;
	case O_GPG_BINARY: op->gpg_binary = arg; return 0;
	case O_GPG_ENGINE:
		if (strcmp(arg, "builtin") == 0)
			op->gpg_engine = ARCA_GPG_ENGINE_BUILTIN;
		else if (strcmp(arg, "gnupg") == 0)
			op->gpg_engine = ARCA_GPG_ENGINE_GNUPG;
		else if (strcmp(arg, "auto") == 0)
			op->gpg_engine = ARCA_GPG_ENGINE_AUTO;
		else
			return usage_error("bad --gpg-engine '%s': builtin, "
			    "gnupg or auto", arg);
		return 0;
	case O_ALLOW_NO_MDC: op->allow_no_mdc = 1; return 0;
	case O_TEMPDIR: op->tempdir = arg; return 0;
	case O_COMPARE_DATA: op->compare_data = 1; return 0;
	case O_IGNORE_ERRORS: op->ignore_errors = 1; return 0;
	case O_CONCURRENCY:
		if (parse_uint(arg, &v) != 0 || v < 1 || v > 64)
			return usage_error("bad --concurrency '%s': give 1 to 64", arg);
		op->concurrency = (int)v;
		return 0;
	case O_NUM_RETRIES:
		if (parse_uint(arg, &v) != 0 || v < 1 || v > 1000)
			return usage_error("bad --num-retries '%s'", arg);
		op->num_retries = (int)v;
		return 0;
	case O_RETRY_DELAY: {
		char *end;
		double d = strtod(arg, &end);

		if (*end != '\0' || end == arg || d < 0 || d > 3600)
			return usage_error("bad --backend-retry-delay '%s'", arg);
		op->retry_delay = d;
		return 0;
	}
	case O_MAX_BLOCKSIZE:
		if (parse_uint(arg, &v) != 0 || v < 512 || v > (1u << 26))
			return usage_error("bad --max-blocksize '%s'", arg);
		op->max_blocksize = (size_t)v;
		return 0;
	case O_FILE_PREFIX: op->file_prefix = arg; return 0;
	case O_FILE_PREFIX_ARCHIVE: op->file_prefix_archive = arg; return 0;
	case O_FILE_PREFIX_MANIFEST: op->file_prefix_manifest = arg; return 0;
	case O_FILE_PREFIX_SIGNATURE: op->file_prefix_signature = arg; return 0;
	case O_NUMERIC_OWNER: op->numeric_owner = 1; return 0;
	case O_NO_RESTORE_OWNERSHIP: op->no_restore_ownership = 1; return 0;
	case O_NO_PRINT_STATISTICS: op->no_print_statistics = 1; return 0;
	case O_ENCRYPT_KEY:
	case O_ENCRYPT_SIGN_KEY:
		if (o->id == O_ENCRYPT_SIGN_KEY && !sign_key_ok(arg))
			return usage_error("bad --encrypt-sign-key '%s': give "
			    "the key id, 8, 16 or 40 hex digits", arg);
		if (add_key(&c->ekeys, &c->nekeys, arg) != 0)
			return 2;
		op->encrypt_keys = c->ekeys;
		if (o->id == O_ENCRYPT_SIGN_KEY)
			op->sign_key = arg;
		return 0;
	case O_HIDDEN_ENCRYPT_KEY:
		if (add_key(&c->hkeys, &c->nhkeys, arg) != 0)
			return 2;
		op->hidden_keys = c->hkeys;
		return 0;
	case O_SIGN_KEY:
		if (!sign_key_ok(arg))
			return usage_error("bad --sign-key '%s': give the key "
			    "id, 8, 16 or 40 hex digits", arg);
		op->sign_key = arg;
		return 0;
	case O_ENCRYPT_SECRET_KEYRING: op->encrypt_secret_keyring = arg; return 0;
	case O_USE_AGENT: op->use_agent = 1; return 0;
	case O_JSON: op->json = 1; return 0;
	case O_PROGRESS: c->progress = 1; return 0;
	case O_NO_PROGRESS: c->progress = 0; return 0;
	case O_HELP: c->help = 1; return 0;
	case O_VERSION: c->version = 1; return 0;
	case O_IGNORED:
	case O_IGNORED_ARG:
		return 0;
	}
	return 0;
}

static const struct opt *
find_long(const char *name, size_t n)
{
	const struct opt *o;

	for (o = opts; o->name != NULL; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

static const struct opt *
find_short(char ch)
{
	const struct opt *o;

	for (o = opts; o->name != NULL; o++)
		if (o->shortname == ch)
			return o;
	return NULL;
}

static char *
secret_from_env(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

/* Keep a backend option as "name=value" (or "name") for the backends. */
static int
backend_option(struct cli *c, const char *s, size_t nlen, const char *eq,
    int argc, char **argv, int *a)
{
	const struct arca_backend_optdef *d;
	const char **v;
	char *item;
	const char *val = NULL;

	if ((d = arca_backend_find_option(s + 2, nlen)) == NULL)
		return usage_error("unknown option '%s'", s);
	if (eq != NULL) {
		if (!d->has_arg)
			return usage_error("option '%s' takes no value", s);
		val = eq + 1;
	} else if (d->has_arg) {
		if (*a + 1 >= argc)
			return usage_error("option '%s' needs a value", s);
		val = argv[++*a];
	}
	if (asprintf(&item, "%.*s%s%s", (int)nlen, s + 2, val ? "=" : "",
	    val ? val : "") < 0)
		return usage_error("%s", "out of memory");
	if ((v = realloc(c->bopts, (c->nbopts + 2) * sizeof(*v))) == NULL) {
		free(item);
		return usage_error("%s", "out of memory");
	}
	c->bopts = v;
	v[c->nbopts++] = item;
	v[c->nbopts] = NULL;
	c->o.backend_options = v;
	return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv)
{
	const char *pos[CLI_MAX_POS + 1];
	const char *times = NULL, *full_older = NULL, *arg;
	const struct opt *o;
	size_t npos = 0, i;
	int a, r, only_pos = 0;
	int64_t t;

	memset(c, 0, sizeof(*c));
	c->argc = argc;
	c->argv = argv;
	arca_options_init(&c->o);
	c->verbosity = 3;
	c->progress = -1;
	for (a = 1; a < argc; a++) {
		char *s = argv[a];

		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (npos == CLI_MAX_POS)
				return usage_error("too many arguments ('%s')", s);
			pos[npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		arg = NULL;
		if (s[1] == '-') {
			const char *eq = strchr(s + 2, '=');

			size_t nlen = eq ? (size_t)(eq - s - 2) : strlen(s + 2);

			o = find_long(s + 2, nlen);
			if (o == NULL) {
				/* A backend's own option (--s3-..., --ssh-...). */
				r = backend_option(c, s, nlen, eq, argc, argv, &a);
				if (r != 0)
					return r;
				continue;
			}
			if (eq != NULL) {
				if (!o->has_arg)
					return usage_error("option '%s' takes no value", s);
				arg = eq + 1;
			}
		} else {
			o = find_short(s[1]);
			if (o == NULL)
				return usage_error("unknown option '%s'", s);
			if (s[2] != '\0') {
				if (!o->has_arg)
					return usage_error("unknown option '%s'", s);
				arg = s + 2;
			}
		}
		if (o->has_arg && arg == NULL) {
			if (a + 1 >= argc)
				return usage_error("option '%s' needs a value", s);
			arg = argv[++a];
		}
		if ((r = apply(c, o, arg, &times, &full_older)) != 0)
			return r;
	}
	if (c->help || c->version)
		return 0;

	/* The command word, or an implicit backup/restore. */
	if (npos == 0)
		return usage_error("%s", "no command given");
	c->cmd = cli_find_command(pos[0]);
	i = 0;
	if (c->cmd != NULL)
		i = 1;
	else if (npos == 2)
		c->cmd = cli_implicit_command(pos[0], pos[1]);
	else
		return usage_error("unknown command '%s'", pos[0]);
	for (; i < npos; i++)
		c->pos[c->npos++] = pos[i];
	if (c->cmd->nargs < 0 ? c->npos > 1 : (int)c->npos != c->cmd->nargs) {
		fprintf(stderr, "arca: %s takes %d argument(s), got %zu\nusage: arca %s\n",
		    c->cmd->name, c->cmd->nargs, c->npos, c->cmd->usage);
		return 2;
	}

	c->o.now = c->o.current_time >= 0 ? c->o.current_time : (int64_t)time(NULL);
	if (times != NULL) {
		if (arca_time_parse_user(times, c->o.now, &t) != 0)
			return usage_error("bad time string '%s'", times);
		c->o.restore_time = t;
	}
	if (full_older != NULL) {
		if (arca_time_parse_user(full_older, c->o.now, &t) != 0)
			return usage_error("bad time string '%s'", full_older);
		c->o.full_if_older_than = t;
	}
	c->o.sel = c->sel;
	c->o.nsel = c->nsel;
	c->passphrase = secret_from_env("PASSPHRASE");
	c->sign_passphrase = secret_from_env("SIGN_PASSPHRASE");
	c->o.passphrase = c->passphrase;
	c->o.sign_passphrase = c->sign_passphrase;
	return 0;
}


void
cli_free(struct cli *c)
{
	arca_wipe_free(c->passphrase);
	arca_wipe_free(c->sign_passphrase);
	free(c->sel);
	free(c->ekeys);
	free(c->hkeys);
	for (size_t i = 0; i < c->nbopts; i++)
		free((char *)c->bopts[i]);
	free(c->bopts);
}

void
cli_each_option(void (*fn)(void *ud, const char *name, int has_arg), void *ud)
{
	const struct opt *o;

	for (o = opts; o->name != NULL; o++)
		fn(ud, o->name, o->has_arg);
}

static void
print_backend_option(void *ud, const char *scheme,
    const struct arca_backend_optdef *d)
{
	char left[64];

	snprintf(left, sizeof(left), "    --%s%s", d->name, d->has_arg ? " ARG" : "");
	fprintf(ud, "  %-34s %s (%s)\n", left, d->help ? d->help : "", scheme);
}

void
cli_usage(FILE *f)
{
	const struct cli_command *c;
	const struct opt *o;
	char left[64];

	fputs("usage: arca [COMMAND] [options] ARGS...\n\n"
	    "Encrypted incremental backups in duplicity's format.\n\n"
	    "Commands:\n", f);
	for (c = cli_commands; c->name != NULL; c++)
		fprintf(f, "  %-20s %s\n", c->name, c->help);
	fputs("\nWithout a command: arca SOURCE_DIR URL backs up, arca URL DIR "
	    "restores.\nThe passphrase comes from the PASSPHRASE environment "
	    "variable (the sign key's\nfrom SIGN_PASSPHRASE).\n\nOptions:\n", f);
	for (o = opts; o->name != NULL; o++) {
		if (o->help == NULL)
			continue;
		if (o->shortname)
			snprintf(left, sizeof(left), "-%c, --%s%s", o->shortname,
			    o->name, o->has_arg ? " ARG" : "");
		else
			snprintf(left, sizeof(left), "    --%s%s", o->name,
			    o->has_arg ? " ARG" : "");
		fprintf(f, "  %-34s %s\n", left, o->help);
	}
	arca_backend_each_option(print_backend_option, f);
	fputs("\nURLs: file:///absolute/path, file://relative/path\n"
	    "Exit codes: 0 ok, 1 verify found differences, 2 usage, 11 restore "
	    "target exists,\n13 source missing, 17 no chain for incremental, 19 "
	    "path not in backup,\n20 no backup found, 21 volume hash mismatch, "
	    "22 bad signature, 23 locked,\n24 backup done but files skipped, "
	    "30 error, 31 encryption/passphrase,\n42 source mismatch, 50 "
	    "backend.\n", f);
}
