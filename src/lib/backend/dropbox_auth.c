/*
 * dropbox_auth.c: Dropbox's OAuth 2 "PKCE, no redirect" flow, for
 * `arca dropbox-auth` (dropbox.h).
 *
 * RFC 7636: a random code verifier, its S256 challenge in the authorize
 * URL, the verifier sent along when the code is traded for tokens, so no
 * app secret is needed (DPBX_APP_SECRET is sent when set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "backend/backend.h"
#include "backend/dropbox.h"
#include "backend/dropbox_internal.h"
#include "backend/http.h"
#include "crypto/digest.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/json.h"


static int
b64url(struct arca_buf *b, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	unsigned v;
	size_t i;
	int bits;

	for (i = 0, v = 0, bits = 0; i < n; i++) {
		v = v << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			if (arca_buf_putc(b, a[(v >> bits) & 63]) != 0)
				return ARCA_ERR_NOMEM;
		}
	}
	if (bits > 0 && arca_buf_putc(b, a[(v << (6 - bits)) & 63]) != 0)
		return ARCA_ERR_NOMEM;
	return 0;
}

int
arca_dropbox_auth_start(struct arca_ctx *ctx, const char *app_key,
    char **verifier, char **url)
{
	struct arca_buf v = { 0 }, u = { 0 }, ch = { 0 };
	unsigned char rnd[48], bin[32];
	char hex[DPBX_HASH_HEX], *web = NULL;
	size_t got = 0;
	ssize_t n;
	int rc = 0;

	*verifier = *url = NULL;
	while (got < sizeof(rnd)) {
		if ((n = getrandom(rnd + got, sizeof(rnd) - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			rc = arca_error(ctx, ARCA_ERR_FATAL, "no random bytes: "
			    "%s", strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	/* 64 characters of [A-Za-z0-9-_]: a verifier as RFC 7636 wants. */
	if (b64url(&v, rnd, sizeof(rnd)) != 0 ||
	    arca_digest_buffer(ARCA_DIGEST_SHA256, v.data, v.len, hex) != 0 ||
	    arca_dpbx_unhex(hex, bin, sizeof(bin)) != 0 ||
	    b64url(&ch, bin, sizeof(bin)) != 0 ||
	    arca_buf_putc(&ch, '\0') != 0 ||
	    (web = arca_dpbx_base_url("ARCA_DROPBOX_WEB_URL",
	    DPBX_WEB_DEFAULT)) == NULL ||
	    arca_buf_printf(&u, "%s/oauth2/authorize?client_id=", web) != 0 ||
	    arca_http_escape(&u, app_key, 0) != 0 ||
	    arca_buf_printf(&u, "&response_type=code&token_access_type=offline"
	    "&code_challenge=%s&code_challenge_method=S256",
	    (const char *)ch.data) != 0) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((*verifier = arca_buf_steal(&v)) == NULL ||
	    (*url = arca_buf_steal(&u)) == NULL) {
		arca_wipe_free(*verifier);
		*verifier = NULL;
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	}
out:
	explicit_bzero(rnd, sizeof(rnd));
	arca_buf_wipe(&v);
	arca_buf_free(&u);
	arca_buf_free(&ch);
	free(web);
	return rc;
}

int
arca_dropbox_auth_finish(struct arca_ctx *ctx, const char *app_key,
    const char *app_secret, const char *verifier, const char *code,
    const char *const *options, char **refresh_token, char **account)
{
	struct arca_url url = { 0 };
	struct arca_http *http = NULL;
	struct arca_buf form = { 0 };
	const char *tok, *acct;
	struct arca_json *j = NULL;
	char *api = NULL;
	int rc;

	*refresh_token = *account = NULL;
	url.options = options;
	if ((rc = arca_http_new(ctx, &url, &http)) != 0)
		goto out;
	if ((api = arca_dpbx_base_url("ARCA_DROPBOX_API_URL",
	    DPBX_API_DEFAULT)) == NULL ||
	    arca_dpbx_form_add(&form, "grant_type", "authorization_code") !=
	    0 ||
	    arca_dpbx_form_add(&form, "code", code) != 0 ||
	    arca_dpbx_form_add(&form, "client_id", app_key) != 0 ||
	    arca_dpbx_form_add(&form, "code_verifier", verifier) != 0 ||
	    (app_secret != NULL && app_secret[0] != '\0' &&
	    arca_dpbx_form_add(&form, "client_secret", app_secret) != 0)) {
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = arca_dpbx_oauth_post(ctx, http, api, &form, "getting the "
	    "Dropbox refresh token", &j)) != 0)
		goto out;
	if ((tok = arca_json_get_str(j, "refresh_token")) ==
	    NULL || tok[0] == '\0') {
		rc = arca_error(ctx, ARCA_ERR_BACKEND, "Dropbox gave no "
		    "refresh token (was token_access_type=offline dropped "
		    "from the URL?)");
		goto out;
	}
	acct = arca_json_get_str(j, "account_id");
	if ((*refresh_token = arca_strdup(tok)) == NULL ||
	    (acct != NULL && (*account = arca_strdup(acct)) == NULL)) {
		arca_wipe_free(*refresh_token);
		*refresh_token = NULL;
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	}
out:
	arca_json_wipe_str(j, "refresh_token");
	arca_json_wipe_str(j, "access_token");
	arca_json_free(j);
	arca_buf_wipe(&form);
	arca_http_free(http);
	free(api);
	return rc;
}

