/*
 * test_selection.c: selection decisions (spec §13) for single paths:
 * glob syntax, first match wins, scan answers, the other tests, filelists
 * and the errors duplicity gives for useless patterns.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include "select/selection.h"
#include "util/ctx.h"

#define INC	ARCA_SEL_INCLUDE
#define EXC	ARCA_SEL_EXCLUDE
#define SCAN	ARCA_SEL_SCAN

static struct arca_ctx ctx;
static char *root;		/* a real directory, the selection's root */

static char *
R(const char *rel)
{
	static char bufs[8][4096];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s%s%s", root, *rel ? "/" : "",
	    rel);
	return bufs[i];
}

static struct arca_selection *
sel_new(void)
{
	struct arca_selection *s = NULL;

	memset(&ctx, 0, sizeof(ctx));
	CHECK_INT(arca_selection_new(&ctx, root, &s), 0);
	return s;
}

/* Decision for index as a directory ('d') or regular file ('f'). */
static int
dec(struct arca_selection *s, const char *index, int type)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = (type == 'd' ? S_IFDIR : S_IFREG) | 0644;
	return arca_selection_test(s, index, &st, -1);
}

static void
test_star_and_question(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 0, R("*.py")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("a?c")), 0);
	CHECK_INT(dec(s, "top.py", 'f'), EXC);
	CHECK_INT(dec(s, ".py", 'f'), EXC);
	/* '*' does not cross '/'. */
	CHECK_INT(dec(s, "a/x.py", 'f'), INC);
	CHECK_INT(dec(s, "abc", 'f'), EXC);
	CHECK_INT(dec(s, "a/c", 'f'), INC);
	CHECK_INT(dec(s, "ac", 'f'), INC);
	CHECK_INT(dec(s, "abbc", 'f'), INC);
	/* The root is always included. */
	CHECK_INT(dec(s, "", 'd'), INC);
	arca_selection_free(s);

	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("**.py")), 0);
	CHECK_INT(dec(s, "a/b/x.py", 'f'), EXC);
	CHECK_INT(dec(s, "x.pyc", 'f'), INC);
	/* A match on a directory covers what is inside. */
	CHECK_INT(dec(s, "d.py/x", 'f'), EXC);
	arca_selection_free(s);

	/* '?' is one character, not one byte. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("?.txt")), 0);
	CHECK_INT(dec(s, "\xc3\xa9.txt", 'f'), EXC);
	CHECK_INT(dec(s, "\xe2\x82\xac.txt", 'f'), EXC);
	CHECK_INT(dec(s, "\xff.txt", 'f'), EXC);
	CHECK_INT(dec(s, "\xc3.txt", 'f'), EXC);
	CHECK_INT(dec(s, "\xff\xfe.txt", 'f'), INC);
	CHECK_INT(dec(s, "ab.txt", 'f'), INC);
	arca_selection_free(s);
}

static void
test_prefix_matching(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 0, R("a")), 0);
	CHECK_INT(dec(s, "a", 'd'), EXC);
	CHECK_INT(dec(s, "a", 'f'), EXC);
	CHECK_INT(dec(s, "a/b", 'f'), EXC);
	CHECK_INT(dec(s, "a/b/c", 'd'), EXC);
	CHECK_INT(dec(s, "ab", 'f'), INC);
	CHECK_INT(dec(s, "a-", 'f'), INC);
	/* Python's '$' also matches before a final newline. */
	CHECK_INT(dec(s, "a\n", 'f'), EXC);
	CHECK_INT(dec(s, "a\n\n", 'f'), INC);
	arca_selection_free(s);

	/* A pattern naming an ancestor of the root covers everything. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, "/tmp"), 0);
	CHECK_INT(dec(s, "x", 'f'), EXC);
	arca_selection_free(s);

	/* "/" alone means everything below "/". */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, "/"), 0);
	CHECK_INT(dec(s, "x", 'f'), EXC);
	CHECK_INT(dec(s, "x/y", 'd'), EXC);
	arca_selection_free(s);
}

