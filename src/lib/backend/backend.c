/*
 * backend.c: the scheme registry and the retry loop.
 *
 * Backends only say whether a failure is worth retrying (ARCA_ERR_RETRY);
 * how often and how long to wait is decided here, once, for all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/fault.h"
#include "util/buf.h"
#include "util/ctx.h"

#define ARCA_BACKEND_TRIES	5
#define ARCA_BACKEND_DELAY	1.0
/* One wait never exceeds this, however many tries were asked for. */
#define ARCA_BACKEND_MAXDELAY	300.0

static const struct arca_backend_ops *const backends[] = {
	&arca_backend_file,
	&arca_backend_sftp,
	&arca_backend_scp,
	&arca_backend_rclone,
	&arca_backend_webdav,
	&arca_backend_webdavs,
	&arca_backend_dpbx,
	&arca_backend_s3,
	&arca_backend_s3_http,
};

struct arca_backend {
	struct arca_ctx *ctx;
	const struct arca_backend_ops *ops;
	void *state;
	struct arca_url url;
	int tries;
	double delay;
	/* The names of the delete_many in progress. */
	const char *const *many;
	size_t nmany;
};

/* Options handed to the backend that arca_backend_open is opening. */
static const char *const *open_options;

enum backend_op { OP_PUT, OP_GET, OP_LIST, OP_DELETE, OP_DELETE_MANY };

static const char *const op_names[] = { "upload of", "download of",
	"listing of", "deletion of", "deletion of" };

int
arca_backend_open_ops(struct arca_ctx *ctx, const struct arca_backend_ops *ops,
    const char *url, int create, struct arca_backend **out)
{
	struct arca_backend *b;
	int rc;

	*out = NULL;
	if ((b = arca_calloc(1, sizeof(*b))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	b->ctx = ctx;
	b->ops = ops;
	b->tries = ARCA_BACKEND_TRIES;
	b->delay = ARCA_BACKEND_DELAY;
	if ((rc = arca_url_parse(ctx, url, &b->url)) != 0)
		goto out;
	if (strcmp(b->url.scheme, ops->scheme) != 0) {
		rc = arca_error(ctx, ARCA_ERR_USAGE,
		    "URL %s given to the %s backend", b->url.redacted,
		    ops->scheme);
		goto out;
	}
	b->url.options = open_options;
	if ((rc = ops->open(ctx, &b->url, create, &b->state)) != 0)
		goto out;
	/* Tests only: ARCA_TEST_FAULTS puts a faulty server in between. */
	if ((rc = arca_fault_wrap(ctx, &b->ops, &b->state)) != 0) {
		b->ops->close(b->state);
		b->state = NULL;
	}

out:
	if (rc != 0) {
		arca_url_free(&b->url);
		free(b);
	} else
		*out = b;
	return rc;
}

const char *
arca_url_option(const struct arca_url *url, const char *name)
{
	const char *const *o, *v = NULL;
	size_t n = strlen(name);

	for (o = url->options; o != NULL && *o != NULL; o++)
		if (strncmp(*o, name, n) == 0 && ((*o)[n] == '=' ||
		    (*o)[n] == '\0'))
			v = (*o)[n] == '=' ? *o + n + 1 : "";
	return v;
}

const struct arca_backend_optdef *
arca_backend_find_option(const char *name, size_t len)
{
	const struct arca_backend_optdef *d;
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		for (d = backends[i]->options; d != NULL && d->name != NULL; d++)
			if (strlen(d->name) == len &&
			    strncmp(d->name, name, len) == 0)
				return d;
	return NULL;
}

void
arca_backend_each_option(void (*fn)(void *ud, const char *scheme,
    const struct arca_backend_optdef *d), void *ud)
{
	const struct arca_backend_optdef *d;
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		for (d = backends[i]->options; d != NULL && d->name != NULL; d++)
			/* Options several backends share are listed once. */
			if (arca_backend_find_option(d->name, strlen(d->name)) == d)
				fn(ud, backends[i]->scheme, d);
}

int
arca_backend_open(struct arca_ctx *ctx, const char *url, int create,
    const char *const *options, struct arca_backend **out)
{
	struct arca_url u;
	struct arca_buf known = { 0 };
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = arca_url_parse(ctx, url, &u)) != 0)
		return rc;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->scheme, u.scheme) == 0)
			break;
	if (i < sizeof(backends) / sizeof(backends[0])) {
		open_options = options;
		rc = arca_backend_open_ops(ctx, backends[i], url, create, out);
		open_options = NULL;
		goto out;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (arca_buf_printf(&known, "%s%s://", i ? ", " : "",
		    backends[i]->scheme) != 0) {
			rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
			goto out;
		}
	rc = arca_error(ctx, ARCA_ERR_USAGE,
	    "unsupported backend scheme '%s' in URL %s (supported: %s)",
	    u.scheme, u.redacted, known.data);

out:
	arca_buf_free(&known);
	arca_url_free(&u);
	return rc;
}

