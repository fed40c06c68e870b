/*
 * retention.c: remove-older-than, remove-all-but-n-full,
 * remove-all-inc-of-but-n-full and cleanup (spec §12).
 *
 * The selection follows duplicity 0.8.22 so both tools delete the same
 * files, with two deliberate differences, both about never losing what a
 * restore or the next backup needs (docs/RETENTION.md):
 *
 *  - an interrupted backup (a set with only a local ".manifest.part") does
 *    not count as a backup here: duplicity lets such a set become the
 *    primary chain, so remove-all-but-n-full 1 deletes every complete
 *    backup and keeps only the broken one;
 *  - the primary chain's signature files are kept on both sides: duplicity
 *    keeps only the copy it matched (the local one) and deletes the remote
 *    one when TIME is past the chain's end.
 *
 * Deleting goes newest first and manifest first (see retention.h), so a
 * run killed half way leaves shorter chains and incomplete sets that the
 * next remove or cleanup finishes, never a set that looks complete but
 * lacks a volume.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/arca.h"
#include "backend/backend.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/resume.h"
#include "engine/retention.h"
#include "engine/sweep.h"
#include "format/filename.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/timefmt.h"

void
arca_retention_plan_free(struct arca_retention_plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void
arca_retention_sel_free(struct arca_retention_sel *s)
{
	if (s == NULL)
		return;
	free(s->chains);
	free(s->sigs);
	free(s->required);
	memset(s, 0, sizeof(*s));
}

int
arca_retention_plan_add(struct arca_ctx *ctx, struct arca_retention_plan *p,
    int local, const char *name)
{
	if (name == NULL)
		return 0;
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 32;
		struct arca_rstep *nv;

		if ((nv = arca_reallocarray(p->v, ncap, sizeof(*nv))) == NULL)
			return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		p->v = nv;
		p->cap = ncap;
	}
	if ((p->v[p->n].name = arca_strdup(name)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	p->v[p->n].local = local;
	p->n++;
	return 0;
}

static int
push_ptr(struct arca_ctx *ctx, void ***v, size_t *n, void *p)
{
	void **nv;

	if ((nv = arca_reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	nv[(*n)++] = p;
	*v = nv;
	return 0;
}

int64_t
arca_retention_nth_full(const struct arca_collection *c, unsigned n)
{
	int64_t *t;
	int64_t r = 0;
	size_t i, j;

	if (n == 0 || c->nchains < n)
		return 0;
	if ((t = arca_calloc(c->nchains, sizeof(*t))) == NULL)
		return 0;
	/* Insertion sort, newest first: chains are few. */
	for (i = 0; i < c->nchains; i++) {
		int64_t v = c->chains[i].sets[0]->end;

		for (j = i; j > 0 && t[j - 1] < v; j--)
			t[j] = t[j - 1];
		t[j] = v;
	}
	r = t[n - 1];
	free(t);
	return r;
}

/* The time duplicity shows for a set: a full's time, an inc's end. */
static int
cmp_set_time(const void *a, const void *b)
{
	const struct arca_set *x = *(struct arca_set *const *)a;
	const struct arca_set *y = *(struct arca_set *const *)b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* The other side's copy of the primary signature chain (see top). */
static int
is_primary_sig(const struct arca_collection *c, const struct arca_sigchain *sc)
{
	const struct arca_sigchain *m;

	if (c->primary == NULL || (m = c->primary->sig) == NULL)
		return 0;
	return sc == m || (sc->start == m->start && sc->end == m->end);
}

int
arca_retention_select(struct arca_ctx *ctx, const struct arca_collection *c,
    int64_t t, int inc_only, struct arca_retention_sel *out)
{
	size_t i, j;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nchains && r == 0; i++) {
		struct arca_chain *ch = &c->chains[i];

		if (ch->end >= t) {
			for (j = 0; j < ch->nsets && r == 0; j++)
				if (ch->sets[j]->end < t)
					r = push_ptr(ctx, (void ***)&out->required,
					    &out->nrequired, ch->sets[j]);
			continue;
		}
		if (ch == c->primary || (inc_only && ch->nsets < 2))
			continue;
		r = push_ptr(ctx, (void ***)&out->chains, &out->nchains, ch);
	}
	if (r != 0)
		goto out;
	/* Stable by time, as duplicity's sort of (time, set) pairs. */
	for (i = 1; i < out->nrequired; i++)
		for (j = i; j > 0 && cmp_set_time(&out->required[j - 1],
		    &out->required[j]) > 0; j--) {
			struct arca_set *tmp = out->required[j];

			out->required[j] = out->required[j - 1];
			out->required[j - 1] = tmp;
		}
	out->primary_older = c->primary != NULL && c->primary->end < t;
	if (out->nchains == 0)
		goto out;
	for (i = 0; i < c->nsigchains && r == 0; i++) {
		struct arca_sigchain *sc = &c->sigchains[i];

		if (sc->end < t && !is_primary_sig(c, sc))
			r = push_ptr(ctx, (void ***)&out->sigs, &out->nsigs, sc);
	}
out:
	if (r != 0)
		arca_retention_sel_free(out);
	return r;
}

