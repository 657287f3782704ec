/*
 * dyad.c - `affected`: vulnerable/fixed pairs of one fix or CVE over every
 * tracked branch, in the CNA dyad's format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "affect/affect_int.h"
#include "util/json.h"
#include "patchgap/ingest.h"
#include "util/banned.h"

void pg_affect__target_free(struct pg_affect__target *t)
{
	if (!t)
		return;
	pg_affect__strs_release(&t->fixes);
	pg_affect__strs_release(&t->intro);
	free(t->cve);
	free(t);
}

void pg_affect__strs_release(pg_affect__strs *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->ptr[i]);
	pg_vec_release(s);
}

static int strs_add(pg_affect__strs *s, const char *v)
{
	char *d;
	for (size_t i = 0; i < s->len; i++)
		if (!strcmp(s->ptr[i], v))
			return 0;
	if (!(d = pg_strdup(v)))
		return PG_ENOMEM;
	if (pg_vec_push(s, d) < 0) {
		free(d);
		return PG_ENOMEM;
	}
	return 0;
}

static int add_words(pg_affect__strs *s, const char *words)
{
	char buf[48];
	int error = 0;
	while (words && *words && !error) {
		size_t n = strcspn(words, " ");
		if (n < sizeof(buf)) {
			memcpy(buf, words, n);
			buf[n] = '\0';
			error = strs_add(s, buf);
		}
		words += n + (words[n] == ' ');
	}
	return error;
}

static int is_cve_id(const char *id)
{
	return !strncasecmp(id, "CVE-", 4);
}

/*
 * The mainline fix commits of a record from its cve_fixes rows, in the
 * order (sha1 rows first, then by sha): the .sha1 list when the record has
 * one; otherwise (CVE JSON only) the range ends that are on mainline, since
 * the others are the stable branches' copies.
 */
struct fix_pick {
	int have_sha1;
	pg_affect__strs other, unknown;
};

static int fix_pick_add(pg_affect__strs *fixes, struct fix_pick *p, const char *sha, const char *src, int on_mainline)
{
	if (!strcmp(src, "sha1")) {
		p->have_sha1 = 1;
		return strs_add(fixes, sha);
	}
	if (!p->have_sha1)
		return strs_add(on_mainline ? &p->other : &p->unknown, sha);
	return 0;
}

static int fix_pick_finish(pg_affect__strs *fixes, struct fix_pick *p)
{
	int error = 0;
	for (size_t i = 0; fixes && !error && !p->have_sha1 && i < p->other.len; i++)
		error = strs_add(fixes, p->other.ptr[i]);
	for (size_t i = 0; fixes && !error && !p->have_sha1 && !p->other.len && i < p->unknown.len; i++)
		error = strs_add(fixes, p->unknown.ptr[i]);
	pg_affect__strs_release(&p->other);
	pg_affect__strs_release(&p->unknown);
	memset(p, 0, sizeof(*p));
	return error;
}

/* No explicit introducer: the fixes' Fixes: targets, else what they revert. */
static int intro_fallback(pg_affect__strs *intro, pg_affect_index *ix, const pg_affect__strs *fixes)
{
	int error = 0;
	if (intro->len)
		return 0;
	for (size_t i = 0; i < fixes->len && !error; i++) {
		const struct pg_affect__commit *c;
		if ((error = pg_affect__commit(&c, ix, fixes->ptr[i])) < 0 || !c)
			continue;
		error = add_words(intro, c->fixes);
	}
	for (size_t i = 0; i < fixes->len && !error && intro->len == 0; i++) {
		const struct pg_affect__commit *c;
		if ((error = pg_affect__commit(&c, ix, fixes->ptr[i])) < 0 || !c)
			continue;
		error = add_words(intro, c->reverts);
	}
	return error;
}

