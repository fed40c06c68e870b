/*
 * digest.c: SHA1 and MD5 through libgcrypt.
 */
#include <errno.h>
#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arca/arca_error.h"
#include "crypto/digest.h"

struct arca_digest {
	gcry_md_hd_t hd;
	int algo;
};

/* Room for the keys of crypto/openpgp*.c: about 100 cipher handles. */
#define SECMEM_SIZE	(256 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_lib(void)
{
	gcry_check_version(NULL);
	/*
	 * Secure memory is mlocked where the limits allow; elsewhere gcrypt
	 * falls back to plain memory, quietly: the library never prints.
	 */
	gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
	gcry_control(GCRYCTL_INIT_SECMEM, SECMEM_SIZE, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

void
arca_crypto_init(void)
{
	pthread_once(&init_once, init_lib);
}

static void
digest_init_lib(void)
{
	arca_crypto_init();
}

static int
gcry_algo(enum arca_digest_algo a)
{
	return a == ARCA_DIGEST_MD5 ? GCRY_MD_MD5 : a == ARCA_DIGEST_SHA256 ?
	    GCRY_MD_SHA256 : GCRY_MD_SHA1;
}

struct arca_digest *
arca_digest_new(enum arca_digest_algo algo)
{
	struct arca_digest *d;

	digest_init_lib();
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->algo = gcry_algo(algo);
	if (gcry_md_open(&d->hd, d->algo, 0) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

void
arca_digest_update(struct arca_digest *d, const void *p, size_t n)
{
	gcry_md_write(d->hd, p, n);
}

static void
to_hex(const unsigned char *b, size_t n, char *hex)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = x[b[i] >> 4];
		hex[2 * i + 1] = x[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

void
arca_digest_hex(struct arca_digest *d, char *hex)
{
	to_hex(gcry_md_read(d->hd, d->algo), gcry_md_get_algo_dlen(d->algo),
	    hex);
}

void
arca_digest_free(struct arca_digest *d)
{
	if (d == NULL)
		return;
	gcry_md_close(d->hd);
	free(d);
}

int
arca_digest_buffer(enum arca_digest_algo algo, const void *p, size_t n,
    char *hex)
{
	unsigned char out[64];
	int a = gcry_algo(algo);

	digest_init_lib();
	gcry_md_hash_buffer(a, out, p, n);
	to_hex(out, gcry_md_get_algo_dlen(a), hex);
	return 0;
}

int
arca_digest_fd(enum arca_digest_algo algo, int fd, char *hex)
{
	struct arca_digest *d;
	unsigned char buf[65536];
	off_t off = 0;
	ssize_t r;

	if ((d = arca_digest_new(algo)) == NULL)
		return ARCA_ERR_NOMEM;
	for (;;) {
		r = pread(fd, buf, sizeof(buf), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			arca_digest_free(d);
			return ARCA_ERR_IO;
		}
		if (r == 0)
			break;
		arca_digest_update(d, buf, (size_t)r);
		off += r;
	}
	arca_digest_hex(d, hex);
	arca_digest_free(d);
	return 0;
}
