/*
 * glob.c: duplicity's glob patterns (spec §13.2).
 *
 * duplicity turns a glob into a Python regular expression and matches it
 * against the decoded path string.  We compile the glob into a token list
 * and run it as a small NFA over code points: linear in the path length for
 * every pattern, where a backtracking matcher could go exponential on
 * patterns with many stars.
 *
 * Three expressions come out of one glob (see spec §13.2):
 *   match  ^G($|/)   the path or one of its ancestors matches
 *   exact  ^G$       used by patterns ending in '/' (directories only)
 *   scan   ^(P0|P1|...)$  P the leading components of G cut after "**"
 * Python's `$` also matches just before a final '\n'; we do the same so a
 * name ending in a newline is selected as duplicity would select it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "select/glob_internal.h"
#include "util/buf.h"
#include "util/ctx.h"

enum glob_kind {
	TOK_LIT,	/* one given character */
	TOK_ANY,	/* ?: one character but '/' */
	TOK_STAR,	/* *: any run without '/' */
	TOK_DSTAR,	/* **: any run at all */
	TOK_CLASS	/* [...]: see class_match */
};

struct glob_tok {
	unsigned char kind;
	unsigned char neg;
	uint32_t c;
	uint32_t *ranges;	/* nr (lo, hi) pairs, TOK_CLASS only */
	size_t nr;
};

struct glob_seq {
	struct glob_tok *t;
	size_t n;
};

struct arca_glob {
	int all;		/* the literal "**" */
	int icase;
	int dir_only;		/* pattern ended in '/' */
	struct glob_seq main;
	struct glob_seq *pre;	/* scan prefixes */
	size_t npre;
	unsigned char *s0, *s1;	/* NFA state sets, maxn + 1 bytes each */
	size_t maxn;
};

static const char ignorecase_kw[] = "ignorecase:";

