/*
 * test_manifest.c: the manifest of a backup set (spec §5).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/arca_error.h"
#include "format/manifest.h"
#include "util/buf.h"
#include "util/ctx.h"

#include "test.h"

#define FIX "duplicity-0.8.22/plain/"
#define FULL "duplicity-full.20240101T000000Z"
#define INC1 "duplicity-inc.20240101T000000Z.to.20240102T000000Z"
#define INC2 "duplicity-inc.20240102T000000Z.to.20240103T000000Z"

static char *
slurp(const char *rel, size_t *len)
{
	char path[4096];
	char *p = NULL;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", test_data_dir(), rel);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static struct arca_manifest *
parse_str(const char *s, int flags, int expect)
{
	struct arca_ctx ctx = { 0 };
	struct arca_manifest *m = (void *)1;
	int rc;

	rc = arca_manifest_parse(&ctx, s, strlen(s), flags, &m);
	CHECK_INT(rc, expect);
	if (rc != 0) {
		CHECK(m == NULL);
		CHECK(ctx.errmsg[0] != '\0');
		return NULL;
	}
	return m;
}

static void
check_vol(const struct arca_manifest_vol *v, unsigned num, const char *sp,
    long sb, const char *ep, long eb, const char *hash)
{
	CHECK_INT(v->num, num);
	CHECK_STR(v->start_path, sp);
	CHECK_INT(v->start_block, sb);
	CHECK_STR(v->end_path, ep);
	CHECK_INT(v->end_block, eb);
	CHECK_STR(v->hash_name, "SHA1");
	CHECK_STR(v->hash_hex, hash);
}

static struct arca_manifest *
parse_fixture(const char *name, char **text, size_t *len)
{
	struct arca_ctx ctx = { 0 };
	struct arca_manifest *m = NULL;
	char rel[512];

	snprintf(rel, sizeof(rel), FIX "%s.manifest", name);
	*text = slurp(rel, len);
	CHECK_INT(arca_manifest_parse(&ctx, *text, *len,
	    ARCA_MANIFEST_FILELIST, &m), 0);
	if (m == NULL)
		fprintf(stderr, "  %s: %s\n", name, ctx.errmsg);
	return m;
}

static void
test_fixture_full(void)
{
	struct arca_manifest *m;
	static const char *const files[] = { "README.txt", "big.bin",
	    "docs/a.txt", "docs/b.txt", "docs/unchanged.txt", "empty.txt",
	    "name with spaces.txt", "private.txt", "script.sh",
	    "sub/deep/nested.txt", "\xc3\xbcn\xc3\xaf\x63\xc3\xb8\x64\xc3\xa9.txt" };
	char *text;
	size_t len, i;

	if ((m = parse_fixture(FULL, &text, &len)) == NULL)
		return;
	CHECK_STR(m->hostname, "fixture-host");
	CHECK_STR(m->localdir, "src");
	CHECK_INT(m->nvols, 2);
	check_vol(&m->vols[0], 1, "", -1, "big.bin", 15,
	    "08f6ad333b462536cea158ed6d8f8a5f060421d0");
	check_vol(&m->vols[1], 2, "big.bin", 16, files[10], -1,
	    "c9a8ef732ce0731ace0c637fec7f004214d6fa66");
	CHECK_INT(m->nfiles, 11);
	for (i = 0; i < m->nfiles && i < 11; i++) {
		CHECK_INT(m->files[i].type, ARCA_CHANGE_NEW);
		CHECK_STR(m->files[i].path, files[i]);
	}
	arca_manifest_free(m);
	free(text);
}

static void
test_fixture_incs(void)
{
	struct arca_manifest *m;
	char *text;
	size_t len;

	if ((m = parse_fixture(INC1, &text, &len)) != NULL) {
		CHECK_INT(m->nvols, 1);
		check_vol(&m->vols[0], 1, "", -1, "private.txt", -1,
		    "84a9f05b9fc73bead8238c9014d7a496d5e52ff4");
		CHECK_INT(m->nfiles, 7);
		if (m->nfiles == 7) {
			CHECK_INT(m->files[0].type, ARCA_CHANGE_CHANGED);
			CHECK_STR(m->files[0].path, "big.bin");
			CHECK_INT(m->files[2].type, ARCA_CHANGE_DELETED);
			CHECK_STR(m->files[2].path, "docs/b.txt");
			CHECK_INT(m->files[5].type, ARCA_CHANGE_NEW);
			CHECK_STR(m->files[5].path, "newdir/new.txt");
		}
		arca_manifest_free(m);
		free(text);
	}
	if ((m = parse_fixture(INC2, &text, &len)) != NULL) {
		CHECK_INT(m->nvols, 2);
		check_vol(&m->vols[0], 1, "", -1, "big.bin", 15,
		    "b005ec093d40e24a75366e6ad1a29ae39f8413fa");
		check_vol(&m->vols[1], 2, "big.bin", 16, "sub/deep/nested.txt",
		    -1, "46c1b31fbe04f1765f395025ea56fd9363c706ba");
		CHECK_INT(m->nfiles, 6);
		if (m->nfiles == 6) {
			CHECK_INT(m->files[4].type, ARCA_CHANGE_NEW);
			CHECK_STR(m->files[4].path, "sub/deep");
			CHECK_INT(m->files[5].type, ARCA_CHANGE_DELETED);
			CHECK_STR(m->files[5].path, "sub/deep/nested.txt");
		}
		arca_manifest_free(m);
		free(text);
	}
}

/* The manifest's Hash line is the SHA1 of the remote volume file. */
static void
test_fixture_hashes(void)
{
	static const char *const sets[] = { FULL, INC1, INC2 };
	struct arca_manifest *m;
	char cmd[8192], line[256], *text;
	size_t len, s, v;
	FILE *fp;

	if (system("sha1sum --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP test_fixture_hashes: no sha1sum\n");
		return;
	}
	for (s = 0; s < 3; s++) {
		if ((m = parse_fixture(sets[s], &text, &len)) == NULL)
			continue;
		for (v = 0; v < m->nvols; v++) {
			snprintf(cmd, sizeof(cmd), "sha1sum '%s/" FIX
			    "%s.vol%u.difftar.gz'", test_data_dir(), sets[s],
			    m->vols[v].num);
			if ((fp = popen(cmd, "r")) == NULL ||
			    fgets(line, sizeof(line), fp) == NULL) {
				CHECK(!"sha1sum failed");
				if (fp)
					pclose(fp);
				continue;
			}
			CHECK_INT(pclose(fp), 0);
			line[40] = '\0';
			CHECK_STR(line, m->vols[v].hash_hex);
		}
		CHECK(m->nvols > 0);
		arca_manifest_free(m);
		free(text);
	}
}

