/*
 * test_gpg.c: OpenPGP through GPGME, checked against the stock gpg binary
 * and the duplicity 0.8.22 fixtures, in throwaway GnuPG homes.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/gpg.h"
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

#define PASS	"correct horse battery"
#define FIXPASS	"fixture-passphrase"
#define FIXNAME	"duplicity-full.20240101T000000Z.manifest"

static struct arca_ctx ctx;
static char *tmp;		/* files */
static char homes[16][32];	/* GnuPG homes made, agents to stop */
static int nhomes;

static const char *
tpath(const char *name)
{
	static char p[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	FMT(p[k], "%s/%s", tmp, name);
	return p[k];
}

/* A fresh, empty GnuPG home (0700), as a first run would see. */
static const char *
new_home(void)
{
	char tmpl[] = "/tmp/arca-gpg-XXXXXX";

	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0700) != 0 || nhomes == 16) {
		perror("mkdtemp");
		exit(2);
	}
	memcpy(homes[nhomes], tmpl, sizeof(tmpl));
	return homes[nhomes++];
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
	arca_buf_free(&x);
	arca_buf_free(&y);
	return same;
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct arca_gpg *
engine(const char *home, const char *pass, const char *const *recips,
    const char *signer)
{
	struct arca_gpg_opts o = { .passphrase = pass, .homedir = home,
	    .recipients = recips, .sign_key = signer };
	struct arca_gpg *g = NULL;
	int r;

	r = arca_gpg_new(&ctx, &o, &g);
	if (r != 0)
		fprintf(stderr, "arca_gpg_new: %d %s\n", r, ctx.errmsg);
	CHECK_INT(r, 0);
	return g;
}

/* Encrypt or decrypt file `in` to file `out` with g. */
static int
crypt_file(struct arca_gpg *g, int enc, const char *in, const char *out)
{
	int ifd, ofd, r;

	ifd = open(in, O_RDONLY);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (ifd < 0 || ofd < 0) {
		perror(in);
		exit(2);
	}
	ctx.errmsg[0] = '\0';
	r = enc ? arca_gpg_encrypt_fd(g, ifd, ofd, in) :
	    arca_gpg_decrypt_fd(g, ifd, ofd, in);
	close(ifd);
	close(ofd);
	if (r != 0 && getenv("ARCA_TEST_VERBOSE") != NULL)
		fprintf(stderr, "  -> %d: %s\n", r, ctx.errmsg);
	/* No message may ever contain a passphrase. */
	CHECK(strstr(ctx.errmsg, PASS) == NULL);
	CHECK(strstr(ctx.errmsg, FIXPASS) == NULL);
	CHECK(strstr(ctx.errmsg, "keypass") == NULL);
	return r;
}

/* Decrypt with stock gpg; returns gpg's exit code. */
static int
gpg_decrypt(const char *home, const char *pass, const char *in,
    const char *out, const char *status)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty "
	    "--no-symkey-cache --pinentry-mode loopback --passphrase '%s' "
	    "--status-file '%s' -o '%s' -d '%s' 2>/dev/null", home, pass,
	    status ? status : "/dev/null", out, in);
	unlink(out);
	return run(cmd);
}

static int
file_has(const char *path, const char *s)
{
	struct arca_buf b = { 0 };
	int has;

	has = read_file(path, &b) == 0 && b.len > 0 &&
	    strstr((char *)b.data, s) != NULL;
	arca_buf_free(&b);
	return has;
}

static void
test_symmetric_roundtrip(void)
{
	static const size_t sizes[] = { 0, 10, 3 * 1024 * 1024 };
	const char *home = new_home();
	struct arca_gpg *g = engine(home, PASS, NULL, NULL);
	struct arca_buf b = { 0 };
	char cmd[3 * PATH_MAX];
	unsigned char *p;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = malloc(sizes[i] + 1);
		fill_random(p, sizes[i], i + 1);
		write_file(tpath("plain"), p, sizes[i]);
		free(p);
		CHECK_INT(crypt_file(g, 1, tpath("plain"), tpath("plain.gpg")),
		    0);
		/* SKESK v4, AES256, iterated+salted S2K (spec §4.3). */
		CHECK_INT(read_file(tpath("plain.gpg"), &b), 0);
		CHECK(b.len > 6 && memcmp(b.data, "\x8c\x0d\x04\x09\x03\x02",
		    6) == 0);
		CHECK_INT(gpg_decrypt(home, PASS, tpath("plain.gpg"),
		    tpath("by-gpg"), NULL), 0);
		CHECK(same_file(tpath("plain"), tpath("by-gpg")));
		CHECK_INT(crypt_file(g, 0, tpath("plain.gpg"), tpath("by-us")),
		    0);
		CHECK(same_file(tpath("plain"), tpath("by-us")));
	}
	/* The 3 MB file: MDC-protected, compressed with ZIP like duplicity. */
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty "
	    "--no-symkey-cache --pinentry-mode loopback --passphrase '%s' "
	    "--list-packets '%s' >'%s' 2>&1", home, PASS, tpath("plain.gpg"),
	    tpath("packets"));
	CHECK_INT(run(cmd), 0);
	CHECK(file_has(tpath("packets"), "cipher 9"));
	CHECK(file_has(tpath("packets"), "mdc_method: 2"));
	CHECK(file_has(tpath("packets"), "compressed packet: algo=1"));
	arca_gpg_free(g);
	arca_buf_free(&b);
}

