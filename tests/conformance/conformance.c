/*
 * conformance.c: one backend conformance suite, run unchanged against every
 * backend through the core's own interface (src/lib/backend/backend.h),
 * opened as the engine opens a target: arca_backend_open with the URL and
 * the backend options, credentials from the URL or the environment.
 *
 *   conformance [options] URL
 *
 * The location URL names must be empty.  Checks, in this order:
 *   roundtrip  put, list, get byte-exact (an empty file too), overwrite,
 *              delete; deleting a missing file is no error, alone or in
 *              a batch
 *   names      every kind of name duplicity writes or reads (long and short
 *              forms, .gpg/.gz/.z/.g, .part/.p, prefixes, volume numbers)
 *              and some awkward characters: put, listed exactly, get
 *   big        a file of --big-mib MiB (above a lowered multipart chunk /
 *              upload-session threshold): listed, byte-exact get
 *   many       --many files (default 1050, more than one listing page on
 *              every service): listed exactly, removed with the batch delete
 *   missing    get of a missing name is ARCA_ERR_NOTFOUND, with a message
 *              naming the file, at once (not retried)
 *   badauth    --bad-url / --bad-env: refused with ARCA_ERR_AUTH within
 *              --bad-max seconds (no retry loop), the secret (--bad-secret)
 *              in no message
 *   cut        --cut-url reaches the server through a proxy that cuts every
 *              connection after some bytes: a put and a get end in an error
 *              within --cut-max seconds, and nothing is listed under the
 *              final name afterwards
 *
 * Options:
 *   -o NAME[=VALUE]     backend option, as on arca's command line
 *   --na CHECK=REASON   the check cannot apply to this backend: reported as
 *                       "n/a" with the reason (never silently)
 *   --only LIST         run only these checks (comma-separated)
 *   --big-mib N, --many N
 *   --many-seeded       the script made the files many-NNNNN itself (for a
 *                       backend where one put per file is too slow to do
 *                       1050 of them); they are listed and batch-deleted
 *   --bad-url URL, --bad-env NAME=VALUE (repeatable), --bad-secret S,
 *   --bad-max SECONDS
 *   --cut-url URL, --cut-env NAME=VALUE (repeatable: for a backend whose
 *   service address comes from the environment), --cut-mib N,
 *   --cut-max SECONDS
 *
 * Output: one line per check, "ok", "FAIL" (with why) or "n/a" (with why).
 * Exit status 0 when no check failed, 1 otherwise, 2 for a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "util/buf.h"
#include "util/ctx.h"

#define MAXOPTS	32
#define MAXENV	8

static const char *url;
static const char *opts[MAXOPTS + 1];
static size_t nopts;
static const char *na_check[16], *na_reason[16];
static size_t nna;
static const char *only;
static long big_mib = 12, cut_mib = 4, many_n = 1050;
static int many_seeded;
static const char *bad_url, *bad_secret;
static char *bad_env[MAXENV];
static size_t nbad_env;
static double bad_max = 10, cut_max = 60;
static const char *cut_url;
static char *cut_env[MAXENV];
static size_t ncut_env;
static char tmpdir[] = "/tmp/arca-conformance-XXXXXX";
static int failures;

/* Every log line of the current check, to look for secrets in. */
static struct arca_buf logbuf;

static void
log_cb(void *ud, int level, const char *msg)
{
	(void)ud;
	arca_buf_printf(&logbuf, "%d %s\n", level, msg);
	if (getenv("CONFORMANCE_VERBOSE") != NULL)
		fprintf(stderr, "    log: %s\n", msg);
}

static void
ctx_init(struct arca_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->verbosity = ARCA_LOG_INFO;
	ctx->log = log_cb;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reporting ---------------------------------------------------------- */

static int check_failed;
static const char *check_name;

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "    FAIL %s: ", check_name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	check_failed = 1;
}

/* ---- local files -------------------------------------------------------- */

/* Deterministic bytes that differ per seed (xorshift64*). */
static void
fill(unsigned char *p, size_t n, uint64_t *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*s ^= *s >> 12;
		*s ^= *s << 25;
		*s ^= *s >> 27;
		p[i] = (unsigned char)((*s * 2685821657736338717ull) >> 56);
	}
}