static void upcase_id(char *cve, size_t n, const char *id)
{
	snprintf(cve, n, "%s", id);
	for (char *p = cve; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

/* A statement of the index, prepared the first time it is needed (resolving 1,000 targets prepares it once). */
static int ix_stmt(pg_stmt **st, pg_affect_index *ix, const char *sql)
{
	if (*st)
		return 0;
	return pg_store_prepare(st, ix->store, sql);
}

int pg_affect__resolve_target(pg_affect__strs *fixes, pg_affect__strs *intro, char **cve_out,
			      pg_affect_index *ix, const char *id)
{
	int error = 0, rc;
	*cve_out = NULL;
	if (is_cve_id(id)) {
		pg_stmt *st;
		char cve[64];
		int state_ok = 0;
		struct fix_pick pick = { 0, PG_VEC_INIT, PG_VEC_INIT };
		upcase_id(cve, sizeof(cve), id);
		if ((error = ix_stmt(&ix->q_cve_state, ix, "SELECT state FROM cves WHERE id = ?")) < 0)
			return error;
		st = ix->q_cve_state;
		pg_stmt_bind_text(st, 1, cve);
		rc = pg_stmt_step(st);
		state_ok = rc > 0;
		pg_stmt_reset(st);
		if (rc < 0)
			return rc;
		if (!state_ok)
			return pg_error_setc(PG_ENOTFOUND, "%s is not in the database (run 'patchgap cve import')", cve);
		if ((error = ix_stmt(&ix->q_cve_fixes, ix,
				     "SELECT f.sha, f.source, coalesce(c.on_mainline, 0) FROM cve_fixes f"
				     " LEFT JOIN commits c ON c.sha = f.sha WHERE f.cve_id = ?"
				     " ORDER BY CASE f.source WHEN 'sha1' THEN 0 ELSE 1 END, f.sha")) < 0)
			return error;
		st = ix->q_cve_fixes;
		pg_stmt_bind_text(st, 1, cve);
		while (!error && (rc = pg_stmt_step(st)) > 0)
			error = fix_pick_add(fixes, &pick, pg_stmt_text(st, 0), pg_stmt_text(st, 1), (int)pg_stmt_int(st, 2));
		if (!error)
			error = fix_pick_finish(fixes, &pick);
		else
			fix_pick_finish(fixes, &pick);
		pg_stmt_reset(st);
		if (!error && rc < 0)
			error = rc;
		if (error)
			return error;
		if ((error = ix_stmt(&ix->q_cve_intro, ix,
				     "SELECT DISTINCT sha FROM cve_introducers WHERE cve_id = ?"
				     " AND source IN ('vulnerable', 'dyad_override') ORDER BY sha")) < 0)
			return error;
		st = ix->q_cve_intro;
		pg_stmt_bind_text(st, 1, cve);
		while (!error && (rc = pg_stmt_step(st)) > 0)
			if (pg_str_is_sha(pg_stmt_text(st, 0)))
				error = strs_add(intro, pg_stmt_text(st, 0));
		pg_stmt_reset(st);
		if (!error && rc < 0)
			error = rc;
		if (!(*cve_out = pg_strdup(cve)))
			error = PG_ENOMEM;
	} else {
		char sha[41];
		if ((error = pg_ingest_resolve(sha, ix->store, id)) < 0)
			return error;
		error = strs_add(fixes, sha);
	}
	if (!error)
		error = intro_fallback(intro, ix, fixes);
	return error;
}

/*
 * Every published CVE's target in three queries (the records, their fix
 * rows, their introducer rows, each grouped by record), the same lists
 * pg_affect__resolve_target() builds one record at a time.
 */
int pg_affect__targets_preload(pg_affect_index *ix)
{
	pg_stmt *st = NULL;
	struct pg_affect__target *t = NULL;
	struct fix_pick pick = { 0, PG_VEC_INIT, PG_VEC_INIT };
	pg_strmap fresh = PG_STRMAP_INIT;   /* ids resolved here (not already cached) */
	char cur[64] = "";
	int error, rc, found;

	if (ix->preloaded)
		return 0;
	if ((error = pg_affect__commits_preload(ix)) < 0)
		return error;
	if ((error = pg_store_prepare(&st, ix->store, "SELECT id FROM cves WHERE state = 'published'")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		const char *id = pg_stmt_text(st, 0);
		char cve[64];
		if (!is_cve_id(id))
			continue;
		pg_strmap_get(&ix->targets, id, &found);
		if (found)
			continue;
		upcase_id(cve, sizeof(cve), id);
		if (!(t = calloc(1, sizeof(*t))) || !(t->cve = pg_strdup(cve))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		if ((error = pg_strmap_set(&ix->targets, id, t)) < 0)
			break;
		if ((error = pg_strmap_set(&fresh, cve, t)) < 0) {
			t = NULL; /* owned by the index */
			break;
		}
		t = NULL;
	}
	pg_affect__target_free(t); /* only set on a failure before it was stored */
	t = NULL;
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0)
		goto out;
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT f.cve_id, f.sha, f.source, coalesce(c.on_mainline, 0) FROM cve_fixes f"
				      " JOIN cves v ON v.id = f.cve_id LEFT JOIN commits c ON c.sha = f.sha"
				      " WHERE v.state = 'published'"
				      " ORDER BY f.cve_id, CASE f.source WHEN 'sha1' THEN 0 ELSE 1 END, f.sha")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		if (strcmp(cur, pg_stmt_text(st, 0))) {
			if (t && (error = fix_pick_finish(&t->fixes, &pick)) < 0)
				break;
			snprintf(cur, sizeof(cur), "%s", pg_stmt_text(st, 0));
			t = pg_strmap_get(&fresh, cur, NULL);
		}
		if (t && (error = fix_pick_add(&t->fixes, &pick, pg_stmt_text(st, 1), pg_stmt_text(st, 2),
					       (int)pg_stmt_int(st, 3))) < 0)
			break;
	}
	if (!error && t)
		error = fix_pick_finish(&t->fixes, &pick);
	fix_pick_finish(NULL, &pick);
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0)
		goto out;
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT DISTINCT i.cve_id, i.sha FROM cve_introducers i JOIN cves v ON v.id = i.cve_id"
				      " WHERE v.state = 'published' AND i.source IN ('vulnerable', 'dyad_override')"
				      " ORDER BY i.cve_id, i.sha")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		t = pg_strmap_get(&fresh, pg_stmt_text(st, 0), NULL);
		if (t && pg_str_is_sha(pg_stmt_text(st, 1)) && (error = strs_add(&t->intro, pg_stmt_text(st, 1))) < 0)
			break;
	}
	pg_stmt_free(st);
	st = NULL;
	if (error < 0 || rc < 0)
		goto out;
	{
		size_t it = 0;
		void *val;
		while (!error && pg_strmap_next(&fresh, &it, NULL, &val)) {
			t = val;
			error = intro_fallback(&t->intro, ix, &t->fixes);
		}
	}
	ix->preloaded = error == 0;