/* Encryption starts at the input's current offset. */
static void
test_offset(void)
{
	const char *home = new_home();
	struct arca_gpg *g = engine(home, PASS, NULL, NULL);
	int ifd, ofd;

	if (g == NULL)
		return;
	write_file(tpath("off"), "0123456789", 10);
	write_file(tpath("off.want"), "56789", 5);
	ifd = open(tpath("off"), O_RDONLY);
	ofd = open(tpath("off.gpg"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(lseek(ifd, 5, SEEK_SET) == 5);
	CHECK_INT(arca_gpg_encrypt_fd(g, ifd, ofd, "off"), 0);
	close(ifd);
	close(ofd);
	CHECK_INT(gpg_decrypt(home, PASS, tpath("off.gpg"), tpath("off.out"),
	    NULL), 0);
	CHECK(same_file(tpath("off.want"), tpath("off.out")));
	arca_gpg_free(g);
}

static void
fixture_paths(char *enc, char *plain, size_t n)
{
	if ((size_t)snprintf(enc, n, "%s/duplicity-0.8.22/encrypted/%s.gpg",
	    test_data_dir(), FIXNAME) >= n ||
	    (size_t)snprintf(plain, n, "%s/duplicity-0.8.22/plain/%s",
	    test_data_dir(), FIXNAME) >= n) {
		fprintf(stderr, "ARCA_TEST_DATA is too long\n");
		exit(2);
	}
}

static int
sha1_of(const char *path, const char *want)
{
	char cmd[PATH_MAX + 40], got[41] = "";
	FILE *f;
	int ok;

	FMT(cmd, "sha1sum '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	ok = fscanf(f, "%40s", got) == 1 && strcmp(got, want) == 0;
	pclose(f);
	if (!ok)
		fprintf(stderr, "sha1 of %s is %s, expected %s\n", path, got,
		    want);
	return ok;
}

/*
 * The full set's manifest of the encrypted fixture.  Its volumes were split
 * differently from plain/'s (gpg output sizes differ), so only the parts
 * that do not depend on that are compared with plain/'s manifest; the
 * volume hashes it lists must be the SHA1 of the encrypted volumes.
 */
static void
check_manifest(const char *got, const char *plain)
{
	struct arca_buf m = { 0 }, pm = { 0 };
	char dir[PATH_MAX], vol[PATH_MAX + 100], hash[41];
	const char *a, *b, *h;
	int v = 0;

	FMT(dir, "%s/duplicity-0.8.22/encrypted",
	    test_data_dir());
	CHECK_INT(read_file(got, &m), 0);
	CHECK_INT(read_file(plain, &pm), 0);
	if (m.len == 0 || pm.len == 0)
		goto out;
	CHECK(strncmp((char *)m.data, "Hostname fixture-host\nLocaldir src\n"
	    "Volume 1:\n    StartingPath   .  \n", 65) == 0);
	a = strstr((char *)m.data, "Filelist 11\n");
	b = strstr((char *)pm.data, "Filelist 11\n");
	CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	for (h = (char *)m.data; (h = strstr(h, "Hash SHA1 ")) != NULL;
	    h += 10) {
		FMT(hash, "%.40s", h + 10);
		FMT(vol, "%s/duplicity-full.20240101T000000Z"
		    ".vol%d.difftar.gpg", dir, ++v);
		CHECK(sha1_of(vol, hash));
	}
	CHECK_INT(v, 2);
out:
	arca_buf_free(&m);
	arca_buf_free(&pm);
}

/*
 * The duplicity fixture, and the agent cache trap: after one good
 * decryption, a wrong passphrase must still fail (gpg-agent would answer
 * from its cache without no-symkey-cache).
 */
static void
test_fixture_and_wrong_passphrase(void)
{
	const char *home = new_home();
	struct arca_gpg *good = engine(home, FIXPASS, NULL, NULL);
	struct arca_gpg *bad = engine(home, "fixture-passphrasE", NULL, NULL);
	char enc[PATH_MAX], plain[PATH_MAX], want[PATH_MAX + 64];

	if (good == NULL || bad == NULL)
		goto out;
	fixture_paths(enc, plain, sizeof(enc));
	FMT(want, "wrong passphrase for %s", enc);

	CHECK_INT(crypt_file(bad, 0, enc, tpath("m0")), ARCA_ERR_AUTH);
	CHECK_STR(ctx.errmsg, want);
	CHECK_INT(crypt_file(good, 0, enc, tpath("m1")), 0);
	check_manifest(tpath("m1"), plain);
	CHECK_INT(gpg_decrypt(home, FIXPASS, enc, tpath("m1.gpg-cli"), NULL),
	    0);
	CHECK(same_file(tpath("m1"), tpath("m1.gpg-cli")));
	CHECK_INT(crypt_file(bad, 0, enc, tpath("m2")), ARCA_ERR_AUTH);
	CHECK_STR(ctx.errmsg, want);
	/* And once more after a good one, straight away. */
	CHECK_INT(crypt_file(good, 0, enc, tpath("m3")), 0);
	CHECK_INT(crypt_file(bad, 0, enc, tpath("m4")), ARCA_ERR_AUTH);
	/* A passphrase's second line was never part of it (gpg's rule). */
	arca_gpg_free(bad);
	bad = engine(home, FIXPASS "\nsecond line", NULL, NULL);
	if (bad != NULL)
		CHECK_INT(crypt_file(bad, 0, enc, tpath("m5")), 0);
	/* No passphrase at all: refused, not prompted, and said so. */
	arca_gpg_free(bad);
	bad = engine(home, NULL, NULL, NULL);
	if (bad != NULL) {
		CHECK_INT(crypt_file(bad, 0, enc, tpath("m6")), ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "set PASSPHRASE") != NULL);
		CHECK_INT(crypt_file(bad, 1, plain, tpath("m7")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "set PASSPHRASE") != NULL);
	}
out:
	arca_gpg_free(good);
	arca_gpg_free(bad);
}

/* Every file of the encrypted fixture decrypts as stock gpg does it. */
static void
test_fixture_all(void)
{
	static const char *const names[] = {
		"duplicity-full-signatures.20240101T000000Z.sigtar.gpg",
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
	const char *home = new_home();
	struct arca_gpg *g = engine(home, FIXPASS, NULL, NULL);
	char p[PATH_MAX];
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FMT(p, "%s/duplicity-0.8.22/encrypted/%s",
		    test_data_dir(), names[i]);
		CHECK_INT(crypt_file(g, 0, p, tpath("fx")), 0);
		CHECK_INT(gpg_decrypt(home, FIXPASS, p, tpath("fx.cli"), NULL),
		    0);
		CHECK(same_file(tpath("fx"), tpath("fx.cli")));
	}
	arca_gpg_free(g);
}

static void
test_damaged(void)
{
	const char *home = new_home();
	struct arca_gpg *g = engine(home, PASS, NULL, NULL);
	size_t n = 3 * 1024 * 1024;
	unsigned char *p = malloc(n);
	struct arca_buf b = { 0 };
	size_t k;
	int r;

	if (g == NULL)
		goto out;
	fill_random(p, n, 42);
	write_file(tpath("d"), p, n);
	CHECK_INT(crypt_file(g, 1, tpath("d"), tpath("d.gpg")), 0);
	CHECK_INT(read_file(tpath("d.gpg"), &b), 0);

	/* One flipped byte in the middle. */
	b.data[b.len / 2] ^= 0x01;
	write_file(tpath("flip.gpg"), b.data, b.len);
	r = crypt_file(g, 0, tpath("flip.gpg"), tpath("flip.out"));
	CHECK_INT(r, ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, tpath("flip.gpg")) != NULL);
	b.data[b.len / 2] ^= 0x01;

	/* A flipped byte near the end: only the MDC can tell. */
	b.data[b.len - 30] ^= 0x80;
	write_file(tpath("flip2.gpg"), b.data, b.len);
	CHECK_INT(crypt_file(g, 0, tpath("flip2.gpg"), tpath("flip2.out")),
	    ARCA_ERR_CORRUPT);
	b.data[b.len - 30] ^= 0x80;

	/* Truncated: in the middle, and the last byte missing. */
	write_file(tpath("trunc.gpg"), b.data, b.len * 2 / 3);
	CHECK_INT(crypt_file(g, 0, tpath("trunc.gpg"), tpath("trunc.out")),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, tpath("trunc.gpg")) != NULL);
	write_file(tpath("trunc1.gpg"), b.data, b.len - 1);
	CHECK_INT(crypt_file(g, 0, tpath("trunc1.gpg"), tpath("trunc1.out")),
	    ARCA_ERR_CORRUPT);

	/*
	 * Compressible data: a flipped byte now breaks the deflate stream
	 * inside, and gpg dies with a fatal zlib error and no failure status.
	 */
	for (r = 0; r < (int)n; r++)
		p[r] = "0123456789abcdef\n"[(r / 7 + r / 1000) % 17];
	write_file(tpath("z"), p, n);
	CHECK_INT(crypt_file(g, 1, tpath("z"), tpath("z.gpg")), 0);
	CHECK_INT(read_file(tpath("z.gpg"), &b), 0);
	CHECK(b.len < n / 10);
	for (k = 1; k < 10; k++) {
		b.data[b.len * k / 10] ^= 0x10;
		write_file(tpath("zflip.gpg"), b.data, b.len);
		CHECK_INT(crypt_file(g, 0, tpath("zflip.gpg"),
		    tpath("zflip.out")), ARCA_ERR_CORRUPT);
		b.data[b.len * k / 10] ^= 0x10;
	}
	write_file(tpath("ztrunc.gpg"), b.data, b.len / 2);
	CHECK_INT(crypt_file(g, 0, tpath("ztrunc.gpg"), tpath("ztrunc.out")),
	    ARCA_ERR_CORRUPT);
	write_file(tpath("z2.gpg"), b.data, b.len);
	CHECK_INT(crypt_file(g, 0, tpath("z2.gpg"), tpath("z2.out")), 0);
	CHECK(same_file(tpath("z"), tpath("z2.out")));
	fill_random(p, n, 42);
	CHECK_INT(read_file(tpath("d.gpg"), &b), 0);

	/* Not OpenPGP: random bytes, text, nothing. */
	write_file(tpath("rand"), p, 100000);
	CHECK_INT(crypt_file(g, 0, tpath("rand"), tpath("rand.out")),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, tpath("rand")) != NULL);
	write_file(tpath("text"), "Hostname host\nLocaldir .\n", 25);
	CHECK_INT(crypt_file(g, 0, tpath("text"), tpath("text.out")),
	    ARCA_ERR_CORRUPT);
	write_file(tpath("empty"), "", 0);
	CHECK_INT(crypt_file(g, 0, tpath("empty"), tpath("empty.out")),
	    ARCA_ERR_CORRUPT);

	/* The original still decrypts. */
	write_file(tpath("d2.gpg"), b.data, b.len);
	CHECK_INT(crypt_file(g, 0, tpath("d2.gpg"), tpath("d2.out")), 0);
	CHECK(same_file(tpath("d"), tpath("d2.out")));
