/*
 * openpgp_write.c: writing passphrase-encrypted OpenPGP messages.
 *
 * A message is a chain of push sinks, each adding one layer:
 *
 *   literal packet -> deflate -> compressed packet -> CFB + SHA-1 (MDC)
 *     -> SEIPD packet -> caller's sink
 *
 * after a SKESK packet written first.  Packets whose length is not known
 * in advance use partial body lengths (RFC 4880 §4.2.2.4) of 64 KiB, so a
 * message streams in constant memory.  See docs/FORMAT.md for the choices.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/deflate.h"
#include "crypto/openpgp_internal.h"
#include "util/ctx.h"
#include "util/stream.h"

#define PKT_CHUNK_LOG	16
#define PKT_CHUNK	((size_t)1 << PKT_CHUNK_LOG)
#define PKT_HDR		6	/* tag octet and up to 5 length octets */
#define ENC_CHUNK	65536
#define FD_CHUNK	(256 * 1024)

/* One packet of unknown length: a tag and a body in partial chunks. */
struct pkt_sink {
	struct arca_sink base;
	int tag;
	int started;		/* tag octet written */
	int closed;
	int err;		/* sticky */
	size_t len;		/* body bytes waiting in buf */
	unsigned char buf[PKT_HDR + PKT_CHUNK];
};

/*
 * Write the waiting bytes with their length header in front, as a partial
 * chunk (exactly PKT_CHUNK bytes) or as the final part.  A chunk is only
 * sent once more data follows it, so the final part is never empty unless
 * the whole body is.
 */