out:
	pg_strmap_release(&fresh);
	pg_stmt_free(st);
	return error < 0 ? error : rc < 0 ? rc : 0;
}

static json_t *eval_json(const struct pg_affect__eval *e)
{
	json_t *o = json_object();
	pg_json_set(o, "status", json_string(pg_affect__status_name(e->status)));
	pg_json_set(o, "reason", pg_json_string(e->reason));
	if (e->status == PG_AFFECT_AFFECTED || e->status == PG_AFFECT_FIXED) {
		pg_json_set(o, "vuln_version", json_string(e->vuln_version));
		pg_json_set(o, "vuln_sha", json_string(e->vuln_sha));
		pg_json_set(o, "vuln_how", json_string(e->vuln_how ? e->vuln_how : "unknown"));
		pg_json_set(o, "fix_version", json_string(e->fix_version));
		pg_json_set(o, "fix_sha", json_string(e->fix_sha));
		pg_json_set(o, "fix_released", json_boolean(e->fix_released));
		pg_json_set(o, "fix_how", e->fix_how ? json_string(e->fix_how) : json_null());
		pg_json_set(o, "confidence", json_real(e->confidence));
	}
	return o;
}

/*
 * dyad's lines.  Each (fix commit, upstream branch) pair gives at most one
 * line, evaluated with dyad's versions (PG_AFFECT__DYAD):
 *  - a fixed pair prints only when its fix is released; on mainline only the
 *    first fix in history order prints a line for a given introducer;
 *  - an unfixed pair prints only when the bug entered the branch by a
 *    backport (a mainline-introduced bug on a branch that never got the fix,
 *    typically end of life, has no line), and only when no other fix of the
 *    record gives that branch a fixed line;
 *  - fixed lines come first ordered by fix version, then the unfixed ones by
 *    vulnerable version, as the CNA's .dyad files list them.
 */
struct dyad_line {
	pg_kver key;
	int fixed;
	int64_t branch_id;
	char vuln_sha[41];
	char text[160];
};
typedef PG_VEC(struct dyad_line) dyad_lines;

static int line_cmp(const void *pa, const void *pb)
{
	const struct dyad_line *a = pa, *b = pb;
	int c;
	if (a->fixed != b->fixed)
		return a->fixed ? -1 : 1;
	if ((c = pg_kver_cmp(&a->key, &b->key)) != 0)
		return c;
	return strcmp(a->text, b->text);
}

