/*
 * backport.c - [watch] backport: try each fix that became open on a stable
 * or vendor branch, in memory, with its live-patch verdict.
 *
 * The work list is the outbox itself: branch.affected / branch.changed
 * events after the mark 'watch.backport_event' whose old state was closed
 * and whose new state is open.  So a cycle killed anywhere redoes exactly
 * the same runs (the runs, their events and the mark share the cycle's
 * transaction), and a cycle that hits backport-max leaves the rest to the
 * next one without forgetting them.
 *
 * The backport writes no ref (create_branch = 0) and no prerequisite series:
 * what an operator wants from the daemon is "clean / conflict / present and
 * live-patchable or not"; `patchgap backport` makes the branch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <git2.h>
#include "watch_int.h"
#include "patchgap/backport.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int pg_watch__meta_int(int64_t *out, pg_store *s, const char *key, int64_t def)
{
	char *v = NULL;
	int error = pg_store_meta_get(&v, s, key);
	*out = def;
	if (error == PG_ENOTFOUND) {
		pg_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	*out = strtoll(v, NULL, 10);
	free(v);
	return 0;
}

int pg_watch__meta_set_int(pg_store *s, const char *key, int64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return pg_store_meta_set(s, key, b);
}

/*
 * Where a mark starts when it was never set: after the events of earlier
 * cycles (created before now), so enabling the option does not replay the
 * whole history.
 */
int pg_watch__mark_start(int64_t *out, pg_store *s, int64_t now)
{
	pg_stmt *st = NULL;
	int error, rc;
	*out = 0;
	if ((error = pg_store_prepare(&st, s, "SELECT MAX(id) FROM events WHERE created < ?")) < 0 ||
	    (error = pg_stmt_bind_int(st, 1, now)) < 0)
		goto out;
	if ((rc = pg_stmt_step(st)) < 0)
		error = rc;
	else if (rc > 0 && !pg_stmt_isnull(st, 0))
		*out = pg_stmt_int(st, 0);
out:
	pg_stmt_free(st);
	return error;
}

