/*
 * fuzz_dropbox.c: Dropbox answers (backend/dropbox.c): a list_folder page
 * and, after "\n--\n", a 409 error body.
 *
 * Names kept from a page must be plain file names; a cursor is handed
 * back only with has_more; the error message is printable ASCII.
 */
#include "fuzz.h"
#include "backend/dropbox_internal.h"
#include "util/buf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_strlist l = { 0 };
	struct arca_ctx ctx;
	const uint8_t *p2;
	char *cursor = NULL, msg[320];
	size_t n1, n2, i;

	if (size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	fuzz_split(data, size, &n1, &p2, &n2);
	if (arca_dpbx_list_page(&ctx, "dpbx:///fuzz", (const char *)data, n1,
	    &l, &cursor) != 0)
		FUZZ_CHECK(cursor == NULL);
	for (i = 0; i < l.n; i++) {
		FUZZ_CHECK(l.v[i][0] != '\0');
		FUZZ_CHECK(strchr(l.v[i], '/') == NULL);
		FUZZ_CHECK(strcmp(l.v[i], ".") != 0 && strcmp(l.v[i], "..") != 0);
	}
	free(cursor);
	arca_strlist_free(&l);
	arca_dpbx_error_text((const char *)p2, n2, msg, sizeof(msg));
	for (i = 0; msg[i] != '\0'; i++)
		FUZZ_CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);
	return 0;
}
