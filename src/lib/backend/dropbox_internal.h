/*
 * dropbox_internal.h: the pieces of the Dropbox backend, shared by its
 * files and shown to its unit tests and fuzz target.
 *
 *   dropbox.c		the backend: URL, options, put/get/list/delete,
 *			upload sessions
 *   dropbox_api.c	calls to the API: styles, tokens and their renewal,
 *			429s, errors, content_hash
 *   dropbox_auth.c	the PKCE flow of `arca dropbox-auth` (dropbox.h)
 *
 * JSON values are util/json.c's (struct arca_json); none of these files
 * includes <jansson.h>.
 */
#ifndef ARCA_BACKEND_DROPBOX_INTERNAL_H
#define ARCA_BACKEND_DROPBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct arca_buf;
struct arca_ctx;
struct arca_http;
struct arca_strlist;
struct arca_json;

#define DPBX_API_DEFAULT	"https://api.dropboxapi.com"
#define DPBX_CONTENT_DEFAULT	"https://content.dropboxapi.com"
#define DPBX_WEB_DEFAULT	"https://www.dropbox.com"
/* content_hash in hex, with its NUL */
#define DPBX_HASH_HEX		65

/* An open dpbx:// target. */
struct arca_dpbx {
	struct arca_ctx *ctx;
	struct arca_http *http;
	char *api;		/* base URLs, no trailing '/' */
	char *content;
	char *folder;		/* "" (the root) or "/a/b" */
	char *where;		/* the URL for messages */
	char *access;		/* tokens and secret: wiped on close */
	char *refresh;
	char *app_key;
	char *app_secret;
	uint64_t threshold;	/* larger files go in upload sessions */
	uint64_t chunk;		/* bytes per session call */
	int create;
};

enum arca_dpbx_style {
	ARCA_DPBX_RPC,		/* api host, JSON body */
	ARCA_DPBX_UPLOAD,	/* content host, Dropbox-API-Arg, file body */
	ARCA_DPBX_DOWNLOAD	/* content host, Dropbox-API-Arg, file back */
};

/* One call: what to send, and the answer. */
struct arca_dpbx_call {
	enum arca_dpbx_style style;
	const char *route;	/* "files/upload" */
	struct arca_json *arg;	/* borrowed; NULL sends null */
	int body_fd;		/* ARCA_DPBX_UPLOAD: what to send */
	uint64_t body_off, body_len;
	int out_fd;		/* ARCA_DPBX_DOWNLOAD: where the file goes */
	size_t max_body;	/* 0: ARCA_HTTP_BODY_MAX */
	const char *what;	/* "upload of NAME", for messages */
	/* the answer */
	struct arca_json *result;	/* 200: the body, or Dropbox-API-Result */
	struct arca_json *error;	/* 409: the error union */
};

/* Set c up for a call (fds -1, no answer); arg and what are borrowed. */
void arca_dpbx_call_init(struct arca_dpbx_call *c,
    enum arca_dpbx_style style, const char *route, struct arca_json *arg,
    const char *what);
/* Drop the answer of c. */
void arca_dpbx_call_free(struct arca_dpbx_call *c);

/*
 * Make call c (its previous answer dropped first).  Returns 0 with
 * c->result set on 200; for a 409, ARCA_ERR_BACKEND (ARCA_ERR_RETRY for
 * too_many_write_operations) with c->error set and the message made from
 * the answer, callers looking at the tags for the cases they expect; else
 * an arca_err with the message set.
 */
int arca_dpbx_call(struct arca_dpbx *st, struct arca_dpbx_call *c);

/*
 * POST the form-encoded form to api's /oauth2/token; the JSON answer in
 * *out (the caller's).  Returns 0, ARCA_ERR_BACKEND naming the OAuth
 * error, ARCA_ERR_RETRY, or ARCA_ERR_NOMEM.
 */
int arca_dpbx_oauth_post(struct arca_ctx *ctx, struct arca_http *http,
    const char *api, struct arca_buf *form, const char *what,
    struct arca_json **out);
/* Append "&name=value", form-encoded; 0 or ARCA_ERR_NOMEM. */
int arca_dpbx_form_add(struct arca_buf *b, const char *name,
    const char *value);
/* The value of environment variable name, or dflt, without trailing
 * slashes; NULL when out of memory. */
char *arca_dpbx_base_url(const char *name, const char *dflt);
/* Replace *dst by a copy of src (NULL: none), wiping the old value. */
int arca_dpbx_set_str(char **dst, const char *src);

/* Any JSON value from s[0..n), or NULL. */
struct arca_json *arca_dpbx_parse_json(const char *s, size_t n);
/* The ".tag" of union u, or "". */
const char *arca_dpbx_tag(const struct arca_json *u);
/* The innermost tag of {".tag": "x", "x": {".tag": ...}}. */
const char *arca_dpbx_leaf_tag(const struct arca_json *e);
/* Lower-case hex (2n digits) to n bytes; -1 on a bad digit. */
int arca_dpbx_unhex(const char *hex, unsigned char *out, size_t n);

/*
 * Dropbox's content_hash of the whole of fd (read with pread from offset
 * 0): SHA-256 over the concatenated SHA-256 digests of each 4 MiB block,
 * as lower-case hex into hex (DPBX_HASH_HEX bytes).  path names fd in
 * messages.  Returns 0, ARCA_ERR_IO or ARCA_ERR_NOMEM.
 */
int arca_dpbx_content_hash(struct arca_ctx *ctx, int fd, const char *path,
    char *hex);

/*
 * The message for a 409 answer body (any bytes): its error_summary
 * without Dropbox's padding, and what the tag means when it is one a
 * backup meets ("path/not_found: no such file or folder").  Always
 * NUL-terminates out; printable ASCII only.
 */
void arca_dpbx_error_text(const char *body, size_t len, char *out, size_t n);

/*
 * One list_folder (or /continue) answer, as text: the names of its files
 * appended to out; *cursor gets the cursor of the next page (the caller
 * frees it) or NULL when has_more is false.  Returns 0, ARCA_ERR_RETRY for
 * an answer that is not what Dropbox sends, ARCA_ERR_CORRUPT past the cap
 * on names, or ARCA_ERR_NOMEM.
 */
int arca_dpbx_list_page(struct arca_ctx *ctx, const char *where,
    const char *text, size_t len, struct arca_strlist *out, char **cursor);

#endif /* !ARCA_BACKEND_DROPBOX_INTERNAL_H */
