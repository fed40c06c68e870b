/*
 * collection.h: backup sets, chains and signature chains computed from file
 * names alone (spec §11): the remote listing plus the archive dir listing.
 */
#ifndef ARCA_ENGINE_COLLECTION_H
#define ARCA_ENGINE_COLLECTION_H

#include <stddef.h>
#include <stdint.h>

#include "format/filename.h"

struct arca_ctx;
struct arca_strlist;

struct arca_set {
	int is_full;
	int64_t start;		/* full: its time; inc: start time */
	int64_t end;		/* full: its time; inc: end time */
	char *manifest;		/* remote manifest name, NULL if none */
	char *local_partial;	/* archive-dir ".manifest.part" name, or NULL */
	char **vols;		/* vols[i] = remote name of volume i+1, or NULL */
	unsigned nvols;		/* highest volume number seen */
	int encrypted;		/* from the first name of the set */
};

/* A signature chain: one full-signatures file and new-signatures files. */
struct arca_sigchain {
	int local;		/* 1 = archive dir, 0 = remote */
	char *full;		/* full-signatures name */
	int64_t start;		/* time of the full signatures */
	int64_t end;		/* end time of the last new-signatures file */
	char **news;		/* new-signatures names, in chain order */
	int64_t *news_start;
	int64_t *news_end;
	size_t nnews;
};

/*
 * A backup chain.  end is the end time of its last set, except after the
 * "discarding last backup set" rule (dropped_last): then, as in duplicity,
 * it keeps the end time of the dropped set.
 */
struct arca_chain {
	struct arca_set **sets;	/* sets[0] is the full set (borrowed from the collection) */
	size_t nsets;
	int64_t start;
	int64_t end;
	struct arca_sigchain *sig;	/* matching signature chain (primary only) or NULL */
};

/*
 * Sets with a manifest go into chains or orphaned; an incremental that
 * replaced a shorter one in a chain (same start, later end) leaves the
 * shorter one in sets only, as duplicity does.
 */
struct arca_collection {
	struct arca_set **sets;	/* every set, owned */
	size_t nsets;
	struct arca_chain *chains;	/* complete chains, sorted by end time */
	size_t nchains;
	struct arca_set **orphaned;	/* complete sets not part of any chain */
	size_t norphaned;
	struct arca_set **incomplete;	/* sets without a manifest, then the dropped set */
	size_t nincomplete;
	struct arca_sigchain *sigchains;	/* local and remote, owned, by end time */
	size_t nsigchains;
	struct arca_strlist *orphaned_sigs_remote;
	struct arca_strlist *orphaned_sigs_local;
	struct arca_chain *primary;	/* newest chain if it has a matching sigchain, else NULL */
	int dropped_last;	/* primary lost its last set: no signature file */
};

/*
 * Build the collection from the remote names and the archive dir names
 * (either may be NULL).  Names that are not duplicity files are ignored.
 * From the archive dir only ".manifest.part" names join sets (as partial)
 * and signature names (".part" included) build local signature chains.
 * Logs duplicity's warnings (orphaned signature files, incomplete and
 * orphaned sets, discarded last set, signatures without backups) through
 * arca_warn.  Returns 0, ARCA_ERR_CORRUPT (two names with the same volume
 * number, or two remote or two local manifests, in one set; a volume
 * number past the collection's cap) or ARCA_ERR_NOMEM.  pfx may be NULL.
 * On success *out is the caller's, to free with arca_collection_free().
 */
int arca_collection_build(struct arca_ctx *ctx, const struct arca_strlist *remote,
    const struct arca_strlist *local, const struct arca_fprefix *pfx,
    struct arca_collection **out);
void arca_collection_free(struct arca_collection *c);

/*
 * The chain to restore from at time t (§10.1): the one whose [start, end]
 * contains t; else the newest that ended before t; else the oldest.
 * NULL when there are no chains, or when two chains contain t.
 */
struct arca_chain *arca_collection_chain_at(struct arca_collection *c, int64_t t);

/*
 * The same with duplicity's messages: 0 and *out set, ARCA_ERR_NODATA
 * ("No backup chains found") or ARCA_ERR_CORRUPT ("Two chains cover the
 * given time").  ctx may be NULL.
 */
int arca_collection_find_chain(struct arca_ctx *ctx, struct arca_collection *c,
    int64_t t, struct arca_chain **out);

/* Time of the newest full set of any chain, 0 if there is none. */
int64_t arca_collection_last_full_time(const struct arca_collection *c);

/* Number of volumes present in s (what collection-status shows). */
unsigned arca_set_count_vols(const struct arca_set *s);

/* 1 if s has a remote manifest or a local partial one, else 0. */
int arca_set_is_complete(const struct arca_set *s);

/* 1 if s is an interrupted backup: a local partial manifest, no remote one. */
int arca_set_is_partial(const struct arca_set *s);

/*
 * Write collection-status text (§11.5) through arca_out(), from the "Last
 * full backup date:" line on, as duplicity 0.8.22 prints it.  archive_dir
 * is the path shown on the "Archive dir:" line (NULL shows "None").
 */
void arca_collection_print_status(struct arca_ctx *ctx,
    const struct arca_collection *c, const char *archive_dir);

#endif /* !ARCA_ENGINE_COLLECTION_H */