out:
	free(p);
	arca_buf_free(&b);
	arca_gpg_free(g);
}

/*
 * From a process with no controlling terminal and stdin at /dev/null, with
 * a fresh home (so gpg-agent has to be started from there).
 */
static void
test_no_tty(void)
{
	const char *home = new_home();
	char enc[PATH_MAX], plain[PATH_MAX];
	pid_t pid;
	int st = -1;

	fixture_paths(enc, plain, sizeof(enc));
	if ((pid = fork()) == 0) {
		struct arca_gpg_opts o = { .passphrase = FIXPASS,
		    .homedir = home };
		struct arca_gpg *g;
		int fd, in, out, r;

		setsid();
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		unsetenv("GPG_TTY");
		if (arca_gpg_new(&ctx, &o, &g) != 0)
			_exit(10);
		in = open(enc, O_RDONLY);
		out = open(tpath("notty"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		r = arca_gpg_decrypt_fd(g, in, out, "fixture");
		close(in);
		close(out);
		if (r != 0)
			_exit(11);
		in = open(plain, O_RDONLY);
		out = open(tpath("notty.gpg"), O_WRONLY | O_CREAT | O_TRUNC,
		    0600);
		r = arca_gpg_encrypt_fd(g, in, out, "fixture");
		arca_gpg_free(g);
		_exit(r != 0 ? 12 : 0);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 0);
	check_manifest(tpath("notty"), plain);
	CHECK_INT(gpg_decrypt(home, FIXPASS, tpath("notty.gpg"),
	    tpath("notty.out"), NULL), 0);
	CHECK(same_file(plain, tpath("notty.out")));
}

static void
stop_agent(const char *home)
{
	char cmd[PATH_MAX + 100];

	FMT(cmd, "gpgconf --homedir '%s' --kill gpg-agent "
	    ">/dev/null 2>&1", home);
	run(cmd);
}

/* Public-key mode: a throwaway key protected by "keypass". */
static void
test_public_key(void)
{
	const char *home = new_home(), *other = new_home();
	const char *const recips[] = { "arca-test@example.org", NULL };
	const char *const nobody[] = { "nobody@example.org", NULL };
	struct arca_gpg *g = NULL, *bad = NULL, *o = NULL;
	struct arca_gpg_opts opts = { .passphrase = "keypass",
	    .homedir = home, .recipients = nobody };
	char cmd[3 * PATH_MAX];
	int r;

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty "
	    "--pinentry-mode loopback --passphrase keypass --quick-gen-key "
	    "'Arca Test <arca-test@example.org>' future-default default never "
	    ">/dev/null 2>&1", home);
	if (run(cmd) != 0) {
		fprintf(stderr, "SKIP public key: cannot generate a key\n");
		CHECK(0);
		return;
	}
	write_file(tpath("pk"), "public key mode\n", 16);

	/* Encrypt to the key and sign with it; gpg checks both. */
	if ((g = engine(home, "keypass", recips, "arca-test@example.org")) ==
	    NULL)
		goto out;
	CHECK_INT(crypt_file(g, 1, tpath("pk"), tpath("pk.gpg")), 0);
	CHECK_INT(gpg_decrypt(home, "keypass", tpath("pk.gpg"),
	    tpath("pk.out"), tpath("pk.status")), 0);
	CHECK(same_file(tpath("pk"), tpath("pk.out")));
	CHECK(file_has(tpath("pk.status"), "GOODSIG"));
	CHECK_INT(crypt_file(g, 0, tpath("pk.gpg"), tpath("pk.out2")), 0);
	CHECK(same_file(tpath("pk"), tpath("pk.out2")));

	/*
	 * A wrong key passphrase fails instead of looping on gpg-agent's
	 * retries.  The agent caches key passphrases (no-symkey-cache is only
	 * about symmetric ones), so stop it first.
	 */
	stop_agent(home);
	if ((bad = engine(home, "not-keypass", NULL, NULL)) != NULL) {
		CHECK_INT(crypt_file(bad, 0, tpath("pk.gpg"), tpath("pk.out3")),
		    ARCA_ERR_AUTH);
	}
	/* Signing with a wrong key passphrase fails too, without a hang. */
	arca_gpg_free(bad);
	bad = engine(home, "not-keypass", recips, "arca-test@example.org");
	if (bad != NULL)
		CHECK_INT(crypt_file(bad, 1, tpath("pk"), tpath("pk2.gpg")),
		    ARCA_ERR_AUTH);
	/* Without the secret key. */
	if ((o = engine(other, "keypass", NULL, NULL)) != NULL) {
		CHECK_INT(crypt_file(o, 0, tpath("pk.gpg"), tpath("pk.out4")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "no secret key") != NULL);
	}
	/* An unknown recipient is refused when the engine is made. */
	{
		struct arca_gpg *none = NULL;

		r = arca_gpg_new(&ctx, &opts, &none);
		CHECK_INT(r, ARCA_ERR_AUTH);
		CHECK(none == NULL);
	}
	CHECK(strstr(ctx.errmsg, "nobody@example.org") != NULL);
out:
	arca_gpg_free(g);
	arca_gpg_free(bad);
	arca_gpg_free(o);
}

/*
 * Keys for the public-key tests, made once: A (encryption, passphrase
 * "keypass"), S (signing, passphrase "signpass") and B (no passphrase), all
 * secret in hfull; hpub holds only the public parts of A and S, trusted,
 * as the machine being backed up would.
 */
static const char *hfull, *hpub;
static char fprA[41], fprS[41], fprB[41];

static int
key_fpr(const char *home, const char *name, char *fpr)
{
	char cmd[PATH_MAX + 200], line[512];
	FILE *f;
	int ok = 0;

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --with-colons --fingerprint "
	    "'%s' 2>/dev/null", home, name);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (!ok && fgets(line, sizeof(line), f) != NULL)
		ok = sscanf(line, "fpr:::::::::%40[0-9A-F]:", fpr) == 1;
	pclose(f);
	return ok ? 0 : -1;
}

