/*
 * fuzz_rclone.c: `rclone lsjson` output (backend/rclone_lsjson.c).
 *
 * Every name kept must be a plain, flat file name (not "." or "..") that
 * is not one of our temporary upload names; a refused listing may keep what it added (the
 * caller frees it) but says why.
 */
#include "fuzz.h"
#include "backend/rclone_internal.h"
#include "util/buf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_strlist l = { 0 };
	struct arca_ctx ctx;
	size_t i;
	int rc;

	if (size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	rc = arca_rclone_parse_lsjson(&ctx, "rclone://fuzz:",
	    (const char *)data, size, &l);
	if (rc != 0)
		FUZZ_CHECK(ctx.errmsg[0] != '\0');
	for (i = 0; i < l.n; i++) {
		FUZZ_CHECK(l.v[i][0] != '\0');
		FUZZ_CHECK(strchr(l.v[i], '/') == NULL);
		FUZZ_CHECK(strcmp(l.v[i], ".") != 0 && strcmp(l.v[i], "..") != 0);
		FUZZ_CHECK(!arca_rclone_is_tmp(l.v[i]));
	}
	arca_strlist_free(&l);
	return 0;
}
