/*
 * entry.h: an entry's metadata, and duplicity's tar member names (§7.1, §8.1).
 */
#ifndef ARCA_FORMAT_ENTRY_H
#define ARCA_FORMAT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

struct arca_buf;

enum arca_etype {
	ARCA_T_NONE = 0,	/* deleted / absent */
	ARCA_T_REG,
	ARCA_T_DIR,
	ARCA_T_SYMLINK,
	ARCA_T_FIFO,
	ARCA_T_CHR,
	ARCA_T_BLK
};

struct arca_meta {
	enum arca_etype type;
	uint32_t mode;		/* permission bits, & 07777 */
	uint64_t uid;
	uint64_t gid;
	char uname[33];		/* "" when unknown */
	char gname[33];
	int64_t mtime;		/* whole seconds */
	uint64_t size;		/* size of the member's data */
	char *linkname;		/* symlink target (owned), NULL otherwise */
	uint32_t devmajor;
	uint32_t devminor;
};

void arca_meta_clear(struct arca_meta *m);	/* frees linkname, zeroes */
int arca_meta_copy(struct arca_meta *dst, const struct arca_meta *src);

/* What a member name says. */
enum arca_mkind {
	ARCA_M_SNAPSHOT = 1,	/* snapshot/<path> */
	ARCA_M_DIFF,		/* diff/<path> */
	ARCA_M_DELETED,		/* deleted/<path> */
	ARCA_M_SIGNATURE,	/* signature/<path> */
	ARCA_M_MV_SNAPSHOT,	/* multivol_snapshot/<path>/<k> */
	ARCA_M_MV_DIFF		/* multivol_diff/<path>/<k> */
};

/*
 * Longest index a member name may carry: the most the source walk backs up
 * (select/walk.c; duplicity stops at PATH_MAX).  Longer ones are hostile.
 */
#define ARCA_MEMBER_INDEX_MAX 65536

/*
 * Split a member name (len bytes) into kind, index (into path, as an index:
 * trailing '/' stripped, "." or empty = root "") and chunk number (multivol
 * only, else 0).  Returns 0, or ARCA_ERR_CORRUPT for an unknown prefix or a
 * multivol name without /<digits> or an index longer than
 * ARCA_MEMBER_INDEX_MAX, or ARCA_ERR_UNSAFE when the path has a
 * ".." component or is absolute.
 */
int arca_member_parse(const char *name, size_t len, enum arca_mkind *kind,
    struct arca_buf *path, unsigned long *chunk);

/*
 * Build a member name: prefix word for kind, then the index; directories in
 * volumes get a trailing '/' (is_dir); the root is "snapshot/./" in volumes
 * (root_dot = 1) and "snapshot/" in signature files (root_dot = 0);
 * multivol kinds append "/<chunk>".
 */
int arca_member_name(struct arca_buf *out, enum arca_mkind kind,
    const char *index, int is_dir, int root_dot, unsigned long chunk);

#endif /* !ARCA_FORMAT_ENTRY_H */
