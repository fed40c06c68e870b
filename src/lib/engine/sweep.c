/*
 * sweep.c: what crashed runs leave behind.
 *
 * A run killed with -9 (or by a power cut) leaves its private temp dir
 * under $TMPDIR, and on the target the hidden temp file of the upload it
 * was doing.  Neither harms the next run, but years of nightly runs on a
 * flaky machine would fill disks with them.  The rules for what is stale
 * are in docs/RETENTION.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "engine/engine.h"
#include "engine/sweep.h"
#include "util/buf.h"
#include "util/ctx.h"

/* A temp dir holds flat files; a little depth is allowed, not more. */
#define SWEEP_MAXDEPTH	8

/* Remove everything in the directory dfd (closed here), depth levels deep. */
static void
rm_tree_fd(int dfd, int depth)
{
	struct dirent *de;
	DIR *d;
	int sub;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0 || (errno != EISDIR &&
		    errno != EPERM) || depth >= SWEEP_MAXDEPTH)
			continue;
		sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		rm_tree_fd(sub, depth + 1);
		unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* The pid in "arca-<pid>-XXXXXX", or 0 if name is not such a name. */
static long
tempdir_pid(const char *name)
{
	const char *p = name + strlen(ARCA_TEMPDIR_PREFIX);
	char *end;
	long pid;

	if (strncmp(name, ARCA_TEMPDIR_PREFIX,
	    strlen(ARCA_TEMPDIR_PREFIX)) != 0 || *p < '1' || *p > '9')
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno != 0 || pid <= 0 || pid > INT_MAX || *end != '-' ||
	    strlen(end + 1) != 6)
		return 0;
	return pid;
}

void
arca_sweep_tempdirs(struct arca_ctx *ctx, const char *dir)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	long pid;
	int dfd, sub;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((pid = tempdir_pid(de->d_name)) == 0 ||
		    pid == (long)getpid())
			continue;
		/* Only our own user's, only real directories. */
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode) || sb.st_uid != getuid())
			continue;
		/* EPERM: a live process of someone else; alive is alive. */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		rm_tree_fd(sub, 1);
		if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) == 0)
			arca_info(ctx, "Removed %s/%s, the temp dir of a "
			    "crashed run (process %ld)", dir, de->d_name, pid);
	}
	closedir(d);
}

int
arca_sweep_target(struct arca_engine *e, int apply)
{
	struct arca_strlist found = { 0 };
	struct arca_buf b = { 0 };
	size_t i;
	int r;

	if ((r = arca_backend_sweep(e->be, apply, &found)) != 0 ||
	    found.n == 0)
		goto out;
	for (i = 0; i < found.n; i++)
		if (arca_buf_printf(&b, "\n%s", found.v[i]) != 0) {
			r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	if (apply)
		arca_out(e->ctx, "Deleted these temporary files of crashed "
		    "runs from backend:%s\n", (char *)b.data);
	else
		arca_out(e->ctx, "Found these temporary files of crashed runs "
		    "to delete:%s\nRun arca cleanup again with the --force "
		    "option to delete them.\n", (char *)b.data);
out:
	arca_buf_free(&b);
	arca_strlist_free(&found);
	return r;
}
