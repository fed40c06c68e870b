/*
 * fuzz_gzip.c: gzip inflate (compress/gzip.c on deflate.c's ISA-L reader,
 * spec §4.2), differential against zlib.
 *
 * Volumes and signature files of --no-encryption targets arrive gzipped.
 * Inflate with a cap: a bomb must stop at the cap with an error.  The
 * same input is decoded by a reference reader on zlib (the reader arca
 * used before ISA-L): members back to back, zero padding after a member
 * skipped, anything else a new member.  Both must accept or refuse alike
 * and, when they accept, give the same bytes.
 */
#include <sys/types.h>

#include <zlib.h>

#include "fuzz.h"
#include "compress/gzip.h"
#include "util/stream.h"

#define LIMIT	(4u << 20)

enum { REF_OK, REF_BAD, REF_OVER };

static unsigned char ref_out[LIMIT + 1];
static unsigned char got_out[LIMIT];

/* Decode with zlib into ref_out (at most LIMIT bytes). */
static int
ref_gunzip(const uint8_t *d, size_t n, size_t *outlen)
{
	z_stream zs;
	size_t pos = 0;
	int first = 1, zr;

	*outlen = 0;
	for (;;) {
		if (!first) {
			while (pos < n && d[pos] == 0)
				pos++;
			if (pos == n)
				return REF_OK;
		} else if (n == 0)
			return REF_BAD;
		first = 0;
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
			abort();
		zs.next_in = (Bytef *)(uintptr_t)(d + pos);
		zs.avail_in = (uInt)(n - pos);
		zs.next_out = ref_out + *outlen;
		zs.avail_out = (uInt)(sizeof(ref_out) - *outlen);
		zr = inflate(&zs, Z_NO_FLUSH);
		pos = n - zs.avail_in;
		*outlen = sizeof(ref_out) - zs.avail_out;
		inflateEnd(&zs);
		if (*outlen > LIMIT)
			return REF_OVER;
		if (zr != Z_STREAM_END)
			return REF_BAD;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_source *mem, *gz = NULL;
	struct arca_ctx ctx;
	size_t total = 0, ref_len, chunk;
	ssize_t n;
	int ref;

	if (size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	if ((mem = arca_source_mem(data, size)) == NULL)
		return 0;
	if ((gz = arca_gunzip_source(&ctx, mem, LIMIT)) == NULL)
		goto out;
	/* Vary the caller's read size: ISA-L buffers output internally. */
	chunk = (size & 1) ? sizeof(got_out) : 1 + size % 997;
	while ((n = arca_source_read(gz, got_out + total,
	    chunk < sizeof(got_out) - total ? chunk :
	    sizeof(got_out) - total)) > 0) {
		total += (size_t)n;
		FUZZ_CHECK(total <= LIMIT);
		if (total == LIMIT) {
			/* Full: one more byte must be refused. */
			unsigned char extra;

			n = arca_source_read(gz, &extra, 1);
			FUZZ_CHECK(n <= 0);
			break;
		}
	}
	if (n < 0)
		FUZZ_CHECK(n == ARCA_ERR_CORRUPT && ctx.errmsg[0] != '\0');
	ref = ref_gunzip(data, size, &ref_len);
	if (n == 0) {
		FUZZ_CHECK(ref == REF_OK);
		FUZZ_CHECK(ref_len == total);
		FUZZ_CHECK(memcmp(ref_out, got_out, total) == 0);
	} else
		FUZZ_CHECK(ref != REF_OK);
out:
	arca_source_free(gz);
	arca_source_free(mem);
	return 0;
}
