/*
 * list.c: collection-status and list-current-files, read from names and
 * the cached signature files only (nothing is downloaded but metadata).
 */
#include <string.h>

#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/sigstream.h"
#include "util/ctx.h"
#include "util/timefmt.h"

int
arca_run_collection_status(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	int r;

	if ((r = arca_engine_open(ctx, o, 0, &e)) != 0)
		return r;
	arca_collection_print_status(ctx, e->col, e->archdir);
	arca_engine_close(e);
	return 0;
}

int
arca_run_list_current_files(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	struct arca_sigstream *s = NULL;
	const struct arca_sigent *se;
	struct arca_chain *ch;
	struct arca_sigchain *sc;
	size_t i;
	char when[32];
	int64_t t;
	int r;

	if ((r = arca_engine_open(ctx, o, 0, &e)) != 0)
		return r;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	t = o->restore_time >= 0 ? o->restore_time : o->now;
	ch = arca_collection_chain_at(e->col, t);
	sc = ch ? ch->sig : NULL;
	/* Only the primary chain is matched with its signatures; an older
	 * chain's are found by its full backup's time (local ones first). */
	for (i = 0; ch != NULL && sc == NULL && i < 2 * e->col->nsigchains; i++) {
		struct arca_sigchain *c = &e->col->sigchains[i %
		    e->col->nsigchains];

		if (c->local == (i < e->col->nsigchains) &&
		    c->start == ch->start && c->end >= ch->end)
			sc = c;
	}
	if (sc == NULL) {
		r = arca_error(ctx, ARCA_ERR_NODATA,
		    "no backup chain with signatures found at %s", o->url);
		goto out;
	}
	if ((r = arca_sigstream_open(e, sc, t, 0, &s)) != 0)
		goto out;
	while ((r = arca_sigstream_next(s, &se)) > 0) {
		arca_time_asctime(se->meta.mtime, when);
		arca_out(ctx, "%s %s\n", when, se->path[0] ? se->path : ".");
	}
out:
	arca_sigstream_free(s);
	arca_engine_close(e);
	return r < 0 ? r : 0;
}
