/*
 * manifest.h: the manifest of a backup set (spec §5).
 *
 * Paths in this API are indices (util/path.h): the root is "", and the
 * manifest module converts it to and from ".".
 */
#ifndef ARCA_FORMAT_MANIFEST_H
#define ARCA_FORMAT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

struct arca_ctx;
struct arca_buf;

struct arca_manifest_vol {
	unsigned num;		/* volume number, from 1 */
	char *start_path;	/* index of the first member */
	long start_block;	/* multivol chunk number, -1 when none */
	char *end_path;
	long end_block;
	char hash_name[16];	/* "SHA1" normally; "" if the block had none */
	char hash_hex[129];	/* lower-case hex digest */
};

enum arca_change { ARCA_CHANGE_NEW = 'n', ARCA_CHANGE_CHANGED = 'c',
	ARCA_CHANGE_DELETED = 'd' };

struct arca_manifest_change {
	char type;		/* enum arca_change */
	char *path;
};

struct arca_manifest {
	char *hostname;		/* NULL if absent */
	char *localdir;		/* NULL if absent */
	struct arca_manifest_vol *vols;	/* vols[i].num == i + 1 after parse */
	size_t nvols;
	struct arca_manifest_change *files;	/* only with ARCA_MANIFEST_FILELIST */
	size_t nfiles;
};

#define ARCA_MANIFEST_FILELIST 0x1	/* also parse the Filelist section */
#define ARCA_MANIFEST_MAX (64u << 20)	/* refuse manifests larger than this */

/*
 * Parse manifest text (len bytes, need not be NUL-terminated) with
 * duplicity's rules (§5.4): later duplicate volume blocks replace earlier
 * ones, volume numbers above the last block's are dropped; volumes must then
 * be numbered 1..n without gaps.  On success *out is a new manifest owned by
 * the caller.  Returns 0, ARCA_ERR_CORRUPT (message on ctx) or ARCA_ERR_NOMEM.
 */
int arca_manifest_parse(struct arca_ctx *ctx, const char *text, size_t len,
    int flags, struct arca_manifest **out);
void arca_manifest_free(struct arca_manifest *m);

/* Writers: append the exact text duplicity writes to out. */
int arca_manifest_fmt_header(struct arca_buf *out, const char *hostname,
    const char *localdir);
int arca_manifest_fmt_volume(struct arca_buf *out,
    const struct arca_manifest_vol *v);
int arca_manifest_fmt_filelist_head(struct arca_buf *out, uint64_t count);
int arca_manifest_fmt_change(struct arca_buf *out, char type, const char *path);

/* Quote a path (index; "" is written ".") as duplicity does (§5.3). */
int arca_manifest_quote(struct arca_buf *out, const char *path);
/* Unquote s (n bytes) into out; "." becomes "". */
int arca_manifest_unquote(struct arca_buf *out, const char *s, size_t n);

#endif /* !ARCA_FORMAT_MANIFEST_H */
