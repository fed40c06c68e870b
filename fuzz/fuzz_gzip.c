/*
 * fuzz_gzip.c: gzip inflate (compress/gzip.c, spec §4.2).
 *
 * Volumes and signature files of --no-encryption targets arrive gzipped.
 * Inflate with a cap: a bomb must stop at the cap with an error.
 */
#include <sys/types.h>

#include "fuzz.h"
#include "compress/gzip.h"
#include "util/stream.h"

#define LIMIT	(4u << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_source *mem, *gz = NULL;
	unsigned char buf[65536];
	struct arca_ctx ctx;
	uint64_t total = 0;
	ssize_t n;

	if (size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	if ((mem = arca_source_mem(data, size)) == NULL)
		return 0;
	if ((gz = arca_gunzip_source(&ctx, mem, LIMIT)) == NULL)
		goto out;
	while ((n = arca_source_read(gz, buf, sizeof(buf))) > 0) {
		total += (uint64_t)n;
		FUZZ_CHECK(total <= LIMIT);
	}
	if (n < 0)
		FUZZ_CHECK(ctx.errmsg[0] != '\0');
out:
	arca_source_free(gz);
	arca_source_free(mem);
	return 0;
}
