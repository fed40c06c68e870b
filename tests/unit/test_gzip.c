/*
 * test_gzip.c: the gzip sink and source against zlib, gzip(1), Python's
 * gzip and duplicity's own volumes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "compress/deflate.h"
#include "compress/gzip.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

static struct arca_ctx ctx;

static const char *vol1 =
    "duplicity-0.8.22/plain/duplicity-full.20240101T000000Z.vol1.difftar.gz";
static const char *sig1 =
    "duplicity-0.8.22/plain/duplicity-full-signatures.20240101T000000Z.sigtar.gz";

/* Deterministic data with compressible and incompressible stretches. */
static void
fill(struct arca_buf *b, size_t n, uint32_t seed)
{
	size_t i;

	arca_buf_reset(b);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		arca_buf_putc(b, (i / 4096) % 3 == 0 ? (int)(i % 61) :
		    (int)(seed >> 16));
	}
}

static int
read_file(const char *path, struct arca_buf *b)
{
	unsigned char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	arca_buf_reset(b);
	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		arca_buf_append(b, tmp, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int r;

	if (fd < 0)
		return -1;
	r = arca_write_all(fd, p, n);
	close(fd);
	return r;
}

static char *
data_path(const char *rel)
{
	static char p[4096];

	snprintf(p, sizeof(p), "%s/%s", test_data_dir(), rel);
	return p;
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* gzip p[0..n) with our sink, written in pieces of `step` bytes. */
static int
gz(const void *p, size_t n, size_t step, int level, struct arca_buf *out)
{
	struct arca_sink *bs, *gs;
	size_t off, k;
	int r = 0;

	arca_buf_reset(out);
	bs = arca_sink_buf(out);
	gs = arca_gzip_sink(&ctx, bs, level);
	if (bs == NULL || gs == NULL)
		return ARCA_ERR_NOMEM;
	for (off = 0; off < n && r == 0; off += k) {
		k = n - off < step ? n - off : step;
		r = arca_sink_write(gs, (const unsigned char *)p + off, k);
	}
	if (r == 0)
		r = arca_sink_close(gs);
	arca_sink_free(gs);
	arca_sink_free(bs);
	return r;
}

/* gunzip p[0..n) with our source, reading `step` bytes at a time. */
static int
gunz(const void *p, size_t n, size_t step, uint64_t limit,
    struct arca_buf *out)
{
	struct arca_source *ms, *gs;
	unsigned char *tmp = malloc(step);
	ssize_t got;

	arca_buf_reset(out);
	ms = arca_source_mem(p, n);
	gs = arca_gunzip_source(&ctx, ms, limit);
	while ((got = arca_source_read(gs, tmp, step)) > 0)
		arca_buf_append(out, tmp, (size_t)got);
	arca_source_free(gs);
	arca_source_free(ms);
	free(tmp);
	return (int)got;
}

static void
test_roundtrip_and_header(void)
{
	struct arca_buf in = { 0 }, z = { 0 }, back = { 0 };
	time_t now = time(NULL);
	uint32_t mt;

	fill(&in, 1500000, 7);
	CHECK_INT(gz(in.data, in.len, 10000, 6, &z), 0);
	CHECK(z.len > 18 && z.len < in.len);
	/* Python's header: no flags, XFL 0 at level 6, OS 255. */
	CHECK_INT(z.data[0], 0x1f);
	CHECK_INT(z.data[1], 0x8b);
	CHECK_INT(z.data[2], 8);
	CHECK_INT(z.data[3], 0);
	CHECK_INT(z.data[8], 0);
	CHECK_INT(z.data[9], 0xff);
	mt = (uint32_t)z.data[4] | (uint32_t)z.data[5] << 8 |
	    (uint32_t)z.data[6] << 16 | (uint32_t)z.data[7] << 24;
	CHECK(mt + 5 >= (uint32_t)now && mt <= (uint32_t)now + 5);
	CHECK_INT(gunz(z.data, z.len, 777, 0, &back), 0);
	CHECK_INT(back.len, in.len);
	CHECK(back.len == in.len && memcmp(back.data, in.data, in.len) == 0);
	/* Level 9 and level 1 set XFL as Python does. */
	CHECK_INT(gz(in.data, 1000, 1000, 9, &z), 0);
	CHECK_INT(z.data[8], 2);
	CHECK_INT(gz(in.data, 1000, 1000, 1, &z), 0);
	CHECK_INT(z.data[8], 4);
	/* An empty member is 20 bytes and reads back as nothing. */
	CHECK_INT(gz("", 0, 1, 6, &z), 0);
	CHECK_INT(z.len, 20);
	CHECK_INT(gunz(z.data, z.len, 100, 0, &back), 0);
	CHECK_INT(back.len, 0);
	arca_buf_free(&in);
	arca_buf_free(&z);
	arca_buf_free(&back);
}

/*
 * duplicity's own gzip volume, decompressed and compressed again by our
 * sink, must come out identical except for the header's MTIME.
 */
static void
test_same_bytes_as_duplicity(void)
{
	struct arca_buf orig = { 0 }, tar = { 0 }, z = { 0 };
	const char *files[] = { vol1, sig1 };
	size_t i;

	for (i = 0; i < 2; i++) {
		CHECK_INT(read_file(data_path(files[i]), &orig), 0);
		CHECK_INT(gunz(orig.data, orig.len, 65536, 0, &tar), 0);
		CHECK(tar.len > 0);
		CHECK_INT(gz(tar.data, tar.len, 65536, 6, &z), 0);
		CHECK_INT(z.len, orig.len);
		if (z.len == orig.len) {
			CHECK_MEM(z.data, orig.data, 4);
			CHECK_MEM(z.data + 8, orig.data + 8, z.len - 8);
		}
	}
	arca_buf_free(&orig);
	arca_buf_free(&tar);
	arca_buf_free(&z);
}

static void
test_gzip_tool_accepts(void)
{
	struct arca_buf in = { 0 }, z = { 0 };
	char *dir = test_tmpdir(), path[512], cmd[1200];

	fill(&in, 300000, 3);
	CHECK_INT(gz(in.data, in.len, 4096, 6, &z), 0);
	snprintf(path, sizeof(path), "%s/x.gz", dir);
	CHECK_INT(write_file(path, z.data, z.len), 0);
	snprintf(cmd, sizeof(cmd), "gzip -t '%s'", path);
	CHECK_INT(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/x", dir);
	CHECK_INT(write_file(path, in.data, in.len), 0);
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s/x.gz' | cmp -s - '%s/x'", dir,
	    dir);
	CHECK_INT(run(cmd), 0);
	/* Python's reader too (the one duplicity uses). */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import gzip,sys; "
	    "sys.exit(gzip.open(sys.argv[1]).read() != open(sys.argv[2],"
	    "\"rb\").read())' '%s/x.gz' '%s/x'", dir, dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	free(dir);
	arca_buf_free(&in);
	arca_buf_free(&z);
}

static void
test_concatenated_members(void)
{
	struct arca_buf a = { 0 }, b = { 0 }, za = { 0 }, zb = { 0 },
	    all = { 0 }, back = { 0 }, want = { 0 }, gnu = { 0 };
	char *dir = test_tmpdir(), cmd[1200], path[512];
	static const unsigned char pad[7];

	fill(&a, 70000, 1);
	fill(&b, 123457, 2);
	CHECK_INT(gz(a.data, a.len, 9999, 6, &za), 0);
	CHECK_INT(gz(b.data, b.len, 9999, 6, &zb), 0);
	/* A member from gzip(1), with a file name in its header. */
	snprintf(path, sizeof(path), "%s/named.txt", dir);
	CHECK_INT(write_file(path, "hello from gzip(1)\n", 19), 0);
	snprintf(cmd, sizeof(cmd), "gzip -9 '%s'", path);
	CHECK_INT(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/named.txt.gz", dir);
	CHECK_INT(read_file(path, &gnu), 0);
	CHECK((gnu.data[3] & 0x08) != 0);	/* FNAME set */

	arca_buf_append(&all, za.data, za.len);
	arca_buf_append(&all, gnu.data, gnu.len);
	arca_buf_append(&all, pad, sizeof(pad));	/* zero padding, skipped */
	arca_buf_append(&all, zb.data, zb.len);
	arca_buf_append(&all, pad, sizeof(pad));
	arca_buf_append(&want, a.data, a.len);
	arca_buf_append(&want, "hello from gzip(1)\n", 19);
	arca_buf_append(&want, b.data, b.len);
	CHECK_INT(gunz(all.data, all.len, 5000, 0, &back), 0);
	CHECK_INT(back.len, want.len);
	CHECK(back.len == want.len &&
	    memcmp(back.data, want.data, want.len) == 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	free(dir);
	arca_buf_free(&a);
	arca_buf_free(&b);
	arca_buf_free(&za);
	arca_buf_free(&zb);
	arca_buf_free(&all);
	arca_buf_free(&back);
	arca_buf_free(&want);
	arca_buf_free(&gnu);
}

static void
expect_corrupt(const void *p, size_t n, const char *why)
{
	struct arca_buf back = { 0 };
	int r;

	ctx.errmsg[0] = '\0';
	r = gunz(p, n, 4096, 0, &back);
	if (r != ARCA_ERR_CORRUPT)
		fprintf(stderr, "  (%s)\n", why);
	CHECK_INT(r, ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "gzip") != NULL);
	arca_buf_free(&back);
}

static void
test_corrupt_refused(void)
{
	struct arca_buf in = { 0 }, z = { 0 }, bad = { 0 };
	static const unsigned char zeros[4096];

	fill(&in, 200000, 9);
	CHECK_INT(gz(in.data, in.len, 65536, 6, &z), 0);

	expect_corrupt("", 0, "empty");
	expect_corrupt(zeros, sizeof(zeros), "only zeros");
	expect_corrupt("this is not gzip data at all", 28, "not gzip");

	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	bad.data[z.len / 2] ^= 0x55;		/* deflate data */
	expect_corrupt(bad.data, bad.len, "flipped data byte");

	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	bad.data[z.len - 6] ^= 0x01;		/* CRC32 */
	expect_corrupt(bad.data, bad.len, "bad crc");

	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	bad.data[z.len - 2] ^= 0x01;		/* ISIZE */
	expect_corrupt(bad.data, bad.len, "bad isize");

	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	bad.data[2] = 7;			/* method */
	expect_corrupt(bad.data, bad.len, "bad method");

	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	arca_buf_append(&bad, "junk", 4);	/* not another member */
	expect_corrupt(bad.data, bad.len, "trailing junk");

	arca_buf_free(&in);
	arca_buf_free(&z);
	arca_buf_free(&bad);
}

/*
 * Rebuild member m (a header without fields, from our sink) with the
 * header flags in `flags`: FEXTRA, FNAME, FCOMMENT and FHCRC get fields,
 * FHCRC a correct CRC unless bad_hcrc.
 */
static void
with_header(const struct arca_buf *m, unsigned flags, int bad_hcrc,
    struct arca_buf *out)
{
	unsigned long hcrc;

	arca_buf_reset(out);
	arca_buf_append(out, m->data, 10);
	out->data[3] = (unsigned char)flags;
	if (flags & 0x04)	/* FEXTRA: XLEN 6, a subfield with a NUL */
		arca_buf_append(out, "\x06\x00" "AB\x02\x00" "\x00z", 8);
	if (flags & 0x08)	/* FNAME */
		arca_buf_append(out, "name.txt", 9);
	if (flags & 0x10)	/* FCOMMENT */
		arca_buf_append(out, "a comment", 10);
	if (flags & 0x02) {	/* FHCRC: low 16 bits of the header's CRC */
		hcrc = crc32(0, out->data, (uInt)out->len) ^ (bad_hcrc ? 1 : 0);
		arca_buf_putc(out, (int)(hcrc & 0xff));
		arca_buf_putc(out, (int)((hcrc >> 8) & 0xff));
	}
	arca_buf_append(out, m->data + 10, m->len - 10);
}

static void
test_header_flags(void)
{
	struct arca_buf in = { 0 }, z = { 0 }, h = { 0 }, back = { 0 };
	unsigned flags;
	size_t cut;

	fill(&in, 30000, 21);
	CHECK_INT(gz(in.data, in.len, 65536, 6, &z), 0);
	/* Every combination of FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT. */
	for (flags = 0; flags < 0x20; flags++) {
		with_header(&z, flags, 0, &h);
		CHECK_INT(gunz(h.data, h.len, 777, 0, &back), 0);
		CHECK(back.len == in.len &&
		    memcmp(back.data, in.data, in.len) == 0);
		/* Two of them back to back, with padding between. */
		arca_buf_append(&h, "\0\0\0", 3);
		with_header(&z, flags ^ 0x1e, 0, &back);
		arca_buf_append(&h, back.data, back.len);
		CHECK_INT(gunz(h.data, h.len, 4096, 0, &back), 0);
		CHECK_INT(back.len, 2 * in.len);
		/* Cut anywhere in the header, or right after it. */
		with_header(&z, flags, 0, &h);
		for (cut = 1; cut <= h.len - (z.len - 10); cut++)
			expect_corrupt(h.data, cut, "header cut");
	}
	with_header(&z, 0x1e, 1, &h);
	expect_corrupt(h.data, h.len, "bad header crc");
	CHECK(strstr(ctx.errmsg, "header crc") != NULL);
	for (flags = 0x20; flags <= 0x80; flags <<= 1) {
		with_header(&z, flags, 0, &h);
		expect_corrupt(h.data, h.len, "reserved flag");
		CHECK(strstr(ctx.errmsg, "flags") != NULL);
	}
	with_header(&z, 0, 0, &h);
	h.data[1] = 0x8c;
	expect_corrupt(h.data, h.len, "bad magic");
	arca_buf_free(&in);
	arca_buf_free(&z);
	arca_buf_free(&h);
	arca_buf_free(&back);
}

/* Every cut of a small member, and every flipped trailer bit. */
static void
test_small_member_every_byte(void)
{
	struct arca_buf z = { 0 }, h = { 0 }, back = { 0 }, bad = { 0 };
	static const char msg[] = "a small member, a small member, small.\n";
	size_t cut, i;
	int bit, fails = 0;

	CHECK_INT(gz(msg, sizeof(msg) - 1, 5, 6, &z), 0);
	with_header(&z, 0x1e, 0, &h);
	CHECK_INT(gunz(h.data, h.len, 1, 0, &back), 0);
	CHECK(back.len == sizeof(msg) - 1 &&
	    memcmp(back.data, msg, back.len) == 0);
	for (cut = 0; cut < h.len; cut++) {
		ctx.errmsg[0] = '\0';
		if (gunz(h.data, cut, 1, 0, &back) != ARCA_ERR_CORRUPT ||
		    gunz(h.data, cut, 4096, 0, &back) != ARCA_ERR_CORRUPT) {
			fprintf(stderr, "cut at %zu of %zu accepted\n", cut,
			    h.len);
			fails++;
		}
		if (cut > 0 && strstr(ctx.errmsg, "truncated") == NULL) {
			fprintf(stderr, "cut at %zu: %s\n", cut, ctx.errmsg);
			fails++;
		}
	}
	/* Also cut after a first whole member. */
	arca_buf_reset(&bad);
	arca_buf_append(&bad, z.data, z.len);
	arca_buf_append(&bad, h.data, h.len);
	for (cut = z.len + 1; cut < bad.len; cut++)
		if (gunz(bad.data, cut, 7, 0, &back) != ARCA_ERR_CORRUPT)
			fails++;
	/* Each bit of CRC-32 and ISIZE. */
	for (i = z.len - 8; i < z.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			arca_buf_reset(&bad);
			arca_buf_append(&bad, z.data, z.len);
			bad.data[i] ^= (unsigned char)(1 << bit);
			if (gunz(bad.data, bad.len, 4096, 0, &back) !=
			    ARCA_ERR_CORRUPT) {
				fprintf(stderr, "flip %zu.%d accepted\n", i,
				    bit);
				fails++;
			}
		}
	}
	CHECK_INT(fails, 0);
	arca_buf_free(&z);
	arca_buf_free(&h);
	arca_buf_free(&back);
	arca_buf_free(&bad);
}

/*
 * Members much larger than ISA-L's internal buffers (32 KiB window, 64 KiB
 * input chunks), read 1 byte, odd sizes and large blocks at a time, each
 * compared with zlib's own inflate.
 */
static void
test_large_members_and_read_sizes(void)
{
	struct arca_buf a = { 0 }, b = { 0 }, za = { 0 }, zb = { 0 },
	    all = { 0 }, want = { 0 }, back = { 0 };
	static const size_t steps[] = { 1, 3, 4095, 65536, 1 << 20 };
	unsigned char *zl;
	uLongf zlen;
	z_stream zs;
	size_t i;

	fill(&a, (1 << 20) + 17, 31);
	fill(&b, 300007, 32);
	CHECK_INT(gz(a.data, a.len, 100000, 6, &za), 0);
	CHECK_INT(gz(b.data, b.len, 65536, 1, &zb), 0);
	arca_buf_append(&all, za.data, za.len);
	arca_buf_append(&all, zb.data, zb.len);
	arca_buf_append(&all, "\0", 1);
	arca_buf_append(&all, za.data, za.len);
	arca_buf_append(&want, a.data, a.len);
	arca_buf_append(&want, b.data, b.len);
	arca_buf_append(&want, a.data, a.len);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		/* 1-byte reads take a while: one member only. */
		size_t n = steps[i] == 1 ? za.len : all.len;
		size_t w = steps[i] == 1 ? a.len : want.len;

		CHECK_INT(gunz(all.data, n, steps[i], 0, &back), 0);
		CHECK_INT(back.len, w);
		CHECK(back.len == w && memcmp(back.data, want.data, w) == 0);
	}
	/* zlib agrees on the first member. */
	zlen = (uLongf)a.len;
	zl = malloc(a.len);
	memset(&zs, 0, sizeof(zs));
	CHECK_INT(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = za.data;
	zs.avail_in = (uInt)za.len;
	zs.next_out = zl;
	zs.avail_out = (uInt)zlen;
	CHECK_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	CHECK(zs.total_out == a.len && memcmp(zl, a.data, a.len) == 0);
	inflateEnd(&zs);
	free(zl);
	/* The limit counts across members. */
	CHECK_INT(gunz(all.data, all.len, 65536, a.len + b.len, &back),
	    ARCA_ERR_CORRUPT);
	CHECK(back.len <= a.len + b.len);
	CHECK_INT(gunz(all.data, all.len, 65536, want.len, &back), 0);
	arca_buf_free(&a);
	arca_buf_free(&b);
	arca_buf_free(&za);
	arca_buf_free(&zb);
	arca_buf_free(&all);
	arca_buf_free(&want);
	arca_buf_free(&back);
}

static void
test_truncated_refused(void)
{
	struct arca_buf in = { 0 }, z = { 0 }, back = { 0 };
	size_t cut;
	int bad = 0, r;

	fill(&in, 100000, 11);
	CHECK_INT(gz(in.data, in.len, 65536, 6, &z), 0);
	for (cut = 1; cut < z.len; cut += (cut < 40 || cut > z.len - 40) ?
	    1 : 97) {
		r = gunz(z.data, cut, 3000, 0, &back);
		if (r != ARCA_ERR_CORRUPT) {
			fprintf(stderr, "cut at %zu of %zu: %d\n", cut, z.len,
			    r);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK(strstr(ctx.errmsg, "truncated") != NULL);
	arca_buf_free(&in);
	arca_buf_free(&z);
	arca_buf_free(&back);
}

static void
test_limit(void)
{
	struct arca_buf in = { 0 }, z = { 0 }, back = { 0 };

	fill(&in, 100000, 5);
	CHECK_INT(gz(in.data, in.len, 65536, 6, &z), 0);
	CHECK_INT(gunz(z.data, z.len, 4096, 99999, &back), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "99999") != NULL);
	CHECK(back.len <= 99999);
	CHECK_INT(gunz(z.data, z.len, 4096, 100000, &back), 0);
	CHECK_INT(back.len, 100000);
	CHECK_INT(gunz(z.data, z.len, 4096, 0, &back), 0);
	CHECK_INT(back.len, 100000);
	/* A bomb: 50 MB of zeros in a few KB, capped at 1 MB. */
	arca_buf_reset(&in);
	CHECK(arca_buf_reserve(&in, 50 << 20) != NULL);
	memset(in.data, 0, 50 << 20);
	in.len = 50 << 20;
	CHECK_INT(gz(in.data, in.len, 1 << 20, 6, &z), 0);
	CHECK(z.len < 100000);
	CHECK_INT(gunz(z.data, z.len, 65536, 1 << 20, &back),
	    ARCA_ERR_CORRUPT);
	CHECK(back.len <= (1 << 20));
	arca_buf_free(&in);
	arca_buf_free(&z);
	arca_buf_free(&back);
}

static ssize_t
failing_read(struct arca_source *s, void *p, size_t n)
{
	(void)s;
	(void)p;
	(void)n;
	return arca_error(&ctx, ARCA_ERR_IO, "disk on fire");
}

static int
failing_write(struct arca_sink *s, const void *p, size_t n)
{
	(void)s;
	(void)p;
	(void)n;
	return arca_error(&ctx, ARCA_ERR_BACKEND, "target gone");
}

static int
noop_close(struct arca_sink *s)
{
	(void)s;
	return 0;
}

static void
noop_free(struct arca_sink *s)
{
	(void)s;
}

static void
test_errors_propagate(void)
{
	struct arca_source bad = { failing_read, NULL }, *gs;
	struct arca_sink dead = { failing_write, noop_close, noop_free, NULL,
	    0 }, *zs;
	unsigned char buf[100];

	gs = arca_gunzip_source(&ctx, &bad, 0);
	CHECK_INT(arca_source_read(gs, buf, sizeof(buf)), ARCA_ERR_IO);
	CHECK_STR(ctx.errmsg, "disk on fire");
	CHECK_INT(arca_source_read(gs, buf, sizeof(buf)), ARCA_ERR_IO);
	arca_source_free(gs);

	zs = arca_gzip_sink(&ctx, &dead, 6);
	CHECK_INT(arca_sink_write(zs, "abc", 3), ARCA_ERR_BACKEND);
	CHECK_INT(arca_sink_write(zs, "abc", 3), ARCA_ERR_BACKEND);
	CHECK_INT(arca_sink_close(zs), ARCA_ERR_BACKEND);
	arca_sink_free(zs);
}

/*
 * Write in to file a, gzip it to b (level < 0: arca_gzip_file, else
 * arca_deflate_gzip_file at that level), check b with gzip(1), and read it
 * back into c with arca_gunzip_file.
 */
static void
file_roundtrip(const struct arca_buf *in, const char *a, const char *b,
    const char *c, int level)
{
	struct arca_buf got = { 0 };
	char cmd[2200];
	int fi, fo;

	CHECK_INT(write_file(a, in->data, in->len), 0);
	fi = open(a, O_RDONLY);
	fo = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_INT(level < 0 ? arca_gzip_file(&ctx, fi, fo) :
	    arca_deflate_gzip_file(&ctx, fi, fo, level), 0);
	close(fi);
	close(fo);
	snprintf(cmd, sizeof(cmd), "gzip -t '%s' && gzip -dc '%s' | cmp -s - "
	    "'%s'", b, b, a);
	CHECK_INT(run(cmd), 0);
	fi = open(b, O_RDONLY);
	fo = open(c, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_INT(arca_gunzip_file(&ctx, fi, fo), 0);
	close(fi);
	close(fo);
	CHECK_INT(read_file(c, &got), 0);
	CHECK(got.len == in->len && (in->len == 0 ||
	    memcmp(got.data, in->data, in->len) == 0));
	arca_buf_free(&got);
}

/*
 * The archive dir's fast gzip (ISA-L): gzip(1) and our reader give the
 * input back, at every level and for empty, compressible and random input
 * crossing the 64 KiB blocks; it starts where the input fd stands.
 */
static void
test_fast_gzip_file(void)
{
	struct arca_buf in = { 0 };
	char *dir = test_tmpdir(), a[512], b[512], c[512], cmd[2200];
	size_t sizes[] = { 0, 1, 65536, 300001 };
	size_t i, k;
	int lvl, fi, fo, f;

	snprintf(a, sizeof(a), "%s/plain", dir);
	snprintf(b, sizeof(b), "%s/plain.gz", dir);
	snprintf(c, sizeof(c), "%s/back", dir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (lvl = 0; lvl <= 3; lvl++) {
			arca_buf_reset(&in);
			fill(&in, sizes[i], (unsigned)lvl);
			/* Half random, half text: stored and deflated blocks. */
			for (k = in.len / 2; k < in.len; k++)
				in.data[k] = (unsigned char)"abc  text "[k % 10];
			file_roundtrip(&in, a, b, c, lvl);
		}
	}
	/* From the current offset, as the callers rewind first. */
	fi = open(a, O_RDONLY);
	CHECK(lseek(fi, 1000, SEEK_SET) == 1000);
	fo = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_INT(arca_deflate_gzip_file(&ctx, fi, fo, 1), 0);
	close(fi);
	close(fo);
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s' >'%s' && tail -c +1001 "
	    "'%s' | cmp -s - '%s'", b, c, a, c);
	CHECK_INT(run(cmd), 0);
	/* A write error is returned. */
	f = open("/dev/full", O_WRONLY);
	if (f >= 0) {
		fi = open(a, O_RDONLY);
		CHECK(arca_deflate_gzip_file(&ctx, fi, f, 1) < 0);
		close(fi);
		close(f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	free(dir);
	arca_buf_free(&in);
}

static void
test_file_helpers(void)
{
	struct arca_buf in = { 0 }, got = { 0 };
	char *dir = test_tmpdir(), a[512], b[512], c[512], cmd[1600];
	int fi, fo;

	fill(&in, 250000, 4);
	snprintf(a, sizeof(a), "%s/plain", dir);
	snprintf(b, sizeof(b), "%s/plain.gz", dir);
	snprintf(c, sizeof(c), "%s/back", dir);
	file_roundtrip(&in, a, b, c, -1);

	/* duplicity's signature file, against gzip -dc. */
	fi = open(data_path(sig1), O_RDONLY);
	fo = open(c, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fi >= 0);
	CHECK_INT(arca_gunzip_file(&ctx, fi, fo), 0);
	close(fi);
	close(fo);
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s' | cmp -s - '%s'",
	    data_path(sig1), c);
	CHECK_INT(run(cmd), 0);

	/* A corrupt input file fails. */
	CHECK_INT(write_file(b, "\x1f\x8b\x08\x00garbage", 12), 0);
	fi = open(b, O_RDONLY);
	fo = open(c, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_INT(arca_gunzip_file(&ctx, fi, fo), ARCA_ERR_CORRUPT);
	close(fi);
	close(fo);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	free(dir);
	arca_buf_free(&in);
	arca_buf_free(&got);
}

int
main(void)
{
	RUN(test_roundtrip_and_header);
	RUN(test_same_bytes_as_duplicity);
	RUN(test_gzip_tool_accepts);
	RUN(test_concatenated_members);
	RUN(test_corrupt_refused);
	RUN(test_truncated_refused);
	RUN(test_header_flags);
	RUN(test_small_member_every_byte);
	RUN(test_large_members_and_read_sizes);
	RUN(test_limit);
	RUN(test_errors_propagate);
	RUN(test_file_helpers);
	RUN(test_fast_gzip_file);
	TEST_DONE();
}