const char *
arca_backend_url(const struct arca_backend *b)
{
	return b->url.redacted;
}

void
arca_backend_close(struct arca_backend *b)
{
	if (b == NULL)
		return;
	if (b->state != NULL)
		b->ops->close(b->state);
	arca_url_free(&b->url);
	free(b);
}

void
arca_backend_set_retries(struct arca_backend *b, int tries, double delay)
{
	b->tries = tries < 1 ? 1 : tries;
	b->delay = !(delay > 0) ? 0 : delay;	/* NaN counts as 0 */
}

void
arca_backend_sleep(double secs)
{
	struct timespec ts, rem;

	if (!(secs > 0))
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/*
 * Backend file names are flat; a name from a remote listing must not be
 * able to point elsewhere (a file backend would follow "../x").
 */
static int
check_name(struct arca_ctx *ctx, const char *name)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strchr(name, '/') != NULL)
		return arca_error(ctx, ARCA_ERR_UNSAFE,
		    "refusing backend file name '%s'", name ? name : "");
	return 0;
}

/*
 * After an upload, where the backend can tell: does the target hold as many
 * bytes as were sent?  A server that kept only part of a volume would
 * otherwise let a manifest name it as complete.  A short file is worth
 * another upload.
 */
static int
check_size(struct arca_backend *b, const char *local_path, const char *name)
{
	struct stat sb;
	uint64_t got = 0;
	int rc;

	if (b->ops->size == NULL)
		return 0;
	if (stat(local_path, &sb) != 0)
		return arca_error(b->ctx, ARCA_ERR_IO, "cannot stat %s: %s",
		    local_path, strerror(errno));
	if ((rc = b->ops->size(b->state, name, &got)) != 0)
		return rc == ARCA_ERR_NOTFOUND ? arca_error(b->ctx,
		    ARCA_ERR_RETRY, "%s is missing from the target right after "
		    "its upload", name) : rc;
	if (got != (uint64_t)sb.st_size)
		return arca_error(b->ctx, ARCA_ERR_RETRY, "the target holds %llu "
		    "bytes of %s after its upload, %llu were sent",
		    (unsigned long long)got, name,
		    (unsigned long long)sb.st_size);
	return 0;
}

static int
backend_once(struct arca_backend *b, enum backend_op op, const char *a1,
    const char *a2, struct arca_strlist *l)
{
	int rc;

	switch (op) {
	case OP_PUT:
		if ((rc = b->ops->put(b->state, a1, a2)) != 0)
			return rc;
		return check_size(b, a1, a2);
	case OP_GET:
		return b->ops->get(b->state, a1, a2);
	case OP_LIST:
		return b->ops->list(b->state, l);
	case OP_DELETE:
		return b->ops->del(b->state, a1);
	case OP_DELETE_MANY:
		return b->ops->del_many(b->state, b->many, b->nmany);
	}
	return arca_error(b->ctx, ARCA_ERR_FATAL, "bad backend operation");
}

/* Move every string of from to the end of to; from is emptied. */
static int
list_move(struct arca_strlist *to, struct arca_strlist *from)
{
	struct arca_strlist tmp;
	size_t i;

	if (to->n == 0) {
		tmp = *to;
		*to = *from;
		*from = tmp;
		arca_strlist_free(from);
		return 0;
	}
	for (i = 0; i < from->n; i++)
		if (arca_strlist_add(to, from->v[i]) != 0)
			return ARCA_ERR_NOMEM;
	arca_strlist_free(from);
	return 0;
}

