/*
 * osv.c - OSV 1.7 entries.
 *
 * Identity: the id is "x_" (OSV's prefix for local databases) followed by
 * the document id ("x_PGAP-CVE-2025-21629"; with several vulnerabilities in
 * one document: "x_<doc id>-<vuln id>"); a CVE is listed in aliases.
 * Ecosystem: "Linux" (OSV's ecosystem for the kernel, package "Kernel") for
 * mainline and stable lines; "Linux:<branch>" for a vendor tree.
 * One affected[] entry per affected or fixed product (branch/build):
 *   GIT range on the branch's repo: introduced = introducing commit (full
 *   40 hex, "0" when unknown), fixed = the branch's fixing commit;
 *   ECOSYSTEM range with the release versions when the branch has release
 *   tags and both are known.
 * Products that are not affected or unknown are listed in
 * database_specific (OSV has no negative statement).  A rejected
 * vulnerability sets "withdrawn".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/banned.h"

static json_t *affected_entry(const pg_advise_doc *doc, const pg_advise_product *p, const pg_advise_state *s)
{
	char eco[200], label[160];
	json_t *a, *ranges, *ev;
	int e = 0;

	pg_advise__product_label(label, sizeof(label), p);
	if (p->kind == PG_ADVISE_VENDOR)
		snprintf(eco, sizeof(eco), "%s:%s", PG_ADVISE_OSV_ECOSYSTEM, p->branch ? p->branch : p->id);
	else
		snprintf(eco, sizeof(eco), "%s", PG_ADVISE_OSV_ECOSYSTEM);
	a = json_pack("{s:{s:s,s:s},s:[],s:{s:s,s:s,s:s}}", "package", "ecosystem", eco, "name", "Kernel",
		      "ranges", "ecosystem_specific", "product", p->id, "branch", label, "status",
		      pg_advise_status_name(s->status));
	if (!a)
		return NULL;
	ranges = json_object_get(a, "ranges");
	if (p->build)
		e |= pg_advise__set_str(json_object_get(a, "ecosystem_specific"), "build", p->build);
	if (s->evidence || s->remediation) {
		json_t *ds = json_object();
		e |= pg_advise__set_new(a, "database_specific", ds);
		if (ds) {
			e |= pg_advise__set_str(ds, "evidence", s->evidence);
			e |= pg_advise__set_str(ds, "remediation", s->remediation);
		}
	}
	if (s->vuln_sha || s->fix_sha) {
		ev = json_pack("[{s:s}]", "introduced", s->vuln_sha ? s->vuln_sha : "0");
		if (ev && s->status == PG_ADVISE_FIXED && s->fix_sha)
			e |= pg_advise__append_new(ev, json_pack("{s:s}", "fixed", s->fix_sha));
		e |= pg_advise__append_new(ranges, json_pack("{s:s,s:s,s:o}", "type", "GIT", "repo",
							     p->repo ? p->repo : PG_ADVISE_KERNEL_REPO, "events", ev));
	}
	if (p->has_tags && (s->vuln_version || (s->status == PG_ADVISE_FIXED && s->fix_version))) {
		ev = json_pack("[{s:s}]", "introduced", s->vuln_version ? s->vuln_version : "0");
		if (ev && s->status == PG_ADVISE_FIXED && s->fix_version)
			e |= pg_advise__append_new(ev, json_pack("{s:s}", "fixed", s->fix_version));
		e |= pg_advise__append_new(ranges, json_pack("{s:s,s:o}", "type", "ECOSYSTEM", "events", ev));
	}
	if (!json_array_size(ranges)) {
		/* affected with nothing known: every version of the branch */
		ev = json_pack("[{s:s}]", "introduced", "0");
		e |= pg_advise__append_new(ranges, json_pack("{s:s,s:o}", "type", "ECOSYSTEM", "events", ev));
	}
	(void)doc;
	if (e) {
		json_decref(a);
		return NULL;
	}
	return a;
}