static int
write_manifest(struct arca_buf *out, const struct arca_manifest *m)
{
	size_t i;
	int rc;

	if ((rc = arca_manifest_fmt_header(out, m->hostname, m->localdir)) != 0)
		return rc;
	for (i = 0; i < m->nvols; i++)
		if ((rc = arca_manifest_fmt_volume(out, &m->vols[i])) != 0)
			return rc;
	if ((rc = arca_manifest_fmt_filelist_head(out, m->nfiles)) != 0)
		return rc;
	for (i = 0; i < m->nfiles; i++)
		if ((rc = arca_manifest_fmt_change(out, m->files[i].type,
		    m->files[i].path)) != 0)
			return rc;
	return 0;
}

/* Regenerating each fixture manifest gives exactly duplicity's bytes. */
static void
test_writer_identical(void)
{
	static const char *const sets[] = { FULL, INC1, INC2 };
	struct arca_manifest *m;
	struct arca_buf out = { 0 };
	char *text;
	size_t len, s;

	for (s = 0; s < 3; s++) {
		if ((m = parse_fixture(sets[s], &text, &len)) == NULL)
			continue;
		arca_buf_reset(&out);
		CHECK_INT(write_manifest(&out, m), 0);
		CHECK_INT(out.len, len);
		if (out.len == len)
			CHECK_MEM(out.data, text, len);
		else
			fprintf(stderr, "--- wrote:\n%s--- expected:\n%s",
			    (char *)out.data, text);
		arca_manifest_free(m);
		free(text);
	}
	arca_buf_free(&out);
}

