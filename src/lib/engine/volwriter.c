/*
 * volwriter.c: volumes are built as plain tar in a temp file, then put in
 * their container, hashed and uploaded; only then is the volume's block
 * appended to the partial manifest, so the manifest never names a volume
 * the target does not hold.
 *
 * On a target that takes a file straight (file://, the backend's create
 * and commit ops) the container is written there under a temp name,
 * hashed as it is written, and published by a rename: each volume is
 * written twice (tar, container) instead of four times (tar, container,
 * read back for its hash, copied to the target).  Elsewhere, and for
 * containers only GnuPG can make, it goes to a local temp file that is
 * hashed and uploaded.
 *
 * Pipelined (the default, o->concurrency != 1): the main thread tars and
 * signs the next volume while sender threads compress, encrypt and hash
 * the volumes before it, two at a time by default (one per core: the
 * built-in OpenPGP engine serves several threads; GnuPG gets one), then
 * upload and record them strictly in volume order, one at a time.  At most
 * one volume per sender is in flight besides the one being built, each a
 * temp file, so memory stays flat and a slow backend slows the walk
 * instead of filling the disk.  While they run, only the senders touch
 * the backend, the OpenPGP engines and the manifest fd.  Publication
 * stays as in the serial case: volume, then its manifest block, the
 * manifest last of all.  A sender's error is kept and returned by the next
 * add/finish, which stops the run; volumes after the failed one are not
 * uploaded.
 *
 * A resumed backup (resume.c) replays the whole member stream: members up
 * to the end of the last kept volume are dropped here, exactly as
 * duplicity's restart_position_iterator drops them, and volume numbers
 * continue after the kept ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/tar.h"
#include "backend/backend.h"
#include "crypto/digest.h"
#include "engine/engine.h"
#include "engine/progress.h"
#include "engine/volwriter.h"
#include "format/manifest.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/path.h"
#include "util/stream.h"

/* Room kept for one more member: a 64 KiB chunk plus headers. */
#define MEMBER_RESERVE (65536 + 8192)

/* Sender threads at most (--concurrency N gives N - 1). */
#define MAX_SENDERS 8

/* The plain tar is read in pieces this big. */
#define READ_CHUNK (256 * 1024)

/* The builder tells a following sender about new tar bytes this often. */
#define FOLLOW_STEP (1024 * 1024)

/* job_read: the builder dropped the volume (not an arca_err; stays here). */
#define DROPPED (-1000)

/* Where a volume's tar is (under mu when pipelined). */
enum vol_state { V_BUILDING, V_BUILT, V_DROPPED };

/* A volume on its way out: owned by the sender once queued. */
struct vol_job {
	unsigned vol;		/* its number */
	char name[4096];	/* its remote name */
	/* SHA-1 of the container, hex */
	char hash_hex[sizeof(((struct arca_manifest_vol *)0)->hash_hex)];
	char *tarpath;		/* the plain tar */
	int tarfd;
	struct arca_sink *up;	/* its container, straight into the target */
	char *outpath;		/* ...or in a local temp file, then put */
	int outfd;
	uint64_t size;		/* of the container */
	/* set by the builder: under mu once queued */
	enum vol_state state;
	uint64_t avail;		/* tar bytes written so far */
	int waiting;		/* the sender waits for more */
	/* set by the builder before V_BUILT */
	unsigned nmembers;
	struct arca_buf first;
	long first_block;
	struct arca_buf last;
	long last_block;
};

