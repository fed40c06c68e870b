/*
 * test_rsync.c: librsync signatures, deltas and patches (spec §8), checked
 * against the spec's vectors, rdiff (librsync's own tool) and the duplicity
 * 0.8.22 fixtures.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta/rsync.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

/* snprintf into an array, failing the run rather than truncating. */
#define FMT(b, ...) do { \
	if ((size_t)snprintf((b), sizeof(b), __VA_ARGS__) >= sizeof(b)) { \
		fprintf(stderr, "%s:%d: string too long\n", __FILE__, \
		    __LINE__); \
		exit(2); \
	} \
} while (0)

static struct arca_ctx ctx;
static char *tmp;

/* Deterministic pseudo-random bytes (xorshift64*), so failures reproduce. */
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

static char *
tpath(const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	FMT(p[k], "%s/%s", tmp, name);
	return p[k];
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || arca_write_all(fd, p, n) != 0) {
		perror(path);
		exit(2);
	}
	close(fd);
}

static int
read_file(const char *path, struct arca_buf *b)
{
	unsigned char chunk[65536];
	ssize_t r;
	int fd;

	arca_buf_reset(b);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		arca_buf_append(b, chunk, (size_t)r);
	close(fd);
	return r < 0 ? -1 : 0;
}

static int
sh(const char *fmt, const char *a, const char *b, const char *c)
{
	char cmd[4096];

	FMT(cmd, fmt, a, b, c);
	return system(cmd);
}

/* Signature of p[0..n) fed in pieces of `piece` bytes. */
static int
make_sig(const void *p, size_t n, size_t piece, size_t maxbs,
    struct arca_buf *out)
{
	struct arca_rsync_sig *s;
	size_t off, k;
	int r;

	arca_buf_reset(out);
	if ((r = arca_rsync_sig_new(&ctx, n, maxbs, &s)) != 0)
		return r;
	for (off = 0; off < n; off += k) {
		k = n - off < piece ? n - off : piece;
		if ((r = arca_rsync_sig_update(s, (const char *)p + off, k,
		    out)) != 0)
			goto out;
	}
	r = arca_rsync_sig_finish(s, out);
out:
	arca_rsync_sig_free(s);
	return r;
}

static int
make_delta(const struct arca_buf *sig, const void *p, size_t n, size_t piece,
    struct arca_buf *out)
{
	struct arca_rsync_delta *d;
	size_t off, k;
	int r;

	arca_buf_reset(out);
	if ((r = arca_rsync_delta_new(&ctx, sig->data, sig->len, &d)) != 0)
		return r;
	for (off = 0; off < n; off += k) {
		k = n - off < piece ? n - off : piece;
		if ((r = arca_rsync_delta_update(d, (const char *)p + off, k,
		    out)) != 0)
			goto out;
	}
	r = arca_rsync_delta_finish(d, out);
out:
	arca_rsync_delta_free(d);
	return r;
}

static int
apply_patch(const char *basis, const void *delta, size_t n, size_t piece,
    struct arca_buf *out)
{
	struct arca_rsync_patch *p = NULL;
	size_t off, k;
	int fd, r;

	arca_buf_reset(out);
	if ((fd = open(basis, O_RDONLY)) < 0) {
		perror(basis);
		exit(2);
	}
	if ((r = arca_rsync_patch_new(&ctx, fd, &p)) != 0)
		goto out;
	for (off = 0; off < n; off += k) {
		k = n - off < piece ? n - off : piece;
		if ((r = arca_rsync_patch_update(p, (const char *)delta + off,
		    k, out)) != 0)
			goto out;
	}
	r = arca_rsync_patch_finish(p, out);
out:
	arca_rsync_patch_free(p);
	close(fd);
	return r;
}

