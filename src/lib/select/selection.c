/*
 * selection.c: duplicity's file selection (spec §13): an ordered list of
 * tests, the first that includes or excludes decides, "scan" answers are
 * remembered until something decides.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/arca_error.h"
#include "select/glob_internal.h"
#include "select/selection.h"
#include "util/buf.h"
#include "util/ctx.h"

/* A filelist is a local file the user names; this only stops accidents. */
#define ARCA_FILELIST_MAX	(64u << 20)

enum sel_kind {
	SEL_GLOB,
	SEL_REGEXP,
	SEL_PRESENT,
	SEL_DEVICES,
	SEL_OTHERFS,
	SEL_OLDER
};

struct sel_test {
	enum sel_kind kind;
	int include;		/* what a match decides */
	char *desc;		/* for the "last test only includes" error */
	struct arca_glob *glob;
	regex_t re;
	char *name;		/* SEL_PRESENT */
	dev_t dev;		/* SEL_OTHERFS */
	int64_t t;		/* SEL_OLDER */
};

struct arca_selection {
	struct arca_ctx *ctx;
	char *root;		/* canonical root, the prefix of every path */
	int root_isdir;
	struct sel_test **v;
	size_t n, cap;
	struct arca_buf path;	/* full path of the entry under test */
	uint32_t *cp;		/* ... decoded */
	size_t cpcap;
};

static void
test_free(struct sel_test *t)
{
	if (t == NULL)
		return;
	arca_glob_free(t->glob);
	if (t->kind == SEL_REGEXP)
		regfree(&t->re);
	free(t->name);
	free(t->desc);
	free(t);
}

void
arca_selection_free(struct arca_selection *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		test_free(s->v[i]);
	free(s->v);
	free(s->root);
	free(s->cp);
	arca_buf_free(&s->path);
	free(s);
}

/*
 * duplicity's Path.get_canonical(): drop empty and "." components, keep a
 * leading '/', "." when nothing is left.  ".." stays (it is not a no-op
 * under symlinks).
 */
static char *
canonical_root(const char *root)
{
	struct arca_buf b = { 0 };
	const char *p = root, *e;
	size_t n;

	if (*p == '/' && arca_buf_putc(&b, '/') != 0)
		goto fail;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (!(n == 1 && p[0] == '.')) {
			if (b.len > 0 && b.data[b.len - 1] != '/' &&
			    arca_buf_putc(&b, '/') != 0)
				goto fail;
			if (arca_buf_append(&b, p, n) != 0)
				goto fail;
		}
		p += n;
	}
	if (b.len == 0 && arca_buf_putc(&b, '.') != 0)
		goto fail;
	return arca_buf_steal(&b);
fail:
	arca_buf_free(&b);
	return NULL;
}

int
arca_selection_new(struct arca_ctx *ctx, const char *root,
    struct arca_selection **out)
{
	struct arca_selection *s;
	struct stat st;

	*out = NULL;
	if (root == NULL || *root == '\0')
		return arca_error(ctx, ARCA_ERR_USAGE, "empty source path");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	s->ctx = ctx;
	if ((s->root = canonical_root(root)) == NULL) {
		arca_selection_free(s);
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	/* Only needed for "dir/" patterns tested against the root. */
	s->root_isdir = lstat(s->root, &st) == 0 && S_ISDIR(st.st_mode);
	*out = s;
	return 0;
}

/* Put t at the end, or at the front (tests duplicity moves there). */
static int
test_add(struct arca_selection *s, struct sel_test *t, int front)
{
	struct sel_test **v;
	size_t ncap;

	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 8;
		if ((v = arca_reallocarray(s->v, ncap, sizeof(*v))) == NULL) {
			test_free(t);
			return arca_error(s->ctx, ARCA_ERR_NOMEM,
			    "out of memory");
		}
		s->v = v;
		s->cap = ncap;
	}
	if (front) {
		memmove(s->v + 1, s->v, s->n * sizeof(*s->v));
		s->v[0] = t;
	} else
		s->v[s->n] = t;
	s->n++;
	return 0;
}

