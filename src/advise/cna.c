/*
 * cna.c - build an advisory model from a kernel CNA record (one line of
 * kernel-cves.jsonl.gz, see ../shared/data/README.md) until the affectedness
 * engine provides per-branch evidence of our own.
 *
 * Each dyad line {vuln_version, vuln_sha, fix_version, fix_sha} is the
 * CNA's verdict for one upstream line: a fix_version "X.Y" (no patch level)
 * is mainline, "X.Y.Z" is the stable series X.Y; a fix "0" means the line
 * was never fixed and the series comes from vuln_version.  Mapping:
 *   vuln "0", fix known       -> fixed (introduction unknown)
 *   vuln "0", fix "0"         -> under_investigation
 *   fix "0"                   -> affected, backport needed
 *   vuln_version == fix_version -> not_affected (vulnerable_code_not_present:
 *                                 introduced and fixed within one release)
 *   otherwise                 -> fixed in fix_version
 * A branch asked for with --branch that the CNA does not list is inferred
 * from the mainline line: released before the bug entered mainline ->
 * not_affected; released after the mainline fix -> fixed; in between ->
 * affected (the CNA lists no fix for it).  Dates come from the record
 * (first_added, rejection.date), never from the clock.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise/advise_int.h"
#include "util/json.h"
#include "util/jsonl.h"
#include "util/str.h"
#include "util/banned.h"

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int is_zero(const char *s)
{
	return !s || !*s || !strcmp(s, "0");
}

/* The series key of a version: "6.1.23" -> "6.1" (stable), "6.2"/"6.2-rc3" -> mainline. */
static int series_of(char *buf, size_t size, const char *ver, int *is_mainline)
{
	pg_kver v;
	if (pg_kver_parse(&v, ver) < 0)
		return PG_EINVALID;
	snprintf(buf, size, "%d.%d", v.major, v.minor);
	*is_mainline = v.patch == 0;
	return 0;
}

struct line {
	const char *vv, *vs, *fv, *fs;
	char key[32];     /* "mainline" or "X.Y" */
};

static void product_id(char *buf, size_t size, const char *key, const char *vendor)
{
	if (vendor)
		snprintf(buf, size, "%s", vendor);
	else if (!strcmp(key, "mainline"))
		snprintf(buf, size, "linux-mainline");
	else
		snprintf(buf, size, "linux-%s.y", key);
}

static int add_upstream_product(pg_advise_doc *doc, const char *key, const char *vendor, const char **pid_out)
{
	char pid[160];
	pg_advise_product *p;
	const pg_advise_product *have;
	int error;

	product_id(pid, sizeof(pid), key, vendor);
	if ((have = pg_advise_doc_product(doc, pid))) {
		*pid_out = have->id;
		return 0;
	}
	if ((error = pg_advise_doc_add_product(&p, doc, pid, vendor ? vendor : key,
					       vendor ? PG_ADVISE_VENDOR : !strcmp(key, "mainline") ? PG_ADVISE_MAINLINE
												: PG_ADVISE_STABLE,
					       NULL)) < 0)
		return error;
	p->has_tags = !vendor;
	if (!vendor && (error = pg_advise_set(&p->repo, PG_ADVISE_KERNEL_REPO)) < 0)
		return error;
	*pid_out = p->id;
	return 0;
}

