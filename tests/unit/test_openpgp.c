/*
 * test_openpgp.c: the built-in OpenPGP engine, both ways against stock gpg
 * (throwaway GnuPG homes), against checked-in vectors that gpg wrote
 * (tests/data/openpgp/), against the duplicity 0.8.22 fixtures, and
 * against hostile messages crafted here with libgcrypt.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gcrypt.h>
#include <zlib.h>

#include "crypto/openpgp.h"
#include "crypto/openpgp_internal.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

#define FMT(b, ...) do { \
	if ((size_t)snprintf((b), sizeof(b), __VA_ARGS__) >= sizeof(b)) { \
		fprintf(stderr, "%s:%d: string too long\n", __FILE__, \
		    __LINE__); \
		exit(2); \
	} \
} while (0)

#define PASS	"correct horse battery"
#define KATPASS	"arca-kat-passphrase"
#define FIXPASS	"fixture-passphrase"

static struct arca_ctx ctx;
static char *tmp;
static char home[64];		/* the GnuPG home of every gpg run here */

static const char *
tpath(const char *name)
{
	static char p[8][PATH_MAX];
	static int k;

	k = (k + 1) % 8;
	FMT(p[k], "%s/%s", tmp, name);
	return p[k];
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

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

/* Text that deflate shrinks to about a third. */
static void
fill_text(unsigned char *p, size_t n, uint64_t seed)
{
	static const char *const w[] = { "the ", "backup ", "of ", "volume ",
	    "and ", "a ", "signature ", "to ", "chain ", "restore ",
	    "passphrase ", "is ", "in ", "encrypted ", "file ", "time.\n" };
	uint64_t x = seed | 1;
	size_t i = 0, l;
	const char *s;

	while (i < n) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		s = w[(x * 2685821657736338717ULL) >> 60];
		for (l = 0; s[l] != '\0' && i < n; l++)
			p[i++] = (unsigned char)s[l];
	}
}

enum kind { TEXT, RANDOM, MIXED };

/* Mixed: runs of text and random of uneven lengths, so they straddle
 * the 64 KiB deflate blocks. */
static void
fill(unsigned char *p, size_t n, enum kind k, uint64_t seed)
{
	size_t i = 0, run_len;
	int r = 0;

	if (k != MIXED) {
		(k == TEXT ? fill_text : fill_random)(p, n, seed);
		return;
	}
	while (i < n) {
		run_len = 10000 + (seed * 7919 + i) % 90000;
		if (run_len > n - i)
			run_len = n - i;
		(r ? fill_random : fill_text)(p + i, run_len, seed + i);
		r = !r;
		i += run_len;
	}
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
same_file(const char *a, const char *b)
{
	struct arca_buf x = { 0 }, y = { 0 };
	int same;

	same = read_file(a, &x) == 0 && read_file(b, &y) == 0 &&
	    x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) ==
	    0);
	if (!same)
		fprintf(stderr, "  %s (%zu bytes) differs from %s (%zu)\n", a,
		    x.len, b, y.len);
	arca_buf_free(&x);
	arca_buf_free(&y);
	return same;
}

static struct arca_pgp *
engine(const char *pass, int flags)
{
	struct arca_pgp_opts o;
	struct arca_pgp *p = NULL;

	arca_pgp_opts_init(&o);
	o.passphrase = pass;
	o.flags = flags;
	CHECK_INT(arca_pgp_new(&ctx, &o, &p), 0);
	return p;
}

/* Encrypt or decrypt file in to file out with p; returns its result. */
static int
pgp_file(struct arca_pgp *p, int enc, const char *in, const char *out)
{
	int ifd, ofd, r;

	ifd = open(in, O_RDONLY);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (ifd < 0 || ofd < 0) {
		perror(in);
		exit(2);
	}
	ctx.errmsg[0] = '\0';
	r = enc ? arca_pgp_encrypt_fd(p, ifd, ofd, in) :
	    arca_pgp_decrypt_fd(p, ifd, ofd, in);
	close(ifd);
	close(ofd);
	if (r != 0 && getenv("ARCA_TEST_VERBOSE") != NULL)
		fprintf(stderr, "  -> %d: %s\n", r, ctx.errmsg);
	/* No message may ever contain a passphrase. */
	CHECK(strstr(ctx.errmsg, PASS) == NULL);
	CHECK(strstr(ctx.errmsg, KATPASS) == NULL);
	/* Every error names the file. */
	if (r != 0)
		CHECK(strstr(ctx.errmsg, in) != NULL);
	return r;
}

/* Stock gpg decrypts in to out; its exit code. */
static int
gpg_decrypt(const char *pass, const char *in, const char *out)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --yes --no-symkey-cache "
	    "--pinentry-mode loopback --passphrase '%s' -o '%s' -d '%s' "
	    "2>/dev/null", home, pass, out, in);
	unlink(out);
	return run(cmd);
}