static void
test_writer_pieces(void)
{
	struct arca_manifest_vol v;
	struct arca_buf out = { 0 };

	memset(&v, 0, sizeof(v));
	v.num = 1;
	v.start_path = "";
	v.start_block = -1;
	v.end_path = "";
	v.end_block = -1;
	strcpy(v.hash_name, "SHA1");
	strcpy(v.hash_hex, "5a7843c975adc45332af72ae4926eaba67d72511");
	CHECK_INT(arca_manifest_fmt_volume(&out, &v), 0);
	CHECK_INT(arca_manifest_fmt_filelist_head(&out, 0), 0);
	CHECK_STR((char *)out.data, "Volume 1:\n"
	    "    StartingPath   .  \n"
	    "    EndingPath     .  \n"
	    "    Hash SHA1 5a7843c975adc45332af72ae4926eaba67d72511\n"
	    "Filelist 0\n");

	arca_buf_reset(&out);
	v.num = 12;
	v.start_path = "a b";
	v.start_block = 0;
	v.end_path = "z";
	v.end_block = 123456789;
	v.hash_name[0] = '\0';
	CHECK_INT(arca_manifest_fmt_volume(&out, &v), 0);
	CHECK_STR((char *)out.data, "Volume 12:\n"
	    "    StartingPath   \"a\\x20b\" 0\n"
	    "    EndingPath     z 123456789\n");

	arca_buf_reset(&out);
	CHECK_INT(arca_manifest_fmt_header(&out, NULL, ""), 0);
	CHECK_INT(out.len, 0);
	CHECK_INT(arca_manifest_fmt_header(&out, "h", "/abs/my dir"), 0);
	CHECK_STR((char *)out.data, "Hostname h\nLocaldir \"/abs/my\\x20dir\"\n");
	CHECK_INT(arca_manifest_fmt_header(&out, "bad\nhost", "x"),
	    ARCA_ERR_USAGE);

	arca_buf_reset(&out);
	CHECK_INT(arca_manifest_fmt_change(&out, ARCA_CHANGE_NEW, "a"), 0);
	CHECK_INT(arca_manifest_fmt_change(&out, ARCA_CHANGE_CHANGED, "b c"), 0);
	CHECK_INT(arca_manifest_fmt_change(&out, ARCA_CHANGE_DELETED, "d"), 0);
	CHECK_INT(arca_manifest_fmt_change(&out, 'x', "d"), ARCA_ERR_USAGE);
	CHECK_STR((char *)out.data, "    new      a\n"
	    "    changed  \"b\\x20c\"\n"
	    "    deleted  d\n");
	arca_buf_free(&out);
}

static void
quote_case(const char *in, const char *want)
{
	struct arca_buf q = { 0 }, u = { 0 };

	CHECK_INT(arca_manifest_quote(&q, in), 0);
	CHECK_STR((char *)q.data, want);
	CHECK_INT(arca_manifest_unquote(&u, (char *)q.data, q.len), 0);
	CHECK_STR(u.data ? (char *)u.data : "", in);
	arca_buf_free(&q);
	arca_buf_free(&u);
}

