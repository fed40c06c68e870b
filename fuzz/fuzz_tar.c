/*
 * fuzz_tar.c: difftar and sigtar member streams (archive/tar.c reader over
 * a memory source, then format/entry.c on each member name), spec §6-§8.
 *
 * A volume's tar stream is remote input.  Read every member and all its
 * data; a member count or a data size beyond the input must end in an
 * error or the end of the archive, never in a crash or a hang.
 */
#include <sys/types.h>

#include "fuzz.h"
#include "archive/tar.h"
#include "format/entry.h"
#include "util/buf.h"
#include "util/stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_tar_reader *r = NULL;
	struct arca_source *src;
	struct arca_buf path = { 0 };
	const struct arca_meta *m;
	enum arca_mkind kind;
	unsigned long chunk;
	unsigned char buf[4096];
	const char *name;
	struct arca_ctx ctx;
	uint64_t got;
	ssize_t n;
	int rc, members = 0;

	if (size > 4 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	if ((src = arca_source_mem(data, size)) == NULL)
		return 0;
	if (arca_tar_reader_new(&ctx, src, &r) != 0)
		goto out;
	while ((rc = arca_tar_next(r, &name, &m)) == 1) {
		FUZZ_CHECK(name != NULL && m != NULL);
		/* Each member costs at least one header block of input. */
		FUZZ_CHECK((size_t)++members <= size / 512 + 1);
		(void)arca_member_parse(name, strlen(name), &kind, &path,
		    &chunk);
		got = 0;
		while ((n = arca_tar_read_data(r, buf, sizeof(buf))) > 0)
			got += (uint64_t)n;
		if (n < 0)
			break;
		FUZZ_CHECK(got == m->size);
	}
	if (rc < 0)
		FUZZ_CHECK(ctx.errmsg[0] != '\0');
out:
	arca_tar_reader_free(r);
	arca_source_free(src);
	arca_buf_free(&path);
	return 0;
}
