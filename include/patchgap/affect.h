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
	const char *kconfig;     /* kernel .config: drop fixes whose code is not built (VEX);
				  * NULL = the branch's configured one, if any */
	int no_kconfig;          /* ignore the branch's configured .config */
	int recompute;           /* compute even when the stored cells are current */
} pg_status_options;
#define PG_STATUS_OPTIONS_INIT { 1, NULL, 0, NULL, 0, 0 }

/*
 * Every known security fix (CVE fix commits and classifier-flagged commits)
 * that affects the given branch name or commit and is not fixed in it.
 * *out: { "target", "branch", "base", "unfixed": [...], "fixed": [...],
 *         "not_affected_by_config": [...] }.  With a .config, each open fix's
 * diff is evaluated against the tree's Kbuild files and #if blocks: fixes
 * whose code is not built move to not_affected_by_config with the VEX
 * justification and evidence; the others carry their "vex" verdict.
 * A tracked branch is read from the stored cells (pg_affect_cells_update)
 * while they are provably current, with the same output; opts->recompute
 * always computes (doc/internals/affect.md, "status").
 */
int pg_affect_status(json_t **out, pg_affect_index *ix, const char *target, const pg_status_options *opts);

/*
 * Stored verdicts ("cells"): one per (known security fix, tracked branch,
 * config) in table `cells` (doc/internals/affect.md), each as `status`
 * reports it (affected, fixed, not_affected, unknown) with the inputs it
 * was computed from.  Config '' is the branch without build evaluation;
 * a branch with a kernel .config (`kconfig`) also has cells with config =
 * that path: status's verdict under the build (an affected fix whose code
 * is not built is not_affected, with the VEX justification).
 *
 * pg_affect_cells_update_ext() brings the table up to date in one
 * transaction: incrementally (only the cells that new commits, changed
 * records, a rewritten branch or an edited .config can have changed) or,
 * with PG_AFFECT_CELLS_FULL or on the first run, every cell.  Both give the
 * same table.  Build verdicts read the repository: without one (NULL, and
 * pg_affect_cells_update()) no config cells are kept.
 */
#define PG_AFFECT_CELLS_FULL 1u
typedef struct pg_affect_cells_stats {
	size_t targets;        /* known security fixes: published CVEs + flagged silent fixes */
	size_t branches;       /* tracked branches with a completed ingest */
	size_t dirty_targets;  /* targets recomputed on every branch */
	size_t full_branches;  /* branches recomputed for every target */
	size_t evaluated;      /* cells computed by this run */
	size_t written;        /* of those, cells whose stored row changed (the others are not rewritten) */
	size_t deleted;        /* cells removed (rejected CVEs, unflagged fixes) */
	int full;              /* every cell was recomputed */
} pg_affect_cells_stats;
int pg_affect_cells_update_ext(pg_affect_cells_stats *out, pg_store *store, unsigned flags, const char *repository);
int pg_affect_cells_update(pg_affect_cells_stats *out, pg_store *store, unsigned flags);

/* One stored cell; every string is borrowed for the duration of the callback. */
typedef struct pg_affect_cell {
	const char *id;          /* CVE id, or the fix commit of a silent fix */
	const char *kind;        /* "cve" | "silent" */
	const char *branch, *config;
	const char *status;      /* "affected" | "fixed" | "not_affected" | "unknown" */
	int introducer_known;    /* the target has an introducer (0: an absent fix is affected by the
				  * CNA convention for 0:0:fix) */
	const char *fix;         /* the fix commit the verdict is about, or NULL */
	const char *introducer, *introducer_how;   /* NULL when none is present */
	const char *fixed_by, *fix_how;            /* NULL when not fixed */
	double confidence;       /* of fixed_by; -1 when not fixed */
	const char *reason;
	const char *cve_hash;    /* the record's content hash it was computed from (NULL: silent fix) */
	const char *deps;        /* fix and introducer commits evaluated, space-separated */
	const char *justification; /* config cells: VEX justification of a fix not built, else NULL */
	const char *vex;         /* config cells: the build verdict of an affected fix (JSON), else NULL */
} pg_affect_cell;
typedef int (*pg_affect_cell_cb)(const pg_affect_cell *cell, void *payload);
/*
 * Read stored cells without recomputing: those of one branch and/or one id
 * (NULL = all), ordered by branch, config, id.  A non-zero return of cb
 * stops the walk and is returned.
 */
int pg_affect_cells_foreach(pg_store *store, const char *branch, const char *id, pg_affect_cell_cb cb, void *payload);

/*
 * pg_affect_cells_update_ext() that tells notify, inside the update's
 * transaction, of every change it writes: each cell row written (a new
 * cell, or one whose fields changed; an unchanged recomputed cell is not
 * reported), and each target whose cells were all removed (a rejected CVE,
 * an unflagged silent fix), as a cell with only `id` set (branch and status
 * NULL).  Cells of branches or .configs no longer tracked go unreported.
 * A non-zero return of notify rolls the update back and is returned.
 * Every update that writes or removes a cell adds one to the meta value
 * PG_AFFECT_CELLS_GENERATION, so a follower that saw generation g before
 * its own update knows whether another writer ran in between.
 */
#define PG_AFFECT_CELLS_GENERATION "affect.cells.generation"
int pg_affect_cells_update_notify(pg_affect_cells_stats *out, pg_store *store, unsigned flags, const char *repository,
				  pg_affect_cell_cb notify, void *payload);

#endif
