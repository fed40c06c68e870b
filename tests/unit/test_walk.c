/*
 * test_walk.c: the source walk (spec §6.4, §9.3) and selection applied to
 * real trees (spec §13 examples).
 *
 * Also a helper for tests/integration/selection_vs_duplicity.py:
 *   test_walk --list ROOT [selection options...]
 * prints the selected indices, one per line ("." for the root).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "test.h"

#include "select/selection.h"
#include "select/walk.h"
#include "util/buf.h"
#include "util/ctx.h"

static struct arca_buf logged;

static void
log_cb(void *ud, int level, const char *msg)
{
	arca_buf_printf(&logged, "%d:%s\n", level, msg);
}

static void
ctx_init(struct arca_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->verbosity = ARCA_LOG_WARNING;
	ctx->log = log_cb;
	arca_buf_reset(&logged);
}

static void
mkfile(const char *root, const char *rel, const char *content)
{
	char p[4096];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		perror(p);
		exit(2);
	}
	if (content != NULL && write(fd, content, strlen(content)) < 0)
		exit(2);
	close(fd);
}

static void
mkdir_rel(const char *root, const char *rel)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, 0755) == -1) {
		perror(p);
		exit(2);
	}
}

static void
rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; "
	    "rm -rf '%s'", path, path);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", path);
}

/*
 * Walk root with sel and return the indices joined by ' ', the root as
 * "." ("ERR <code>" on failure).  Caller frees.
 */
static char *
walk_str(struct arca_ctx *ctx, const char *root, struct arca_selection *sel)
{
	struct arca_buf b = { 0 };
	const struct arca_walk_entry *e;
	struct arca_walk *w;
	int rc;

	if ((rc = arca_walk_new(ctx, root, sel, &w)) != 0) {
		arca_buf_printf(&b, "ERR %d", rc);
		return arca_buf_steal(&b);
	}
	while ((rc = arca_walk_next(w, &e)) == 1) {
		if (b.len > 0)
			arca_buf_putc(&b, ' ');
		arca_buf_puts(&b, *e->index ? e->index : ".");
	}
	if (rc < 0)
		arca_buf_printf(&b, " ERR %d", rc);
	arca_walk_free(w);
	if (b.data == NULL)
		arca_buf_puts(&b, "");
	return arca_buf_steal(&b);
}

/* The tree of spec §13's examples. */
static char *
spec_tree(void)
{
	char *r = test_tmpdir();

	mkdir_rel(r, "t");
	mkdir_rel(r, "t/a");
	mkdir_rel(r, "t/a/b");
	mkdir_rel(r, "t/a/c");
	mkdir_rel(r, "t/d");
	mkdir_rel(r, "t/Upper");
	mkfile(r, "t/a/b/x.py", "x");
	mkfile(r, "t/a/b/y.txt", "y");
	mkfile(r, "t/a/c/z.py", "z");
	mkfile(r, "t/d/.nobackup", "");
	mkfile(r, "t/d/w.txt", "w");
	mkfile(r, "t/Upper/File.TXT", "F");
	mkfile(r, "t/top.py", "t");
	return r;
}

/*
 * Selection from a NULL-terminated list of option words, as the CLI gives
 * them: "-i PAT", "-e PAT", "+f FILE", "-f FILE", "-p NAME", "-dev".
 */