static int
pkt_emit(struct pkt_sink *k, int final)
{
	unsigned char h[PKT_HDR], *d = k->buf + PKT_HDR;
	size_t hl = 0, n = k->len;
	int r;

	if (!k->started)
		h[hl++] = 0xc0 | (unsigned char)k->tag;	/* new format */
	if (!final)
		h[hl++] = 0xe0 | PKT_CHUNK_LOG;
	else if (n < 192)
		h[hl++] = (unsigned char)n;
	else if (n < 8384) {
		h[hl++] = (unsigned char)(((n - 192) >> 8) + 192);
		h[hl++] = (unsigned char)((n - 192) & 0xff);
	} else {
		h[hl++] = 255;
		h[hl++] = (unsigned char)(n >> 24);
		h[hl++] = (unsigned char)(n >> 16);
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	memcpy(d - hl, h, hl);
	if ((r = arca_sink_write(k->base.next, d - hl, hl + n)) < 0)
		return k->err = r;
	k->started = 1;
	k->len = 0;
	return 0;
}

static int
pkt_write(struct arca_sink *s, const void *p, size_t n)
{
	struct pkt_sink *k = (struct pkt_sink *)s;
	const unsigned char *c = p;
	size_t take;
	int r;

	if (k->err)
		return k->err;
	while (n > 0) {
		if (k->len == PKT_CHUNK && (r = pkt_emit(k, 0)) < 0)
			return r;
		take = PKT_CHUNK - k->len;
		if (take > n)
			take = n;
		memcpy(k->buf + PKT_HDR + k->len, c, take);
		k->len += take;
		c += take;
		n -= take;
	}
	return 0;
}

static int
pkt_close(struct arca_sink *s)
{
	struct pkt_sink *k = (struct pkt_sink *)s;
	int r;

	if (k->err)
		return k->err;
	if (k->closed)
		return 0;
	if ((r = pkt_emit(k, 1)) < 0)
		return r;
	k->closed = 1;
	return 0;
}

static void
pkt_free(struct arca_sink *s)
{
	free(s);
}

static struct arca_sink *
pkt_sink(int tag, struct arca_sink *next)
{
	struct pkt_sink *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->base.write = pkt_write;
	k->base.close = pkt_close;
	k->base.free = pkt_free;
	k->base.next = next;
	k->tag = tag;
	return &k->base;
}

/*
 * The SEIPD layer: CFB with a zero IV over a random prefix, the data and
 * the MDC packet, which carries the SHA-1 of all that came before it and
 * of its own two header octets (RFC 4880 §5.13, §5.14).
 */
struct enc_sink {
	struct arca_sink base;
	struct arca_ctx *ctx;
	const char *what;
	gcry_cipher_hd_t h;
	gcry_md_hd_t md;
	int closed;
	int err;
	unsigned char out[ENC_CHUNK];
};

static int
enc_put(struct enc_sink *e, const unsigned char *p, size_t n)
{
	gcry_error_t ge;
	size_t take;
	int r;

	gcry_md_write(e->md, p, n);
	while (n > 0) {
		take = n < sizeof(e->out) ? n : sizeof(e->out);
		if ((ge = gcry_cipher_encrypt(e->h, e->out, take, p, take)) != 0)
			return e->err = arca_error(e->ctx, ARCA_ERR_CRYPTO,
			    "%s: encryption failed: %s", e->what,
			    gcry_strerror(ge));
		if ((r = arca_sink_write(e->base.next, e->out, take)) < 0)
			return e->err = r;
		p += take;
		n -= take;
	}
	return 0;
}

static int
enc_write(struct arca_sink *s, const void *p, size_t n)
{
	struct enc_sink *e = (struct enc_sink *)s;

	if (e->err)
		return e->err;
	return enc_put(e, p, n);
}

static int
enc_close(struct arca_sink *s)
{
	struct enc_sink *e = (struct enc_sink *)s;
	unsigned char mdc[PGP_MDC_LEN] = { 0xd3, 0x14 };
	gcry_error_t ge;
	int r;

	if (e->err)
		return e->err;
	if (e->closed)
		return 0;
	gcry_md_write(e->md, mdc, 2);
	memcpy(mdc + 2, gcry_md_read(e->md, GCRY_MD_SHA1), 20);
	if ((ge = gcry_cipher_encrypt(e->h, mdc, sizeof(mdc), NULL, 0)) != 0)
		return e->err = arca_error(e->ctx, ARCA_ERR_CRYPTO,
		    "%s: encryption failed: %s", e->what, gcry_strerror(ge));
	if ((r = arca_sink_write(e->base.next, mdc, sizeof(mdc))) < 0)
		return e->err = r;
	e->closed = 1;
	return 0;
}

static void
enc_free(struct arca_sink *s)
{
	struct enc_sink *e = (struct enc_sink *)s;

	if (e == NULL)
		return;
	gcry_cipher_close(e->h);
	gcry_md_close(e->md);
	free(e);
}

/* The encryption layer with session key sk; writes the prefix now. */
static int
enc_sink(struct arca_pgp *p, const unsigned char *sk, struct arca_sink *next,
    const char *what, struct arca_sink **out)
{
	unsigned char iv[PGP_MAX_BLKLEN] = { 0 }, prefix[PGP_MAX_BLKLEN + 2];
	struct enc_sink *e;
	gcry_error_t ge;
	int r;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
	e->base.write = enc_write;
	e->base.close = enc_close;
	e->base.free = enc_free;
	e->base.next = next;
	e->ctx = p->ctx;
	e->what = what;
	if ((ge = gcry_cipher_open(&e->h, GCRY_CIPHER_AES256,
	    GCRY_CIPHER_MODE_CFB, GCRY_CIPHER_SECURE)) != 0 ||
	    (ge = gcry_cipher_setkey(e->h, sk, PGP_MAX_KEYLEN)) != 0 ||
	    (ge = gcry_cipher_setiv(e->h, iv, 16)) != 0 ||
	    (ge = gcry_md_open(&e->md, GCRY_MD_SHA1, 0)) != 0) {
		r = arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: cannot set up "
		    "AES-256: %s", what, gcry_strerror(ge));
		enc_free(&e->base);
		return r;
	}
	/* A random block whose last two octets repeat (the quick check). */
	gcry_create_nonce(prefix, 16);
	prefix[16] = prefix[14];
	prefix[17] = prefix[15];
	if ((r = enc_put(e, prefix, 18)) < 0) {
		enc_free(&e->base);
		return r;
	}
	*out = &e->base;
	return 0;
}

