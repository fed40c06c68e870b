/*
 * fuzz_filename.c: remote file names (format/filename.c, spec §2).
 *
 * A listing of the target is remote input.  Whatever a name says, parsing
 * must not crash, and a name arca recognises must survive a round trip
 * through arca_fname_make (the long name of the same file).
 */
#include "fuzz.h"
#include "format/filename.h"

static void
roundtrip(const struct arca_fname *f, const struct arca_fprefix *pfx)
{
	struct arca_fname g;
	char buf[512];

	if (arca_fname_make(f, pfx, buf, sizeof(buf)) != 0)
		return;
	FUZZ_CHECK(arca_fname_parse(buf, pfx, &g) == 1);
	FUZZ_CHECK(g.kind == f->kind);
	FUZZ_CHECK(g.end == f->end);
	if (f->kind == ARCA_FK_INC_VOL || f->kind == ARCA_FK_INC_MANIFEST ||
	    f->kind == ARCA_FK_NEW_SIG)
		FUZZ_CHECK(g.start == f->start);
	if (f->kind == ARCA_FK_FULL_VOL || f->kind == ARCA_FK_INC_VOL)
		FUZZ_CHECK(g.vol == f->vol);
	FUZZ_CHECK(g.partial == f->partial);
	FUZZ_CHECK(g.encrypted == f->encrypted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct arca_fprefix pfx = { "b-", "a-", "m-", "s-" };
	struct arca_fname f;
	char *name, key[512];

	if (size > 4096)
		return 0;
	name = fuzz_strdup(data, size);
	if (arca_fname_parse(name, NULL, &f) == 1)
		roundtrip(&f, NULL);
	if (arca_fname_parse(name, &pfx, &f) == 1)
		roundtrip(&f, &pfx);
	(void)arca_fname_key(name, key, sizeof(key));
	(void)arca_fname_key(name, key, 8);
	free(name);
	return 0;
}