static int line_add(dyad_lines *lines, const struct pg_affect__view *view, const struct pg_affect__eval *e, int fixed)
{
	struct dyad_line l;
	memset(&l, 0, sizeof(l));
	l.fixed = fixed;
	l.branch_id = view->branch_id;
	snprintf(l.vuln_sha, sizeof(l.vuln_sha), "%s", e->vuln_sha);
	snprintf(l.text, sizeof(l.text), "%s:%s:%s:%s", e->vuln_version, e->vuln_sha, e->fix_version, e->fix_sha);
	if (pg_kver_parse(&l.key, fixed ? e->fix_version : e->vuln_version) < 0)
		memset(&l.key, 0, sizeof(l.key));
	for (size_t i = 0; i < lines->len; i++)
		if (!strcmp(lines->ptr[i].text, l.text))
			return 0;
	return pg_vec_push(lines, l);
}

static int fix_order_cmp(pg_affect_index *ix, const char *a, const char *b)
{
	const struct pg_affect__commit *ca = NULL, *cb = NULL;
	pg_affect__commit(&ca, ix, a);
	pg_affect__commit(&cb, ix, b);
	if (!ca || !cb)
		return ca ? -1 : cb ? 1 : 0;
	return ca->order < cb->order ? -1 : ca->order > cb->order;
}

/* Does a mainline fix before fixes[f] (history order) come after introducer sha? */
static int closed_before(pg_affect_index *ix, const char *sha, const char *const *fixes, size_t f)
{
	const struct pg_affect__commit *I = NULL, *F = NULL, *G = NULL;
	if (pg_affect__commit(&I, ix, sha) < 0 || !I || !I->on_mainline ||
	    pg_affect__commit(&F, ix, fixes[f]) < 0 || !F || !F->on_mainline)
		return 0;
	for (size_t g = 0; g < f; g++)
		if (pg_affect__commit(&G, ix, fixes[g]) == 0 && G && G->on_mainline &&
		    G->order > I->order && G->order < F->order)
			return 1;
	return 0;
}

int pg_affect__dyad_lines(json_t *out, pg_affect_index *ix, const pg_affect__strs *fixes_in, const pg_affect__strs *intro)
{
	dyad_lines lines = PG_VEC_INIT, open = PG_VEC_INIT;
	PG_VEC(const char *) fixes = PG_VEC_INIT;
	pg_strmap used = PG_STRMAP_INIT; /* mainline introducers that already have their line */
	int error = 0;

	/* history order (insertion sort: a record lists a handful of fixes) */
	for (size_t i = 0; i < fixes_in->len && !error; i++) {
		size_t j;
		if ((error = pg_vec_push(&fixes, fixes_in->ptr[i])) < 0)
			break;
		for (j = fixes.len - 1; j > 0 && fix_order_cmp(ix, fixes.ptr[j - 1], fixes.ptr[j]) > 0; j--) {
			const char *t = fixes.ptr[j];
			fixes.ptr[j] = fixes.ptr[j - 1];
			fixes.ptr[j - 1] = t;
		}
	}
	for (size_t v = 0; v < ix->views.len && !error; v++) {
		const struct pg_affect__view *view = ix->views.ptr[v];
		if (!strcmp(view->kind, "vendor"))
			continue; /* dyad lines describe upstream lines of development only */
		for (size_t f = 0; f < fixes.len && !error; f++) {
			struct pg_affect__eval e;
			const char *mine[64];
			size_t nmine = 0;
			/*
			 * An introducer that an earlier mainline fix of the record
			 * already closed is not this fix's (two introducers, two
			 * fixes: each fix pairs with the bug it closes).
			 */
			for (size_t i = 0; i < intro->len && nmine < 64; i++)
				if (!closed_before(ix, intro->ptr[i], fixes.ptr, f))
					mine[nmine++] = intro->ptr[i];
			if ((error = pg_affect__eval_ex(&e, ix, view, fixes.ptr[f], nmine ? mine : (const char *const *)intro->ptr,
							nmine ? nmine : intro->len, PG_AFFECT__DYAD)) < 0)
				break;
			if (e.status == PG_AFFECT_FIXED && e.fix_released) {
				if (view->mainline) {
					int found;
					pg_strmap_get(&used, e.vuln_sha, &found);
					if (found)
						continue;
					if ((error = pg_strmap_set(&used, e.vuln_sha, (void *)1)) < 0)
						break;
				}
				error = line_add(&lines, view, &e, 1);
			} else if ((e.status == PG_AFFECT_AFFECTED || e.status == PG_AFFECT_FIXED) && e.vuln_how &&
				   !strcmp(e.vuln_how, "backport")) {
				/* fixed only by an unreleased commit: still open in every release */
				snprintf(e.fix_version, sizeof(e.fix_version), "0");
				snprintf(e.fix_sha, sizeof(e.fix_sha), "0");
				error = line_add(&open, view, &e, 0);
			}
		}
	}
	for (size_t i = 0; i < open.len && !error; i++) {
		int shadowed = 0;
		for (size_t j = 0; j < lines.len && !shadowed; j++)
			shadowed = lines.ptr[j].branch_id == open.ptr[i].branch_id;
		if (!shadowed)
			error = pg_vec_push(&lines, open.ptr[i]);
	}
	if (!error) {
		if (lines.len)
			qsort(lines.ptr, lines.len, sizeof(lines.ptr[0]), line_cmp);
		for (size_t i = 0; i < lines.len; i++)
			json_array_append_new(out, json_string(lines.ptr[i].text));
	}
	pg_vec_release(&lines);
	pg_vec_release(&open);
	pg_vec_release(&fixes);
	pg_strmap_release(&used);
	return error;
}

