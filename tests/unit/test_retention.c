/*
 * test_retention.c: what remove-older-than, remove-all-but-n-full,
 * remove-all-inc-of-but-n-full and cleanup select, and the order they
 * delete in (spec §12), from file names alone.
 * tests/integration/10_retention_vs_duplicity.sh checks the same against
 * the real duplicity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "engine/collection.h"
#include "engine/retention.h"
#include "format/filename.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/timefmt.h"

#define T0 1700000000

static struct arca_ctx ctx;

/* name from fmt, where each "%T" is an int64_t time as in file names */
static void
addf(struct arca_strlist *l, const char *fmt, ...)
{
	char name[512], ts[17];
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt != '\0' && n + 20 < sizeof(name); fmt++) {
		if (fmt[0] == '%' && fmt[1] == 'T') {
			arca_time_format(va_arg(ap, int64_t), ts);
			memcpy(name + n, ts, 16);
			n += 16;
			fmt++;
		} else if (fmt[0] == '%' && fmt[1] == 'u') {
			n += (size_t)snprintf(name + n, sizeof(name) - n, "%u",
			    va_arg(ap, unsigned));
			fmt++;
		} else
			name[n++] = *fmt;
	}
	va_end(ap);
	name[n] = '\0';
	if (arca_strlist_add(l, name) != 0)
		exit(2);
}

/* A full set (nv volumes) with signatures on both sides. */
static void
full(struct arca_strlist *r, struct arca_strlist *l, int64_t t, unsigned nv)
{
	unsigned i;

	for (i = 1; i <= nv; i++)
		addf(r, "duplicity-full.%T.vol%u.difftar.gz", t, i);
	addf(r, "duplicity-full.%T.manifest", t);
	addf(r, "duplicity-full-signatures.%T.sigtar.gz", t);
	addf(l, "duplicity-full.%T.manifest", t);
	addf(l, "duplicity-full-signatures.%T.sigtar.gz", t);
}

static void
inc(struct arca_strlist *r, struct arca_strlist *l, int64_t a, int64_t b,
    unsigned nv)
{
	unsigned i;

	for (i = 1; i <= nv; i++)
		addf(r, "duplicity-inc.%T.to.%T.vol%u.difftar.gz", a, b, i);
	addf(r, "duplicity-inc.%T.to.%T.manifest", a, b);
	addf(r, "duplicity-new-signatures.%T.to.%T.sigtar.gz", a, b);
	addf(l, "duplicity-inc.%T.to.%T.manifest", a, b);
	addf(l, "duplicity-new-signatures.%T.to.%T.sigtar.gz", a, b);
}

/* Chains A (T0, +100, +200), B (+300, +400), C (+500) primary. */
static void
three_chains(struct arca_strlist *r, struct arca_strlist *l)
{
	full(r, l, T0, 2);
	inc(r, l, T0, T0 + 100, 1);
	inc(r, l, T0 + 100, T0 + 200, 3);
	full(r, l, T0 + 300, 1);
	inc(r, l, T0 + 300, T0 + 400, 1);
	full(r, l, T0 + 500, 1);
}

static struct arca_collection *
build(struct arca_strlist *r, struct arca_strlist *l)
{
	struct arca_collection *c = NULL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.verbosity = -1;
	arca_strlist_sort(r);
	arca_strlist_sort(l);
	CHECK_INT(arca_collection_build(&ctx, r, l, NULL, &c), 0);
	return c;
}

/* The plan as "R name" / "L name" lines, for whole-order checks. */
static char *
plan_text(const struct arca_retention_plan *p)
{
	struct arca_buf b = { 0 };
	size_t i;

	for (i = 0; i < p->n; i++)
		arca_buf_printf(&b, "%c %s\n", p->v[i].local ? 'L' : 'R',
		    p->v[i].name);
	return b.data ? arca_buf_steal(&b) : strdup("");
}

