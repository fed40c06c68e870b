/*
 * test_backend.c: URL parsing, the retry loop, and the file:// backend.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

#include "test.h"

/* ---------------------------------------------------------------- URLs */

static void
test_url_file(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_url u;

	CHECK_INT(arca_url_parse(&ctx, "file:///abs/path", &u), 0);
	CHECK_STR(u.scheme, "file");
	CHECK_STR(u.path, "/abs/path");
	CHECK(u.host == NULL && u.user == NULL && u.password == NULL);
	CHECK_INT(u.port, 0);
	CHECK_STR(u.text, "file:///abs/path");
	CHECK_STR(u.redacted, "file:///abs/path");
	arca_url_free(&u);
	CHECK(u.scheme == NULL && u.path == NULL && u.text == NULL);

	/* duplicity: the whole rest is the path, so this one is relative */
	CHECK_INT(arca_url_parse(&ctx, "file://rel/dir", &u), 0);
	CHECK_STR(u.path, "rel/dir");
	CHECK(u.host == NULL);
	arca_url_free(&u);

	/* ... and '@' or ':' in it are just characters */
	CHECK_INT(arca_url_parse(&ctx, "file://me:x@y/z", &u), 0);
	CHECK_STR(u.path, "me:x@y/z");
	CHECK(u.user == NULL && u.password == NULL);
	CHECK_STR(u.redacted, "file://me:x@y/z");
	arca_url_free(&u);

	CHECK_INT(arca_url_parse(&ctx, "FILE:///a%20b%2Fc/%c3%bcn%C3%AF", &u),
	    0);
	CHECK_STR(u.scheme, "file");
	CHECK_STR(u.path, "/a b/c/\xc3\xbcn\xc3\xaf");
	arca_url_free(&u);

	CHECK_INT(arca_url_parse(&ctx, "file:///%ff", &u), 0);
	CHECK_STR(u.path, "/\xff");
	arca_url_free(&u);
}

