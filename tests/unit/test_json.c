/*
 * test_json.c: util/json.c, the only module on jansson, and the parsers on
 * top of it that read remote answers (rclone lsjson).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arca_error.h"
#include "backend/rclone_internal.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/json.h"

#include "test.h"

static struct arca_json *
parse(const char *text)
{
	struct arca_ctx ctx = { 0 };
	struct arca_json *j = NULL;

	if (arca_json_parse(&ctx, text, strlen(text), 1 << 20, &j) != 0)
		return NULL;
	return j;
}

static void
test_parse(void)
{
	struct arca_ctx ctx = { 0 };
	struct arca_json *j;
	double d = 0;
	int64_t n = 0;

	/* Any value, not only objects and arrays: Dropbox answers null. */
	CHECK((j = parse("null")) != NULL);
	CHECK(!arca_json_is_object(j) && !arca_json_is_array(j));
	arca_json_free(j);
	CHECK((j = parse("\"s\"")) != NULL);
	CHECK_STR(arca_json_str(j), "s");
	arca_json_free(j);
	/* Refused: duplicate keys, NUL in a string, too long, truncated. */
	CHECK(parse("{\"a\":1,\"a\":2}") == NULL);
	CHECK(parse("[\"a\\u0000b\"]") == NULL);
	CHECK(parse("[1,") == NULL);
	CHECK_INT(arca_json_parse(&ctx, "[1,2]", 5, 4, &j), ARCA_ERR_CORRUPT);
	CHECK(j == NULL);
	CHECK(strstr(ctx.errmsg, "larger than") != NULL);
	CHECK_INT(arca_json_parse(&ctx, "{\"a\" 1}", 7, 100, &j),
	    ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "malformed JSON at line 1") != NULL);
	/* Numbers: integers for get_int, both kinds for get_number. */
	CHECK((j = parse("{\"i\":7,\"r\":2.5,\"s\":\"3\",\"o\":{}}")) != NULL);
	CHECK(arca_json_is_object(j));
	CHECK(arca_json_is_object(arca_json_get(j, "o")));
	CHECK_INT(arca_json_get_int(j, "i", &n), 0);
	CHECK_INT(n, 7);
	CHECK_INT(arca_json_get_int(j, "r", &n), -1);
	CHECK_INT(arca_json_get_number(j, "r", &d), 0);
	CHECK(d == 2.5);
	CHECK_INT(arca_json_get_number(j, "i", &d), 0);
	CHECK(d == 7.0);
	CHECK_INT(arca_json_get_number(j, "s", &d), -1);
	CHECK_INT(arca_json_get_number(j, "none", &d), -1);
	CHECK_INT(arca_json_get_number(NULL, "i", &d), -1);
	arca_json_free(j);
}

static void
test_ref_and_wipe(void)
{
	struct arca_json *j, *e;
	const char *tok;

	CHECK((j = parse("{\"error\":{\".tag\":\"x\"},\"access_token\":"
	    "\"sl.secret\"}")) != NULL);
	/* A reference outlives the document it came from. */
	e = arca_json_ref(arca_json_get(j, "error"));
	CHECK(arca_json_ref(NULL) == NULL);
	tok = arca_json_get_str(j, "access_token");
	CHECK_STR(tok, "sl.secret");
	arca_json_wipe_str(j, "access_token");
	CHECK(tok[0] == '\0' && tok[8] == '\0');
	arca_json_wipe_str(j, "error");		/* not a string: no-op */
	arca_json_wipe_str(j, "missing");
	arca_json_wipe_str(NULL, "missing");
	arca_json_free(j);
	CHECK_STR(arca_json_get_str(e, ".tag"), "x");
	arca_json_free(e);
}

