/*
 * fuzz_rsync.c: librsync signatures and deltas from the target
 * (delta/rsync.c, spec §8).
 *
 * The input is "SIG\n--\nDELTA".  SIG is loaded as the old signature of a
 * file and a fixed new content is delta'd against it (what an incremental
 * backup does with a remote signature); DELTA is applied as a patch to a
 * fixed basis file (what a restore does with a remote diff), fed in small
 * pieces, to an output buffer with a cap.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "fuzz.h"
#include "delta/rsync.h"
#include "util/buf.h"

#define BASIS_LEN	8192
#define OUT_MAX		(1u << 20)

static unsigned char content[BASIS_LEN];
static int basis_fd = -1;

static void
setup(void)
{
	size_t i;

	for (i = 0; i < sizeof(content); i++)
		content[i] = (unsigned char)(i * 7 + i / 251);
	basis_fd = memfd_create("basis", MFD_CLOEXEC);
	if (basis_fd == -1 ||
	    write(basis_fd, content, sizeof(content)) != sizeof(content))
		abort();
}

static void
delta(struct arca_ctx *ctx, const uint8_t *sig, size_t n)
{
	struct arca_rsync_delta *d = NULL;
	struct arca_buf out = { 0 };

	out.max = OUT_MAX;
	if (arca_rsync_delta_new(ctx, sig, n, &d) != 0)
		goto out;
	if (arca_rsync_delta_update(d, content, 3000, &out) != 0 ||
	    arca_rsync_delta_update(d, content + 3000, sizeof(content) - 3000,
	    &out) != 0)
		goto out;
	(void)arca_rsync_delta_finish(d, &out);
out:
	arca_rsync_delta_free(d);
	arca_buf_free(&out);
}

static void
patch(struct arca_ctx *ctx, const uint8_t *p, size_t n)
{
	struct arca_rsync_patch *pt = NULL;
	struct arca_buf out = { 0 };
	size_t off, k;

	out.max = OUT_MAX;
	if (arca_rsync_patch_new(ctx, basis_fd, &pt) != 0)
		goto out;
	for (off = 0; off < n; off += k) {
		k = n - off < 97 ? n - off : 97;
		if (arca_rsync_patch_update(pt, p + off, k, &out) != 0)
			goto out;
	}
	(void)arca_rsync_patch_finish(pt, &out);
out:
	arca_rsync_patch_free(pt);
	arca_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p2;
	size_t n1, n2;
	struct arca_ctx ctx;

	if (size > 1 << 20)
		return 0;
	if (basis_fd == -1)
		setup();
	fuzz_ctx_init(&ctx);
	fuzz_split(data, size, &n1, &p2, &n2);
	delta(&ctx, data, n1);
	patch(&ctx, p2, n2);
	/* A delta is also worth trying as a whole input. */
	if (n2 == 0)
		patch(&ctx, data, size);
	return 0;
}
