/*
 * openpgp_read.c: reading passphrase-encrypted OpenPGP messages.
 *
 * Layers are pull sources stacked on each other:
 *
 *   file -> packet body (partial lengths) -> CFB decryption + MDC
 *     -> packets -> compressed packet body -> inflate / bunzip2
 *     -> packets -> literal packet body -> caller's sink
 *
 * Everything read is hostile until the MDC at the very end matches, so
 * every length is checked against what is left, nothing grows with the
 * input, and when an inner layer finds garbage we first check the MDC: a
 * mismatch means the file was modified, which is the better message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/bzip2.h"
#include "compress/deflate.h"
#include "crypto/openpgp_internal.h"
#include "util/ctx.h"
#include "util/stream.h"

#define RD_BUF		65536
#define DEC_BUF		65536
#define MAX_SKESK	16	/* passphrase packets tried per message */
#define MAX_LEAD	64	/* packets before the encrypted data */
#define SKESK_MAX	512	/* largest SKESK body we accept */
#define MAX_DEPTH	4	/* compressed packets inside each other */

/* One read: the engine (NULL for a plain parse), where messages go. */
struct rdr {
	struct arca_pgp *p;
	struct arca_ctx *ctx;
	const char *what;
	struct arca_sink *out;
	int nlit;		/* literal packets seen */
	unsigned char *copy;	/* RD_BUF bytes for moving literal data */
};

static int
truncated(struct rdr *R)
{
	return arca_error(R->ctx, ARCA_ERR_CORRUPT, "%s: truncated OpenPGP "
	    "data (it ends inside a packet)", R->what);
}

static int
corrupt(struct rdr *R, const char *why)
{
	return arca_error(R->ctx, ARCA_ERR_CORRUPT, "%s: damaged OpenPGP "
	    "data: %s", R->what, why);
}

/* A buffered reader over a source, for headers and small fields. */
struct rd {
	struct arca_source *src;
	unsigned char *buf;
	size_t pos, len;
	int eof;
};

static int
rd_init(struct rdr *R, struct rd *rd, struct arca_source *src)
{
	memset(rd, 0, sizeof(*rd));
	rd->src = src;
	if ((rd->buf = malloc(RD_BUF)) == NULL)
		return arca_error(R->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

static int
rd_fill(struct rd *rd)
{
	ssize_t r;

	if (rd->pos < rd->len || rd->eof)
		return 0;
	if ((r = arca_source_read(rd->src, rd->buf, RD_BUF)) < 0)
		return (int)r;
	rd->pos = 0;
	rd->len = (size_t)r;
	if (r == 0)
		rd->eof = 1;
	return 0;
}

/* One octet: 1 and *c, 0 at the end, or a negative error. */
static int
rd_getc(struct rd *rd, unsigned char *c)
{
	int r;

	if ((r = rd_fill(rd)) < 0)
		return r;
	if (rd->pos == rd->len)
		return 0;
	*c = rd->buf[rd->pos++];
	return 1;
}

/* Up to n bytes; 0 only at the end. */
static ssize_t
rd_read(struct rd *rd, void *p, size_t n)
{
	size_t take;
	int r;

	if (rd->pos == rd->len && !rd->eof && n >= RD_BUF)
		/* Big reads skip the buffer. */
		return arca_source_read(rd->src, p, n);
	if ((r = rd_fill(rd)) < 0)
		return r;
	take = rd->len - rd->pos;
	if (take > n)
		take = n;
	memcpy(p, rd->buf + rd->pos, take);
	rd->pos += take;
	return (ssize_t)take;
}

/* A packet being read. */
struct pkt {
	int tag;
	uint64_t left;		/* bytes left in the current part */
	int partial;		/* another part follows this one */
	int indet;		/* old format, indeterminate: to the end */
};

static int
is_data_tag(int tag)
{
	return tag == PGP_TAG_COMP || tag == PGP_TAG_SE ||
	    tag == PGP_TAG_LIT || tag == PGP_TAG_SEIPD || tag == PGP_TAG_AEAD;
}

/* Read n (1..4) octets big-endian. */
static int
rd_be(struct rdr *R, struct rd *rd, int n, uint64_t *v)
{
	unsigned char c;
	int r;

	*v = 0;
	while (n-- > 0) {
		if ((r = rd_getc(rd, &c)) < 0)
			return r;
		if (r == 0)
			return truncated(R);
		*v = *v << 8 | c;
	}
	return 0;
}

/* A new-format length (RFC 4880 §4.2.2) into k. */
static int
new_len(struct rdr *R, struct rd *rd, struct pkt *k)
{
	unsigned char c, d;
	int r;

	if ((r = rd_getc(rd, &c)) < 0)
		return r;
	if (r == 0)
		return truncated(R);
	k->partial = 0;
	if (c < 192) {
		k->left = c;
	} else if (c < 224) {
		if ((r = rd_getc(rd, &d)) < 0)
			return r;
		if (r == 0)
			return truncated(R);
		k->left = ((uint64_t)(c - 192) << 8) + d + 192;
	} else if (c == 255) {
		return rd_be(R, rd, 4, &k->left);
	} else {
		if (!is_data_tag(k->tag))
			return corrupt(R, "partial length on a packet that "
			    "cannot have one");
		k->left = (uint64_t)1 << (c & 0x1f);
		k->partial = 1;
	}
	return 0;
}

/* The next packet header: 1, 0 at a clean end, or a negative error. */
static int
hdr_read(struct rdr *R, struct rd *rd, struct pkt *k)
{
	unsigned char c;
	char why[64];
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = rd_getc(rd, &c)) <= 0)
		return r;
	if (!(c & 0x80)) {
		snprintf(why, sizeof(why), "not a packet header (0x%02x)", c);
		return corrupt(R, why);
	}
	if (c & 0x40) {
		k->tag = c & 0x3f;
		r = new_len(R, rd, k);
	} else {
		k->tag = (c >> 2) & 15;
		switch (c & 3) {
		case 0: r = rd_be(R, rd, 1, &k->left); break;
		case 1: r = rd_be(R, rd, 2, &k->left); break;
		case 2: r = rd_be(R, rd, 4, &k->left); break;
		default: k->indet = 1; r = 0; break;
		}
	}
	if (r < 0)
		return r;
	if (k->tag == 0)
		return corrupt(R, "packet with the reserved tag 0");
	return 1;
}