int pg_affect_fix(json_t **out, pg_affect_index *ix, const char *id)
{
	pg_affect__strs fixes = PG_VEC_INIT, intro = PG_VEC_INIT;
	char *cve = NULL;
	json_t *o = NULL, *br, *dyad, *jf, *ji;
	int error;

	*out = NULL;
	if ((error = pg_affect__index_load(ix)) < 0 ||
	    (error = pg_affect__resolve_target(&fixes, &intro, &cve, ix, id)) < 0)
		goto out;
	o = json_object();
	br = json_object();
	dyad = json_array();
	jf = json_array();
	ji = json_array();
	for (size_t i = 0; i < fixes.len; i++)
		json_array_append_new(jf, json_string(fixes.ptr[i]));
	for (size_t i = 0; i < intro.len; i++)
		json_array_append_new(ji, json_string(intro.ptr[i]));
	pg_json_set(o, "id", json_string(cve ? cve : fixes.ptr[0]));
	/* owned by o from here on (borrowed below), so an error frees them too */
	pg_json_set(o, "branches", br);
	/* "branches" is patchgap's own view (every tracked branch, guesses); "dyad" is the CNA's */
	pg_json_set(o, "branches_view", json_string("patchgap"));
	pg_json_set(o, "dyad", dyad);
	pg_json_set(o, "fixes", jf);
	pg_json_set(o, "introducers", ji);
	if (!fixes.len) {
		pg_json_set(o, "unknown_reason", json_string("the CVE names no fix commit"));
	}
	/* stable/vendor views first, mainline last (dyad's order) */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t v = 0; v < ix->views.len; v++) {
			const struct pg_affect__view *view = ix->views.ptr[v];
			struct pg_affect__eval best, e;
			int have = 0;
			if ((pass == 0) == view->mainline)
				continue;
			memset(&best, 0, sizeof(best));
			for (size_t f = 0; f < fixes.len; f++) {
				if ((error = pg_affect__eval(&e, ix, view, fixes.ptr[f], (const char *const *)intro.ptr,
							     intro.len)) < 0)
					goto out;
				/* several fix commits: prefer the one that says most (fixed > affected > other) */
				if (!have || (e.status == PG_AFFECT_FIXED && best.status != PG_AFFECT_FIXED) ||
				    (e.status == PG_AFFECT_AFFECTED && best.status != PG_AFFECT_FIXED &&
				     best.status != PG_AFFECT_AFFECTED)) {
					best = e;
					have = 1;
				}
			}
			if (!have) {
				best.status = PG_AFFECT_UNKNOWN;
				snprintf(best.reason, sizeof(best.reason), "no fix commit known");
			}
			pg_json_set(br, view->name, eval_json(&best));
		}
	}
	if ((error = pg_affect__dyad_lines(dyad, ix, &fixes, &intro)) < 0)
		goto out;
	*out = o;
	o = NULL;
out:
	json_decref(o);
	free(cve);
	pg_affect__strs_release(&fixes);
	pg_affect__strs_release(&intro);
	return error;
}

int pg_affect__target(const struct pg_affect__target **out, pg_affect_index *ix, const char *id)
{
	struct pg_affect__target *t;
	int found, error;

	*out = pg_strmap_get(&ix->targets, id, &found);
	if (found)
		return 0;
	if (!(t = calloc(1, sizeof(*t))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = pg_affect__resolve_target(&t->fixes, &t->intro, &t->cve, ix, id)) < 0 ||
	    (error = pg_strmap_set(&ix->targets, id, t)) < 0) {
		pg_affect__target_free(t);
		return error;
	}
	*out = t;
	return 0;
}
