/*
 * cve5.c - CVE JSON 5.1.1 records in the kernel CNA's style (bippy):
 *   affected[0]  defaultStatus "unaffected": one git range per branch
 *                (version = introducing commit, lessThan = fixing commit,
 *                no lessThan when the branch is still unfixed) plus a
 *                semver range for bugs introduced by a stable release;
 *   affected[1]  defaultStatus "affected" when mainline is affected: the
 *                mainline release that introduced it, "0" < it unaffected,
 *                every fixed stable series "X.Y.Z <= X.Y.*" unaffected and
 *                the mainline fix as original_commit_for_fix;
 * programFiles on each block, references to the fixing commits.  Each
 * vendor product gets its own git block ("Linux (<branch>)", its repo).  A document with no
 * affected product yields one explicit "unaffected" block; a rejected
 * vulnerability a REJECTED record with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/banned.h"

static json_t *program_files(const pg_advise_vuln *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->program_files.n; i++)
		json_array_append_new(a, json_string(v->program_files.v[i]));
	return a;
}

static json_t *new_block(const pg_advise_vuln *v, const char *product, const char *repo, const char *def)
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:[]}", "vendor", "Linux", "product", product, "defaultStatus", def,
			      "versions");
	if (b && repo)
		json_object_set_new(b, "repo", json_string(repo));
	if (b && v->program_files.n)
		json_object_set_new(b, "programFiles", program_files(v));
	return b;
}

/* "6.1.23" -> "6.2": the first version after the series. */
static void next_series(char *buf, size_t size, const char *ver)
{
	pg_kver k;
	if (pg_kver_parse(&k, ver) < 0)
		snprintf(buf, size, "*");
	else
		snprintf(buf, size, "%d.%d", k.major, k.minor + 1);
}

static int is_stable_version(const char *ver)
{
	pg_kver k;
	return ver && pg_kver_parse(&k, ver) == 0 && k.patch > 0;
}

