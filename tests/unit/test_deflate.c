/*
 * test_deflate.c: the ISA-L deflate sink and inflate source
 * (compress/deflate.c), cross-checked with zlib, the inflater gpg uses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "compress/deflate.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

static struct arca_ctx ctx;

static void
fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (unsigned char)((x * 2685821657736338717ULL) >> 56);
	}
}

static void
fill_text(unsigned char *p, size_t n, uint64_t seed)
{
	static const char *const w[] = { "alpha ", "beta ", "gamma ",
	    "delta ", "volume ", "chain ", "backup ", "line.\n" };
	uint64_t x = seed | 1;
	size_t i = 0, l;
	const char *s;

	while (i < n) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		s = w[(x * 2685821657736338717ULL) >> 61];
		for (l = 0; s[l] != '\0' && i < n; l++)
			p[i++] = (unsigned char)s[l];
	}
}

/* Deflate p with the sink, writing in pieces of `step` bytes. */
static void
deflate_buf(const unsigned char *p, size_t n, size_t step, int flags,
    struct arca_buf *out, struct arca_deflate_stats *st)
{
	struct arca_sink *bs = arca_sink_buf(out), *d;
	size_t i, take;

	arca_buf_reset(out);
	d = arca_deflate_sink(&ctx, bs, 1, flags);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	for (i = 0; i < n; i += take) {
		take = n - i < step ? n - i : step;
		if (arca_sink_write(d, p + i, take) != 0)
			CHECK_INT(i, n);
	}
	CHECK_INT(arca_sink_close(d), 0);
	arca_deflate_sink_stats(d, st);
	arca_sink_free(d);
	arca_sink_free(bs);
}

/* zlib's raw inflate of z into out; Z_STREAM_END expected. */
static void
zlib_inflate(const struct arca_buf *z, struct arca_buf *out, size_t cap)
{
	z_stream zs;
	int zr;

	arca_buf_reset(out);
	memset(&zs, 0, sizeof(zs));
	CHECK_INT(inflateInit2(&zs, -15), Z_OK);
	arca_buf_reserve(out, cap + 1);
	zs.next_in = z->data;
	zs.avail_in = (uInt)z->len;
	zs.next_out = out->data;
	zs.avail_out = (uInt)cap + 1;
	zr = inflate(&zs, Z_FINISH);
	CHECK_INT(zr, Z_STREAM_END);
	CHECK_INT(zs.avail_in, 0);
	out->len = zs.total_out;
	inflateEnd(&zs);
}

/* Our inflate source, reading in pieces of `step`. */
static int
isal_inflate_buf(const struct arca_buf *z, enum arca_inflate_format fmt,
    struct arca_buf *out, size_t step)
{
	struct arca_source *m = arca_source_mem(z->data, z->len), *in;
	unsigned char buf[70000];
	ssize_t r;

	arca_buf_reset(out);
	in = arca_inflate_source(&ctx, m, fmt, "test.z");
	while ((r = arca_source_read(in, buf, step)) > 0)
		arca_buf_append(out, buf, (size_t)r);
	arca_source_free(in);
	arca_source_free(m);
	return (int)r;
}

/*
 * Random and text runs of uneven lengths: stored and deflated blocks
 * alternate, and later deflated blocks refer back into stored ones.
 */
static void
test_mixed(void)
{
	static const size_t steps[] = { 1, 1000, 65536, 1 << 20 };
	size_t n = 3 << 20, i = 0, run;
	unsigned char *p = malloc(n);
	struct arca_buf z = { 0 }, out = { 0 };
	struct arca_deflate_stats st;
	int r = 0;

	while (i < n) {
		run = 30000 + (i * 31) % 150000;
		if (run > n - i)
			run = n - i;
		(r ? fill_random : fill_text)(p + i, run, i);
		/* Repeat some earlier text after random data. */
		if (!r && i > 200000)
			memcpy(p + i, p + i - 100000, run / 2);
		r = !r;
		i += run;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i] == 1 && n > 300000)
			deflate_buf(p, 300000, 1, 0, &z, &st);
		else
			deflate_buf(p, n, steps[i], 0, &z, &st);
		CHECK(st.stored > 0);
		CHECK(st.deflated > 0);
		CHECK_INT(st.out, z.len);
		zlib_inflate(&z, &out, n);
		CHECK_INT(out.len, st.in);
		CHECK(memcmp(out.data, p, out.len) == 0);
		CHECK_INT(isal_inflate_buf(&z, ARCA_INFLATE_RAW, &out, 4096),
		    0);
		CHECK_INT(out.len, st.in);
		CHECK(memcmp(out.data, p, out.len) == 0);
	}
	arca_buf_free(&z);
	arca_buf_free(&out);
	free(p);
}