/* Stock gpg encrypts in to out with opts, from a pipe or the file. */
static int
gpg_encrypt(const char *opts, const char *in, const char *out, int pipe)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --yes --no-symkey-cache "
	    "--pinentry-mode loopback --passphrase '%s' %s -c -o '%s' %s'%s' "
	    "2>/dev/null", home, PASS, opts, out, pipe ? "< " : "", in);
	return run(cmd);
}

/* Our own files: every size across the partial-chunk edges, 3 kinds. */
static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 511, 512, 65535, 65536,
	    65537, 131072, 200001, 3 << 20 };
	struct arca_pgp *w = engine(PASS, 0), *r = engine(PASS, 0);
	struct arca_pgp_stats st;
	unsigned char *data = malloc(3 << 20);
	size_t i;
	int k;

	if (w == NULL || r == NULL || data == NULL)
		goto out;
	for (k = TEXT; k <= MIXED; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			fill(data, sizes[i], (enum kind)k, i + 1);
			write_file(tpath("rt.in"), data, sizes[i]);
			CHECK_INT(pgp_file(w, 1, tpath("rt.in"),
			    tpath("rt.gpg")), 0);
			CHECK_INT(pgp_file(r, 0, tpath("rt.gpg"),
			    tpath("rt.out")), 0);
			CHECK(same_file(tpath("rt.in"), tpath("rt.out")));
		}
	/* One derivation for all the writing, one for all the reading. */
	arca_pgp_stats(w, &st);
	CHECK_INT(st.derivations, 1);
	CHECK(st.stored_blocks > 0);
	CHECK(st.deflated_blocks > 0);
	arca_pgp_stats(r, &st);
	CHECK_INT(st.derivations, 1);
	CHECK_INT(st.cache_hits, 3 * sizeof(sizes) / sizeof(sizes[0]) - 1);
out:
	free(data);
	arca_pgp_free(w);
	arca_pgp_free(r);
}

/* Stock gpg decrypts what we write: sizes, kinds, flags. */
static void
test_gpg_reads_ours(void)
{
	static const size_t sizes[] = { 0, 1, 65536, 300000, (5 << 20) + 3 };
	static const int flags[] = { 0, ARCA_PGP_NO_COMPRESS,
	    ARCA_PGP_NO_STORE };
	unsigned char *data = malloc((5 << 20) + 3);
	struct arca_pgp *w;
	size_t i, f;
	int k;

	if (data == NULL)
		return;
	for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		if ((w = engine(PASS, flags[f])) == NULL)
			continue;
		for (k = TEXT; k <= MIXED; k++)
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				/* The flag variants: the interesting sizes. */
				if (f > 0 && (sizes[i] < 300000 || k != MIXED))
					continue;
				fill(data, sizes[i], (enum kind)k, 7 * i + 3);
				write_file(tpath("g.in"), data, sizes[i]);
				CHECK_INT(pgp_file(w, 1, tpath("g.in"),
				    tpath("g.gpg")), 0);
				CHECK_INT(gpg_decrypt(PASS, tpath("g.gpg"),
				    tpath("g.out")), 0);
				CHECK(same_file(tpath("g.in"), tpath("g.out")));
			}
		arca_pgp_free(w);
	}
	free(data);
}

