/*
 * resume.c: continuing an interrupted backup, and tidying the archive dir
 * after a run that died (see resume.h for the files involved).
 *
 * The resume rules are duplicity's (§15.2) so either tool can continue
 * the other's partial set where it is safe: the last volume found on the
 * target is always made again (its upload may not have finished on a
 * backend that cannot publish atomically), the source is walked again
 * from the start and members are skipped up to the end of the last kept
 * volume, and the set keeps its times.  What differs: nothing uploaded is
 * ever downloaded or decrypted - the passphrase is proved with a small
 * blob kept in the archive dir, so a machine that only has a public key
 * resumes too - and whenever resuming is not safe the partial set is
 * deleted and the run starts cleanly instead of stopping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "compress/deflate.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/resume.h"
#include "engine/retention.h"
#include "format/filename.h"
#include "format/manifest.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/stream.h"

#define STATE_MAX	65536
#define CHECK_HEAD	"arca resume check\n"

/* Rebuild the collection without repeating its warnings. */
static int
refresh_quiet(struct arca_engine *e)
{
	unsigned long w = e->ctx->warnings;
	int v = e->ctx->verbosity, r;

	e->ctx->verbosity = ARCA_LOG_ERROR;
	r = arca_engine_refresh(e);
	e->ctx->verbosity = v;
	e->ctx->warnings = w;
	return r;
}