static void
test_char_classes(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 0, R("[ab]x")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("[!ab]y")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("[^ab]z")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("r[a-c]")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("u[ab")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("v[]]")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("w[!]]")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("q[a-]")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("k[\\]")), 0);
	CHECK_INT(dec(s, "ax", 'f'), EXC);
	CHECK_INT(dec(s, "bx", 'f'), EXC);
	CHECK_INT(dec(s, "cx", 'f'), INC);
	CHECK_INT(dec(s, "cy", 'f'), EXC);
	CHECK_INT(dec(s, "ay", 'f'), INC);
	CHECK_INT(dec(s, "cz", 'f'), EXC);
	CHECK_INT(dec(s, "bz", 'f'), INC);
	CHECK_INT(dec(s, "rb", 'f'), EXC);
	CHECK_INT(dec(s, "rd", 'f'), INC);
	/* An unterminated '[' is literal. */
	CHECK_INT(dec(s, "u[ab", 'f'), EXC);
	CHECK_INT(dec(s, "ua", 'f'), INC);
	/* ']' first in a class is literal. */
	CHECK_INT(dec(s, "v]", 'f'), EXC);
	CHECK_INT(dec(s, "w]", 'f'), INC);
	CHECK_INT(dec(s, "wq", 'f'), EXC);
	/* A trailing '-' is literal. */
	CHECK_INT(dec(s, "q-", 'f'), EXC);
	CHECK_INT(dec(s, "qb", 'f'), INC);
	/* Backslash is an ordinary character. */
	CHECK_INT(dec(s, "k\\", 'f'), EXC);
	arca_selection_free(s);

	/* A negated class matches '/', as Python's does. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("a[!x]b")), 0);
	CHECK_INT(dec(s, "a/b", 'f'), EXC);
	arca_selection_free(s);

	/* Non-ASCII ranges compare code points. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("[\xc3\xa0-\xc3\xbf]")), 0);
	CHECK_INT(dec(s, "\xc3\xa9", 'f'), EXC);
	CHECK_INT(dec(s, "e", 'f'), INC);
	arca_selection_free(s);
}

static void
test_trailing_slash(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 0, R("a/")), 0);
	CHECK_INT(dec(s, "a", 'd'), EXC);
	CHECK_INT(dec(s, "a", 'f'), INC);
	CHECK_INT(dec(s, "a/b", 'f'), EXC);
	CHECK_INT(dec(s, "a/b", 'd'), EXC);
	arca_selection_free(s);

	/* "R/ **" + "/": an exact match that is no directory says nothing. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("**/")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(dec(s, "a", 'd'), INC);
	CHECK_INT(dec(s, "a/f", 'f'), EXC);
	arca_selection_free(s);
}

static void
test_ignorecase(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 1, "ignorecase:" "**/upper/*.txt"),
	    0);
	CHECK_INT(arca_selection_add_glob(s, 1, "IgnoreCase:" "**/[A-C]X"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("Upper")), 0);
	CHECK_INT(dec(s, "Upper/File.TXT", 'f'), INC);
	CHECK_INT(dec(s, "UPPER/file.txt", 'f'), INC);
	CHECK_INT(dec(s, "Upper/other", 'f'), EXC);
	CHECK_INT(dec(s, "bx", 'f'), INC);
	CHECK_INT(dec(s, "BX", 'f'), INC);
	/* Scanned by both includes, and a file cannot be scanned. */
	CHECK_INT(dec(s, "dx", 'f'), EXC);
	CHECK_INT(dec(s, "dx", 'd'), SCAN);
	arca_selection_free(s);

	/* Case matters without the keyword; the keyword is case-blind. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("upper")), 0);
	CHECK_INT(dec(s, "Upper", 'd'), INC);
	CHECK_INT(dec(s, "upper", 'd'), EXC);
	arca_selection_free(s);

	/* The root check is done case-insensitively too. */
	s = sel_new();
	{
		char p[4200], *q;

		snprintf(p, sizeof(p), "ignorecase:%s/x", root);
		for (q = p + 11; *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q -= 'a' - 'A';
		CHECK_INT(arca_selection_add_glob(s, 0, p), 0);
	}
	CHECK_INT(dec(s, "X", 'f'), EXC);
	arca_selection_free(s);
}