/* The body of a packet as a source, following its partial lengths. */
struct body {
	struct arca_source base;
	struct rdr *R;
	struct rd *rd;
	struct pkt k;
};

static ssize_t
body_read(struct arca_source *s, void *p, size_t n)
{
	struct body *b = (struct body *)s;
	ssize_t r;
	int e;

	if (n == 0)
		return 0;
	if (b->k.indet)
		return rd_read(b->rd, p, n);
	while (b->k.left == 0) {
		if (!b->k.partial)
			return 0;
		if ((e = new_len(b->R, b->rd, &b->k)) < 0)
			return e;
	}
	if (n > b->k.left)
		n = (size_t)b->k.left;
	if ((r = rd_read(b->rd, p, n)) < 0)
		return r;
	if (r == 0)
		return truncated(b->R);
	b->k.left -= (uint64_t)r;
	return r;
}

static void
body_init(struct body *b, struct rdr *R, struct rd *rd, const struct pkt *k)
{
	memset(b, 0, sizeof(*b));
	b->base.read = body_read;
	b->R = R;
	b->rd = rd;
	b->k = *k;
}

/* Exactly n bytes of s, or an error (short is corruption). */
static int
read_full(struct rdr *R, struct arca_source *s, void *p, size_t n,
    const char *short_why)
{
	ssize_t r;

	if ((r = arca_source_read_full(s, p, n)) < 0)
		return (int)r;
	if ((size_t)r < n)
		return corrupt(R, short_why);
	return 0;
}

/* Read and drop the rest of s. */
static int
drain(struct rdr *R, struct arca_source *s)
{
	ssize_t r;

	while ((r = arca_source_read(s, R->copy, RD_BUF)) > 0)
		;
	return (int)r;
}

static int parse_msg(struct rdr *R, struct arca_source *src, int depth);

