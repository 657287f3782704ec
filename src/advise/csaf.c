/*
 * csaf.c - CSAF 2.0 documents with the csaf_vex profile.
 *
 * product_tree: vendor "Linux" > product_name "Linux kernel" > one
 * product_version_range node per tracked branch ("6.1.y", "mainline",
 * "debian-6.1"); a branch with .config builds gets one "specification"
 * child per build (and "all builds" for the branch itself).  Product ids
 * are the model's product ids, so they are stable across revisions.
 * Per vulnerability: product_status (known_affected / fixed /
 * known_not_affected / under_investigation), remediations (vendor_fix
 * with the fixing release/commit for fixed products, none_available with
 * "backport needed" for affected ones), flags with the VEX justification
 * and a threats/impact entry with the evidence for every not-affected
 * product, CVSS v3 scores for the affected and fixed products.
 * tracking: id = document id, version = revision number, revision_history
 * from the revision ledger, dates from the data (never the clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/banned.h"

static json_t *product_leaf(const pg_advise_product *p)
{
	char name[240], label[160];
	pg_advise__product_label(label, sizeof(label), p);
	snprintf(name, sizeof(name), "Linux kernel %s", label);
	return json_pack("{s:s,s:s}", "product_id", p->id, "name", name);
}

static json_t *product_tree(const pg_advise_doc *doc)
{
	json_t *versions = json_array(), *tree;
	int e = 0;

	if (!versions)
		return NULL;
	/* products are sorted: a branch's entries are adjacent, whole branch first */
	for (size_t i = 0; i < doc->nproducts;) {
		const pg_advise_product *p = &doc->products[i];
		char label[160];
		size_t j = i + 1;
		int builds = p->build != NULL;
		while (j < doc->nproducts && doc->products[j].kind == p->kind && p->branch && doc->products[j].branch &&
		       !strcmp(doc->products[j].branch, p->branch)) {
			builds |= doc->products[j].build != NULL;
			j++;
		}
		{
			pg_advise_product whole = *p;
			whole.build = NULL;
			pg_advise__product_label(label, sizeof(label), &whole);
		}
		if (!builds) {
			e |= pg_advise__append_new(versions, json_pack("{s:s,s:s,s:o}", "category", "product_version_range",
								       "name", label, "product", product_leaf(p)));
		} else {
			json_t *kids = json_array();
			for (size_t k = i; kids && k < j; k++) {
				const pg_advise_product *q = &doc->products[k];
				char bname[200];
				snprintf(bname, sizeof(bname), "%s%s", q->build ? "build " : "all builds",
					 q->build ? q->build : "");
				e |= pg_advise__append_new(kids, json_pack("{s:s,s:s,s:o}", "category", "specification",
									   "name", bname, "product", product_leaf(q)));
			}
			e |= pg_advise__append_new(versions, json_pack("{s:s,s:s,s:o}", "category", "product_version_range",
								       "name", label, "branches", kids));
		}
		i = j;
	}
	tree = json_pack("{s:[{s:s,s:s,s:[{s:s,s:s,s:o}]}]}", "branches", "category", "vendor", "name", "Linux",
			 "branches", "category", "product_name", "name", "Linux kernel", "branches", versions);
	if (e) {
		json_decref(tree);
		return NULL;
	}
	return tree;
}

static int push_id(json_t *obj, const char *key, const char *pid)
{
	json_t *a = json_object_get(obj, key);
	if (!a) {
		if (pg_advise__set_new(obj, key, json_array()) < 0)
			return PG_ENOMEM;
		a = json_object_get(obj, key);
	}
	return pg_advise__append_new(a, json_string(pid));
}

