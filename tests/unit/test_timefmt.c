/*
 * test_timefmt.c: duplicity's time strings (spec §3).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/arca_error.h"
#include "util/buf.h"
#include "util/timefmt.h"

#include "test.h"

#define NOW ((int64_t)1700000000)	/* 20231114T221320Z */

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int64_t
user(const char *s)
{
	int64_t t = -1;

	if (arca_time_parse_user(s, NOW, &t) != 0)
		return INT64_MIN;
	return t;
}

static void
test_format(void)
{
	char b[17];

	arca_time_format(1704067200, b);
	CHECK_STR(b, "20240101T000000Z");
	arca_time_format(1700000000, b);
	CHECK_STR(b, "20231114T221320Z");
	arca_time_format(0, b);
	CHECK_STR(b, "19700101T000000Z");
	arca_time_format(951782400 + 86399, b);	/* leap day 2000 */
	CHECK_STR(b, "20000229T235959Z");
	arca_time_format(-1, b);
	CHECK_STR(b, "19691231T235959Z");
	arca_time_format(4102444800, b);
	CHECK_STR(b, "21000101T000000Z");
	/* Out of range clamps instead of overflowing the 17 bytes. */
	arca_time_format(INT64_MAX, b);
	CHECK_STR(b, "99991231T235959Z");
	arca_time_format(INT64_MIN, b);
	CHECK_STR(b, "00000101T000000Z");
}

