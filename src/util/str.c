/*
 * str.c - string, kernel version and time helpers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/str.h"

size_t pg_str_hexlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && isxdigit((unsigned char)s[n]))
		n++;
	return n;
}

int pg_str_is_sha(const char *s)
{
	return s && pg_str_hexlen(s, 41) == 40 && s[40] == '\0';
}

char *pg_str_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *pg_str_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

char *pg_str_trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int pg_str_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int pg_str_starts_with_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

const char *pg_str_find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return hay;
	for (; *hay; hay++)
		if (tolower((unsigned char)*hay) == tolower((unsigned char)*needle) &&
		    !strncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

char *pg_strdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		pg_error_setc(PG_ENOMEM, "out of memory");
	return p;
}

char *pg_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		pg_error_setc(PG_ENOMEM, "out of memory");
	return p;
}

static int parse_num(const char **s, int *out)
{
	long v = 0;
	const char *p = *s;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > 100000)
			return -1;
	}
	*out = (int)v;
	*s = p;
	return 0;
}

int pg_kver_parse(pg_kver *out, const char *s)
{
	const char *p = s;
	pg_kver v = { 0, 0, 0, 0 };

	if (*p == 'v')
		p++;
	if (parse_num(&p, &v.major) < 0 || *p++ != '.' || parse_num(&p, &v.minor) < 0)
		goto bad;
	if (*p == '.') {
		p++;
		if (parse_num(&p, &v.patch) < 0)
			goto bad;
	} else if (!strncmp(p, "-rc", 3)) {
		p += 3;
		if (parse_num(&p, &v.rc) < 0 || v.rc == 0)
			goto bad;
	}
	if (*p)
		goto bad;
	*out = v;
	return 0;
bad:
	return pg_error_setc(PG_EINVALID, "'%s' is not a kernel version", s);
}

int pg_kver_cmp(const pg_kver *a, const pg_kver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	/* -rcN precede the release; the release precedes X.Y.1 */
	if ((a->rc != 0) != (b->rc != 0))
		return a->rc ? -1 : 1;
	if (a->rc != b->rc)
		return a->rc < b->rc ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

void pg_kver_format(char *buf, size_t size, const pg_kver *v)
{
	if (v->rc)
		snprintf(buf, size, "%d.%d-rc%d", v->major, v->minor, v->rc);
	else if (v->patch)
		snprintf(buf, size, "%d.%d.%d", v->major, v->minor, v->patch);
	else
		snprintf(buf, size, "%d.%d", v->major, v->minor);
}

void pg_time_iso8601(char *buf, size_t size, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int pg_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return pg_error_setc(PG_EINVALID, "'%s' is not a date (want YYYY-MM-DD)", s);
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3)
			return pg_error_setc(PG_EINVALID, "'%s' has a malformed time", s);
		p += 1 + n;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (*p == 'Z')
			p++;
		else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;
			if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 && sscanf(p + 1, "%2d%2d", &oh, &om) != 2)
				return pg_error_setc(PG_EINVALID, "'%s' has a malformed UTC offset", s);
			oh *= sign;
			om *= sign;
			p += strlen(p);
		}
	}
	if (*p)
		return pg_error_setc(PG_EINVALID, "'%s' has trailing characters", s);
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	*out = t - (oh * 3600 + om * 60);
	return 0;
}

const char *pg_str_rchr(const char *p, int ch, size_t n)
{
	while (n--)
		if (p[n] == (char)ch)
			return p + n;
	return NULL;
}