struct arca_volwriter {
	struct arca_engine *e;
	struct arca_fname tmpl;
	int manifest_fd;
	unsigned volnum;	/* volumes finished (worker-written: under mu) */
	unsigned made;		/* volumes started */
	unsigned base;		/* volumes kept from an interrupted run */
	int engines;		/* engines made, modes decided */
	int gnupg;		/* GnuPG makes the containers (fd to fd) */
	int direct;		/* containers go straight to the target */
	int follow;		/* senders encode a volume as it is built */
	/* the sender threads; all below under mu */
	unsigned nsenders;	/* wanted; 0: send from the main thread */
	unsigned nth;		/* started */
	pthread_t th[MAX_SENDERS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vol_job *queue[MAX_SENDERS];	/* queued, not yet taken */
	unsigned qhead, qlen;
	unsigned inflight;	/* queued or being sent */
	unsigned next_pub;	/* the volume whose turn it is to upload */
	int quit;
	int werr;		/* first sender error (atomic reads) */
	int skipping;		/* resuming: dropping members already sent */
	struct arca_buf skip_index;	/* ...up to and including this one */
	long skip_block;
	uint64_t sent;		/* bytes uploaded */
	/* the volume in progress */
	struct vol_job *cur;	/* NULL: none */
	int queued;		/* cur is a sender's already (follow) */
	uint64_t told;		/* cur->avail as last published */
	struct arca_sink *sink;
	struct arca_tar_writer *tar;
};

int
arca_volwriter_new(struct arca_engine *e, const struct arca_fname *tmpl,
    int manifest_fd, struct arca_volwriter **out)
{
	struct arca_volwriter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ARCA_ERR_NOMEM;
	w->e = e;
	w->tmpl = *tmpl;
	w->manifest_fd = manifest_fd;
	if (e->o->concurrency == 1)
		w->nsenders = 0;
	else if (e->o->concurrency == 0)
		w->nsenders = 2;
	else
		w->nsenders = e->o->concurrency - 1 > MAX_SENDERS ?
		    MAX_SENDERS : (unsigned)e->o->concurrency - 1;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return ARCA_ERR_NOMEM;
	}
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return ARCA_ERR_NOMEM;
	}
	*out = w;
	return 0;
}

static void
job_free(struct vol_job *j)
{
	if (j == NULL)
		return;
	if (j->tarfd >= 0)
		close(j->tarfd);
	if (j->tarpath != NULL)
		unlink(j->tarpath);
	free(j->tarpath);
	arca_sink_free(j->up);	/* drops it unless committed */
	if (j->outfd >= 0)
		close(j->outfd);
	if (j->outpath != NULL)
		unlink(j->outpath);
	free(j->outpath);
	arca_buf_free(&j->first);
	arca_buf_free(&j->last);
	free(j);
}

/*
 * The volume in progress is dropped, unpublished.  A sender following it
 * is told, and frees it; otherwise it is freed here.
 */
static void
vol_discard(struct arca_volwriter *w)
{
	arca_tar_writer_free(w->tar);
	w->tar = NULL;
	arca_sink_free(w->sink);
	w->sink = NULL;
	if (w->cur != NULL && w->queued) {
		pthread_mutex_lock(&w->mu);
		w->cur->state = V_DROPPED;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	} else {
		job_free(w->cur);
	}
	w->cur = NULL;
	w->queued = 0;
}

/* A sink passing bytes on to next while hashing them. */
struct hash_sink {
	struct arca_sink base;
	struct arca_digest *d;
};

static int
hash_write(struct arca_sink *s, const void *p, size_t n)
{
	arca_digest_update(((struct hash_sink *)s)->d, p, n);
	return arca_sink_write(s->next, p, n);
}

static int
hash_close(struct arca_sink *s)
{
	(void)s;
	return 0;
}

static void
hash_free(struct arca_sink *s)
{
	(void)s;
}

/*
 * Read the next piece of j's tar from offset off: what is there, waiting
 * for the builder while it writes on (follow).  0 at the end of a built
 * volume; DROPPED when the builder dropped it.
 */