static void
hexify(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static void
test_hello(void)
{
	struct arca_buf sig = { 0 };
	char hex[128];

	CHECK_INT(make_sig("hello\n", 6, 6, 0, &sig), 0);
	CHECK_INT(sig.len, 24);
	hexify(sig.data, sig.len, hex);
	/* spec §8.2, signature/small.txt */
	CHECK_STR(hex, "7273013600000200000000080ad002d863481c78ae04c201");
	arca_buf_free(&sig);
}

static void
test_empty(void)
{
	struct arca_buf sig = { 0 }, delta = { 0 }, out = { 0 };
	char hex[64];

	CHECK_INT(make_sig("", 0, 1, 0, &sig), 0);
	CHECK_INT(sig.len, 12);
	hexify(sig.data, sig.len, hex);
	CHECK_STR(hex, "727301360000020000000008");

	/* Empty against empty: magic and END, as duplicity writes (§8.4). */
	CHECK_INT(make_delta(&sig, "", 0, 1, &delta), 0);
	hexify(delta.data, delta.len, hex);
	CHECK_STR(hex, "7273023600");
	write_file(tpath("empty"), "", 0);
	CHECK_INT(apply_patch(tpath("empty"), delta.data, delta.len, 1, &out),
	    0);
	CHECK_INT(out.len, 0);

	/* The spec's "hello world" delta against an empty basis. */
	CHECK_INT(make_delta(&sig, "hello world\n", 12, 3, &delta), 0);
	hexify(delta.data, delta.len, hex);
	CHECK_STR(hex, "727302360c68656c6c6f20776f726c640a00");
	arca_buf_free(&sig);
	arca_buf_free(&delta);
	arca_buf_free(&out);
}

static void
test_block_len(void)
{
	/* §8.2, observed with duplicity 0.8.22 */
	CHECK_INT(arca_rsync_block_len(0, 2048), 512);
	CHECK_INT(arca_rsync_block_len(1023999, 2048), 512);
	CHECK_INT(arca_rsync_block_len(1024000, 2048), 512);
	CHECK_INT(arca_rsync_block_len(1500000, 2048), 512);
	CHECK_INT(arca_rsync_block_len(2047999, 2048), 512);
	CHECK_INT(arca_rsync_block_len(2048000, 2048), 1024);
	CHECK_INT(arca_rsync_block_len(3145728, 2048), 1536);
	CHECK_INT(arca_rsync_block_len(5000000, 2048), 2048);
	CHECK_INT(arca_rsync_block_len(10000000, 2048), 2048);
	CHECK_INT(arca_rsync_block_len(10000000, 8192), 4608);
	CHECK_INT(arca_rsync_block_len(10000000, 0), 2048);
	CHECK_INT(arca_rsync_block_len(UINT64_C(1) << 40, 2048), 2048);
}

static void
test_sig_length(void)
{
	size_t n = 1500000;
	unsigned char *p = malloc(n);
	struct arca_buf sig = { 0 };

	fill_random(p, n, 15);
	CHECK_INT(make_sig(p, n, 65536, 0, &sig), 0);
	CHECK_INT(sig.len, 35172);	/* §8.2 */
	free(p);
	arca_buf_free(&sig);
}

#define BIG	(3 * 1024 * 1024)

/*
 * rdiff makes RS_MD4_SIG_MAGIC only with both -H md4 and -R rollsum
 * (-H md4 alone is the RabinKarp+MD4 magic 0x72730146).
 */
static void
test_sig_vs_rdiff(void)
{
	unsigned char *p = malloc(BIG);
	struct arca_buf sig = { 0 }, theirs = { 0 };

	fill_random(p, BIG, 3);
	write_file(tpath("big"), p, BIG);
	CHECK_INT(make_sig(p, BIG, 65536, 0, &sig), 0);
	CHECK_INT(sig.len, 12 + 12 * ((BIG + 1535) / 1536));
	CHECK_INT(sh("rdiff -H md4 -R rollsum -S 8 -b 1536 signature %s %s%s",
	    tpath("big"), tpath("big.rdsig"), ""), 0);
	CHECK_INT(read_file(tpath("big.rdsig"), &theirs), 0);
	CHECK_INT(theirs.len, sig.len);
	CHECK(theirs.len == sig.len &&
	    memcmp(theirs.data, sig.data, sig.len) == 0);
	free(p);
	arca_buf_free(&sig);
	arca_buf_free(&theirs);
}

/* A changed copy of old: an overwrite, an insertion, a cut, a new tail. */
static unsigned char *
make_new(const unsigned char *old, size_t n, size_t *newlen)
{
	unsigned char *q = malloc(n + 20000);
	size_t k = 0;

	memcpy(q, old, 2000000);
	k = 2000000;
	fill_random(q + 700000, 1000, 99);
	fill_random(q + k, 5000, 77);
	k += 5000;
	memcpy(q + k, old + 2000000, 800000);
	k += 800000;
	fill_random(q + k, 12345, 55);
	k += 12345;
	*newlen = k;
	return q;
}

static void
test_delta_roundtrip_rdiff(void)
{
	unsigned char *old = malloc(BIG), *nw;
	size_t nlen;
	struct arca_buf sig = { 0 }, delta = { 0 }, out = { 0 }, f = { 0 };

	fill_random(old, BIG, 3);
	nw = make_new(old, BIG, &nlen);
	write_file(tpath("old"), old, BIG);
	write_file(tpath("new"), nw, nlen);

	/* Our delta, rdiff's patch. */
	CHECK_INT(make_sig(old, BIG, 65536, 0, &sig), 0);
	CHECK_INT(make_delta(&sig, nw, nlen, 65536, &delta), 0);
	/* Mostly COPY commands: far smaller than the new file. */
	CHECK(delta.len < 40000);
	write_file(tpath("ours.delta"), delta.data, delta.len);
	CHECK_INT(sh("rdiff patch %s %s %s", tpath("old"), tpath("ours.delta"),
	    tpath("by-rdiff")), 0);
	CHECK_INT(read_file(tpath("by-rdiff"), &f), 0);
	CHECK(f.len == nlen && memcmp(f.data, nw, nlen) == 0);

	/* rdiff's delta against our MD4 signature, our patch. */
	write_file(tpath("ours.sig"), sig.data, sig.len);
	CHECK_INT(sh("rdiff delta %s %s %s", tpath("ours.sig"), tpath("new"),
	    tpath("rd1.delta")), 0);
	CHECK_INT(read_file(tpath("rd1.delta"), &f), 0);
	CHECK_INT(apply_patch(tpath("old"), f.data, f.len, 65536, &out), 0);
	CHECK(out.len == nlen && memcmp(out.data, nw, nlen) == 0);

	/* rdiff's own defaults (BLAKE2 + RabinKarp) both ways. */
	CHECK_INT(sh("rdiff signature %s %s%s", tpath("old"), tpath("rd.sig"),
	    ""), 0);
	CHECK_INT(sh("rdiff delta %s %s %s", tpath("rd.sig"), tpath("new"),
	    tpath("rd2.delta")), 0);
	CHECK_INT(read_file(tpath("rd2.delta"), &f), 0);
	CHECK_INT(apply_patch(tpath("old"), f.data, f.len, 65536, &out), 0);
	CHECK(out.len == nlen && memcmp(out.data, nw, nlen) == 0);
	CHECK_INT(read_file(tpath("rd.sig"), &f), 0);
	CHECK_INT(make_delta(&f, nw, nlen, 65536, &delta), 0);
	write_file(tpath("ours2.delta"), delta.data, delta.len);
	CHECK_INT(sh("rdiff patch %s %s %s", tpath("old"),
	    tpath("ours2.delta"), tpath("by-rdiff2")), 0);
	CHECK_INT(read_file(tpath("by-rdiff2"), &f), 0);
	CHECK(f.len == nlen && memcmp(f.data, nw, nlen) == 0);

	free(old);
	free(nw);
	arca_buf_free(&sig);
	arca_buf_free(&delta);
	arca_buf_free(&out);
	arca_buf_free(&f);
}

/* Feeding 1, 7, 64 KiB or everything at once gives the same bytes. */
static void
test_pieces(void)
{
	static const size_t pieces[] = { 1, 7, 65536, 600000 };
	size_t n = 600000, nlen, i;
	unsigned char *old = malloc(n), *nw = malloc(n + 3000);
	struct arca_buf sig0 = { 0 }, delta0 = { 0 }, out0 = { 0 };
	struct arca_buf sig = { 0 }, delta = { 0 }, out = { 0 };

	fill_random(old, n, 8);
	memcpy(nw, old, 300000);
	fill_random(nw + 300000, 3000, 9);
	memcpy(nw + 303000, old + 300500, n - 300500);
	nlen = n + 3000 - 500;
	write_file(tpath("p-old"), old, n);

	CHECK_INT(make_sig(old, n, n, 0, &sig0), 0);
	CHECK_INT(make_delta(&sig0, nw, nlen, nlen, &delta0), 0);
	CHECK_INT(apply_patch(tpath("p-old"), delta0.data, delta0.len,
	    delta0.len, &out0), 0);
	CHECK(out0.len == nlen && memcmp(out0.data, nw, nlen) == 0);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		CHECK_INT(make_sig(old, n, pieces[i], 0, &sig), 0);
		CHECK(sig.len == sig0.len &&
		    memcmp(sig.data, sig0.data, sig.len) == 0);
		CHECK_INT(make_delta(&sig0, nw, nlen, pieces[i], &delta), 0);
		CHECK(delta.len == delta0.len &&
		    memcmp(delta.data, delta0.data, delta.len) == 0);
		CHECK_INT(apply_patch(tpath("p-old"), delta0.data, delta0.len,
		    pieces[i], &out), 0);
		CHECK(out.len == nlen && memcmp(out.data, nw, nlen) == 0);
	}
	free(old);
	free(nw);
	arca_buf_free(&sig0);
	arca_buf_free(&delta0);
	arca_buf_free(&out0);
	arca_buf_free(&sig);
	arca_buf_free(&delta);
	arca_buf_free(&out);
}