/* ed25519 + cv25519: made in milliseconds (RSA takes seconds). */
static int
gen_key(const char *home, const char *uid, const char *mail,
    const char *pass, char *fpr)
{
	char cmd[PATH_MAX + 300];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --pinentry-mode "
	    "loopback --passphrase '%s' --quick-gen-key '%s <%s>' "
	    "future-default default never >/dev/null 2>&1", home, pass, uid,
	    mail);
	if (run(cmd) != 0)
		return -1;
	return key_fpr(home, mail, fpr);
}

/* The public key fpr from one home into another, ultimately trusted there. */
static int
copy_pub(const char *from, const char *to, const char *fpr, int trust)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --export %s | GNUPGHOME='%s' gpg "
	    "--batch --import >/dev/null 2>&1", from, fpr, to);
	if (run(cmd) != 0)
		return -1;
	if (!trust)
		return 0;
	FMT(cmd, "echo %s:6: | GNUPGHOME='%s' gpg --batch --import-ownertrust "
	    ">/dev/null 2>&1", fpr, to);
	return run(cmd) == 0 ? 0 : -1;
}

static int
setup_keys(void)
{
	hfull = new_home();
	hpub = new_home();
	if (gen_key(hfull, "Arca A", "a@example.org", "keypass", fprA) != 0 ||
	    gen_key(hfull, "Arca S", "s@example.org", "signpass", fprS) != 0 ||
	    gen_key(hfull, "Arca B", "b@example.org", "", fprB) != 0 ||
	    copy_pub(hfull, hpub, fprA, 1) != 0 ||
	    copy_pub(hfull, hpub, fprS, 1) != 0) {
		fprintf(stderr, "cannot generate the test keys\n");
		return -1;
	}
	return 0;
}