static int
sel_build(struct arca_ctx *ctx, const char *root, struct arca_selection **out,
    ...)
{
	struct arca_selection *s;
	const char *opt, *arg;
	va_list ap;
	int rc;

	if ((rc = arca_selection_new(ctx, root, &s)) != 0)
		return rc;
	va_start(ap, out);
	while ((opt = va_arg(ap, const char *)) != NULL) {
		if (strcmp(opt, "-dev") == 0) {
			rc = arca_selection_add_exclude_device_files(s);
			if (rc != 0)
				break;
			continue;
		}
		arg = va_arg(ap, const char *);
		if (strcmp(opt, "-i") == 0)
			rc = arca_selection_add_glob(s, 1, arg);
		else if (strcmp(opt, "-e") == 0)
			rc = arca_selection_add_glob(s, 0, arg);
		else if (strcmp(opt, "+f") == 0)
			rc = arca_selection_add_filelist(s, 1, arg, 0);
		else if (strcmp(opt, "-f") == 0)
			rc = arca_selection_add_filelist(s, 0, arg, 0);
		else if (strcmp(opt, "-p") == 0)
			rc = arca_selection_add_exclude_if_present(s, arg);
		else
			rc = ARCA_ERR_USAGE;
		if (rc != 0)
			break;
	}
	va_end(ap);
	if (rc == 0)
		rc = arca_selection_finish(s);
	if (rc != 0) {
		arca_selection_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void
test_order_weird_names(void)
{
	struct arca_ctx ctx;
	char *r = test_tmpdir(), *got;

	ctx_init(&ctx);
	mkdir_rel(r, "a");
	mkdir_rel(r, "a/b");
	mkfile(r, "a/b/z", "");
	mkfile(r, "a/a.x", "");
	mkfile(r, "a-c", "");
	mkfile(r, "a.b", "");
	mkfile(r, "\x01x", "");
	mkfile(r, "\xff", "");
	mkfile(r, "-", "");
	mkfile(r, ".d", "");
	mkfile(r, "B", "");
	mkfile(r, "\xc3\xa9", "");
	mkdir_rel(r, "a.b.dir");
	mkfile(r, "a.b.dir/q", "");
	got = walk_str(&ctx, r, NULL);
	/* Component-wise byte order: "a" and its subtree before "a-c". */
	CHECK_STR(got, ". \x01x - .d B a a/a.x a/b a/b/z a-c a.b a.b.dir "
	    "a.b.dir/q \xc3\xa9 \xff");
	free(got);
	CHECK_INT(logged.len, 0);
	rm_rf(r);
	free(r);
}

static void
test_entries(void)
{
	struct arca_ctx ctx;
	const struct arca_walk_entry *e;
	struct arca_walk *w;
	struct stat st;
	char *r = test_tmpdir(), buf[16];
	int fd, n = 0, rc;
	ssize_t k;

	ctx_init(&ctx);
	mkdir_rel(r, "d");
	mkfile(r, "d/f", "hello");
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/link", r);
		CHECK_INT(symlink("d", p), 0);
		snprintf(p, sizeof(p), "%s/fifo", r);
		CHECK_INT(mkfifo(p, 0600), 0);
	}
	CHECK_INT(arca_walk_new(&ctx, r, NULL, &w), 0);
	while ((rc = arca_walk_next(w, &e)) == 1) {
		n++;
		if (*e->index == '\0') {
			CHECK(S_ISDIR(e->st.st_mode));
			CHECK_INT(e->parent_fd, -1);
			CHECK_STR(e->name, "");
			continue;
		}
		/* parent_fd and name find the very entry described. */
		CHECK_INT(fstatat(e->parent_fd, e->name, &st,
		    AT_SYMLINK_NOFOLLOW), 0);
		CHECK_INT(st.st_ino, e->st.st_ino);
		if (strcmp(e->index, "d/f") == 0) {
			CHECK_STR(e->name, "f");
			CHECK(S_ISREG(e->st.st_mode));
			fd = arca_walk_open(w, e);
			CHECK(fd >= 0);
			k = read(fd, buf, sizeof(buf));
			CHECK_INT(k, 5);
			CHECK_MEM(buf, "hello", 5);
			CHECK(fcntl(fd, F_GETFL) >= 0 &&
			    !(fcntl(fd, F_GETFL) & O_NONBLOCK));
			close(fd);
		} else if (strcmp(e->index, "link") == 0) {
			/* A symlink to a directory is not followed. */
			CHECK(S_ISLNK(e->st.st_mode));
		} else if (strcmp(e->index, "fifo") == 0) {
			CHECK(S_ISFIFO(e->st.st_mode));
		} else if (strcmp(e->index, "d") == 0) {
			CHECK_STR(e->name, "d");
			CHECK(S_ISDIR(e->st.st_mode));
		}
	}
	CHECK_INT(rc, 0);
	CHECK_INT(n, 5);
	/* Exhausted stays exhausted. */
	CHECK_INT(arca_walk_next(w, &e), 0);
	arca_walk_free(w);
	rm_rf(r);
	free(r);
}

static void
test_open_replaced(void)
{
	struct arca_ctx ctx;
	const struct arca_walk_entry *e;
	struct arca_walk *w;
	char *r = test_tmpdir(), p[4096], q[4096];
	int rc;

	ctx_init(&ctx);
	mkfile(r, "f", "one");
	mkfile(r, "g", "two");
	CHECK_INT(arca_walk_new(&ctx, r, NULL, &w), 0);
	CHECK_INT(arca_walk_next(w, &e), 1);
	CHECK_INT(arca_walk_next(w, &e), 1);
	CHECK_STR(e->index, "f");
	/* Swap the file under the walk: open must notice. */
	snprintf(p, sizeof(p), "%s/f", r);
	snprintf(q, sizeof(q), "%s/g", r);
	CHECK_INT(rename(q, p), 0);
	rc = arca_walk_open(w, e);
	CHECK_INT(rc, ARCA_ERR_FAILED);
	CHECK(strstr(ctx.errmsg, "replaced") != NULL);
	/* A FIFO in its place must not block the open. */
	CHECK_INT(unlink(p), 0);
	CHECK_INT(mkfifo(p, 0600), 0);
	rc = arca_walk_open(w, e);
	CHECK_INT(rc, ARCA_ERR_FAILED);
	/* Gone: g vanished between readdir and fstatat, silently skipped. */
	CHECK_INT(arca_walk_next(w, &e), 0);
	CHECK_INT(arca_walk_errors(w), 0);
	arca_walk_free(w);
	rm_rf(r);
	free(r);
}

static void
test_root_kinds(void)
{
	struct arca_ctx ctx;
	const struct arca_walk_entry *e;
	struct arca_walk *w;
	char *r = test_tmpdir(), p[4096], buf[8];
	int fd;

	ctx_init(&ctx);
	mkfile(r, "single", "abc");
	snprintf(p, sizeof(p), "%s/single", r);
	CHECK_INT(arca_walk_new(&ctx, p, NULL, &w), 0);
	CHECK_INT(arca_walk_next(w, &e), 1);
	CHECK_STR(e->index, "");
	CHECK(S_ISREG(e->st.st_mode));
	CHECK_INT(e->parent_fd, -1);
	fd = arca_walk_open(w, e);
	CHECK(fd >= 0);
	CHECK_INT(read(fd, buf, sizeof(buf)), 3);
	close(fd);
	CHECK_INT(arca_walk_next(w, &e), 0);
	arca_walk_free(w);

	snprintf(p, sizeof(p), "%s/missing", r);
	CHECK_INT(arca_walk_new(&ctx, p, NULL, &w), ARCA_ERR_SOURCE);
	CHECK(strstr(ctx.errmsg, "missing") != NULL);

	/* An empty directory still yields its root. */
	mkdir_rel(r, "empty");
	snprintf(p, sizeof(p), "%s/empty", r);
	CHECK_INT(arca_walk_new(&ctx, p, NULL, &w), 0);
	CHECK_INT(arca_walk_next(w, &e), 1);
	CHECK_STR(e->index, "");
	CHECK_INT(arca_walk_next(w, &e), 0);
	arca_walk_free(w);
	rm_rf(r);
	free(r);
}

static void
test_socket_skipped(void)
{
	struct arca_ctx ctx;
	struct sockaddr_un sa;
	char *r = test_tmpdir(), *got;
	int s;

	ctx_init(&ctx);
	mkfile(r, "a", "");
	mkfile(r, "c", "");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/b.sock", r);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(s >= 0);
	CHECK_INT(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	got = walk_str(&ctx, r, NULL);
	CHECK_STR(got, ". a c");
	free(got);
	close(s);
	rm_rf(r);
	free(r);
}

/* Walk root/t under a selection built from the options; compare. */
#define SEL_CASE(root, expect, ...) do {				\
	struct arca_ctx c_;						\
	struct arca_selection *s_ = NULL;				\
	char t_[4096], *g_;						\
	ctx_init(&c_);							\
	snprintf(t_, sizeof(t_), "%s/t", (root));			\
	CHECK_INT(sel_build(&c_, t_, &s_, __VA_ARGS__, (char *)NULL), 0); \
	if (s_ != NULL) {						\
		g_ = walk_str(&c_, t_, s_);				\
		CHECK_STR(g_, (expect));				\
		free(g_);						\
		arca_selection_free(s_);				\
	} else								\
		fprintf(stderr, "  error: %s\n", c_.errmsg);		\
} while (0)

static char *
P(const char *root, const char *rel)
{
	static char bufs[8][4096];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/t%s%s", root, *rel ? "/" : "",
	    rel);
	return bufs[i];
}

