/*
 * api.c: contexts and option defaults of the public interface.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/arca.h"
#include "delta/rsync.h"
#include "engine/progress.h"
#include "util/ctx.h"

void
arca_options_init(struct arca_options *o)
{
	memset(o, 0, sizeof(*o));
	o->volsize = (uint64_t)200 << 20;
	o->encrypt = 1;
	o->compress = 1;
	o->current_time = -1;
	o->restore_time = -1;
	o->max_blocksize = ARCA_RSYNC_MAX_BLOCKSIZE;
	o->num_retries = 5;
	o->retry_delay = 1.0;
}

struct arca_ctx *
arca_ctx_new(void)
{
	struct arca_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx != NULL)
		ctx->verbosity = ARCA_LOG_NOTICE;
	return ctx;
}

void
arca_ctx_free(struct arca_ctx *ctx)
{
	if (ctx != NULL)
		arca_progress_free(ctx->progress);
	free(ctx);
}

void
arca_ctx_set_log(struct arca_ctx *ctx, int verbosity, arca_log_cb *cb, void *ud)
{
	ctx->verbosity = verbosity;
	ctx->log = cb;
	ctx->log_ud = ud;
}

void
arca_ctx_set_out(struct arca_ctx *ctx, arca_out_cb *cb, void *ud)
{
	ctx->out = cb;
	ctx->out_ud = ud;
}

const char *
arca_ctx_errmsg(const struct arca_ctx *ctx)
{
	return ctx->errmsg;
}

unsigned long
arca_ctx_warnings(const struct arca_ctx *ctx)
{
	return ctx->warnings;
}
