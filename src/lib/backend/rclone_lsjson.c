/*
 * rclone_lsjson.c: the rclone backend's reader of `rclone lsjson`, whose
 * output comes from a remote listing and so is untrusted.
 */
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/rclone_internal.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/json.h"

int
arca_rclone_is_tmp(const char *name)
{
	return name[0] == '.' && strstr(name, ARCA_RCLONE_TMP_MARK) != NULL;
}

int
arca_rclone_parse_lsjson(struct arca_ctx *ctx, const char *where,
    const char *text, size_t len, struct arca_strlist *l)
{
	struct arca_json *root = NULL, *e;
	char why[sizeof(ctx->errmsg)];
	const char *s;
	size_t i, n;
	int rc;

	if ((rc = arca_json_parse(ctx, text, len, ARCA_RCLONE_OUT_MAX,
	    &root)) != 0) {
		/* Copied first: the message is about to be replaced. */
		snprintf(why, sizeof(why), "%s", ctx->errmsg);
		return arca_error(ctx, ARCA_ERR_BACKEND, "rclone lsjson of %s "
		    "gave bad JSON: %s", where, why);
	}
	if (!arca_json_is_array(root)) {
		rc = arca_error(ctx, ARCA_ERR_BACKEND, "rclone lsjson of %s "
		    "gave no list", where);
		goto out;
	}
	n = arca_json_array_len(root);
	for (i = 0; i < n; i++) {
		e = arca_json_array_at(root, i);
		if (!arca_json_is_object(e) ||
		    arca_json_get_bool(e, "IsDir", 0))
			continue;
		if (arca_json_get(e, "Path") != NULL)
			s = arca_json_get_str(e, "Path");
		else
			s = arca_json_get_str(e, "Name");
		/*
		 * Flat names only (the parser never passes on a NUL), and
		 * none that could point elsewhere, "." or "..".
		 */
		if (s == NULL || s[0] == '\0' || strchr(s, '/') != NULL ||
		    strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
		    arca_rclone_is_tmp(s))
			continue;
		if (l->n >= ARCA_RCLONE_MAX_NAMES) {
			rc = arca_error(ctx, ARCA_ERR_BACKEND, "backup target "
			    "%s holds more than %d files", where,
			    ARCA_RCLONE_MAX_NAMES);
			goto out;
		}
		if (arca_strlist_add(l, s) != 0) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	arca_json_free(root);
	return rc;
}
