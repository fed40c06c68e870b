/*
 * test_collection.c: sets, chains, signature chains and collection-status
 * text from file names (spec §11).
 *
 * With "--status REMOTE_DIR [ARCHIVE_DIR]" it instead lists the two
 * directories, builds the collection and prints warnings and status to
 * stdout the way `duplicity collection-status` does; the integration script
 * collection_vs_duplicity.sh compares the two.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"

#include "engine/collection.h"
#include "format/filename.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/timefmt.h"

/* Captured log and output of one test. */
static struct arca_buf logbuf, outbuf;

static void
cap_log(void *ud, int level, const char *msg)
{

	arca_buf_printf(&logbuf, "%s\n", msg);
}

static void
cap_out(void *ud, const char *text, size_t len)
{

	arca_buf_append(&outbuf, text, len);
}

static void
ctx_init(struct arca_ctx *ctx)
{

	memset(ctx, 0, sizeof(*ctx));
	ctx->verbosity = ARCA_LOG_NOTICE;
	ctx->log = cap_log;
	ctx->out = cap_out;
	arca_buf_free(&logbuf);
	arca_buf_free(&outbuf);
}

static const char *
logtext(void)
{

	return logbuf.data ? (const char *)logbuf.data : "";
}

static const char *
outtext(void)
{

	return outbuf.data ? (const char *)outbuf.data : "";
}

/* "%F" and "%T" in fmt stand for a time (int64_t) formatted as in names. */
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
	if (arca_strlist_add(l, name) != 0) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
}

/* A complete full set with nv volumes, and optionally its signatures. */
static void
add_full(struct arca_strlist *l, int64_t t, unsigned nv, int sig)
{
	unsigned i;

	for (i = 1; i <= nv; i++)
		addf(l, "duplicity-full.%T.vol%u.difftar.gz", t, i);
	addf(l, "duplicity-full.%T.manifest", t);
	if (sig)
		addf(l, "duplicity-full-signatures.%T.sigtar.gz", t);
}

static void
add_inc(struct arca_strlist *l, int64_t t1, int64_t t2, unsigned nv,
    int manifest, int sig)
{
	unsigned i;

	for (i = 1; i <= nv; i++)
		addf(l, "duplicity-inc.%T.to.%T.vol%u.difftar.gz", t1, t2, i);
	if (manifest)
		addf(l, "duplicity-inc.%T.to.%T.manifest", t1, t2);
	if (sig)
		addf(l, "duplicity-new-signatures.%T.to.%T.sigtar.gz", t1, t2);
}