static int
try_sig(const void *p, size_t n)
{
	struct arca_rsync_delta *d = NULL;
	int r;

	ctx.errmsg[0] = '\0';
	r = arca_rsync_delta_new(&ctx, p, n, &d);
	CHECK(r != 0 || d != NULL);
	CHECK(r == 0 || (d == NULL && ctx.errmsg[0] != '\0'));
	arca_rsync_delta_free(d);
	return r;
}

static void
test_bad_signatures(void)
{
	unsigned char good[24 + 12], b[4096];
	struct arca_buf sig = { 0 };

	CHECK_INT(make_sig("hello\nhello\n", 12, 12, 0, &sig), 0);
	CHECK_INT(sig.len, 24);
	memcpy(good, sig.data, 24);
	CHECK_INT(try_sig(good, 24), 0);
	CHECK_INT(try_sig(good, 12), 0);
	/* Truncated in the header and inside a block. */
	CHECK_INT(try_sig(good, 0), ARCA_ERR_CORRUPT);
	CHECK_INT(try_sig(good, 5), ARCA_ERR_CORRUPT);
	CHECK_INT(try_sig(good, 11), ARCA_ERR_CORRUPT);
	CHECK_INT(try_sig(good, 14), ARCA_ERR_CORRUPT);
	CHECK_INT(try_sig(good, 23), ARCA_ERR_CORRUPT);
	/* A stray byte after the last block. */
	memcpy(b, good, 24);
	b[24] = 0;
	CHECK_INT(try_sig(b, 25), ARCA_ERR_CORRUPT);
	/* Bad magic (a delta's), block length 0 and huge, strong lengths. */
	memcpy(b, good, 24);
	b[3] = 0x36; b[2] = 0x02;
	CHECK_INT(try_sig(b, 24), ARCA_ERR_CORRUPT);
	memcpy(b, good, 24);
	memset(b + 4, 0, 4);
	CHECK_INT(try_sig(b, 24), ARCA_ERR_CORRUPT);
	memcpy(b, good, 24);
	memset(b + 4, 0xff, 4);
	CHECK_INT(try_sig(b, 24), ARCA_ERR_CORRUPT);
	memcpy(b, good, 24);
	b[4] = 0x7f;
	CHECK_INT(try_sig(b, 24), ARCA_ERR_CORRUPT);
	memcpy(b, good, 24);
	b[11] = 0;
	CHECK_INT(try_sig(b, 12), ARCA_ERR_CORRUPT);
	memcpy(b, good, 24);
	b[11] = 17;	/* longer than MD4 */
	CHECK_INT(try_sig(b, 12 + 21), ARCA_ERR_CORRUPT);
	/* Garbage. */
	fill_random(b, sizeof(b), 4);
	CHECK_INT(try_sig(b, sizeof(b)), ARCA_ERR_CORRUPT);
	arca_buf_free(&sig);
}