static void
test_spec_examples(void)
{
	char *r = spec_tree(), fl[4096];
	FILE *f;

	/* §13.1: scanned directories appear only above included files. */
	SEL_CASE(r, ". a a/b a/b/x.py a/c a/c/z.py top.py",
	    "-i", "**.py", "-e", "**");
	/* §13.1: an excluded directory is never entered. */
	SEL_CASE(r, ". Upper Upper/File.TXT top.py",
	    "-e", P(r, "a"), "-i", P(r, "a/b"), "-e", P(r, "d"));
	SEL_CASE(r, ". Upper Upper/File.TXT a a/b a/b/x.py a/b/y.txt d "
	    "d/.nobackup d/w.txt top.py",
	    "-i", P(r, "a/b"), "-e", P(r, "a"));
	/* §13.2 ignorecase. */
	SEL_CASE(r, ". Upper Upper/File.TXT",
	    "-i", "ignorecase:" "**/upper/*.txt", "-e", "**");
	/* §13.3 exclude-if-present, wherever it is given. */
	SEL_CASE(r, ". Upper Upper/File.TXT a a/b a/b/x.py a/b/y.txt a/c "
	    "a/c/z.py top.py", "-p", ".nobackup");
	SEL_CASE(r, ".", "-i", P(r, "d"), "-e", "**", "-p", ".nobackup");
	SEL_CASE(r, ". a a/b a/b/x.py a/b/y.txt a/c a/c/z.py",
	    "-i", P(r, "a"), "-i", P(r, "d"), "-p", ".nobackup", "-e", "**");
	/* Trailing '/': directories only (and whatever is inside them). */
	SEL_CASE(r, ". Upper Upper/File.TXT a a/b a/b/x.py a/b/y.txt a/c "
	    "a/c/z.py d d/.nobackup d/w.txt",
	    "-i", P(r, "*/"), "-e", "**");
	SEL_CASE(r, ". Upper Upper/File.TXT a a/c a/c/z.py d d/.nobackup "
	    "d/w.txt top.py", "-e", P(r, "a/b/"), "-e", P(r, "top.py/"));
	/* Files match "t/ **" (no space) exactly but are no directories. */
	SEL_CASE(r, ". Upper a a/b a/c d",
	    "-i", P(r, "**/"), "-e", "**");
	/* Deep scan: nothing from the empty-handed sibling a/b. */
	SEL_CASE(r, ". a a/c a/c/z.py", "-i", P(r, "a/c/z.py"), "-e", "**");
	/* First match wins: "a/c/" includes a/c/z.py; "a/c/ *" never asked. */
	SEL_CASE(r, ". a a/b a/b/y.txt a/c a/c/z.py", "-i", P(r, "a/*/y.txt"),
	    "-i", P(r, "a/c/"), "-e", P(r, "a/c/*"), "-e", "**");
	/* Classes and '?'. */
	SEL_CASE(r, ". a a/b a/b/x.py a/b/y.txt a/c a/c/z.py",
	    "-i", P(r, "[a-c]/?/[!z]*"), "-i", P(r, "a/[c]"), "-e", "**");

	/* §13.3's filelist example. */
	snprintf(fl, sizeof(fl), "%s/list", r);
	f = fopen(fl, "w");
	fprintf(f, "# comment\n+ %s\n- %s\n%s\n- **\n", P(r, "a/b/x.py"),
	    P(r, "a"), P(r, "d"));
	fclose(f);
	SEL_CASE(r, ". a a/b a/b/x.py d d/.nobackup d/w.txt", "+f", fl);
	/* As an exclude list the unmarked line excludes. */
	snprintf(fl, sizeof(fl), "%s/list2", r);
	f = fopen(fl, "w");
	fprintf(f, "+ %s\r\n  - '%s'  \r\n\n\"%s\"\n", P(r, "a/b/x.py"),
	    P(r, "a"), P(r, "d"));
	fclose(f);
	SEL_CASE(r, ". Upper Upper/File.TXT a a/b a/b/x.py top.py", "-f", fl);
	rm_rf(r);
	free(r);
}