static int
list_dir(const char *dir, struct arca_strlist *l)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	/* readdir order, as duplicity's file backend (os.listdir) sees it. */
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (arca_strlist_add(l, de->d_name) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

#define T0	((int64_t)1704067200)	/* 20240101T000000Z */
#define DAY	((int64_t)86400)

static void
check_fixture(const char *sub, int encrypted)
{
	struct arca_strlist remote = { 0 };
	struct arca_collection *c = NULL;
	struct arca_chain *ch;
	struct arca_ctx ctx;
	char dir[4096];
	size_t i;

	ctx_init(&ctx);
	snprintf(dir, sizeof(dir), "%s/duplicity-0.8.22/%s", test_data_dir(), sub);
	CHECK_INT(list_dir(dir, &remote), 0);
	CHECK_INT(remote.n, 11);
	CHECK_INT(arca_collection_build(&ctx, &remote, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 3);
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->norphaned, 0);
	CHECK_INT(c->nincomplete, 0);
	CHECK_INT(c->orphaned_sigs_remote->n, 0);
	CHECK_INT(c->orphaned_sigs_local->n, 0);
	CHECK_STR(logtext(), "");
	if (c->nchains != 1)
		goto out;
	ch = &c->chains[0];
	CHECK(c->primary == ch);
	CHECK_INT(c->dropped_last, 0);
	CHECK_INT(ch->nsets, 3);
	CHECK_INT(ch->start, T0);
	CHECK_INT(ch->end, T0 + 2 * DAY);
	if (ch->nsets == 3) {
		CHECK_INT(ch->sets[0]->is_full, 1);
		CHECK_INT(ch->sets[0]->end, T0);
		CHECK_INT(ch->sets[1]->is_full, 0);
		CHECK_INT(ch->sets[1]->start, T0);
		CHECK_INT(ch->sets[1]->end, T0 + DAY);
		CHECK_INT(ch->sets[2]->start, T0 + DAY);
		CHECK_INT(ch->sets[2]->end, T0 + 2 * DAY);
		CHECK_INT(arca_set_count_vols(ch->sets[0]), 2);
		CHECK_INT(arca_set_count_vols(ch->sets[1]), 1);
		CHECK_INT(arca_set_count_vols(ch->sets[2]), 2);
		for (i = 0; i < 3; i++) {
			CHECK_INT(ch->sets[i]->encrypted, encrypted);
			CHECK(ch->sets[i]->manifest != NULL);
			CHECK(ch->sets[i]->local_partial == NULL);
			CHECK_INT(arca_set_is_partial(ch->sets[i]), 0);
		}
		CHECK(strstr(ch->sets[0]->vols[1],
		    "duplicity-full.20240101T000000Z.vol2.difftar") ==
		    ch->sets[0]->vols[1]);
		CHECK(strstr(ch->sets[2]->manifest,
		    "duplicity-inc.20240102T000000Z.to.20240103T000000Z."
		    "manifest") == ch->sets[2]->manifest);
	}
	CHECK_INT(c->nsigchains, 1);
	CHECK(ch->sig == &c->sigchains[0]);
	if (ch->sig != NULL) {
		CHECK_INT(ch->sig->local, 0);
		CHECK_INT(ch->sig->start, T0);
		CHECK_INT(ch->sig->end, T0 + 2 * DAY);
		CHECK_INT(ch->sig->nnews, 2);
		CHECK(strncmp(ch->sig->full, "duplicity-full-signatures."
		    "20240101T000000Z.sigtar.", 50) == 0);
		if (ch->sig->nnews == 2) {
			CHECK(strncmp(ch->sig->news[0], "duplicity-new-signatures."
			    "20240101T000000Z.to.20240102T000000Z.", 62) == 0);
			CHECK_INT(ch->sig->news_start[1], T0 + DAY);
			CHECK_INT(ch->sig->news_end[1], T0 + 2 * DAY);
		}
	}
	/* One chain: before, within and after all give it. */
	CHECK(arca_collection_chain_at(c, T0 - 365 * DAY) == ch);
	CHECK(arca_collection_chain_at(c, T0 + DAY + 3600) == ch);
	CHECK(arca_collection_chain_at(c, T0 + 30 * DAY) == ch);
	CHECK_INT(arca_collection_last_full_time(c), T0);
out:
	arca_collection_free(c);
	arca_strlist_free(&remote);
}

static void
test_fixture_plain(void)
{

	check_fixture("plain", 0);
}

static void
test_fixture_encrypted(void)
{

	check_fixture("encrypted", 1);
}

/* Two chains: sorted by end time; primary is the newer; chain_at picks. */
static void
test_two_chains(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_chain *ch;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	/* Newer chain listed first: order must come from times. */
	add_full(&r, 4000, 1, 1);
	add_inc(&r, 4000, 5000, 1, 1, 1);
	add_full(&r, 1000, 2, 1);
	add_inc(&r, 1000, 2000, 1, 1, 1);
	add_inc(&r, 2000, 3000, 3, 1, 1);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nchains, 2);
	CHECK_INT(c->nsigchains, 2);
	CHECK_STR(logtext(), "");
	if (c->nchains != 2)
		goto out;
	CHECK_INT(c->chains[0].start, 1000);
	CHECK_INT(c->chains[0].end, 3000);
	CHECK_INT(c->chains[0].nsets, 3);
	CHECK_INT(c->chains[1].start, 4000);
	CHECK_INT(c->chains[1].end, 5000);
	CHECK(c->primary == &c->chains[1]);
	CHECK(c->chains[0].sig == NULL);
	CHECK(c->chains[1].sig != NULL && c->chains[1].sig->start == 4000);
	CHECK_INT(arca_collection_last_full_time(c), 4000);

	CHECK(arca_collection_chain_at(c, 10) == &c->chains[0]);	/* oldest */
	CHECK(arca_collection_chain_at(c, 1000) == &c->chains[0]);
	CHECK(arca_collection_chain_at(c, 2500) == &c->chains[0]);
	CHECK(arca_collection_chain_at(c, 3500) == &c->chains[0]);	/* ended before */
	CHECK(arca_collection_chain_at(c, 4000) == &c->chains[1]);
	CHECK(arca_collection_chain_at(c, 5000) == &c->chains[1]);
	CHECK(arca_collection_chain_at(c, 99999) == &c->chains[1]);
	CHECK_INT(arca_collection_find_chain(&ctx, c, 2500, &ch), 0);
	CHECK(ch == &c->chains[0]);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/* Overlapping chains: duplicity refuses a time both cover. */
static void
test_two_chains_cover(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_chain *ch = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 0);
	add_inc(&r, 1000, 3000, 1, 1, 0);
	add_full(&r, 2000, 1, 0);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nchains, 2);
	CHECK(arca_collection_chain_at(c, 2000) == NULL);
	CHECK_INT(arca_collection_find_chain(&ctx, c, 2000, &ch),
	    ARCA_ERR_CORRUPT);
	CHECK_STR(ctx.errmsg, "Two chains cover the given time");
	CHECK(arca_collection_chain_at(c, 2500) == &c->chains[1]);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

