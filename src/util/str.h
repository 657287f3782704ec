/*
 * str.h - small string helpers shared by every module (parsers, CLI, output).
 */
#ifndef PG_UTIL_STR_H
#define PG_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "patchgap/common.h"

/* Number of leading hex digits [0-9a-fA-F] in s (up to max). */
size_t pg_str_hexlen(const char *s, size_t max);
/* True if s is exactly 40 lowercase-or-uppercase hex digits. */
int pg_str_is_sha(const char *s);
/* Lowercase in place; returns s. */
char *pg_str_lower(char *s);
/* Trim ASCII whitespace in place; returns pointer into s. */
char *pg_str_trim(char *s);
int pg_str_starts_with(const char *s, const char *prefix);
int pg_str_starts_with_ci(const char *s, const char *prefix);
/* Case-insensitive substring search; NULL if absent. */
const char *pg_str_find_ci(const char *hay, const char *needle);
/*
 * Last ch in p[0, n), or NULL.  A plain loop rather than memrchr: ASan's
 * memrchr interceptor checks the whole range on every call, so walking a
 * long text backwards line by line with it is quadratic under the sanitizer.
 */
const char *pg_str_rchr(const char *p, int ch, size_t n);
/*
 * Replace every control byte (< 0x20, 0x7f) of s by '?' in place, so text
 * from input (subjects, ids, file names) cannot move the cursor, forge
 * lines or headers when printed; returns s.
 */
char *pg_str_sanitize(char *s);
/* strdup that sets a PG error on failure. */
char *pg_strdup(const char *s);
char *pg_strndup(const char *s, size_t n);

/*
 * Kernel version strings: "6.1", "6.1.7", "6.2-rc3", with or without a
 * leading 'v'.  A parsed version orders as the kernel releases do:
 * 6.2-rc1 < 6.2-rc8 < 6.2 < 6.2.1 < 6.3-rc1.
 */
typedef struct pg_kver {
	int major, minor, patch; /* patch = 0 for "X.Y" */
	int rc;                  /* 0 = final; N for -rcN */
} pg_kver;

/* 0 on success, PG_EINVALID if s is not a kernel version. */
int pg_kver_parse(pg_kver *out, const char *s);
int pg_kver_cmp(const pg_kver *a, const pg_kver *b);
/* Format without 'v': "6.2", "6.2-rc3", "6.1.7". buf >= 32 bytes. */
void pg_kver_format(char *buf, size_t size, const pg_kver *v);

/* Format a UNIX time as ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" (buf >= 21). */
void pg_time_iso8601(char *buf, size_t size, int64_t t);
/* Parse "YYYY-MM-DD" or ISO 8601 date-time (UTC or with offset) to UNIX time. */
int pg_time_parse(int64_t *out, const char *s);

#endif
