/*
 * ctx.h: the run context every libarca function takes.
 *
 * The context carries the last error message and the log/output callbacks.
 * The library never prints: it reports through these callbacks and the CLI
 * decides what the user sees.
 */
#ifndef ARCA_UTIL_CTX_H
#define ARCA_UTIL_CTX_H

#include <stdarg.h>
#include <stddef.h>

#include "arca/arca_error.h"

struct arca_progress;

/* Log levels, duplicity's verbosity scale. */
enum arca_level {
	ARCA_LOG_ERROR = 0,
	ARCA_LOG_WARNING = 2,
	ARCA_LOG_NOTICE = 3,
	ARCA_LOG_INFO = 4,
	ARCA_LOG_DEBUG = 9
};

typedef void arca_log_fn(void *ud, int level, const char *msg);
typedef void arca_out_fn(void *ud, const char *text, size_t len);

struct arca_ctx {
	char errmsg[2048];
	int err;		/* last error code set, 0 if none */
	int verbosity;		/* messages above this level are dropped */
	arca_log_fn *log;
	void *log_ud;
	arca_out_fn *out;	/* command output (listings, status) */
	void *out_ud;
	unsigned long warnings;	/* count of warnings logged */
	struct arca_progress *progress;	/* engine/progress.c; NULL: none */
};

/*
 * arca_error(ctx, code, fmt, ...): record message and code on ctx.
 * Returns code, so callers write `return arca_error(ctx, ARCA_ERR_IO, ...)`.
 */
int arca_error(struct arca_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/*
 * For clang-tidy only: show the analyzer that arca_error returns its code,
 * or it follows `return arca_error(...)` as if it could return 0.
 */
#define arca_error(ctx, code, ...) \
	(arca_error((ctx), (code), __VA_ARGS__), (code))
#endif

/* arca_error_prefix: prepend "prefix: " to the current message (context). */
void arca_error_prefix(struct arca_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log a message at level through ctx->log (if set and level <= verbosity). */
void arca_log(struct arca_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define arca_warn(ctx, ...) arca_log((ctx), ARCA_LOG_WARNING, __VA_ARGS__)
#define arca_notice(ctx, ...) arca_log((ctx), ARCA_LOG_NOTICE, __VA_ARGS__)
#define arca_info(ctx, ...) arca_log((ctx), ARCA_LOG_INFO, __VA_ARGS__)
#define arca_debug(ctx, ...) arca_log((ctx), ARCA_LOG_DEBUG, __VA_ARGS__)

/* Write command output through ctx->out. */
void arca_out(struct arca_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void arca_out_raw(struct arca_ctx *ctx, const void *p, size_t len);

#endif /* !ARCA_UTIL_CTX_H */
