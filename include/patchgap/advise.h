/*
 * advise.h - the publishing layer: an in-memory advisory model, loaders that
 * fill it (kernel CNA records, the model's own JSON form), writers for CVE
 * JSON 5, OSV, CSAF 2.0 VEX, OpenVEX and text/mbox, the revision ledger that
 * gives documents a stable identity across runs, and the patch-gap report.
 *
 * The model is plain data (public structs) so that other modules (cve,
 * affect, backport) can build one directly.  Strings are owned by the model
 * (malloc'd, freed by pg_advise_doc_free); optional strings are NULL.
 *
 * Determinism: writers never read the clock.  Every timestamp comes from
 * the model (doc->initial_date / doc->current_date / revisions), and
 * pg_advise_doc_normalize() puts products, vulnerabilities, statuses and
 * string lists in a defined order, so equal models give byte-identical
 * output.  See doc/internals/advise.md.
 */
#ifndef PATCHGAP_ADVISE_H
#define PATCHGAP_ADVISE_H

#include <stddef.h>
#include <stdint.h>
#include "patchgap/common.h"
#include "patchgap/store.h"
#include <jansson.h>

struct pg_buf;

typedef enum pg_advise_kind {
	PG_ADVISE_MAINLINE = 0,
	PG_ADVISE_STABLE,
	PG_ADVISE_VENDOR,
} pg_advise_kind;

typedef enum pg_advise_status {
	PG_ADVISE_UNDER_INVESTIGATION = 0, /* unknown: no evidence either way */
	PG_ADVISE_AFFECTED,
	PG_ADVISE_FIXED,
	PG_ADVISE_NOT_AFFECTED,
} pg_advise_status;

/* A tracked branch, optionally one .config build of it. */
typedef struct pg_advise_product {
	char *id;        /* stable product id, e.g. "linux-6.1.y" or "linux-6.1.y+amd64" */
	char *branch;    /* branch name: "mainline", "6.1", "debian-6.1" */
	pg_advise_kind kind;
	char *build;     /* .config build name, or NULL for the whole branch */
	char *repo;      /* git URL of the branch's tree, or NULL */
	int has_tags;    /* the branch has release tags (versions are meaningful) */
} pg_advise_product;

/* The state of one vulnerability on one product. */
typedef struct pg_advise_state {
	char *product;         /* pg_advise_product.id */
	pg_advise_status status;
	char *vuln_version;    /* release that introduced it on this branch, or NULL */
	char *vuln_sha;        /* introducing commit (40 hex), or NULL when unknown */
	char *fix_version;     /* first release of this branch with the fix, or NULL */
	char *fix_sha;         /* fixing commit on this branch, or NULL (none) */
	char *justification;   /* not_affected: VEX justification keyword (see below) */
	char *evidence;        /* free text: why this status (all statuses) */
	char *remediation;     /* affected: what to do ("backport needed: ...") */
} pg_advise_state;

/* VEX justification keywords (OpenVEX names; mapped for CSAF). */
#define PG_ADVISE_J_CODE_NOT_PRESENT "vulnerable_code_not_present"
#define PG_ADVISE_J_COMPONENT_NOT_PRESENT "component_not_present"
#define PG_ADVISE_J_NOT_IN_EXECUTE_PATH "vulnerable_code_not_in_execute_path"
#define PG_ADVISE_J_CANNOT_BE_CONTROLLED "vulnerable_code_cannot_be_controlled_by_adversary"
#define PG_ADVISE_J_INLINE_MITIGATIONS "inline_mitigations_already_exist"

typedef struct pg_advise_strs {
	char **v;
	size_t n, alloc;
} pg_advise_strs;

typedef struct pg_advise_vuln {
	char *id;            /* "CVE-2025-21629", or "PGSA-<12 hex of the fix>" for a silent fix */
	char *title;
	char *description;
	char *cwe;           /* "CWE-416", or NULL */
	char *bug_class;     /* free keyword: "use-after-free", or NULL */
	char *cvss_vector;   /* "CVSS:3.1/...", or NULL */
	double cvss_score;   /* valid when cvss_vector != NULL */
	char *cvss_severity; /* "HIGH" ... */
	int rejected;        /* withdrawn / rejected record */
	char *rejection_reason;
	int64_t published;   /* from data (0 = unknown) */
	int64_t modified;    /* from data (0 = unknown) */
	pg_advise_strs fix_commits;        /* mainline fixing commits */
	pg_advise_strs introducing_commits;
	pg_advise_strs program_files;
	pg_advise_strs references;         /* extra URLs */
	pg_advise_state *states;
	size_t nstates, astates;
} pg_advise_vuln;

typedef struct pg_advise_revision {
	int number;
	int64_t date;
	char *summary;
	char *content_hash;
} pg_advise_revision;

