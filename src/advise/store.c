/*
 * store.c - build an advisory model from the database: the CVE record (cve
 * tables, pg_cve_show) or, for a silent fix, the fix commit (ingest tables),
 * and the per-branch vulnerable/fixed pairs of the affectedness engine
 * (pg_affect_fix) for every tracked branch (branches table).
 *
 * Mapping of affect's per-branch status: affected -> affected ("backport
 * needed"), fixed -> fixed, not_affected -> not_affected with
 * vulnerable_code_not_present (the introducer is not in the branch, or the
 * fix is in its base), except affect's assumed verdict "no introducer known
 * and no backport of the fix", which is under_investigation here: an
 * advisory must not claim what nobody established.  unknown ->
 * under_investigation.  Versions lose their leading 'v' (CNA convention).
 * data_date: the latest of the CVE's published/updated dates and the commit
 * dates of every fixing commit found on a branch, so a branch picking up the
 * fix moves the date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise/advise_int.h"
#include "patchgap/affect.h"
#include "patchgap/cve.h"
#include "patchgap/ingest.h"
#include "patchgap/triage.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *nover(const char *v)
{
	if (!v || !strcmp(v, "0") || !*v)
		return NULL;
	return v[0] == 'v' && v[1] >= '0' && v[1] <= '9' ? v + 1 : v;
}

/* *out = max(*out, the commit's date) when the commit is ingested. */
static int commit_time(int64_t *out, pg_store *s, const char *sha)
{
	int64_t t = 0;
	int error;
	if (!sha || !pg_str_is_sha(sha))
		return 0;
	if ((error = pg_ingest_commit_time(&t, s, sha)) == PG_ENOTFOUND)
		return 0;
	if (error == 0 && t > *out)
		*out = t;
	return error;
}

/* The silent fix's own facts: subject, message, files, date. */
static int load_commit(pg_advise_vuln *v, int64_t *date, pg_store *s, const char *sha)
{
	pg_ingest_commit c;
	int error;
	if ((error = pg_ingest_commit_get(&c, s, sha)) < 0) {
		if (error == PG_ENOTFOUND || error == PG_EINVALID) {
			pg_error_clear();
			return 0;
		}
		return error;
	}
	if ((error = pg_advise_set(&v->title, c.subject)) < 0 || (error = pg_advise_set(&v->description, c.message)) < 0)
		goto out;
	v->published = c.committer_time;
	if (v->published > *date)
		*date = v->published;
	for (size_t i = 0; i < c.npaths; i++)
		if ((error = pg_advise_strs_add(&v->program_files, c.paths[i])) < 0)
			goto out;
out:
	pg_ingest_commit_release(&c);
	return error;
}

static int load_cve(pg_advise_vuln *v, int64_t *date, pg_store *s, const char *id)
{
	json_t *c = NULL, *a, *e, *cv;
	size_t i;
	int error;
	int64_t t;

	if ((error = pg_cve_show(&c, s, id)) < 0)
		return error;
	if ((error = pg_advise_set(&v->title, jstr(c, "title"))) < 0 ||
	    (error = pg_advise_set(&v->description, jstr(c, "description"))) < 0)
		goto out;
	if (jstr(c, "state") && !strcmp(jstr(c, "state"), "rejected")) {
		v->rejected = 1;
		if ((error = pg_advise_set(&v->rejection_reason, jstr(c, "rejected_reason") ? jstr(c, "rejected_reason")
											  : "rejected by the kernel CNA")) < 0)
			goto out;
	}
	if (jstr(c, "published") && pg_time_parse(&t, jstr(c, "published")) == 0) {
		v->published = t;
		if (t > *date)
			*date = t;
	}
	if (jstr(c, "updated") && pg_time_parse(&t, jstr(c, "updated")) == 0) {
		v->modified = t;
		if (t > *date)
			*date = t;
	}
	if ((cv = json_object_get(c, "cvss")) && json_is_object(cv) && jstr(cv, "vector") &&
	    json_is_number(json_object_get(cv, "score"))) {
		v->cvss_score = json_number_value(json_object_get(cv, "score"));
		if ((error = pg_advise_set(&v->cvss_vector, jstr(cv, "vector"))) < 0 ||
		    (error = pg_advise_set(&v->cvss_severity, jstr(cv, "severity"))) < 0)
			goto out;
	}
	json_array_foreach(json_object_get(c, "files"), i, e)
		if (json_is_string(e) && (error = pg_advise_strs_add(&v->program_files, json_string_value(e))) < 0)
			goto out;
	json_array_foreach(json_object_get(c, "references"), i, e) {
		const char *u = json_is_string(e) ? json_string_value(e) : jstr(e, "url");
		if (u && (error = pg_advise_strs_add(&v->references, u)) < 0)
			goto out;
	}
	a = json_object_get(c, "introducers");
	json_array_foreach(a, i, e)
		if (jstr(e, "sha") && pg_str_is_sha(jstr(e, "sha")) &&
		    (error = pg_advise_strs_add(&v->introducing_commits, jstr(e, "sha"))) < 0)
			goto out;
out:
	json_decref(c);
	return error;
}

