/*
 * fuzz_entry.c: tar member names (format/entry.c, spec §7.1, §8.1).
 *
 * A member name decides where restore writes: a name that parses must
 * never yield an absolute index or a ".." component, and must build back
 * into a name that parses to the same kind, index and chunk.
 */
#include "fuzz.h"
#include "arca/arca_error.h"
#include "format/entry.h"
#include "util/buf.h"

static int
has_dotdot(const char *p, size_t n)
{
	size_t i = 0, j;

	while (i <= n) {
		for (j = i; j < n && p[j] != '/'; j++)
			;
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
			return 1;
		i = j + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_buf path = { 0 }, name = { 0 }, path2 = { 0 };
	enum arca_mkind kind, kind2;
	unsigned long chunk, chunk2;
	int rc;

	if (size > 65536)
		return 0;
	rc = arca_member_parse((const char *)data, size, &kind, &path, &chunk);
	if (rc != 0)
		goto out;
	FUZZ_CHECK(path.len == 0 || path.data[0] != '/');
	FUZZ_CHECK(!has_dotdot((const char *)path.data, path.len));
	if (memchr(path.data, '\0', path.len) != NULL)
		goto out;	/* cannot be rebuilt from a C string */
	rc = arca_member_name(&name, kind, path.len ? (char *)path.data : "",
	    0, 1, chunk);
	if (rc != 0)
		goto out;
	FUZZ_CHECK(arca_member_parse((const char *)name.data, name.len,
	    &kind2, &path2, &chunk2) == 0);
	FUZZ_CHECK(kind2 == kind && chunk2 == chunk);
	FUZZ_CHECK(path2.len == path.len &&
	    memcmp(path2.data, path.data, path.len) == 0);
out:
	arca_buf_free(&path);
	arca_buf_free(&path2);
	arca_buf_free(&name);
	return 0;
}