/* Apply delta (fed in one piece) to basis; returns the result code. */
static int
try_patch(const char *basis, const void *delta, size_t n, struct arca_buf *out)
{
	int r;

	ctx.errmsg[0] = '\0';
	r = apply_patch(basis, delta, n, n ? n : 1, out);
	CHECK(r == 0 || ctx.errmsg[0] != '\0');
	return r;
}

static void
test_bad_deltas(void)
{
	unsigned char basis[1000], d[256];
	struct arca_buf sig = { 0 }, delta = { 0 }, out = { 0 };
	size_t n;

	fill_random(basis, sizeof(basis), 6);
	write_file(tpath("b1000"), basis, sizeof(basis));

	/* A valid COPY of the whole basis works; it is the reference. */
	memcpy(d, "\x72\x73\x02\x36\x46\x00\x03\xe8\x00", 9);
	CHECK_INT(try_patch(tpath("b1000"), d, 9, &out), 0);
	CHECK(out.len == 1000 && memcmp(out.data, basis, 1000) == 0);

	/* COPY(0, 1001): one byte past the end. */
	memcpy(d, "\x72\x73\x02\x36\x46\x00\x03\xe9\x00", 9);
	CHECK_INT(try_patch(tpath("b1000"), d, 9, &out), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "beyond the end") != NULL);
	/* COPY(1000, 1): starts at the end. */
	memcpy(d, "\x72\x73\x02\x36\x49\x03\xe8\x01\x00", 9);
	CHECK_INT(try_patch(tpath("b1000"), d, 9, &out), ARCA_ERR_CORRUPT);
	/* COPY(2^62, 16) and a negative offset. */
	memcpy(d, "\x72\x73\x02\x36\x51\x40\x00\x00\x00\x00\x00\x00\x00\x10"
	    "\x00", 15);
	CHECK_INT(try_patch(tpath("b1000"), d, 15, &out), ARCA_ERR_CORRUPT);
	memcpy(d, "\x72\x73\x02\x36\x51\xff\xff\xff\xff\xff\xff\xff\xf0\x10"
	    "\x00", 15);
	CHECK_INT(try_patch(tpath("b1000"), d, 15, &out), ARCA_ERR_CORRUPT);
	/* A huge COPY length from offset 0. */
	memcpy(d, "\x72\x73\x02\x36\x48\x00\x7f\xff\xff\xff\xff\xff\xff\xff"
	    "\x00", 15);
	CHECK_INT(try_patch(tpath("b1000"), d, 15, &out), ARCA_ERR_CORRUPT);
	CHECK(out.len <= 1000);

	/* Not a delta at all, an empty one, a signature. */
	CHECK_INT(try_patch(tpath("b1000"), "garbage!", 8, &out),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(try_patch(tpath("b1000"), "", 0, &out), ARCA_ERR_CORRUPT);
	CHECK_INT(make_sig(basis, sizeof(basis), 100, 0, &sig), 0);
	CHECK_INT(try_patch(tpath("b1000"), sig.data, sig.len, &out),
	    ARCA_ERR_CORRUPT);
	/* A reserved command byte. */
	memcpy(d, "\x72\x73\x02\x36\x55\x00", 6);
	CHECK_INT(try_patch(tpath("b1000"), d, 6, &out), ARCA_ERR_CORRUPT);
	/* A literal that promises more bytes than follow (no END). */
	memcpy(d, "\x72\x73\x02\x36\x44\x00\x00\x00\x00\x10\x00\x00\x00" "abc",
	    16);
	CHECK_INT(try_patch(tpath("b1000"), d, 16, &out), ARCA_ERR_CORRUPT);
	/* Data after END. */
	memcpy(d, "\x72\x73\x02\x36\x02xy\x00z", 9);
	CHECK_INT(try_patch(tpath("b1000"), d, 8, &out), 0);
	CHECK_INT(out.len, 2);
	CHECK_INT(try_patch(tpath("b1000"), d, 9, &out), ARCA_ERR_CORRUPT);

	/* Every truncation of a real delta is refused, none crashes. */
	CHECK_INT(make_sig(basis, sizeof(basis), 1000, 0, &sig), 0);
	memcpy(d, basis, 200);
	memcpy(d + 200, "a new middle", 12);
	memcpy(d + 212, basis + 600, 40);
	CHECK_INT(make_delta(&sig, d, 252, 252, &delta), 0);
	CHECK_INT(try_patch(tpath("b1000"), delta.data, delta.len, &out), 0);
	CHECK(out.len == 252 && memcmp(out.data, d, 252) == 0);
	for (n = 0; n < delta.len; n++)
		CHECK_INT(try_patch(tpath("b1000"), delta.data, n, &out),
		    ARCA_ERR_CORRUPT);

	/* Using a job after it failed is an error, not a crash. */
	{
		struct arca_rsync_patch *p;
		int fd = open(tpath("b1000"), O_RDONLY);

		CHECK_INT(arca_rsync_patch_new(&ctx, fd, &p), 0);
		CHECK_INT(arca_rsync_patch_update(p, "junkjunk", 8, &out),
		    ARCA_ERR_CORRUPT);
		CHECK(arca_rsync_patch_finish(p, &out) < 0);
		arca_rsync_patch_free(p);
		close(fd);
	}
	arca_buf_free(&sig);
	arca_buf_free(&delta);
	arca_buf_free(&out);
}

