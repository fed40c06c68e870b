/*
 * path.c: indices (backup-relative paths) and duplicity's order.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "arca/arca_error.h"
#include "util/ctx.h"
#include "util/path.h"

int
arca_path_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	/* '/' sorts below every other byte: component-wise order. */
	for (; *x != '\0' && *x == *y; x++, y++)
		;
	if (*x == *y)
		return 0;
	if (*x == '\0')
		return -1;
	if (*y == '\0')
		return 1;
	if (*x == '/')
		return -1;
	if (*y == '/')
		return 1;
	return *x < *y ? -1 : 1;
}

int
arca_path_is_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return 1;
	if (strncmp(path, prefix, n) != 0)
		return 0;
	return path[n] == '\0' || path[n] == '/';
}

int
arca_path_normalize(const char *in, char *out)
{
	const char *p = in, *e;
	char *o = out;
	size_t n;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return ARCA_ERR_USAGE;
		if (!(n == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memmove(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return 0;
}

int
arca_path_is_safe(const char *index)
{
	const char *p = index, *e;
	size_t n;

	if (*p == '\0')
		return 1;
	if (*p == '/')
		return 0;
	for (;;) {
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		p = e + 1;
	}
}

char *
arca_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p;

	if (a == 0)
		return strdup(name);
	if ((p = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

int
arca_mkdir_p(struct arca_ctx *ctx, const char *path, unsigned mode)
{
	char *p, *s;
	int r = 0;

	if ((p = strdup(path)) == NULL)
		return ARCA_ERR_NOMEM;
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) != 0 && errno != EEXIST) {
				r = arca_error(ctx, ARCA_ERR_IO,
				    "cannot create directory %s: %s", p,
				    strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return r;
}
