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
 *
 * Public-key mode names every key by the fingerprint found when the engine
 * was made, so the key gpg uses is the one we checked; hidden recipients
 * go through GPGME's recipient string ("--hidden"), which becomes gpg's
 * --hidden-recipient.
 */
#include <ctype.h>
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
 * once, symmetric + signing twice, a hidden-recipient message once per
 * secret key tried.  A repeat of a request already answered means the
 * answer was wrong; we refuse rather than loop.
 */
#define MAX_ASKS	8
/* Keys a user may name with --encrypt-key and --hidden-encrypt-key. */
#define MAX_RECIPIENTS	256

struct secret {
	char *s;		/* NULL = none given; wiped on free */
	size_t len;
};

struct arca_gpg {
	struct arca_ctx *ctx;
	struct secret pass;	/* symmetric, or secret keys for decryption */
	struct secret signpass;	/* the sign key's; none: pass */
	char *homedir;
	char *program;
	int use_agent;
	gpgme_key_t *recips;	/* NULL-terminated, normal then hidden */
	size_t nrecips;
	char *recpstring;	/* GPGME's recipient string; NULL: symmetric */
	gpgme_key_t signer;	/* NULL = no signing */
	char *sign_name;	/* as the user gave it */
	int signer_secret;	/* the secret part of signer is here */
};

/* Per-operation state of the passphrase callback. */
struct ask {
	struct arca_gpg *g;
	int encrypting;
	int asks;
	int refused;		/* we said no: no passphrase, or it was wrong */
	int refused_none;	/* ... because we had none to give */
	char hint[128];		/* last key request's uid hint; "": symmetric */
	char seen[MAX_ASKS][160];	/* uid hint + info of each request */
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
	unsigned long a, b, c = 0;
	char *end;