static void
test_quote(void)
{
	struct arca_buf u = { 0 };

	quote_case("", ".");
	quote_case("plain.txt", "plain.txt");
	quote_case("name with spaces.txt", "\"name\\x20with\\x20spaces.txt\"");
	quote_case("new\nline.txt", "\"new\\x0aline.txt\"");
	quote_case("q\"uote", "\"q\\x22uote\"");
	quote_case("it's", "\"it\\x27s\"");
	quote_case("back\\slash", "\"back\\x5cslash\"");
	quote_case("t\tv\vf\fr\r", "\"t\\x09v\\x0bf\\x0cr\\x0d\"");
	/* UTF-8 and invalid UTF-8 pass through untouched. */
	quote_case("\xc3\xbcn\xc3\xaf.txt", "\xc3\xbcn\xc3\xaf.txt");
	quote_case("bad\xff" "byte", "bad\xff" "byte");
	quote_case("\xc3\xbc \xff", "\"\xc3\xbc\\x20\xff\"");
	/* '"' only at the start triggers unquoting; case of hex is free. */
	CHECK_INT(arca_manifest_unquote(&u, "a\"b", 3), 0);
	CHECK_STR((char *)u.data, "a\"b");
	arca_buf_reset(&u);
	CHECK_INT(arca_manifest_unquote(&u, "\"\\x4A\\x4b\"", 10), 0);
	CHECK_STR((char *)u.data, "JK");
	/* Appends to what is there; "." is the root. */
	CHECK_INT(arca_manifest_unquote(&u, ".", 1), 0);
	CHECK_STR((char *)u.data, "JK");
	arca_buf_reset(&u);
	CHECK_INT(arca_manifest_unquote(&u, "\".\"", 3), 0);
	CHECK_INT(u.len, 0);
	/* Malformed. */
	CHECK_INT(arca_manifest_unquote(&u, "", 0), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"", 1), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"\"", 2), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"abc", 4), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"a\\x2\"", 6), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"a\\y20\"", 7), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"a\\xzz\"", 7), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"a\\x00b\"", 8), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "a\0b", 3), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_manifest_unquote(&u, "\"a\0b\"", 5), ARCA_ERR_CORRUPT);
	arca_buf_free(&u);
}

/* §15.2: a resumed backup leaves the redone volume twice; the later wins. */
static void
test_resumed(void)
{
	struct arca_manifest *m;

	m = parse_str("Hostname h\nLocaldir src\n"
	    "Volume 1:\n    StartingPath   .  \n    EndingPath     f1.bin 2\n"
	    "    Hash SHA1 1111111111111111111111111111111111111111\n"
	    "Volume 2:\n    StartingPath   f1.bin 3\n    EndingPath     f2.bin 4\n"
	    "    Hash SHA1 ececa27b00000000000000000000000000000000\n"
	    "Volume 2:\n    StartingPath   f1.bin 3\n    EndingPath     f2.bin 5\n"
	    "    Hash SHA1 2c90f44800000000000000000000000000000000\n"
	    "Volume 3:\n    StartingPath   f2.bin 6\n    EndingPath     f3.bin 1\n"
	    "    Hash SHA1 3333333333333333333333333333333333333333\n"
	    "Volume 4:\n    StartingPath   f3.bin 2\n    EndingPath     f3.bin  \n"
	    "    Hash SHA1 4444444444444444444444444444444444444444\n"
	    "Filelist 4\n    new      f1.bin\n    new      f2.bin\n"
	    "    new      f3.bin\n    deleted  old\n", ARCA_MANIFEST_FILELIST, 0);
	if (m != NULL) {
		CHECK_INT(m->nvols, 4);
		CHECK_STR(m->vols[1].hash_hex,
		    "2c90f44800000000000000000000000000000000");
		CHECK_INT(m->vols[1].end_block, 5);
		CHECK_STR(m->vols[3].end_path, "f3.bin");
		CHECK_INT(m->vols[3].end_block, -1);
		CHECK_INT(m->nfiles, 4);
		arca_manifest_free(m);
	}
	/* "vol1, vol2, vol3, vol2": vol3 came from the lost run; drop it. */
	m = parse_str("Volume 1:\n StartingPath . \n EndingPath a \n"
	    "Volume 2:\n StartingPath b \n EndingPath c \n Hash SHA1 aa\n"
	    "Volume 3:\n StartingPath d \n EndingPath e \n"
	    "Volume 2:\n StartingPath b \n EndingPath c2 \n Hash SHA1 bb\n",
	    0, 0);
	if (m != NULL) {
		CHECK_INT(m->nvols, 2);
		CHECK_STR(m->vols[1].end_path, "c2");
		CHECK_STR(m->vols[1].hash_hex, "bb");
		CHECK(m->hostname == NULL);
		CHECK(m->localdir == NULL);
		arca_manifest_free(m);
	}
}

