/*
 * test_webdav.c: the PROPFIND answer scanner (backend/webdav_xml.c) and the
 * HTTP helpers it relies on (backend/http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/http.h"
#include "backend/webdav_internal.h"
#include "test.h"
#include "util/buf.h"
#include "util/ctx.h"

/* Scan text in pieces of step bytes; names joined by '|' into out. */
static int
scan(const char *text, size_t step, char *out, size_t outsz)
{
	struct arca_strlist l = { 0 };
	struct arca_dav_scan *sc = NULL;
	struct arca_ctx ctx = { 0 };
	size_t len = strlen(text), i, o = 0;
	int rc;

	out[0] = '\0';
	if ((rc = arca_dav_scan_new(&ctx, "webdav://test/", &l, &sc)) != 0)
		return rc;
	for (i = 0; i < len && rc == 0; i += step)
		rc = arca_dav_scan_feed(sc, text + i, len - i < step ? len - i :
		    step);
	if (rc == 0)
		rc = arca_dav_scan_end(sc);
	for (i = 0; i < l.n; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s%s", i ? "|" : "",
		    l.v[i]);
	arca_dav_scan_free(sc);
	arca_strlist_free(&l);
	return rc;
}

/* As nginx's dav-ext answers: D: prefix, the collection first. */
static const char nginx_answer[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
    "<D:multistatus xmlns:D=\"DAV:\">\n"
    "<D:response>\n<D:href>/bk/caf%C3%A9/</D:href>\n<D:propstat>\n"
    "<D:prop>\n<D:resourcetype><D:collection/></D:resourcetype>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "<D:response>\n<D:href>/bk/caf%C3%A9/duplicity-full.20240101T000000Z."
    "manifest</D:href>\n<D:propstat>\n<D:prop>\n<D:resourcetype/>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "<D:response>\n<D:href>/bk/caf%C3%A9/sub/</D:href>\n<D:propstat>\n"
    "<D:prop>\n<D:resourcetype><D:collection/></D:resourcetype>\n"
    "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
    "</D:response>\n"
    "<D:response>\n<D:href>/bk/caf%C3%A9/.duplicity-full.vol1.difftar.gz"
    ".arca-tmp-123</D:href>\n<D:propstat><D:prop><D:resourcetype/>"
    "</D:prop></D:propstat></D:response>\n"
    "<D:response>\n<D:href>/bk/caf%C3%A9/a%20b%2Bc</D:href>\n"
    "<D:propstat><D:prop><D:resourcetype/></D:prop></D:propstat>"
    "</D:response>\n"
    "</D:multistatus>\n";

static void
test_nginx_shape(void)
{
	char out[1024];
	size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK_INT(scan(nginx_answer, steps[i], out, sizeof(out)), 0);
		CHECK_STR(out, "duplicity-full.20240101T000000Z.manifest|a b+c");
	}
}

/* Apache's shape: default namespace, lp1: properties, absolute URLs,
 * comments, entities, CDATA, a collection given by <collection/> only in
 * a second propstat. */