/* gpg --list-packets of a file (with the secret keys of hfull). */
static void
packets(const char *in, const char *out)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --pinentry-mode "
	    "loopback --passphrase keypass --list-packets '%s' >'%s' 2>&1",
	    hfull, in, out);
	run(cmd);
}

static struct arca_gpg *
engine2(const char *home, const char *pass, const char *signpass,
    const char *const *recips, const char *const *hidden,
    const char *signer)
{
	struct arca_gpg_opts o = { .passphrase = pass,
	    .sign_passphrase = signpass, .homedir = home,
	    .recipients = recips, .hidden_recipients = hidden,
	    .sign_key = signer };
	struct arca_gpg *g = NULL;
	int r;

	r = arca_gpg_new(&ctx, &o, &g);
	if (r != 0)
		fprintf(stderr, "arca_gpg_new: %d %s\n", r, ctx.errmsg);
	CHECK_INT(r, 0);
	return g;
}

/*
 * The machine being backed up holds only the public key: it encrypts, it
 * cannot decrypt, and it knows it has no secret key; the secret key's home
 * decrypts, with its passphrase, and says what is wrong without it.
 */
static void
test_pubkey_only(void)
{
	const char *const ra[] = { "a@example.org", NULL };
	const char *un = new_home();
	struct arca_gpg *pub = NULL, *full = NULL, *g = NULL;
	char sub[17];
	pid_t pid;
	int st = -1;

	write_file(tpath("po"), "only the public key\n", 20);
	if ((pub = engine2(hpub, NULL, NULL, ra, NULL, NULL)) == NULL)
		goto out;
	CHECK_INT(arca_gpg_is_pubkey(pub), 1);
	CHECK_INT(arca_gpg_have_secret(pub), 0);
	CHECK_INT(crypt_file(pub, 1, tpath("po"), tpath("po.gpg")), 0);
	packets(tpath("po.gpg"), tpath("po.pk"));
	CHECK(file_has(tpath("po.pk"), ":pubkey enc packet:"));
	CHECK(!file_has(tpath("po.pk"), ":symkey enc packet:"));
	CHECK(!file_has(tpath("po.pk"), ":signature packet:"));

	/* No secret key here: said so, with the key id it was encrypted to. */
	CHECK_INT(crypt_file(pub, 0, tpath("po.gpg"), tpath("po.out")),
	    ARCA_ERR_AUTH);
	CHECK(strstr(ctx.errmsg, "no secret key") != NULL);
	CHECK(strstr(ctx.errmsg, tpath("po.gpg")) != NULL);
	{
		struct arca_buf b = { 0 };
		char *p;

		CHECK_INT(read_file(tpath("po.pk"), &b), 0);
		p = b.len ? strstr((char *)b.data, "keyid ") : NULL;
		CHECK(p != NULL);
		if (p != NULL) {
			FMT(sub, "%.16s", p + 6);
			CHECK(strstr(ctx.errmsg, sub) != NULL);
		}
		arca_buf_free(&b);
	}

	/* The secret key's home: its passphrase opens it. */
	if ((full = engine2(hfull, "keypass", NULL, ra, NULL, NULL)) == NULL)
		goto out;
	CHECK_INT(arca_gpg_have_secret(full), 1);
	CHECK_INT(crypt_file(full, 0, tpath("po.gpg"), tpath("po.out")), 0);
	CHECK(same_file(tpath("po"), tpath("po.out")));

	/* gpg-agent caches key passphrases: stop it before each failure. */
	stop_agent(hfull);
	g = engine2(hfull, NULL, NULL, NULL, NULL, NULL);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 0, tpath("po.gpg"), tpath("po.out2")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "needs its passphrase: set "
		    "PASSPHRASE") != NULL);
		CHECK(strstr(ctx.errmsg, "a@example.org") != NULL);
	}
	arca_gpg_free(g);
	stop_agent(hfull);
	g = engine2(hfull, "not-keypass", NULL, NULL, NULL, NULL);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 0, tpath("po.gpg"), tpath("po.out3")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "wrong passphrase for the secret "
		    "key") != NULL);
	}
	/* duplicity reuses SIGN_PASSPHRASE when PASSPHRASE is not set. */
	arca_gpg_free(g);
	stop_agent(hfull);
	g = engine2(hfull, NULL, "keypass", NULL, NULL, NULL);
	if (g != NULL)
		CHECK_INT(crypt_file(g, 0, tpath("po.gpg"), tpath("po.out4")),
		    0);

	/* From cron: no terminal, stdin /dev/null, no agent running. */
	stop_agent(hfull);
	if ((pid = fork()) == 0) {
		struct arca_gpg_opts o = { .passphrase = "keypass",
		    .homedir = hfull };
		struct arca_gpg *c;
		int fd, in, out, r;

		setsid();
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		unsetenv("GPG_TTY");
		unsetenv("DISPLAY");
		if (arca_gpg_new(&ctx, &o, &c) != 0)
			_exit(10);
		in = open(tpath("po.gpg"), O_RDONLY);
		out = open(tpath("po.cron"), O_WRONLY | O_CREAT | O_TRUNC,
		    0600);
		r = arca_gpg_decrypt_fd(c, in, out, "po.gpg");
		arca_gpg_free(c);
		_exit(r != 0 ? 11 : 0);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(same_file(tpath("po"), tpath("po.cron")));

	/* An imported key nobody trusts: gpg will not use it; say why. */
	arca_gpg_free(g);
	g = NULL;
	CHECK_INT(copy_pub(hfull, un, fprA, 0), 0);
	if ((g = engine2(un, NULL, NULL, ra, NULL, NULL)) != NULL) {
		CHECK_INT(crypt_file(g, 1, tpath("po"), tpath("po.un")),
		    ARCA_ERR_CRYPTO);
		CHECK(strstr(ctx.errmsg, "not trusted") != NULL);
		CHECK(strstr(ctx.errmsg, fprA) != NULL);
	}
out:
	arca_gpg_free(pub);
	arca_gpg_free(full);
	arca_gpg_free(g);
}

