/*
 * test_filename.c: duplicity's remote file names (spec §2).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "format/filename.h"
#include "util/buf.h"

#include "test.h"

#define T0 ((int64_t)1704067200)	/* 20240101T000000Z */
#define T1 ((int64_t)1704153600)	/* 20240102T000000Z */
#define T2 ((int64_t)1704240000)	/* 20240103T000000Z */

struct expect {
	const char *stem;	/* name without the container suffix */
	enum arca_fkind kind;
	int64_t start, end;
	unsigned vol;
	int manifest;
};

static const struct expect fixture_names[] = {
	{ "duplicity-full-signatures.20240101T000000Z.sigtar",
	    ARCA_FK_FULL_SIG, T0, T0, 0, 0 },
	{ "duplicity-full.20240101T000000Z.manifest",
	    ARCA_FK_FULL_MANIFEST, T0, T0, 0, 1 },
	{ "duplicity-full.20240101T000000Z.vol1.difftar",
	    ARCA_FK_FULL_VOL, T0, T0, 1, 0 },
	{ "duplicity-full.20240101T000000Z.vol2.difftar",
	    ARCA_FK_FULL_VOL, T0, T0, 2, 0 },
	{ "duplicity-inc.20240101T000000Z.to.20240102T000000Z.manifest",
	    ARCA_FK_INC_MANIFEST, T0, T1, 0, 1 },
	{ "duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol1.difftar",
	    ARCA_FK_INC_VOL, T0, T1, 1, 0 },
	{ "duplicity-inc.20240102T000000Z.to.20240103T000000Z.manifest",
	    ARCA_FK_INC_MANIFEST, T1, T2, 0, 1 },
	{ "duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol1.difftar",
	    ARCA_FK_INC_VOL, T1, T2, 1, 0 },
	{ "duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol2.difftar",
	    ARCA_FK_INC_VOL, T1, T2, 2, 0 },
	{ "duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z.sigtar",
	    ARCA_FK_NEW_SIG, T0, T1, 0, 0 },
	{ "duplicity-new-signatures.20240102T000000Z.to.20240103T000000Z.sigtar",
	    ARCA_FK_NEW_SIG, T1, T2, 0, 0 },
};
#define NFIXTURE (sizeof(fixture_names) / sizeof(fixture_names[0]))

static void
check_dir(const char *sub, int encrypted)
{
	char dir[4096], stem[512];
	struct arca_fname f;
	struct dirent *de;
	int seen[NFIXTURE] = { 0 };
	size_t i, n;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/duplicity-0.8.22/%s", test_data_dir(),
	    sub);
	if ((d = opendir(dir)) == NULL) {
		CHECK(!"fixture directory missing");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		CHECK_INT(arca_fname_parse(de->d_name, NULL, &f), 1);
		for (i = 0; i < NFIXTURE; i++) {
			n = strlen(fixture_names[i].stem);
			if (strncmp(de->d_name, fixture_names[i].stem, n) == 0 &&
			    (de->d_name[n] == '\0' || de->d_name[n] == '.'))
				break;
		}
		if (i == NFIXTURE) {
			fprintf(stderr, "  unexpected fixture %s\n", de->d_name);
			CHECK(!"unknown fixture file");
			continue;
		}
		seen[i]++;
		/* The stem must be exactly the name without its suffix. */
		snprintf(stem, sizeof(stem), "%s%s", fixture_names[i].stem,
		    encrypted ? ".gpg" : fixture_names[i].manifest ? "" : ".gz");
		CHECK_STR(de->d_name, stem);
		CHECK_INT(f.kind, fixture_names[i].kind);
		CHECK_INT(f.start, fixture_names[i].start);
		CHECK_INT(f.end, fixture_names[i].end);
		CHECK_INT(f.vol, fixture_names[i].vol);
		CHECK_INT(f.partial, 0);
		CHECK_INT(f.encrypted, encrypted);
		CHECK_INT(f.compressed, !encrypted && !fixture_names[i].manifest);
	}
	closedir(d);
	for (i = 0; i < NFIXTURE; i++)
		CHECK_INT(seen[i], 1);
}

static void
test_fixture_plain(void)
{
	check_dir("plain", 0);
}

