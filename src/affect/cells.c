/*
 * cells.c - stored verdicts: one row per (known security fix, tracked
 * branch, config) in table `cells`, as `status` would report it, with the
 * inputs it was computed from, so readers (the watch daemon, the API)
 * never recompute.
 *
 * Invariant: after pg_affect_cells_update() the table equals what a full
 * recomputation writes.  An incremental run recomputes
 *  - every branch of a target whose record changed (cves.content_hash), that
 *    is new, or that depends on something new: its fix and introducer
 *    commits (cell_deps) are new commits or targets of new branch commits'
 *    relations (a backport, a revert), have a relation that now resolves,
 *    have the subject of a new branch commit (unannotated picks) or of an
 *    old pick whose annotation now resolves, or were carried by a commit a
 *    new commit reverts (new mainline commits matter only as deps: the
 *    views index branch rows);
 *  - every target on a branch whose reachable rows are not the stored ones
 *    plus the new ones (a rewritten branch, a new branch);
 *  - every config cell (config = the branch's kernel .config) of a branch
 *    whose head or .config content changed (cell_configs).
 * A recomputed cell equal to the stored one is not written again.
 * Release tags do not enter the stored fields (no versions are stored), so
 * new tags alone change nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "affect/affect_int.h"
#include "util/buf.h"
#include "util/banned.h"

#define HWM_KEY "affect.cells.commit_hwm"

struct target_row {
	char *id;
	char *hash;   /* cves.content_hash, NULL for a silent fix */
	int silent;
	int dirty;
};

typedef PG_VEC(struct target_row) target_rows;

static void target_rows_release(target_rows *t)
{
	for (size_t i = 0; i < t->len; i++) {
		free(t->ptr[i].id);
		free(t->ptr[i].hash);
	}
	pg_vec_release(t);
}

/* Every known security fix, in status's order: published CVEs, then flagged silent fixes. */
static int load_targets(target_rows *out, pg_store *s)
{
	static const char *const q[] = {
		"SELECT id, content_hash, 0 FROM cves WHERE state = 'published' ORDER BY year, num, id",
		"SELECT cl.sha, NULL, 1 FROM classifications cl JOIN commits c ON c.id = cl.commit_id"
		" WHERE cl.label = 1 AND c.on_mainline = 1 AND c.nparents < 2"
		" AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = cl.sha) ORDER BY c.id",
	};
	int error = 0, rc = 0;
	for (size_t k = 0; k < 2 && !error; k++) {
		pg_stmt *st = NULL;
		if ((error = pg_store_prepare(&st, s, q[k])) < 0)
			return error;
		while ((rc = pg_stmt_step(st)) > 0) {
			struct target_row t = { 0 };
			t.id = pg_strdup(pg_stmt_text(st, 0));
			t.hash = pg_stmt_text(st, 1) ? pg_strdup(pg_stmt_text(st, 1)) : NULL;
			t.silent = (int)pg_stmt_int(st, 2);
			if (!t.id || (error = pg_vec_push(out, t)) < 0) {
				free(t.id);
				free(t.hash);
				error = error ? error : pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
		}
		pg_stmt_free(st);
		if (rc < 0)
			error = rc;
	}
	return error;
}

/* Collect the first column of a query into a set; every `?` of it is p. */
static int collect(pg_strmap *set, pg_store *s, const char *sql, int64_t p)
{
	pg_stmt *st = NULL;
	int error, rc, n = 0;
	if ((error = pg_store_prepare(&st, s, sql)) < 0)
		return error;
	for (const char *q = sql; *q; q++)
		if (*q == '?')
			pg_stmt_bind_int(st, ++n, p);
	while ((rc = pg_stmt_step(st)) > 0)
		if (pg_stmt_text(st, 0) && (error = pg_strmap_set(set, pg_stmt_text(st, 0), (void *)1)) < 0)
			break;
	pg_stmt_free(st);
	return error < 0 ? error : rc < 0 ? rc : 0;
}

static int64_t query_int(pg_store *s, const char *sql, int64_t p, int *error)
{
	pg_stmt *st = NULL;
	int64_t v = 0;
	int rc;
	if ((*error = pg_store_prepare(&st, s, sql)) < 0)
		return 0;
	pg_stmt_bind_int(st, 1, p);
	if ((rc = pg_stmt_step(st)) > 0)
		v = pg_stmt_int(st, 0);
	else if (rc < 0)
		*error = rc;
	pg_stmt_free(st);
	return v;
}

/*
 * Targets that depend on something ingested after commit id hwm.  Each
 * query starts from the new commits (a range of commits.id or
 * relations.commit_id) and reaches cell_deps by index, so it costs what
 * was ingested, not what is stored; CROSS JOIN keeps SQLite's planner (no
 * statistics) from starting at cell_deps.
 */
static int dirty_by_commits(pg_strmap *dirty, pg_store *s, int64_t hwm)
{
	static const char *const q[] = {
		/* a dep is new */
		"SELECT d.id FROM commits n CROSS JOIN cell_deps d WHERE n.id > ? AND d.sha = n.sha",
		/*
		 * a dep is the target of a new branch commit's relation (a backport,
		 * a revert): the views index branch rows only, and a new mainline
		 * commit's Fixes: changes neither them nor the dep's own facts (289
		 * of the targets a 1,000-commit mainline ingest made dirty at large)
		 */
		"SELECT d.id FROM relations r CROSS JOIN branch_commits bc CROSS JOIN cell_deps d"
		" WHERE r.commit_id > ? AND bc.commit_id = r.commit_id AND d.sha = r.target_sha",
		/* an old dep whose own relation now resolves to a new commit */
		"SELECT d.id FROM commits n CROSS JOIN relations r CROSS JOIN commits c CROSS JOIN cell_deps d"
		" WHERE n.id > ? AND r.target_sha = n.sha AND c.id = r.commit_id AND d.sha = c.sha",
		/*
		 * a new branch commit with a dep's subject (picks without
		 * annotations): subjects are matched against branch rows only, and
		 * new mainline commits share a dep's subject often (808 of 1,080
		 * targets a 1,000-commit mainline ingest made dirty at large)
		 */
		"SELECT d.id FROM commits n CROSS JOIN branch_commits bc CROSS JOIN commits c CROSS JOIN cell_deps d"
		" WHERE n.id > ? AND bc.commit_id = n.id AND c.subject = n.subject AND d.sha = c.sha",
		/*
		 * an old commit whose relation now resolves to a new commit: an
		 * unannotated pick whose annotation now resolves leaves the rows
		 * matched by subject (deps with its subject), and its first
		 * resolved upstream or revert may now be another id (deps its
		 * other relations of that kind name)
		 */
		"SELECT d.id FROM commits n CROSS JOIN relations r CROSS JOIN commits c CROSS JOIN commits dc"
		" CROSS JOIN cell_deps d WHERE n.id > ? AND r.target_sha = n.sha AND r.kind = 'upstream'"
		" AND r.commit_id <= ? AND c.id = r.commit_id AND dc.subject = c.subject AND d.sha = dc.sha",
		"SELECT d.id FROM commits n CROSS JOIN relations r CROSS JOIN relations o CROSS JOIN cell_deps d"
		" WHERE n.id > ? AND r.target_sha = n.sha AND r.kind IN ('upstream', 'reverts') AND r.commit_id <= ?"
		" AND o.commit_id = r.commit_id AND o.kind = r.kind AND d.sha = o.target_sha",
		/* a new commit reverts a branch commit carrying a dep (by annotation or subject) */
		"SELECT d.id FROM relations r CROSS JOIN commits rc CROSS JOIN relations up CROSS JOIN cell_deps d"
		" WHERE r.commit_id > ? AND r.kind = 'reverts' AND rc.sha = r.target_sha AND up.commit_id = rc.id"
		" AND up.kind = 'upstream' AND d.sha = up.target_sha",
		"SELECT d.id FROM relations r CROSS JOIN commits rc CROSS JOIN commits dc CROSS JOIN cell_deps d"
		" WHERE r.commit_id > ? AND r.kind = 'reverts' AND rc.sha = r.target_sha AND dc.subject = rc.subject"
		" AND d.sha = dc.sha",
	};
	int error = 0;
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && !error; i++)
		error = collect(dirty, s, q[i], hwm);
	return error;
}