/* 1 if name (an archive-dir name) belongs to set s: same kind and times. */
static int
local_of_set(const struct arca_set *s, const char *name,
    const struct arca_fprefix *pfx)
{
	struct arca_fname f;
	int full;

	if (arca_fname_parse(name, pfx, &f) != 1)
		return 0;
	full = f.kind == ARCA_FK_FULL_VOL || f.kind == ARCA_FK_FULL_MANIFEST ||
	    f.kind == ARCA_FK_FULL_SIG;
	return full == s->is_full && f.start == s->start && f.end == s->end;
}

int
arca_retention_plan_set(struct arca_ctx *ctx, const struct arca_set *s,
    const struct arca_strlist *local, const struct arca_fprefix *pfx,
    struct arca_retention_plan *plan)
{
	unsigned v;
	size_t i;
	int r;

	if ((r = arca_retention_plan_add(ctx, plan, 0, s->manifest)) != 0)
		return r;
	for (v = s->nvols; v > 0; v--)
		if ((r = arca_retention_plan_add(ctx, plan, 0, s->vols[v - 1])) != 0)
			return r;
	/*
	 * duplicity: every archive-dir file with the set's times goes with
	 * it - the cached manifest, and also the signature file of the same
	 * times, which keeps the cache in step with the target.
	 */
	for (i = 0; local != NULL && i < local->n; i++)
		if (local_of_set(s, local->v[i], pfx) &&
		    (r = arca_retention_plan_add(ctx, plan, 1, local->v[i])) != 0)
			return r;
	return 0;
}

static int
plan_sigchain(struct arca_ctx *ctx, const struct arca_sigchain *sc,
    int keep_full, struct arca_retention_plan *plan)
{
	size_t i;
	int r;

	for (i = sc->nnews; i > 0; i--)
		if ((r = arca_retention_plan_add(ctx, plan, sc->local, sc->news[i - 1])) != 0)
			return r;
	return keep_full ? 0 : arca_retention_plan_add(ctx, plan, sc->local, sc->full);
}

int
arca_retention_plan_remove(struct arca_ctx *ctx,
    const struct arca_retention_sel *sel, const struct arca_strlist *local,
    const struct arca_fprefix *pfx, int inc_only,
    struct arca_retention_plan *plan)
{
	size_t i, j;
	int r;

	for (i = sel->nsigs; i > 0; i--)
		if ((r = plan_sigchain(ctx, sel->sigs[i - 1], inc_only, plan)) != 0)
			return r;
	for (i = sel->nchains; i > 0; i--) {
		const struct arca_chain *ch = sel->chains[i - 1];

		for (j = ch->nsets; j > (inc_only ? 1 : 0); j--)
			if ((r = arca_retention_plan_set(ctx, ch->sets[j - 1],
			    local, pfx, plan)) != 0)
				return r;
	}
	return 0;
}

