/*
 * test_dropbox.c: the Dropbox backend's content_hash, error messages and
 * list_folder pages (backend/dropbox.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/dropbox_internal.h"
#include "test.h"
#include "util/buf.h"
#include "util/ctx.h"

/* content_hash of n bytes (i % 251), as computed by Python's hashlib
 * following Dropbox's description (tests/servers/dropbox_emulator.py). */
static void
check_hash(size_t n, const char *want)
{
	struct arca_ctx ctx = { 0 };
	char *dir = test_tmpdir(), path[512], hex[65];
	unsigned char *buf = malloc(n + 1);
	size_t i;
	int fd;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i % 251);
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, n) == (ssize_t)n);
	CHECK_INT(arca_dpbx_content_hash(&ctx, fd, path, hex), 0);
	CHECK_STR(hex, want);
	close(fd);
	unlink(path);
	rmdir(dir);
	free(dir);
	free(buf);
}

static void
test_content_hash(void)
{
	check_hash(0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_hash(1, "1406e05881e299367766d313e26c05564ec91bf721d31726bd6e46e60689539a");
	check_hash(4194304, "b9654428408015906b44a00935b70af33830aa344b780b0eabd535a133150d04");
	check_hash(4194305, "4a6cc0a344febaa07772e7c974834b2fb1d24594d4ba15f27c97a54699709f44");
	check_hash(9000000, "f3c9b1fe5a25dd4cd3decf2e05cbc4bdf75551d2dfa14f45834b8c5f32b9607c");
}

static void
test_error_text(void)
{
	char out[320];
	const char *b;

	b = "{\"error_summary\": \"path/not_found/..\", \"error\": "
	    "{\".tag\": \"path\", \"path\": {\".tag\": \"not_found\"}}}";
	arca_dpbx_error_text(b, strlen(b), out, sizeof(out));
	CHECK_STR(out, "path/not_found: no such file or folder");
	b = "{\"error_summary\": \"path/insufficient_space/.,.\", \"error\": "
	    "{\".tag\": \"path\", \"reason\": {\".tag\": "
	    "\"insufficient_space\"}, \"upload_session_id\": \"x\"}}";
	arca_dpbx_error_text(b, strlen(b), out, sizeof(out));
	CHECK_STR(out, "path/insufficient_space: the Dropbox account is full");
	/* No summary: the tags themselves. */
	b = "{\"error\": {\".tag\": \"path_lookup\", \"path_lookup\": "
	    "{\".tag\": \"not_found\"}}}";
	arca_dpbx_error_text(b, strlen(b), out, sizeof(out));
	CHECK_STR(out, "not_found: no such file or folder");
	/* Not JSON at all: the first line, printable. */
	b = "Something\x01 odd\nsecond line";
	arca_dpbx_error_text(b, strlen(b), out, sizeof(out));
	CHECK_STR(out, "Something? odd");
	b = "{\"error_summary\": \"weird_tag/\"}";
	arca_dpbx_error_text(b, strlen(b), out, sizeof(out));
	CHECK_STR(out, "weird_tag");
}

static void
test_list_page(void)
{
	struct arca_strlist l = { 0 };
	struct arca_ctx ctx = { 0 };
	char *cursor = NULL;
	const char *p;

	p = "{\"entries\": [{\".tag\": \"file\", \"name\": \"a\"}, "
	    "{\".tag\": \"folder\", \"name\": \"dir\"}, "
	    "{\".tag\": \"file\", \"name\": \"caf\\u00e9\"}, "
	    "{\".tag\": \"file\", \"name\": \"x/y\"}, "
	    "{\".tag\": \"file\"}, {\".tag\": \"deleted\", \"name\": \"d\"}], "
	    "\"cursor\": \"AAE1\", \"has_more\": true}";
	CHECK_INT(arca_dpbx_list_page(&ctx, "dpbx:///t", p, strlen(p), &l,
	    &cursor), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.v[0], "a");
	CHECK_STR(l.v[1], "caf\xc3\xa9");
	CHECK_STR(cursor, "AAE1");
	free(cursor);
	p = "{\"entries\": [], \"cursor\": \"AAE2\", \"has_more\": false}";
	CHECK_INT(arca_dpbx_list_page(&ctx, "dpbx:///t", p, strlen(p), &l,
	    &cursor), 0);
	CHECK(cursor == NULL);
	p = "{\"entries\": [], \"has_more\": true}";
	CHECK_INT(arca_dpbx_list_page(&ctx, "dpbx:///t", p, strlen(p), &l,
	    &cursor), ARCA_ERR_RETRY);
	p = "{\"entries\": 3}";
	CHECK_INT(arca_dpbx_list_page(&ctx, "dpbx:///t", p, strlen(p), &l,
	    &cursor), ARCA_ERR_RETRY);
	p = "<html>";
	CHECK_INT(arca_dpbx_list_page(&ctx, "dpbx:///t", p, strlen(p), &l,
	    &cursor), ARCA_ERR_RETRY);
	CHECK_INT(l.n, 2);
	arca_strlist_free(&l);
}

int
main(void)
{
	RUN(test_content_hash);
	RUN(test_error_text);
	RUN(test_list_page);
	TEST_DONE();
}
