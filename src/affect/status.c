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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "affect/affect_int.h"
#include "patchgap/ingest.h"
#include "patchgap/kconfig.h"
#include "util/buf.h"
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

/* What status lists for one target, in its output's order. */
struct status_lists {
	json_t *unfixed, *fixed, *unknown, *notaff;
	json_int_t nunknown_intro;
};

static int lists_init(struct status_lists *l)
{
	l->unfixed = json_array();
	l->fixed = json_array();
	l->unknown = json_array();
	l->notaff = json_array();
	l->nunknown_intro = 0;
	return l->unfixed && l->fixed && l->unknown && l->notaff ? 0 : pg_error_setc(PG_ENOMEM, "out of memory");
}

static void lists_release(struct status_lists *l)
{
	json_decref(l->unfixed);
	json_decref(l->fixed);
	json_decref(l->unknown);
	json_decref(l->notaff);
	memset(l, 0, sizeof(*l));
}

/*
 * One target's verdict into the lists, the same whether it was computed or
 * read from a cell.  vex (consumed): the build verdict of an affected fix
 * under the .config, NULL without one; not_built: its code is not built.
 */
static void add_verdict(struct status_lists *l, pg_stmt *qcls, const char *cve, const char *fix,
			const struct pg_affect__commit *F, const struct pg_affect__eval *best, const char *sev,
			int64_t now, int is_silent, int include_fixed, json_t *vex, int not_built)
{
	json_t *en;

	switch (best->status) {
	case PG_AFFECT_AFFECTED:
		en = entry(cve, fix, F, best, sev, now);
		pg_json_set(en, "introducer_known", json_boolean(!best->assumed));
		l->nunknown_intro += best->assumed;
		add_classification(qcls, en, fix);
		pg_json_set(en, "kind", json_string(is_silent ? "silent" : "cve"));
		if (vex)
			pg_json_set(en, "vex", vex);
		json_array_append_new(not_built ? l->notaff : l->unfixed, en);
		return;
	case PG_AFFECT_FIXED:
		if (include_fixed) {
			en = entry(cve, fix, F, best, sev, now);
			add_classification(qcls, en, fix);
			pg_json_set(en, "kind", json_string(is_silent ? "silent" : "cve"));
			json_array_append_new(l->fixed, en);
		}
		break;
	case PG_AFFECT_UNKNOWN:
		json_array_append_new(l->unknown, entry(cve, fix, F, best, sev, now));
		break;
	default:
		break;
	}
	json_decref(vex);
}

/* The result object; takes the lists and contained. */
static json_t *status_result(const char *target, const char *branch, const char *series, const char *sha,
			     json_t *contained, const char *kconfig, int include_fixed, struct status_lists *l)
{
	json_t *o = json_object(), *counts = json_object();
	pg_json_set(o, "target", pg_json_string(target));
	pg_json_set(o, "branch", json_string(branch));
	if (sha && sha[0]) {
		pg_json_set(o, "commit", json_string(sha));
		pg_json_set(o, "contained_in", contained);
	} else
		json_decref(contained);
	pg_json_set(o, "base", series ? json_string(series) : json_null());
	pg_json_set(counts, "unfixed", json_integer((json_int_t)json_array_size(l->unfixed)));
	pg_json_set(counts, "introducer_unknown", json_integer(l->nunknown_intro));
	pg_json_set(counts, "unknown", json_integer((json_int_t)json_array_size(l->unknown)));
	pg_json_set(counts, "not_affected_by_config", json_integer((json_int_t)json_array_size(l->notaff)));
	pg_json_set(o, "counts", counts);
	pg_json_set(o, "unfixed", l->unfixed);
	pg_json_set(o, "unknown", l->unknown);
	if (kconfig) {
		pg_json_set(o, "config", pg_json_string(kconfig));
		pg_json_set(o, "not_affected_by_config", l->notaff);
	} else
		json_decref(l->notaff);
	if (include_fixed)
		pg_json_set(o, "fixed", l->fixed);
	else
		json_decref(l->fixed);
	memset(l, 0, sizeof(*l));
	return o;
}