/* The mainline fix of an item: the item itself (a silent fix) or the CVE's first mainline fix commit. */
static int item_fix(char **out, pg_stmt *cvefix, const char *item)
{
	int rc;
	*out = NULL;
	if (strncmp(item, "CVE-", 4)) {
		*out = pg_strdup(item);
		return *out ? 0 : pg_error_setc(PG_ENOMEM, "out of memory");
	}
	pg_stmt_reset(cvefix);
	if ((rc = pg_stmt_bind_text(cvefix, 1, item)) < 0 || (rc = pg_stmt_step(cvefix)) < 0)
		return rc;
	if (rc > 0 && !(*out = pg_strdup(pg_stmt_text(cvefix, 0))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	pg_stmt_reset(cvefix);
	return 0;
}

/* One run: record it and announce it. */
static int run_one(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, git_repository *repo,
		   const pg_branch_conf *b, const char *item, const char *fix_hex, int quiet, int64_t now,
		   const pg_watch_options *opts)
{
	pg_backport_options bo = PG_BACKPORT_OPTIONS_INIT;
	pg_backport_result *r = NULL;
	pg_watch__event ev = { 0 };
	pg_buf key = PG_BUF_INIT;
	json_t *p = NULL, *files = NULL, *lp = NULL;
	char head[GIT_OID_HEXSZ + 1], *lptxt = NULL;
	git_oid fix;
	int error = 0, inserted;

	bo.create_branch = 0;
	bo.with_deps = 0;
	bo.now = now;
	if (git_oid_fromstr(&fix, fix_hex) < 0)
		return 0; /* not a full commit id: nothing to apply */
	if ((error = pg_backport_run(&r, repo, &fix, b->ref, &bo)) < 0) {
		if (error != PG_ENOMEM) {
			/*
			 * a fix that is not in the repository, a merge, or a history
			 * libgit2 cannot merge: logged and skipped, never a cycle that
			 * fails forever on the same event
			 */
			pg_watch__log(opts, PG_WATCH_WARN, "backport of %.12s onto '%s': %s", fix_hex, b->name,
				      pg_error_last());
			pg_error_clear();
			error = 0;
		}
		goto out;
	}
	if ((error = pg_backport_record(s, r, NULL, now, NULL)) < 0)
		goto out;
	st->backports++;
	git_oid_tostr(head, sizeof(head), &r->head);
	pg_watch__log(opts, PG_WATCH_INFO, "backport %s (%.12s) onto '%s': %s, live patch %s", item, fix_hex, b->name,
		      pg_backport_status_name(r->status),
		      r->livepatch ? pg_livepatch_level_name(r->livepatch->level) : "unknown");
	if (quiet)
		goto out;
	if (r->livepatch) {
		if ((error = pg_livepatch_json(&lptxt, r->livepatch)) < 0)
			goto out;
		lp = json_loads(lptxt, 0, NULL);
	}
	p = json_object();
	files = json_array();
	for (size_t i = 0; i < r->nconflicts; i++)
		json_array_append_new(files, json_string(r->conflicts[i].path));
	pg_json_set(p, "item", json_string(item));
	pg_json_set(p, "fix", json_string(fix_hex));
	pg_json_set(p, "branch", json_string(b->name));
	pg_json_set(p, "branch_head", json_string(head));
	pg_json_set(p, "status", json_string(pg_backport_status_name(r->status)));
	pg_json_set(p, "present_how", r->status == PG_BACKPORT_PRESENT ? pg_json_string(r->present_how) : json_null());
	pg_json_set(p, "conflict_files", files);
	files = NULL;
	pg_json_set(p, "livepatch", lp ? lp : json_null());
	lp = NULL;
	/* a pure function of the inputs: the fix and the head it was tried on */
	if ((error = pg_buf_printf(&key, "backport:%s:%s:%s:%s", item, b->name, head, fix_hex)) < 0)
		goto out;
	ev.kind = "backport.result";
	ev.key = pg_buf_cstr(&key);
	ev.target = item;
	ev.branch = b->name;
	ev.config = b->kconfig;
	ev.new_state = pg_backport_status_name(r->status);
	ev.payload = p;
	ev.priority = -1;
	error = pg_watch__event_add(&inserted, s, wc, &ev, now);
	st->events += inserted;
out:
	free(lptxt);
	json_decref(lp);
	json_decref(files);
	json_decref(p);
	pg_buf_release(&key);
	pg_backport_result_free(r);
	return error;
}

int pg_watch__backport(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, int quiet, int64_t now,
		       const pg_watch_options *opts)
{
	git_repository *repo = NULL;
	pg_stmt *sel = NULL, *cvefix = NULL;
	int64_t mark, last;
	size_t done = 0;
	double t0 = now_ms();
	int error = 0, rc;

	if (!wc->backport)
		return 0;
	if ((error = pg_watch__meta_int(&mark, s, "watch.backport_event", -1)) < 0 ||
	    (mark < 0 && (error = pg_watch__mark_start(&mark, s, now)) < 0))
		goto out;
	last = mark;
	if ((error = pg_store_prepare(&sel, s,
				      "SELECT id, target, branch FROM events WHERE id > ?"
				      " AND kind IN ('branch.affected', 'branch.changed')"
				      " AND new_state IN ('affected', 'possibly_affected', 'unknown')"
				      " AND (old_state IS NULL OR old_state NOT IN ('affected', 'possibly_affected', 'unknown'))"
				      " ORDER BY id")) < 0 ||
	    (error = pg_store_prepare(&cvefix, s,
				      "SELECT f.sha FROM cve_fixes f JOIN commits c ON c.sha = f.sha"
				      " WHERE f.cve_id = ? AND c.on_mainline = 1 ORDER BY c.id LIMIT 1")) < 0 ||
	    (error = pg_stmt_bind_int(sel, 1, mark)) < 0)
		goto out;
	while ((rc = pg_stmt_step(sel)) > 0) {
		const char *item = pg_stmt_text(sel, 1), *branch = pg_stmt_text(sel, 2);
		const pg_branch_conf *b = branch ? pg_config_branch(wc->cfg, branch) : NULL;
		char *fix = NULL;

		if (opts && opts->stop && opts->stop(opts->payload))
			break; /* SIGTERM: the transaction commits what was done, the mark says where to go on */
		if (done >= (size_t)wc->backport_max) {
			pg_watch__log(opts, PG_WATCH_INFO, "backport: %d runs this cycle (backport-max), the rest next cycle",
				      wc->backport_max);
			break;
		}
		last = pg_stmt_int(sel, 0);
		if (!item || !b || b->kind == PG_BRANCH_MAINLINE)
			continue; /* mainline is where fixes come from */
		if ((error = item_fix(&fix, cvefix, item)) < 0)
			goto out;
		if (!fix)
			continue; /* a CVE without a mainline fix commit */
		if (!repo && git_repository_open_ext(&repo, wc->cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			const git_error *e = git_error_last();
			free(fix);
			error = pg_error_set("'%s' is not a git repository (core.repository): %s", wc->cfg->repository,
					     e && e->message ? e->message : "unknown error");
			goto out;
		}
		error = run_one(st, s, wc, repo, b, item, fix, quiet, now, opts);
		free(fix);
		if (error < 0)
			goto out;
		done++;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	error = pg_watch__meta_set_int(s, "watch.backport_event", last);
out:
	pg_stmt_free(sel);
	pg_stmt_free(cvefix);
	git_repository_free(repo);
	st->ms_backport = now_ms() - t0;
	return error;
}