/* Write size pseudo-random bytes (seeded) to path. */
static int
make_file(const char *path, uint64_t size, uint64_t seed)
{
	unsigned char buf[65536];
	uint64_t s = seed | 1, left = size;
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	while (left > 0) {
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		fill(buf, n, &s);
		if (write(fd, buf, n) != (ssize_t)n)
			goto out;
		left -= n;
	}
	rc = 0;
out:
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/* 1 if the files at a and b hold the same bytes, 0 if not, -1 unreadable. */
static int
same_file(const char *a, const char *b, char *why, size_t whylen)
{
	unsigned char ba[65536], bb[65536];
	uint64_t off = 0;
	int fa, fb, rc = -1;
	ssize_t na, nb;

	fa = open(a, O_RDONLY);
	fb = open(b, O_RDONLY);
	if (fa < 0 || fb < 0) {
		snprintf(why, whylen, "cannot open %s", fa < 0 ? a : b);
		goto out;
	}
	for (;;) {
		na = read(fa, ba, sizeof(ba));
		if (na > 0) {
			/* Read the same amount from b, in pieces if need be. */
			nb = 0;
			while (nb < na) {
				ssize_t r = read(fb, bb + nb, (size_t)(na - nb));

				if (r <= 0)
					break;
				nb += r;
			}
		} else
			nb = read(fb, bb, sizeof(bb));
		if (na < 0 || nb < 0) {
			snprintf(why, whylen, "read error");
			goto out;
		}
		if (na != nb) {
			snprintf(why, whylen, "sizes differ: got %s bytes "
			    "at offset %llu, want %s", nb < na ? "fewer" :
			    "more", (unsigned long long)off, nb < na ?
			    "more" : "fewer");
			rc = 0;
			goto out;
		}
		if (na == 0)
			break;
		if (memcmp(ba, bb, (size_t)na) != 0) {
			snprintf(why, whylen, "content differs near offset "
			    "%llu", (unsigned long long)off);
			rc = 0;
			goto out;
		}
		off += (uint64_t)na;
	}
	rc = 1;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

static const char *
tmp_path(const char *leaf)
{
	static char p[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, leaf);
	return p[i];
}

/* ---- backend helpers ---------------------------------------------------- */

static struct arca_backend *
open_target(struct arca_ctx *ctx, const char *u, int tries, double delay)
{
	struct arca_backend *b = NULL;
	int rc;

	rc = arca_backend_open(ctx, u, 1, opts, &b);
	if (rc != 0) {
		fail("open: %s (code %d)", ctx->errmsg, rc);
		return NULL;
	}
	arca_backend_set_retries(b, tries, delay);
	return b;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Compare the target's listing with want[0..n): report names missing and
 * names not expected (the backend's own temp files count as unexpected:
 * a listing is what the engine believes is on the target).
 */
static int
list_is(struct arca_ctx *ctx, struct arca_backend *b,
    const char *const *want, size_t n)
{
	struct arca_strlist l = { 0 };
	const char **w = NULL;
	size_t i = 0, j = 0, shown = 0;
	int rc, ok = 1;

	if ((rc = arca_backend_list(b, &l)) != 0) {
		fail("list: %s (code %d)", ctx->errmsg, rc);
		ok = 0;
		goto out;
	}
	if ((w = calloc(n + 1, sizeof(*w))) == NULL) {
		fail("out of memory");
		ok = 0;
		goto out;
	}
	if (n > 0)
		memcpy(w, want, n * sizeof(*w));
	qsort(w, n, sizeof(*w), cmp_str);
	arca_strlist_sort(&l);
	while (i < n || j < l.n) {
		int c = i == n ? 1 : j == l.n ? -1 : strcmp(w[i], l.v[j]);

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		ok = 0;
		if (shown++ < 10)
			fail("list: %s '%s'", c < 0 ? "lacks" : "has unexpected",
			    c < 0 ? w[i] : l.v[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	if (!ok && shown > 10)
		fail("list: ... %zu differences in all (want %zu names, "
		    "got %zu)", shown, n, l.n);
out:
	free(w);
	arca_strlist_free(&l);
	return ok;
}

/* put name from path; 1 on success */
static int
put_ok(struct arca_ctx *ctx, struct arca_backend *b, const char *path,
    const char *name)
{
	int rc = arca_backend_put(b, path, name);

	if (rc != 0)
		fail("put '%s': %s (code %d)", name, ctx->errmsg, rc);
	return rc == 0;
}

/* get name and compare with the local file want; 1 if the same */
static int
get_same(struct arca_ctx *ctx, struct arca_backend *b, const char *name,
    const char *want)
{
	const char *got = tmp_path("got");
	char why[256];
	int rc;

	unlink(got);
	if ((rc = arca_backend_get(b, name, got)) != 0) {
		fail("get '%s': %s (code %d)", name, ctx->errmsg, rc);
		return 0;
	}
	if (same_file(want, got, why, sizeof(why)) != 1) {
		fail("get '%s': not what was put: %s", name, why);
		return 0;
	}
	return 1;
}

static int
del_ok(struct arca_ctx *ctx, struct arca_backend *b, const char *name)
{
	int rc = arca_backend_delete(b, name);

	if (rc != 0)
		fail("delete '%s': %s (code %d)", name, ctx->errmsg, rc);
	return rc == 0;
}

/*
 * Set each NAME=VALUE of env (an empty VALUE unsets NAME), keeping the old
 * values in saved for env_pop.  Backends read credentials and service
 * URLs from the environment when they open, as in a real run.
 */
static void
env_push(char **env, size_t n, char **saved)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *eq = strchr(env[i], '='), *old;

		*eq = '\0';
		old = getenv(env[i]);
		saved[i] = old != NULL ? strdup(old) : NULL;
		if (eq[1] == '\0')
			unsetenv(env[i]);
		else
			setenv(env[i], eq + 1, 1);
		*eq = '=';
	}
}

static void
env_pop(char **env, size_t n, char **saved)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *eq = strchr(env[i], '=');

		*eq = '\0';
		if (saved[i] != NULL)
			setenv(env[i], saved[i], 1);
		else
			unsetenv(env[i]);
		*eq = '=';
		free(saved[i]);
	}
}

/* ---- the checks --------------------------------------------------------- */

static void
check_roundtrip(struct arca_ctx *ctx)
{
	static const char *const names[] = { "conf-a", "conf-empty",
		"conf-b" };
	const char *all[3];
	struct arca_backend *b;
	int rc;

	if ((b = open_target(ctx, url, 3, 0.2)) == NULL)
		return;
	if (!list_is(ctx, b, NULL, 0)) {
		fail("the target must be empty at the start");
		goto out;
	}
	if (make_file(tmp_path("a"), 100000, 1) != 0 ||
	    make_file(tmp_path("empty"), 0, 2) != 0 ||
	    make_file(tmp_path("b"), 5, 3) != 0 ||
	    make_file(tmp_path("a2"), 70001, 4) != 0) {
		fail("cannot write local files in %s", tmpdir);
		goto out;
	}
	if (!put_ok(ctx, b, tmp_path("a"), names[0]) ||
	    !put_ok(ctx, b, tmp_path("empty"), names[1]) ||
	    !put_ok(ctx, b, tmp_path("b"), names[2]))
		goto out;
	list_is(ctx, b, names, 3);
	get_same(ctx, b, names[0], tmp_path("a"));
	get_same(ctx, b, names[1], tmp_path("empty"));
	get_same(ctx, b, names[2], tmp_path("b"));
	/* A resumed or retried upload puts the same name again. */
	if (put_ok(ctx, b, tmp_path("a2"), names[0]))
		get_same(ctx, b, names[0], tmp_path("a2"));
	list_is(ctx, b, names, 3);
	if (del_ok(ctx, b, names[2])) {
		list_is(ctx, b, names, 2);
		rc = arca_backend_get(b, names[2], tmp_path("got"));
		if (rc != ARCA_ERR_NOTFOUND)
			fail("get of a deleted file: code %d (%s), want "
			    "ARCA_ERR_NOTFOUND", rc, rc ? ctx->errmsg : "ok");
	}
	/* Deleting what is gone is no error (retention, cleanup rely on it). */
	if ((rc = arca_backend_delete(b, names[2])) != 0)
		fail("deleting a missing file: %s (code %d), want success",
		    ctx->errmsg, rc);
	/* A batch delete with a name already gone: no error either. */
	all[0] = names[0];
	all[1] = names[2];
	all[2] = names[1];
	if ((rc = arca_backend_delete_many(b, all, 3)) != 0)
		fail("delete_many with one name missing: %s (code %d)",
		    ctx->errmsg, rc);
	list_is(ctx, b, NULL, 0);
out:
	arca_backend_close(b);
}

/*
 * Every name form docs/FORMAT.md section 2 lists, long and short, with
 * each suffix, .part/.p, prefixes and multi-digit volume numbers; and
 * characters that are legal in a name but special in URLs, XML, shells,
 * JSON or S3 signatures.
 */
static const char *const dup_names[] = {
	"duplicity-full.20240101T000000Z.vol1.difftar.gpg",
	"duplicity-full.20240101T000000Z.vol23.difftar.gz",
	"duplicity-full.20240101T000000Z.vol1000.difftar",
	"duplicity-full.20240101T000000Z.manifest",
	"duplicity-full.20240101T000000Z.manifest.gpg",
	"duplicity-full.20240101T000000Z.manifest.part",
	"duplicity-full.20240101T000000Z.manifest.part.gpg",
	"duplicity-inc.20240101T000000Z.to.20240102T030405Z.vol1.difftar.gpg",
	"duplicity-inc.20240101T000000Z.to.20240102T030405Z.vol7.difftar.gz",
	"duplicity-inc.20240101T000000Z.to.20240102T030405Z.manifest.gpg",
	"duplicity-inc.20240101T000000Z.to.20240102T030405Z.manifest",
	"duplicity-full-signatures.20240101T000000Z.sigtar.gpg",
	"duplicity-full-signatures.20240101T000000Z.sigtar.gz",
	"duplicity-full-signatures.20240101T000000Z.sigtar.part.gpg",
	"duplicity-new-signatures.20240101T000000Z.to.20240102T030405Z."
	    "sigtar.gpg",
	"duplicity-new-signatures.20240101T000000Z.to.20240102T030405Z."
	    "sigtar.part.gz",
	"duplicity-new-signatures.20240101T000000Z.to.20240102T030405Z.sigtar",
	"P_A_duplicity-full.20240101T000000Z.vol1.difftar.gpg",
	"base-x_M_duplicity-full.20240101T000000Z.manifest.gpg",
	"my.prefix+1_duplicity-full-signatures.20240101T000000Z.sigtar.gz",
	"df.tp3uo8.1.dt.z",
	"df.tp3uo8.1z.dt.g",
	"df.tp3uo8.m",
	"df.tp3uo8.m.g",
	"di.tp3uo8.tp3uo9.a.dt.g",
	"di.tp3uo8.tp3uo9.m.p",
	"dfs.tp3uo8.st.g",
	"dfs.tp3uo8.st.p.z",
	"dns.tp3uo8.tp3uo9.st.z",
	/* not duplicity's, but legal names a careless encoder breaks */
	"a b+c=d&e;f:g@h,i$j!k'(n)~%41%2F%",
	"x#y?z[1]{2}|^`\"<>\\",
	"\xc3\xbcn\xc3\xaf\xe2\x82\xac-\xe6\x97\xa5\xe6\x9c\xac",
	"-dash", "~", "x..y",
	/*
	 * No name starting with '.': duplicity writes none, and nginx's
	 * dav-ext leaves such files out of PROPFIND answers.
	 */
};
#define NDUP (sizeof(dup_names) / sizeof(dup_names[0]))

static void
check_names(struct arca_ctx *ctx)
{
	struct arca_backend *b;
	char leaf[32];
	size_t i;

	if ((b = open_target(ctx, url, 3, 0.2)) == NULL)
		return;
	for (i = 0; i < NDUP; i++) {
		snprintf(leaf, sizeof(leaf), "n%zu", i);
		/* Content differs per name: a mix-up shows. */
		if (make_file(tmp_path(leaf), 64 + i * 7, 100 + i) != 0) {
			fail("cannot write local files in %s", tmpdir);
			goto out;
		}
		put_ok(ctx, b, tmp_path(leaf), dup_names[i]);
	}
	list_is(ctx, b, dup_names, NDUP);
	for (i = 0; i < NDUP; i++) {
		snprintf(leaf, sizeof(leaf), "n%zu", i);
		get_same(ctx, b, dup_names[i], tmp_path(leaf));
	}
	for (i = 0; i < NDUP; i++)
		del_ok(ctx, b, dup_names[i]);
	list_is(ctx, b, NULL, 0);
out:
	arca_backend_close(b);
}

static void
check_big(struct arca_ctx *ctx)
{
	static const char *const name[] = {
		"duplicity-full.20240101T000000Z.vol1.difftar.gpg" };
	struct arca_backend *b;
	double t0;

	if ((b = open_target(ctx, url, 3, 0.2)) == NULL)
		return;
	/* A size that is no multiple of any chunk or block size. */
	if (make_file(tmp_path("big"), (uint64_t)big_mib * 1048576 + 12345,
	    7) != 0) {
		fail("cannot write %ld MiB in %s", big_mib, tmpdir);
		goto out;
	}
	t0 = now();
	if (!put_ok(ctx, b, tmp_path("big"), name[0]))
		goto out;
	printf("    put %ld MiB in %.1f s\n", big_mib, now() - t0);
	list_is(ctx, b, name, 1);
	t0 = now();
	if (get_same(ctx, b, name[0], tmp_path("big")))
		printf("    got it back, byte-exact, in %.1f s\n", now() - t0);
	del_ok(ctx, b, name[0]);
	list_is(ctx, b, NULL, 0);
out:
	unlink(tmp_path("big"));
	unlink(tmp_path("got"));
	arca_backend_close(b);
}

static void
check_many(struct arca_ctx *ctx)
{
	struct arca_backend *b;
	char **names = NULL;
	size_t i, n = (size_t)many_n;
	double t0;
	int rc;

	if ((b = open_target(ctx, url, 3, 0.2)) == NULL)
		return;
	if ((names = calloc(n, sizeof(*names))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((names[i] = malloc(32)) == NULL) {
			fail("out of memory");
			goto out;
		}
		snprintf(names[i], 32, "many-%05zu", i);
	}
	t0 = now();
	if (!many_seeded) {
		if (make_file(tmp_path("m"), 10, 9) != 0) {
			fail("cannot write local files in %s", tmpdir);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (!put_ok(ctx, b, tmp_path("m"), names[i]))
				goto out;
		printf("    put %zu files in %.1f s\n", n, now() - t0);
	}
	t0 = now();
	if (list_is(ctx, b, (const char *const *)names, n))
		printf("    listed %zu files in %.1f s\n", n, now() - t0);
	t0 = now();
	rc = arca_backend_delete_many(b, (const char *const *)names, n);
	if (rc != 0)
		fail("delete_many of %zu files: %s (code %d)", n, ctx->errmsg,
		    rc);
	else
		printf("    deleted them in %.1f s\n", now() - t0);
	list_is(ctx, b, NULL, 0);
out:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	arca_backend_close(b);
}

static void
check_missing(struct arca_ctx *ctx)
{
	const char *name = "duplicity-full.20240101T000000Z.vol99.difftar.gpg";
	struct arca_backend *b;
	double t0;
	int rc;

	/* Default retries: a not-found must not go through them. */
	if ((b = open_target(ctx, url, 5, 1.0)) == NULL)
		return;
	t0 = now();
	rc = arca_backend_get(b, name, tmp_path("got"));
	if (rc != ARCA_ERR_NOTFOUND)
		fail("get of a missing file: code %d (%s), want "
		    "ARCA_ERR_NOTFOUND (%d)", rc, rc ? ctx->errmsg : "ok",
		    ARCA_ERR_NOTFOUND);
	else if (strstr(ctx->errmsg, "vol99") == NULL)
		fail("the not-found message does not name the file: '%s'",
		    ctx->errmsg);
	else
		printf("    message: %s\n", ctx->errmsg);
	if (now() - t0 > 3)
		fail("the not-found answer took %.1f s (retried?)", now() - t0);
	arca_backend_close(b);
}

static void
check_badauth(struct arca_ctx *ctx)
{
	char *saved[MAXENV];
	struct arca_backend *b = NULL;
	struct arca_strlist l = { 0 };
	double t0, dt;
	int rc;

	/* The environment of a run with bad credentials. */
	env_push(bad_env, nbad_env, saved);
	t0 = now();
	/* The engine's default retry policy: an auth error must skip it. */
	rc = arca_backend_open(ctx, bad_url != NULL ? bad_url : url, 1, opts,
	    &b);
	if (rc == 0) {
		arca_backend_set_retries(b, 5, 1.0);
		rc = arca_backend_list(b, &l);
		if (rc == 0) {
			if (make_file(tmp_path("auth"), 10, 11) == 0)
				rc = arca_backend_put(b, tmp_path("auth"),
				    "conf-auth");
		}
	}
	dt = now() - t0;
	if (rc != ARCA_ERR_AUTH)
		fail("bad credentials: code %d (%s), want ARCA_ERR_AUTH (%d)",
		    rc, rc ? ctx->errmsg : "accepted", ARCA_ERR_AUTH);
	else
		printf("    refused in %.1f s: %s\n", dt, ctx->errmsg);
	if (dt > bad_max)
		fail("bad credentials took %.1f s to report (at most %.0f)",
		    dt, bad_max);
	if (bad_secret != NULL && *bad_secret != '\0' &&
	    (strstr(ctx->errmsg, bad_secret) != NULL ||
	    (logbuf.data != NULL && memmem(logbuf.data, logbuf.len, bad_secret,
	    strlen(bad_secret)) != NULL)))
		fail("the secret appears in a message or log line");
	arca_strlist_free(&l);
	arca_backend_close(b);
	env_pop(bad_env, nbad_env, saved);
}

static void
check_cut(struct arca_ctx *ctx)
{
	static const char *const one[] = {
		"duplicity-full.20240101T000000Z.vol2.difftar.gpg" };
	const char *name = "duplicity-full.20240101T000000Z.vol1.difftar.gpg";
	struct arca_backend *b = NULL, *cut = NULL;
	char *saved[MAXENV];
	double t0, dt;
	int rc;

	if (make_file(tmp_path("cut"), (uint64_t)cut_mib * 1048576, 13) != 0) {
		fail("cannot write local files in %s", tmpdir);
		return;
	}
	/* A retry or two, as the engine would; each is cut too. */
	env_push(cut_env, ncut_env, saved);
	cut = open_target(ctx, cut_url != NULL ? cut_url : url, 2, 0.5);
	env_pop(cut_env, ncut_env, saved);
	if (cut == NULL)
		return;
	t0 = now();
	rc = arca_backend_put(cut, tmp_path("cut"), name);
	dt = now() - t0;
	if (rc == 0)
		fail("put through the cutting proxy succeeded: the proxy "
		    "did not cut, or the check is wrong");
	else if (ctx->errmsg[0] == '\0')
		fail("put cut off: code %d without a message", rc);
	else
		printf("    put cut off after %.1f s: code %d: %s\n", dt, rc,
		    ctx->errmsg);
	if (dt > cut_max)
		fail("the cut-off put took %.1f s (at most %.0f)", dt, cut_max);

	/* A download cut off the same way. */
	if ((b = open_target(ctx, url, 3, 0.2)) == NULL)
		goto out;
	if (!put_ok(ctx, b, tmp_path("cut"), one[0]))
		goto out;
	t0 = now();
	rc = arca_backend_get(cut, one[0], tmp_path("got"));
	dt = now() - t0;
	if (rc == 0)
		fail("get through the cutting proxy succeeded");
	else
		printf("    get cut off after %.1f s: code %d: %s\n", dt, rc,
		    ctx->errmsg);
	if (dt > cut_max)
		fail("the cut-off get took %.1f s (at most %.0f)", dt, cut_max);

	/* Nothing that looks complete under the cut upload's name. */
	list_is(ctx, b, one, 1);
	del_ok(ctx, b, one[0]);
out:
	unlink(tmp_path("got"));
	unlink(tmp_path("cut"));
	arca_backend_close(cut);
	arca_backend_close(b);
}

static void
remove_tmpdir(void)
{
	struct dirent *e;
	DIR *d;

	if ((d = opendir(tmpdir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlink(tmp_path(e->d_name));
		closedir(d);
	}
	rmdir(tmpdir);
}

/* ---- driver ------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(struct arca_ctx *);
} checks[] = {
	{ "roundtrip", check_roundtrip },
	{ "names", check_names },
	{ "big", check_big },
	{ "many", check_many },
	{ "missing", check_missing },
	{ "badauth", check_badauth },
	{ "cut", check_cut },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static int
wanted(const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (only == NULL)
		return 1;
	for (p = only; (p = strstr(p, name)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0'))
			return 1;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: conformance [-o NAME[=VALUE]]... "
	    "[--na CHECK=REASON]... [--only LIST] [--big-mib N] [--many N] "
	    "[--many-seeded] [--bad-url URL] [--bad-env NAME=VALUE]... "
	    "[--bad-secret S] [--bad-max S] [--cut-url URL] "
	    "[--cut-env NAME=VALUE]... [--cut-mib N] "
	    "[--cut-max S] URL\n");
	exit(2);
}

static const char *
arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

int
main(int argc, char **argv)
{
	struct arca_ctx ctx;
	size_t c, k;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-o") == 0) {
			if (nopts >= MAXOPTS)
				usage();
			opts[nopts++] = arg(argc, argv, &i);
		} else if (strcmp(a, "--na") == 0) {
			const char *v = arg(argc, argv, &i), *eq = strchr(v, '=');

			if (eq == NULL || nna >= 16)
				usage();
			na_check[nna] = strndup(v, (size_t)(eq - v));
			na_reason[nna++] = eq + 1;
		} else if (strcmp(a, "--only") == 0)
			only = arg(argc, argv, &i);
		else if (strcmp(a, "--big-mib") == 0)
			big_mib = atol(arg(argc, argv, &i));
		else if (strcmp(a, "--many") == 0)
			many_n = atol(arg(argc, argv, &i));
		else if (strcmp(a, "--many-seeded") == 0)
			many_seeded = 1;
		else if (strcmp(a, "--bad-url") == 0)
			bad_url = arg(argc, argv, &i);
		else if (strcmp(a, "--bad-env") == 0) {
			if (nbad_env >= MAXENV)
				usage();
			bad_env[nbad_env] = strdup(arg(argc, argv, &i));
			if (strchr(bad_env[nbad_env++], '=') == NULL)
				usage();
		} else if (strcmp(a, "--bad-secret") == 0)
			bad_secret = arg(argc, argv, &i);
		else if (strcmp(a, "--bad-max") == 0)
			bad_max = atof(arg(argc, argv, &i));
		else if (strcmp(a, "--cut-url") == 0)
			cut_url = arg(argc, argv, &i);
		else if (strcmp(a, "--cut-env") == 0) {
			if (ncut_env >= MAXENV)
				usage();
			cut_env[ncut_env] = strdup(arg(argc, argv, &i));
			if (strchr(cut_env[ncut_env++], '=') == NULL)
				usage();
		} else if (strcmp(a, "--cut-mib") == 0)
			cut_mib = atol(arg(argc, argv, &i));
		else if (strcmp(a, "--cut-max") == 0)
			cut_max = atof(arg(argc, argv, &i));
		else if (a[0] == '-' || url != NULL)
			usage();
		else
			url = a;
	}
	if (url == NULL || big_mib < 0 || many_n < 1 || many_n > 100000 ||
	    cut_mib < 1)
		usage();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	for (c = 0; c < NCHECKS; c++) {
		if (!wanted(checks[c].name))
			continue;
		for (k = 0; k < nna; k++)
			if (strcmp(na_check[k], checks[c].name) == 0)
				break;
		if (k < nna) {
			printf("n/a  %-9s %s\n", checks[c].name, na_reason[k]);
			continue;
		}
		if (strcmp(checks[c].name, "cut") == 0 && cut_url == NULL &&
		    ncut_env == 0) {
			printf("FAIL %-9s no --cut-url or --cut-env given (say --na "
			    "cut=REASON if it cannot apply)\n", checks[c].name);
			failures++;
			continue;
		}
		if (strcmp(checks[c].name, "badauth") == 0 && bad_url == NULL &&
		    nbad_env == 0) {
			printf("FAIL %-9s no --bad-url or --bad-env given (say "
			    "--na badauth=REASON if it cannot apply)\n",
			    checks[c].name);
			failures++;
			continue;
		}
		printf("---- %s\n", checks[c].name);
		ctx_init(&ctx);
		arca_buf_free(&logbuf);
		check_failed = 0;
		check_name = checks[c].name;
		checks[c].fn(&ctx);
		printf("%s %s\n", check_failed ? "FAIL" : "ok  ",
		    checks[c].name);
		failures += check_failed;
	}
	arca_buf_free(&logbuf);
	remove_tmpdir();
	/* Freed so that LeakSanitizer (the ASan pass) has nothing to say. */
	for (k = 0; k < nna; k++)
		free((char *)na_check[k]);
	for (k = 0; k < nbad_env; k++)
		free(bad_env[k]);
	for (k = 0; k < ncut_env; k++)
		free(cut_env[k]);
	return failures ? 1 : 0;
}
