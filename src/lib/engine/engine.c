/*
 * engine.c: opening a target and its archive dir, locking, temp files,
 * containers, and keeping the archive dir in step with the target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "compress/deflate.h"
#include "compress/gzip.h"
#include "crypto/digest.h"
#include "crypto/gpg.h"
#include "crypto/openpgp.h"
#include "engine/collection.h"
#include "engine/engine.h"
#include "engine/sweep.h"
#include "select/selection.h"
#include "util/timefmt.h"
#include "util/ctx.h"
#include "util/killpoint.h"
#include "util/path.h"
#include "util/stream.h"

/* A payload is encoded in pieces this big. */
#define ENCODE_CHUNK (256 * 1024)

static int
archdir_path(struct arca_ctx *ctx, const struct arca_options *o, char **out)
{
	struct arca_buf b = { 0 };
	const char *x, *home;
	char md5[41];

	if (o->archive_dir != NULL)
		arca_buf_puts(&b, o->archive_dir);
	else if ((x = getenv("XDG_CACHE_HOME")) != NULL && *x != '\0')
		arca_buf_printf(&b, "%s/duplicity", x);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		arca_buf_printf(&b, "%s/.cache/duplicity", home);
	else
		return arca_error(ctx, ARCA_ERR_USAGE,
		    "no archive dir: set --archive-dir, XDG_CACHE_HOME or HOME");
	if (o->name != NULL) {
		if (*o->name == '\0' || strchr(o->name, '/') != NULL) {
			arca_buf_free(&b);
			return arca_error(ctx, ARCA_ERR_USAGE,
			    "bad --name '%s': it must be a non-empty name without '/'",
			    o->name);
		}
		arca_buf_printf(&b, "/%s", o->name);
	} else {
		/* duplicity's default: MD5 of the URL text exactly as typed. */
		arca_digest_buffer(ARCA_DIGEST_MD5, o->url, strlen(o->url), md5);
		arca_buf_printf(&b, "/%s", md5);
	}
	if ((*out = arca_buf_steal(&b)) == NULL)
		return ARCA_ERR_NOMEM;
	return 0;
}

/*
 * The lock is a POSIX record lock on <archive dir>/lockfile, as
 * duplicity's (fasteners' lockf), so the two exclude each other.  A lock
 * dies with its process, so a file left by a killed run is simply taken
 * over.  The file is unlinked at exit, which opens a race: a process that
 * opened the old file just before the unlink gets a lock on a file nobody
 * else will see.  So after locking, the file must still be the one under
 * the name; otherwise try again.
 */
static int
take_lock(struct arca_engine *e)
{
	struct flock fl = { 0 };
	struct stat a, b;
	char pid[32];
	int fd, tries, n;

	for (tries = 0; ; tries++) {
		fd = openat(e->archdir_fd, "lockfile", O_RDWR | O_CREAT |
		    O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return arca_error(e->ctx, ARCA_ERR_IO,
			    "cannot open lock file %s/lockfile: %s", e->archdir,
			    strerror(errno));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) != 0)
			break;
		if (fstat(fd, &a) == 0 && fstatat(e->archdir_fd, "lockfile", &b,
		    AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			/* For people: who holds it (the lock itself says too). */
			n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) == 0 && n > 0)
				(void)arca_write_all(fd, pid, (size_t)n);
			e->lock_fd = fd;
			arca_killpoint("locked");
			return 0;
		}
		close(fd);
		if (tries >= 100)
			return arca_error(e->ctx, ARCA_ERR_LOCKED, "the lock file "
			    "%s/lockfile keeps changing: another run is starting "
			    "or ending", e->archdir);
	}
	{
		struct flock q = fl;
		int holder = 0;

		if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
			holder = (int)q.l_pid;
		close(fd);
		if (holder > 0)
			return arca_error(e->ctx, ARCA_ERR_LOCKED,
			    "another arca or duplicity (process %d) is already "
			    "running with the archive dir %s", holder, e->archdir);
		return arca_error(e->ctx, ARCA_ERR_LOCKED,
		    "another arca or duplicity is already running with the "
		    "archive dir %s", e->archdir);
	}
}

