/*
 * fault.c: ARCA_TEST_FAULTS, a backend wrapper that injects faults.
 *
 * Tests need a server that fails, hangs or loses data on demand, at one
 * chosen operation, with every backend.  The wrapper sits between the
 * retry loop (backend.c) and the real backend, so what it injects looks to
 * arca exactly like a broken server: a truncated put really stores fewer
 * bytes on the target and reports success.
 *
 * ARCA_TEST_FAULTS="RULE[;RULE...]", RULE = OP:GLOB:ACTION[:CALLS]
 *   OP      put, get, list, del, or * (any)
 *   GLOB    fnmatch(3) pattern for the file name (list matches it against
 *           the empty name, so use *)
 *   ACTION  retry       transient failure (ARCA_ERR_RETRY)
 *           fail        permanent failure ("permission denied")
 *           auth        permanent failure (ARCA_ERR_AUTH)
 *           notfound    the file is said to be absent
 *           trunc[=N]   put/get move only the first N bytes (default:
 *                       half), and report success
 *           flip        put/get flip one byte in the middle, report success
 *           delay=S     wait S seconds (fractions allowed), then go on
 *   CALLS   N, N-M or N- : the matching calls of this rule (counted from
 *           1, each rule on its own) it fires on; default every one
 *
 * Harmless outside tests: without the variable nothing is wrapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/fault.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

#define FAULT_ENV	"ARCA_TEST_FAULTS"
#define FAULT_MAXRULES	32
#define FAULT_MAXGLOB	256

enum fault_op { F_PUT = 1, F_GET = 2, F_LIST = 4, F_DEL = 8 };

enum fault_kind { K_RETRY, K_FAIL, K_AUTH, K_NOTFOUND, K_TRUNC, K_FLIP,
	K_DELAY };

struct fault_rule {
	unsigned ops;
	char glob[FAULT_MAXGLOB];
	enum fault_kind kind;
	int has_arg;
	double arg;		/* bytes for trunc, seconds for delay */
	unsigned long from, to;	/* to == 0: no end */
	unsigned long seen;
};

struct fault_state {
	struct arca_backend_ops ops;	/* what arca_backend calls */
	struct arca_ctx *ctx;
	const struct arca_backend_ops *inner;
	void *istate;
	struct fault_rule rules[FAULT_MAXRULES];
	size_t nrules;
};

static const char *const op_words[] = { "upload of", "download of",
	"listing of", "deletion of" };

static const char *
op_word(unsigned op)
{
	return op_words[op == F_PUT ? 0 : op == F_GET ? 1 : op == F_LIST ? 2 :
	    3];
}

static int
parse_calls(const char *s, struct fault_rule *r)
{
	char *end;

	errno = 0;
	r->from = strtoul(s, &end, 10);
	if (errno != 0 || end == s || r->from == 0)
		return -1;
	if (*end == '\0') {
		r->to = r->from;
		return 0;
	}
	if (*end++ != '-')
		return -1;
	if (*end == '\0') {
		r->to = 0;
		return 0;
	}
	s = end;
	r->to = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || r->to < r->from)
		return -1;
	return 0;
}

static int
parse_action(const char *s, struct fault_rule *r)
{
	static const struct {
		const char *word;
		enum fault_kind kind;
	} words[] = {
		{ "retry", K_RETRY }, { "fail", K_FAIL }, { "auth", K_AUTH },
		{ "notfound", K_NOTFOUND }, { "trunc", K_TRUNC },
		{ "flip", K_FLIP }, { "delay", K_DELAY },
	};
	const char *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : strlen(s), i;
	char *end;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncmp(words[i].word, s, n) == 0)
			break;
	if (i == sizeof(words) / sizeof(words[0]))
		return -1;
	r->kind = words[i].kind;
	if (eq == NULL)
		return r->kind == K_DELAY ? -1 : 0;
	if (r->kind != K_DELAY && r->kind != K_TRUNC)
		return -1;
	errno = 0;
	r->arg = strtod(eq + 1, &end);
	if (errno != 0 || end == eq + 1 || *end != '\0' || !(r->arg >= 0) ||
	    r->arg > 1e15)
		return -1;
	r->has_arg = 1;
	return 0;
}