/* We decrypt what gpg writes with each option. */
static void
test_ours_reads_gpg(void)
{
	static const char *const opts[] = {
		"--cipher-algo AES", "--cipher-algo AES192",
		"--cipher-algo AES256", "--cipher-algo CAMELLIA128",
		"--cipher-algo CAMELLIA192", "--cipher-algo CAMELLIA256",
		"--cipher-algo TWOFISH", "--cipher-algo 3DES",
		"--cipher-algo CAST5", "--cipher-algo BLOWFISH",
		"--cipher-algo IDEA",
		"--s2k-digest-algo SHA1", "--s2k-digest-algo SHA256",
		"--s2k-digest-algo SHA512", "--s2k-digest-algo SHA224",
		"--s2k-digest-algo SHA384", "--s2k-digest-algo RIPEMD160",
		"--s2k-count 65536", "--s2k-count 1048576",
		"--s2k-mode 0", "--s2k-mode 1", "--s2k-mode 3",
		"--compress-algo none", "--compress-algo zip",
		"--compress-algo zlib", "--compress-algo bzip2",
		"--compress-algo zip --compress-level 9",
		"--compress-algo bzip2 --bzip2-compress-level 1",
		"--openpgp", "--rfc4880", "--force-v3-sigs",
		"--cipher-algo CAST5 --compress-algo none --s2k-mode 1",
	};
	unsigned char *data = malloc(400000);
	struct arca_pgp *r = engine(PASS, 0);
	struct arca_pgp_stats st;
	char o[256];
	size_t i;
	int pipe;

	if (data == NULL || r == NULL)
		goto out;
	fill(data, 400000, MIXED, 99);
	write_file(tpath("in"), data, 400000);
	write_file(tpath("empty"), data, 0);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		for (pipe = 0; pipe <= 1; pipe++) {
			/* Cheap S2K where the option is not the count. */
			FMT(o, "%s%s", opts[i], strstr(opts[i], "count") ||
			    strstr(opts[i], "mode") ? "" :
			    " --s2k-count 65536");
			if (gpg_encrypt(o, tpath("in"), tpath("x.gpg"),
			    pipe) != 0) {
				fprintf(stderr, "  gpg cannot: %s\n", o);
				CHECK(0);
				continue;
			}
			if (pgp_file(r, 0, tpath("x.gpg"), tpath("x.out")) !=
			    0)
				fprintf(stderr, "  failed: gpg %s (%s): %s\n",
				    o, pipe ? "pipe" : "file", ctx.errmsg);
			CHECK(same_file(tpath("in"), tpath("x.out")));
		}
	/* Empty input, both ways of feeding it. */
	for (pipe = 0; pipe <= 1; pipe++) {
		CHECK_INT(gpg_encrypt("--s2k-count 65536", tpath("empty"),
		    tpath("e.gpg"), pipe), 0);
		CHECK_INT(pgp_file(r, 0, tpath("e.gpg"), tpath("e.out")), 0);
		CHECK(same_file(tpath("empty"), tpath("e.out")));
	}
	/*
	 * Every gpg run had its own salt: one derivation each, except the
	 * two with --s2k-mode 0, which has no salt.
	 */
	arca_pgp_stats(r, &st);
	CHECK_INT(st.cache_hits, 1);
out:
	free(data);
	arca_pgp_free(r);
}

/* The vectors gpg wrote once (make-vectors.sh), as checked in. */
static void
test_vectors(void)
{
	static const char *const names[] = { "default",
	    "aes128-sha256-zlib", "aes192-sha512-bzip2",
	    "camellia256-s2k1-none", "camellia128-s2k0-zip",
	    "twofish-sha224", "3des-sha384-file-none", "cast5-rmd160",
	    "blowfish", "skesk-esk-pkesk" };
	struct arca_pgp *r = engine(KATPASS, 0), *old = NULL;
	char in[PATH_MAX], plain[PATH_MAX];
	size_t i;

	if (r == NULL)
		return;
	FMT(plain, "%s/openpgp/plain.bin", test_data_dir());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FMT(in, "%s/openpgp/%s.gpg", test_data_dir(), names[i]);
		if (pgp_file(r, 0, in, tpath("v.out")) != 0)
			fprintf(stderr, "  %s: %s\n", names[i], ctx.errmsg);
		CHECK(same_file(plain, tpath("v.out")));
	}
	FMT(in, "%s/openpgp/empty.gpg", test_data_dir());
	CHECK_INT(pgp_file(r, 0, in, tpath("v.out")), 0);
	CHECK(same_file("/dev/null", tpath("v.out")));

	/* No MDC: refused, unless allowed (old backups). */
	FMT(in, "%s/openpgp/cast5-nomdc.gpg", test_data_dir());
	CHECK_INT(pgp_file(r, 0, in, tpath("v.out")), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "not integrity protected") != NULL);
	if ((old = engine(KATPASS, ARCA_PGP_ALLOW_NO_MDC)) != NULL) {
		CHECK_INT(pgp_file(old, 0, in, tpath("v.out")), 0);
		CHECK(same_file(plain, tpath("v.out")));
		/* And a wrong passphrase still fails there. */
		arca_pgp_free(old);
		old = engine("not it", ARCA_PGP_ALLOW_NO_MDC);
		CHECK_INT(pgp_file(old, 0, in, tpath("v.out")), ARCA_ERR_AUTH);
	}
	/* Public key only: a clear refusal, and the probe says so. */
	FMT(in, "%s/openpgp/pkesk-only.gpg", test_data_dir());
	CHECK_INT(pgp_file(r, 0, in, tpath("v.out")), ARCA_ERR_CRYPTO);
	CHECK(strstr(ctx.errmsg, "public key") != NULL);
	arca_pgp_free(old);
	arca_pgp_free(r);
}

static int
probe(const char *path)
{
	int fd = open(path, O_RDONLY), r;

	r = arca_pgp_probe_fd(fd);
	close(fd);
	return r;
}