static void
test_no_chains(void)
{
	struct arca_collection *c = NULL;
	struct arca_chain *ch;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	CHECK_INT(arca_collection_build(&ctx, NULL, NULL, NULL, &c), 0);
	if (c == NULL)
		return;
	CHECK(arca_collection_chain_at(c, 1000) == NULL);
	CHECK_INT(arca_collection_find_chain(&ctx, c, 1000, &ch),
	    ARCA_ERR_NODATA);
	CHECK_INT(arca_collection_last_full_time(c), 0);
	arca_collection_print_status(&ctx, c, NULL);
	CHECK_STR(outtext(),
	    "Last full backup date: none\n"
	    "Collection Status\n"
	    "-----------------\n"
	    "Connecting with backend: BackendWrapper\n"
	    "Archive dir: None\n"
	    "\n"
	    "Found 0 secondary backup chains.\n"
	    "No backup chains with active signatures found\n"
	    "No orphaned or incomplete backup sets found.\n");
	arca_collection_free(c);
}

static void
test_orphaned_inc(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 2000, 1, 1, 1);
	add_inc(&r, 2500, 3000, 2, 1, 0);	/* starts where nothing ends */
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->norphaned, 1);
	CHECK_INT(c->nincomplete, 0);
	CHECK(c->primary == &c->chains[0]);
	if (c->norphaned == 1) {
		CHECK_INT(c->orphaned[0]->start, 2500);
		CHECK_INT(c->orphaned[0]->end, 3000);
	}
	CHECK_STR(logtext(),
	    "Warning, found the following orphaned backup file:\n"
	    "[duplicity-inc.19700101T004140Z.to.19700101T005000Z.manifest, "
	    "duplicity-inc.19700101T004140Z.to.19700101T005000Z.vol1.difftar.gz, "
	    "duplicity-inc.19700101T004140Z.to.19700101T005000Z.vol2.difftar.gz]\n");
	arca_collection_print_status(&ctx, c, "/a");
	CHECK(strstr(outtext(), "\nAlso found 1 backup set not part of any "
	    "chain,\nand 0 incomplete backup sets.\nThese may be deleted by "
	    "running duplicity with the \"cleanup\" command.\n") != NULL);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/* An incremental with the same start and a later end replaces the last one. */