/* vp NULL: the upstream block (mainline and stable, kernel repo); else one vendor product's block. */
static int add_git_block(json_t *affected, const pg_advise_doc *doc, const pg_advise_vuln *v,
			 const pg_advise_product *vp)
{
	char pname[200], label[160];
	json_t *b, *vers;
	int e = 0, upstream = vp == NULL;

	if (vp) {
		pg_advise__product_label(label, sizeof(label), vp);
		snprintf(pname, sizeof(pname), "Linux (%s)", label);
	}
	b = new_block(v, vp ? pname : "Linux", vp ? vp->repo : PG_ADVISE_KERNEL_REPO, "unaffected");
	if (!b)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	vers = json_object_get(b, "versions");
	for (size_t i = 0; i < v->nstates; i++) {
		const pg_advise_state *s = &v->states[i];
		const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
		if (vp ? p != vp : p->kind == PG_ADVISE_VENDOR)
			continue;
		if (s->status != PG_ADVISE_AFFECTED && s->status != PG_ADVISE_FIXED)
			continue;
		if (!s->vuln_sha && !s->fix_sha)
			continue;
		json_t *r = json_pack("{s:s,s:s,s:s}", "version", s->vuln_sha ? s->vuln_sha : "0",
				      "status", "affected", "versionType", "git");
		if (r && s->status == PG_ADVISE_FIXED && s->fix_sha)
			json_object_set_new(r, "lessThan", json_string(s->fix_sha));
		e |= pg_advise__append_new(vers, r);
	}
	/* bugs introduced by a stable release: semver range within the series */
	for (size_t i = 0; upstream && i < v->nstates; i++) {
		const pg_advise_state *s = &v->states[i];
		const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
		char end[32];
		if (p->kind != PG_ADVISE_STABLE || !is_stable_version(s->vuln_version) ||
		    (s->status != PG_ADVISE_AFFECTED && s->status != PG_ADVISE_FIXED))
			continue;
		if (s->status == PG_ADVISE_FIXED && s->fix_version)
			snprintf(end, sizeof(end), "%s", s->fix_version);
		else
			next_series(end, sizeof(end), s->vuln_version);
		e |= pg_advise__append_new(vers, json_pack("{s:s,s:s,s:s,s:s}", "version", s->vuln_version,
							   "lessThan", end, "status", "affected", "versionType", "semver"));
	}
	if (e) {
		json_decref(b);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	if (json_array_size(vers))
		return pg_advise__append_new(affected, b);
	json_decref(b);
	return 0;
}

/* The semver block: mainline's view plus the fixed stable series. */
static int add_semver_block(json_t *affected, const pg_advise_doc *doc, const pg_advise_vuln *v)
{
	const pg_advise_state *ml = NULL;
	json_t *b, *vers;
	int e = 0, mainline_affected;

	for (size_t i = 0; i < v->nstates; i++)
		if (pg_advise_doc_product(doc, v->states[i].product)->kind == PG_ADVISE_MAINLINE)
			ml = &v->states[i];
	mainline_affected = ml && (ml->status == PG_ADVISE_AFFECTED || ml->status == PG_ADVISE_FIXED);
	if (!(b = new_block(v, "Linux", PG_ADVISE_KERNEL_REPO, mainline_affected ? "affected" : "unaffected")))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	vers = json_object_get(b, "versions");
	if (mainline_affected && ml->vuln_version) {
		e |= pg_advise__append_new(vers, json_pack("{s:s,s:s}", "version", ml->vuln_version, "status", "affected"));
		e |= pg_advise__append_new(vers, json_pack("{s:s,s:s,s:s,s:s}", "version", "0", "lessThan",
							   ml->vuln_version, "status", "unaffected",
							   "versionType", "semver"));
	}
	for (size_t i = 0; i < v->nstates; i++) {
		const pg_advise_state *s = &v->states[i];
		const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
		pg_kver k;
		char upto[40];
		if (p->kind != PG_ADVISE_STABLE)
			continue;
		if (s->status == PG_ADVISE_FIXED && is_stable_version(s->fix_version) &&
		    pg_kver_parse(&k, s->fix_version) == 0) {
			snprintf(upto, sizeof(upto), "%d.%d.*", k.major, k.minor);
			e |= pg_advise__append_new(vers, json_pack("{s:s,s:s,s:s,s:s}", "version", s->fix_version,
								   "lessThanOrEqual", upto, "status", "unaffected",
								   "versionType", "semver"));
		} else if ((s->status == PG_ADVISE_UNDER_INVESTIGATION ||
			    (s->status == PG_ADVISE_NOT_AFFECTED && !mainline_affected)) &&
			   p->branch && pg_kver_parse(&k, p->branch) == 0) {
			/* say it explicitly: this series is not affected / not known */
			snprintf(upto, sizeof(upto), "%d.%d.*", k.major, k.minor);
			e |= pg_advise__append_new(vers, json_pack("{s:s,s:s,s:s,s:s}", "version", p->branch,
								   "lessThanOrEqual", upto, "status",
								   s->status == PG_ADVISE_NOT_AFFECTED ? "unaffected" : "unknown",
								   "versionType", "semver"));
		}
	}
	if (ml && ml->status == PG_ADVISE_FIXED && ml->fix_version)
		e |= pg_advise__append_new(vers, json_pack("{s:s,s:s,s:s,s:s}", "version", ml->fix_version,
							   "lessThanOrEqual", "*", "status", "unaffected",
							   "versionType", "original_commit_for_fix"));
	if (e) {
		json_decref(b);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	if (!json_array_size(vers) && !json_array_size(affected)) {
		/* nothing affected and no version to name: say it with the default status only */
		int unknown = 0;
		for (size_t i = 0; i < v->nstates; i++)
			unknown |= v->states[i].status == PG_ADVISE_UNDER_INVESTIGATION;
		json_object_del(b, "versions");
		json_object_set_new(b, "defaultStatus", json_string(unknown ? "unknown" : "unaffected"));
	}
	if (json_array_size(vers) || !json_array_size(affected))
		return pg_advise__append_new(affected, b);
	json_decref(b);
	return 0;
}

static json_t *provider(const pg_advise_doc *doc)
{
	return json_pack("{s:s,s:o}", "orgId", PG_ADVISE_CNA_ORG_ID, "dateUpdated", pg_advise__date(doc->current_date));
}

static json_t *x_patchgap(const pg_advise_doc *doc)
{
	return json_pack("{s:s,s:i,s:s?}", "document", doc->id,
			 "revision", doc->nrevisions ? doc->revisions[doc->nrevisions - 1].number : 1,
			 "scope", doc->scope);
}

int pg_advise_write_cve5(pg_buf *out, const pg_advise_doc *doc, size_t vi)
{
	const pg_advise_vuln *v;
	json_t *root = NULL, *cna, *meta, *affected, *refs, *descs;
	int error = 0, e = 0;

	if (vi >= doc->nvulns)
		return pg_error_setc(PG_EINVALID, "advisory '%s' has no vulnerability #%zu", doc->id, vi + 1);
	v = &doc->vulns[vi];
	if (!pg_advise__is_cve(v->id))
		return pg_error_setc(PG_EINVALID, "CVE JSON 5 needs a CVE id; '%s' (in '%s') is not one", v->id, doc->id);
	root = json_pack("{s:s,s:s}", "dataType", "CVE_RECORD", "dataVersion", "5.1.1");
	meta = json_pack("{s:s,s:s}", "cveId", v->id, "assignerOrgId", PG_ADVISE_CNA_ORG_ID);
	cna = json_object();
	if (!root || !meta || !cna) {
		json_decref(meta);
		json_decref(cna);
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	e |= pg_advise__set_new(root, "cveMetadata", meta);
	e |= pg_advise__set_new(root, "containers", json_pack("{s:o}", "cna", cna));
	e |= pg_advise__set_new(cna, "providerMetadata", provider(doc));
	e |= pg_advise__set_new(cna, "x_patchgap", x_patchgap(doc));
	e |= pg_advise__set_new(meta, "dateUpdated", pg_advise__date(doc->current_date));
	if (v->rejected) {
		e |= pg_advise__set_str(meta, "state", "REJECTED");
		e |= pg_advise__set_new(meta, "dateRejected", pg_advise__date(v->modified ? v->modified : doc->current_date));
		e |= pg_advise__set_new(cna, "rejectedReasons",
					json_pack("[{s:s,s:s}]", "lang", "en", "value",
						  v->rejection_reason ? v->rejection_reason : "This CVE ID has been rejected."));
		goto dump;
	}
	e |= pg_advise__set_str(meta, "state", "PUBLISHED");
	if (v->published)
		e |= pg_advise__set_new(meta, "datePublished", pg_advise__date(v->published));
	e |= pg_advise__set_new(cna, "x_generator", json_pack("{s:s}", "engine", "patchgap-" PG_VERSION));
	e |= pg_advise__set_str(cna, "title", v->title);
	descs = json_pack("[{s:s,s:s}]", "lang", "en", "value",
			  v->description ? v->description : v->title ? v->title : v->id);
	e |= pg_advise__set_new(cna, "descriptions", descs);
	if (v->cvss_vector && (pg_str_starts_with(v->cvss_vector, "CVSS:3.1/") ||
			       pg_str_starts_with(v->cvss_vector, "CVSS:3.0/"))) {
		int v31 = pg_str_starts_with(v->cvss_vector, "CVSS:3.1/");
		json_t *m = json_pack("{s:s,s:s,s:f}", "version", v31 ? "3.1" : "3.0", "vectorString", v->cvss_vector,
				      "baseScore", v->cvss_score);
		if (m && v->cvss_severity)
			json_object_set_new(m, "baseSeverity", json_string(v->cvss_severity));
		e |= pg_advise__set_new(cna, "metrics", json_pack("[{s:o}]", v31 ? "cvssV3_1" : "cvssV3_0", m));
	}
	if (v->cwe)
		e |= pg_advise__set_new(cna, "problemTypes",
					json_pack("[{s:[{s:s,s:s,s:s,s:s}]}]", "descriptions", "lang", "en",
						  "description", v->cwe, "cweId", v->cwe, "type", "CWE"));
	if (!(affected = json_array()) || pg_advise__set_new(cna, "affected", affected) < 0) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = add_git_block(affected, doc, v, NULL)) < 0)
		goto out;
	/* vendor trees: one git block per product (its own repository, when known) */
	for (size_t i = 0; i < doc->nproducts; i++)
		if (doc->products[i].kind == PG_ADVISE_VENDOR &&
		    (error = add_git_block(affected, doc, v, &doc->products[i])) < 0)
			goto out;
	if ((error = add_semver_block(affected, doc, v)) < 0)
		goto out;
	if (!(refs = json_array()) || pg_advise__set_new(cna, "references", refs) < 0) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < v->references.n; i++)
		e |= pg_advise__append_new(refs, json_pack("{s:s}", "url", v->references.v[i]));
	if (!json_array_size(refs))
		e |= pg_advise__append_new(refs, json_pack("{s:s}", "url", PG_ADVISE_KERNEL_REPO));
dump:
	if (e) {
		error = pg_error_setc(PG_ENOMEM, "out of memory building the CVE record of %s", v->id);
		goto out;
	}
	error = pg_advise__dump(out, root);
out:
	json_decref(root);
	return error;
}