static void
test_scan(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 1, R("a/b/c")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(dec(s, "a", 'd'), SCAN);
	/* Only directories are scanned. */
	CHECK_INT(dec(s, "a", 'f'), EXC);
	CHECK_INT(dec(s, "a/b", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b/c", 'f'), INC);
	CHECK_INT(dec(s, "a/b/c/d", 'f'), INC);
	CHECK_INT(dec(s, "a/x", 'd'), EXC);
	CHECK_INT(dec(s, "x", 'd'), EXC);
	arca_selection_free(s);

	/* After "**" every directory might hold a match. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("a/**.py")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(dec(s, "a", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b/c/d", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b/x.py", 'f'), INC);
	CHECK_INT(dec(s, "a/b/x.txt", 'f'), EXC);
	CHECK_INT(dec(s, "b", 'd'), EXC);
	arca_selection_free(s);

	/* Exclude patterns never scan. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 0, R("a/b")), 0);
	CHECK_INT(dec(s, "a", 'd'), INC);
	arca_selection_free(s);
}

static void
test_first_match_wins(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_add_glob(s, 0, R("a/b")), 0);
	CHECK_INT(arca_selection_add_glob(s, 1, R("a")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	CHECK_INT(dec(s, "a/b", 'd'), EXC);
	CHECK_INT(dec(s, "a/b/c", 'f'), EXC);
	CHECK_INT(dec(s, "a/c", 'f'), INC);
	CHECK_INT(dec(s, "b", 'f'), EXC);
	arca_selection_free(s);

	/* A scan from an earlier include outlives a later exclude. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("a/b")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("a")), 0);
	CHECK_INT(dec(s, "a", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b", 'd'), INC);
	CHECK_INT(dec(s, "a/c", 'd'), EXC);
	arca_selection_free(s);

	/* ... but not a later include. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("a/b")), 0);
	CHECK_INT(arca_selection_add_glob(s, 1, R("a")), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(dec(s, "a", 'd'), INC);
	arca_selection_free(s);
}

static void
test_glob_errors(void)
{
	struct arca_selection *s = sel_new();

	/* Relative patterns cannot match under an absolute root. */
	CHECK_INT(arca_selection_add_glob(s, 1, "a"), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "cannot match any files") != NULL);
	CHECK_INT(arca_selection_add_glob(s, 0, "*/t/a"), ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_glob(s, 0, "/nonexistent/x"),
	    ARCA_ERR_USAGE);
	/* Empty components. */
	CHECK_INT(arca_selection_add_glob(s, 0, R("a//b")), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "//") != NULL);
	CHECK_INT(arca_selection_add_glob(s, 0, R("a//")), ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_glob(s, 0, R("**//x")), ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_glob(s, 0, ""), ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_glob(s, 0, "ignorecase:"),
	    ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_glob(s, 0, R("[z-a]")), ARCA_ERR_USAGE);
	/* Patterns reaching the root in other ways are fine. */
	CHECK_INT(arca_selection_add_glob(s, 0, "**/x"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "/**/x"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("")), 0);
	{
		char p[4200];

		snprintf(p, sizeof(p), "%s/", root);
		CHECK_INT(arca_selection_add_glob(s, 0, p), 0);
	}
	arca_selection_free(s);

	/* The root as a regular file cannot match a "dir/" pattern. */
	{
		struct arca_selection *f = NULL;
		char p[4200];
		int fd;

		snprintf(p, sizeof(p), "%s/file", root);
		fd = open(p, O_WRONLY | O_CREAT, 0600);
		CHECK(fd >= 0);
		close(fd);
		CHECK_INT(arca_selection_new(&ctx, p, &f), 0);
		CHECK_INT(arca_selection_add_glob(f, 0, p), 0);
		strcat(p, "/");
		CHECK_INT(arca_selection_add_glob(f, 0, p), ARCA_ERR_USAGE);
		arca_selection_free(f);
		p[strlen(p) - 1] = '\0';
		unlink(p);
	}
}

