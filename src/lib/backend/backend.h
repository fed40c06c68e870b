/*
 * backend.h: storage backends.  A backend stores flat files by name in one
 * location; the core owns retries and backoff, a backend only says whether
 * a failure is worth retrying (ARCA_ERR_RETRY).
 */
#ifndef ARCA_BACKEND_BACKEND_H
#define ARCA_BACKEND_BACKEND_H

#include <stdint.h>

struct arca_ctx;
struct arca_sink;
struct arca_strlist;

struct arca_url {
	char *scheme;		/* "file", "s3", ... */
	char *user;		/* NULL if absent; percent-decoded */
	char *password;		/* NULL if absent; wiped on free */
	char *host;		/* NULL if absent */
	int port;		/* 0 if absent */
	char *path;		/* percent-decoded path ("" if none); for
				 * file: everything after "file://", else
				 * it keeps its leading '/' */
	char *text;		/* the URL as given: may hold the password,
				 * never put it in a message; wiped on free */
	char *redacted;		/* text with the password as "***": the
				 * form to use in messages and logs */
	/* Backend options from the command line ("name=value", or "name"
	 * for a switch), borrowed; NULL-terminated, or NULL. */
	const char *const *options;
};

/*
 * Parse text into *out (zeroed first; the caller frees it with
 * arca_url_free, also after a failure).  Returns 0, ARCA_ERR_USAGE with a
 * message for a malformed URL, or ARCA_ERR_NOMEM.
 */
int arca_url_parse(struct arca_ctx *ctx, const char *text, struct arca_url *out);
/* Free the fields (wiping password and text) and zero *u; NULL is a no-op. */
void arca_url_free(struct arca_url *u);
/* 1 if text looks like a URL (scheme://) */
int arca_url_is_url(const char *text);

/* A command-line option a backend understands (--NAME [VALUE]). */
struct arca_backend_optdef {
	const char *name;	/* without "--", e.g. "s3-endpoint-url" */
	int has_arg;
	const char *help;
};

struct arca_backend_ops {
	const char *scheme;
	/* Its command-line options, terminated by a NULL name; or NULL. */
	const struct arca_backend_optdef *options;
	int (*open)(struct arca_ctx *ctx, const struct arca_url *url,
	    int create, void **state);
	/* Store local file local_path as name, atomically (temp name, then
	 * rename, or the service's equivalent). */
	int (*put)(void *state, const char *local_path, const char *name);
	/* Fetch name into local_path (created/truncated). ARCA_ERR_NOTFOUND if absent. */
	int (*get)(void *state, const char *name, const char *local_path);
	/* All file names in the location (no directories). */
	int (*list)(void *state, struct arca_strlist *out);
	/* Delete name; deleting a missing file is not an error. */
	int (*del)(void *state, const char *name);
	/* Optional: delete several names in one go (S3's DeleteObjects),
	 * missing ones not an error; NULL: del is called for each. */
	int (*del_many)(void *state, const char *const *names, size_t n);
	/* Optional: the size in bytes of the stored file name, so that the
	 * core can check an upload (a server that kept only part of it);
	 * NULL: uploads are not checked. */
	int (*size)(void *state, const char *name, uint64_t *size);
	/* Optional: a read-only fd of the stored file name, for a target on
	 * this machine, so that a restore reads it in place instead of
	 * copying it first; ARCA_ERR_NOTFOUND if absent.  NULL: use get. */
	int (*open_read)(void *state, const char *name, int *fd);
	/*
	 * Optional, with commit: write a new file straight into a target on
	 * this machine, so that a backup writes each volume once instead of
	 * writing it locally and copying it.  *sink takes the bytes (its
	 * write and close errors are the backend's, with its messages;
	 * close makes the data durable and releases the file); commit
	 * publishes it as name, atomically, after a successful close;
	 * freeing the sink without a commit deletes what was written.
	 * NULL: write a local file and put it.
	 */
	int (*create)(void *state, const char *name, struct arca_sink **sink);
	int (*commit)(void *state, struct arca_sink *sink);
	/* Optional: find the upload temp files that crashed runs left (the
	 * backend decides which are stale, see docs/RETENTION.md), append
	 * their names to found, and delete them if apply. */
	int (*sweep)(void *state, int apply, struct arca_strlist *found);
	void (*close)(void *state);
};

struct arca_backend;

