/*
 * fuzz_timefmt.c: time strings (util/timefmt.c, spec §3): those inside
 * remote file names, the user's --time forms, and base 36.
 */
#include "fuzz.h"
#include "util/timefmt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[32], name[17];
	uint64_t u;
	int64_t t;

	if (size > 4096)
		return 0;
	s = fuzz_strdup(data, size);
	if (arca_time_parse_name((const char *)data, size, &t) == 0) {
		arca_time_format(t, name);
		arca_time_asctime(t, out);
		/* The canonical form must read back as the same time. */
		if (t >= 0 && t < 253402300800LL) {
			int64_t t2;

			FUZZ_CHECK(arca_time_parse_name(name, 16, &t2) == 0);
			FUZZ_CHECK(t2 == t);
		}
	}
	if (arca_time_parse_user(s, 1700000000, &t) == 0) {
		arca_time_format(t, name);
		arca_time_asctime(t, out);
	}
	(void)arca_b36_parse((const char *)data, size, &u);
	free(s);
	return 0;
}