int pg_advise_write_osv(pg_buf *out, const pg_advise_doc *doc, size_t vi)
{
	const pg_advise_vuln *v;
	json_t *root = NULL, *affected, *refs, *ds, *na, *ui;
	pg_buf id = PG_BUF_INIT, details = PG_BUF_INIT;
	int error = 0, e = 0;

	if (vi >= doc->nvulns)
		return pg_error_setc(PG_EINVALID, "advisory '%s' has no vulnerability #%zu", doc->id, vi + 1);
	v = &doc->vulns[vi];
	if (doc->nvulns == 1)
		error = pg_buf_printf(&id, "x_%s", doc->id);
	else
		error = pg_buf_printf(&id, "x_%s-%s", doc->id, v->id);
	if (error < 0)
		goto out;
	if (!(root = json_pack("{s:s,s:s,s:o,s:o,s:[],s:[]}", "schema_version", "1.7.5", "id", pg_buf_cstr(&id),
			       "modified", pg_advise__date(doc->current_date), "published",
			       pg_advise__date(doc->initial_date), "affected", "references"))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	affected = json_object_get(root, "affected");
	refs = json_object_get(root, "references");
	if (pg_advise__is_cve(v->id))
		e |= pg_advise__set_new(root, "aliases", json_pack("[s]", v->id));
	e |= pg_advise__set_str(root, "summary", v->title);
	if (v->rejected) {
		e |= pg_advise__set_new(root, "withdrawn", pg_advise__date(v->modified ? v->modified : doc->current_date));
		if ((error = pg_buf_printf(&details, "REJECTED: %s\n", v->rejection_reason ? v->rejection_reason : "")) < 0)
			goto out;
	}
	if (v->description && (error = pg_buf_printf(&details, "%s\n", v->description)) < 0)
		goto out;
	if (v->cvss_vector && pg_str_starts_with(v->cvss_vector, "CVSS:3"))
		e |= pg_advise__set_new(root, "severity", json_pack("[{s:s,s:s}]", "type", "CVSS_V3", "score", v->cvss_vector));
	ds = json_pack("{s:s,s:i,s:s?,s:[],s:[]}", "document", doc->id, "revision",
		       doc->nrevisions ? doc->revisions[doc->nrevisions - 1].number : 1, "scope", doc->scope,
		       "not_affected", "under_investigation");
	e |= pg_advise__set_new(root, "database_specific", ds);
	if (e || !ds) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	na = json_object_get(ds, "not_affected");
	ui = json_object_get(ds, "under_investigation");
	if (v->program_files.n) {
		json_t *pf = json_array();
		for (size_t i = 0; pf && i < v->program_files.n; i++)
			json_array_append_new(pf, json_string(v->program_files.v[i]));
		e |= pg_advise__set_new(ds, "program_files", pf);
	}
	if (v->cwe)
		e |= pg_advise__set_new(ds, "cwe_ids", json_pack("[s]", v->cwe));
	for (size_t i = 0; i < v->nstates; i++) {
		const pg_advise_state *s = &v->states[i];
		const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
		char label[160];
		pg_advise__product_label(label, sizeof(label), p);
		switch (s->status) {
		case PG_ADVISE_AFFECTED:
		case PG_ADVISE_FIXED:
			e |= pg_advise__append_new(affected, affected_entry(doc, p, s));
			break;
		case PG_ADVISE_NOT_AFFECTED:
			e |= pg_advise__append_new(na, json_pack("{s:s,s:s,s:s?,s:s?}", "product", p->id, "branch", label,
								 "justification", s->justification, "evidence", s->evidence));
			break;
		default:
			e |= pg_advise__append_new(ui, json_pack("{s:s,s:s,s:s?}", "product", p->id, "branch", label,
								 "evidence", s->evidence));
		}
		if ((error = pg_buf_printf(&details, "%s%s: %s%s%s\n", i ? "" : "\nStatus per branch:\n", label,
					   pg_advise_status_name(s->status), s->remediation ? " - " : "",
					   s->remediation ? s->remediation : "")) < 0)
			goto out;
	}
	if (!json_array_size(affected) && !v->rejected &&
	    (error = pg_buf_puts(&details, "No tracked branch is affected.\n")) < 0)
		goto out;
	e |= pg_advise__set_str(root, "details", pg_buf_cstr(&details));
	for (size_t i = 0; i < v->fix_commits.n; i++) {
		char url[200];
		snprintf(url, sizeof(url), "https://git.kernel.org/stable/c/%s", v->fix_commits.v[i]);
		e |= pg_advise__append_new(refs, json_pack("{s:s,s:s}", "type", "FIX", "url", url));
	}
	for (size_t i = 0; i < v->references.n; i++) {
		int dup = 0;
		for (size_t j = 0; j < v->fix_commits.n; j++)
			dup |= strstr(v->references.v[i], v->fix_commits.v[j]) != NULL;
		if (!dup)
			e |= pg_advise__append_new(refs, json_pack("{s:s,s:s}", "type",
								   strstr(v->references.v[i], "/c/") ? "FIX" : "WEB",
								   "url", v->references.v[i]));
	}
	if (e) {
		error = pg_error_setc(PG_ENOMEM, "out of memory building the OSV entry of %s", v->id);
		goto out;
	}
	error = pg_advise__dump(out, root);
out:
	pg_buf_release(&id);
	pg_buf_release(&details);
	json_decref(root);
	return error;
}
