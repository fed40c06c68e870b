/*
 * manifest_head.h: a manifest without its Filelist.
 *
 * A full set's manifest lists every file of the tree (the Filelist): 30 MB
 * for a million files.  Checking a chain and restoring need only the
 * header and the volumes, and memory must not grow with the tree.
 */
#ifndef ARCA_ENGINE_MANIFEST_HEAD_H
#define ARCA_ENGINE_MANIFEST_HEAD_H

#include "util/buf.h"

struct arca_ctx;

/*
 * Append the plain manifest in fd (read from offset 0 with pread) to out
 * without the "Filelist <n>" line and the indented lines after it, for
 * arca_manifest_parse without ARCA_MANIFEST_FILELIST.  duplicity writes the
 * Filelist before the volumes, arca after them: both work.  `what` names
 * the file in messages.  Returns 0, ARCA_ERR_IO, ARCA_ERR_NOMEM, or
 * ARCA_ERR_CORRUPT for a line over 1 MiB or a head over ARCA_MANIFEST_MAX.
 */
int arca_manifest_head_read(struct arca_ctx *ctx, int fd, const char *what,
    struct arca_buf *out);

#endif /* !ARCA_ENGINE_MANIFEST_HEAD_H */