static void
test_probe(void)
{
	char in[PATH_MAX];

	FMT(in, "%s/openpgp/pkesk-only.gpg", test_data_dir());
	CHECK_INT(probe(in), 0);
	FMT(in, "%s/openpgp/skesk-esk-pkesk.gpg", test_data_dir());
	CHECK_INT(probe(in), 1);
	FMT(in, "%s/openpgp/default.gpg", test_data_dir());
	CHECK_INT(probe(in), 1);
	FMT(in, "%s/openpgp/plain.bin", test_data_dir());
	CHECK_INT(probe(in), 0);
	CHECK_INT(probe("/dev/null"), 0);
	CHECK_INT(arca_pgp_probe_fd(-1), ARCA_ERR_IO);
}

/* Every file duplicity 0.8.22 wrote through gpg. */
static void
test_fixtures(void)
{
	static const char *const names[] = {
		"duplicity-full-signatures.20240101T000000Z.sigtar.gpg",
		"duplicity-full.20240101T000000Z.manifest.gpg",
		"duplicity-full.20240101T000000Z.vol1.difftar.gpg",
		"duplicity-full.20240101T000000Z.vol2.difftar.gpg",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.manifest.gpg",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol1.difftar.gpg",
		"duplicity-inc.20240102T000000Z.to.20240103T000000Z.manifest.gpg",
		"duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol1.difftar.gpg",
		"duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol2.difftar.gpg",
		"duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z.sigtar.gpg",
		"duplicity-new-signatures.20240102T000000Z.to.20240103T000000Z.sigtar.gpg",
	};
	struct arca_pgp *r = engine(FIXPASS, 0);
	char p[PATH_MAX];
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FMT(p, "%s/duplicity-0.8.22/encrypted/%s", test_data_dir(),
		    names[i]);
		CHECK_INT(pgp_file(r, 0, p, tpath("fx")), 0);
		CHECK_INT(gpg_decrypt(FIXPASS, p, tpath("fx.cli")), 0);
		CHECK(same_file(tpath("fx"), tpath("fx.cli")));
	}
	arca_pgp_free(r);
}

static void
test_wrong_passphrase(void)
{
	unsigned char data[5000];
	struct arca_pgp *w = engine(PASS, 0), *bad = engine(PASS "X", 0);
	struct arca_pgp *line2 = engine(PASS "\nsecond line", 0);
	struct arca_pgp *empty = engine("", 0);
	char want[PATH_MAX + 64];

	if (w == NULL || bad == NULL || line2 == NULL || empty == NULL)
		goto out;
	fill(data, sizeof(data), TEXT, 5);
	write_file(tpath("wp.in"), data, sizeof(data));
	CHECK_INT(pgp_file(w, 1, tpath("wp.in"), tpath("wp.gpg")), 0);
	FMT(want, "wrong passphrase for %s", tpath("wp.gpg"));
	CHECK_INT(pgp_file(bad, 0, tpath("wp.gpg"), tpath("wp.out")),
	    ARCA_ERR_AUTH);
	CHECK_STR(ctx.errmsg, want);
	/* gpg's rule: only the first line is the passphrase. */
	CHECK_INT(pgp_file(line2, 0, tpath("wp.gpg"), tpath("wp.out")), 0);
	CHECK(same_file(tpath("wp.in"), tpath("wp.out")));
	CHECK_INT(pgp_file(empty, 0, tpath("wp.gpg"), tpath("wp.out")),
	    ARCA_ERR_AUTH);
	CHECK_INT(pgp_file(empty, 1, tpath("wp.in"), tpath("wp.out")),
	    ARCA_ERR_AUTH);
	/* A file gpg wrote (no session key in the SKESK: quick check). */
	CHECK_INT(gpg_encrypt("--s2k-count 65536", tpath("wp.in"),
	    tpath("wp2.gpg"), 0), 0);
	CHECK_INT(pgp_file(bad, 0, tpath("wp2.gpg"), tpath("wp.out")),
	    ARCA_ERR_AUTH);
	/* And gpg refuses our file with the wrong passphrase. */
	CHECK(gpg_decrypt(PASS "X", tpath("wp.gpg"), tpath("wp.out")) != 0);
out:
	arca_pgp_free(w);
	arca_pgp_free(bad);
	arca_pgp_free(line2);
	arca_pgp_free(empty);
}

/* Flip one bit at off of file in into out. */
static void
flip(const char *in, const char *out, size_t off)
{
	struct arca_buf b = { 0 };

	CHECK_INT(read_file(in, &b), 0);
	if (off < b.len)
		b.data[off] ^= 0x10;
	write_file(out, b.data, b.len);
	arca_buf_free(&b);
}