static int
list_local(struct arca_engine *e)
{
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	arca_strlist_free(&e->local);
	if ((fd = dup(e->archdir_fd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return arca_error(e->ctx, ARCA_ERR_IO, "cannot list %s: %s",
		    e->archdir, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "lockfile") == 0)
			continue;
		if ((r = arca_strlist_add(&e->local, de->d_name)) != 0)
			break;
	}
	closedir(d);
	arca_strlist_sort(&e->local);
	return r;
}

int
arca_engine_refresh(struct arca_engine *e)
{
	int r;

	arca_collection_free(e->col);
	e->col = NULL;
	arca_strlist_free(&e->remote);
	if ((r = arca_backend_list(e->be, &e->remote)) != 0)
		return r;
	arca_strlist_sort(&e->remote);
	if ((r = list_local(e)) != 0)
		return r;
	if (e->complete_only) {
		struct arca_strlist done = { 0 };
		struct arca_fname f;
		size_t i;

		for (i = 0; i < e->local.n && r == 0; i++)
			if (arca_fname_parse(e->local.v[i], &e->pfx, &f) != 1 ||
			    !f.partial)
				r = arca_strlist_add(&done, e->local.v[i]);
		if (r == 0)
			r = arca_collection_build(e->ctx, &e->remote, &done,
			    &e->pfx, &e->col);
		arca_strlist_free(&done);
		return r;
	}
	return arca_collection_build(e->ctx, &e->remote, &e->local, &e->pfx,
	    &e->col);
}

int
arca_engine_open(struct arca_ctx *ctx, const struct arca_options *o, int flags,
    struct arca_engine **out)
{
	struct arca_engine *e;
	const char *tmp;
	struct arca_buf b = { 0 };
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ARCA_ERR_NOMEM;
	e->ctx = ctx;
	e->o = o;
	e->complete_only = (flags & ARCA_ENGINE_COMPLETE) != 0;
	e->archdir_fd = e->lock_fd = -1;
	e->pfx.base = o->file_prefix;
	e->pfx.archive = o->file_prefix_archive;
	e->pfx.manifest = o->file_prefix_manifest;
	e->pfx.signature = o->file_prefix_signature;

	if ((r = arca_backend_open(ctx, o->url, flags & ARCA_ENGINE_CREATE,
	    o->backend_options, &e->be)) != 0)
		goto fail;
	arca_backend_set_retries(e->be, o->num_retries, o->retry_delay);
	if ((r = archdir_path(ctx, o, &e->archdir)) != 0)
		goto fail;
	if ((r = arca_mkdir_p(ctx, e->archdir, 0700)) != 0)
		goto fail;
	e->archdir_fd = open(e->archdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->archdir_fd < 0) {
		r = arca_error(ctx, ARCA_ERR_IO, "cannot open archive dir %s: %s",
		    e->archdir, strerror(errno));
		goto fail;
	}
	if (!(flags & ARCA_ENGINE_NOLOCK) && (r = take_lock(e)) != 0)
		goto fail;

	tmp = o->tempdir;
	if (tmp == NULL && ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0'))
		tmp = "/tmp";
	/* The pid in the name tells a later run whether its owner died. */
	arca_sweep_tempdirs(ctx, tmp);
	arca_buf_printf(&b, "%s/" ARCA_TEMPDIR_PREFIX "%ld-XXXXXX", tmp,
	    (long)getpid());
	if (b.data == NULL || mkdtemp((char *)b.data) == NULL) {
		r = arca_error(ctx, ARCA_ERR_IO,
		    "cannot create a temporary directory in %s: %s", tmp,
		    strerror(errno));
		arca_buf_free(&b);
		goto fail;
	}
	e->tempdir = arca_buf_steal(&b);

	if ((r = arca_engine_refresh(e)) != 0)
		goto fail;
	*out = e;
	return 0;
fail:
	arca_engine_close(e);
	return r;
}

static void
rm_tempdir(const char *path)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	rmdir(path);
}

void
arca_engine_close(struct arca_engine *e)
{
	if (e == NULL)
		return;
	arca_collection_free(e->col);
	arca_strlist_free(&e->remote);
	arca_strlist_free(&e->local);
	arca_gpg_free(e->gpg);
	arca_pgp_free(e->pgp);
	arca_backend_close(e->be);
	if (e->tempdir != NULL) {
		rm_tempdir(e->tempdir);
		free(e->tempdir);
	}
	if (e->lock_fd >= 0) {
		unlinkat(e->archdir_fd, "lockfile", 0);
		close(e->lock_fd);
	}
	if (e->archdir_fd >= 0)
		close(e->archdir_fd);
	free(e->archdir);
	free(e);
}

/*
 * GPGME cannot pass arbitrary options to gpg, so --gpg-options and
 * --gpg-binary become a two-line wrapper script in the run's private temp
 * dir that execs gpg with the user's words first (each single-quoted, so
 * the shell never interprets them).
 */
static int
gpg_wrapper(struct arca_engine *e, char **out)
{
	const char *bin = e->o->gpg_binary ? e->o->gpg_binary : "gpg";
	const char *p, *w;
	struct arca_buf b = { 0 }, path = { 0 };
	int fd, r = 0;

	*out = NULL;
	if (e->o->gpg_options == NULL && e->o->gpg_binary == NULL)
		return 0;
	arca_buf_puts(&b, "#!/bin/sh\nexec '");
	for (p = bin; *p != '\0'; p++)
		*p == '\'' ? arca_buf_puts(&b, "'\\''") : arca_buf_putc(&b, *p);
	arca_buf_putc(&b, '\'');
	for (p = e->o->gpg_options ? e->o->gpg_options : ""; *p != '\0'; ) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		arca_buf_puts(&b, " '");
		for (w = p; *p != '\0' && *p != ' ' && *p != '\t' && *p != '\n'; p++)
			*p == '\'' ? arca_buf_puts(&b, "'\\''") :
			    arca_buf_putc(&b, *p);
		(void)w;
		arca_buf_putc(&b, '\'');
	}
	arca_buf_puts(&b, " \"$@\"\n");
	if (b.data == NULL || arca_buf_printf(&path, "%s/gpg-wrapper",
	    e->tempdir) != 0) {
		arca_buf_free(&b);
		return ARCA_ERR_NOMEM;
	}
	fd = open((char *)path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0700);
	if (fd < 0 || arca_write_all(fd, b.data, b.len) != 0)
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot write %s",
		    (char *)path.data);
	if (fd >= 0)
		close(fd);
	arca_buf_free(&b);
	if (r != 0) {
		arca_buf_free(&path);
		return r;
	}
	*out = arca_buf_steal(&path);
	return 0;
}