static void
test_replace(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 3000, 2, 1, 0);
	add_inc(&r, 1000, 2000, 1, 1, 0);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 3);
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->norphaned, 0);
	CHECK_INT(c->nincomplete, 0);
	if (c->nchains == 1) {
		CHECK_INT(c->chains[0].nsets, 2);
		CHECK_INT(c->chains[0].end, 3000);
		if (c->chains[0].nsets == 2) {
			CHECK_INT(c->chains[0].sets[1]->start, 1000);
			CHECK_INT(c->chains[0].sets[1]->end, 3000);
			CHECK_INT(arca_set_count_vols(c->chains[0].sets[1]), 2);
		}
	}
	/* The full signature alone ends at 1000: no primary. */
	CHECK(c->primary == NULL);
	CHECK(strstr(logtext(), "Warning, found signatures but no "
	    "corresponding backup files\n") != NULL);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

static void
test_incomplete(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 2000, 3, 0, 0);	/* volumes, no manifest */
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->nincomplete, 1);
	CHECK_INT(c->norphaned, 0);
	if (c->nincomplete == 1) {
		CHECK_INT(arca_set_is_complete(c->incomplete[0]), 0);
		CHECK_INT(c->incomplete[0]->nvols, 3);
	}
	CHECK(c->primary == &c->chains[0]);
	if (c->nchains == 1)
		CHECK_INT(c->chains[0].nsets, 1);
	CHECK_STR(logtext(), "Warning, found incomplete backup sets, probably "
	    "left from aborted session\n");
	arca_collection_print_status(&ctx, c, "/a");
	CHECK(strstr(outtext(), "-------------------------\n"
	    "Also found 0 backup sets not part of any chain,\n"
	    "and 1 incomplete backup set.\n") != NULL);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/* An interrupted incremental: remote volumes + local .manifest.part. */
