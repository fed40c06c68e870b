/*
 * openpgp.c: the built-in OpenPGP engine: its lifecycle, the algorithm
 * tables, the passphrase key cache and the probe.  Writing is in
 * openpgp_write.c, reading in openpgp_read.c.
 *
 * The expensive step of passphrase encryption is the S2K derivation (gpg's
 * default hashes 65 MB).  An engine derives each (S2K, salt, count, hash,
 * key length) once and keeps the key in libgcrypt's secure memory, so a
 * restore of many volumes made in one run derives once, and a backup
 * derives once for all the files it writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "crypto/openpgp_internal.h"
#include "util/ctx.h"

static const struct pgp_cipher ciphers[] = {
	{ 1, GCRY_CIPHER_IDEA, 16, 8, "IDEA" },
	{ 2, GCRY_CIPHER_3DES, 24, 8, "3DES" },
	{ 3, GCRY_CIPHER_CAST5, 16, 8, "CAST5" },
	{ 4, GCRY_CIPHER_BLOWFISH, 16, 8, "BLOWFISH" },
	{ 7, GCRY_CIPHER_AES128, 16, 16, "AES" },
	{ 8, GCRY_CIPHER_AES192, 24, 16, "AES192" },
	{ 9, GCRY_CIPHER_AES256, 32, 16, "AES256" },
	{ 10, GCRY_CIPHER_TWOFISH, 32, 16, "TWOFISH" },
	{ 11, GCRY_CIPHER_CAMELLIA128, 16, 16, "CAMELLIA128" },
	{ 12, GCRY_CIPHER_CAMELLIA192, 24, 16, "CAMELLIA192" },
	{ 13, GCRY_CIPHER_CAMELLIA256, 32, 16, "CAMELLIA256" },
};

const struct pgp_cipher *
pgp_cipher_find(int id)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].id == id)
			/* A libgcrypt built without it cannot use it. */
			return gcry_cipher_test_algo(ciphers[i].gcry) == 0 ?
			    &ciphers[i] : NULL;
	return NULL;
}

int
pgp_hash_gcry(int id)
{
	int a;

	switch (id) {
	case 1: a = GCRY_MD_MD5; break;
	case PGP_HASH_SHA1: a = GCRY_MD_SHA1; break;
	case 3: a = GCRY_MD_RMD160; break;
	case PGP_HASH_SHA256: a = GCRY_MD_SHA256; break;
	case PGP_HASH_SHA384: a = GCRY_MD_SHA384; break;
	case PGP_HASH_SHA512: a = GCRY_MD_SHA512; break;
	case PGP_HASH_SHA224: a = GCRY_MD_SHA224; break;
	default: return 0;
	}
	return gcry_md_test_algo(a) == 0 ? a : 0;
}

uint32_t
pgp_s2k_count(unsigned char c)
{
	return (uint32_t)(16 + (c & 15)) << ((c >> 4) + 6);
}

unsigned char *
pgp_secure_alloc(size_t n)
{
	return gcry_malloc_secure(n > 0 ? n : 1);
}

void
pgp_secure_free(unsigned char *k, size_t n)
{
	if (k == NULL)
		return;
	explicit_bzero(k, n);
	gcry_free(k);
}

void
arca_pgp_opts_init(struct arca_pgp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->level = 1;
}

int
arca_pgp_new(struct arca_ctx *ctx, const struct arca_pgp_opts *o,
    struct arca_pgp **out)
{
	struct arca_pgp *p = NULL;
	size_t n;

	*out = NULL;
	arca_crypto_init();
	if (o->passphrase == NULL)
		return arca_error(ctx, ARCA_ERR_AUTH, "no passphrase for "
		    "OpenPGP encryption");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto nomem;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		p = NULL;
		goto nomem;
	}
	p->ctx = ctx;
	p->flags = o->flags;
	p->level = o->level;
	p->max_count = o->max_s2k_count;
	/* gpg reads a passphrase up to the end of its line. */
	n = strcspn(o->passphrase, "\n");
	if ((p->pass = pgp_secure_alloc(n)) == NULL ||
	    (p->wkey = pgp_secure_alloc(PGP_MAX_KEYLEN)) == NULL)
		goto nomem;
	memcpy(p->pass, o->passphrase, n);
	p->passlen = n;
	*out = p;
	return 0;
nomem:
	arca_pgp_free(p);
	return arca_error(ctx, ARCA_ERR_NOMEM, "out of (secure) memory for "
	    "OpenPGP keys");
}

void
arca_pgp_free(struct arca_pgp *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < PGP_KC_MAX; i++)
		pgp_secure_free(p->kc[i].key, p->kc[i].keylen);
	pgp_secure_free(p->pass, p->passlen);
	pgp_secure_free(p->wkey, PGP_MAX_KEYLEN);
	pthread_mutex_destroy(&p->lock);
	explicit_bzero(p, sizeof(*p));
	free(p);
}

