/*
 * manifest.c: the manifest of a backup set (spec §5).
 *
 * The writers reproduce duplicity's bytes exactly, trailing spaces
 * included, so a manifest we write is indistinguishable from one of its
 * own.  The reader follows duplicity's parsing rules, which are looser than
 * its writer (case-insensitive keywords, whitespace-split lines, unknown
 * lines ignored), and adds the checks that keep hostile text harmless:
 * a size cap, no NUL bytes in names, well-formed numbers and digests, and
 * volumes numbered 1..n without gaps.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arca/arca_error.h"
#include "format/manifest.h"
#include "util/buf.h"
#include "util/ctx.h"

/* The bytes Python's bytes.split() treats as whitespace. */
static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Bytes that force quoting (§5.3): whitespace, backslash and both quotes. */
static int
must_escape(int c)
{
	return is_ws(c) || c == '\\' || c == '"' || c == '\'';
}

int
arca_manifest_quote(struct arca_buf *out, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int rc, any = 0;

	if (*path == '\0')
		return arca_buf_putc(out, '.');
	for (p = (const unsigned char *)path; *p != '\0'; p++)
		if (must_escape(*p))
			any = 1;
	if (!any)
		return arca_buf_puts(out, path);
	if ((rc = arca_buf_putc(out, '"')) != 0)
		return rc;
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (must_escape(*p)) {
			char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };

			rc = arca_buf_append(out, e, 4);
		} else
			rc = arca_buf_putc(out, *p);
		if (rc != 0)
			return rc;
	}
	return arca_buf_putc(out, '"');
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Unquote without the "." -> root rule (Localdir is a path, not an index).
 * Appends to out.  A value that would hold a NUL byte is refused: names
 * are C strings everywhere else.
 */
static int
unquote_raw(struct arca_buf *out, const char *s, size_t n)
{
	size_t i;
	int hi, lo, rc;

	if (n == 0)
		return ARCA_ERR_CORRUPT;
	if (s[0] != '"') {
		if (memchr(s, '\0', n) != NULL)
			return ARCA_ERR_CORRUPT;
		return arca_buf_append(out, s, n);
	}
	if (n < 2 || s[n - 1] != '"')
		return ARCA_ERR_CORRUPT;
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '\\') {
			if (i + 3 >= n - 1 || s[i + 1] != 'x' ||
			    (hi = hexval((unsigned char)s[i + 2])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 3])) < 0 ||
			    (hi | lo) == 0)
				return ARCA_ERR_CORRUPT;
			rc = arca_buf_putc(out, hi << 4 | lo);
			i += 3;
		} else if (s[i] == '\0')
			return ARCA_ERR_CORRUPT;
		else
			rc = arca_buf_putc(out, s[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
arca_manifest_unquote(struct arca_buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	int rc;

	if ((rc = unquote_raw(out, s, n)) != 0)
		return rc;
	/* An empty index is not something any writer produces. */
	if (out->len == start)
		return ARCA_ERR_CORRUPT;
	if (out->len == start + 1 && out->data[start] == '.') {
		out->len = start;
		out->data[start] = '\0';
	}
	return 0;
}

/* --- writers --- */

int
arca_manifest_fmt_header(struct arca_buf *out, const char *hostname,
    const char *localdir)
{
	int rc;

	if (hostname != NULL && *hostname != '\0') {
		/* Written raw, so it must stay on its line. */
		if (strchr(hostname, '\n') != NULL)
			return ARCA_ERR_USAGE;
		if ((rc = arca_buf_printf(out, "Hostname %s\n", hostname)) != 0)
			return rc;
	}
	if (localdir != NULL && *localdir != '\0') {
		if ((rc = arca_buf_puts(out, "Localdir ")) != 0 ||
		    (rc = arca_manifest_quote(out, localdir)) != 0 ||
		    (rc = arca_buf_putc(out, '\n')) != 0)
			return rc;
	}
	return 0;
}

/* "<quoted index> <block>" or "<quoted index>  " (two spaces). */
static int
fmt_pos(struct arca_buf *out, const char *key, const char *path, long block)
{
	int rc;

	if ((rc = arca_buf_puts(out, key)) != 0 ||
	    (rc = arca_manifest_quote(out, path)) != 0)
		return rc;
	if (block >= 0)
		return arca_buf_printf(out, " %ld\n", block);
	return arca_buf_puts(out, "  \n");
}

int
arca_manifest_fmt_volume(struct arca_buf *out,
    const struct arca_manifest_vol *v)
{
	int rc;

	if (v->start_path == NULL || v->end_path == NULL)
		return ARCA_ERR_USAGE;
	if ((rc = arca_buf_printf(out, "Volume %u:\n", v->num)) != 0 ||
	    (rc = fmt_pos(out, "    StartingPath   ", v->start_path,
	    v->start_block)) != 0 ||
	    (rc = fmt_pos(out, "    EndingPath     ", v->end_path,
	    v->end_block)) != 0)
		return rc;
	if (v->hash_name[0] != '\0')
		return arca_buf_printf(out, "    Hash %s %s\n", v->hash_name,
		    v->hash_hex);
	return 0;
}

int
arca_manifest_fmt_filelist_head(struct arca_buf *out, uint64_t count)
{
	return arca_buf_printf(out, "Filelist %llu\n",
	    (unsigned long long)count);
}

int
arca_manifest_fmt_change(struct arca_buf *out, char type, const char *path)
{
	const char *word;
	int rc;

	switch (type) {
	case ARCA_CHANGE_NEW: word = "new"; break;
	case ARCA_CHANGE_CHANGED: word = "changed"; break;
	case ARCA_CHANGE_DELETED: word = "deleted"; break;
	default: return ARCA_ERR_USAGE;
	}
	if ((rc = arca_buf_printf(out, "    %-7s  ", word)) != 0 ||
	    (rc = arca_manifest_quote(out, path)) != 0)
		return rc;
	return arca_buf_putc(out, '\n');
}

/* --- reader --- */

struct text {
	const char *p;
	size_t n;
};

void
arca_manifest_free(struct arca_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->hostname);
	free(m->localdir);
	for (i = 0; i < m->nvols; i++) {
		free(m->vols[i].start_path);
		free(m->vols[i].end_path);
	}
	free(m->vols);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m);
}

