/*
 * openvex.c - OpenVEX 0.2.0 documents: one statement per (vulnerability,
 * product), in model order.
 *
 * Product @id: "<repo>#<product id>" (the tracked branch of that tree; the
 * build, when there is one, is part of the product id), with a generic
 * purl "pkg:generic/linux@<branch>" as identifier.  not_affected carries the
 * justification when known and always an impact_statement (the evidence);
 * affected carries the action_statement (the remediation).  @id of the
 * document: "<namespace>/<doc id>"; version = revision number; timestamp =
 * revision 1's date, last_updated = the current revision's date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/banned.h"

static json_t *product(const pg_advise_product *p)
{
	char iri[600], purl[400], label[160];
	pg_advise__product_label(label, sizeof(label), p);
	snprintf(iri, sizeof(iri), "%s#%s", p->repo ? p->repo : PG_ADVISE_KERNEL_REPO, p->id);
	/* purl: name linux, the branch as version, the build as a qualifier */
	if (p->build)
		snprintf(purl, sizeof(purl), "pkg:generic/linux@%s?build=%s", p->branch ? p->branch : p->id, p->build);
	else
		snprintf(purl, sizeof(purl), "pkg:generic/linux@%s", p->branch ? p->branch : p->id);
	return json_pack("{s:s,s:{s:s}}", "@id", iri, "identifiers", "purl", purl);
}

int pg_advise_write_openvex(pg_buf *out, const pg_advise_doc *doc)
{
	json_t *root = NULL, *stmts;
	char id[600];
	int error = 0, e = 0;

	snprintf(id, sizeof(id), "%s/%s", doc->namespace_url ? doc->namespace_url : "https://patchgap.invalid", doc->id);
	root = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:i,s:s,s:[]}", "@context", "https://openvex.dev/ns/v0.2.0", "@id", id,
			 "author", doc->publisher ? doc->publisher : "patchgap", "role", "Document Creator", "timestamp",
			 pg_advise__date(doc->initial_date), "last_updated", pg_advise__date(doc->current_date), "version",
			 doc->nrevisions ? doc->revisions[doc->nrevisions - 1].number : 1, "tooling",
			 "patchgap " PG_VERSION, "statements");
	if (!root) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	stmts = json_object_get(root, "statements");
	for (size_t i = 0; i < doc->nvulns; i++) {
		const pg_advise_vuln *v = &doc->vulns[i];
		for (size_t j = 0; j < v->nstates; j++) {
			const pg_advise_state *s = &v->states[j];
			const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
			json_t *st = json_pack("{s:{s:s},s:[o],s:s}", "vulnerability", "name", v->id, "products", product(p),
					       "status", pg_advise_status_name(s->status));
			if (!st) {
				e = 1;
				break;
			}
			if (v->title)
				e |= pg_advise__set_str(json_object_get(st, "vulnerability"), "description", v->title);
			if (s->status == PG_ADVISE_NOT_AFFECTED) {
				e |= pg_advise__set_str(st, "justification", s->justification);
				e |= pg_advise__set_str(st, "impact_statement", s->evidence ? s->evidence : "not affected");
			} else {
				e |= pg_advise__set_str(st, "status_notes", s->evidence);
			}
			if (s->status == PG_ADVISE_AFFECTED)
				e |= pg_advise__set_str(st, "action_statement", s->remediation ? s->remediation : "backport needed");
			e |= pg_advise__append_new(stmts, st);
		}
	}
	if (e) {
		error = pg_error_setc(PG_ENOMEM, "out of memory building the OpenVEX document '%s'", doc->id);
		goto out;
	}
	error = pg_advise__dump(out, root);
out:
	json_decref(root);
	return error;
}