static void
test_url_network(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_url u;

	CHECK_INT(arca_url_parse(&ctx,
	    "sftp://us%40er:p%3Ass@host.example:2222/some/dir%20x", &u), 0);
	CHECK_STR(u.scheme, "sftp");
	CHECK_STR(u.user, "us@er");
	CHECK_STR(u.password, "p:ss");
	CHECK_STR(u.host, "host.example");
	CHECK_INT(u.port, 2222);
	CHECK_STR(u.path, "/some/dir x");
	CHECK_STR(u.redacted, "sftp://us%40er:***@host.example:2222/some/dir%20x");
	arca_url_free(&u);

	/* the last '@' ends the user info; ':' splits at the first */
	CHECK_INT(arca_url_parse(&ctx, "s3://u:p@s:s@h/b", &u), 0);
	CHECK_STR(u.user, "u");
	CHECK_STR(u.password, "p@s:s");
	CHECK_STR(u.host, "h");
	CHECK_STR(u.path, "/b");
	CHECK_STR(u.redacted, "s3://u:***@h/b");
	arca_url_free(&u);

	CHECK_INT(arca_url_parse(&ctx, "webdavs://bob@dav.example", &u), 0);
	CHECK_STR(u.user, "bob");
	CHECK(u.password == NULL);
	CHECK_STR(u.host, "dav.example");
	CHECK_STR(u.path, "");
	CHECK_INT(u.port, 0);
	arca_url_free(&u);

	CHECK_INT(arca_url_parse(&ctx, "sftp://[::1]:22//abs", &u), 0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(u.port, 22);
	CHECK_STR(u.path, "//abs");
	arca_url_free(&u);

	/* duplicity's s3:///bucket form: no host */
	CHECK_INT(arca_url_parse(&ctx, "s3:///bucket/prefix", &u), 0);
	CHECK(u.host == NULL);
	CHECK_STR(u.path, "/bucket/prefix");
	arca_url_free(&u);

	CHECK_INT(arca_url_parse(&ctx, "S3+HTTP://b", &u), 0);
	CHECK_STR(u.scheme, "s3+http");
	CHECK_STR(u.host, "b");
	arca_url_free(&u);
}

static void
test_url_bad(void)
{
	static const struct {
		const char *url;
		const char *msg;	/* part of the message */
	} bad[] = {
		{ "", "empty URL" },
		{ "/just/a/path", "expected scheme://" },
		{ "noscheme", "expected scheme://" },
		{ "1http://x", "expected scheme://" },
		{ "file:/x", "expected scheme://" },
		{ "://x", "expected scheme://" },
		{ "file://", "no path" },
		{ "sftp://h:/x", "empty port" },
		{ "sftp://h:0/x", "1 to 65535" },
		{ "sftp://h:65536/x", "1 to 65535" },
		{ "sftp://h:99999999999999999999/x", "1 to 65535" },
		{ "sftp://h:12a/x", "not a number" },
		{ "sftp://h:-1/x", "not a number" },
		{ "sftp://[::1/x", "missing ']'" },
		{ "sftp://[::1]x/y", "after IPv6" },
		{ "sftp://:22/x", "without a host" },
		{ "sftp://@h/x", "empty user" },
		{ "file:///a%zz", "bad %-escape in the path" },
		{ "file:///a%2", "bad %-escape in the path" },
		{ "file:///a%00b", "%00" },
		{ "sftp://u%g1@h/", "bad %-escape in the user name" },
	};
	static const char *const secret[] = {
		"sftp://u:hunter2@h:99999/x",
		"sftp://u:hunter2@h:/x",
		"sftp://u:hunter2@[::1/x",
		"sftp://u:hunter2%zz@h/x",
		"sftp://u:hunter2%00@h/x",
		"sftp://u:hunter2@:1/x",
		"sftp://u:hunter2@h/%zz",
		"u:hunter2@host/x",
		"sftp:/u:hunter2@host/x",
	};
	struct arca_ctx ctx = { 0 };
	struct arca_url u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctx.errmsg[0] = '\0';
		CHECK_INT(arca_url_parse(&ctx, bad[i].url, &u), ARCA_ERR_USAGE);
		if (strstr(ctx.errmsg, bad[i].msg) == NULL) {
			fprintf(stderr, "  URL '%s': message '%s' lacks '%s'\n",
			    bad[i].url, ctx.errmsg, bad[i].msg);
			CHECK(0);
		}
		CHECK(u.scheme == NULL && u.text == NULL && u.path == NULL);
		arca_url_free(&u);
	}
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		CHECK_INT(arca_url_parse(&ctx, secret[i], &u), ARCA_ERR_USAGE);
		if (strstr(ctx.errmsg, "hunter") != NULL) {
			fprintf(stderr, "  password leaked: %s\n", ctx.errmsg);
			CHECK(0);
		}
		CHECK(ctx.errmsg[0] != '\0');
		arca_url_free(&u);
	}
	CHECK(strstr(ctx.errmsg, "expected scheme://") != NULL);
	arca_url_free(NULL);
}

static void
test_url_is_url(void)
{
	CHECK_INT(arca_url_is_url("file:///x"), 1);
	CHECK_INT(arca_url_is_url("file://x"), 1);
	CHECK_INT(arca_url_is_url("s3+http://b"), 1);
	CHECK_INT(arca_url_is_url("a1.b-c://x"), 1);
	CHECK_INT(arca_url_is_url("/x/y"), 0);
	CHECK_INT(arca_url_is_url("x:/y"), 0);
	CHECK_INT(arca_url_is_url("C:\\x"), 0);
	CHECK_INT(arca_url_is_url("://x"), 0);
	CHECK_INT(arca_url_is_url("1a://x"), 0);
	CHECK_INT(arca_url_is_url("dir with://colon"), 0);
	CHECK_INT(arca_url_is_url(""), 0);
	CHECK_INT(arca_url_is_url(NULL), 0);
}