static int
backend_call(struct arca_backend *b, enum backend_op op, const char *a1,
    const char *a2, struct arca_strlist *out)
{
	struct arca_ctx *ctx = b->ctx;
	struct arca_strlist l = { 0 };
	char msg[sizeof(ctx->errmsg)];
	const char *what;
	double delay = b->delay;
	int attempt, rc;

	what = op == OP_LIST ? "the backup target" : op == OP_GET ||
	    op == OP_DELETE ? a1 : a2;
	for (attempt = 1;; attempt++) {
		/* A failed listing may have added some names: start over. */
		arca_strlist_free(&l);
		if ((rc = backend_once(b, op, a1, a2, &l)) != ARCA_ERR_RETRY)
			break;
		/* The message is on ctx, which the next arca_error reuses. */
		snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
		if (attempt >= b->tries) {
			rc = arca_error(ctx, ARCA_ERR_BACKEND,
			    "%s %s failed after %d attempt%s: %s",
			    op_names[op], what, attempt, attempt == 1 ? "" :
			    "s", msg);
			goto out;
		}
		arca_warn(ctx, "%s %s failed (attempt %d of %d), retrying "
		    "in %g s: %s", op_names[op], what, attempt, b->tries,
		    delay, msg);
		arca_backend_sleep(delay);
		delay *= 2;
		if (delay > ARCA_BACKEND_MAXDELAY)
			delay = ARCA_BACKEND_MAXDELAY;
	}
	if (rc == 0 && op == OP_LIST && list_move(out, &l) != 0)
		rc = arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	/* A permanent failure names the operation and the file. */
	if (rc != 0 && rc != ARCA_ERR_NOMEM && rc != ARCA_ERR_NOTFOUND &&
	    strstr(ctx->errmsg, what) == NULL)
		arca_error_prefix(ctx, "%s %s", op_names[op], what);
out:
	arca_strlist_free(&l);
	return rc;
}

int
arca_backend_put(struct arca_backend *b, const char *local_path,
    const char *name)
{
	int rc;

	if ((rc = check_name(b->ctx, name)) != 0)
		return rc;
	return backend_call(b, OP_PUT, local_path, name, NULL);
}

int
arca_backend_get(struct arca_backend *b, const char *name,
    const char *local_path)
{
	int rc;

	if ((rc = check_name(b->ctx, name)) != 0)
		return rc;
	return backend_call(b, OP_GET, name, local_path, NULL);
}

int
arca_backend_open_read(struct arca_backend *b, const char *name, int *fd)
{
	int rc;

	*fd = -1;
	if (b->ops->open_read == NULL)
		return 1;
	if ((rc = check_name(b->ctx, name)) != 0)
		return rc;
	return b->ops->open_read(b->state, name, fd);
}

int
arca_backend_create(struct arca_backend *b, const char *name,
    struct arca_sink **sink)
{
	int rc;

	*sink = NULL;
	if (b->ops->create == NULL || b->ops->commit == NULL)
		return 1;
	if ((rc = check_name(b->ctx, name)) != 0)
		return rc;
	return b->ops->create(b->state, name, sink);
}

int
arca_backend_commit(struct arca_backend *b, struct arca_sink *sink)
{
	return b->ops->commit(b->state, sink);
}

int
arca_backend_list(struct arca_backend *b, struct arca_strlist *out)
{
	return backend_call(b, OP_LIST, NULL, NULL, out);
}

int
arca_backend_delete(struct arca_backend *b, const char *name)
{
	int rc;

	if ((rc = check_name(b->ctx, name)) != 0)
		return rc;
	return backend_call(b, OP_DELETE, name, NULL, NULL);
}

int
arca_backend_delete_many(struct arca_backend *b, const char *const *names,
    size_t n)
{
	char what[64];
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = check_name(b->ctx, names[i])) != 0)
			return rc;
	if (b->ops->del_many == NULL) {
		for (i = 0; i < n; i++)
			if ((rc = arca_backend_delete(b, names[i])) != 0)
				return rc;
		return 0;
	}
	if (n == 0)
		return 0;
	snprintf(what, sizeof(what), "%zu file%s", n, n == 1 ? "" : "s");
	b->many = names;
	b->nmany = n;
	rc = backend_call(b, OP_DELETE_MANY, NULL, what, NULL);
	b->many = NULL;
	b->nmany = 0;
	return rc;
}

int
arca_backend_sweep(struct arca_backend *b, int apply,
    struct arca_strlist *found)
{
	if (b->ops->sweep == NULL)
		return 0;
	return b->ops->sweep(b->state, apply, found);
}
