/*
 * stream.h: push sinks and pull sources, the plumbing between stages.
 *
 * A sink receives bytes with write() and is finished with close(); free()
 * releases it (and aborts it if close() was not called).  Stages that wrap
 * another sink keep it in `next` but do not own it unless documented.
 */
#ifndef ARCA_UTIL_STREAM_H
#define ARCA_UTIL_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct arca_sink {
	int (*write)(struct arca_sink *s, const void *p, size_t n);
	int (*close)(struct arca_sink *s);
	void (*free)(struct arca_sink *s);
	struct arca_sink *next;
	uint64_t bytes;		/* bytes accepted by write() so far */
};

struct arca_source {
	/* Read up to n bytes; returns count (0 = end) or a negative arca_err. */
	ssize_t (*read)(struct arca_source *s, void *p, size_t n);
	void (*free)(struct arca_source *s);
};

static inline int
arca_sink_write(struct arca_sink *s, const void *p, size_t n)
{
	int r = s->write(s, p, n);

	if (r == 0)
		s->bytes += n;
	return r;
}

static inline int
arca_sink_close(struct arca_sink *s)
{
	return s->close(s);
}

static inline void
arca_sink_free(struct arca_sink *s)
{
	if (s != NULL)
		s->free(s);
}

static inline ssize_t
arca_source_read(struct arca_source *s, void *p, size_t n)
{
	return s->read(s, p, n);
}

static inline void
arca_source_free(struct arca_source *s)
{
	if (s != NULL)
		s->free(s);
}

struct arca_ctx;

/* A sink writing to fd (not closed by the sink); ARCA_ERR_IO on failure. */
struct arca_sink *arca_sink_fd(struct arca_ctx *ctx, int fd, const char *what);
/* A sink appending to a memory buffer (struct arca_buf *, borrowed). */
struct arca_buf;
struct arca_sink *arca_sink_buf(struct arca_buf *b);
/* A source reading from fd (not closed). */
struct arca_source *arca_source_fd(struct arca_ctx *ctx, int fd, const char *what);
/* A source reading from memory (borrowed, valid while the source lives). */
struct arca_source *arca_source_mem(const void *p, size_t n);
/* Read exactly n bytes unless end of stream; returns count or negative error. */
ssize_t arca_source_read_full(struct arca_source *s, void *p, size_t n);

/* Write all of p to fd, retrying on EINTR/short writes.  0 or -errno. */
int arca_write_all(int fd, const void *p, size_t n);

#endif /* !ARCA_UTIL_STREAM_H */