static struct sel_test *
test_new(struct arca_selection *s, enum sel_kind kind, int include,
    const char *what, const char *arg)
{
	struct sel_test *t;
	struct arca_buf b = { 0 };

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto fail;
	t->kind = kind;
	t->include = include;
	if (arca_buf_printf(&b, "%s%s", what, arg ? arg : "") != 0)
		goto fail;
	t->desc = arca_buf_steal(&b);
	return t;
fail:
	free(t);
	arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	return NULL;
}

/* Build the full path of index and decode it for the glob matcher. */
static int
set_path(struct arca_selection *s, const char *index)
{
	size_t rl = strlen(s->root);
	uint32_t *cp;

	arca_buf_reset(&s->path);
	if (arca_buf_append(&s->path, s->root, rl) != 0)
		goto nomem;
	/* os.path.join: no second '/' after a root of "/". */
	if (*index != '\0') {
		if (s->root[rl - 1] != '/' && arca_buf_putc(&s->path, '/') != 0)
			goto nomem;
		if (arca_buf_puts(&s->path, index) != 0)
			goto nomem;
	}
	if (s->path.len > s->cpcap) {
		if ((cp = arca_reallocarray(s->cp, s->path.len,
		    sizeof(*cp))) == NULL)
			goto nomem;
		s->cp = cp;
		s->cpcap = s->path.len;
	}
	return 0;
nomem:
	return arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
}