static ssize_t
job_read(struct arca_volwriter *w, struct vol_job *j, void *buf, size_t n,
    uint64_t off)
{
	enum vol_state state = V_BUILT;
	uint64_t avail = UINT64_MAX;
	ssize_t got;

	if (w->follow) {
		pthread_mutex_lock(&w->mu);
		while (j->state == V_BUILDING && j->avail <= off) {
			j->waiting = 1;
			pthread_cond_wait(&w->cv, &w->mu);
		}
		j->waiting = 0;
		state = j->state;
		avail = j->avail;
		pthread_mutex_unlock(&w->mu);
	}
	if (state == V_DROPPED)
		return DROPPED;
	if (off >= avail)
		return 0;
	if (n > avail - off)
		n = (size_t)(avail - off);
	do
		got = pread(j->tarfd, buf, n, (off_t)off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return arca_error(w->e->ctx, ARCA_ERR_IO, "cannot read %s: %s",
		    j->tarpath, strerror(errno));
	return got;
}

/*
 * Encode volume j into its container through the sink chain, hashing the
 * container as it is written: straight into the target under a temp name
 * where the backend can (direct), else into a local temp file.
 */
static int
job_encode_sink(struct arca_volwriter *w, struct vol_job *j)
{
	struct arca_engine *e = w->e;
	struct hash_sink hs = { { hash_write, hash_close, hash_free, NULL, 0 },
	    NULL };
	struct arca_sink *enc = NULL, *to;
	unsigned char *buf;
	uint64_t off = 0;
	ssize_t n;
	int r;

	/*
	 * Nothing is created before the first piece of tar is there: a run
	 * that fails early (say, on a bad cached signature) leaves the
	 * target untouched.
	 */
	if ((buf = malloc(READ_CHUNK)) == NULL)
		return arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((n = job_read(w, j, buf, READ_CHUNK, 0)) < 0) {
		free(buf);
		return (int)n;
	}
	if (w->direct) {
		if ((r = arca_backend_create(e->be, j->name, &j->up)) < 0)
			goto out;
		hs.base.next = j->up;
	}
	if (hs.base.next == NULL) {
		if ((r = arca_engine_tmpfile(e, "volume.out", &j->outpath,
		    &j->outfd)) != 0)
			goto out;
		if ((j->up = arca_sink_fd(e->ctx, j->outfd, j->outpath)) ==
		    NULL) {
			r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		hs.base.next = j->up;
	}
	if ((hs.d = arca_digest_new(ARCA_DIGEST_SHA1)) == NULL) {
		r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = arca_engine_encoder(e, ARCA_PAYLOAD_VOLUME, &hs.base, j->name,
	    &enc)) != 0)
		goto out;
	to = enc != NULL ? enc : &hs.base;
	while (n > 0) {
		if ((r = arca_sink_write(to, buf, (size_t)n)) != 0)
			goto out;
		off += (uint64_t)n;
		n = job_read(w, j, buf, READ_CHUNK, off);
	}
	if ((r = (int)n) != 0)
		goto out;
	/* Closing the target's file makes it durable (fsync). */
	if ((enc == NULL || (r = arca_sink_close(enc)) == 0) &&
	    (r = arca_sink_close(j->up)) == 0) {
		j->size = hs.base.bytes;
		arca_digest_hex(hs.d, j->hash_hex);
	}
out:
	arca_sink_free(enc);
	arca_digest_free(hs.d);
	free(buf);
	if (j->outpath != NULL) {
		/* A local container: put by path, not through the sink. */
		arca_sink_free(j->up);
		j->up = NULL;
	}
	return r;
}

/*
 * Encode and hash volume j.  On a sender thread when pipelined, several at
 * once: it touches only j, the OpenPGP engine (or gzip) and its own temp
 * files.
 */
static int
job_encode(struct arca_volwriter *w, struct vol_job *j)
{
	struct arca_engine *e = w->e;
	struct stat st;
	int r;

	if (!w->gnupg) {
		r = job_encode_sink(w, j);
		goto done;
	}
	/* GnuPG reads and writes fds, and only a whole tar. */
	if ((r = arca_engine_tmpfile(e, "volume.out", &j->outpath,
	    &j->outfd)) != 0 ||
	    (r = arca_engine_encode(e, ARCA_PAYLOAD_VOLUME, j->tarfd, j->outfd,
	    j->name)) != 0)
		return r;
	/*
	 * Not fsynced: it is a temp file, read back from the page cache for
	 * its hash and its upload, and deleted after; what must last is the
	 * target's copy, which the backend makes durable.
	 */
	if ((r = arca_digest_fd(ARCA_DIGEST_SHA1, j->outfd, j->hash_hex)) != 0)
		return arca_error(e->ctx, r, "cannot hash %s", j->outpath);
	if (fstat(j->outfd, &st) == 0)
		j->size = (uint64_t)st.st_size;
done:
	/* The plain tar is not needed any more: free its disk early. */
	if (r == 0) {
		close(j->tarfd);
		j->tarfd = -1;
		unlink(j->tarpath);
		free(j->tarpath);
		j->tarpath = NULL;
	}
	return r;
}

/*
 * Upload encoded volume j (or publish it where it was written), then
 * record its manifest block.  Volumes come here one at a time, in order:
 * it touches the backend and the manifest.
 */
static int
job_publish(struct arca_volwriter *w, struct vol_job *j)
{
	struct arca_engine *e = w->e;
	struct arca_manifest_vol mv = { 0 };
	struct arca_buf text = { 0 };
	int r = 0;

	mv.num = j->vol;
	mv.start_path = j->nmembers ? (char *)j->first.data : (char *)"";
	mv.start_block = j->first_block;
	mv.end_path = j->nmembers ? (char *)j->last.data : (char *)"";
	mv.end_block = j->last_block;
	strcpy(mv.hash_name, "SHA1");
	memcpy(mv.hash_hex, j->hash_hex, sizeof(mv.hash_hex));
	if (!e->o->dry_run) {
		arca_killpoint("vol-put");
		if (j->up != NULL)
			r = arca_backend_commit(e->be, j->up);
		else
			r = arca_backend_put(e->be, j->outpath, j->name);
		if (r != 0)
			goto out;
		arca_killpoint("vol-uploaded");
		w->sent += j->size;
		arca_progress_volume(e->ctx, j->size);
		if ((r = arca_manifest_fmt_volume(&text, &mv)) != 0)
			goto out;
		if ((r = arca_write_all(w->manifest_fd, text.data, text.len)) != 0 ||
		    fsync(w->manifest_fd) != 0) {
			r = arca_error(e->ctx, ARCA_ERR_IO,
			    "cannot write the partial manifest: %s",
			    strerror(r ? -r : errno));
			goto out;
		}
		arca_killpoint("vol-done");
	}
	arca_info(e->ctx, "Volume %u written: %s", j->vol, j->name);
out:
	arca_buf_free(&text);
	return r;
}

/*
 * A sender: take the oldest queued volume, encode it (following the
 * builder, beside the other senders), wait for its turn, publish and
 * record it.
 */
static void *
sender_main(void *arg)
{
	struct arca_volwriter *w = arg;
	struct vol_job *j;
	int r, dropped;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->qlen == 0 && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->qlen == 0)
			break;
		j = w->queue[w->qhead];
		w->qhead = (w->qhead + 1) % MAX_SENDERS;
		w->qlen--;
		r = w->werr;
		pthread_mutex_unlock(&w->mu);
		/* After a failure nothing more is sent: the manifest must
		 * list volumes 1..n without a gap. */
		if (r == 0)
			r = job_encode(w, j);
		pthread_mutex_lock(&w->mu);
		/* Tell the builder at once: it stops at its next member. */
		if (r != 0 && r != DROPPED && w->werr == 0) {
			__atomic_store_n(&w->werr, r, __ATOMIC_RELEASE);
			pthread_cond_broadcast(&w->cv);
		}
		/* A volume given up early (skipped, or its encoding failed)
		 * may still be the builder's to write: it is freed only once
		 * the builder has let go of it (built or dropped). */
		while (j->state == V_BUILDING)
			pthread_cond_wait(&w->cv, &w->mu);
		/* Dropped by the builder, which stops with its own error:
		 * nothing to publish, nothing to report. */
		dropped = j->state == V_DROPPED;
		if (r == DROPPED)
			r = 0;
		while (!dropped && r == 0 && w->werr == 0 &&
		    w->next_pub != j->vol)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!dropped && r == 0 && w->werr == 0) {
			pthread_mutex_unlock(&w->mu);
			r = job_publish(w, j);
			pthread_mutex_lock(&w->mu);
			if (r == 0) {
				w->volnum++;
				w->next_pub++;
			}
		} else if (!dropped && r == 0) {
			r = w->werr;
		}
		if (r != 0 && w->werr == 0)
			__atomic_store_n(&w->werr, r, __ATOMIC_RELEASE);
		w->inflight--;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		job_free(j);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * The OpenPGP engines are created lazily by the engine; create them here,
 * on the main thread, so the senders only use them.  GnuPG (a GPGME
 * context) serves one thread at a time, reads only whole files and writes
 * only fds: it gets one sender, no following, no direct writing.
 */
