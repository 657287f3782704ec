/*
 * jsonl.h - read JSON Lines files, gzip-compressed or plain (zlib reads
 * both transparently), one record at a time.
 *
 *   pg_jsonl *r;
 *   json_t *rec;
 *   if ((error = pg_jsonl_open(&r, path, 0)) < 0) goto out;
 *   while ((error = pg_jsonl_next(r, &rec)) > 0) { ...; json_decref(rec); }
 *   pg_jsonl_free(r);      // error < 0: bad file; the message names path:line
 *
 * Blank lines are skipped.  A line longer than the limit (default 256 MiB)
 * or that is not a JSON object fails with PG_EINVALID naming the line.
 */
#ifndef PG_UTIL_JSONL_H
#define PG_UTIL_JSONL_H

#include <stddef.h>
#include <jansson.h>
#include "patchgap/common.h"

typedef struct pg_jsonl pg_jsonl;

/* max_line 0 = 256 MiB. */
int pg_jsonl_open(pg_jsonl **out, const char *path, size_t max_line);
/*
 * Next non-blank line as raw bytes (borrowed until the next call; NUL-terminated,
 * without the newline).  1 = got one, 0 = end of file, < 0 = error.
 */
int pg_jsonl_next_line(pg_jsonl *r, const char **line, size_t *len);
/* Next record parsed as a JSON object (caller json_decref()s it): 1, 0 at EOF, < 0. */
int pg_jsonl_next(pg_jsonl *r, json_t **out);
/* 1-based number of the line last returned. */
size_t pg_jsonl_lineno(const pg_jsonl *r);
void pg_jsonl_free(pg_jsonl *r);

#endif
