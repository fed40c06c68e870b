/*
 * collection.c: backup sets, chains and signature chains computed from file
 * names alone (spec §11).
 *
 * The rules follow duplicity 0.8.22 closely, quirks included, because the
 * engine's cleanup and remove commands must pick the same files duplicity
 * would, and because users compare our collection-status with duplicity's.
 * The quirks kept on purpose are marked "duplicity:" below.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/collection.h"
#include "format/filename.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/timefmt.h"

/*
 * Volume numbers come from remote names, so a hostile listing could name
 * volume 4000000000 and make us allocate its slot array.  Cap the slots of
 * the whole collection (16M pointers = 128 MiB, i.e. 16 TB of 1 MB volumes).
 */
#define MAX_VOL_SLOTS	((size_t)1 << 24)

/* Longer warnings than this bypass arca_log, which formats into 4 KiB. */
#define LOG_PIECE	4000

/* The private part of a set; c->sets holds &priv->s. */
struct set_priv {
	struct arca_set s;	/* first member */
	size_t seq;		/* creation order, for stable sorts */
	size_t volcap;		/* slots allocated in s.vols */
	unsigned *order;	/* volume numbers in the order names were added */
	size_t norder;
	size_t ordercap;
	int partial;		/* first name was a ".part" name */
};

struct chain_tmp {
	struct arca_chain ch;
	size_t cap;
	size_t seq;
};

struct sig_tmp {
	struct arca_sigchain sc;
	size_t cap;
	size_t seq;
};

struct newsig {
	const char *name;
	int64_t start;
	int64_t end;
	size_t seq;
};

struct builder {
	struct arca_ctx *ctx;
	struct arca_collection *c;
	const struct arca_fprefix *pfx;
	size_t setcap;
	struct arca_set *last;	/* the set find_set() found last */
	size_t slots;		/* volume slots allocated so far */
	struct sig_tmp *sigs;
	size_t nsigs;
	size_t sigcap;
};

static struct set_priv *
priv_of(struct arca_set *s)
{

	return (struct set_priv *)(void *)s;
}

static const struct set_priv *
cpriv_of(const struct arca_set *s)
{

	return (const struct set_priv *)(const void *)s;
}

unsigned
arca_set_count_vols(const struct arca_set *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->nvols; i++)
		if (s->vols[i] != NULL)
			n++;
	return n;
}

int
arca_set_is_complete(const struct arca_set *s)
{

	return s->manifest != NULL || s->local_partial != NULL;
}

int
arca_set_is_partial(const struct arca_set *s)
{

	return s->manifest == NULL && s->local_partial != NULL;
}

static void
set_free(struct arca_set *s)
{
	struct set_priv *p;
	unsigned i;

	if (s == NULL)
		return;
	p = priv_of(s);
	for (i = 0; i < s->nvols; i++)
		free(s->vols[i]);
	free(s->vols);
	free(s->manifest);
	free(s->local_partial);
	free(p->order);
	free(p);
}

static int
set_matches(const struct arca_set *s, const struct arca_fname *fn)
{
	int is_full = fn->kind == ARCA_FK_FULL_VOL ||
	    fn->kind == ARCA_FK_FULL_MANIFEST;

	return s->is_full == is_full && s->start == fn->start &&
	    s->end == fn->end;
}

/*
 * Listings come mostly sorted, so the set of the previous name is tried
 * first; the scan from the newest set back covers the rest.
 */
static struct arca_set *
find_set(struct builder *b, const struct arca_fname *fn)
{
	struct arca_collection *c = b->c;
	size_t i;

	if (b->last != NULL && set_matches(b->last, fn))
		return b->last;
	for (i = c->nsets; i > 0; i--)
		if (set_matches(c->sets[i - 1], fn))
			return b->last = c->sets[i - 1];
	return NULL;
}

