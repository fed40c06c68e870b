/*
 * rsync.c: librsync signatures, deltas and patches (spec §8).
 *
 * Every operation is a librsync job driven with rs_job_iter(): the caller's
 * input is offered once, and output is taken in fixed pieces of OUTCHUNK
 * bytes, so the only memory that grows is what the caller asked for (the
 * output buffer) and librsync's own look-ahead, which is bounded by the block
 * length.  Signatures and deltas come from the target and are untrusted:
 * their headers are checked here before librsync sees them, because librsync
 * answers some bad values with assert() or with an allocation sized by the
 * input.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librsync.h>

#include "delta/rsync.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

/* Output is produced in pieces of this size (one pass through a sink). */
#define OUTCHUNK	(64 * 1024)

/* The signature header: magic, block length, strong sum length. */
#define SIGHDR		12

/*
 * Largest block length accepted from a signature.  librsync reads a whole
 * block ahead while making a delta, so this is also the most memory a hostile
 * signature can make us allocate for that; 16 MiB is far above anything
 * duplicity writes (2048 by default, --max-blocksize otherwise).
 */
#define MAX_SIG_BLOCK_LEN	(16u * 1024 * 1024)

/*
 * librsync reports through a process-wide trace callback that prints to
 * stderr by default; the library must not print.  The first error message of
 * the current operation is kept per thread and becomes part of our message
 * (the last one is only librsync's generic "job failed").
 */
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static __thread char trace_msg[256];

static void
trace_keep(rs_loglevel level, const char *msg)
{
	const char *p = msg;
	size_t n;

	if (level > RS_LOG_ERR || trace_msg[0] != '\0')
		return;
	if (strncmp(p, "librsync: ", 10) == 0)
		p += 10;
	if (strncmp(p, "ERROR: ", 7) == 0)
		p += 7;
	n = strcspn(p, "\n");
	if (n >= sizeof(trace_msg))
		n = sizeof(trace_msg) - 1;
	memcpy(trace_msg, p, n);
	trace_msg[n] = '\0';
}

static void
trace_setup(void)
{
	rs_trace_to(trace_keep);
}

static void
trace_reset(void)
{
	pthread_once(&trace_once, trace_setup);
	trace_msg[0] = '\0';
}

/* Where a job's output goes: an arca_buf or a sink. */
struct out {
	struct arca_buf *buf;
	struct arca_sink *sink;
};

/* What the three jobs share. */
struct job {
	struct arca_ctx *ctx;
	rs_job_t *rs;
	const char *op;		/* "signature", "delta", "patch" for messages */
	unsigned char *chunk;	/* OUTCHUNK bytes of output space */
	int done;		/* librsync said RS_DONE */
	int failed;		/* an error was returned; the job is dead */
	int cb_err;		/* error already set on ctx by a callback */
};