/* ------------------------------------------------------------- helpers */

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Whole file in a malloc'd buffer, *n its size; NULL if unreadable. */
static unsigned char *
read_file(const char *path, size_t *n)
{
	struct arca_buf b = { 0 };
	unsigned char tmp[8192];
	size_t r;
	FILE *f = fopen(path, "rb");

	*n = 0;
	if (f == NULL)
		return NULL;
	while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (arca_buf_append(&b, tmp, r) != 0)
			exit(2);
	fclose(f);
	*n = b.len;
	return (unsigned char *)arca_buf_steal(&b);
}

static unsigned char *
pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

/* Names in dir, sorted and joined by ',' (all entries, even dot files). */
static char *
dir_names(const char *dir)
{
	struct arca_strlist l = { 0 };
	struct arca_buf b = { 0 };
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t i;

	if (d == NULL)
		return strdup("(unreadable)");
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			arca_strlist_add(&l, de->d_name);
	closedir(d);
	arca_strlist_sort(&l);
	arca_buf_puts(&b, "");
	for (i = 0; i < l.n; i++)
		arca_buf_printf(&b, "%s%s", i ? "," : "", l.v[i]);
	arca_strlist_free(&l);
	return arca_buf_steal(&b);
}

static char *
join_list(struct arca_strlist *l)
{
	struct arca_buf b = { 0 };
	size_t i;

	arca_strlist_sort(l);
	arca_buf_puts(&b, "");
	for (i = 0; i < l->n; i++)
		arca_buf_printf(&b, "%s%s", i ? "," : "", l->v[i]);
	return arca_buf_steal(&b);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path) == -1 ? -1 : 0;
}

/* rm -rf dir, then free the string (test_tmpdir leaves its dirs behind). */
static void
rmtree(char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "  cannot remove %s: %s\n", dir,
		    strerror(errno));
	free(dir);
}

static char *
cat(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s%s", a, b) < 0)
		exit(2);
	return s;
}

/* -------------------------------------------------------- file backend */

