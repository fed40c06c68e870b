/*
 * manifest_head.c: reading a manifest without its Filelist, in bounded
 * memory (manifest_head.h).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/manifest_head.h"
#include "format/manifest.h"
#include "util/ctx.h"

/* Cap on one manifest line: paths are at most a few KiB, quoted. */
#define MANIFEST_LINE_MAX (1u << 20)

static int
line_is(const struct arca_buf *l, const char *word)
{
	size_t n = strlen(word);

	return l->len >= n && strncasecmp((const char *)l->data, word, n) == 0;
}

int
arca_manifest_head_read(struct arca_ctx *ctx, int fd, const char *what,
    struct arca_buf *out)
{
	unsigned char buf[65536], *p, *nl;
	struct arca_buf line = { 0 };
	int in_list = 0, r = 0;
	off_t off = 0;
	ssize_t n;
	size_t k;

	for (;;) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = arca_error(ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    what, strerror(errno));
			goto out;
		}
		off += n;
		for (p = buf; n == 0 || p < buf + n; p = nl + 1) {
			nl = n ? memchr(p, '\n', (size_t)(buf + n - p)) : NULL;
			k = nl ? (size_t)(nl - p) : (size_t)(buf + n - p);
			if (line.len + k > MANIFEST_LINE_MAX) {
				r = arca_error(ctx, ARCA_ERR_CORRUPT, "%s: a line "
				    "longer than %u bytes", what, MANIFEST_LINE_MAX);
				goto out;
			}
			if (k > 0 && (r = arca_buf_append(&line, p, k)) != 0)
				goto out;
			if (nl == NULL && n > 0)
				break;	/* the line goes on in the next read */
			/* A whole line (or the last one, at EOF). */
			if (line_is(&line, "filelist")) {
				in_list = 1;
			} else if (in_list && line.len > 0 &&
			    (line.data[0] == ' ' || line.data[0] == '\t')) {
				;
			} else if (line.len > 0 || nl != NULL) {
				in_list = 0;
				if (out->len + line.len + 1 > ARCA_MANIFEST_MAX) {
					r = arca_error(ctx, ARCA_ERR_CORRUPT,
					    "%s: its volume list is larger than "
					    "%zu bytes: refusing it", what,
					    (size_t)ARCA_MANIFEST_MAX);
					goto out;
				}
				if ((r = arca_buf_append(out, line.data,
				    line.len)) != 0 ||
				    (r = arca_buf_putc(out, '\n')) != 0)
					goto out;
			}
			arca_buf_reset(&line);
			if (n == 0)
				goto out;
		}
	}
out:
	arca_buf_free(&line);
	return r;
}

