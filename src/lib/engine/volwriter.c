/*
 * volwriter.c: volumes are built as plain tar in a temp file, then put in
 * their container, hashed and uploaded; only then is the volume's block
 * appended to the partial manifest, so the manifest never names a volume
 * the target does not hold.
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

/* A built volume on its way out: owned by whoever sends it. */
struct vol_job {
	unsigned vol;		/* its number */
	char name[4096];	/* its remote name */
	/* SHA-1 of the container, hex */
	char hash_hex[sizeof(((struct arca_manifest_vol *)0)->hash_hex)];
	char *tarpath;		/* the plain tar */
	int tarfd;
	char *outpath;		/* its container, written by the sender */
	int outfd;
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
	unsigned made;		/* volumes built and handed on */
	unsigned base;		/* volumes kept from an interrupted run */
	/* the sender threads; all below under mu */
	unsigned nsenders;	/* wanted; 0: send from the main thread */
	unsigned nth;		/* started */
	pthread_t th[MAX_SENDERS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vol_job queue[MAX_SENDERS];	/* built, not yet taken */
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
	int open;
	char *tarpath;
	int tarfd;
	struct arca_sink *sink;
	struct arca_tar_writer *tar;
	unsigned nmembers;
	struct arca_buf first;
	long first_block;
	struct arca_buf last;
	long last_block;
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
	w->tarfd = -1;
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
job_clear(struct vol_job *j)
{
	if (j->tarfd >= 0)
		close(j->tarfd);
	if (j->outfd >= 0)
		close(j->outfd);
	j->tarfd = j->outfd = -1;
	if (j->tarpath != NULL)
		unlink(j->tarpath);
	if (j->outpath != NULL)
		unlink(j->outpath);
	free(j->tarpath);
	free(j->outpath);
	j->tarpath = j->outpath = NULL;
	arca_buf_free(&j->first);
	arca_buf_free(&j->last);
}

static void
vol_discard(struct arca_volwriter *w)
{
	arca_tar_writer_free(w->tar);
	w->tar = NULL;
	arca_sink_free(w->sink);
	w->sink = NULL;
	if (w->tarfd >= 0)
		close(w->tarfd);
	w->tarfd = -1;
	if (w->tarpath != NULL) {
		unlink(w->tarpath);
		free(w->tarpath);
		w->tarpath = NULL;
	}
	w->open = 0;
}

static int
vol_open(struct arca_volwriter *w)
{
	int r;

	if ((r = arca_engine_tmpfile(w->e, "volume.tar", &w->tarpath,
	    &w->tarfd)) != 0)
		return r;
	if ((w->sink = arca_sink_fd(w->e->ctx, w->tarfd, w->tarpath)) == NULL)
		return ARCA_ERR_NOMEM;
	if ((r = arca_tar_writer_new(w->e->ctx, w->sink, &w->tar)) != 0)
		return r;
	w->open = 1;
	w->nmembers = 0;
	arca_buf_reset(&w->first);
	arca_buf_reset(&w->last);
	w->first_block = w->last_block = -1;
	return 0;
}

/*
 * Encode and hash volume j.  On a sender thread when pipelined, several at
 * once: it touches only j and the OpenPGP engine (or gzip).
 */
static int
job_encode(struct arca_volwriter *w, struct vol_job *j)
{
	struct arca_engine *e = w->e;
	struct arca_fname fn = w->tmpl;
	int r;

	fn.vol = j->vol;
	fn.partial = 0;
	arca_engine_fname_flags(e, ARCA_PAYLOAD_VOLUME, &fn);
	if ((r = arca_fname_make(&fn, &e->pfx, j->name, sizeof(j->name))) != 0)
		return r;
	if ((r = arca_engine_encode(e, ARCA_PAYLOAD_VOLUME, j->tarfd, j->outfd,
	    j->name)) != 0)
		return r;
	/* The plain tar is not needed any more: free its disk early. */
	close(j->tarfd);
	j->tarfd = -1;
	unlink(j->tarpath);
	/*
	 * Not fsynced: it is a temp file, read back from the page cache for
	 * its hash and its upload, and deleted after; what must last is the
	 * target's copy, which the backend makes durable.  Syncing it cost
	 * 0.2 s of waiting per 150 MB volume, on the busier of the threads.
	 */
	if ((r = arca_digest_fd(ARCA_DIGEST_SHA1, j->outfd, j->hash_hex)) != 0)
		return arca_error(e->ctx, r, "cannot hash %s", j->outpath);
	return 0;
}

/*
 * Upload encoded volume j, then record its manifest block.  Volumes come
 * here one at a time, in order: it touches the backend and the manifest.
 */
static int
job_publish(struct arca_volwriter *w, struct vol_job *j)
{
	struct arca_engine *e = w->e;
	struct arca_manifest_vol mv = { 0 };
	struct arca_buf text = { 0 };
	struct stat st;
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
		if ((r = arca_backend_put(e->be, j->outpath, j->name)) != 0)
			goto out;
		arca_killpoint("vol-uploaded");
		if (fstat(j->outfd, &st) == 0) {
			w->sent += (uint64_t)st.st_size;
			arca_progress_volume(e->ctx, (uint64_t)st.st_size);
		}
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
 * A sender: take the oldest queued volume, encode it (beside the other
 * senders), wait for its turn, upload and record it.
 */
static void *
sender_main(void *arg)
{
	struct arca_volwriter *w = arg;
	struct vol_job j;
	int r;

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
			r = job_encode(w, &j);
		pthread_mutex_lock(&w->mu);
		while (r == 0 && w->werr == 0 && w->next_pub != j.vol)
			pthread_cond_wait(&w->cv, &w->mu);
		if (r == 0 && w->werr == 0) {
			pthread_mutex_unlock(&w->mu);
			r = job_publish(w, &j);
			pthread_mutex_lock(&w->mu);
			if (r == 0) {
				w->volnum++;
				w->next_pub++;
			}
		} else if (r == 0) {
			r = w->werr;
		}
		if (r != 0 && w->werr == 0)
			__atomic_store_n(&w->werr, r, __ATOMIC_RELEASE);
		w->inflight--;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		job_clear(&j);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * Start the senders.  The OpenPGP engines are created lazily by the engine;
 * create them here, on this thread, so the senders only use them.  GnuPG
 * (a GPGME context) serves one thread at a time: then one sender.
 */
static int
sender_start(struct arca_volwriter *w)
{
	struct arca_engine *e = w->e;
	struct arca_gpg *g;
	struct arca_pgp *p = NULL;
	unsigned i;
	int r;

	if (e->o->encrypt && ((r = arca_engine_pgp(e, &p)) != 0 ||
	    (p == NULL && (r = arca_engine_gpg(e, &g)) != 0)))
		return r;
	if (e->o->encrypt && p == NULL)
		w->nsenders = 1;
	w->next_pub = w->made + 1;
	for (i = 0; i < w->nsenders; i++) {
		if (pthread_create(&w->th[i], NULL, sender_main, w) != 0)
			break;
		w->nth++;
	}
	if (w->nth == 0) {
		/* No thread: send from this one, as before. */
		arca_debug(e->ctx, "no sender thread: volumes sent serially");
		w->nsenders = 0;
	}
	return 0;
}

/*
 * Close the tar of the volume in progress and send it: queued for the
 * senders once one is free, or here when not pipelined.
 */
static int
vol_publish(struct arca_volwriter *w)
{
	struct vol_job j;
	int r;

	memset(&j, 0, sizeof(j));
	j.tarfd = j.outfd = -1;
	if ((r = arca_tar_writer_close(w->tar, 1)) != 0)
		goto out;
	if ((r = arca_engine_tmpfile(w->e, "volume.out", &j.outpath,
	    &j.outfd)) != 0)
		goto out;
	j.vol = w->made + 1;
	j.tarpath = w->tarpath;
	j.tarfd = w->tarfd;
	w->tarpath = NULL;
	w->tarfd = -1;
	j.nmembers = w->nmembers;
	j.first = w->first;
	j.first_block = w->first_block;
	j.last = w->last;
	j.last_block = w->last_block;
	memset(&w->first, 0, sizeof(w->first));
	memset(&w->last, 0, sizeof(w->last));
	if (w->nsenders > 0 && w->nth == 0 && (r = sender_start(w)) != 0)
		goto out;
	if (w->nth == 0) {
		w->made++;
		if ((r = job_encode(w, &j)) == 0 &&
		    (r = job_publish(w, &j)) == 0)
			w->volnum++;
		goto out;
	}
	pthread_mutex_lock(&w->mu);
	while (w->inflight >= w->nth && w->werr == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if ((r = w->werr) == 0) {
		w->queue[(w->qhead + w->qlen) % MAX_SENDERS] = j;
		w->qlen++;
		w->inflight++;
		w->made++;
		memset(&j, 0, sizeof(j));
		j.tarfd = j.outfd = -1;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
out:
	job_clear(&j);
	vol_discard(w);
	return r;
}

int
arca_volwriter_stop(struct arca_volwriter *w)
{
	unsigned i;

	if (w == NULL)
		return 0;
	if (w->nth > 0) {
		pthread_mutex_lock(&w->mu);
		w->quit = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < w->nth; i++)
			pthread_join(w->th[i], NULL);
		w->nth = 0;
		w->nsenders = 0;	/* stopped for good */
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
	int r;

	if (w->skipping && resume_skip(w, index, block))
		return 0;
	/* The sender failed: stop now, its message is on the context. */
	if ((r = __atomic_load_n(&w->werr, __ATOMIC_ACQUIRE)) != 0)
		return r;
	arca_killpoint("vol-add");
	if (w->open && w->nmembers > 0 &&
	    arca_tar_writer_bytes(w->tar) + n + MEMBER_RESERVE > w->e->o->volsize &&
	    (r = vol_publish(w)) != 0)
		return r;
	if (!w->open && (r = vol_open(w)) != 0)
		return r;
	if ((r = arca_tar_write_header(w->tar, name, m)) != 0)
		return r;
	if (n > 0 && (r = arca_tar_write_data(w->tar, data, n)) != 0)
		return r;
	if (w->nmembers++ == 0) {
		if ((r = arca_buf_puts(&w->first, index)) != 0)
			return r;
		w->first_block = block;
	}
	arca_buf_reset(&w->last);
	if ((r = arca_buf_puts(&w->last, index)) != 0)
		return r;
	w->last_block = block;
	return 0;
}

int
arca_volwriter_finish(struct arca_volwriter *w)
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
	if (!w->open && w->made == w->base && (r = vol_open(w)) != 0)
		return r;
	if (w->open && (r = vol_publish(w)) != 0) {
		arca_volwriter_stop(w);
		return r;
	}
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
	arca_buf_free(&w->first);
	arca_buf_free(&w->last);
	free(w);
}
