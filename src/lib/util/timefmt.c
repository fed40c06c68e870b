/*
 * timefmt.c: duplicity's time strings (spec §3).
 *
 * Times in file names and manifests are whole seconds.  The 16-character
 * form is pure UTC and is converted with calendar arithmetic, so no time
 * zone data is involved; only the user forms without a zone consult the
 * local zone, and then only its standard-time offset, because duplicity
 * ignores daylight saving there.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arca/arca_error.h"
#include "util/timefmt.h"

/* Keep arca_time_format inside four-digit years: 0000..9999. */
#define TIME_MIN	((int64_t)-62167219200)
#define TIME_MAX	((int64_t)253402300799)

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-1, plus (d - 1).
 * Days beyond the month's end simply run on into the next month, which is
 * what duplicity's conversion does with "February 31".
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + (d - 1);
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t
fields_to_utc(int y, int mo, int d, int h, int mi, int s)
{
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static void
put_digits(char *out, int v, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
arca_time_format(int64_t t, char out[17])
{
	int64_t days, secs;
	int y, m, d;

	if (t < TIME_MIN)
		t = TIME_MIN;
	if (t > TIME_MAX)
		t = TIME_MAX;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* By hand: the clamp above bounds every field, snprintf can't tell. */
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, (int)(secs / 3600), 2);
	put_digits(out + 11, (int)(secs / 60 % 60), 2);
	put_digits(out + 13, (int)(secs % 60), 2);
	out[15] = 'Z';
	out[16] = '\0';
}

/* n decimal digits at s, or -1. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
is_sep(char c)
{
	return !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
	    !(c >= 'A' && c <= 'Z');
}

static int
fields_ok(int y, int mo, int d, int h, int mi, int s)
{
	/* The same ranges duplicity asserts; seconds allow for leap seconds. */
	return y > 1900 && y < 2100 && mo >= 1 && mo <= 12 && d >= 1 &&
	    d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 &&
	    s <= 61;
}

/*
 * The 16-char form YYYYMMDDTHHMMSSZ (ci: 'T' and 'Z' in either case, as
 * file-name times are upper-cased before conversion), or the legacy
 * YYYY-MM-DDTHH:MM:SS followed by Z or ±HH:MM (n == 20 or 25).
 */
static int
parse_w3(const char *s, size_t n, int ci, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh, om, sign;
	int64_t off = 0;
	char t, z;

	if (n == 16) {
		t = s[8];
		z = s[15];
		if (ci) {
			t = (t == 't') ? 'T' : t;
			z = (z == 'z') ? 'Z' : z;
		}
		if (t != 'T' || z != 'Z')
			return ARCA_ERR_CORRUPT;
		y = digits(s, 4);
		mo = digits(s + 4, 2);
		d = digits(s + 6, 2);
		h = digits(s + 9, 2);
		mi = digits(s + 11, 2);
		sec = digits(s + 13, 2);
	} else if (n == 20 || n == 25) {
		t = s[10];
		if (ci && t == 't')
			t = 'T';
		if (s[4] != '-' || s[7] != '-' || t != 'T' || !is_sep(s[13]) ||
		    s[16] != s[13])
			return ARCA_ERR_CORRUPT;
		y = digits(s, 4);
		mo = digits(s + 5, 2);
		d = digits(s + 8, 2);
		h = digits(s + 11, 2);
		mi = digits(s + 14, 2);
		sec = digits(s + 17, 2);
		if (n == 20) {
			z = s[19];
			if (ci && z == 'z')
				z = 'Z';
			if (z != 'Z')
				return ARCA_ERR_CORRUPT;
		} else {
			if (s[19] == '+')
				sign = 1;
			else if (s[19] == '-')
				sign = -1;
			else
				return ARCA_ERR_CORRUPT;
			oh = digits(s + 20, 2);
			om = digits(s + 23, 2);
			if (!is_sep(s[22]) || oh < 0 || om < 0)
				return ARCA_ERR_CORRUPT;
			off = sign * (int64_t)(oh * 3600 + om * 60);
		}
	} else
		return ARCA_ERR_CORRUPT;
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
	    !fields_ok(y, mo, d, h, mi, sec))
		return ARCA_ERR_CORRUPT;
	/* A local time at offset +X is X earlier in UTC. */
	*out = fields_to_utc(y, mo, d, h, mi, sec) - off;
	return 0;
}

int
arca_time_parse_name(const char *s, size_t n, int64_t *out)
{
	return parse_w3(s, n, 1, out);
}

/*
 * The local standard-time offset (seconds east of UTC) in the year of now.
 * Of January's and July's offsets the smaller is standard time on either
 * hemisphere, since daylight saving moves clocks forward.  Like duplicity's
 * zone string it has minute resolution.
 */
static int64_t
std_offset(int64_t now)
{
	struct tm tm, jan, jul;
	time_t t = (time_t)now, tj, tl;
	long oj, ol, o;
	int y;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	y = tm.tm_year + 1900;
	tj = (time_t)fields_to_utc(y, 1, 1, 12, 0, 0);
	tl = (time_t)fields_to_utc(y, 7, 1, 12, 0, 0);
	if (localtime_r(&tj, &jan) == NULL || localtime_r(&tl, &jul) == NULL)
		return 0;
	oj = jan.tm_gmtoff;
	ol = jul.tm_gmtoff;
	o = oj < ol ? oj : ol;
	return (int64_t)(o / 60 * 60);
}

