/*
 * bzip2.h: bzip2 decompression (OpenPGP compression algorithm 3) on
 * libbz2.  The only module that includes <bzlib.h>.
 */
#ifndef ARCA_COMPRESS_BZIP2_H
#define ARCA_COMPRESS_BZIP2_H

struct arca_ctx;
struct arca_source;

/*
 * A source that decompresses the bzip2 stream read from src (borrowed) and
 * ends where that stream ends.  Bad or truncated data is ARCA_ERR_CORRUPT
 * naming `what` (borrowed, kept for messages).  NULL when out of memory.
 */
struct arca_source *arca_bunzip2_source(struct arca_ctx *ctx,
    struct arca_source *src, const char *what);

#endif /* !ARCA_COMPRESS_BZIP2_H */
