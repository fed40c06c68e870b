/*
 * meta.c: metadata from lstat, owner-name lookups with a small cache, and
 * the change-detection rule.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/meta.h"
#include "util/ctx.h"

/* One-entry caches: nearly every file of a tree has the same owner. */
static struct {
	uint64_t id;
	int valid;
	char name[33];
} uid_cache, gid_cache;

static struct {
	char name[33];
	uint64_t id;
	int found;
	int valid;
} uname_cache, gname_cache;

static void
copy_name(char dst[33], const char *src)
{
	size_t n = strlen(src);

	if (n > 32)	/* ustar's field: longer names are not kept */
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
lookup_uname(uint64_t uid, char out[33])
{
	struct passwd *pw;

	if (!uid_cache.valid || uid_cache.id != uid) {
		pw = getpwuid((uid_t)uid);
		copy_name(uid_cache.name, pw ? pw->pw_name : "");
		uid_cache.id = uid;
		uid_cache.valid = 1;
	}
	memcpy(out, uid_cache.name, 33);
}

static void
lookup_gname(uint64_t gid, char out[33])
{
	struct group *gr;

	if (!gid_cache.valid || gid_cache.id != gid) {
		gr = getgrgid((gid_t)gid);
		copy_name(gid_cache.name, gr ? gr->gr_name : "");
		gid_cache.id = gid;
		gid_cache.valid = 1;
	}
	memcpy(out, gid_cache.name, 33);
}

int
arca_meta_from_stat(struct arca_ctx *ctx, const struct stat *st, int dirfd,
    const char *name, struct arca_meta *m)
{
	char target[4097];
	ssize_t n;

	memset(m, 0, sizeof(*m));
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: m->type = ARCA_T_REG; break;
	case S_IFDIR: m->type = ARCA_T_DIR; break;
	case S_IFLNK: m->type = ARCA_T_SYMLINK; break;
	case S_IFIFO: m->type = ARCA_T_FIFO; break;
	case S_IFCHR: m->type = ARCA_T_CHR; break;
	case S_IFBLK: m->type = ARCA_T_BLK; break;
	default:
		return ARCA_ERR_FAILED;
	}
	m->mode = st->st_mode & 07777;
	m->uid = st->st_uid;
	m->gid = st->st_gid;
	lookup_uname(m->uid, m->uname);
	lookup_gname(m->gid, m->gname);
	m->mtime = st->st_mtime < 0 ? 0 : (int64_t)st->st_mtime;
	if (m->type == ARCA_T_REG)
		m->size = (uint64_t)st->st_size;
	if (m->type == ARCA_T_CHR || m->type == ARCA_T_BLK) {
		m->devmajor = major(st->st_rdev);
		m->devminor = minor(st->st_rdev);
	}
	if (m->type == ARCA_T_SYMLINK) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return arca_error(ctx, ARCA_ERR_FAILED,
			    "cannot read symlink %s: %s", name, strerror(errno));
		target[n] = '\0';
		if ((m->linkname = strdup(target)) == NULL)
			return ARCA_ERR_NOMEM;
	}
	return 0;
}

uint64_t
arca_meta_local_uid(const struct arca_meta *m, int numeric)
{
	struct passwd *pw;

	if (numeric || m->uname[0] == '\0')
		return m->uid;
	if (!uname_cache.valid || strcmp(uname_cache.name, m->uname) != 0) {
		pw = getpwnam(m->uname);
		memcpy(uname_cache.name, m->uname, 33);
		uname_cache.found = pw != NULL;
		uname_cache.id = pw ? pw->pw_uid : 0;
		uname_cache.valid = 1;
	}
	return uname_cache.found ? uname_cache.id : m->uid;
}

uint64_t
arca_meta_local_gid(const struct arca_meta *m, int numeric)
{
	struct group *gr;

	if (numeric || m->gname[0] == '\0')
		return m->gid;
	if (!gname_cache.valid || strcmp(gname_cache.name, m->gname) != 0) {
		gr = getgrnam(m->gname);
		memcpy(gname_cache.name, m->gname, 33);
		gname_cache.found = gr != NULL;
		gname_cache.id = gr ? gr->gr_gid : 0;
		gname_cache.valid = 1;
	}
	return gname_cache.found ? gname_cache.id : m->gid;
}

int
arca_meta_changed(const struct arca_meta *old, const struct arca_meta *cur,
    int numeric)
{
	if (old->type != cur->type)
		return 1;
	switch (cur->type) {
	case ARCA_T_SYMLINK:
		/* duplicity compares only the target of a symlink. */
		if (old->linkname == NULL || cur->linkname == NULL)
			return old->linkname != cur->linkname;
		return strcmp(old->linkname, cur->linkname) != 0;
	case ARCA_T_CHR:
	case ARCA_T_BLK:
		if (old->devmajor != cur->devmajor ||
		    old->devminor != cur->devminor)
			return 1;
		/* FALLTHROUGH */
	default:
		if ((old->mode & 07777) != (cur->mode & 07777))
			return 1;
		if (arca_meta_local_uid(old, numeric) != cur->uid ||
		    arca_meta_local_gid(old, numeric) != cur->gid)
			return 1;
		if (cur->type == ARCA_T_CHR || cur->type == ARCA_T_BLK)
			return 0;
		if (old->mtime <= 0 && cur->mtime <= 0)
			return 0;
		return old->mtime != cur->mtime;
	}
}
