/*
 * gpg.c: OpenPGP through GnuPG, driven by GPGME (spec §4.3).
 *
 * Each operation runs one gpg process with its own GPGME context, reading
 * and writing the caller's file descriptors directly, so memory does not
 * depend on the size of the data.  The passphrase reaches gpg only through
 * GPGME's command channel (loopback pinentry), never argv or the
 * environment, and gpg-agent is told not to cache it (no-symkey-cache): an
 * agent that remembered it would accept a wrong passphrase for a file it
 * had already seen.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include "crypto/gpg.h"
#include "util/buf.h"
#include "util/ctx.h"

/* GPGME that knows the no-symkey-cache flag. */
#define MIN_GPGME	"1.11.0"
/* gpg below this silently ignores --no-symkey-cache (GPGME drops it). */
#define MIN_GNUPG_MAJOR	2
#define MIN_GNUPG_MINOR	2
#define MIN_GNUPG_MICRO	7

/*
 * Passphrase requests one operation may make: symmetric encryption asks
 * once, symmetric + signing twice.  A repeat of a request already answered
 * means the answer was wrong; we refuse rather than loop.
 */
#define MAX_ASKS	4

struct arca_gpg {
	struct arca_ctx *ctx;
	char *pass;		/* NULL = none given; wiped on free */
	size_t passlen;
	char *homedir;
	char *program;
	gpgme_key_t *recips;	/* NULL-terminated; NULL = symmetric */
	size_t nrecips;
	gpgme_key_t signer;	/* NULL = no signing */
};

