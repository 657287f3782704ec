/*
 * report_store.c - the patch-gap report's input from the database: for
 * every tracked non-mainline branch (or one), every published CVE whose fix
 * the affectedness engine finds affected or fixed there (pg_affect_status
 * with include_fixed), with its dates:
 *   upstream_date          the mainline fix commit's committer date
 *   mainline_release(_date) commits.mainline_release and its tag's date
 *   branch_sha/_date       the branch's commit carrying the fix
 *   branch_tag(_date)      the branch's release containing it
 *                          (branch_commits.release) and its tag's date
 *   stable_release(_date)  the same as the branch tag on a stable branch
 *   cve_date               cves.published
 * Triage decisions in force apply (pg_triage_apply_status): a fix decided
 * will_not_fix stays open, one decided not_affected or fixed is left out,
 * one decided affected counts as the engine places it.
 * priority is the classifier's level when it ranked the fix (patchgap
 * classify), else the CVE's CVSS severity, lowercased; subsystem the first
 * path component of the fix's first file (two for drivers/, arch/, fs/, net/
 * where a second exists); bug_class the classifier's, else a keyword reading
 * of the subject.  A fix the classifier flagged counts as known from its
 * commit date (classifier_date), which gives the lead over the CVE.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise/advise_int.h"
#include "patchgap/affect.h"
#include "patchgap/cve.h"
#include "patchgap/ingest.h"
#include "patchgap/triage.h"
#include "patchgap/classify.h"
#include "patchgap/lists.h"
#include "util/str.h"
#include "util/banned.h"

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The classifier's bug class of a subject ("other" when it names none): one vocabulary everywhere. */
static const char *bug_class(const char *subject)
{
	pg_cls_input in = PG_CLS_INPUT_INIT;
	pg_cls_bug_class c = PG_CLS_NONE;
	in.subject = subject;
	if (!subject || pg_cls_bug_class_of(&c, &in) < 0 || c == PG_CLS_NONE)
		return pg_cls_bug_class_name(PG_CLS_OTHER);
	return pg_cls_bug_class_name(c);
}

/* The subsystem of a path: its first component, two for drivers/, arch/, fs/, net/ where a second exists. */
static int subsystem(char **out, const char *first_path)
{
	char *path = first_path ? strdup(first_path) : NULL;
	int error = 0;
	if (path) {
		char *slash = strchr(path, '/');
		if (slash && (!strncmp(path, "drivers/", 8) || !strncmp(path, "arch/", 5) || !strncmp(path, "fs/", 3) ||
			      !strncmp(path, "net/", 4)) && strchr(slash + 1, '/'))
			*strchr(slash + 1, '/') = 0;
		else if (slash)
			*slash = 0;
		error = pg_advise_set(out, path);
	} else if (first_path) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
	}
	free(path);
	return error;
}

