/*
 * test_entry.c: entry metadata and tar member names (spec §7.1, §8.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "format/entry.h"
#include "util/buf.h"

#include "test.h"

static void
test_meta(void)
{
	struct arca_meta a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.type = ARCA_T_SYMLINK;
	a.mode = 0777;
	a.uid = 3000000;
	a.gid = 4000000;
	strcpy(a.uname, "root");
	strcpy(a.gname, "wheel");
	a.mtime = 1704063600;
	a.linkname = strdup("docs/a.txt");
	a.devmajor = 8;
	a.devminor = 1;
	CHECK_INT(arca_meta_copy(&b, &a), 0);
	CHECK_INT(b.type, ARCA_T_SYMLINK);
	CHECK_INT(b.uid, 3000000);
	CHECK_INT(b.gid, 4000000);
	CHECK_STR(b.uname, "root");
	CHECK_STR(b.gname, "wheel");
	CHECK_INT(b.mtime, 1704063600);
	CHECK_INT(b.devminor, 1);
	CHECK_STR(b.linkname, "docs/a.txt");
	CHECK(b.linkname != a.linkname);	/* a copy, not a share */
	/* Copying over a meta that owns a link target frees the old one. */
	free(a.linkname);
	a.linkname = strdup("README.txt");
	CHECK_INT(arca_meta_copy(&b, &a), 0);
	CHECK_STR(b.linkname, "README.txt");
	/* Self-copy is a no-op, and copying a meta without a target too. */
	CHECK_INT(arca_meta_copy(&b, &b), 0);
	CHECK_STR(b.linkname, "README.txt");
	arca_meta_clear(&a);
	CHECK(a.linkname == NULL);
	CHECK_INT(a.type, ARCA_T_NONE);
	CHECK_INT(a.uid, 0);
	CHECK_STR(a.uname, "");
	CHECK_INT(arca_meta_copy(&b, &a), 0);
	CHECK(b.linkname == NULL);
	arca_meta_clear(&b);
	arca_meta_clear(NULL);
}

static int
mparse(const char *name, enum arca_mkind *k, struct arca_buf *p,
    unsigned long *c)
{
	return arca_member_parse(name, strlen(name), k, p, c);
}

static void
parse_ok(const char *name, enum arca_mkind kind, const char *path,
    unsigned long chunk)
{
	struct arca_buf p = { 0 };
	enum arca_mkind k = 0;
	unsigned long c = 99;

	CHECK_INT(mparse(name, &k, &p, &c), 0);
	CHECK_INT(k, kind);
	CHECK_STR((char *)p.data, path);
	CHECK_INT(c, chunk);
	arca_buf_free(&p);
}

static void
parse_bad(const char *name, int err)
{
	struct arca_buf p = { 0 };
	enum arca_mkind k;
	unsigned long c;

	CHECK_INT(mparse(name, &k, &p, &c), err);
	arca_buf_free(&p);
}

static void
test_parse_kinds(void)
{
	parse_ok("snapshot/README.txt", ARCA_M_SNAPSHOT, "README.txt", 0);
	parse_ok("snapshot/docs/", ARCA_M_SNAPSHOT, "docs", 0);
	parse_ok("snapshot/sub/deep/nested.txt", ARCA_M_SNAPSHOT,
	    "sub/deep/nested.txt", 0);
	parse_ok("diff/docs/a.txt", ARCA_M_DIFF, "docs/a.txt", 0);
	parse_ok("deleted/docs/b.txt", ARCA_M_DELETED, "docs/b.txt", 0);
	parse_ok("signature/big.bin", ARCA_M_SIGNATURE, "big.bin", 0);
	parse_ok("multivol_snapshot/big.bin/1", ARCA_M_MV_SNAPSHOT, "big.bin",
	    1);
	parse_ok("multivol_snapshot/docs/medium.bin/20", ARCA_M_MV_SNAPSHOT,
	    "docs/medium.bin", 20);
	parse_ok("multivol_diff/big.bin/17", ARCA_M_MV_DIFF, "big.bin", 17);
	/* The path may itself end in digits. */
	parse_ok("multivol_snapshot/b65536/2", ARCA_M_MV_SNAPSHOT, "b65536", 2);
	parse_ok("multivol_snapshot/1/2/3", ARCA_M_MV_SNAPSHOT, "1/2", 3);
	parse_ok("snapshot/name with spaces.txt", ARCA_M_SNAPSHOT,
	    "name with spaces.txt", 0);
	parse_ok("snapshot/\xc3\xbcn\xc3\xaf.txt", ARCA_M_SNAPSHOT,
	    "\xc3\xbcn\xc3\xaf.txt", 0);
	parse_ok("snapshot/bad\xff" "byte", ARCA_M_SNAPSHOT, "bad\xff" "byte", 0);
	/* Names that merely contain dots. */
	parse_ok("snapshot/..hidden", ARCA_M_SNAPSHOT, "..hidden", 0);
	parse_ok("snapshot/a/.../b", ARCA_M_SNAPSHOT, "a/.../b", 0);
	parse_ok("snapshot/.x", ARCA_M_SNAPSHOT, ".x", 0);
}