static int state_from_affect(pg_advise_state *s, json_t *b, const char *label, const char *mainline_fix)
{
	const char *st = jstr(b, "status"), *reason = jstr(b, "reason");
	const char *vv = nover(jstr(b, "vuln_version")), *fv = nover(jstr(b, "fix_version"));
	const char *vs = jstr(b, "vuln_sha"), *fs = jstr(b, "fix_sha");
	char buf[700];
	int error;

	if (vs && !pg_str_is_sha(vs))
		vs = NULL;
	if (fs && !pg_str_is_sha(fs))
		fs = NULL;
	if (!st || !strcmp(st, "unknown") ||
	    (!strcmp(st, "not_affected") && reason && pg_str_starts_with(reason, "no introducer known"))) {
		s->status = PG_ADVISE_UNDER_INVESTIGATION;
		snprintf(buf, sizeof(buf), "%s: %s", label, reason ? reason : "no evidence either way");
		return pg_advise_set(&s->evidence, buf);
	}
	if (!strcmp(st, "not_affected")) {
		s->status = PG_ADVISE_NOT_AFFECTED;
		snprintf(buf, sizeof(buf), "%s: %s", label, reason ? reason : "not affected");
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		return pg_advise_set(&s->justification, PG_ADVISE_J_CODE_NOT_PRESENT);
	}
	if ((vv && (error = pg_advise_set(&s->vuln_version, vv)) < 0) ||
	    (vs && (error = pg_advise_set(&s->vuln_sha, vs)) < 0))
		return error;
	if (!strcmp(st, "fixed")) {
		int released = json_is_true(json_object_get(b, "fix_released"));
		s->status = PG_ADVISE_FIXED;
		if ((fv && released && (error = pg_advise_set(&s->fix_version, fv)) < 0) ||
		    (fs && (error = pg_advise_set(&s->fix_sha, fs)) < 0))
			return error;
		snprintf(buf, sizeof(buf), "%s: %s%s (found by %s, confidence %.2f)", label, reason ? reason : "fixed",
			 released ? "" : "; not yet in a release tag", jstr(b, "fix_how") ? jstr(b, "fix_how") : "?",
			 json_number_value(json_object_get(b, "confidence")));
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		if (released && fv)
			snprintf(buf, sizeof(buf), "update to %s or later (commit %s)", fv, fs ? fs : "?");
		else
			snprintf(buf, sizeof(buf), "update to the branch head: commit %s is not released yet%s%s",
				 fs ? fs : "?", fv ? ", expected in " : "", fv ? fv : "");
		return pg_advise_set(&s->remediation, buf);
	}
	s->status = PG_ADVISE_AFFECTED;
	snprintf(buf, sizeof(buf), "%s: %s", label, reason ? reason : "affected");
	if ((error = pg_advise_set(&s->evidence, buf)) < 0)
		return error;
	snprintf(buf, sizeof(buf), "backport needed: fix %s is not in %s", mainline_fix ? mainline_fix : "(unknown)", label);
	return pg_advise_set(&s->remediation, buf);
}