struct branch_state {
	struct pg_affect__view *view;  /* set once the index is open */
	char name[256];
	char head[41];
	int64_t nrows;
	int full;
	int old;                       /* its cells were stored by an earlier run */
	/* the config dimension: the branch's .config, evaluated when a repository is known */
	char *config;                  /* owned: branches.config_path, or NULL */
	char cfg_hash[17];             /* of the .config's content */
	int cfg_on, cfg_full;          /* config cells kept; all of them recomputed */
	int build_open;
	struct pg_affect__build build;
};

/* The .config's content hash, so an edited file recomputes its cells. */
int pg_affect__config_hash(char out[17], const char *path)
{
	pg_buf b = PG_BUF_INIT;
	uint64_t h = 1469598103934665603ULL;
	int error;
	if ((error = pg_buf_read_file(&b, path)) < 0) {
		pg_buf_release(&b);
		return pg_error_setc(PG_ENOTFOUND, "cannot read the .config '%s'", path);
	}
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.ptr[i]) * 1099511628211ULL;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	pg_buf_release(&b);
	return 0;
}

/*
 * What is stored, as fingerprints: "id\tbranch\tconfig" -> the row's
 * fields hashed (never 0), and id -> its deps hashed.  An unchanged cell is
 * not written again: after an ingest most recomputed verdicts are the same,
 * and rewriting 300,000 rows costs more than computing them.
 */
struct stored {
	pg_strmap cell;
	pg_strmap deps;
	pg_buf key;
	pg_affect_cell_cb notify;   /* told of every row written and every target removed, or NULL */
	void *payload;
};

static uint64_t fnv(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0x1e) * 1099511628211ULL * 31;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL;
}

static void *fp_value(uint64_t h)
{
	return (void *)(uintptr_t)(h | 1);
}

/* The fields of a cell (confidence < 0 = NULL), in the order of the columns. */
static void *cell_fp(const char *kind, const char *status, int introducer_known, const char *fix,
		     const char *introducer, const char *introducer_how, const char *fixed_by, const char *fix_how,
		     double confidence, const char *reason, const char *cve_hash, const char *deps,
		     const char *justification, const char *vex)
{
	char conf[32];
	uint64_t h = 1469598103934665603ULL;
	if (confidence >= 0)
		snprintf(conf, sizeof(conf), "%.9g", confidence);
	h = fnv(h, kind);
	h = fnv(h, status);
	h = fnv(h, introducer_known ? "1" : "0");
	h = fnv(h, fix);
	h = fnv(h, introducer);
	h = fnv(h, introducer_how);
	h = fnv(h, fixed_by);
	h = fnv(h, fix_how);
	h = fnv(h, confidence >= 0 ? conf : NULL);
	h = fnv(h, reason);
	h = fnv(h, cve_hash);
	h = fnv(h, deps);
	h = fnv(h, justification);
	h = fnv(h, vex);
	return fp_value(h);
}

static const char *cell_key(struct stored *s, const char *id, const char *branch, const char *config)
{
	pg_buf_reset(&s->key);
	pg_buf_printf(&s->key, "%s\t%s\t%s", id, branch, config);
	return s->key.ptr ? s->key.ptr : "";
}

