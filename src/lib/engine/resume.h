/*
 * resume.h: continuing an interrupted backup (spec §15), and putting the
 * archive dir in order after a run that died.
 *
 * What a backup leaves in the archive dir while it runs:
 *   arca-resume               how the set is encrypted (ours; duplicity
 *                             ignores the name)
 *   arca-resume.gpg           symmetric mode: a few known bytes encrypted
 *                             with the passphrase, to prove on resume that
 *                             the passphrase is the same without
 *                             downloading or decrypting any volume
 *   <set>.manifest.part       header + one block per volume on the target
 *   <set>.sigtar.part         the signature file being written
 * The remote volumes are published atomically and the manifest block of a
 * volume is written only after its upload, so the partial manifest never
 * names a volume the target lacks.
 */
#ifndef ARCA_ENGINE_RESUME_H
#define ARCA_ENGINE_RESUME_H

#include <stdint.h>

struct arca_engine;
struct arca_set;
struct arca_chain;
struct arca_sigchain;
struct arca_manifest;
struct arca_retention_plan;

#define ARCA_RESUME_STATE	"arca-resume"
#define ARCA_RESUME_CHECK	"arca-resume.gpg"

/*
 * Finish what a run that died while publishing left undone, and drop
 * leftovers that could mislead the collection:
 *  - a set whose manifest reached the target but whose ".manifest.part"
 *    was not renamed: rename it (it is the complete plain manifest), and
 *    turn its ".sigtar.part" into the cached ".sigtar.gz";
 *  - a ".sigtar.part" that belongs to no set at all;
 *  - resume state that names no partial manifest.
 * Rebuilds e->col when anything changed.  Returns 0 or ARCA_ERR_IO /
 * ARCA_ERR_NOMEM.
 */
int arca_resume_settle(struct arca_engine *e);

/* Append the deletion of the resume state files that exist to plan. */
int arca_resume_plan_state(struct arca_engine *e,
    struct arca_retention_plan *plan);

/*
 * Record how the set whose partial manifest is named manpart is
 * encrypted (and, with a passphrase, the check blob), atomically, before
 * the first ".part" file is made.  Returns 0 or a negative arca_err.
 */
int arca_resume_save_state(struct arca_engine *e, const char *manpart);

/* Remove the resume state (after the set is complete). */
void arca_resume_drop_state(struct arca_engine *e);

/* Where an interrupted backup continues. */
struct arca_resume {
	const struct arca_set *set;	/* the partial set (in e->col) */
	const struct arca_chain *chain;	/* an incremental's chain, or NULL */
	size_t base_nsets;		/* chain sets before the partial one */
	const struct arca_sigchain *basesig;	/* signatures at set->start */
	unsigned start_vol;		/* volumes kept: 1..start_vol */
	struct arca_manifest *mf;	/* the partial manifest, cut to start_vol */
	const char *last_index;		/* end of volume start_vol (in mf) */
	long last_block;		/* -1: the member ends there */
};

/*
 * Look for an interrupted backup at the end of the newest chain.  When it
 * can be resumed (same host and source, same encryption settings and -
 * proved with the check blob - the same passphrase, at least two volumes
 * on the target, signatures for an incremental's base) fill *out and
 * return 1.  When it cannot, say why, delete it (remote volumes, partial
 * files, state) so the run starts cleanly, rebuild e->col and return 0;
 * also 0 when there is none.  host and localdir are this run's, as the
 * manifest records them.  Negative arca_err on failure.
 */
int arca_resume_prepare(struct arca_engine *e, const char *host,
    const char *localdir, struct arca_resume *out);
void arca_resume_clear(struct arca_resume *r);

#endif /* !ARCA_ENGINE_RESUME_H */