static void
test_reader_tolerance(void)
{
	struct arca_manifest *m;

	/* Other orders, case-insensitive keywords, odd spacing. */
	m = parse_str("hostname  two  words\nLOCALDIR \"/my\\x20src\"\n"
	    "Filelist 2\n    new      a\n    CHANGED  \"b\\x20c\"\n"
	    "volume 1:\n\tstartingpath\t.\n  ENDINGPATH   \"b\\x20c\"   7  \n"
	    "  hash MD5 0123456789ABCDEF0123456789abcdef\n"
	    "  Hash SHA1 08F6AD333B462536CEA158ED6D8F8A5F060421D0\n"
	    "  Hash MD5 ffffffffffffffffffffffffffffffff\n"
	    "  Unknown line here\n\n", ARCA_MANIFEST_FILELIST, 0);
	if (m != NULL) {
		CHECK_STR(m->hostname, " two  words");
		CHECK_STR(m->localdir, "/my src");
		CHECK_INT(m->nvols, 1);
		CHECK_STR(m->vols[0].start_path, "");
		CHECK_STR(m->vols[0].end_path, "b c");
		CHECK_INT(m->vols[0].end_block, 7);
		CHECK_STR(m->vols[0].hash_name, "SHA1");
		CHECK_STR(m->vols[0].hash_hex,
		    "08f6ad333b462536cea158ed6d8f8a5f060421d0");
		CHECK_INT(m->nfiles, 2);
		if (m->nfiles == 2) {
			CHECK_INT(m->files[1].type, ARCA_CHANGE_CHANGED);
			CHECK_STR(m->files[1].path, "b c");
		}
		arca_manifest_free(m);
	}
	/* Without SHA1, MD5 is next best. */
	m = parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    " Hash SHA256 abcd\n Hash MD5 00ff\n Hash SHA512 ee\n", 0, 0);
	if (m != NULL) {
		CHECK_STR(m->vols[0].hash_name, "MD5");
		CHECK_STR(m->vols[0].hash_hex, "00ff");
		arca_manifest_free(m);
	}
	/* No hash at all; no Filelist (replicate writes none). */
	m = parse_str("Volume 1:\n StartingPath a\n EndingPath b\n",
	    ARCA_MANIFEST_FILELIST, 0);
	if (m != NULL) {
		CHECK_STR(m->vols[0].hash_name, "");
		CHECK_INT(m->nfiles, 0);
		arca_manifest_free(m);
	}
	/* Filelist is only read when asked for. */
	m = parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Filelist 5\n    new  a\n", 0, 0);
	if (m != NULL) {
		CHECK_INT(m->nfiles, 0);
		CHECK(m->files == NULL);
		arca_manifest_free(m);
	}
	/* A partial manifest may not have a volume yet. */
	m = parse_str("Hostname h\nLocaldir src\n", 0, 0);
	if (m != NULL) {
		CHECK_INT(m->nvols, 0);
		CHECK_STR(m->hostname, "h");
		arca_manifest_free(m);
	}
	/* A header keyword inside a value or mid-line is not a header. */
	m = parse_str("xHostname a\nVolume 1:\n StartingPath a\n EndingPath b\n"
	    " Hostname c\n", 0, 0);
	if (m != NULL) {
		CHECK(m->hostname == NULL);
		arca_manifest_free(m);
	}
}