/* One rule "OP:GLOB:ACTION[:CALLS]" of len bytes at s. */
static int
parse_rule(const char *s, size_t len, struct fault_rule *r)
{
	char buf[FAULT_MAXGLOB + 64], *f[4], *p;
	size_t nf = 0;

	memset(r, 0, sizeof(*r));
	r->from = 1;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (p = buf; nf < 4; nf++) {
		f[nf] = p;
		if ((p = strchr(p, ':')) == NULL) {
			nf++;
			break;
		}
		*p++ = '\0';
	}
	if (p != NULL || nf < 3)
		return -1;
	if (strcmp(f[0], "put") == 0)
		r->ops = F_PUT;
	else if (strcmp(f[0], "get") == 0)
		r->ops = F_GET;
	else if (strcmp(f[0], "list") == 0)
		r->ops = F_LIST;
	else if (strcmp(f[0], "del") == 0)
		r->ops = F_DEL;
	else if (strcmp(f[0], "*") == 0)
		r->ops = F_PUT | F_GET | F_LIST | F_DEL;
	else
		return -1;
	if (f[1][0] == '\0' || strlen(f[1]) >= sizeof(r->glob))
		return -1;
	memcpy(r->glob, f[1], strlen(f[1]) + 1);
	if (parse_action(f[2], r) != 0)
		return -1;
	if (nf == 4 && parse_calls(f[3], r) != 0)
		return -1;
	return 0;
}

static int
parse_env(struct fault_state *st, const char *v)
{
	const char *semi;
	size_t len;

	while (*v != '\0') {
		semi = strchr(v, ';');
		len = semi ? (size_t)(semi - v) : strlen(v);
		if (len > 0) {
			if (st->nrules == FAULT_MAXRULES ||
			    parse_rule(v, len, &st->rules[st->nrules]) != 0)
				return arca_error(st->ctx, ARCA_ERR_USAGE,
				    FAULT_ENV ": bad rule '%.*s' (want "
				    "OP:GLOB:ACTION[:CALLS], at most %d)",
				    (int)(len > 300 ? 300 : len), v,
				    FAULT_MAXRULES);
			st->nrules++;
		}
		v += len + (semi != NULL);
	}
	return 0;
}

/*
 * Count this call against every rule that matches it, do their delays,
 * and return the first other rule that fires, or NULL.
 */
static const struct fault_rule *
pick(struct fault_state *st, unsigned op, const char *name)
{
	const struct fault_rule *hit = NULL;
	struct fault_rule *r;
	size_t i;

	for (i = 0; i < st->nrules; i++) {
		r = &st->rules[i];
		if (!(r->ops & op) || fnmatch(r->glob, name, 0) != 0)
			continue;
		r->seen++;
		if (r->seen < r->from || (r->to != 0 && r->seen > r->to))
			continue;
		if (r->kind == K_DELAY) {
			arca_info(st->ctx, FAULT_ENV ": delaying %s %s by %g s",
			    op_word(op), name, r->arg);
			arca_backend_sleep(r->arg);
		} else if (hit == NULL)
			hit = r;
	}
	return hit;
}

/*
 * The failures every operation can get; 1 when r is not one of them.  The
 * core's message names the operation and the file, as for a real server.
 */
static int
fail_as(struct fault_state *st, const struct fault_rule *r, unsigned op,
    const char *name)
{
	const char *what = op == F_LIST ? "the backup target" : name;

	switch (r->kind) {
	case K_RETRY:
		return arca_error(st->ctx, ARCA_ERR_RETRY, "connection reset "
		    "by peer (injected by " FAULT_ENV ")");
	case K_FAIL:
		return arca_error(st->ctx, ARCA_ERR_BACKEND, "permission "
		    "denied (injected by " FAULT_ENV ")");
	case K_AUTH:
		return arca_error(st->ctx, ARCA_ERR_AUTH, "access denied, bad "
		    "credentials (injected by " FAULT_ENV ")");
	case K_NOTFOUND:
		return arca_error(st->ctx, ARCA_ERR_NOTFOUND, "%s not found in "
		    "the backup target (injected by " FAULT_ENV ")", what);
	default:
		return 1;
	}
}

/*
 * Damage the file at fd as r says: cut it (trunc) or flip the byte in its
 * middle (flip).
 */
static int
damage(struct fault_state *st, const struct fault_rule *r, int fd,
    const char *what)
{
	struct stat sb;
	unsigned char c;
	off_t keep, mid;

	if (fstat(fd, &sb) != 0)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot stat %s: %s",
		    what, strerror(errno));
	if (r->kind == K_TRUNC) {
		keep = r->has_arg ? (off_t)r->arg : sb.st_size / 2;
		if (keep > sb.st_size)
			keep = sb.st_size;
		if (ftruncate(fd, keep) != 0)
			return arca_error(st->ctx, ARCA_ERR_IO,
			    "cannot truncate %s: %s", what, strerror(errno));
		return 0;
	}
	if (sb.st_size == 0)
		return 0;
	mid = sb.st_size / 2;
	if (pread(fd, &c, 1, mid) != 1)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot read %s",
		    what);
	c ^= 0x5a;
	if (pwrite(fd, &c, 1, mid) != 1)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot write %s",
		    what);
	return 0;
}

static int
copy_file(struct fault_state *st, const char *from, int to)
{
	char buf[65536];
	ssize_t n;
	int in, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    from, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || arca_write_all(to, buf, (size_t)n) != 0) {
			rc = arca_error(st->ctx, ARCA_ERR_IO,
			    "cannot copy %s", from);
			break;
		}
	}
	close(in);
	return rc;
}

