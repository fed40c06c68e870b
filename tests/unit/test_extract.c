/*
 * test_extract.c: the restore path policy and file creation.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/extract.h"
#include "test.h"
#include "util/ctx.h"

static struct arca_meta
meta(enum arca_etype t, unsigned mode, long long mtime)
{
	struct arca_meta m;

	memset(&m, 0, sizeof(m));
	m.type = t;
	m.mode = mode;
	m.mtime = mtime;
	m.uid = getuid();
	m.gid = getgid();
	return m;
}

static int
put_file(struct arca_extract *x, const char *index, const char *content,
    unsigned mode)
{
	struct arca_meta m = meta(ARCA_T_REG, mode, 1000000000);
	int fd, r;

	if ((r = arca_extract_file_begin(x, index, &fd)) != 0)
		return r;
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		arca_extract_file_abort(x);
		return -100;
	}
	return arca_extract_file_commit(x, &m);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void
test_tree_and_metadata(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_extract *x = NULL;
	struct arca_meta dm = meta(ARCA_T_DIR, 0500, 1200000000);
	struct arca_meta rm = meta(ARCA_T_DIR, 0755, 1100000000);
	struct arca_meta lm = meta(ARCA_T_SYMLINK, 0777, 0);
	struct arca_meta fm = meta(ARCA_T_FIFO, 0640, 1300000000);
	char *dir = test_tmpdir(), path[512], buf[64];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/out", dir);
	CHECK_INT(arca_extract_new(&ctx, path, 0, 0, 0, 1, &x), 0);
	CHECK_INT(arca_extract_other(x, "", &rm), 0);
	/* A read-only directory still gets its contents: mode comes last. */
	CHECK_INT(arca_extract_other(x, "ro", &dm), 0);
	CHECK_INT(put_file(x, "ro/f.txt", "hello\n", 0640), 0);
	lm.linkname = strdup("ro/f.txt");
	CHECK_INT(arca_extract_other(x, "link", &lm), 0);
	free(lm.linkname);
	CHECK_INT(arca_extract_other(x, "pipe", &fm), 0);
	/* A missing parent is created. */
	CHECK_INT(put_file(x, "deep/er/g.txt", "g", 0600), 0);
	CHECK_INT(arca_extract_finish(x), 0);
	arca_extract_free(x);

	snprintf(path, sizeof(path), "%s/out/ro", dir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0500);
	CHECK_INT(st.st_mtime, 1200000000);
	snprintf(path, sizeof(path), "%s/out/ro/f.txt", dir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	CHECK_INT(st.st_mtime, 1000000000);
	CHECK_INT(st.st_size, 6);
	snprintf(path, sizeof(path), "%s/out/link", dir);
	n = readlink(path, buf, sizeof(buf) - 1);
	CHECK_INT(n, 8);
	snprintf(path, sizeof(path), "%s/out/pipe", dir);
	CHECK_INT(lstat(path, &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_INT(st.st_mode & 07777, 0640);
	snprintf(path, sizeof(path), "%s/out", dir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mtime, 1100000000);
	/* No temp files left behind. */
	CHECK_INT(count_entries(path), 4);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
	free(dir);
}

static void
test_refusals(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_extract *x = NULL;
	struct arca_meta lm = meta(ARCA_T_SYMLINK, 0777, 0);
	char *dir = test_tmpdir(), path[512], outside[512];

	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	CHECK_INT(mkdir(outside, 0700), 0);
	CHECK_INT(arca_extract_new(&ctx, path, 0, 0, 0, 1, &x), 0);
	CHECK_INT(put_file(x, "../escape", "x", 0600), ARCA_ERR_UNSAFE);
	CHECK_INT(put_file(x, "/etc/evil", "x", 0600), ARCA_ERR_UNSAFE);
	CHECK_INT(put_file(x, "a/../../escape", "x", 0600), ARCA_ERR_UNSAFE);
	lm.linkname = outside;
	CHECK_INT(arca_extract_other(x, "link", &lm), 0);
	/* Writing through the symlink is refused. */
	CHECK_INT(put_file(x, "link/pwned", "x", 0600), ARCA_ERR_UNSAFE);
	CHECK(strstr(ctx.errmsg, "link/pwned") != NULL);
	CHECK_INT(put_file(x, "link/sub/pwned", "x", 0600), ARCA_ERR_UNSAFE);
	arca_extract_free(x);
	CHECK_INT(count_entries(outside), 0);
	CHECK_INT(count_entries(dir), 2);	/* out and outside only */
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
	free(dir);
}

static void
test_existing_target_and_abort(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_extract *x = NULL;
	char *dir = test_tmpdir(), path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/keep", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	CHECK_INT(arca_extract_new(&ctx, dir, 0, 0, 0, 1, &x), ARCA_ERR_EXISTS);
	CHECK(strstr(ctx.errmsg, "--force") != NULL);
	CHECK_INT(arca_extract_new(&ctx, dir, 0, 1, 0, 1, &x), 0);
	CHECK_INT(arca_extract_file_begin(x, "partial", &fd), 0);
	CHECK_INT(write(fd, "abc", 3), 3);
	arca_extract_file_abort(x);
	arca_extract_free(x);
	CHECK_INT(count_entries(dir), 1);	/* only "keep" */

	/* A single file restored as the target itself. */
	snprintf(path, sizeof(path), "%s/single.txt", dir);
	CHECK_INT(arca_extract_new(&ctx, path, 1, 0, 0, 1, &x), 0);
	CHECK_INT(put_file(x, "", "one file", 0644), 0);
	arca_extract_free(x);
	CHECK_INT(count_entries(dir), 2);
	CHECK_INT(arca_extract_new(&ctx, path, 1, 0, 0, 1, &x), ARCA_ERR_EXISTS);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
	free(dir);
}

int
main(void)
{
	RUN(test_tree_and_metadata);
	RUN(test_refusals);
	RUN(test_existing_target_and_abort);
	TEST_DONE();
}
