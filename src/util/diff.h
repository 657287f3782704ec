/*
 * diff.h - the one parser of unified-diff hunk headers ("@@ -a,b +c,d @@"),
 * shared by patch ids, live-patch verdicts and #if evaluation of hunks.
 */
#ifndef PG_UTIL_DIFF_H
#define PG_UTIL_DIFF_H

#include <stddef.h>

typedef struct pg_diff_hunk {
	unsigned old_start, old_count, new_start, new_count; /* counts default to 1 */
	const char *heading;   /* borrowed: text after the closing "@@" (function context) */
	size_t heading_len;
} pg_diff_hunk;

/*
 * Parse line[0..n) (need not be NUL-terminated).  1 when it is a well-formed
 * hunk header "@@ -a[,b] +c[,d] @@[ heading]", else 0 (out untouched).
 */
int pg_diff_hunk_parse(pg_diff_hunk *out, const char *line, size_t n);

#endif