/* --hidden-encrypt-key: the recipient's key id is not in the file. */
static void
test_hidden(void)
{
	const char *const ra[] = { "a@example.org", NULL };
	const char *const rb[] = { "b@example.org", NULL };
	struct arca_gpg *g = NULL, *full = NULL;
	char cmd[3 * PATH_MAX], idb[17];

	write_file(tpath("hid"), "hidden recipient\n", 17);
	if ((g = engine2(hpub, NULL, NULL, NULL, ra, NULL)) == NULL)
		goto out;
	CHECK_INT(arca_gpg_is_pubkey(g), 1);
	CHECK_INT(crypt_file(g, 1, tpath("hid"), tpath("hid.gpg")), 0);
	packets(tpath("hid.gpg"), tpath("hid.pk"));
	CHECK(file_has(tpath("hid.pk"), "keyid 0000000000000000"));
	CHECK(!file_has(tpath("hid.pk"), fprA + 24));
	if ((full = engine2(hfull, "keypass", NULL, NULL, NULL, NULL)) == NULL)
		goto out;
	CHECK_INT(crypt_file(full, 0, tpath("hid.gpg"), tpath("hid.out")), 0);
	CHECK(same_file(tpath("hid"), tpath("hid.out")));
	/* And stock gpg finds its key too (it tries each secret key). */
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --pinentry-mode "
	    "loopback --passphrase keypass -o '%s' -d '%s' 2>/dev/null", hfull,
	    tpath("hid.gpgout"), tpath("hid.gpg"));
	unlink(tpath("hid.gpgout"));
	CHECK_INT(run(cmd), 0);
	CHECK(same_file(tpath("hid"), tpath("hid.gpgout")));

	/* One normal and one hidden recipient, in one message. */
	arca_gpg_free(g);
	if ((g = engine2(hfull, NULL, NULL, rb, ra, NULL)) == NULL)
		goto out;
	CHECK_INT(crypt_file(g, 1, tpath("hid"), tpath("hid2.gpg")), 0);
	packets(tpath("hid2.gpg"), tpath("hid2.pk"));
	CHECK(file_has(tpath("hid2.pk"), "keyid 0000000000000000"));
	/* B's key id is there: its encryption subkey's. */
	{
		struct arca_buf b = { 0 };
		char *p;

		CHECK_INT(read_file(tpath("hid2.pk"), &b), 0);
		p = b.len ? strstr((char *)b.data, "keyid ") : NULL;
		CHECK(p != NULL && strncmp(p + 6, "0000000000000000", 16) !=
		    0);
		if (p != NULL)
			FMT(idb, "%.16s", p + 6);
		arca_buf_free(&b);
	}
	CHECK_INT(crypt_file(g, 0, tpath("hid2.gpg"), tpath("hid2.out")), 0);
	CHECK(same_file(tpath("hid"), tpath("hid2.out")));
out:
	arca_gpg_free(g);
	arca_gpg_free(full);
}

/* Encrypt in to rcpt with stock gpg, signed by `signer` (or not). */
static int
gpg_encrypt_signed(const char *in, const char *out, const char *rcpt,
    const char *signer, const char *pass)
{
	char cmd[3 * PATH_MAX];

	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --pinentry-mode "
	    "loopback --passphrase '%s' %s%s%s -r %s -o '%s' --encrypt '%s' "
	    ">/dev/null 2>&1", hfull, pass, signer ? "--sign -u " : "",
	    signer ? signer : "", signer ? " " : "", rcpt, out, in);
	unlink(out);
	return run(cmd);
}

static int
verify_file(struct arca_gpg *g, const char *in, const char *out,
    struct arca_gpg_sig *sig)
{
	int ifd = open(in, O_RDONLY), ofd = open(out, O_WRONLY | O_CREAT |
	    O_TRUNC, 0600), r;

	memset(sig, 0x55, sizeof(*sig));
	r = arca_gpg_decrypt_verify_fd(g, ifd, ofd, in, sig);
	close(ifd);
	close(ofd);
	if (r != 0)
		fprintf(stderr, "  decrypt_verify: %d %s\n", r, ctx.errmsg);
	return r;
}

/*
 * --sign-key: what decrypt_verify reports for a good signature by the
 * key, by another key, by an unknown key, a bad signature and none, and
 * the duplicity rule that accepts or refuses each.
 */
