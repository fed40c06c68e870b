/*
 * test_progress.c: engine/progress.c: counters from two threads add up,
 * reports are throttled to ~4 a second, a phase starts and ends with a
 * report, nothing happens without a callback, and the source count of a
 * full backup finds the selected size.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arca/arca.h"
#include "engine/progress.h"
#include "util/ctx.h"

#include "test.h"

struct seen {
	pthread_mutex_t lock;
	int calls, starts, dones, inside, overlap;
	struct arca_progress_info last;
};

static void
on_report(void *ud, const struct arca_progress_info *p)
{
	struct seen *s = ud;

	pthread_mutex_lock(&s->lock);
	if (s->inside)
		s->overlap = 1;
	s->inside = 1;
	s->calls++;
	if (p->done)
		s->dones++;
	if (!p->done && p->files == 0 && p->bytes == 0 && p->sent_bytes == 0)
		s->starts++;
	s->last = *p;
	s->inside = 0;
	pthread_mutex_unlock(&s->lock);
}

static void *
worker(void *arg)
{
	struct arca_ctx *ctx = arg;
	int i;

	for (i = 0; i < 20000; i++) {
		arca_progress_file(ctx, 3, i % 2);
		arca_progress_bytes(ctx, 1);
	}
	for (i = 0; i < 100; i++)
		arca_progress_volume(ctx, 10);
	return NULL;
}

static void
test_counters_and_throttle(void)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct arca_ctx *ctx = arca_ctx_new();
	pthread_t a, b;
	struct timespec t0, t1;
	long ms;

	arca_ctx_set_progress(ctx, on_report, &s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, NULL);
	CHECK_INT(s.calls, 1);		/* the start, at zero */
	CHECK_INT(s.starts, 1);
	pthread_create(&a, NULL, worker, ctx);
	pthread_create(&b, NULL, worker, ctx);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	arca_progress_expect(ctx, 7);
	arca_progress_end(ctx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK_INT(s.dones, 1);
	CHECK_INT(s.last.done, 1);
	CHECK_INT(s.last.files, 40000);
	CHECK_INT(s.last.bytes, 40000 * 3 + 40000);
	CHECK_INT(s.last.skipped_files, 20000);
	CHECK_INT(s.last.skipped_bytes, 20000 * 3);
	CHECK_INT(s.last.volumes, 200);
	CHECK_INT(s.last.sent_bytes, 2000);
	CHECK_INT(s.last.total_volumes, 7);
	CHECK_INT(s.last.phase, ARCA_PROGRESS_BACKUP);
	/* Start and end, plus at most one every 250 ms in between. */
	CHECK(s.calls <= 2 + ms / 250 + 1);
	CHECK_INT(s.overlap, 0);
	/* Ended: counting stops, a second end is a no-op. */
	arca_progress_file(ctx, 5, 0);
	arca_progress_end(ctx);
	CHECK_INT(s.dones, 1);
	CHECK_INT(s.last.files, 40000);
	arca_ctx_free(ctx);
}

static void
test_reports_over_time(void)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct arca_ctx *ctx = arca_ctx_new();
	int i;

	arca_ctx_set_progress(ctx, on_report, &s);
	arca_progress_start(ctx, ARCA_PROGRESS_RESTORE, 0, NULL);
	for (i = 0; i < 12; i++) {
		usleep(50 * 1000);
		arca_progress_volume(ctx, 1);
	}
	/* 600 ms (or more, on a busy machine) of events every 50 ms: a
	 * report every 250 ms besides the start, no more. */
	CHECK(s.calls >= 2);
	CHECK(s.last.elapsed_ms >= 250);
	CHECK(s.calls <= 1 + (int)(s.last.elapsed_ms / 250));
	CHECK_INT(s.last.phase, ARCA_PROGRESS_RESTORE);
	arca_progress_end(ctx);
	CHECK_INT(s.last.volumes, 12);
	CHECK(s.last.elapsed_ms >= 600);
	arca_ctx_free(ctx);
}

static void
test_without_callback(void)
{
	struct arca_ctx *ctx = arca_ctx_new();
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };

	/* No state, no effect. */
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, NULL);
	arca_progress_file(ctx, 1, 0);
	arca_progress_end(ctx);
	CHECK(ctx->progress == NULL);
	/* Removed again: silent. */
	arca_ctx_set_progress(ctx, on_report, &s);
	arca_ctx_set_progress(ctx, NULL, NULL);
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, NULL);
	arca_progress_end(ctx);
	CHECK_INT(s.calls, 0);
	arca_progress_file(NULL, 1, 0);
	arca_ctx_free(ctx);
}

static void
write_file(const char *dir, const char *name, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		exit(2);
	while (n-- > 0)
		fputc('x', f);
	fclose(f);
}

static void
test_source_count(void)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct arca_ctx *ctx = arca_ctx_new();
	struct arca_selopt sel[1] = { { ARCA_SELOPT_EXCLUDE, NULL } };
	struct arca_options o;
	char *dir = test_tmpdir(), sub[4200], pat[4200];
	int i;

	snprintf(sub, sizeof(sub), "%s/skip", dir);
	mkdir(sub, 0700);
	write_file(dir, "a", 1000);
	write_file(dir, "b", 234);
	write_file(sub, "c", 5000);
	snprintf(pat, sizeof(pat), "%s/skip", dir);
	sel[0].arg = pat;
	arca_options_init(&o);
	o.local = dir;
	o.sel = sel;
	o.nsel = 1;
	arca_ctx_set_progress(ctx, on_report, &s);
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, &o);
	/* The count runs beside the backup; it is done in a moment here. */
	for (i = 0; i < 40; i++) {
		usleep(30 * 1000);
		arca_progress_file(ctx, 0, 0);
		if (s.last.total_bytes != 0)
			break;
	}
	CHECK_INT(s.last.total_bytes, 1234);	/* skip/ excluded */
	arca_progress_end(ctx);
	/* A filelist may be a pipe to read once: no count then. */
	sel[0].kind = ARCA_SELOPT_EXCLUDE_FILELIST;
	arca_progress_start(ctx, ARCA_PROGRESS_BACKUP, 0, &o);
	usleep(300 * 1000);
	arca_progress_file(ctx, 0, 0);
	arca_progress_end(ctx);
	CHECK_INT(s.last.total_bytes, 0);
	arca_ctx_free(ctx);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	CHECK_INT(system(sub), 0);
	free(dir);
}

int
main(void)
{
	RUN(test_counters_and_throttle);
	RUN(test_reports_over_time);
	RUN(test_without_callback);
	RUN(test_source_count);
	TEST_DONE();
}
