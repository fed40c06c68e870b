/*
 * gpgsig.c: the --sign-key policy for restore and verify (spec §4.3),
 * kept apart from gpg.c because it needs no GPGME: duplicity accepts a
 * volume when gpg reports a good signature (GOODSIG) whose key id ends
 * with the configured key, compared on the shorter of the two lengths.
 */
#include <string.h>

#include "crypto/gpg.h"
#include "util/ctx.h"

int
arca_gpg_keyid_match(const char *fpr, const char *want)
{
	size_t nf, nw, n, i;
	int a, b;

	if (fpr == NULL || want == NULL)
		return 0;
	if (want[0] == '0' && (want[1] == 'x' || want[1] == 'X'))
		want += 2;
	nf = strlen(fpr);
	nw = strlen(want);
	n = nf < nw ? nf : nw;
	/* duplicity insists on 8 hex digits or more; so do we. */
	if (n < 8)
		return 0;
	for (i = 1; i <= n; i++) {
		a = (unsigned char)fpr[nf - i];
		b = (unsigned char)want[nw - i];
		if (a >= 'a' && a <= 'f')
			a -= 'a' - 'A';
		if (b >= 'a' && b <= 'f')
			b -= 'a' - 'A';
		if (a != b)
			return 0;
	}
	return 1;
}

int
arca_gpg_check_signer(struct arca_ctx *ctx, const struct arca_gpg_sig *sig,
    const char *want, const char *what)
{
	switch (sig->state) {
	case ARCA_GPG_SIG_GOOD:
		if (arca_gpg_keyid_match(sig->fpr, want) ||
		    arca_gpg_keyid_match(sig->primary, want))
			return 0;
		return arca_error(ctx, ARCA_ERR_SIGNATURE, "%s was signed by "
		    "key %s, not %s (--sign-key): refusing it", what,
		    sig->primary[0] ? sig->primary : sig->fpr, want);
	case ARCA_GPG_SIG_NONE:
		return arca_error(ctx, ARCA_ERR_SIGNATURE, "%s is not signed, "
		    "but --sign-key %s requires a signature: refusing it",
		    what, want);
	case ARCA_GPG_SIG_BAD:
		return arca_error(ctx, ARCA_ERR_SIGNATURE, "%s has a BAD "
		    "signature%s%s (the data was changed after signing): "
		    "refusing it", what, sig->fpr[0] ? " from key " : "",
		    sig->fpr);
	case ARCA_GPG_SIG_NOKEY:
		return arca_error(ctx, ARCA_ERR_SIGNATURE, "%s was signed by "
		    "key %s, which is not in the GnuPG keyring, not by %s "
		    "(--sign-key): refusing it", what,
		    sig->fpr[0] ? sig->fpr : "?", want);
	case ARCA_GPG_SIG_INVALID:
		break;
	}
	return arca_error(ctx, ARCA_ERR_SIGNATURE, "%s: the signature%s%s "
	    "is not valid (%s): refusing it", what, sig->fpr[0] ?
	    " from key " : "", sig->fpr, sig->reason);
}