static void
test_fixture_encrypted(void)
{
	check_dir("encrypted", 1);
}

static int
parse(const char *name, struct arca_fname *f)
{
	memset(f, 0xa5, sizeof(*f));
	return arca_fname_parse(name, NULL, f);
}

static void
test_round_trip(void)
{
	static const enum arca_fkind kinds[] = { ARCA_FK_FULL_VOL,
	    ARCA_FK_FULL_MANIFEST, ARCA_FK_INC_VOL, ARCA_FK_INC_MANIFEST,
	    ARCA_FK_FULL_SIG, ARCA_FK_NEW_SIG };
	static const struct arca_fprefix pfx = { "P_", "A_", "M_", "S_" };
	struct arca_fname f, g;
	char buf[256];
	size_t k;
	int flags, usepfx;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
	for (flags = 0; flags < 8; flags++)
	for (usepfx = 0; usepfx < 2; usepfx++) {
		int vol = kinds[k] == ARCA_FK_FULL_VOL ||
		    kinds[k] == ARCA_FK_INC_VOL;
		int full = kinds[k] == ARCA_FK_FULL_VOL ||
		    kinds[k] == ARCA_FK_FULL_MANIFEST ||
		    kinds[k] == ARCA_FK_FULL_SIG;
		int man = kinds[k] == ARCA_FK_FULL_MANIFEST ||
		    kinds[k] == ARCA_FK_INC_MANIFEST;

		memset(&f, 0, sizeof(f));
		f.kind = kinds[k];
		f.start = full ? T2 : T0;
		f.end = T2;
		f.vol = vol ? 1 + flags * 7 : 0;
		f.encrypted = flags & 1;
		f.compressed = (flags >> 1) & 1;
		f.partial = vol ? 0 : (flags >> 2) & 1;
		CHECK_INT(arca_fname_make(&f, usepfx ? &pfx : NULL, buf,
		    sizeof(buf)), 0);
		memset(&g, 0x5a, sizeof(g));
		CHECK_INT(arca_fname_parse(buf, usepfx ? &pfx : NULL, &g), 1);
		CHECK_INT(g.kind, f.kind);
		CHECK_INT(g.start, f.start);
		CHECK_INT(g.end, f.end);
		CHECK_INT(g.vol, f.vol);
		CHECK_INT(g.partial, f.partial);
		CHECK_INT(g.encrypted, f.encrypted);
		/* gpg implies no gzip; manifests are never gzipped. */
		CHECK_INT(g.compressed, f.compressed && !f.encrypted && !man);
		/* With prefixes, the bare parser must not see it. */
		if (usepfx)
			CHECK_INT(arca_fname_parse(buf, NULL, &g), 0);
	}

	memset(&f, 0, sizeof(f));
	f.kind = ARCA_FK_INC_VOL;
	f.start = T0;
	f.end = T1;
	f.vol = 3;
	f.compressed = 1;
	CHECK_INT(arca_fname_make(&f, NULL, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "duplicity-inc.20240101T000000Z.to.20240102T000000Z."
	    "vol3.difftar.gz");
	f.kind = ARCA_FK_INC_MANIFEST;
	f.partial = 1;
	CHECK_INT(arca_fname_make(&f, NULL, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "duplicity-inc.20240101T000000Z.to.20240102T000000Z."
	    "manifest.part");
	f.kind = ARCA_FK_FULL_SIG;
	f.start = f.end = T0;
	CHECK_INT(arca_fname_make(&f, NULL, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "duplicity-full-signatures.20240101T000000Z.sigtar.part.gz");
	/* Too small a buffer, exactly one byte short. */
	{
		size_t need = strlen(buf) + 1;

		CHECK_INT(arca_fname_make(&f, NULL, buf, need - 1),
		    ARCA_ERR_USAGE);
		CHECK_INT(arca_fname_make(&f, NULL, buf, need), 0);
		CHECK_INT(strlen(buf) + 1, need);
	}
	f.kind = ARCA_FK_FULL_VOL;
	f.vol = 0;
	CHECK_INT(arca_fname_make(&f, NULL, buf, sizeof(buf)), ARCA_ERR_USAGE);
	f.kind = (enum arca_fkind)99;
	f.vol = 1;
	CHECK_INT(arca_fname_make(&f, NULL, buf, sizeof(buf)), ARCA_ERR_USAGE);
}

static void
test_short(void)
{
	struct arca_fname f;

	CHECK_INT(parse("df.tp3uo8.1.dt.z", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_VOL);
	CHECK_INT(f.start, 1795689224);
	CHECK_INT(f.end, 1795689224);
	CHECK_INT(f.vol, 1);
	CHECK_INT(f.compressed, 1);
	CHECK_INT(f.encrypted, 0);
	CHECK_INT(f.partial, 0);

	CHECK_INT(parse("df.tp3uo8.a.dt.g", &f), 1);
	CHECK_INT(f.vol, 10);
	CHECK_INT(f.encrypted, 1);
	CHECK_INT(f.compressed, 0);

	CHECK_INT(parse("df.tp3uo8.m", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_MANIFEST);
	CHECK_INT(f.end, 1795689224);
	CHECK_INT(f.partial, 0);
	CHECK_INT(parse("df.tp3uo8.m.p", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_MANIFEST);
	CHECK_INT(f.partial, 1);
	CHECK_INT(parse("df.tp3uo8.m.p.g", &f), 1);
	CHECK_INT(f.partial, 1);
	CHECK_INT(f.encrypted, 1);

	CHECK_INT(parse("di.tp3uo8.tp3uo9.2.dt.g", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_INC_VOL);
	CHECK_INT(f.start, 1795689224);
	CHECK_INT(f.end, 1795689225);
	CHECK_INT(f.vol, 2);
	CHECK_INT(parse("di.tp3uo8.tp3uo9.m", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_INC_MANIFEST);
	CHECK_INT(f.start, 1795689224);
	CHECK_INT(f.end, 1795689225);

	CHECK_INT(parse("dfs.tp3uo8.st.z", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_SIG);
	CHECK_INT(f.end, 1795689224);
	CHECK_INT(f.compressed, 1);
	CHECK_INT(parse("dfs.tp3uo8.st.p", &f), 1);
	CHECK_INT(f.partial, 1);
	CHECK_INT(parse("dns.tp3uo8.tp3uo9.st.g", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_NEW_SIG);
	CHECK_INT(f.start, 1795689224);
	CHECK_INT(f.end, 1795689225);
	CHECK_INT(f.encrypted, 1);

	/* Upper case is not base 36 here; time 0 is no time; vol 0 no vol. */
	CHECK_INT(parse("df.TP3UO8.1.dt.z", &f), 0);
	CHECK_INT(parse("df.0.1.dt", &f), 0);
	CHECK_INT(parse("df.tp3uo8.0.dt", &f), 0);
	CHECK_INT(parse("df.tp3uo8.1.dtx", &f), 0);
	CHECK_INT(parse("df..1.dt", &f), 0);
	CHECK_INT(parse("dfx.tp3uo8.st", &f), 0);
}

static void
test_long_quirks(void)
{
	struct arca_fname f;

	/* Anything may follow a dot after the kind word. */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol7.difftar.foo", &f),
	    1);
	CHECK_INT(f.kind, ARCA_FK_FULL_VOL);
	CHECK_INT(f.vol, 7);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol7.difftarx", &f), 0);
	/* The time is the shortest span that lets the rest match. */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol1.difftar.vol2."
	    "difftar", &f), 1);
	CHECK_INT(f.vol, 1);
	/* Lower-case time letters are upper-cased by duplicity. */
	CHECK_INT(parse("duplicity-full.20240101t000000z.manifest", &f), 1);
	CHECK_INT(f.end, T0);
	/* Legacy (--old-filenames) times. */
	CHECK_INT(parse("duplicity-full.2002-01-25T07:00:00-07:00.vol1."
	    "difftar.gpg", &f), 1);
	CHECK_INT(f.end, 1011967200);
	CHECK_INT(f.encrypted, 1);
	CHECK_INT(parse("duplicity-inc.2002-01-25T07:00:00-07:00.to."
	    "2002-01-25T15:00:00Z.manifest", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_INC_MANIFEST);
	CHECK_INT(f.start, 1011967200);
	CHECK_INT(f.end, 1011967200 + 3600);
	/* ".part": manifests and sigtars only; a marker must end a field. */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.manifest.part", &f), 1);
	CHECK_INT(f.partial, 1);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.manifest.partial", &f),
	    1);
	CHECK_INT(f.partial, 0);
	CHECK_INT(parse("duplicity-new-signatures.20240101T000000Z.to."
	    "20240102T000000Z.sigtar.part", &f), 1);
	CHECK_INT(f.kind, ARCA_FK_NEW_SIG);
	CHECK_INT(f.partial, 1);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol1.difftar.part",
	    &f), 1);
	CHECK_INT(f.partial, 0);
	/* "gz" without a dot counts as compressed, as in duplicity. */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol1.difftar.tgz", &f),
	    1);
	CHECK_INT(f.compressed, 1);

	/* Not ours. */
	CHECK_INT(parse("unrelated.txt", &f), 0);
	CHECK_INT(parse("", &f), 0);
	CHECK_INT(parse("duplicity-full.garbage.vol1.difftar.gz", &f), 0);
	CHECK_INT(parse("duplicity-full..vol1.difftar", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol0.difftar", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol.difftar", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol99999999999."
	    "difftar", &f), 0);
	CHECK_INT(parse("Duplicity-full.20240101T000000Z.manifest", &f), 0);
	CHECK_INT(parse("xduplicity-full.20240101T000000Z.manifest", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.jsonstat", &f), 0);
	CHECK_INT(parse("duplicity-inc.20240101T000000Z.to.garbage.manifest",
	    &f), 0);
	/* Absurdly long names are not looked at. */
	{
		static char longname[6000];

		memset(longname, 'x', sizeof(longname) - 1);
		memcpy(longname, "duplicity-full.20240101T000000Z.manifest.", 41);
		CHECK_INT(parse(longname, &f), 0);
		longname[4096] = '\0';
		CHECK_INT(parse(longname, &f), 1);
	}
	/*
	 * The first pattern whose shape fits decides: here the volume
	 * pattern (with a garbage time), so the name is no manifest either.
	 */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.manifest.duplicity-"
	    "full.20240101T000000Z.vol1.difftar", &f), 0);
	/* Times duplicity's generic parser would take but no writer makes. */
	CHECK_INT(parse("duplicity-full.1704067200.vol1.difftar.gz", &f), 0);
	CHECK_INT(parse("duplicity-full.60D.manifest", &f), 0);
}

static void
test_par2(void)
{
	struct arca_fname f;

	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol1.difftar.gpg."
	    "par2", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.vol1.difftar.gpg."
	    "vol000+01.par2", &f), 0);
	CHECK_INT(parse("duplicity-full.20240101T000000Z.manifest.par2", &f), 0);
	/* Only a final ".par2" hides a name. */
	CHECK_INT(parse("duplicity-full.20240101T000000Z.manifest.par2x", &f),
	    1);
}

static void
test_prefixes(void)
{
	static const struct arca_fprefix pfx = { "P_", "A_", "M_", "S_" };
	static const struct arca_fprefix base = { "host1-", NULL, NULL, NULL };
	struct arca_fname f;

	memset(&f, 0, sizeof(f));
	CHECK_INT(arca_fname_parse("P_A_duplicity-full.20261126T103345Z.vol1."
	    "difftar.gpg", &pfx, &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_VOL);
	CHECK_INT(f.end, 1795689225);
	CHECK_INT(arca_fname_parse("P_M_duplicity-full.20261126T103345Z."
	    "manifest.gpg", &pfx, &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_MANIFEST);
	CHECK_INT(arca_fname_parse("P_S_duplicity-full-signatures."
	    "20261126T103345Z.sigtar.gpg", &pfx, &f), 1);
	CHECK_INT(f.kind, ARCA_FK_FULL_SIG);
	CHECK_INT(arca_fname_parse("P_S_duplicity-full-signatures."
	    "20261126T103345Z.sigtar.gz", &pfx, &f), 1);
	/* Each kind has its own prefix. */
	CHECK_INT(arca_fname_parse("P_M_duplicity-full.20261126T103345Z.vol1."
	    "difftar.gpg", &pfx, &f), 0);
	CHECK_INT(arca_fname_parse("P_A_duplicity-full.20261126T103345Z."
	    "manifest.gpg", &pfx, &f), 0);
	CHECK_INT(arca_fname_parse("A_duplicity-full.20261126T103345Z.vol1."
	    "difftar.gpg", &pfx, &f), 0);
	CHECK_INT(arca_fname_parse("P_A_df.tp3uo8.1.dt.z", &pfx, &f), 1);
	CHECK_INT(f.vol, 1);
	CHECK_INT(arca_fname_parse("host1-duplicity-new-signatures."
	    "20240101T000000Z.to.20240102T000000Z.sigtar.gz", &base, &f), 1);
	CHECK_INT(f.kind, ARCA_FK_NEW_SIG);
	CHECK_INT(arca_fname_parse("duplicity-new-signatures."
	    "20240101T000000Z.to.20240102T000000Z.sigtar.gz", &base, &f), 0);
	/* Prefixes are literal: no regex metacharacters. */
	{
		static const struct arca_fprefix dot = { "a.", NULL, NULL,
		    NULL };

		CHECK_INT(arca_fname_parse("a.duplicity-full.20240101T000000Z."
		    "manifest", &dot, &f), 1);
		CHECK_INT(arca_fname_parse("ab duplicity-full.20240101T000000Z."
		    "manifest", &dot, &f), 0);
	}
}

static void
test_key(void)
{
	char b[256];

	CHECK_INT(arca_fname_key("duplicity-full-signatures.20240101T000000Z."
	    "sigtar.gpg", b, sizeof(b)), 0);
	CHECK_STR(b, "duplicity-full-signatures.20240101T000000Z.sigtar");
	CHECK_INT(arca_fname_key("duplicity-full-signatures.20240101T000000Z."
	    "sigtar.gz", b, sizeof(b)), 0);
	CHECK_STR(b, "duplicity-full-signatures.20240101T000000Z.sigtar");
	CHECK_INT(arca_fname_key("duplicity-full-signatures.20240101T000000Z."
	    "sigtar.part", b, sizeof(b)), 0);
	CHECK_STR(b, "duplicity-full-signatures.20240101T000000Z.sigtar");
	CHECK_INT(arca_fname_key("duplicity-full.20240101T000000Z.manifest",
	    b, sizeof(b)), 0);
	CHECK_STR(b, "duplicity-full.20240101T000000Z.manifest");
	CHECK_INT(arca_fname_key("df.tp3uo8.m.g", b, sizeof(b)), 0);
	CHECK_STR(b, "df.tp3uo8.m");
	CHECK_INT(arca_fname_key("dfs.tp3uo8.st.z", b, sizeof(b)), 0);
	CHECK_STR(b, "dfs.tp3uo8.st");
	CHECK_INT(arca_fname_key("x.manifest.part.gpg", b, sizeof(b)), 0);
	CHECK_STR(b, "x.manifest");
	CHECK_INT(arca_fname_key("abc", b, 3), ARCA_ERR_USAGE);
	CHECK_INT(arca_fname_key("abc", b, 4), 0);
	CHECK_STR(b, "abc");
}

/*
 * Differential check against duplicity's own parser (Debian's duplicity
 * 0.8.22 python modules), for names where we do not tighten its rules.
 */
static void
test_against_duplicity(void)
{
	static const char *const names[] = {
		"duplicity-full.20240101T000000Z.vol1.difftar.gz",
		"duplicity-full.20240101T000000Z.vol12.difftar.gpg",
		"duplicity-full.20240101T000000Z.manifest",
		"duplicity-full.20240101T000000Z.manifest.part",
		"duplicity-full.20240101t000000z.manifest.part.gpg",
		"duplicity-full.20240101T000000Z.manifest.partial",
		"duplicity-full.20240101T000000Z.vol1.difftar.part",
		"duplicity-full.20240101T000000Z.vol1.difftar.vol2.difftar",
		"duplicity-full.20240101T000000Z.vol7.difftarx",
		"duplicity-full.20240101T000000Z.vol1.difftar.tgz",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol1.difftar.gz",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.manifest.gpg",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.manifest.part",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol1.difftar.part",
		"duplicity-inc.20240101T000000Z.to.garbage.manifest",
		"duplicity-full-signatures.20240101T000000Z.sigtar.gz",
		"duplicity-full-signatures.20240101T000000Z.sigtar.part",
		"duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z.sigtar.gpg",
		"duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z.sigtar.part",
		"duplicity-full.2002-01-25T07:00:00-07:00.vol1.difftar.gpg",
		"duplicity-full.2002-01-25T07:00:00Z.manifest",
		"df.tp3uo8.1.dt.z", "df.tp3uo8.a.dt.g", "df.tp3uo8.m",
		"df.tp3uo8.m.p", "df.tp3uo8.m.p.g", "di.tp3uo8.tp3uo9.2.dt.g",
		"di.tp3uo8.tp3uo9.m", "di.tp3uo8.tp3uo9.m.p", "dfs.tp3uo8.st.z",
		"dfs.tp3uo8.st.p", "dns.tp3uo8.tp3uo9.st.g", "df.0.1.dt",
		"df.TP3UO8.1.dt", "df..1.dt", "dfx.tp3uo8.st", "df.abc.m.dt",
		"unrelated.txt", "duplicity-full.garbage.vol1.difftar.gz",
		"Duplicity-full.20240101T000000Z.manifest",
		"duplicity-full.20240101T000000Z.jsonstat",
		"duplicity-full.20240101T000000Z.manifest.duplicity-full."
		"20240101T000000Z.vol1.difftar",
		"duplicity-full-signatures.bad.sigtar.duplicity-new-signatures."
		"20240101T000000Z.to.20240102T000000Z.sigtar",
	};
	struct arca_buf cmd = { 0 };
	char line[256], want[256];
	struct arca_fname f;
	size_t i;
	FILE *fp;

	if (system("/usr/bin/python3 -c 'import duplicity.file_naming' "
	    ">/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP test_against_duplicity: duplicity's "
		    "python modules not available\n");
		return;
	}
	/* One python run; one output line per name. */
	arca_buf_puts(&cmd, "TZ=UTC /usr/bin/python3 -c '"
	    "import sys\nfrom duplicity import file_naming as F\n"
	    "for a in sys.argv[1:]:\n"
	    " r = F.parse(a.encode())\n"
	    " if r is None: print(\"none\")\n"
	    " else: print(r.type, 1 if r.manifest else 0, "
	    "r.volume_number or 0, r.start_time or r.time, "
	    "r.end_time or r.time, int(bool(r.partial)), "
	    "int(bool(r.encrypted)), int(bool(r.compressed)))'");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		arca_buf_printf(&cmd, " '%s'", names[i]);
	if ((fp = popen((char *)cmd.data, "r")) == NULL) {
		CHECK(!"python run failed");
		arca_buf_free(&cmd);
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (fgets(line, sizeof(line), fp) == NULL) {
			CHECK(!"python output ended early");
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (!parse(names[i], &f))
			snprintf(want, sizeof(want), "none");
		else
			snprintf(want, sizeof(want), "%s %d %u %lld %lld %d %d %d",
			    f.kind == ARCA_FK_FULL_VOL ||
			    f.kind == ARCA_FK_FULL_MANIFEST ? "full" :
			    f.kind == ARCA_FK_INC_VOL ||
			    f.kind == ARCA_FK_INC_MANIFEST ? "inc" :
			    f.kind == ARCA_FK_FULL_SIG ? "full-sig" : "new-sig",
			    f.kind == ARCA_FK_FULL_MANIFEST ||
			    f.kind == ARCA_FK_INC_MANIFEST, f.vol,
			    (long long)f.start, (long long)f.end, f.partial,
			    f.encrypted, f.compressed);
		if (strcmp(line, want) != 0)
			fprintf(stderr, "  name %s\n", names[i]);
		CHECK_STR(want, line);
	}
	pclose(fp);
	arca_buf_free(&cmd);
}

int
main(void)
{
	RUN(test_fixture_plain);
	RUN(test_fixture_encrypted);
	RUN(test_round_trip);
	RUN(test_short);
	RUN(test_long_quirks);
	RUN(test_par2);
	RUN(test_prefixes);
	RUN(test_key);
	RUN(test_against_duplicity);
	TEST_DONE();
}