static void
test_local_partial(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_set *s;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	addf(&r, "duplicity-full.%T.vol1.difftar.gpg", (int64_t)1000);
	addf(&r, "duplicity-full.%T.manifest.gpg", (int64_t)1000);
	addf(&r, "duplicity-full-signatures.%T.sigtar.gpg", (int64_t)1000);
	addf(&r, "duplicity-inc.%T.to.%T.vol1.difftar.gpg", (int64_t)1000,
	    (int64_t)2000);
	addf(&r, "duplicity-inc.%T.to.%T.vol2.difftar.gpg", (int64_t)1000,
	    (int64_t)2000);
	/* Cache copies make no sets; the .part manifest does. */
	addf(&l, "duplicity-full.%T.manifest", (int64_t)1000);
	addf(&l, "duplicity-full-signatures.%T.sigtar.gz", (int64_t)1000);
	addf(&l, "duplicity-full.%T.manifest", (int64_t)500);
	addf(&l, "duplicity-inc.%T.to.%T.manifest.part", (int64_t)1000,
	    (int64_t)2000);
	addf(&l, "duplicity-new-signatures.%T.to.%T.sigtar.part",
	    (int64_t)1000, (int64_t)2000);
	addf(&l, "lockfile");
	CHECK_INT(arca_collection_build(&ctx, &r, &l, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 2);
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->nincomplete, 0);
	CHECK_INT(c->norphaned, 0);
	CHECK_STR(logtext(), "");
	if (c->nchains != 1 || c->chains[0].nsets != 2)
		goto out;
	s = c->chains[0].sets[1];
	CHECK(s->manifest == NULL);
	CHECK_STR(s->local_partial, "duplicity-inc.19700101T001640Z.to."
	    "19700101T003320Z.manifest.part");
	CHECK_INT(arca_set_is_complete(s), 1);
	CHECK_INT(arca_set_is_partial(s), 1);
	CHECK_INT(arca_set_count_vols(s), 2);
	/* Begun by the plain local name, encrypted from its remote volumes. */
	CHECK_INT(s->encrypted, 1);
	CHECK_INT(c->chains[0].end, 2000);
	/* Local chain (ending 2000 thanks to the .sigtar.part) is primary. */
	CHECK_INT(c->nsigchains, 2);
	CHECK(c->primary == &c->chains[0]);
	CHECK(c->chains[0].sig != NULL && c->chains[0].sig->local == 1 &&
	    c->chains[0].sig->end == 2000);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

static void
test_orphaned_sigs(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	/* New signatures listed before the chain they extend still join. */
	addf(&r, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)2000,
	    (int64_t)3000);
	addf(&r, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)1000,
	    (int64_t)2000);
	addf(&r, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)7000,
	    (int64_t)8000);
	addf(&r, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)6000,
	    (int64_t)7000);
	add_inc(&r, 1000, 2000, 1, 1, 0);
	add_inc(&r, 2000, 3000, 1, 1, 0);
	addf(&l, "duplicity-full-signatures.%T.sigtar.gz", (int64_t)1000);
	addf(&l, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)1500,
	    (int64_t)2000);
	CHECK_INT(arca_collection_build(&ctx, &r, &l, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->orphaned_sigs_remote->n, 2);
	if (c->orphaned_sigs_remote->n == 2) {
		/* Sorted by start time, as duplicity reports them. */
		CHECK_STR(c->orphaned_sigs_remote->v[0], "duplicity-new-signatures."
		    "19700101T014000Z.to.19700101T015640Z.sigtar.gz");
		CHECK_STR(c->orphaned_sigs_remote->v[1], "duplicity-new-signatures."
		    "19700101T015640Z.to.19700101T021320Z.sigtar.gz");
	}
	CHECK_INT(c->orphaned_sigs_local->n, 1);
	CHECK_INT(c->nsigchains, 2);
	CHECK(c->primary != NULL && c->primary->sig != NULL &&
	    c->primary->sig->local == 0 && c->primary->sig->nnews == 2);
	CHECK_STR(logtext(),
	    "Warning, found the following local orphaned signature file:\n"
	    "duplicity-new-signatures.19700101T002500Z.to.19700101T003320Z."
	    "sigtar.gz\n"
	    "Warning, found the following remote orphaned signature files:\n"
	    "duplicity-new-signatures.19700101T014000Z.to.19700101T015640Z."
	    "sigtar.gz\n"
	    "duplicity-new-signatures.19700101T015640Z.to.19700101T021320Z."
	    "sigtar.gz\n");
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

/* Local and remote chains with the same end: local is preferred. */
static void
test_local_sig_preferred(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 2000, 1, 1, 1);
	addf(&l, "duplicity-full-signatures.%T.sigtar.gz", (int64_t)1000);
	addf(&l, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)1000,
	    (int64_t)2000);
	CHECK_INT(arca_collection_build(&ctx, &r, &l, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsigchains, 2);
	if (c->nsigchains == 2) {
		CHECK_INT(c->sigchains[0].local, 0);
		CHECK_INT(c->sigchains[1].local, 1);
	}
	CHECK(c->primary != NULL && c->primary->sig == &c->sigchains[1]);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

/* duplicity: two local chains with the same end come out reversed. */
static void
test_local_sig_tie(void)
{
	struct arca_strlist l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	addf(&l, "duplicity-full-signatures.%T.sigtar.gz", (int64_t)1000);
	addf(&l, "duplicity-new-signatures.%T.to.%T.sigtar.gz", (int64_t)1000,
	    (int64_t)2000);
	addf(&l, "duplicity-full-signatures.%T.sigtar.gz", (int64_t)2000);
	CHECK_INT(arca_collection_build(&ctx, NULL, &l, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsigchains, 2);
	if (c->nsigchains == 2) {
		CHECK_INT(c->sigchains[0].start, 2000);
		CHECK_INT(c->sigchains[1].start, 1000);
	}
	CHECK_STR(logtext(), "Warning, found signatures but no corresponding "
	    "backup files\n");
out:
	arca_collection_free(c);
	arca_strlist_free(&l);
}

/* No new-signatures for the last incremental: it is discarded. */
static void
test_dropped_last(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 2000, 1, 1, 1);
	add_inc(&r, 2000, 3000, 2, 1, 0);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK(c->primary == &c->chains[0]);
	CHECK_INT(c->dropped_last, 1);
	CHECK_INT(c->nincomplete, 1);
	if (c->nincomplete == 1)
		CHECK_INT(c->incomplete[0]->end, 3000);
	if (c->primary != NULL) {
		CHECK_INT(c->primary->nsets, 2);
		CHECK_INT(c->primary->end, 3000);	/* duplicity keeps it */
		CHECK(c->primary->sig != NULL && c->primary->sig->end == 2000);
	}
	CHECK_STR(logtext(),
	    "Warning, discarding last backup set, because of missing "
	    "signature file.\n"
	    "Warning, found incomplete backup sets, probably left from "
	    "aborted session\n");
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/* duplicity: with one incremental the rule cannot fire (full has no end). */
static void
test_dropped_last_needs_two_incs(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 1);
	add_inc(&r, 1000, 2000, 1, 1, 0);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK(c->primary == NULL);
	CHECK_INT(c->dropped_last, 0);
	CHECK_INT(c->nincomplete, 0);
	CHECK_INT(c->chains[0].nsets, 2);
	CHECK_STR(logtext(), "Warning, found signatures but no corresponding "
	    "backup files\n");
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

static void
test_duplicate_volume(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 2, 1);
	addf(&r, "duplicity-full.%T.vol2.difftar.gpg", (int64_t)1000);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c),
	    ARCA_ERR_CORRUPT);
	CHECK(c == NULL);
	CHECK(strstr(ctx.errmsg, "Volume 2 is already in the volume list") !=
	    NULL);
	CHECK(strstr(ctx.errmsg, "vol2.difftar.gpg") != NULL);
	arca_strlist_free(&r);

	ctx_init(&ctx);
	add_full(&r, 1000, 1, 0);
	addf(&r, "duplicity-full.%T.manifest.gpg", (int64_t)1000);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c),
	    ARCA_ERR_CORRUPT);
	CHECK(c == NULL);
	arca_strlist_free(&r);

	/* A volume number that would make us allocate gigabytes. */
	ctx_init(&ctx);
	addf(&r, "duplicity-full.%T.vol%u.difftar.gz", (int64_t)1000,
	    400000000u);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c),
	    ARCA_ERR_CORRUPT);
	CHECK(c == NULL);
	arca_strlist_free(&r);
}