static void
vol_clear(struct arca_manifest_vol *v)
{
	free(v->start_path);
	free(v->end_path);
	memset(v, 0, sizeof(*v));
}

/* Next whitespace-separated token of line [*p, e); 0 when none is left. */
static int
token(const char **p, const char *e, struct text *t)
{
	while (*p < e && is_ws((unsigned char)**p))
		(*p)++;
	if (*p == e)
		return 0;
	t->p = *p;
	while (*p < e && !is_ws((unsigned char)**p))
		(*p)++;
	t->n = (size_t)(*p - t->p);
	return 1;
}

static int
tok_is(const struct text *t, const char *word)
{
	return t->n == strlen(word) && strncasecmp(t->p, word, t->n) == 0;
}

/* Does a line starting at p begin with word (any case) + whitespace? */
static int
line_starts(const char *p, const char *e, const char *word)
{
	size_t k = strlen(word);

	return (size_t)(e - p) > k && strncasecmp(p, word, k) == 0 &&
	    is_ws((unsigned char)p[k]);
}

/* Decimal digits only, at most max; -1 when not a number or too big. */
static long long
number(const char *p, size_t n, long long max)
{
	long long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (max - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
index_dup(struct arca_ctx *ctx, const struct text *t, char **out)
{
	struct arca_buf b = { 0 };
	int rc;

	if ((rc = arca_manifest_unquote(&b, t->p, t->n)) != 0) {
		arca_buf_free(&b);
		if (rc == ARCA_ERR_CORRUPT)
			return arca_error(ctx, rc, "manifest: bad path '%.*s'",
			    (int)(t->n > 200 ? 200 : t->n), t->p);
		return arca_error(ctx, rc, "out of memory");
	}
	*out = arca_buf_steal(&b);
	return *out ? 0 : arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
}

/*
 * `Hostname`/`Localdir`: the first line starting with the keyword and one
 * whitespace byte; the value runs to the end of that line, which must end.
 */
static int
get_field(struct arca_ctx *ctx, const char *s, size_t len, const char *key,
    char **out)
{
	const char *p = s, *e = s + len, *nl;
	size_t k = strlen(key);
	struct arca_buf b = { 0 };
	int rc;

	for (;;) {
		if (line_starts(p, e, key) &&
		    (nl = memchr(p + k + 1, '\n', (size_t)(e - p - k - 1))) != NULL)
			break;
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			return 0;
		p = nl + 1;
	}
	p += k + 1;
	if (nl == p)
		return 0;
	if ((rc = unquote_raw(&b, p, (size_t)(nl - p))) != 0) {
		arca_buf_free(&b);
		if (rc == ARCA_ERR_CORRUPT)
			return arca_error(ctx, rc, "manifest: bad %s value", key);
		return arca_error(ctx, rc, "out of memory");
	}
	if ((*out = arca_buf_steal(&b)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

/* The best hash wins: SHA1, then MD5, then whatever came first. */
static int
hash_rank(const struct text *name)
{
	if (name->n == 4 && memcmp(name->p, "SHA1", 4) == 0)
		return 3;
	if (name->n == 3 && memcmp(name->p, "MD5", 3) == 0)
		return 2;
	return 1;
}

static int
set_hash(struct arca_ctx *ctx, struct arca_manifest_vol *v, int *rank,
    const struct text *name, const struct text *val)
{
	int r = hash_rank(name);
	size_t i;

	if (name->n >= sizeof(v->hash_name))
		return 0;	/* a digest we could never check anyway */
	if (r < *rank || (r == *rank && r == 1 &&
	    !(strlen(v->hash_name) == name->n &&
	    memcmp(v->hash_name, name->p, name->n) == 0)))
		return 0;
	if (val->n == 0 || val->n >= sizeof(v->hash_hex))
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: volume %u: bad hash length", v->num);
	for (i = 0; i < val->n; i++) {
		if (hexval((unsigned char)val->p[i]) < 0)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "manifest: volume %u: bad hash value", v->num);
		v->hash_hex[i] = (char)(val->p[i] | 0x20);
	}
	v->hash_hex[val->n] = '\0';
	memcpy(v->hash_name, name->p, name->n);
	v->hash_name[name->n] = '\0';
	*rank = r;
	return 0;
}

/* StartingPath/EndingPath: an index and an optional block number. */
static int
set_pos(struct arca_ctx *ctx, struct arca_manifest_vol *v, const char *p,
    const char *e, char **path, long *block)
{
	struct text t;
	long long b;
	int rc;

	if (!token(&p, e, &t))
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: volume %u: path missing", v->num);
	free(*path);
	*path = NULL;
	if ((rc = index_dup(ctx, &t, path)) != 0)
		return rc;
	*block = -1;
	if (token(&p, e, &t)) {
		if ((b = number(t.p, t.n, LONG_MAX)) < 0)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "manifest: volume %u: bad block number", v->num);
		*block = (long)b;
	}
	return 0;
}

/* One volume block, s..e, already known to start with "volume". */
static int
parse_block(struct arca_ctx *ctx, const char *s, const char *e,
    struct arca_manifest_vol *v)
{
	const char *p, *nl, *q;
	struct text t, t2;
	long long num;
	int rc, rank = 0;

	/* Mirror Python's strip(): only the first line's start matters. */
	while (e > s && is_ws((unsigned char)e[-1]))
		e--;
	memset(v, 0, sizeof(*v));
	v->start_block = v->end_block = -1;
	nl = memchr(s, '\n', (size_t)(e - s));
	if (nl == NULL)
		nl = e;
	/* "Volume <digits>:" with exactly one space, keyword in any case. */
	for (q = s + 7; q < nl && *q >= '0' && *q <= '9'; q++)
		;
	if (nl - s < 9 || strncasecmp(s, "volume ", 7) != 0 || q == s + 7 ||
	    q == nl || *q != ':')
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: bad volume line '%.*s'",
		    (int)(nl - s > 60 ? 60 : nl - s), s);
	if ((num = number(s + 7, (size_t)(q - s - 7), UINT_MAX)) < 0)
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: volume number too large");
	v->num = (unsigned)num;
	for (p = nl; p < e; p = nl) {
		p++;
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		q = p;
		if (!token(&q, nl, &t))
			continue;
		if (tok_is(&t, "startingpath"))
			rc = set_pos(ctx, v, q, nl, &v->start_path,
			    &v->start_block);
		else if (tok_is(&t, "endingpath"))
			rc = set_pos(ctx, v, q, nl, &v->end_path, &v->end_block);
		else if (tok_is(&t, "hash")) {
			if (!token(&q, nl, &t) || !token(&q, nl, &t2))
				return arca_error(ctx, ARCA_ERR_CORRUPT,
				    "manifest: volume %u: bad hash line",
				    v->num);
			rc = set_hash(ctx, v, &rank, &t, &t2);
		} else
			rc = 0;	/* e.g. the Filelist, which ends up here */
		if (rc != 0)
			return rc;
	}
	if (v->start_path == NULL || v->end_path == NULL)
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: volume %u lacks %s", v->num,
		    v->start_path == NULL ? "StartingPath" : "EndingPath");
	return 0;
}

/* Start of the next line at or after p that begins a volume block. */
static const char *
next_block(const char *p, const char *e, int at_line_start)
{
	const char *nl;

	if (at_line_start && line_starts(p, e, "volume"))
		return p;
	while ((nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		p = nl + 1;
		if (line_starts(p, e, "volume"))
			return p;
	}
	return NULL;
}

/*
 * Apply the blocks as duplicity does: a later block replaces an earlier one
 * with the same number, and numbers above the last block's are dropped
 * (a resumed backup redoes the last uploaded volume).  Then demand 1..n.
 */
static int
resolve(struct arca_ctx *ctx, struct arca_manifest_vol *blk, size_t nblk,
    struct arca_manifest *m)
{
	unsigned last, high = 0;
	unsigned char *seen = NULL;
	size_t i;

	if (nblk == 0)
		return 0;
	last = blk[nblk - 1].num;
	for (i = 0; i < nblk; i++)
		if (blk[i].num > high)
			high = blk[i].num;
	/* Each number needs a block of its own, so more would be a gap. */
	if (last == 0 || last > nblk || high - last > nblk)
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: volume numbers have gaps (last is %u)", last);
	/*
	 * The dropped numbers must be there too: duplicity fails on a
	 * manifest where one of them is missing, and so do we.
	 */
	if (high > last) {
		if ((seen = arca_calloc(high - last, 1)) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		for (i = 0; i < nblk; i++)
			if (blk[i].num > last)
				seen[blk[i].num - last - 1] = 1;
		for (i = 0; i < high - last && seen[i]; i++)
			;
		free(seen);
		if (i < high - last)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "manifest: volume %zu missing", last + i + 1);
	}
	if ((m->vols = arca_calloc(last, sizeof(*m->vols))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	m->nvols = last;
	for (i = 0; i < nblk; i++) {
		if (blk[i].num == 0)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "manifest: volume 0");
		if (blk[i].num > last)
			continue;
		vol_clear(&m->vols[blk[i].num - 1]);
		m->vols[blk[i].num - 1] = blk[i];
		memset(&blk[i], 0, sizeof(blk[i]));
	}
	for (i = 0; i < last; i++)
		if (m->vols[i].num == 0)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "manifest: volume %zu missing", i + 1);
	return 0;
}

static int
parse_volumes(struct arca_ctx *ctx, const char *s, size_t len,
    struct arca_manifest *m)
{
	const char *e = s + len, *b, *nb, *end;
	struct arca_manifest_vol *blk = NULL, *nblkp;
	size_t nblk = 0, cap = 0, i;
	int rc = 0;

	for (b = next_block(s, e, 1); b != NULL; b = nb) {
		nb = next_block(b, e, 0);
		end = nb ? nb - 1 : e;
		if (nblk == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nblkp = arca_reallocarray(blk, cap,
			    sizeof(*blk))) == NULL) {
				rc = arca_error(ctx, ARCA_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			blk = nblkp;
		}
		rc = parse_block(ctx, b, end, &blk[nblk]);
		nblk++;
		if (rc != 0)
			goto out;
	}
	rc = resolve(ctx, blk, nblk, m);
out:
	for (i = 0; i < nblk; i++)
		vol_clear(&blk[i]);
	free(blk);
	return rc;
}

static int
add_change(struct arca_ctx *ctx, struct arca_manifest *m, size_t *cap,
    const char *p, const char *e)
{
	struct arca_manifest_change *nf;
	struct arca_buf path = { 0 };
	struct text t, word;
	char type;
	int rc;

	if (!token(&p, e, &word))
		return 0;
	if (tok_is(&word, "new"))
		type = ARCA_CHANGE_NEW;
	else if (tok_is(&word, "changed"))
		type = ARCA_CHANGE_CHANGED;
	else if (tok_is(&word, "deleted"))
		type = ARCA_CHANGE_DELETED;
	else
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: unknown Filelist type '%.*s'",
		    (int)(word.n > 20 ? 20 : word.n), word.p);
	/* duplicity glues the remaining tokens together. */
	while (token(&p, e, &t)) {
		if ((rc = arca_buf_append(&path, t.p, t.n)) != 0)
			goto out;
	}
	if (m->nfiles == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nf = arca_reallocarray(m->files, *cap,
		    sizeof(*nf))) == NULL) {
			rc = ARCA_ERR_NOMEM;
			goto out;
		}
		m->files = nf;
	}
	t.p = path.data ? (const char *)path.data : "";
	t.n = path.len;
	m->files[m->nfiles].type = type;
	if ((rc = index_dup(ctx, &t, &m->files[m->nfiles].path)) != 0)
		goto out;
	m->nfiles++;
