/*
 * fuzz_s3xml.c: S3's bounded XML reader itself (backend/s3_xml.c), beside
 * fuzz_s3.c (the listing and error parsers on top of it).
 *
 * Every event the reader hands out must keep its promises whatever the
 * document: paths within ARCA_S3_XML_MAXPATH and ARCA_S3_XML_MAXDEPTH,
 * text within ARCA_S3_XML_MAXTEXT and holding no NUL.  The input is also
 * read as a listing page with a small key limit (a refused page leaves
 * the key list as it was), and after "\n--\n" as an error document.
 */
#include "fuzz.h"
#include "backend/s3_internal.h"
#include "util/buf.h"

#define MAX_KEYS 64

struct walk {
	unsigned depth;
	unsigned events;
};

static int
on_event(void *ud, enum arca_s3_xml_event ev, const char *path,
    const char *text, size_t len)
{
	struct walk *w = ud;
	const char *p;
	unsigned depth = 1;

	FUZZ_CHECK(path != NULL && strlen(path) <= ARCA_S3_XML_MAXPATH);
	for (p = path; *p != '\0'; p++)
		depth += *p == '/';
	FUZZ_CHECK(depth <= ARCA_S3_XML_MAXDEPTH);
	if (ev == ARCA_S3_XML_TEXT) {
		FUZZ_CHECK(text != NULL && len <= ARCA_S3_XML_MAXTEXT);
		FUZZ_CHECK(strlen(text) == len);
	}
	w->events++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_strlist keys = { 0 };
	struct arca_s3_error e;
	struct walk w = { 0, 0 };
	const uint8_t *p2;
	char err[256], *token = NULL;
	size_t n1, n2, i;
	int truncated, rc;

	if (size > 1 << 20)
		return 0;
	fuzz_split(data, size, &n1, &p2, &n2);
	/* A key from an earlier page must survive a bad one. */
	if (arca_strlist_add(&keys, "earlier") != 0)
		abort();
	err[0] = '\0';
	rc = arca_s3_parse_list((const char *)data, n1, MAX_KEYS, &keys,
	    &truncated, &token, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(keys.n <= 1 + MAX_KEYS);
		FUZZ_CHECK(truncated ? token != NULL : token == NULL);
	} else {
		FUZZ_CHECK(keys.n == 1 && token == NULL);
		FUZZ_CHECK(err[0] != '\0' || rc == ARCA_ERR_NOMEM);
	}
	FUZZ_CHECK(strcmp(keys.v[0], "earlier") == 0);
	for (i = 0; i < keys.n; i++)
		FUZZ_CHECK(keys.v[i] != NULL);
	free(token);
	arca_strlist_free(&keys);

	memset(&e, 0, sizeof(e));
	if (arca_s3_parse_error((const char *)p2, n2, &e) == 1) {
		FUZZ_CHECK(memchr(e.code, '\0', sizeof(e.code)) != NULL);
		FUZZ_CHECK(memchr(e.message, '\0', sizeof(e.message)) != NULL);
		FUZZ_CHECK(memchr(e.region, '\0', sizeof(e.region)) != NULL);
		FUZZ_CHECK(memchr(e.key, '\0', sizeof(e.key)) != NULL);
	}
	/* The bare reader over the whole input. */
	(void)arca_s3_xml_parse((const char *)data, size, on_event, &w, err,
	    sizeof(err));
	return 0;
}