	/* "2.2.40", "2.4.0-beta3": major.minor[.micro], the rest ignored */
	if (v == NULL || !isdigit((unsigned char)*v))
		return 0;
	a = strtoul(v, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return 0;
	b = strtoul(end + 1, &end, 10);
	if (*end == '.' && isdigit((unsigned char)end[1]))
		c = strtoul(end + 1, NULL, 10);
	if (a != MIN_GNUPG_MAJOR)
		return a > MIN_GNUPG_MAJOR;
	if (b != MIN_GNUPG_MINOR)
		return b > MIN_GNUPG_MINOR;
	return c >= MIN_GNUPG_MICRO;
}

static int
secret_set(struct secret *sec, const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	/*
	 * gpg reads a passphrase up to the end of its line, on the command
	 * channel as on duplicity's --passphrase-fd: whatever follows a
	 * newline was never part of it.
	 */
	n = strcspn(s, "\n");
	if ((sec->s = malloc(n + 1)) == NULL)
		return -1;
	memcpy(sec->s, s, n);
	sec->s[n] = '\0';
	sec->len = n;
	return 0;
}

static void
secret_wipe(struct secret *sec)
{
	if (sec->s != NULL) {
		explicit_bzero(sec->s, sec->len);
		free(sec->s);
	}
	sec->s = NULL;
	sec->len = 0;
}

/*
 * gpg's answer to "passphrase.enter".  A request with a uid hint is for a
 * secret key: when encrypting that is the sign key (SIGN_PASSPHRASE, else
 * PASSPHRASE), when decrypting a recipient's key (PASSPHRASE, else
 * SIGN_PASSPHRASE: duplicity reuses one for the other when the sign key
 * is also an encryption key).  Without a hint it is the symmetric
 * passphrase.
 */
static gpgme_error_t
ask_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
    int fd)
{
	struct ask *a = hook;
	struct arca_gpg *g = a->g;
	const struct secret *first, *second, *sec;
	char key[sizeof(a->seen[0])];
	int i, for_key = uid_hint != NULL && *uid_hint != '\0';

	snprintf(a->hint, sizeof(a->hint), "%s", for_key ? uid_hint : "");
	snprintf(key, sizeof(key), "%s|%s", uid_hint ? uid_hint : "",
	    info ? info : "");
	for (i = 0; i < a->asks; i++)
		if (strcmp(a->seen[i], key) == 0)
			prev_was_bad = 1;
	first = &g->pass;
	second = NULL;
	if (for_key) {
		first = a->encrypting ? &g->signpass : &g->pass;
		second = a->encrypting ? &g->pass : &g->signpass;
	}
	sec = first->s != NULL ? first : second;
	if (sec == NULL || sec->s == NULL) {
		a->refused = a->refused_none = 1;
		return gpg_error(GPG_ERR_NO_PASSPHRASE);
	}
	if (prev_was_bad || a->asks >= MAX_ASKS) {
		a->refused = 1;
		return gpg_error(GPG_ERR_BAD_PASSPHRASE);
	}
	memcpy(a->seen[a->asks++], key, sizeof(key));
	/*
	 * GPGME's command channel is line based: unlike duplicity's
	 * --passphrase-fd pipe, the answer must end with a newline or gpg
	 * waits for the rest of the line.
	 */
	if (gpgme_io_writen(fd, sec->s, sec->len) != 0 ||
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
	/*
	 * --use-agent leaves passphrases to gpg-agent (its cache or its
	 * pinentry), as duplicity does; otherwise loopback, so gpg asks us
	 * and never a terminal, and the agent keeps no symmetric passphrase.
	 */
	if (g->use_agent)
		goto done;
	step = "set loopback pinentry";
	if ((e = gpgme_set_pinentry_mode(c, GPGME_PINENTRY_MODE_LOOPBACK)) != 0)
		goto fail;
	gpgme_set_passphrase_cb(c, ask_cb, a);
	step = "disable the passphrase cache";
	if ((e = gpgme_set_ctx_flag(c, "no-symkey-cache", "1")) != 0)
		goto fail;
done:
	*out = c;
	return 0;
fail:
	r = arca_error(g->ctx, gpgme_err_code(e) == GPG_ERR_ENOMEM ?
	    ARCA_ERR_NOMEM : ARCA_ERR_CRYPTO, "GnuPG: cannot %s: %s", step,
	    gpgme_strerror(e));
	gpgme_release(c);
	return r;
}

static int
key_usable(gpgme_key_t k, int for_sign)
{
	return !k->revoked && !k->expired && !k->disabled && !k->invalid &&
	    (for_sign ? k->can_sign : k->can_encrypt);
}

/*
 * Find the key a user's name refers to: the first usable one (for
 * encryption, or for signing when for_sign), its secret part when secret.
 * 0 and *out set, 0 and *out NULL when nothing matched (only when
 * `quiet`), or ARCA_ERR_AUTH / ARCA_ERR_CRYPTO.
 */
static int
key_find(struct arca_gpg *g, gpgme_ctx_t c, const char *name, int for_sign,
    int secret, int quiet, gpgme_key_t *out)
{
	gpgme_key_t k = NULL, found = NULL;
	gpgme_error_t e;

	*out = NULL;
	if ((e = gpgme_op_keylist_start(c, name, secret)) != 0)
		goto fail;
	while ((e = gpgme_op_keylist_next(c, &k)) == 0) {
		if (key_usable(k, for_sign) && found == NULL)
			found = k;
		else
			gpgme_key_release(k);
	}
	gpgme_op_keylist_end(c);
	if (gpgme_err_code(e) != GPG_ERR_EOF)
		goto fail;
	if (found == NULL && !quiet)
		return arca_error(g->ctx, ARCA_ERR_AUTH, "no usable %s key "
		    "for \"%s\" in the GnuPG keyring%s", for_sign ?
		    "signing" : "public", name, for_sign ? "" : " (import "
		    "the public key, and trust it, into GNUPGHOME)");
	*out = found;
	return 0;
fail:
	gpgme_key_release(found);
	return arca_error(g->ctx, ARCA_ERR_CRYPTO, "GnuPG: cannot look up "
	    "key \"%s\": %s", name, gpgme_strerror(e));
}

/*
 * Look the recipients up, normal ones first, and write GPGME's recipient
 * string: one fingerprint a line, "--hidden" before the hidden ones.
 */
static int
find_recipients(struct arca_gpg *g, gpgme_ctx_t c,
    const char *const *normal, const char *const *hidden)
{
	struct arca_buf rs = { 0 };
	size_t n = 0, nn = 0, i;
	int r = 0;

	for (i = 0; normal != NULL && normal[i] != NULL; i++)
		nn++;
	n = nn;
	for (i = 0; hidden != NULL && hidden[i] != NULL; i++)
		n++;
	if (n == 0)
		return 0;
	if (n > MAX_RECIPIENTS)
		return arca_error(g->ctx, ARCA_ERR_USAGE, "too many encryption "
		    "keys (%zu, at most %d)", n, MAX_RECIPIENTS);
	if ((g->recips = arca_calloc(n + 1, sizeof(*g->recips))) == NULL)
		return arca_error(g->ctx, ARCA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n && r == 0; i++) {
		const char *name = i < nn ? normal[i] : hidden[i - nn];

		if ((r = key_find(g, c, name, 0, 0, 0, &g->recips[i])) != 0)
			break;
		g->nrecips++;
		if ((i == nn && arca_buf_puts(&rs, "--hidden\n") != 0) ||
		    arca_buf_printf(&rs, "%s\n", g->recips[i]->subkeys->fpr) !=
		    0)
			r = arca_error(g->ctx, ARCA_ERR_NOMEM, "out of memory");
	}
	if (r == 0 && (g->recpstring = arca_buf_steal(&rs)) == NULL)
		r = arca_error(g->ctx, ARCA_ERR_NOMEM, "out of memory");
	arca_buf_free(&rs);
	return r;
}

int
arca_gpg_new(struct arca_ctx *ctx, const struct arca_gpg_opts *o,
    struct arca_gpg **out)
{
	struct arca_gpg *g = NULL;
	struct ask a;
	gpgme_ctx_t c = NULL;
	gpgme_key_t k = NULL;
	gpgme_engine_info_t ei;
	gpgme_error_t e;
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
	g->use_agent = o->use_agent;
	if (secret_set(&g->pass, o->passphrase) != 0 ||
	    secret_set(&g->signpass, o->sign_passphrase) != 0)
		goto nomem;
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
	if ((r = find_recipients(g, c, o->recipients,
	    o->hidden_recipients)) != 0)
		goto out;
	if (o->sign_key != NULL) {
		if ((g->sign_name = strdup(o->sign_key)) == NULL)
			goto nomem;
		/*
		 * Signing needs the secret key; checking signatures (restore,
		 * verify) only the public one, so its absence is an error
		 * only when something is signed.
		 */
		if ((r = key_find(g, c, o->sign_key, 1, 1, 1, &k)) != 0)
			goto out;
		g->signer_secret = k != NULL;
		if (k == NULL && (r = key_find(g, c, o->sign_key, 1, 0, 0,
		    &k)) != 0)
			goto out;
		g->signer = k;
	}
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
	secret_wipe(&g->pass);
	secret_wipe(&g->signpass);
	for (i = 0; i < g->nrecips; i++)
		gpgme_key_release(g->recips[i]);
	free(g->recips);
	free(g->recpstring);
	gpgme_key_release(g->signer);
	free(g->sign_name);
	free(g->homedir);
	free(g->program);
	free(g);
}

int
arca_gpg_is_pubkey(const struct arca_gpg *g)
{
	return g->nrecips > 0;
}

int
arca_gpg_have_secret(struct arca_gpg *g)
{
	gpgme_ctx_t c = NULL;
	gpgme_key_t k;
	gpgme_subkey_t sk;
	gpgme_error_t e;
	struct ask a;
	size_t i;
	int r, found = 0;

	memset(&a, 0, sizeof(a));
	a.g = g;
	if (g->nrecips == 0)
		return 0;
	if ((r = ctx_new(g, &a, &c)) != 0)
		return r;
	for (i = 0; i < g->nrecips && !found; i++) {
		e = gpgme_get_key(c, g->recips[i]->subkeys->fpr, &k, 1);
		if (gpgme_err_code(e) == GPG_ERR_EOF)
			continue;
		if (e != 0) {
			r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "GnuPG: cannot "
			    "list the secret keys: %s", gpgme_strerror(e));
			goto out;
		}
		/* A stub (secret subkey moved elsewhere) cannot decrypt. */
		for (sk = k->subkeys; sk != NULL; sk = sk->next)
			if (sk->secret && sk->can_encrypt && !sk->revoked &&
			    !sk->expired && !sk->disabled && !sk->invalid)
				found = 1;
		gpgme_key_release(k);
	}
	r = found;
out:
	gpgme_release(c);
	return r;
}

