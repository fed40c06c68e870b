/*
 * gzip.h: gzip containers (spec §4.2): written with zlib (byte for byte
 * like Python's gzip), read with ISA-L (compress/deflate.c).
 */
#ifndef ARCA_COMPRESS_GZIP_H
#define ARCA_COMPRESS_GZIP_H

#include <stdint.h>

struct arca_ctx;
struct arca_sink;
struct arca_source;

/*
 * A sink that gzips what it receives (one member, level 6, header
 * `1f 8b 08 00 MTIME 00 ff` like Python's gzip) and writes it to next
 * (borrowed).  close() finishes the member but does not close next.
 */
struct arca_sink *arca_gzip_sink(struct arca_ctx *ctx, struct arca_sink *next,
    int level);

/*
 * A source that inflates gzip data read from src (borrowed); accepts
 * concatenated members and zero padding after a member.  limit caps the
 * decompressed size (0 = none): exceeding it is ARCA_ERR_CORRUPT.  Bad,
 * truncated or empty data is ARCA_ERR_CORRUPT.  NULL when out of memory.
 * Same as arca_inflate_gzip_source() (deflate.h).
 */
struct arca_source *arca_gunzip_source(struct arca_ctx *ctx,
    struct arca_source *src, uint64_t limit);

/* Whole-file helpers used for the archive dir: gzip/gunzip path to path. */
int arca_gzip_file(struct arca_ctx *ctx, int in_fd, int out_fd);
int arca_gunzip_file(struct arca_ctx *ctx, int in_fd, int out_fd);

#endif /* !ARCA_COMPRESS_GZIP_H */