static void
test_scan_nothing_below(void)
{
	char *r = spec_tree();

	/* The root is emitted even when everything below is excluded. */
	SEL_CASE(r, ".", "-e", "**");
	SEL_CASE(r, ".", "-i", P(r, "nothing/here"), "-e", "**");
	/* A scanned symlink or file is dropped, never descended. */
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/t/a/c", r);
		CHECK_INT(symlink(p, P(r, "lnk")), 0);
	}
	SEL_CASE(r, ".", "-i", P(r, "lnk/z.py"), "-e", "**");
	SEL_CASE(r, ". lnk", "-i", P(r, "lnk"), "-e", "**");
	rm_rf(r);
	free(r);
}

static void
test_devices(void)
{
	char *r = spec_tree();

	if (mknod(P(r, "null"), S_IFCHR | 0600, makedev(1, 3)) == -1) {
		fprintf(stderr, "  skip: mknod: %s (device tests need "
		    "CAP_MKNOD)\n", strerror(errno));
		rm_rf(r);
		free(r);
		return;
	}
	SEL_CASE(r, ". null", "-i", P(r, "null"), "-e", "**");
	SEL_CASE(r, ".", "-i", P(r, "null"), "-dev", "-e", "**");
	rm_rf(r);
	free(r);
}

/* Count this process's open descriptors. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 1;	/* the DIR's own */
}

