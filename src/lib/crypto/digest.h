/*
 * digest.h: message digests (SHA1 for volume hashes, MD5 for archive-dir
 * names), on libgcrypt.  The only module that includes <gcrypt.h>.
 */
#ifndef ARCA_CRYPTO_DIGEST_H
#define ARCA_CRYPTO_DIGEST_H

#include <stddef.h>

enum arca_digest_algo { ARCA_DIGEST_SHA1, ARCA_DIGEST_MD5 };

struct arca_digest;

/* New digest context; NULL on failure. */
struct arca_digest *arca_digest_new(enum arca_digest_algo algo);
void arca_digest_update(struct arca_digest *d, const void *p, size_t n);
/* Lower-case hex of the digest into hex (at least 41 bytes); frees nothing. */
void arca_digest_hex(struct arca_digest *d, char *hex);
void arca_digest_free(struct arca_digest *d);

/* Hex digest of a whole buffer. */
int arca_digest_buffer(enum arca_digest_algo algo, const void *p, size_t n,
    char *hex);
/* Hex digest of fd's content from offset 0 (pread). 0 or ARCA_ERR_IO. */
int arca_digest_fd(enum arca_digest_algo algo, int fd, char *hex);

#endif /* !ARCA_CRYPTO_DIGEST_H */