int
arca_engine_gpg(struct arca_engine *e, struct arca_gpg **out)
{
	struct arca_gpg_opts go = { 0 };
	char *wrapper = NULL;
	int r;

	if (e->gpg == NULL) {
		/*
		 * No passphrase is no error yet: a secret key without one
		 * decrypts public-key backups.  gpg.c names what is missing
		 * when an operation needs it (never prompting).
		 */
		go.passphrase = e->o->passphrase;
		go.sign_passphrase = e->o->sign_passphrase;
		go.homedir = e->o->gpg_homedir;
		go.recipients = e->o->encrypt_keys;
		go.hidden_recipients = e->o->hidden_keys;
		go.sign_key = e->o->sign_key;
		go.use_agent = e->o->use_agent;
		if (e->o->encrypt_secret_keyring != NULL)
			arca_warn(e->ctx, "--encrypt-secret-keyring has no "
			    "effect: GnuPG 2.1 and later keep secret keys in "
			    "gpg-agent; choose them with GNUPGHOME");
		if ((r = gpg_wrapper(e, &wrapper)) != 0)
			return r;
		go.program = wrapper;
		r = arca_gpg_new(e->ctx, &go, &e->gpg);
		free(wrapper);
		if (r != 0)
			return r;
	}
	*out = e->gpg;
	return 0;
}

