/*
 * test_bzip2.c: the bzip2 source (compress/bzip2.c), fed by libbz2's own
 * compressor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>

#include "compress/bzip2.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

static struct arca_ctx ctx;

static int
bunzip(const void *z, size_t n, struct arca_buf *out, size_t step)
{
	struct arca_source *m = arca_source_mem(z, n), *in;
	unsigned char buf[65536];
	ssize_t r;

	arca_buf_reset(out);
	in = arca_bunzip2_source(&ctx, m, "test.bz2");
	while ((r = arca_source_read(in, buf, step)) > 0)
		arca_buf_append(out, buf, (size_t)r);
	arca_source_free(in);
	arca_source_free(m);
	return (int)r;
}

static void
test_bzip2(void)
{
	static char p[300000];
	static char z[400000];
	unsigned int zl = sizeof(z);
	struct arca_buf out = { 0 };
	size_t i;

	for (i = 0; i < sizeof(p); i++)
		p[i] = "abcabcabd\n"[i % 10] + (char)(i / 7919 % 3);
	CHECK_INT(BZ2_bzBuffToBuffCompress(z, &zl, p, sizeof(p), 1, 0, 0),
	    BZ_OK);
	CHECK_INT(bunzip(z, zl, &out, 1000), 0);
	CHECK(out.len == sizeof(p) && memcmp(out.data, p, sizeof(p)) == 0);
	CHECK_INT(bunzip(z, zl, &out, 1), 0);
	CHECK(out.len == sizeof(p) && memcmp(out.data, p, sizeof(p)) == 0);
	/* Truncated, damaged, not bzip2. */
	CHECK_INT(bunzip(z, zl - 20, &out, 1000), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "test.bz2: corrupt bzip2 data: truncated") !=
	    NULL);
	z[zl / 2] ^= 0x55;
	CHECK_INT(bunzip(z, zl, &out, 1000), ARCA_ERR_CORRUPT);
	CHECK_INT(bunzip("hello world", 11, &out, 1000), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "not bzip2 data") != NULL);
	CHECK_INT(bunzip("", 0, &out, 1000), ARCA_ERR_CORRUPT);
	arca_buf_free(&out);
}

int
main(void)
{
	RUN(test_bzip2);
	TEST_DONE();
}