static void
test_fd_usage(void)
{
	struct arca_ctx ctx;
	const struct arca_walk_entry *e;
	struct arca_walk *w;
	char *r = test_tmpdir(), rel[256] = "", p[300];
	int base, maxfd = 0, n, i, depth;

	ctx_init(&ctx);
	/* Ten levels, each with a file and an empty directory. */
	for (i = 0; i < 10; i++) {
		strcat(rel, i ? "/d" : "d");
		mkdir_rel(r, rel);
		snprintf(p, sizeof(p), "%s/x", rel);
		mkfile(r, p, "");
		snprintf(p, sizeof(p), "%s/e", rel);
		mkdir_rel(r, p);
	}
	base = count_fds();
	CHECK_INT(arca_walk_new(&ctx, r, NULL, &w), 0);
	while (arca_walk_next(w, &e) == 1) {
		n = count_fds();
		if (n > maxfd)
			maxfd = n;
		/*
		 * The root, the entry's other ancestors, and the entry's own
		 * fd when it is a directory about to be entered.
		 */
		for (depth = 0, i = 0; e->index[i] != '\0'; i++)
			depth += e->index[i] == '/';
		CHECK(n <= base + depth + 2);
	}
	arca_walk_free(w);
	CHECK_INT(count_fds(), base);
	CHECK(maxfd > base);
	rm_rf(r);
	free(r);
}