typedef struct pg_advise_doc {
	char *id;              /* document id, stable across revisions */
	char *title;
	char *scope;           /* what the document covers: "upstream" or a branch name */
	char *focus_branch;    /* branch the text advisory speaks to (--branch), or NULL */
	char *publisher;       /* publisher name */
	char *namespace_url;   /* publisher namespace URL */
	int64_t data_date;     /* latest date among the inputs */
	int64_t initial_date;  /* date of revision 1 */
	int64_t current_date;  /* date of the latest revision */
	pg_advise_product *products;
	size_t nproducts, aproducts;
	pg_advise_vuln *vulns;
	size_t nvulns, avulns;
	pg_advise_revision *revisions; /* oldest first; at least one after pg_advise_doc_finalize */
	size_t nrevisions, arevisions;
} pg_advise_doc;

/* ---- model lifecycle ---- */
int pg_advise_doc_new(pg_advise_doc **out, const char *id);
void pg_advise_doc_free(pg_advise_doc *doc);
/* Append (copies strings).  Returned pointers are borrowed, valid until the next add. */
int pg_advise_doc_add_product(pg_advise_product **out, pg_advise_doc *doc, const char *id,
			      const char *branch, pg_advise_kind kind, const char *build);
int pg_advise_doc_add_vuln(pg_advise_vuln **out, pg_advise_doc *doc, const char *id);
int pg_advise_vuln_add_state(pg_advise_state **out, pg_advise_vuln *v, const char *product,
			     pg_advise_status status);
int pg_advise_strs_add(pg_advise_strs *s, const char *str);
const pg_advise_product *pg_advise_doc_product(const pg_advise_doc *doc, const char *id);
/* Set an owned string field: frees the old value, copies s (NULL clears). */
int pg_advise_set(char **field, const char *s);

const char *pg_advise_status_name(pg_advise_status s);   /* "affected", ... */
int pg_advise_status_parse(pg_advise_status *out, const char *s);
const char *pg_advise_kind_name(pg_advise_kind k);       /* "mainline", ... */
int pg_advise_kind_parse(pg_advise_kind *out, const char *s);

/*
 * Sort products (mainline first, then by version/name), vulnerabilities by
 * id, states by product order, string lists lexically (deduplicated), and
 * check the invariants (unique ids, every state names a product, shas are
 * 40 hex, justification only on not_affected).  PG_EINVALID with a message.
 */
int pg_advise_doc_normalize(pg_advise_doc *doc);

/* ---- loaders ---- */
/*
 * One kernel CNA record (kernel-cves.jsonl.gz line, as a jansson json_t *
 * passed as void * to keep jansson out of this header) into doc.  branch
 * (optional): scope the document to that branch ("6.1", "linux-6.1.y",
 * "mainline"); the branch's state is derived from the dyad lines, or
 * inferred when the CNA lists nothing for it.
 */
int pg_advise_load_cna_record(pg_advise_doc **out, const void *record, const char *branch);
/* Find CVE id in a kernel-cves JSON-lines file (.gz or plain) and load it. */
int pg_advise_load_cna_file(pg_advise_doc **out, const char *path, const char *cve_id,
			    const char *branch);
/*
 * From the database: id is a CVE id (cve tables) or a fix commit (a silent
 * fix: vulnerability id "PGSA-<12 hex>"); one product per tracked branch
 * (or only `branch`), states from the affectedness engine (pg_affect_fix).
 * PG_ENOTFOUND for an unknown id or branch.
 */
int pg_advise_load_store(pg_advise_doc **out, pg_store *store, const char *id, const char *branch);
/* The model's JSON form (doc/internals/advise.md). */
int pg_advise_load_json(pg_advise_doc **out, const char *text, const char *source_name);
int pg_advise_load_json_file(pg_advise_doc **out, const char *path);
int pg_advise_write_model(struct pg_buf *out, const pg_advise_doc *doc);

/* ---- identity and revisions ---- */
/* Hash (40 hex) of the document's content, excluding revision data. */
int pg_advise_content_hash(char out[41], const pg_advise_doc *doc);
/*
 * Give the document its revision history.  Without a store: one revision
 * dated doc->data_date.  With a store: looks up doc->id in the advisories
 * table; an unchanged content hash reuses the stored history, a changed one
 * appends a revision (dated max(data_date, previous + 1 s)) inside a
 * transaction.  record = 0 only reads (never writes the store).
 */
int pg_advise_doc_finalize(pg_advise_doc *doc, pg_store *store, int record);

/* ---- writers (append to out; deterministic) ---- */
typedef enum pg_advise_format {
	PG_ADVISE_CVE5 = 0,
	PG_ADVISE_OSV,
	PG_ADVISE_CSAF,
	PG_ADVISE_OPENVEX,
	PG_ADVISE_TEXT,
	PG_ADVISE_NFORMATS
} pg_advise_format;

const char *pg_advise_format_name(pg_advise_format f);   /* "cve5", "osv", ... */
const char *pg_advise_format_ext(pg_advise_format f);    /* ".cve5.json", ... */
int pg_advise_format_parse(pg_advise_format *out, const char *s);