static void
test_signing(void)
{
	const char *const ra[] = { "a@example.org", NULL };
	const char *const rb[] = { "b@example.org", NULL };
	const char *hA = new_home();
	struct arca_gpg *g = NULL, *d = NULL, *dA = NULL;
	struct arca_gpg_sig sig;
	char cmd[3 * PATH_MAX], id[64];
	struct arca_buf b = { 0 };
	size_t i;

	write_file(tpath("sg"), "signed volume\n", 14);
	/*
	 * Sign with S (its own passphrase), encrypt to B: B has no
	 * passphrase, as each use of a protected key costs seconds here.
	 */
	if ((g = engine2(hfull, "keypass", "signpass", rb, NULL, fprS)) ==
	    NULL)
		goto out;
	CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sg.gpg")), 0);
	if ((d = engine2(hfull, NULL, NULL, NULL, NULL, NULL)) == NULL)
		goto out;
	CHECK_INT(verify_file(d, tpath("sg.gpg"), tpath("sg.out"), &sig), 0);
	CHECK(same_file(tpath("sg"), tpath("sg.out")));
	CHECK_INT(sig.state, ARCA_GPG_SIG_GOOD);
	CHECK_STR(sig.fpr, fprS);
	CHECK_STR(sig.primary, fprS);
	/* The configured key may be its fingerprint, long or short id. */
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS, "v"), 0);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS + 24, "v"), 0);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS + 32, "v"), 0);
	FMT(id, "0x%s", fprS + 32);
	for (i = 2; id[i] != '\0'; i++)
		if (id[i] >= 'A' && id[i] <= 'F')
			id[i] = (char)(id[i] - 'A' + 'a');
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, id, "v"), 0);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprA, "vol1"),
	    ARCA_ERR_SIGNATURE);
	CHECK(strstr(ctx.errmsg, "vol1 was signed by key") != NULL);
	CHECK(strstr(ctx.errmsg, fprS) != NULL);
	CHECK(strstr(ctx.errmsg, fprA) != NULL);
	/* gpg itself sees the signature (duplicity's GOODSIG). */
	CHECK_INT(gpg_decrypt(hfull, "keypass", tpath("sg.gpg"),
	    tpath("sg.cli"), tpath("sg.status")), 0);
	CHECK(file_has(tpath("sg.status"), "GOODSIG"));

	/* Not signed. */
	CHECK_INT(gpg_encrypt_signed(tpath("sg"), tpath("ns.gpg"), fprB, NULL,
	    "x"), 0);
	CHECK_INT(verify_file(d, tpath("ns.gpg"), tpath("ns.out"), &sig), 0);
	CHECK_INT(sig.state, ARCA_GPG_SIG_NONE);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS, "vol2"),
	    ARCA_ERR_SIGNATURE);
	CHECK(strstr(ctx.errmsg, "vol2 is not signed") != NULL);

	/* Signed by B: a good signature, from the wrong key. */
	CHECK_INT(gpg_encrypt_signed(tpath("sg"), tpath("sb.gpg"), fprB, fprB,
	    ""), 0);
	CHECK_INT(verify_file(d, tpath("sb.gpg"), tpath("sb.out"), &sig), 0);
	CHECK_INT(sig.state, ARCA_GPG_SIG_GOOD);
	CHECK_STR(sig.fpr, fprB);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS + 24, "vol3"),
	    ARCA_ERR_SIGNATURE);
	CHECK(strstr(ctx.errmsg, fprB) != NULL);

	/* Signed by B where B is unknown: only A's secret key there. */
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --pinentry-mode loopback "
	    "--passphrase keypass --export-secret-keys %s | GNUPGHOME='%s' "
	    "gpg --batch --import >/dev/null 2>&1", hfull, fprA, hA);
	CHECK_INT(run(cmd), 0);
	if ((dA = engine2(hA, "keypass", NULL, NULL, NULL, NULL)) == NULL)
		goto out;
	CHECK_INT(gpg_encrypt_signed(tpath("sg"), tpath("sba.gpg"), fprA, fprB,
	    ""), 0);
	CHECK_INT(verify_file(dA, tpath("sba.gpg"), tpath("sb.out2"), &sig),
	    0);
	CHECK_INT(sig.state, ARCA_GPG_SIG_NOKEY);
	CHECK_STR(sig.fpr, fprB);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS, "vol4"),
	    ARCA_ERR_SIGNATURE);
	CHECK(strstr(ctx.errmsg, "not in the GnuPG keyring") != NULL);

	/*
	 * A bad signature: sign with S, change the signed data, and encrypt
	 * the packets as they are (gpg --no-literal), so that only the
	 * signature can tell.
	 */
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --pinentry-mode "
	    "loopback --passphrase signpass -z0 -u %s -o '%s' --sign '%s' "
	    ">/dev/null 2>&1", hfull, fprS, tpath("bad.sig"), tpath("sg"));
	unlink(tpath("bad.sig"));
	CHECK_INT(run(cmd), 0);
	CHECK_INT(read_file(tpath("bad.sig"), &b), 0);
	{
		char *p = b.len ? memmem(b.data, b.len, "signed volume", 13) :
		    NULL;

		CHECK(p != NULL);
		if (p != NULL)
			p[0] = 'S';
	}
	write_file(tpath("bad.tampered"), b.data, b.len);
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --no-tty --no-literal -r %s -o "
	    "'%s' --encrypt '%s' >/dev/null 2>&1", hfull, fprB,
	    tpath("bad.gpg"), tpath("bad.tampered"));
	unlink(tpath("bad.gpg"));
	CHECK_INT(run(cmd), 0);
	CHECK_INT(verify_file(d, tpath("bad.gpg"), tpath("bad.out"), &sig), 0);
	CHECK_INT(sig.state, ARCA_GPG_SIG_BAD);
	CHECK_INT(arca_gpg_check_signer(&ctx, &sig, fprS, "vol5"),
	    ARCA_ERR_SIGNATURE);
	CHECK(strstr(ctx.errmsg, "vol5 has a BAD signature") != NULL);

	/* Signing passphrases: S's is SIGN_PASSPHRASE, else PASSPHRASE. */
	arca_gpg_free(g);
	stop_agent(hfull);
	g = engine2(hfull, "keypass", NULL, ra, NULL, fprS);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sg2.gpg")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "wrong passphrase for the sign "
		    "key") != NULL);
	}
	arca_gpg_free(g);
	stop_agent(hfull);
	g = engine2(hfull, NULL, NULL, ra, NULL, fprS);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sg3.gpg")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "set SIGN_PASSPHRASE") != NULL);
	}
	arca_gpg_free(g);
	stop_agent(hfull);
	g = engine2(hfull, "signpass", NULL, ra, NULL, fprS);
	if (g != NULL)
		CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sg4.gpg")), 0);
	/*
	 * Symmetric encryption signed by S: each passphrase goes to its own
	 * request (duplicity can pass only one, so it wants them equal).
	 */
	arca_gpg_free(g);
	g = engine2(hfull, PASS, "signpass", NULL, NULL, fprS);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sym.gpg")), 0);
		CHECK_INT(verify_file(g, tpath("sym.gpg"), tpath("sym.out"),
		    &sig), 0);
		CHECK(same_file(tpath("sg"), tpath("sym.out")));
		CHECK_INT(sig.state, ARCA_GPG_SIG_GOOD);
		CHECK_STR(sig.fpr, fprS);
		CHECK_INT(gpg_decrypt(hfull, PASS, tpath("sym.gpg"),
		    tpath("sym.cli"), tpath("sym.status")), 0);
		CHECK(file_has(tpath("sym.status"), "GOODSIG"));
	}
	/* Only S's public key: fine for checking, refused for signing. */
	arca_gpg_free(g);
	g = engine2(hpub, NULL, "signpass", ra, NULL, fprS);
	if (g != NULL) {
		CHECK_INT(crypt_file(g, 1, tpath("sg"), tpath("sg5.gpg")),
		    ARCA_ERR_AUTH);
		CHECK(strstr(ctx.errmsg, "no secret key for the sign key") !=
		    NULL);
	}