/* The unreadable-directory checks; returns failures. */
static int
unreadable_checks(const char *r)
{
	struct arca_ctx ctx;
	struct arca_selection *s = NULL;
	struct arca_walk *w;
	const struct arca_walk_entry *e;
	char t[4096], pat[4200], *got;
	int before = test_failures, n = 0;

	snprintf(t, sizeof(t), "%s/t", r);
	ctx_init(&ctx);
	got = walk_str(&ctx, t, NULL);
	/* Listed as a directory, its contents skipped, one warning. */
	CHECK_STR(got, ". locked ok ok/f");
	free(got);
	CHECK(strstr((char *)logged.data, "locked") != NULL);
	CHECK(strstr((char *)logged.data, strerror(EACCES)) != NULL);
	CHECK_INT(arca_walk_new(&ctx, t, NULL, &w), 0);
	while (arca_walk_next(w, &e) == 1)
		n++;
	CHECK_INT(n, 4);
	CHECK_INT(arca_walk_errors(w), 1);
	arca_walk_free(w);

	/* Scanned but unreadable: warned about, not emitted. */
	ctx_init(&ctx);
	snprintf(pat, sizeof(pat), "%s/**f", t);
	CHECK_INT(sel_build(&ctx, t, &s, "-i", pat, "-e", "**",
	    (char *)NULL), 0);
	got = walk_str(&ctx, t, s);
	CHECK_STR(got, ". ok ok/f");
	free(got);
	CHECK(strstr((char *)logged.data, "locked") != NULL);
	arca_selection_free(s);

	/* Excluded: not even looked at closely enough to warn. */
	ctx_init(&ctx);
	snprintf(pat, sizeof(pat), "%s/locked", t);
	CHECK_INT(sel_build(&ctx, t, &s, "-e", pat, (char *)NULL), 0);
	got = walk_str(&ctx, t, s);
	CHECK_STR(got, ". ok ok/f");
	free(got);
	CHECK_INT(logged.len, 0);
	arca_selection_free(s);

	/* An unreadable root is a source error. */
	snprintf(t, sizeof(t), "%s/t/locked", r);
	CHECK_INT(arca_walk_new(&ctx, t, NULL, &w), ARCA_ERR_SOURCE);
	return test_failures - before;
}

