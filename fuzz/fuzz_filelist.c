/*
 * fuzz_filelist.c: --include-filelist / --exclude-filelist files
 * (select/selection.c, spec §13.3).
 *
 * The first byte picks the options (include or exclude list, NUL
 * separators); the rest is the file, read through a memfd, then a few
 * paths are tested against the resulting selection.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "select/selection.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "", "a", "a/b", "etc/passwd",
	    "tmp/x y", "\xc3\xa9t\xc3\xa9", "a/b/c/d/e" };
	struct arca_selection *sel = NULL;
	struct arca_ctx ctx;
	struct stat st;
	char fdpath[64];
	size_t i;
	int fd, flags;

	if (size < 1 || size > 65536)
		return 0;
	flags = data[0];
	fuzz_ctx_init(&ctx);
	if ((fd = memfd_create("filelist", MFD_CLOEXEC)) == -1)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if (arca_selection_new(&ctx, "/src", &sel) != 0)
		goto out;
	if (arca_selection_add_filelist(sel, flags & 1, fdpath,
	    (flags >> 1) & 1) != 0)
		goto out;
	if ((flags & 4) && arca_selection_add_glob(sel, 0, "**") != 0)
		goto out;
	if (arca_selection_finish(sel) != 0)
		goto out;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		st.st_mode = (i & 1) ? S_IFDIR | 0755 : S_IFREG | 0644;
		(void)arca_selection_test(sel, paths[i], &st, -1);
	}
out:
	arca_selection_free(sel);
	close(fd);
	return 0;
}
