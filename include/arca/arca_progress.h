/*
 * arca_progress.h: progress reports from a running backup or restore.
 *
 * The library never draws anything: it counts, and every ~250 ms (and once
 * at the end) hands a snapshot of its counters to a callback set on the
 * context.  The arca command draws a terminal line from it (src/cli/draw.c).
 */
#ifndef ARCA_PROGRESS_H
#define ARCA_PROGRESS_H

#include <stdint.h>

struct arca_ctx;

enum arca_progress_phase {
	ARCA_PROGRESS_BACKUP,	/* walking the source, sending volumes */
	ARCA_PROGRESS_RESTORE	/* fetching volumes, writing files (also verify) */
};

/*
 * A snapshot.  Backup: files/bytes are the source entries and regular-file
 * bytes scanned; skipped_* those unchanged since the last backup (nothing
 * stored); sent_bytes what went to the target in volumes; total_bytes the
 * selected source's size (full backups only, 0 until known).  Restore:
 * files/bytes written (or compared); sent_bytes the volume bytes fetched;
 * volumes/total_volumes volumes fetched of those to read.
 */
struct arca_progress_info {
	enum arca_progress_phase phase;
	int done;		/* 1 on the last report of a run */
	uint64_t elapsed_ms;	/* since the phase started */
	uint64_t files, bytes;
	uint64_t skipped_files, skipped_bytes;
	uint64_t sent_bytes;
	uint64_t volumes, total_volumes;	/* total 0: unknown */
	uint64_t total_bytes;			/* 0: unknown */
};

/*
 * Called from whichever thread advanced a counter (a volume may be sent
 * from a worker), never concurrently with itself for one context.  info is
 * valid during the call.
 */
typedef void arca_progress_cb(void *ud, const struct arca_progress_info *info);

/* Report progress of the runs on ctx to cb (NULL: stop reporting). */
void arca_ctx_set_progress(struct arca_ctx *ctx, arca_progress_cb *cb,
    void *ud);

#endif /* !ARCA_PROGRESS_H */
