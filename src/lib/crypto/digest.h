/*
 * digest.h: message digests (SHA1 for volume hashes, MD5 for archive-dir
 * names), on libgcrypt.  With crypto/openpgp*.c (the built-in OpenPGP
 * engine) the only code that includes <gcrypt.h>.
 */
#ifndef ARCA_CRYPTO_DIGEST_H
#define ARCA_CRYPTO_DIGEST_H

#include <stddef.h>

/* SHA256: Dropbox's content_hash (backend/dropbox_api.c). */
enum arca_digest_algo {
	ARCA_DIGEST_SHA1, ARCA_DIGEST_MD5, ARCA_DIGEST_SHA256
};

/*
 * Initialise libgcrypt once per process (thread-safe), with a pool of
 * secure memory for keys.  Every user of libgcrypt calls it first.
 */
void arca_crypto_init(void);

struct arca_digest;

/* New digest context; NULL on failure. */
struct arca_digest *arca_digest_new(enum arca_digest_algo algo);
void arca_digest_update(struct arca_digest *d, const void *p, size_t n);
/* Lower-case hex of the digest into hex (at least 41 bytes, 65 for
 * SHA256); frees nothing. */
void arca_digest_hex(struct arca_digest *d, char *hex);
void arca_digest_free(struct arca_digest *d);

/* Hex digest of a whole buffer. */
int arca_digest_buffer(enum arca_digest_algo algo, const void *p, size_t n,
    char *hex);
/* Hex digest of fd's content from offset 0 (pread). 0 or ARCA_ERR_IO. */
int arca_digest_fd(enum arca_digest_algo algo, int fd, char *hex);

#endif /* !ARCA_CRYPTO_DIGEST_H */