static void
test_hostile(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_manifest *m = (void *)1;
	char *big;

	/* Too large: refused before it is read. */
	big = malloc((size_t)ARCA_MANIFEST_MAX + 1);
	CHECK(big != NULL);
	if (big != NULL) {
		memset(big, ' ', (size_t)ARCA_MANIFEST_MAX + 1);
		memcpy(big, "Volume 1:\n StartingPath a\n EndingPath b\n", 41);
		CHECK_INT(arca_manifest_parse(&ctx, big,
		    (size_t)ARCA_MANIFEST_MAX + 1, 0, &m), ARCA_ERR_CORRUPT);
		CHECK(m == NULL);
		CHECK(strstr(ctx.errmsg, "too large") != NULL);
		free(big);
	}
	/* Missing paths. */
	parse_str("Volume 1:\n StartingPath a\n Hash SHA1 00\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n EndingPath a\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath\n EndingPath a\n", 0,
	    ARCA_ERR_CORRUPT);
	/* Gaps, zero, huge numbers, bad first lines. */
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Volume 3:\n StartingPath a\n EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume 2:\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 2:\n StartingPath a\n EndingPath b\n"
	    "Volume 2:\n StartingPath a\n EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume 0:\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Volume 0:\n StartingPath a\n EndingPath b\n"
	    "Volume 1:\n StartingPath a\n EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume 4000000000:\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 99999999999999999999:\n StartingPath a\n"
	    " EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume x:\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume\t1:\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1\n StartingPath a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	/* Bad fields. */
	parse_str("Volume 1:\n StartingPath a x\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a -1\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a 99999999999999999999999\n"
	    " EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath \"a\\x00\"\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath \"a\n EndingPath b\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n Hash SHA1\n", 0,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    " Hash SHA1 not-hex\n", 0, ARCA_ERR_CORRUPT);
	{
		char s[512];

		snprintf(s, sizeof(s), "Volume 1:\n StartingPath a\n"
		    " EndingPath b\n Hash SHA1 %0129d\n", 0);
		parse_str(s, 0, ARCA_ERR_CORRUPT);
	}
	parse_str("Hostname \"h\\x0\"\nVolume 1:\n StartingPath a\n"
	    " EndingPath b\n", 0, ARCA_ERR_CORRUPT);
	/* Filelist that does not add up, or with unknown types. */
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Filelist 3\n    new      a\n", ARCA_MANIFEST_FILELIST,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Filelist 1\n    renamed  a\n", ARCA_MANIFEST_FILELIST,
	    ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Filelist 1\n    new\n", ARCA_MANIFEST_FILELIST, ARCA_ERR_CORRUPT);
	parse_str("Volume 1:\n StartingPath a\n EndingPath b\n"
	    "Filelist 99999999999999999999999\n", ARCA_MANIFEST_FILELIST,
	    ARCA_ERR_CORRUPT);
	/* Embedded NUL in a raw path. */
	{
		static const char s[] = "Volume 1:\n StartingPath a\0b\n"
		    " EndingPath b\n";

		CHECK_INT(arca_manifest_parse(&ctx, s, sizeof(s) - 1, 0, &m),
		    ARCA_ERR_CORRUPT);
	}
	/* Many blocks: fine, and bounded by the text. */
	{
		struct arca_buf b = { 0 };
		unsigned i;

		for (i = 1; i <= 5000; i++)
			arca_buf_printf(&b, "Volume %u:\n StartingPath a\n"
			    " EndingPath b %u\n", i, i);
		CHECK_INT(arca_manifest_parse(&ctx, (char *)b.data, b.len, 0,
		    &m), 0);
		if (m != NULL) {
			CHECK_INT(m->nvols, 5000);
			CHECK_INT(m->vols[4999].end_block, 5000);
			arca_manifest_free(m);
		}
		arca_buf_free(&b);
	}
	arca_manifest_free(NULL);
}

