/*
 * test.h: the unit tests' small harness.  Each test file defines test
 * functions and lists them in main() with RUN(); a failing CHECK prints both
 * values and the location, and the process exits non-zero at the end.
 */
#ifndef ARCA_TEST_H
#define ARCA_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_INT(a, b) do { long long va_ = (long long)(a), vb_ = (long long)(b); \
	test_checks++; if (va_ != vb_) { test_failures++; \
	fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
	    #a, va_, #b, vb_); } } while (0)
#define CHECK_STR(a, b) do { const char *sa_ = (a), *sb_ = (b); test_checks++; \
	if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) { test_failures++; \
	fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
	    #a, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); } } while (0)
#define CHECK_MEM(a, b, n) do { test_checks++; if (memcmp((a), (b), (n)) != 0) { \
	test_failures++; fprintf(stderr, "%s:%d: memory %s differs from %s\n", \
	__FILE__, __LINE__, #a, #b); } } while (0)

#define RUN(fn) do { int before_ = test_failures; fn(); \
	fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn); } while (0)

#define TEST_DONE() do { fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures); \
	return test_failures ? 1 : 0; } while (0)

/* A fresh temporary directory per test; caller frees the string. */
static inline char *
test_tmpdir(void)
{
	char tmpl[] = "/tmp/arca-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return strdup(d);
}

static inline const char *
test_data_dir(void)
{
	const char *d = getenv("ARCA_TEST_DATA");

	return d ? d : "tests/data";
}

#endif /* !ARCA_TEST_H */
