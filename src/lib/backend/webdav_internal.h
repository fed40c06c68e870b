/*
 * webdav_internal.h: the PROPFIND answer scanner (webdav_xml.c), for the
 * WebDAV backend (webdav.c), its unit tests and its fuzz target.
 *
 * A streaming reader of a 207 multistatus body: fed in pieces as they
 * arrive, it keeps one <response> at a time and appends the name of each
 * file it lists (the last segment of its href, entities and %-escapes
 * decoded) to a list; collections, hrefs ending in '/', names that cannot
 * be decoded and our own upload temp names are left out.  Memory is
 * bounded by a cap per tag, per href and on the number of names.
 */
#ifndef ARCA_BACKEND_WEBDAV_INTERNAL_H
#define ARCA_BACKEND_WEBDAV_INTERNAL_H

#include <stddef.h>

struct arca_ctx;
struct arca_strlist;
struct arca_dav_scan;

/*
 * A new scanner appending to out; where names the target in messages
 * (borrowed, like out, until arca_dav_scan_free).  Returns 0 or
 * ARCA_ERR_NOMEM.
 */
int arca_dav_scan_new(struct arca_ctx *ctx, const char *where,
    struct arca_strlist *out, struct arca_dav_scan **sc);
/* Feed n more bytes: 0, ARCA_ERR_CORRUPT past a cap, ARCA_ERR_NOMEM. */
int arca_dav_scan_feed(struct arca_dav_scan *sc, const void *p, size_t n);
/* The body is complete: 0, or ARCA_ERR_RETRY if it stopped mid-way. */
int arca_dav_scan_end(struct arca_dav_scan *sc);
void arca_dav_scan_free(struct arca_dav_scan *sc);

#endif /* !ARCA_BACKEND_WEBDAV_INTERNAL_H */
