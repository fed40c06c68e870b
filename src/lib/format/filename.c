/*
 * filename.c: duplicity's remote file names (spec §2).
 *
 * The reader follows duplicity's patterns closely, because a name it
 * accepts and we do not (or the reverse) makes the two tools disagree on
 * what a target holds.  Deliberate tightenings: prefixes are matched
 * literally (duplicity pastes them into a regex unescaped); names ending in
 * ".par2" are never ours (the par2 wrapper's files would otherwise parse as
 * a second copy of a volume); and a long name's time must be one of the two
 * forms any writer produced (16-char UTC, legacy with zone), where duplicity
 * runs it through its user time parser and so would also take Unix seconds,
 * dates, or even "60D" (relative to now) as a backup time.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arca/arca_error.h"
#include "format/filename.h"
#include "util/timefmt.h"

#define ARCA_FNAME_MAX 4096	/* longer names are never ours */

struct span {
	const char *p;
	size_t n;
};

static int
ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Match literal lit at *p, advancing; 1 on match. */
static int
lit(const char **p, const char *e, const char *l)
{
	size_t k = strlen(l);

	if ((size_t)(e - *p) < k || memcmp(*p, l, k) != 0)
		return 0;
	*p += k;
	return 1;
}

/*
 * After a kind word: an optional partial marker (".part", or ".p" in short
 * names), then end of name or a dot.  The marker only counts when it is
 * itself followed by end or dot, as in duplicity's `(\.part)?($|\.)`.
 */
static int
tail_end(const char *p, const char *e, const char *part, int *partial)
{
	const char *q = p;

	*partial = 0;
	if (part != NULL && lit(&q, e, part) && (q == e || *q == '.')) {
		*partial = 1;
		return 1;
	}
	return p == e || *p == '.';
}

/*
 * A structural match of one pattern: where the time and volume fields are.
 * Converting them is a second step, because duplicity decides which pattern
 * applies before it looks at the fields: a name whose chosen pattern has a
 * bad time is not retried against the other patterns of its group.
 */
struct match {
	enum arca_fkind kind;
	int is_short;
	struct span t1, t2;	/* t1 only for full kinds */
	struct span vol;
	int partial;
};

/* Long-name tail: ".volN.difftar" + end. */
static int
tail_vol(const char *p, const char *e, struct match *m)
{
	if (!lit(&p, e, ".vol"))
		return 0;
	m->vol.p = p;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	m->vol.n = (size_t)(p - m->vol.p);
	if (m->vol.n == 0 || !lit(&p, e, ".difftar"))
		return 0;
	return tail_end(p, e, ".part", &m->partial);
}

/* Long-name tail: "." kw + end. */
static int
tail_kw(const char *p, const char *e, const char *kw, int *partial)
{
	if (!lit(&p, e, ".") || !lit(&p, e, kw))
		return 0;
	return tail_end(p, e, ".part", partial);
}

static int
tail_match(const char *p, const char *e, struct match *m)
{
	switch (m->kind) {
	case ARCA_FK_FULL_VOL:
	case ARCA_FK_INC_VOL:
		return tail_vol(p, e, m);
	case ARCA_FK_FULL_MANIFEST:
	case ARCA_FK_INC_MANIFEST:
		return tail_kw(p, e, "manifest", &m->partial);
	default:
		return tail_kw(p, e, "sigtar", &m->partial);
	}
}

/*
 * `(?<time>.*?)` followed by the tail: the shortest time for which the tail
 * matches (a regex '.' never crosses a newline).
 */
static int
lazy_one(const char *p, const char *e, struct span *t, struct match *m)
{
	const char *q;

	for (q = p; q <= e; q++) {
		if (tail_match(q, e, m)) {
			t->p = p;
			t->n = (size_t)(q - p);
			return 1;
		}
		if (q < e && *q == '\n')
			break;
	}
	return 0;
}

/* `(?<start>.*?)\.to\.(?<end>.*?)` followed by the tail. */
static int
lazy_two(const char *p, const char *e, struct match *m)
{
	const char *q, *r;

	for (q = p; q <= e; q++) {
		r = q;
		if (lit(&r, e, ".to.") && lazy_one(r, e, &m->t2, m)) {
			m->t1.p = p;
			m->t1.n = (size_t)(q - p);
			return 1;
		}
		if (q < e && *q == '\n')
			break;
	}
	return 0;
}