/* No passphrase, or a wrong one: say which, and for what. */
static int
pass_error(struct arca_gpg *g, struct ask *a, int decrypting,
    const char *what)
{
	if (g->use_agent)
		return arca_error(g->ctx, ARCA_ERR_AUTH, "%s: gpg-agent has "
		    "no passphrase for the key and none came from its "
		    "pinentry (--use-agent: preset it in the agent, or drop "
		    "--use-agent and set %s)", what, decrypting ?
		    "PASSPHRASE" : "SIGN_PASSPHRASE");
	if (a->hint[0] != '\0' && decrypting)
		return arca_error(g->ctx, ARCA_ERR_AUTH, a->refused_none ?
		    "cannot decrypt %s: the secret key %s needs its "
		    "passphrase: set PASSPHRASE" : "cannot decrypt %s: wrong "
		    "passphrase for the secret key %s (PASSPHRASE)", what,
		    a->hint);
	if (a->hint[0] != '\0')
		return arca_error(g->ctx, ARCA_ERR_AUTH, a->refused_none ?
		    "cannot sign %s: the sign key %s needs its passphrase: "
		    "set SIGN_PASSPHRASE (or PASSPHRASE)" : "cannot sign %s: "
		    "wrong passphrase for the sign key %s (SIGN_PASSPHRASE, "
		    "else PASSPHRASE)", what, a->hint);
	if (a->refused_none)
		return arca_error(g->ctx, ARCA_ERR_AUTH, decrypting ?
		    "cannot decrypt %s: it is encrypted with a passphrase: "
		    "set PASSPHRASE" : "cannot encrypt %s: symmetric "
		    "encryption needs a passphrase: set PASSPHRASE (or give "
		    "--encrypt-key)", what);
	return arca_error(g->ctx, ARCA_ERR_AUTH, "wrong passphrase for %s",
	    what);
}