static void
test_file_roundtrip(void)
{
	static const char vol[] = "duplicity-full.20240101T000000Z.vol1.difftar.gz";
	static const char man[] = "duplicity-full.20240101T000000Z.manifest";
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	struct arca_strlist l = { 0 };
	char *tmp = test_tmpdir();
	char *url = cat("file://", tmp);
	char *target, *src, *dst, *names, *remote, *url2;
	unsigned char *data = pattern(300001, 7), *got;
	struct stat sb;
	size_t n;

	url2 = cat(url, "/tgt/deeper");
	target = cat(tmp, "/tgt/deeper");
	src = cat(tmp, "/src.bin");
	dst = cat(tmp, "/dst.bin");
	if (asprintf(&remote, "%s/%s", target, vol) < 0)
		exit(2);
	write_file(src, data, 300001);
	/* get must truncate what was there */
	{
		unsigned char *big = pattern(400000, 1);

		write_file(dst, big, 400000);
		free(big);
	}

	umask(022);
	CHECK_INT(arca_backend_open(&ctx, url2, 1, NULL, &b), 0);
	if (b == NULL) {
		fprintf(stderr, "  open: %s\n", ctx.errmsg);
		goto out;
	}
	CHECK_INT(stat(target, &sb), 0);
	CHECK_INT(sb.st_mode & 07777, 0700);
	CHECK_INT(stat(remote, &sb), -1);

	CHECK_INT(arca_backend_put(b, src, vol), 0);
	got = read_file(remote, &n);
	CHECK_INT(n, 300001);
	CHECK(got != NULL && n == 300001 && memcmp(got, data, n) == 0);
	free(got);
	names = dir_names(target);
	CHECK_STR(names, vol);	/* no temp file left behind */
	free(names);

	CHECK_INT(arca_backend_get(b, vol, dst), 0);
	got = read_file(dst, &n);
	CHECK_INT(n, 300001);
	CHECK(got != NULL && n == 300001 && memcmp(got, data, n) == 0);
	free(got);

	/* an empty file, and replacing an existing name */
	write_file(src, "", 0);
	CHECK_INT(arca_backend_put(b, src, man), 0);
	write_file(src, "manifest v2\n", 12);
	CHECK_INT(arca_backend_put(b, src, man), 0);
	CHECK_INT(arca_backend_get(b, man, dst), 0);
	got = read_file(dst, &n);
	CHECK(got != NULL && n == 12 && memcmp(got, "manifest v2\n", 12) == 0);
	free(got);

	CHECK_INT(arca_backend_list(b, &l), 0);
	names = join_list(&l);
	CHECK_STR(names, "duplicity-full.20240101T000000Z.manifest,"
	    "duplicity-full.20240101T000000Z.vol1.difftar.gz");
	free(names);
	arca_strlist_free(&l);

	CHECK_INT(arca_backend_delete(b, vol), 0);
	CHECK_INT(stat(remote, &sb), -1);
	CHECK_INT(arca_backend_delete(b, vol), 0);	/* missing is fine */
	CHECK_INT(arca_backend_list(b, &l), 0);
	names = join_list(&l);
	CHECK_STR(names, man);
	free(names);
	arca_strlist_free(&l);

	CHECK_INT(arca_backend_get(b, vol, dst), ARCA_ERR_NOTFOUND);
	CHECK(strstr(ctx.errmsg, vol) != NULL);
	CHECK_INT(ctx.warnings, 0);

	/* flat names only: nothing may escape the target */
	CHECK_INT(arca_backend_put(b, src, "../escape"), ARCA_ERR_UNSAFE);
	CHECK_INT(arca_backend_get(b, "..", dst), ARCA_ERR_UNSAFE);
	CHECK_INT(arca_backend_delete(b, "a/b"), ARCA_ERR_UNSAFE);
	CHECK_INT(arca_backend_delete(b, ""), ARCA_ERR_UNSAFE);
	CHECK_INT(stat(tmp, &sb), 0);
	names = dir_names(tmp);
	CHECK_STR(names, "dst.bin,src.bin,tgt");
	free(names);

	/* a missing local file to upload is an I/O error, not retried */
	CHECK_INT(arca_backend_put(b, "/nonexistent/arca-x", "n"),
	    ARCA_ERR_IO);
	CHECK_INT(ctx.warnings, 0);
out:
	arca_backend_close(b);
	free(data);
	free(url);
	free(url2);
	free(target);
	free(src);
	free(dst);
	free(remote);
	rmtree(tmp);
}

static void
test_file_relative(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	char *tmp = test_tmpdir(), *p;
	struct stat sb;
	int cwd = open(".", O_RDONLY | O_DIRECTORY);

	if (cwd == -1 || chdir(tmp) == -1) {
		perror("chdir");
		exit(2);
	}
	CHECK_INT(arca_backend_open(&ctx, "file://rel/sub", 1, NULL, &b), 0);
	if (fchdir(cwd) == -1)
		exit(2);
	close(cwd);
	p = cat(tmp, "/rel/sub");
	CHECK_INT(stat(p, &sb), 0);
	CHECK(S_ISDIR(sb.st_mode));
	/* the backend keeps its directory, not its path */
	if (b != NULL) {
		CHECK_INT(arca_backend_put(b, "/dev/null", "n"), 0);
		free(p);
		p = cat(tmp, "/rel/sub/n");
		CHECK_INT(stat(p, &sb), 0);
	}
	arca_backend_close(b);
	free(p);
	rmtree(tmp);
}

