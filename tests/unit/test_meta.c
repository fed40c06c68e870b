/*
 * test_meta.c: duplicity's change-detection rule (§9.2).
 */
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/meta.h"
#include "util/ctx.h"
#include "test.h"

static struct arca_meta
reg(unsigned mode, long long mtime, unsigned long long size)
{
	struct arca_meta m;

	memset(&m, 0, sizeof(m));
	m.type = ARCA_T_REG;
	m.mode = mode;
	m.mtime = mtime;
	m.size = size;
	m.uid = 1234;
	m.gid = 1234;
	return m;
}

static void
test_rule(void)
{
	struct arca_meta a = reg(0644, 100, 10), b;
	char t1[] = "target", t2[] = "other";

	b = a;
	CHECK(!arca_meta_changed(&a, &b, 1));
	b.size = 99;	/* size and content are not compared */
	CHECK(!arca_meta_changed(&a, &b, 1));
	b = a;
	b.mode = 0600;
	CHECK(arca_meta_changed(&a, &b, 1));
	b = a;
	b.mtime = 101;
	CHECK(arca_meta_changed(&a, &b, 1));
	b = a;
	b.uid = 1;
	CHECK(arca_meta_changed(&a, &b, 1));
	b = a;
	b.type = ARCA_T_DIR;
	CHECK(arca_meta_changed(&a, &b, 1));
	/* Two non-positive mtimes are equal. */
	a.mtime = 0;
	b = a;
	b.mtime = -5;
	CHECK(!arca_meta_changed(&a, &b, 1));

	/* Symlinks: only the target counts. */
	memset(&a, 0, sizeof(a));
	a.type = ARCA_T_SYMLINK;
	a.linkname = t1;
	b = a;
	b.mtime = 12345;
	b.uid = 7;
	CHECK(!arca_meta_changed(&a, &b, 1));
	b.linkname = t2;
	CHECK(arca_meta_changed(&a, &b, 1));
}

static void
test_owner_by_name(void)
{
	struct passwd *pw = getpwuid(0);
	struct arca_meta old = reg(0644, 100, 1), cur;

	if (pw == NULL) {
		fprintf(stderr, "no passwd entry for uid 0\n");
		CHECK(0);
		return;
	}
	/* Stored under another number but a locally known name: mapped. */
	strcpy(old.uname, pw->pw_name);
	old.uid = 4242;
	cur = old;
	cur.uid = 0;
	CHECK_INT(arca_meta_local_uid(&old, 0), 0);
	CHECK_INT(arca_meta_local_uid(&old, 1), 4242);
	CHECK(!arca_meta_changed(&old, &cur, 0));
	CHECK(arca_meta_changed(&old, &cur, 1));
}

static void
test_from_stat(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_meta m;
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 04755;
	st.st_mtime = -10;
	st.st_size = 5;
	CHECK_INT(arca_meta_from_stat(&ctx, &st, -1, "x", &m), 0);
	CHECK_INT(m.mode, 04755);
	CHECK_INT(m.mtime, 0);	/* negative mtimes are stored as 0 */
	CHECK_INT(m.size, 5);
	st.st_mode = S_IFSOCK | 0777;
	CHECK_INT(arca_meta_from_stat(&ctx, &st, -1, "x", &m), ARCA_ERR_FAILED);
}

int
main(void)
{
	RUN(test_rule);
	RUN(test_owner_by_name);
	RUN(test_from_stat);
	TEST_DONE();
}