static void
test_parse_root(void)
{
	/* Volumes: "snapshot/./"; signature files: "snapshot/". */
	parse_ok("snapshot/./", ARCA_M_SNAPSHOT, "", 0);
	parse_ok("snapshot/.", ARCA_M_SNAPSHOT, "", 0);
	parse_ok("snapshot/", ARCA_M_SNAPSHOT, "", 0);
	parse_ok("snapshot//", ARCA_M_SNAPSHOT, "", 0);
	/* Single-file sources. */
	parse_ok("signature/", ARCA_M_SIGNATURE, "", 0);
	parse_ok("diff/", ARCA_M_DIFF, "", 0);
	parse_ok("multivol_snapshot/./3", ARCA_M_MV_SNAPSHOT, "", 3);
	parse_ok("multivol_snapshot//3", ARCA_M_MV_SNAPSHOT, "", 3);
	parse_ok("multivol_snapshot/3", ARCA_M_MV_SNAPSHOT, "", 3);
}

static void
test_parse_refused(void)
{
	/* Climbing out of the target. */
	parse_bad("snapshot/..", ARCA_ERR_UNSAFE);
	parse_bad("snapshot/../", ARCA_ERR_UNSAFE);
	parse_bad("snapshot/../etc/passwd", ARCA_ERR_UNSAFE);
	parse_bad("snapshot/a/../../b", ARCA_ERR_UNSAFE);
	parse_bad("snapshot/a/..", ARCA_ERR_UNSAFE);
	parse_bad("diff/x/../y", ARCA_ERR_UNSAFE);
	parse_bad("deleted/..", ARCA_ERR_UNSAFE);
	parse_bad("signature/../x", ARCA_ERR_UNSAFE);
	parse_bad("multivol_snapshot/../x/1", ARCA_ERR_UNSAFE);
	parse_bad("multivol_diff/a/../../x/2", ARCA_ERR_UNSAFE);
	parse_bad("multivol_snapshot/../1", ARCA_ERR_UNSAFE);
	/* Absolute. */
	parse_bad("snapshot//etc/passwd", ARCA_ERR_UNSAFE);
	parse_bad("multivol_snapshot//etc/x/1", ARCA_ERR_UNSAFE);
	parse_bad("deleted//x", ARCA_ERR_UNSAFE);
	/* Unknown prefixes and malformed names. */
	parse_bad("", ARCA_ERR_CORRUPT);
	parse_bad("snapshot", ARCA_ERR_CORRUPT);
	parse_bad("/snapshot/a", ARCA_ERR_CORRUPT);
	parse_bad("Snapshot/a", ARCA_ERR_CORRUPT);
	parse_bad("./snapshot/a", ARCA_ERR_CORRUPT);
	parse_bad("data/a", ARCA_ERR_CORRUPT);
	parse_bad("multivol_snapshot/big.bin", ARCA_ERR_CORRUPT);
	parse_bad("multivol_snapshot/big.bin/", ARCA_ERR_CORRUPT);
	parse_bad("multivol_snapshot/big.bin/1x", ARCA_ERR_CORRUPT);
	parse_bad("multivol_snapshot/big.bin1", ARCA_ERR_CORRUPT);
	parse_bad("multivol_diff/x/99999999999999999999999999", ARCA_ERR_CORRUPT);
	parse_bad("snapshot/a//b", ARCA_ERR_CORRUPT);
	parse_bad("snapshot/a/./b", ARCA_ERR_CORRUPT);
	parse_bad("snapshot/./a", ARCA_ERR_CORRUPT);
	{
		struct arca_buf p = { 0 };
		enum arca_mkind k;
		unsigned long c;

		/* An embedded NUL would cut the path short later on. */
		CHECK_INT(arca_member_parse("snapshot/a\0b", 12, &k, &p, &c),
		    ARCA_ERR_CORRUPT);
		/* len counts, not the terminator. */
		CHECK_INT(arca_member_parse("snapshot/abc/../x", 12, &k, &p,
		    &c), 0);
		CHECK_STR((char *)p.data, "abc");
		arca_buf_free(&p);
	}
}

static void
name_is(enum arca_mkind kind, const char *index, int is_dir, int root_dot,
    unsigned long chunk, const char *want)
{
	struct arca_buf b = { 0 };

	CHECK_INT(arca_member_name(&b, kind, index, is_dir, root_dot, chunk), 0);
	CHECK_STR((char *)b.data, want);
	arca_buf_free(&b);
}