static json_t *vulnerability(const pg_advise_doc *doc, const pg_advise_vuln *v)
{
	json_t *o = json_object(), *ps = json_object(), *rem = json_array(), *flags = json_array(),
	       *threats = json_array(), *notes = json_array(), *refs = json_array(), *scored = json_array();
	int e = 0;

	if (!o || !ps || !rem || !flags || !threats || !notes || !refs || !scored)
		e = 1;
	if (!e && pg_advise__is_cve(v->id))
		e |= pg_advise__set_str(o, "cve", v->id);
	else if (!e)
		e |= pg_advise__set_new(o, "ids", json_pack("[{s:s,s:s}]", "system_name", "patchgap", "text", v->id));
	if (!e)
		e |= pg_advise__set_str(o, "title", v->title);
	if (!e && v->published)
		e |= pg_advise__set_new(o, "release_date", pg_advise__date(v->published));
	if (!e && v->cwe && pg_str_starts_with(v->cwe, "CWE-"))
		e |= pg_advise__set_new(o, "cwe", json_pack("{s:s,s:s}", "id", v->cwe, "name",
							    v->bug_class ? v->bug_class : v->cwe));
	if (!e && v->rejected)
		e |= pg_advise__append_new(notes, json_pack("{s:s,s:s,s:s}", "category", "general", "title", "Rejected",
							    "text", v->rejection_reason ? v->rejection_reason : "rejected"));
	if (!e)
		e |= pg_advise__append_new(notes, json_pack("{s:s,s:s,s:s}", "category", "description", "title",
							    "Description", "text",
							    v->description ? v->description : v->title ? v->title : v->id));
	if (!e && v->program_files.n) {
		pg_buf b = PG_BUF_INIT;
		for (size_t i = 0; i < v->program_files.n; i++)
			e |= pg_buf_printf(&b, "%s%s", i ? "\n" : "", v->program_files.v[i]) < 0;
		e |= pg_advise__append_new(notes, json_pack("{s:s,s:s,s:s}", "category", "details", "title",
							    "Files involved", "text", pg_buf_cstr(&b)));
		pg_buf_release(&b);
	}
	for (size_t i = 0; !e && i < v->nstates; i++) {
		const pg_advise_state *s = &v->states[i];
		const char *pid = s->product;
		switch (s->status) {
		case PG_ADVISE_AFFECTED:
			e |= push_id(ps, "known_affected", pid) < 0;
			e |= pg_advise__append_new(rem, json_pack("{s:s,s:s,s:[s]}", "category", "none_available", "details",
								  s->remediation ? s->remediation : "backport needed",
								  "product_ids", pid));
			e |= pg_advise__append_new(scored, json_string(pid));
			break;
		case PG_ADVISE_FIXED: {
			char buf[600];
			json_t *r;
			e |= push_id(ps, "fixed", pid) < 0;
			if (s->remediation)
				snprintf(buf, sizeof(buf), "%s", s->remediation);
			else
				snprintf(buf, sizeof(buf), "fixed%s%s%s%s", s->fix_version ? " in " : "",
					 s->fix_version ? s->fix_version : "", s->fix_sha ? " by commit " : "",
					 s->fix_sha ? s->fix_sha : "");
			r = json_pack("{s:s,s:s,s:[s]}", "category", "vendor_fix", "details", buf, "product_ids", pid);
			if (r && s->fix_sha) {
				snprintf(buf, sizeof(buf), "https://git.kernel.org/stable/c/%s", s->fix_sha);
				if (pg_advise_doc_product(doc, pid)->kind != PG_ADVISE_VENDOR)
					json_object_set_new(r, "url", json_string(buf));
			}
			e |= pg_advise__append_new(rem, r);
			e |= pg_advise__append_new(scored, json_string(pid));
			break;
		}
		case PG_ADVISE_NOT_AFFECTED:
			e |= push_id(ps, "known_not_affected", pid) < 0;
			if (s->justification) {
				/* one flag per justification label; append to an existing one */
				json_t *f = NULL, *it;
				size_t k;
				json_array_foreach(flags, k, it)
					if (!strcmp(json_string_value(json_object_get(it, "label")), s->justification))
						f = it;
				if (f)
					e |= pg_advise__append_new(json_object_get(f, "product_ids"), json_string(pid));
				else
					e |= pg_advise__append_new(flags, json_pack("{s:s,s:[s]}", "label", s->justification,
										    "product_ids", pid));
			}
			e |= pg_advise__append_new(threats, json_pack("{s:s,s:s,s:[s]}", "category", "impact", "details",
								      s->evidence ? s->evidence : "not affected",
								      "product_ids", pid));
			break;
		default:
			e |= push_id(ps, "under_investigation", pid) < 0;
		}
	}
	if (e)
		goto fail;
	if (json_object_size(ps))
		e |= pg_advise__set_new(o, "product_status", json_incref(ps));
	if (json_array_size(rem))
		e |= pg_advise__set_new(o, "remediations", json_incref(rem));
	if (json_array_size(flags))
		e |= pg_advise__set_new(o, "flags", json_incref(flags));
	if (json_array_size(threats))
		e |= pg_advise__set_new(o, "threats", json_incref(threats));
	e |= pg_advise__set_new(o, "notes", json_incref(notes));
	for (size_t i = 0; i < v->references.n; i++)
		e |= pg_advise__append_new(refs, json_pack("{s:s,s:s,s:s}", "category", "external", "summary",
							   strstr(v->references.v[i], "/c/") ? "fixing commit" : "reference",
							   "url", v->references.v[i]));
	if (json_array_size(refs))
		e |= pg_advise__set_new(o, "references", json_incref(refs));
	if (v->cvss_vector && json_array_size(scored) &&
	    (pg_str_starts_with(v->cvss_vector, "CVSS:3.1/") || pg_str_starts_with(v->cvss_vector, "CVSS:3.0/"))) {
		json_t *c = json_pack("{s:s,s:s,s:f}", "version", pg_str_starts_with(v->cvss_vector, "CVSS:3.1/") ? "3.1" : "3.0",
				      "vectorString", v->cvss_vector, "baseScore", v->cvss_score);
		if (c && v->cvss_severity)
			json_object_set_new(c, "baseSeverity", json_string(v->cvss_severity));
		e |= pg_advise__set_new(o, "scores", json_pack("[{s:o,s:O}]", "cvss_v3", c, "products", scored));
	}
	if (e)
		goto fail;
	json_decref(ps);
	json_decref(rem);
	json_decref(flags);
	json_decref(threats);
	json_decref(notes);
	json_decref(refs);
	json_decref(scored);
	return o;
fail:
	json_decref(o);
	json_decref(ps);
	json_decref(rem);
	json_decref(flags);
	json_decref(threats);
	json_decref(notes);
	json_decref(refs);
	json_decref(scored);
	return NULL;
}