static int
job_init(struct job *j, struct arca_ctx *ctx, const char *op)
{
	j->ctx = ctx;
	j->op = op;
	if ((j->chunk = malloc(OUTCHUNK)) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

static void
job_done(struct job *j)
{
	if (j->rs != NULL)
		rs_job_free(j->rs);
	j->rs = NULL;
	free(j->chunk);
	j->chunk = NULL;
}

/* Translate a librsync failure into our error, with its first message. */
static int
job_error(struct job *j, rs_result rr)
{
	const char *detail = trace_msg[0] != '\0' ? trace_msg :
	    rs_strerror(rr);

	j->failed = 1;
	if (j->cb_err != 0)
		return j->cb_err;
	switch (rr) {
	case RS_MEM_ERROR:
		return arca_error(j->ctx, ARCA_ERR_NOMEM, "rsync %s: %s",
		    j->op, detail);
	case RS_INPUT_ENDED:
		return arca_error(j->ctx, ARCA_ERR_CORRUPT,
		    "rsync %s: input is truncated (%s)", j->op, detail);
	default:
		/*
		 * Bad magic, bogus commands, implausible lengths and librsync's
		 * "no progress" guard all come from the data we were given.
		 */
		return arca_error(j->ctx, ARCA_ERR_CORRUPT,
		    "rsync %s: malformed input (%s)", j->op, detail);
	}
}

static int
emit(struct job *j, struct out *o, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if (o->sink != NULL) {
		if ((r = arca_sink_write(o->sink, p, n)) != 0)
			j->failed = 1;
		return r;
	}
	if (arca_buf_append(o->buf, p, n) != 0) {
		j->failed = 1;
		/* o has a sink or a buf: the analyzer cannot see it. */
		if (o->buf->max != 0 && n > o->buf->max - o->buf->len)	/* NOLINT(clang-analyzer-core.NullDereference) */
			return arca_error(j->ctx, ARCA_ERR_NOMEM, "rsync %s: "
			    "output exceeds the buffer's limit of %zu bytes",
			    j->op, o->buf->max);
		return arca_error(j->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/*
 * Offer p[0..n) (and, if eof, the end of input) to the job and pass on all
 * the output it produces.  Returns with all of the input taken: librsync
 * copies what it cannot use yet into its own look-ahead buffer.
 */
static int
job_run(struct job *j, const void *p, size_t n, int eof, struct out *o)
{
	rs_buffers_t b;
	rs_result rr;
	size_t produced, in_before;
	int r;

	if (j->failed)
		return arca_error(j->ctx, ARCA_ERR_USAGE,
		    "rsync %s: used after an error", j->op);
	memset(&b, 0, sizeof(b));
	b.next_in = (char *)(uintptr_t)p;
	b.avail_in = n;
	b.eof_in = eof;
	trace_reset();
	for (;;) {
		if (j->done) {
			if (b.avail_in > 0) {
				j->failed = 1;
				return arca_error(j->ctx, ARCA_ERR_CORRUPT,
				    "rsync %s: %zu bytes of data after the "
				    "end", j->op, b.avail_in);
			}
			return 0;
		}
		b.next_out = (char *)j->chunk;
		b.avail_out = OUTCHUNK;
		in_before = b.avail_in;
		rr = rs_job_iter(j->rs, &b);
		produced = OUTCHUNK - b.avail_out;
		if (rr != RS_DONE && rr != RS_BLOCKED)
			return job_error(j, rr);
		if ((r = emit(j, o, j->chunk, produced)) != 0)
			return r;
		if (rr == RS_DONE) {
			j->done = 1;
			continue;
		}
		/* Blocked: on output space (go round again) or on input. */
		if (b.avail_out == 0)
			continue;
		if (b.avail_in == 0 && !eof)
			return 0;
		if (produced == 0 && b.avail_in == in_before) {
			/* Neither progress nor a reason to wait. */
			return job_error(j, eof ? RS_INPUT_ENDED :
			    RS_INTERNAL_ERROR);
		}
	}
}

size_t
arca_rsync_block_len(uint64_t size, size_t max_blocksize)
{
	uint64_t bl;

	if (max_blocksize == 0)
		max_blocksize = ARCA_RSYNC_MAX_BLOCKSIZE;
	/*
	 * duplicity: 512 below 1 024 000 bytes, else about 2000 blocks rounded
	 * down to a multiple of 512, capped by --max-blocksize.
	 */
	if (size < 1024000)
		return 512;
	bl = (size / 1024000) * 512;
	return bl < max_blocksize ? (size_t)bl : max_blocksize;
}

/* ---- signatures ---------------------------------------------------- */

struct arca_rsync_sig {
	struct job j;
};

int
arca_rsync_sig_new(struct arca_ctx *ctx, uint64_t size, size_t max_blocksize,
    struct arca_rsync_sig **out)
{
	struct arca_rsync_sig *s = NULL;
	size_t bl;
	int r;

	*out = NULL;
	bl = arca_rsync_block_len(size, max_blocksize);
	if (bl > MAX_SIG_BLOCK_LEN) {
		r = arca_error(ctx, ARCA_ERR_USAGE,
		    "block size %zu is above the limit of %u", bl,
		    MAX_SIG_BLOCK_LEN);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = job_init(&s->j, ctx, "signature")) != 0)
		goto out;
	trace_reset();
	/* MD4 and 8-byte strong sums: what every duplicity version reads. */
	if ((s->j.rs = rs_sig_begin(bl, 8, RS_MD4_SIG_MAGIC)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "rsync signature: cannot "
		    "start job");
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	arca_rsync_sig_free(s);
	return r;
}

int
arca_rsync_sig_update(struct arca_rsync_sig *s, const void *p, size_t n,
    struct arca_buf *out)
{
	struct out o = { out, NULL };

	return job_run(&s->j, p, n, 0, &o);
}

int
arca_rsync_sig_finish(struct arca_rsync_sig *s, struct arca_buf *out)
{
	struct out o = { out, NULL };

	return job_run(&s->j, NULL, 0, 1, &o);
}

void
arca_rsync_sig_free(struct arca_rsync_sig *s)
{
	if (s == NULL)
		return;
	job_done(&s->j);
	free(s);
}

/* ---- deltas -------------------------------------------------------- */

/*
 * librsync's delta output depends on how the input is cut: against an empty
 * signature every piece it is offered becomes one LITERAL command (so
 * 1-byte updates would double the delta), and it counts literal lengths in
 * an int.  The delta job is therefore always offered exactly STAGE bytes at
 * a time (less only at the end); short updates are gathered in `stage`.
 */
#define STAGE	OUTCHUNK

struct arca_rsync_delta {
	struct job j;
	rs_signature_t *sig;
	unsigned char *stage;
	size_t staged;
};

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Check a signature's shape before librsync loads it: librsync asserts on an
 * unknown magic or strong length, takes a block length as large as the data
 * says, and silently accepts a file that ends inside a weak sum.
 */
static int
sig_check(struct arca_ctx *ctx, const unsigned char *sig, size_t siglen)
{
	uint32_t magic, bl, sl, maxsl;

	if (siglen < SIGHDR)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "truncated header (%zu bytes)", siglen);
	magic = get_be32(sig);
	bl = get_be32(sig + 4);
	sl = get_be32(sig + 8);
	switch (magic) {
	case RS_MD4_SIG_MAGIC:
	case RS_RK_MD4_SIG_MAGIC:
		maxsl = 16;	/* RS_MD4_SUM_LENGTH */
		break;
	case RS_BLAKE2_SIG_MAGIC:
	case RS_RK_BLAKE2_SIG_MAGIC:
		maxsl = 32;	/* RS_BLAKE2_SUM_LENGTH */
		break;
	default:
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "bad magic 0x%08" PRIx32, magic);
	}
	if (bl == 0 || bl > MAX_SIG_BLOCK_LEN)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "implausible block length %" PRIu32, bl);
	if (sl == 0 || sl > maxsl)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "implausible strong sum length %" PRIu32, sl);
	if ((siglen - SIGHDR) % (4 + sl) != 0)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "length %zu is not a whole number of blocks", siglen);
	/* librsync counts blocks in an int. */
	if ((siglen - SIGHDR) / (4 + sl) > INT32_MAX / 2)
		return arca_error(ctx, ARCA_ERR_CORRUPT, "rsync signature: "
		    "too many blocks");
	return 0;
}

