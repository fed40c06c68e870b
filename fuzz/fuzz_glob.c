/*
 * fuzz_glob.c: glob patterns (select/glob.c, spec §13.2).
 *
 * The input is "PATTERN\n--\nPATH".  Compile the pattern, both as a bare
 * glob and through a selection rooted at /src, and match the path with
 * every combination of flags.
 */
#include <sys/stat.h>

#include "fuzz.h"
#include "select/glob_internal.h"
#include "select/selection.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_selection *sel = NULL;
	struct arca_glob *g = NULL;
	struct arca_ctx ctx;
	struct stat st;
	const uint8_t *p2;
	uint32_t *cps = NULL;
	char *pat = NULL, *path = NULL;
	size_t n1, n2, ncp;
	int isdir, scan, r;

	if (size > 8192)
		return 0;
	fuzz_ctx_init(&ctx);
	fuzz_split(data, size, &n1, &p2, &n2);
	pat = fuzz_strdup(data, n1);
	path = fuzz_strdup(p2, n2);
	if ((cps = malloc((n2 + 1) * sizeof(*cps))) == NULL)
		abort();
	ncp = arca_glob_decode(path, n2, cps);
	FUZZ_CHECK(ncp <= n2);
	if (arca_glob_new(&ctx, pat, &g) == 0) {
		(void)arca_glob_is_all(g);
		for (isdir = 0; isdir <= 1; isdir++)
			for (scan = 0; scan <= 1; scan++) {
				r = arca_glob_match(g, cps, ncp, isdir, scan);
				FUZZ_CHECK(r == ARCA_GLOB_NONE ||
				    r == ARCA_GLOB_MATCH ||
				    (scan && r == ARCA_GLOB_SCAN));
			}
	}
	if (memchr(path, '\0', n2) == NULL &&
	    arca_selection_new(&ctx, "/src", &sel) == 0) {
		if (arca_selection_add_glob(sel, 1, pat) == 0 &&
		    arca_selection_add_glob(sel, 0, "**") == 0 &&
		    arca_selection_finish(sel) == 0) {
			memset(&st, 0, sizeof(st));
			st.st_mode = S_IFDIR | 0755;
			r = arca_selection_test(sel, path, &st, -1);
			FUZZ_CHECK(r == ARCA_SEL_INCLUDE ||
			    r == ARCA_SEL_EXCLUDE || r == ARCA_SEL_SCAN);
			st.st_mode = S_IFREG | 0644;
			r = arca_selection_test(sel, path, &st, -1);
			FUZZ_CHECK(r == ARCA_SEL_INCLUDE ||
			    r == ARCA_SEL_EXCLUDE);
		}
	}
	arca_selection_free(sel);
	arca_glob_free(g);
	free(cps);
	free(pat);
	free(path);
	return 0;
}