static void
test_parse_name(void)
{
	int64_t t;
	char b[17];
	int64_t v;

	CHECK_INT(arca_time_parse_name("20240101T000000Z", 16, &t), 0);
	CHECK_INT(t, 1704067200);
	/* Not NUL-terminated: only n bytes count. */
	CHECK_INT(arca_time_parse_name("20231114T221320Zjunk", 16, &t), 0);
	CHECK_INT(t, 1700000000);
	/* File-name times are upper-cased before conversion. */
	CHECK_INT(arca_time_parse_name("20231114t221320z", 16, &t), 0);
	CHECK_INT(t, 1700000000);
	/* Legacy forms; the separator in the time may be any character. */
	CHECK_INT(arca_time_parse_name("2002-01-25T07:00:00-07:00", 25, &t), 0);
	CHECK_INT(t, 1011967200);
	CHECK_INT(arca_time_parse_name("2002-01-25T21:00:00+07:00", 25, &t), 0);
	CHECK_INT(t, 1011967200);
	CHECK_INT(arca_time_parse_name("2002-01-25T14:00:00Z", 20, &t), 0);
	CHECK_INT(t, 1011967200);
	CHECK_INT(arca_time_parse_name("2002-01-25T14-00-00Z", 20, &t), 0);
	CHECK_INT(t, 1011967200);
	/* Leap second and day overflow run on, as in duplicity. */
	CHECK_INT(arca_time_parse_name("20020228T235960Z", 16, &t), 0);
	CHECK_INT(t, 1014940800);
	CHECK_INT(arca_time_parse_name("20020231T000000Z", 16, &t), 0);
	CHECK_INT(t, 1015113600);
	/* Refused. */
	CHECK_INT(arca_time_parse_name("20240101T000000", 15, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20240101X000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("21000101T000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("19000101T000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20241301T000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20240132T000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20240101T240000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20240101T006000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("20240101T000062Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("2024010AT000000Z", 16, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("2002-01-25T07:00:00", 19, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("2002-01-25T07:00:00*07:00", 25, &t),
	    ARCA_ERR_CORRUPT);
	CHECK_INT(arca_time_parse_name("", 0, &t), ARCA_ERR_CORRUPT);

	/* Every day of 1901..2099 round-trips through format and parse. */
	for (v = -2177452800; v < 4102444800; v += 86400 + 3661) {
		arca_time_format(v, b);
		if (arca_time_parse_name(b, 16, &t) != 0 || t != v) {
			CHECK_INT(t, v);
			break;
		}
	}
	CHECK(v >= 4102444800);
}

static void
test_user_utc(void)
{
	set_tz("UTC");
	CHECK_INT(user("now"), NOW);
	CHECK_INT(user("1700000000"), 1700000000);
	CHECK_INT(user("10"), 10);
	CHECK_INT(user("0"), 0);
	/* Digits come first: 8 digits are seconds, not a date. */
	CHECK_INT(user("20231114"), 20231114);
	CHECK_INT(user("2002-01-25T07:00:00-07:00"), 1011967200);
	CHECK_INT(user("2002-01-25T14:00:00Z"), 1011967200);
	CHECK_INT(user("20231114T221320Z"), 1700000000);
	CHECK_INT(user("20231114t221320z"), INT64_MIN);
	CHECK_INT(user("2002-01-25T07:00:00"), 1011942000);

	/* Intervals. */
	CHECK_INT(user("60D"), NOW - 60 * 86400);
	CHECK_INT(user("1h78m"), NOW - 3600 - 78 * 60);
	CHECK_INT(user("3D64s"), NOW - 3 * 86400 - 64);
	CHECK_INT(user("5m3D"), NOW - 300 - 3 * 86400);
	CHECK_INT(user("0s"), NOW);
	CHECK_INT(user("2W"), NOW - 14 * 86400);
	CHECK_INT(user("1M"), NOW - 30 * 86400);
	CHECK_INT(user("1Y"), NOW - 365 * 86400);
	CHECK_INT(user("1h1h"), NOW - 7200);
	CHECK_INT(user("D"), INT64_MIN);
	CHECK_INT(user("1x"), INT64_MIN);
	CHECK_INT(user("10s5"), INT64_MIN);
	CHECK_INT(user("1h 2m"), INT64_MIN);
	CHECK_INT(user("1d"), INT64_MIN);	/* units are case-sensitive */
	CHECK_INT(user("99999999999999999999s"), INT64_MIN);
	CHECK_INT(user("999999999999999Y"), INT64_MIN);

	/* Dates at (UTC) midnight. */
	CHECK_INT(user("2002-01-25"), 1011916800);
	CHECK_INT(user("2002/01/25"), 1011916800);
	CHECK_INT(user("01/25/2002"), 1011916800);
	CHECK_INT(user("01-25-2002"), 1011916800);
	CHECK_INT(user("1-25-2002"), 1011916800);
	CHECK_INT(user("2002-1-5"), 1010188800);
	CHECK_INT(user("20020125Z"), 1011916800);
	CHECK_INT(user("2002-13-01"), INT64_MIN);
	CHECK_INT(user("2002-01-32"), INT64_MIN);
	CHECK_INT(user("2002-001-05"), INT64_MIN);
	CHECK_INT(user("02-01-25"), INT64_MIN);
	CHECK_INT(user("20020125z"), INT64_MIN);

	/* Anything else is a bad time string. */
	CHECK_INT(user("2002-01-25 07:00:00"), INT64_MIN);
	CHECK_INT(user("2002-01-25T07:00"), INT64_MIN);
	CHECK_INT(user(""), INT64_MIN);
	CHECK_INT(user("yesterday"), INT64_MIN);
	CHECK_INT(user("99999999999999999999"), INT64_MIN);
}

static void
test_user_new_york(void)
{
	set_tz("America/New_York");
	/* The standard offset (-05:00) applies in July too: 12:00Z, not 11:00Z. */
	CHECK_INT(user("2002-07-25T07:00:00"), 1027598400);
	CHECK_INT(user("2002-01-25T07:00:00"), 1011960000);
	/* "YYYYMMDDZ" is local midnight despite the Z. */
	CHECK_INT(user("20020725Z"), 1027573200);
	CHECK_INT(user("2002-07-25"), 1027573200);
	CHECK_INT(user("07/25/2002"), 1027573200);
	/* Explicit zones and the 16-char form ignore the local zone. */
	CHECK_INT(user("2002-01-25T07:00:00-07:00"), 1011967200);
	CHECK_INT(user("20231114T221320Z"), 1700000000);

	/* Southern hemisphere: standard time is the July offset. */
	set_tz("Australia/Sydney");
	CHECK_INT(user("2002-01-25"), 1011916800 - 10 * 3600);
	set_tz("Asia/Kolkata");
	CHECK_INT(user("2002-01-25"), 1011916800 - 5 * 3600 - 1800);
	set_tz("UTC");
}

static void
test_asctime(void)
{
	char b[32];

	set_tz("UTC");
	arca_time_asctime(1704067200, b);
	CHECK_STR(b, "Mon Jan  1 00:00:00 2024");
	arca_time_asctime(1700000000, b);
	CHECK_STR(b, "Tue Nov 14 22:13:20 2023");
	set_tz("America/New_York");
	arca_time_asctime(1704067200, b);
	CHECK_STR(b, "Sun Dec 31 19:00:00 2023");
	set_tz("UTC");
}

static void
test_b36(void)
{
	uint64_t v;

	CHECK_INT(arca_b36_parse("tp3uo8", 6, &v), 0);
	CHECK_INT(v, 1795689224);
	CHECK_INT(arca_b36_parse("1", 1, &v), 0);
	CHECK_INT(v, 1);
	CHECK_INT(arca_b36_parse("z", 1, &v), 0);
	CHECK_INT(v, 35);
	CHECK_INT(arca_b36_parse("10", 2, &v), 0);
	CHECK_INT(v, 36);
	CHECK_INT(arca_b36_parse("3w5e11264sgsf", 13, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT(arca_b36_parse("3w5e11264sgsg", 13, &v), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_b36_parse("TP3UO8", 6, &v), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_b36_parse("a.b", 3, &v), ARCA_ERR_CORRUPT);
	CHECK_INT(arca_b36_parse("", 0, &v), ARCA_ERR_CORRUPT);
}

/*
 * Differential check against duplicity's own time parser, when Debian's
 * duplicity is installed: the same strings must give the same seconds (or
 * both be refused).
 */
static void
test_against_duplicity(void)
{
	static const char *const cases[] = {
		"now", "10", "1700000000", "2002-01-25T07:00:00-07:00",
		"2002-07-25T07:00:00", "2002-01-25T07:00:00", "20231114T221320Z",
		"20231114t221320z", "60D", "1h78m", "3D64s", "5m3D", "0s", "D",
		"1x", "10s5", "1h 2m", "2002-01-25", "2002/01/25", "01/25/2002",
		"01-25-2002", "2002-1-5", "20020725Z", "2002-01-25 07:00:00",
		"2002-01-25T07:00", "1-2-2003", "2002-02-31", "2099-12-31",
		"2100-01-01", "1900-12-31", "1901-01-01", "2W3M1Y",
		"2002-07-25T07:00:00+05:30", "2002-07-25T07:00:00Z", "1s",
		"2002/1/25", "12/31/1999", "20021225Z", "2002-0125",
		"2002-01-25T24:00:00Z", "2002-01-25T23:59:61Z", "1W", "s",
	};
	static const char *const zones[] = { "UTC", "America/New_York",
	    "Australia/Sydney" };
	struct arca_buf cmd = { 0 };
	char line[256];
	size_t i, z;
	FILE *fp;

	if (system("/usr/bin/python3 -c 'import duplicity.dup_time' "
	    ">/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP test_against_duplicity: duplicity's "
		    "python modules not available\n");
		return;
	}
	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		set_tz(zones[z]);
		/* One python run per zone; one output line per case. */
		arca_buf_reset(&cmd);
		arca_buf_printf(&cmd, "TZ=%s /usr/bin/python3 -c '"
		    "import sys\nfrom duplicity import dup_time\n"
		    "for a in sys.argv[1:]:\n"
		    " try:\n  print(dup_time.genstrtotime(a, "
		    "override_curtime=%lld))\n except Exception:\n"
		    "  print(\"bad\")'", zones[z], (long long)NOW);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			arca_buf_printf(&cmd, " '%s'", cases[i]);
		arca_buf_puts(&cmd, " 2>/dev/null");
		if ((fp = popen((char *)cmd.data, "r")) == NULL) {
			CHECK(!"python run failed");
			continue;
		}
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int64_t mine = user(cases[i]), theirs = INT64_MIN;

			if (fgets(line, sizeof(line), fp) == NULL) {
				CHECK(!"python output ended early");
				break;
			}
			if (strncmp(line, "bad", 3) != 0)
				theirs = strtoll(line, NULL, 10);
			if (mine != theirs)
				fprintf(stderr, "  TZ=%s '%s'\n", zones[z],
				    cases[i]);
			CHECK_INT(mine, theirs);
		}
		pclose(fp);
	}
	arca_buf_free(&cmd);
	set_tz("UTC");
}

int
main(void)
{
	RUN(test_format);
	RUN(test_parse_name);
	RUN(test_user_utc);
	RUN(test_user_new_york);
	RUN(test_asctime);
	RUN(test_b36);
	RUN(test_against_duplicity);
	TEST_DONE();
}