#define CELL_COLUMNS "id, branch, config, kind, status, introducer_known, fix, introducer, introducer_how," \
	" fixed_by, fix_how, confidence, reason, cve_hash, deps, justification, vex"

/* Remember the stored rows a query returns (CELL_COLUMNS, bound to p1, p2). */
static int stored_load(struct stored *s, pg_stmt *st)
{
	int rc, error = 0;
	while ((rc = pg_stmt_step(st)) > 0) {
		const char *id = pg_stmt_text(st, 0);
		void *fp = cell_fp(pg_stmt_text(st, 3), pg_stmt_text(st, 4), (int)pg_stmt_int(st, 5),
				   pg_stmt_text(st, 6), pg_stmt_text(st, 7), pg_stmt_text(st, 8), pg_stmt_text(st, 9),
				   pg_stmt_text(st, 10), pg_stmt_isnull(st, 11) ? -1 : pg_stmt_double(st, 11),
				   pg_stmt_text(st, 12), pg_stmt_text(st, 13), pg_stmt_text(st, 14),
				   pg_stmt_text(st, 15), pg_stmt_text(st, 16));
		if ((error = pg_strmap_set(&s->cell, cell_key(s, id, pg_stmt_text(st, 1), pg_stmt_text(st, 2)), fp)) < 0 ||
		    (error = pg_strmap_set(&s->deps, id, fp_value(fnv(0, pg_stmt_text(st, 14))))) < 0)
			break;
	}
	pg_stmt_reset(st);
	return error < 0 ? error : rc < 0 ? rc : 0;
}

static void stored_release(struct stored *s)
{
	pg_strmap_release(&s->cell);
	pg_strmap_release(&s->deps);
	pg_buf_release(&s->key);
}

/* One cell as stored: the verdict, and under a .config its build verdict. */
struct cell_out {
	const char *config;
	const char *status, *reason;
	const char *justification;   /* VEX justification of a not-built fix, or NULL */
	const char *vex;             /* the build verdict (JSON), or NULL */
};

/* Write a cell unless the stored one has the same fields; 1 when written. */
static int write_cell(pg_stmt *ins, struct stored *stored, const struct target_row *t, const struct pg_affect__view *v,
		      const struct pg_affect__eval *e, const char *fix, int introducer_known, const char *deps,
		      const struct cell_out *c)
{
	const char *kind = t->silent ? "silent" : "cve";
	void *fp = cell_fp(kind, c->status, introducer_known, fix, e->vuln_how ? e->vuln_sha : NULL, e->vuln_how,
			   e->fix_how ? e->fix_sha : NULL, e->fix_how, e->fix_how ? e->confidence : -1, c->reason, t->hash,
			   deps, c->justification, c->vex);
	int error;
	if (pg_strmap_get(&stored->cell, cell_key(stored, t->id, v->name, c->config), NULL) == fp)
		return 0;
	pg_stmt_bind_text(ins, 1, t->id);
	pg_stmt_bind_text(ins, 2, v->name);
	pg_stmt_bind_text(ins, 3, c->config);
	pg_stmt_bind_text(ins, 4, kind);
	pg_stmt_bind_text(ins, 5, c->status);
	pg_stmt_bind_int(ins, 6, introducer_known);
	pg_stmt_bind_text(ins, 7, fix);
	pg_stmt_bind_text(ins, 8, e->vuln_how ? e->vuln_sha : NULL);
	pg_stmt_bind_text(ins, 9, e->vuln_how);
	pg_stmt_bind_text(ins, 10, e->fix_how ? e->fix_sha : NULL);
	pg_stmt_bind_text(ins, 11, e->fix_how);
	if (e->fix_how)
		pg_stmt_bind_double(ins, 12, e->confidence);
	else
		pg_stmt_bind_null(ins, 12);
	pg_stmt_bind_text(ins, 13, c->reason);
	pg_stmt_bind_text(ins, 14, t->hash);
	pg_stmt_bind_text(ins, 15, deps);
	pg_stmt_bind_text(ins, 16, c->justification);
	pg_stmt_bind_text(ins, 17, c->vex);
	if ((error = pg_stmt_exec(ins)) < 0)
		return error;
	if (stored->notify) {
		pg_affect_cell cell = { t->id, kind, v->name, c->config, c->status, introducer_known, fix,
					e->vuln_how ? e->vuln_sha : NULL, e->vuln_how, e->fix_how ? e->fix_sha : NULL,
					e->fix_how, e->fix_how ? e->confidence : -1, c->reason, t->hash, deps,
					c->justification, c->vex };
		if ((error = stored->notify(&cell, stored->payload)) != 0)
			return error < 0 ? error : pg_error_set("cell change callback stopped the update (%d)", error);
	}
	return 1;
}

/*
 * The cell of a target on a configured branch: status's verdict under the
 * build.  An affected fix whose code the .config does not build is
 * not_affected with the VEX justification, as status lists it under
 * not_affected_by_config; every affected one carries its build verdict.
 */
