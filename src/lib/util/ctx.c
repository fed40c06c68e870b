/*
 * ctx.c: error messages, logging and output through the context.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ctx.h"

/*
 * A backup's sender threads report errors on the engine's context while
 * the main thread may too: one message is written at a time, so a message
 * is never a mix of two.  (The log callback serializes its own output.)
 */
static pthread_mutex_t errmsg_lock = PTHREAD_MUTEX_INITIALIZER;

int
(arca_error)(struct arca_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return code;
	pthread_mutex_lock(&errmsg_lock);
	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	ctx->err = code;
	pthread_mutex_unlock(&errmsg_lock);
	return code;
}

void
arca_error_prefix(struct arca_ctx *ctx, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(ctx->errmsg)];
	va_list ap;
	size_t pl;

	if (ctx == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&errmsg_lock);
	memcpy(old, ctx->errmsg, sizeof(old));
	pl = strlen(prefix);
	if (pl > sizeof(ctx->errmsg) - 3)
		pl = sizeof(ctx->errmsg) - 3;
	memcpy(ctx->errmsg, prefix, pl);
	memcpy(ctx->errmsg + pl, ": ", 2);
	old[sizeof(old) - pl - 3] = '\0';
	memcpy(ctx->errmsg + pl + 2, old, strlen(old) + 1);
	pthread_mutex_unlock(&errmsg_lock);
}

void
arca_log(struct arca_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (ctx == NULL)
		return;
	if (level == ARCA_LOG_WARNING)
		__atomic_fetch_add(&ctx->warnings, 1, __ATOMIC_RELAXED);
	if (ctx->log == NULL || level > ctx->verbosity)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_ud, level, msg);
}

void
arca_out(struct arca_ctx *ctx, const char *fmt, ...)
{
	char stackbuf[1024];
	char *p = stackbuf;
	va_list ap;
	int n;

	if (ctx == NULL || ctx->out == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(stackbuf)) {
		if ((p = malloc((size_t)n + 1)) == NULL)
			return;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	ctx->out(ctx->out_ud, p, (size_t)n);
	if (p != stackbuf)
		free(p);
}

void
arca_out_raw(struct arca_ctx *ctx, const void *p, size_t len)
{
	if (ctx != NULL && ctx->out != NULL)
		ctx->out(ctx->out_ud, p, len);
}
