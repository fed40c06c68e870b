/*
 * test_manifest_head.c: a manifest read without its Filelist, in either
 * order duplicity (Filelist first) and arca (Filelist last) write it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/manifest_head.h"
#include "format/manifest.h"
#include "test.h"
#include "util/buf.h"
#include "util/ctx.h"

static const char *VOLS =
    "Volume 1:\n"
    "    StartingPath   .\n"
    "    EndingPath     a/b 3\n"
    "    Hash SHA1 0123456789abcdef0123456789abcdef01234567\n"
    "Volume 2:\n"
    "    StartingPath   a/b 4\n"
    "    EndingPath     z\n"
    "    Hash SHA1 89abcdef0123456789abcdef0123456789abcdef\n";

/* A temp file holding text; returns its fd (open, offset 0). */
static int
file_with(const char *text, size_t len)
{
	char path[] = "/tmp/arca-test-mh-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_INT(write(fd, text, len), (long long)len);
	return fd;
}

/* A Filelist of n lines, long enough to cross 64 KiB reads. */
static void
filelist(struct arca_buf *b, unsigned n)
{
	unsigned i;

	arca_buf_printf(b, "Filelist %u\n", n);
	for (i = 0; i < n; i++)
		arca_buf_printf(b, "    new      dir%04u/some/longer/file/name%06u\n",
		    i / 100, i);
}

static void
check_head(const char *text, size_t len, int want_err)
{
	struct arca_ctx ctx = { 0 };
	struct arca_buf out = { 0 };
	struct arca_manifest *m = NULL;
	int fd = file_with(text, len), r;

	ctx.verbosity = -1;
	r = arca_manifest_head_read(&ctx, fd, "test manifest", &out);
	close(fd);
	if (want_err) {
		CHECK_INT(r, want_err);
		arca_buf_free(&out);
		return;
	}
	CHECK_INT(r, 0);
	CHECK(out.data != NULL && strstr((char *)out.data, "Filelist") == NULL);
	CHECK(out.data != NULL && strstr((char *)out.data, "new ") == NULL);
	CHECK(out.data != NULL && strstr((char *)out.data, "Hostname host1\n") != NULL);
	CHECK_INT(arca_manifest_parse(&ctx, (char *)out.data, out.len, 0, &m), 0);
	if (m != NULL) {
		CHECK_STR(m->hostname, "host1");
		CHECK_STR(m->localdir, "/src");
		CHECK_INT(m->nvols, 2);
		if (m->nvols == 2) {
			CHECK_STR(m->vols[0].end_path, "a/b");
			CHECK_INT(m->vols[0].end_block, 3);
			CHECK_STR(m->vols[1].hash_hex,
			    "89abcdef0123456789abcdef0123456789abcdef");
		}
	}
	arca_manifest_free(m);
	arca_buf_free(&out);
}

/* duplicity 0.8.22: header, Filelist, then the volumes. */
static void
test_filelist_first(void)
{
	struct arca_buf b = { 0 };

	arca_buf_puts(&b, "Hostname host1\nLocaldir /src\n");
	filelist(&b, 5000);
	arca_buf_puts(&b, VOLS);
	check_head((char *)b.data, b.len, 0);
	arca_buf_free(&b);
}

/* arca: volumes appended as they are sent, the Filelist last. */
static void
test_filelist_last(void)
{
	struct arca_buf b = { 0 };

	arca_buf_puts(&b, "Hostname host1\nLocaldir /src\n");
	arca_buf_puts(&b, VOLS);
	filelist(&b, 5000);
	check_head((char *)b.data, b.len, 0);
	arca_buf_free(&b);
}

/* No Filelist, no newline at the end: the last line still counts. */
static void
test_no_filelist_no_newline(void)
{
	struct arca_buf b = { 0 };

	arca_buf_puts(&b, "Hostname host1\nLocaldir /src\n");
	arca_buf_puts(&b, VOLS);
	b.len--;	/* drop the final '\n' */
	check_head((char *)b.data, b.len, 0);
	arca_buf_free(&b);
}

/* A line without end is refused, not buffered without bound. */
static void
test_line_cap(void)
{
	size_t n = (2u << 20) + 100;
	char *big = malloc(n);

	CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'x', n);
	memcpy(big, "Hostname ", 9);
	check_head(big, n, ARCA_ERR_CORRUPT);
	free(big);
}

int
main(void)
{
	RUN(test_filelist_first);
	RUN(test_filelist_last);
	RUN(test_no_filelist_no_newline);
	RUN(test_line_cap);
	TEST_DONE();
}