/* Hex-escape s for a summary line that both sides print the same way. */
static void
summ_str(struct arca_buf *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		p = (const unsigned char *)".";
	for (; *p != '\0'; p++) {
		if (*p > 32 && *p < 127 && *p != '\\')
			arca_buf_putc(o, *p);
		else
			arca_buf_printf(o, "\\x%02x", *p);
	}
}

static void
summary(struct arca_buf *o, const struct arca_manifest *m)
{
	size_t i;

	arca_buf_puts(o, "H=");
	if (m->hostname != NULL)
		summ_str(o, m->hostname);
	else
		arca_buf_puts(o, "None");
	arca_buf_puts(o, " L=");
	if (m->localdir != NULL)
		summ_str(o, m->localdir);
	else
		arca_buf_puts(o, "None");
	for (i = 0; i < m->nvols; i++) {
		arca_buf_printf(o, " [%u ", m->vols[i].num);
		summ_str(o, m->vols[i].start_path);
		arca_buf_printf(o, " %ld ", m->vols[i].start_block);
		summ_str(o, m->vols[i].end_path);
		arca_buf_printf(o, " %ld %s]", m->vols[i].end_block,
		    m->vols[i].hash_hex);
	}
}

/*
 * Differential check against duplicity's own manifest reader (Debian's
 * duplicity 0.8.22 python modules): same volumes, paths, blocks and chosen
 * hash, or both refuse.
 */