static int
modes_decide(struct arca_volwriter *w)
{
	struct arca_engine *e = w->e;
	struct arca_gpg *g;
	struct arca_pgp *p = NULL;
	int r;

	if (e->o->encrypt && ((r = arca_engine_pgp(e, &p)) != 0 ||
	    (p == NULL && (r = arca_engine_gpg(e, &g)) != 0)))
		return r;
	w->gnupg = e->o->encrypt && p == NULL;
	w->direct = !e->o->dry_run && !w->gnupg;
	w->engines = 1;
	return 0;
}

/* Start the senders (GnuPG: one); none started is serial mode. */
static void
sender_start(struct arca_volwriter *w)
{
	unsigned i;

	if (w->gnupg)
		w->nsenders = 1;
	w->next_pub = w->made + 1;
	w->follow = !w->gnupg;
	for (i = 0; i < w->nsenders; i++) {
		if (pthread_create(&w->th[i], NULL, sender_main, w) != 0)
			break;
		w->nth++;
	}
	if (w->nth == 0) {
		/* No thread: send from this one. */
		arca_debug(w->e->ctx, "no sender thread: volumes sent serially");
		w->nsenders = 0;
		w->follow = 0;
	}
}

/*
 * Hand volume j to the senders once one is free.  0, or the senders'
 * error (j is then still the caller's).
 */