static void
test_last_only_includes(void)
{
	struct arca_selection *s = sel_new();

	CHECK_INT(arca_selection_finish(s), 0);
	CHECK_INT(arca_selection_add_glob(s, 1, R("a")), 0);
	CHECK_INT(arca_selection_finish(s), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "only specifies that files be included") !=
	    NULL);
	CHECK(strstr(ctx.errmsg, R("a")) != NULL);
	CHECK_INT(arca_selection_add_glob(s, 0, R("b")), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	arca_selection_free(s);

	/* exclude-if-present and device files move to the front. */
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("a")), 0);
	CHECK_INT(arca_selection_add_exclude_if_present(s, ".nobackup"), 0);
	CHECK_INT(arca_selection_finish(s), ARCA_ERR_USAGE);
	arca_selection_free(s);
	s = sel_new();
	CHECK_INT(arca_selection_add_exclude_device_files(s), 0);
	CHECK_INT(arca_selection_add_regexp(s, 1, "x"), 0);
	CHECK_INT(arca_selection_finish(s), ARCA_ERR_USAGE);
	arca_selection_free(s);
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, "**"), 0);
	CHECK_INT(arca_selection_finish(s), ARCA_ERR_USAGE);
	arca_selection_free(s);
	s = sel_new();
	CHECK_INT(arca_selection_add_glob(s, 1, R("a")), 0);
	CHECK_INT(arca_selection_add_exclude_older_than(s, 5), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	arca_selection_free(s);
}

static void
test_regexp(void)
{
	struct arca_selection *s = sel_new();

	/* Searched anywhere in the full path, not anchored. */
	CHECK_INT(arca_selection_add_regexp(s, 0, "b/x"), 0);
	CHECK_INT(arca_selection_add_regexp(s, 1, "\\.py$"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "**"), 0);
	CHECK_INT(dec(s, "a/b/x.txt", 'f'), EXC);
	CHECK_INT(dec(s, "a/bc/x.py", 'f'), INC);
	CHECK_INT(dec(s, "y.py", 'f'), INC);
	CHECK_INT(dec(s, "y.pyc", 'f'), EXC);
	/* Regexps never scan: a directory is decided by its own name. */
	CHECK_INT(dec(s, "a", 'd'), EXC);
	arca_selection_free(s);

	s = sel_new();
	{
		char re[4200];

		snprintf(re, sizeof(re), "^%s/(a|b)+$", root);
		CHECK_INT(arca_selection_add_regexp(s, 0, re), 0);
	}
	CHECK_INT(dec(s, "abba", 'f'), EXC);
	CHECK_INT(dec(s, "abc", 'f'), INC);
	CHECK_INT(arca_selection_add_regexp(s, 0, "(unclosed"),
	    ARCA_ERR_USAGE);
	arca_selection_free(s);
}

