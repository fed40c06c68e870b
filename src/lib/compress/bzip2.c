/*
 * bzip2.c: bzip2 decompression through libbz2, as a pull source.
 *
 * gpg writes one bzip2 stream per compressed packet; we stop at its end
 * and leave whatever follows unread, as with deflate.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>

#include "compress/bzip2.h"
#include "util/ctx.h"
#include "util/stream.h"

#define BZ_INCHUNK	65536

struct bz_source {
	struct arca_source base;
	struct arca_ctx *ctx;
	struct arca_source *src;
	const char *what;
	bz_stream bz;
	int inited;
	int err;		/* sticky */
	int src_eof;
	int done;
	char in[BZ_INCHUNK];
};

static int
bz_corrupt(struct bz_source *b, const char *why)
{
	return b->err = arca_error(b->ctx, ARCA_ERR_CORRUPT,
	    "%s: corrupt bzip2 data: %s", b->what, why);
}

static ssize_t
bz_source_read(struct arca_source *s, void *p, size_t n)
{
	struct bz_source *b = (struct bz_source *)s;
	ssize_t r;
	size_t got;
	int rc;

	if (b->err)
		return b->err;
	if (b->done || n == 0)
		return 0;
	if (n > UINT_MAX)
		n = UINT_MAX;
	for (;;) {
		if (b->bz.avail_in == 0 && !b->src_eof) {
			if ((r = arca_source_read(b->src, b->in,
			    sizeof(b->in))) < 0)
				return b->err = (int)r;
			if (r == 0)
				b->src_eof = 1;
			b->bz.next_in = b->in;
			b->bz.avail_in = (unsigned int)r;
		}
		b->bz.next_out = p;
		b->bz.avail_out = (unsigned int)n;
		rc = BZ2_bzDecompress(&b->bz);
		got = n - b->bz.avail_out;
		switch (rc) {
		case BZ_OK:
			break;
		case BZ_STREAM_END:
			b->done = 1;
			break;
		case BZ_MEM_ERROR:
			return b->err = arca_error(b->ctx, ARCA_ERR_NOMEM,
			    "%s: out of memory in bzip2", b->what);
		case BZ_DATA_ERROR_MAGIC:
			return bz_corrupt(b, "not bzip2 data");
		default:
			return bz_corrupt(b, "invalid data");
		}
		if (got > 0)
			return (ssize_t)got;
		if (b->done)
			return 0;
		if (b->src_eof && b->bz.avail_in == 0)
			return bz_corrupt(b, "truncated (unexpected end of "
			    "data)");
	}
}

static void
bz_source_free(struct arca_source *s)
{
	struct bz_source *b = (struct bz_source *)s;

	if (b == NULL)
		return;
	if (b->inited)
		BZ2_bzDecompressEnd(&b->bz);
	free(b);
}

struct arca_source *
arca_bunzip2_source(struct arca_ctx *ctx, struct arca_source *src,
    const char *what)
{
	struct bz_source *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if (BZ2_bzDecompressInit(&b->bz, 0, 0) != BZ_OK) {
		free(b);
		return NULL;
	}
	b->inited = 1;
	b->base.read = bz_source_read;
	b->base.free = bz_source_free;
	b->ctx = ctx;
	b->src = src;
	b->what = what;
	return &b->base;
}
