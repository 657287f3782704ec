/*
 * affect.h - which tracked branches (and commits) a security fix affects.
 *
 * For a fix (a mainline commit, or every fix commit of a CVE) and each
 * tracked line of development, the vulnerable/fixed pair in the kernel
 * CNA's dyad meaning: where the bug entered the line (release + commit: the
 * mainline introducer when the branch's base already has it, or the stable
 * backport that brought it in), and where it was fixed (release + commit,
 * "0" when not fixed there).  Introducers come from explicit overrides
 * (CNA .vulnerable), else the fix's resolved Fixes: tags, else the reverted
 * commit for a revert.  A backport that was later reverted on the branch
 * does not count.  Presence in a branch is established, in order, by
 * annotation (`commit X upstream`, cherry-pick -x), then by identical
 * subject and touched files (vendor trees that drop annotations), each
 * with its method and confidence.
 *
 * Ownership: pg_affect_index_open() gives a pg_affect_index (free with
 * pg_affect_index_free) that caches the branch views; results are json_t
 * objects owned by the caller.
 */
#ifndef PATCHGAP_AFFECT_H
#define PATCHGAP_AFFECT_H

#include <jansson.h>
#include "patchgap/common.h"
#include "patchgap/store.h"

typedef struct pg_affect_index pg_affect_index;

int pg_affect_index_open(pg_affect_index **out, pg_store *store);
void pg_affect_index_free(pg_affect_index *ix);

/*
 * Pairs for a fix commit id (full or abbreviated) or a CVE id.
 * *out: { "id", "fixes": [...], "introducers": [...], "dyad": ["v:s:f:s"...],
 *         "branches": { name: {vuln_version, vuln_sha, fix_version, fix_sha,
 *                              fix_released, status, vuln_how, fix_how, confidence, reason} } }
 * status per branch: "affected" (not fixed), "fixed", "not_affected".
 * PG_ENOTFOUND when the id is unknown; a CVE whose fix is not ingested gives
 * status "unknown" for every branch, never "not_affected".
 */
int pg_affect_fix(json_t **out, pg_affect_index *ix, const char *id);

/* Options of pg_affect_status. */
typedef struct pg_status_options {
	unsigned version;
	const char *repository;  /* git repository, to walk a commit that is not a branch head */
	int include_fixed;       /* also list fixes that are present */
} pg_status_options;
#define PG_STATUS_OPTIONS_INIT { 1, NULL, 0 }

/*
 * Every known security fix (CVE fix commits and classifier-flagged commits)
 * that affects the given branch name or commit and is not fixed in it.
 * *out: { "target", "branch", "base", "unfixed": [...], "fixed": [...] }.
 */
int pg_affect_status(json_t **out, pg_affect_index *ix, const char *target, const pg_status_options *opts);

#endif