/* The sink handed to the caller: the head of the chain, owning it all. */
struct msg_sink {
	struct arca_sink base;
	struct arca_pgp *p;
	struct arca_sink *lit, *defl, *comp, *enc, *seipd;
	int closed;
	int err;
};

static int
msg_write(struct arca_sink *s, const void *p, size_t n)
{
	struct msg_sink *m = (struct msg_sink *)s;
	int r;

	if (m->err)
		return m->err;
	if ((r = arca_sink_write(m->lit, p, n)) < 0)
		m->err = r;
	return r;
}

static int
msg_close(struct arca_sink *s)
{
	struct msg_sink *m = (struct msg_sink *)s;
	struct arca_deflate_stats ds;
	int r;

	if (m->err)
		return m->err;
	if (m->closed)
		return 0;
	if ((r = arca_sink_close(m->lit)) < 0 ||
	    (m->defl != NULL && (r = arca_sink_close(m->defl)) < 0) ||
	    (m->comp != NULL && (r = arca_sink_close(m->comp)) < 0) ||
	    (r = arca_sink_close(m->enc)) < 0 ||
	    (r = arca_sink_close(m->seipd)) < 0)
		return m->err = r;
	if (m->defl != NULL) {
		arca_deflate_sink_stats(m->defl, &ds);
		pgp_stats_add(m->p, ds.stored, ds.deflated);
	}
	m->closed = 1;
	return 0;
}

static void
msg_free(struct arca_sink *s)
{
	struct msg_sink *m = (struct msg_sink *)s;

	if (m == NULL)
		return;
	arca_sink_free(m->lit);
	arca_sink_free(m->defl);
	arca_sink_free(m->comp);
	arca_sink_free(m->enc);
	arca_sink_free(m->seipd);
	free(m);
}

/*
 * The SKESK packet: S2K specifier and the session key (preceded by its
 * algorithm), encrypted with the passphrase key in CFB mode with a zero IV
 * (RFC 4880 §5.3).
 */
static int
put_skesk(struct arca_pgp *p, struct arca_sink *next, const unsigned char *sk,
    const char *what)
{
	unsigned char pkt[2 + 13 + 1 + PGP_MAX_KEYLEN], iv[16] = { 0 };
	unsigned char *kek = NULL;
	gcry_cipher_hd_t h = NULL;
	struct pgp_s2k s2k;
	gcry_error_t ge;
	int r;

	if ((kek = pgp_secure_alloc(PGP_MAX_KEYLEN)) == NULL)
		return arca_error(p->ctx, ARCA_ERR_NOMEM, "out of secure "
		    "memory");
	if ((r = pgp_writer_key(p, &s2k, kek, what)) != 0)
		goto out;
	pkt[0] = 0xc0 | PGP_TAG_SKESK;
	pkt[1] = sizeof(pkt) - 2;
	pkt[2] = 4;			/* version */
	pkt[3] = PGP_WRITE_CIPHER;
	pkt[4] = PGP_S2K_ITERATED;
	pkt[5] = (unsigned char)s2k.hash;
	memcpy(pkt + 6, s2k.salt, 8);
	pkt[14] = s2k.coded;
	pkt[15] = PGP_WRITE_CIPHER;	/* the session key's algorithm */
	memcpy(pkt + 16, sk, PGP_MAX_KEYLEN);
	if ((ge = gcry_cipher_open(&h, GCRY_CIPHER_AES256,
	    GCRY_CIPHER_MODE_CFB, GCRY_CIPHER_SECURE)) != 0 ||
	    (ge = gcry_cipher_setkey(h, kek, PGP_MAX_KEYLEN)) != 0 ||
	    (ge = gcry_cipher_setiv(h, iv, sizeof(iv))) != 0 ||
	    (ge = gcry_cipher_encrypt(h, pkt + 15, 1 + PGP_MAX_KEYLEN, NULL,
	    0)) != 0) {
		r = arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: cannot encrypt "
		    "the session key: %s", what, gcry_strerror(ge));
		goto out;
	}
	r = arca_sink_write(next, pkt, sizeof(pkt));
