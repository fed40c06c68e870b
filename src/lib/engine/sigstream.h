/*
 * sigstream.h: the combined signature state of a chain at a time, read as
 * one stream in index order from the cached signature files (§8.1): the
 * full-signatures file with each new-signatures file layered on top.
 */
#ifndef ARCA_ENGINE_SIGSTREAM_H
#define ARCA_ENGINE_SIGSTREAM_H

#include <stdint.h>

#include "format/entry.h"
#include "util/buf.h"

struct arca_engine;
struct arca_sigchain;
struct arca_sigstream;

struct arca_sigent {
	const char *path;	/* index */
	enum arca_mkind kind;	/* ARCA_M_SIGNATURE, ARCA_M_SNAPSHOT or ARCA_M_DELETED */
	struct arca_meta meta;
	struct arca_buf sig;	/* librsync signature (ARCA_M_SIGNATURE) */
};

/* Largest signature accepted for one file. */
#define ARCA_SIG_MAX ((size_t)1 << 30)

/* Flags of arca_sigstream_open(). */
#define ARCA_SIGS_DELETED	0x1	/* return deleted entries too */
#define ARCA_SIGS_AHEAD		0x2	/* merge on a thread of its own, a few
					 * hundred entries ahead of the reader */

/*
 * Open the stream over sc's files whose end time <= t (t < 0: all).
 * Deleted entries are skipped unless flags has ARCA_SIGS_DELETED.  With
 * ARCA_SIGS_AHEAD an error of the thread reaches the reader from
 * arca_sigstream_next() after the entries before it, with its message.
 */
int arca_sigstream_open(struct arca_engine *e, const struct arca_sigchain *sc,
    int64_t t, unsigned flags, struct arca_sigstream **out);
/* 1 and *ent (valid until the next call), 0 at the end, or negative arca_err. */
int arca_sigstream_next(struct arca_sigstream *s, const struct arca_sigent **ent);
void arca_sigstream_free(struct arca_sigstream *s);

#endif /* !ARCA_ENGINE_SIGSTREAM_H */
