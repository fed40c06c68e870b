/*
 * gzip.c: gzip containers (spec §4.2): written with zlib, read with ISA-L.
 *
 * The sink writes one member the way Python's gzip module does for
 * duplicity (raw deflate, memLevel 8, header 1f 8b 08 00 MTIME XFL ff), so
 * with the same zlib our volumes match duplicity's byte for byte apart from
 * MTIME.  The source accepts what any gzip reader accepts: several members
 * back to back, optional header fields, and zero padding after a member, as
 * Python's reader does; it is deflate.c's ISA-L gzip reader.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "compress/deflate.h"
#include "compress/gzip.h"
#include "util/ctx.h"
#include "util/stream.h"

#define GZ_CHUNK	65536
/* zlib counts in uInt; feed it at most this much at a time. */
#define GZ_MAX_FEED	((size_t)1 << 30)

struct gz_sink {
	struct arca_sink base;
	struct arca_ctx *ctx;
	z_stream zs;
	int level;
	int started;		/* gzip header written */
	int closed;
	int err;		/* first failure; every later call repeats it */
	uint32_t crc;
	uint32_t isize;		/* input size mod 2^32 */
	unsigned char out[GZ_CHUNK];
};

static int
gz_put(struct gz_sink *g, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = arca_sink_write(g->base.next, p, n)) < 0)
		g->err = r;
	return r;
}

static int
gz_put_header(struct gz_sink *g)
{
	unsigned char h[10];
	uint32_t mtime = (uint32_t)time(NULL);

	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;		/* deflate */
	h[3] = 0;		/* no flags: no name, no comment */
	h[4] = mtime & 0xff;
	h[5] = (mtime >> 8) & 0xff;
	h[6] = (mtime >> 16) & 0xff;
	h[7] = (mtime >> 24) & 0xff;
	/* XFL as Python sets it: 2 for level 9, 4 for level 1, else 0. */
	h[8] = g->level == 9 ? 2 : g->level == 1 ? 4 : 0;
	h[9] = 0xff;		/* OS unknown, like Python */
	g->started = 1;
	return gz_put(g, h, sizeof(h));
}

/* Run deflate over the pending input with flush, pushing all output. */
static int
gz_deflate(struct gz_sink *g, int flush)
{
	int zr, r;

	for (;;) {
		g->zs.next_out = g->out;
		g->zs.avail_out = sizeof(g->out);
		zr = deflate(&g->zs, flush);
		if (zr == Z_STREAM_ERROR) {
			g->err = arca_error(g->ctx, ARCA_ERR_FATAL,
			    "gzip: deflate failed");
			return g->err;
		}
		r = gz_put(g, g->out, sizeof(g->out) - g->zs.avail_out);
		if (r < 0)
			return r;
		if (flush == Z_FINISH) {
			if (zr == Z_STREAM_END)
				return 0;
		} else if (g->zs.avail_out != 0)
			return 0;
	}
}

static int
gz_sink_write(struct arca_sink *s, const void *p, size_t n)
{
	struct gz_sink *g = (struct gz_sink *)s;
	const unsigned char *c = p;
	size_t take;
	int r;

	if (g->err)
		return g->err;
	if (g->closed)
		return arca_error(g->ctx, ARCA_ERR_FATAL,
		    "gzip: write after close");
	if (!g->started && (r = gz_put_header(g)) < 0)
		return r;
	while (n > 0) {
		take = n < GZ_MAX_FEED ? n : GZ_MAX_FEED;
		g->crc = (uint32_t)crc32(g->crc, c, (uInt)take);
		g->isize += (uint32_t)take;
		g->zs.next_in = (Bytef *)(uintptr_t)c;
		g->zs.avail_in = (uInt)take;
		if ((r = gz_deflate(g, Z_NO_FLUSH)) < 0)
			return r;
		c += take;
		n -= take;
	}
	return 0;
}

