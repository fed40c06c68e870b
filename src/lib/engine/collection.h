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

struct arca_chain {
	struct arca_set **sets;	/* sets[0] is the full set (borrowed from the collection) */
	size_t nsets;
	int64_t start;
	int64_t end;
	struct arca_sigchain *sig;	/* matching signature chain or NULL */
};

struct arca_collection {
	struct arca_set **sets;	/* every set, owned */
	size_t nsets;
	struct arca_chain *chains;	/* complete chains, sorted by end time */
	size_t nchains;
	struct arca_set **orphaned;	/* complete sets not part of any chain */
	size_t norphaned;
	struct arca_set **incomplete;	/* sets without a manifest */
	size_t nincomplete;
	struct arca_sigchain *sigchains;	/* local and remote, owned */
	size_t nsigchains;
	struct arca_strlist *orphaned_sigs_remote;
	struct arca_strlist *orphaned_sigs_local;
	struct arca_chain *primary;	/* newest chain if it has a matching sigchain, else NULL */
	int dropped_last;	/* primary lost its last set: no signature file */
};

/*
 * Build the collection from the remote names and the archive dir names
 * (either may be NULL).  Names that are not duplicity files are ignored.
 * Returns 0, ARCA_ERR_CORRUPT (two names with the same volume number in one
 * set) or ARCA_ERR_NOMEM.  pfx may be NULL.
 */
int arca_collection_build(struct arca_ctx *ctx, const struct arca_strlist *remote,
    const struct arca_strlist *local, const struct arca_fprefix *pfx,
    struct arca_collection **out);
void arca_collection_free(struct arca_collection *c);

/*
 * The chain to restore from at time t (§10.1): the one whose [start, end]
 * contains t; else the newest that ended before t; else the oldest.
 * NULL when there are no chains.
 */
struct arca_chain *arca_collection_chain_at(struct arca_collection *c, int64_t t);

/*
 * Write collection-status text (§11.5) through arca_out().  archive_dir is
 * the path shown on the "Archive dir:" line.
 */
void arca_collection_print_status(struct arca_ctx *ctx,
    const struct arca_collection *c, const char *archive_dir);

#endif /* !ARCA_ENGINE_COLLECTION_H */