/* Per-operation state of the passphrase callback. */
struct ask {
	struct arca_gpg *g;
	int asks;
	int refused;		/* we said no: the answer was wrong */
	char seen[MAX_ASKS][128];	/* uid hint + info of each request */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static const char *init_version;

static void
gpg_init(void)
{
	/* Also sets up GPGME's locks and ignores SIGPIPE if it is default. */
	init_version = gpgme_check_version(MIN_GPGME);
}

static int
version_ok(const char *v)
{
	unsigned int a = 0, b = 0, c = 0;

	if (v == NULL || sscanf(v, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	if (a != MIN_GNUPG_MAJOR)
		return a > MIN_GNUPG_MAJOR;
	if (b != MIN_GNUPG_MINOR)
		return b > MIN_GNUPG_MINOR;
	return c >= MIN_GNUPG_MICRO;
}

/* gpg's answer to "passphrase.enter": the passphrase and a newline. */
static gpgme_error_t
ask_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
    int fd)
{
	struct ask *a = hook;
	char key[sizeof(a->seen[0])];
	int i;

	snprintf(key, sizeof(key), "%s|%s", uid_hint ? uid_hint : "",
	    info ? info : "");
	for (i = 0; i < a->asks; i++)
		if (strcmp(a->seen[i], key) == 0)
			prev_was_bad = 1;
	if (prev_was_bad || a->asks >= MAX_ASKS || a->g->pass == NULL) {
		a->refused = 1;
		return gpg_error(a->g->pass == NULL ? GPG_ERR_NO_PASSPHRASE :
		    GPG_ERR_BAD_PASSPHRASE);
	}
	memcpy(a->seen[a->asks++], key, sizeof(key));
	/*
	 * GPGME's command channel is line based: unlike duplicity's
	 * --passphrase-fd pipe, the answer must end with a newline or gpg
	 * waits for the rest of the line.
	 */
	if (gpgme_io_writen(fd, a->g->pass, a->g->passlen) != 0 ||
	    gpgme_io_writen(fd, "\n", 1) != 0)
		return gpgme_error_from_syserror();
	return 0;
}

/* A fresh context for one operation. */
static int
ctx_new(struct arca_gpg *g, struct ask *a, gpgme_ctx_t *out)
{
	gpgme_ctx_t c = NULL;
	gpgme_error_t e;
	const char *step;
	int r;

	*out = NULL;
	if ((e = gpgme_new(&c)) != 0) {
		step = "create context";
		goto fail;
	}
	step = "select OpenPGP";
	if ((e = gpgme_set_protocol(c, GPGME_PROTOCOL_OpenPGP)) != 0)
		goto fail;
	step = "set the GnuPG home";
	if ((g->homedir != NULL || g->program != NULL) &&
	    (e = gpgme_ctx_set_engine_info(c, GPGME_PROTOCOL_OpenPGP,
	    g->program, g->homedir)) != 0)
		goto fail;
	gpgme_set_armor(c, 0);
	gpgme_set_textmode(c, 0);
	step = "set loopback pinentry";
	if ((e = gpgme_set_pinentry_mode(c, GPGME_PINENTRY_MODE_LOOPBACK)) != 0)
		goto fail;
	gpgme_set_passphrase_cb(c, ask_cb, a);
	step = "disable the passphrase cache";
	if ((e = gpgme_set_ctx_flag(c, "no-symkey-cache", "1")) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	r = arca_error(g->ctx, gpgme_err_code(e) == GPG_ERR_ENOMEM ?
	    ARCA_ERR_NOMEM : ARCA_ERR_CRYPTO, "GnuPG: cannot %s: %s", step,
	    gpgme_strerror(e));
	gpgme_release(c);
	return r;
}

/* Find the one key a user's name refers to, usable for `use`. */
static int
key_find(struct arca_gpg *g, gpgme_ctx_t c, const char *name, int secret,
    gpgme_key_t *out)
{
	gpgme_key_t k = NULL, found = NULL;
	gpgme_error_t e;
	int usable;

	*out = NULL;
	if ((e = gpgme_op_keylist_start(c, name, secret)) != 0)
		goto fail;
	while ((e = gpgme_op_keylist_next(c, &k)) == 0) {
		usable = !k->revoked && !k->expired && !k->disabled &&
		    !k->invalid && (secret ? k->can_sign : k->can_encrypt);
		if (usable && found == NULL)
			found = k;
		else
			gpgme_key_release(k);
	}
	gpgme_op_keylist_end(c);
	if (gpgme_err_code(e) != GPG_ERR_EOF)
		goto fail;
	if (found == NULL)
		return arca_error(g->ctx, ARCA_ERR_AUTH, "no usable %s key "
		    "for \"%s\" in the GnuPG keyring", secret ? "secret" :
		    "public", name);
	*out = found;
	return 0;
fail:
	gpgme_key_release(found);
	return arca_error(g->ctx, ARCA_ERR_CRYPTO, "GnuPG: cannot look up "
	    "key \"%s\": %s", name, gpgme_strerror(e));
}

int
arca_gpg_new(struct arca_ctx *ctx, const struct arca_gpg_opts *o,
    struct arca_gpg **out)
{
	struct arca_gpg *g = NULL;
	struct ask a;
	gpgme_ctx_t c = NULL;
	gpgme_engine_info_t ei;
	gpgme_error_t e;
	size_t n;
	int r;

	*out = NULL;
	pthread_once(&init_once, gpg_init);
	if (init_version == NULL) {
		r = arca_error(ctx, ARCA_ERR_CRYPTO, "GPGME %s or later is "
		    "needed, found %s", MIN_GPGME, gpgme_check_version(NULL));
		goto out;
	}
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0) {
		r = arca_error(ctx, ARCA_ERR_CRYPTO, "GnuPG (gpg) is not "
		    "usable: %s", gpgme_strerror(e));
		goto out;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		goto nomem;
	g->ctx = ctx;
	if (o->passphrase != NULL) {
		/*
		 * gpg reads a passphrase up to the end of its line, on the
		 * command channel as on duplicity's --passphrase-fd: whatever
		 * follows a newline was never part of it.
		 */
		n = strcspn(o->passphrase, "\n");
		if ((g->pass = malloc(n + 1)) == NULL)
			goto nomem;
		memcpy(g->pass, o->passphrase, n);
		g->pass[n] = '\0';
		g->passlen = n;
	}
	if (o->homedir != NULL && (g->homedir = strdup(o->homedir)) == NULL)
		goto nomem;
	if (o->program != NULL && (g->program = strdup(o->program)) == NULL)
		goto nomem;

	memset(&a, 0, sizeof(a));
	a.g = g;
	if ((r = ctx_new(g, &a, &c)) != 0)
		goto out;
	ei = gpgme_ctx_get_engine_info(c);
	if (ei == NULL || !version_ok(ei->version)) {
		r = arca_error(ctx, ARCA_ERR_CRYPTO, "GnuPG %d.%d.%d or later "
		    "is needed (for --no-symkey-cache), found %s",
		    MIN_GNUPG_MAJOR, MIN_GNUPG_MINOR, MIN_GNUPG_MICRO,
		    ei && ei->version ? ei->version : "none");
		goto out;
	}

	if (o->recipients != NULL && o->recipients[0] != NULL) {
		for (n = 0; o->recipients[n] != NULL; n++)
			;
		if ((g->recips = arca_calloc(n + 1, sizeof(*g->recips))) ==
		    NULL)
			goto nomem;
		for (n = 0; o->recipients[n] != NULL; n++) {
			if ((r = key_find(g, c, o->recipients[n], 0,
			    &g->recips[n])) != 0)
				goto out;
			g->nrecips++;
		}
	}
	if (o->sign_key != NULL &&
	    (r = key_find(g, c, o->sign_key, 1, &g->signer)) != 0)
		goto out;
	*out = g;
	g = NULL;
	r = 0;
	goto out;
nomem:
	r = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
out:
	gpgme_release(c);
	arca_gpg_free(g);
	return r;
}

void
arca_gpg_free(struct arca_gpg *g)
{
	size_t i;

	if (g == NULL)
		return;
	if (g->pass != NULL) {
		explicit_bzero(g->pass, g->passlen);
		free(g->pass);
	}
	for (i = 0; i < g->nrecips; i++)
		gpgme_key_release(g->recips[i]);
	free(g->recips);
	gpgme_key_release(g->signer);
	free(g->homedir);
	free(g->program);
	free(g);
}

/* Translate a failed operation's error into ours. */
static int
op_error(struct arca_gpg *g, struct ask *a, gpgme_error_t e, int decrypting,
    const char *what)
{
	gpgme_err_code_t code = gpgme_err_code(e);
	int en;

	switch (code) {
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE:
	case GPG_ERR_NO_SECKEY:
	case GPG_ERR_CANCELED:
		return arca_error(g->ctx, ARCA_ERR_AUTH,
		    "wrong passphrase or missing secret key for %s", what);
	case GPG_ERR_ENOMEM:
		return arca_error(g->ctx, ARCA_ERR_NOMEM, "out of memory");
	case GPG_ERR_NO_DATA:
		if (decrypting)
			return arca_error(g->ctx, ARCA_ERR_CORRUPT,
			    "%s: damaged, truncated or not OpenPGP data "
			    "(%s)", what, gpgme_strerror(e));
		break;
	case GPG_ERR_DECRYPT_FAILED:
	case GPG_ERR_BAD_DATA:
	case GPG_ERR_INV_PACKET:
	case GPG_ERR_INV_DATA:
	case GPG_ERR_TRUNCATED:
	case GPG_ERR_CHECKSUM:
	case GPG_ERR_INV_KEYLEN:
	case GPG_ERR_UNKNOWN_PACKET:
	case GPG_ERR_EOF:
		if (decrypting)
			return arca_error(g->ctx, ARCA_ERR_CORRUPT,
			    "%s: damaged or truncated OpenPGP data (%s)",
			    what, gpgme_strerror(e));
		break;
	case GPG_ERR_EPIPE:
		/*
		 * gpg stopped reading before the end: when decrypting, it
		 * gave up on the data.
		 */
		if (decrypting)
			return arca_error(g->ctx, ARCA_ERR_CORRUPT,
			    "%s: damaged OpenPGP data (gpg stopped reading)",
			    what);
		break;
	default:
		break;
	}
	if (a->refused)
		return arca_error(g->ctx, ARCA_ERR_AUTH,
		    "wrong passphrase or missing secret key for %s", what);
	if ((en = gpgme_err_code_to_errno(code)) != 0)
		return arca_error(g->ctx, ARCA_ERR_IO, "%s: %s", what,
		    strerror(en));
	return arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: GnuPG %s failed: %s",
	    what, decrypting ? "decryption" : "encryption", gpgme_strerror(e));
}

int
arca_gpg_encrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what)
{
	gpgme_ctx_t c = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_encrypt_result_t er;
	gpgme_sign_result_t sr;
	gpgme_encrypt_flags_t flags = 0;
	gpgme_error_t e;
	struct ask a;
	int r;

	memset(&a, 0, sizeof(a));
	a.g = g;
	if (g->recips == NULL && g->pass == NULL) {
		r = arca_error(g->ctx, ARCA_ERR_USAGE, "symmetric encryption "
		    "of %s needs a passphrase", what);
		goto out;
	}
	if ((r = ctx_new(g, &a, &c)) != 0)
		goto out;
	if ((e = gpgme_data_new_from_fd(&in, in_fd)) != 0 ||
	    (e = gpgme_data_new_from_fd(&out, out_fd)) != 0) {
		r = op_error(g, &a, e, 0, what);
		goto out;
	}
	gpgme_data_set_encoding(out, GPGME_DATA_ENCODING_BINARY);
	/*
	 * No recipients means --symmetric (with gpg's default cipher and
	 * compression, as duplicity).  Recipients must be trusted keys, as
	 * with duplicity's --recipient in batch mode.
	 */
	if (g->recips == NULL)
		flags |= GPGME_ENCRYPT_SYMMETRIC;
	if (g->signer != NULL) {
		gpgme_signers_clear(c);
		if ((e = gpgme_signers_add(c, g->signer)) != 0) {
			r = op_error(g, &a, e, 0, what);
			goto out;
		}
		e = gpgme_op_encrypt_sign(c, g->recips, flags, in, out);
	} else
		e = gpgme_op_encrypt(c, g->recips, flags, in, out);
	if ((er = gpgme_op_encrypt_result(c)) != NULL &&
	    er->invalid_recipients != NULL) {
		r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: key %s cannot be "
		    "used for encryption: %s", what,
		    er->invalid_recipients->fpr ? er->invalid_recipients->fpr :
		    "?", gpgme_strerror(er->invalid_recipients->reason));
		goto out;
	}
	if (g->signer != NULL && (sr = gpgme_op_sign_result(c)) != NULL &&
	    sr->invalid_signers != NULL && gpgme_err_code(e) !=
	    GPG_ERR_BAD_PASSPHRASE && !a.refused) {
		r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: key %s cannot "
		    "sign: %s", what, sr->invalid_signers->fpr ?
		    sr->invalid_signers->fpr : "?",
		    gpgme_strerror(sr->invalid_signers->reason));
		goto out;
	}
	if (e != 0) {
		r = op_error(g, &a, e, 0, what);
		goto out;
	}
	r = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_release(c);
	return r;
}