static void
test_file_list_filters(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	struct arca_strlist l = { 0 };
	char *tmp = test_tmpdir(), *url = cat("file://", tmp), *p, *names;

	p = cat(tmp, "/.x.arca-tmp-99");
	write_file(p, "partial", 7);
	free(p);
	p = cat(tmp, "/.duplicity-full.20240101T000000Z.manifest.arca-tmp-4");
	write_file(p, "partial", 7);
	free(p);
	p = cat(tmp, "/.hidden");
	write_file(p, "h", 1);
	free(p);
	p = cat(tmp, "/plain");
	write_file(p, "p", 1);
	free(p);
	p = cat(tmp, "/subdir");
	CHECK_INT(mkdir(p, 0755), 0);
	free(p);
	p = cat(tmp, "/subdir/inner");
	write_file(p, "i", 1);
	free(p);
	p = cat(tmp, "/fifo");
	CHECK_INT(mkfifo(p, 0644), 0);
	free(p);
	p = cat(tmp, "/link-to-plain");
	CHECK_INT(symlink("plain", p), 0);
	free(p);
	p = cat(tmp, "/dangling");
	CHECK_INT(symlink("nowhere", p), 0);
	free(p);
	p = cat(tmp, "/link-to-dir");
	CHECK_INT(symlink("subdir", p), 0);
	free(p);

	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b != NULL) {
		/* list appends to what is there */
		arca_strlist_add(&l, "already");
		CHECK_INT(arca_backend_list(b, &l), 0);
		names = join_list(&l);
		CHECK_STR(names, ".hidden,already,link-to-plain,plain");
		free(names);
		arca_strlist_free(&l);
	}
	arca_backend_close(b);
	free(url);
	rmtree(tmp);
}

/* open_read: the stored file itself, read-only; errors like get's. */
static void
test_file_open_read(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	char *tmp = test_tmpdir(), *url = cat("file://", tmp), *p;
	char buf[16];
	int fd = -7;

	p = cat(tmp, "/vol");
	write_file(p, "stored bytes", 12);
	free(p);
	p = cat(tmp, "/adir");
	CHECK_INT(mkdir(p, 0755), 0);
	free(p);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b != NULL) {
		CHECK_INT(arca_backend_open_read(b, "vol", &fd), 0);
		CHECK(fd >= 0);
		CHECK_INT((int)read(fd, buf, sizeof(buf)), 12);
		CHECK(memcmp(buf, "stored bytes", 12) == 0);
		/* Read-only: nothing can write the target through it. */
		CHECK_INT((int)write(fd, "x", 1), -1);
		if (fd >= 0)
			close(fd);
		CHECK_INT(arca_backend_open_read(b, "missing", &fd),
		    ARCA_ERR_NOTFOUND);
		CHECK_INT(fd, -1);
		CHECK(strstr(ctx.errmsg, "missing") != NULL);
		CHECK_INT(arca_backend_open_read(b, "adir", &fd), ARCA_ERR_IO);
		CHECK_INT(fd, -1);
		CHECK_INT(arca_backend_open_read(b, "../vol", &fd),
		    ARCA_ERR_UNSAFE);
		CHECK_INT(fd, -1);
	}
	arca_backend_close(b);
	b = NULL;
	/* Under ARCA_TEST_FAULTS reads go through get, where rules apply. */
	setenv("ARCA_TEST_FAULTS", "get:nothing:fail", 1);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b != NULL) {
		CHECK_INT(arca_backend_open_read(b, "vol", &fd), 1);
		CHECK_INT(fd, -1);
	}
	unsetenv("ARCA_TEST_FAULTS");
	arca_backend_close(b);
	free(url);
	rmtree(tmp);
}

