/*
 * reeval.c - re-evaluate only the cells a cycle can have changed.
 *
 * A cell is (item, branch) -> state, item being a CVE id or the commit id of
 * a silent fix, state one of affected, possibly_affected, unknown, fixed,
 * not_affected_by_config, not_affected: exactly what `patchgap status`
 * reports (pg_affect_status), so the two never disagree for a re-evaluated
 * branch.  Two reasons to look at a cell again:
 *  - its branch head moved since watch_tips: the whole branch is evaluated
 *    with pg_affect_status (one pass over the known fixes, hash lookups);
 *  - its item was touched (a CVE record changed, a new commit fixes a CVE,
 *    a new mainline commit was flagged): pg_affect_fix on that item, for the
 *    branches that did not move.  pg_affect_fix does not apply a branch's
 *    .config, so on a branch with kconfig such a cell says affected until the
 *    branch moves and status moves it to not_affected_by_config.
 * Nothing else is recomputed.  This file is the one place that knows where
 * states come from: stored verdict cells can replace both calls later.
 *
 * Every change writes an event whose key is item, branch, the cell's change
 * counter and the new state: re-running a killed cycle gives the same keys.
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

struct ctx {
	pg_store *s;
	const pg_watch_conf *wc;
	pg_watch_stats *st;
	int64_t now;
	pg_stmt *get, *put;
};

/*
 * Store the new state of one cell; announce it when an open state is
 * involved (fixed <-> not_affected moves are not actionable).
 */
static int set_cell(struct ctx *c, const char *item, const char *branch, const char *tip, const char *state,
		    json_t *entry, int quiet)
{
	char *old = NULL;
	int64_t seq = 0;
	int error = 0, rc, inserted;

	pg_stmt_reset(c->get);
	if ((error = pg_stmt_bind_text(c->get, 1, item)) < 0 || (error = pg_stmt_bind_text(c->get, 2, branch)) < 0)
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
	if ((error = pg_stmt_bind_text(c->put, 1, item)) < 0 || (error = pg_stmt_bind_text(c->put, 2, branch)) < 0 ||
	    (error = pg_stmt_bind_text(c->put, 3, state)) < 0 || (error = pg_stmt_bind_int(c->put, 4, seq + 1)) < 0 ||
	    (error = pg_stmt_exec(c->put)) < 0)
		goto out;
	if (!quiet && (is_open(old) || is_open(state))) {
		const pg_branch_conf *b = pg_config_branch(c->wc->cfg, branch);
		const char *kind = !strcmp(state, "affected") || !strcmp(state, "possibly_affected") ? "branch.affected"
				   : !is_open(state) && !strcmp(state, "fixed")			   ? "branch.fixed"
				   : !is_open(state)						   ? "branch.not_affected"
												   : "branch.changed";
		pg_buf key = PG_BUF_INIT;
		json_t *p = json_object(), *prio;
		pg_watch__event ev = { 0 };

		pg_json_set(p, "item", json_string(item));
		pg_json_set(p, "branch", json_string(branch));
		pg_json_set(p, "branch_head", pg_json_string(tip));
		pg_json_set(p, "detail", entry ? json_incref(entry) : json_null());
		pg_buf_printf(&key, "cell:%s:%s:%lld:%s", item, branch, (long long)(seq + 1), state);
		ev.kind = kind;
		ev.key = pg_buf_cstr(&key);
		ev.target = item;
		ev.branch = branch;
		ev.config = b ? b->kconfig : NULL;
		ev.old_state = old ? old : "not_affected";
		ev.new_state = state;
		ev.payload = p;
		prio = entry ? json_object_get(entry, "priority") : NULL;
		ev.priority = json_is_number(prio) ? json_number_value(prio) : -1;
		error = pg_watch__event_add(&inserted, c->s, c->wc, &ev, c->now);
		c->st->events += inserted;
		json_decref(p);
		pg_buf_release(&key);
	}
out:
	free(old);
	return error;
}

static const char *fix_state(const char *status)
{
	if (!status)
		return "not_affected";
	if (!strcmp(status, "affected"))
		return "affected";
	if (!strcmp(status, "fixed"))
		return "fixed";
	if (!strcmp(status, "unknown"))
		return "unknown";
	return "not_affected";
}