int
arca_rsync_delta_new(struct arca_ctx *ctx, const void *sig, size_t siglen,
    struct arca_rsync_delta **out)
{
	struct arca_rsync_delta *d = NULL;
	struct arca_buf none = { 0 };
	struct out o = { &none, NULL };
	rs_result rr;
	int r;

	*out = NULL;
	if ((r = sig_check(ctx, sig, siglen)) != 0)
		goto out;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = job_init(&d->j, ctx, "signature")) != 0)
		goto out;
	if ((d->stage = malloc(STAGE)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}

	/* Load the whole signature; loading produces no output. */
	trace_reset();
	if ((d->j.rs = rs_loadsig_begin(&d->sig)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "rsync: cannot start job");
		goto out;
	}
	none.max = 1;
	if ((r = job_run(&d->j, sig, siglen, 1, &o)) != 0)
		goto out;
	if (!d->j.done) {
		r = arca_error(ctx, ARCA_ERR_CORRUPT,
		    "rsync signature: incomplete");
		goto out;
	}
	rs_job_free(d->j.rs);
	d->j.rs = NULL;
	trace_reset();
	if ((rr = rs_build_hash_table(d->sig)) != RS_DONE) {
		r = job_error(&d->j, rr);
		goto out;
	}

	d->j.op = "delta";
	d->j.done = 0;
	if ((d->j.rs = rs_delta_begin(d->sig)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "rsync: cannot start job");
		goto out;
	}
	*out = d;
	d = NULL;
	r = 0;
out:
	arca_buf_free(&none);
	arca_rsync_delta_free(d);
	return r;
}

int
arca_rsync_delta_update(struct arca_rsync_delta *d, const void *p, size_t n,
    struct arca_buf *out)
{
	struct out o = { out, NULL };
	const unsigned char *c = p;
	size_t k;
	int r;