/*
 * Random deltas and random (well-formed) signatures: every outcome is a
 * clean success or ARCA_ERR_CORRUPT, never a crash, a hang or huge output.
 */
static void
test_random_inputs(void)
{
	unsigned char basis[1000], d[80], sig[12 + 40 * 20], data[20000];
	struct arca_buf out = { 0 };
	uint64_t x = 12345;
	size_t n, i, bl, sl, nb;
	int r, ok = 1, seen_ok = 0;

	fill_random(basis, sizeof(basis), 6);
	write_file(tpath("rb"), basis, sizeof(basis));
	for (i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 4 + (x >> 33) % 60;
		memcpy(d, "\x72\x73\x02\x36", 4);
		fill_random(d + 4, n - 4, x);
		/* Mostly small COPY/LITERAL commands and ENDs. */
		if (x & 0x100)
			d[4] = (unsigned char)(0x41 + (x >> 20) % 20);
		if (x & 0x200)
			d[n - 1] = 0;
		r = apply_patch(tpath("rb"), d, n, 1 + (x >> 40) % 9, &out);
		if (r != 0 && r != ARCA_ERR_CORRUPT)
			ok = 0;
		if (r == 0)
			seen_ok++;
		if (out.len > 60 * 1000)
			ok = 0;
	}
	CHECK(ok);
	CHECK(seen_ok > 0);

	fill_random(data, sizeof(data), 7);
	for (i = 0; i < 300; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		bl = 1 + (x >> 30) % 3000;
		sl = 1 + (x >> 50) % 16;
		nb = (x >> 20) % 20;
		memcpy(sig, "\x72\x73\x01\x36", 4);
		sig[4] = (unsigned char)(bl >> 24);
		sig[5] = (unsigned char)(bl >> 16);
		sig[6] = (unsigned char)(bl >> 8);
		sig[7] = (unsigned char)bl;
		memcpy(sig + 8, "\0\0\0", 3);
		sig[11] = (unsigned char)sl;
		fill_random(sig + 12, nb * (4 + sl), x);
		{
			struct arca_buf sb = { sig, 12 + nb * (4 + sl), 0, 0 };

			r = make_delta(&sb, data, sizeof(data), 1 + x % 5000,
			    &out);
		}
		CHECK_INT(r, 0);
	}
	arca_buf_free(&out);
}

