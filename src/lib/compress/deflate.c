/*
 * deflate.c: raw deflate, zlib and gzip streams on ISA-L.
 *
 * The sink keeps one ISA-L stream for the whole input and ends each
 * ARCA_DEFLATE_BLOCK of input with a sync flush, so every block's output is
 * a whole number of deflate blocks on a byte boundary.  When that output is
 * not smaller than the input, the same bytes are written as stored blocks
 * instead.  This is safe for the blocks that follow: an inflater's history
 * window holds the uncompressed bytes whichever way a block was coded, so
 * ISA-L's back-references stay valid.  Half of a typical backup is data
 * that does not compress; storing it makes restores copy instead of decode
 * and keeps the output from growing.
 *
 * Blocks whose bytes are about as evenly spread as random data (already
 * compressed or encrypted files) skip ISA-L altogether: by their byte
 * statistics no Huffman code could shrink them by even 1 %, and trying
 * costs more than the encryption does.  ISA-L's stream is reset after
 * such blocks, as its history no longer matches what the inflater has.
 *
 * The stream ends with an empty final stored block that we write ourselves,
 * so ISA-L never needs to know which block is the last.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include "compress/deflate.h"
#include "util/ctx.h"
#include "util/stream.h"

#define DF_BLOCK	ARCA_DEFLATE_BLOCK
/* ISA-L's output for a block never comes near twice its input. */
#define DF_OUTCAP	(2 * DF_BLOCK + 4096)
/* The largest stored block deflate allows. */
#define DF_STORED_MAX	65535
#define DF_INCHUNK	65536
/*
 * Random-looking: 256 * sum(count^2) / n^2 below this (1 for a perfectly
 * even spread; text is above 3).  Rényi entropy 8 - log2(1.05) = 7.93 bits
 * per byte: order-0 coding could save under 1 %.
 */
#define DF_FLAT_NUM	105
#define DF_FLAT_DEN	100
#define DF_FLAT_MIN	4096	/* smaller blocks are always tried */

struct df_sink {
	struct arca_sink base;
	struct arca_ctx *ctx;
	struct isal_zstream zs;
	unsigned char *level_buf;
	int flags;
	int reset;		/* ISA-L's history is stale: reset first */
	int err;		/* sticky: every later call repeats it */
	int closed;
	size_t len;		/* bytes waiting in blk */
	struct arca_deflate_stats st;
	unsigned char blk[DF_BLOCK];
	unsigned char out[DF_OUTCAP];
};

static int
df_put(struct df_sink *d, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = arca_sink_write(d->base.next, p, n)) < 0)
		return d->err = r;
	d->st.out += n;
	return 0;
}

/* Write p as stored blocks; `final` marks the last one as the end. */
static int
df_put_stored(struct df_sink *d, const unsigned char *p, size_t n, int final)
{
	unsigned char h[5];
	size_t take;
	int r;

	do {
		take = n < DF_STORED_MAX ? n : DF_STORED_MAX;
		h[0] = final && take == n ? 1 : 0;	/* BFINAL, BTYPE 00 */
		h[1] = take & 0xff;
		h[2] = (take >> 8) & 0xff;
		h[3] = ~take & 0xff;
		h[4] = (~take >> 8) & 0xff;
		if ((r = df_put(d, h, sizeof(h))) < 0 ||
		    (r = df_put(d, p, take)) < 0)
			return r;
		p += take;
		n -= take;
	} while (n > 0);
	return 0;
}

/* Whether the bytes of p are spread about as evenly as random bytes. */
static int
df_flat(const unsigned char *p, size_t n)
{
	uint32_t c[4][256];
	uint64_t sum = 0, t;
	size_t i;

	if (n < DF_FLAT_MIN)
		return 0;
	/* Four tables: consecutive equal bytes do not stall on one counter. */
	memset(c, 0, sizeof(c));
	for (i = 0; i + 4 <= n; i += 4) {
		c[0][p[i]]++;
		c[1][p[i + 1]]++;
		c[2][p[i + 2]]++;
		c[3][p[i + 3]]++;
	}
	for (; i < n; i++)
		c[0][p[i]]++;
	for (i = 0; i < 256; i++) {
		t = (uint64_t)c[0][i] + c[1][i] + c[2][i] + c[3][i];
		sum += t * t;
	}
	return 256 * sum * DF_FLAT_DEN < (uint64_t)n * n * DF_FLAT_NUM;
}