static int
s2k_same(const struct pgp_s2k *a, const struct pgp_s2k *b)
{
	if (a->type != b->type || a->hash != b->hash)
		return 0;
	if (a->type != PGP_S2K_SIMPLE &&
	    memcmp(a->salt, b->salt, sizeof(a->salt)) != 0)
		return 0;
	return a->type != PGP_S2K_ITERATED || a->coded == b->coded;
}

/* The cache slot for (s, keylen), or NULL; called locked. */
static struct pgp_kc *
kc_find(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen)
{
	size_t i;

	for (i = 0; i < PGP_KC_MAX; i++)
		if (p->kc[i].key != NULL && p->kc[i].keylen == keylen &&
		    s2k_same(&p->kc[i].s2k, s))
			return &p->kc[i];
	return NULL;
}

/* Run the S2K; called locked (one derivation at a time is plenty). */
static int
derive(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen,
    unsigned char *key, const char *what)
{
	unsigned long iter = 0;
	int algo, md, e;

	if ((md = pgp_hash_gcry(s->hash)) == 0)
		return arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: unsupported "
		    "hash algorithm %d in the passphrase packet", what,
		    s->hash);
	switch (s->type) {
	case PGP_S2K_SIMPLE:
		algo = GCRY_KDF_SIMPLE_S2K;
		break;
	case PGP_S2K_SALTED:
		algo = GCRY_KDF_SALTED_S2K;
		break;
	case PGP_S2K_ITERATED:
		algo = GCRY_KDF_ITERSALTED_S2K;
		iter = pgp_s2k_count(s->coded);
		if (p->max_count != 0 && iter > p->max_count)
			return arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: S2K "
			    "count %lu is over the limit %lu", what, iter,
			    (unsigned long)p->max_count);
		break;
	default:
		return arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: unsupported "
		    "S2K mode %d in the passphrase packet", what, s->type);
	}
	/* gpg refuses an empty passphrase too (and so does libgcrypt). */
	if (p->passlen == 0)
		return arca_error(p->ctx, ARCA_ERR_AUTH, "%s: the passphrase "
		    "is empty", what);
	e = gcry_kdf_derive(p->pass, p->passlen, algo, md,
	    s->type == PGP_S2K_SIMPLE ? NULL : s->salt,
	    s->type == PGP_S2K_SIMPLE ? 0 : sizeof(s->salt), iter, keylen,
	    key);
	if (e != 0)
		return arca_error(p->ctx, gcry_err_code(e) == GPG_ERR_ENOMEM ?
		    ARCA_ERR_NOMEM : ARCA_ERR_CRYPTO, "%s: passphrase key "
		    "derivation failed: %s", what, gcry_strerror(e));
	p->st.derivations++;
	return 0;
}

/* Keep a derived key; evicts the least recently used.  Called locked. */
static void
kc_add(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen,
    const unsigned char *key, int verified)
{
	struct pgp_kc *k = &p->kc[0];
	unsigned char *copy;
	size_t i;

	for (i = 0; i < PGP_KC_MAX; i++) {
		if (p->kc[i].key == NULL) {
			k = &p->kc[i];
			break;
		}
		if (p->kc[i].used < k->used)
			k = &p->kc[i];
	}
	/* Out of secure memory: not caching only costs time. */
	if ((copy = pgp_secure_alloc(keylen)) == NULL)
		return;
	pgp_secure_free(k->key, k->keylen);
	memcpy(copy, key, keylen);
	k->key = copy;
	k->keylen = keylen;
	k->s2k = *s;
	k->verified = verified;
	k->used = ++p->clock;
}

int
pgp_key_get(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen,
    unsigned char *key, const char *what)
{
	struct pgp_kc *k;
	int r = 0;

	if (keylen == 0 || keylen > PGP_MAX_KEYLEN)
		return arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: bad key "
		    "length %zu", what, keylen);
	pthread_mutex_lock(&p->lock);
	if ((k = kc_find(p, s, keylen)) != NULL) {
		memcpy(key, k->key, keylen);
		k->used = ++p->clock;
		p->st.cache_hits++;
	} else if ((r = derive(p, s, keylen, key, what)) == 0)
		kc_add(p, s, keylen, key, 0);
	pthread_mutex_unlock(&p->lock);
	return r;
}

void
pgp_key_verified(struct arca_pgp *p, const struct pgp_s2k *s, size_t keylen)
{
	struct pgp_kc *k;

	pthread_mutex_lock(&p->lock);
	if ((k = kc_find(p, s, keylen)) != NULL)
		k->verified = 1;
	pthread_mutex_unlock(&p->lock);
}

