/*
 * restore.h: the state of a chain at a time, read from its volumes as one
 * stream of final entries in index order (spec §10.2).  Restore writes them
 * out; verify compares them with a local tree.
 */
#ifndef ARCA_ENGINE_RESTORE_H
#define ARCA_ENGINE_RESTORE_H

#include <stdint.h>

#include "format/entry.h"

struct arca_engine;
struct arca_chain;

struct arca_restore_consumer {
	void *ud;
	/* A regular file at index: return an fd for its final content. */
	int (*file_begin)(void *ud, const char *index, const struct arca_meta *m,
	    int *fd);
	/* Content written (fd is the one from file_begin). */
	int (*file_commit)(void *ud, const char *index, const struct arca_meta *m,
	    int fd);
	void (*file_abort)(void *ud, const char *index, int fd);
	/* Any other entry type. */
	int (*other)(void *ud, const char *index, const struct arca_meta *m);
};

/*
 * Read the chain's sets with end time <= t (the full set always) and give
 * every entry at or below prefix ("" = all) to c, with index relative to
 * prefix.  *found is set to the number of entries given.
 * Volumes are checked against the manifest's SHA1 before use.
 */
int arca_restore_stream(struct arca_engine *e, const struct arca_chain *ch,
    int64_t t, const char *prefix, const struct arca_restore_consumer *c,
    uint64_t *found);

/*
 * The options' restore: the chain at --time (default now), entries at or
 * below --file-to-restore.  ARCA_ERR_NODATA without a chain,
 * ARCA_ERR_NOTFOUND when nothing matched.
 */
int arca_restore_at(struct arca_engine *e, const struct arca_restore_consumer *c);

#endif /* !ARCA_ENGINE_RESTORE_H */