/* Fill state s from dyad line l (see the table at the top). */
static int state_from_line(pg_advise_state *s, const struct line *l, const char *label,
			   const char *mainline_fix, const char *mainline_fix_version)
{
	char buf[1024];
	int error = 0;

	if (!is_zero(l->vs) && (error = pg_advise_set(&s->vuln_sha, l->vs)) < 0)
		return error;
	if (!is_zero(l->vv) && (error = pg_advise_set(&s->vuln_version, l->vv)) < 0)
		return error;
	if (!is_zero(l->fs) && (error = pg_advise_set(&s->fix_sha, l->fs)) < 0)
		return error;
	if (!is_zero(l->fv) && (error = pg_advise_set(&s->fix_version, l->fv)) < 0)
		return error;
	if (is_zero(l->fs)) {
		if (is_zero(l->vs)) {
			s->status = PG_ADVISE_UNDER_INVESTIGATION;
			snprintf(buf, sizeof(buf), "the kernel CNA lists %s with neither an introducing nor a fixing commit",
				 label);
			return pg_advise_set(&s->evidence, buf);
		}
		s->status = PG_ADVISE_AFFECTED;
		snprintf(buf, sizeof(buf), "introduced in %s by commit %s; the kernel CNA lists no fix for %s",
			 l->vv, l->vs, label);
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		if (mainline_fix && mainline_fix_version)
			snprintf(buf, sizeof(buf), "backport needed: mainline fix %s (first in %s) is not in any %s release",
				 mainline_fix, mainline_fix_version, label);
		else if (mainline_fix)
			snprintf(buf, sizeof(buf), "backport needed: mainline fix %s is not in any %s release",
				 mainline_fix, label);
		else
			snprintf(buf, sizeof(buf), "backport needed: no fix is known for %s", label);
		return pg_advise_set(&s->remediation, buf);
	}
	if (!is_zero(l->vv) && !is_zero(l->fv) && !strcmp(l->vv, l->fv)) {
		s->status = PG_ADVISE_NOT_AFFECTED;
		snprintf(buf, sizeof(buf),
			 "introduced by commit %s and fixed by commit %s within the same release %s: "
			 "no %s release shipped the vulnerable code",
			 is_zero(l->vs) ? "(unknown)" : l->vs, l->fs, l->fv, label);
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		return pg_advise_set(&s->justification, PG_ADVISE_J_CODE_NOT_PRESENT);
	}
	s->status = PG_ADVISE_FIXED;
	if (is_zero(l->vs))
		snprintf(buf, sizeof(buf), "fixed in %s by commit %s (introducing commit unknown)",
			 is_zero(l->fv) ? "(unknown release)" : l->fv, l->fs);
	else
		snprintf(buf, sizeof(buf), "introduced in %s by commit %s, fixed in %s by commit %s",
			 l->vv, l->vs, is_zero(l->fv) ? "(unknown release)" : l->fv, l->fs);
	if ((error = pg_advise_set(&s->evidence, buf)) < 0)
		return error;
	snprintf(buf, sizeof(buf), "update to %s or later (commit %s)", is_zero(l->fv) ? "a release" : l->fv, l->fs);
	return pg_advise_set(&s->remediation, buf);
}