static size_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void
test_tampered(void)
{
	unsigned char *data = malloc(400000);
	struct arca_pgp *p = engine(PASS, 0);
	size_t n, i, offs[6];
	int k, r;

	if (data == NULL || p == NULL)
		goto out;
	for (k = TEXT; k <= MIXED; k++) {
		fill(data, 400000, (enum kind)k, 11);
		write_file(tpath("t.in"), data, 400000);
		CHECK_INT(pgp_file(p, 1, tpath("t.in"), tpath("t.gpg")), 0);
		n = file_size(tpath("t.gpg"));
		/* Prefix, early, middle, late data, the MDC itself. */
		offs[0] = 50 + 3;
		offs[1] = 50 + 100;
		offs[2] = n / 2;
		offs[3] = n - 100;
		offs[4] = n - 10;
		offs[5] = n - 1;
		for (i = 0; i < 6; i++) {
			flip(tpath("t.gpg"), tpath("t.bad"), offs[i]);
			r = pgp_file(p, 0, tpath("t.bad"), tpath("t.out"));
			if (r == ARCA_ERR_AUTH) {
				/* The prefix's quick check caught it. */
				CHECK_INT(i, 0);
				continue;
			}
			CHECK_INT(r, ARCA_ERR_CORRUPT);
			if (strstr(ctx.errmsg, "integrity check failed") ==
			    NULL)
				fprintf(stderr, "  kind %d off %zu: %s\n", k,
				    offs[i], ctx.errmsg);
			CHECK(strstr(ctx.errmsg, "integrity check failed") !=
			    NULL);
		}
		/* gpg agrees that these are bad. */
		CHECK(gpg_decrypt(PASS, tpath("t.bad"), tpath("t.out")) != 0);
	}
out:
	free(data);
	arca_pgp_free(p);
}

static void
test_truncated(void)
{
	unsigned char *data = malloc(300000);
	struct arca_buf b = { 0 };
	struct arca_pgp *p = engine(PASS, 0);
	static const size_t cuts[] = { 0, 1, 2, 10, 47, 48, 49, 60, 70,
	    1000, 65600, 150000 };
	size_t i, n;
	int r;

	if (data == NULL || p == NULL)
		goto out;
	fill(data, 300000, MIXED, 12);
	write_file(tpath("tr.in"), data, 300000);
	CHECK_INT(pgp_file(p, 1, tpath("tr.in"), tpath("tr.gpg")), 0);
	CHECK_INT(read_file(tpath("tr.gpg"), &b), 0);
	n = b.len;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]) + 3; i++) {
		size_t cut = i < sizeof(cuts) / sizeof(cuts[0]) ? cuts[i] :
		    n - 1 - (i - sizeof(cuts) / sizeof(cuts[0])) * 11;

		write_file(tpath("tr.bad"), b.data, cut);
		r = pgp_file(p, 0, tpath("tr.bad"), tpath("tr.out"));
		CHECK_INT(r, ARCA_ERR_CORRUPT);
		if (strstr(ctx.errmsg, "truncated") == NULL &&
		    strstr(ctx.errmsg, "integrity") == NULL &&
		    strstr(ctx.errmsg, "empty file") == NULL)
			fprintf(stderr, "  cut %zu: %s\n", cut, ctx.errmsg);
		CHECK(strstr(ctx.errmsg, "truncated") != NULL ||
		    strstr(ctx.errmsg, "integrity") != NULL ||
		    strstr(ctx.errmsg, "empty file") != NULL);
	}
	/* Trailing junk after a good message. */
	arca_buf_append(&b, "junk", 4);
	write_file(tpath("tr.bad"), b.data, b.len);
	CHECK_INT(pgp_file(p, 0, tpath("tr.bad"), tpath("tr.out")),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "after the encrypted packet") != NULL);
	/* Not OpenPGP at all. */
	CHECK_INT(pgp_file(p, 0, tpath("tr.in"), tpath("tr.out")),
	    ARCA_ERR_CORRUPT);
out:
	arca_buf_free(&b);
	free(data);
	arca_pgp_free(p);
}

/*
 * Hostile messages built here: passphrase PASS, S2K simple SHA-256 (so
 * the session key is SHA-256(PASS)), AES-256, and whatever packets the
 * test wants inside.
 */
struct craft {
	int skesk_ver, skesk_cipher, s2k_type, s2k_hash;
	int marker;		/* a marker packet first */
	int pkesk_only;		/* a (bogus) PKESK instead of the SKESK */
	int tag;		/* 18 SEIPD, 9 SE, 20 AEAD */
	int seipd_ver;
	int no_mdc;		/* SEIPD without the MDC packet */
	int old_hdr;		/* old-format header for the data packet */
	int skesk_partial;	/* a partial length on the SKESK */
};

static void
craft_defaults(struct craft *c)
{
	memset(c, 0, sizeof(*c));
	c->skesk_ver = 4;
	c->skesk_cipher = 9;
	c->s2k_type = 0;
	c->s2k_hash = 8;
	c->tag = 18;
	c->seipd_ver = 1;
}