/* Compress one block (at most DF_BLOCK bytes) and write the smaller form. */
static int
df_block(struct df_sink *d, const unsigned char *p, size_t n)
{
	size_t olen, stored;
	int rc;

	if (n == 0)
		return 0;
	d->st.in += n;
	if (!(d->flags & ARCA_DEFLATE_NO_STORE) && df_flat(p, n)) {
		d->st.stored++;
		d->st.skipped++;
		d->reset = 1;
		return df_put_stored(d, p, n, 0);
	}
	if (d->reset) {
		/* Keeps the level and its buffer; forgets the history. */
		isal_deflate_reset(&d->zs);
		d->reset = 0;
	}
	d->zs.next_in = (uint8_t *)(uintptr_t)p;
	d->zs.avail_in = (uint32_t)n;
	d->zs.flush = SYNC_FLUSH;
	d->zs.end_of_stream = 0;
	d->zs.next_out = d->out;
	d->zs.avail_out = sizeof(d->out);
	/*
	 * The flush is complete once all input is taken, output space is
	 * left and ISA-L waits for a new block header.
	 */
	do {
		if (d->zs.avail_out == 0)
			return d->err = arca_error(d->ctx, ARCA_ERR_FATAL,
			    "deflate: output of a block overflowed");
		if ((rc = isal_deflate(&d->zs)) != COMP_OK)
			return d->err = arca_error(d->ctx, ARCA_ERR_FATAL,
			    "deflate: ISA-L failed (%d)", rc);
	} while (d->zs.avail_in > 0 || d->zs.avail_out == 0 ||
	    d->zs.internal_state.state != ZSTATE_NEW_HDR);
	olen = sizeof(d->out) - d->zs.avail_out;
	stored = n + 5 * ((n + DF_STORED_MAX - 1) / DF_STORED_MAX);
	if (olen < stored || (d->flags & ARCA_DEFLATE_NO_STORE)) {
		d->st.deflated++;
		return df_put(d, d->out, olen);
	}
	d->st.stored++;
	return df_put_stored(d, p, n, 0);
}

static int
df_sink_write(struct arca_sink *s, const void *p, size_t n)
{
	struct df_sink *d = (struct df_sink *)s;
	const unsigned char *c = p;
	size_t take;
	int r;

	if (d->err)
		return d->err;
	if (d->closed)
		return d->err = arca_error(d->ctx, ARCA_ERR_FATAL,
		    "deflate: write after close");
	while (n > 0) {
		/* Whole blocks straight from the caller's buffer. */
		if (d->len == 0 && n >= DF_BLOCK) {
			if ((r = df_block(d, c, DF_BLOCK)) < 0)
				return r;
			c += DF_BLOCK;
			n -= DF_BLOCK;
			continue;
		}
		take = DF_BLOCK - d->len;
		if (take > n)
			take = n;
		memcpy(d->blk + d->len, c, take);
		d->len += take;
		c += take;
		n -= take;
		if (d->len == DF_BLOCK) {
			d->len = 0;
			if ((r = df_block(d, d->blk, DF_BLOCK)) < 0)
				return r;
		}
	}
	return 0;
}

static int
df_sink_close(struct arca_sink *s)
{
	struct df_sink *d = (struct df_sink *)s;
	size_t n = d->len;
	int r;

	if (d->err)
		return d->err;
	if (d->closed)
		return 0;
	d->len = 0;
	if ((r = df_block(d, d->blk, n)) < 0)
		return r;
	/* The end: an empty final stored block. */
	if ((r = df_put_stored(d, NULL, 0, 1)) < 0)
		return r;
	d->closed = 1;
	return 0;
}

static void
df_sink_free(struct arca_sink *s)
{
	struct df_sink *d = (struct df_sink *)s;

	if (d == NULL)
		return;
	free(d->level_buf);
	free(d);
}

struct arca_sink *
arca_deflate_sink(struct arca_ctx *ctx, struct arca_sink *next, int level,
    int flags)
{
	static const uint32_t bufsize[] = { ISAL_DEF_LVL0_DEFAULT,
	    ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
	    ISAL_DEF_LVL3_DEFAULT };
	struct df_sink *d;

	if (level < ISAL_DEF_MIN_LEVEL || level > ISAL_DEF_MAX_LEVEL)
		level = 1;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	isal_deflate_init(&d->zs);
	d->zs.level = (uint32_t)level;
	d->zs.gzip_flag = IGZIP_DEFLATE;
	if (bufsize[level] > 0) {
		/* Zeroed: levels 2 and 3 read parts of it before writing
		 * them (valgrind's "depends on uninitialised value"). */
		if ((d->level_buf = calloc(1, bufsize[level])) == NULL) {
			free(d);
			return NULL;
		}
		d->zs.level_buf = d->level_buf;
		d->zs.level_buf_size = bufsize[level];
	}
	d->base.write = df_sink_write;
	d->base.close = df_sink_close;
	d->base.free = df_sink_free;
	d->base.next = next;
	d->ctx = ctx;
	d->flags = flags;
	return &d->base;
}