static int
glob_add(struct arca_selection *s, int include, const char *pattern)
{
	struct sel_test *t;
	size_t n;
	int rc;

	if ((t = test_new(s, SEL_GLOB, include,
	    include ? "Command-line include glob: " :
	    "Command-line exclude glob: ", pattern)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((rc = arca_glob_new(s->ctx, pattern, &t->glob)) != 0) {
		test_free(t);
		return rc;
	}
	/*
	 * A pattern must match the root or a directory above it, or be able
	 * to match something below it, else it is surely a mistake.
	 * duplicity checks an ignorecase: pattern case-sensitively here,
	 * refusing e.g. ignorecase:/TMP/x for a root /tmp/x; we do not.
	 */
	if (!arca_glob_is_all(t->glob)) {
		if ((rc = set_path(s, "")) != 0) {
			test_free(t);
			return rc;
		}
		n = arca_glob_decode((const char *)s->path.data, s->path.len,
		    s->cp);
		if (arca_glob_match(t->glob, s->cp, n, s->root_isdir, 1) ==
		    ARCA_GLOB_NONE) {
			test_free(t);
			return arca_error(s->ctx, ARCA_ERR_USAGE,
			    "the file specification %s cannot match any files "
			    "in the base directory %s; useful file "
			    "specifications begin with the base directory or "
			    "some pattern (such as '**') which matches the "
			    "base directory", pattern, s->root);
		}
	}
	return test_add(s, t, 0);
}

int
arca_selection_add_glob(struct arca_selection *s, int include,
    const char *pattern)
{
	return glob_add(s, include ? 1 : 0, pattern);
}

/*
 * duplicity searches with Python's re; we use POSIX extended regular
 * expressions on the raw path bytes.  They agree on the common subset
 * (literals, ., [], *, +, ?, {m,n}, |, (), ^, $) but differ elsewhere:
 * POSIX has no \d \w \s \b, lazy quantifiers, lookarounds or (?i); a
 * backslash before an ordinary character is undefined in POSIX; Python's
 * '.' does not match '\n' and its '$' also matches before a final '\n';
 * POSIX [[:alpha:]] classes mean something else in Python; Python works
 * on decoded characters, POSIX on bytes (in the C locale) so '.' is one
 * byte of a multi-byte name.
 */
int
arca_selection_add_regexp(struct arca_selection *s, int include,
    const char *regex)
{
	struct sel_test *t;
	char msg[256];
	int rc;

	if ((t = test_new(s, SEL_REGEXP, include ? 1 : 0,
	    "Regular expression: ", regex)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((rc = regcomp(&t->re, regex, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &t->re, msg, sizeof(msg));
		t->kind = SEL_GLOB;	/* nothing compiled to free */
		test_free(t);
		return arca_error(s->ctx, ARCA_ERR_USAGE,
		    "bad regular expression %s: %s", regex, msg);
	}
	return test_add(s, t, 0);
}

/* Python's str.strip() for the characters a filelist will contain. */
static int
is_strip_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/*
 * One filelist line: strip, skip blanks and '#' comments, "+ " and "- "
 * override the list's default, one pair of matching quotes is removed.
 */
static int
filelist_line(struct arca_selection *s, int include, char *line, size_t n,
    const char *path, size_t lineno)
{
	int rc;

	while (n > 0 && is_strip_space((unsigned char)line[0])) {
		line++;
		n--;
	}
	while (n > 0 && is_strip_space((unsigned char)line[n - 1]))
		n--;
	if (n == 0 || line[0] == '#')
		return 0;
	if (n >= 2 && (line[0] == '+' || line[0] == '-') && line[1] == ' ') {
		include = line[0] == '+';
		line += 2;
		n -= 2;
	}
	if (n >= 1 && (line[0] == '\'' || line[0] == '"') &&
	    line[n - 1] == line[0]) {
		/* A lone quote becomes empty, as line[1:-1] does. */
		line++;
		n = n >= 2 ? n - 2 : 0;
	}
	if (n == 0)
		return 0;
	if (memchr(line, '\0', n) != NULL)
		return arca_error(s->ctx, ARCA_ERR_USAGE,
		    "%s line %zu: NUL byte in pattern (missing "
		    "--null-separator?)", path, lineno);
	line[n] = '\0';
	if ((rc = glob_add(s, include, line)) != 0)
		arca_error_prefix(s->ctx, "%s line %zu", path, lineno);
	return rc;
}

static int
read_file(struct arca_selection *s, const char *path, struct arca_buf *b)
{
	unsigned char *d;
	ssize_t r;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return arca_error(s->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    path, strerror(errno));
	b->max = ARCA_FILELIST_MAX;
	for (;;) {
		if ((d = arca_buf_reserve(b, 65536)) == NULL) {
			rc = arca_error(s->ctx, ARCA_ERR_IO,
			    "%s: larger than %u bytes or out of memory", path,
			    ARCA_FILELIST_MAX);
			break;
		}
		r = read(fd, d, 65536);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = arca_error(s->ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	close(fd);
	return rc;
}

int
arca_selection_add_filelist(struct arca_selection *s, int include,
    const char *path, int null_sep)
{
	struct arca_buf b = { 0 };
	char *d, *line, *e, sep = null_sep ? '\0' : '\n';
	size_t i, o, n, lineno = 0;
	int rc;

	if ((rc = read_file(s, path, &b)) != 0)
		goto out;
	/*
	 * duplicity reads the list in Python's text mode: "\r\n" and a lone
	 * "\r" both become "\n", with --null-separator too.
	 */
	d = (char *)b.data;
	for (i = o = 0; i < b.len; i++) {
		if (d[i] == '\r') {
			d[o++] = '\n';
			if (i + 1 < b.len && d[i + 1] == '\n')
				i++;
		} else
			d[o++] = d[i];
	}
	n = o;
	for (line = d; line <= d + n; line = e + 1) {
		lineno++;
		if ((e = memchr(line, sep, (size_t)(d + n - line))) == NULL)
			e = d + n;
		if ((rc = filelist_line(s, include ? 1 : 0, line,
		    (size_t)(e - line), path, lineno)) != 0)
			goto out;
	}
	rc = 0;
out:
	arca_buf_free(&b);
	return rc;
}

int
arca_selection_add_exclude_if_present(struct arca_selection *s,
    const char *name)
{
	struct sel_test *t;

	/*
	 * duplicity looks the name up in a directory listing, so a name with
	 * a '/' or "." never matches there; with fstatat it would.  Refuse.
	 */
	if (*name == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return arca_error(s->ctx, ARCA_ERR_USAGE,
		    "--exclude-if-present needs a plain file name, not '%s'",
		    name);
	if ((t = test_new(s, SEL_PRESENT, 0,
	    "Command-line exclude-if-present filename: ", name)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((t->name = arca_strdup(name)) == NULL) {
		test_free(t);
		return arca_error(s->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	return test_add(s, t, 1);
}

int
arca_selection_add_exclude_device_files(struct arca_selection *s)
{
	struct sel_test *t;

	if ((t = test_new(s, SEL_DEVICES, 0, "Exclude device files",
	    NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	return test_add(s, t, 1);
}

int
arca_selection_add_exclude_other_filesystems(struct arca_selection *s,
    dev_t root_dev)
{
	struct sel_test *t;

	if ((t = test_new(s, SEL_OTHERFS, 0, "Match other filesystems",
	    NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	t->dev = root_dev;
	return test_add(s, t, 0);
}

int
arca_selection_add_exclude_older_than(struct arca_selection *s, int64_t t0)
{
	struct sel_test *t;

	if ((t = test_new(s, SEL_OLDER, 0, "Select older than", NULL)) == NULL)
		return ARCA_ERR_NOMEM;
	t->t = t0;
	return test_add(s, t, 0);
}

int
arca_selection_finish(struct arca_selection *s)
{
	const struct sel_test *t;

	if (s->n == 0)
		return 0;
	t = s->v[s->n - 1];
	if (t->include)
		return arca_error(s->ctx, ARCA_ERR_USAGE,
		    "last selection expression: %s only specifies that files "
		    "be included; because the default is to include all "
		    "files, the expression is redundant", t->desc);
	return 0;
}

static int
run_test(struct arca_selection *s, struct sel_test *t, const struct stat *st,
    int dirfd, size_t *ncp)
{
	struct stat x;
	int r;

	switch (t->kind) {
	case SEL_GLOB:
		if (*ncp == SIZE_MAX)
			*ncp = arca_glob_decode((const char *)s->path.data,
			    s->path.len, s->cp);
		r = arca_glob_match(t->glob, s->cp, *ncp,
		    S_ISDIR(st->st_mode), t->include);
		if (r == ARCA_GLOB_SCAN)
			return ARCA_SEL_SCAN;
		if (r == ARCA_GLOB_MATCH)
			return t->include;
		return ARCA_SEL_NONE;
	case SEL_REGEXP:
		if (regexec(&t->re, (const char *)s->path.data, 0, NULL,
		    0) == 0)
			return t->include;
		return ARCA_SEL_NONE;
	case SEL_PRESENT:
		if (!S_ISDIR(st->st_mode) || dirfd < 0)
			return ARCA_SEL_NONE;
		if (fstatat(dirfd, t->name, &x, AT_SYMLINK_NOFOLLOW) == 0)
			return ARCA_SEL_EXCLUDE;
		if (errno != ENOENT)
			arca_warn(s->ctx, "cannot check for %s in %s: %s",
			    t->name, (const char *)s->path.data,
			    strerror(errno));
		return ARCA_SEL_NONE;
	case SEL_DEVICES:
		if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
			return ARCA_SEL_EXCLUDE;
		return ARCA_SEL_NONE;
	case SEL_OTHERFS:
		return st->st_dev != t->dev ? ARCA_SEL_EXCLUDE : ARCA_SEL_NONE;
	case SEL_OLDER:
		/*
		 * duplicity compares the float mtime with an integer time:
		 * for an integer t, mtime < t exactly when its whole seconds
		 * are.
		 */
		if (S_ISREG(st->st_mode) && (int64_t)st->st_mtim.tv_sec < t->t)
			return ARCA_SEL_EXCLUDE;
		return ARCA_SEL_NONE;
	}
	return ARCA_SEL_NONE;
}

int
arca_selection_test(struct arca_selection *s, const char *index,
    const struct stat *st, int dirfd)
{
	size_t i, ncp = SIZE_MAX;
	int r, result = ARCA_SEL_NONE, scan = 0;

	if (*index == '\0' || s->n == 0)
		return ARCA_SEL_INCLUDE;
	if ((r = set_path(s, index)) != 0)
		return r;
	for (i = 0; i < s->n; i++) {
		r = run_test(s, s->v[i], st, dirfd, &ncp);
		if (r == ARCA_SEL_SCAN)
			scan = 1;
		else if (r != ARCA_SEL_NONE) {
			result = r;
			break;
		}
	}
	/* A pending scan outranks a later exclude, not a later include. */
	if (scan && result != ARCA_SEL_INCLUDE)
		result = ARCA_SEL_SCAN;
	/* Only a directory can be scanned; anything else is left out. */
	if (result == ARCA_SEL_SCAN && !S_ISDIR(st->st_mode))
		return ARCA_SEL_EXCLUDE;
	if (result == ARCA_SEL_NONE)
		return ARCA_SEL_INCLUDE;
	return result;
}