static int config_cell(struct branch_state *b, const char *repository, const struct pg_affect__eval *e,
		       const char *fix, struct cell_out *c, char **vex, char just[64], char why[512])
{
	json_t *v;
	int na = 0, error;

	c->config = b->config;
	c->justification = NULL;
	c->vex = *vex = NULL;
	if (!fix || e->status != PG_AFFECT_AFFECTED)
		return 0;
	if (!b->build_open) {
		b->build_open = 1;
		if ((error = pg_affect__build_open(&b->build, repository, b->config, b->head)) < 0)
			return error;
	}
	if (!(v = pg_affect__build_verdict(&b->build, fix, &na)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (!(*vex = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT))) {
		json_decref(v);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	c->vex = *vex;
	if (na) {
		const char *j = json_string_value(json_object_get(v, "justification"));
		snprintf(just, 64, "%s", j ? j : "code_not_present");
		snprintf(why, 512, "code not built under %s (%s)", b->config, just);
		c->justification = just;
		c->status = "not_affected";
		c->reason = why;
	}
	json_decref(v);
	return 0;
}

/*
 * Hash of the inputs every verdict shares: the commit high-water mark and,
 * per tracked branch, its definition (name, kind, base tag), head and
 * reachable row count.  defs: the definitions alone.  Per-target inputs
 * (the record's content hash, the target set) and the .config are checked
 * against each cell by the reader (status.c).
 */
int pg_affect__cells_inputs(char stamp[17], char defs[17], pg_store *store)
{
	pg_stmt *st = NULL;
	uint64_t hs = 1469598103934665603ULL, hd = hs;
	char num[32];
	int error, rc;

	if ((error = pg_store_prepare(&st, store, "SELECT coalesce(max(id), 0) FROM commits")) < 0)
		return error;
	if ((rc = pg_stmt_step(st)) > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)pg_stmt_int(st, 0));
		hs = fnv(hs, num);
	}
	pg_stmt_free(st);
	if (rc < 0)
		return rc;
	if ((error = pg_store_prepare(&st, store,
				      "SELECT b.id, b.name, b.kind, b.base_tag, b.head_sha,"
				      " (SELECT count(*) FROM branch_commits bc WHERE bc.branch_id = b.id AND bc.reachable = 1)"
				      " FROM branches b WHERE b.head_sha IS NOT NULL ORDER BY b.id")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)pg_stmt_int(st, 0));
		hd = fnv(fnv(fnv(fnv(hd, num), pg_stmt_text(st, 1)), pg_stmt_text(st, 2)), pg_stmt_text(st, 3));
		hs = fnv(fnv(fnv(fnv(fnv(hs, num), pg_stmt_text(st, 1)), pg_stmt_text(st, 2)), pg_stmt_text(st, 3)),
			 pg_stmt_text(st, 4));
		snprintf(num, sizeof(num), "%lld", (long long)pg_stmt_int(st, 5));
		hs = fnv(hs, num);
	}
	pg_stmt_free(st);
	if (rc < 0)
		return rc;
	snprintf(stamp, 17, "%016llx", (unsigned long long)hs);
	snprintf(defs, 17, "%016llx", (unsigned long long)hd);
	return 0;
}

/*
 * Whether to evaluate on a partial index (pg_affect__index_open_partial):
 * when no branch is recomputed for every target and at most a quarter of
 * the targets are dirty (beyond that, reading every row costs less than
 * finding the ones needed).  PATCHGAP_CELLS_INDEX=partial or full overrides
 * the count (the tests compare both).
 */
static int use_partial(size_t ndirty, size_t ntargets, int some_full)
{
	const char *env = getenv("PATCHGAP_CELLS_INDEX");
	if (some_full)
		return 0;
	if (env && !strcmp(env, "partial"))
		return 1;
	if (env && !strcmp(env, "full"))
		return 0;
	return ndirty * 4 <= ntargets;
}

/* Resolve the dirty targets and load the rows their fix and introducer ids reach. */
static int load_dirty(pg_affect_index *ix, const target_rows *targets)
{
	pg_affect__strs shas = PG_VEC_INIT;   /* borrowed from the index's targets */
	int error = 0;

	for (size_t i = 0; i < targets->len && !error; i++) {
		const struct pg_affect__target *tg = NULL;
		if (!targets->ptr[i].dirty)
			continue;
		if ((error = pg_affect__target(&tg, ix, targets->ptr[i].id)) < 0)
			break;
		for (size_t k = 0; k < tg->fixes.len + tg->intro.len && !error; k++)
			error = pg_vec_push(&shas, k < tg->fixes.len ? tg->fixes.ptr[k] : tg->intro.ptr[k - tg->fixes.len]);
	}
	if (!error)
		error = pg_affect__index_load_for(ix, &shas);
	pg_vec_release(&shas);
	return error;
}

int pg_affect_cells_update(pg_affect_cells_stats *out, pg_store *store, unsigned flags)
{
	return pg_affect_cells_update_ext(out, store, flags, NULL);
}