static int add_entry(pg_report_input *in, pg_store *s, const char *branch, int stable, json_t *e)
{
	pg_report_fix *f;
	pg_ingest_place up, br;
	const char *fix = jstr(e, "fix"), *by = jstr(e, "fixed_by"), *sev = jstr(e, "severity");
	char *pub = NULL;
	int error;

	if (!fix || !jstr(e, "id"))
		return 0;
	memset(&br, 0, sizeof(br));
	if ((error = pg_ingest_commit_place(&up, s, fix, NULL)) < 0)
		return error;
	if ((error = pg_report_input_add(&f, in, jstr(e, "id"), branch)) < 0 ||
	    (error = pg_advise_set(&f->subject, jstr(e, "subject"))) < 0 ||
	    (error = pg_advise_set(&f->upstream_sha, fix)) < 0 ||
	    /* the classifier's class when it flagged the fix with one, else its lexicon on the subject */
	    (error = pg_advise_set(&f->bug_class, json_is_true(json_object_get(e, "flagged")) && jstr(e, "bug_class") &&
				    strcmp(jstr(e, "bug_class"), "none") ? jstr(e, "bug_class") : bug_class(jstr(e, "subject")))) < 0 ||
	    (error = subsystem(&f->subsystem, up.first_path)) < 0)
		goto out;
	/* the classifier's priority when it ranked the fix, else the CVE's severity */
	if (jstr(e, "priority_level"))
		sev = jstr(e, "priority_level");
	if (sev && (error = pg_advise_set(&f->priority, sev)) < 0)
		goto out;
	if (f->priority)
		pg_str_lower(f->priority);
	if ((error = pg_advise_set(&f->mainline_release, up.release)) < 0)
		goto out;
	f->upstream_date = up.committer_time;
	f->mainline_release_date = up.release_time;
	if (by && pg_str_is_sha(by)) {
		if ((error = pg_advise_set(&f->branch_sha, by)) < 0 ||
		    (error = pg_ingest_commit_place(&br, s, by, branch)) < 0 ||
		    (error = pg_advise_set(&f->branch_tag, br.release)) < 0)
			goto out;
		f->branch_date = br.committer_time;
		/* the fix reached this branch through its base (mainline): then it is in since the fork */
		if (!f->branch_date)
			f->branch_date = f->upstream_date;
		f->branch_tag_date = br.release_time;
		if (stable && f->branch_tag) {
			if ((error = pg_advise_set(&f->stable_release, f->branch_tag)) < 0)
				goto out;
			f->stable_release_date = f->branch_tag_date;
		}
	}
	if ((error = pg_cve_published(&pub, s, f->id)) < 0)
		goto out;
	if (pub)
		pg_time_parse(&f->cve_date, pub);
	/* flagged by the classifier: patchgap knew the moment the fix was ingested,
	 * i.e. from its commit date, whatever later CVE publication says */
	if (json_is_true(json_object_get(e, "flagged")))
		f->classifier_date = f->upstream_date;
	if (!f->upstream_date) {
		/* the fix is not ingested: it cannot be placed on a timeline */
		pg_report__drop_last(in);
	}
out:
	free(pub);
	pg_ingest_place_release(&up);
	pg_ingest_place_release(&br);
	return error;
}

int pg_report_load_store(pg_report_input *in, pg_store *s, const char *branch)
{
	pg_affect_index *ix = NULL;
	json_t *status = NULL, *branches = NULL, *b;
	pg_status_options opts = PG_STATUS_OPTIONS_INIT;
	size_t bi;
	int error, found = 0;

	opts.include_fixed = 1;
	if ((error = pg_affect_index_open(&ix, s)) < 0 || (error = pg_ingest_branches_by_name(&branches, s)) < 0)
		goto out;
	json_array_foreach(branches, bi, b) {
		const char *name = jstr(b, "name"), *kind = jstr(b, "kind");
		int stable = kind && !strcmp(kind, "stable");
		json_t *e;
		size_t i;
		if (!name || !kind || !strcmp(kind, "mainline") || (branch && strcmp(branch, name)))
			continue;
		found = 1;
		if ((error = pg_affect_status(&status, ix, name, &opts)) < 0 ||
		    (error = pg_triage_apply_status(status, s)) < 0)
			goto out;
		/*
		 * Decisions: will_not_fix stays open exposure; a fix decided
		 * not_affected is no exposure, and one decided fixed has no
		 * commit to date its window, so both leave the report.
		 */
		json_array_foreach(json_object_get(status, "decided"), i, e)
			if (!strcmp(json_string_value(json_object_get(json_object_get(e, "decision"), "state")), "will_not_fix") &&
			    (error = add_entry(in, s, name, stable, e)) < 0)
				goto out;
		json_array_foreach(json_object_get(status, "unfixed"), i, e)
			if ((error = add_entry(in, s, name, stable, e)) < 0)
				goto out;
		json_array_foreach(json_object_get(status, "fixed"), i, e)
			if ((error = add_entry(in, s, name, stable, e)) < 0)
				goto out;
		json_decref(status);
		status = NULL;
	}
	if (branch && !found) {
		error = pg_error_setc(PG_ENOTFOUND, "branch '%s' is not a tracked stable or vendor branch", branch);
		goto out;
	}
	/* how early the fixes were visible on the lists: computed by the lists module, not here */
	json_decref(in->list_lead);
	in->list_lead = NULL;
	if ((error = pg_lists_lead(&in->list_lead, s)) < 0)
		goto out;
	if (!json_array_size(in->list_lead)) {
		json_decref(in->list_lead);
		in->list_lead = NULL;
	}
out:
	json_decref(status);
	json_decref(branches);
	pg_affect_index_free(ix);
	return error;
}
