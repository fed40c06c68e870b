/*
 * gpg.h: OpenPGP through GnuPG (GPGME).  The only module that includes
 * <gpgme.h>.
 *
 * Symmetric mode encrypts with the passphrase like
 * `gpg --symmetric --force-mdc` (AES256, iterated+salted S2K, ZIP
 * compression), with loopback pinentry so nothing ever prompts, and with
 * gpg-agent's symmetric passphrase cache disabled (no-symkey-cache) so a
 * wrong passphrase is never accepted from the cache.
 *
 * Public-key mode encrypts to recipients (`--recipient`) and hidden
 * recipients (`--hidden-recipient`), optionally signing with a secret key
 * (`--default-key K --sign --encrypt`), as duplicity does (spec §4.3).
 */
#ifndef ARCA_CRYPTO_GPG_H
#define ARCA_CRYPTO_GPG_H

#include <stddef.h>

struct arca_ctx;
struct arca_gpg;

struct arca_gpg_opts {
	/* Symmetric passphrase, or the secret keys' passphrase for
	 * decryption.  Borrowed; the engine keeps a wiped copy. */
	const char *passphrase;
	/* The sign key's passphrase; NULL: use passphrase. */
	const char *sign_passphrase;
	const char *homedir;	/* GNUPGHOME override, NULL = default */
	/* NULL-terminated or NULL; no recipient at all means symmetric. */
	const char *const *recipients;
	const char *const *hidden_recipients;
	const char *sign_key;	/* NULL = no signing */
	const char *program;	/* gpg executable (or wrapper), NULL = GPGME's default */
	/*
	 * duplicity's --use-agent: no loopback pinentry and no passphrase
	 * from us; gpg-agent (its cache, or its pinentry) supplies them.
	 */
	int use_agent;
};

/*
 * New engine.  Copies the passphrases into memory that is wiped by
 * arca_gpg_free(); like gpg, only their first line counts.  Recipients
 * are looked up now (any name gpg accepts; the first usable key wins;
 * recipients must be trusted, as for duplicity's gpg --batch).  The sign
 * key must be known too; its secret part is needed only to encrypt (a
 * restore that checks signatures needs just its public key).
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

/* 1 if the engine encrypts to keys (public-key mode), 0 if symmetric. */
int arca_gpg_is_pubkey(const struct arca_gpg *g);

/*
 * Whether this keyring can decrypt what the engine encrypts: 1 if it holds
 * the secret part of an encryption subkey of a recipient (it may still
 * need a passphrase), 0 if not (or in symmetric mode), or a negative
 * ARCA_ERR_* with the message on ctx.
 */
int arca_gpg_have_secret(struct arca_gpg *g);

/*
 * Encrypt everything readable from in_fd (from its current offset to EOF)
 * into out_fd, signing it when the engine has a sign key.  `what` names
 * the file in messages.
 * Returns 0 or ARCA_ERR_CRYPTO / ARCA_ERR_IO / ARCA_ERR_AUTH (no
 * passphrase for symmetric mode, or a wrong or missing passphrase or
 * secret key for the sign key).
 */
int arca_gpg_encrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

/*
 * Decrypt in_fd into out_fd.  A wrong or missing passphrase, or a missing
 * secret key, is ARCA_ERR_AUTH (the message says which); damaged,
 * truncated or non-OpenPGP data is ARCA_ERR_CORRUPT; a failed or missing
 * MDC is ARCA_ERR_CORRUPT (unlike duplicity's --ignore-mdc-error).
 * Signatures are not checked.  Output is streamed: on failure out_fd may
 * already hold most of the (unauthenticated) plaintext, so callers write
 * to a temp file and use it only after a 0 return.
 */
int arca_gpg_decrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what);

/* What the signature check of a decryption found. */
enum arca_gpg_sigstate {
	ARCA_GPG_SIG_NONE,	/* not signed */
	ARCA_GPG_SIG_GOOD,	/* a good signature (gpg's GOODSIG) */
	ARCA_GPG_SIG_BAD,	/* a signature that does not match the data */
	ARCA_GPG_SIG_NOKEY,	/* signed by a key not in the keyring */
	ARCA_GPG_SIG_INVALID	/* expired or revoked key, other errors */
};

struct arca_gpg_sig {
	enum arca_gpg_sigstate state;
	/* Signer's fingerprint (or key id when the key is unknown), upper
	 * case hex, "" if none; primary: its primary key's, if known. */
	char fpr[41];
	char primary[41];
	char reason[96];	/* why INVALID, for messages */
};

/*
 * Like arca_gpg_decrypt_fd, and report the first good signature (or, when
 * there is none, the first signature found) in *sig.  Returns what
 * arca_gpg_decrypt_fd returns; *sig is meaningful only after 0.
 */
int arca_gpg_decrypt_verify_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what, struct arca_gpg_sig *sig);

/*
 * duplicity's rule for --sign-key on restore: the signer's key id must end
 * with the configured one, compared on the shorter length, ignoring case
 * and a leading "0x".  1 if `fpr` matches `want`, else 0.
 */
int arca_gpg_keyid_match(const char *fpr, const char *want);

/*
 * Refuse `what` unless sig is a good signature by the key `want`
 * (its signing subkey or primary key, arca_gpg_keyid_match).  Returns 0
 * or ARCA_ERR_SIGNATURE with a message naming the file and the keys.
 */
int arca_gpg_check_signer(struct arca_ctx *ctx, const struct arca_gpg_sig *sig,
    const char *want, const char *what);

#endif /* !ARCA_CRYPTO_GPG_H */
