/*
 * fuzz_propfind.c: WebDAV PROPFIND answers (backend/webdav_xml.c).
 *
 * A listing comes from the server.  Byte 0 picks how the body is cut into
 * pieces (as the network might); the rest is the body.  Whatever it holds,
 * every name kept must be a plain file name: not empty, no '/', not "."
 * or "..", no NUL.
 */
#include "fuzz.h"
#include "backend/webdav_internal.h"
#include "util/buf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_strlist l = { 0 };
	struct arca_dav_scan *sc = NULL;
	struct arca_ctx ctx;
	size_t step, i;
	int rc;

	if (size < 1 || size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	step = (size_t)data[0] + 1;
	data++;
	size--;
	if (arca_dav_scan_new(&ctx, "webdav://fuzz/", &l, &sc) != 0)
		abort();
	for (i = 0, rc = 0; i < size && rc == 0; i += step)
		rc = arca_dav_scan_feed(sc, data + i, size - i < step ?
		    size - i : step);
	if (rc == 0)
		(void)arca_dav_scan_end(sc);
	for (i = 0; i < l.n; i++) {
		FUZZ_CHECK(l.v[i][0] != '\0');
		FUZZ_CHECK(strchr(l.v[i], '/') == NULL);
		FUZZ_CHECK(strcmp(l.v[i], ".") != 0 && strcmp(l.v[i], "..") != 0);
	}
	arca_dav_scan_free(sc);
	arca_strlist_free(&l);
	return 0;
}
