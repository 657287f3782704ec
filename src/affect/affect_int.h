/*
 * affect_int.h - internals of the affectedness engine.
 */
#ifndef PG_AFFECT_INT_H
#define PG_AFFECT_INT_H

#include <jansson.h>
#include <git2.h>
#include "patchgap/affect.h"
#include "patchgap/kconfig.h"
#include "util/map.h"
#include "util/str.h"
#include "util/vec.h"

typedef PG_VEC(char *) pg_affect__strs;

/* One commit of a branch that is not in its mainline base. */
struct pg_affect__row {
	char sha[41];
	char upstream[41];   /* resolved upstream id from annotations, or "" */
	char reverts[41];    /* resolved id this commit reverts, or "" */
	char *subject;       /* owned */
	char *release;       /* owned: earliest branch tag containing it, or NULL */
	int64_t order;       /* commits.id: ingest order, parents first */
};

/* A branch (or one commit of it): mainline base + own commits. */
struct pg_affect__view {
	int64_t branch_id;
	char *name, *kind, *series; /* owned */
	int mainline;
	pg_kver base;
	int has_base;
	int max_patch;       /* highest stable release number seen, for predicted versions */
	int max_patch_lazy;  /* max_patch not read yet (a partial index's view) */
	int owns_rows;
	int64_t cut;          /* mainline at one commit: commits with order <= cut (0 = head) */
	PG_VEC(struct pg_affect__row *) rows;
	/* id maps to an index into rows: ids inline, so lookups neither copy keys nor chase pointers */
	pg_oidmap own;       /* sha -> row */
	pg_oidmap up;        /* upstream sha -> oldest row carrying it */
	pg_oidmap up_last;   /* upstream sha -> newest row carrying it (a re-applied backport) */
	pg_strmap subj;      /* subject -> oldest unannotated row */
	pg_oidmap reverted;  /* reverted sha -> oldest reverting row */
};

struct pg_affect__commit {
	char sha[41];
	int64_t order;
	int64_t time;             /* committer time */
	char *subject, *release;  /* owned */
	pg_kver rel;
	int has_rel, on_mainline;
	char *fixes;   /* owned: space-separated resolved Fixes: targets */
	char *reverts; /* owned: space-separated resolved reverted ids */
	char *files;   /* owned: touched paths, one per line, sorted, once have_files */
	int have_files, preloaded;
};

struct pg_affect_index {
	pg_store *store;
	PG_VEC(struct pg_affect__view *) views;
	/* sha -> struct pg_affect__commit* (NULL: not ingested): full ids by value in an
	 * id map indexing commit_vec, anything else (an abbreviated id) in a string map */
	pg_oidmap commit_ids;
	PG_VEC(struct pg_affect__commit *) commit_vec;
	pg_strmap commits;
	pg_strmap targets;   /* fix or CVE id -> struct pg_affect__target* (status of many branches) */
	pg_kver latest;      /* newest mainline tag */
	int64_t now;         /* newest committer time (status ages), once have_now */
	int have_now;
	int has_latest;
	int preloaded;       /* every published CVE's target is in targets */
	int loaded;          /* views and latest are read (pg_affect__index_load) */
	struct pg_affect__stored *stored;   /* status from stored cells: what it reads once (status.c) */
	int partial;         /* views hold only the rows pg_affect__index_load_for() loaded */
	int partial_loaded;  /* it ran (once only) */
	pg_stmt *q_commit, *q_rel, *q_files;
	/* a CVE's record, fix rows and introducer rows: prepared on first use, reused for every target */
	pg_stmt *q_cve_state, *q_cve_fixes, *q_cve_intro;
	pg_stmt *q_releases;  /* one branch's release tags (a partial index's max_patch) */
};

enum { PG_AFFECT_UNKNOWN, PG_AFFECT_AFFECTED, PG_AFFECT_FIXED, PG_AFFECT_NOT_AFFECTED };

struct pg_affect__eval {
	int status;
	char vuln_version[32], vuln_sha[41], fix_version[32], fix_sha[41];
	const char *vuln_how, *fix_how;   /* static strings */
	int fix_released, assumed;
	int64_t vuln_order;
	double confidence;
	char reason[200];
};

int pg_affect__commit(const struct pg_affect__commit **out, pg_affect_index *ix, const char *sha);
/* c's touched paths (read on first use), or NULL. */
const char *pg_affect__commit_files(pg_affect_index *ix, const struct pg_affect__commit *c);
/* Cache the facts of every commit a CVE record names, in a few queries. */
int pg_affect__commits_preload(pg_affect_index *ix);
/* Resolve every published CVE's target at once (and preload its commits). */
int pg_affect__targets_preload(pg_affect_index *ix);
/*
 * An index for evaluating a few targets (an incremental `cells`): its views
 * start without rows, and pg_affect__index_load_for() loads, per branch,
 * only the rows evaluating those fix and introducer ids looks up (reading
 * every branch's rows was a third of such a run).  Evaluating any other id
 * on it gives wrong verdicts.
 */