static int
exists_local(struct arca_engine *e, const char *name)
{
	struct stat st;

	return fstatat(e->archdir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
io_error(struct arca_engine *e, const char *what, const char *name)
{
	return arca_error(e->ctx, ARCA_ERR_IO, "cannot %s %s/%s: %s", what,
	    e->archdir, name, strerror(errno));
}

/*
 * Write the archive-dir file name atomically: data (len bytes), or with
 * src_fd >= 0 that file's contents, gzipped when gz.
 */
static int
write_local(struct arca_engine *e, const char *name, const void *data,
    size_t len, int src_fd, int gz)
{
	struct arca_buf tmp = { 0 };
	int fd = -1, r = 0;

	if (arca_buf_printf(&tmp, ".%s.arca-tmp", name) != 0)
		return arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
	fd = openat(e->archdir_fd, (char *)tmp.data, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = io_error(e, "create", (char *)tmp.data);
		goto out;
	}
	if (src_fd >= 0) {
		if (lseek(src_fd, 0, SEEK_SET) < 0)
			r = io_error(e, "read", name);
		else if (gz)
			r = arca_deflate_gzip_file(e->ctx, src_fd, fd, 1);
		else
			r = arca_copy_fd(e->ctx, src_fd, fd, name);
	} else if ((r = arca_write_all(fd, data, len)) != 0)
		r = io_error(e, "write", (char *)tmp.data);
	if (r == 0 && fsync(fd) != 0)
		r = io_error(e, "write", (char *)tmp.data);
	if (r == 0 && renameat(e->archdir_fd, (char *)tmp.data, e->archdir_fd,
	    name) != 0)
		r = io_error(e, "rename", (char *)tmp.data);
out:
	if (fd >= 0) {
		close(fd);
		if (r != 0)
			unlinkat(e->archdir_fd, (char *)tmp.data, 0);
	}
	arca_buf_free(&tmp);
	return r;
}

/* The set of the collection with f's kind (full or inc) and times. */
static const struct arca_set *
set_of(const struct arca_collection *c, const struct arca_fname *f)
{
	int full = f->kind == ARCA_FK_FULL_VOL ||
	    f->kind == ARCA_FK_FULL_MANIFEST || f->kind == ARCA_FK_FULL_SIG;
	size_t i;

	for (i = 0; i < c->nsets; i++)
		if (c->sets[i]->is_full == full && c->sets[i]->start == f->start &&
		    c->sets[i]->end == f->end)
			return c->sets[i];
	return NULL;
}

/* ----- resume state ----- */

static int
read_local(struct arca_engine *e, const char *name, size_t max,
    struct arca_buf *out)
{
	int fd, r;

	if ((fd = openat(e->archdir_fd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? ARCA_ERR_NOTFOUND :
		    io_error(e, "open", name);
	r = arca_read_fd_all(e->ctx, fd, max, out, name);
	close(fd);
	return r;
}

/* The value of "key value" line key in state text, or NULL. */
static char *
state_get(const char *text, const char *key)
{
	size_t kn = strlen(key);
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if ((size_t)(nl - p) > kn && strncmp(p, key, kn) == 0 &&
		    p[kn] == ' ')
			return arca_strndup(p + kn + 1, (size_t)(nl - p) - kn - 1);
		p = *nl ? nl + 1 : nl;
	}
	return NULL;
}

static const char *
enc_mode(const struct arca_options *o)
{
	if (!o->encrypt)
		return "none";
	return o->encrypt_keys != NULL || o->hidden_keys != NULL ?
	    "public-key" : "symmetric";
}

/* The settings a resumed set must keep, one per line, as state text. */
static int
fmt_settings(const struct arca_options *o, struct arca_buf *b)
{
	const char *const *k;
	int r;

	if ((r = arca_buf_printf(b, "encryption %s\n", enc_mode(o))) != 0)
		return r;
	for (k = o->encrypt_keys; k != NULL && *k != NULL && r == 0; k++)
		if (strchr(*k, '\n') == NULL)
			r = arca_buf_printf(b, "recipient %s\n", *k);
	for (k = o->hidden_keys; k != NULL && *k != NULL && r == 0; k++)
		if (strchr(*k, '\n') == NULL)
			r = arca_buf_printf(b, "hidden-recipient %s\n", *k);
	if (r == 0 && o->sign_key != NULL && strchr(o->sign_key, '\n') == NULL)
		r = arca_buf_printf(b, "sign-key %s\n", o->sign_key);
	return r;
}

int
arca_resume_save_state(struct arca_engine *e, const char *manpart)
{
	struct arca_buf b = { 0 }, plain = { 0 };
	char *inpath = NULL, *outpath = NULL;
	int infd = -1, outfd = -1, r;

	if (strchr(manpart, '\n') != NULL)
		return arca_error(e->ctx, ARCA_ERR_USAGE, "bad manifest name");
	/* No stale blob may pass for this set's. */
	if (unlinkat(e->archdir_fd, ARCA_RESUME_CHECK, 0) != 0 && errno != ENOENT)
		return io_error(e, "delete", ARCA_RESUME_CHECK);
	if (strcmp(enc_mode(e->o), "symmetric") == 0) {
		if ((r = arca_engine_tmpfile(e, "check", &inpath, &infd)) != 0 ||
		    (r = arca_engine_tmpfile(e, "check.gpg", &outpath,
		    &outfd)) != 0)
			goto out;
		if (arca_buf_printf(&plain, CHECK_HEAD "%s\n", manpart) != 0) {
			r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = arca_write_all(infd, plain.data, plain.len)) != 0 ||
		    lseek(infd, 0, SEEK_SET) < 0) {
			r = arca_error(e->ctx, ARCA_ERR_IO, "cannot write %s",
			    inpath);
			goto out;
		}
		if ((r = arca_engine_encrypt_fd(e, infd, outfd,
		    ARCA_RESUME_CHECK)) != 0)
			goto out;
		if ((r = write_local(e, ARCA_RESUME_CHECK, NULL, 0, outfd,
		    0)) != 0)
			goto out;
	}
	if (arca_buf_printf(&b, "arca-resume 1\nmanifest %s\n", manpart) != 0 ||
	    fmt_settings(e->o, &b) != 0) {
		r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = write_local(e, ARCA_RESUME_STATE, b.data, b.len, -1, 0);
	arca_killpoint("state-saved");
out:
	if (infd >= 0)
		close(infd);
	if (outfd >= 0)
		close(outfd);
	if (inpath != NULL) {
		unlink(inpath);
		free(inpath);
	}
	if (outpath != NULL) {
		unlink(outpath);
		free(outpath);
	}
	arca_buf_wipe(&plain);
	arca_buf_free(&b);
	return r;
}

void
arca_resume_drop_state(struct arca_engine *e)
{
	/* The state first: without it the blob means nothing. */
	unlinkat(e->archdir_fd, ARCA_RESUME_STATE, 0);
	unlinkat(e->archdir_fd, ARCA_RESUME_CHECK, 0);
}

int
arca_resume_plan_state(struct arca_engine *e, struct arca_retention_plan *plan)
{
	int r = 0;

	if (exists_local(e, ARCA_RESUME_STATE))
		r = arca_retention_plan_add(e->ctx, plan, 1, ARCA_RESUME_STATE);
	if (r == 0 && exists_local(e, ARCA_RESUME_CHECK))
		r = arca_retention_plan_add(e->ctx, plan, 1, ARCA_RESUME_CHECK);
	return r;
}

/* ----- settling after a crash ----- */

/* The set's manifest is on the target: keep the .part as the cached copy. */
static int
settle_manifest(struct arca_engine *e, const struct arca_set *s, int *changed)
{
	char key[4096];

	if (arca_fname_key(s->local_partial, key, sizeof(key)) != 0)
		return 0;
	arca_notice(e->ctx, "Completing local %s: the set's manifest is on the "
	    "backend.", s->local_partial);
	if (renameat(e->archdir_fd, s->local_partial, e->archdir_fd, key) != 0)
		return io_error(e, "rename", s->local_partial);
	*changed = 1;
	return 0;
}

static int
settle_sig(struct arca_engine *e, const char *name, const struct arca_fname *f,
    int *changed)
{
	const struct arca_set *s = set_of(e->col, f);
	struct arca_buf final = { 0 };
	char key[4096];
	int fd = -1, r = 0;

	if (s != NULL && arca_set_is_partial(s))
		return 0;	/* an interrupted backup's: resume needs it */
	*changed = 1;
	if (s == NULL || s->manifest == NULL) {
		/* It belongs to nothing and would join a signature chain. */
		arca_notice(e->ctx, "Deleting local %s (left by an interrupted "
		    "backup).", name);
		if (unlinkat(e->archdir_fd, name, 0) != 0 && errno != ENOENT)
			return io_error(e, "delete", name);
		return 0;
	}
	/* The set is complete, so its signature file was closed and sent. */
	if (arca_fname_key(name, key, sizeof(key)) != 0 ||
	    arca_buf_printf(&final, "%s.gz", key) != 0)
		return arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
	if (!exists_local(e, (char *)final.data)) {
		arca_notice(e->ctx, "Completing local %s.", (char *)final.data);
		if ((fd = openat(e->archdir_fd, name, O_RDONLY | O_CLOEXEC)) < 0)
			r = io_error(e, "open", name);
		else
			r = write_local(e, (char *)final.data, NULL, 0, fd, 1);
	}
	if (r == 0 && unlinkat(e->archdir_fd, name, 0) != 0 && errno != ENOENT)
		r = io_error(e, "delete", name);
	if (fd >= 0)
		close(fd);
	arca_buf_free(&final);
	return r;
}

int
arca_resume_settle(struct arca_engine *e)
{
	struct arca_buf st = { 0 };
	struct arca_fname f;
	char *man = NULL;
	size_t i;
	int r = 0, changed = 0;

	for (i = 0; i < e->col->nsets && r == 0; i++) {
		const struct arca_set *s = e->col->sets[i];

		if (s->manifest != NULL && s->local_partial != NULL)
			r = settle_manifest(e, s, &changed);
	}
	for (i = 0; i < e->local.n && r == 0; i++) {
		if (arca_fname_parse(e->local.v[i], &e->pfx, &f) != 1 ||
		    !f.partial || (f.kind != ARCA_FK_FULL_SIG &&
		    f.kind != ARCA_FK_NEW_SIG))
			continue;
		r = settle_sig(e, e->local.v[i], &f, &changed);
	}
	if (r != 0)
		goto out;
	/* State that names no partial manifest is stale. */
	r = read_local(e, ARCA_RESUME_STATE, STATE_MAX, &st);
	if (r == ARCA_ERR_NOTFOUND) {
		r = 0;
		if (exists_local(e, ARCA_RESUME_CHECK))
			arca_resume_drop_state(e);
		goto out;
	}
	if (r != 0)
		goto out;
	man = state_get(st.data ? (char *)st.data : "", "manifest");
	if (man == NULL || strchr(man, '/') != NULL || !exists_local(e, man)) {
		arca_resume_drop_state(e);
		changed = 1;
	}
out:
	if (r == 0 && changed)
		r = refresh_quiet(e);
	free(man);
	arca_buf_free(&st);
	return r;
}

/* ----- resuming ----- */

void
arca_resume_clear(struct arca_resume *r)
{
	arca_manifest_free(r->mf);
	memset(r, 0, sizeof(*r));
}

/*
 * The interrupted set at the end of the newest chain, with its chain.
 * duplicity looks at the last set of the chain with the newest full; the
 * set the collection dropped for lack of a signature file counts too.
 */
static const struct arca_set *
find_partial(const struct arca_collection *c, const struct arca_chain **chain,
    size_t *base_nsets)
{
	const struct arca_set *p = arca_retention_trailing_partial(c);
	size_t i;

	*chain = NULL;
	*base_nsets = 0;
	if (p != NULL) {
		for (i = 0; i < c->nchains; i++)
			if (c->chains[i].sets[c->chains[i].nsets - 1] == p) {
				*chain = &c->chains[i];
				*base_nsets = c->chains[i].nsets - 1;
			}
		return p;
	}
	if (c->primary != NULL && c->dropped_last && c->nincomplete > 0 &&
	    arca_set_is_partial(c->incomplete[c->nincomplete - 1])) {
		*chain = c->primary;
		*base_nsets = c->primary->nsets;
		return c->incomplete[c->nincomplete - 1];
	}
	return NULL;
}

/* Signatures of chain's first base_nsets sets, reaching time t (local first). */
static const struct arca_sigchain *
find_basesig(const struct arca_collection *c, const struct arca_chain *ch,
    int64_t t)
{
	size_t i, j, k;

	for (k = 0; k < 2; k++)
		for (i = c->nsigchains; i-- > 0;) {
			const struct arca_sigchain *sc = &c->sigchains[i];

			if (sc->local != (k == 0) || sc->start != ch->sets[0]->end)
				continue;
			if (sc->start == t)
				return sc;
			for (j = 0; j < sc->nnews; j++)
				if (sc->news_end[j] == t)
					return sc;
		}
	return NULL;
}

/* Decrypt the check blob with this run's passphrase: 0 when it matches. */
static int
check_passphrase(struct arca_engine *e, const char *manpart, const char **why)
{
	struct arca_buf plain = { 0 }, want = { 0 };
	char *path = NULL;
	int in = -1, out = -1, r;

	*why = "the passphrase could not be checked";
	if ((in = openat(e->archdir_fd, ARCA_RESUME_CHECK, O_RDONLY |
	    O_CLOEXEC)) < 0) {
		*why = "no record proves that the passphrase is the same";
		return 1;
	}
	if ((r = arca_engine_tmpfile(e, "check", &path, &out)) != 0)
		goto out;
	r = arca_engine_decrypt_fd(e, in, out, ARCA_RESUME_CHECK);
	if (r == ARCA_ERR_NOMEM || r == ARCA_ERR_IO)
		goto out;
	if (r != 0) {
		/* Wrong passphrase (or a damaged blob): nothing proves it. */
		*why = r == ARCA_ERR_AUTH ? "it was encrypted with a different "
		    "passphrase" : "its passphrase check failed";
		r = 1;
		goto out;
	}
	if ((r = arca_read_fd_all(e->ctx, out, 4096, &plain,
	    ARCA_RESUME_CHECK)) != 0)
		goto out;
	if (arca_buf_printf(&want, CHECK_HEAD "%s\n", manpart) != 0) {
		r = ARCA_ERR_NOMEM;
		goto out;
	}
	r = plain.len == want.len && memcmp(plain.data, want.data,
	    want.len) == 0 ? 0 : 1;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (path != NULL) {
		unlink(path);
		free(path);
	}
	arca_buf_wipe(&plain);
	arca_buf_wipe(&want);
	return r;
}

/*
 * Whether the recorded settings are this run's; *why says what differs.
 * Returns 0 (same), 1 (differ) or a negative arca_err.
 */
static int
check_settings(struct arca_engine *e, const struct arca_set *p,
    const char **why)
{
	struct arca_buf st = { 0 }, now = { 0 };
	struct arca_fname f;
	const char *text, *rest;
	char *man = NULL;
	int r;

	/* The names on the target say how the set is stored (duplicity's
	 * check, exit 45 there). */
	if (arca_fname_parse(p->vols[0], &e->pfx, &f) != 1 ||
	    f.encrypted != (e->o->encrypt != 0) ||
	    (!f.encrypted && f.compressed != (e->o->compress != 0))) {
		*why = "it was stored with other encryption or compression "
		    "settings";
		return 1;
	}
	r = read_local(e, ARCA_RESUME_STATE, STATE_MAX, &st);
	if (r != 0 && r != ARCA_ERR_NOTFOUND)
		return r;
	text = st.data ? (char *)st.data : "";
	man = r == 0 ? state_get(text, "manifest") : NULL;
	if (man == NULL || strcmp(man, p->local_partial) != 0) {
		/* Not ours (duplicity's, or its state is lost). */
		r = 0;
		if (strcmp(enc_mode(e->o), "symmetric") == 0) {
			*why = "no record proves that the passphrase is the same";
			r = 1;
		}
		goto out;
	}
	if (fmt_settings(e->o, &now) != 0) {
		r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The settings follow the first two lines ("arca-resume", "manifest"). */
	if ((rest = strchr(text, '\n')) != NULL)
		rest = strchr(rest + 1, '\n');
	if (rest == NULL || strcmp(rest + 1, (char *)now.data) != 0) {
		*why = "it was encrypted with other keys or settings";
		r = 1;
		goto out;
	}
	r = strcmp(enc_mode(e->o), "symmetric") == 0 ?
	    check_passphrase(e, p->local_partial, why) : 0;
out:
	free(man);
	arca_buf_free(&st);
	arca_buf_free(&now);
	return r;
}

/* Delete the interrupted set so the run starts cleanly. */
static int
discard(struct arca_engine *e, const struct arca_set *p, const char *why)
{
	struct arca_retention_plan plan = { 0 };
	int r;

	arca_notice(e->ctx, "The interrupted backup %s cannot be resumed (%s); "
	    "deleting it and starting the backup from the beginning.",
	    p->local_partial, why);
	if ((r = arca_retention_plan_set(e->ctx, p, &e->local, &e->pfx,
	    &plan)) == 0 && (r = arca_resume_plan_state(e, &plan)) == 0)
		r = arca_retention_execute(e, &plan);
	arca_retention_plan_free(&plan);
	if (r == 0)
		r = refresh_quiet(e);
	return r;
}

int
arca_resume_prepare(struct arca_engine *e, const char *host,
    const char *localdir, struct arca_resume *out)
{
	const struct arca_chain *ch;
	const struct arca_set *p;
	struct arca_buf text = { 0 };
	struct arca_manifest *mf = NULL;
	const char *why = NULL;
	size_t base_nsets, i;
	unsigned n;
	int fd, r = 0;

	memset(out, 0, sizeof(*out));
	if ((p = find_partial(e->col, &ch, &base_nsets)) == NULL)
		return 0;
	n = arca_set_count_vols(p);
	if (n < 2) {
		why = n == 0 ? "no volume reached the backend" :
		    "only its first volume reached the backend";
		goto discard;
	}
	if (n != p->nvols) {
		why = "volumes are missing on the backend";
		goto discard;
	}
	if (!p->is_full) {
		if (ch == NULL || base_nsets == 0 ||
		    ch->sets[base_nsets - 1]->end != p->start) {
			why = "the backup it extends is gone";
			goto discard;
		}
		if ((out->basesig = find_basesig(e->col, ch, p->start)) == NULL) {
			why = "the signatures of the backup it extends are gone";
			goto discard;
		}
	}
	if ((fd = arca_engine_open_cached(e, p->local_partial)) < 0)
		return fd;
	r = arca_read_fd_all(e->ctx, fd, ARCA_MANIFEST_MAX, &text,
	    p->local_partial);
	close(fd);
	if (r != 0)
		goto out;
	if (arca_manifest_parse(e->ctx, text.data ? (char *)text.data : "",
	    text.len, 0, &mf) != 0) {
		why = "its partial manifest is damaged";
		goto discard;
	}
	if (mf->hostname == NULL || mf->localdir == NULL ||
	    strcmp(mf->hostname, host) != 0 ||
	    strcmp(mf->localdir, localdir) != 0) {
		why = "it was made on another host or from another source";
		goto discard;
	}
	if (mf->nvols < n - 1) {
		why = "its partial manifest lists fewer volumes than the "
		    "backend holds";
		goto discard;
	}
	if ((r = check_settings(e, p, &why)) < 0)
		goto out;
	if (r > 0)
		goto discard;
	/* The last volume on the target is made again (§15.2). */
	if (mf->nvols > n - 1)
		arca_notice(e->ctx, "RESTART: Volumes %u to %zu failed to upload "
		    "before termination.\n         Restarting backup at volume "
		    "%u.", n, mf->nvols, n);
	for (i = n - 1; i < mf->nvols; i++) {
		free(mf->vols[i].start_path);
		free(mf->vols[i].end_path);
	}
	mf->nvols = n - 1;
	out->set = p;
	out->chain = p->is_full ? NULL : ch;
	out->base_nsets = p->is_full ? 0 : base_nsets;
	out->start_vol = n - 1;
	out->mf = mf;
	out->last_index = mf->vols[n - 2].end_path;
	out->last_block = mf->vols[n - 2].end_block;
	mf = NULL;
	arca_notice(e->ctx, "Last %s backup left a partial set, restarting.",
	    p->is_full ? "full" : "inc");
	r = 1;
	goto out;
discard:
	r = discard(e, p, why);
	memset(out, 0, sizeof(*out));
out:
	arca_manifest_free(mf);
	arca_buf_free(&text);
	return r;
}