/* The option that makes GnuPG do the OpenPGP work, or NULL. */
static const char *
gnupg_needed(const struct arca_options *o)
{
	if (o->encrypt_keys != NULL)
		return "--encrypt-key";
	if (o->hidden_keys != NULL)
		return "--hidden-encrypt-key";
	if (o->sign_key != NULL)
		return "--sign-key";
	if (o->use_agent)
		return "--use-agent";
	if (o->gpg_options != NULL)
		return "--gpg-options";
	if (o->gpg_binary != NULL)
		return "--gpg-binary";
	return NULL;
}

int
arca_engine_pgp(struct arca_engine *e, struct arca_pgp **out)
{
	struct arca_pgp_opts po;
	const char *why;
	int r;

	*out = NULL;
	if (e->o->gpg_engine == ARCA_GPG_ENGINE_GNUPG)
		return 0;
	if ((why = gnupg_needed(e->o)) != NULL) {
		if (e->o->gpg_engine == ARCA_GPG_ENGINE_BUILTIN)
			return arca_error(e->ctx, ARCA_ERR_USAGE,
			    "--gpg-engine=builtin does passphrase encryption "
			    "only: %s needs --gpg-engine=gnupg", why);
		return 0;
	}
	if (e->pgp == NULL) {
		/*
		 * Without a passphrase only a secret key can decrypt: GnuPG's
		 * business, and it says what is missing.
		 */
		if (e->o->passphrase == NULL) {
			if (e->o->gpg_engine == ARCA_GPG_ENGINE_AUTO)
				return 0;
			return arca_error(e->ctx, ARCA_ERR_AUTH,
			    "no passphrase: set the PASSPHRASE environment "
			    "variable (or use --no-encryption for unencrypted "
			    "backups)");
		}
		arca_pgp_opts_init(&po);
		po.passphrase = e->o->passphrase;
		if (e->o->allow_no_mdc)
			po.flags |= ARCA_PGP_ALLOW_NO_MDC;
		if ((r = arca_pgp_new(e->ctx, &po, &e->pgp)) != 0)
			return r;
	}
	*out = e->pgp;
	return 0;
}

int
arca_engine_pubkey_only(struct arca_engine *e)
{
	struct arca_gpg *g;
	int r;

	if (!e->o->encrypt || (e->o->encrypt_keys == NULL &&
	    e->o->hidden_keys == NULL))
		return 0;
	if ((r = arca_engine_gpg(e, &g)) != 0)
		return r;
	if ((r = arca_gpg_have_secret(g)) < 0)
		return r;
	return !r;
}

