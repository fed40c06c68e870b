/*
 * rsync.h: librsync signatures, deltas and patches (spec §8).  The only
 * module that includes <librsync.h>.
 *
 * Signatures are always written with MD4 magic and 8-byte strong sums, with
 * duplicity's block-length rule.  All jobs are incremental: feed input, get
 * output appended to a buffer.
 */
#ifndef ARCA_DELTA_RSYNC_H
#define ARCA_DELTA_RSYNC_H

#include <stddef.h>
#include <stdint.h>

struct arca_ctx;
struct arca_buf;
struct arca_sink;

#define ARCA_RSYNC_MAX_BLOCKSIZE 2048

/*
 * duplicity's block length for a file of `size` bytes (§8.2);
 * max_blocksize 0 means ARCA_RSYNC_MAX_BLOCKSIZE.
 */
size_t arca_rsync_block_len(uint64_t size, size_t max_blocksize);

struct arca_rsync_sig;
/*
 * Start a signature for a file of (expected) size bytes.  Returns 0,
 * ARCA_ERR_USAGE (block length above 16 MiB) or ARCA_ERR_NOMEM.
 */
int arca_rsync_sig_new(struct arca_ctx *ctx, uint64_t size,
    size_t max_blocksize, struct arca_rsync_sig **out);
/* Feed n bytes of file content; signature bytes are appended to out. */
int arca_rsync_sig_update(struct arca_rsync_sig *s, const void *p, size_t n,
    struct arca_buf *out);
/* End of content: remaining signature bytes appended to out. */
int arca_rsync_sig_finish(struct arca_rsync_sig *s, struct arca_buf *out);
void arca_rsync_sig_free(struct arca_rsync_sig *s);

struct arca_rsync_delta;
/*
 * Start a delta of new content against an old signature (sig, siglen bytes;
 * copied or loaded at once, need not outlive the call).  A malformed
 * signature is ARCA_ERR_CORRUPT: unknown magic, block length 0 or above
 * 16 MiB, strong length 0 or above the hash's size, or a length that is not
 * a whole number of blocks.  The loaded signature takes about three times
 * siglen of memory (librsync aborts if it cannot get it): callers cap siglen.
 * Deltas are appended to out; their size is at most the new content plus a
 * few bytes per command.
 */
int arca_rsync_delta_new(struct arca_ctx *ctx, const void *sig, size_t siglen,
    struct arca_rsync_delta **out);
int arca_rsync_delta_update(struct arca_rsync_delta *d, const void *p,
    size_t n, struct arca_buf *out);
int arca_rsync_delta_finish(struct arca_rsync_delta *d, struct arca_buf *out);
void arca_rsync_delta_free(struct arca_rsync_delta *d);

struct arca_rsync_patch;
/*
 * Start applying a delta to the basis file basis_fd (read with pread,
 * borrowed).  Output is appended to out on each update.  A COPY beyond the
 * end of the basis, an unknown command or data after END is
 * ARCA_ERR_CORRUPT; a failed read of the basis is ARCA_ERR_IO.  After an
 * error the job is dead (further calls fail).
 *
 * Note that a few bytes of delta can COPY the whole basis: with the
 * arca_buf forms one update may append that much (or fail with
 * ARCA_ERR_NOMEM when out->max is set and reached).  Restores should use
 * the _sink forms, which pass output on in pieces of at most 64 KiB.
 */
int arca_rsync_patch_new(struct arca_ctx *ctx, int basis_fd,
    struct arca_rsync_patch **out);
int arca_rsync_patch_update(struct arca_rsync_patch *p, const void *delta,
    size_t n, struct arca_buf *out);
/* End of delta; ARCA_ERR_CORRUPT if the delta was incomplete or invalid. */
int arca_rsync_patch_finish(struct arca_rsync_patch *p, struct arca_buf *out);
/* The same, writing output to a sink (borrowed; not closed). */
int arca_rsync_patch_update_sink(struct arca_rsync_patch *p,
    const void *delta, size_t n, struct arca_sink *out);
int arca_rsync_patch_finish_sink(struct arca_rsync_patch *p,
    struct arca_sink *out);
void arca_rsync_patch_free(struct arca_rsync_patch *p);

#endif /* !ARCA_DELTA_RSYNC_H */