/* The secret key is not here (decrypting), or the sign key's (signing). */
static int
no_seckey_error(struct arca_gpg *g, gpgme_ctx_t c, int decrypting,
    const char *what)
{
	gpgme_decrypt_result_t dr;
	gpgme_recipient_t rc;
	char ids[200] = "";
	size_t n = 0;
	int w;

	if (!decrypting)
		return arca_error(g->ctx, ARCA_ERR_AUTH, "cannot sign %s: the "
		    "secret part of the sign key %s is not in the GnuPG "
		    "keyring", what, g->sign_name ? g->sign_name : "?");
	dr = gpgme_op_decrypt_result(c);
	for (rc = dr ? dr->recipients : NULL; rc != NULL && n < sizeof(ids);
	    rc = rc->next) {
		w = snprintf(ids + n, sizeof(ids) - n, "%s%s", n ? ", " : "",
		    rc->keyid == NULL || strspn(rc->keyid, "0") ==
		    strlen(rc->keyid) ? "a hidden recipient" : rc->keyid);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return arca_error(g->ctx, ARCA_ERR_AUTH, "cannot decrypt %s: no "
	    "secret key for it in the GnuPG keyring (encrypted to %s); "
	    "import the secret key into GNUPGHOME", what,
	    ids[0] ? ids : "unknown keys");
}

/* Translate a failed operation's error into ours. */
static int
op_error(struct arca_gpg *g, gpgme_ctx_t c, struct ask *a, gpgme_error_t e,
    int decrypting, const char *what)
{
	gpgme_err_code_t code = gpgme_err_code(e);
	int en;

	switch (code) {
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE:
	case GPG_ERR_CANCELED:
		return pass_error(g, a, decrypting, what);
	case GPG_ERR_NO_SECKEY:
		/* gpg says so after a wrong passphrase for the key, too. */
		if (a->refused)
			return pass_error(g, a, decrypting, what);
		return no_seckey_error(g, c, decrypting, what);
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
		return pass_error(g, a, decrypting, what);
	/* With --use-agent, gpg-agent's pinentry found no one to ask. */
	if (g->use_agent && (code == GPG_ERR_ENOTTY ||
	    code == GPG_ERR_NO_PIN_ENTRY || code == GPG_ERR_PIN_ENTRY ||
	    code == GPG_ERR_BAD_PIN))
		return pass_error(g, a, decrypting, what);
	if ((en = gpgme_err_code_to_errno(code)) != 0)
		return arca_error(g->ctx, ARCA_ERR_IO, "%s: %s", what,
		    strerror(en));
	return arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: GnuPG %s failed: %s",
	    what, decrypting ? "decryption" : "encryption", gpgme_strerror(e));
}

/* A key that cannot be used for encryption: say why, and what helps. */
static int
invalid_recipient(struct arca_gpg *g, gpgme_invalid_key_t ik,
    const char *what)
{
	if (gpgme_err_code(ik->reason) == GPG_ERR_UNUSABLE_PUBKEY ||
	    gpgme_err_code(ik->reason) == GPG_ERR_PUBKEY_NOT_TRUSTED)
		return arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: gpg will not "
		    "encrypt to key %s: it is not trusted (gpg --edit-key %s "
		    "trust), expired or revoked", what, ik->fpr ? ik->fpr : "?",
		    ik->fpr ? ik->fpr : "KEY");
	return arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: key %s cannot be "
	    "used for encryption: %s", what, ik->fpr ? ik->fpr : "?",
	    gpgme_strerror(ik->reason));
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
	a.encrypting = 1;
	if (g->nrecips == 0 && g->pass.s == NULL && !g->use_agent) {
		a.refused_none = 1;
		r = pass_error(g, &a, 0, what);
		goto out;
	}
	if (g->signer != NULL && !g->signer_secret) {
		r = arca_error(g->ctx, ARCA_ERR_AUTH, "cannot sign %s: no "
		    "secret key for the sign key %s in the GnuPG keyring", what,
		    g->sign_name);
		goto out;
	}
	if ((r = ctx_new(g, &a, &c)) != 0)
		goto out;
	if ((e = gpgme_data_new_from_fd(&in, in_fd)) != 0 ||
	    (e = gpgme_data_new_from_fd(&out, out_fd)) != 0) {
		r = op_error(g, c, &a, e, 0, what);
		goto out;
	}
	gpgme_data_set_encoding(out, GPGME_DATA_ENCODING_BINARY);
	/*
	 * No recipients means --symmetric (with gpg's default cipher and
	 * compression, as duplicity).  Recipients must be trusted keys, as
	 * with duplicity's --recipient in batch mode.
	 */
	if (g->nrecips == 0)
		flags |= GPGME_ENCRYPT_SYMMETRIC;
	if (g->signer != NULL) {
		gpgme_signers_clear(c);
		if ((e = gpgme_signers_add(c, g->signer)) != 0) {
			r = op_error(g, c, &a, e, 0, what);
			goto out;
		}
		e = gpgme_op_encrypt_sign_ext(c, NULL, g->recpstring, flags,
		    in, out);
	} else
		e = gpgme_op_encrypt_ext(c, NULL, g->recpstring, flags, in,
		    out);
	if ((er = gpgme_op_encrypt_result(c)) != NULL &&
	    er->invalid_recipients != NULL) {
		r = invalid_recipient(g, er->invalid_recipients, what);
		goto out;
	}
	if (g->signer != NULL && (sr = gpgme_op_sign_result(c)) != NULL &&
	    sr->invalid_signers != NULL && !a.refused &&
	    gpgme_err_code(e) != GPG_ERR_BAD_PASSPHRASE &&
	    gpgme_err_code(e) != GPG_ERR_NO_PASSPHRASE &&
	    gpgme_err_code(e) != GPG_ERR_CANCELED) {
		r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: key %s cannot "
		    "sign: %s", what, sr->invalid_signers->fpr ?
		    sr->invalid_signers->fpr : "?",
		    gpgme_strerror(sr->invalid_signers->reason));
		goto out;
	}
	if (e != 0) {
		r = op_error(g, c, &a, e, 0, what);
		goto out;
	}
	r = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_release(c);
	return r;
}