/* A new-format (or old-format, 4-octet) header for a body of n bytes. */
static void
put_hdr(struct arca_buf *b, int tag, size_t n, int old)
{
	unsigned char h[6];

	if (old) {
		h[0] = 0x80 | (unsigned char)(tag << 2) | 2;
		h[1] = (unsigned char)(n >> 24);
		h[2] = (unsigned char)(n >> 16);
		h[3] = (unsigned char)(n >> 8);
		h[4] = (unsigned char)n;
		arca_buf_append(b, h, 5);
		return;
	}
	h[0] = 0xc0 | (unsigned char)tag;
	h[1] = 255;
	h[2] = (unsigned char)(n >> 24);
	h[3] = (unsigned char)(n >> 16);
	h[4] = (unsigned char)(n >> 8);
	h[5] = (unsigned char)n;
	arca_buf_append(b, h, 6);
}

static void
put_pkt(struct arca_buf *b, int tag, const void *body, size_t n)
{
	put_hdr(b, tag, n, 0);
	arca_buf_append(b, body, n);
}

/* A literal packet holding s. */
static void
lit(struct arca_buf *b, const char *s)
{
	struct arca_buf body = { 0 };

	arca_buf_append(&body, "b\0\0\0\0\0", 6);
	arca_buf_append(&body, s, strlen(s));
	put_pkt(b, 11, body.data, body.len);
	arca_buf_free(&body);
}

/* A compressed packet of algorithm algo around inner (zlib does 1, 2). */
static void
comp(struct arca_buf *b, int algo, const struct arca_buf *inner, int badsum)
{
	struct arca_buf body = { 0 };
	unsigned char out[65536];
	z_stream zs;

	arca_buf_putc(&body, algo);
	if (algo == 1 || algo == 2) {
		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 6, Z_DEFLATED, algo == 1 ? -15 : 15, 8,
		    Z_DEFAULT_STRATEGY);
		zs.next_in = inner->data;
		zs.avail_in = (uInt)inner->len;
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		deflate(&zs, Z_FINISH);
		if (badsum)
			out[zs.total_out - 1] ^= 1;
		arca_buf_append(&body, out, zs.total_out);
		deflateEnd(&zs);
	} else
		arca_buf_append(&body, inner->data, inner->len);
	put_pkt(b, 8, body.data, body.len);
	arca_buf_free(&body);
}

/* The whole message around the plaintext packets `inner`, to path. */
static void
craft(const struct craft *c, const struct arca_buf *inner, const char *path)
{
	unsigned char key[32], iv[16] = { 0 }, pre[18], sk[16];
	struct arca_buf m = { 0 }, pt = { 0 };
	gcry_cipher_hd_t h;
	gcry_md_hd_t md;
	size_t n;

	gcry_md_hash_buffer(GCRY_MD_SHA256, key, PASS, strlen(PASS));
	if (c->marker)
		put_pkt(&m, 10, "PGP", 3);
	if (c->pkesk_only) {
		put_pkt(&m, 1, "\x03\x01\x02\x03\x04\x05\x06\x07\x08\x01"
		    "\x00\x08\x55", 13);
	} else {
		sk[0] = (unsigned char)c->skesk_ver;
		sk[1] = (unsigned char)c->skesk_cipher;
		sk[2] = (unsigned char)c->s2k_type;
		sk[3] = (unsigned char)c->s2k_hash;
		n = 4;
		if (c->s2k_type == 1 || c->s2k_type == 3) {
			memset(sk + 4, 0x42, 8);
			n = 12;
		}
		if (c->s2k_type == 3)
			sk[n++] = 0x60;
		if (c->skesk_partial) {
			arca_buf_putc(&m, 0xc3);
			arca_buf_putc(&m, 0xe0 | 2);
			arca_buf_append(&m, sk, 4);
			arca_buf_putc(&m, (int)(n - 4));
			arca_buf_append(&m, sk + 4, n - 4);
		} else
			put_pkt(&m, 3, sk, n);
	}
	gcry_create_nonce(pre, 16);
	pre[16] = pre[14];
	pre[17] = pre[15];
	arca_buf_append(&pt, pre, 18);
	arca_buf_append(&pt, inner->data, inner->len);
	if (c->tag == 18 && !c->no_mdc) {
		arca_buf_append(&pt, "\xd3\x14", 2);
		gcry_md_open(&md, GCRY_MD_SHA1, 0);
		gcry_md_write(md, pt.data, pt.len);
		arca_buf_append(&pt, gcry_md_read(md, GCRY_MD_SHA1), 20);
		gcry_md_close(md);
	}
	gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CFB,
	    c->tag == 9 ? GCRY_CIPHER_ENABLE_SYNC : 0);
	gcry_cipher_setkey(h, key, 32);
	gcry_cipher_setiv(h, iv, 16);
	gcry_cipher_encrypt(h, pt.data, 18, NULL, 0);
	if (c->tag == 9)
		gcry_cipher_sync(h);
	gcry_cipher_encrypt(h, pt.data + 18, pt.len - 18, NULL, 0);
	gcry_cipher_close(h);
	n = pt.len + (c->tag == 9 ? 0 : 1);
	put_hdr(&m, c->tag, n, c->old_hdr);
	if (c->tag != 9)
		arca_buf_putc(&m, c->seipd_ver);
	arca_buf_append(&m, pt.data, pt.len);
	write_file(path, m.data, m.len);
	arca_buf_free(&m);
	arca_buf_free(&pt);
}