int
arca_retention_plan_cleanup(struct arca_ctx *ctx,
    const struct arca_collection *c, struct arca_retention_plan *plan)
{
	size_t i;
	int r;

	/* Remote names only, as duplicity: the cache loses them on the next
	 * sync.  Partial manifests are local and not listed here. */
	for (i = 0; i < c->norphaned + c->nincomplete; i++) {
		const struct arca_set *s = i < c->norphaned ? c->orphaned[i] :
		    c->incomplete[i - c->norphaned];

		if ((r = arca_retention_plan_set(ctx, s, NULL, NULL, plan)) != 0)
			return r;
	}
	for (i = 0; i < c->orphaned_sigs_remote->n; i++)
		if ((r = arca_retention_plan_add(ctx, plan, 0, c->orphaned_sigs_remote->v[i])) != 0)
			return r;
	for (i = 0; i < c->orphaned_sigs_local->n; i++)
		if ((r = arca_retention_plan_add(ctx, plan, 1, c->orphaned_sigs_local->v[i])) != 0)
			return r;
	return 0;
}

const struct arca_set *
arca_retention_trailing_partial(const struct arca_collection *c)
{
	const struct arca_chain *last = NULL;
	const struct arca_set *s;
	size_t i;

	/* duplicity: the chain with the newest full, not the newest end. */
	for (i = 0; i < c->nchains; i++)
		if (last == NULL || c->chains[i].sets[0]->end >= last->sets[0]->end)
			last = &c->chains[i];
	if (last == NULL)
		return NULL;
	s = last->sets[last->nsets - 1];
	return arca_set_is_partial(s) ? s : NULL;
}

int
arca_retention_execute(struct arca_engine *e,
    const struct arca_retention_plan *plan)
{
	size_t i;
	int r;

	for (i = 0; i < plan->n; i++) {
		const struct arca_rstep *st = &plan->v[i];

		arca_killpoint("delete");
		arca_info(e->ctx, "Deleting %s%s", st->local ? "local " : "",
		    st->name);
		if (!st->local) {
			if ((r = arca_backend_delete(e->be, st->name)) != 0)
				return r;
			continue;
		}
		if (unlinkat(e->archdir_fd, st->name, 0) != 0 && errno != ENOENT)
			return arca_error(e->ctx, ARCA_ERR_IO,
			    "cannot delete %s/%s: %s", e->archdir, st->name,
			    strerror(errno));
	}
	return 0;
}

/* ----- the commands ----- */

static void
out_time_lines(struct arca_ctx *ctx, struct arca_buf *b, int64_t t)
{
	char tb[32];

	arca_time_asctime(t, tb);
	arca_buf_printf(b, "\n%s", tb);
}

/*
 * remove-older-than t, or with n > 0 remove-all-but-n-full n, where TIME
 * is the n-th newest full of the complete chains (0 with fewer chains,
 * so nothing is older).
 */
static int
run_remove(struct arca_ctx *ctx, const struct arca_options *o, int64_t t,
    unsigned n, int inc_only)
{
	struct arca_engine *e = NULL;
	struct arca_collection *c = NULL;
	struct arca_retention_sel sel;
	struct arca_retention_plan plan = { 0 };
	struct arca_buf b = { 0 };
	size_t i;
	int r;

	memset(&sel, 0, sizeof(sel));
	/* An interrupted backup is no chain here (see the top). */
	if ((r = arca_engine_open(ctx, o, ARCA_ENGINE_COMPLETE, &e)) != 0)
		return r;
	c = e->col;
	if (n > 0)
		t = arca_retention_nth_full(c, n);
	if ((r = arca_retention_select(ctx, c, t, inc_only, &sel)) != 0)
		goto out;
	if (sel.nrequired > 0) {
		arca_buf_puts(&b, "There are backup set(s) at time(s):");
		for (i = 0; i < sel.nrequired; i++)
			out_time_lines(ctx, &b, sel.required[i]->end);
		arca_buf_puts(&b, "\nWhich can't be deleted because newer sets "
		    "depend on them.");
		arca_warn(ctx, "%s", b.data ? (char *)b.data : "");
		arca_buf_reset(&b);
	}
	if (sel.primary_older)
		arca_warn(ctx, "Current active backup chain is older than "
		    "specified time.  However, it will not be deleted.  To "
		    "remove all your backups, manually purge the repository.");
	if (sel.nchains == 0) {
		arca_notice(ctx, "No old backup sets found, nothing deleted.");
		goto out;
	}
	for (i = 0; i < sel.nchains; i++)
		out_time_lines(ctx, &b, sel.chains[i]->end);
	if (!o->force) {
		arca_out(ctx, "%s%s\nRerun command with --force option to "
		    "actually delete.\n", sel.nchains == 1 ?
		    "Found old backup chain at the following time:" :
		    "Found old backup chains at the following times:",
		    (char *)b.data);
		goto out;
	}
	arca_out(ctx, "%s%s\n", sel.nchains == 1 ?
	    "Deleting backup chain at time:" :
	    "Deleting backup chains at times:", (char *)b.data);
	if ((r = arca_retention_plan_remove(ctx, &sel, &e->local, &e->pfx,
	    inc_only, &plan)) != 0)
		goto out;
	if (!o->dry_run)
		r = arca_retention_execute(e, &plan);
out:
	arca_buf_free(&b);
	arca_retention_plan_free(&plan);
	arca_retention_sel_free(&sel);
	arca_engine_close(e);
	return r;
}