/* `<digits><unit>` groups, subtracted from now (§3.3 rule 4). */
static int
parse_interval(const char *s, size_t n, int64_t now, int64_t *out)
{
	int64_t total = 0, num, mult, add;
	size_t i = 0, start;

	if (n < 2)
		return ARCA_ERR_USAGE;
	while (i < n) {
		start = i;
		num = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (num > (INT64_MAX - 9) / 10)
				return ARCA_ERR_USAGE;
			num = num * 10 + (s[i] - '0');
			i++;
		}
		if (i == start || i == n)
			return ARCA_ERR_USAGE;
		switch (s[i]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'D': mult = 86400; break;
		case 'W': mult = 7 * 86400; break;
		case 'M': mult = 30 * 86400; break;
		case 'Y': mult = 365 * 86400; break;
		default: return ARCA_ERR_USAGE;
		}
		i++;
		if (num > INT64_MAX / mult)
			return ARCA_ERR_USAGE;
		add = num * mult;
		if (total > INT64_MAX - add)
			return ARCA_ERR_USAGE;
		total += add;
	}
	if (now < INT64_MIN + total)
		return ARCA_ERR_USAGE;
	*out = now - total;
	return 0;
}

/* 1..2 digits at *p, advancing it; -1 if none. */
static int
short_num(const char **p, const char *e)
{
	int v = 0, k = 0;

	while (*p < e && **p >= '0' && **p <= '9' && k < 2) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	return k ? v : -1;
}

/* Dates at local midnight (§3.3 rule 5); returns 1 and sets y/m/d if matched. */
static int
match_date(const char *s, size_t n, int *y, int *mo, int *d)
{
	const char *p = s, *e = s + n;

	/* YYYYMMDDZ: despite the Z, duplicity takes it as local midnight. */
	if (n == 9 && s[8] == 'Z' && digits(s, 8) >= 0) {
		*y = digits(s, 4);
		*mo = digits(s + 4, 2);
		*d = digits(s + 6, 2);
		return 1;
	}
	/* YYYY[-/]M[M][-/]D[D] */
	if (n >= 8 && digits(s, 4) >= 0 && (s[4] == '-' || s[4] == '/')) {
		p = s + 5;
		if ((*mo = short_num(&p, e)) < 0 || p == e ||
		    (*p != '-' && *p != '/'))
			return 0;
		p++;
		if ((*d = short_num(&p, e)) < 0 || p != e)
			return 0;
		*y = digits(s, 4);
		return 1;
	}
	/* M[M][-/]D[D][-/]YYYY */
	p = s;
	if ((*mo = short_num(&p, e)) < 0 || p == e || (*p != '-' && *p != '/'))
		return 0;
	p++;
	if ((*d = short_num(&p, e)) < 0 || p == e || (*p != '-' && *p != '/'))
		return 0;
	p++;
	if (e - p != 4 || (*y = digits(p, 4)) < 0)
		return 0;
	return 1;
}

int
arca_time_parse_user(const char *s, int64_t now, int64_t *out)
{
	size_t n = strlen(s), i;
	int64_t v;
	int y, mo, d;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (n > 0 && i == n) {
		v = 0;
		for (i = 0; i < n; i++) {
			if (v > (INT64_MAX - 9) / 10)
				return ARCA_ERR_USAGE;
			v = v * 10 + (s[i] - '0');
		}
		*out = v;
		return 0;
	}
	if (parse_w3(s, n, 0, out) == 0)
		return 0;
	/* A date-time without zone gets the local standard-time offset. */
	if (n == 19) {
		char buf[26];

		memcpy(buf, s, 19);
		memcpy(buf + 19, "Z", 2);
		if (parse_w3(buf, 20, 0, &v) == 0) {
			*out = v - std_offset(now);
			return 0;
		}
	}
	if (parse_interval(s, n, now, out) == 0)
		return 0;
	if (match_date(s, n, &y, &mo, &d) && fields_ok(y, mo, d, 0, 0, 0)) {
		*out = fields_to_utc(y, mo, d, 0, 0, 0) - std_offset(now);
		return 0;
	}
	return ARCA_ERR_USAGE;
}

void
arca_time_asctime(int64_t t, char out[32])
{
	static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	/* Not strftime: duplicity's text is English whatever the locale. */
	if (localtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 ||
	    tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(out, 32, "?");
		return;
	}
	snprintf(out, 32, "%s %s %2d %02d:%02d:%02d %d", wday[tm.tm_wday],
	    mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    tm.tm_year + 1900);
}

int
arca_b36_parse(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned dv;
	size_t i;

	if (n == 0)
		return ARCA_ERR_CORRUPT;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			dv = (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'z')
			dv = (unsigned)(s[i] - 'a') + 10;
		else
			return ARCA_ERR_CORRUPT;
		if (v > (UINT64_MAX - dv) / 36)
			return ARCA_ERR_CORRUPT;
		v = v * 36 + dv;
	}
	*out = v;
	return 0;
}
