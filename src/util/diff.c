/*
 * diff.c - unified-diff hunk header parser (see diff.h).  Bounded by n and
 * by a cap on each number, so it is safe on hostile input.
 */
#include <string.h>
#include "util/diff.h"
#include "util/banned.h"

static int num(const char *p, size_t n, size_t *i, unsigned *out)
{
	size_t start = *i;
	unsigned long v = 0;
	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		v = v * 10 + (unsigned long)(p[*i] - '0');
		if (v > 100000000UL)
			return 0;
		(*i)++;
	}
	*out = (unsigned)v;
	return *i > start;
}

/* "a" or "a,b" */
static int range(const char *p, size_t n, size_t *i, unsigned *start, unsigned *count)
{
	if (!num(p, n, i, start))
		return 0;
	*count = 1;
	if (*i < n && p[*i] == ',') {
		(*i)++;
		return num(p, n, i, count);
	}
	return 1;
}

int pg_diff_hunk_parse(pg_diff_hunk *out, const char *line, size_t n)
{
	pg_diff_hunk h;
	size_t i = 4;

	if (n < 4 || memcmp(line, "@@ -", 4))
		return 0;
	if (!range(line, n, &i, &h.old_start, &h.old_count))
		return 0;
	if (i + 2 > n || line[i] != ' ' || line[i + 1] != '+')
		return 0;
	i += 2;
	if (!range(line, n, &i, &h.new_start, &h.new_count))
		return 0;
	if (i + 3 > n || memcmp(line + i, " @@", 3))
		return 0;
	i += 3;
	h.heading = line + i;
	h.heading_len = n - i;
	*out = h;
	return 1;
}