static int
gz_sink_close(struct arca_sink *s)
{
	struct gz_sink *g = (struct gz_sink *)s;
	unsigned char t[8];
	int r, i;

	if (g->err)
		return g->err;
	if (g->closed)
		return 0;
	if (!g->started && (r = gz_put_header(g)) < 0)
		return r;
	g->zs.next_in = NULL;
	g->zs.avail_in = 0;
	if ((r = gz_deflate(g, Z_FINISH)) < 0)
		return r;
	for (i = 0; i < 4; i++) {
		t[i] = (g->crc >> (8 * i)) & 0xff;
		t[4 + i] = (g->isize >> (8 * i)) & 0xff;
	}
	if ((r = gz_put(g, t, sizeof(t))) < 0)
		return r;
	g->closed = 1;
	return 0;
}

static void
gz_sink_free(struct arca_sink *s)
{
	struct gz_sink *g = (struct gz_sink *)s;

	deflateEnd(&g->zs);
	free(g);
}

struct arca_sink *
arca_gzip_sink(struct arca_ctx *ctx, struct arca_sink *next, int level)
{
	struct gz_sink *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if (level < 0 || level > 9)
		level = 6;
	/* Raw deflate, window 15, memLevel 8: what Python's gzip uses. */
	if (deflateInit2(&g->zs, level, Z_DEFLATED, -MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	g->base.write = gz_sink_write;
	g->base.close = gz_sink_close;
	g->base.free = gz_sink_free;
	g->base.next = next;
	g->ctx = ctx;
	g->level = level;
	g->crc = (uint32_t)crc32(0, Z_NULL, 0);
	return &g->base;
}

/* Read with ISA-L, several times faster than zlib's inflate and crc32. */
struct arca_source *
arca_gunzip_source(struct arca_ctx *ctx, struct arca_source *src,
    uint64_t limit)
{
	return arca_inflate_gzip_source(ctx, src, limit);
}

int
arca_gzip_file(struct arca_ctx *ctx, int in_fd, int out_fd)
{
	struct arca_source *in = NULL;
	struct arca_sink *out = NULL, *gz = NULL;
	unsigned char *buf = NULL;
	ssize_t n;
	int r;

	in = arca_source_fd(ctx, in_fd, "input file");
	out = arca_sink_fd(ctx, out_fd, "gzip output file");
	if (in == NULL || out == NULL ||
	    (gz = arca_gzip_sink(ctx, out, 6)) == NULL ||
	    (buf = malloc(GZ_CHUNK)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "gzip: out of memory");
		goto out;
	}
	while ((n = arca_source_read(in, buf, GZ_CHUNK)) > 0)
		if ((r = arca_sink_write(gz, buf, (size_t)n)) < 0)
			goto out;
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	r = arca_sink_close(gz);
out:
	free(buf);
	arca_sink_free(gz);
	arca_sink_free(out);
	arca_source_free(in);
	return r;
}

int
arca_gunzip_file(struct arca_ctx *ctx, int in_fd, int out_fd)
{
	struct arca_source *in = NULL, *gz = NULL;
	struct arca_sink *out = NULL;
	unsigned char *buf = NULL;
	ssize_t n;
	int r = 0;

	in = arca_source_fd(ctx, in_fd, "gzip input file");
	out = arca_sink_fd(ctx, out_fd, "output file");
	if (in == NULL || out == NULL ||
	    (gz = arca_gunzip_source(ctx, in, 0)) == NULL ||
	    (buf = malloc(GZ_CHUNK)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "gunzip: out of memory");
		goto out;
	}
	while ((n = arca_source_read(gz, buf, GZ_CHUNK)) > 0)
		if ((r = arca_sink_write(out, buf, (size_t)n)) < 0)
			goto out;
	if (n < 0)
		r = (int)n;
out:
	free(buf);
	arca_source_free(gz);
	arca_sink_free(out);
	arca_source_free(in);
	return r;
}