int pg_advise_write_csaf(pg_buf *out, const pg_advise_doc *doc)
{
	json_t *root = NULL, *hist, *vulns, *tracking;
	char ver[32];
	int error = 0, e = 0;
	size_t naff = 0, nfix = 0, nna = 0;

	for (size_t i = 0; i < doc->nvulns; i++)
		for (size_t j = 0; j < doc->vulns[i].nstates; j++) {
			pg_advise_status s = doc->vulns[i].states[j].status;
			naff += s == PG_ADVISE_AFFECTED;
			nfix += s == PG_ADVISE_FIXED;
			nna += s == PG_ADVISE_NOT_AFFECTED;
		}
	snprintf(ver, sizeof(ver), "%d", doc->nrevisions ? doc->revisions[doc->nrevisions - 1].number : 1);
	if (!(hist = json_array())) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < doc->nrevisions; i++) {
		char num[32];
		snprintf(num, sizeof(num), "%d", doc->revisions[i].number);
		e |= pg_advise__append_new(hist, json_pack("{s:s,s:o,s:s}", "number", num, "date",
							   pg_advise__date(doc->revisions[i].date), "summary",
							   doc->revisions[i].summary ? doc->revisions[i].summary : "revision"));
	}
	if (!doc->nrevisions)
		e |= pg_advise__append_new(hist, json_pack("{s:s,s:o,s:s}", "number", "1", "date",
							   pg_advise__date(doc->current_date), "summary", "Initial version"));
	tracking = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:{s:{s:s,s:s},s:o}}", "id", doc->id, "status", "final",
			     "version", ver, "initial_release_date", pg_advise__date(doc->initial_date),
			     "current_release_date", pg_advise__date(doc->current_date), "revision_history", hist,
			     "generator", "engine", "name", "patchgap", "version", PG_VERSION, "date",
			     pg_advise__date(doc->current_date));
	{
		char summary[512];
		snprintf(summary, sizeof(summary),
			 "VEX statement for %zu vulnerabilit%s on %zu tracked kernel branch%s: %zu affected, %zu fixed, "
			 "%zu not affected.",
			 doc->nvulns, doc->nvulns == 1 ? "y" : "ies", doc->nproducts, doc->nproducts == 1 ? "" : "es",
			 naff, nfix, nna);
		root = json_pack("{s:{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:o,s:[{s:s,s:s,s:s}],s:{s:s,s:{s:s}}},s:o,s:[]}",
				 "document", "category", "csaf_vex", "csaf_version", "2.0", "lang", "en", "title",
				 doc->title ? doc->title : doc->id, "publisher", "category", "other", "name",
				 doc->publisher ? doc->publisher : "patchgap", "namespace",
				 doc->namespace_url ? doc->namespace_url : "https://patchgap.invalid", "tracking", tracking,
				 "notes", "category", "summary", "title", "Summary", "text", summary, "distribution",
				 "text", "Public.", "tlp", "label", "WHITE", "product_tree", product_tree(doc),
				 "vulnerabilities");
	}
	if (!root || e) {
		error = pg_error_setc(PG_ENOMEM, "out of memory building the CSAF document '%s'", doc->id);
		goto out;
	}
	vulns = json_object_get(root, "vulnerabilities");
	for (size_t i = 0; i < doc->nvulns; i++)
		if (pg_advise__append_new(vulns, vulnerability(doc, &doc->vulns[i])) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory building the CSAF document '%s'", doc->id);
			goto out;
		}
	error = pg_advise__dump(out, root);
out:
	json_decref(root);
	return error;
}