/* A sink that counts and remembers the largest write. */
struct count_sink {
	struct arca_sink base;
	size_t total, largest;
	struct arca_buf *copy;
};

static int
count_write(struct arca_sink *s, const void *p, size_t n)
{
	struct count_sink *c = (struct count_sink *)s;

	c->total += n;
	if (n > c->largest)
		c->largest = n;
	return c->copy ? arca_buf_append(c->copy, p, n) : 0;
}

static int
count_close(struct arca_sink *s)
{
	return 0;
}

static void
count_free(struct arca_sink *s)
{
}

/*
 * A 16-byte delta that copies a 3 MB basis three times: the sink form passes
 * it on in bounded pieces, the buffer form honours the buffer's cap.
 */
static void
test_patch_memory(void)
{
	unsigned char *p = malloc(BIG);
	unsigned char d[64];
	struct arca_buf out = { 0 }, copy = { 0 };
	struct count_sink cs = { { count_write, count_close, count_free,
	    NULL, 0 }, 0, 0, &copy };
	struct arca_rsync_patch *pt;
	size_t i;
	int fd;

	fill_random(p, BIG, 3);
	write_file(tpath("big3"), p, BIG);
	/* magic, 3 x COPY_N1_N4(0, 3 MiB), END */
	memcpy(d, "\x72\x73\x02\x36", 4);
	for (i = 0; i < 3; i++)
		memcpy(d + 4 + 6 * i, "\x47\x00\x00\x30\x00\x00", 6);
	d[22] = 0;

	fd = open(tpath("big3"), O_RDONLY);
	CHECK_INT(arca_rsync_patch_new(&ctx, fd, &pt), 0);
	for (i = 0; i < 23; i++)
		CHECK_INT(arca_rsync_patch_update_sink(pt, d + i, 1,
		    &cs.base), 0);
	CHECK_INT(arca_rsync_patch_finish_sink(pt, &cs.base), 0);
	arca_rsync_patch_free(pt);
	CHECK_INT(cs.total, 3 * BIG);
	CHECK_INT(cs.base.bytes, 3 * BIG);
	CHECK(cs.largest <= 65536);
	CHECK(copy.len == 3 * (size_t)BIG &&
	    memcmp(copy.data + 2 * BIG, p, BIG) == 0);

	out.max = 1000000;
	ctx.errmsg[0] = '\0';
	CHECK_INT(arca_rsync_patch_new(&ctx, fd, &pt), 0);
	CHECK_INT(arca_rsync_patch_update(pt, d, 23, &out), ARCA_ERR_NOMEM);
	CHECK(out.len <= 1000000);
	CHECK(strstr(ctx.errmsg, "limit") != NULL);
	arca_rsync_patch_free(pt);
	close(fd);
	free(p);
	arca_buf_free(&out);
	arca_buf_free(&copy);
}