static int
long_match(const char *p, const char *e, enum arca_fkind kind,
    struct match *m)
{
	static const struct {
		enum arca_fkind kind;
		const char *head;
		int two;
	} heads[] = {
		{ ARCA_FK_FULL_VOL, "duplicity-full.", 0 },
		{ ARCA_FK_FULL_MANIFEST, "duplicity-full.", 0 },
		{ ARCA_FK_INC_VOL, "duplicity-inc.", 1 },
		{ ARCA_FK_INC_MANIFEST, "duplicity-inc.", 1 },
		{ ARCA_FK_FULL_SIG, "duplicity-full-signatures.", 0 },
		{ ARCA_FK_NEW_SIG, "duplicity-new-signatures.", 1 },
	};
	size_t i;

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	for (i = 0; heads[i].kind != kind; i++)
		;
	if (!lit(&p, e, heads[i].head))
		return 0;
	if (heads[i].two)
		return lazy_two(p, e, m);
	return lazy_one(p, e, &m->t1, m);
}

/* A short-name field [0-9a-z]+ (fields never hold dots). */
static int
field(const char **p, const char *e, struct span *f)
{
	const char *s = *p;

	while (*p < e && ((**p >= '0' && **p <= '9') ||
	    (**p >= 'a' && **p <= 'z')))
		(*p)++;
	if (*p == s)
		return 0;
	f->p = s;
	f->n = (size_t)(*p - s);
	return 1;
}

/*
 * Short names: "df." T "." N ".dt", "df." T ".m", "di." T1 "." T2 "." N
 * ".dt", "di." T1 "." T2 ".m", "dfs." T ".st", "dns." T1 "." T2 ".st".
 */
static int
short_match(const char *p, const char *e, enum arca_fkind kind,
    struct match *m)
{
	int full = kind == ARCA_FK_FULL_VOL || kind == ARCA_FK_FULL_MANIFEST ||
	    kind == ARCA_FK_FULL_SIG;
	const char *head, *word;

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->is_short = 1;
	switch (kind) {
	case ARCA_FK_FULL_VOL: head = "df."; word = ".dt"; break;
	case ARCA_FK_FULL_MANIFEST: head = "df."; word = ".m"; break;
	case ARCA_FK_INC_VOL: head = "di."; word = ".dt"; break;
	case ARCA_FK_INC_MANIFEST: head = "di."; word = ".m"; break;
	case ARCA_FK_FULL_SIG: head = "dfs."; word = ".st"; break;
	default: head = "dns."; word = ".st"; break;
	}
	if (!lit(&p, e, head) || !field(&p, e, &m->t1))
		return 0;
	if (!full && (!lit(&p, e, ".") || !field(&p, e, &m->t2)))
		return 0;
	if ((kind == ARCA_FK_FULL_VOL || kind == ARCA_FK_INC_VOL) &&
	    (!lit(&p, e, ".") || !field(&p, e, &m->vol)))
		return 0;
	if (!lit(&p, e, word))
		return 0;
	/* duplicity's short inc-volume pattern has no partial marker. */
	return tail_end(p, e, kind == ARCA_FK_INC_VOL ? NULL : ".p",
	    &m->partial);
}

/*
 * The times a long name can carry: duplicity asserts 1900 < year < 2100.
 * A short name's base-36 time or a legacy time with an offset can fall
 * outside; arca_fname_make could not name that set's other files, and
 * duplicity could not read the names it would write: not ours.  (Found
 * by fuzz/fuzz_filename.)
 */
#define NAME_TIME_MIN	INT64_C(-2177452800)	/* 1901-01-01T00:00:00Z */
#define NAME_TIME_MAX	INT64_C(4102444799)	/* 2099-12-31T23:59:59Z */