static uint32_t
fold(uint32_t c)
{
	/*
	 * ASCII only: Python lowercases all of Unicode, but doing that here
	 * would need locale tables the library must not depend on.
	 */
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static uint32_t
upper(uint32_t c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

size_t
arca_glob_decode(const char *s, size_t n, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, len, k;
	uint32_t c, lo, hi;

	while (i < n) {
		c = p[i];
		len = 0;
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			out[o++] = c;
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			/* Exclude overlong forms and UTF-16 surrogates. */
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
			c &= 0x07;
		}
		if (len == 0 || i + len > n || p[i + 1] < lo || p[i + 1] > hi)
			goto bad;
		for (k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				goto bad;
		for (k = 1; k < len; k++)
			c = (c << 6) | (p[i + k] & 0x3f);
		out[o++] = c;
		i += len;
		continue;
bad:
		/*
		 * surrogateescape: one escaped code point per byte; restarting
		 * at the next byte gives Python's result because continuation
		 * bytes are never valid on their own.
		 */
		out[o++] = 0xdc00 + p[i];
		i++;
	}
	return o;
}

static void
seq_free(struct glob_seq *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->t[i].ranges);
	free(s->t);
	s->t = NULL;
	s->n = 0;
}

void
arca_glob_free(struct arca_glob *g)
{
	size_t i;

	if (g == NULL)
		return;
	seq_free(&g->main);
	for (i = 0; i < g->npre; i++)
		seq_free(&g->pre[i]);
	free(g->pre);
	free(g->s0);
	free(g->s1);
	free(g);
}

/*
 * The inside of a class, after duplicity's rewrite to a Python regex class:
 * a leading '!' or '^' negates, a ']' right after that is literal, "a-z" is
 * a range unless the '-' is last, everything else (backslash included) is
 * literal.  Python classes can match '/' and so can ours.
 */
static int
class_parse(struct arca_ctx *ctx, const char *pattern, const uint32_t *p,
    size_t n, struct glob_tok *t)
{
	size_t k = 0;

	t->kind = TOK_CLASS;
	if (p[0] == '!' || p[0] == '^') {
		t->neg = 1;
		k = 1;
	}
	/* n - k items at most, two words each. */
	if ((t->ranges = arca_calloc(n - k + 1, 2 * sizeof(uint32_t))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	while (k < n) {
		t->ranges[2 * t->nr] = p[k];
		if (k + 2 < n && p[k + 1] == '-') {
			if (p[k + 2] < p[k])
				return arca_error(ctx, ARCA_ERR_USAGE,
				    "bad character range in glob pattern %s",
				    pattern);
			t->ranges[2 * t->nr + 1] = p[k + 2];
			k += 3;
		} else {
			t->ranges[2 * t->nr + 1] = p[k];
			k++;
		}
		t->nr++;
	}
	return 0;
}

static int
seq_compile(struct arca_ctx *ctx, const char *pattern, const uint32_t *p,
    size_t n, struct glob_seq *s)
{
	struct glob_tok *t;
	size_t i = 0, j;
	int rc;

	if ((s->t = arca_calloc(n ? n : 1, sizeof(*s->t))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	while (i < n) {
		t = &s->t[s->n++];
		if (p[i] == '*' && i + 1 < n && p[i + 1] == '*') {
			t->kind = TOK_DSTAR;
			i += 2;
		} else if (p[i] == '*') {
			t->kind = TOK_STAR;
			i++;
		} else if (p[i] == '?') {
			t->kind = TOK_ANY;
			i++;
		} else if (p[i] == '[') {
			j = i + 1;
			if (j < n && (p[j] == '!' || p[j] == '^'))
				j++;
			if (j < n && p[j] == ']')
				j++;
			while (j < n && p[j] != ']')
				j++;
			if (j >= n) {
				/* Unterminated: the '[' is literal. */
				t->kind = TOK_LIT;
				t->c = '[';
				i++;
				continue;
			}
			if ((rc = class_parse(ctx, pattern, p + i + 1,
			    j - i - 1, t)) != 0)
				return rc;
			i = j + 1;
		} else {
			t->kind = TOK_LIT;
			t->c = p[i];
			i++;
		}
	}
	return 0;
}

int
arca_glob_new(struct arca_ctx *ctx, const char *pattern,
    struct arca_glob **out)
{
	static const uint32_t rootall[] = { '/', '*', '*' };
	struct arca_glob *g = NULL;
	uint32_t *cp = NULL;
	const uint32_t *p;
	size_t len, n, i, t, kw = sizeof(ignorecase_kw) - 1;
	int rc;

	*out = NULL;
	len = strlen(pattern);
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* duplicity tests for "**" before looking at anything else. */
	if (strcmp(pattern, "**") == 0) {
		g->all = 1;
		*out = g;
		g = NULL;
		rc = 0;
		goto out;
	}
	if ((cp = arca_calloc(len ? len : 1, sizeof(*cp))) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	n = arca_glob_decode(pattern, len, cp);
	p = cp;
	if (n >= kw) {
		for (i = 0; i < kw; i++)
			if (fold(p[i]) != (uint32_t)ignorecase_kw[i])
				break;
		if (i == kw) {
			g->icase = 1;
			p += kw;
			n -= kw;
			for (i = 0; i < n; i++)
				cp[kw + i] = fold(cp[kw + i]);
		}
	}
	if (n == 0) {
		rc = arca_error(ctx, ARCA_ERR_USAGE, "empty glob pattern: '%s'",
		    pattern);
		goto out;
	}
	if (n == 1 && p[0] == '/') {
		/* "/" alone means everything under the file-system root. */
		p = rootall;
		n = 3;
	} else if (p[n - 1] == '/') {
		g->dir_only = 1;
		n--;
	}
	/*
	 * Paths never have empty components, so a "//" can never match;
	 * duplicity refuses most of these and we refuse all of them.
	 */
	for (i = 0; i < n; i++) {
		if (p[i] == '/' && (i + 1 == n || p[i + 1] == '/')) {
			rc = arca_error(ctx, ARCA_ERR_USAGE,
			    "empty path component ('//') in glob pattern %s",
			    pattern);
			goto out;
		}
	}
	if ((rc = seq_compile(ctx, pattern, p, n, &g->main)) != 0)
		goto out;
	g->maxn = g->main.n;

	/* Scan prefixes: the pattern cut after its first "**", ... */
	for (t = 0; t + 1 < n; t++)
		if (p[t] == '*' && p[t + 1] == '*')
			break;
	t = (t + 1 < n) ? t + 2 : n;
	/* ... then cut before each '/' ("" standing for "/"), and whole. */
	if ((g->pre = arca_calloc(t + 1, sizeof(*g->pre))) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i <= t; i++) {
		if (i < t && p[i] != '/')
			continue;
		if ((rc = seq_compile(ctx, pattern, p, i == 0 ? 1 : i,
		    &g->pre[g->npre++])) != 0)
			goto out;
		if (g->pre[g->npre - 1].n > g->maxn)
			g->maxn = g->pre[g->npre - 1].n;
	}
	if ((g->s0 = malloc(g->maxn + 1)) == NULL ||
	    (g->s1 = malloc(g->maxn + 1)) == NULL) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = g;
	g = NULL;
	rc = 0;
out:
	free(cp);
	arca_glob_free(g);
	return rc;
}

int
arca_glob_is_all(const struct arca_glob *g)
{
	return g->all;
}

static int
class_match(const struct glob_tok *t, uint32_t c, int icase)
{
	uint32_t v[3];
	size_t i, j, nv = 1;

	v[0] = c;
	if (icase) {
		/* Python's IGNORECASE tries the lower and upper forms. */
		v[nv++] = fold(c);
		v[nv++] = upper(c);
	}
	for (i = 0; i < t->nr; i++)
		for (j = 0; j < nv; j++)
			if (v[j] >= t->ranges[2 * i] &&
			    v[j] <= t->ranges[2 * i + 1])
				return !t->neg;
	return t->neg;
}

/* Follow the empty moves: a star may match nothing. */
static void
closure(const struct glob_seq *s, unsigned char *set)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (set[i] && (s->t[i].kind == TOK_STAR ||
		    s->t[i].kind == TOK_DSTAR))
			set[i + 1] = 1;
}

static int
at_end(const uint32_t *p, size_t n, size_t k, int prefix)
{
	if (k == n || (k + 1 == n && p[k] == '\n'))
		return 1;
	return prefix && p[k] == '/';
}

/*
 * Does s match p from its start up to the end (prefix: or up to a '/')?
 * set[i] means the first i tokens have consumed p[0..k).
 */
static int
seq_run(struct arca_glob *g, const struct glob_seq *s, const uint32_t *p,
    size_t n, int prefix)
{
	const struct glob_tok *t;
	unsigned char *cur = g->s0, *nxt = g->s1, *tmp;
	uint32_t c;
	size_t i, k;
	int live;

	memset(cur, 0, s->n + 1);
	cur[0] = 1;
	closure(s, cur);
	for (k = 0;; k++) {
		if (cur[s->n] && at_end(p, n, k, prefix))
			return 1;
		if (k == n)
			return 0;
		c = p[k];
		memset(nxt, 0, s->n + 1);
		live = 0;
		for (i = 0; i < s->n; i++) {
			if (!cur[i])
				continue;
			t = &s->t[i];
			switch (t->kind) {
			case TOK_LIT:
				if ((g->icase ? fold(c) : c) == t->c)
					nxt[i + 1] = live = 1;
				break;
			case TOK_ANY:
				if (c != '/')
					nxt[i + 1] = live = 1;
				break;
			case TOK_STAR:
				if (c != '/')
					nxt[i] = live = 1;
				break;
			case TOK_DSTAR:
				nxt[i] = live = 1;
				break;
			case TOK_CLASS:
				if (class_match(t, c, g->icase))
					nxt[i + 1] = live = 1;
				break;
			}
		}
		if (!live)
			return 0;
		closure(s, nxt);
		tmp = cur;
		cur = nxt;
		nxt = tmp;
	}
}

int
arca_glob_match(struct arca_glob *g, const uint32_t *p, size_t n, int isdir,
    int want_scan)
{
	size_t i;

	if (g->all)
		return ARCA_GLOB_MATCH;
	if (seq_run(g, &g->main, p, n, 1)) {
		/*
		 * "dir/" matches the directory itself only if it is one, but
		 * still everything below a matching directory.
		 */
		if (g->dir_only && seq_run(g, &g->main, p, n, 0))
			return isdir ? ARCA_GLOB_MATCH : ARCA_GLOB_NONE;
		return ARCA_GLOB_MATCH;
	}
	if (want_scan)
		for (i = 0; i < g->npre; i++)
			if (seq_run(g, &g->pre[i], p, n, 0))
				return ARCA_GLOB_SCAN;
	return ARCA_GLOB_NONE;
}