static void
test_unrelated_ignored(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	add_full(&r, 1000, 2, 1);
	addf(&r, "unrelated.txt");
	addf(&r, "duplicity-full.%T.vol1.difftar.gz.par2", (int64_t)1000);
	addf(&r, "duplicity-full.%T.vol1.difftar.gz.vol000+01.par2",
	    (int64_t)1000);
	addf(&r, "duplicity-full.%T.manifest.par2", (int64_t)1000);
	addf(&r, "duplicity-full-signatures.%T.sigtar.gz.par2", (int64_t)1000);
	addf(&r, "duplicity-full.notatime.vol1.difftar.gz");
	addf(&r, "duplicity-inc.%T.vol1.difftar.gz", (int64_t)1000);
	addf(&r, "");
	addf(&l, "lockfile");
	addf(&l, "duplicity-full.%T.vol3.difftar.part", (int64_t)1000);
	CHECK_INT(arca_collection_build(&ctx, &r, &l, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 1);
	CHECK_INT(c->nchains, 1);
	CHECK_INT(c->nsigchains, 1);
	if (c->nsets == 1)
		CHECK_INT(c->sets[0]->nvols, 2);
	CHECK(c->primary != NULL);
	CHECK_STR(logtext(), "");
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
}

static void
test_short_names(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;

	ctx_init(&ctx);
	/* 1795689224 = tp3uo8, 1795689324 = tp3ur0 in base 36. */
	addf(&r, "df.tp3uo8.1.dt.z");
	addf(&r, "df.tp3uo8.2.dt.z");
	addf(&r, "df.tp3uo8.m");
	addf(&r, "dfs.tp3uo8.st.z");
	addf(&r, "di.tp3uo8.tp3ur0.1.dt.z");
	addf(&r, "di.tp3uo8.tp3ur0.m");
	addf(&r, "dns.tp3uo8.tp3ur0.st.z");
	/* A long name of the same full set joins it. */
	addf(&r, "duplicity-full.%T.vol3.difftar.gz", (int64_t)1795689224);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 2);
	CHECK_INT(c->nchains, 1);
	if (c->nchains == 1 && c->chains[0].nsets == 2) {
		CHECK_INT(c->chains[0].start, 1795689224);
		CHECK_INT(c->chains[0].end, 1795689324);
		CHECK_INT(arca_set_count_vols(c->chains[0].sets[0]), 3);
		CHECK_INT(arca_set_count_vols(c->chains[0].sets[1]), 1);
	}
	CHECK(c->primary != NULL);
	CHECK_STR(logtext(), "");
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

static void
test_prefix(void)
{
	struct arca_strlist r = { 0 };
	struct arca_collection *c = NULL;
	struct arca_fprefix pfx = { "P_", "A_", "M_", "S_" };
	struct arca_ctx ctx;

	ctx_init(&ctx);
	addf(&r, "P_A_duplicity-full.%T.vol1.difftar.gpg", (int64_t)1000);
	addf(&r, "P_M_duplicity-full.%T.manifest.gpg", (int64_t)1000);
	addf(&r, "P_S_duplicity-full-signatures.%T.sigtar.gpg", (int64_t)1000);
	add_full(&r, 5000, 1, 1);	/* no prefix: not ours */
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, &pfx, &c), 0);
	if (c == NULL)
		goto out;
	CHECK_INT(c->nsets, 1);
	CHECK_INT(c->nchains, 1);
	CHECK(c->primary != NULL);
