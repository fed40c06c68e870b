/*
 * tar.h: tar streams for volumes and signature files (spec §6), on libarchive.
 *
 * The writer produces pax (POSIX.1-2001) like duplicity 0.8.22 on Python 3:
 * plain ustar headers, with a pax extended header only when a name, link
 * target or owner name is not ASCII or too long, or a number does not fit.
 * The reader accepts pax, GNU and ustar (prefix field, base-256 numbers,
 * L/K long names), stops at the first zero block or end of data, and ignores
 * whatever follows (gpg volumes carry filler after the trailer).
 */
#ifndef ARCA_ARCHIVE_TAR_H
#define ARCA_ARCHIVE_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct arca_ctx;
struct arca_sink;
struct arca_source;
struct arca_meta;

struct arca_tar_writer;

/*
 * New writer sending its bytes to out (borrowed; not closed by the writer).
 * Returns 0 and *w, or a negative arca_err.
 */
int arca_tar_writer_new(struct arca_ctx *ctx, struct arca_sink *out,
    struct arca_tar_writer **w);

/*
 * Start a member called name (raw bytes, NUL-terminated) with metadata m;
 * m->size bytes of data must follow through arca_tar_write_data (for
 * regular files; other types have no data).  m->type ARCA_T_NONE writes a
 * deleted entry (typeflag 0, all metadata zero).  A directory name gets a
 * trailing '/' when it has none, as tarfile does.  Returns 0, or a
 * negative arca_err: ARCA_ERR_FAILED when only this entry cannot be stored
 * (device number >= 8^7; nothing was written), otherwise the writer is
 * broken and every later call returns the same error.
 */
int arca_tar_write_header(struct arca_tar_writer *w, const char *name,
    const struct arca_meta *m);
int arca_tar_write_data(struct arca_tar_writer *w, const void *p, size_t n);

/* Bytes of tar written to the sink so far (headers, data, padding). */
uint64_t arca_tar_writer_bytes(const struct arca_tar_writer *w);

/*
 * Finish the archive.  trailer = 1 writes the end-of-archive blocks padded
 * to a multiple of 10240 bytes (signature files, encrypted volumes);
 * trailer = 0 writes nothing more (gzip and plain volumes end after the last
 * member, as duplicity's do).  Returns 0 or a negative arca_err.
 */
int arca_tar_writer_close(struct arca_tar_writer *w, int trailer);
void arca_tar_writer_free(struct arca_tar_writer *w);

struct arca_tar_reader;

/* New reader pulling from src (borrowed). */
int arca_tar_reader_new(struct arca_ctx *ctx, struct arca_source *src,
    struct arca_tar_reader **r);

/*
 * Next member: *name (raw bytes as stored, a trailing '/' kept; valid until
 * the next call) and *m (owned by the reader, valid until the next call;
 * m->size is the data size; deleted entries read as ARCA_T_REG).
 * Returns 1 for a member, 0 at the end of the archive, or a negative
 * arca_err (ARCA_ERR_CORRUPT for malformed headers, with the message on ctx).
 * Hard links (typeflag 1) and other unsupported types are ARCA_ERR_CORRUPT.
 */
int arca_tar_next(struct arca_tar_reader *r, const char **name,
    const struct arca_meta **m);

/* Read member data; returns count, 0 at end of member, or negative arca_err. */
ssize_t arca_tar_read_data(struct arca_tar_reader *r, void *p, size_t n);

void arca_tar_reader_free(struct arca_tar_reader *r);

#endif /* !ARCA_ARCHIVE_TAR_H */
