/*
 * progress.h: the counters behind --progress, and the final --json report
 * of a backup.
 *
 * The engine calls these at a few points (one call per source entry, per
 * volume sent or fetched, per file restored); they are no-ops unless a
 * callback was set with arca_ctx_set_progress().  Counters are atomics: a
 * volume may be sent from a worker thread while the main thread walks.
 * Reports reach the callback at most every 250 ms, and once at the end.
 */
#ifndef ARCA_ENGINE_PROGRESS_H
#define ARCA_ENGINE_PROGRESS_H

#include <stdint.h>

#include "arca/arca.h"
#include "arca/arca_progress.h"

struct arca_progress;

/*
 * Start reporting a phase; counters restart at zero.  total_volumes: the
 * volumes a restore will fetch (0 if unknown).  count_source: for a full
 * backup, the options whose selected source a background thread sizes up
 * for the ETA (NULL: no count); skipped when a filelist is given, which
 * may be a pipe that must be read once.
 */
void arca_progress_start(struct arca_ctx *ctx, enum arca_progress_phase ph,
    uint64_t total_volumes, const struct arca_options *count_source);

/* One source entry scanned (bytes: its size if a regular file), or one
 * file restored; skipped: unchanged since the last backup. */
void arca_progress_file(struct arca_ctx *ctx, uint64_t bytes, int skipped);

/* Source bytes read (backup), as they are read. */
void arca_progress_bytes(struct arca_ctx *ctx, uint64_t bytes);

/* One volume of bytes sent to (backup) or fetched from (restore) the
 * target. */
void arca_progress_volume(struct arca_ctx *ctx, uint64_t bytes);

/* A restore will fetch this many more volumes (for its ETA). */
void arca_progress_expect(struct arca_ctx *ctx, uint64_t volumes);

/* The size of the file open at fd (0 if fstat fails): a fetched volume. */
uint64_t arca_progress_fd_size(int fd);

/* End the phase: stop the source count, send the final report (done = 1).
 * A no-op when no phase is running, so every exit path may call it. */
void arca_progress_end(struct arca_ctx *ctx);

/* Free the state kept on a context (arca_ctx_free). */
void arca_progress_free(struct arca_progress *p);

/* What a finished backup reports with --json (docs/JSON.md). */
struct arca_backup_report {
	const char *url;
	const char *source;
	int is_full;
	int resumed;
	int dry_run;
	int64_t backup_time;	/* the set's time, in its file names */
	int64_t start_time;	/* wall clock at start and end */
	int64_t end_time;
	uint64_t files, bytes;
	uint64_t new_files, changed_files, deleted_files;
	uint64_t delta_bytes;
	uint64_t sent_bytes;
	uint64_t volumes;
	uint64_t errors;
	uint64_t warnings;
};

/* Print r as one JSON object (and a newline) on ctx's output.  0 or
 * ARCA_ERR_NOMEM. */
int arca_progress_report_json(struct arca_ctx *ctx,
    const struct arca_backup_report *r);

#endif /* !ARCA_ENGINE_PROGRESS_H */