static void
copy_hex(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < n; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'f' ?
		    src[i] - 'a' + 'A' : src[i]);
	dst[i] = '\0';
}

/* What gpg said about the signatures, as duplicity reads GOODSIG. */
static void
read_signatures(gpgme_ctx_t c, struct arca_gpg_sig *sig)
{
	gpgme_verify_result_t vr = gpgme_op_verify_result(c);
	gpgme_signature_t s, pick = NULL;
	gpgme_key_t k = NULL;

	memset(sig, 0, sizeof(*sig));
	for (s = vr ? vr->signatures : NULL; s != NULL; s = s->next) {
		if (gpgme_err_code(s->status) == GPG_ERR_NO_ERROR &&
		    !(s->summary & GPGME_SIGSUM_RED)) {
			pick = s;
			sig->state = ARCA_GPG_SIG_GOOD;
			break;
		}
		if (pick == NULL)
			pick = s;
	}
	if (pick == NULL)
		return;
	copy_hex(sig->fpr, sizeof(sig->fpr), pick->fpr);
	if (sig->state == ARCA_GPG_SIG_GOOD) {
		/* The signing key may be a subkey: find its primary. */
		if (pick->fpr != NULL && gpgme_get_key(c, pick->fpr, &k,
		    0) == 0 && k->subkeys != NULL)
			copy_hex(sig->primary, sizeof(sig->primary),
			    k->subkeys->fpr);
		gpgme_key_release(k);
		return;
	}
	switch (gpgme_err_code(pick->status)) {
	case GPG_ERR_BAD_SIGNATURE:
		sig->state = ARCA_GPG_SIG_BAD;
		break;
	case GPG_ERR_NO_PUBKEY:
		sig->state = ARCA_GPG_SIG_NOKEY;
		break;
	default:
		sig->state = pick->summary & GPGME_SIGSUM_RED ?
		    ARCA_GPG_SIG_BAD : ARCA_GPG_SIG_INVALID;
		snprintf(sig->reason, sizeof(sig->reason), "%s",
		    gpgme_strerror(pick->status));
		break;
	}
}