/* Decrypt a crafted message; r, and the output compared with want. */
static void
expect(struct arca_pgp *p, const struct craft *c, const struct arca_buf *in,
    int want_r, const char *want)
{
	struct arca_buf out = { 0 };
	int r;

	craft(c, in, tpath("c.gpg"));
	r = pgp_file(p, 0, tpath("c.gpg"), tpath("c.out"));
	CHECK_INT(r, want_r);
	if (r == 0) {
		CHECK_INT(read_file(tpath("c.out"), &out), 0);
		CHECK(out.len == strlen(want) && memcmp(out.data, want,
		    out.len) == 0);
	} else if (strstr(ctx.errmsg, want) == NULL) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", ctx.errmsg,
		    want);
		CHECK(0);
	}
	arca_buf_free(&out);
}

static void
test_crafted(void)
{
	struct arca_pgp *p = engine(PASS, 0);
	struct arca_pgp *old = engine(PASS, ARCA_PGP_ALLOW_NO_MDC);
	struct arca_buf in = { 0 }, x = { 0 }, y = { 0 };
	struct craft c;
	int i;

	if (p == NULL || old == NULL)
		goto out;
	lit(&in, "hello");
	craft_defaults(&c);
	expect(p, &c, &in, 0, "hello");
	c.marker = 1;
	c.old_hdr = 0;
	expect(p, &c, &in, 0, "hello");

	/* Unknown algorithms and versions. */
	craft_defaults(&c);
	c.skesk_cipher = 99;
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "unsupported cipher algorithm 99");
	craft_defaults(&c);
	c.s2k_hash = 99;
	expect(p, &c, &in, ARCA_ERR_CRYPTO,
	    "unsupported S2K hash algorithm 99");
	craft_defaults(&c);
	c.s2k_type = 101;	/* GnuPG's dummy S2K: no secret at all */
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "unsupported S2K mode 101");
	craft_defaults(&c);
	c.skesk_ver = 5;
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "passphrase packet version 5");
	craft_defaults(&c);
	c.seipd_ver = 2;
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "encrypted packet version 2");
	craft_defaults(&c);
	c.tag = 20;
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "AEAD");
	arca_buf_reset(&x);
	comp(&x, 99, &in, 0);
	craft_defaults(&c);
	expect(p, &c, &x, ARCA_ERR_CRYPTO,
	    "unsupported compression algorithm 99");

	/* Public keys only. */
	craft_defaults(&c);
	c.pkesk_only = 1;
	expect(p, &c, &in, ARCA_ERR_CRYPTO, "encrypted to a public key");
	CHECK_INT(probe(tpath("c.gpg")), 0);

	/* No MDC: refused, allowed for old backups; old headers. */
	craft_defaults(&c);
	c.no_mdc = 1;
	expect(p, &c, &in, ARCA_ERR_CORRUPT, "integrity check failed");
	craft_defaults(&c);
	c.tag = 9;
	c.old_hdr = 1;
	expect(p, &c, &in, ARCA_ERR_CORRUPT, "not integrity protected");
	expect(old, &c, &in, 0, "hello");
	c.old_hdr = 0;
	expect(old, &c, &in, 0, "hello");

	/* Structure inside. */
	craft_defaults(&c);
	arca_buf_reset(&x);
	lit(&x, "one");
	lit(&x, "two");
	expect(p, &c, &x, ARCA_ERR_CORRUPT, "more than one literal");
	arca_buf_reset(&x);
	put_pkt(&x, 13, "user id", 7);
	expect(p, &c, &x, ARCA_ERR_CORRUPT, "unexpected packet (type 13)");
	arca_buf_reset(&x);
	expect(p, &c, &x, ARCA_ERR_CORRUPT, "no literal data");
	/* Signature packets around the data are skipped. */
	arca_buf_reset(&x);
	put_pkt(&x, 4, "\x03\x00\x08\x01" "12345678" "\x01", 13);
	lit(&x, "signed");
	put_pkt(&x, 2, "\x04\x00\x01\x08\x00\x00\x00\x00", 8);
	expect(p, &c, &x, 0, "signed");
	/* Nesting: allowed a little, refused deep. */
	arca_buf_reset(&x);
	arca_buf_append(&x, in.data, in.len);
	for (i = 0; i < 6; i++) {
		arca_buf_reset(&y);
		comp(&y, i % 3, &x, 0);
		arca_buf_reset(&x);
		arca_buf_append(&x, y.data, y.len);
		if (i == 1)
			expect(p, &c, &x, 0, "hello");
	}
	expect(p, &c, &x, ARCA_ERR_CORRUPT, "nested too deep");
	/* A ZLIB stream with a bad Adler-32 (the MDC is right). */
	arca_buf_reset(&x);
	comp(&x, 2, &in, 1);
	expect(p, &c, &x, ARCA_ERR_CORRUPT, "bad checksum");
	/* Partial lengths where RFC 4880 forbids them. */
	c.skesk_partial = 1;
	expect(p, &c, &in, ARCA_ERR_CORRUPT, "partial length");
