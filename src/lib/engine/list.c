/*
 * list.c: collection-status and list-current-files, read from names and
 * the cached signature files only (nothing is downloaded but metadata).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/sigstream.h"
#include "backend/backend.h"
#include "util/ctx.h"
#include "util/json.h"
#include "util/timefmt.h"

static struct arca_json *
set_value(const struct arca_set *s)
{
	struct arca_json *o = arca_json_object();

	if (o == NULL || arca_json_set_str(o, "type", s->is_full ? "full" :
	    "incremental") != 0 ||
	    arca_json_set(o, "time", arca_json_time(s->end)) != 0 ||
	    (!s->is_full && arca_json_set(o, "start", arca_json_time(s->start)) != 0) ||
	    arca_json_set_int(o, "volumes", arca_set_count_vols(s)) != 0 ||
	    arca_json_set_bool(o, "encrypted", s->encrypted) != 0 ||
	    arca_json_set_bool(o, "partial", arca_set_is_partial(s)) != 0) {
		arca_json_free(o);
		return NULL;
	}
	return o;
}

static int
add_sets(struct arca_json *o, const char *key, struct arca_set *const *sets,
    size_t n)
{
	struct arca_json *a = arca_json_array();
	size_t i;

	if (a == NULL)
		return ARCA_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if (arca_json_append(a, set_value(sets[i])) != 0) {
			arca_json_free(a);
			return ARCA_ERR_NOMEM;
		}
	return arca_json_set(o, key, a);
}

/*
 * collection-status --json: documented field by field in docs/JSON.md, for
 * monitoring scripts ("is the last backup older than a day?").
 */
static int
print_status_json(struct arca_ctx *ctx, struct arca_engine *e,
    const struct arca_options *o)
{
	const struct arca_collection *c = e->col;
	struct arca_json *root = arca_json_object(), *chains = NULL, *ch, *sigs;
	const struct arca_chain *last = NULL;
	char *text = NULL;
	size_t i;
	int r = ARCA_ERR_NOMEM;

	if (root == NULL || (chains = arca_json_array()) == NULL)
		goto out;
	for (i = 0; i < c->nchains; i++) {
		const struct arca_chain *k = &c->chains[i];

		if ((ch = arca_json_object()) == NULL ||
		    arca_json_append(chains, ch) != 0 ||
		    arca_json_set_bool(ch, "primary", k == c->primary) != 0 ||
		    arca_json_set(ch, "start", arca_json_time(k->start)) != 0 ||
		    arca_json_set(ch, "end", arca_json_time(k->end)) != 0 ||
		    add_sets(ch, "sets", k->sets, k->nsets) != 0)
			goto out;
		last = k;
	}
	if (arca_json_set_str(root, "target", arca_backend_url(e->be)) != 0 ||
	    arca_json_set_str(root, "archive_dir", e->archdir) != 0 ||
	    arca_json_set(root, "now", arca_json_time(o->now)) != 0)
		goto out;
	if (last != NULL) {
		if (arca_json_set(root, "last_backup", arca_json_time(last->end)) != 0 ||
		    arca_json_set_int(root, "last_backup_age_seconds",
		    o->now - last->end) != 0 ||
		    arca_json_set(root, "last_full_backup", arca_json_time(
		    arca_collection_last_full_time(c))) != 0)
			goto out;
	} else if (arca_json_set_null(root, "last_backup") != 0 ||
	    arca_json_set_null(root, "last_backup_age_seconds") != 0 ||
	    arca_json_set_null(root, "last_full_backup") != 0) {
		goto out;
	}
	if (arca_json_set(root, "chains", chains) != 0) {
		chains = NULL;
		goto out;
	}
	chains = NULL;
	if (add_sets(root, "orphaned_sets", c->orphaned, c->norphaned) != 0 ||
	    add_sets(root, "incomplete_sets", c->incomplete, c->nincomplete) != 0)
		goto out;
	if ((sigs = arca_json_array()) == NULL || arca_json_set(root,
	    "orphaned_signature_files", sigs) != 0)
		goto out;
	for (i = 0; c->orphaned_sigs_remote && i < c->orphaned_sigs_remote->n; i++) {
		struct arca_json *s = arca_json_object();

		if (s == NULL || arca_json_append(sigs, s) != 0 ||
		    arca_json_set_str(s, "name", c->orphaned_sigs_remote->v[i]) != 0)
			goto out;
	}
	if ((text = arca_json_dump(root)) == NULL)
		goto out;
	arca_out(ctx, "%s\n", text);
	r = 0;
out:
	if (r != 0)
		arca_error(ctx, r, "out of memory");
	free(text);
	arca_json_free(chains);
	arca_json_free(root);
	return r;
}

int
arca_run_collection_status(struct arca_ctx *ctx, const struct arca_options *o)
{
	struct arca_engine *e = NULL;
	int r;

	if ((r = arca_engine_open(ctx, o, 0, &e)) != 0)
		return r;
	if (o->json)
		r = print_status_json(ctx, e, o);
	else
		arca_collection_print_status(ctx, e->col, e->archdir);
	arca_engine_close(e);
	return r;
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

	if ((r = arca_engine_open(ctx, o, ARCA_ENGINE_COMPLETE, &e)) != 0)
		return r;
	if ((r = arca_engine_sync_cache(e)) != 0)
		goto out;
	t = o->restore_time >= 0 ? o->restore_time : o->now;
	ch = arca_collection_chain_at(e->col, t);
	sc = ch ? ch->sig : NULL;
	/* Only the primary chain is matched with its signatures; an older
	 * chain's are found by its full backup's time (local ones first). */
	for (i = 0; ch != NULL && sc == NULL && e->col->nsigchains > 0 &&
	    i < 2 * e->col->nsigchains; i++) {
		struct arca_sigchain *c = &e->col->sigchains[i %
		    e->col->nsigchains];

		if (c->local == (i < e->col->nsigchains) &&
		    c->start == ch->start && c->end >= ch->end)
			sc = c;
	}
	if (sc == NULL) {
		r = arca_error(ctx, ARCA_ERR_NODATA,
		    "no backup chain with signatures found at %s",
		    arca_backend_url(e->be));
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
