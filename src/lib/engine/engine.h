/*
 * engine.h: what every command shares: the target's backend, the archive
 * dir (local cache) and its lock, a private temp dir, the OpenPGP engine,
 * and the collection computed from both listings.
 */
#ifndef ARCA_ENGINE_ENGINE_H
#define ARCA_ENGINE_ENGINE_H

#include <stdint.h>

#include "arca/arca.h"
#include "format/filename.h"
#include "util/buf.h"

struct arca_ctx;
struct arca_backend;
struct arca_gpg;
struct arca_pgp;
struct arca_sink;
struct arca_collection;

struct arca_engine {
	struct arca_ctx *ctx;
	const struct arca_options *o;
	struct arca_fprefix pfx;
	struct arca_backend *be;
	struct arca_gpg *gpg;	/* created on first use */
	struct arca_pgp *pgp;	/* the built-in OpenPGP engine, ditto */
	char *archdir;		/* this target's archive dir */
	int archdir_fd;
	int lock_fd;
	char *tempdir;		/* private temp dir of this run */
	unsigned long tmpseq;
	struct arca_strlist remote;	/* remote names */
	struct arca_strlist local;	/* archive dir names */
	struct arca_collection *col;
	int complete_only;	/* ARCA_ENGINE_COMPLETE */
};

/* What a file written to the target holds, for choosing its container. */
enum arca_payload { ARCA_PAYLOAD_VOLUME, ARCA_PAYLOAD_MANIFEST,
	ARCA_PAYLOAD_SIGNATURES };

#define ARCA_ENGINE_CREATE 0x1	/* create a missing target (backups) */
#define ARCA_ENGINE_NOLOCK 0x2	/* do not lock the archive dir */
/*
 * Leave interrupted backups (the archive dir's ".part" names) out of the
 * collection: their sets become incomplete and no chain ends with one.
 * For commands that must only see complete backups (retention; restore
 * and listing should too, or "latest" picks a half-written set).
 */
#define ARCA_ENGINE_COMPLETE 0x4

/*
 * Open the target and archive dir, take the lock, list both sides and build
 * the collection.  Returns 0 or a negative arca_err with the message on ctx.
 */
int arca_engine_open(struct arca_ctx *ctx, const struct arca_options *o,
    int flags, struct arca_engine **out);
void arca_engine_close(struct arca_engine *e);

/* Re-list both sides and rebuild e->col. */
int arca_engine_refresh(struct arca_engine *e);

/* Bring the archive dir in step with the target (§14.2). */
int arca_engine_sync_cache(struct arca_engine *e);

/* The OpenPGP engine, created on first call; ARCA_ERR_AUTH without passphrase/keys. */
int arca_engine_gpg(struct arca_engine *e, struct arca_gpg **out);

/*
 * The built-in OpenPGP engine (crypto/openpgp.h), created on first call,
 * when it serves this run: passphrase mode, --gpg-engine not gnupg, and no
 * option that only GnuPG serves (--encrypt-key, --sign-key, --use-agent,
 * --gpg-options, --gpg-binary) and a passphrase.  Returns 0 with *out
 * NULL when GnuPG serves; with --gpg-engine=builtin, ARCA_ERR_USAGE for
 * such an option and ARCA_ERR_AUTH without a passphrase.
 */
int arca_engine_pgp(struct arca_engine *e, struct arca_pgp **out);

/*
 * 1 when the run encrypts to public keys (--encrypt-key,
 * --hidden-encrypt-key) and this keyring holds no secret key of theirs, so
 * what the target holds cannot be decrypted here; 0 otherwise (symmetric,
 * --no-encryption, or a secret key is here), or a negative arca_err.
 */
int arca_engine_pubkey_only(struct arca_engine *e);

/*
 * A new temp file in the run's temp dir: *fd open O_RDWR, *path owned by the
 * caller (unlink and free it).  tag names it for debugging.
 */
int arca_engine_tmpfile(struct arca_engine *e, const char *tag, char **path,
    int *fd);

/*
 * Encrypt or decrypt in_fd (from offset 0) into out_fd with the OpenPGP
 * engine this run uses (arca_engine_pgp, else GnuPG); no signature checks.
 * `what` names the file in messages.
 */
int arca_engine_encrypt_fd(struct arca_engine *e, int in_fd, int out_fd,
    const char *what);
int arca_engine_decrypt_fd(struct arca_engine *e, int in_fd, int out_fd,
    const char *what);

/* Encode plaintext in_fd (from offset 0) into out_fd with the container the
 * options choose for this payload: gpg, gzip or plain. */
int arca_engine_encode(struct arca_engine *e, enum arca_payload kind,
    int in_fd, int out_fd, const char *what);

/*
 * The same containers as a sink chain: *enc takes the plaintext and writes
 * the container to out (borrowed, not closed); close *enc, then out.  A
 * plain payload gets *enc = NULL: write to out.  Returns 0, a negative
 * error, or 1 when GnuPG must make this container (public keys,
 * --sign-key): it writes to fds only, so use arca_engine_encode.  Creates
 * the OpenPGP engine on first use: call it once on the main thread first
 * (arca_engine_pgp's rule).
 */
int arca_engine_encoder(struct arca_engine *e, enum arca_payload kind,
    struct arca_sink *out, const char *what, struct arca_sink **enc);

/* Decode in_fd (from offset 0) into out_fd, the container chosen by the
 * remote name's suffix (.gpg, gz, none). */
int arca_engine_decode(struct arca_engine *e, const char *name, int in_fd,
    int out_fd);

/* Download remote name and decode it into out_fd (truncated first). */
int arca_engine_fetch_plain(struct arca_engine *e, const char *name,
    int out_fd);

/* Open an archive-dir file (read-only); returns fd or negative arca_err. */
int arca_engine_open_cached(struct arca_engine *e, const char *name);

/* The container suffix flags the current options give new files. */
void arca_engine_fname_flags(const struct arca_engine *e,
    enum arca_payload kind, struct arca_fname *f);

/* Read a whole (small) fd into buf, refusing more than max bytes. */
int arca_read_fd_all(struct arca_ctx *ctx, int fd, size_t max,
    struct arca_buf *buf, const char *what);

/* Copy in_fd (from offset 0) to out_fd. */
int arca_copy_fd(struct arca_ctx *ctx, int in_fd, int out_fd, const char *what);

/*
 * Report a member name that arca_member_parse refused (code r) in file
 * `file` of kind `what` ("volume", "signature file"); returns r.
 */
int arca_member_refused(struct arca_ctx *ctx, int r, const char *what,
    const char *file, const char *member);

/* Build the selection (--include, --exclude, ...) for o->local. */
struct arca_selection;
int arca_engine_selection(struct arca_ctx *ctx, const struct arca_options *o,
    struct arca_selection **out);

#endif /* !ARCA_ENGINE_ENGINE_H */