out:
	explicit_bzero(pkt, sizeof(pkt));
	gcry_cipher_close(h);
	pgp_secure_free(kek, PGP_MAX_KEYLEN);
	return r;
}

int
arca_pgp_encrypt_sink(struct arca_pgp *p, struct arca_sink *next,
    const char *what, struct arca_sink **out)
{
	/* Binary, no file name, date 0: nothing about the source leaks. */
	static const unsigned char lit_head[6] = { 'b', 0, 0, 0, 0, 0 };
	static const unsigned char zip = PGP_COMP_ZIP, seipd_v1 = 1;
	struct msg_sink *m = NULL;
	struct arca_sink *inner;
	unsigned char *sk = NULL;
	int r;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (sk = pgp_secure_alloc(PGP_MAX_KEYLEN)) == NULL)
		goto nomem;
	m->base.write = msg_write;
	m->base.close = msg_close;
	m->base.free = msg_free;
	m->base.next = next;
	m->p = p;
	/* A fresh session key per file; the passphrase key only wraps it. */
	gcry_randomize(sk, PGP_MAX_KEYLEN, GCRY_STRONG_RANDOM);
	if ((r = put_skesk(p, next, sk, what)) < 0)
		goto out;
	if ((m->seipd = pkt_sink(PGP_TAG_SEIPD, next)) == NULL)
		goto nomem;
	if ((r = arca_sink_write(m->seipd, &seipd_v1, 1)) < 0 ||
	    (r = enc_sink(p, sk, m->seipd, what, &m->enc)) < 0)
		goto out;
	inner = m->enc;
	if (!(p->flags & ARCA_PGP_NO_COMPRESS)) {
		if ((m->comp = pkt_sink(PGP_TAG_COMP, m->enc)) == NULL)
			goto nomem;
		if ((r = arca_sink_write(m->comp, &zip, 1)) < 0)
			goto out;
		if ((m->defl = arca_deflate_sink(p->ctx, m->comp, p->level,
		    p->flags & ARCA_PGP_NO_STORE ? ARCA_DEFLATE_NO_STORE :
		    0)) == NULL)
			goto nomem;
		inner = m->defl;
	}
	if ((m->lit = pkt_sink(PGP_TAG_LIT, inner)) == NULL)
		goto nomem;
	if ((r = arca_sink_write(m->lit, lit_head, sizeof(lit_head))) < 0)
		goto out;
	*out = &m->base;
	m = NULL;
	r = 0;
	goto out;
nomem:
	r = arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	pgp_secure_free(sk, PGP_MAX_KEYLEN);
	if (m != NULL)
		msg_free(&m->base);
	return r;
}

int
arca_pgp_encrypt_fd(struct arca_pgp *p, int in_fd, int out_fd,
    const char *what)
{
	struct arca_sink *fds = NULL, *msg = NULL;
	unsigned char *buf = NULL;
	ssize_t n;
	int r;

	if ((fds = arca_sink_fd(p->ctx, out_fd, what)) == NULL ||
	    (buf = malloc(FD_CHUNK)) == NULL) {
		r = arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = arca_pgp_encrypt_sink(p, fds, what, &msg)) < 0)
		goto out;
	for (;;) {
		n = read(in_fd, buf, FD_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = arca_error(p->ctx, ARCA_ERR_IO, "cannot read the "
			    "plaintext of %s: %s", what, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = arca_sink_write(msg, buf, (size_t)n)) < 0)
			goto out;
	}
	r = arca_sink_close(msg);
out:
	arca_sink_free(msg);
	arca_sink_free(fds);
	free(buf);
	return r;
}
