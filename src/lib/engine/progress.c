/*
 * progress.c: counters for --progress, a background count of a full
 * backup's source for its ETA, and the --json report of a backup.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/progress.h"
#include "select/selection.h"
#include "select/walk.h"
#include "util/ctx.h"
#include "util/json.h"

/* At most four redraws a second: a terminal line, not a log. */
#define REPORT_MS 250

struct arca_progress {
	arca_progress_cb *cb;
	void *ud;
	pthread_mutex_t lock;	/* one callback at a time */
	atomic_int active;
	enum arca_progress_phase phase;
	uint64_t t0;
	atomic_uint_least64_t last;	/* ms of the last report */
	atomic_uint_least64_t files, bytes, skipped_files, skipped_bytes;
	atomic_uint_least64_t sent, volumes, total_volumes, total_bytes;
	/* the source count of a full backup */
	pthread_t counter;
	int counting;
	atomic_int stop;
	struct arca_ctx cctx;	/* quiet: its warnings are the walk's own */
	struct arca_walk *walk;
	struct arca_selection *sel;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
arca_ctx_set_progress(struct arca_ctx *ctx, arca_progress_cb *cb, void *ud)
{
	struct arca_progress *p = ctx->progress;

	if (p == NULL && cb == NULL)
		return;
	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return;	/* no progress line is no failure */
		pthread_mutex_init(&p->lock, NULL);
		ctx->progress = p;
	}
	p->cb = cb;
	p->ud = ud;
}

static struct arca_progress *
running(struct arca_ctx *ctx)
{
	struct arca_progress *p = ctx != NULL ? ctx->progress : NULL;

	if (p == NULL || p->cb == NULL || !atomic_load(&p->active))
		return NULL;
	return p;
}

/* force: report now (a phase's start and end); done: the end. */
static void
report(struct arca_progress *p, int force, int done)
{
	struct arca_progress_info in;
	uint64_t t = now_ms(), last = atomic_load(&p->last);

	if (force) {
		pthread_mutex_lock(&p->lock);
	} else {
		/* Whoever wins the slot reports; the others go on counting. */
		if (t - last < REPORT_MS ||
		    !atomic_compare_exchange_strong(&p->last, &last, t) ||
		    pthread_mutex_trylock(&p->lock) != 0)
			return;
	}
	memset(&in, 0, sizeof(in));
	in.phase = p->phase;
	in.done = done;
	in.elapsed_ms = t - p->t0;
	in.files = atomic_load(&p->files);
	in.bytes = atomic_load(&p->bytes);
	in.skipped_files = atomic_load(&p->skipped_files);
	in.skipped_bytes = atomic_load(&p->skipped_bytes);
	in.sent_bytes = atomic_load(&p->sent);
	in.volumes = atomic_load(&p->volumes);
	in.total_volumes = atomic_load(&p->total_volumes);
	in.total_bytes = atomic_load(&p->total_bytes);
	p->cb(p->ud, &in);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Size up the selected source.  Only the total is published, when the walk
 * is complete: a partial sum would make the ETA lie.
 */
static void *
count_source(void *arg)
{
	struct arca_progress *p = arg;
	const struct arca_walk_entry *we;
	uint64_t total = 0;

	while (!atomic_load(&p->stop) && arca_walk_next(p->walk, &we) > 0)
		if (S_ISREG(we->st.st_mode))
			total += (uint64_t)we->st.st_size;
	if (!atomic_load(&p->stop))
		atomic_store(&p->total_bytes, total ? total : 1);
	return NULL;
}

static void
start_count(struct arca_progress *p, const struct arca_options *o)
{
	size_t i;

	for (i = 0; i < o->nsel; i++)
		if (o->sel[i].kind == ARCA_SELOPT_INCLUDE_FILELIST ||
		    o->sel[i].kind == ARCA_SELOPT_EXCLUDE_FILELIST)
			return;
	memset(&p->cctx, 0, sizeof(p->cctx));
	p->cctx.verbosity = -1;
	atomic_store(&p->stop, 0);
	if (arca_engine_selection(&p->cctx, o, &p->sel) != 0 ||
	    arca_walk_new(&p->cctx, o->local, p->sel, &p->walk) != 0)
		goto fail;
	if (pthread_create(&p->counter, NULL, count_source, p) != 0)
		goto fail;
	p->counting = 1;
	return;
fail:
	arca_walk_free(p->walk);
	arca_selection_free(p->sel);
	p->walk = NULL;
	p->sel = NULL;
}

static void
stop_count(struct arca_progress *p)
{
	if (!p->counting)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->counter, NULL);
	p->counting = 0;
	arca_walk_free(p->walk);
	arca_selection_free(p->sel);
	p->walk = NULL;
	p->sel = NULL;
}