/* Random data costs 5 bytes per 64 KiB stored block; none without store. */
static void
test_random_is_stored(void)
{
	size_t n = 1 << 20;
	unsigned char *p = malloc(n);
	struct arca_buf z = { 0 }, out = { 0 };
	struct arca_deflate_stats st;

	fill_random(p, n, 42);
	deflate_buf(p, n, 65536, 0, &z, &st);
	CHECK_INT(st.deflated, 0);
	CHECK_INT(st.stored, 16);
	CHECK_INT(st.skipped, 16);	/* not even tried */
	CHECK(z.len <= n + 16 * 2 * 5 + 5);
	zlib_inflate(&z, &out, n);
	CHECK(out.len == n && memcmp(out.data, p, n) == 0);
	deflate_buf(p, n, 65536, ARCA_DEFLATE_NO_STORE, &z, &st);
	CHECK_INT(st.stored, 0);
	zlib_inflate(&z, &out, n);
	CHECK(out.len == n && memcmp(out.data, p, n) == 0);
	/* Text shrinks. */
	fill_text(p, n, 1);
	deflate_buf(p, n, 65536, 0, &z, &st);
	CHECK_INT(st.stored, 0);
	CHECK(z.len < n / 2);
	arca_buf_free(&z);
	arca_buf_free(&out);
	free(p);
}

static void
test_empty(void)
{
	struct arca_buf z = { 0 }, out = { 0 };
	struct arca_deflate_stats st;

	deflate_buf(NULL, 0, 1, 0, &z, &st);
	CHECK_INT(z.len, 5);
	zlib_inflate(&z, &out, 0);
	CHECK_INT(out.len, 0);
	CHECK_INT(isal_inflate_buf(&z, ARCA_INFLATE_RAW, &out, 100), 0);
	CHECK_INT(out.len, 0);
	arca_buf_free(&z);
	arca_buf_free(&out);
}

/* zlib-wrapped streams (OpenPGP ZLIB), and every kind of damage. */
static void
test_zlib_and_damage(void)
{
	unsigned char p[50000], z[60000];
	uLongf zl = sizeof(z);
	struct arca_buf zb = { 0 }, out = { 0 };

	fill_text(p, sizeof(p), 7);
	CHECK_INT(compress2(z, &zl, p, sizeof(p), 9), Z_OK);
	arca_buf_append(&zb, z, zl);
	CHECK_INT(isal_inflate_buf(&zb, ARCA_INFLATE_ZLIB, &out, 777), 0);
	CHECK(out.len == sizeof(p) && memcmp(out.data, p, sizeof(p)) == 0);
	/* Bad Adler-32. */
	zb.data[zb.len - 1] ^= 1;
	CHECK_INT(isal_inflate_buf(&zb, ARCA_INFLATE_ZLIB, &out, 777),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "test.z: corrupt compressed data") != NULL);
	/* Truncated. */
	zb.data[zb.len - 1] ^= 1;
	zb.len -= 10;
	CHECK_INT(isal_inflate_buf(&zb, ARCA_INFLATE_ZLIB, &out, 777),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "truncated") != NULL);
	/* Not deflate at all: a reserved block type. */
	arca_buf_reset(&zb);
	arca_buf_append(&zb, "\x07\x00\x00", 3);
	CHECK_INT(isal_inflate_buf(&zb, ARCA_INFLATE_RAW, &out, 777),
	    ARCA_ERR_CORRUPT);
	/* Bytes after the end of the stream are not read as data. */
	arca_buf_reset(&zb);
	arca_buf_append(&zb, "\x01\x02\x00\xfd\xff" "ab" "trailing", 15);
	CHECK_INT(isal_inflate_buf(&zb, ARCA_INFLATE_RAW, &out, 777), 0);
	CHECK(out.len == 2 && memcmp(out.data, "ab", 2) == 0);
	arca_buf_free(&zb);
	arca_buf_free(&out);
}

int
main(void)
{
	RUN(test_empty);
	RUN(test_random_is_stored);
	RUN(test_mixed);
	RUN(test_zlib_and_damage);
	TEST_DONE();
}