out:
	arca_buf_free(&b);
	arca_gpg_free(g);
	arca_gpg_free(d);
	arca_gpg_free(dA);
}

static void
test_keyid_match(void)
{
	const char *f = "4C01192365FEF321161B3CD1FFCC45F39C2A29B5";

	CHECK_INT(arca_gpg_keyid_match(f, f), 1);
	CHECK_INT(arca_gpg_keyid_match(f, "FFCC45F39C2A29B5"), 1);
	CHECK_INT(arca_gpg_keyid_match(f, "9c2a29b5"), 1);
	CHECK_INT(arca_gpg_keyid_match(f, "0x9C2A29B5"), 1);
	/* duplicity compares on the shorter length: a key id as signer. */
	CHECK_INT(arca_gpg_keyid_match("FFCC45F39C2A29B5", f), 1);
	CHECK_INT(arca_gpg_keyid_match(f, "9C2A29B4"), 0);
	CHECK_INT(arca_gpg_keyid_match(f, "EFCC45F39C2A29B5"), 0);
	CHECK_INT(arca_gpg_keyid_match(f, "29B5"), 0);
	CHECK_INT(arca_gpg_keyid_match(f, ""), 0);
	CHECK_INT(arca_gpg_keyid_match("", f), 0);
	CHECK_INT(arca_gpg_keyid_match(NULL, f), 0);
}

/*
 * --use-agent: no loopback and no passphrase from us; an agent that has
 * the key's passphrase (preset, as a cron setup would) decrypts.
 */
static void
test_use_agent(void)
{
	struct arca_gpg_opts o = { .homedir = hfull, .use_agent = 1 };
	struct arca_gpg *g = NULL;
	char cmd[3 * PATH_MAX], line[512], grip[41] = "";
	FILE *f;
	int sub = 0;

	stop_agent(hfull);
	FMT(cmd, "echo allow-preset-passphrase >>'%s/gpg-agent.conf'", hfull);
	CHECK_INT(run(cmd), 0);
	/* The keygrip of A's encryption subkey. */
	FMT(cmd, "GNUPGHOME='%s' gpg --batch --with-colons --with-keygrip -K "
	    "%s 2>/dev/null", hfull, fprA);
	if ((f = popen(cmd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "ssb:", 4) == 0)
				sub = 1;
			if (sub && grip[0] == '\0')
				sscanf(line, "grp:::::::::%40[0-9A-F]:", grip);
		}
		pclose(f);
	}
	CHECK(grip[0] != '\0');
	FMT(cmd, "GNUPGHOME='%s' gpg-connect-agent /bye >/dev/null 2>&1 && "
	    "GNUPGHOME='%s' /usr/lib/gnupg/gpg-preset-passphrase --preset "
	    "-P keypass %s", hfull, hfull, grip);
	CHECK_INT(run(cmd), 0);
	if (arca_gpg_new(&ctx, &o, &g) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(crypt_file(g, 0, tpath("po.gpg"), tpath("ag.out")), 0);
	CHECK(same_file(tpath("po"), tpath("ag.out")));
	arca_gpg_free(g);
	stop_agent(hfull);
}

int
main(void)
{
	char cmd[PATH_MAX + 20];
	int i;

	if (run("gpg --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "gpg is missing: install gnupg\n");
		return 1;
	}
	/* A hang (a passphrase loop) fails the test instead of blocking. */
	alarm(240);
	tmp = test_tmpdir();
	RUN(test_symmetric_roundtrip);
	RUN(test_offset);
	RUN(test_fixture_and_wrong_passphrase);
	RUN(test_fixture_all);
	RUN(test_damaged);
	RUN(test_no_tty);
	RUN(test_public_key);
	RUN(test_keyid_match);
	/* The public-key tests get their own time: a hang is still caught. */
	alarm(240);
	if (setup_keys() == 0) {
		RUN(test_pubkey_only);
		RUN(test_hidden);
		RUN(test_signing);
		RUN(test_use_agent);
	} else
		CHECK(0);
	for (i = 0; i < nhomes; i++) {
		stop_agent(homes[i]);
		FMT(cmd, "rm -rf '%s'", homes[i]);
		run(cmd);
	}
	FMT(cmd, "rm -rf '%s'", tmp);
	run(cmd);
	free(tmp);
	TEST_DONE();
}
