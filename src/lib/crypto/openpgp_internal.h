/*
 * openpgp_internal.h: what openpgp.c (engine, algorithms, key cache),
 * openpgp_write.c and openpgp_read.c share.  RFC 4880 numbers throughout.
 */
#ifndef ARCA_CRYPTO_OPENPGP_INTERNAL_H
#define ARCA_CRYPTO_OPENPGP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <gcrypt.h>

#include "crypto/openpgp.h"

/* Packet tags (RFC 4880 §4.3). */
enum {
	PGP_TAG_PKESK = 1,
	PGP_TAG_SIG = 2,
	PGP_TAG_SKESK = 3,
	PGP_TAG_OPS = 4,	/* one-pass signature */
	PGP_TAG_COMP = 8,
	PGP_TAG_SE = 9,		/* symmetrically encrypted, no MDC */
	PGP_TAG_MARKER = 10,
	PGP_TAG_LIT = 11,
	PGP_TAG_SEIPD = 18,	/* encrypted and integrity protected */
	PGP_TAG_MDC = 19,
	PGP_TAG_AEAD = 20	/* rfc4880bis, gpg 2.3+: not supported */
};

/* Algorithm numbers (RFC 4880 §9). */
enum { PGP_CIPHER_AES256 = 9 };
enum { PGP_HASH_SHA1 = 2, PGP_HASH_SHA256 = 8, PGP_HASH_SHA384 = 9,
	PGP_HASH_SHA512 = 10, PGP_HASH_SHA224 = 11 };
enum { PGP_COMP_NONE = 0, PGP_COMP_ZIP = 1, PGP_COMP_ZLIB = 2,
	PGP_COMP_BZIP2 = 3 };
enum { PGP_S2K_SIMPLE = 0, PGP_S2K_SALTED = 1, PGP_S2K_ITERATED = 3 };

/* What we write: S2K count 65011712 (the largest), SHA-256, AES-256. */
#define PGP_WRITE_COUNT_CODE	0xff
#define PGP_WRITE_HASH		PGP_HASH_SHA256
#define PGP_WRITE_CIPHER	PGP_CIPHER_AES256

#define PGP_MAX_KEYLEN		32
#define PGP_MAX_BLKLEN		16
/* SHA-1 MDC packet: 0xd3 0x14 and 20 bytes of hash. */
#define PGP_MDC_LEN		22

struct pgp_cipher {
	int id;			/* OpenPGP number */
	int gcry;		/* libgcrypt algorithm */
	size_t keylen;
	size_t blklen;
	const char *name;
};

/* The cipher with OpenPGP number id, or NULL if we do not know it. */
const struct pgp_cipher *pgp_cipher_find(int id);
/* libgcrypt's algorithm for OpenPGP hash number id, or 0. */
int pgp_hash_gcry(int id);

/* An S2K specifier (RFC 4880 §3.7.1). */
struct pgp_s2k {
	int type;		/* PGP_S2K_* */
	int hash;		/* OpenPGP hash number */
	unsigned char salt[8];
	unsigned char coded;	/* count octet (iterated only) */
};

/* The number of bytes an iterated S2K with count octet c hashes. */
uint32_t pgp_s2k_count(unsigned char c);

#define PGP_KC_MAX	32	/* derived keys an engine remembers */

struct pgp_kc {
	struct pgp_s2k s2k;
	size_t keylen;
	unsigned char *key;	/* secure memory; NULL = free slot */
	int verified;		/* decrypted a message whose MDC matched */
	uint64_t used;		/* clock of last use, for eviction */
};

struct arca_pgp {
	struct arca_ctx *ctx;
	unsigned char *pass;	/* secure memory, wiped on free */
	size_t passlen;
	int flags;
	int level;
	uint32_t max_count;
	pthread_mutex_t lock;	/* guards everything below */
	struct pgp_kc kc[PGP_KC_MAX];
	uint64_t clock;
	int have_wkey;		/* the writer's key is in wkey */
	struct pgp_s2k ws2k;
	unsigned char *wkey;	/* secure memory, PGP_MAX_KEYLEN */
	struct arca_pgp_stats st;
};

/*
 * The key S2K s derives from the passphrase, keylen bytes, into key
 * (caller's secure buffer): from the cache or derived now.  Returns 0,
 * ARCA_ERR_CRYPTO (unknown hash or S2K type, count over the limit; the
 * message names `what`) or ARCA_ERR_NOMEM.
 */
int pgp_key_get(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen,
    unsigned char *key, const char *what);
/* Remember that the key of (s, keylen) decrypted a message with an MDC. */
void pgp_key_verified(struct arca_pgp *p, const struct pgp_s2k *s,
    size_t keylen);
/*
 * The writer's passphrase key (PGP_MAX_KEYLEN bytes for AES-256) and its
 * S2K, derived once per engine; a verified cached key of the same
 * strength is reused instead.  0, ARCA_ERR_CRYPTO or ARCA_ERR_NOMEM.
 */
int pgp_writer_key(struct arca_pgp *p, struct pgp_s2k *s,
    unsigned char *key, const char *what);
/* Add the deflate counters of one written message. */
void pgp_stats_add(struct arca_pgp *p, uint64_t stored, uint64_t deflated);

/* Secure memory for n bytes; NULL when out of it. */
unsigned char *pgp_secure_alloc(size_t n);
/* Wipe n bytes at k and free them; NULL is a no-op. */
void pgp_secure_free(unsigned char *k, size_t n);

/*
 * The inner parser on its own: parse the packets of a decrypted message
 * (compressed, literal, signature packets) from src and write the literal
 * data to out.  For the fuzz target; arca_pgp_decrypt uses it after the
 * decryption layer.  0 or a negative arca_err naming `what`.
 */
int pgp_read_plain(struct arca_ctx *ctx, struct arca_source *src,
    struct arca_sink *out, const char *what);

#endif /* !ARCA_CRYPTO_OPENPGP_INTERNAL_H */
