/*
 * advise_int.h - helpers shared by the advisory writers and loaders.
 *
 * All JSON output goes through pg_advise__dump(): jansson with sorted keys
 * and two-space indentation, ending in a newline, so that output bytes are
 * a function of the model only.
 */
#ifndef PG_ADVISE_INT_H
#define PG_ADVISE_INT_H

#include <jansson.h>
#include "patchgap/advise.h"
#include "util/buf.h"

/* Append json (sorted keys, indent 2, trailing newline) to out; steals nothing. */
int pg_advise__dump(pg_buf *out, const json_t *json);
/* Free everything of a state but its product id (it is about to be refilled). */
void pg_advise__state_reset(pg_advise_state *s);
/* obj[key] = string s, skipped when s is NULL; returns 0 or PG_ENOMEM. */
int pg_advise__set_str(json_t *obj, const char *key, const char *s);
/* obj[key] = new value (stolen); PG_ENOMEM if v is NULL or the set fails. */
int pg_advise__set_new(json_t *obj, const char *key, json_t *v);
int pg_advise__append_new(json_t *arr, json_t *v);
/* ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" of t into json (t=0 -> 1970). */
json_t *pg_advise__date(int64_t t);
/* "CVE-..." ids are CVEs; anything else is one of ours. */
int pg_advise__is_cve(const char *id);
/* Short human name of a product: "mainline", "6.1.y", "6.1.y (amd64)". */
void pg_advise__product_label(char *buf, size_t size, const pg_advise_product *p);
/* The state of vuln v on product id, or NULL. */
const pg_advise_state *pg_advise__state(const pg_advise_vuln *v, const char *product);
/* Branch name normalised for matching: "linux-6.1.y" / "v6.1" / "6.1.y" -> "6.1". */
void pg_advise__branch_key(char *buf, size_t size, const char *name);

/* Remove (and free) the last fix of a report input. */
void pg_report__drop_last(pg_report_input *in);

#endif
