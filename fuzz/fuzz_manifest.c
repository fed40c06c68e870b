/*
 * fuzz_manifest.c: manifests (format/manifest.c, spec §5).
 *
 * A manifest comes from the target (decrypted, but whoever holds the key
 * may be hostile too).  Parse it with and without the file list; what
 * parses must format again, and every path must survive quote/unquote.
 */
#include "fuzz.h"
#include "format/manifest.h"
#include "util/buf.h"

static void
check_path(const char *path)
{
	struct arca_buf q = { 0 }, u = { 0 };

	if (arca_manifest_quote(&q, path) == 0 &&
	    arca_manifest_unquote(&u, (const char *)q.data, q.len) == 0)
		FUZZ_CHECK(u.len == strlen(path) &&
		    memcmp(u.data, path, u.len) == 0);
	arca_buf_free(&q);
	arca_buf_free(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_manifest *m = NULL;
	struct arca_buf out = { 0 };
	struct arca_ctx ctx;
	size_t i;
	int flags;

	if (size > 1 << 20)
		return 0;
	fuzz_ctx_init(&ctx);
	for (flags = 0; flags <= ARCA_MANIFEST_FILELIST; flags++) {
		if (arca_manifest_parse(&ctx, (const char *)data, size, flags,
		    &m) != 0) {
			FUZZ_CHECK(ctx.errmsg[0] != '\0');
			continue;
		}
		FUZZ_CHECK(m != NULL);
		(void)arca_manifest_fmt_header(&out, m->hostname, m->localdir);
		for (i = 0; i < m->nvols; i++) {
			FUZZ_CHECK(m->vols[i].num == i + 1);
			(void)arca_manifest_fmt_volume(&out, &m->vols[i]);
			check_path(m->vols[i].start_path);
			check_path(m->vols[i].end_path);
		}
		(void)arca_manifest_fmt_filelist_head(&out, m->nfiles);
		for (i = 0; i < m->nfiles; i++) {
			(void)arca_manifest_fmt_change(&out, m->files[i].type,
			    m->files[i].path);
			check_path(m->files[i].path);
		}
		arca_manifest_free(m);
		m = NULL;
		arca_buf_reset(&out);
	}
	/* The unquoter alone, on arbitrary bytes. */
	(void)arca_manifest_unquote(&out, (const char *)data, size);
	arca_buf_free(&out);
	return 0;
}