	while (n > 0) {
		if (d->staged == 0 && n >= STAGE) {
			/* Whole pieces go straight from the caller's memory. */
			if ((r = job_run(&d->j, c, STAGE, 0, &o)) != 0)
				return r;
			c += STAGE;
			n -= STAGE;
			continue;
		}
		k = STAGE - d->staged < n ? STAGE - d->staged : n;
		memcpy(d->stage + d->staged, c, k);
		d->staged += k;
		c += k;
		n -= k;
		if (d->staged == STAGE) {
			d->staged = 0;
			if ((r = job_run(&d->j, d->stage, STAGE, 0, &o)) != 0)
				return r;
		}
	}
	return 0;
}

int
arca_rsync_delta_finish(struct arca_rsync_delta *d, struct arca_buf *out)
{
	struct out o = { out, NULL };
	size_t k = d->staged;

	d->staged = 0;
	return job_run(&d->j, d->stage, k, 1, &o);
}

void
arca_rsync_delta_free(struct arca_rsync_delta *d)
{
	if (d == NULL)
		return;
	/* The job refers to the signature: free it first. */
	job_done(&d->j);
	if (d->sig != NULL)
		rs_free_sumset(d->sig);
	free(d->stage);
	free(d);
}

/* ---- patches ------------------------------------------------------- */

struct arca_rsync_patch {
	struct job j;
	int basis_fd;
};

/*
 * librsync asks for basis bytes [pos, pos + *len) into *buf.  A delta is
 * untrusted: if it copies from past the end of the basis, pread() returns 0,
 * and answering "0 bytes, done" would make librsync ask again forever, so
 * that is refused here.
 */
static rs_result
patch_copy(void *arg, rs_long_t pos, size_t *len, void **buf)
{
	struct arca_rsync_patch *p = arg;
	ssize_t got;

	if (pos < 0 || (uintmax_t)pos > (uintmax_t)INT64_MAX - *len) {
		p->j.cb_err = arca_error(p->j.ctx, ARCA_ERR_CORRUPT,
		    "rsync patch: COPY at an impossible offset %jd",
		    (intmax_t)pos);
		return RS_CORRUPT;
	}
	do
		got = pread(p->basis_fd, *buf, *len, (off_t)pos);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		p->j.cb_err = arca_error(p->j.ctx, ARCA_ERR_IO,
		    "rsync patch: cannot read the basis file: %s",
		    strerror(errno));
		return RS_IO_ERROR;
	}
	if (got == 0 && *len > 0) {
		p->j.cb_err = arca_error(p->j.ctx, ARCA_ERR_CORRUPT,
		    "rsync patch: delta copies from offset %jd, beyond the "
		    "end of the basis file", (intmax_t)pos);
		return RS_CORRUPT;
	}
	*len = (size_t)got;
	return RS_DONE;
}

int
arca_rsync_patch_new(struct arca_ctx *ctx, int basis_fd,
    struct arca_rsync_patch **out)
{
	struct arca_rsync_patch *p = NULL;
	int r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	p->basis_fd = basis_fd;
	if ((r = job_init(&p->j, ctx, "patch")) != 0)
		goto out;
	trace_reset();
	if ((p->j.rs = rs_patch_begin(patch_copy, p)) == NULL) {
		r = arca_error(ctx, ARCA_ERR_NOMEM, "rsync: cannot start job");
		goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	arca_rsync_patch_free(p);
	return r;
}

int
arca_rsync_patch_update(struct arca_rsync_patch *p, const void *delta,
    size_t n, struct arca_buf *out)
{
	struct out o = { out, NULL };

	return job_run(&p->j, delta, n, 0, &o);
}

int
arca_rsync_patch_finish(struct arca_rsync_patch *p, struct arca_buf *out)
{
	struct out o = { out, NULL };

	return job_run(&p->j, NULL, 0, 1, &o);
}

int
arca_rsync_patch_update_sink(struct arca_rsync_patch *p, const void *delta,
    size_t n, struct arca_sink *out)
{
	struct out o = { NULL, out };

	return job_run(&p->j, delta, n, 0, &o);
}

int
arca_rsync_patch_finish_sink(struct arca_rsync_patch *p,
    struct arca_sink *out)
{
	struct out o = { NULL, out };

	return job_run(&p->j, NULL, 0, 1, &o);
}

void
arca_rsync_patch_free(struct arca_rsync_patch *p)
{
	if (p == NULL)
		return;
	job_done(&p->j);
	free(p);
}