/* Cells of branches no longer tracked (cell_branches lists those with cells): by index, not a scan. */
static int drop_stale_branches(pg_affect_cells_stats *out, pg_store *store, const struct branch_state *br, size_t n)
{
	PG_VEC(char *) stale = PG_VEC_INIT;
	pg_stmt *st = NULL;
	int error = 0, rc;

	if ((error = pg_store_prepare(&st, store, "SELECT branch FROM cell_branches")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		int keep = 0;
		char *name;
		for (size_t b = 0; b < n && !keep; b++)
			keep = !strcmp(br[b].name, pg_stmt_text(st, 0));
		if (keep)
			continue;
		if (!(name = pg_strdup(pg_stmt_text(st, 0))) || (error = pg_vec_push(&stale, name)) < 0) {
			free(name);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
	}
	pg_stmt_free(st);
	st = NULL;
	if (!error && rc < 0)
		error = rc;
	for (size_t i = 0; !error && i < stale.len; i++) {
		static const char *const q[] = { "DELETE FROM cells WHERE branch = ?", "DELETE FROM cell_branches WHERE branch = ?",
						 "DELETE FROM cell_configs WHERE branch = ?" };
		for (size_t k = 0; k < 3 && !error; k++) {
			if ((error = pg_store_prepare(&st, store, q[k])) < 0)
				break;
			pg_stmt_bind_text(st, 1, stale.ptr[i]);
			error = pg_stmt_exec(st);
			if (!error && k == 0)
				out->deleted += (size_t)pg_store_changes(store);
			pg_stmt_free(st);
			st = NULL;
		}
	}
	for (size_t i = 0; i < stale.len; i++)
		free(stale.ptr[i]);
	pg_vec_release(&stale);
	return error;
}

/*
 * Config cells of a .config no longer configured (or of a branch no longer
 * tracked, or evaluated without a repository) go: a stale build verdict is
 * worse than none.  cell_configs lists every (branch, config) with cells.
 */
static int drop_stale_configs(pg_affect_cells_stats *out, pg_store *store, const struct branch_state *br, size_t n)
{
	PG_VEC(char *) stale = PG_VEC_INIT;
	pg_stmt *st = NULL, *dc = NULL, *dr = NULL;
	int error, rc;

	if ((error = pg_store_prepare(&st, store, "SELECT branch, config FROM cell_configs")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		const char *name = pg_stmt_text(st, 0), *config = pg_stmt_text(st, 1);
		int keep = 0;
		for (size_t b = 0; b < n && !keep; b++)
			keep = br[b].cfg_on && !strcmp(br[b].name, name) && !strcmp(br[b].config, config);
		if (!keep && ((error = pg_vec_push(&stale, pg_strdup(name))) < 0 ||
			      (error = pg_vec_push(&stale, pg_strdup(config))) < 0))
			break;
	}
	pg_stmt_free(st);
	if (!error && rc < 0)
		error = rc;
	if (!error && stale.len && (error = pg_store_prepare(&dc, store, "DELETE FROM cells WHERE branch = ? AND config = ?")) == 0)
		error = pg_store_prepare(&dr, store, "DELETE FROM cell_configs WHERE branch = ? AND config = ?");
	for (size_t i = 0; !error && i + 1 < stale.len; i += 2) {
		if (!stale.ptr[i] || !stale.ptr[i + 1]) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		pg_stmt_bind_text(dc, 1, stale.ptr[i]);
		pg_stmt_bind_text(dc, 2, stale.ptr[i + 1]);
		if ((error = pg_stmt_exec(dc)) < 0)
			break;
		out->deleted += (size_t)pg_store_changes(store);
		pg_stmt_bind_text(dr, 1, stale.ptr[i]);
		pg_stmt_bind_text(dr, 2, stale.ptr[i + 1]);
		error = pg_stmt_exec(dr);
	}
	for (size_t i = 0; i < stale.len; i++)
		free(stale.ptr[i]);
	pg_vec_release(&stale);
	pg_stmt_free(dc);
	pg_stmt_free(dr);
	return error;
}

static int bump_generation(pg_store *store)
{
	char *text = NULL, buf[32];
	int error = pg_store_meta_get(&text, store, PG_AFFECT_CELLS_GENERATION);
	long long gen = 0;
	if (error < 0 && error != PG_ENOTFOUND)
		return error;
	pg_error_clear();
	if (text)
		gen = strtoll(text, NULL, 10);
	free(text);
	snprintf(buf, sizeof(buf), "%lld", gen + 1);
	return pg_store_meta_set(store, PG_AFFECT_CELLS_GENERATION, buf);
}

static void branches_release(struct branch_state *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].config);
		if (b[i].build_open)
			pg_affect__build_release(&b[i].build);
	}
}

int pg_affect_cells_update_ext(pg_affect_cells_stats *out, pg_store *store, unsigned flags, const char *repository)
{
	return pg_affect_cells_update_notify(out, store, flags, repository, NULL, NULL);
}