static int
read_comp(struct rdr *R, struct body *b, int depth)
{
	struct arca_source *in = NULL;
	unsigned char algo;
	char why[64];
	int r;

	if (depth >= MAX_DEPTH)
		return corrupt(R, "compressed packets nested too deep");
	if ((r = read_full(R, &b->base, &algo, 1, "empty compressed "
	    "packet")) < 0)
		return r;
	switch (algo) {
	case PGP_COMP_NONE:
		return parse_msg(R, &b->base, depth + 1);
	case PGP_COMP_ZIP:
		in = arca_inflate_source(R->ctx, &b->base, ARCA_INFLATE_RAW,
		    R->what);
		break;
	case PGP_COMP_ZLIB:
		in = arca_inflate_source(R->ctx, &b->base, ARCA_INFLATE_ZLIB,
		    R->what);
		break;
	case PGP_COMP_BZIP2:
		in = arca_bunzip2_source(R->ctx, &b->base, R->what);
		break;
	default:
		snprintf(why, sizeof(why), "unsupported compression "
		    "algorithm %d", algo);
		return arca_error(R->ctx, ARCA_ERR_CRYPTO, "%s: %s", R->what,
		    why);
	}
	if (in == NULL)
		return arca_error(R->ctx, ARCA_ERR_NOMEM, "out of memory");
	r = parse_msg(R, in, depth + 1);
	arca_source_free(in);
	return r;
}

static int
read_lit(struct rdr *R, struct body *b)
{
	unsigned char h[2], skip[255 + 4];
	ssize_t n;
	int r;

	if (R->nlit++ > 0)
		return corrupt(R, "more than one literal data packet");
	/* Format, file name and date: not used (gpg writes as is too). */
	if ((r = read_full(R, &b->base, h, 2, "short literal packet")) < 0 ||
	    (r = read_full(R, &b->base, skip, (size_t)h[1] + 4,
	    "short literal packet")) < 0)
		return r;
	while ((n = arca_source_read(&b->base, R->copy, RD_BUF)) > 0)
		if ((r = arca_sink_write(R->out, R->copy, (size_t)n)) < 0)
			return r;
	return (int)n;
}

/* The packets of a (decrypted or decompressed) message, to their end. */
static int
parse_msg(struct rdr *R, struct arca_source *src, int depth)
{
	struct rd rd;
	struct body b;
	struct pkt k;
	char why[64];
	int r;

	if ((r = rd_init(R, &rd, src)) < 0)
		return r;
	while ((r = hdr_read(R, &rd, &k)) > 0) {
		body_init(&b, R, &rd, &k);
		switch (k.tag) {
		case PGP_TAG_COMP:
			r = read_comp(R, &b, depth);
			break;
		case PGP_TAG_LIT:
			r = read_lit(R, &b);
			break;
		case PGP_TAG_OPS:
		case PGP_TAG_SIG:
		case PGP_TAG_MARKER:
			/* Signatures are GnuPG's business (public-key mode). */
			r = 0;
			break;
		default:
			snprintf(why, sizeof(why), "unexpected packet (type "
			    "%d) in the encrypted data", k.tag);
			r = corrupt(R, why);
			break;
		}
		/* Whatever the layer left (trailing data of a stream). */
		if (r >= 0)
			r = drain(R, &b.base);
		if (r < 0)
			break;
	}
	free(rd.buf);
	if (r == 0 && depth == 0 && R->nlit == 0)
		r = corrupt(R, "no literal data in the message");
	return r;
}

int
pgp_read_plain(struct arca_ctx *ctx, struct arca_source *src,
    struct arca_sink *out, const char *what)
{
	struct rdr R = { .ctx = ctx, .what = what, .out = out };
	int r;