static int
sha256_is(const struct arca_buf *b, const char *want)
{
	char cmd[1024], got[65] = "";
	FILE *f;
	int ok;

	write_file(tpath("sha-in"), b->data, b->len);
	FMT(cmd, "sha256sum '%s'", tpath("sha-in"));
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	ok = fscanf(f, "%64s", got) == 1 && strcmp(got, want) == 0;
	pclose(f);
	if (!ok)
		fprintf(stderr, "sha256 %s, expected %s\n", got, want);
	return ok;
}

/*
 * The duplicity fixtures: rebuild big.bin from the full backup's 64 KiB
 * chunks, check our signature against duplicity's, then apply inc 1's diff
 * and inc 2's 17-chunk multivol_diff (fed chunk by chunk) and compare with
 * the sha256 sums in expected.json.
 */
static void
test_fixture(void)
{
	char dir[PATH_MAX], p[PATH_MAX + 200];
	struct arca_buf big = { 0 }, f = { 0 }, sig = { 0 }, out = { 0 };
	struct arca_rsync_patch *pt;
	int i, fd;

	FMT(p, "%s/duplicity-0.8.22/plain", test_data_dir());
	/* The extractions below run in other directories. */
	if (realpath(p, dir) == NULL || access(dir, R_OK) != 0) {
		fprintf(stderr, "SKIP fixture: %s missing\n", dir);
		CHECK(0);
		return;
	}
	CHECK_INT(sh("set -e; mkdir -p %s/full %s/inc1 %s/inc2", tmp, tmp, tmp),
	    0);
	CHECK_INT(sh("set -e; cd %s/full; for v in "
	    "%s/duplicity-full.2*.difftar.gz "
	    "%s/duplicity-full-signatures.*.sigtar.gz; do tar -xzf $v; done",
	    tmp, dir, dir), 0);
	CHECK_INT(sh("set -e; cd %s/inc1; for v in "
	    "%s/duplicity-inc.20240101T*.gz "
	    "%s/duplicity-new-signatures.20240101T*.gz; do tar -xzf $v; done",
	    tmp, dir, dir), 0);
	CHECK_INT(sh("set -e; cd %s/inc2; for v in %s/duplicity-inc.20240102T*"
	    ".difftar.gz; do tar -xzf $v; done%s", tmp, dir, ""), 0);

	/* Small file: content in snapshot/, signature in signature/. */
	FMT(p, "%s/full/snapshot/README.txt", tmp);
	CHECK_INT(read_file(p, &f), 0);
	CHECK_INT(make_sig(f.data, f.len, 7, 0, &sig), 0);
	FMT(p, "%s/full/signature/README.txt", tmp);
	CHECK_INT(read_file(p, &f), 0);
	CHECK(f.len == sig.len && memcmp(f.data, sig.data, sig.len) == 0);

	for (i = 1; ; i++) {
		FMT(p, "%s/full/multivol_snapshot/big.bin/%d",
		    tmp, i);
		if (read_file(p, &f) != 0)
			break;
		arca_buf_append(&big, f.data, f.len);
	}
	CHECK_INT(i, 21);
	CHECK_INT(big.len, 1300000);
	CHECK(sha256_is(&big, "f9721e97703ed3144ebc6f4f37ec073ddbb376ce7b19c5d4"
	    "6121aa8ca09c760d"));
	CHECK_INT(make_sig(big.data, big.len, 65536, 0, &sig), 0);
	FMT(p, "%s/full/signature/big.bin", tmp);
	CHECK_INT(read_file(p, &f), 0);
	CHECK_INT(f.len, 30492);
	CHECK(f.len == sig.len && memcmp(f.data, sig.data, sig.len) == 0);

	/* inc 1: diff/big.bin */
	write_file(tpath("big.t1"), big.data, big.len);
	FMT(p, "%s/inc1/diff/big.bin", tmp);
	CHECK_INT(read_file(p, &f), 0);
	CHECK_INT(apply_patch(tpath("big.t1"), f.data, f.len, 100, &out), 0);
	CHECK(sha256_is(&out, "07c1c89d231d7ca938b1cd316fc0259fb598b4702c45549d"
	    "74dff17189eb5fe0"));
	CHECK_INT(make_sig(out.data, out.len, 4096, 0, &sig), 0);
	FMT(p, "%s/inc1/signature/big.bin", tmp);
	CHECK_INT(read_file(p, &f), 0);
	CHECK(f.len == sig.len && memcmp(f.data, sig.data, sig.len) == 0);

	/* inc 2: multivol_diff/big.bin/1..17, one update per chunk */
	write_file(tpath("big.t2"), out.data, out.len);
	fd = open(tpath("big.t2"), O_RDONLY);
	CHECK_INT(arca_rsync_patch_new(&ctx, fd, &pt), 0);
	arca_buf_reset(&big);
	for (i = 1; ; i++) {
		FMT(p, "%s/inc2/multivol_diff/big.bin/%d",
		    tmp, i);
		if (read_file(p, &f) != 0)
			break;
		CHECK_INT(arca_rsync_patch_update(pt, f.data, f.len, &big), 0);
	}
	CHECK_INT(i, 18);
	CHECK_INT(arca_rsync_patch_finish(pt, &big), 0);
	arca_rsync_patch_free(pt);
	close(fd);
	CHECK_INT(big.len, 1400000);
	CHECK(sha256_is(&big, "0de7dc9ff5b15a261a1e0cb7d0f587a0c2705273f89447e5"
	    "270228dd6b050ba1"));

	arca_buf_free(&big);
	arca_buf_free(&f);
	arca_buf_free(&sig);
	arca_buf_free(&out);
}

int
main(void)
{
	char cmd[600];

	if (system("rdiff --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "rdiff is missing: install the rdiff "
		    "package\n");
		return 1;
	}
	tmp = test_tmpdir();
	RUN(test_hello);
	RUN(test_empty);
	RUN(test_block_len);
	RUN(test_sig_length);
	RUN(test_sig_vs_rdiff);
	RUN(test_delta_roundtrip_rdiff);
	RUN(test_pieces);
	RUN(test_bad_signatures);
	RUN(test_bad_deltas);
	RUN(test_random_inputs);
	RUN(test_patch_memory);
	RUN(test_fixture);
	FMT(cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	free(tmp);
	TEST_DONE();
}