/* Convert a time field; duplicity treats a time of 0 as "no time". */
static int
conv_time(const struct span *t, int is_short, int64_t *out)
{
	uint64_t v;

	if (!is_short)
		return arca_time_parse_name(t->p, t->n, out) == 0 &&
		    *out != 0 && *out >= NAME_TIME_MIN && *out <= NAME_TIME_MAX;
	if (arca_b36_parse(t->p, t->n, &v) != 0 || v == 0 ||
	    v > (uint64_t)NAME_TIME_MAX)
		return 0;
	*out = (int64_t)v;
	return 1;
}

/* Volume 0 makes duplicity fail an assertion; we just ignore the name. */
static int
conv_vol(const struct span *s, int is_short, unsigned *out)
{
	uint64_t v = 0;
	size_t i;

	if (is_short) {
		if (arca_b36_parse(s->p, s->n, &v) != 0)
			return 0;
	} else {
		for (i = 0; i < s->n; i++) {
			if (v > UINT_MAX)
				return 0;
			v = v * 10 + (uint64_t)(s->p[i] - '0');
		}
	}
	if (v == 0 || v > UINT_MAX)
		return 0;
	*out = (unsigned)v;
	return 1;
}

static int
convert(const struct match *m, struct arca_fname *f)
{
	int full = m->kind == ARCA_FK_FULL_VOL ||
	    m->kind == ARCA_FK_FULL_MANIFEST || m->kind == ARCA_FK_FULL_SIG;

	memset(f, 0, sizeof(*f));
	f->kind = m->kind;
	if (full) {
		if (!conv_time(&m->t1, m->is_short, &f->end))
			return 0;
		f->start = f->end;
	} else if (!conv_time(&m->t1, m->is_short, &f->start) ||
	    !conv_time(&m->t2, m->is_short, &f->end))
		return 0;
	if (m->kind == ARCA_FK_FULL_VOL || m->kind == ARCA_FK_INC_VOL) {
		/* duplicity reports ".part" only for manifests and sigtars. */
		return conv_vol(&m->vol, m->is_short, &f->vol);
	}
	f->partial = m->partial;
	return 1;
}

/* Does name start with a then b (either may be NULL)?  *rest after them. */
static int
prefixed(const char *name, const char *a, const char *b, const char **rest)
{
	size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;

	if (strncmp(name, a ? a : "", na) != 0 ||
	    strncmp(name + na, b ? b : "", nb) != 0)
		return 0;
	*rest = name + na + nb;
	return 1;
}

/*
 * One of duplicity's checks: the volume pattern of a group, then its
 * manifest pattern (short forms first, long forms only when no short form
 * matched); the first that matches decides, good fields or not.
 */
static int
check_pair(const char *name, const char *base, const char *pv,
    const char *pm, enum arca_fkind kv, enum arca_fkind km,
    struct arca_fname *f)
{
	const char *e = name + strlen(name), *rv, *rm;
	struct match m;
	int okv = prefixed(name, base, pv, &rv);
	int okm = prefixed(name, base, pm, &rm);

	if ((okv && short_match(rv, e, kv, &m)) ||
	    (okm && short_match(rm, e, km, &m)) ||
	    (okv && long_match(rv, e, kv, &m)) ||
	    (okm && long_match(rm, e, km, &m)))
		return convert(&m, f);
	return 0;
}

/* Full signatures, then new signatures; -1: a match with bad fields. */
static int
check_sig(const char *name, const char *base, const char *ps,
    enum arca_fkind k, struct arca_fname *f)
{
	const char *e = name + strlen(name), *r;
	struct match m;

	if (!prefixed(name, base, ps, &r))
		return 0;
	if (short_match(r, e, k, &m) || long_match(r, e, k, &m))
		return convert(&m, f) ? 1 : -1;
	return 0;
}

static int
classify(const char *name, const struct arca_fprefix *pfx,
    struct arca_fname *f)
{
	const char *b = pfx ? pfx->base : NULL;
	const char *pa = pfx ? pfx->archive : NULL;
	const char *pm = pfx ? pfx->manifest : NULL;
	const char *ps = pfx ? pfx->signature : NULL;
	int rc;