/* Writing straight into a file:// target: create, write, close, commit. */
static void
test_file_create(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	struct arca_sink *s = NULL;
	char *tmp = test_tmpdir(), *url = cat("file://", tmp), *names, *p;
	unsigned char *got;
	size_t n;

	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b == NULL)
		goto out;
	/* Published only by the commit, under its name. */
	CHECK_INT(arca_backend_create(b, "vol1", &s), 0);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_INT(arca_sink_write(s, "straight ", 9), 0);
		CHECK_INT(arca_sink_write(s, "in", 2), 0);
		names = dir_names(tmp);
		CHECK(strncmp(names, ".vol1.arca-tmp-", 15) == 0);
		free(names);
		/* A commit before the data is flushed is refused. */
		CHECK_INT(arca_backend_commit(b, s), ARCA_ERR_FATAL);
		CHECK_INT(arca_sink_close(s), 0);
		CHECK_INT(arca_backend_commit(b, s), 0);
		/* Twice is refused too, and freeing keeps the file. */
		CHECK_INT(arca_backend_commit(b, s), ARCA_ERR_FATAL);
		arca_sink_free(s);
	}
	names = dir_names(tmp);
	CHECK_STR(names, "vol1");
	free(names);
	p = cat(tmp, "/vol1");
	got = read_file(p, &n);
	CHECK(n == 11 && memcmp(got, "straight in", 11) == 0);
	free(got);
	free(p);
	/* Dropped without a commit (a failed run): nothing is left. */
	s = NULL;
	CHECK_INT(arca_backend_create(b, "vol2", &s), 0);
	if (s != NULL) {
		CHECK_INT(arca_sink_write(s, "half", 4), 0);
		arca_sink_free(s);
	}
	s = NULL;
	CHECK_INT(arca_backend_create(b, "vol3", &s), 0);
	if (s != NULL) {
		CHECK_INT(arca_sink_close(s), 0);
		arca_sink_free(s);
	}
	names = dir_names(tmp);
	CHECK_STR(names, "vol1");
	free(names);
	/* Names are checked like every other operation's. */
	s = NULL;
	CHECK_INT(arca_backend_create(b, "../vol", &s), ARCA_ERR_UNSAFE);
	CHECK(s == NULL);
	arca_backend_close(b);
	b = NULL;
	/* Under ARCA_TEST_FAULTS uploads go through put, where rules apply. */
	setenv("ARCA_TEST_FAULTS", "put:nothing:fail", 1);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b != NULL) {
		CHECK_INT(arca_backend_create(b, "vol4", &s), 1);
		CHECK(s == NULL);
	}
	unsetenv("ARCA_TEST_FAULTS");
	arca_backend_close(b);
out:
	free(url);
	rmtree(tmp);
}

static void
test_file_open_errors(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	char *tmp = test_tmpdir(), *url, *p;
	struct stat sb;

	if (asprintf(&url, "file://%s/missing", tmp) < 0)
		exit(2);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), ARCA_ERR_NOTFOUND);
	CHECK(b == NULL);
	{
		char want[4096];

		snprintf(want, sizeof(want), "backup target %s does not exist",
		    url);
		CHECK_STR(ctx.errmsg, want);
	}
	p = cat(tmp, "/missing");
	CHECK_INT(stat(p, &sb), -1);	/* create = 0 made nothing */
	free(p);
	free(url);

	p = cat(tmp, "/afile");
	write_file(p, "x", 1);
	url = cat("file://", p);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "not a directory") != NULL);
	CHECK_INT(arca_backend_open(&ctx, url, 1, NULL, &b), ARCA_ERR_USAGE);
	free(url);
	if (asprintf(&url, "file://%s/below", p) < 0)
		exit(2);
	/* mkdir -p through a file */
	CHECK_INT(arca_backend_open(&ctx, url, 1, NULL, &b), ARCA_ERR_IO);
	CHECK(strstr(ctx.errmsg, "cannot create directory") != NULL);
	CHECK(b == NULL);
	free(url);
	free(p);

	CHECK_INT(arca_backend_open(&ctx, "gopher://h/x", 1, NULL, &b),
	    ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "unsupported backend scheme 'gopher'") !=
	    NULL);
	CHECK(strstr(ctx.errmsg, "file://") != NULL);
	CHECK_INT(arca_backend_open(&ctx, "ftp://u:hunter2@h/x", 1, NULL, &b),
	    ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "hunter2") == NULL);
	CHECK(strstr(ctx.errmsg, "ftp://u:***@h/x") != NULL);
	CHECK_INT(arca_backend_open(&ctx, "/plain/path", 1, NULL, &b),
	    ARCA_ERR_USAGE);
	CHECK(b == NULL);
	rmtree(tmp);
}