static int
fault_put(void *vst, const char *local_path, const char *name)
{
	struct fault_state *st = vst;
	const struct fault_rule *r = pick(st, F_PUT, name);
	struct arca_buf bad = { 0 };
	int fd = -1, rc;

	if (r == NULL)
		return st->inner->put(st->istate, local_path, name);
	if ((rc = fail_as(st, r, F_PUT, name)) <= 0)
		return rc;
	/* A server that stores other bytes than it was sent: send those. */
	arca_info(st->ctx, FAULT_ENV ": damaging the upload of %s", name);
	if (arca_buf_printf(&bad, "%s.fault", local_path) != 0) {
		rc = arca_error(st->ctx, ARCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = open((char *)bad.data, O_RDWR | O_CREAT | O_TRUNC | O_EXCL |
	    O_CLOEXEC, 0600)) < 0) {
		rc = arca_error(st->ctx, ARCA_ERR_IO, "cannot create %s: %s",
		    (char *)bad.data, strerror(errno));
		goto out;
	}
	if ((rc = copy_file(st, local_path, fd)) != 0 ||
	    (rc = damage(st, r, fd, (char *)bad.data)) != 0)
		goto out;
	rc = st->inner->put(st->istate, (char *)bad.data, name);
out:
	if (fd >= 0) {
		close(fd);
		unlink((char *)bad.data);
	}
	arca_buf_free(&bad);
	return rc;
}

static int
fault_get(void *vst, const char *name, const char *local_path)
{
	struct fault_state *st = vst;
	const struct fault_rule *r = pick(st, F_GET, name);
	int fd, rc;

	if (r == NULL)
		return st->inner->get(st->istate, name, local_path);
	if ((rc = fail_as(st, r, F_GET, name)) <= 0)
		return rc;
	if ((rc = st->inner->get(st->istate, name, local_path)) != 0)
		return rc;
	arca_info(st->ctx, FAULT_ENV ": damaging the download of %s", name);
	if ((fd = open(local_path, O_RDWR | O_CLOEXEC)) < 0)
		return arca_error(st->ctx, ARCA_ERR_IO, "cannot open %s: %s",
		    local_path, strerror(errno));
	rc = damage(st, r, fd, local_path);
	close(fd);
	return rc;
}

static int
fault_list(void *vst, struct arca_strlist *out)
{
	struct fault_state *st = vst;
	const struct fault_rule *r = pick(st, F_LIST, "");
	int rc;

	if (r != NULL && (rc = fail_as(st, r, F_LIST, "")) <= 0)
		return rc;
	return st->inner->list(st->istate, out);
}

static int
fault_del(void *vst, const char *name)
{
	struct fault_state *st = vst;
	const struct fault_rule *r = pick(st, F_DEL, name);
	int rc;

	if (r != NULL && (rc = fail_as(st, r, F_DEL, name)) <= 0)
		return rc;
	return st->inner->del(st->istate, name);
}

static int
fault_size(void *vst, const char *name, uint64_t *size)
{
	struct fault_state *st = vst;

	return st->inner->size(st->istate, name, size);
}

static int
fault_sweep(void *vst, int apply, struct arca_strlist *found)
{
	struct fault_state *st = vst;

	return st->inner->sweep(st->istate, apply, found);
}

static void
fault_close(void *vst)
{
	struct fault_state *st = vst;

	if (st == NULL)
		return;
	st->inner->close(st->istate);
	free(st);
}

int
arca_fault_wrap(struct arca_ctx *ctx, const struct arca_backend_ops **ops,
    void **state)
{
	const char *v = getenv(FAULT_ENV);
	struct fault_state *st;
	int rc;

	if (v == NULL || *v == '\0')
		return 0;
	if ((st = arca_calloc(1, sizeof(*st))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "out of memory");
	st->ctx = ctx;
	st->inner = *ops;
	st->istate = *state;
	if ((rc = parse_env(st, v)) != 0) {
		free(st);
		return rc;
	}
	st->ops.scheme = (*ops)->scheme;
	st->ops.put = fault_put;
	st->ops.get = fault_get;
	st->ops.list = fault_list;
	st->ops.del = fault_del;
	/* Batches go name by name, so that rules can pick one of them. */
	st->ops.del_many = NULL;
	st->ops.size = (*ops)->size ? fault_size : NULL;
	st->ops.sweep = (*ops)->sweep ? fault_sweep : NULL;
	/* open_read stays NULL: a restore then downloads through get,
	 * where the rules apply. */
	st->ops.close = fault_close;
	arca_warn(ctx, FAULT_ENV " is set: injecting faults into %s (a "
	    "test-only setting)", (*ops)->scheme);
	*ops = &st->ops;
	*state = st;
	return 0;
}
