/*
 * volwriter.c: volumes are built as plain tar in a temp file, then put in
 * their container, hashed and uploaded; only then is the volume's block
 * appended to the partial manifest, so the manifest never names a volume
 * the target does not hold.
 *
 * A resumed backup (resume.c) replays the whole member stream: members up
 * to the end of the last kept volume are dropped here, exactly as
 * duplicity's restart_position_iterator drops them, and volume numbers
 * continue after the kept ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/tar.h"
#include "backend/backend.h"
#include "crypto/digest.h"
#include "engine/engine.h"
#include "engine/volwriter.h"
#include "format/manifest.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/path.h"
#include "util/stream.h"

/* Room kept for one more member: a 64 KiB chunk plus headers. */
#define MEMBER_RESERVE (65536 + 8192)

struct arca_volwriter {
	struct arca_engine *e;
	struct arca_fname tmpl;
	int manifest_fd;
	unsigned volnum;	/* volumes finished */
	unsigned base;		/* volumes kept from an interrupted run */
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
	*out = w;
	return 0;
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

/* Close the tar, encode, hash, upload, then record the manifest block. */
static int
vol_publish(struct arca_volwriter *w)
{
	struct arca_engine *e = w->e;
	struct arca_manifest_vol mv = { 0 };
	struct arca_buf text = { 0 };
	struct arca_fname fn = w->tmpl;
	char name[4096], *outpath = NULL;
	int outfd = -1, r;
	struct stat st;

	if ((r = arca_tar_writer_close(w->tar, 1)) != 0)
		goto out;
	fn.vol = w->volnum + 1;
	fn.partial = 0;
	arca_engine_fname_flags(e, ARCA_PAYLOAD_VOLUME, &fn);
	if ((r = arca_fname_make(&fn, &e->pfx, name, sizeof(name))) != 0)
		goto out;
	if ((r = arca_engine_tmpfile(e, "volume.out", &outpath, &outfd)) != 0)
		goto out;
	if ((r = arca_engine_encode(e, ARCA_PAYLOAD_VOLUME, w->tarfd, outfd,
	    name)) != 0)
		goto out;
	if (fsync(outfd) != 0 && errno != EINVAL) {
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    outpath, strerror(errno));
		goto out;
	}
	mv.num = fn.vol;
	mv.start_path = w->nmembers ? (char *)w->first.data : (char *)"";
	mv.start_block = w->first_block;
	mv.end_path = w->nmembers ? (char *)w->last.data : (char *)"";
	mv.end_block = w->last_block;
	strcpy(mv.hash_name, "SHA1");
	if ((r = arca_digest_fd(ARCA_DIGEST_SHA1, outfd, mv.hash_hex)) != 0) {
		r = arca_error(e->ctx, r, "cannot hash %s", outpath);
		goto out;
	}
	if (!e->o->dry_run) {
		arca_killpoint("vol-put");
		if ((r = arca_backend_put(e->be, outpath, name)) != 0)
			goto out;
		arca_killpoint("vol-uploaded");
		if (fstat(outfd, &st) == 0)
			w->sent += (uint64_t)st.st_size;
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
	arca_info(e->ctx, "Volume %u written: %s", fn.vol, name);
	w->volnum++;
out:
	if (outfd >= 0)
		close(outfd);
	if (outpath != NULL) {
		unlink(outpath);
		free(outpath);
	}
	arca_buf_free(&text);
	vol_discard(w);
	return r;
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
	w->volnum = w->base = start_vol;
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
	if (!w->open && w->volnum == w->base && (r = vol_open(w)) != 0)
		return r;
	if (w->open)
		return vol_publish(w);
	return 0;
}

unsigned
arca_volwriter_count(const struct arca_volwriter *w)
{
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
	vol_discard(w);
	arca_buf_free(&w->skip_index);
	arca_buf_free(&w->first);
	arca_buf_free(&w->last);
	free(w);
}
