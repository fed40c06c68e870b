/*
 * gpg.h: OpenPGP through GnuPG (GPGME).  The only module that includes
 * <gpgme.h>.
 *
 * Symmetric mode encrypts with the passphrase like
 * `gpg --symmetric --force-mdc` (AES256, iterated+salted S2K, ZIP
 * compression), with loopback pinentry so nothing ever prompts, and with
 * gpg-agent's symmetric passphrase cache disabled (no-symkey-cache) so a
 * wrong passphrase is never accepted from the cache.
 */
#ifndef ARCA_CRYPTO_GPG_H
#define ARCA_CRYPTO_GPG_H

#include <stddef.h>

struct arca_ctx;
struct arca_gpg;

struct arca_gpg_opts {
	const char *passphrase;	/* borrowed; the engine keeps a wiped copy */
	const char *homedir;	/* GNUPGHOME override, NULL = default */
	const char *const *recipients;	/* NULL-terminated or NULL: symmetric */
	const char *sign_key;	/* NULL = no signing */
	const char *program;	/* gpg executable (or wrapper), NULL = GPGME's default */
};

/*
 * New engine.  Copies the passphrase into memory that is wiped by
 * arca_gpg_free(); like gpg, only its first line counts.  Recipients and
 * sign_key are looked up now (any name gpg accepts; the first usable key
 * wins; recipients must be trusted, as for duplicity's gpg --batch).
 * Returns 0, ARCA_ERR_CRYPTO (GPGME < 1.11 or gpg < 2.2.7 or missing:
 * message on ctx), ARCA_ERR_AUTH (no usable key for a recipient or the
 * sign key) or ARCA_ERR_NOMEM.
 *
 * Each call runs one gpg process (gpg-agent is started on demand for the
 * home, and keeps running: stop it with `gpgconf --homedir D --kill
 * gpg-agent` when the home is temporary).  Calls on one engine must not
 * overlap (messages go to its ctx): use one engine per thread.
 */
int arca_gpg_new(struct arca_ctx *ctx, const struct arca_gpg_opts *o,
    struct arca_gpg **out);
void arca_gpg_free(struct arca_gpg *g);

/*
 * Encrypt everything readable from in_fd (from its current offset to EOF)
 * into out_fd.  `what` names the file in messages.
 * Returns 0 or ARCA_ERR_CRYPTO / ARCA_ERR_IO / ARCA_ERR_AUTH (wrong
 * passphrase for the sign key) / ARCA_ERR_USAGE (symmetric without a
 * passphrase).
 */
int arca_gpg_encrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

/*
 * Decrypt in_fd into out_fd.  A wrong passphrase or missing secret key is
 * ARCA_ERR_AUTH ("wrong passphrase or missing secret key for FILE");
 * damaged, truncated or non-OpenPGP data is ARCA_ERR_CORRUPT; a failed or
 * missing MDC is ARCA_ERR_CORRUPT (unlike duplicity's --ignore-mdc-error).
 * Signatures are not checked yet.  Output is streamed: on failure out_fd
 * may already hold most of the (unauthenticated) plaintext, so callers
 * write to a temp file and use it only after a 0 return.
 */
int arca_gpg_decrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

#endif /* !ARCA_CRYPTO_GPG_H */
