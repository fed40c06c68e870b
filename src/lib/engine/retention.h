/*
 * retention.h: what remove-older-than, remove-all-but-n-full,
 * remove-all-inc-of-but-n-full and cleanup delete, and in which order
 * (spec §12).  The choice is made from a collection (names only) and is
 * kept apart from the deleting, so it can be tested without a target.
 */
#ifndef ARCA_ENGINE_RETENTION_H
#define ARCA_ENGINE_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "engine/collection.h"

struct arca_ctx;
struct arca_engine;
struct arca_strlist;
struct arca_fprefix;

/* One deletion: a remote name, or a name in the archive dir. */
struct arca_rstep {
	int local;
	char *name;
};

/* Deletions in the order they must happen. */
struct arca_retention_plan {
	struct arca_rstep *v;
	size_t n;
	size_t cap;
};

void arca_retention_plan_free(struct arca_retention_plan *p);

/* Append one deletion (name copied; NULL is ignored).  0 or ARCA_ERR_NOMEM. */
int arca_retention_plan_add(struct arca_ctx *ctx, struct arca_retention_plan *p,
    int local, const char *name);

/* What remove-older-than t selects (duplicity's remove_old). */
struct arca_retention_sel {
	struct arca_chain **chains;	/* backup chains to delete, by end time */
	size_t nchains;
	struct arca_sigchain **sigs;	/* signature chains to delete, by end time */
	size_t nsigs;
	struct arca_set **required;	/* older than t but needed by newer sets, by time */
	size_t nrequired;
	int primary_older;		/* the primary chain ends before t (kept) */
};

void arca_retention_sel_free(struct arca_retention_sel *s);

/*
 * Time of the n-th newest full backup (n >= 1), or 0 when there are fewer
 * than n chains: remove-all-but-n-full N is remove-older-than this.
 */
int64_t arca_retention_nth_full(const struct arca_collection *c, unsigned n);

/*
 * Select for remove-older-than t.  Backup chains that end before t go,
 * except the primary chain; with inc_only (remove-all-inc-of-but-n-full)
 * only chains that have incrementals are listed.  Signature chains that
 * end before t go too, except the primary's (its matched chain, and - a
 * deliberate difference from duplicity, which deletes it - the same chain
 * on the other side, local or remote).  As in duplicity, when no backup
 * chain is selected no signature chain is either.  Pointers borrow from c.
 * Returns 0 or ARCA_ERR_NOMEM.
 */
int arca_retention_select(struct arca_ctx *ctx, const struct arca_collection *c,
    int64_t t, int inc_only, struct arca_retention_sel *out);

/*
 * The deletions for sel, in duplicity's order: signature chains newest
 * first (new-signatures newest first, then the full signatures unless
 * inc_only), then backup chains newest first; in a chain the newest set
 * first, the full set last (kept with inc_only); in a set the remote
 * manifest, then the volumes from the highest number down, then the
 * set's files in the archive dir (local lists its names).  An interrupted
 * run so leaves shorter chains and incomplete sets, never a manifest that
 * names a missing volume.  Appends to *plan.
 */
int arca_retention_plan_remove(struct arca_ctx *ctx,
    const struct arca_retention_sel *sel, const struct arca_strlist *local,
    const struct arca_fprefix *pfx, int inc_only,
    struct arca_retention_plan *plan);

/*
 * The deletions of one set (manifest, volumes high to low, then its
 * archive-dir files: cached manifest, signatures, ".part" files).
 * Appends to *plan.
 */
int arca_retention_plan_set(struct arca_ctx *ctx, const struct arca_set *s,
    const struct arca_strlist *local, const struct arca_fprefix *pfx,
    struct arca_retention_plan *plan);

/*
 * cleanup's extraneous files: orphaned and incomplete sets (remote names,
 * each set manifest first), then remote and local orphaned signature
 * files.  Appends to *plan.
 */
int arca_retention_plan_cleanup(struct arca_ctx *ctx,
    const struct arca_collection *c, struct arca_retention_plan *plan);

/*
 * The set cleanup deletes even without --force (§12.4): the last set of
 * the chain with the newest full backup, when it is partial (an
 * interrupted backup: local ".manifest.part", no remote manifest).
 * NULL when there is none.
 */
const struct arca_set *arca_retention_trailing_partial(
    const struct arca_collection *c);

/*
 * Carry out plan (each deletion logged at info level; a missing file is
 * not an error).  Stops at the first failure.  Returns 0 or the backend's
 * / ARCA_ERR_IO.
 */
int arca_retention_execute(struct arca_engine *e,
    const struct arca_retention_plan *plan);

#endif /* !ARCA_ENGINE_RETENTION_H */