/* A whole branch through pg_affect_status: every item it lists, and its old cells that vanished. */
static int eval_branch(struct ctx *c, pg_affect_index *ix, const pg_branch_conf *b, const char *tip, int quiet)
{
	static const struct { const char *list, *state; } lists[] = {
		{ "unfixed", "affected" }, { "possibly_affected", "possibly_affected" }, { "unknown", "unknown" },
		{ "not_affected_by_config", "not_affected_by_config" },
	};
	pg_status_options so = PG_STATUS_OPTIONS_INIT;
	json_t *o = NULL;
	pg_strmap seen = PG_STRMAP_INIT;
	pg_stmt *old = NULL;
	pg_watch__strs gone = { 0 };
	int error = 0, rc;

	/*
	 * Without include_fixed: listing every fix present on mainline cost 60 s
	 * per cycle on a 49k-commit history (a classification lookup per
	 * entry); the cells that closed are asked about one by one below.
	 */
	so.repository = c->wc->cfg->repository;
	if ((error = pg_affect_status(&o, ix, b->name, &so)) < 0) {
		pg_error_prefix("re-evaluating branch '%s'", b->name);
		goto out;
	}
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *arr = json_object_get(o, lists[l].list), *e;
		size_t i;
		json_array_foreach(arr, i, e) {
			const char *item = json_string_value(json_object_get(e, "id"));
			int found = 0;
			if (!item)
				continue;
			pg_strmap_get(&seen, item, &found);
			if (found) /* listed twice: the first (most open) list wins */
				continue;
			if ((error = pg_strmap_set(&seen, item, NULL)) < 0 ||
			    (error = set_cell(c, item, b->name, tip, lists[l].state, e, quiet)) < 0)
				goto out;
			c->st->items_evaluated++;
		}
	}
	if ((error = pg_store_prepare(&old, c->s,
				      "SELECT item, state FROM watch_cells WHERE branch = ? AND state IN"
				      " ('affected', 'possibly_affected', 'unknown', 'not_affected_by_config')")) < 0 ||
	    (error = pg_stmt_bind_text(old, 1, b->name)) < 0)
		goto out;
	while ((rc = pg_stmt_step(old)) > 0) {
		int found = 0;
		pg_strmap_get(&seen, pg_stmt_text(old, 0), &found);
		if (!found && (error = pg_watch__strs_add(&gone, pg_stmt_text(old, 0))) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	/* an open cell that status no longer lists: fixed (the fix arrived) or not affected (e.g. a revert) */
	for (size_t i = 0; i < gone.len; i++) {
		json_t *f = NULL, *cell = NULL;
		const char *st = "not_affected";
		int e = pg_affect_fix(&f, ix, gone.ptr[i]);
		if (e < 0 && e != PG_ENOTFOUND) {
			error = e;
			goto out;
		}
		pg_error_clear();
		cell = f ? json_object_get(json_object_get(f, "branches"), b->name) : NULL;
		if (cell && !strcmp(fix_state(json_string_value(json_object_get(cell, "status"))), "fixed"))
			st = "fixed";
		error = set_cell(c, gone.ptr[i], b->name, tip, st, cell, quiet);
		json_decref(f);
		if (error < 0)
			goto out;
	}
out:
	json_decref(o);
	pg_strmap_release(&seen);
	pg_stmt_free(old);
	pg_watch__strs_release(&gone);
	return error;
}

int pg_watch__reeval(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, const pg_watch__strs *touched, int quiet,
		     int64_t now, const pg_watch_options *opts)
{
	const pg_config *cfg = wc->cfg;
	struct ctx c = { s, wc, st, now, NULL, NULL };
	pg_affect_index *ix = NULL;
	pg_stmt *heads = NULL, *tips = NULL, *settip = NULL, *named = NULL, *cvestate = NULL;
	char **head = NULL;
	int *moved = NULL, *fresh = NULL, any = 0, error = 0, rc;

	if (!(head = calloc(cfg->nbranches, sizeof(*head))) || !(moved = calloc(cfg->nbranches, sizeof(*moved))) ||
	    !(fresh = calloc(cfg->nbranches, sizeof(*fresh)))) {
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
		head[i] = pg_strdup(t);
		if ((rc = pg_stmt_step(tips)) < 0) {
			error = rc;
			goto out;
		}
		fresh[i] = rc == 0;
		moved[i] = rc == 0 || !pg_stmt_text(tips, 0) || strcmp(pg_stmt_text(tips, 0), head[i]);
		any |= moved[i];
	}
	pg_stmt_reset(heads);
	pg_stmt_reset(tips);
	if (!any && !touched->len)
		goto out; /* an idle cycle opens no index */
	if ((error = pg_affect_index_open(&ix, s)) < 0 ||
	    (error = pg_store_prepare(&c.get, s, "SELECT state, seq FROM watch_cells WHERE item = ? AND branch = ?")) < 0 ||
	    (error = pg_store_prepare(&c.put, s,
				      "INSERT INTO watch_cells (item, branch, state, seq) VALUES (?, ?, ?, ?)"
				      " ON CONFLICT (item, branch) DO UPDATE SET state = excluded.state, seq = excluded.seq")) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nbranches; i++) {
		if (!moved[i])
			continue;
		pg_watch__log(opts, PG_WATCH_DEBUG, "re-evaluating branch '%s' at %.12s", cfg->branches[i].name, head[i]);
		if ((error = eval_branch(&c, ix, &cfg->branches[i], head[i], quiet || (fresh[i] && !wc->announce_initial))) < 0)
			goto out;
		st->branches_evaluated++;
		if ((error = pg_stmt_bind_text(settip, 1, cfg->branches[i].name)) < 0 ||
		    (error = pg_stmt_bind_text(settip, 2, head[i])) < 0 || (error = pg_stmt_exec(settip)) < 0)
			goto out;
	}
	if ((error = pg_store_prepare(&named, s, "SELECT 1 FROM cve_fixes WHERE sha = ?")) < 0 ||
	    (error = pg_store_prepare(&cvestate, s, "SELECT state FROM cves WHERE id = ?")) < 0)
		goto out;
	for (size_t t = 0; t < touched->len; t++) {
		json_t *o = NULL, *br;
		int e;
		if (strncmp(touched->ptr[t], "CVE-", 4)) {
			/* a fix that a CVE names is that CVE's item, never a silent one (as in status) */
			pg_stmt_reset(named);
			if ((error = pg_stmt_bind_text(named, 1, touched->ptr[t])) < 0 || (rc = pg_stmt_step(named)) < 0) {
				error = error ? error : rc;
				goto out;
			}
			if (rc > 0)
				continue;
		}
		else {
			/* a rejected CVE is no fix anywhere (status lists published ones only) */
			pg_stmt_reset(cvestate);
			if ((error = pg_stmt_bind_text(cvestate, 1, touched->ptr[t])) < 0 || (rc = pg_stmt_step(cvestate)) < 0) {
				error = error ? error : rc;
				goto out;
			}
			if (rc > 0 && !strcmp(pg_stmt_text(cvestate, 0), "rejected")) {
				for (size_t i = 0; i < cfg->nbranches && !error; i++)
					if (!moved[i] && head[i])
						error = set_cell(&c, touched->ptr[t], cfg->branches[i].name, head[i], "not_affected",
								 NULL, quiet);
				if (error < 0)
					goto out;
				continue;
			}
		}
		e = pg_affect_fix(&o, ix, touched->ptr[t]);
		if (e == PG_ENOTFOUND) {
			pg_error_clear();
			continue;
		}
		if ((error = e) < 0)
			goto out;
		br = json_object_get(o, "branches");
		st->items_evaluated++;
		for (size_t i = 0; i < cfg->nbranches && !error; i++) {
			json_t *cell;
			if (moved[i] || !head[i])
				continue;
			cell = json_object_get(br, cfg->branches[i].name);
			error = set_cell(&c, touched->ptr[t], cfg->branches[i].name, head[i],
					 fix_state(json_string_value(json_object_get(cell, "status"))), cell, quiet);
		}
		json_decref(o);
		if (error < 0)
			goto out;
	}
out:
	for (size_t i = 0; head && i < cfg->nbranches; i++)
		free(head[i]);
	free(head);
	free(moved);
	free(fresh);
	pg_stmt_free(heads);
	pg_stmt_free(tips);
	pg_stmt_free(settip);
	pg_stmt_free(named);
	pg_stmt_free(cvestate);
	pg_stmt_free(c.get);
	pg_stmt_free(c.put);
	pg_affect_index_free(ix);
	return error;
}