static void
test_other_shapes(void)
{
	static const char apache[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n"
	    "<multistatus xmlns=\"DAV:\" xmlns:lp1=\"DAV:\">"
	    "<!-- a <response> in a comment --><response>"
	    "<href>http://h:8/d/x%26y.txt</href>"
	    "<propstat><prop><lp1:resourcetype/></prop></propstat></response>"
	    "<response><href>https://h/d/sub</href><propstat><prop>"
	    "<resourcetype><collection/></resourcetype></prop></propstat>"
	    "</response>"
	    "<response><href>/d/q&amp;r&#x41;&#66;</href><propstat><prop>"
	    "<resourcetype /></prop></propstat></response>"
	    "<response><href><![CDATA[/d/cd&ata]]></href></response>"
	    "<response ><href a='x>y'>/d/attr</href></response>"
	    "</multistatus>";
	char out[1024];

	CHECK_INT(scan(apache, 1, out, sizeof(out)), 0);
	CHECK_STR(out, "x&y.txt|q&rAB|cd&ata|attr");
	CHECK_INT(scan(apache, 5, out, sizeof(out)), 0);
	CHECK_STR(out, "x&y.txt|q&rAB|cd&ata|attr");
}

/* Names that would point elsewhere or cannot be decoded are left out. */
static void
test_refused_names(void)
{
	static const char bad[] =
	    "<D:multistatus xmlns:D=\"DAV:\">"
	    "<D:response><D:href>/d/%2e%2e</D:href></D:response>"
	    "<D:response><D:href>/d/a%2Fb</D:href></D:response>"
	    "<D:response><D:href>/d/nul%00x</D:href></D:response>"
	    "<D:response><D:href>/d/bad%zz</D:href></D:response>"
	    "<D:response><D:href>/d/ok</D:href></D:response>"
	    "<D:response><D:href></D:href></D:response>"
	    "</D:multistatus>";
	char out[256];

	CHECK_INT(scan(bad, 3, out, sizeof(out)), 0);
	CHECK_STR(out, "ok");
}

static void
test_truncated_and_hostile(void)
{
	struct arca_buf b = { 0 };
	char out[256];
	size_t i;

	/* Cut in the middle of a response: worth another try. */
	CHECK_INT(scan("<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>"
	    "/d/x</D:href>", 4, out, sizeof(out)), ARCA_ERR_RETRY);
	CHECK_INT(scan("<D:multistatus><D:respo", 4, out, sizeof(out)),
	    ARCA_ERR_RETRY);
	/* An endless href or tag is refused, not buffered. */
	arca_buf_puts(&b, "<D:response><D:href>/");
	for (i = 0; i < 20000; i++)
		arca_buf_putc(&b, 'a');
	arca_buf_puts(&b, "</D:href></D:response>");
	CHECK_INT(scan((const char *)b.data, 4096, out, sizeof(out)),
	    ARCA_ERR_CORRUPT);
	arca_buf_reset(&b);
	arca_buf_puts(&b, "<D:response");
	for (i = 0; i < 20000; i++)
		arca_buf_putc(&b, ' ');
	arca_buf_puts(&b, ">");
	CHECK_INT(scan((const char *)b.data, 4096, out, sizeof(out)),
	    ARCA_ERR_CORRUPT);
	/* A bad entity in an href. */
	CHECK_INT(scan("<response><href>/d/&bogus;</href></response>", 8, out,
	    sizeof(out)), ARCA_ERR_CORRUPT);
	arca_buf_free(&b);
}

static void
test_escape(void)
{
	struct arca_buf b = { 0 };

	CHECK_INT(arca_http_escape(&b, "a b/c~d_e-f.g%\xc3\xa9:@", 1), 0);
	arca_buf_putc(&b, '\0');
	CHECK_STR((char *)b.data, "a%20b/c~d_e-f.g%25%C3%A9%3A%40");
	arca_buf_reset(&b);
	CHECK_INT(arca_http_escape(&b, "x/y", 0), 0);
	arca_buf_putc(&b, '\0');
	CHECK_STR((char *)b.data, "x%2Fy");
	arca_buf_free(&b);
}

static void
test_retry_after(void)
{
	char date[64];
	time_t t = time(NULL) + 30;
	double d;

	CHECK(arca_http_retry_after("5", 1, 300) == 5);
	CHECK(arca_http_retry_after("0.5", 1, 300) == 0.5);
	CHECK(arca_http_retry_after(NULL, 1, 300) == 1);
	CHECK(arca_http_retry_after("soon", 2, 300) == 2);
	CHECK(arca_http_retry_after("99999", 1, 300) == 300);
	CHECK(arca_http_retry_after("-3", 1, 300) == 1);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
	d = arca_http_retry_after(date, 1, 300);
	CHECK(d > 25 && d <= 30);
}

int
main(void)
{
	RUN(test_nginx_shape);
	RUN(test_other_shapes);
	RUN(test_refused_names);
	RUN(test_truncated_and_hostile);
	RUN(test_escape);
	RUN(test_retry_after);
	TEST_DONE();
}