/*
 * A cached key the writer may use instead of deriving: one that decrypted
 * a whole message (so the passphrase is right for it) and is as strong as
 * ours: iterated, a SHA-2 hash, the largest count, an AES-256 key.
 */
static struct pgp_kc *
kc_strong(struct arca_pgp *p)
{
	struct pgp_kc *k;
	size_t i;

	for (i = 0; i < PGP_KC_MAX; i++) {
		k = &p->kc[i];
		if (k->key != NULL && k->verified &&
		    k->keylen == PGP_MAX_KEYLEN &&
		    k->s2k.type == PGP_S2K_ITERATED &&
		    k->s2k.coded >= PGP_WRITE_COUNT_CODE &&
		    (k->s2k.hash == PGP_HASH_SHA256 ||
		    k->s2k.hash == PGP_HASH_SHA384 ||
		    k->s2k.hash == PGP_HASH_SHA512))
			return k;
	}
	return NULL;
}

int
pgp_writer_key(struct arca_pgp *p, struct pgp_s2k *s, unsigned char *key,
    const char *what)
{
	struct pgp_kc *k;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (!p->have_wkey) {
		if ((k = kc_strong(p)) != NULL) {
			p->ws2k = k->s2k;
			memcpy(p->wkey, k->key, PGP_MAX_KEYLEN);
			p->st.cache_hits++;
		} else {
			p->ws2k.type = PGP_S2K_ITERATED;
			p->ws2k.hash = PGP_WRITE_HASH;
			p->ws2k.coded = PGP_WRITE_COUNT_CODE;
			gcry_randomize(p->ws2k.salt, sizeof(p->ws2k.salt),
			    GCRY_STRONG_RANDOM);
			if ((r = derive(p, &p->ws2k, PGP_MAX_KEYLEN, p->wkey,
			    what)) != 0)
				goto out;
			/* Our own files read back without deriving. */
			kc_add(p, &p->ws2k, PGP_MAX_KEYLEN, p->wkey, 1);
		}
		p->have_wkey = 1;
	}
	*s = p->ws2k;
	memcpy(key, p->wkey, PGP_MAX_KEYLEN);
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

void
pgp_stats_add(struct arca_pgp *p, uint64_t stored, uint64_t deflated)
{
	pthread_mutex_lock(&p->lock);
	p->st.stored_blocks += stored;
	p->st.deflated_blocks += deflated;
	pthread_mutex_unlock(&p->lock);
}

void
arca_pgp_stats(struct arca_pgp *p, struct arca_pgp_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

/*
 * The probe reads a few packet headers with pread.  Leading packets are
 * few and small (markers, key packets); 4 KiB sees them all in practice.
 */
#define PROBE_LEN	4096
#define PROBE_PKTS	16

int
arca_pgp_probe_fd(int fd)
{
	unsigned char b[PROBE_LEN];
	size_t n = 0, i = 0, len;
	ssize_t r;
	int tag, k;

	while (n < sizeof(b)) {
		r = pread(fd, b + n, sizeof(b) - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ARCA_ERR_IO;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	for (k = 0; k < PROBE_PKTS && i < n; k++) {
		if (!(b[i] & 0x80))
			return 0;
		if (b[i] & 0x40) {
			tag = b[i] & 0x3f;
			if (++i >= n)
				return 0;
			if (b[i] < 192) {
				len = b[i];
				i += 1;
			} else if (b[i] < 224) {
				if (i + 1 >= n)
					return 0;
				len = ((size_t)(b[i] - 192) << 8) + b[i + 1] +
				    192;
				i += 2;
			} else if (b[i] == 255) {
				if (i + 4 >= n)
					return 0;
				len = (size_t)b[i + 1] << 24 |
				    (size_t)b[i + 2] << 16 |
				    (size_t)b[i + 3] << 8 | b[i + 4];
				i += 5;
			} else
				return 0;	/* partial: data, not keys */
		} else {
			tag = (b[i] >> 2) & 15;
			switch (b[i] & 3) {
			case 0:
				if (i + 1 >= n)
					return 0;
				len = b[i + 1];
				i += 2;
				break;
			case 1:
				if (i + 2 >= n)
					return 0;
				len = (size_t)b[i + 1] << 8 | b[i + 2];
				i += 3;
				break;
			case 2:
				if (i + 4 >= n)
					return 0;
				len = (size_t)b[i + 1] << 24 |
				    (size_t)b[i + 2] << 16 |
				    (size_t)b[i + 3] << 8 | b[i + 4];
				i += 5;
				break;
			default:
				return 0;
			}
		}
		if (tag == PGP_TAG_SKESK)
			return 1;
		if (tag != PGP_TAG_PKESK && tag != PGP_TAG_MARKER)
			return 0;
		if (len > n - i)
			return 0;
		i += len;
	}
	return 0;
}