int
arca_run_remove_older_than(struct arca_ctx *ctx, const struct arca_options *o,
    int64_t t)
{
	return run_remove(ctx, o, t, 0, 0);
}

int
arca_run_remove_all_but_n_full(struct arca_ctx *ctx,
    const struct arca_options *o, unsigned n)
{
	if (n == 0)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "the number of full backups to keep must be at least 1");
	return run_remove(ctx, o, 0, n, 0);
}

int
arca_run_remove_all_inc_of_but_n_full(struct arca_ctx *ctx,
    const struct arca_options *o, unsigned n)
{
	if (n == 0)
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "the number of full backups to keep must be at least 1");
	return run_remove(ctx, o, 0, n, 1);
}

static void
list_plan(struct arca_ctx *ctx, const struct arca_retention_plan *plan,
    struct arca_buf *b)
{
	size_t i;

	arca_buf_reset(b);
	for (i = 0; i < plan->n; i++)
		arca_buf_printf(b, "\n%s", plan->v[i].name);
}

int
arca_run_cleanup(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	struct arca_retention_plan plan = { 0 };
	const struct arca_set *p;
	struct arca_buf b = { 0 };
	int r, rounds = 0;

	if ((r = arca_engine_open(ctx, o, 0, &e)) != 0)
		return r;
	/* A backup that died while publishing its last files is finished
	 * first, so its set is not taken for an interrupted one. */
	if (!o->dry_run && (r = arca_resume_settle(e)) != 0)
		goto out;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	/*
	 * duplicity: a trailing interrupted backup is deleted even without
	 * --force (never with --dry-run here); the next backup starts over.
	 */
	while ((p = arca_retention_trailing_partial(e->col)) != NULL &&
	    !o->dry_run) {
		if (++rounds > 1000) {
			r = arca_error(ctx, ARCA_ERR_FATAL, "cleanup of partial "
			    "backup sets does not converge");
			goto out;
		}
		arca_notice(ctx, "Cleaning up previous partial %s backup set, "
		    "restarting.", "cleanup");
		if ((r = arca_retention_plan_set(ctx, p, &e->local, &e->pfx,
		    &plan)) != 0 || (r = arca_resume_plan_state(e, &plan)) != 0 ||
		    (r = arca_retention_execute(e, &plan)) != 0)
			goto out;
		arca_retention_plan_free(&plan);
		if ((r = arca_engine_refresh(e)) != 0)
			goto out;
	}
	/* Hidden upload temp files of crashed runs: listed, or deleted. */
	if ((r = arca_sweep_target(e, o->force && !o->dry_run)) != 0)
		goto out;
	if ((r = arca_retention_plan_cleanup(ctx, e->col, &plan)) != 0)
		goto out;
	if (plan.n == 0) {
		arca_warn(ctx, "No extraneous files found, nothing deleted in "
		    "cleanup.");
		goto out;
	}
	list_plan(ctx, &plan, &b);
	if (!o->force) {
		arca_out(ctx, "%s%s\nRun arca again with the --force "
		    "option to actually delete.\n", plan.n == 1 ?
		    "Found the following file to delete:" :
		    "Found the following files to delete:", (char *)b.data);
		goto out;
	}
	arca_out(ctx, "%s%s\n", plan.n == 1 ?
	    "Deleting this file from backend:" :
	    "Deleting these files from backend:", (char *)b.data);
	if (!o->dry_run)
		r = arca_retention_execute(e, &plan);
out:
	arca_buf_free(&b);
	arca_retention_plan_free(&plan);
	arca_engine_close(e);
	return r;
}