void
arca_deflate_sink_stats(const struct arca_sink *s,
    struct arca_deflate_stats *st)
{
	*st = ((const struct df_sink *)s)->st;
}

struct if_source {
	struct arca_source base;
	struct arca_ctx *ctx;
	struct arca_source *src;
	const char *what;
	int err;		/* sticky */
	int src_eof;
	int done;
	struct inflate_state st;
	unsigned char in[DF_INCHUNK];
};

static int
if_corrupt(struct if_source *f, int rc)
{
	const char *why;

	switch (rc) {
	case ISAL_INVALID_BLOCK: why = "invalid deflate block"; break;
	case ISAL_INVALID_SYMBOL: why = "invalid deflate code"; break;
	case ISAL_INVALID_LOOKBACK: why = "back-reference before the start"; break;
	case ISAL_INVALID_WRAPPER: why = "bad zlib header"; break;
	case ISAL_UNSUPPORTED_METHOD: why = "unsupported zlib method"; break;
	case ISAL_INCORRECT_CHECKSUM: why = "bad checksum"; break;
	case ISAL_NEED_DICT: why = "needs a preset dictionary"; break;
	default: why = "truncated (unexpected end of data)"; break;
	}
	return f->err = arca_error(f->ctx, ARCA_ERR_CORRUPT,
	    "%s: corrupt compressed data: %s", f->what, why);
}

static ssize_t
if_source_read(struct arca_source *s, void *p, size_t n)
{
	struct if_source *f = (struct if_source *)s;
	ssize_t r;
	size_t got;
	int rc;

	if (f->err)
		return f->err;
	if (f->done || n == 0)
		return 0;
	if (n > (size_t)1 << 30)
		n = (size_t)1 << 30;
	for (;;) {
		if (f->st.avail_in == 0 && !f->src_eof) {
			if ((r = arca_source_read(f->src, f->in,
			    sizeof(f->in))) < 0)
				return f->err = (int)r;
			if (r == 0)
				f->src_eof = 1;
			f->st.next_in = f->in;
			f->st.avail_in = (uint32_t)r;
		}
		f->st.next_out = p;
		f->st.avail_out = (uint32_t)n;
		rc = isal_inflate(&f->st);
		got = n - f->st.avail_out;
		if (rc < 0 || rc == ISAL_NEED_DICT)
			return if_corrupt(f, rc);
		if (f->st.block_state == ISAL_BLOCK_FINISH)
			f->done = 1;
		if (got > 0)
			return (ssize_t)got;
		if (f->done)
			return 0;
		if (f->src_eof && f->st.avail_in == 0)
			return if_corrupt(f, 0);
	}
}

static void
if_source_free(struct arca_source *s)
{
	free(s);
}

struct arca_source *
arca_inflate_source(struct arca_ctx *ctx, struct arca_source *src,
    enum arca_inflate_format fmt, const char *what)
{
	struct if_source *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	isal_inflate_init(&f->st);
	f->st.crc_flag = fmt == ARCA_INFLATE_ZLIB ? ISAL_ZLIB : ISAL_DEFLATE;
	f->base.read = if_source_read;
	f->base.free = if_source_free;
	f->ctx = ctx;
	f->src = src;
	f->what = what;
	return &f->base;
}

/*
 * The gzip reader.  We parse each member's header ourselves, so what we
 * accept stays what zlib accepted before (FHCRC checked, reserved flag
 * bits refused), and let ISA-L inflate the body and check the trailer
 * (ISAL_GZIP_NO_HDR_VER).  When a member ends, ISA-L hands back the input
 * it did not use, where padding or the next member starts.
 */
#define GZ_FTEXT	0x01
#define GZ_FHCRC	0x02
#define GZ_FEXTRA	0x04
#define GZ_FNAME	0x08
#define GZ_FCOMMENT	0x10
#define GZ_FRESERVED	0xe0

enum gzi_state {
	GZI_FIRST,		/* nothing read yet: a member must follow */
	GZI_MEMBER,		/* inside a member's deflate data or trailer */
	GZI_BETWEEN,		/* after a member: zeros, a member or the end */
	GZI_DONE
};