int
arca_engine_tmpfile(struct arca_engine *e, const char *tag, char **path,
    int *fd)
{
	struct arca_buf b = { 0 };

	/* Atomic: senders make temp files beside the main thread. */
	if (arca_buf_printf(&b, "%s/%lu-%s", e->tempdir,
	    __atomic_add_fetch(&e->tmpseq, 1, __ATOMIC_RELAXED), tag) != 0)
		return ARCA_ERR_NOMEM;
	*fd = open((char *)b.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (*fd < 0) {
		int r = arca_error(e->ctx, ARCA_ERR_IO,
		    "cannot create temporary file %s: %s", (char *)b.data,
		    strerror(errno));

		arca_buf_free(&b);
		return r;
	}
	*path = arca_buf_steal(&b);
	return 0;
}

int
arca_copy_fd(struct arca_ctx *ctx, int in_fd, int out_fd, const char *what)
{
	unsigned char buf[65536];
	off_t off = 0;
	ssize_t n;
	int r;

	for (;;) {
		n = pread(in_fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    what, strerror(errno));
		if (n == 0)
			return 0;
		if ((r = arca_write_all(out_fd, buf, (size_t)n)) != 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot write %s: %s",
			    what, strerror(-r));
		off += n;
	}
}

int
arca_read_fd_all(struct arca_ctx *ctx, int fd, size_t max,
    struct arca_buf *buf, const char *what)
{
	unsigned char tmp[65536];
	off_t off = 0;
	ssize_t n;

	arca_buf_reset(buf);
	for (;;) {
		n = pread(fd, tmp, sizeof(tmp), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return arca_error(ctx, ARCA_ERR_IO, "cannot read %s: %s",
			    what, strerror(errno));
		if (n == 0)
			return 0;
		if (buf->len + (size_t)n > max)
			return arca_error(ctx, ARCA_ERR_CORRUPT,
			    "%s is larger than %zu bytes: refusing it", what, max);
		if (arca_buf_append(buf, tmp, (size_t)n) != 0)
			return ARCA_ERR_NOMEM;
		off += n;
	}
}

void
arca_engine_fname_flags(const struct arca_engine *e, enum arca_payload kind,
    struct arca_fname *f)
{
	f->encrypted = e->o->encrypt;
	f->compressed = !e->o->encrypt && e->o->compress &&
	    kind != ARCA_PAYLOAD_MANIFEST;
}

int
arca_engine_encrypt_fd(struct arca_engine *e, int in_fd, int out_fd,
    const char *what)
{
	struct arca_gpg *g;
	struct arca_pgp *p;
	int r;

	if ((r = arca_engine_pgp(e, &p)) != 0 ||
	    (p == NULL && (r = arca_engine_gpg(e, &g)) != 0))
		return r;
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return arca_error(e->ctx, ARCA_ERR_IO, "cannot rewind %s", what);
	if (p != NULL)
		return arca_pgp_encrypt_fd(p, in_fd, out_fd, what);
	return arca_gpg_encrypt_fd(g, in_fd, out_fd, what);
}

int
arca_engine_decrypt_fd(struct arca_engine *e, int in_fd, int out_fd,
    const char *what)
{
	struct arca_gpg *g;
	struct arca_pgp *p;
	int r;

	if ((r = arca_engine_pgp(e, &p)) != 0)
		return r;
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return arca_error(e->ctx, ARCA_ERR_IO, "cannot rewind %s", what);
	/* A file encrypted to public keys goes to GnuPG (auto). */
	if (p != NULL && (e->o->gpg_engine == ARCA_GPG_ENGINE_BUILTIN ||
	    arca_pgp_probe_fd(in_fd) == 1))
		return arca_pgp_decrypt_fd(p, in_fd, out_fd, what);
	if ((r = arca_engine_gpg(e, &g)) != 0)
		return r;
	return arca_gpg_decrypt_fd(g, in_fd, out_fd, what);
}

int
arca_engine_encode(struct arca_engine *e, enum arca_payload kind, int in_fd,
    int out_fd, const char *what)
{
	struct arca_sink *out = NULL, *enc = NULL, *to;
	struct arca_gpg *g;
	unsigned char *buf = NULL;
	ssize_t n;
	int r;

	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return arca_error(e->ctx, ARCA_ERR_IO, "cannot rewind %s", what);
	if ((out = arca_sink_fd(e->ctx, out_fd, what)) == NULL)
		return arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
	if ((r = arca_engine_encoder(e, kind, out, what, &enc)) == 1) {
		/* GnuPG's container: it reads and writes the fds itself. */
		if ((r = arca_engine_gpg(e, &g)) == 0)
			r = arca_gpg_encrypt_fd(g, in_fd, out_fd, what);
		goto out;
	}
	if (r != 0)
		goto out;
	if ((buf = malloc(ENCODE_CHUNK)) == NULL) {
		r = arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	to = enc != NULL ? enc : out;
	for (;;) {
		do
			n = read(in_fd, buf, ENCODE_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			r = arca_error(e->ctx, ARCA_ERR_IO, "cannot read the "
			    "plaintext of %s: %s", what, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = arca_sink_write(to, buf, (size_t)n)) != 0)
			goto out;
	}
	if (enc != NULL)
		r = arca_sink_close(enc);
out:
	free(buf);
	arca_sink_free(enc);
	arca_sink_free(out);
	return r;
}

int
arca_engine_encoder(struct arca_engine *e, enum arca_payload kind,
    struct arca_sink *out, const char *what, struct arca_sink **enc)
{
	struct arca_pgp *p;
	int r;

	*enc = NULL;
	if (e->o->encrypt) {
		if ((r = arca_engine_pgp(e, &p)) != 0)
			return r;
		if (p == NULL)
			return 1;
		return arca_pgp_encrypt_sink(p, out, what, enc);
	}
	if (e->o->compress && kind != ARCA_PAYLOAD_MANIFEST &&
	    (*enc = arca_gzip_sink(e->ctx, out, 6)) == NULL)
		return arca_error(e->ctx, ARCA_ERR_NOMEM, "out of memory");
	return 0;
}

int
arca_engine_decode(struct arca_engine *e, const char *name, int in_fd,
    int out_fd)
{
	struct arca_fname f;
	struct arca_gpg *g;
	struct arca_gpg_sig sig;
	struct arca_pgp *p;
	int r;

	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return arca_error(e->ctx, ARCA_ERR_IO, "cannot rewind %s", name);
	if (!arca_fname_parse(name, &e->pfx, &f))
		memset(&f, 0, sizeof(f));
	if (f.encrypted) {
		if ((r = arca_engine_pgp(e, &p)) != 0)
			return r;
		/* A file encrypted to public keys goes to GnuPG (auto), and
		 * so does everything --sign-key must check. */
		if (p != NULL && e->o->sign_key == NULL &&
		    (e->o->gpg_engine == ARCA_GPG_ENGINE_BUILTIN ||
		    arca_pgp_probe_fd(in_fd) == 1))
			return arca_pgp_decrypt_fd(p, in_fd, out_fd, name);
		if ((r = arca_engine_gpg(e, &g)) != 0)
			return r;
		/*
		 * With --sign-key every volume must carry a good signature
		 * by that key (duplicity checks volumes, not manifests or
		 * signature files, which it also reads from its cache).
		 */
		if (e->o->sign_key == NULL || (f.kind != ARCA_FK_FULL_VOL &&
		    f.kind != ARCA_FK_INC_VOL))
			return arca_gpg_decrypt_fd(g, in_fd, out_fd, name);
		if ((r = arca_gpg_decrypt_verify_fd(g, in_fd, out_fd, name,
		    &sig)) != 0)
			return r;
		return arca_gpg_check_signer(e->ctx, &sig, e->o->sign_key,
		    name);
	}
	if (f.compressed) {
		if ((r = arca_gunzip_file(e->ctx, in_fd, out_fd)) != 0)
			arca_error_prefix(e->ctx, "%s", name);
		return r;
	}
	return arca_copy_fd(e->ctx, in_fd, out_fd, name);
}

int
arca_engine_fetch_plain(struct arca_engine *e, const char *name, int out_fd)
{
	char *path = NULL;
	int fd = -1, r;

	if ((r = arca_engine_tmpfile(e, "fetch", &path, &fd)) != 0)
		return r;
	close(fd);
	fd = -1;
	if ((r = arca_backend_get(e->be, name, path)) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (ftruncate(out_fd, 0) != 0 || lseek(out_fd, 0, SEEK_SET) < 0) {
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot truncate output");
		goto out;
	}
	r = arca_engine_decode(e, name, fd, out_fd);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	return r;
}

int
arca_engine_open_cached(struct arca_engine *e, const char *name)
{
	int fd = openat(e->archdir_fd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return arca_error(e->ctx, errno == ENOENT ? ARCA_ERR_NOTFOUND :
		    ARCA_ERR_IO, "cannot open %s/%s: %s", e->archdir, name,
		    strerror(errno));
	return fd;
}

static int
is_meta_kind(const struct arca_fname *f)
{
	return f->kind == ARCA_FK_FULL_MANIFEST ||
	    f->kind == ARCA_FK_INC_MANIFEST || f->kind == ARCA_FK_FULL_SIG ||
	    f->kind == ARCA_FK_NEW_SIG;
}

static int
has_key(const struct arca_strlist *l, const struct arca_fprefix *pfx,
    const char *key, int want_partial)
{
	struct arca_fname f;
	char k[4096];
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!arca_fname_parse(l->v[i], pfx, &f) || !is_meta_kind(&f))
			continue;
		if (want_partial >= 0 && f.partial != want_partial)
			continue;
		if (arca_fname_key(l->v[i], k, sizeof(k)) == 0 &&
		    strcmp(k, key) == 0)
			return 1;
	}
	return 0;
}

/* Download remote name into the archive dir under its cache name. */
static int
cache_one(struct arca_engine *e, const char *name, const char *key,
    const struct arca_fname *f)
{
	struct arca_buf final = { 0 }, tmpname = { 0 };
	char *plainpath = NULL;
	int plainfd = -1, outfd = -1, r;
	int is_sig = f->kind == ARCA_FK_FULL_SIG || f->kind == ARCA_FK_NEW_SIG;

	arca_notice(e->ctx, "Copying %s to local cache.", name);
	if ((r = arca_engine_tmpfile(e, "cache", &plainpath, &plainfd)) != 0)
		goto out;
	if ((r = arca_engine_fetch_plain(e, name, plainfd)) != 0)
		goto out;
	arca_buf_printf(&final, "%s%s", key, is_sig ? ".gz" : "");
	arca_buf_printf(&tmpname, ".%s.arca-tmp", (char *)final.data);
	outfd = openat(e->archdir_fd, (char *)tmpname.data,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (outfd < 0) {
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot write %s/%s: %s",
		    e->archdir, (char *)tmpname.data, strerror(errno));
		goto out;
	}
	if (lseek(plainfd, 0, SEEK_SET) < 0) {
		r = ARCA_ERR_IO;
		goto out;
	}
	r = is_sig ? arca_deflate_gzip_file(e->ctx, plainfd, outfd, 1) :
	    arca_copy_fd(e->ctx, plainfd, outfd, name);
	if (r == 0 && fsync(outfd) != 0)
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot write %s: %s",
		    e->archdir, strerror(errno));
	if (r == 0 && renameat(e->archdir_fd, (char *)tmpname.data,
	    e->archdir_fd, (char *)final.data) != 0)
		r = arca_error(e->ctx, ARCA_ERR_IO, "cannot rename in %s: %s",
		    e->archdir, strerror(errno));
out:
	if (outfd >= 0) {
		close(outfd);
		if (r != 0)
			unlinkat(e->archdir_fd, (char *)tmpname.data, 0);
	}
	if (plainfd >= 0)
		close(plainfd);
	if (plainpath != NULL) {
		unlink(plainpath);
		free(plainpath);
	}
	arca_buf_free(&final);
	arca_buf_free(&tmpname);
	return r;
}

/*
 * Public-key backups run from the archive dir without the secret key; when
 * the cache lacks something, say what would bring it back.
 */
static void
pubkey_cache_error(struct arca_engine *e)
{
	char why[sizeof(e->ctx->errmsg)];

	memcpy(why, e->ctx->errmsg, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	arca_error(e->ctx, ARCA_ERR_AUTH, "cannot rebuild the archive dir %s "
	    "from the target: %s. With --encrypt-key a backup needs only the "
	    "public key, but it works from the archive dir of earlier runs: "
	    "put that directory back, or make the secret key available (and "
	    "PASSPHRASE, if it has one) once to rebuild it", e->archdir, why);
}

int
arca_engine_sync_cache(struct arca_engine *e)
{
	struct arca_fname f;
	char key[4096];
	size_t i;
	int r, changed = 0;

	/* Remote is authoritative: fetch what the cache lacks... */
	for (i = 0; i < e->remote.n; i++) {
		const char *name = e->remote.v[i];

		if (!arca_fname_parse(name, &e->pfx, &f) || !is_meta_kind(&f) ||
		    f.partial)
			continue;
		if (arca_fname_key(name, key, sizeof(key)) != 0)
			continue;
		if (has_key(&e->local, &e->pfx, key, -1))
			continue;
		if ((r = cache_one(e, name, key, &f)) != 0) {
			if (r == ARCA_ERR_AUTH && (e->o->encrypt_keys != NULL ||
			    e->o->hidden_keys != NULL))
				pubkey_cache_error(e);
			return r;
		}
		changed = 1;
	}
	/* ...and drop cached copies the target no longer has. */
	for (i = 0; i < e->local.n; i++) {
		const char *name = e->local.v[i];

		if (!arca_fname_parse(name, &e->pfx, &f) || !is_meta_kind(&f) ||
		    f.partial)
			continue;
		if (arca_fname_key(name, key, sizeof(key)) != 0)
			continue;
		if (has_key(&e->remote, &e->pfx, key, 0) &&
		    !has_key(&e->local, &e->pfx, key, 1))
			continue;
		arca_notice(e->ctx, "Deleting local %s (not authoritative at "
		    "backend).", name);
		if (unlinkat(e->archdir_fd, name, 0) != 0 && errno != ENOENT)
			return arca_error(e->ctx, ARCA_ERR_IO,
			    "cannot delete %s/%s: %s", e->archdir, name,
			    strerror(errno));
		changed = 1;
	}
	if (!changed)
		return 0;
	/* The collection's warnings were given on the first build. */
	{
		int v = e->ctx->verbosity;
		unsigned long w = e->ctx->warnings;

		e->ctx->verbosity = ARCA_LOG_ERROR;
		r = arca_engine_refresh(e);
		e->ctx->verbosity = v;
		e->ctx->warnings = w;
	}
	return r;
}

int
arca_member_refused(struct arca_ctx *ctx, int r, const char *what,
    const char *file, const char *member)
{
	size_t n = strlen(member);

	/* Hostile names can be huge: show the start of it only. */
	return arca_error(ctx, r, "%s %s: refusing member '%.160s%s': %s",
	    what, file, member, n > 160 ? "..." : "",
	    r == ARCA_ERR_UNSAFE ? "unsafe path ('..' or absolute)" :
	    "not a valid duplicity member name");
}

/* The selection the options describe, rooted at o->local. */
int
arca_engine_selection(struct arca_ctx *ctx, const struct arca_options *o,
    struct arca_selection **out)
{
	struct arca_selection *sel = NULL;
	struct stat st;
	int64_t t;
	size_t i;
	int r = 0;

	if ((r = arca_selection_new(ctx, o->local, &sel)) != 0)
		return r;
	for (i = 0; i < o->nsel && r == 0; i++) {
		const struct arca_selopt *s = &o->sel[i];

		switch (s->kind) {
		case ARCA_SELOPT_INCLUDE:
		case ARCA_SELOPT_EXCLUDE:
			r = arca_selection_add_glob(sel,
			    s->kind == ARCA_SELOPT_INCLUDE, s->arg);
			break;
		case ARCA_SELOPT_INCLUDE_FILELIST:
		case ARCA_SELOPT_EXCLUDE_FILELIST:
			r = arca_selection_add_filelist(sel,
			    s->kind == ARCA_SELOPT_INCLUDE_FILELIST, s->arg, 0);
			break;
		case ARCA_SELOPT_INCLUDE_REGEXP:
		case ARCA_SELOPT_EXCLUDE_REGEXP:
			r = arca_selection_add_regexp(sel,
			    s->kind == ARCA_SELOPT_INCLUDE_REGEXP, s->arg);
			break;
		case ARCA_SELOPT_EXCLUDE_IF_PRESENT:
			r = arca_selection_add_exclude_if_present(sel, s->arg);
			break;
		case ARCA_SELOPT_EXCLUDE_DEVICE_FILES:
			r = arca_selection_add_exclude_device_files(sel);
			break;
		case ARCA_SELOPT_EXCLUDE_OTHER_FILESYSTEMS:
			if (stat(o->local, &st) != 0)
			{
				arca_selection_free(sel);
				return arca_error(ctx, ARCA_ERR_SOURCE,
				    "cannot access %s: %s", o->local,
				    strerror(errno));
			}
			r = arca_selection_add_exclude_other_filesystems(sel,
			    st.st_dev);
			break;
		case ARCA_SELOPT_EXCLUDE_OLDER_THAN:
			if (arca_time_parse_user(s->arg, o->now, &t) != 0) {
				arca_selection_free(sel);
				return arca_error(ctx, ARCA_ERR_USAGE,
				    "bad time string '%s'", s->arg);
			}
			r = arca_selection_add_exclude_older_than(sel, t);
			break;
		}
	}
	if (r == 0)
		r = arca_selection_finish(sel);
	if (r != 0) {
		arca_selection_free(sel);
		return r;
	}
	*out = sel;
	return 0;
}

