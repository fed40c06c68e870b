/*
 * volwriter.h: cutting a backup set's member stream into volumes, and
 * publishing each finished volume (container, SHA1, upload, manifest block).
 */
#ifndef ARCA_ENGINE_VOLWRITER_H
#define ARCA_ENGINE_VOLWRITER_H

#include <stdint.h>

#include "format/entry.h"
#include "format/filename.h"

struct arca_engine;
struct arca_volwriter;

/*
 * New writer for the set named by tmpl (kind FULL_VOL or INC_VOL, times).
 * Each finished volume's manifest block is appended to manifest_fd
 * (the archive dir's .manifest.part) and synced.
 */
int arca_volwriter_new(struct arca_engine *e, const struct arca_fname *tmpl,
    int manifest_fd, struct arca_volwriter **out);

/*
 * Continue an interrupted set: volumes 1..start_vol are on the target and
 * in the manifest; the members up to and including (last_index,
 * last_block) - the end of volume start_vol - are dropped when added
 * again, and the next volume is start_vol + 1.  Call before the first
 * add.  Returns 0 or ARCA_ERR_NOMEM.
 */
int arca_volwriter_resume(struct arca_volwriter *w, unsigned start_vol,
    const char *last_index, long last_block);

/*
 * Add one member: name, metadata (m->size = n), data.  index and block
 * (-1 for none) are what the manifest records for it.
 */
int arca_volwriter_add(struct arca_volwriter *w, const char *name,
    const struct arca_meta *m, const void *data, size_t n, const char *index,
    long block);

/*
 * Finish the last volume (an empty one if nothing was added) and hand it
 * to the senders without waiting for it: the caller may work beside them
 * (not with the backend, the manifest fd, or GnuPG) before finish.
 * Returns 0 or the first error so far (the writer is then stopped).
 */
int arca_volwriter_flush(struct arca_volwriter *w);

/*
 * Flush, then wait until every volume is sent.  Returns 0 or the first
 * error of any volume.
 */
int arca_volwriter_finish(struct arca_volwriter *w);

/*
 * Wait for the volume being sent (if any) to be sent or to fail, and stop
 * the sender thread; nothing more is sent.  For error paths: afterwards
 * the target and the manifest agree.  Returns the sender's first error or
 * 0.  NULL is a no-op.
 */
int arca_volwriter_stop(struct arca_volwriter *w);

/* Volumes on the target and in the manifest (stops the sender first). */
unsigned arca_volwriter_count(struct arca_volwriter *w);
uint64_t arca_volwriter_bytes(const struct arca_volwriter *w);	/* sent */
void arca_volwriter_free(struct arca_volwriter *w);

#endif /* !ARCA_ENGINE_VOLWRITER_H */
