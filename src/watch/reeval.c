/*
 * reeval.c - re-evaluate only the cells a cycle can have changed.
 *
 * The verdicts are the stored cells of src/affect (CVE or silent fix x
 * branch x .config, doc/internals/affect.md): one incremental
 * pg_affect_cells_update_notify() per cycle recomputes exactly the cells
 * that new commits, changed CNA records or newly flagged fixes can change,
 * inside the cycle's transaction, and reports every cell it rewrote.  This
 * file turns those reports into announcements.
 *
 * watch_cells keeps, per (item, branch), the last announced state: one of
 * affected, unknown, fixed, not_affected_by_config, not_affected, i.e. the
 * cell's status, under the branch's .config when it has one
 * (not_affected_by_config: the fix's code is not built).  A rewritten
 * cell whose state differs from the announced one is stored and, when an
 * open state is involved, announced.  Every change writes an event whose
 * key is item, branch, the cell's change counter and the new state:
 * re-running a killed cycle gives the same keys.
 *
 * Cells written by another writer (`patchgap cells` between two cycles)
 * are not reported to us: the cells generation (PG_AFFECT_CELLS_GENERATION)
 * then differs from the one this daemon saw last, and every stored cell is
 * compared with watch_cells once (a reconcile pass).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "watch_int.h"
#include "patchgap/affect.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/str.h"
#include "util/banned.h"

int pg_watch__strs_add(pg_watch__strs *v, const char *s)
{
	char *d;
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->ptr[i], s))
			return 0;
	if (v->len == v->alloc) {
		size_t na = v->alloc ? v->alloc * 2 : 16;
		char **np = realloc(v->ptr, na * sizeof(*np));
		if (!np)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		v->ptr = np;
		v->alloc = na;
	}
	if (!(d = pg_strdup(s)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	v->ptr[v->len++] = d;
	return 0;
}

void pg_watch__strs_release(pg_watch__strs *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->ptr[i]);
	free(v->ptr);
	v->ptr = NULL;
	v->len = v->alloc = 0;
}

static int is_open(const char *st)
{
	return st && (!strcmp(st, "affected") || !strcmp(st, "possibly_affected") || !strcmp(st, "unknown"));
}

#define GEN_KEY "watch.cells_generation"

struct ctx {
	pg_store *s;
	const pg_watch_conf *wc;
	pg_watch_stats *st;
	int64_t now;
	pg_stmt *get, *put, *cls;
	char **head;        /* per configured branch: its ingested head, or NULL */
	int *quiet;         /* per configured branch: do not announce (first sight, or a quiet cycle) */
	int reconcile;      /* record every (item, branch) met in seen */
	pg_strmap seen;
	pg_buf key;
};

/* The classifier's verdict on the fix, for the payload and the sinks' priority filters. */
static json_t *cell_detail(struct ctx *c, const pg_affect_cell *cell, double *priority)
{
	json_t *d = json_object(), *vex;
	*priority = -1;
	if (!cell)
		return d;
	pg_json_set(d, "id", json_string(cell->id));
	pg_json_set(d, "fix", pg_json_string(cell->fix));
	pg_json_set(d, "status", pg_json_string(cell->status));
	pg_json_set(d, "reason", pg_json_string(cell->reason));
	pg_json_set(d, "introducer_known", json_boolean(cell->introducer_known));
	if (cell->introducer) {
		pg_json_set(d, "introducer", json_string(cell->introducer));
		pg_json_set(d, "introducer_how", pg_json_string(cell->introducer_how));
	}
	if (cell->fixed_by) {
		pg_json_set(d, "fixed_by", json_string(cell->fixed_by));
		pg_json_set(d, "fix_how", pg_json_string(cell->fix_how));
		pg_json_set(d, "confidence", json_real(cell->confidence));
	}
	if (cell->config && *cell->config)
		pg_json_set(d, "config", json_string(cell->config));
	if (cell->justification)
		pg_json_set(d, "justification", json_string(cell->justification));
	if (cell->vex && (vex = json_loads(cell->vex, 0, NULL)))
		pg_json_set(d, "vex", vex);
	if (cell->fix && c->cls) {
		pg_stmt_reset(c->cls);
		pg_stmt_bind_text(c->cls, 1, cell->fix);
		if (pg_stmt_step(c->cls) > 0) {
			*priority = pg_stmt_double(c->cls, 0);
			pg_json_set(d, "priority", json_real(*priority));
			pg_json_set(d, "priority_level", pg_json_string(pg_stmt_text(c->cls, 1)));
			pg_json_set(d, "p_security", json_real(pg_stmt_double(c->cls, 2)));
			pg_json_set(d, "bug_class", pg_json_string(pg_stmt_text(c->cls, 3)));
		}
		pg_stmt_reset(c->cls);
	}
	return d;
}

