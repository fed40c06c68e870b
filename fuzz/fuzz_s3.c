/*
 * fuzz_s3.c: S3's XML answers (backend/s3_xml.c): a ListObjectsV2 page
 * and an error document.
 *
 * Both come from the server.  Whatever the input holds, a page that is
 * read has keys that are non-empty and hold no NUL, at most the page's
 * limit of them, and a continuation token exactly when it is truncated; a
 * page that is refused adds nothing.
 */
#include "fuzz.h"
#include "backend/s3_internal.h"
#include "util/buf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_strlist keys = { 0 };
	struct arca_s3_error e;
	char *token = NULL, err[128];
	size_t i;
	int rc, trunc;

	if (size > 1 << 20)
		return 0;
	arca_strlist_add(&keys, "before");
	rc = arca_s3_parse_list((const char *)data, size, 1000, &keys, &trunc,
	    &token, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(keys.n == 1);
		FUZZ_CHECK(token == NULL);
	} else {
		FUZZ_CHECK(keys.n <= 1001);
		FUZZ_CHECK((token != NULL) == (trunc != 0));
		FUZZ_CHECK(token == NULL || token[0] != '\0');
		for (i = 1; i < keys.n; i++)
			FUZZ_CHECK(keys.v[i][0] != '\0');
	}
	free(token);
	arca_strlist_free(&keys);
	if (arca_s3_parse_error((const char *)data, size, &e)) {
		FUZZ_CHECK(strlen(e.code) < sizeof(e.code));
		FUZZ_CHECK(strlen(e.message) < sizeof(e.message));
	}
	return 0;
}