static void
test_other_tests(void)
{
	struct arca_selection *s = sel_new();
	struct stat st;
	char p[4200];
	int fd;

	/* exclude-if-present looks into the directory's fd. */
	snprintf(p, sizeof(p), "%s/d", root);
	CHECK_INT(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/d/.nobackup", root);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(p, sizeof(p), "%s/d", root);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK_INT(arca_selection_add_exclude_if_present(s, ".nobackup"), 0);
	CHECK_INT(lstat(p, &st), 0);
	CHECK_INT(arca_selection_test(s, "d", &st, fd), EXC);
	CHECK_INT(arca_selection_test(s, "d", &st, -1), INC);
	close(fd);
	snprintf(p, sizeof(p), "%s/d/.nobackup", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/d", root);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	CHECK_INT(arca_selection_test(s, "d", &st, fd), INC);
	close(fd);
	rmdir(p);
	CHECK_INT(arca_selection_add_exclude_if_present(s, "a/b"),
	    ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_exclude_if_present(s, "."),
	    ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_exclude_if_present(s, ""),
	    ARCA_ERR_USAGE);
	arca_selection_free(s);

	/* Devices, other file systems, old regular files. */
	s = sel_new();
	CHECK_INT(arca_selection_add_exclude_device_files(s), 0);
	CHECK_INT(arca_selection_add_exclude_other_filesystems(s, 7), 0);
	CHECK_INT(arca_selection_add_exclude_older_than(s, 1000), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	memset(&st, 0, sizeof(st));
	st.st_dev = 7;
	st.st_mtim.tv_sec = 2000;
	st.st_mode = S_IFCHR | 0600;
	CHECK_INT(arca_selection_test(s, "c", &st, -1), EXC);
	st.st_mode = S_IFBLK | 0600;
	CHECK_INT(arca_selection_test(s, "c", &st, -1), EXC);
	st.st_mode = S_IFIFO | 0600;
	CHECK_INT(arca_selection_test(s, "c", &st, -1), INC);
	st.st_mode = S_IFREG | 0600;
	CHECK_INT(arca_selection_test(s, "f", &st, -1), INC);
	st.st_dev = 8;
	CHECK_INT(arca_selection_test(s, "f", &st, -1), EXC);
	st.st_dev = 7;
	st.st_mtim.tv_sec = 999;
	st.st_mtim.tv_nsec = 999999999;
	CHECK_INT(arca_selection_test(s, "f", &st, -1), EXC);
	st.st_mtim.tv_sec = 1000;
	st.st_mtim.tv_nsec = 0;
	CHECK_INT(arca_selection_test(s, "f", &st, -1), INC);
	/* Only regular files are old. */
	st.st_mtim.tv_sec = 5;
	st.st_mode = S_IFDIR | 0755;
	CHECK_INT(arca_selection_test(s, "d", &st, -1), INC);
	st.st_mode = S_IFLNK | 0777;
	CHECK_INT(arca_selection_test(s, "l", &st, -1), INC);
	arca_selection_free(s);
}

static char *
write_list(const char *name, const char *data, size_t n)
{
	static char p[4200];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, data, n), n);
	close(fd);
	return p;
}

static void
test_filelists(void)
{
	struct arca_selection *s;
	char buf[8192];
	int n;

	/* §13.3's example, with CRLF, blanks, quotes and indentation. */
	n = snprintf(buf, sizeof(buf),
	    "# comment\r\n"
	    "+ %s\r\n"
	    "  - %s\t\n"
	    "\n"
	    "   \n"
	    "'%s'\r"
	    "\"\"\n"
	    "'\n"
	    "#%s\n"
	    "- \"**\"",
	    R("a/b/x.py"), R("a"), R("d"), R("top"));
	s = sel_new();
	CHECK_INT(arca_selection_add_filelist(s, 1, write_list("l1", buf, n),
	    0), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	CHECK_INT(dec(s, "a", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b", 'd'), SCAN);
	CHECK_INT(dec(s, "a/b/x.py", 'f'), INC);
	CHECK_INT(dec(s, "a/b/y.txt", 'f'), EXC);
	CHECK_INT(dec(s, "d", 'd'), INC);
	CHECK_INT(dec(s, "d/w.txt", 'f'), INC);
	CHECK_INT(dec(s, "top", 'f'), EXC);
	CHECK_INT(dec(s, "Upper", 'd'), EXC);
	arca_selection_free(s);

	/* An exclude list: unmarked lines exclude. */
	n = snprintf(buf, sizeof(buf), "%s\n+ %s\n", R("a"), R("b"));
	s = sel_new();
	CHECK_INT(arca_selection_add_filelist(s, 0, write_list("l2", buf, n),
	    0), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("c")), 0);
	CHECK_INT(dec(s, "a", 'd'), EXC);
	CHECK_INT(dec(s, "b", 'd'), INC);
	CHECK_INT(dec(s, "c", 'd'), EXC);
	CHECK_INT(dec(s, "e", 'd'), INC);
	arca_selection_free(s);

	/* NUL separated: newlines are then part of the pattern. */
	n = snprintf(buf, sizeof(buf), "%s%c- %s%c", R("a"), 0, R("b b"), 0);
	s = sel_new();
	CHECK_INT(arca_selection_add_filelist(s, 1, write_list("l3", buf, n),
	    1), 0);
	CHECK_INT(arca_selection_finish(s), 0);
	CHECK_INT(dec(s, "a", 'f'), INC);
	CHECK_INT(dec(s, "b b", 'f'), EXC);
	CHECK_INT(dec(s, "b", 'f'), INC);
	arca_selection_free(s);

	/* Errors name the file and line. */
	n = snprintf(buf, sizeof(buf), "# x\n%s\nrelative\n", R("a"));
	s = sel_new();
	CHECK_INT(arca_selection_add_filelist(s, 1, write_list("l4", buf, n),
	    0), ARCA_ERR_USAGE);
	CHECK(strstr(ctx.errmsg, "l4 line 3") != NULL);
	CHECK(strstr(ctx.errmsg, "relative") != NULL);
	CHECK_INT(arca_selection_add_filelist(s, 1, write_list("l5", "a\0b",
	    3), 0), ARCA_ERR_USAGE);
	CHECK_INT(arca_selection_add_filelist(s, 1, R("missing"), 0),
	    ARCA_ERR_IO);
	arca_selection_free(s);
}

static void
test_root_forms(void)
{
	struct arca_selection *s = NULL;
	char p[4200];

	/* The root is canonicalised before patterns are checked. */
	snprintf(p, sizeof(p), "%s/./", root);
	memset(&ctx, 0, sizeof(ctx));
	CHECK_INT(arca_selection_new(&ctx, p, &s), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, R("a")), 0);
	CHECK_INT(dec(s, "a", 'f'), EXC);
	arca_selection_free(s);

	/* Relative roots stay relative. */
	CHECK_INT(arca_selection_new(&ctx, "./src//lib/", &s), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "src/lib/a"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "/src/lib/b"),
	    ARCA_ERR_USAGE);
	CHECK_INT(dec(s, "a", 'f'), EXC);
	arca_selection_free(s);
	CHECK_INT(arca_selection_new(&ctx, ".", &s), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "./a"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "a"), ARCA_ERR_USAGE);
	CHECK_INT(dec(s, "a/b", 'f'), EXC);
	arca_selection_free(s);

	/* The file-system root: no doubled '/'. */
	CHECK_INT(arca_selection_new(&ctx, "/", &s), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "/etc"), 0);
	CHECK_INT(arca_selection_add_glob(s, 0, "/*/x"), 0);
	CHECK_INT(dec(s, "etc/passwd", 'f'), EXC);
	CHECK_INT(dec(s, "usr/x", 'f'), EXC);
	CHECK_INT(dec(s, "usr/y", 'f'), INC);
	arca_selection_free(s);
	CHECK_INT(arca_selection_new(&ctx, "", &s), ARCA_ERR_USAGE);
}