static int
new_set(struct builder *b, const struct arca_fname *fn, struct arca_set **out)
{
	struct arca_collection *c = b->c;
	struct set_priv *p;

	if (c->nsets == b->setcap) {
		size_t ncap = b->setcap ? b->setcap * 2 : 16;
		struct arca_set **nv;

		if ((nv = arca_reallocarray(c->sets, ncap, sizeof(*nv))) == NULL)
			return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		c->sets = nv;
		b->setcap = ncap;
	}
	if ((p = arca_calloc(1, sizeof(*p))) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	p->s.is_full = fn->kind == ARCA_FK_FULL_VOL ||
	    fn->kind == ARCA_FK_FULL_MANIFEST;
	p->s.start = fn->start;
	p->s.end = fn->end;
	p->s.encrypted = fn->encrypted != 0;
	p->partial = fn->partial != 0;
	p->seq = c->nsets;
	c->sets[c->nsets++] = &p->s;
	*out = &p->s;
	return 0;
}

static int
add_volume(struct builder *b, struct arca_set *s, const char *name, unsigned vol)
{
	struct set_priv *p = priv_of(s);
	unsigned *no;
	char **nv;

	if (vol == 0)
		return 0;	/* the parser never yields it; nothing to place */
	if (vol <= s->nvols && s->vols[vol - 1] != NULL)
		return arca_error(b->ctx, ARCA_ERR_CORRUPT,
		    "Volume %u is already in the volume list as \"%s\". "
		    "\"%s\" has the same volume number.", vol,
		    s->vols[vol - 1], name);
	if (vol > s->nvols) {
		size_t grow = (size_t)vol - s->nvols;

		if (grow > MAX_VOL_SLOTS - b->slots)
			return arca_error(b->ctx, ARCA_ERR_CORRUPT,
			    "%s: volume number %u is too large", name, vol);
		if (vol > p->volcap) {
			/* Doubling: names usually come volume by volume. */
			size_t ncap = p->volcap ? p->volcap * 2 : 8;

			if (ncap < vol)
				ncap = vol;
			if ((nv = arca_reallocarray(s->vols, ncap,
			    sizeof(*nv))) == NULL)
				return arca_error(b->ctx, ARCA_ERR_NOMEM,
				    "out of memory");
			s->vols = nv;
			p->volcap = ncap;
		}
		memset(s->vols + s->nvols, 0, grow * sizeof(*s->vols));
		s->nvols = vol;
		b->slots += grow;
	}
	/* norder never exceeds the number of distinct volumes. */
	if (p->norder == p->ordercap) {
		size_t ncap = p->ordercap ? p->ordercap * 2 : 8;

		if ((no = arca_reallocarray(p->order, ncap, sizeof(*no))) == NULL)
			return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		p->order = no;
		p->ordercap = ncap;
	}
	if ((s->vols[vol - 1] = arca_strdup(name)) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	p->order[p->norder++] = vol;
	return 0;
}

/* One backup file name into its set (duplicity's BackupSet.add_filename). */
static int
add_to_sets(struct builder *b, const char *name, const struct arca_fname *fn,
    int local)
{
	struct arca_set *s;
	char **slot;
	int is_manifest = fn->kind == ARCA_FK_FULL_MANIFEST ||
	    fn->kind == ARCA_FK_INC_MANIFEST;
	int r;

	if ((s = find_set(b, fn)) == NULL) {
		if ((r = new_set(b, fn, &s)) != 0)
			return r;
		b->last = s;
	} else if (!s->encrypted && fn->encrypted && priv_of(s)->partial) {
		/*
		 * duplicity: a set begun by the plain local partial manifest
		 * takes "encrypted" from its remote volumes.
		 */
		s->encrypted = 1;
	}
	if (!is_manifest)
		return add_volume(b, s, name, fn->vol);

	slot = local ? &s->local_partial : &s->manifest;
	if (*slot != NULL)
		return arca_error(b->ctx, ARCA_ERR_CORRUPT,
		    "Cannot set filename of %s manifest to %s; already set "
		    "to %s.", local ? "local" : "remote", name, *slot);
	if ((*slot = arca_strdup(name)) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

static int
cmp_set_time(const void *a, const void *b)
{
	const struct arca_set *x = *(struct arca_set *const *)a;
	const struct arca_set *y = *(struct arca_set *const *)b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	/* qsort is not stable; duplicity's sort is. */
	if (cpriv_of(x)->seq != cpriv_of(y)->seq)
		return cpriv_of(x)->seq < cpriv_of(y)->seq ? -1 : 1;
	return 0;
}

static int
chain_push(struct arca_ctx *ctx, struct chain_tmp *t, struct arca_set *s)
{
	if (t->ch.nsets == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4;
		struct arca_set **nv;

		if ((nv = arca_reallocarray(t->ch.sets, ncap, sizeof(*nv))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		t->ch.sets = nv;
		t->cap = ncap;
	}
	t->ch.sets[t->ch.nsets++] = s;
	return 0;
}

/* duplicity's BackupChain.add_inc: append, or replace a shorter last set. */
static int
chain_add_inc(struct arca_ctx *ctx, struct chain_tmp *t, struct arca_set *s,
    int *added)
{
	struct arca_chain *ch = &t->ch;
	int r;

	*added = 0;
	if (ch->end == s->start) {
		if ((r = chain_push(ctx, t, s)) != 0)
			return r;
	} else if (ch->nsets > 1 && s->start == ch->sets[ch->nsets - 1]->start &&
	    s->end > ch->sets[ch->nsets - 1]->end) {
		/*
		 * duplicity: the replaced set drops out of the collection's
		 * view; it is neither orphaned nor incomplete.
		 */
		arca_info(ctx, "Preferring Backupset over previous one!");
		ch->sets[ch->nsets - 1] = s;
	} else
		return 0;
	ch->end = s->end;
	*added = 1;
	return 0;
}

static int
cmp_chain_tmp(const void *a, const void *b)
{
	const struct chain_tmp *x = a, *y = b;

	if (x->ch.end != y->ch.end)
		return x->ch.end < y->ch.end ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

static int
push_set(struct arca_ctx *ctx, struct arca_set ***v, size_t *n,
    struct arca_set *s)
{
	struct arca_set **nv;

	/* Arrays grow only here: the capacity is the next power of two. */
	if ((*n & (*n - 1)) == 0) {
		if ((nv = arca_reallocarray(*v, *n ? *n * 2 : 4,
		    sizeof(*nv))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		*v = nv;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static int
build_chains(struct builder *b)
{
	struct arca_collection *c = b->c;
	struct arca_set **sorted = NULL;
	struct chain_tmp *tmp = NULL;
	size_t i, j, ntmp = 0, tmpcap = 0;
	int added, r = 0;

	if (c->nsets == 0)
		return 0;
	if ((sorted = arca_calloc(c->nsets, sizeof(*sorted))) == NULL) {
		r = arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(sorted, c->sets, c->nsets * sizeof(*sorted));
	qsort(sorted, c->nsets, sizeof(*sorted), cmp_set_time);

	/* Incomplete sets keep creation order, as in duplicity. */
	for (i = 0; i < c->nsets; i++)
		if (!arca_set_is_complete(c->sets[i]) &&
		    (r = push_set(b->ctx, &c->incomplete, &c->nincomplete,
		    c->sets[i])) != 0)
			goto out;

	for (i = 0; i < c->nsets; i++) {
		struct arca_set *s = sorted[i];

		if (!arca_set_is_complete(s))
			continue;
		if (s->is_full) {
			if (ntmp == tmpcap) {
				size_t ncap = tmpcap ? tmpcap * 2 : 8;
				struct chain_tmp *nt;

				nt = arca_reallocarray(tmp, ncap, sizeof(*nt));
				if (nt == NULL) {
					r = arca_error(b->ctx, ARCA_ERR_NOMEM,
					    "out of memory");
					goto out;
				}
				tmp = nt;
				tmpcap = ncap;
			}
			memset(&tmp[ntmp], 0, sizeof(tmp[ntmp]));
			tmp[ntmp].seq = ntmp;
			tmp[ntmp].ch.start = s->start;
			tmp[ntmp].ch.end = s->end;
			ntmp++;
			if ((r = chain_push(b->ctx, &tmp[ntmp - 1], s)) != 0)
				goto out;
			continue;
		}
		added = 0;
		for (j = 0; j < ntmp && !added; j++)
			if ((r = chain_add_inc(b->ctx, &tmp[j], s, &added)) != 0)
				goto out;
		if (!added && (r = push_set(b->ctx, &c->orphaned,
		    &c->norphaned, s)) != 0)
			goto out;
	}

	if (ntmp == 0)
		goto out;
	/* Backup chains are all remote: ties keep creation order. */
	qsort(tmp, ntmp, sizeof(*tmp), cmp_chain_tmp);
	if ((c->chains = arca_calloc(ntmp, sizeof(*c->chains))) == NULL) {
		r = arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ntmp; i++)
		c->chains[i] = tmp[i].ch;
	c->nchains = ntmp;
	ntmp = 0;
out:
	for (i = 0; i < ntmp; i++)
		free(tmp[i].ch.sets);
	free(tmp);
	free(sorted);
	return r;
}

static void
sigchain_free(struct arca_sigchain *sc)
{
	size_t i;

	free(sc->full);
	for (i = 0; i < sc->nnews; i++)
		free(sc->news[i]);
	free(sc->news);
	free(sc->news_start);
	free(sc->news_end);
}

static int
sig_new(struct builder *b, const char *name, int local, int64_t t)
{
	struct sig_tmp *st;

	if (b->nsigs == b->sigcap) {
		size_t ncap = b->sigcap ? b->sigcap * 2 : 8;
		struct sig_tmp *nv;

		if ((nv = arca_reallocarray(b->sigs, ncap, sizeof(*nv))) == NULL)
			return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		b->sigs = nv;
		b->sigcap = ncap;
	}
	st = &b->sigs[b->nsigs];
	memset(st, 0, sizeof(*st));
	if ((st->sc.full = arca_strdup(name)) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	st->sc.local = local;
	st->sc.start = t;
	st->sc.end = t;
	st->seq = b->nsigs++;
	return 0;
}

static int
sig_append(struct arca_ctx *ctx, struct sig_tmp *st, const struct newsig *ns)
{
	struct arca_sigchain *sc = &st->sc;

	if (sc->nnews == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 4;
		char **nn;
		int64_t *ns0, *ne0;

		if ((nn = arca_reallocarray(sc->news, ncap, sizeof(*nn))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		sc->news = nn;
		if ((ns0 = arca_reallocarray(sc->news_start, ncap,
		    sizeof(*ns0))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		sc->news_start = ns0;
		if ((ne0 = arca_reallocarray(sc->news_end, ncap,
		    sizeof(*ne0))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		sc->news_end = ne0;
		st->cap = ncap;
	}
	if ((sc->news[sc->nnews] = arca_strdup(ns->name)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	sc->news_start[sc->nnews] = ns->start;
	sc->news_end[sc->nnews] = ns->end;
	sc->nnews++;
	sc->end = ns->end;
	return 0;
}

static int
cmp_newsig(const void *a, const void *b)
{
	const struct newsig *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* duplicity's get_signature_chains for one side. */
static int
build_sigchains(struct builder *b, const struct arca_strlist *names, int local,
    struct arca_strlist *orphans)
{
	struct newsig *news = NULL;
	struct arca_fname fn;
	size_t i, j, first = b->nsigs, nnews = 0;
	int r = 0;

	if (names == NULL || names->n == 0)
		return 0;
	if ((news = arca_calloc(names->n, sizeof(*news))) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	for (i = 0; i < names->n; i++) {
		if (arca_fname_parse(names->v[i], b->pfx, &fn) != 1)
			continue;
		if (fn.kind == ARCA_FK_FULL_SIG) {
			if ((r = sig_new(b, names->v[i], local, fn.end)) != 0)
				goto out;
		} else if (fn.kind == ARCA_FK_NEW_SIG) {
			news[nnews].name = names->v[i];
			news[nnews].start = fn.start;
			news[nnews].end = fn.end;
			news[nnews].seq = nnews;
			nnews++;
		}
	}
	qsort(news, nnews, sizeof(*news), cmp_newsig);
	for (i = 0; i < nnews; i++) {
		for (j = first; j < b->nsigs; j++)
			if (b->sigs[j].sc.end == news[i].start)
				break;
		if (j < b->nsigs)
			r = sig_append(b->ctx, &b->sigs[j], &news[i]);
		else if (arca_strlist_add(orphans, news[i].name) != 0)
			r = arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
		if (r != 0)
			goto out;
	}
out:
	free(news);
	return r;
}

static int
cmp_sig_tmp(const void *a, const void *b)
{
	const struct sig_tmp *x = a, *y = b;

	if (x->sc.end != y->sc.end)
		return x->sc.end < y->sc.end ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/*
 * duplicity's get_sorted_chains: by end time; of two chains with the same
 * end time the remote one goes first (two local ones come out reversed).
 * duplicity aborts on three or more; we put remote ones first, stably.
 */
static void
sort_sigchains(struct sig_tmp *v, size_t n)
{
	struct sig_tmp t;
	size_t i, j, k, m;

	qsort(v, n, sizeof(*v), cmp_sig_tmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].sc.end == v[i].sc.end; j++)
			;
		if (j - i == 2 && v[i].sc.local) {
			t = v[i];
			v[i] = v[i + 1];
			v[i + 1] = t;
			continue;
		}
		/* Stable partition: move each remote chain before the locals. */
		for (k = i, m = i; k < j; k++) {
			if (v[k].sc.local)
				continue;
			t = v[k];
			memmove(&v[m + 1], &v[m], (k - m) * sizeof(*v));
			v[m++] = t;
		}
	}
}

static int
build_sig_side(struct builder *b, const struct arca_strlist *remote,
    const struct arca_strlist *local)
{
	struct arca_collection *c = b->c;
	size_t i;
	int r;

	/* Local chains first, then remote: the order duplicity hands them on. */
	if ((r = build_sigchains(b, local, 1, c->orphaned_sigs_local)) != 0)
		return r;
	if ((r = build_sigchains(b, remote, 0, c->orphaned_sigs_remote)) != 0)
		return r;
	if (b->nsigs == 0)
		return 0;
	sort_sigchains(b->sigs, b->nsigs);
	if ((c->sigchains = arca_calloc(b->nsigs, sizeof(*c->sigchains))) == NULL)
		return arca_error(b->ctx, ARCA_ERR_NOMEM, "out of memory");
	for (i = 0; i < b->nsigs; i++)
		c->sigchains[i] = b->sigs[i].sc;
	c->nsigchains = b->nsigs;
	b->nsigs = 0;
	return 0;
}

/* duplicity's set_matched_chain_pair. */
static int
match_primary(struct arca_ctx *ctx, struct arca_collection *c)
{
	struct arca_chain *last;
	size_t i;
	int r;

	if (c->nchains == 0 || c->nsigchains == 0)
		return 0;
	last = &c->chains[c->nchains - 1];
	for (i = c->nsigchains; i-- > 0;) {
		struct arca_sigchain *sc = &c->sigchains[i];

		if (sc->end != last->end) {
			/*
			 * duplicity compares with the end time of the set
			 * before last, which a full set does not have: the
			 * rule only fires with two or more incrementals.
			 * The chain keeps its old end time.
			 */
			if (last->nsets < 3 ||
			    sc->end != last->sets[last->nsets - 2]->end)
				continue;
			arca_warn(ctx, "Warning, discarding last backup set, "
			    "because of missing signature file.");
			if ((r = push_set(ctx, &c->incomplete, &c->nincomplete,
			    last->sets[last->nsets - 1])) != 0)
				return r;
			last->nsets--;
			c->dropped_last = 1;
		}
		last->sig = sc;
		c->primary = last;
		break;
	}
	return 0;
}

/*
 * Log "head\nlines" as one warning, as duplicity does.  arca_log formats
 * into a fixed buffer, so a long list (an orphaned set with many volumes)
 * goes to the callback directly rather than being cut.
 */
static void
warn_list(struct arca_ctx *ctx, const char *head, const struct arca_buf *lines)
{
	struct arca_buf m = { 0 };

	if (ctx == NULL)
		return;
	if (strlen(head) + lines->len < LOG_PIECE) {
		arca_warn(ctx, "%s\n%s", head, (const char *)lines->data);
		return;
	}
	if (arca_buf_printf(&m, "%s\n", head) != 0 ||
	    arca_buf_append(&m, lines->data, lines->len) != 0) {
		/* Out of memory: at least say that there is a problem. */
		arca_warn(ctx, "%s", head);
		goto out;
	}
	ctx->warnings++;
	if (ctx->log != NULL && ARCA_LOG_WARNING <= ctx->verbosity)
		ctx->log(ctx->log_ud, ARCA_LOG_WARNING, (const char *)m.data);
out:
	arca_buf_free(&m);
}

static int
warn_names(struct arca_ctx *ctx, const char *one, const char *many,
    const struct arca_strlist *l)
{
	struct arca_buf b = { 0 };
	size_t i;
	int r = 0;

	if (l->n == 0)
		return 0;
	for (i = 0; i < l->n && r == 0; i++)
		r = arca_buf_printf(&b, "%s%s", i ? "\n" : "", l->v[i]);
	if (r != 0)
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	else
		warn_list(ctx, l->n == 1 ? one : many, &b);
	arca_buf_free(&b);
	return r;
}

/* duplicity's str(BackupSet): manifest, then volumes in listing order. */
static int
set_describe(struct arca_buf *b, const struct arca_set *s)
{
	const struct set_priv *p = cpriv_of(s);
	const char *man = s->manifest ? s->manifest : s->local_partial;
	const char *sep = "";
	size_t i;
	int r;

	if ((r = arca_buf_putc(b, '[')) != 0)
		return r;
	if (man != NULL) {
		if ((r = arca_buf_puts(b, man)) != 0)
			return r;
		sep = ", ";
	}
	for (i = 0; i < p->norder; i++) {
		if ((r = arca_buf_printf(b, "%s%s", sep,
		    s->vols[p->order[i] - 1])) != 0)
			return r;
		sep = ", ";
	}
	return arca_buf_putc(b, ']');
}

/* duplicity's CollectionsStatus.warn, with sig_chain_warning set. */
static int
warn_all(struct arca_ctx *ctx, const struct arca_collection *c)
{
	struct arca_buf b = { 0 };
	size_t i;
	int r;

	if ((r = warn_names(ctx,
	    "Warning, found the following local orphaned signature file:",
	    "Warning, found the following local orphaned signature files:",
	    c->orphaned_sigs_local)) != 0)
		return r;
	if ((r = warn_names(ctx,
	    "Warning, found the following remote orphaned signature file:",
	    "Warning, found the following remote orphaned signature files:",
	    c->orphaned_sigs_remote)) != 0)
		return r;
	if (c->nsigchains > 0 && c->primary == NULL)
		arca_warn(ctx, "Warning, found signatures but no corresponding "
		    "backup files");
	if (c->nincomplete > 0)
		arca_warn(ctx, "Warning, found incomplete backup sets, probably "
		    "left from aborted session");
	if (c->norphaned == 0)
		return 0;
	for (i = 0; i < c->norphaned && r == 0; i++) {
		if (i > 0)
			r = arca_buf_putc(&b, '\n');
		if (r == 0)
			r = set_describe(&b, c->orphaned[i]);
	}
	if (r != 0)
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	else
		warn_list(ctx, c->norphaned == 1 ?
		    "Warning, found the following orphaned backup file:" :
		    "Warning, found the following orphaned backup files:", &b);
	arca_buf_free(&b);
	return r;
}

int
arca_collection_build(struct arca_ctx *ctx, const struct arca_strlist *remote,
    const struct arca_strlist *local, const struct arca_fprefix *pfx,
    struct arca_collection **out)
{
	struct builder b;
	struct arca_collection *c;
	struct arca_fname fn;
	size_t i;
	int r = 0;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if ((c = arca_calloc(1, sizeof(*c))) == NULL ||
	    (c->orphaned_sigs_remote = arca_calloc(1,
	    sizeof(*c->orphaned_sigs_remote))) == NULL ||
	    (c->orphaned_sigs_local = arca_calloc(1,
	    sizeof(*c->orphaned_sigs_local))) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	b.ctx = ctx;
	b.c = c;
	b.pfx = pfx;

	/*
	 * Local partial manifests go first, as in duplicity, so a set they
	 * begin is marked partial.  Local final manifests are cache copies
	 * and make no set of their own.
	 */
	for (i = 0; local != NULL && i < local->n; i++) {
		if (arca_fname_parse(local->v[i], pfx, &fn) != 1 || !fn.partial)
			continue;
		if (fn.kind != ARCA_FK_FULL_MANIFEST &&
		    fn.kind != ARCA_FK_INC_MANIFEST)
			continue;
		if ((r = add_to_sets(&b, local->v[i], &fn, 1)) != 0)
			goto out;
	}
	for (i = 0; remote != NULL && i < remote->n; i++) {
		if (arca_fname_parse(remote->v[i], pfx, &fn) != 1)
			continue;
		if (fn.kind == ARCA_FK_FULL_SIG || fn.kind == ARCA_FK_NEW_SIG)
			continue;
		if ((r = add_to_sets(&b, remote->v[i], &fn, 0)) != 0)
			goto out;
	}
	if ((r = build_chains(&b)) != 0)
		goto out;
	if ((r = build_sig_side(&b, remote, local)) != 0)
		goto out;
	if ((r = match_primary(ctx, c)) != 0)
		goto out;
	if ((r = warn_all(ctx, c)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	for (i = 0; i < b.nsigs; i++)
		sigchain_free(&b.sigs[i].sc);
	free(b.sigs);
	arca_collection_free(c);
	return r;
}

void
arca_collection_free(struct arca_collection *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsets; i++)
		set_free(c->sets[i]);
	free(c->sets);
	for (i = 0; i < c->nchains; i++)
		free(c->chains[i].sets);
	free(c->chains);
	free(c->orphaned);
	free(c->incomplete);
	for (i = 0; i < c->nsigchains; i++)
		sigchain_free(&c->sigchains[i]);
	free(c->sigchains);
	if (c->orphaned_sigs_remote != NULL)
		arca_strlist_free(c->orphaned_sigs_remote);
	free(c->orphaned_sigs_remote);
	if (c->orphaned_sigs_local != NULL)
		arca_strlist_free(c->orphaned_sigs_local);
	free(c->orphaned_sigs_local);
	free(c);
}

int
arca_collection_find_chain(struct arca_ctx *ctx, struct arca_collection *c,
    int64_t t, struct arca_chain **out)
{
	struct arca_chain *hit = NULL, *older = NULL;
	size_t i;

	*out = NULL;
	if (c == NULL || c->nchains == 0)
		return arca_error(ctx, ARCA_ERR_NODATA, "No backup chains found");
	for (i = 0; i < c->nchains; i++) {
		struct arca_chain *ch = &c->chains[i];

		if (ch->start <= t && t <= ch->end) {
			if (hit != NULL)
				return arca_error(ctx, ARCA_ERR_CORRUPT,
				    "Two chains cover the given time");
			hit = ch;
		}
		if (ch->end < t)
			older = ch;	/* sorted by end: the last one wins */
	}
	if (hit == NULL)
		hit = older != NULL ? older : &c->chains[0];
	*out = hit;
	return 0;
}

struct arca_chain *
arca_collection_chain_at(struct arca_collection *c, int64_t t)
{
	struct arca_chain *ch;

	if (arca_collection_find_chain(NULL, c, t, &ch) != 0)
		return NULL;
	return ch;
}

int64_t
arca_collection_last_full_time(const struct arca_collection *c)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < c->nchains; i++)
		if (i == 0 || c->chains[i].sets[0]->end > t)
			t = c->chains[i].sets[0]->end;
	return t;
}

/* duplicity's str(BackupChain). */
static void
print_chain(struct arca_ctx *ctx, const struct arca_chain *ch)
{
	char tb[32];
	unsigned long nvols = 0;
	size_t i;

	for (i = 0; i < ch->nsets; i++)
		nvols += arca_set_count_vols(ch->sets[i]);
	arca_out(ctx, "-------------------------\n");
	arca_time_asctime(ch->start, tb);
	arca_out(ctx, "Chain start time: %s\n", tb);
	arca_time_asctime(ch->end, tb);
	arca_out(ctx, "Chain end time: %s\n", tb);
	arca_out(ctx, "Number of contained backup sets: %zu\n", ch->nsets);
	arca_out(ctx, "Total number of contained volumes: %lu\n", nvols);
	arca_out(ctx, "%20s   %30s   %15s\n", "Type of backup set:", "Time:",
	    "Num volumes:");
	for (i = 0; i < ch->nsets; i++) {
		const struct arca_set *s = ch->sets[i];

		arca_time_asctime(s->end, tb);
		arca_out(ctx, "%20s   %30s   %15u\n",
		    s->is_full ? "Full" : "Incremental", tb,
		    arca_set_count_vols(s));
	}
	arca_out(ctx, "-------------------------\n");
}

void
arca_collection_print_status(struct arca_ctx *ctx,
    const struct arca_collection *c, const char *archive_dir)
{
	char tb[32];
	size_t i, k, nsec;
	int64_t lastfull = arca_collection_last_full_time(c);

	if (lastfull > 0) {
		arca_time_asctime(lastfull, tb);
		arca_out(ctx, "Last full backup date: %s\n", tb);
	} else
		arca_out(ctx, "Last full backup date: none\n");
	arca_out(ctx, "Collection Status\n-----------------\n");
	/* duplicity 0.8 wraps every backend in BackendWrapper. */
	arca_out(ctx, "Connecting with backend: BackendWrapper\n");
	arca_out(ctx, "Archive dir: %s\n", archive_dir ? archive_dir : "None");

	nsec = c->nchains - (c->primary != NULL);
	arca_out(ctx, "\nFound %zu secondary backup chain%s.\n", nsec,
	    nsec == 1 ? "" : "s");
	for (i = 0, k = 0; i < c->nchains; i++) {
		if (&c->chains[i] == c->primary)
			continue;
		arca_out(ctx, "Secondary chain %zu of %zu:\n", ++k, nsec);
		print_chain(ctx, &c->chains[i]);
		arca_out(ctx, "\n");
	}
	if (c->primary != NULL) {
		arca_out(ctx, "\nFound primary backup chain with matching "
		    "signature chain:\n");
		print_chain(ctx, c->primary);
	} else
		arca_out(ctx, "No backup chains with active signatures found\n");

	if (c->norphaned > 0 || c->nincomplete > 0) {
		arca_out(ctx, "Also found %zu backup set%s not part of any "
		    "chain,\n", c->norphaned, c->norphaned == 1 ? "" : "s");
		arca_out(ctx, "and %zu incomplete backup set%s.\n",
		    c->nincomplete, c->nincomplete == 1 ? "" : "s");
		arca_out(ctx, "These may be deleted by running duplicity with "
		    "the \"cleanup\" command.\n");
	} else
		arca_out(ctx, "No orphaned or incomplete backup sets found.\n");
}