struct gzi_source {
	struct arca_source base;
	struct arca_ctx *ctx;
	struct arca_source *src;
	enum gzi_state state;
	int err;		/* sticky */
	int src_eof;
	uint64_t limit;
	uint64_t total;		/* bytes handed out */
	struct inflate_state st;
	unsigned char in[DF_INCHUNK];
};

static int
gzi_corrupt(struct gzi_source *g, const char *why)
{
	return g->err = arca_error(g->ctx, ARCA_ERR_CORRUPT,
	    "corrupt gzip data: %s", why);
}

static int
gzi_corrupt_rc(struct gzi_source *g, int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK:
		return gzi_corrupt(g, "invalid deflate block");
	case ISAL_INVALID_SYMBOL:
		return gzi_corrupt(g, "invalid deflate code");
	case ISAL_INVALID_LOOKBACK:
		return gzi_corrupt(g, "back-reference before the start");
	case ISAL_INCORRECT_CHECKSUM:
		return gzi_corrupt(g, "CRC-32 or length mismatch");
	default:
		return gzi_corrupt(g, "inflate failed");
	}
}

/* Refill the input buffer once it is used up; at the end it stays empty. */
static int
gzi_fill(struct gzi_source *g)
{
	ssize_t r;

	if (g->st.avail_in > 0 || g->src_eof)
		return 0;
	if ((r = arca_source_read(g->src, g->in, sizeof(g->in))) < 0)
		return g->err = (int)r;
	if (r == 0)
		g->src_eof = 1;
	g->st.next_in = g->in;
	g->st.avail_in = (uint32_t)r;
	return 0;
}

/* The next header byte into *c, added to the header's CRC-32 *hcrc. */
static int
gzi_byte(struct gzi_source *g, unsigned char *c, uint32_t *hcrc)
{
	int r;

	if ((r = gzi_fill(g)) < 0)
		return r;
	if (g->st.avail_in == 0)
		return gzi_corrupt(g, "truncated (unexpected end of data)");
	*c = *g->st.next_in++;
	g->st.avail_in--;
	*hcrc = crc32_gzip_refl(*hcrc, c, 1);
	return 0;
}

/* Skip a zero-terminated header field (FNAME, FCOMMENT). */
static int
gzi_skip_string(struct gzi_source *g, uint32_t *hcrc)
{
	unsigned char c;
	int r;

	do {
		if ((r = gzi_byte(g, &c, hcrc)) < 0)
			return r;
	} while (c != 0);
	return 0;
}

/* Read a member's header and make ISA-L ready for its deflate data. */
static int
gzi_header(struct gzi_source *g)
{
	unsigned char h[10], c[2];
	uint32_t hcrc = 0, len;
	uint8_t *next_in;
	uint32_t avail_in;
	size_t i;
	int r;

	for (i = 0; i < sizeof(h); i++)
		if ((r = gzi_byte(g, &h[i], &hcrc)) < 0)
			return r;
	if (h[0] != 0x1f || h[1] != 0x8b)
		return gzi_corrupt(g, "incorrect header check");
	if (h[2] != 8)
		return gzi_corrupt(g, "unknown compression method");
	if (h[3] & GZ_FRESERVED)
		return gzi_corrupt(g, "unknown header flags set");
	if (h[3] & GZ_FEXTRA) {
		if ((r = gzi_byte(g, &c[0], &hcrc)) < 0 ||
		    (r = gzi_byte(g, &c[1], &hcrc)) < 0)
			return r;
		/* Not stored: skipping it needs no cap. */
		for (len = c[0] | (uint32_t)c[1] << 8; len > 0; len--)
			if ((r = gzi_byte(g, &c[0], &hcrc)) < 0)
				return r;
	}
	if ((h[3] & GZ_FNAME) && (r = gzi_skip_string(g, &hcrc)) < 0)
		return r;
	if ((h[3] & GZ_FCOMMENT) && (r = gzi_skip_string(g, &hcrc)) < 0)
		return r;
	if (h[3] & GZ_FHCRC) {
		len = hcrc & 0xffff;
		if ((r = gzi_byte(g, &c[0], &hcrc)) < 0 ||
		    (r = gzi_byte(g, &c[1], &hcrc)) < 0)
			return r;
		if ((c[0] | (uint32_t)c[1] << 8) != len)
			return gzi_corrupt(g, "header crc mismatch");
	}
	/* A fresh inflater (no history) that still reads our buffer. */
	next_in = g->st.next_in;
	avail_in = g->st.avail_in;
	isal_inflate_reset(&g->st);
	g->st.crc_flag = ISAL_GZIP_NO_HDR_VER;
	g->st.next_in = next_in;
	g->st.avail_in = avail_in;
	return 0;
}