int pg_affect__index_open_partial(pg_affect_index **out, pg_store *store);
/*
 * Load into a partial index (once) the facts of the commits shas (fix and
 * introducer ids) and every branch row pg_affect__eval() reaches from them:
 * rows that are, carry (annotation) or share the subject of one of them, and
 * rows reverting one of those or one of them.
 */
int pg_affect__index_load_for(pg_affect_index *ix, const pg_affect__strs *shas);
int pg_affect__view_add(struct pg_affect__view *v, struct pg_affect__row *r);
/* The view's row an id map (own, up, up_last, reverted) gives for sha, or NULL. */
const struct pg_affect__row *pg_affect__view_get(const struct pg_affect__view *v, const pg_oidmap *m, const char *sha);
void pg_affect__view_free(struct pg_affect__view *v);
/*
 * Evaluation modes.  PG_AFFECT__DYAD: versions as the CNA's dyad prints them
 * (a commit after the newest tag has version "0" and counts as unreleased)
 * instead of patchgap's guess of the next release.
 */
#define PG_AFFECT__DYAD 1u
void pg_affect__mainline_version(char out[32], pg_affect_index *ix, const struct pg_affect__commit *c,
				 unsigned flags);
int pg_affect__eval(struct pg_affect__eval *e, pg_affect_index *ix, const struct pg_affect__view *v,
		    const char *fix, const char *const *intro, size_t nintro);
int pg_affect__eval_ex(struct pg_affect__eval *e, pg_affect_index *ix, const struct pg_affect__view *v,
		       const char *fix, const char *const *intro, size_t nintro, unsigned flags);
const char *pg_affect__status_name(int s);
/* Fix commits and introducers of a fix id or CVE id (arrays of 41-byte strings). */
int pg_affect__resolve_target(pg_affect__strs *fixes, pg_affect__strs *intro, char **cve_out,
			      pg_affect_index *ix, const char *id);
void pg_affect__strs_release(pg_affect__strs *s);
/* Append the CNA dyad's lines for these fixes and introducers to the JSON array out. */
int pg_affect__dyad_lines(json_t *out, pg_affect_index *ix, const pg_affect__strs *fixes, const pg_affect__strs *intro);

/* A resolved fix/CVE id, cached in the index: evaluating twenty branches resolves once. */
struct pg_affect__target {
	pg_affect__strs fixes, intro;
	char *cve;   /* owned, or NULL for a commit id */
};
void pg_affect__target_free(struct pg_affect__target *t);
int pg_affect__target(const struct pg_affect__target **out, pg_affect_index *ix, const char *id);

/*
 * status's verdict of one fix/CVE on one view: over the target's fixes, the
 * one that says most (open while any fix is missing where the bug is); no
 * introducer known and the fix absent is affected with e->assumed set.
 * *best_fix (borrowed from tg) is NULL when the target has no fix commit.
 */
int pg_affect__verdict(struct pg_affect__eval *best, const char **best_fix, pg_affect_index *ix,
		       const struct pg_affect__view *view, const struct pg_affect__target *tg);
/* Build awareness: the tree at a revision and a kernel .config. */
struct pg_affect__build {
	git_repository *repo;
	pg_kconfig *cfg;
	pg_ktree tree;
	int have_tree;
	pg_kbuild *kb;
	char path[4096];
};
/* Open (b is zeroed first; release it even on failure). */
int pg_affect__build_open(struct pg_affect__build *b, const char *repository, const char *kconfig, const char *rev);
void pg_affect__build_release(struct pg_affect__build *b);
/* The VEX verdict of a fix's diff under the build (its status under_investigation when it cannot be judged). */
json_t *pg_affect__build_verdict(struct pg_affect__build *b, const char *fix, int *not_affected);

struct pg_affect__view *pg_affect__find_view(pg_affect_index *ix, const char *name);
/* Read every branch's rows (and the newest mainline tag) on first use: status may read stored cells instead. */
int pg_affect__index_load(pg_affect_index *ix);

/*
 * What the stored cells were computed from, beyond each target's record:
 * stamp hashes the commit high-water mark and every tracked branch's name,
 * kind, base tag, head and reachable row count; defs the definitions alone.
 * pg_affect_cells_update() records both in meta; status reads the cells of
 * a branch only while the stamp is the same (doc/internals/affect.md).
 */
#define PG_AFFECT__STAMP_KEY "affect.cells.inputs"
#define PG_AFFECT__DEFS_KEY "affect.cells.branch_defs"
int pg_affect__cells_inputs(char stamp[17], char defs[17], pg_store *store);
void pg_affect__stored_free(struct pg_affect__stored *S);
/* The content hash of a kernel .config as cell_configs stores it. */
int pg_affect__config_hash(char out[17], const char *path);

#endif