out:
	arca_buf_free(&path);
	if (rc == ARCA_ERR_NOMEM)
		return arca_error(ctx, rc, "out of memory");
	return rc;
}

/*
 * "Filelist <n>\n" at a line start, then lines up to the next volume block
 * or the end.  Without such a header there is no list, as for duplicity.
 */
static int
parse_filelist(struct arca_ctx *ctx, const char *s, size_t len,
    struct arca_manifest *m)
{
	const char *p = s, *e = s + len, *q, *nl, *end;
	long long count = -1;
	size_t cap = 0;
	int rc;

	for (;;) {
		if (line_starts(p, e, "filelist")) {
			for (q = p + 9; q < e && *q >= '0' && *q <= '9'; q++)
				;
			if (q > p + 9 && q < e && *q == '\n') {
				count = number(p + 9, (size_t)(q - p - 9),
				    LLONG_MAX);
				if (count < 0)
					return arca_error(ctx, ARCA_ERR_CORRUPT,
					    "manifest: bad Filelist count");
				break;
			}
		}
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			return 0;
		p = nl + 1;
	}
	p = q + 1;
	end = next_block(p, e, 1);
	if (end == NULL)
		end = e;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((rc = add_change(ctx, m, &cap, p, nl)) != 0)
			return rc;
	}
	if ((unsigned long long)count != m->nfiles)
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest: Filelist says %lld files but lists %zu", count,
		    m->nfiles);
	return 0;
}

int
arca_manifest_parse(struct arca_ctx *ctx, const char *text, size_t len,
    int flags, struct arca_manifest **out)
{
	struct arca_manifest *m = NULL;
	int rc;

	*out = NULL;
	if (len > ARCA_MANIFEST_MAX)
		return arca_error(ctx, ARCA_ERR_CORRUPT,
		    "manifest too large (%zu bytes)", len);
	if ((m = arca_calloc(1, sizeof(*m))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((rc = get_field(ctx, text, len, "hostname", &m->hostname)) != 0 ||
	    (rc = get_field(ctx, text, len, "localdir", &m->localdir)) != 0 ||
	    (rc = parse_volumes(ctx, text, len, m)) != 0)
		goto out;
	if ((flags & ARCA_MANIFEST_FILELIST) &&
	    (rc = parse_filelist(ctx, text, len, m)) != 0)
		goto out;
	*out = m;
	m = NULL;
out:
	arca_manifest_free(m);
	return rc;
}