static ssize_t
gzi_source_read(struct arca_source *s, void *p, size_t n)
{
	struct gzi_source *g = (struct gzi_source *)s;
	size_t got;
	int rc;

	if (g->err)
		return g->err;
	if (n == 0 || g->state == GZI_DONE)
		return 0;
	if (n > (size_t)1 << 30)
		n = (size_t)1 << 30;
	for (;;) {
		if (gzi_fill(g) < 0)
			return g->err;
		if (g->state == GZI_FIRST) {
			if (g->st.avail_in == 0)
				return gzi_corrupt(g, "no data");
			if (gzi_header(g) < 0)
				return g->err;
			g->state = GZI_MEMBER;
			continue;
		}
		if (g->state == GZI_BETWEEN) {
			/*
			 * Python's reader skips zero padding after a member;
			 * anything else must start another member.
			 */
			while (g->st.avail_in > 0 && *g->st.next_in == 0) {
				g->st.next_in++;
				g->st.avail_in--;
			}
			if (g->st.avail_in == 0) {
				if (g->src_eof) {
					g->state = GZI_DONE;
					return 0;
				}
				continue;
			}
			if (gzi_header(g) < 0)
				return g->err;
			g->state = GZI_MEMBER;
			continue;
		}
		g->st.next_out = p;
		g->st.avail_out = (uint32_t)n;
		rc = isal_inflate(&g->st);
		got = n - g->st.avail_out;
		if (rc < 0 || rc == ISAL_NEED_DICT)
			return gzi_corrupt_rc(g, rc);
		if (g->st.block_state == ISAL_BLOCK_FINISH)
			g->state = GZI_BETWEEN;
		if (g->limit != 0 && got > g->limit - g->total)
			return g->err = arca_error(g->ctx, ARCA_ERR_CORRUPT,
			    "gzip data decompresses to more than %llu bytes",
			    (unsigned long long)g->limit);
		g->total += got;
		if (got > 0)
			return (ssize_t)got;
		if (g->state == GZI_MEMBER && g->src_eof &&
		    g->st.avail_in == 0)
			return gzi_corrupt(g, "truncated (unexpected end of "
			    "data)");
	}
}

struct arca_source *
arca_inflate_gzip_source(struct arca_ctx *ctx, struct arca_source *src,
    uint64_t limit)
{
	struct gzi_source *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	isal_inflate_init(&g->st);
	g->base.read = gzi_source_read;
	g->base.free = if_source_free;	/* a plain free() too */
	g->ctx = ctx;
	g->src = src;
	g->limit = limit;
	g->state = GZI_FIRST;
	return &g->base;
}

int
arca_deflate_gzip_file(struct arca_ctx *ctx, int in_fd, int out_fd, int level)
{
	struct arca_source *in = NULL;
	struct arca_sink *out = NULL, *df = NULL;
	unsigned char *buf = NULL, h[10], t[8];
	uint32_t crc = 0, isize = 0, mtime = (uint32_t)time(NULL);
	ssize_t n;
	int r, i;

	in = arca_source_fd(ctx, in_fd, "input file");
	out = arca_sink_fd(ctx, out_fd, "gzip output file");
	if (in == NULL || out == NULL ||
	    (df = arca_deflate_sink(ctx, out, level, 0)) == NULL ||
	    (buf = malloc(ARCA_DEFLATE_BLOCK)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "gzip: out of memory");
		goto out;
	}
	/* Magic, deflate, no flags, MTIME, XFL 4 (fastest), OS unknown. */
	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;
	h[3] = 0;
	for (i = 0; i < 4; i++)
		h[4 + i] = (mtime >> (8 * i)) & 0xff;
	h[8] = 4;
	h[9] = 0xff;
	if ((r = arca_sink_write(out, h, sizeof(h))) < 0)
		goto out;
	while ((n = arca_source_read(in, buf, ARCA_DEFLATE_BLOCK)) > 0) {
		crc = crc32_gzip_refl(crc, buf, (uint64_t)n);
		isize += (uint32_t)n;
		if ((r = arca_sink_write(df, buf, (size_t)n)) < 0)
			goto out;
	}
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	if ((r = arca_sink_close(df)) < 0)
		goto out;
	for (i = 0; i < 4; i++) {
		t[i] = (crc >> (8 * i)) & 0xff;
		t[4 + i] = (isize >> (8 * i)) & 0xff;
	}
	r = arca_sink_write(out, t, sizeof(t));
out:
	free(buf);
	arca_sink_free(df);
	arca_sink_free(out);
	arca_source_free(in);
	return r < 0 ? r : 0;
}