static int
job_queue(struct arca_volwriter *w, struct vol_job *j)
{
	int r;

	pthread_mutex_lock(&w->mu);
	while (w->inflight >= w->nth && w->werr == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if ((r = w->werr) == 0) {
		w->queue[(w->qhead + w->qlen) % MAX_SENDERS] = j;
		w->qlen++;
		w->inflight++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Tell a sender following cur how much of its tar is written. */
static void
vol_tell(struct arca_volwriter *w, enum vol_state state)
{
	pthread_mutex_lock(&w->mu);
	w->cur->avail = w->told = w->sink->bytes;
	w->cur->state = state;
	if (w->cur->waiting || state != V_BUILDING)
		pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Start a volume: its tar goes to a temp file.  When senders follow, the
 * volume is queued now and encoded as it is written.
 */
static int
vol_open(struct arca_volwriter *w)
{
	struct arca_fname fn = w->tmpl;
	struct vol_job *j;
	int r;

	if (!w->engines) {
		if ((r = modes_decide(w)) != 0)
			return r;
		if (w->nsenders > 0)
			sender_start(w);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return arca_error(w->e->ctx, ARCA_ERR_NOMEM, "out of memory");
	j->tarfd = j->outfd = -1;
	j->first_block = j->last_block = -1;
	j->vol = w->made + 1;
	w->cur = j;
	fn.vol = j->vol;
	fn.partial = 0;
	arca_engine_fname_flags(w->e, ARCA_PAYLOAD_VOLUME, &fn);
	if ((r = arca_fname_make(&fn, &w->e->pfx, j->name,
	    sizeof(j->name))) != 0 ||
	    (r = arca_engine_tmpfile(w->e, "volume.tar", &j->tarpath,
	    &j->tarfd)) != 0)
		goto fail;
	if ((w->sink = arca_sink_fd(w->e->ctx, j->tarfd, j->tarpath)) == NULL) {
		r = arca_error(w->e->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = arca_tar_writer_new(w->e->ctx, w->sink, &w->tar)) != 0)
		goto fail;
	w->told = 0;
	if (w->follow) {
		if ((r = job_queue(w, j)) != 0)
			goto fail;
		w->queued = 1;
	}
	w->made++;
	return 0;
fail:
	vol_discard(w);
	return r;
}

/*
 * The volume in progress is whole: close its tar and send it.  Following
 * senders are told; otherwise it is queued for a sender, or (serial)
 * encoded and published here.
 */
static int
vol_publish(struct arca_volwriter *w)
{
	struct vol_job *j = w->cur;
	int r;

	if ((r = arca_tar_writer_close(w->tar, 1)) != 0) {
		vol_discard(w);
		return r;
	}
	arca_tar_writer_free(w->tar);
	w->tar = NULL;
	if (w->queued) {
		pthread_mutex_lock(&w->mu);
		j->avail = w->told = w->sink->bytes;
		j->state = V_BUILT;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		w->cur = NULL;	/* the sender's now */
		w->queued = 0;
		vol_discard(w);
		return 0;
	}
	j->state = V_BUILT;
	arca_sink_free(w->sink);
	w->sink = NULL;
	if (w->nth > 0) {
		if ((r = job_queue(w, j)) != 0) {
			vol_discard(w);
			return r;
		}
		w->cur = NULL;
		return 0;
	}
	if ((r = job_encode(w, j)) == 0 && (r = job_publish(w, j)) == 0)
		w->volnum++;
	vol_discard(w);
	return r;
}

int
arca_volwriter_stop(struct arca_volwriter *w)
{
	unsigned i;

	if (w == NULL)
		return 0;
	/* A volume still open is dropped (and its sender told so). */
	vol_discard(w);
	if (w->nth > 0) {
		pthread_mutex_lock(&w->mu);
		w->quit = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < w->nth; i++)
			pthread_join(w->th[i], NULL);
		w->nth = 0;
		w->nsenders = 0;	/* stopped for good */
		w->follow = 0;
	}
	return w->werr;
}

int
arca_volwriter_resume(struct arca_volwriter *w, unsigned start_vol,
    const char *last_index, long last_block)
{
	arca_buf_reset(&w->skip_index);
	if (arca_buf_puts(&w->skip_index, last_index) != 0)
		return ARCA_ERR_NOMEM;
	w->skip_block = last_block;
	w->skipping = 1;
	w->volnum = w->made = w->base = start_vol;
	return 0;
}

/*
 * While resuming: 1 if the member (index, block) was already sent and is
 * dropped, 0 once writing goes on.  Blocks count the chunks of a split
 * file from 1; -1 is a whole member or a file's last chunk.
 */
static int
resume_skip(struct arca_volwriter *w, const char *index, long block)
{
	const char *last = (const char *)w->skip_index.data;
	int c = arca_path_cmp(index, last);

	if (c < 0)
		return 1;
	if (c == 0) {
		/* The kept volume ended inside this file at chunk skip_block,
		 * or (-1) with its last member: drop through that one. */
		if (w->skip_block < 0 ? block < 0 : block >= w->skip_block)
			w->skipping = 0;
		return 1;
	}
	/* The member it ended with is gone (the source changed). */
	arca_warn(w->e->ctx, "File %s complete in backup set.\nContinuing "
	    "restart on file %s.", last[0] ? last : ".", index[0] ? index : ".");
	w->skipping = 0;
	return 0;
}

int
arca_volwriter_add(struct arca_volwriter *w, const char *name,
    const struct arca_meta *m, const void *data, size_t n, const char *index,
    long block)
{
	struct vol_job *j;
	int r;

	if (w->skipping && resume_skip(w, index, block))
		return 0;
	/* The sender failed: stop now, its message is on the context. */
	if ((r = __atomic_load_n(&w->werr, __ATOMIC_ACQUIRE)) != 0)
		return r;
	arca_killpoint("vol-add");
	if (w->cur != NULL && w->cur->nmembers > 0 &&
	    arca_tar_writer_bytes(w->tar) + n + MEMBER_RESERVE > w->e->o->volsize &&
	    (r = vol_publish(w)) != 0)
		return r;
	if (w->cur == NULL && (r = vol_open(w)) != 0)
		return r;
	j = w->cur;
	if ((r = arca_tar_write_header(w->tar, name, m)) != 0)
		return r;
	if (n > 0 && (r = arca_tar_write_data(w->tar, data, n)) != 0)
		return r;
	if (j->nmembers++ == 0) {
		if ((r = arca_buf_puts(&j->first, index)) != 0)
			return r;
		j->first_block = block;
	}
	arca_buf_reset(&j->last);
	if ((r = arca_buf_puts(&j->last, index)) != 0)
		return r;
	j->last_block = block;
	if (w->queued && w->sink->bytes - w->told >= FOLLOW_STEP)
		vol_tell(w, V_BUILDING);
	return 0;
}

int
arca_volwriter_flush(struct arca_volwriter *w)
{
	int r;

	if (w->skipping) {
		const char *last = (const char *)w->skip_index.data;

		arca_warn(w->e->ctx, "File %s missing in backup set.\n"
		    "Continuing restart on file %s.", last[0] ? last : ".",
		    last[0] ? last : ".");
		w->skipping = 0;
	}
	/*
	 * A set always has at least one volume, even an empty one; a resumed
	 * one always makes its first volume again, which replaces the last
	 * one the interrupted run sent.
	 */
	if (w->cur == NULL && w->made == w->base && (r = vol_open(w)) != 0)
		return r;
	if (w->cur != NULL && (r = vol_publish(w)) != 0) {
		arca_volwriter_stop(w);
		return r;
	}
	return __atomic_load_n(&w->werr, __ATOMIC_ACQUIRE);
}

int
arca_volwriter_finish(struct arca_volwriter *w)
{
	int r;

	if ((r = arca_volwriter_flush(w)) != 0)
		return r;
	return arca_volwriter_stop(w);
}

unsigned
arca_volwriter_count(struct arca_volwriter *w)
{
	arca_volwriter_stop(w);
	return w->volnum;
}

uint64_t
arca_volwriter_bytes(const struct arca_volwriter *w)
{
	return w->sent;
}

void
arca_volwriter_free(struct arca_volwriter *w)
{
	if (w == NULL)
		return;
	arca_volwriter_stop(w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	vol_discard(w);
	arca_buf_free(&w->skip_index);
	free(w);
}
