/*
 * buf.h: growable byte buffers with a cap.
 *
 * A zero-initialised struct arca_buf is an empty buffer.  Every buffer that
 * grows from untrusted input sets `max` so hostile data cannot exhaust memory.
 * data is always NUL-terminated (one spare byte) so text can be used directly.
 */
#ifndef ARCA_UTIL_BUF_H
#define ARCA_UTIL_BUF_H

#include <stddef.h>

struct arca_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t max;		/* 0 = no cap */
};

/* Append n bytes; ARCA_ERR_NOMEM on allocation failure or when len would pass max. */
int arca_buf_append(struct arca_buf *b, const void *p, size_t n);
int arca_buf_putc(struct arca_buf *b, int c);
int arca_buf_puts(struct arca_buf *b, const char *s);
int arca_buf_printf(struct arca_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes; returns pointer to the free space or NULL. */
unsigned char *arca_buf_reserve(struct arca_buf *b, size_t n);
void arca_buf_reset(struct arca_buf *b);	/* len = 0, keeps memory */
void arca_buf_free(struct arca_buf *b);		/* releases memory */
void arca_buf_wipe(struct arca_buf *b);		/* explicit_bzero, then free */
/* Take ownership of the data as a NUL-terminated string; buffer becomes empty. */
char *arca_buf_steal(struct arca_buf *b);

/* Wipe a secret string (explicit_bzero) and free it; NULL is a no-op. */
void arca_wipe_free(char *s);

/* Overflow-checked allocation helpers. */
void *arca_calloc(size_t n, size_t size);
void *arca_reallocarray(void *p, size_t n, size_t size);
char *arca_strdup(const char *s);
char *arca_strndup(const char *s, size_t n);

/* A list of owned strings. */
struct arca_strlist {
	char **v;
	size_t n;
	size_t cap;
};
int arca_strlist_add(struct arca_strlist *l, const char *s);
int arca_strlist_addn(struct arca_strlist *l, const char *s, size_t n);
void arca_strlist_sort(struct arca_strlist *l);	/* by strcmp */
void arca_strlist_free(struct arca_strlist *l);

#endif /* !ARCA_UTIL_BUF_H */
