/*
 * selection.h: duplicity's file selection (spec §13): an ordered list of
 * include/exclude tests, first decision wins.
 */
#ifndef ARCA_SELECT_SELECTION_H
#define ARCA_SELECT_SELECTION_H

#include <stdint.h>
#include <sys/stat.h>

struct arca_ctx;
struct arca_selection;

enum arca_sel {
	ARCA_SEL_NONE = -1,	/* no test decided (caller treats as include) */
	ARCA_SEL_EXCLUDE = 0,
	ARCA_SEL_INCLUDE = 1,
	ARCA_SEL_SCAN = 2	/* directory: include only if something below is */
};

/*
 * New selection for a source root, given as the user typed it; patterns are
 * matched against root joined with the relative path (§13.2).
 */
int arca_selection_new(struct arca_ctx *ctx, const char *root,
    struct arca_selection **out);
void arca_selection_free(struct arca_selection *s);

/*
 * Add tests in command-line order.  Glob errors (empty components, a
 * pattern that cannot match under the root) are ARCA_ERR_USAGE with the
 * message on ctx.  add_filelist reads the file now (ARCA_ERR_IO if it
 * cannot be read); null_sep selects NUL-separated lines.
 */
int arca_selection_add_glob(struct arca_selection *s, int include,
    const char *pattern);
int arca_selection_add_regexp(struct arca_selection *s, int include,
    const char *regex);
int arca_selection_add_filelist(struct arca_selection *s, int include,
    const char *path, int null_sep);
int arca_selection_add_exclude_if_present(struct arca_selection *s,
    const char *name);
int arca_selection_add_exclude_device_files(struct arca_selection *s);
int arca_selection_add_exclude_other_filesystems(struct arca_selection *s,
    dev_t root_dev);
int arca_selection_add_exclude_older_than(struct arca_selection *s,
    int64_t t);

/*
 * After all tests are added: reject a list whose last test can only
 * include (exit 16 in duplicity: ARCA_ERR_USAGE with the message).
 */
int arca_selection_finish(struct arca_selection *s);

/*
 * Test one entry: index is relative to the root ("" = root, always
 * included); st its lstat; dirfd an open fd of the entry itself when it is
 * a directory (for --exclude-if-present), else -1.
 * Returns ARCA_SEL_INCLUDE (also when no test decides), ARCA_SEL_EXCLUDE,
 * ARCA_SEL_SCAN (only ever for a directory), or ARCA_ERR_NOMEM; never
 * ARCA_SEL_NONE.
 */
int arca_selection_test(struct arca_selection *s, const char *index,
    const struct stat *st, int dirfd);

#endif /* !ARCA_SELECT_SELECTION_H */
