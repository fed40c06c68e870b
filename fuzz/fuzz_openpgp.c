/*
 * fuzz_openpgp.c: the built-in OpenPGP engine's reader (crypto/openpgp*.c,
 * compress/deflate.c, compress/bzip2.c).
 *
 * Byte 0 chooses what the rest is:
 *   even: an encrypted message, decrypted with the passphrase "fuzz"
 *         (S2K counts above 2^20 refused, to keep runs short);
 *   odd:  the packets inside an encrypted message (compressed, literal,
 *         signature packets), parsed without decryption, so mutations
 *         reach the inner parser and the decompressors directly.
 * Every input must end in 0 or an error with a message; the output is
 * counted and dropped, with a cap against decompression bombs.
 */
#include <sys/types.h>

#include "fuzz.h"
#include "crypto/openpgp.h"
#include "crypto/openpgp_internal.h"
#include "util/stream.h"

#define OUT_CAP	(64u << 20)

struct count_sink {
	struct arca_sink base;
	struct arca_ctx *ctx;
	uint64_t total;
};

static int
count_write(struct arca_sink *s, const void *p, size_t n)
{
	struct count_sink *c = (struct count_sink *)s;

	(void)p;
	c->total += n;
	if (c->total > OUT_CAP)
		return arca_error(c->ctx, ARCA_ERR_CORRUPT, "output cap");
	return 0;
}

static int
count_close(struct arca_sink *s)
{
	(void)s;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct count_sink out = { .base = { .write = count_write,
	    .close = count_close } };
	struct arca_pgp_opts o;
	struct arca_pgp *p = NULL;
	struct arca_source *mem;
	struct arca_ctx ctx;
	int r;

	if (size < 1 || size > (1 << 20))
		return 0;
	fuzz_ctx_init(&ctx);
	out.ctx = &ctx;
	if ((mem = arca_source_mem(data + 1, size - 1)) == NULL)
		return 0;
	if (data[0] & 1) {
		r = pgp_read_plain(&ctx, mem, &out.base, "fuzz-input");
	} else {
		arca_pgp_opts_init(&o);
		o.passphrase = "fuzz";
		o.max_s2k_count = 1u << 20;
		/* Both answers to an old message without MDC get covered. */
		if (data[0] & 2)
			o.flags |= ARCA_PGP_ALLOW_NO_MDC;
		if (arca_pgp_new(&ctx, &o, &p) != 0)
			goto out;
		r = arca_pgp_decrypt(p, mem, &out.base, "fuzz-input");
	}
	FUZZ_CHECK(r <= 0);
	if (r < 0)
		FUZZ_CHECK(ctx.errmsg[0] != '\0');
out:
	arca_pgp_free(p);
	arca_source_free(mem);
	return 0;
}