int pg_affect_cells_update_notify(pg_affect_cells_stats *out, pg_store *store, unsigned flags, const char *repository,
				  pg_affect_cell_cb notify, void *payload)
{
	pg_affect_index *ix = NULL;
	target_rows targets = PG_VEC_INIT;
	PG_VEC(struct branch_state) br = PG_VEC_INIT;
	pg_strmap dirty = PG_STRMAP_INIT, hashes = PG_STRMAP_INIT, live = PG_STRMAP_INIT;
	struct stored stored = { PG_STRMAP_INIT, PG_STRMAP_INIT, PG_BUF_INIT, notify, payload };
	pg_stmt *ins = NULL, *del_deps = NULL, *ins_dep = NULL, *st = NULL, *del = NULL;
	char *hwm_text = NULL, hwm_buf[32], *defs_text = NULL, stamp[17], defs[17];
	const char *probe = NULL;   /* a branch every stored target has a cell on */
	int64_t hwm = 0, max_id;
	size_t ndirty = 0, nfull = 0, ncfgfull = 0;
	int error, rc, full = (flags & PG_AFFECT_CELLS_FULL) != 0, began = 0;
	pg_buf deps = PG_BUF_INIT;

	memset(out, 0, sizeof(*out));
	/*
	 * Map the file before the first query, not only once the index opens:
	 * the targets, the stored hashes and the dependency queries read it
	 * too, and through SQLite's page cache each page is a pread (a third of
	 * an incremental run's CPU was system time).  SQLite only.
	 */
	if (!strcmp(pg_store_backend(store), "sqlite") &&
	    (error = pg_store_exec(store, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536")) < 0)
		return error;
	if ((error = pg_store_begin(store)) < 0)
		return error;
	began = 1;
	if ((error = load_targets(&targets, store)) < 0)
		goto out;
	error = pg_store_meta_get(&hwm_text, store, HWM_KEY);
	if (error == PG_ENOTFOUND) {
		full = 1;
		error = 0;
	} else if (error < 0) {
		goto out;
	} else {
		hwm = strtoll(hwm_text, NULL, 10);
	}
	max_id = query_int(store, "SELECT coalesce(max(id), 0) FROM commits WHERE id > ?", -1, &error);
	if (error < 0)
		goto out;
	/*
	 * A branch whose kind or base changed keeps its rows, yet its verdicts
	 * (and those of vendor trees on the same series) change: all of them are
	 * recomputed, as when the definitions were never recorded.
	 */
	if ((error = pg_affect__cells_inputs(stamp, defs, store)) < 0)
		goto out;
	error = pg_store_meta_get(&defs_text, store, PG_AFFECT__DEFS_KEY);
	if (error == PG_ENOTFOUND || (!error && strcmp(defs_text, defs)))
		full = 1;
	else if (error < 0)
		goto out;
	error = 0;
	pg_error_clear();

	/* branches: a rewritten or new one is recomputed for every target */
	if ((error = pg_store_prepare(&st, store,
				      "SELECT b.name, b.head_sha, cb.nrows,"
				      " (SELECT count(*) FROM branch_commits bc WHERE bc.branch_id = b.id AND bc.reachable = 1),"
				      " (SELECT count(*) FROM branch_commits bc WHERE bc.branch_id = b.id AND bc.reachable = 1"
				      "  AND bc.commit_id > ?),"
				      " b.config_path, cc.head, cc.config_hash"
				      " FROM branches b LEFT JOIN cell_branches cb ON cb.branch = b.name"
				      " LEFT JOIN cell_configs cc ON cc.branch = b.name AND cc.config = b.config_path"
				      " WHERE b.head_sha IS NOT NULL ORDER BY b.id")) < 0)
		goto out;
	pg_stmt_bind_int(st, 1, hwm);
	while ((rc = pg_stmt_step(st)) > 0) {
		struct branch_state b;
		memset(&b, 0, sizeof(b));
		snprintf(b.name, sizeof(b.name), "%s", pg_stmt_text(st, 0));
		snprintf(b.head, sizeof(b.head), "%s", pg_stmt_text(st, 1));
		b.nrows = pg_stmt_int(st, 3);
		b.old = !pg_stmt_isnull(st, 2);
		b.full = full || !b.old || pg_stmt_int(st, 2) + pg_stmt_int(st, 4) != b.nrows;
		if (pg_stmt_text(st, 5) && repository) {
			if (!(b.config = pg_strdup(pg_stmt_text(st, 5)))) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			b.cfg_on = 1;
			if ((error = pg_affect__config_hash(b.cfg_hash, b.config)) < 0) {
				free(b.config);
				break;
			}
			/* the build depends on the whole tree at the head, and on the file */
			b.cfg_full = b.full || !pg_stmt_text(st, 6) || strcmp(pg_stmt_text(st, 6), b.head) ||
				     strcmp(pg_stmt_text(st, 7), b.cfg_hash);
		}
		if ((error = pg_vec_push(&br, b)) < 0) {
			free(b.config);
			break;
		}
	}
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0) {
		error = error < 0 ? error : rc;
		goto out;
	}
	for (size_t b = 0; b < br.len && !probe; b++)
		if (br.ptr[b].old)
			probe = br.ptr[b].name;

	/*
	 * targets: changed or new records, and those depending on new commits.
	 * Every stored target has a cell on every branch of the last run, so one
	 * such branch's cells name them all (an index range, not a table scan).
	 */
	if ((error = pg_store_prepare(&st, store, probe ?
				      "SELECT id, coalesce(cve_hash, '') FROM cells WHERE branch = ? AND config = ''" :
				      "SELECT DISTINCT id, coalesce(cve_hash, '') FROM cells")) < 0)
		goto out;
	if (probe)
		pg_stmt_bind_text(st, 1, probe);
	while ((rc = pg_stmt_step(st)) > 0)
		if ((error = pg_strmap_set(&hashes, pg_stmt_text(st, 0),
					   pg_strdup(pg_stmt_text(st, 1)))) < 0)
			break;
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0) {
		error = error < 0 ? error : rc;
		goto out;
	}
	if (!full && (error = dirty_by_commits(&dirty, store, hwm)) < 0)
		goto out;
	for (size_t i = 0; i < targets.len; i++) {
		struct target_row *t = &targets.ptr[i];
		int found;
		const char *h = pg_strmap_get(&hashes, t->id, &found);
		t->dirty = full || !found || strcmp(h ? h : "", t->hash ? t->hash : "") || pg_strmap_get(&dirty, t->id, NULL);
		ndirty += t->dirty;
		if ((error = pg_strmap_set(&live, t->id, (void *)1)) < 0)
			goto out;
	}
	for (size_t b = 0; b < br.len; b++) {
		nfull += br.ptr[b].full;
		ncfgfull += br.ptr[b].cfg_full;
	}

	/* the index only when some cell must be computed */
	if (ndirty || nfull || ncfgfull) {
		if (use_partial(ndirty, targets.len, nfull || ncfgfull)) {
			/* a few dirty targets: only the branch rows their ids reach */
			if ((error = pg_affect__index_open_partial(&ix, store)) < 0 ||
			    (error = load_dirty(ix, &targets)) < 0)
				goto out;
		} else if ((error = pg_affect_index_open(&ix, store)) < 0 || (error = pg_affect__index_load(ix)) < 0) {
			goto out;
		}
		/* many targets to resolve: all of them in a few queries rather than a few each */
		if ((ndirty * 4 > targets.len || nfull || ncfgfull) &&
		    (error = pg_affect__targets_preload(ix)) < 0)
			goto out;
		for (size_t b = 0; b < br.len; b++)
			if (!(br.ptr[b].view = pg_affect__find_view(ix, br.ptr[b].name))) {
				error = pg_error_set("branch '%s' changed during the update", br.ptr[b].name);
				goto out;
			}
		/* the stored cells about to be recomputed: all of them in one pass, or by id and branch */
		if (ndirty * 4 > targets.len || nfull * 4 > br.len) {
			if ((error = pg_store_prepare(&st, store, "SELECT " CELL_COLUMNS " FROM cells")) < 0 ||
			    (error = stored_load(&stored, st)) < 0)
				goto out;
		} else {
			if ((error = pg_store_prepare(&st, store, "SELECT " CELL_COLUMNS " FROM cells WHERE id = ?")) < 0)
				goto out;
			for (size_t i = 0; i < targets.len; i++) {
				if (!targets.ptr[i].dirty)
					continue;
				pg_stmt_bind_text(st, 1, targets.ptr[i].id);
				if ((error = stored_load(&stored, st)) < 0)
					goto out;
			}
			pg_stmt_free(st);
			st = NULL;
			if ((error = pg_store_prepare(&st, store, "SELECT " CELL_COLUMNS " FROM cells WHERE branch = ?")) < 0)
				goto out;
			for (size_t b = 0; b < br.len; b++) {
				if (!br.ptr[b].full && !br.ptr[b].cfg_full)
					continue;
				pg_stmt_bind_text(st, 1, br.ptr[b].name);
				if ((error = stored_load(&stored, st)) < 0)
					goto out;
			}
		}
		pg_stmt_free(st);
		st = NULL;
	}
	if ((error = pg_store_prepare(&ins, store,
		"INSERT INTO cells (id, branch, config, kind, status, introducer_known, fix, introducer, introducer_how,"
		" fixed_by, fix_how, confidence, reason, cve_hash, deps, justification, vex)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT (id, branch, config) DO UPDATE SET kind = excluded.kind, status = excluded.status,"
		" introducer_known = excluded.introducer_known, fix = excluded.fix, introducer = excluded.introducer,"
		" introducer_how = excluded.introducer_how, fixed_by = excluded.fixed_by, fix_how = excluded.fix_how,"
		" confidence = excluded.confidence, reason = excluded.reason, cve_hash = excluded.cve_hash,"
		" deps = excluded.deps, justification = excluded.justification, vex = excluded.vex")) < 0 ||
	    (error = pg_store_prepare(&del_deps, store, "DELETE FROM cell_deps WHERE id = ?")) < 0 ||
	    (error = pg_store_prepare(&ins_dep, store,
				      "INSERT INTO cell_deps (id, sha) VALUES (?, ?) ON CONFLICT (id, sha) DO NOTHING")) < 0)
		goto out;

	for (size_t i = 0; i < targets.len && (ndirty || nfull || ncfgfull); i++) {
		struct target_row *t = &targets.ptr[i];
		const struct pg_affect__target *tg = NULL;
		if (!t->dirty && !nfull && !ncfgfull)
			continue;
		if ((error = pg_affect__target(&tg, ix, t->id)) < 0)
			goto out;
		pg_buf_reset(&deps);
		for (size_t k = 0; k < tg->fixes.len; k++)
			pg_buf_printf(&deps, "%s%s", deps.len ? " " : "", tg->fixes.ptr[k]);
		for (size_t k = 0; k < tg->intro.len; k++)
			pg_buf_printf(&deps, "%s%s", deps.len ? " " : "", tg->intro.ptr[k]);
		for (size_t b = 0; b < br.len; b++) {
			struct branch_state *bs = &br.ptr[b];
			struct pg_affect__eval e;
			struct cell_out c;
			const char *fix = NULL;
			char *vex = NULL, just[64], why[512];
			int plain = t->dirty || bs->full, cfg = bs->cfg_on && (plain || bs->cfg_full);
			if (!plain && !cfg)
				continue;
			if ((error = pg_affect__verdict(&e, &fix, ix, bs->view, tg)) < 0)
				goto out;
			c.config = "";
			c.status = fix ? pg_affect__status_name(e.status) : "unknown";
			c.reason = fix ? e.reason : "no fix commit known";
			c.justification = c.vex = NULL;
			if (plain) {
				if ((error = write_cell(ins, &stored, t, bs->view, &e, fix, tg->intro.len > 0,
							deps.ptr ? deps.ptr : "", &c)) < 0)
					goto out;
				out->evaluated++;
				out->written += (size_t)error;
			}
			if (cfg) {
				if ((error = config_cell(bs, repository, &e, fix, &c, &vex, just, why)) < 0 ||
				    (error = write_cell(ins, &stored, t, bs->view, &e, fix, tg->intro.len > 0,
							deps.ptr ? deps.ptr : "", &c)) < 0) {
					free(vex);
					goto out;
				}
				free(vex);
				out->evaluated++;
				out->written += (size_t)error;
			}
		}
		if (t->dirty && pg_strmap_get(&stored.deps, t->id, NULL) != fp_value(fnv(0, deps.ptr ? deps.ptr : ""))) {
			pg_stmt_bind_text(del_deps, 1, t->id);
			if ((error = pg_stmt_exec(del_deps)) < 0)
				goto out;
			for (size_t k = 0; k < tg->fixes.len + tg->intro.len; k++) {
				pg_stmt_bind_text(ins_dep, 1, t->id);
				pg_stmt_bind_text(ins_dep, 2, k < tg->fixes.len ? tg->fixes.ptr[k] : tg->intro.ptr[k - tg->fixes.len]);
				if ((error = pg_stmt_exec(ins_dep)) < 0)
					goto out;
			}
		}
	}

	/* targets no longer known (rejected, unflagged) and branches no longer tracked */
	{
		size_t it = 0;
		const char *key;
		void *val;
		if ((error = pg_store_prepare(&del, store, "DELETE FROM cells WHERE id = ?")) < 0)
			goto out;
		while (pg_strmap_next(&hashes, &it, &key, &val)) {
			if (pg_strmap_get(&live, key, NULL))
				continue;
			pg_stmt_bind_text(del, 1, key);
			if ((error = pg_stmt_exec(del)) < 0)
				goto out;
			out->deleted += (size_t)pg_store_changes(store);
			pg_stmt_bind_text(del_deps, 1, key);
			if ((error = pg_stmt_exec(del_deps)) < 0)
				goto out;
			if (notify) {
				/* every cell of the target went: a cell with only its id says so */
				pg_affect_cell gone = { 0 };
				gone.id = key;
				gone.confidence = -1;
				if ((error = notify(&gone, payload)) != 0) {
					error = error < 0 ? error : pg_error_set("cell change callback stopped the update (%d)", error);
					goto out;
				}
			}
		}
	}
	if ((error = drop_stale_branches(out, store, br.ptr, br.len)) < 0)
		goto out;
	if ((error = drop_stale_configs(out, store, br.ptr, br.len)) < 0)
		goto out;
	if ((error = pg_store_prepare(&st, store,
				      "INSERT INTO cell_branches (branch, head, nrows) VALUES (?, ?, ?)"
				      " ON CONFLICT (branch) DO UPDATE SET head = excluded.head, nrows = excluded.nrows")) < 0)
		goto out;
	for (size_t b = 0; b < br.len; b++) {
		pg_stmt_bind_text(st, 1, br.ptr[b].name);
		pg_stmt_bind_text(st, 2, br.ptr[b].head[0] ? br.ptr[b].head : NULL);
		pg_stmt_bind_int(st, 3, br.ptr[b].nrows);
		if ((error = pg_stmt_exec(st)) < 0)
			goto out;
		out->full_branches += br.ptr[b].full;
	}
	pg_stmt_free(st);
	st = NULL;
	if ((error = pg_store_prepare(&st, store,
				      "INSERT INTO cell_configs (branch, config, head, config_hash) VALUES (?, ?, ?, ?)"
				      " ON CONFLICT (branch, config) DO UPDATE SET head = excluded.head,"
				      " config_hash = excluded.config_hash")) < 0)
		goto out;
	for (size_t b = 0; b < br.len; b++) {
		if (!br.ptr[b].cfg_on)
			continue;
		pg_stmt_bind_text(st, 1, br.ptr[b].name);
		pg_stmt_bind_text(st, 2, br.ptr[b].config);
		pg_stmt_bind_text(st, 3, br.ptr[b].head);
		pg_stmt_bind_text(st, 4, br.ptr[b].cfg_hash);
		if ((error = pg_stmt_exec(st)) < 0)
			goto out;
	}
	snprintf(hwm_buf, sizeof(hwm_buf), "%lld", (long long)max_id);
	if ((error = pg_store_meta_set(store, HWM_KEY, hwm_buf)) < 0 ||
	    (error = pg_store_meta_set(store, PG_AFFECT__DEFS_KEY, defs)) < 0 ||
	    (error = pg_store_meta_set(store, PG_AFFECT__STAMP_KEY, stamp)) < 0)
		goto out;
	/* readers that follow changes (watch) learn from the generation whether another writer ran */
	if ((out->written || out->deleted) && (error = bump_generation(store)) < 0)
		goto out;
	out->targets = targets.len;
	out->branches = br.len;
	out->full = full;
	out->dirty_targets = ndirty;
	error = pg_store_commit(store);
	began = 0;
out:
	if (began)
		pg_store_rollback(store);
	{
		size_t it = 0;
		void *val;
		while (pg_strmap_next(&hashes, &it, NULL, &val))
			free(val);
	}
	pg_strmap_release(&hashes);
	pg_strmap_release(&dirty);
	pg_strmap_release(&live);
	stored_release(&stored);
	pg_stmt_free(ins);
	pg_stmt_free(del_deps);
	pg_stmt_free(ins_dep);
	pg_stmt_free(del);
	pg_stmt_free(st);
	pg_buf_release(&deps);
	free(hwm_text);
	free(defs_text);
	branches_release(br.ptr, br.len);
	pg_vec_release(&br);
	target_rows_release(&targets);
	pg_affect_index_free(ix);
	return error;
}

int pg_affect_cells_foreach(pg_store *store, const char *branch, const char *id, pg_affect_cell_cb cb, void *payload)
{
	pg_stmt *st = NULL;
	int error, rc;

	if ((error = pg_store_prepare(&st, store,
		"SELECT id, kind, branch, config, status, introducer_known, fix, introducer, introducer_how,"
		" fixed_by, fix_how, confidence, reason, cve_hash, deps, justification, vex FROM cells"
		" WHERE (CAST(? AS TEXT) IS NULL OR branch = ?) AND (CAST(? AS TEXT) IS NULL OR id = ?)"
		" ORDER BY branch, config, id")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, branch);
	pg_stmt_bind_text(st, 2, branch);
	pg_stmt_bind_text(st, 3, id);
	pg_stmt_bind_text(st, 4, id);
	while ((rc = pg_stmt_step(st)) > 0) {
		pg_affect_cell c;
		c.id = pg_stmt_text(st, 0);
		c.kind = pg_stmt_text(st, 1);
		c.branch = pg_stmt_text(st, 2);
		c.config = pg_stmt_text(st, 3);
		c.status = pg_stmt_text(st, 4);
		c.introducer_known = (int)pg_stmt_int(st, 5);
		c.fix = pg_stmt_text(st, 6);
		c.introducer = pg_stmt_text(st, 7);
		c.introducer_how = pg_stmt_text(st, 8);
		c.fixed_by = pg_stmt_text(st, 9);
		c.fix_how = pg_stmt_text(st, 10);
		c.confidence = pg_stmt_isnull(st, 11) ? -1 : pg_stmt_double(st, 11);
		c.reason = pg_stmt_text(st, 12);
		c.cve_hash = pg_stmt_text(st, 13);
		c.deps = pg_stmt_text(st, 14);
		c.justification = pg_stmt_text(st, 15);
		c.vex = pg_stmt_text(st, 16);
		if ((rc = cb(&c, payload)) != 0)
			break;
	}
	pg_stmt_free(st);
	return rc;
}