out:
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/*
 * Text printed by real duplicity 0.8.22 (TZ=UTC) on a target made with
 * --current-time 1700000000, +100, +200 (chain 1) and +300, +400 (chain 2).
 */
static const char status_two_chains[] =
    "Last full backup date: Tue Nov 14 22:18:20 2023\n"
    "Collection Status\n"
    "-----------------\n"
    "Connecting with backend: BackendWrapper\n"
    "Archive dir: /tmp/coll/exp/arch/n\n"
    "\n"
    "Found 1 secondary backup chain.\n"
    "Secondary chain 1 of 1:\n"
    "-------------------------\n"
    "Chain start time: Tue Nov 14 22:13:20 2023\n"
    "Chain end time: Tue Nov 14 22:16:40 2023\n"
    "Number of contained backup sets: 3\n"
    "Total number of contained volumes: 3\n"
    " Type of backup set:                            Time:      Num volumes:\n"
    "                Full         Tue Nov 14 22:13:20 2023                 1\n"
    "         Incremental         Tue Nov 14 22:15:00 2023                 1\n"
    "         Incremental         Tue Nov 14 22:16:40 2023                 1\n"
    "-------------------------\n"
    "\n"
    "\n"
    "Found primary backup chain with matching signature chain:\n"
    "-------------------------\n"
    "Chain start time: Tue Nov 14 22:18:20 2023\n"
    "Chain end time: Tue Nov 14 22:20:00 2023\n"
    "Number of contained backup sets: 2\n"
    "Total number of contained volumes: 2\n"
    " Type of backup set:                            Time:      Num volumes:\n"
    "                Full         Tue Nov 14 22:18:20 2023                 1\n"
    "         Incremental         Tue Nov 14 22:20:00 2023                 1\n"
    "-------------------------\n"
    "No orphaned or incomplete backup sets found.\n";

/* The same target without chain 2 and without the last new-signatures. */
static const char status_dropped[] =
    "Last full backup date: Tue Nov 14 22:13:20 2023\n"
    "Collection Status\n"
    "-----------------\n"
    "Connecting with backend: BackendWrapper\n"
    "Archive dir: /tmp/coll/exp/arch/o\n"
    "\n"
    "Found 0 secondary backup chains.\n"
    "\n"
    "Found primary backup chain with matching signature chain:\n"
    "-------------------------\n"
    "Chain start time: Tue Nov 14 22:13:20 2023\n"
    "Chain end time: Tue Nov 14 22:16:40 2023\n"
    "Number of contained backup sets: 2\n"
    "Total number of contained volumes: 2\n"
    " Type of backup set:                            Time:      Num volumes:\n"
    "                Full         Tue Nov 14 22:13:20 2023                 1\n"
    "         Incremental         Tue Nov 14 22:15:00 2023                 1\n"
    "-------------------------\n"
    "Also found 0 backup sets not part of any chain,\n"
    "and 1 incomplete backup set.\n"
    "These may be deleted by running duplicity with the \"cleanup\" command.\n";