/*
 * Store the new state of one cell; announce it when an open state is
 * involved (fixed <-> not_affected moves are not actionable).
 */
static int set_cell(struct ctx *c, const char *item, size_t bi, const char *state, const pg_affect_cell *cell)
{
	const pg_branch_conf *b = &c->wc->cfg->branches[bi];
	char *old = NULL;
	int64_t seq = 0;
	int error = 0, rc, inserted;

	pg_stmt_reset(c->get);
	if ((error = pg_stmt_bind_text(c->get, 1, item)) < 0 || (error = pg_stmt_bind_text(c->get, 2, b->name)) < 0)
		return error;
	if ((rc = pg_stmt_step(c->get)) < 0)
		return rc;
	if (rc > 0) {
		old = pg_strdup(pg_stmt_text(c->get, 0));
		seq = pg_stmt_int(c->get, 1);
	}
	pg_stmt_reset(c->get);
	if (old ? !strcmp(old, state) : !strcmp(state, "not_affected"))
		goto out;
	if ((error = pg_stmt_bind_text(c->put, 1, item)) < 0 || (error = pg_stmt_bind_text(c->put, 2, b->name)) < 0 ||
	    (error = pg_stmt_bind_text(c->put, 3, state)) < 0 || (error = pg_stmt_bind_int(c->put, 4, seq + 1)) < 0 ||
	    (error = pg_stmt_exec(c->put)) < 0)
		goto out;
	if (!c->quiet[bi] && (is_open(old) || is_open(state))) {
		const char *kind = !strcmp(state, "affected") || !strcmp(state, "possibly_affected") ? "branch.affected"
				   : !is_open(state) && !strcmp(state, "fixed")			   ? "branch.fixed"
				   : !is_open(state)						   ? "branch.not_affected"
												   : "branch.changed";
		pg_buf key = PG_BUF_INIT;
		json_t *p = json_object();
		pg_watch__event ev = { 0 };
		double prio;

		pg_json_set(p, "item", json_string(item));
		pg_json_set(p, "branch", json_string(b->name));
		pg_json_set(p, "branch_head", pg_json_string(c->head[bi]));
		pg_json_set(p, "detail", cell_detail(c, cell, &prio));
		pg_buf_printf(&key, "cell:%s:%s:%lld:%s", item, b->name, (long long)(seq + 1), state);
		ev.kind = kind;
		ev.key = pg_buf_cstr(&key);
		ev.target = item;
		ev.branch = b->name;
		ev.config = b->kconfig;
		ev.old_state = old ? old : "not_affected";
		ev.new_state = state;
		ev.payload = p;
		ev.priority = prio;
		error = pg_watch__event_add(&inserted, c->s, c->wc, &ev, c->now);
		c->st->events += inserted;
		json_decref(p);
		pg_buf_release(&key);
	}
out:
	free(old);
	return error;
}

/* A cell's state as announced: its status, and under the branch's .config whether the code is built. */
static const char *cell_state(const pg_affect_cell *cell)
{
	if (!strcmp(cell->status, "affected") || !strcmp(cell->status, "fixed") || !strcmp(cell->status, "unknown"))
		return cell->status;
	return cell->justification ? "not_affected_by_config" : "not_affected";
}