	if ((R.copy = malloc(RD_BUF)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	r = parse_msg(&R, src, 0);
	free(R.copy);
	return r;
}

/*
 * The decryption layer.  With an MDC the last 22 bytes are held back until
 * the end of the packet, where they must be the MDC packet holding the
 * SHA-1 of everything before it.
 */
struct dec {
	struct arca_source base;
	struct rdr *R;
	struct arca_source *in;
	gcry_cipher_hd_t h;
	gcry_md_hd_t md;	/* NULL: no MDC (SE packet) */
	int in_eof;
	int done;
	int err;		/* sticky */
	size_t pos, len;
	unsigned char buf[DEC_BUF + PGP_MDC_LEN];
};

static int
dec_mdc(struct dec *d)
{
	unsigned char *m = d->buf + d->pos;

	if (d->len - d->pos != PGP_MDC_LEN || m[0] != 0xd3 || m[1] != 0x14)
		return d->err = arca_error(d->R->ctx, ARCA_ERR_CORRUPT, "%s: "
		    "integrity check failed: no modification detection code "
		    "(MDC) at the end; the file was truncated or modified",
		    d->R->what);
	gcry_md_write(d->md, m, 2);
	if (memcmp(gcry_md_read(d->md, GCRY_MD_SHA1), m + 2, 20) != 0)
		return d->err = arca_error(d->R->ctx, ARCA_ERR_CORRUPT, "%s: "
		    "integrity check failed (MDC mismatch): the file was "
		    "modified or damaged", d->R->what);
	d->done = 1;
	return 0;
}

static ssize_t
dec_read(struct arca_source *s, void *p, size_t n)
{
	struct dec *d = (struct dec *)s;
	size_t hold = d->md != NULL ? PGP_MDC_LEN : 0, avail, take;
	gcry_error_t ge;
	ssize_t r;

	if (d->err)
		return d->err;
	for (;;) {
		if (d->done || n == 0)
			return 0;
		avail = d->len - d->pos;
		if (avail > hold) {
			take = avail - hold < n ? avail - hold : n;
			memcpy(p, d->buf + d->pos, take);
			if (d->md != NULL)
				gcry_md_write(d->md, p, take);
			d->pos += take;
			return (ssize_t)take;
		}
		if (d->in_eof) {
			if (d->md == NULL) {
				d->done = 1;
				return 0;
			}
			if ((r = dec_mdc(d)) < 0)
				return r;
			return 0;
		}
		memmove(d->buf, d->buf + d->pos, avail);
		d->pos = 0;
		d->len = avail;
		if ((r = arca_source_read(d->in, d->buf + d->len,
		    sizeof(d->buf) - d->len)) < 0)
			return d->err = (int)r;
		if (r == 0) {
			d->in_eof = 1;
			continue;
		}
		if ((ge = gcry_cipher_decrypt(d->h, d->buf + d->len,
		    (size_t)r, NULL, 0)) != 0)
			return d->err = arca_error(d->R->ctx, ARCA_ERR_CRYPTO,
			    "%s: decryption failed: %s", d->R->what,
			    gcry_strerror(ge));
		d->len += (size_t)r;
	}
}

/* Read the rest, checking the MDC; 0 if it matched (or there is none). */
static int
dec_finish(struct dec *d)
{
	ssize_t r;

	while ((r = dec_read(&d->base, d->R->copy, RD_BUF)) > 0)
		;
	return (int)r;
}

/* Passphrase packets, kept until the encrypted data shows up. */
struct skesk {
	size_t n;
	unsigned char b[SKESK_MAX];
};

/* Why no passphrase packet worked, for the final message. */
struct trial {
	int wrong;		/* a key was tried and did not fit */
	char unsupported[256];	/* the first unsupported thing found */
};

static void
unsupported(struct trial *t, const char *fmt, int v)
{
	if (t->unsupported[0] == '\0')
		snprintf(t->unsupported, sizeof(t->unsupported), fmt, v);
}

/*
 * Parse one SKESK: its S2K into *s2k, the key-encryption cipher into
 * *kc, and the encrypted session key (esk, *esklen; 0 = none).  0, or 1
 * if it is something we cannot use (noted in t), or an error.
 */
static int
skesk_parse(struct rdr *R, const struct skesk *k, struct trial *t,
    struct pgp_s2k *s2k, const struct pgp_cipher **kc, size_t *off)
{
	const unsigned char *b = k->b;
	size_t need;

	if (k->n < 4)
		return corrupt(R, "short passphrase packet");
	if (b[0] != 4) {
		unsupported(t, "unsupported passphrase packet version %d "
		    "(gpg 2.3+ AEAD?)", b[0]);
		return 1;
	}
	if ((*kc = pgp_cipher_find(b[1])) == NULL) {
		unsupported(t, "unsupported cipher algorithm %d", b[1]);
		return 1;
	}
	memset(s2k, 0, sizeof(*s2k));
	s2k->type = b[2];
	s2k->hash = b[3];
	switch (s2k->type) {
	case PGP_S2K_SIMPLE: need = 4; break;
	case PGP_S2K_SALTED: need = 12; break;
	case PGP_S2K_ITERATED: need = 13; break;
	default:
		unsupported(t, "unsupported S2K mode %d", s2k->type);
		return 1;
	}
	if (k->n < need)
		return corrupt(R, "short passphrase packet");
	if (s2k->type != PGP_S2K_SIMPLE)
		memcpy(s2k->salt, b + 4, 8);
	if (s2k->type == PGP_S2K_ITERATED)
		s2k->coded = b[12];
	if (pgp_hash_gcry(s2k->hash) == 0) {
		unsupported(t, "unsupported S2K hash algorithm %d", s2k->hash);
		return 1;
	}
	*off = need;
	return 0;
}

/* A cipher handle for key (CFB, zero IV; OpenPGP resync if sync). */
static int
cfb_open(struct rdr *R, const struct pgp_cipher *c, const unsigned char *key,
    int sync, gcry_cipher_hd_t *h)
{
	unsigned char iv[PGP_MAX_BLKLEN] = { 0 };
	gcry_error_t ge;

	*h = NULL;
	if ((ge = gcry_cipher_open(h, c->gcry, GCRY_CIPHER_MODE_CFB,
	    GCRY_CIPHER_SECURE | (sync ? GCRY_CIPHER_ENABLE_SYNC : 0))) != 0 ||
	    (ge = gcry_cipher_setkey(*h, key, c->keylen)) != 0 ||
	    (ge = gcry_cipher_setiv(*h, iv, c->blklen)) != 0) {
		gcry_cipher_close(*h);
		*h = NULL;
		return arca_error(R->ctx, gcry_err_code(ge) == GPG_ERR_ENOMEM ?
		    ARCA_ERR_NOMEM : ARCA_ERR_CRYPTO, "%s: cannot set up %s: "
		    "%s", R->what, c->name, gcry_strerror(ge));
	}
	return 0;
}

/*
 * Try the passphrase on each SKESK until one gives a session key whose
 * quick check fits the first ciphertext bytes ct (n of them).  On success
 * *h decrypts from ct + blklen + 2 on, *bl is the block length, and *used
 * the S2K that worked.  The prefix plaintext goes to pre.
 */
static int
find_key(struct rdr *R, const struct skesk *sk, size_t nsk, int sync,
    const unsigned char *ct, size_t n, gcry_cipher_hd_t *h, size_t *bl,
    unsigned char *pre, struct pgp_s2k *used, size_t *usedlen)
{
	struct trial t = { 0 };
	const struct pgp_cipher *kc = NULL, *sc;
	struct pgp_s2k s2k;
	unsigned char *kek = NULL, *sess = NULL;
	gcry_cipher_hd_t kh = NULL;
	size_t i, off = 0, esklen, bs;
	int r = 0;

	*h = NULL;
	if ((kek = pgp_secure_alloc(PGP_MAX_KEYLEN)) == NULL ||
	    (sess = pgp_secure_alloc(1 + PGP_MAX_KEYLEN)) == NULL) {
		r = arca_error(R->ctx, ARCA_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	for (i = 0; i < nsk; i++) {
		if ((r = skesk_parse(R, &sk[i], &t, &s2k, &kc, &off)) < 0)
			goto out;
		if (r > 0)
			continue;
		if ((r = pgp_key_get(R->p, &s2k, kc->keylen, kek, R->what)) < 0) {
			if (r != ARCA_ERR_CRYPTO)
				goto out;
			/* The message already names the file. */
			if (t.unsupported[0] == '\0')
				snprintf(t.unsupported, sizeof(t.unsupported),
				    "%.200s", R->ctx->errmsg);
			continue;
		}
		esklen = sk[i].n - off;
		if (esklen == 0) {
			/* The derived key is the session key. */
			sc = kc;
			memcpy(sess + 1, kek, kc->keylen);
		} else {
			if (esklen < 2 || esklen > 1 + PGP_MAX_KEYLEN) {
				t.wrong = 1;
				continue;
			}
			memcpy(sess, sk[i].b + off, esklen);
			if ((r = cfb_open(R, kc, kek, 0, &kh)) < 0)
				goto out;
			gcry_cipher_decrypt(kh, sess, esklen, NULL, 0);
			gcry_cipher_close(kh);
			kh = NULL;
			/* A wrong passphrase gives a random algorithm octet. */
			sc = pgp_cipher_find(sess[0]);
			if (sc == NULL || sc->keylen != esklen - 1) {
				t.wrong = 1;
				continue;
			}
		}
		bs = sc->blklen;
		if (n < bs + 2) {
			r = truncated(R);
			goto out;
		}
		if ((r = cfb_open(R, sc, sess + 1, sync, h)) < 0)
			goto out;
		gcry_cipher_decrypt(*h, pre, bs + 2, ct, bs + 2);
		if (pre[bs - 2] != pre[bs] || pre[bs - 1] != pre[bs + 1]) {
			gcry_cipher_close(*h);
			*h = NULL;
			t.wrong = 1;
			continue;
		}
		if (sync)
			gcry_cipher_sync(*h);
		*bl = bs;
		*used = s2k;
		*usedlen = kc->keylen;
		r = 0;
		goto out;
	}
	if (t.wrong)
		r = arca_error(R->ctx, ARCA_ERR_AUTH, "wrong passphrase for %s",
		    R->what);
	else if (strncmp(t.unsupported, R->what, strlen(R->what)) == 0)
		r = arca_error(R->ctx, ARCA_ERR_CRYPTO, "%s", t.unsupported);
	else if (t.unsupported[0] != '\0')
		r = arca_error(R->ctx, ARCA_ERR_CRYPTO, "%s: %s", R->what,
		    t.unsupported);
	else
		r = corrupt(R, "no usable passphrase packet");
out:
	pgp_secure_free(kek, PGP_MAX_KEYLEN);
	pgp_secure_free(sess, 1 + PGP_MAX_KEYLEN);
	return r;
}

/* Packets before the encrypted data: keep SKESKs, skip the others. */
static int
read_lead(struct rdr *R, struct rd *rd, struct skesk *sk, size_t *nsk,
    struct pkt *k)
{
	struct body b;
	size_t npk = 0, i;
	char why[96];
	int r;

	*nsk = 0;
	for (i = 0; i < MAX_LEAD; i++) {
		if ((r = hdr_read(R, rd, k)) < 0)
			return r;
		if (r == 0)
			return *nsk + npk > 0 ? truncated(R) :
			    corrupt(R, "empty file, not OpenPGP");
		body_init(&b, R, rd, k);
		switch (k->tag) {
		case PGP_TAG_SEIPD:
		case PGP_TAG_SE:
			return 0;
		case PGP_TAG_SKESK:
			if (k->indet || k->left > SKESK_MAX)
				return corrupt(R, "oversized passphrase "
				    "packet");
			if (*nsk == MAX_SKESK)
				break;
			sk[*nsk].n = (size_t)k->left;
			if ((r = read_full(R, &b.base, sk[*nsk].b,
			    sk[*nsk].n, "short passphrase packet")) < 0)
				return r;
			(*nsk)++;
			break;
		case PGP_TAG_PKESK:
			npk++;
			break;
		case PGP_TAG_MARKER:
			break;
		case PGP_TAG_AEAD:
			return arca_error(R->ctx, ARCA_ERR_CRYPTO, "%s: AEAD "
			    "encrypted data (OpenPGP v5, gpg 2.3+) is not "
			    "supported by the built-in engine", R->what);
		case PGP_TAG_COMP:
		case PGP_TAG_LIT:
		case PGP_TAG_OPS:
		case PGP_TAG_SIG:
			return corrupt(R, "the message is not encrypted");
		default:
			snprintf(why, sizeof(why), "not an encrypted OpenPGP "
			    "message (packet type %d)", k->tag);
			return corrupt(R, why);
		}
		if ((r = drain(R, &b.base)) < 0)
			return r;
	}
	return corrupt(R, "too many packets before the encrypted data");
}

int
arca_pgp_decrypt(struct arca_pgp *p, struct arca_source *in,
    struct arca_sink *out, const char *what)
{
	struct rdr R = { .p = p, .ctx = p->ctx, .what = what, .out = out };
	unsigned char ct[PGP_MAX_BLKLEN + 2], pre[PGP_MAX_BLKLEN + 2];
	struct skesk *sk = NULL;
	struct dec *d = NULL;
	struct pgp_s2k s2k;
	struct body b;
	struct rd rd = { 0 };
	struct pkt k;
	size_t nsk = 0, bs = 0, keylen = 0;
	unsigned char ver;
	ssize_t n;
	int mdc, r;

	if ((R.copy = malloc(RD_BUF)) == NULL ||
	    (sk = calloc(MAX_SKESK, sizeof(*sk))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		r = arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = rd_init(&R, &rd, in)) < 0 ||
	    (r = read_lead(&R, &rd, sk, &nsk, &k)) < 0)
		goto out;
	mdc = k.tag == PGP_TAG_SEIPD;
	if (nsk == 0) {
		r = arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s is encrypted to "
		    "a public key, not with a passphrase: the built-in "
		    "OpenPGP engine cannot decrypt it (GnuPG can)", what);
		goto out;
	}
	body_init(&b, &R, &rd, &k);
	if (mdc) {
		if ((r = read_full(&R, &b.base, &ver, 1, "empty encrypted "
		    "packet")) < 0)
			goto out;
		if (ver != 1) {
			r = arca_error(p->ctx, ARCA_ERR_CRYPTO, "%s: "
			    "unsupported encrypted packet version %d", what,
			    ver);
			goto out;
		}
	} else if (!(p->flags & ARCA_PGP_ALLOW_NO_MDC)) {
		r = arca_error(p->ctx, ARCA_ERR_CORRUPT, "%s: not integrity "
		    "protected (an old OpenPGP packet without MDC), so "
		    "tampering could not be detected: refused "
		    "(--allow-no-mdc accepts it)", what);
		goto out;
	}
	if ((n = arca_source_read_full(&b.base, ct, sizeof(ct))) < 0) {
		r = (int)n;
		goto out;
	}
	if ((r = find_key(&R, sk, nsk, !mdc, ct, (size_t)n, &d->h, &bs, pre,
	    &s2k, &keylen)) < 0)
		goto out;

	d->base.read = dec_read;
	d->R = &R;
	d->in = &b.base;
	if (mdc) {
		if (gcry_md_open(&d->md, GCRY_MD_SHA1, 0) != 0) {
			r = arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		gcry_md_write(d->md, pre, bs + 2);
	}
	/* Ciphertext read past the prefix (8-byte block ciphers). */
	d->len = (size_t)n - (bs + 2);
	memcpy(d->buf, ct + bs + 2, d->len);
	gcry_cipher_decrypt(d->h, d->buf, d->len, NULL, 0);

	if ((r = parse_msg(&R, &d->base, 0)) < 0) {
		/*
		 * Garbage inside (bad packets, bad deflate data, unknown
		 * algorithms): if the MDC does not match either, the file
		 * was modified, which is what the user needs to hear.  A
		 * failure to write the output is not about the file.
		 */
		if (mdc && !d->done && r != ARCA_ERR_NOMEM &&
		    r != ARCA_ERR_IO && (n = dec_finish(d)) < 0)
			r = (int)n;
		goto out;
	}
	if ((r = dec_finish(d)) < 0)
		goto out;
	if ((r = drain(&R, &b.base)) < 0)
		goto out;
	if ((r = rd_fill(&rd)) < 0)
		goto out;
	if (rd.pos < rd.len) {
		r = corrupt(&R, "unexpected data after the encrypted packet");
		goto out;
	}
	if (mdc)
		pgp_key_verified(p, &s2k, keylen);
out:
	if (d != NULL) {
		gcry_cipher_close(d->h);
		gcry_md_close(d->md);
		free(d);
	}
	explicit_bzero(pre, sizeof(pre));
	free(rd.buf);
	free(sk);
	free(R.copy);
	return r;
}

int
arca_pgp_decrypt_fd(struct arca_pgp *p, int in_fd, int out_fd,
    const char *what)
{
	struct arca_source *in;
	struct arca_sink *out;
	int r;

	in = arca_source_fd(p->ctx, in_fd, what);
	out = arca_sink_fd(p->ctx, out_fd, "the decrypted output");
	if (in == NULL || out == NULL)
		r = arca_error(p->ctx, ARCA_ERR_NOMEM, "out of memory");
	else
		r = arca_pgp_decrypt(p, in, out, what);
	arca_sink_free(out);
	arca_source_free(in);
	return r;
}