/* A branch the CNA does not list: infer from the mainline line (see top). */
static int infer_state(pg_advise_state *s, const char *key, const struct line *ml, const char *label)
{
	pg_kver b, vin, vfix;
	char buf[1024];
	int error;

	if (!ml || pg_kver_parse(&b, key) < 0) {
		s->status = PG_ADVISE_UNDER_INVESTIGATION;
		snprintf(buf, sizeof(buf), "the kernel CNA lists nothing for %s and its mainline data is incomplete", label);
		return pg_advise_set(&s->evidence, buf);
	}
	if (!is_zero(ml->fv) && pg_kver_parse(&vfix, ml->fv) == 0 && pg_kver_cmp(&b, &vfix) >= 0) {
		s->status = PG_ADVISE_FIXED;
		snprintf(buf, sizeof(buf), "%s was released after the fix landed in mainline %s (commit %s)",
			 label, ml->fv, ml->fs);
		if ((error = pg_advise_set(&s->fix_version, key)) < 0 ||
		    (error = pg_advise_set(&s->fix_sha, ml->fs)) < 0 ||
		    (error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		snprintf(buf, sizeof(buf), "none needed: every %s release contains the fix", label);
		return pg_advise_set(&s->remediation, buf);
	}
	if (is_zero(ml->vv) || pg_kver_parse(&vin, ml->vv) < 0) {
		s->status = PG_ADVISE_UNDER_INVESTIGATION;
		snprintf(buf, sizeof(buf), "the kernel CNA lists nothing for %s and does not know when the bug entered mainline",
			 label);
		return pg_advise_set(&s->evidence, buf);
	}
	if (pg_kver_cmp(&b, &vin) < 0) {
		s->status = PG_ADVISE_NOT_AFFECTED;
		snprintf(buf, sizeof(buf),
			 "the bug entered mainline in %s (commit %s), after %s was released, and the kernel CNA "
			 "lists no backport of it to %s",
			 ml->vv, ml->vs, key, label);
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			return error;
		return pg_advise_set(&s->justification, PG_ADVISE_J_CODE_NOT_PRESENT);
	}
	s->status = PG_ADVISE_AFFECTED;
	if ((error = pg_advise_set(&s->vuln_version, ml->vv)) < 0 ||
	    (!is_zero(ml->vs) && (error = pg_advise_set(&s->vuln_sha, ml->vs)) < 0))
		return error;
	snprintf(buf, sizeof(buf), "%s contains the code introduced in mainline %s (commit %s) and the kernel CNA "
		 "lists no fix for it", label, ml->vv, is_zero(ml->vs) ? "unknown" : ml->vs);
	if ((error = pg_advise_set(&s->evidence, buf)) < 0)
		return error;
	snprintf(buf, sizeof(buf), "backport needed: mainline fix %s (first in %s)", ml->fs, ml->fv);
	return pg_advise_set(&s->remediation, buf);
}

static int add_strs_from(pg_advise_strs *s, json_t *arr)
{
	size_t i;
	json_t *e;
	int error;
	json_array_foreach(arr, i, e)
		if (json_is_string(e) && (error = pg_advise_strs_add(s, json_string_value(e))) < 0)
			return error;
	return 0;
}

static int take_date(int64_t *out, const char *s)
{
	int64_t t;
	if (s && pg_time_parse(&t, s) == 0 && t > *out)
		*out = t;
	return 0;
}

int pg_advise_load_cna_record(pg_advise_doc **out, const void *record, const char *branch)
{
	json_t *r = (json_t *)record, *dyad, *e, *cvss, *rej;
	const char *id = jstr(r, "id"), *state = jstr(r, "state"), *subject = jstr(r, "subject");
	pg_advise_doc *doc = NULL;
	pg_advise_vuln *v = NULL;
	struct line *lines = NULL, *ml = NULL;
	size_t nlines = 0, i;
	char docid[128], want[64] = "", buf[1024];
	const char *vendor = NULL;
	int error = 0, want_found = 0;

	*out = NULL;
	if (!json_is_object(r) || !id || !state)
		return pg_error_setc(PG_EINVALID, "CNA record has no 'id' or 'state'");
	if (strncmp(id, "CVE-", 4))
		return pg_error_setc(PG_EINVALID, "CNA record id '%s' is not a CVE id", id);
	if (branch) {
		const char *p;
		pg_advise__branch_key(want, sizeof(want), branch);
		if (strcmp(want, "mainline")) {
			pg_kver kv;
			if (pg_kver_parse(&kv, want) < 0) {
				/* a vendor branch: follow the upstream series named in it ("debian-6.1") */
				int maj, min;
				vendor = branch;
				for (p = branch; *p; p++)
					if (isdigit((unsigned char)*p) && (p == branch || !isdigit((unsigned char)p[-1])) &&
					    sscanf(p, "%d.%d", &maj, &min) == 2) {
						snprintf(want, sizeof(want), "%d.%d", maj, min);
						break;
					}
			} else
				snprintf(want, sizeof(want), "%d.%d", kv.major, kv.minor);
		}
		snprintf(docid, sizeof(docid), "PGAP-%s-%s", id, vendor ? vendor : want);
	} else
		snprintf(docid, sizeof(docid), "PGAP-%s", id);
	if ((error = pg_advise_doc_new(&doc, docid)) < 0 ||
	    (error = pg_advise_doc_add_vuln(&v, doc, id)) < 0)
		goto out;
	if (branch && (error = pg_advise_set(&doc->scope, vendor ? vendor : want)) < 0)
		goto out;
	if (branch && (error = pg_advise_set(&doc->focus_branch, vendor ? vendor : want)) < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%s: %s%s%s%s", id, subject ? subject : "(no subject)",
		 branch ? " (" : "", branch ? (vendor ? vendor : want) : "", branch ? ")" : "");
	if ((error = pg_advise_set(&doc->title, buf)) < 0 || (error = pg_advise_set(&v->title, subject)) < 0)
		goto out;
	if (jstr(r, "message")) {
		pg_buf d = PG_BUF_INIT;
		if ((error = pg_buf_printf(&d, "In the Linux kernel, the following vulnerability has been resolved:\n\n%s\n\n%s",
					   subject ? subject : "", jstr(r, "message"))) < 0) {
			pg_buf_release(&d);
			goto out;
		}
		v->description = pg_buf_detach(&d);
	}
	take_date(&v->published, jstr(r, "first_added"));
	doc->data_date = v->published;
	if ((error = add_strs_from(&v->fix_commits, json_object_get(r, "fix_sha"))) < 0 ||
	    (error = add_strs_from(&v->program_files, json_object_get(r, "program_files"))) < 0 ||
	    (error = add_strs_from(&v->introducing_commits, json_object_get(r, "vulnerable_override"))) < 0 ||
	    (error = add_strs_from(&v->references, json_object_get(r, "references_extra"))) < 0)
		goto out;
	if ((cvss = json_object_get(r, "cvss")) && json_is_object(cvss) && jstr(cvss, "vector") &&
	    json_is_number(json_object_get(cvss, "base_score"))) {
		v->cvss_score = json_number_value(json_object_get(cvss, "base_score"));
		if ((error = pg_advise_set(&v->cvss_vector, jstr(cvss, "vector"))) < 0 ||
		    (error = pg_advise_set(&v->cvss_severity, jstr(cvss, "severity"))) < 0)
			goto out;
	}
	if (!strcmp(state, "rejected")) {
		const char *reason = NULL, *cat = NULL;
		v->rejected = 1;
		if ((rej = json_object_get(r, "rejection")) && json_is_object(rej)) {
			int64_t t = 0;
			take_date(&t, jstr(rej, "date"));
			v->modified = t;
			if (t > doc->data_date)
				doc->data_date = t;
			reason = jstr(rej, "reason");
			cat = jstr(rej, "category");
		}
		snprintf(buf, sizeof(buf), "%s%s%s%s", reason ? reason : "rejected by the kernel CNA",
			 cat ? " [" : "", cat ? cat : "", cat ? "]" : "");
		if ((error = pg_advise_set(&v->rejection_reason, buf)) < 0)
			goto out;
	} else if (strcmp(state, "published")) {
		error = pg_error_setc(PG_EINVALID, "CNA record %s has unknown state '%s'", id, state);
		goto out;
	}

	/* Collect the dyad lines with their series. */
	dyad = json_object_get(r, "dyad");
	if (json_is_array(dyad) && json_array_size(dyad)) {
		if (!(lines = calloc(json_array_size(dyad), sizeof(*lines)))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		json_array_foreach(dyad, i, e) {
			struct line *l = &lines[nlines];
			int mainline = 0;
			l->vv = jstr(e, "vuln_version");
			l->vs = jstr(e, "vuln_sha");
			l->fv = jstr(e, "fix_version");
			l->fs = jstr(e, "fix_sha");
			if ((!is_zero(l->vs) && !pg_str_is_sha(l->vs)) || (!is_zero(l->fs) && !pg_str_is_sha(l->fs))) {
				error = pg_error_setc(PG_EINVALID, "CNA record %s: dyad line %zu has a malformed commit id", id, i + 1);
				goto out;
			}
			if (!is_zero(l->fv)) {
				if (series_of(l->key, sizeof(l->key), l->fv, &mainline) < 0)
					continue; /* unparseable version: skip the line rather than guess */
			} else if (!is_zero(l->vv)) {
				if (series_of(l->key, sizeof(l->key), l->vv, &mainline) < 0)
					continue;
				mainline = 0; /* unfixed "X.Y" vuln: the X.Y stable series */
			} else
				continue;
			if (mainline)
				snprintf(l->key, sizeof(l->key), "mainline");
			if (!is_zero(l->vs) && (error = pg_advise_strs_add(&v->introducing_commits, l->vs)) < 0)
				goto out;
			if (!is_zero(l->fs) && !mainline) {
				snprintf(buf, sizeof(buf), "https://git.kernel.org/stable/c/%s", l->fs);
				if ((error = pg_advise_strs_add(&v->references, buf)) < 0)
					goto out;
			}
			nlines++;
		}
	}
	for (i = 0; i < nlines; i++)
		if (!strcmp(lines[i].key, "mainline") && (!ml || (!is_zero(lines[i].fs) && is_zero(ml->fs))))
			ml = &lines[i];
	for (i = 0; i < v->fix_commits.n; i++) {
		snprintf(buf, sizeof(buf), "https://git.kernel.org/stable/c/%s", v->fix_commits.v[i]);
		if ((error = pg_advise_strs_add(&v->references, buf)) < 0)
			goto out;
	}

	if (v->rejected) {
		/* A rejected id: every product is not affected by it, with the reason as evidence. */
		const char *pid;
		pg_advise_state *s;
		if ((error = add_upstream_product(doc, branch ? want : "mainline", vendor, &pid)) < 0 ||
		    (error = pg_advise_vuln_add_state(&s, v, pid, PG_ADVISE_NOT_AFFECTED)) < 0)
			goto out;
		snprintf(buf, sizeof(buf), "%s was rejected by the kernel CNA: %s", id, v->rejection_reason);
		if ((error = pg_advise_set(&s->evidence, buf)) < 0)
			goto out;
	} else {
		const char *mfix = ml && !is_zero(ml->fs) ? ml->fs : v->fix_commits.n ? v->fix_commits.v[0] : NULL;
		const char *mfixv = ml && !is_zero(ml->fv) ? ml->fv : NULL;
		for (i = 0; i < nlines; i++) {
			struct line *l = &lines[i];
			const char *pid;
			pg_advise_state *s;
			char label[96];
			const pg_advise_state *have;

			if (branch && strcmp(l->key, want))
				continue;
			if ((error = add_upstream_product(doc, l->key, vendor, &pid)) < 0)
				goto out;
			want_found = 1;
			if ((have = pg_advise__state(v, pid))) {
				/* two lines for one series: keep the one with a fix, then the later fix */
				pg_kver a, b;
				if (!is_zero(have->fix_sha) || is_zero(l->fs))
					if (is_zero(l->fs) || !have->fix_version || is_zero(l->fv) ||
					    pg_kver_parse(&a, have->fix_version) < 0 || pg_kver_parse(&b, l->fv) < 0 ||
					    pg_kver_cmp(&a, &b) >= 0)
						continue;
				/* replace the weaker line's state */
				for (size_t k = 0; k < v->nstates; k++)
					if (&v->states[k] == have) {
						pg_advise__state_reset(&v->states[k]);
						s = &v->states[k];
					}
			} else if ((error = pg_advise_vuln_add_state(&s, v, pid, PG_ADVISE_UNDER_INVESTIGATION)) < 0)
				goto out;
			snprintf(label, sizeof(label), "%s%s", strcmp(l->key, "mainline") ? l->key : "mainline",
				 strcmp(l->key, "mainline") ? ".y" : "");
			if ((error = state_from_line(s, l, label, mfix, mfixv)) < 0)
				goto out;
		}
		/* mainline always holds the fix of a published CVE, even without a dyad line */
		if ((!branch || !strcmp(want, "mainline")) && !ml && mfix) {
			const char *pid;
			pg_advise_state *s;
			if ((error = add_upstream_product(doc, "mainline", NULL, &pid)) < 0 ||
			    (error = pg_advise_vuln_add_state(&s, v, pid, PG_ADVISE_FIXED)) < 0 ||
			    (error = pg_advise_set(&s->fix_sha, mfix)) < 0 ||
			    (error = pg_advise_set(&s->evidence, "the kernel CNA names this mainline fixing commit")) < 0)
				goto out;
			want_found = 1;
		}
		if (branch && !want_found) {
			const char *pid;
			pg_advise_state *s;
			char label[96];
			snprintf(label, sizeof(label), "%s.y", want);
			if ((error = add_upstream_product(doc, want, vendor, &pid)) < 0 ||
			    (error = pg_advise_vuln_add_state(&s, v, pid, PG_ADVISE_UNDER_INVESTIGATION)) < 0 ||
			    (error = infer_state(s, want, ml, label)) < 0)
				goto out;
		}
	}
	if (vendor) {
		/* say where a vendor branch's verdict comes from */
		for (i = 0; i < v->nstates; i++) {
			pg_advise_state *s = &v->states[i];
			pg_buf eb = PG_BUF_INIT;
			if ((error = pg_buf_printf(&eb, "from the upstream %s.y line that %s follows: %s", want, vendor,
						   s->evidence ? s->evidence : "no detail")) < 0) {
				pg_buf_release(&eb);
				goto out;
			}
			free(s->evidence);
			s->evidence = pg_buf_detach(&eb);
		}
	}
	if ((error = pg_advise_doc_normalize(doc)) < 0) {
		pg_error_prefix("CNA record %s", id);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	free(lines);
	pg_advise_doc_free(doc);
	return error;
}

int pg_advise_load_cna_file(pg_advise_doc **out, const char *path, const char *cve_id, const char *branch)
{
	pg_jsonl *r = NULL;
	json_t *rec = NULL;
	const char *line;
	size_t len;
	char needle[80];
	int error;

	*out = NULL;
	if (strncmp(cve_id, "CVE-", 4) || strlen(cve_id) > 40)
		return pg_error_setc(PG_EINVALID, "'%s' is not a CVE id", cve_id);
	snprintf(needle, sizeof(needle), "\"%s\"", cve_id);
	if ((error = pg_jsonl_open(&r, path, 0)) < 0)
		return error;
	/* parse only the lines that mention the id: 11k records, one wanted */
	while ((error = pg_jsonl_next_line(r, &line, &len)) > 0) {
		json_t *idv;
		if (!strstr(line, needle))
			continue;
		if ((error = pg_json_parse(&rec, line, len, path)) < 0) {
			pg_error_prefix("line %zu", pg_jsonl_lineno(r));
			goto out;
		}
		idv = json_object_get(rec, "id");
		if (json_is_string(idv) && !strcmp(json_string_value(idv), cve_id))
			break;
		json_decref(rec);
		rec = NULL;
	}
	if (error < 0)
		goto out;
	if (!rec) {
		error = pg_error_setc(PG_ENOTFOUND, "%s is not in '%s'", cve_id, path);
		goto out;
	}
	if ((error = pg_advise_load_cna_record(out, rec, branch)) < 0)
		pg_error_prefix("%s", path);
out:
	json_decref(rec);
	pg_jsonl_free(r);
	return error;
}