int
arca_gpg_decrypt_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what)
{
	gpgme_ctx_t c = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_decrypt_result_t dr;
	gpgme_error_t e;
	struct ask a;
	int r;

	memset(&a, 0, sizeof(a));
	a.g = g;
	if ((r = ctx_new(g, &a, &c)) != 0)
		goto out;
	if ((e = gpgme_data_new_from_fd(&in, in_fd)) != 0 ||
	    (e = gpgme_data_new_from_fd(&out, out_fd)) != 0) {
		r = op_error(g, &a, e, 1, what);
		goto out;
	}
	/*
	 * Without ignore-mdc-error gpg fails on a missing or bad MDC, so
	 * tampering is an error, not a warning.  Signatures are not checked
	 * here (that needs decrypt_verify and a policy: a later step).
	 */
	e = gpgme_op_decrypt(c, in, out);
	dr = gpgme_op_decrypt_result(c);
	if (e != 0) {
		if (dr != NULL && dr->legacy_cipher_nomdc) {
			r = arca_error(g->ctx, ARCA_ERR_CORRUPT, "%s: not "
			    "integrity protected (legacy cipher without MDC), "
			    "refused", what);
			goto out;
		}
		if (dr != NULL && dr->unsupported_algorithm != NULL) {
			r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: "
			    "unsupported algorithm %s", what,
			    dr->unsupported_algorithm);
			goto out;
		}
		r = op_error(g, &a, e, 1, what);
		goto out;
	}
	if (dr != NULL && dr->legacy_cipher_nomdc) {
		r = arca_error(g->ctx, ARCA_ERR_CORRUPT, "%s: not integrity "
		    "protected (legacy cipher without MDC), refused", what);
		goto out;
	}
	r = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_release(c);
	return r;
}