static void
test_status_text(void)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;
	const int64_t b = 1700000000;

	setenv("TZ", "UTC", 1);
	tzset();

	ctx_init(&ctx);
	add_full(&r, b, 1, 1);
	add_inc(&r, b, b + 100, 1, 1, 1);
	add_inc(&r, b + 100, b + 200, 1, 1, 1);
	add_full(&r, b + 300, 1, 1);
	add_inc(&r, b + 300, b + 400, 1, 1, 1);
	add_full(&l, b, 0, 1);
	add_full(&l, b + 300, 0, 1);
	CHECK_INT(arca_collection_build(&ctx, &r, &l, NULL, &c), 0);
	if (c != NULL) {
		arca_collection_print_status(&ctx, c, "/tmp/coll/exp/arch/n");
		CHECK_STR(outtext(), status_two_chains);
		CHECK_STR(logtext(), "");
	}
	arca_collection_free(c);
	c = NULL;
	arca_strlist_free(&r);
	arca_strlist_free(&l);

	ctx_init(&ctx);
	add_full(&r, b, 1, 1);
	add_inc(&r, b, b + 100, 1, 1, 1);
	add_inc(&r, b + 100, b + 200, 1, 1, 0);
	CHECK_INT(arca_collection_build(&ctx, &r, NULL, NULL, &c), 0);
	if (c != NULL) {
		arca_collection_print_status(&ctx, c, "/tmp/coll/exp/arch/o");
		CHECK_STR(outtext(), status_dropped);
	}
	arca_collection_free(c);
	arca_strlist_free(&r);
}

/* Driver for collection_vs_duplicity.sh. */
static void
drv_log(void *ud, int level, const char *msg)
{

	printf("%s\n", msg);
}

static void
drv_out(void *ud, const char *text, size_t len)
{

	fwrite(text, 1, len, stdout);
}

static int
status_main(const char *remote_dir, const char *archive_dir)
{
	struct arca_strlist r = { 0 }, l = { 0 };
	struct arca_collection *c = NULL;
	struct arca_ctx ctx;
	int rc = 1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.verbosity = ARCA_LOG_NOTICE;
	ctx.log = drv_log;
	ctx.out = drv_out;
	if (list_dir(remote_dir, &r) != 0) {
		perror(remote_dir);
		goto out;
	}
	/* A missing archive dir is an empty one, as for duplicity. */
	if (archive_dir != NULL)
		(void)list_dir(archive_dir, &l);
	if (arca_collection_build(&ctx, &r, &l, NULL, &c) != 0) {
		fprintf(stderr, "collection: %s\n", ctx.errmsg);
		goto out;
	}
	arca_collection_print_status(&ctx, c, archive_dir);
	rc = 0;
out:
	fflush(stdout);
	arca_collection_free(c);
	arca_strlist_free(&r);
	arca_strlist_free(&l);
	return rc;
}

int
main(int argc, char **argv)
{

	if (argc >= 3 && strcmp(argv[1], "--status") == 0)
		return status_main(argv[2], argc >= 4 ? argv[3] : NULL);

	RUN(test_fixture_plain);
	RUN(test_fixture_encrypted);
	RUN(test_two_chains);
	RUN(test_two_chains_cover);
	RUN(test_no_chains);
	RUN(test_orphaned_inc);
	RUN(test_replace);
	RUN(test_incomplete);
	RUN(test_local_partial);
	RUN(test_orphaned_sigs);
	RUN(test_local_sig_preferred);
	RUN(test_local_sig_tie);
	RUN(test_dropped_last);
	RUN(test_dropped_last_needs_two_incs);
	RUN(test_duplicate_volume);
	RUN(test_unrelated_ignored);
	RUN(test_short_names);
	RUN(test_prefix);
	RUN(test_status_text);
	arca_buf_free(&logbuf);
	arca_buf_free(&outbuf);
	TEST_DONE();
}