static void
test_utf8_and_ascii(void)
{
	/* valid: ASCII, é, €, U+10348; invalid: overlong, surrogate, cut */
	static const char *const bad[] = { "a\xc0\xaf", "\xed\xa0\x80",
		"\xe2\x82", "\xff", "\xf4\x90\x80\x80" };
	struct arca_json *o;
	char *s;
	size_t i;

	CHECK((o = arca_json_object()) != NULL);
	CHECK_INT(arca_json_set_utf8(o, "p", "/a/\xc3\xa9\xe2\x82\xac"
	    "\xf0\x90\x8d\x88"), 0);
	CHECK_INT(arca_json_set_int(o, "n", 12), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(arca_json_set_utf8(o, "b", bad[i]), ARCA_ERR_USAGE);
	CHECK_INT(arca_json_set_utf8(o, "b", NULL), ARCA_ERR_USAGE);
	CHECK(arca_json_get(o, "b") == NULL);
	/* Dropbox-API-Arg: one line, nothing outside ASCII. */
	s = arca_json_dump_ascii(o);
	CHECK_STR(s, "{\"p\":\"/a/\\u00E9\\u20AC\\uD800\\uDF48\",\"n\":12}");
	free(s);
	/* The lenient setter keeps such bytes, escaped. */
	CHECK_INT(arca_json_set_str(o, "b", "\xff"), 0);
	CHECK_STR(arca_json_get_str(o, "b"), "\\\\xff");
	arca_json_free(o);
}

static int
lsjson(const char *text, struct arca_strlist *l)
{
	struct arca_ctx ctx = { 0 };

	memset(l, 0, sizeof(*l));
	return arca_rclone_parse_lsjson(&ctx, "rclone://t:", text,
	    strlen(text), l);
}

static void
test_rclone_lsjson(void)
{
	struct arca_strlist l;

	/* As rclone 1.60 writes it, with our temporary name among them. */
	CHECK_INT(lsjson("[\n{\"Path\":\".a.arca-tmp-12\",\"Name\":"
	    "\".a.arca-tmp-12\",\"Size\":0,\"IsDir\":false},\n{\"Path\":"
	    "\"duplicity-full.20231114T231320Z.manifest\",\"Name\":\"x\","
	    "\"Size\":0,\"ModTime\":\"\",\"IsDir\":false},\n{\"Path\":\"sub\","
	    "\"Name\":\"sub\",\"Size\":-1,\"IsDir\":true}\n]\n", &l), 0);
	CHECK_INT(l.n, 1);
	if (l.n == 1)
		CHECK_STR(l.v[0], "duplicity-full.20231114T231320Z.manifest");
	arca_strlist_free(&l);
	/* Name when there is no Path; nothing from bad entries. */
	CHECK_INT(lsjson("[{\"Name\":\"n\"},{\"Path\":\"a/b\"},{\"Path\":\"\"},"
	    "{\"Path\":7,\"Name\":\"z\"},1,null,{\"Path\":\"d\",\"IsDir\":true}"
	    "]", &l), 0);
	CHECK_INT(l.n, 1);
	if (l.n == 1)
		CHECK_STR(l.v[0], "n");
	arca_strlist_free(&l);
	CHECK_INT(lsjson("[{\"Path\":\".\"},{\"Name\":\"..\"},{\"Path\":"
	    "\"..a\"}]", &l), 0);
	CHECK_INT(l.n, 1);
	if (l.n == 1)
		CHECK_STR(l.v[0], "..a");
	arca_strlist_free(&l);
	CHECK_INT(lsjson("[]", &l), 0);
	CHECK_INT(l.n, 0);
	CHECK_INT(lsjson("{\"Path\":\"x\"}", &l), ARCA_ERR_BACKEND);
	CHECK_INT(lsjson("[{\"Path\":\"x\"", &l), ARCA_ERR_BACKEND);
	CHECK_INT(lsjson("[{\"Path\":\"a\\u0000b\"}]", &l), ARCA_ERR_BACKEND);
	CHECK_INT(lsjson("", &l), ARCA_ERR_BACKEND);
	arca_strlist_free(&l);
}

int
main(void)
{
	RUN(test_parse);
	RUN(test_ref_and_wipe);
	RUN(test_utf8_and_ascii);
	RUN(test_rclone_lsjson);
	TEST_DONE();
}