void
arca_progress_start(struct arca_ctx *ctx, enum arca_progress_phase ph,
    uint64_t total_volumes, const struct arca_options *count_source_of)
{
	struct arca_progress *p = ctx != NULL ? ctx->progress : NULL;

	if (p == NULL || p->cb == NULL)
		return;
	stop_count(p);
	p->phase = ph;
	p->t0 = now_ms();
	atomic_store(&p->last, p->t0);
	atomic_store(&p->files, 0);
	atomic_store(&p->bytes, 0);
	atomic_store(&p->skipped_files, 0);
	atomic_store(&p->skipped_bytes, 0);
	atomic_store(&p->sent, 0);
	atomic_store(&p->volumes, 0);
	atomic_store(&p->total_volumes, total_volumes);
	atomic_store(&p->total_bytes, 0);
	if (count_source_of != NULL)
		start_count(p, count_source_of);
	atomic_store(&p->active, 1);
	/* A first report at zero tells the caller a phase began. */
	report(p, 1, 0);
}

void
arca_progress_file(struct arca_ctx *ctx, uint64_t bytes, int skipped)
{
	struct arca_progress *p = running(ctx);

	if (p == NULL)
		return;
	atomic_fetch_add(&p->files, 1);
	atomic_fetch_add(&p->bytes, bytes);
	if (skipped) {
		atomic_fetch_add(&p->skipped_files, 1);
		atomic_fetch_add(&p->skipped_bytes, bytes);
	}
	report(p, 0, 0);
}

void
arca_progress_bytes(struct arca_ctx *ctx, uint64_t bytes)
{
	struct arca_progress *p = running(ctx);

	if (p == NULL)
		return;
	atomic_fetch_add(&p->bytes, bytes);
	report(p, 0, 0);
}

void
arca_progress_volume(struct arca_ctx *ctx, uint64_t bytes)
{
	struct arca_progress *p = running(ctx);

	if (p == NULL)
		return;
	atomic_fetch_add(&p->volumes, 1);
	atomic_fetch_add(&p->sent, bytes);
	report(p, 0, 0);
}

void
arca_progress_expect(struct arca_ctx *ctx, uint64_t volumes)
{
	struct arca_progress *p = running(ctx);

	if (p != NULL)
		atomic_fetch_add(&p->total_volumes, volumes);
}

uint64_t
arca_progress_fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

void
arca_progress_end(struct arca_ctx *ctx)
{
	struct arca_progress *p = running(ctx);

	if (p == NULL)
		return;
	stop_count(p);
	report(p, 1, 1);
	atomic_store(&p->active, 0);
}

void
arca_progress_free(struct arca_progress *p)
{
	if (p == NULL)
		return;
	stop_count(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ----- the --json report of a backup (docs/JSON.md) ----- */

/* JSON integers are int64: counters past that are clamped, not wrapped. */
static int
set_count(struct arca_json *o, const char *key, uint64_t n)
{
	return arca_json_set_int(o, key, n > INT64_MAX ? INT64_MAX : (int64_t)n);
}

int
arca_progress_report_json(struct arca_ctx *ctx,
    const struct arca_backup_report *r)
{
	struct arca_json *o = arca_json_object();
	char *text = NULL;
	int rc = ARCA_ERR_NOMEM;

	if (o == NULL ||
	    arca_json_set_str(o, "type", r->is_full ? "full" : "incremental") ||
	    arca_json_set_str(o, "status", r->errors ? "partial" : "ok") ||
	    arca_json_set_str(o, "target", r->url) ||
	    arca_json_set_str(o, "source", r->source) ||
	    arca_json_set_bool(o, "resumed", r->resumed) ||
	    arca_json_set_bool(o, "dry_run", r->dry_run) ||
	    arca_json_set(o, "backup_time", arca_json_time(r->backup_time)) ||
	    arca_json_set(o, "start_time", arca_json_time(r->start_time)) ||
	    arca_json_set(o, "end_time", arca_json_time(r->end_time)) ||
	    arca_json_set_int(o, "elapsed_seconds",
	    r->end_time - r->start_time) ||
	    set_count(o, "source_files", r->files) ||
	    set_count(o, "source_bytes", r->bytes) ||
	    set_count(o, "new_files", r->new_files) ||
	    set_count(o, "changed_files", r->changed_files) ||
	    set_count(o, "deleted_files", r->deleted_files) ||
	    set_count(o, "raw_delta_bytes", r->delta_bytes) ||
	    set_count(o, "sent_bytes", r->sent_bytes) ||
	    set_count(o, "volumes", r->volumes) ||
	    set_count(o, "errors", r->errors) ||
	    set_count(o, "warnings", r->warnings))
		goto out;
	if ((text = arca_json_dump(o)) == NULL)
		goto out;
	arca_out(ctx, "%s\n", text);
	rc = 0;
out:
	free(text);
	arca_json_free(o);
	return rc;
}
