/*
 * pipeline.c: a volume decoded on its own thread into a pipe (pipeline.h).
 *
 * The thread shares the engine's context for its messages.  The reader
 * does not write the context while it waits for the thread, and the
 * thread's message is copied out as soon as it fails, so each side's
 * message survives the other's: the reader's own error wins unless the
 * thread failed first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/openpgp.h"
#include "engine/engine.h"
#include "engine/pipeline.h"
#include "util/ctx.h"
#include "util/stream.h"

/*
 * The reader's side of the pipe is read in large pieces: a tar of tiny
 * files asks for a few hundred bytes at a time, and a read(2) each, with
 * the writer woken for each, cost four times the CPU of the whole restore.
 */
#define READ_BUF (256 * 1024)

struct pipe_source {
	struct arca_source base;
	struct arca_ctx *ctx;
	const char *what;
	int fd;
	size_t pos, len;
	unsigned char buf[READ_BUF];
};

struct arca_decoder {
	struct arca_engine *e;
	struct arca_pgp *p;
	const char *name;
	int in_fd;
	int rfd, wfd;		/* the pipe */
	pthread_t th;
	int running;		/* thread not joined yet */
	int closing;		/* reader gave up: EPIPE is ours (atomic) */
	int r;			/* the thread's result */
	int genuine;		/* it failed before the reader gave up */
	char msg[sizeof(((struct arca_ctx *)0)->errmsg)];
};

static ssize_t
pipe_source_read(struct arca_source *src, void *p, size_t n)
{
	struct pipe_source *s = (struct pipe_source *)src;
	ssize_t got;

	if (s->pos == s->len) {
		do
			got = read(s->fd, s->buf, sizeof(s->buf));
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return arca_error(s->ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    s->what, strerror(errno));
		s->pos = 0;
		s->len = (size_t)got;
		if (got == 0)
			return 0;
	}
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(p, s->buf + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static void
pipe_source_free(struct arca_source *src)
{
	free(src);
}

struct arca_source *
arca_decoder_source(struct arca_decoder *d)
{
	struct pipe_source *s;

	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	s->base.read = pipe_source_read;
	s->base.free = pipe_source_free;
	s->ctx = d->e->ctx;
	s->what = d->name;
	s->fd = d->rfd;
	s->pos = s->len = 0;
	return &s->base;
}

static void *
decoder_main(void *arg)
{
	struct arca_decoder *d = arg;
	sigset_t set;
	int r;

	/* A reader that stops early closes the pipe: take EPIPE, not a
	 * signal that would end the process. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r = arca_pgp_decrypt_fd(d->p, d->in_fd, d->wfd, d->name);
	if (r != 0 && !__atomic_load_n(&d->closing, __ATOMIC_ACQUIRE)) {
		snprintf(d->msg, sizeof(d->msg), "%s", d->e->ctx->errmsg);
		d->genuine = 1;
	}
	d->r = r;
	/* EOF for the reader; a truncated tar if we failed. */
	close(d->wfd);
	d->wfd = -1;
	return NULL;
}

int
arca_decoder_start(struct arca_engine *e, const char *name, int in_fd,
    struct arca_decoder **out, int *read_fd)
{
	struct arca_decoder *d;
	struct arca_pgp *pgp;
	int p[2], r;

	*out = NULL;
	/*
	 * Only the built-in engine, made here on this thread: it may serve
	 * several threads at once (one decoder per set of the chain), GPGME's
	 * context may not.  The choice is arca_engine_decode's.
	 */
	if ((r = arca_engine_pgp(e, &pgp)) != 0)
		return r;
	if (pgp == NULL || e->o->sign_key != NULL)
		return ARCA_ERR_USAGE;
	if (e->o->gpg_engine != ARCA_GPG_ENGINE_BUILTIN &&
	    arca_pgp_probe_fd(in_fd) != 1)
		return ARCA_ERR_USAGE;
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return ARCA_ERR_IO;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ARCA_ERR_NOMEM;
	d->p = pgp;
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(d);
		return ARCA_ERR_IO;
	}
	d->e = e;
	d->name = name;
	d->in_fd = in_fd;
	d->rfd = p[0];
	d->wfd = p[1];
	/* Bigger pipe, fewer switches; the default 64 KiB works too. */
	(void)fcntl(d->wfd, F_SETPIPE_SZ, 1 << 20);
	if (pthread_create(&d->th, NULL, decoder_main, d) != 0) {
		close(p[0]);
		close(p[1]);
		free(d);
		return ARCA_ERR_IO;
	}
	d->running = 1;
	*out = d;
	*read_fd = d->rfd;
	return 0;
}

/* Close the reading end (unless draining) and join. */
static void
decoder_stop(struct arca_decoder *d, int drain)
{
	char buf[65536];
	ssize_t n;

	if (!d->running)
		return;
	if (drain) {
		do
			n = read(d->rfd, buf, sizeof(buf));
		while (n > 0 || (n < 0 && errno == EINTR));
	}
	__atomic_store_n(&d->closing, 1, __ATOMIC_RELEASE);
	if (d->rfd >= 0)
		close(d->rfd);
	d->rfd = -1;
	pthread_join(d->th, NULL);
	d->running = 0;
}

int
arca_decoder_finish(struct arca_decoder *d)
{
	decoder_stop(d, 1);
	if (d->r == 0)
		return 0;
	if (d->genuine)
		return arca_error(d->e->ctx, d->r, "%s", d->msg);
	return arca_error(d->e->ctx, d->r, "cannot read %s: the decoder "
	    "stopped", d->name);
}

int
arca_decoder_fail(struct arca_decoder *d, int r)
{
	struct arca_ctx *ctx = d->e->ctx;
	char mine[sizeof(ctx->errmsg)];

	snprintf(mine, sizeof(mine), "%s", ctx->errmsg);
	decoder_stop(d, 0);
	if (d->r != 0 && d->genuine)
		return arca_error(ctx, d->r, "%s", d->msg);
	return arca_error(ctx, r, "%s", mine);
}

void
arca_decoder_free(struct arca_decoder *d)
{
	struct arca_ctx *ctx;
	char keep[sizeof(ctx->errmsg)];
	int err;

	if (d == NULL)
		return;
	ctx = d->e->ctx;
	if (d->running) {
		memcpy(keep, ctx->errmsg, sizeof(keep));
		err = ctx->err;
		decoder_stop(d, 0);
		memcpy(ctx->errmsg, keep, sizeof(keep));
		ctx->err = err;
	}
	if (d->rfd >= 0)
		close(d->rfd);
	free(d);
}
