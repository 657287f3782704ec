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
 *    commits (cell_deps) are new commits or targets of new commits'
 *    relations (a backport, a revert, a Fixes: that now resolves), have the
 *    subject of a new commit (unannotated picks), or were carried by a
 *    commit a new commit reverts;
 *  - every target on a branch whose reachable rows are not the stored ones
 *    plus the new ones (a rewritten branch, a new branch).
 * Release tags do not enter the stored fields (no versions are stored), so
 * new tags alone change nothing.
 */
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

/* Targets that depend on something ingested after commit id hwm. */
static int dirty_by_commits(pg_strmap *dirty, pg_store *s, int64_t hwm)
{
	static const char *const q[] = {
		/* a dep is new, or the target of a new commit's relation (backport, revert, Fixes:) */
		"SELECT DISTINCT d.id FROM cell_deps d WHERE d.sha IN (SELECT sha FROM commits WHERE id > ?)"
		" OR d.sha IN (SELECT target_sha FROM relations WHERE commit_id > ? AND target_sha IS NOT NULL)",
		/* an old dep whose own relation now resolves to a new commit */
		"SELECT DISTINCT d.id FROM cell_deps d JOIN commits c ON c.sha = d.sha"
		" JOIN relations r ON r.commit_id = c.id WHERE r.target_sha IN (SELECT sha FROM commits WHERE id > ?)",
		/* a new commit with a dep's subject (picks without annotations) */
		"SELECT DISTINCT d.id FROM cell_deps d JOIN commits c ON c.sha = d.sha"
		" WHERE c.subject IN (SELECT subject FROM commits WHERE id > ?)",
		/* a new commit reverts a branch commit carrying a dep (by annotation or subject) */
		"SELECT DISTINCT d.id FROM relations r JOIN commits rc ON rc.sha = r.target_sha"
		" JOIN relations up ON up.commit_id = rc.id AND up.kind = 'upstream'"
		" JOIN cell_deps d ON d.sha = up.target_sha WHERE r.commit_id > ? AND r.kind = 'reverts'",
		"SELECT DISTINCT d.id FROM relations r JOIN commits rc ON rc.sha = r.target_sha"
		" JOIN commits dc ON dc.subject = rc.subject JOIN cell_deps d ON d.sha = dc.sha"
		" WHERE r.commit_id > ? AND r.kind = 'reverts'",
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
};

static int write_cell(pg_stmt *ins, const struct target_row *t, const struct pg_affect__view *v,
		      const struct pg_affect__eval *e, const char *fix, int introducer_known, const char *deps)
{
	const char *status = pg_affect__status_name(e->status);
	pg_stmt_bind_text(ins, 1, t->id);
	pg_stmt_bind_text(ins, 2, v->name);
	pg_stmt_bind_text(ins, 3, "");
	pg_stmt_bind_text(ins, 4, t->silent ? "silent" : "cve");
	pg_stmt_bind_text(ins, 5, fix ? status : "unknown");
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
	pg_stmt_bind_text(ins, 13, fix ? e->reason : "no fix commit known");
	pg_stmt_bind_text(ins, 14, t->hash);
	pg_stmt_bind_text(ins, 15, deps);
	return pg_stmt_exec(ins);
}

int pg_affect_cells_update(pg_affect_cells_stats *out, pg_store *store, unsigned flags)
{
	pg_affect_index *ix = NULL;
	target_rows targets = PG_VEC_INIT;
	PG_VEC(struct branch_state) br = PG_VEC_INIT;
	pg_strmap dirty = PG_STRMAP_INIT, stored = PG_STRMAP_INIT, live = PG_STRMAP_INIT;
	pg_stmt *ins = NULL, *del_deps = NULL, *ins_dep = NULL, *st = NULL, *del = NULL;
	char *hwm_text = NULL, hwm_buf[32];
	int64_t hwm = 0, max_id;
	int error, rc, full = (flags & PG_AFFECT_CELLS_FULL) != 0, began = 0;
	pg_buf deps = PG_BUF_INIT;

	memset(out, 0, sizeof(*out));
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

	/* branches: a rewritten or new one is recomputed for every target */
	if ((error = pg_store_prepare(&st, store,
				      "SELECT b.name, b.head_sha, cb.nrows,"
				      " (SELECT count(*) FROM branch_commits bc WHERE bc.branch_id = b.id AND bc.reachable = 1),"
				      " (SELECT count(*) FROM branch_commits bc WHERE bc.branch_id = b.id AND bc.reachable = 1"
				      "  AND bc.commit_id > ?)"
				      " FROM branches b LEFT JOIN cell_branches cb ON cb.branch = b.name"
				      " WHERE b.head_sha IS NOT NULL ORDER BY b.id")) < 0)
		goto out;
	pg_stmt_bind_int(st, 1, hwm);
	while ((rc = pg_stmt_step(st)) > 0) {
		struct branch_state b;
		memset(&b, 0, sizeof(b));
		snprintf(b.name, sizeof(b.name), "%s", pg_stmt_text(st, 0));
		snprintf(b.head, sizeof(b.head), "%s", pg_stmt_text(st, 1));
		b.nrows = pg_stmt_int(st, 3);
		b.full = full || pg_stmt_isnull(st, 2) || pg_stmt_int(st, 2) + pg_stmt_int(st, 4) != b.nrows;
		if ((error = pg_vec_push(&br, b)) < 0)
			break;
	}
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0) {
		error = error < 0 ? error : rc;
		goto out;
	}

	/* targets: changed or new records, and those depending on new commits */
	if ((error = pg_store_prepare(&st, store, "SELECT DISTINCT id, coalesce(cve_hash, '') FROM cells")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0)
		if ((error = pg_strmap_set(&stored, pg_stmt_text(st, 0),
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
		const char *h = pg_strmap_get(&stored, t->id, &found);
		t->dirty = full || !found || strcmp(h ? h : "", t->hash ? t->hash : "") || pg_strmap_get(&dirty, t->id, NULL);
		if ((error = pg_strmap_set(&live, t->id, (void *)1)) < 0)
			goto out;
	}

	/* the index (every branch's rows) only when some cell must be computed */
	{
		int work = 0;
		for (size_t i = 0; i < targets.len && !work; i++)
			work = targets.ptr[i].dirty;
		for (size_t b = 0; b < br.len && !work; b++)
			work = br.ptr[b].full;
		if (work) {
			if ((error = pg_affect_index_open(&ix, store)) < 0)
				goto out;
			for (size_t b = 0; b < br.len; b++)
				if (!(br.ptr[b].view = pg_affect__find_view(ix, br.ptr[b].name))) {
					error = pg_error_set("branch '%s' changed during the update", br.ptr[b].name);
					goto out;
				}
		}
	}
	if ((error = pg_store_prepare(&ins, store,
		"INSERT INTO cells (id, branch, config, kind, status, introducer_known, fix, introducer, introducer_how,"
		" fixed_by, fix_how, confidence, reason, cve_hash, deps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT (id, branch, config) DO UPDATE SET kind = excluded.kind, status = excluded.status,"
		" introducer_known = excluded.introducer_known, fix = excluded.fix, introducer = excluded.introducer,"
		" introducer_how = excluded.introducer_how, fixed_by = excluded.fixed_by, fix_how = excluded.fix_how,"
		" confidence = excluded.confidence, reason = excluded.reason, cve_hash = excluded.cve_hash,"
		" deps = excluded.deps")) < 0 ||
	    (error = pg_store_prepare(&del_deps, store, "DELETE FROM cell_deps WHERE id = ?")) < 0 ||
	    (error = pg_store_prepare(&ins_dep, store,
				      "INSERT INTO cell_deps (id, sha) VALUES (?, ?) ON CONFLICT (id, sha) DO NOTHING")) < 0)
		goto out;

	for (size_t i = 0; i < targets.len; i++) {
		struct target_row *t = &targets.ptr[i];
		const struct pg_affect__target *tg = NULL;
		int any = t->dirty;
		for (size_t b = 0; b < br.len && !any; b++)
			any = br.ptr[b].full;
		if (!any)
			continue;
		if ((error = pg_affect__target(&tg, ix, t->id)) < 0)
			goto out;
		pg_buf_reset(&deps);
		for (size_t k = 0; k < tg->fixes.len; k++)
			pg_buf_printf(&deps, "%s%s", deps.len ? " " : "", tg->fixes.ptr[k]);
		for (size_t k = 0; k < tg->intro.len; k++)
			pg_buf_printf(&deps, "%s%s", deps.len ? " " : "", tg->intro.ptr[k]);
		for (size_t b = 0; b < br.len; b++) {
			struct pg_affect__eval e;
			const char *fix = NULL;
			if (!t->dirty && !br.ptr[b].full)
				continue;
			if ((error = pg_affect__verdict(&e, &fix, ix, br.ptr[b].view, tg)) < 0 ||
			    (error = write_cell(ins, t, br.ptr[b].view, &e, fix, tg->intro.len > 0, deps.ptr ? deps.ptr : "")) < 0)
				goto out;
			out->evaluated++;
		}
		if (t->dirty) {
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
		while (pg_strmap_next(&stored, &it, &key, &val)) {
			if (pg_strmap_get(&live, key, NULL))
				continue;
			pg_stmt_bind_text(del, 1, key);
			if ((error = pg_stmt_exec(del)) < 0)
				goto out;
			out->deleted += (size_t)pg_store_changes(store);
			pg_stmt_bind_text(del_deps, 1, key);
			if ((error = pg_stmt_exec(del_deps)) < 0)
				goto out;
		}
	}
	if ((error = pg_store_exec(store, "DELETE FROM cells WHERE branch NOT IN (SELECT name FROM branches WHERE head_sha IS NOT NULL);"
					  "DELETE FROM cell_branches WHERE branch NOT IN (SELECT name FROM branches WHERE head_sha IS NOT NULL)")) < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;
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
	snprintf(hwm_buf, sizeof(hwm_buf), "%lld", (long long)max_id);
	if ((error = pg_store_meta_set(store, HWM_KEY, hwm_buf)) < 0)
		goto out;
	out->targets = targets.len;
	out->branches = br.len;
	out->full = full;
	for (size_t i = 0; i < targets.len; i++)
		out->dirty_targets += targets.ptr[i].dirty;
	error = pg_store_commit(store);
	began = 0;
out:
	if (began)
		pg_store_rollback(store);
	{
		size_t it = 0;
		void *val;
		while (pg_strmap_next(&stored, &it, NULL, &val))
			free(val);
	}
	pg_strmap_release(&stored);
	pg_strmap_release(&dirty);
	pg_strmap_release(&live);
	pg_stmt_free(ins);
	pg_stmt_free(del_deps);
	pg_stmt_free(ins_dep);
	pg_stmt_free(del);
	pg_stmt_free(st);
	pg_buf_release(&deps);
	free(hwm_text);
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
		" fixed_by, fix_how, confidence, reason, cve_hash, deps FROM cells"
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
		if ((rc = cb(&c, payload)) != 0)
			break;
	}
	pg_stmt_free(st);
	return rc;
}