static void
test_name(void)
{
	struct arca_buf b = { 0 };

	name_is(ARCA_M_SNAPSHOT, "", 1, 1, 0, "snapshot/./");
	name_is(ARCA_M_SNAPSHOT, "", 1, 0, 0, "snapshot/");
	name_is(ARCA_M_SNAPSHOT, "", 0, 0, 0, "snapshot/");
	name_is(ARCA_M_SIGNATURE, "", 0, 0, 0, "signature/");
	name_is(ARCA_M_SNAPSHOT, "docs", 1, 1, 0, "snapshot/docs/");
	name_is(ARCA_M_SNAPSHOT, "docs", 1, 0, 0, "snapshot/docs/");
	name_is(ARCA_M_SNAPSHOT, "docs/c.txt", 0, 1, 0, "snapshot/docs/c.txt");
	name_is(ARCA_M_DIFF, "big.bin", 0, 1, 0, "diff/big.bin");
	/* deleted/ never carries the slash, even for a directory. */
	name_is(ARCA_M_DELETED, "dd/sub", 1, 1, 0, "deleted/dd/sub");
	name_is(ARCA_M_SIGNATURE, "sub/deep", 0, 0, 0, "signature/sub/deep");
	name_is(ARCA_M_MV_SNAPSHOT, "big.bin", 0, 1, 16,
	    "multivol_snapshot/big.bin/16");
	name_is(ARCA_M_MV_DIFF, "big.bin", 0, 1, 1, "multivol_diff/big.bin/1");
	name_is(ARCA_M_MV_SNAPSHOT, "", 0, 1, 2, "multivol_snapshot/./2");
	name_is(ARCA_M_MV_SNAPSHOT, "", 0, 0, 2, "multivol_snapshot//2");
	/* Unsafe or malformed indices are never written. */
	CHECK_INT(arca_member_name(&b, ARCA_M_SNAPSHOT, "../x", 0, 1, 0),
	    ARCA_ERR_UNSAFE);
	CHECK_INT(arca_member_name(&b, ARCA_M_SNAPSHOT, "/etc", 0, 1, 0),
	    ARCA_ERR_UNSAFE);
	CHECK_INT(arca_member_name(&b, ARCA_M_SNAPSHOT, "a//b", 0, 1, 0),
	    ARCA_ERR_UNSAFE);
	CHECK_INT(arca_member_name(&b, (enum arca_mkind)0, "a", 0, 1, 0),
	    ARCA_ERR_USAGE);
	CHECK_INT(b.len, 0);
	arca_buf_free(&b);
}

/* Every name a parse accepts is rebuilt exactly by arca_member_name. */
static void
round_trip(const char *name, int root_dot)
{
	struct arca_buf p = { 0 }, b = { 0 };
	enum arca_mkind k;
	unsigned long c;
	size_t n = strlen(name);
	int is_dir = n > 0 && name[n - 1] == '/';

	CHECK_INT(arca_member_parse(name, n, &k, &p, &c), 0);
	CHECK_INT(arca_member_name(&b, k, p.data ? (char *)p.data : "",
	    is_dir, root_dot, c), 0);
	CHECK_STR((char *)b.data, name);
	arca_buf_free(&p);
	arca_buf_free(&b);
}

/*
 * All member names of the fixture's volumes and signature files, as GNU tar
 * lists them: each parses, and rebuilds byte for byte.
 */
static void
test_fixture_members(void)
{
	static const char *const files[] = {
		"duplicity-full.20240101T000000Z.vol1.difftar.gz",
		"duplicity-full.20240101T000000Z.vol2.difftar.gz",
		"duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol1.difftar.gz",
		"duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol1.difftar.gz",
		"duplicity-inc.20240102T000000Z.to.20240103T000000Z.vol2.difftar.gz",
		"duplicity-full-signatures.20240101T000000Z.sigtar.gz",
		"duplicity-new-signatures.20240101T000000Z.to.20240102T000000Z.sigtar.gz",
		"duplicity-new-signatures.20240102T000000Z.to.20240103T000000Z.sigtar.gz",
	};
	int kinds[7] = { 0 };
	char cmd[4096], line[4096];
	struct arca_buf p = { 0 };
	enum arca_mkind k;
	unsigned long c, total = 0;
	size_t i;
	FILE *fp;

	if (system("tar --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP test_fixture_members: no tar\n");
		return;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int sig = strstr(files[i], "sigtar") != NULL;

		snprintf(cmd, sizeof(cmd), "tar -tzf '%s/duplicity-0.8.22/"
		    "plain/%s' 2>/dev/null", test_data_dir(), files[i]);
		if ((fp = popen(cmd, "r")) == NULL) {
			CHECK(!"popen failed");
			continue;
		}
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			CHECK_INT(mparse(line, &k, &p, &c), 0);
			if (k >= 1 && k <= 6)
				kinds[k]++;
			/* Root spelling tells volumes and sigtars apart. */
			if (strcmp(line, "snapshot/./") == 0)
				CHECK(!sig);
			if (strcmp(line, "snapshot/") == 0)
				CHECK(sig);
			round_trip(line, !sig);
			total++;
		}
		pclose(fp);
	}
	arca_buf_free(&p);
	/* Every kind shows up in the fixture. */
	for (i = 1; i <= 6; i++)
		CHECK(kinds[i] > 0);
	CHECK(total > 100);
}

int
main(void)
{
	RUN(test_meta);
	RUN(test_parse_kinds);
	RUN(test_parse_root);
	RUN(test_parse_refused);
	RUN(test_name);
	RUN(test_fixture_members);
	TEST_DONE();
}