/*
 * A triage decision in force on this branch replaces the engine's status:
 * the VEX status, the justification (not_affected) and an impact statement
 * that says who decided, when and why, followed by the engine's own
 * verdict.  will_not_fix stays affected with a "no fix planned" action.
 */
static int apply_decision(pg_advise_state *st, pg_store *s, const pg_advise_vuln *v, const char *branch)
{
	const char *ids[64];
	size_t n = 0;
	json_t *d = NULL;
	const char *state, *just;
	char *desc = NULL;
	pg_buf b = PG_BUF_INIT;
	int error;

	if (!strncmp(v->id, "CVE-", 4))
		ids[n++] = v->id;
	for (size_t i = 0; i < v->fix_commits.n && n < 64; i++)
		ids[n++] = v->fix_commits.v[i];
	if ((error = pg_triage_latest(&d, s, ids, n, branch, NULL)) < 0 || !d)
		return error;
	state = json_string_value(json_object_get(d, "state"));
	just = json_string_value(json_object_get(d, "justification"));
	if (!(desc = pg_triage_describe(d))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	pg_buf_printf(&b, "%s; engine: %s", desc, st->evidence ? st->evidence : pg_advise_status_name(st->status));
	if ((error = pg_advise_set(&st->evidence, pg_buf_cstr(&b))) < 0 ||
	    (error = pg_advise_set(&st->justification, NULL)) < 0)
		goto out;
	if (!strcmp(state, "not_affected")) {
		st->status = PG_ADVISE_NOT_AFFECTED;
		error = pg_advise_set(&st->justification, just);
	} else if (!strcmp(state, "fixed")) {
		st->status = PG_ADVISE_FIXED;
	} else if (!strcmp(state, "under_investigation")) {
		st->status = PG_ADVISE_UNDER_INVESTIGATION;
	} else {
		st->status = PG_ADVISE_AFFECTED;
		if (!strcmp(state, "will_not_fix")) {
			pg_buf_reset(&b);
			pg_buf_printf(&b, "no fix planned: %s", json_string_value(json_object_get(d, "note")));
			error = pg_advise_set(&st->remediation, pg_buf_cstr(&b));
		} else if (!st->remediation)
			error = pg_advise_set(&st->remediation, "backport needed");
	}
	if (!error && st->status != PG_ADVISE_AFFECTED && st->status != PG_ADVISE_FIXED)
		error = pg_advise_set(&st->remediation, NULL);
out:
	free(desc);
	pg_buf_release(&b);
	json_decref(d);
	return error;
}

int pg_advise_load_store(pg_advise_doc **out, pg_store *s, const char *id, const char *branch)
{
	pg_affect_index *ix = NULL;
	json_t *af = NULL, *branches, *fixes;
	pg_advise_doc *doc = NULL;
	pg_advise_vuln *v;
	json_t *blist = NULL, *bj;
	size_t bi;
	char vid[64], docid[200], buf[600];
	const char *fid, *mfix;
	int64_t date = 0;
	int error, found_branch = 0, is_cve;

	*out = NULL;
	if ((error = pg_affect_index_open(&ix, s)) < 0 || (error = pg_affect_fix(&af, ix, id)) < 0)
		goto out;
	fid = jstr(af, "id");
	fixes = json_object_get(af, "fixes");
	mfix = json_string_value(json_array_get(fixes, 0));
	is_cve = fid && !strncmp(fid, "CVE-", 4);
	if (is_cve)
		snprintf(vid, sizeof(vid), "%s", fid);
	else
		snprintf(vid, sizeof(vid), "PGSA-%.12s", mfix ? mfix : fid ? fid : id);
	if (branch)
		snprintf(docid, sizeof(docid), "PGAP-%s-%s", vid, branch);
	else
		snprintf(docid, sizeof(docid), "PGAP-%s", vid);
	if ((error = pg_advise_doc_new(&doc, docid)) < 0 || (error = pg_advise_doc_add_vuln(&v, doc, vid)) < 0)
		goto out;
	if (is_cve)
		error = load_cve(v, &date, s, vid);
	else if (mfix)
		error = load_commit(v, &date, s, mfix);
	if (error < 0)
		goto out;
	for (size_t i = 0; i < json_array_size(fixes); i++)
		if ((error = pg_advise_strs_add(&v->fix_commits, json_string_value(json_array_get(fixes, i)))) < 0 ||
		    (error = commit_time(&date, s, json_string_value(json_array_get(fixes, i)))) < 0)
			goto out;
	for (size_t i = 0; i < json_array_size(json_object_get(af, "introducers")); i++)
		if ((error = pg_advise_strs_add(&v->introducing_commits,
						json_string_value(json_array_get(json_object_get(af, "introducers"), i)))) < 0)
			goto out;
	snprintf(buf, sizeof(buf), "%s: %s%s%s%s", vid, v->title ? v->title : "(no title)", branch ? " (" : "",
		 branch ? branch : "", branch ? ")" : "");
	if ((error = pg_advise_set(&doc->title, buf)) < 0 ||
	    (branch && ((error = pg_advise_set(&doc->scope, branch)) < 0 ||
			(error = pg_advise_set(&doc->focus_branch, branch)) < 0)))
		goto out;

	/* one product per tracked branch */
	branches = json_object_get(af, "branches");
	if ((error = pg_ingest_branches_by_name(&blist, s)) < 0)
		goto out;
	json_array_foreach(blist, bi, bj) {
		const char *name = jstr(bj, "name"), *kname = jstr(bj, "kind");
		pg_advise_kind kind = PG_ADVISE_STABLE;
		pg_advise_product *p;
		pg_advise_state *state;
		json_t *b = json_object_get(branches, name);
		if (branch && strcmp(branch, name))
			continue;
		found_branch = 1;
		if (pg_advise_kind_parse(&kind, kname) < 0)
			kind = PG_ADVISE_VENDOR;
		if ((error = pg_advise_doc_add_product(&p, doc, name, name, kind, NULL)) < 0)
			goto out;
		p->has_tags = kind != PG_ADVISE_VENDOR;
		if (kind != PG_ADVISE_VENDOR && (error = pg_advise_set(&p->repo, PG_ADVISE_KERNEL_REPO)) < 0)
			goto out;
		if (v->rejected) {
			if ((error = pg_advise_vuln_add_state(&state, v, name, PG_ADVISE_NOT_AFFECTED)) < 0)
				goto out;
			snprintf(buf, sizeof(buf), "%s was rejected: %s", vid, v->rejection_reason);
			error = pg_advise_set(&state->evidence, buf);
		} else if ((error = pg_advise_vuln_add_state(&state, v, name, PG_ADVISE_UNDER_INVESTIGATION)) == 0)
			error = state_from_affect(state, b, name, mfix);
		if (!error && !v->rejected)
			error = apply_decision(state, s, v, name);
		if (error < 0)
			goto out;
		if (state->fix_sha && (error = commit_time(&date, s, state->fix_sha)) < 0)
			goto out;
	}
	if (branch && !found_branch) {
		error = pg_error_setc(PG_ENOTFOUND, "branch '%s' is not tracked (see the config's [branch] sections)", branch);
		goto out;
	}
	doc->data_date = date;
	if ((error = pg_advise_doc_normalize(doc)) < 0) {
		pg_error_prefix("advisory for %s", id);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	json_decref(blist);
	json_decref(af);
	pg_affect_index_free(ix);
	pg_advise_doc_free(doc);
	return error;
}
