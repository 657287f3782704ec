/*
 * json.h - jansson helpers shared by every module that emits JSON.
 *
 * Commit messages and mails may hold invalid UTF-8, which jansson refuses;
 * pg_json_string() repairs it (each bad byte becomes U+FFFD) so output never
 * fails on user data.  pg_json_dump() is the one way to serialise: sorted
 * keys, 2-space indent, trailing newline — byte-stable across runs.
 */
#ifndef PG_UTIL_JSON_H
#define PG_UTIL_JSON_H

#include <jansson.h>
#include "util/buf.h"

/* New reference to a JSON string (NULL s gives JSON null). */
json_t *pg_json_string(const char *s);
json_t *pg_json_stringn(const char *s, size_t len);
/* Set obj[key] = value, stealing the value reference; 0 or PG_ENOMEM. */
int pg_json_set(json_t *obj, const char *key, json_t *value);
/* Append to b; compact when indent == 0. */
int pg_json_dump(pg_buf *b, const json_t *v, int indent);
/* Print to a stdio stream with the same formatting (and a newline). */
int pg_json_print(void *file, const json_t *v, int indent);
/* Parse text, naming `what` (a file name) and the line/column in errors. */
int pg_json_parse(json_t **out, const char *text, size_t len, const char *what);

#endif
