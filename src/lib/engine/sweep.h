/*
 * sweep.h: removing what crashed runs left behind: upload temp files on
 * the target and private temp dirs under $TMPDIR (docs/RETENTION.md).
 */
#ifndef ARCA_ENGINE_SWEEP_H
#define ARCA_ENGINE_SWEEP_H

struct arca_ctx;
struct arca_engine;

/*
 * Prefix of a run's private temp dir name: "arca-<pid>-" followed by
 * mkdtemp's six characters.
 */
#define ARCA_TEMPDIR_PREFIX "arca-"

/*
 * Remove the private temp dirs in dir ("arca-<pid>-XXXXXX") that belong to
 * this user and whose process is no longer running.  Best effort: what
 * cannot be removed is left, and nothing is reported but a notice per dir
 * removed.  Never follows a symlink.
 */
void arca_sweep_tempdirs(struct arca_ctx *ctx, const char *dir);

/*
 * cleanup's share: list the target's upload temp files that crashed runs
 * left (those the backend can tell are stale), and delete them when apply.
 * Returns 0 or a negative arca_err.
 */
int arca_sweep_target(struct arca_engine *e, int apply);

#endif /* !ARCA_ENGINE_SWEEP_H */
