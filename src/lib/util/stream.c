/*
 * stream.c: basic sinks and sources over file descriptors and memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

int
arca_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

struct fd_sink {
	struct arca_sink base;
	struct arca_ctx *ctx;
	int fd;
	const char *what;
};

static int
fd_sink_write(struct arca_sink *s, const void *p, size_t n)
{
	struct fd_sink *f = (struct fd_sink *)s;
	int r = arca_write_all(f->fd, p, n);

	if (r < 0)
		return arca_error(f->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    f->what, strerror(-r));
	return 0;
}

static int
noop_close(struct arca_sink *s)
{
	(void)s;
	return 0;
}

static void
plain_free(struct arca_sink *s)
{
	free(s);
}

struct arca_sink *
arca_sink_fd(struct arca_ctx *ctx, int fd, const char *what)
{
	struct fd_sink *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base.write = fd_sink_write;
	f->base.close = noop_close;
	f->base.free = plain_free;
	f->ctx = ctx;
	f->fd = fd;
	f->what = what;
	return &f->base;
}

struct buf_sink {
	struct arca_sink base;
	struct arca_buf *b;
};

static int
buf_sink_write(struct arca_sink *s, const void *p, size_t n)
{
	return arca_buf_append(((struct buf_sink *)s)->b, p, n);
}

struct arca_sink *
arca_sink_buf(struct arca_buf *b)
{
	struct buf_sink *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base.write = buf_sink_write;
	f->base.close = noop_close;
	f->base.free = plain_free;
	f->b = b;
	return &f->base;
}

struct fd_source {
	struct arca_source base;
	struct arca_ctx *ctx;
	int fd;
	const char *what;
};

static ssize_t
fd_source_read(struct arca_source *s, void *p, size_t n)
{
	struct fd_source *f = (struct fd_source *)s;
	ssize_t r;

	do
		r = read(f->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return arca_error(f->ctx, ARCA_ERR_IO, "cannot read %s: %s",
		    f->what, strerror(errno));
	return r;
}

static void
source_free(struct arca_source *s)
{
	free(s);
}

struct arca_source *
arca_source_fd(struct arca_ctx *ctx, int fd, const char *what)
{
	struct fd_source *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base.read = fd_source_read;
	f->base.free = source_free;
	f->ctx = ctx;
	f->fd = fd;
	f->what = what;
	return &f->base;
}

struct mem_source {
	struct arca_source base;
	const unsigned char *p;
	size_t n;
};

static ssize_t
mem_source_read(struct arca_source *s, void *p, size_t n)
{
	struct mem_source *m = (struct mem_source *)s;

	if (n > m->n)
		n = m->n;
	memcpy(p, m->p, n);
	m->p += n;
	m->n -= n;
	return (ssize_t)n;
}

struct arca_source *
arca_source_mem(const void *p, size_t n)
{
	struct mem_source *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->base.read = mem_source_read;
	m->base.free = source_free;
	m->p = p;
	m->n = n;
	return &m->base;
}

ssize_t
arca_source_read_full(struct arca_source *s, void *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = arca_source_read(s, (unsigned char *)p + got, n - got);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}