static void
test_many_stars(void)
{
	struct arca_selection *s = sel_new();
	char idx[2100];
	clock_t t0;

	/* A backtracking matcher would take ages here; the NFA does not. */
	memset(idx, 'a', 2000);
	idx[2000] = '\0';
	CHECK_INT(arca_selection_add_glob(s, 0,
	    R("**a**a**a**a**a**a**a**a**a**a**b")), 0);
	t0 = clock();
	CHECK_INT(dec(s, idx, 'f'), INC);
	CHECK(clock() - t0 < 2 * CLOCKS_PER_SEC);
	idx[1999] = 'b';
	CHECK_INT(dec(s, idx, 'f'), EXC);
	arca_selection_free(s);
}

int
main(void)
{
	root = test_tmpdir();
	RUN(test_star_and_question);
	RUN(test_prefix_matching);
	RUN(test_char_classes);
	RUN(test_trailing_slash);
	RUN(test_ignorecase);
	RUN(test_scan);
	RUN(test_first_match_wins);
	RUN(test_glob_errors);
	RUN(test_last_only_includes);
	RUN(test_regexp);
	RUN(test_other_tests);
	RUN(test_filelists);
	RUN(test_root_forms);
	RUN(test_many_stars);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed\n");
	}
	free(root);
	TEST_DONE();
}
