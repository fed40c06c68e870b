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
};

/*
 * New engine.  Copies the passphrase into memory that is wiped by
 * arca_gpg_free().  Returns 0, ARCA_ERR_CRYPTO (GnuPG unusable, message on
 * ctx) or ARCA_ERR_NOMEM.
 */
int arca_gpg_new(struct arca_ctx *ctx, const struct arca_gpg_opts *o,
    struct arca_gpg **out);
void arca_gpg_free(struct arca_gpg *g);

/*
 * Encrypt everything readable from in_fd (from its current offset to EOF)
 * into out_fd.  `what` names the file in messages.
 * Returns 0 or ARCA_ERR_CRYPTO / ARCA_ERR_IO.
 */
int arca_gpg_encrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

/*
 * Decrypt in_fd into out_fd.  A wrong passphrase or missing secret key is
 * ARCA_ERR_AUTH ("wrong passphrase for FILE"); damaged or truncated data is
 * ARCA_ERR_CORRUPT; a failed MDC check is ARCA_ERR_CORRUPT.  On failure the
 * content of out_fd is unspecified (callers write to a temp file).
 */
int arca_gpg_decrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

#endif /* !ARCA_CRYPTO_GPG_H */
