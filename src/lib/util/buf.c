/*
 * buf.c: growable buffers, checked allocation, string lists.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "util/buf.h"

unsigned char *
arca_buf_reserve(struct arca_buf *b, size_t n)
{
	size_t need, ncap;
	unsigned char *p;

	if (n > SIZE_MAX - b->len - 1)
		return NULL;
	need = b->len + n + 1;
	if (b->max != 0 && b->len + n > b->max)
		return NULL;
	if (need > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < need) {
			if (ncap > SIZE_MAX / 2)
				return NULL;
			ncap *= 2;
		}
		if ((p = realloc(b->data, ncap)) == NULL)
			return NULL;
		b->data = p;
		b->cap = ncap;
	}
	return b->data + b->len;
}

int
arca_buf_append(struct arca_buf *b, const void *p, size_t n)
{
	unsigned char *d;

	if ((d = arca_buf_reserve(b, n)) == NULL)
		return ARCA_ERR_NOMEM;
	if (n > 0)
		memcpy(d, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
arca_buf_putc(struct arca_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return arca_buf_append(b, &ch, 1);
}

int
arca_buf_puts(struct arca_buf *b, const char *s)
{
	return arca_buf_append(b, s, strlen(s));
}

int
arca_buf_printf(struct arca_buf *b, const char *fmt, ...)
{
	va_list ap;
	unsigned char *d;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ARCA_ERR_NOMEM;
	if ((d = arca_buf_reserve(b, (size_t)n)) == NULL)
		return ARCA_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
arca_buf_reset(struct arca_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
arca_buf_free(struct arca_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
arca_buf_wipe(struct arca_buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	arca_buf_free(b);
}

char *
arca_buf_steal(struct arca_buf *b)
{
	char *s;

	if (b->data == NULL && arca_buf_reserve(b, 0) == NULL)
		return NULL;
	b->data[b->len] = '\0';
	s = (char *)b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
arca_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void *
arca_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void *
arca_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, (n * size) != 0 ? n * size : 1);
}

char *
arca_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
arca_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

int
arca_strlist_addn(struct arca_strlist *l, const char *s, size_t n)
{
	char **v;
	char *d;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;

		if ((v = arca_reallocarray(l->v, ncap, sizeof(*v))) == NULL)
			return ARCA_ERR_NOMEM;
		l->v = v;
		l->cap = ncap;
	}
	if ((d = arca_strndup(s, n)) == NULL)
		return ARCA_ERR_NOMEM;
	l->v[l->n++] = d;
	return 0;
}

int
arca_strlist_add(struct arca_strlist *l, const char *s)
{
	return arca_strlist_addn(l, s, strlen(s));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
arca_strlist_sort(struct arca_strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

void
arca_strlist_free(struct arca_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