/*
 * Open the backend for url.  create = 1 makes a missing location (backup);
 * create = 0 makes it ARCA_ERR_NOTFOUND (restore, listing).  Unknown scheme
 * is ARCA_ERR_USAGE.
 */
int arca_backend_open(struct arca_ctx *ctx, const char *url, int create,
    const char *const *options, struct arca_backend **out);

/*
 * The value of backend option name from url->options: the text after '='
 * ("" for a switch), or NULL when not given.  The last one given wins.
 */
const char *arca_url_option(const struct arca_url *url, const char *name);

/* Look up a backend option by name among all backends; NULL if unknown. */
const struct arca_backend_optdef *arca_backend_find_option(const char *name,
    size_t len);
/* Visit every backend option (for --help). */
void arca_backend_each_option(void (*fn)(void *ud, const char *scheme,
    const struct arca_backend_optdef *d), void *ud);
/*
 * Same as arca_backend_open with an explicit ops table instead of a lookup
 * by scheme (tests, and backends chosen by other means).
 */
int arca_backend_open_ops(struct arca_ctx *ctx,
    const struct arca_backend_ops *ops, const char *url, int create,
    struct arca_backend **out);
void arca_backend_close(struct arca_backend *b);
/* The target's URL for messages: the password, if any, shown as "***". */
const char *arca_backend_url(const struct arca_backend *b);
/* Retry policy (defaults: 5 tries, 1 s first delay, doubling). */
void arca_backend_set_retries(struct arca_backend *b, int tries, double delay);

/*
 * The four operations.  Each is retried while the backend returns
 * ARCA_ERR_RETRY (a warning is logged per retry); after the last try the
 * result is ARCA_ERR_BACKEND.  Other errors return at once.  A name that is
 * empty, ".", ".." or holds a '/' is refused with ARCA_ERR_UNSAFE.
 * list appends to out (entries are added only on success).
 */
int arca_backend_put(struct arca_backend *b, const char *local_path,
    const char *name);
int arca_backend_get(struct arca_backend *b, const char *name,
    const char *local_path);
int arca_backend_list(struct arca_backend *b, struct arca_strlist *out);
int arca_backend_delete(struct arca_backend *b, const char *name);
/*
 * Delete n names, in batches where the backend can, else one by one;
 * retried like the others (deleting again what is gone is harmless).
 * Every name is checked as above before anything is deleted.
 */
int arca_backend_delete_many(struct arca_backend *b,
    const char *const *names, size_t n);
/*
 * A read-only fd of the stored file name where the backend can give one
 * (file://): *fd and 0, or ARCA_ERR_NOTFOUND / another negative error.
 * 1 (no message) when the backend cannot: then use get.  Not retried (a
 * local file).
 */
int arca_backend_open_read(struct arca_backend *b, const char *name, int *fd);
/*
 * Start writing name straight into the target where the backend can
 * (file://, see ops->create): *sink and 0, or a negative error.  1 (no
 * message) when it cannot: then write a local file and put it.  Write
 * everything, close the sink, then arca_backend_commit publishes it as
 * name; arca_sink_free without a commit drops it.  Not retried (a local
 * file).
 */
int arca_backend_create(struct arca_backend *b, const char *name,
    struct arca_sink **sink);
int arca_backend_commit(struct arca_backend *b, struct arca_sink *sink);
/*
 * Find the upload temp files of crashed runs that the backend can tell are
 * stale, append their names to found, and delete them if apply.  0 (and
 * nothing found) for a backend that cannot tell.  Not retried.
 */
int arca_backend_sweep(struct arca_backend *b, int apply,
    struct arca_strlist *found);

/* Sleep secs seconds (nothing for 0, negative or NaN), resuming after
 * signals: the retry loop's backoff, and a backend's own waits. */
void arca_backend_sleep(double secs);

extern const struct arca_backend_ops arca_backend_file;
extern const struct arca_backend_ops arca_backend_sftp;
extern const struct arca_backend_ops arca_backend_scp;
extern const struct arca_backend_ops arca_backend_rclone;
extern const struct arca_backend_ops arca_backend_webdav;
extern const struct arca_backend_ops arca_backend_webdavs;
extern const struct arca_backend_ops arca_backend_dpbx;
extern const struct arca_backend_ops arca_backend_s3;
extern const struct arca_backend_ops arca_backend_s3_http;

#endif /* !ARCA_BACKEND_BACKEND_H */