static int
decrypt(struct arca_gpg *g, int in_fd, int out_fd, const char *what,
    struct arca_gpg_sig *sig)
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
		r = op_error(g, c, &a, e, 1, what);
		goto out;
	}
	/*
	 * Without ignore-mdc-error gpg fails on a missing or bad MDC, so
	 * tampering is an error, not a warning.
	 */
	e = sig != NULL ? gpgme_op_decrypt_verify(c, in, out) :
	    gpgme_op_decrypt(c, in, out);
	dr = gpgme_op_decrypt_result(c);
	if (dr != NULL && dr->legacy_cipher_nomdc) {
		r = arca_error(g->ctx, ARCA_ERR_CORRUPT, "%s: not integrity "
		    "protected (legacy cipher without MDC), refused", what);
		goto out;
	}
	if (e != 0) {
		if (dr != NULL && dr->unsupported_algorithm != NULL) {
			r = arca_error(g->ctx, ARCA_ERR_CRYPTO, "%s: "
			    "unsupported algorithm %s", what,
			    dr->unsupported_algorithm);
			goto out;
		}
		r = op_error(g, c, &a, e, 1, what);
		goto out;
	}
	if (sig != NULL)
		read_signatures(c, sig);
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
	return decrypt(g, in_fd, out_fd, what, NULL);
}

int
arca_gpg_decrypt_verify_fd(struct arca_gpg *g, int in_fd, int out_fd,
    const char *what, struct arca_gpg_sig *sig)
{
	return decrypt(g, in_fd, out_fd, what, sig);
}