/* --------------------------------------------------------- retry loop */

struct fake {
	struct arca_ctx *ctx;
	int fail;		/* calls that fail before one succeeds; -1 always */
	int code;		/* what a failure returns */
	int calls;
};

static struct fake fake_cfg;

static int
fake_open(struct arca_ctx *ctx, const struct arca_url *url, int create,
    void **state)
{
	fake_cfg.ctx = ctx;
	*state = &fake_cfg;
	return 0;
}

static int
fake_step(struct fake *f)
{
	f->calls++;
	if (f->fail < 0 || f->calls <= f->fail)
		return arca_error(f->ctx, f->code, "fake failure %d",
		    f->calls);
	return 0;
}

static int
fake_put(void *st, const char *l, const char *n)
{
	return fake_step(st);
}

static int
fake_get(void *st, const char *n, const char *l)
{
	return fake_step(st);
}

static int
fake_list(void *st, struct arca_strlist *out)
{
	struct fake *f = st;
	char name[32];

	/* a failing listing leaves junk behind that must not be seen */
	snprintf(name, sizeof(name), "call%d", f->calls + 1);
	arca_strlist_add(out, name);
	return fake_step(st);
}

static int
fake_del(void *st, const char *n)
{
	return fake_step(st);
}

static void
fake_close(void *st)
{
}

static const struct arca_backend_ops fake_ops = {
	.scheme = "fake",
	.open = fake_open,
	.put = fake_put,
	.get = fake_get,
	.list = fake_list,
	.del = fake_del,
	.close = fake_close,
};

static int log_count;
static char log_last[1024];

