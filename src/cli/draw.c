/*
 * draw.c: the progress line on a terminal.
 *
 * One line on stderr, redrawn in place ("\r", then erase to the end) from
 * the library's progress reports, which come at most four times a second.
 * Only ever when stderr is a terminal: cron mail and log files get no
 * carriage returns.  Every other write to the terminal goes through
 * cli_draw_pause()/cli_draw_resume(), which erase the line first so a
 * warning never lands in the middle of it; the next report redraws it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "arca/arca.h"
#include "cli.h"

static struct {
	pthread_mutex_t lock;	/* the terminal: reports may come from a worker */
	int on;			/* drawing at all */
	int in_phase;		/* a phase has begun and not ended */
	int shown;		/* the line is on the screen now */
	int superseded;		/* stdout (the same terminal) printed over it */
	int stdout_tty;
	uint64_t last_ms, last_moved;
	double rate;		/* bytes/s, smoothed */
	struct arca_progress_info last;	/* the latest report */
	uint64_t last_at;	/* when it came, monotonic ms */
	pthread_t ticker;
	pthread_cond_t wake;
	int ticking, stop;
	pid_t pid;		/* of the process that started the ticker */
} T = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
fmt_bytes(char *b, size_t n, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	double d = (double)v;
	size_t u = 0;

	while (d >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(b, n, "%lluB", (unsigned long long)v);
	else
		snprintf(b, n, "%.1f%s", d, unit[u]);
}

static void
fmt_secs(char *b, size_t n, uint64_t s)
{
	if (s >= 3600)
		snprintf(b, n, "%llu:%02u:%02u", (unsigned long long)(s / 3600),
		    (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	else
		snprintf(b, n, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

/* Columns of the terminal on stderr; 80 when it will not say. */
static size_t
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static void
compose(char *line, size_t n, const struct arca_progress_info *p)
{
	char el[32], a[32], b[32], c[32], rate[32], eta[48] = "";
	uint64_t moved, secs = p->elapsed_ms / 1000;
	size_t len;

	fmt_secs(el, sizeof(el), secs);
	/* Backups move source bytes; restores move what they fetch. */
	moved = p->phase == ARCA_PROGRESS_BACKUP ? p->bytes : p->sent_bytes;
	if (p->elapsed_ms > T.last_ms) {
		double inst = (double)(moved - T.last_moved) * 1000.0 /
		    (double)(p->elapsed_ms - T.last_ms);

		T.rate = T.last_ms == 0 ? inst : 0.5 * T.rate + 0.5 * inst;
		T.last_ms = p->elapsed_ms;
		T.last_moved = moved;
	}
	/* The whole run's average once it is over. */
	if (p->done && p->elapsed_ms > 0)
		T.rate = (double)moved * 1000.0 / (double)p->elapsed_ms;
	fmt_bytes(rate, sizeof(rate), (uint64_t)T.rate);
	if (p->done) {
		snprintf(eta, sizeof(eta), "done");
	} else if (p->phase == ARCA_PROGRESS_BACKUP && p->total_bytes > 0 &&
	    p->bytes > 0 && p->elapsed_ms > 0) {
		/* The average, not the current rate: steadier. */
		uint64_t left = p->total_bytes > p->bytes ?
		    p->total_bytes - p->bytes : 0;
		double avg = (double)p->bytes * 1000.0 / (double)p->elapsed_ms;

		fmt_secs(a, sizeof(a), (uint64_t)((double)left / avg));
		snprintf(eta, sizeof(eta), "%u%% ETA %s",
		    (unsigned)(p->bytes >= p->total_bytes ? 100 :
		    p->bytes * 100 / p->total_bytes), a);
	} else if (p->phase == ARCA_PROGRESS_RESTORE && p->volumes > 0 &&
	    p->total_volumes >= p->volumes) {
		/* Volumes are about the same size: time per volume so far. */
		fmt_secs(a, sizeof(a), p->elapsed_ms *
		    (p->total_volumes - p->volumes) / p->volumes / 1000);
		snprintf(eta, sizeof(eta), "ETA %s", a);
	}
	/* Most telling first: a narrow terminal cuts the tail. */
	if (p->phase == ARCA_PROGRESS_BACKUP) {
		fmt_bytes(a, sizeof(a), p->bytes);
		fmt_bytes(b, sizeof(b), p->skipped_bytes);
		fmt_bytes(c, sizeof(c), p->sent_bytes);
		snprintf(line, n, "Backup %s%s%s | %s/s | %llu files %s scanned "
		    "| %llu skipped %s | %s sent", el, eta[0] ? " " : "", eta,
		    rate, (unsigned long long)p->files, a,
		    (unsigned long long)p->skipped_files, b, c);
	} else {
		fmt_bytes(a, sizeof(a), p->bytes);
		fmt_bytes(c, sizeof(c), p->sent_bytes);
		snprintf(line, n, "Restore %s%s%s | %s/s | volume %llu/%llu "
		    "%s fetched | %llu files %s written", el, eta[0] ? " " : "",
		    eta, rate, (unsigned long long)p->volumes,
		    (unsigned long long)p->total_volumes, c,
		    (unsigned long long)p->files, a);
	}
	/* A line that wraps cannot be redrawn with "\r". */
	len = columns() - 1;
	if (len < n && strlen(line) > len)
		line[len] = '\0';
}

/* Draw p; T.lock held. */
static void
draw_locked(const struct arca_progress_info *p)
{
	char line[512];

	compose(line, sizeof(line), p);
	fprintf(stderr, "\r%s\033[K%s", line, p->done ? "\n" : "");
	fflush(stderr);
	T.shown = !p->done;
}

static void
on_progress(void *ud, const struct arca_progress_info *p)
{
	pthread_mutex_lock(&T.lock);
	if (!T.in_phase) {
		T.in_phase = 1;
		T.superseded = 0;
		T.last_ms = T.last_moved = 0;
		T.rate = 0;
	}
	/* Statistics printed on this terminal say it all: no last line
	 * under them. */
	T.last = *p;
	T.last_at = mono_ms();
	if (!(p->done && T.superseded))
		draw_locked(p);
	if (p->done)
		T.in_phase = T.superseded = 0;
	pthread_mutex_unlock(&T.lock);
}

/*
 * The library reports when something moves, and nothing does while one
 * big volume uploads.  After a second of that, redraw the last report,
 * aged, twice a second: the clock runs on and the rate falls, as they do.
 */
static void *
tick(void *arg)
{
	struct arca_progress_info p;
	struct timespec ts;
	uint64_t now;

	pthread_mutex_lock(&T.lock);
	while (!T.stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&T.wake, &T.lock, &ts);
		now = mono_ms();
		if (T.stop || !T.in_phase || T.superseded ||
		    now - T.last_at < 1000)
			continue;
		p = T.last;
		p.elapsed_ms += now - T.last_at;
		draw_locked(&p);
	}
	pthread_mutex_unlock(&T.lock);
	return NULL;
}

static void
stop_ticker(void)
{
	/* Not in a forked child, which has no such thread. */
	if (!T.ticking || getpid() != T.pid)
		return;
	pthread_mutex_lock(&T.lock);
	T.stop = 1;
	pthread_cond_signal(&T.wake);
	pthread_mutex_unlock(&T.lock);
	pthread_join(T.ticker, NULL);
	T.ticking = 0;
}

void
cli_draw_setup(struct arca_ctx *ctx, int want)
{
	/* Never without a terminal, even when asked: cron has none. */
	if (want == 0 || !isatty(STDERR_FILENO))
		return;
	T.on = 1;
	T.stdout_tty = isatty(STDOUT_FILENO);
	arca_ctx_set_progress(ctx, on_progress, NULL);
	T.pid = getpid();
	if (pthread_create(&T.ticker, NULL, tick, NULL) == 0) {
		T.ticking = 1;
		atexit(stop_ticker);
	}
}

void
cli_draw_pause(int to_stdout)
{
	pthread_mutex_lock(&T.lock);
	if (!T.on)
		return;
	if (T.shown && (!to_stdout || T.stdout_tty)) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		T.shown = 0;
	}
	if (to_stdout && T.stdout_tty && T.in_phase)
		T.superseded = 1;
}

void
cli_draw_resume(void)
{
	/* Out before the line is redrawn on the same terminal. */
	if (T.on) {
		fflush(stdout);
		fflush(stderr);
	}
	pthread_mutex_unlock(&T.lock);
}