static void
test_against_duplicity(void)
{
	static const char *const texts[] = {
		"Hostname h\nLocaldir src\nVolume 1:\n    StartingPath   .  \n"
		"    EndingPath     a 3\n    Hash SHA1 11\nVolume 2:\n"
		"    StartingPath   a 4\n    EndingPath     b 1\n    Hash SHA1 22\n"
		"Volume 2:\n    StartingPath   a 4\n    EndingPath     b 2\n"
		"    Hash SHA1 33\nVolume 3:\n    StartingPath   b 3\n"
		"    EndingPath     c  \n    Hash SHA1 44\nFilelist 1\n"
		"    new      c\n",
		"Volume 1:\n StartingPath . \n EndingPath a \n"
		"Volume 2:\n StartingPath b \n EndingPath c \n Hash SHA1 aa\n"
		"Volume 3:\n StartingPath d \n EndingPath e \n"
		"Volume 2:\n StartingPath b \n EndingPath c2 \n Hash SHA1 bb\n",
		"hostname  two  words\nLOCALDIR \"/my\\x20src\"\nFilelist 1\n"
		"    new      a\nvolume 1:\n\tstartingpath\t.\n"
		"  ENDINGPATH   \"b\\x20c\"   7  \n  hash MD5 00ff\n"
		"  Hash SHA1 08f6ad333b462536cea158ed6d8f8a5f060421d0\n"
		"  Unknown line here\n\n",
		"Volume 1:\n StartingPath a\n EndingPath b\n Hash SHA256 abcd\n"
		" Hash MD5 00ff\n",
		"Volume 1:\n StartingPath a\n EndingPath b\n",
		"Hostname h\nLocaldir src\n",
		"Volume 1:\n StartingPath a\n Hash SHA1 00\n",
		"Volume 1:\n StartingPath a\n EndingPath b\n"
		"Volume 3:\n StartingPath a\n EndingPath b\n",
		"Volume 3:\n StartingPath a\n EndingPath b\n"
		"Volume 5:\n StartingPath a\n EndingPath b\n"
		"Volume 1:\n StartingPath a\n EndingPath b\n",
		"Volume x:\n StartingPath a\n EndingPath b\n",
		"Volume\t1:\n StartingPath a\n EndingPath b\n",
		"Volume 1:\n StartingPath a x\n EndingPath b\n",
		"Volume 1:\n StartingPath \"a\n EndingPath b\n",
		"Volume 1:\n StartingPath \"\\x2e\"\n EndingPath \"a\\x2fb\"\n",
		"Volume 1: trailing words\n StartingPath a\n EndingPath b\n"
		"volume 2:\n StartingPath a\n EndingPath b\n",
	};
	struct arca_ctx ctx = { 0 };
	struct arca_manifest *m;
	struct arca_buf mine = { 0 };
	char cmd[2048], line[4096], path[512], *dir;
	size_t i;
	FILE *fp;

	if (system("/usr/bin/python3 -c 'import duplicity.manifest' "
	    ">/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP test_against_duplicity: duplicity's "
		    "python modules not available\n");
		return;
	}
	dir = test_tmpdir();
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(path, sizeof(path), "%s/m%zu", dir, i);
		if ((fp = fopen(path, "wb")) == NULL) {
			CHECK(!"cannot write temp file");
			continue;
		}
		fputs(texts[i], fp);
		fclose(fp);
		snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c '"
		    "import sys\nfrom duplicity import manifest, log\n"
		    "log.setup()\nlog.setverbosity(0)\n"
		    "def p(b):\n"
		    " b = b or b\".\"\n"
		    " return \"\".join(chr(c) if 32 < c < 127 and c != 92 else "
		    "\"\\\\x%%02x\" %% c for c in b)\n"
		    "try:\n"
		    " m = manifest.Manifest().from_string(open(sys.argv[1], "
		    "\"rb\").read())\n"
		    " ks = sorted(m.volume_info_dict)\n"
		    " assert ks == list(range(1, len(ks) + 1))\n"
		    " o = \"H=\" + (p(m.hostname.encode()) if m.hostname is not "
		    "None else \"None\")\n"
		    " o += \" L=\" + (p(m.local_dirname) if m.local_dirname is "
		    "not None else \"None\")\n"
		    " for k in ks:\n"
		    "  v = m.volume_info_dict[k]\n"
		    "  h = v.get_best_hash()\n"
		    "  o += \" [%%d %%s %%d %%s %%d %%s]\" %% (k, "
		    "p(b\"/\".join(v.start_index)), -1 if v.start_block is None "
		    "else v.start_block, p(b\"/\".join(v.end_index)), -1 if "
		    "v.end_block is None else v.end_block, h[1].lower() if h "
		    "else \"\")\n"
		    " print(o)\n"
		    "except Exception:\n"
		    " print(\"ERR\")' '%s' 2>/dev/null", path);
		if ((fp = popen(cmd, "r")) == NULL ||
		    fgets(line, sizeof(line), fp) == NULL) {
			CHECK(!"python run failed");
			if (fp)
				pclose(fp);
			continue;
		}
		pclose(fp);
		line[strcspn(line, "\n")] = '\0';
		arca_buf_reset(&mine);
		if (arca_manifest_parse(&ctx, texts[i], strlen(texts[i]), 0,
		    &m) != 0)
			arca_buf_puts(&mine, "ERR");
		else {
			summary(&mine, m);
			arca_manifest_free(m);
		}
		if (strcmp((char *)mine.data, line) != 0)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_STR((char *)mine.data, line);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
	arca_buf_free(&mine);
}

int
main(void)
{
	RUN(test_fixture_full);
	RUN(test_fixture_incs);
	RUN(test_fixture_hashes);
	RUN(test_writer_identical);
	RUN(test_writer_pieces);
	RUN(test_quote);
	RUN(test_resumed);
	RUN(test_reader_tolerance);
	RUN(test_hostile);
	RUN(test_against_duplicity);
	TEST_DONE();
}
