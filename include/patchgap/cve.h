/*
 * cve.h - the kernel CNA's CVE records in patchgap's database.
 *
 * pg_cve_import() reads the records in the layouts users have and stores
 * them in the cve tables (see doc/internals/cve.md):
 *  - a vulns.git checkout: cve/{published,rejected}/YYYY/CVE-*.json with the
 *    .sha1 (mainline fixes), .vulnerable (explicit introducers), .dyad (the
 *    CNA's per-branch vulnerable:fixed pairs) and .mbox files beside it; the
 *    directory (published/rejected) decides the state;
 *  - plain CVE JSON 5 records: a cvelistV5 checkout (cves/YYYY/Nxxx/) or
 *    single .json files; the record's cveMetadata.state decides the state.
 * The layout is detected from each path given (a checkout root, its cve/ or
 * cves/ folder, a published/rejected/year folder, or a file).
 *
 * Import is one transaction: it either stores every well-formed record or,
 * on a database failure, nothing.  A malformed record (bad JSON, missing or
 * mismatched id, bad sha, bad dyad line, unreadable file) is reported through
 * the problem callback with its file and reason, counted as skipped, and
 * does not stop the import.  Re-import is idempotent: a record whose files
 * hash to the stored content_hash is left untouched; a changed one has its
 * rows replaced; records absent from the input are kept.
 *
 * The library never prints: show/list return jansson values the caller
 * owns (json_decref).
 */
#ifndef PATCHGAP_CVE_H
#define PATCHGAP_CVE_H

#include <stddef.h>
#include <jansson.h>
#include "patchgap/common.h"
#include "patchgap/store.h"

/*
 * What happened to each record of one import run; every record seen lands in
 * exactly one counter.  rejected: a new or changed record whose state is now
 * rejected and was not rejected before (a new rejected id, or a published id
 * that moved to rejected/).  imported: any other new id.  updated: any other
 * changed record.  skipped: malformed records and unusable paths.
 * ignored (not part of the above): records of other CNAs met while walking a
 * folder of CVE JSON 5 files (a cvelistV5 checkout holds every CNA's
 * records); single files named on the command line are always imported.
 */
typedef struct pg_cve_import_stats {
	size_t imported, updated, unchanged, rejected, skipped;
	size_t ignored;
} pg_cve_import_stats;

/* The kernel CNA's organisation id (cveMetadata.assignerOrgId). */
#define PG_CVE_KERNEL_ORG "f4215fc3-5b6b-47ff-a258-f7189bd81038"

typedef struct pg_cve_import_opts {
	/* A record or path was skipped: path is the file at fault, reason says why. */
	void (*problem)(const char *path, const char *reason, void *payload);
	/* Called now and then while records are processed (done <= total). */
	void (*progress)(size_t done, size_t total, void *payload);
	void *payload;
} pg_cve_import_opts;

/*
 * Import the records found under paths[0..npaths).  Returns 0 (even when some
 * records were skipped: see stats->skipped) or a negative PG_E* code when the
 * database failed, in which case nothing of this run is stored.
 */
int pg_cve_import(pg_store *s, const char *const *paths, size_t npaths,
		  const pg_cve_import_opts *opts, pg_cve_import_stats *stats);

/* True when id looks like a CVE id: CVE-YYYY-NNNN... */
int pg_cve_id_valid(const char *id);

/*
 * Everything known about one CVE as a JSON object (keys: id, state, title,
 * description, published, updated, cvss{score,vector,severity,version},
 * rejected_reason, dyad_version, layout, source_path, content_hash,
 * fixes[{sha,source,in_history,subject}], introducers[{sha,source,version}],
 * ranges[{vuln_version,vuln_sha,fix_version,fix_sha,source}],
 * versions[{default_status,version,less_than,less_than_or_equal,status,
 * version_type}], files[], references[]).  PG_ENOTFOUND for an unknown id.
 */
int pg_cve_show(json_t **out, pg_store *s, const char *id);

typedef struct pg_cve_filter {
	const char *state;     /* "published" / "rejected" / NULL for both */
	const char *since;     /* YYYY-MM-DD or ISO 8601: published at or after; NULL = any */
	const char *fixed_by;  /* commit id or hex prefix (>= 4): CVEs it fixes; NULL = any */
} pg_cve_filter;

/*
 * The CVEs matching f, ordered by id (year, then number), as a JSON array of
 * {id, state, title, published, updated, cvss_score, cvss_severity}.
 * PG_EINVALID for a malformed filter value.
 */
int pg_cve_list(json_t **out, pg_store *s, const pg_cve_filter *f);

/*
 * Append to ids the published CVEs, ordered by id, whose earliest ingested
 * fix commit is dated in [since, until] (0 = open).
 */
int pg_cve_fixed_between(json_t *ids, pg_store *s, int64_t since, int64_t until);
/* The CVE's published date as stored (*out owned; NULL when unknown or not imported). */
int pg_cve_published(char **out, pg_store *s, const char *id);

#endif