static int on_cell(const pg_affect_cell *cell, void *payload)
{
	struct ctx *c = payload;
	const pg_config *cfg = c->wc->cfg;
	int error = 0;

	if (!cell->branch) {
		/* every cell of the item went (a rejected CVE, an unflagged fix): no fix anywhere */
		for (size_t i = 0; i < cfg->nbranches && !error; i++)
			if (c->head[i])
				error = set_cell(c, cell->id, i, "not_affected", NULL);
		return error;
	}
	for (size_t i = 0; i < cfg->nbranches; i++) {
		const pg_branch_conf *b = &cfg->branches[i];
		/* a branch with a .config is judged by its build cells, the others by the plain ones */
		int want_config = b->kconfig && cfg->repository;
		if (!c->head[i] || strcmp(b->name, cell->branch) || want_config != (cell->config && *cell->config))
			continue;
		if (c->reconcile) {
			pg_buf_reset(&c->key);
			pg_buf_printf(&c->key, "%s\t%s", cell->id, b->name);
			if ((error = pg_strmap_set(&c->seen, pg_buf_cstr(&c->key), NULL)) < 0)
				return error;
		}
		return set_cell(c, cell->id, i, cell_state(cell), cell);
	}
	return 0;
}

/* After a foreign write: every stored cell against the announced states, and open states whose cell is gone. */
static int reconcile(struct ctx *c)
{
	const pg_config *cfg = c->wc->cfg;
	pg_stmt *open = NULL;
	pg_watch__strs gone = { 0 };
	int error, rc;

	c->reconcile = 1;
	if ((error = pg_affect_cells_foreach(c->s, NULL, NULL, on_cell, c)) < 0)
		goto out;
	if ((error = pg_store_prepare(&open, c->s, "SELECT item, branch FROM watch_cells WHERE state IN"
				      " ('affected', 'possibly_affected', 'unknown', 'not_affected_by_config')")) < 0)
		goto out;
	while ((rc = pg_stmt_step(open)) > 0) {
		int found = 0;
		pg_buf_reset(&c->key);
		pg_buf_printf(&c->key, "%s\t%s", pg_stmt_text(open, 0), pg_stmt_text(open, 1));
		pg_strmap_get(&c->seen, pg_buf_cstr(&c->key), &found);
		if (!found && (error = pg_watch__strs_add(&gone, pg_buf_cstr(&c->key))) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	for (size_t g = 0; g < gone.len && !error; g++) {
		char *tab = strchr(gone.ptr[g], '\t');
		*tab = '\0';
		for (size_t i = 0; i < cfg->nbranches && !error; i++)
			if (c->head[i] && !strcmp(cfg->branches[i].name, tab + 1))
				error = set_cell(c, gone.ptr[g], i, "not_affected", NULL);
	}
out:
	c->reconcile = 0;
	pg_stmt_free(open);
	pg_watch__strs_release(&gone);
	return error;
}

int pg_watch__reeval(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, const pg_watch__strs *touched, int quiet,
		     int64_t now, const pg_watch_options *opts)
{
	const pg_config *cfg = wc->cfg;
	struct ctx c;
	pg_affect_cells_stats cs;
	pg_stmt *heads = NULL, *tips = NULL, *settip = NULL;
	int *moved = NULL, any = 0, error = 0, rc;
	int64_t gen_seen, gen_before = 0, gen_after;
	char buf[32];

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.wc = wc;
	c.st = st;
	c.now = now;
	c.key = (pg_buf)PG_BUF_INIT;
	if (!(c.head = calloc(cfg->nbranches, sizeof(*c.head))) || !(c.quiet = calloc(cfg->nbranches, sizeof(*c.quiet))) ||
	    !(moved = calloc(cfg->nbranches, sizeof(*moved)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = pg_store_prepare(&heads, s, "SELECT head_sha FROM branches WHERE name = ?")) < 0 ||
	    (error = pg_store_prepare(&tips, s, "SELECT head_sha FROM watch_tips WHERE branch = ?")) < 0 ||
	    (error = pg_store_prepare(&settip, s,
				      "INSERT INTO watch_tips (branch, head_sha) VALUES (?, ?)"
				      " ON CONFLICT (branch) DO UPDATE SET head_sha = excluded.head_sha")) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nbranches; i++) {
		const char *name = cfg->branches[i].name, *t;
		pg_stmt_reset(heads);
		pg_stmt_reset(tips);
		if ((error = pg_stmt_bind_text(heads, 1, name)) < 0 || (error = pg_stmt_bind_text(tips, 1, name)) < 0)
			goto out;
		if ((rc = pg_stmt_step(heads)) < 0) {
			error = rc;
			goto out;
		}
		if (rc == 0 || !(t = pg_stmt_text(heads, 0)))
			continue; /* not ingested yet */
		if (!(c.head[i] = pg_strdup(t))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = pg_stmt_step(tips)) < 0) {
			error = rc;
			goto out;
		}
		/* a branch seen for the first time: its cells are its starting state, not news */
		c.quiet[i] = quiet || (rc == 0 && !wc->announce_initial);
		moved[i] = rc == 0 || !pg_stmt_text(tips, 0) || strcmp(pg_stmt_text(tips, 0), c.head[i]);
		any |= moved[i];
	}
	pg_stmt_reset(heads);
	pg_stmt_reset(tips);
	if ((error = pg_watch__meta_int(&gen_seen, s, GEN_KEY, 0)) < 0 ||
	    (error = pg_watch__meta_int(&gen_before, s, PG_AFFECT_CELLS_GENERATION, 0)) < 0)
		goto out;
	if (!any && !touched->len && gen_seen == gen_before)
		goto out; /* an idle cycle computes nothing */
	if ((error = pg_store_prepare(&c.get, s, "SELECT state, seq FROM watch_cells WHERE item = ? AND branch = ?")) < 0 ||
	    (error = pg_store_prepare(&c.put, s,
				      "INSERT INTO watch_cells (item, branch, state, seq) VALUES (?, ?, ?, ?)"
				      " ON CONFLICT (item, branch) DO UPDATE SET state = excluded.state, seq = excluded.seq")) < 0)
		goto out;
	/* no classifier table yet (a database that never classified): no priority */
	/* by commit id: classifications.sha has no index, and a scan per announced cell is minutes on a kernel */
	if (pg_store_prepare(&c.cls, s,
			     "SELECT cl.priority, cl.level, cl.p_security, cl.bug_class FROM commits c"
			     " CROSS JOIN classifications cl WHERE c.sha = ? AND cl.commit_id = c.id") < 0)
		pg_error_clear();
	for (size_t i = 0; i < cfg->nbranches; i++)
		if (moved[i]) {
			pg_watch__log(opts, PG_WATCH_DEBUG, "branch '%s' moved to %.12s", cfg->branches[i].name, c.head[i]);
			st->branches_evaluated++;
		}
	if ((error = pg_affect_cells_update_notify(&cs, s, 0, cfg->repository, on_cell, &c)) < 0) {
		pg_error_prefix("re-evaluating the stored verdicts");
		goto out;
	}
	st->items_evaluated += cs.evaluated;
	pg_watch__log(opts, PG_WATCH_DEBUG, "cells: %zu evaluated, %zu written, %zu removed%s", cs.evaluated, cs.written,
		      cs.deleted, cs.full ? " (full)" : "");
	if (gen_seen != gen_before) {
		pg_watch__log(opts, PG_WATCH_INFO, "stored verdicts were updated by another writer: comparing all of them");
		if ((error = reconcile(&c)) < 0)
			goto out;
	}
	if ((error = pg_watch__meta_int(&gen_after, s, PG_AFFECT_CELLS_GENERATION, 0)) < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%lld", (long long)gen_after);
	if ((error = pg_store_meta_set(s, GEN_KEY, buf)) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nbranches; i++) {
		if (!moved[i])
			continue;
		if ((error = pg_stmt_bind_text(settip, 1, cfg->branches[i].name)) < 0 ||
		    (error = pg_stmt_bind_text(settip, 2, c.head[i])) < 0 || (error = pg_stmt_exec(settip)) < 0)
			goto out;
	}
out:
	for (size_t i = 0; c.head && i < cfg->nbranches; i++)
		free(c.head[i]);
	free(c.head);
	free(c.quiet);
	free(moved);
	pg_stmt_free(heads);
	pg_stmt_free(tips);
	pg_stmt_free(settip);
	pg_stmt_free(c.get);
	pg_stmt_free(c.put);
	pg_stmt_free(c.cls);
	pg_strmap_release(&c.seen);
	pg_buf_release(&c.key);
	return error;
}
