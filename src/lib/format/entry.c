/*
 * entry.c: entry metadata, and duplicity's tar member names (§7.1, §8.1).
 *
 * Member names come from volumes and signature files, i.e. from the target,
 * so the parser is the first line of the path policy: a name that could
 * climb out of the restore directory is refused here with ARCA_ERR_UNSAFE,
 * before any later stage sees it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "format/entry.h"
#include "util/buf.h"
#include "util/path.h"

void
arca_meta_clear(struct arca_meta *m)
{
	if (m == NULL)
		return;
	free(m->linkname);
	memset(m, 0, sizeof(*m));
}

int
arca_meta_copy(struct arca_meta *dst, const struct arca_meta *src)
{
	char *ln = NULL;

	if (dst == src)
		return 0;
	if (src->linkname != NULL &&
	    (ln = arca_strdup(src->linkname)) == NULL)
		return ARCA_ERR_NOMEM;
	free(dst->linkname);
	*dst = *src;
	dst->linkname = ln;
	return 0;
}

static const struct {
	const char *word;	/* including the '/' */
	enum arca_mkind kind;
} prefixes[] = {
	{ "snapshot/", ARCA_M_SNAPSHOT },
	{ "diff/", ARCA_M_DIFF },
	{ "deleted/", ARCA_M_DELETED },
	{ "signature/", ARCA_M_SIGNATURE },
	{ "multivol_snapshot/", ARCA_M_MV_SNAPSHOT },
	{ "multivol_diff/", ARCA_M_MV_DIFF },
};
#define NPREFIXES (sizeof(prefixes) / sizeof(prefixes[0]))

static const char *
prefix_of(enum arca_mkind kind)
{
	size_t i;

	for (i = 0; i < NPREFIXES; i++)
		if (prefixes[i].kind == kind)
			return prefixes[i].word;
	return NULL;
}

static int
is_multivol(enum arca_mkind kind)
{
	return kind == ARCA_M_MV_SNAPSHOT || kind == ARCA_M_MV_DIFF;
}

/*
 * Check the path part p[0..n) component by component.  ".." or a leading
 * '/' is an attack; empty or "." components inside a path are merely
 * malformed (no writer makes them) and would break the index order.
 */
static int
check_path(const char *p, size_t n)
{
	size_t i = 0, j;

	if (n > 0 && p[0] == '/')
		return ARCA_ERR_UNSAFE;
	while (i <= n) {
		for (j = i; j < n && p[j] != '/'; j++)
			;
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
			return ARCA_ERR_UNSAFE;
		if (j == i || (j - i == 1 && p[i] == '.'))
			return ARCA_ERR_CORRUPT;
		i = j + 1;
	}
	return 0;
}

int
arca_member_parse(const char *name, size_t len, enum arca_mkind *kind,
    struct arca_buf *path, unsigned long *chunk)
{
	const char *p = NULL, *d;
	size_t i, n = 0, k;
	unsigned long c = 0;
	int rc;

	if (memchr(name, '\0', len) != NULL)
		return ARCA_ERR_CORRUPT;
	for (i = 0; i < NPREFIXES; i++) {
		k = strlen(prefixes[i].word);
		if (len >= k && memcmp(name, prefixes[i].word, k) == 0) {
			p = name + k;
			n = len - k;
			break;
		}
	}
	if (i == NPREFIXES)
		return ARCA_ERR_CORRUPT;
	if (is_multivol(prefixes[i].kind)) {
		/* Everything before the last "/<digits>" is the path. */
		for (d = p + n; d > p && d[-1] >= '0' && d[-1] <= '9'; d--)
			;
		if (d == p + n)
			return ARCA_ERR_CORRUPT;
		for (k = (size_t)(d - p); k < n; k++) {
			if (c > (ULONG_MAX - 9) / 10)
				return ARCA_ERR_CORRUPT;
			c = c * 10 + (unsigned long)(p[k] - '0');
		}
		if (d == p)
			n = 0;	/* "multivol_x/<k>": duplicity reads the root */
		else if (d[-1] != '/')
			return ARCA_ERR_CORRUPT;
		else
			n = (size_t)(d - 1 - p);
	} else {
		while (n > 0 && p[n - 1] == '/')
			n--;
	}
	if (n == 1 && p[0] == '.')
		n = 0;
	if (n > ARCA_MEMBER_INDEX_MAX)
		return ARCA_ERR_CORRUPT;
	if (n > 0 && (rc = check_path(p, n)) != 0)
		return rc;
	arca_buf_reset(path);
	if ((rc = arca_buf_append(path, p, n)) != 0)
		return rc;
	*kind = prefixes[i].kind;
	*chunk = c;
	return 0;
}

int
arca_member_name(struct arca_buf *out, enum arca_mkind kind,
    const char *index, int is_dir, int root_dot, unsigned long chunk)
{
	const char *pfx = prefix_of(kind);
	int rc;

	if (pfx == NULL)
		return ARCA_ERR_USAGE;
	if (!arca_path_is_safe(index))
		return ARCA_ERR_UNSAFE;
	if ((rc = arca_buf_puts(out, pfx)) != 0)
		return rc;
	if (*index == '\0') {
		/* The root: "snapshot/./" in volumes, "snapshot/" in sigtars. */
		if (root_dot && (rc = arca_buf_puts(out, is_multivol(kind) ||
		    (kind == ARCA_M_SNAPSHOT && is_dir) ? "./" : ".")) != 0)
			return rc;
		if (!root_dot && is_multivol(kind) &&
		    (rc = arca_buf_putc(out, '/')) != 0)
			return rc;
	} else {
		if ((rc = arca_buf_puts(out, index)) != 0)
			return rc;
		/* deleted/ never has the slash, even for a directory. */
		if (kind == ARCA_M_SNAPSHOT && is_dir &&
		    (rc = arca_buf_putc(out, '/')) != 0)
			return rc;
		if (is_multivol(kind) && (rc = arca_buf_putc(out, '/')) != 0)
			return rc;
	}
	if (is_multivol(kind))
		return arca_buf_printf(out, "%lu", chunk);
	return 0;
}