/* CVE JSON 5.1.1 record per vulnerability; vuln_index selects which. */
int pg_advise_write_cve5(struct pg_buf *out, const pg_advise_doc *doc, size_t vuln_index);
/* OSV 1.7 entry per vulnerability. */
int pg_advise_write_osv(struct pg_buf *out, const pg_advise_doc *doc, size_t vuln_index);
/* One CSAF 2.0 csaf_vex document covering every vulnerability. */
int pg_advise_write_csaf(struct pg_buf *out, const pg_advise_doc *doc);
/* One OpenVEX 0.2.0 document covering every vulnerability. */
int pg_advise_write_openvex(struct pg_buf *out, const pg_advise_doc *doc);
/* Plain-text announcement as an mbox message (From line, headers, body). */
int pg_advise_write_text(struct pg_buf *out, const pg_advise_doc *doc);
/* Dispatch: writes the whole document (CVE5/OSV: vuln_index picks the entry). */
int pg_advise_write(struct pg_buf *out, pg_advise_format f, const pg_advise_doc *doc,
		    size_t vuln_index);

/* OSV ids: "x_<document id>" (x_ is OSV's prefix for local databases). */
#define PG_ADVISE_OSV_PREFIX "x_"
#define PG_ADVISE_OSV_ECOSYSTEM "Linux"
#define PG_ADVISE_CNA_ORG_ID "f4215fc3-5b6b-47ff-a258-f7189bd81038"
#define PG_ADVISE_KERNEL_REPO "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"

/* ---- the patch-gap report ---- */
/* One security fix as seen by one tracked branch; dates are UNIX times, 0 = unknown/none. */
typedef struct pg_report_fix {
	char *id;              /* CVE id or fix sha */
	char *branch;
	char *subject;
	char *priority;        /* "critical", "high", ... or NULL */
	char *bug_class;
	char *subsystem;
	char *upstream_sha;
	int64_t upstream_date;        /* fix committed upstream (public) */
	char *mainline_release;
	int64_t mainline_release_date;
	char *stable_release;
	int64_t stable_release_date;
	char *branch_sha;
	int64_t branch_date;          /* fix committed to this branch; 0 = still open */
	char *branch_tag;
	int64_t branch_tag_date;
	int64_t cve_date;             /* CVE published; 0 = no CVE */
	int64_t classifier_date;      /* classifier flagged it; 0 = not flagged */
} pg_report_fix;

typedef struct pg_report_input {
	pg_report_fix *fixes;
	size_t nfixes, afixes;
	int64_t as_of;     /* "now" for open-fix ages; 0 = latest date in the input */
	char *title;
	json_t *list_lead; /* owned: pg_lists_lead()'s rows (per list and tree), or NULL when no mail is linked */
} pg_report_input;

/* Distribution of a set of values (days). */
typedef struct pg_report_stats {
	size_t n;
	double median, p90, mean, min, max;
} pg_report_stats;

typedef struct pg_report_group {
	char *dimension;   /* "priority", "bug_class", "subsystem", "branch" */
	char *key;
	pg_report_stats window; /* exposure windows (days) of closed fixes */
	size_t open;
} pg_report_group;

typedef struct pg_report {
	int64_t as_of;
	pg_report_stats window;      /* all closed fixes: upstream -> branch commit (days) */
	pg_report_stats tag_window;  /* upstream -> branch release tag, where tagged */
	pg_report_stats open_age;    /* open fixes: upstream -> as_of */
	pg_report_stats lead;        /* classifier lead over CVE (days), where both exist */
	size_t nclosed, nopen, nlead;
	pg_report_group *groups;
	size_t ngroups;
	const pg_report_input *input; /* borrowed */
} pg_report;

void pg_report_input_release(pg_report_input *in);
int pg_report_input_add(pg_report_fix **out, pg_report_input *in, const char *id, const char *branch);
int pg_report_load_json(pg_report_input *in, const char *text, const char *source_name);
int pg_report_load_json_file(pg_report_input *in, const char *path);
/*
 * From the database: every published CVE the affectedness engine finds
 * affected or fixed on each tracked stable/vendor branch (or only `branch`),
 * dated from the ingested commits and tags (doc/internals/advise.md).
 */
int pg_report_load_store(pg_report_input *in, pg_store *store, const char *branch);
/* Median and P90 by linear interpolation between order statistics (Hyndman-Fan type 7). */
int pg_report_stats_compute(pg_report_stats *out, const double *values, size_t n);
int pg_report_compute(pg_report *out, const pg_report_input *in);
void pg_report_release(pg_report *r);
int pg_report_write_text(struct pg_buf *out, const pg_report *r);
int pg_report_write_json(struct pg_buf *out, const pg_report *r);
int pg_report_write_html(struct pg_buf *out, const pg_report *r);

/* The latest recorded revision of a document, 0 when none (or no ledger). */
int pg_advise_latest_revision(pg_store *store, const char *doc_id);

#endif
