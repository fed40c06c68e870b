/*
 * openpgp.h: the built-in OpenPGP engine for passphrase (symmetric) mode,
 * on libgcrypt, ISA-L deflate and libbz2.  docs/FORMAT.md ("OpenPGP
 * written by the built-in engine") states what it writes and why.
 *
 * Writing: SKESK v4 (iterated+salted S2K, SHA-256, the largest count)
 * carrying a random per-file AES-256 session key, SEIPD with MDC, a ZIP
 * (raw deflate) compressed packet whose 64 KiB blocks are stored when they
 * do not shrink, and a binary literal packet, with partial body lengths:
 * what `gpg --symmetric` reads.  The passphrase key is derived once per
 * engine, so a whole run pays for one derivation.
 *
 * Reading: what gpg 2.2 writes for passphrase encryption, with any cipher
 * (IDEA, 3DES, CAST5, Blowfish, AES, Twofish, Camellia), S2K mode 0, 1 or
 * 3 with any hash, any count, compression none, ZIP, ZLIB or BZip2, old or
 * new packet headers, and SKESK packets with or without an encrypted
 * session key.  The MDC is always checked; a message without one (the old
 * SE packet) is refused unless the engine allows it.  Keys derived from
 * the passphrase are cached per (S2K, salt, count, hash), so volumes made
 * in one run derive once.
 *
 * Public-key encryption and signing stay with GnuPG (crypto/gpg.c).
 * Keys live in libgcrypt's secure memory and are wiped when freed; the
 * passphrase never appears in a message.
 */
#ifndef ARCA_CRYPTO_OPENPGP_H
#define ARCA_CRYPTO_OPENPGP_H

#include <stdint.h>

struct arca_ctx;
struct arca_pgp;
struct arca_sink;
struct arca_source;

/* Flags of struct arca_pgp_opts. */
#define ARCA_PGP_ALLOW_NO_MDC	0x1	/* decrypt messages without an MDC
					 * (old SE packets): unauthenticated */
#define ARCA_PGP_NO_COMPRESS	0x2	/* write the literal packet directly
					 * into the encrypted packet */
#define ARCA_PGP_NO_STORE	0x4	/* never store incompressible blocks
					 * (benchmarks) */

struct arca_pgp_opts {
	const char *passphrase;	/* borrowed; like gpg, only its first line */
	int flags;		/* ARCA_PGP_* */
	int level;		/* ISA-L deflate level, 0..3 */
	/*
	 * Refuse S2K counts above this when reading (0 = any the format
	 * allows, up to 65011712): the fuzz target keeps runs short.
	 */
	uint32_t max_s2k_count;
};

/* Defaults: no passphrase, no flags, ISA-L level 1, any count. */
void arca_pgp_opts_init(struct arca_pgp_opts *o);

/*
 * New engine; messages go to ctx.  Copies the passphrase (its first line)
 * into secure memory.  Nothing is derived yet.  Returns 0, ARCA_ERR_AUTH
 * (no passphrase) or ARCA_ERR_NOMEM.
 *
 * Calls may overlap from several threads (the key cache is locked), but
 * they share ctx for messages: give each thread its own engine when the
 * messages matter, or serialise.
 */
int arca_pgp_new(struct arca_ctx *ctx, const struct arca_pgp_opts *o,
    struct arca_pgp **out);
/* Wipe and free every key; NULL is a no-op. */
void arca_pgp_free(struct arca_pgp *p);

/*
 * A sink that encrypts what it receives as one OpenPGP message written to
 * next (borrowed, not closed).  The message is complete after close().
 * `what` (borrowed, kept) names the file in messages.  The first call on
 * an engine derives the passphrase key (about 0.1 s) unless a key checked
 * by an earlier decryption with the same strength can be reused.
 * Returns 0, ARCA_ERR_NOMEM or ARCA_ERR_CRYPTO.
 */
int arca_pgp_encrypt_sink(struct arca_pgp *p, struct arca_sink *next,
    const char *what, struct arca_sink **out);

/* Encrypt in_fd (from its offset to EOF) into out_fd.  0 or an arca_err. */
int arca_pgp_encrypt_fd(struct arca_pgp *p, int in_fd, int out_fd,
    const char *what);

/*
 * Decrypt the message read from in into out (both borrowed; out is not
 * closed).  Returns 0 only when the message was complete and its MDC
 * matched.  Errors, each naming `what`:
 *   ARCA_ERR_AUTH     wrong passphrase
 *   ARCA_ERR_CORRUPT  not OpenPGP, truncated, damaged, MDC mismatch
 *                     (tampering), or no MDC without ARCA_PGP_ALLOW_NO_MDC
 *   ARCA_ERR_CRYPTO   unsupported algorithm or packet version, or a
 *                     message encrypted only to public keys
 *   ARCA_ERR_IO, ARCA_ERR_NOMEM, or what in or out returned.
 * Output is streamed: on failure out may already have received most of
 * the (unauthenticated) plaintext, so use it only after a 0 return.
 */
int arca_pgp_decrypt(struct arca_pgp *p, struct arca_source *in,
    struct arca_sink *out, const char *what);

/* Decrypt in_fd (from its offset) into out_fd; as arca_pgp_decrypt. */
int arca_pgp_decrypt_fd(struct arca_pgp *p, int in_fd, int out_fd,
    const char *what);

/*
 * Look at the start of the OpenPGP message in fd (pread from offset 0):
 * 1 if a passphrase packet (SKESK) comes before the encrypted data, so
 * this engine can try it; 0 if not (public keys only, or not OpenPGP);
 * ARCA_ERR_IO if fd cannot be read.
 */
int arca_pgp_probe_fd(int fd);

/* Counters of an engine, for tests and benchmarks. */
struct arca_pgp_stats {
	uint64_t derivations;	/* S2K runs (the expensive part) */
	uint64_t cache_hits;	/* keys found already derived */
	uint64_t stored_blocks;	/* deflate blocks written stored */
	uint64_t deflated_blocks;	/* deflate blocks written compressed */
};
void arca_pgp_stats(struct arca_pgp *p, struct arca_pgp_stats *st);

#endif /* !ARCA_CRYPTO_OPENPGP_H */