static void
test_nth_full(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c;

	three_chains(&r, &l);
	c = build(&r, &l);
	CHECK_INT(arca_retention_nth_full(c, 1), T0 + 500);
	CHECK_INT(arca_retention_nth_full(c, 2), T0 + 300);
	CHECK_INT(arca_retention_nth_full(c, 3), T0);
	CHECK_INT(arca_retention_nth_full(c, 4), 0);
	CHECK_INT(arca_retention_nth_full(c, 0), 0);
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

static void
test_select_and_order(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c;
	struct arca_retention_sel sel;
	struct arca_retention_plan plan = { 0 };
	char *txt, want[4096], ts[6][17];
	int i;

	three_chains(&r, &l);
	c = build(&r, &l);
	/* TIME inside chain B: A goes, B is kept whole (its full is required) */
	CHECK_INT(arca_retention_select(&ctx, c, T0 + 350, 0, &sel), 0);
	CHECK_INT(sel.nchains, 1);
	CHECK_INT(sel.chains[0]->end, T0 + 200);
	CHECK_INT(sel.nrequired, 1);
	CHECK_INT(sel.required[0]->end, T0 + 300);
	CHECK_INT(sel.primary_older, 0);
	/* A's signature chains, local and remote */
	CHECK_INT(sel.nsigs, 2);
	CHECK_INT(arca_retention_plan_remove(&ctx, &sel, &l, NULL, 0, &plan), 0);
	for (i = 0; i < 6; i++)
		arca_time_format(T0 + 100 * i, ts[i]);
	/* signature chains newest first (remote before local sorts first,
	 * reversed), then the chain's sets newest first, manifest first,
	 * volumes high to low, then the set's archive-dir files */
	snprintf(want, sizeof(want),
	    "L duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "L duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "L duplicity-full-signatures.%s.sigtar.gz\n"
	    "R duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "R duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "R duplicity-full-signatures.%s.sigtar.gz\n"
	    "R duplicity-inc.%s.to.%s.manifest\n"
	    "R duplicity-inc.%s.to.%s.vol3.difftar.gz\n"
	    "R duplicity-inc.%s.to.%s.vol2.difftar.gz\n"
	    "R duplicity-inc.%s.to.%s.vol1.difftar.gz\n"
	    "L duplicity-inc.%s.to.%s.manifest\n"
	    "L duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "R duplicity-inc.%s.to.%s.manifest\n"
	    "R duplicity-inc.%s.to.%s.vol1.difftar.gz\n"
	    "L duplicity-inc.%s.to.%s.manifest\n"
	    "L duplicity-new-signatures.%s.to.%s.sigtar.gz\n"
	    "R duplicity-full.%s.manifest\n"
	    "R duplicity-full.%s.vol2.difftar.gz\n"
	    "R duplicity-full.%s.vol1.difftar.gz\n"
	    "L duplicity-full-signatures.%s.sigtar.gz\n"
	    "L duplicity-full.%s.manifest\n",
	    ts[1], ts[2], ts[0], ts[1], ts[0],
	    ts[1], ts[2], ts[0], ts[1], ts[0],
	    ts[1], ts[2], ts[1], ts[2], ts[1], ts[2], ts[1], ts[2],
	    ts[1], ts[2], ts[1], ts[2],
	    ts[0], ts[1], ts[0], ts[1], ts[0], ts[1], ts[0], ts[1],
	    ts[0], ts[0], ts[0], ts[0], ts[0]);
	txt = plan_text(&plan);
	CHECK_STR(txt, want);
	free(txt);
	arca_retention_plan_free(&plan);
	arca_retention_sel_free(&sel);

	/* inc_only: A and B lose their incrementals, fulls stay */
	CHECK_INT(arca_retention_select(&ctx, c, T0 + 500, 1, &sel), 0);
	CHECK_INT(sel.nchains, 2);
	CHECK_INT(arca_retention_plan_remove(&ctx, &sel, &l, NULL, 1, &plan), 0);
	txt = plan_text(&plan);
	CHECK(strstr(txt, "full-signatures") == NULL);
	CHECK(strstr(txt, "duplicity-full.") == NULL);
	CHECK(strstr(txt, "vol3") != NULL);
	free(txt);
	arca_retention_plan_free(&plan);
	arca_retention_sel_free(&sel);

	/* Past the primary's end: primary kept, with both its sig chains */
	CHECK_INT(arca_retention_select(&ctx, c, T0 + 9999, 0, &sel), 0);
	CHECK_INT(sel.nchains, 2);
	CHECK_INT(sel.primary_older, 1);
	CHECK_INT(sel.nsigs, 4);
	for (i = 0; i < (int)sel.nsigs; i++)
		CHECK(sel.sigs[i]->start != T0 + 500);
	arca_retention_sel_free(&sel);

	/* Before everything: nothing, and no signature chain either */
	CHECK_INT(arca_retention_select(&ctx, c, T0 - 1, 0, &sel), 0);
	CHECK_INT(sel.nchains, 0);
	CHECK_INT(sel.nsigs, 0);
	CHECK_INT(sel.nrequired, 0);
	arca_retention_sel_free(&sel);
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

static void
test_cleanup_and_partial(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c;
	struct arca_retention_plan plan = { 0 };
	const struct arca_set *p;
	char *txt;

	three_chains(&r, &l);
	/* an incomplete set (no manifest) and an orphaned one */
	addf(&r, "duplicity-inc.%T.to.%T.vol1.difftar.gz", (int64_t)T0 + 500,
	    (int64_t)T0 + 600);
	addf(&r, "duplicity-inc.%T.to.%T.vol1.difftar.gz", (int64_t)T0 + 700,
	    (int64_t)T0 + 800);
	addf(&r, "duplicity-inc.%T.to.%T.manifest", (int64_t)T0 + 700,
	    (int64_t)T0 + 800);
	addf(&r, "unrelated.txt");
	c = build(&r, &l);
	CHECK(arca_retention_trailing_partial(c) == NULL);
	CHECK_INT(arca_retention_plan_cleanup(&ctx, c, &plan), 0);
	txt = plan_text(&plan);
	CHECK_INT(plan.n, 3);
	/* the orphaned set's manifest before its volume */
	CHECK(strstr(txt, "manifest\nR duplicity-inc.") != NULL);
	CHECK(strstr(txt, "unrelated") == NULL);
	free(txt);
	arca_retention_plan_free(&plan);
	arca_collection_free(c);

	/* an interrupted incremental on the primary chain */
	addf(&l, "duplicity-inc.%T.to.%T.manifest.part", (int64_t)T0 + 500,
	    (int64_t)T0 + 600);
	addf(&l, "duplicity-new-signatures.%T.to.%T.sigtar.part",
	    (int64_t)T0 + 500, (int64_t)T0 + 600);
	c = build(&r, &l);
	CHECK((p = arca_retention_trailing_partial(c)) != NULL);
	if (p != NULL) {
		CHECK_INT(p->start, T0 + 500);
		CHECK_INT(arca_retention_plan_set(&ctx, p, &l, NULL, &plan), 0);
		txt = plan_text(&plan);
		CHECK(strstr(txt, "R duplicity-inc.") != NULL);
		CHECK(strstr(txt, "manifest.part") != NULL);
		CHECK(strstr(txt, "sigtar.part") != NULL);
		CHECK(strstr(txt, "R duplicity-inc.20231114T222140Z.to."
		    "20231114T222320Z.manifest") == NULL);
		free(txt);
		arca_retention_plan_free(&plan);
	}
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_nth_full);
	RUN(test_select_and_order);
	RUN(test_cleanup_and_partial);
	TEST_DONE();
}