static void
test_unreadable_dir(void)
{
	char *r = test_tmpdir(), *t = NULL;
	struct passwd *pw;
	pid_t pid;
	int status;

	mkdir_rel(r, "t");
	mkdir_rel(r, "t/locked");
	mkfile(r, "t/locked/inner", "");
	mkdir_rel(r, "t/ok");
	mkfile(r, "t/ok/f", "");
	if (asprintf(&t, "%s/t/locked", r) < 0)
		exit(2);
	CHECK_INT(chmod(t, 0), 0);
	CHECK_INT(chmod(r, 0755), 0);
	if (geteuid() != 0) {
		unreadable_checks(r);
		goto out;
	}
	/* root reads everything: run the walk as nobody in a child. */
	if ((pw = getpwnam("nobody")) == NULL) {
		fprintf(stderr, "  skip: no user 'nobody' to drop root to\n");
		goto out;
	}
	fflush(stderr);
	if ((pid = fork()) == 0) {
		if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
			perror("setuid");
			_exit(2);
		}
		_exit(unreadable_checks(r) ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
out:
	free(t);
	rm_rf(r);
	free(r);
}

static void
test_exclude_if_present_kinds(void)
{
	char *r = spec_tree(), p[4096];

	/* A dangling symlink counts: the name is there, not followed. */
	snprintf(p, sizeof(p), "%s/t/a/c/.nobackup", r);
	CHECK_INT(symlink("/nonexistent", p), 0);
	/* A regular file named like a marker is not a directory. */
	mkfile(r, "t/Upper/.x", "");
	SEL_CASE(r, ". Upper Upper/.x Upper/File.TXT a a/b a/b/x.py "
	    "a/b/y.txt top.py", "-p", ".nobackup");
	rm_rf(r);
	free(r);
}

/* ---- test_walk --list ROOT [options]: the integration helper ---- */

static void
list_log(void *ud, int level, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static int
list_main(int argc, char **argv)
{
	struct arca_ctx ctx;
	struct arca_selection *s = NULL;
	struct arca_walk *w = NULL;
	const struct arca_walk_entry *e;
	struct stat st;
	int i, rc, null_sep = 0;
	const char *o, *a;

	memset(&ctx, 0, sizeof(ctx));
	ctx.verbosity = ARCA_LOG_WARNING;
	ctx.log = list_log;
	if (argc < 3) {
		fprintf(stderr, "usage: test_walk --list ROOT [options]\n");
		return 2;
	}
	/* duplicity's --null-separator applies to every list. */
	for (i = 3; i < argc; i++)
		if (strcmp(argv[i], "--null-separator") == 0)
			null_sep = 1;
	if ((rc = arca_selection_new(&ctx, argv[2], &s)) != 0)
		goto fail;
	for (i = 3; i < argc; i++) {
		o = argv[i];
		if (strcmp(o, "--null-separator") == 0)
			continue;
		if (strcmp(o, "--exclude-device-files") == 0) {
			rc = arca_selection_add_exclude_device_files(s);
		} else if (strcmp(o, "--exclude-other-filesystems") == 0) {
			if (lstat(argv[2], &st) == -1) {
				rc = ARCA_ERR_SOURCE;
				goto fail;
			}
			rc = arca_selection_add_exclude_other_filesystems(s,
			    st.st_dev);
		} else {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s needs an argument\n", o);
				rc = ARCA_ERR_USAGE;
				goto out;
			}
			a = argv[++i];
			if (strcmp(o, "--include") == 0)
				rc = arca_selection_add_glob(s, 1, a);
			else if (strcmp(o, "--exclude") == 0)
				rc = arca_selection_add_glob(s, 0, a);
			else if (strcmp(o, "--include-regexp") == 0)
				rc = arca_selection_add_regexp(s, 1, a);
			else if (strcmp(o, "--exclude-regexp") == 0)
				rc = arca_selection_add_regexp(s, 0, a);
			else if (strcmp(o, "--include-filelist") == 0)
				rc = arca_selection_add_filelist(s, 1, a,
				    null_sep);
			else if (strcmp(o, "--exclude-filelist") == 0)
				rc = arca_selection_add_filelist(s, 0, a,
				    null_sep);
			else if (strcmp(o, "--exclude-if-present") == 0)
				rc = arca_selection_add_exclude_if_present(s,
				    a);
			else if (strcmp(o, "--exclude-older-than") == 0)
				rc = arca_selection_add_exclude_older_than(s,
				    strtoll(a, NULL, 10));
			else {
				fprintf(stderr, "unknown option %s\n", o);
				rc = ARCA_ERR_USAGE;
				goto out;
			}
		}
		if (rc != 0)
			goto fail;
	}
	if ((rc = arca_selection_finish(s)) != 0)
		goto fail;
	if ((rc = arca_walk_new(&ctx, argv[2], s, &w)) != 0)
		goto fail;
	while ((rc = arca_walk_next(w, &e)) == 1)
		printf("%s\n", *e->index ? e->index : ".");
	if (rc < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "error %d: %s\n", rc, ctx.errmsg);
out:
	arca_walk_free(w);
	arca_selection_free(s);
	return rc == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--list") == 0)
		return list_main(argc, argv);
	RUN(test_order_weird_names);
	RUN(test_entries);
	RUN(test_open_replaced);
	RUN(test_root_kinds);
	RUN(test_socket_skipped);
	RUN(test_spec_examples);
	RUN(test_scan_nothing_below);
	RUN(test_devices);
	RUN(test_fd_usage);
	RUN(test_unreadable_dir);
	RUN(test_exclude_if_present_kinds);
	arca_buf_free(&logged);
	TEST_DONE();
}
