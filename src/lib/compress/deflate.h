/*
 * deflate.h: raw deflate streams (RFC 1951) and zlib streams (RFC 1950) on
 * Intel's ISA-L, and the gzip reader.  The only module that includes
 * <isa-l/igzip_lib.h> and <isa-l/crc.h>.
 *
 * The sink writes what OpenPGP calls ZIP compression (algorithm 1): one
 * raw deflate stream that every inflater, gpg's zlib included, reads.
 */
#ifndef ARCA_COMPRESS_DEFLATE_H
#define ARCA_COMPRESS_DEFLATE_H

#include <stdint.h>

struct arca_ctx;
struct arca_sink;
struct arca_source;

/* Input is compressed in blocks of this size, each chosen separately. */
#define ARCA_DEFLATE_BLOCK	65536

/* Flags of arca_deflate_sink(). */
#define ARCA_DEFLATE_NO_STORE	0x1	/* keep ISA-L's output even when it
					 * does not shrink (benchmarks) */

/* What a deflate sink did, for benchmarks and tests. */
struct arca_deflate_stats {
	uint64_t in;		/* bytes received */
	uint64_t out;		/* bytes written to next */
	uint64_t stored;	/* blocks written as stored (not compressed) */
	uint64_t skipped;	/* of those, not even tried: random-looking */
	uint64_t deflated;	/* blocks written as ISA-L compressed them */
};

/*
 * A sink that writes a raw deflate stream of what it receives to next
 * (borrowed).  level is ISA-L's (0..3; out of range means 1).  Every
 * ARCA_DEFLATE_BLOCK bytes are compressed and byte-aligned with a sync
 * flush; a block whose compressed form is not smaller than the block is
 * written as stored blocks instead, so data that does not compress costs a
 * copy to decompress, and a block whose bytes look random is stored without
 * trying.  close() ends the stream but does not close next.
 * NULL when out of memory.
 */
struct arca_sink *arca_deflate_sink(struct arca_ctx *ctx,
    struct arca_sink *next, int level, int flags);

/* Counters of a sink made by arca_deflate_sink(). */
void arca_deflate_sink_stats(const struct arca_sink *s,
    struct arca_deflate_stats *st);

enum arca_inflate_format {
	ARCA_INFLATE_RAW,	/* raw deflate (OpenPGP ZIP) */
	ARCA_INFLATE_ZLIB	/* zlib wrapper, Adler-32 checked (OpenPGP ZLIB) */
};

/*
 * A source that inflates what it reads from src (borrowed) and ends where
 * the deflate stream ends (whatever src holds after it is not read).  Bad
 * or truncated data, or a bad checksum, is ARCA_ERR_CORRUPT naming `what`
 * (borrowed, kept for messages).  NULL when out of memory.
 */
struct arca_source *arca_inflate_source(struct arca_ctx *ctx,
    struct arca_source *src, enum arca_inflate_format fmt, const char *what);

/*
 * A source that inflates gzip data (RFC 1952) read from src (borrowed):
 * one or more members back to back, zero padding after a member skipped
 * (as Python's gzip reader does), anything else after a member must be
 * another member.  The header is parsed here (optional FEXTRA, FNAME,
 * FCOMMENT and FHCRC accepted; reserved flag bits, a method other than
 * deflate and bad magic refused); ISA-L inflates and checks each member's
 * CRC-32 and ISIZE.  limit caps the decompressed size (0 = none).
 * Empty input, bad or truncated data and exceeding the limit are
 * ARCA_ERR_CORRUPT ("corrupt gzip data: ...").  NULL when out of memory.
 */
struct arca_source *arca_inflate_gzip_source(struct arca_ctx *ctx,
    struct arca_source *src, uint64_t limit);

/*
 * Write one gzip member of what in_fd holds from its current offset to
 * out_fd, deflated by ISA-L at level (0..3, like arca_deflate_sink, so
 * blocks that do not compress are stored).  For the archive dir's cached
 * signature files: several times faster than zlib's level 6, which
 * arca_gzip_file keeps for what goes to the target.  0 or a negative
 * arca_err.
 */
int arca_deflate_gzip_file(struct arca_ctx *ctx, int in_fd, int out_fd,
    int level);

#endif /* !ARCA_COMPRESS_DEFLATE_H */
