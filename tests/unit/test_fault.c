/*
 * test_fault.c: the ARCA_TEST_FAULTS wrapper (backend/fault.c) around a
 * small in-memory backend: rule parsing, which calls fire, and what each
 * action does to the data.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/fault.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "test.h"

#define DATA_LEN 100

struct mem {
	int puts, gets, lists, dels, closed;
	long long put_size;	/* size of the file the last put was given */
	unsigned char put_data[DATA_LEN];
};

static int
mem_put(void *vst, const char *local_path, const char *name)
{
	struct mem *m = vst;
	struct stat sb;
	int fd;

	(void)name;
	m->puts++;
	m->put_size = stat(local_path, &sb) == 0 ? (long long)sb.st_size : -1;
	memset(m->put_data, 0, sizeof(m->put_data));
	if ((fd = open(local_path, O_RDONLY)) >= 0) {
		if (read(fd, m->put_data, sizeof(m->put_data)) < 0)
			m->put_size = -2;
		close(fd);
	}
	return 0;
}

static void
pattern(unsigned char *p)
{
	size_t i;

	for (i = 0; i < DATA_LEN; i++)
		p[i] = (unsigned char)(i * 7 + 1);
}

static int
mem_get(void *vst, const char *name, const char *local_path)
{
	struct mem *m = vst;
	unsigned char d[DATA_LEN];
	int fd, rc = 0;

	(void)name;
	m->gets++;
	pattern(d);
	if ((fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return ARCA_ERR_IO;
	if (write(fd, d, sizeof(d)) != (ssize_t)sizeof(d))
		rc = ARCA_ERR_IO;
	close(fd);
	return rc;
}

static int
mem_list(void *vst, struct arca_strlist *out)
{
	struct mem *m = vst;

	m->lists++;
	return arca_strlist_add(out, "a") != 0 ? ARCA_ERR_NOMEM : 0;
}

static int
mem_del(void *vst, const char *name)
{
	struct mem *m = vst;

	(void)name;
	m->dels++;
	return 0;
}

static void
mem_close(void *vst)
{
	struct mem *m = vst;

	m->closed++;
}

static const struct arca_backend_ops mem_ops = {
	.scheme = "mem",
	.put = mem_put,
	.get = mem_get,
	.list = mem_list,
	.del = mem_del,
	.close = mem_close,
};

static struct arca_ctx ctx;
static struct mem mem;

/* Wrap mem_ops with rules; 0 or the error of arca_fault_wrap. */
static int
wrap(const char *rules, const struct arca_backend_ops **ops, void **st)
{
	memset(&mem, 0, sizeof(mem));
	*ops = &mem_ops;
	*st = &mem;
	if (rules == NULL)
		unsetenv("ARCA_TEST_FAULTS");
	else
		setenv("ARCA_TEST_FAULTS", rules, 1);
	return arca_fault_wrap(&ctx, ops, st);
}

static long long
file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void
test_unset(void)
{
	const struct arca_backend_ops *ops;
	void *st;

	CHECK_INT(wrap(NULL, &ops, &st), 0);
	CHECK(ops == &mem_ops);
	CHECK(st == &mem);
	CHECK_INT(wrap("", &ops, &st), 0);
	CHECK(ops == &mem_ops);
}

static void
test_bad_rules(void)
{
	static const char *const bad[] = {
		"put:*:explode", "put:*", "nope:*:retry", "put:*:retry:0",
		"put:*:retry:3-2", "put:*:delay", "put:*:fail=3",
		"put:*:retry:1:2", "put::retry", "put:*:trunc=x",
		"put:*:delay=-1", "put:*:retry:1-x", "get:*:retry;put:*:bad",
	};
	const struct arca_backend_ops *ops;
	void *st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(wrap(bad[i], &ops, &st), ARCA_ERR_USAGE);
		CHECK(ops == &mem_ops);
		CHECK(st == &mem);
		CHECK(strstr(ctx.errmsg, "ARCA_TEST_FAULTS: bad rule") != NULL);
	}
}

static void
test_calls(void)
{
	const struct arca_backend_ops *ops;
	void *st;
	char *dir = test_tmpdir(), path[512];

	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK_INT(mem_get(&mem, "x", path), 0);
	CHECK_INT(wrap("put:a*:retry:2-3;;del:*:fail:2-", &ops, &st), 0);
	CHECK(ops != &mem_ops);
	/* a non-matching name is neither faulted nor counted */
	CHECK_INT(ops->put(st, path, "b1"), 0);
	CHECK_INT(ops->put(st, path, "a1"), 0);
	CHECK_INT(ops->put(st, path, "a2"), ARCA_ERR_RETRY);
	CHECK(strstr(ctx.errmsg, "injected by ARCA_TEST_FAULTS") != NULL);
	CHECK_INT(ops->put(st, path, "a3"), ARCA_ERR_RETRY);
	CHECK_INT(ops->put(st, path, "a4"), 0);
	CHECK_INT(mem.puts, 3);
	CHECK_INT(ops->del(st, "x"), 0);
	CHECK_INT(ops->del(st, "x"), ARCA_ERR_BACKEND);
	CHECK_INT(ops->del(st, "x"), ARCA_ERR_BACKEND);
	CHECK_INT(mem.dels, 1);
	/* batches go name by name; size and sweep stay absent */
	CHECK(ops->del_many == NULL);
	CHECK(ops->size == NULL);
	CHECK(ops->sweep == NULL);
	ops->close(st);
	CHECK_INT(mem.closed, 1);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void
test_kinds(void)
{
	const struct arca_backend_ops *ops;
	struct arca_strlist l = { 0 };
	void *st;

	CHECK_INT(wrap("list:*:auth:1;get:n*:notfound;*:d*:delay=0.01", &ops,
	    &st), 0);
	CHECK_INT(ops->list(st, &l), ARCA_ERR_AUTH);
	CHECK_INT(ops->list(st, &l), 0);
	CHECK_INT((long long)l.n, 1);
	CHECK_INT(ops->get(st, "nope", "/nonexistent/x"), ARCA_ERR_NOTFOUND);
	CHECK(strstr(ctx.errmsg, "nope") != NULL);
	CHECK_INT(mem.gets, 0);
	CHECK_INT(ops->del(st, "d1"), 0);
	CHECK_INT(mem.dels, 1);
	ops->close(st);
	arca_strlist_free(&l);
}

static void
test_damage(void)
{
	const struct arca_backend_ops *ops;
	unsigned char want[DATA_LEN], got[DATA_LEN];
	char *dir = test_tmpdir(), path[512], fault[600];
	void *st;
	int fd, diff = 0;
	size_t i;

	pattern(want);
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(fault, sizeof(fault), "%s.fault", path);
	CHECK_INT(wrap("get:t*:trunc:1;get:t*:trunc=10:2;get:f*:flip;"
	    "put:t*:trunc=30;put:f*:flip", &ops, &st), 0);
	/* downloads: half, then 10 bytes, then whole again */
	CHECK_INT(ops->get(st, "t", path), 0);
	CHECK_INT(file_size(path), DATA_LEN / 2);
	CHECK_INT(ops->get(st, "t", path), 0);
	CHECK_INT(file_size(path), 10);
	CHECK_INT(ops->get(st, "t", path), 0);
	CHECK_INT(file_size(path), DATA_LEN);
	/* a garbled download: same size, one byte differs */
	CHECK_INT(ops->get(st, "f", path), 0);
	CHECK_INT(file_size(path), DATA_LEN);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		CHECK_INT(read(fd, got, sizeof(got)), DATA_LEN);
		close(fd);
	}
	for (i = 0; i < DATA_LEN; i++)
		diff += got[i] != want[i];
	CHECK_INT(diff, 1);
	/* uploads: the server is sent the damaged copy; ours stays whole */
	CHECK_INT(mem_get(&mem, "x", path), 0);
	CHECK_INT(ops->put(st, path, "t"), 0);
	CHECK_INT(mem.put_size, 30);
	CHECK_MEM(mem.put_data, want, 30);
	CHECK_INT(file_size(path), DATA_LEN);
	CHECK_INT(file_size(fault), -1);
	CHECK_INT(ops->put(st, path, "f"), 0);
	CHECK_INT(mem.put_size, DATA_LEN);
	for (diff = 0, i = 0; i < DATA_LEN; i++)
		diff += mem.put_data[i] != want[i];
	CHECK_INT(diff, 1);
	CHECK_INT(file_size(fault), -1);
	ops->close(st);
	unlink(path);
	rmdir(dir);
	free(dir);
}

int
main(void)
{
	RUN(test_unset);
	RUN(test_bad_rules);
	RUN(test_calls);
	RUN(test_kinds);
	RUN(test_damage);
	unsetenv("ARCA_TEST_FAULTS");
	TEST_DONE();
}