	if (check_pair(name, b, pa, pm, ARCA_FK_FULL_VOL,
	    ARCA_FK_FULL_MANIFEST, f))
		return 1;
	if (check_pair(name, b, pa, pm, ARCA_FK_INC_VOL,
	    ARCA_FK_INC_MANIFEST, f))
		return 1;
	/* A full-signature match with a bad time ends the search. */
	if ((rc = check_sig(name, b, ps, ARCA_FK_FULL_SIG, f)) != 0)
		return rc > 0;
	return check_sig(name, b, ps, ARCA_FK_NEW_SIG, f) > 0;
}

int
arca_fname_parse(const char *name, const struct arca_fprefix *pfx,
    struct arca_fname *out)
{
	struct arca_fname f;
	size_t n = strlen(name);

	/*
	 * The matcher backtracks like a regex; a cap far above any real name
	 * (file systems allow 255 bytes, object stores about 1 KiB) keeps a
	 * hostile listing from making that quadratic cost noticeable.
	 */
	if (n > ARCA_FNAME_MAX || ends_with(name, n, ".par2"))
		return 0;
	if (!classify(name, pfx, &f))
		return 0;
	/* duplicity's suffix tests; "gz" really is matched without a dot. */
	f.encrypted = ends_with(name, n, ".gpg") || ends_with(name, n, ".g");
	f.compressed = ends_with(name, n, "gz") || ends_with(name, n, ".z");
	*out = f;
	return 1;
}

int
arca_fname_make(const struct arca_fname *f, const struct arca_fprefix *pfx,
    char *buf, size_t bufsz)
{
	const char *b = pfx && pfx->base ? pfx->base : "";
	const char *k, *head, *suf;
	char t1[17], t2[17], times[40], tail[32];
	int n, manifest = 0, full;

	switch (f->kind) {
	case ARCA_FK_FULL_VOL:
	case ARCA_FK_INC_VOL:
		if (f->vol == 0)
			return ARCA_ERR_USAGE;
		k = pfx && pfx->archive ? pfx->archive : "";
		full = f->kind == ARCA_FK_FULL_VOL;
		head = full ? "duplicity-full." : "duplicity-inc.";
		snprintf(tail, sizeof(tail), ".vol%u.difftar", f->vol);
		break;
	case ARCA_FK_FULL_MANIFEST:
	case ARCA_FK_INC_MANIFEST:
		k = pfx && pfx->manifest ? pfx->manifest : "";
		full = f->kind == ARCA_FK_FULL_MANIFEST;
		head = full ? "duplicity-full." : "duplicity-inc.";
		snprintf(tail, sizeof(tail), ".manifest");
		manifest = 1;
		break;
	case ARCA_FK_FULL_SIG:
	case ARCA_FK_NEW_SIG:
		k = pfx && pfx->signature ? pfx->signature : "";
		full = f->kind == ARCA_FK_FULL_SIG;
		head = full ? "duplicity-full-signatures." :
		    "duplicity-new-signatures.";
		snprintf(tail, sizeof(tail), ".sigtar");
		break;
	default:
		return ARCA_ERR_USAGE;
	}
	arca_time_format(f->start, t1);
	arca_time_format(f->end, t2);
	if (full)
		snprintf(times, sizeof(times), "%s", t2);
	else
		snprintf(times, sizeof(times), "%s.to.%s", t1, t2);
	/* Encryption implies no separate gzip; manifests are never gzipped. */
	suf = f->encrypted ? ".gpg" : (f->compressed && !manifest) ? ".gz" : "";
	n = snprintf(buf, bufsz, "%s%s%s%s%s%s%s", b, k, head, times, tail,
	    f->partial ? ".part" : "", suf);
	if (n < 0 || (size_t)n >= bufsz)
		return ARCA_ERR_USAGE;
	return 0;
}

int
arca_fname_key(const char *name, char *buf, size_t bufsz)
{
	static const char *const sufs[] = { ".gpg", ".g", ".gz", ".z", ".part" };
	size_t n = strlen(name), i;
	int again;

	do {
		again = 0;
		for (i = 0; i < sizeof(sufs) / sizeof(sufs[0]); i++) {
			if (n > strlen(sufs[i]) && ends_with(name, n, sufs[i])) {
				n -= strlen(sufs[i]);
				again = 1;
			}
		}
	} while (again);
	if (n >= bufsz)
		return ARCA_ERR_USAGE;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return 0;
}
