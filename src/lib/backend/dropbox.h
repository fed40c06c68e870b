/*
 * dropbox.h: what the Dropbox backend (dropbox.c) offers beyond its ops
 * table: the OAuth 2 "PKCE, no redirect" flow that gets a refresh token,
 * for the `arca dropbox-auth` command.
 *
 * The flow: arca_dropbox_auth_start makes a code verifier and the URL the
 * person opens; Dropbox shows them a code after they allow the app; they
 * paste it and arca_dropbox_auth_finish trades it for a refresh token
 * (DPBX_REFRESH_TOKEN, used with DPBX_APP_KEY).  Base URLs follow
 * ARCA_DROPBOX_API_URL and ARCA_DROPBOX_WEB_URL when set (tests).
 */
#ifndef ARCA_BACKEND_DROPBOX_H
#define ARCA_BACKEND_DROPBOX_H

struct arca_ctx;

/*
 * A new PKCE code verifier (*verifier) and the authorization URL for app
 * app_key (*url), both owned by the caller (free; wipe the verifier).
 * Returns 0, ARCA_ERR_NOMEM, or ARCA_ERR_FATAL when no random bytes can
 * be had.
 */
int arca_dropbox_auth_start(struct arca_ctx *ctx, const char *app_key,
    char **verifier, char **url);

/*
 * Trade the code the person pasted for tokens.  app_secret may be NULL
 * (PKCE needs none).  options are backend options ("ssl-cacert-file=F"),
 * NULL-terminated, or NULL.  On success *refresh_token (wipe it) and
 * *account (the account id, or NULL) are the caller's.  Returns 0,
 * ARCA_ERR_BACKEND when Dropbox refuses the code (the message says why),
 * ARCA_ERR_RETRY when it could not be reached, or ARCA_ERR_NOMEM.
 */
int arca_dropbox_auth_finish(struct arca_ctx *ctx, const char *app_key,
    const char *app_secret, const char *verifier, const char *code,
    const char *const *options, char **refresh_token, char **account);

#endif /* !ARCA_BACKEND_DROPBOX_H */