/*
 * "now" for ages: the newest commit we know, so results do not depend on
 * the clock.  A scan of the commits table: once per index, not per branch.
 */
static int index_now(int64_t *out, pg_affect_index *ix)
{
	pg_stmt *st = NULL;
	int error;
	if (!ix->have_now) {
		if ((error = pg_store_prepare(&st, ix->store, "SELECT max(committer_time) FROM commits")) < 0)
			return error;
		if (pg_stmt_step(st) > 0)
			ix->now = pg_stmt_int(st, 0);
		pg_stmt_free(st);
		ix->have_now = 1;
	}
	*out = ix->now;
	return 0;
}

/*
 * Every known security fix, in status's order: the published CVEs, then the
 * silent fixes the classifier flagged on mainline that no CVE names (id =
 * the commit).  A merge is never a fix: its "change" is the merged commits,
 * listed on their own.  Columns: id, severity, silent, the record's content
 * hash.
 */
static int prepare_targets(pg_stmt **cves, pg_stmt **silent, pg_store *store)
{
	int error;
	*cves = *silent = NULL;
	error = pg_store_prepare(cves, store,
				 "SELECT c.id, c.cvss_severity, 0, c.content_hash FROM cves c"
				 " WHERE c.state = 'published' ORDER BY c.year, c.num, c.id");
	/* the classifier's table is optional: older databases may lack it */
	if (!error && pg_store_prepare(silent, store,
				       "SELECT cl.sha, NULL, 1, NULL FROM classifications cl JOIN commits c ON c.id = cl.commit_id"
				       " WHERE cl.label = 1 AND c.on_mainline = 1 AND c.nparents < 2"
				       " AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = cl.sha) ORDER BY c.id") < 0) {
		pg_error_clear();
		*silent = NULL;
	}
	return error;
}

static pg_stmt *prepare_classification(pg_store *store)
{
	pg_stmt *q = NULL;
	/* the classifier's table is optional: older databases may lack it */
	if (pg_store_prepare(&q, store,
			     "SELECT cl.p_security, cl.bug_class, cl.priority, cl.level, cl.label FROM commits c"
			     " CROSS JOIN classifications cl WHERE c.sha = ? AND cl.commit_id = c.id") < 0) /* sha has no index */
		return NULL;
	return q;
}

/* An id computing prints as it is (it upper-cases a record's id). */
static int canonical_cve_id(const char *id)
{
	if (strncmp(id, "CVE-", 4))
		return 0;
	for (; *id; id++)
		if (*id >= 'a' && *id <= 'z')
			return 0;
	return 1;
}

/* The generation counter of the cells (bumped by every update that changed one), "" when never written. */
static int cells_generation(char **out, pg_store *store)
{
	int error = pg_store_meta_get(out, store, PG_AFFECT_CELLS_GENERATION);
	if (error == PG_ENOTFOUND) {
		pg_error_clear();
		*out = pg_strdup("");
		return *out ? 0 : pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return error;
}

/* One target of status's list, as the stored path keeps it. */
struct stored_target {
	char *id, *severity, *hash;   /* owned; hash: the record's content hash, NULL for a silent fix */
	int silent;
};

/*
 * What the stored path reads once per index (as the index reads the views
 * once): the target list in status's order, and whether the shared inputs
 * are the ones the cells were computed from, checked at a generation and
 * stored stamp (checked again when either changes).
 */
struct stored_fix {
	char *subject;   /* owned */
	int64_t time;
	int found;       /* the commit is ingested */
};

struct pg_affect__stored {
	PG_VEC(struct stored_target) targets;
	pg_strmap tindex;    /* target id -> its index in targets + 1 */
	struct by_id { const char *id; size_t at; } *by_id;   /* the targets sorted by id (strcmp) */
	int have_targets;
	pg_oidmap fix_ids;   /* fix sha -> its index in fixes */
	PG_VEC(struct stored_fix) fixes;   /* what status prints of a fix commit */
	struct stored_fix other;           /* an abbreviated fix id, read each time */
	pg_stmt *q_fix;
	char *gen, *stamp;   /* what the inputs were checked at, or NULL */
	int current;
};

void pg_affect__stored_free(struct pg_affect__stored *S)
{
	if (!S)
		return;
	for (size_t i = 0; i < S->targets.len; i++) {
		free(S->targets.ptr[i].id);
		free(S->targets.ptr[i].severity);
		free(S->targets.ptr[i].hash);
	}
	pg_vec_release(&S->targets);
	pg_strmap_release(&S->tindex);
	free(S->by_id);
	for (size_t i = 0; i < S->fixes.len; i++)
		free(S->fixes.ptr[i].subject);
	pg_vec_release(&S->fixes);
	pg_oidmap_release(&S->fix_ids);
	free(S->other.subject);
	pg_stmt_free(S->q_fix);
	free(S->gen);
	free(S->stamp);
	free(S);
}

static int by_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_id *)a)->id, ((const struct by_id *)b)->id);
}

