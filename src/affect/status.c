/*
 * status.c - `status`: every known security fix that affects a branch or a
 * commit and is not fixed in it, with the reasons.
 *
 * A commit of a stable/vendor branch is evaluated over the branch rows that
 * are its ancestors (one libgit2 walk down to the series base tag); a
 * mainline commit by ingest order (ids are assigned parents-first along the
 * mainline walk, so "order <= commit" approximates ancestry; side branches
 * merged later are the documented inexactness).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "affect/affect_int.h"
#include "patchgap/ingest.h"
#include "patchgap/kconfig.h"
#include "util/json.h"
#include "util/banned.h"

struct pg_affect__view *pg_affect__find_view(pg_affect_index *ix, const char *name)
{
	for (size_t i = 0; i < ix->views.len; i++)
		if (!strcmp(ix->views.ptr[i]->name, name))
			return ix->views.ptr[i];
	return NULL;
}

/* A view of branch `b` restricted to the ancestors of commit `sha`. */
static int commit_view(struct pg_affect__view **out, const struct pg_affect__view *b, const char *sha,
		       const char *repository)
{
	struct pg_affect__view *v = NULL;
	git_repository *repo = NULL;
	git_revwalk *w = NULL;
	git_oid id, base;
	pg_strmap anc = PG_STRMAP_INIT;
	char hex[41], tag[48];
	int error = 0;

	*out = NULL;
	if (!repository)
		return pg_error_setc(PG_EINVALID, "a repository is needed to evaluate commit %.12s (not a branch head)", sha);
	if (git_repository_open_ext(&repo, repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return pg_error_setc(PG_ENOTFOUND, "'%s' is not a git repository", repository);
	if (git_oid_fromstr(&id, sha) < 0 || git_revwalk_new(&w, repo) < 0 || git_revwalk_push(w, &id) < 0) {
		error = pg_error_set("cannot walk commit %s: %s", sha, git_error_last() ? git_error_last()->message : "");
		goto out;
	}
	snprintf(tag, sizeof(tag), "refs/tags/v%s", b->series ? b->series : "");
	if (b->series && git_reference_name_to_id(&base, repo, tag) == 0) {
		git_object *o = NULL, *c = NULL;
		if (git_object_lookup(&o, repo, &base, GIT_OBJECT_ANY) == 0 &&
		    git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0)
			git_revwalk_hide(w, git_object_id(c));
		git_object_free(c);
		git_object_free(o);
	}
	while (git_revwalk_next(&id, w) == 0) {
		git_oid_tostr(hex, sizeof(hex), &id);
		if ((error = pg_strmap_set(&anc, hex, (void *)1)) < 0)
			goto out;
	}
	if (!(v = calloc(1, sizeof(*v)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	v->branch_id = b->branch_id;
	v->name = pg_strdup(b->name);
	v->kind = pg_strdup(b->kind);
	v->series = b->series ? pg_strdup(b->series) : NULL;
	v->base = b->base;
	v->has_base = b->has_base;
	v->max_patch = b->max_patch;
	for (size_t i = 0; i < b->rows.len && !error; i++)
		if (pg_strmap_get(&anc, b->rows.ptr[i]->sha, NULL))
			error = pg_affect__view_add(v, b->rows.ptr[i]);
	if (!error) {
		*out = v;
		v = NULL;
	}
out:
	pg_affect__view_free(v);
	pg_strmap_release(&anc);
	git_revwalk_free(w);
	git_repository_free(repo);
	return error;
}

/*
 * The commit a user names: a tag (annotated or not, vendor tags too), any
 * revision syntax (`linux-6.1.y~3`, `git describe` output) resolved in the
 * repository, else a full or abbreviated id of an ingested commit.
 */
static int resolve_revision(char sha[41], pg_affect_index *ix, const char *target, const char *repository)
{
	git_repository *repo = NULL;
	git_object *o = NULL, *c = NULL;
	int error = PG_ENOTFOUND;

	if (repository && git_repository_open_ext(&repo, repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0 &&
	    git_revparse_single(&o, repo, target) == 0 && git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0) {
		git_oid_tostr(sha, 41, git_object_id(c));
		error = 0;
	}
	git_object_free(c);
	git_object_free(o);
	git_repository_free(repo);
	if (error == 0)
		return 0;
	if ((error = pg_ingest_resolve(sha, ix->store, target)) < 0 &&
	    (error == PG_ENOTFOUND || (error == PG_EINVALID && pg_str_hexlen(target, 41) != strlen(target))))
		error = pg_error_setc(PG_ENOTFOUND, "'%s' is not a tracked branch, a tag, a revision of %s or an ingested commit",
				      target, repository ? repository : "the repository (none configured)");
	return error;
}

void pg_affect__build_release(struct pg_affect__build *b)
{
	pg_kbuild_free(b->kb);
	if (b->have_tree)
		pg_ktree_release(&b->tree);
	pg_kconfig_free(b->cfg);
	git_repository_free(b->repo);
	memset(b, 0, sizeof(*b));
}

int pg_affect__build_open(struct pg_affect__build *b, const char *repository, const char *kconfig, const char *rev)
{
	int error;
	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s", kconfig);
	if (!repository)
		return pg_error_setc(PG_EINVALID, "a repository is needed to evaluate the .config '%s'", kconfig);
	if ((error = pg_kconfig_load(&b->cfg, kconfig)) < 0)
		return error;
	if (git_repository_open_ext(&b->repo, repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return pg_error_setc(PG_ENOTFOUND, "'%s' is not a git repository", repository);
	if ((error = pg_ktree_git(&b->tree, repository, rev)) < 0)
		return error;
	b->have_tree = 1;
	return pg_kbuild_eval(&b->kb, &b->tree, b->cfg);
}

json_t *pg_affect__build_verdict(struct pg_affect__build *b, const char *fix, int *not_affected)
{
	pg_buf diff = PG_BUF_INIT, js = PG_BUF_INIT;
	pg_kpatch_verdict v;
	git_oid id;
	json_t *o = NULL;

	*not_affected = 0;
	memset(&v, 0, sizeof(v));
	if (git_oid_fromstr(&id, fix) < 0 || pg_ingest_commit_diff(&diff, b->repo, &id) < 0 ||
	    pg_kconfig_diff(&v, b->kb, &b->tree, b->cfg, diff.ptr ? diff.ptr : "", diff.len) < 0 ||
	    pg_kpatch_verdict_json(&js, &v) < 0 || pg_json_parse(&o, js.ptr, js.len, "kconfig verdict") < 0) {
		o = json_object();
		pg_json_set(o, "status", json_string("under_investigation"));
		pg_json_set(o, "error", pg_json_string(pg_error_last()));
	} else {
		*not_affected = v.status == PG_VEX_NOT_AFFECTED;
		pg_json_set(o, "config", pg_json_string(b->path));
	}
	pg_kpatch_verdict_release(&v);
	pg_buf_release(&diff);
	pg_buf_release(&js);
	return o;
}

/* Attach the classifier's verdict for the fix commit, when it has one. */
static void add_classification(pg_stmt *q, json_t *e, const char *fix)
{
	if (!q)
		return;
	pg_stmt_bind_text(q, 1, fix);
	if (pg_stmt_step(q) > 0) {
		pg_json_set(e, "p_security", json_real(pg_stmt_double(q, 0)));
		pg_json_set(e, "bug_class", pg_json_string(pg_stmt_text(q, 1)));
		pg_json_set(e, "priority", json_real(pg_stmt_double(q, 2)));
		pg_json_set(e, "priority_level", pg_json_string(pg_stmt_text(q, 3)));
		pg_json_set(e, "flagged", json_boolean(pg_stmt_int(q, 4)));
	}
	pg_stmt_reset(q);
}

static json_t *entry(const char *cve, const char *fix, const struct pg_affect__commit *F,
		     const struct pg_affect__eval *e, const char *severity, int64_t now)
{
	json_t *o = json_object();
	pg_json_set(o, "id", json_string(cve ? cve : fix));
	pg_json_set(o, "fix", json_string(fix));
	pg_json_set(o, "subject", pg_json_string(F ? F->subject : NULL));
	pg_json_set(o, "status", json_string(pg_affect__status_name(e->status)));
	pg_json_set(o, "reason", pg_json_string(e->reason));
	pg_json_set(o, "severity", severity ? json_string(severity) : json_null());
	if (e->vuln_how) {
		pg_json_set(o, "introducer", json_string(e->vuln_sha));
		pg_json_set(o, "introducer_how", json_string(e->vuln_how));
	}
	if (e->fix_how) {
		pg_json_set(o, "fixed_by", json_string(e->fix_sha));
		pg_json_set(o, "fix_how", json_string(e->fix_how));
		pg_json_set(o, "confidence", json_real(e->confidence));
	}
	if (F) {
		char when[32];
		pg_time_iso8601(when, sizeof(when), F->time);
		pg_json_set(o, "fix_date", json_string(when));
		pg_json_set(o, "age_days", json_integer(now > F->time ? (now - F->time) / 86400 : 0));
	}
	return o;
}

int pg_affect__verdict(struct pg_affect__eval *best, const char **best_fix, pg_affect_index *ix,
		       const struct pg_affect__view *view, const struct pg_affect__target *tg)
{
	struct pg_affect__eval e;
	int have = 0, error;

	memset(best, 0, sizeof(*best));
	*best_fix = NULL;
	for (size_t f = 0; f < tg->fixes.len; f++) {
		if ((error = pg_affect__eval(&e, ix, view, tg->fixes.ptr[f], (const char *const *)tg->intro.ptr,
					     tg->intro.len)) < 0)
			return error;
		/* a CVE is open while any of its fix commits is missing where its bug is */
		if (!have || e.status == PG_AFFECT_AFFECTED ||
		    (e.status == PG_AFFECT_FIXED && best->status != PG_AFFECT_AFFECTED) ||
		    (e.status == PG_AFFECT_UNKNOWN && best->status == PG_AFFECT_NOT_AFFECTED) ||
		    (e.status == PG_AFFECT_NOT_AFFECTED && e.assumed && best->status == PG_AFFECT_NOT_AFFECTED)) {
			*best = e;
			*best_fix = tg->fixes.ptr[f];
			have = 1;
		}
	}
	/*
	 * No introducer known and the fix absent: the CNA's convention
	 * (0:0:fix) is that every release before the fix is vulnerable.
	 */
	if (have && best->status == PG_AFFECT_NOT_AFFECTED && best->assumed) {
		best->status = PG_AFFECT_AFFECTED;
		snprintf(best->reason, sizeof(best->reason),
			 "no introducer known (CNA convention: every release before the fix is affected), fix absent");
	}
	return 0;
}

int pg_affect_status(json_t **out, pg_affect_index *ix, const char *target, const pg_status_options *opts)
{
	static const pg_status_options defaults = PG_STATUS_OPTIONS_INIT;
	struct pg_affect__view *view = NULL, *owned = NULL, cutview;
	pg_stmt *st = NULL;
	json_t *contained = NULL, *o = NULL, *unfixed = json_array(), *fixed = json_array(), *unknown = json_array(),
	       *notaff = json_array();
	json_int_t nunknown_intro = 0;
	char sha[41] = "", last_cve[64] = "", *kconfig = NULL;
	struct pg_affect__build build = { 0 };
	int use_build = 0, is_silent = 0;
	pg_stmt *qcls = NULL, *silent = NULL;
	int error = 0, rc;
	int64_t now = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	/* every known fix is evaluated: resolve them all at once, not one query each */
	if ((error = pg_affect__targets_preload(ix)) < 0)
		goto out;
	if (!(view = pg_affect__find_view(ix, target))) {
		pg_stmt *b = NULL;
		const struct pg_affect__commit *c;
		if ((error = resolve_revision(sha, ix, target, opts->repository)) < 0)
			goto out;
		/* the tracked branches that contain it: stable ones (lower ids) before vendor trees */
		if (!(contained = json_array()) ||
		    (error = pg_store_prepare(&b, ix->store,
					      "SELECT b.name FROM branch_commits bc JOIN branches b ON b.id = bc.branch_id"
					      " JOIN commits c ON c.id = bc.commit_id WHERE c.sha = ? AND bc.reachable = 1"
					      " ORDER BY b.id")) < 0)
			goto out;
		pg_stmt_bind_text(b, 1, sha);
		while ((rc = pg_stmt_step(b)) > 0) {
			struct pg_affect__view *bv = pg_affect__find_view(ix, pg_stmt_text(b, 0));
			if (!bv)
				continue;
			json_array_append_new(contained, json_string(bv->name));
			if (!view && (error = commit_view(&owned, bv, sha, opts->repository)) < 0)
				break;
			view = owned;
		}
		pg_stmt_free(b);
		if (rc < 0)
			error = rc;
		if (error < 0)
			goto out;
		if (!view) {
			/* a mainline commit: every branch whose base tag contains it also does */
			if ((error = pg_affect__commit(&c, ix, sha)) < 0)
				goto out;
			for (size_t i = 0; i < ix->views.len && !view; i++)
				if (ix->views.ptr[i]->mainline)
					view = ix->views.ptr[i];
			if (!view || !c || !c->on_mainline) {
				error = pg_error_setc(PG_ENOTFOUND, "'%s' (commit %.12s) is on no tracked branch", target, sha);
				goto out;
			}
			json_array_append_new(contained, json_string(view->name));
			cutview = *view;
			cutview.cut = c->order;
			view = &cutview;
		}
	}
	/* build awareness: an explicit .config, else the branch's configured one */
	memset(&build, 0, sizeof(build));
	{
		pg_stmt *b = NULL;
		char head[41] = "";
		if ((error = pg_store_prepare(&b, ix->store, "SELECT head_sha, config_path FROM branches WHERE name = ?")) < 0)
			goto out;
		pg_stmt_bind_text(b, 1, view->name);
		if (pg_stmt_step(b) > 0) {
			if (pg_stmt_text(b, 0))
				snprintf(head, sizeof(head), "%s", pg_stmt_text(b, 0));
			if (!opts->kconfig && !opts->no_kconfig && pg_stmt_text(b, 1))
				kconfig = pg_strdup(pg_stmt_text(b, 1));
		}
		pg_stmt_free(b);
		if (opts->kconfig)
			kconfig = pg_strdup(opts->kconfig);
		if (kconfig) {
			if ((error = pg_affect__build_open(&build, opts->repository, kconfig, sha[0] ? sha : head)) < 0)
				goto out;
			use_build = 1;
		}
	}
	/*
	 * "now" for ages: the newest commit we know, so results do not depend on
	 * the clock.  A scan of the commits table: once per index, not per branch.
	 */
	if (!ix->have_now) {
		if ((error = pg_store_prepare(&st, ix->store, "SELECT max(committer_time) FROM commits")) < 0)
			goto out;
		if (pg_stmt_step(st) > 0)
			ix->now = pg_stmt_int(st, 0);
		pg_stmt_free(st);
		st = NULL;
		ix->have_now = 1;
	}
	now = ix->now;

	/* the classifier's table is optional: older databases may lack it */
	if (pg_store_prepare(&qcls, ix->store,
			     "SELECT cl.p_security, cl.bug_class, cl.priority, cl.level, cl.label FROM commits c"
			     " CROSS JOIN classifications cl WHERE c.sha = ? AND cl.commit_id = c.id") < 0) /* sha has no index */
		qcls = NULL;
	/*
	 * Every known security fix: the published CVEs, then the silent fixes the
	 * classifier flagged on mainline that no CVE names (id = the commit).  A
	 * merge is never a fix: its "change" is the merged commits, listed on
	 * their own.
	 */
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT c.id, c.cvss_severity, 0 FROM cves c WHERE c.state = 'published'"
				      " ORDER BY c.year, c.num, c.id")) < 0)
		goto out;
	if (qcls && pg_store_prepare(&silent, ix->store,
				     "SELECT cl.sha, NULL, 1 FROM classifications cl JOIN commits c ON c.id = cl.commit_id"
				     " WHERE cl.label = 1 AND c.on_mainline = 1 AND c.nparents < 2"
				     " AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = cl.sha) ORDER BY c.id") < 0)
		silent = NULL;
again:
	while ((rc = pg_stmt_step(st)) > 0) {
		const struct pg_affect__target *tg = NULL;
		const char *cve;
		const char *sev = pg_stmt_text(st, 1);
		struct pg_affect__eval best;
		const struct pg_affect__commit *F = NULL;
		const char *best_fix = NULL;

		snprintf(last_cve, sizeof(last_cve), "%s", pg_stmt_text(st, 0));
		is_silent = (int)pg_stmt_int(st, 2);
		if ((error = pg_affect__target(&tg, ix, last_cve)) < 0)
			goto next;
		cve = tg->cve;
		if ((error = pg_affect__verdict(&best, &best_fix, ix, view, tg)) < 0)
			goto next;
		if (!best_fix)
			goto next;
		pg_affect__commit(&F, ix, best_fix);
		switch (best.status) {
		case PG_AFFECT_AFFECTED: {
			json_t *en = entry(cve, best_fix, F, &best, sev, now);
			int na = 0;
			pg_json_set(en, "introducer_known", json_boolean(!best.assumed));
			nunknown_intro += best.assumed;
			add_classification(qcls, en, best_fix);
			pg_json_set(en, "kind", json_string(is_silent ? "silent" : "cve"));
			if (use_build)
				pg_json_set(en, "vex", pg_affect__build_verdict(&build, best_fix, &na));
			json_array_append_new(na ? notaff : unfixed, en);
			break;
		}
		case PG_AFFECT_FIXED:
			if (opts->include_fixed) {
				json_t *en = entry(cve, best_fix, F, &best, sev, now);
				add_classification(qcls, en, best_fix);
				pg_json_set(en, "kind", json_string(is_silent ? "silent" : "cve"));
				json_array_append_new(fixed, en);
			}
			break;
		case PG_AFFECT_UNKNOWN:
			json_array_append_new(unknown, entry(cve, best_fix, F, &best, sev, now));
			break;
		default:
			break;
		}
next:
		if (error < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if (silent && st != silent) {
		pg_stmt_free(st);
		st = silent;
		silent = NULL;
		goto again;
	}
	o = json_object();
	pg_json_set(o, "target", pg_json_string(target));
	pg_json_set(o, "branch", json_string(view->name));
	if (sha[0]) {
		pg_json_set(o, "commit", json_string(sha));
		pg_json_set(o, "contained_in", contained);
		contained = NULL;
	}
	pg_json_set(o, "base", view->series ? json_string(view->series) : json_null());
	{
		json_t *counts = json_object();
		pg_json_set(counts, "unfixed", json_integer((json_int_t)json_array_size(unfixed)));
		pg_json_set(counts, "introducer_unknown", json_integer(nunknown_intro));
		pg_json_set(counts, "unknown", json_integer((json_int_t)json_array_size(unknown)));
		pg_json_set(counts, "not_affected_by_config", json_integer((json_int_t)json_array_size(notaff)));
		pg_json_set(o, "counts", counts);
	}
	pg_json_set(o, "unfixed", unfixed);
	pg_json_set(o, "unknown", unknown);
	if (use_build) {
		pg_json_set(o, "config", pg_json_string(kconfig));
		pg_json_set(o, "not_affected_by_config", notaff);
	} else
		json_decref(notaff);
	if (opts->include_fixed)
		pg_json_set(o, "fixed", fixed);
	else
		json_decref(fixed);
	unfixed = unknown = fixed = notaff = NULL;
	*out = o;
out:
	json_decref(contained);
	json_decref(unfixed);
	json_decref(fixed);
	json_decref(unknown);
	json_decref(notaff);
	pg_stmt_free(qcls);
	pg_stmt_free(silent);
	pg_affect__build_release(&build);
	free(kconfig);
	pg_stmt_free(st);
	pg_affect__view_free(owned);
	return error;
}