out:
	arca_buf_free(&in);
	arca_buf_free(&x);
	arca_buf_free(&y);
	arca_pgp_free(p);
	arca_pgp_free(old);
}

/*
 * The key cache: files of one run derive once; a restore derives once
 * per run it reads; a verified strong key is reused by the writer.
 */
static void
test_key_cache(void)
{
	unsigned char data[20000];
	struct arca_pgp *w = engine(PASS, 0), *r = engine(PASS, 0);
	struct arca_pgp_stats st;
	char name[32];
	int i;

	if (w == NULL || r == NULL)
		goto out;
	fill(data, sizeof(data), MIXED, 3);
	write_file(tpath("kc.in"), data, sizeof(data));
	for (i = 0; i < 4; i++) {
		FMT(name, "kc%d.gpg", i);
		CHECK_INT(pgp_file(w, 1, tpath("kc.in"), tpath(name)), 0);
	}
	for (i = 0; i < 4; i++) {
		FMT(name, "kc%d.gpg", i);
		CHECK_INT(pgp_file(r, 0, tpath(name), tpath("kc.out")), 0);
		CHECK(same_file(tpath("kc.in"), tpath("kc.out")));
	}
	arca_pgp_stats(r, &st);
	CHECK_INT(st.derivations, 1);
	CHECK_INT(st.cache_hits, 3);
	/* The reader now writes with the key it verified: no derivation. */
	CHECK_INT(pgp_file(r, 1, tpath("kc.in"), tpath("kc4.gpg")), 0);
	arca_pgp_stats(r, &st);
	CHECK_INT(st.derivations, 1);
	CHECK_INT(gpg_decrypt(PASS, tpath("kc4.gpg"), tpath("kc.out")), 0);
	CHECK(same_file(tpath("kc.in"), tpath("kc.out")));
	/* A weaker key (gpg's SHA-1) is not reused for writing. */
	arca_pgp_free(r);
	r = engine(PASS, 0);
	CHECK_INT(gpg_encrypt("--s2k-count 65536", tpath("kc.in"),
	    tpath("kc5.gpg"), 0), 0);
	CHECK_INT(pgp_file(r, 0, tpath("kc5.gpg"), tpath("kc.out")), 0);
	CHECK_INT(pgp_file(r, 1, tpath("kc.in"), tpath("kc6.gpg")), 0);
	arca_pgp_stats(r, &st);
	CHECK_INT(st.derivations, 2);
out:
	arca_pgp_free(w);
	arca_pgp_free(r);
}

/* The inner parser alone (the fuzz target's second mode). */
static void
test_plain(void)
{
	struct arca_buf in = { 0 }, x = { 0 }, out = { 0 };
	struct arca_source *src;
	struct arca_sink *sink;

	lit(&in, "plain text");
	comp(&x, 1, &in, 0);
	src = arca_source_mem(x.data, x.len);
	sink = arca_sink_buf(&out);
	CHECK_INT(pgp_read_plain(&ctx, src, sink, "mem"), 0);
	CHECK(out.len == 10 && memcmp(out.data, "plain text", 10) == 0);
	arca_source_free(src);
	arca_sink_free(sink);
	arca_buf_free(&in);
	arca_buf_free(&x);
	arca_buf_free(&out);
}

int
main(void)
{
	char cmd[256];

	tmp = test_tmpdir();
	FMT(home, "%s", "/tmp/arca-pgp-XXXXXX");
	if (mkdtemp(home) == NULL || chmod(home, 0700) != 0) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_plain);
	RUN(test_roundtrip);
	RUN(test_crafted);
	RUN(test_vectors);
	RUN(test_probe);
	RUN(test_wrong_passphrase);
	RUN(test_tampered);
	RUN(test_truncated);
	RUN(test_key_cache);
	RUN(test_gpg_reads_ours);
	RUN(test_ours_reads_gpg);
	RUN(test_fixtures);
	FMT(cmd, "gpgconf --homedir '%s' --kill gpg-agent 2>/dev/null; "
	    "rm -rf '%s' '%s'", home, home, tmp);
	run(cmd);
	free(tmp);
	TEST_DONE();
}
