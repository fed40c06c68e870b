/*
 * cmd_retention.c: remove-older-than, remove-all-but-n-full,
 * remove-all-inc-of-but-n-full and cleanup.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "arca/arca.h"
#include "cli.h"
#include "util/ctx.h"
#include "util/timefmt.h"

int
cli_run_remove_older_than(struct cli *c, struct arca_ctx *ctx)
{
	int64_t t;

	if (arca_time_parse_user(c->pos[0], c->o.now, &t) != 0)
		return arca_error(ctx, ARCA_ERR_USAGE, "bad time string '%s'",
		    c->pos[0]);
	c->o.url = c->pos[1];
	return arca_run_remove_older_than(ctx, &c->o, t);
}

/* COUNT: a whole number from 1 (duplicity refuses 0 too). */
static int
parse_count(struct arca_ctx *ctx, const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v == 0 ||
	    v > 1000000)
		return arca_error(ctx, ARCA_ERR_USAGE, "bad count '%s': give a "
		    "number of full backups, 1 or more", s);
	*out = (unsigned)v;
	return 0;
}

int
cli_run_remove_all_but_n_full(struct cli *c, struct arca_ctx *ctx)
{
	unsigned n;
	int r;

	if ((r = parse_count(ctx, c->pos[0], &n)) != 0)
		return r;
	c->o.url = c->pos[1];
	return arca_run_remove_all_but_n_full(ctx, &c->o, n);
}

int
cli_run_remove_all_inc_of_but_n_full(struct cli *c, struct arca_ctx *ctx)
{
	unsigned n;
	int r;

	if ((r = parse_count(ctx, c->pos[0], &n)) != 0)
		return r;
	c->o.url = c->pos[1];
	return arca_run_remove_all_inc_of_but_n_full(ctx, &c->o, n);
}

int
cli_run_cleanup(struct cli *c, struct arca_ctx *ctx)
{
	c->o.url = c->pos[0];
	return arca_run_cleanup(ctx, &c->o);
}
