/*
 * arca.h: libarca's public interface, used by the arca command.
 *
 * A command is run by filling struct arca_options and calling one of the
 * arca_run_*() functions with a context.  They return 0 or a negative
 * enum arca_err; the message is in arca_ctx_errmsg().
 */
#ifndef ARCA_H
#define ARCA_H

#include <stddef.h>
#include <stdint.h>

#include "arca/arca_error.h"
#include "arca/arca_progress.h"

struct arca_ctx;

/* Selection options, kept in command-line order. */
enum arca_selkind {
	ARCA_SELOPT_INCLUDE,
	ARCA_SELOPT_EXCLUDE,
	ARCA_SELOPT_INCLUDE_FILELIST,
	ARCA_SELOPT_EXCLUDE_FILELIST,
	ARCA_SELOPT_INCLUDE_REGEXP,
	ARCA_SELOPT_EXCLUDE_REGEXP,
	ARCA_SELOPT_EXCLUDE_IF_PRESENT,
	ARCA_SELOPT_EXCLUDE_DEVICE_FILES,
	ARCA_SELOPT_EXCLUDE_OTHER_FILESYSTEMS,
	ARCA_SELOPT_EXCLUDE_OLDER_THAN
};

struct arca_selopt {
	enum arca_selkind kind;
	const char *arg;	/* pattern, file, name or time; NULL if none */
};

enum arca_backup_mode { ARCA_BACKUP_AUTO, ARCA_BACKUP_FULL, ARCA_BACKUP_INC };

/* Who does passphrase (symmetric) OpenPGP: --gpg-engine. */
enum arca_gpg_engine {
	ARCA_GPG_ENGINE_AUTO,		/* built-in, unless an option needs GnuPG */
	ARCA_GPG_ENGINE_BUILTIN,	/* built-in; refuse options it cannot serve */
	ARCA_GPG_ENGINE_GNUPG		/* GnuPG through GPGME, always */
};

struct arca_options {
	const char *url;		/* target URL */
	const char *local;		/* backup source, or restore/verify directory */
	const char *archive_dir;	/* --archive-dir base (NULL: XDG cache) */
	const char *name;		/* --name (NULL: md5 of url) */
	const char *tempdir;		/* --tempdir (NULL: $TMPDIR or /tmp) */
	uint64_t volsize;		/* bytes (default 200 MiB) */
	int encrypt;			/* 0 = --no-encryption */
	int compress;			/* 0 = --no-compression */
	const char *passphrase;		/* borrowed, may be NULL */
	const char *sign_passphrase;
	const char *const *encrypt_keys;	/* NULL-terminated or NULL */
	const char *const *hidden_keys;
	const char *sign_key;		/* hex key id: sign, and check on restore */
	const char *encrypt_secret_keyring;	/* accepted; no effect on GnuPG 2.1+ */
	int use_agent;			/* passphrases from gpg-agent, not env */
	const char *gpg_options;	/* extra words for gpg */
	const char *gpg_binary;		/* gpg program, NULL = "gpg" on PATH */
	const char *gpg_homedir;
	enum arca_gpg_engine gpg_engine;	/* --gpg-engine */
	int allow_no_mdc;		/* read OpenPGP files without an MDC */
	int64_t now;			/* the current time */
	int64_t current_time;		/* --current-time, -1 if not given */
	int64_t restore_time;		/* --time, -1 if not given */
	const char *path_to_restore;	/* -r, NULL for everything */
	int force;
	int dry_run;
	int allow_source_mismatch;
	int ignore_errors;
	int compare_data;
	int64_t full_if_older_than;	/* 0 if not given */
	size_t max_blocksize;
	int num_retries;
	double retry_delay;
	const struct arca_selopt *sel;
	size_t nsel;
	const char *file_prefix;
	const char *file_prefix_archive;
	const char *file_prefix_manifest;
	const char *file_prefix_signature;
	int numeric_owner;
	int no_restore_ownership;
	int no_print_statistics;	/* no statistics block after a backup */
	int json;			/* machine-readable output (--json) */
	/*
	 * --concurrency: 1 does everything on one thread (a backup builds,
	 * encrypts and uploads each volume in turn; a restore decrypts each
	 * volume before reading it); 0 (default, as 3) or N uses N - 1
	 * sender threads (the next volume is built while earlier ones are
	 * compressed, encrypted and uploaded) and a restore thread (a
	 * volume is decrypted while its files are written).
	 */
	int concurrency;
	/* Backend options ("name=value" or "name"), NULL-terminated or NULL. */
	const char *const *backend_options;
};

/* Set defaults: volsize 200 MiB, encrypt and compress on, times -1, ... */
void arca_options_init(struct arca_options *o);

/* Contexts. */
typedef void arca_log_cb(void *ud, int level, const char *msg);
typedef void arca_out_cb(void *ud, const char *text, size_t len);
struct arca_ctx *arca_ctx_new(void);
void arca_ctx_free(struct arca_ctx *ctx);
void arca_ctx_set_log(struct arca_ctx *ctx, int verbosity, arca_log_cb *cb,
    void *ud);
void arca_ctx_set_out(struct arca_ctx *ctx, arca_out_cb *cb, void *ud);
const char *arca_ctx_errmsg(const struct arca_ctx *ctx);
unsigned long arca_ctx_warnings(const struct arca_ctx *ctx);

/* Commands.  Each returns 0 or a negative enum arca_err. */
int arca_run_backup(struct arca_ctx *ctx, const struct arca_options *o,
    enum arca_backup_mode mode);
int arca_run_restore(struct arca_ctx *ctx, const struct arca_options *o);
int arca_run_verify(struct arca_ctx *ctx, const struct arca_options *o);
int arca_run_collection_status(struct arca_ctx *ctx,
    const struct arca_options *o);
int arca_run_list_current_files(struct arca_ctx *ctx,
    const struct arca_options *o);

/*
 * Retention (duplicity's remove-older-than, remove-all-but-n-full,
 * remove-all-inc-of-but-n-full, cleanup).  Without o->force they only
 * list what they would delete (cleanup still removes a trailing
 * interrupted backup).  n must be at least 1.
 */
int arca_run_remove_older_than(struct arca_ctx *ctx,
    const struct arca_options *o, int64_t t);
int arca_run_remove_all_but_n_full(struct arca_ctx *ctx,
    const struct arca_options *o, unsigned n);
int arca_run_remove_all_inc_of_but_n_full(struct arca_ctx *ctx,
    const struct arca_options *o, unsigned n);
int arca_run_cleanup(struct arca_ctx *ctx, const struct arca_options *o);

#endif /* !ARCA_H */
