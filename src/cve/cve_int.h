/*
 * cve_int.h - one CVE record in memory, between the file parsers (record.c)
 * and the database writer (import.c).
 *
 * Invariants: every sha stored is 40 lowercase hex digits or "0" (ranges
 * only: unknown introducer / branch not fixed); fixes and introducers hold no
 * duplicate (sha[, source]); strings are owned by the record and freed by
 * pg_cve__rec_release().  Parsers set pg_error_set() with a reason that
 * names the offending line or member but not the file: the caller adds it.
 */
#ifndef PG_CVE_INT_H
#define PG_CVE_INT_H

#include <stddef.h>
#include "patchgap/cve.h"
#include "util/vec.h"

struct pg_cve__sha {
	char sha[41];
	const char *source;  /* static string */
	char *version;       /* introducers from dyad overrides; else NULL */
};

struct pg_cve__range {
	char *vuln_version, *vuln_sha, *fix_version, *fix_sha;
	const char *source;  /* "dyad" / "json" */
};

struct pg_cve__version {
	char *default_status, *version, *less_than, *less_than_or_equal, *status, *version_type;
};

typedef struct pg_cve__rec {
	char id[32];
	int year;
	long long num;
	const char *state;   /* "published" / "rejected" (static) */
	char *title, *description, *published, *updated, *rejected_reason;
	int has_cvss;
	double cvss_score;
	char *cvss_vector, *cvss_severity, *cvss_version;
	char *dyad_version;
	char *assigner;      /* cveMetadata.assignerOrgId, or NULL */
	PG_VEC(struct pg_cve__sha) fixes;
	PG_VEC(struct pg_cve__sha) introducers;
	PG_VEC(struct pg_cve__range) ranges;
	PG_VEC(struct pg_cve__version) versions;
	PG_VEC(char *) files;
	PG_VEC(char *) refs;
} pg_cve__rec;

/* id must be valid (pg_cve_id_valid); sets id/year/num, everything else empty. */
int pg_cve__rec_init(pg_cve__rec *r, const char *id);
void pg_cve__rec_release(pg_cve__rec *r);

/* Parsers; each appends to r.  text is NUL-terminated. */
/*
 * A CVE JSON 5 record.  dir_state: the state the directory says (vulns.git),
 * or NULL to take cveMetadata.state.  want_ranges: add the git ranges to
 * r->ranges (when there is no .dyad).
 */
int pg_cve__parse_json(pg_cve__rec *r, const char *text, size_t len, const char *dir_state,
		       int want_ranges);
/* .sha1 (source "sha1") lines: one 40-hex id per line. */
int pg_cve__parse_sha1(pg_cve__rec *r, const char *text);
/* .vulnerable lines: one 40-hex id per line (introducers, source "vulnerable"). */
int pg_cve__parse_vulnerable(pg_cve__rec *r, const char *text);
/* .dyad: "# dyad version: V", override comments, vuln_ver:vuln_sha:fix_ver:fix_sha lines. */
int pg_cve__parse_dyad(pg_cve__rec *r, const char *text);
/* .mbox: takes the title from "Subject: CVE-...: title" when r has none. */
int pg_cve__parse_mbox(pg_cve__rec *r, const char *text);

/* Add a fix / introducer unless that sha (and source, for introducers) is there. */
int pg_cve__add_fix(pg_cve__rec *r, const char *sha, const char *source);
int pg_cve__add_introducer(pg_cve__rec *r, const char *sha, const char *source, const char *version);

#endif