static void
log_cb(void *ud, int level, const char *msg)
{
	log_count++;
	snprintf(log_last, sizeof(log_last), "%s", msg);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_retry(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	struct arca_strlist l = { 0 };
	double t0, t;
	char *names;

	ctx.log = log_cb;
	ctx.verbosity = ARCA_LOG_DEBUG;
	CHECK_INT(arca_backend_open_ops(&ctx, &fake_ops, "fake://h/x", 1, &b),
	    0);
	if (b == NULL)
		return;

	/* fails twice, then works: retried, succeeds, two warnings */
	fake_cfg = (struct fake){ &ctx, 2, ARCA_ERR_RETRY, 0 };
	arca_backend_set_retries(b, 5, 0.05);
	t0 = now();
	CHECK_INT(arca_backend_put(b, "/l", "vol1"), 0);
	t = now() - t0;
	CHECK_INT(fake_cfg.calls, 3);
	CHECK_INT(ctx.warnings, 2);
	CHECK_INT(log_count, 2);
	CHECK(strstr(log_last, "upload of vol1 failed (attempt 2 of 5)") !=
	    NULL);
	CHECK(strstr(log_last, "fake failure 2") != NULL);
	/* backoff doubles: 0.05 + 0.1 */
	if (!(t >= 0.149 && t < 2.0)) {
		fprintf(stderr, "  backoff took %.3f s, want 0.15\n", t);
		CHECK(0);
	}

	/* always fails: gives up after tries, as a backend error */
	fake_cfg = (struct fake){ &ctx, -1, ARCA_ERR_RETRY, 0 };
	ctx.warnings = 0;
	arca_backend_set_retries(b, 3, 0.001);
	CHECK_INT(arca_backend_get(b, "vol2", "/l"), ARCA_ERR_BACKEND);
	CHECK_INT(fake_cfg.calls, 3);
	CHECK_INT(ctx.warnings, 2);
	CHECK_STR(ctx.errmsg, "download of vol2 failed after 3 attempts: "
	    "fake failure 3");

	/* tries = 1: one attempt, no warning */
	fake_cfg = (struct fake){ &ctx, -1, ARCA_ERR_RETRY, 0 };
	ctx.warnings = 0;
	arca_backend_set_retries(b, 0, 0);
	CHECK_INT(arca_backend_delete(b, "vol3"), ARCA_ERR_BACKEND);
	CHECK_INT(fake_cfg.calls, 1);
	CHECK_INT(ctx.warnings, 0);

	/* other errors are not retried; the message gains what and which */
	fake_cfg = (struct fake){ &ctx, -1, ARCA_ERR_IO, 0 };
	arca_backend_set_retries(b, 5, 0.001);
	CHECK_INT(arca_backend_put(b, "/l", "vol4"), ARCA_ERR_IO);
	CHECK_INT(fake_cfg.calls, 1);
	CHECK_STR(ctx.errmsg, "upload of vol4: fake failure 1");
	CHECK_INT(ctx.warnings, 0);

	/* a retried listing shows only the successful attempt's names */
	fake_cfg = (struct fake){ &ctx, 2, ARCA_ERR_RETRY, 0 };
	CHECK_INT(arca_backend_list(b, &l), 0);
	names = join_list(&l);
	CHECK_STR(names, "call3");
	free(names);
	arca_strlist_free(&l);

	/* a scheme mismatch between URL and ops is refused */
	arca_backend_close(b);
	b = NULL;
	CHECK_INT(arca_backend_open_ops(&ctx, &fake_ops, "file:///x", 1, &b),
	    ARCA_ERR_USAGE);
	CHECK(b == NULL);
}

/* ----------------------------------------------------------- full disk */

static void
test_file_full_disk(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_backend *b = NULL;
	char *tmp = test_tmpdir(), *mnt, *src, *url, *names;
	unsigned char *data = pattern(200000, 3);

	mnt = cat(tmp, "/mnt");
	src = cat(tmp, "/big");
	url = cat("file://", mnt);
	CHECK_INT(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") == -1) {
		fprintf(stderr, "SKIP test_file_full_disk: cannot mount a "
		    "64 KiB tmpfs on %s: %s\n", mnt, strerror(errno));
		goto out;
	}
	write_file(src, data, 200000);
	CHECK_INT(arca_backend_open(&ctx, url, 0, NULL, &b), 0);
	if (b == NULL)
		goto unmount;
	arca_backend_set_retries(b, 5, 1.0);
	CHECK_INT(arca_backend_put(b, src, "vol1"), ARCA_ERR_IO);
	CHECK(strncmp(ctx.errmsg, "no space left on ", 17) == 0);
	CHECK(strstr(ctx.errmsg, url) != NULL);
	CHECK_INT(ctx.warnings, 0);	/* not retried */
	/* nothing half-written under any name */
	names = dir_names(mnt);
	CHECK_STR(names, "");
	free(names);
	/* the space is back: a small file still fits */
	write_file(src, "small", 5);
	CHECK_INT(arca_backend_put(b, src, "vol1"), 0);
	names = dir_names(mnt);
	CHECK_STR(names, "vol1");
	free(names);
	arca_backend_close(b);
unmount:
	if (umount2(mnt, MNT_DETACH) == -1)
		perror("umount");
out:
	free(data);
	free(mnt);
	free(src);
	free(url);
	rmtree(tmp);
}

int
main(void)
{
	RUN(test_url_file);
	RUN(test_url_network);
	RUN(test_url_bad);
	RUN(test_url_is_url);
	RUN(test_file_roundtrip);
	RUN(test_file_relative);
	RUN(test_file_list_filters);
	RUN(test_file_open_errors);
	RUN(test_file_open_read);
	RUN(test_file_create);
	RUN(test_retry);
	RUN(test_file_full_disk);
	TEST_DONE();
}