static int stored_targets(struct pg_affect__stored *S, pg_store *store)
{
	pg_stmt *st = NULL, *cves = NULL, *silent = NULL;
	int error, rc = 0;

	if (S->have_targets)
		return 0;
	if ((error = prepare_targets(&cves, &silent, store)) < 0)
		return error;
	for (st = cves; st && !error; st = st == cves ? silent : NULL) {
		while ((rc = pg_stmt_step(st)) > 0) {
			struct stored_target t;
			t.id = pg_strdup(pg_stmt_text(st, 0));
			t.severity = pg_stmt_text(st, 1) ? pg_strdup(pg_stmt_text(st, 1)) : NULL;
			t.hash = pg_stmt_text(st, 3) ? pg_strdup(pg_stmt_text(st, 3)) : NULL;
			t.silent = (int)pg_stmt_int(st, 2);
			if (!t.id || (pg_stmt_text(st, 1) && !t.severity) || (pg_stmt_text(st, 3) && !t.hash) ||
			    pg_vec_push(&S->targets, t) < 0) {
				free(t.id);
				free(t.severity);
				free(t.hash);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			if ((error = pg_strmap_set(&S->tindex, t.id, (void *)(uintptr_t)S->targets.len)) < 0)
				break;
		}
		if (!error && rc < 0)
			error = rc;
	}
	pg_stmt_free(cves);
	pg_stmt_free(silent);
	if (!error && S->targets.len && !(S->by_id = calloc(S->targets.len, sizeof(*S->by_id))))
		error = pg_error_setc(PG_ENOMEM, "out of memory");
	for (size_t i = 0; !error && i < S->targets.len; i++) {
		S->by_id[i].id = S->targets.ptr[i].id;
		S->by_id[i].at = i;
	}
	if (!error && S->targets.len)
		qsort(S->by_id, S->targets.len, sizeof(*S->by_id), by_id_cmp);
	S->have_targets = !error;
	return error;
}

/*
 * A fix commit's subject and date, once per index: the index's own commit
 * cache would also read its relations, which status does not print.
 */
static int stored_fix(const struct stored_fix **out, struct pg_affect__stored *S, pg_store *store, const char *sha)
{
	struct stored_fix f = { NULL, 0, 0 };
	git_oid id;
	uint32_t at = PG_OIDMAP_NONE;
	int cached, error, rc;

	*out = NULL;
	cached = strlen(sha) == 40 && git_oid_fromstr(&id, sha) == 0;
	if (cached && (at = pg_oidmap_get(&S->fix_ids, id.id)) != PG_OIDMAP_NONE) {
		*out = &S->fixes.ptr[at];
		return 0;
	}
	if (!S->q_fix && (error = pg_store_prepare(&S->q_fix, store,
						   "SELECT subject, committer_time FROM commits WHERE sha = ?")) < 0)
		return error;
	pg_stmt_bind_text(S->q_fix, 1, sha);
	if ((rc = pg_stmt_step(S->q_fix)) > 0) {
		f.found = 1;
		f.subject = pg_stmt_text(S->q_fix, 0) ? pg_strdup(pg_stmt_text(S->q_fix, 0)) : NULL;
		f.time = pg_stmt_int(S->q_fix, 1);
	}
	pg_stmt_reset(S->q_fix);
	if (rc < 0) {
		free(f.subject);
		return rc;
	}
	if (!cached) {
		free(S->other.subject);
		S->other = f;
		*out = &S->other;
		return 0;
	}
	if ((error = pg_vec_push(&S->fixes, f)) < 0) {
		free(f.subject);
		return error;
	}
	if ((error = pg_oidmap_set(&S->fix_ids, id.id, (uint32_t)(S->fixes.len - 1))) < 0)
		return error;
	*out = &S->fixes.ptr[S->fixes.len - 1];
	return 0;
}

/* A branch's cells, by target index (S->targets), their strings in one arena. */
enum { CR_KIND, CR_STATUS, CR_FIX, CR_INTRO, CR_INTRO_HOW, CR_FIXED_BY, CR_FIX_HOW, CR_REASON, CR_HASH,
       CR_CFG_STATUS, CR_CFG_VEX, CR_N };
#define CR_NULL ((size_t)-1)
struct cell_row {
	size_t s[CR_N];   /* offsets into the arena, CR_NULL for NULL */
	int plain, introducer_known;
	double confidence;
};
struct branch_cells {
	PG_VEC(struct cell_row) rows;   /* one per target */
	pg_buf arena;
};

static void branch_cells_release(struct branch_cells *c)
{
	pg_vec_release(&c->rows);
	pg_buf_release(&c->arena);
}

static const char *cr(const struct branch_cells *c, const struct cell_row *r, int k)
{
	return r->s[k] == CR_NULL ? NULL : c->arena.ptr + r->s[k];
}

static int cr_put(struct branch_cells *c, struct cell_row *r, int k, const char *v)
{
	if (!v) {
		r->s[k] = CR_NULL;
		return 0;
	}
	r->s[k] = c->arena.len;
	return pg_buf_put(&c->arena, v, strlen(v) + 1);
}

/*
 * The plain cells of a branch and, under kconfig, its config cells.  The
 * plain ones come from one range of the covering index cells_read (the
 * table is in target order: a branch's rows are spread over all of it);
 * cells of targets no longer known are skipped, no output depends on them.
 */
static int branch_cells_load(struct branch_cells *c, const struct pg_affect__stored *S, pg_store *store,
			     const char *branch, const char *kconfig)
{
	static const int plain[] = { CR_KIND, CR_STATUS, CR_FIX, CR_INTRO, CR_INTRO_HOW, CR_FIXED_BY, CR_FIX_HOW,
				     CR_REASON, CR_HASH };
	static const char *const q[] = {
		"SELECT id, kind, status, fix, introducer, introducer_how, fixed_by, fix_how, reason, cve_hash,"
		" introducer_known, confidence FROM cells WHERE branch = ? AND config = '' ORDER BY id",
		"SELECT id, status, vex FROM cells WHERE branch = ? AND config = ?",
	};
	struct cell_row z;
	pg_stmt *st = NULL;
	int error = 0, rc = 0;

	for (int k = 0; k < CR_N; k++)
		z.s[k] = CR_NULL;
	z.plain = z.introducer_known = 0;
	z.confidence = 0;
	for (size_t i = 0; i < S->targets.len && !error; i++)
		error = pg_vec_push(&c->rows, z);
	for (int k = 0; k < (kconfig ? 2 : 1) && !error; k++) {
		if ((error = pg_store_prepare(&st, store, q[k])) < 0)
			break;
		pg_stmt_bind_text(st, 1, branch);
		if (k)
			pg_stmt_bind_text(st, 2, kconfig);
		size_t j = 0;   /* the plain cells come in id order: walk the sorted targets along */
		while ((rc = pg_stmt_step(st)) > 0) {
			const char *id = pg_stmt_text(st, 0);
			uintptr_t at = 0;
			struct cell_row *r;
			while (!k && j < S->targets.len && strcmp(S->by_id[j].id, id) < 0)
				j++;
			if (!k && j < S->targets.len && !strcmp(S->by_id[j].id, id))
				at = S->by_id[j].at + 1;
			else   /* a config cell, or an order other than strcmp's (a collation) */
				at = (uintptr_t)pg_strmap_get(&S->tindex, id, NULL);
			if (!at)
				continue;
			r = &c->rows.ptr[at - 1];
			if (!k) {
				r->plain = 1;
				for (size_t f = 0; f < sizeof(plain) / sizeof(plain[0]) && !error; f++)
					error = cr_put(c, r, plain[f], pg_stmt_text(st, 1 + (int)f));
				r->introducer_known = (int)pg_stmt_int(st, 10);
				r->confidence = pg_stmt_isnull(st, 11) ? 0 : pg_stmt_double(st, 11);
			} else if ((error = cr_put(c, r, CR_CFG_STATUS, pg_stmt_text(st, 1))) == 0) {
				error = cr_put(c, r, CR_CFG_VEX, pg_stmt_text(st, 2));
			}
			if (error < 0)
				break;
		}
		pg_stmt_free(st);
		st = NULL;
		if (!error && rc < 0)
			error = rc;
	}
	return error;
}

/*
 * status of a tracked branch's head read from the stored cells, when they
 * provably are what computing gives (doc/internals/affect.md, "status"):
 *  - the shared inputs are the ones the cells were computed from
 *    (pg_affect__cells_inputs: no commit ingested since, every tracked
 *    branch's head, rows, kind and base the same, no branch added or gone);
 *  - every target (the published records, the flagged silent fixes) has
 *    its cell on the branch, a record's cell from its current content hash;
 *  - under a .config, cell_configs has it at the branch's head with the
 *    file's current content hash, and every affected fix its config cell;
 *  - no cells update committed while reading (the generation).
 * The fields cells do not hold (subject, date, severity, classification)
 * are read as computing reads them.  Returns 1 when *out is built, 0 when
 * the cells cannot answer (compute instead), < 0 on error.
 */
static int status_stored(json_t **out, pg_affect_index *ix, const char *target, const pg_status_options *opts)
{
	pg_store *s = ix->store;
	pg_stmt *st = NULL, *qcls = NULL;
	struct status_lists l = { 0 };
	struct branch_cells cells = { PG_VEC_INIT, PG_BUF_INIT };
	struct pg_affect__stored *S;
	char *head = NULL, *series = NULL, *kconfig = NULL, *stored = NULL, *gen_before = NULL, *gen_after = NULL;
	char stamp[17], defs[17], cfg_hash[17];
	int64_t now = 0;
	int error = 0, rc, current = 0;

	*out = NULL;
	if (!ix->stored && !(ix->stored = calloc(1, sizeof(*ix->stored))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	S = ix->stored;
	if ((error = pg_store_prepare(&st, s, "SELECT head_sha, base_tag, config_path FROM branches"
					    " WHERE name = ? AND head_sha IS NOT NULL")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, target);
	if ((rc = pg_stmt_step(st)) > 0) {
		pg_kver base;
		head = pg_strdup(pg_stmt_text(st, 0));
		if (pg_stmt_text(st, 1) && pg_kver_parse(&base, pg_stmt_text(st, 1)) == 0) {
			char b[32];
			snprintf(b, sizeof(b), "%d.%d", base.major, base.minor);
			series = pg_strdup(b);
		}
		if (opts->kconfig)
			kconfig = pg_strdup(opts->kconfig);
		else if (!opts->no_kconfig && pg_stmt_text(st, 2))
			kconfig = pg_strdup(pg_stmt_text(st, 2));
	}
	pg_stmt_free(st);
	st = NULL;
	if (rc <= 0) {
		error = rc;
		goto out;
	}
	/* the build is evaluated in a repository: without one, computing reports the error */
	if (kconfig && !opts->repository)
		goto out;
	if ((error = cells_generation(&gen_before, s)) < 0)
		goto out;
	error = pg_store_meta_get(&stored, s, PG_AFFECT__STAMP_KEY);
	if (error == PG_ENOTFOUND) {
		pg_error_clear();
		error = 0;
		goto out;
	}
	if (error < 0)
		goto out;
	if (!S->gen || strcmp(S->gen, gen_before) || strcmp(S->stamp, stored)) {
		if ((error = pg_affect__cells_inputs(stamp, defs, s)) < 0)
			goto out;
		free(S->gen);
		free(S->stamp);
		S->gen = pg_strdup(gen_before);
		S->stamp = pg_strdup(stored);
		S->current = !strcmp(stamp, stored);
		if (!S->gen || !S->stamp) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!S->current)
		goto out;
	if (kconfig) {
		/* an unreadable .config: computing reports it */
		if (pg_affect__config_hash(cfg_hash, kconfig) < 0) {
			pg_error_clear();
			goto out;
		}
		if ((error = pg_store_prepare(&st, s, "SELECT 1 FROM cell_configs"
						    " WHERE branch = ? AND config = ? AND head = ? AND config_hash = ?")) < 0)
			goto out;
		pg_stmt_bind_text(st, 1, target);
		pg_stmt_bind_text(st, 2, kconfig);
		pg_stmt_bind_text(st, 3, head);
		pg_stmt_bind_text(st, 4, cfg_hash);
		rc = pg_stmt_step(st);
		pg_stmt_free(st);
		st = NULL;
		if (rc <= 0) {
			error = rc;
			goto out;
		}
	}
	if ((error = stored_targets(S, s)) < 0 || (error = branch_cells_load(&cells, S, s, target, kconfig)) < 0 ||
	    (error = index_now(&now, ix)) < 0 || (error = lists_init(&l)) < 0)
		goto out;
	qcls = prepare_classification(s);
	for (size_t i = 0; i < S->targets.len; i++) {
		const struct stored_target *t = &S->targets.ptr[i];
		const struct cell_row *r = &cells.rows.ptr[i];
		const struct stored_fix *sf = NULL;
		struct pg_affect__commit F;
		const char *fix, *sn, *cfg_status = NULL;
		struct pg_affect__eval e;
		json_t *vex = NULL;

		/* no cell, or one of another content of the record: compute */
		if (!r->plain || strcmp(cr(&cells, r, CR_KIND), t->silent ? "silent" : "cve") ||
		    (!t->silent && (!t->hash || !cr(&cells, r, CR_HASH) || strcmp(t->hash, cr(&cells, r, CR_HASH)) ||
				    !canonical_cve_id(t->id))))
			goto out;
		if (!(fix = cr(&cells, r, CR_FIX)))
			continue; /* no fix commit known: status lists nothing */
		memset(&e, 0, sizeof(e));
		sn = cr(&cells, r, CR_STATUS);
		e.status = !strcmp(sn, "affected") ? PG_AFFECT_AFFECTED : !strcmp(sn, "fixed") ? PG_AFFECT_FIXED :
			   !strcmp(sn, "not_affected") ? PG_AFFECT_NOT_AFFECTED : PG_AFFECT_UNKNOWN;
		/* an evaluation's how strings are static: non-NULL says "set", the text is printed */
		if ((e.vuln_how = cr(&cells, r, CR_INTRO_HOW)))
			snprintf(e.vuln_sha, sizeof(e.vuln_sha), "%s", cr(&cells, r, CR_INTRO) ? cr(&cells, r, CR_INTRO) : "");
		if ((e.fix_how = cr(&cells, r, CR_FIX_HOW))) {
			snprintf(e.fix_sha, sizeof(e.fix_sha), "%s", cr(&cells, r, CR_FIXED_BY) ? cr(&cells, r, CR_FIXED_BY) : "");
			e.confidence = r->confidence;
		}
		snprintf(e.reason, sizeof(e.reason), "%s", cr(&cells, r, CR_REASON));
		/* at a branch head, an affected fix with no introducer known is the CNA convention's (assumed) */
		e.assumed = e.status == PG_AFFECT_AFFECTED && !r->introducer_known;
		if (kconfig && e.status == PG_AFFECT_AFFECTED) {
			const char *v = cr(&cells, r, CR_CFG_VEX);
			if (!(cfg_status = cr(&cells, r, CR_CFG_STATUS)) || !v ||
			    pg_json_parse(&vex, v, strlen(v), "stored vex") < 0) {
				pg_error_clear();
				goto out;
			}
		}
		if ((error = stored_fix(&sf, S, s, fix)) < 0) {
			json_decref(vex);
			goto out;
		}
		memset(&F, 0, sizeof(F));
		F.subject = sf->subject;
		F.time = sf->time;
		add_verdict(&l, qcls, t->silent ? NULL : t->id, fix, sf->found ? &F : NULL, &e, t->severity, now, t->silent,
			    opts->include_fixed, vex, cfg_status && !strcmp(cfg_status, "not_affected"));
	}
	/* an update committed while we read: what we read may mix two states */
	if ((error = cells_generation(&gen_after, s)) < 0 || strcmp(gen_before, gen_after))
		goto out;
	*out = status_result(target, target, series, NULL, NULL, kconfig, opts->include_fixed, &l);
	current = 1;
out:
	lists_release(&l);
	branch_cells_release(&cells);
	pg_stmt_free(qcls);
	free(head);
	free(series);
	free(kconfig);
	free(stored);
	free(gen_before);
	free(gen_after);
	return error < 0 ? error : current;
}

int pg_affect_status(json_t **out, pg_affect_index *ix, const char *target, const pg_status_options *opts)
{
	static const pg_status_options defaults = PG_STATUS_OPTIONS_INIT;
	struct pg_affect__view *view = NULL, *owned = NULL, cutview;
	pg_stmt *st = NULL;
	json_t *contained = NULL;
	struct status_lists l = { 0 };
	char sha[41] = "", last_cve[64] = "", *kconfig = NULL;
	struct pg_affect__build build = { 0 };
	int use_build = 0, is_silent = 0;
	pg_stmt *qcls = NULL, *silent = NULL;
	int error = 0, rc;
	int64_t now = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!opts->recompute && (error = status_stored(out, ix, target, opts)) != 0)
		return error < 0 ? error : 0;
	/* every known fix is evaluated: resolve them all at once, not one query each */
	if ((error = pg_affect__index_load(ix)) < 0 || (error = pg_affect__targets_preload(ix)) < 0 ||
	    (error = lists_init(&l)) < 0)
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
	if ((error = index_now(&now, ix)) < 0)
		goto out;

	qcls = prepare_classification(ix->store);
	if ((error = prepare_targets(&st, &silent, ix->store)) < 0)
		goto out;
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
		{
			json_t *vex = NULL;
			int na = 0;
			if (use_build && best.status == PG_AFFECT_AFFECTED)
				vex = pg_affect__build_verdict(&build, best_fix, &na);
			add_verdict(&l, qcls, cve, best_fix, F, &best, sev, now, is_silent, opts->include_fixed, vex, na);
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
	*out = status_result(target, view->name, view->series, sha, contained, use_build ? kconfig : NULL,
			     opts->include_fixed, &l);
	contained = NULL;
out:
	json_decref(contained);
	lists_release(&l);
	pg_stmt_free(qcls);
	pg_stmt_free(silent);
	pg_affect__build_release(&build);
	free(kconfig);
	pg_stmt_free(st);
	pg_affect__view_free(owned);
	return error;
}
