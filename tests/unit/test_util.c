/*
 * test_util.c: indices and their order, buffers and their caps, streams.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/path.h"
#include "util/stream.h"

static void
test_path_order(void)
{
	/* duplicity's order: component-wise, shorter prefix first. */
	const char *sorted[] = { "", "a", "a/b", "a/b/c", "a-c", "a.b", "ab",
	    "b", "b/\x01", "b/\xff", "b\x01" };
	size_t i, j, n = sizeof(sorted) / sizeof(sorted[0]);

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = arca_path_cmp(sorted[i], sorted[j]);

			if (i < j)
				CHECK(c < 0);
			else if (i > j)
				CHECK(c > 0);
			else
				CHECK_INT(c, 0);
		}
}

static void
test_path_under_and_safe(void)
{
	CHECK(arca_path_is_under("a/b", "a"));
	CHECK(arca_path_is_under("a", "a"));
	CHECK(arca_path_is_under("anything", ""));
	CHECK(!arca_path_is_under("ab", "a"));
	CHECK(!arca_path_is_under("a", "a/b"));

	CHECK(arca_path_is_safe(""));
	CHECK(arca_path_is_safe("a/b c/d"));
	CHECK(!arca_path_is_safe("/etc/passwd"));
	CHECK(!arca_path_is_safe("a/../b"));
	CHECK(!arca_path_is_safe(".."));
	CHECK(!arca_path_is_safe("a//b"));
	CHECK(!arca_path_is_safe("a/./b"));
	CHECK(!arca_path_is_safe("a/"));
}

static void
test_path_normalize(void)
{
	char out[64];

	CHECK_INT(arca_path_normalize("/data/secret/notes.txt/", out), 0);
	CHECK_STR(out, "data/secret/notes.txt");
	CHECK_INT(arca_path_normalize("./a//./b", out), 0);
	CHECK_STR(out, "a/b");
	CHECK_INT(arca_path_normalize("/", out), 0);
	CHECK_STR(out, "");
	CHECK_INT(arca_path_normalize("a/../b", out), ARCA_ERR_USAGE);
}

static void
test_buf_cap(void)
{
	struct arca_buf b = { 0 };
	char *s;

	b.max = 10;
	CHECK_INT(arca_buf_append(&b, "0123456789", 10), 0);
	CHECK_INT(arca_buf_append(&b, "x", 1), ARCA_ERR_NOMEM);
	CHECK_INT(b.len, 10);
	CHECK_STR((char *)b.data, "0123456789");
	arca_buf_reset(&b);
	CHECK_INT(arca_buf_printf(&b, "%d-%s", 42, "x"), 0);
	CHECK_STR((char *)b.data, "42-x");
	s = arca_buf_steal(&b);
	CHECK_STR(s, "42-x");
	CHECK(b.data == NULL && b.len == 0);
	free(s);
	CHECK(arca_reallocarray(NULL, SIZE_MAX / 2, 4) == NULL);
}

static void
test_strlist(void)
{
	struct arca_strlist l = { 0 };

	CHECK_INT(arca_strlist_add(&l, "b"), 0);
	CHECK_INT(arca_strlist_add(&l, "a"), 0);
	CHECK_INT(arca_strlist_addn(&l, "cdef", 1), 0);
	arca_strlist_sort(&l);
	CHECK_INT(l.n, 3);
	CHECK_STR(l.v[0], "a");
	CHECK_STR(l.v[2], "c");
	arca_strlist_free(&l);
}

static void
test_streams(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_source *src;
	struct arca_sink *sink;
	struct arca_buf b = { 0 };
	char buf[8];
	char *dir = test_tmpdir();
	char path[256];
	int fd;

	src = arca_source_mem("hello world", 11);
	CHECK_INT(arca_source_read_full(src, buf, 5), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_INT(arca_source_read_full(src, buf, 8), 6);
	CHECK_INT(arca_source_read_full(src, buf, 8), 0);
	arca_source_free(src);

	sink = arca_sink_buf(&b);
	CHECK_INT(arca_sink_write(sink, "ab", 2), 0);
	CHECK_INT(arca_sink_write(sink, "c", 1), 0);
	CHECK_INT(sink->bytes, 3);
	CHECK_INT(arca_sink_close(sink), 0);
	arca_sink_free(sink);
	CHECK_STR((char *)b.data, "abc");
	arca_buf_free(&b);

	/* A write error reaches the caller with a message. */
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDONLY | O_CREAT, 0600);
	sink = arca_sink_fd(&ctx, fd, "the test file");
	CHECK_INT(arca_sink_write(sink, "x", 1), ARCA_ERR_IO);
	CHECK(strstr(ctx.errmsg, "the test file") != NULL);
	arca_sink_free(sink);
	close(fd);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void
test_error_prefix(void)
{
	struct arca_ctx ctx = { 0 };

	CHECK_INT(arca_error(&ctx, ARCA_ERR_CORRUPT, "bad %s", "thing"),
	    ARCA_ERR_CORRUPT);
	arca_error_prefix(&ctx, "volume %d", 3);
	CHECK_STR(ctx.errmsg, "volume 3: bad thing");
	CHECK_INT(ctx.err, ARCA_ERR_CORRUPT);
}

int
main(void)
{
	RUN(test_path_order);
	RUN(test_path_under_and_safe);
	RUN(test_path_normalize);
	RUN(test_buf_cap);
	RUN(test_strlist);
	RUN(test_streams);
	RUN(test_error_prefix);
	TEST_DONE();
}
