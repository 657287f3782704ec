/*
 * model.c - the advisory model: lifecycle, canonical order, validation,
 * and its JSON form (load and write; see doc/internals/advise.md).
 *
 * Invariant after pg_advise_doc_normalize(): products sorted (mainline,
 * stable by version descending, vendor by name; whole branch before its
 * builds), vulnerabilities by id, each vulnerability's states in product
 * order, string lists sorted and deduplicated; ids are unique and every
 * state names an existing product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise/advise_int.h"
#include "util/json.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

#define GROW(ptr, n, alloc) \
	pg_vec__grow((void **)&(ptr), &(alloc), sizeof(*(ptr)), (n) + 1)

int pg_advise_set(char **field, const char *s)
{
	char *c = NULL;
	if (s && !(c = pg_strdup(s)))
		return PG_ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

int pg_advise_doc_new(pg_advise_doc **out, const char *id)
{
	pg_advise_doc *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d || pg_advise_set(&d->id, id) < 0 ||
	    pg_advise_set(&d->publisher, "patchgap") < 0 ||
	    pg_advise_set(&d->namespace_url, "https://patchgap.invalid/advisories") < 0 ||
	    pg_advise_set(&d->scope, "upstream") < 0) {
		pg_advise_doc_free(d);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	*out = d;
	return 0;
}

static void strs_release(pg_advise_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void pg_advise__state_reset(pg_advise_state *s)
{
	free(s->vuln_version);
	free(s->vuln_sha);
	free(s->fix_version);
	free(s->fix_sha);
	free(s->justification);
	free(s->evidence);
	free(s->remediation);
	s->vuln_version = s->vuln_sha = s->fix_version = s->fix_sha = NULL;
	s->justification = s->evidence = s->remediation = NULL;
	s->status = PG_ADVISE_UNDER_INVESTIGATION;
}

static void state_release(pg_advise_state *s)
{
	free(s->product);
	pg_advise__state_reset(s);
}

static void vuln_release(pg_advise_vuln *v)
{
	free(v->id);
	free(v->title);
	free(v->description);
	free(v->cwe);
	free(v->bug_class);
	free(v->cvss_vector);
	free(v->cvss_severity);
	free(v->rejection_reason);
	strs_release(&v->fix_commits);
	strs_release(&v->introducing_commits);
	strs_release(&v->program_files);
	strs_release(&v->references);
	for (size_t i = 0; i < v->nstates; i++)
		state_release(&v->states[i]);
	free(v->states);
}

void pg_advise_doc_free(pg_advise_doc *d)
{
	if (!d)
		return;
	free(d->id);
	free(d->title);
	free(d->scope);
	free(d->focus_branch);
	free(d->publisher);
	free(d->namespace_url);
	for (size_t i = 0; i < d->nproducts; i++) {
		free(d->products[i].id);
		free(d->products[i].branch);
		free(d->products[i].build);
		free(d->products[i].repo);
	}
	free(d->products);
	for (size_t i = 0; i < d->nvulns; i++)
		vuln_release(&d->vulns[i]);
	free(d->vulns);
	for (size_t i = 0; i < d->nrevisions; i++) {
		free(d->revisions[i].summary);
		free(d->revisions[i].content_hash);
	}
	free(d->revisions);
	free(d);
}

int pg_advise_doc_add_product(pg_advise_product **out, pg_advise_doc *doc, const char *id,
			      const char *branch, pg_advise_kind kind, const char *build)
{
	pg_advise_product *p;
	if (GROW(doc->products, doc->nproducts, doc->aproducts) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	p = &doc->products[doc->nproducts];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (pg_advise_set(&p->id, id) < 0 || pg_advise_set(&p->branch, branch) < 0 ||
	    pg_advise_set(&p->build, build) < 0) {
		free(p->id);
		free(p->branch);
		free(p->build);
		return PG_ENOMEM;
	}
	doc->nproducts++;
	if (out)
		*out = p;
	return 0;
}

int pg_advise_doc_add_vuln(pg_advise_vuln **out, pg_advise_doc *doc, const char *id)
{
	pg_advise_vuln *v;
	if (GROW(doc->vulns, doc->nvulns, doc->avulns) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	v = &doc->vulns[doc->nvulns];
	memset(v, 0, sizeof(*v));
	if (pg_advise_set(&v->id, id) < 0)
		return PG_ENOMEM;
	doc->nvulns++;
	if (out)
		*out = v;
	return 0;
}

int pg_advise_vuln_add_state(pg_advise_state **out, pg_advise_vuln *v, const char *product,
			     pg_advise_status status)
{
	pg_advise_state *s;
	if (GROW(v->states, v->nstates, v->astates) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	s = &v->states[v->nstates];
	memset(s, 0, sizeof(*s));
	s->status = status;
	if (pg_advise_set(&s->product, product) < 0)
		return PG_ENOMEM;
	v->nstates++;
	if (out)
		*out = s;
	return 0;
}

int pg_advise_strs_add(pg_advise_strs *s, const char *str)
{
	char *c;
	if (GROW(s->v, s->n, s->alloc) < 0 || !(c = pg_strdup(str)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	s->v[s->n++] = c;
	return 0;
}

const pg_advise_product *pg_advise_doc_product(const pg_advise_doc *doc, const char *id)
{
	for (size_t i = 0; i < doc->nproducts; i++)
		if (!strcmp(doc->products[i].id, id))
			return &doc->products[i];
	return NULL;
}

static const char *const status_names[] = { "under_investigation", "affected", "fixed", "not_affected" };
static const char *const kind_names[] = { "mainline", "stable", "vendor" };

const char *pg_advise_status_name(pg_advise_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "under_investigation";
}

int pg_advise_status_parse(pg_advise_status *out, const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, status_names[i])) {
			*out = (pg_advise_status)i;
			return 0;
		}
	return pg_error_setc(PG_EINVALID,
			     "'%s' is not a status (affected, fixed, not_affected, under_investigation)",
			     s ? s : "(null)");
}

const char *pg_advise_kind_name(pg_advise_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "vendor";
}

int pg_advise_kind_parse(pg_advise_kind *out, const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, kind_names[i])) {
			*out = (pg_advise_kind)i;
			return 0;
		}
	return pg_error_setc(PG_EINVALID, "'%s' is not a branch kind (mainline, stable, vendor)",
			     s ? s : "(null)");
}

/* ---- shared helpers (advise_int.h) ---- */

int pg_advise__dump(pg_buf *out, const json_t *json)
{
	int error = pg_json_dump(out, json, 2);
	return error < 0 ? error : pg_buf_putc(out, '\n');
}

int pg_advise__set_new(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory building JSON");
	return 0;
}

int pg_advise__append_new(json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory building JSON");
	return 0;
}

int pg_advise__set_str(json_t *obj, const char *key, const char *s)
{
	return s ? pg_advise__set_new(obj, key, pg_json_string(s)) : 0;
}

json_t *pg_advise__date(int64_t t)
{
	char buf[32];
	pg_time_iso8601(buf, sizeof(buf), t);
	return json_string(buf);
}

int pg_advise__is_cve(const char *id)
{
	return id && !strncmp(id, "CVE-", 4);
}

void pg_advise__product_label(char *buf, size_t size, const pg_advise_product *p)
{
	const char *b = p->branch ? p->branch : p->id;
	pg_kver v;
	int isver = p->kind == PG_ADVISE_STABLE && pg_kver_parse(&v, b) == 0 && !v.patch && !v.rc;
	if (p->build)
		snprintf(buf, size, "%s%s (%s)", b, isver ? ".y" : "", p->build);
	else
		snprintf(buf, size, "%s%s", b, isver ? ".y" : "");
}

const pg_advise_state *pg_advise__state(const pg_advise_vuln *v, const char *product)
{
	for (size_t i = 0; i < v->nstates; i++)
		if (!strcmp(v->states[i].product, product))
			return &v->states[i];
	return NULL;
}

void pg_advise__branch_key(char *buf, size_t size, const char *name)
{
	const char *p = name;
	size_t n;
	if (!strncmp(p, "linux-", 6))
		p += 6;
	if (*p == 'v' && p[1] >= '0' && p[1] <= '9')
		p++;
	snprintf(buf, size, "%s", p);
	n = strlen(buf);
	if (n > 2 && (!strcmp(buf + n - 2, ".y") || !strcmp(buf + n - 2, ".x")))
		buf[n - 2] = 0;
	if (!strcmp(buf, "master") || !strcmp(buf, "linus") || !strcmp(buf, "upstream"))
		snprintf(buf, size, "mainline");
}

/* ---- normalisation ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strs_sort(pg_advise_strs *s)
{
	size_t i, j;
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(char *), cmp_str);
	for (i = 1, j = 1; i < s->n; i++) {
		if (!strcmp(s->v[i], s->v[j - 1]))
			free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->n = j;
}

static int cmp_product(const void *pa, const void *pb)
{
	const pg_advise_product *a = pa, *b = pb;
	pg_kver va, vb;
	int ra, rb, c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->branch ? a->branch : "", b->branch ? b->branch : "");
	if (c) {
		ra = a->branch && pg_kver_parse(&va, a->branch) == 0;
		rb = b->branch && pg_kver_parse(&vb, b->branch) == 0;
		if (ra && rb)
			return -pg_kver_cmp(&va, &vb); /* newest series first */
		if (ra != rb)
			return ra ? -1 : 1;
		return c;
	}
	if (!a->build != !b->build)
		return a->build ? 1 : -1;
	if (a->build && (c = strcmp(a->build, b->build)))
		return c;
	return strcmp(a->id, b->id);
}

static int cmp_vuln(const void *a, const void *b)
{
	return strcmp(((const pg_advise_vuln *)a)->id, ((const pg_advise_vuln *)b)->id);
}

static const pg_advise_doc *sort_doc; /* qsort has no context argument in C11 */

static size_t product_index(const pg_advise_doc *doc, const char *id)
{
	for (size_t i = 0; i < doc->nproducts; i++)
		if (!strcmp(doc->products[i].id, id))
			return i;
	return (size_t)-1;
}

static int cmp_state(const void *a, const void *b)
{
	size_t ia = product_index(sort_doc, ((const pg_advise_state *)a)->product);
	size_t ib = product_index(sort_doc, ((const pg_advise_state *)b)->product);
	return ia < ib ? -1 : ia > ib;
}

/* Replace invalid UTF-8 by U+FFFD so that no writer fails on user data. */
static int repair(char **field)
{
	json_t *j;
	int error = 0;
	if (!*field)
		return 0;
	if (!(j = pg_json_string(*field)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (strcmp(json_string_value(j), *field))
		error = pg_advise_set(field, json_string_value(j));
	json_decref(j);
	return error;
}

static int repair_strs(pg_advise_strs *s)
{
	int error = 0;
	for (size_t i = 0; i < s->n && !error; i++)
		error = repair(&s->v[i]);
	return error;
}

static int repair_doc(pg_advise_doc *d)
{
	int e = 0;
	e |= repair(&d->id) | repair(&d->title) | repair(&d->scope) | repair(&d->focus_branch) |
	     repair(&d->publisher) | repair(&d->namespace_url);
	for (size_t i = 0; i < d->nproducts; i++) {
		pg_advise_product *p = &d->products[i];
		e |= repair(&p->id) | repair(&p->branch) | repair(&p->build) | repair(&p->repo);
	}
	for (size_t i = 0; i < d->nvulns; i++) {
		pg_advise_vuln *v = &d->vulns[i];
		e |= repair(&v->id) | repair(&v->title) | repair(&v->description) | repair(&v->cwe) |
		     repair(&v->bug_class) | repair(&v->cvss_vector) | repair(&v->cvss_severity) |
		     repair(&v->rejection_reason);
		e |= repair_strs(&v->fix_commits) | repair_strs(&v->introducing_commits) |
		     repair_strs(&v->program_files) | repair_strs(&v->references);
		for (size_t j = 0; j < v->nstates; j++) {
			pg_advise_state *s = &v->states[j];
			e |= repair(&s->product) | repair(&s->vuln_version) | repair(&s->vuln_sha) |
			     repair(&s->fix_version) | repair(&s->fix_sha) | repair(&s->justification) |
			     repair(&s->evidence) | repair(&s->remediation);
		}
	}
	return e ? PG_ENOMEM : 0;
}

static int check_sha(const char *what, const char *vid, const char *sha)
{
	if (sha && !pg_str_is_sha(sha))
		return pg_error_setc(PG_EINVALID, "%s '%s' of %s is not a 40-hex commit id", what, sha, vid);
	return 0;
}

int pg_advise_doc_normalize(pg_advise_doc *doc)
{
	size_t i, j;
	int error;

	if (!doc->id || !*doc->id)
		return pg_error_setc(PG_EINVALID, "the advisory has no document id");
	if (!doc->nproducts)
		return pg_error_setc(PG_EINVALID, "advisory '%s' lists no product (tracked branch)", doc->id);
	if ((error = repair_doc(doc)) < 0)
		return error;
	if (doc->nproducts > 1) /* qsort(NULL, 0) is undefined */
		qsort(doc->products, doc->nproducts, sizeof(*doc->products), cmp_product);
	for (i = 0; i < doc->nproducts; i++) {
		if (!doc->products[i].id || !*doc->products[i].id)
			return pg_error_setc(PG_EINVALID, "product %zu has no id", i + 1);
		for (j = 0; j < i; j++)
			if (!strcmp(doc->products[i].id, doc->products[j].id))
				return pg_error_setc(PG_EINVALID, "product id '%s' appears twice", doc->products[i].id);
	}
	if (doc->nvulns > 1)
		qsort(doc->vulns, doc->nvulns, sizeof(*doc->vulns), cmp_vuln);
	for (i = 0; i < doc->nvulns; i++) {
		pg_advise_vuln *v = &doc->vulns[i];
		if (!v->id || !*v->id)
			return pg_error_setc(PG_EINVALID, "vulnerability %zu has no id", i + 1);
		if (i && !strcmp(v->id, doc->vulns[i - 1].id))
			return pg_error_setc(PG_EINVALID, "vulnerability '%s' appears twice", v->id);
		strs_sort(&v->fix_commits);
		strs_sort(&v->introducing_commits);
		strs_sort(&v->program_files);
		strs_sort(&v->references);
		for (j = 0; j < v->fix_commits.n; j++)
			if ((error = check_sha("fix commit", v->id, v->fix_commits.v[j])) < 0)
				return error;
		for (j = 0; j < v->introducing_commits.n; j++)
			if ((error = check_sha("introducing commit", v->id, v->introducing_commits.v[j])) < 0)
				return error;
		for (j = 0; j < v->nstates; j++) {
			pg_advise_state *s = &v->states[j];
			if (product_index(doc, s->product) == (size_t)-1)
				return pg_error_setc(PG_EINVALID, "vulnerability '%s' has a status for unknown product '%s'",
						     v->id, s->product);
			if ((error = check_sha("vulnerable commit", v->id, s->vuln_sha)) < 0 ||
			    (error = check_sha("fix commit", v->id, s->fix_sha)) < 0)
				return error;
			if (s->justification && s->status != PG_ADVISE_NOT_AFFECTED)
				return pg_error_setc(PG_EINVALID, "vulnerability '%s' on '%s': a justification needs status not_affected",
						     v->id, s->product);
		}
		sort_doc = doc;
		if (v->nstates > 1)
			qsort(v->states, v->nstates, sizeof(*v->states), cmp_state);
		sort_doc = NULL;
		for (j = 1; j < v->nstates; j++)
			if (!strcmp(v->states[j].product, v->states[j - 1].product))
				return pg_error_setc(PG_EINVALID, "vulnerability '%s' has two statuses for product '%s'",
						     v->id, v->states[j].product);
	}
	return 0;
}

/* ---- JSON form ---- */

#define MODEL_SCHEMA "patchgap-advisory-model/1"

static json_t *strs_json(const pg_advise_strs *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n; i++)
		if (json_array_append_new(a, json_string(s->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *model_json(const pg_advise_doc *doc)
{
	json_t *root = json_object(), *prods = json_array(), *vulns = json_array(), *o;
	int e = 0;

	if (!root || !prods || !vulns) {
		json_decref(root);
		json_decref(prods);
		json_decref(vulns);
		return NULL;
	}
	e |= pg_advise__set_new(root, "products", prods);
	e |= pg_advise__set_new(root, "vulnerabilities", vulns);
	e |= pg_advise__set_str(root, "schema", MODEL_SCHEMA);
	e |= pg_advise__set_str(root, "id", doc->id);
	e |= pg_advise__set_str(root, "title", doc->title);
	e |= pg_advise__set_str(root, "scope", doc->scope);
	e |= pg_advise__set_str(root, "focus_branch", doc->focus_branch);
	e |= pg_advise__set_new(root, "publisher", json_pack("{s:s?,s:s?}", "name", doc->publisher,
								  "namespace", doc->namespace_url));
	if (doc->data_date)
		e |= pg_advise__set_new(root, "data_date", pg_advise__date(doc->data_date));
	for (size_t i = 0; !e && i < doc->nproducts; i++) {
		const pg_advise_product *p = &doc->products[i];
		o = json_pack("{s:s,s:s?,s:s,s:b}", "id", p->id, "branch", p->branch,
			      "kind", pg_advise_kind_name(p->kind), "has_tags", p->has_tags);
		if (o) {
			e |= pg_advise__set_str(o, "build", p->build);
			e |= pg_advise__set_str(o, "repo", p->repo);
		}
		e |= pg_advise__append_new(prods, o);
	}
	for (size_t i = 0; !e && i < doc->nvulns; i++) {
		const pg_advise_vuln *v = &doc->vulns[i];
		json_t *states = json_array();
		o = json_object();
		e |= pg_advise__append_new(vulns, o);
		if (e || !states) {
			json_decref(states);
			e = 1;
			break;
		}
		e |= pg_advise__set_new(o, "states", states);
		e |= pg_advise__set_str(o, "id", v->id);
		e |= pg_advise__set_str(o, "title", v->title);
		e |= pg_advise__set_str(o, "description", v->description);
		e |= pg_advise__set_str(o, "cwe", v->cwe);
		e |= pg_advise__set_str(o, "bug_class", v->bug_class);
		if (v->cvss_vector)
			e |= pg_advise__set_new(o, "cvss", json_pack("{s:s,s:f,s:s?}", "vector", v->cvss_vector,
								     "score", v->cvss_score, "severity", v->cvss_severity));
		if (v->rejected) {
			e |= pg_advise__set_new(o, "rejected", json_true());
			e |= pg_advise__set_str(o, "rejection_reason", v->rejection_reason);
		}
		if (v->published)
			e |= pg_advise__set_new(o, "published", pg_advise__date(v->published));
		if (v->modified)
			e |= pg_advise__set_new(o, "modified", pg_advise__date(v->modified));
		e |= pg_advise__set_new(o, "fix_commits", strs_json(&v->fix_commits));
		e |= pg_advise__set_new(o, "introducing_commits", strs_json(&v->introducing_commits));
		e |= pg_advise__set_new(o, "program_files", strs_json(&v->program_files));
		e |= pg_advise__set_new(o, "references", strs_json(&v->references));
		for (size_t j = 0; !e && j < v->nstates; j++) {
			const pg_advise_state *s = &v->states[j];
			json_t *so = json_object();
			e |= pg_advise__append_new(states, so);
			if (e)
				break;
			e |= pg_advise__set_str(so, "product", s->product);
			e |= pg_advise__set_str(so, "status", pg_advise_status_name(s->status));
			e |= pg_advise__set_str(so, "vuln_version", s->vuln_version);
			e |= pg_advise__set_str(so, "vuln_sha", s->vuln_sha);
			e |= pg_advise__set_str(so, "fix_version", s->fix_version);
			e |= pg_advise__set_str(so, "fix_sha", s->fix_sha);
			e |= pg_advise__set_str(so, "justification", s->justification);
			e |= pg_advise__set_str(so, "evidence", s->evidence);
			e |= pg_advise__set_str(so, "remediation", s->remediation);
		}
	}
	if (e) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int pg_advise_write_model(pg_buf *out, const pg_advise_doc *doc)
{
	json_t *j = model_json(doc);
	int error;
	if (!j)
		return pg_error_setc(PG_ENOMEM, "cannot build the model JSON of '%s'", doc->id);
	error = pg_advise__dump(out, j);
	json_decref(j);
	return error;
}

/* Loader: strict about types, names the file and member in every error. */
struct lctx {
	const char *src;
	char where[160];
};

static int get_str(char **field, struct lctx *c, json_t *obj, const char *key, int required)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return pg_error_setc(PG_EINVALID, "%s: %s has no '%s'", c->src, c->where, key);
		return 0;
	}
	if (!json_is_string(v))
		return pg_error_setc(PG_EINVALID, "%s: %s: '%s' must be a string", c->src, c->where, key);
	return pg_advise_set(field, json_string_value(v));
}

static int get_date(int64_t *out, struct lctx *c, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || pg_time_parse(out, json_string_value(v)) < 0)
		return pg_error_setc(PG_EINVALID, "%s: %s: '%s' must be an ISO 8601 date", c->src, c->where, key);
	return 0;
}

static int get_strs(pg_advise_strs *s, struct lctx *c, json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key), *e;
	size_t i;
	int error;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return pg_error_setc(PG_EINVALID, "%s: %s: '%s' must be an array of strings", c->src, c->where, key);
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return pg_error_setc(PG_EINVALID, "%s: %s: '%s'[%zu] must be a string", c->src, c->where, key, i);
		if ((error = pg_advise_strs_add(s, json_string_value(e))) < 0)
			return error;
	}
	return 0;
}

static int load_vuln(pg_advise_doc *doc, struct lctx *c, json_t *o, size_t idx)
{
	pg_advise_vuln *v;
	json_t *cv, *states, *so;
	size_t i;
	char *id = NULL;
	int error;

	snprintf(c->where, sizeof(c->where), "vulnerabilities[%zu]", idx);
	if (!json_is_object(o))
		return pg_error_setc(PG_EINVALID, "%s: %s must be an object", c->src, c->where);
	if ((error = get_str(&id, c, o, "id", 1)) < 0)
		return error;
	error = pg_advise_doc_add_vuln(&v, doc, id);
	free(id);
	if (error < 0)
		return error;
	snprintf(c->where, sizeof(c->where), "vulnerability '%s'", v->id);
	if ((error = get_str(&v->title, c, o, "title", 0)) < 0 ||
	    (error = get_str(&v->description, c, o, "description", 0)) < 0 ||
	    (error = get_str(&v->cwe, c, o, "cwe", 0)) < 0 ||
	    (error = get_str(&v->bug_class, c, o, "bug_class", 0)) < 0 ||
	    (error = get_str(&v->rejection_reason, c, o, "rejection_reason", 0)) < 0 ||
	    (error = get_date(&v->published, c, o, "published")) < 0 ||
	    (error = get_date(&v->modified, c, o, "modified")) < 0 ||
	    (error = get_strs(&v->fix_commits, c, o, "fix_commits")) < 0 ||
	    (error = get_strs(&v->introducing_commits, c, o, "introducing_commits")) < 0 ||
	    (error = get_strs(&v->program_files, c, o, "program_files")) < 0 ||
	    (error = get_strs(&v->references, c, o, "references")) < 0)
		return error;
	v->rejected = json_is_true(json_object_get(o, "rejected"));
	if ((cv = json_object_get(o, "cvss")) && !json_is_null(cv)) {
		json_t *score = json_object_get(cv, "score");
		if (!json_is_object(cv) || !json_is_number(score))
			return pg_error_setc(PG_EINVALID, "%s: %s: 'cvss' needs 'vector' and a numeric 'score'",
					     c->src, c->where);
		v->cvss_score = json_number_value(score);
		if (v->cvss_score < 0 || v->cvss_score > 10)
			return pg_error_setc(PG_EINVALID, "%s: %s: CVSS score %g is out of range 0..10",
					     c->src, c->where, v->cvss_score);
		if ((error = get_str(&v->cvss_vector, c, cv, "vector", 1)) < 0 ||
		    (error = get_str(&v->cvss_severity, c, cv, "severity", 0)) < 0)
			return error;
	}
	states = json_object_get(o, "states");
	if (states && !json_is_array(states))
		return pg_error_setc(PG_EINVALID, "%s: %s: 'states' must be an array", c->src, c->where);
	json_array_foreach(states, i, so) {
		pg_advise_state *s;
		char *prod = NULL, *st = NULL;
		pg_advise_status status;
		snprintf(c->where, sizeof(c->where), "vulnerability '%s' states[%zu]", v->id, i);
		if (!json_is_object(so))
			return pg_error_setc(PG_EINVALID, "%s: %s must be an object", c->src, c->where);
		if ((error = get_str(&prod, c, so, "product", 1)) < 0 ||
		    (error = get_str(&st, c, so, "status", 1)) < 0 ||
		    (error = pg_advise_status_parse(&status, st)) < 0) {
			if (error == PG_EINVALID && prod && st)
				pg_error_prefix("%s: %s", c->src, c->where);
			free(prod);
			free(st);
			return error;
		}
		error = pg_advise_vuln_add_state(&s, v, prod, status);
		free(prod);
		free(st);
		if (error < 0 ||
		    (error = get_str(&s->vuln_version, c, so, "vuln_version", 0)) < 0 ||
		    (error = get_str(&s->vuln_sha, c, so, "vuln_sha", 0)) < 0 ||
		    (error = get_str(&s->fix_version, c, so, "fix_version", 0)) < 0 ||
		    (error = get_str(&s->fix_sha, c, so, "fix_sha", 0)) < 0 ||
		    (error = get_str(&s->justification, c, so, "justification", 0)) < 0 ||
		    (error = get_str(&s->evidence, c, so, "evidence", 0)) < 0 ||
		    (error = get_str(&s->remediation, c, so, "remediation", 0)) < 0)
			return error;
	}
	return 0;
}

int pg_advise_load_json(pg_advise_doc **out, const char *text, const char *src)
{
	json_t *root = NULL, *a, *o, *pub;
	pg_advise_doc *doc = NULL;
	struct lctx c = { src, "the document" };
	char *id = NULL, *str = NULL;
	size_t i;
	int error = 0;

	*out = NULL;
	if ((error = pg_json_parse(&root, text, strlen(text), src)) < 0)
		return error;
	if (!json_is_object(root)) {
		error = pg_error_setc(PG_EINVALID, "%s: the advisory model must be a JSON object", src);
		goto out;
	}
	if ((error = get_str(&str, &c, root, "schema", 0)) < 0)
		goto out;
	if (str && strcmp(str, MODEL_SCHEMA)) {
		error = pg_error_setc(PG_EINVALID, "%s: unknown model schema '%s' (want '%s')", src, str, MODEL_SCHEMA);
		goto out;
	}
	if ((error = get_str(&id, &c, root, "id", 1)) < 0 || (error = pg_advise_doc_new(&doc, id)) < 0)
		goto out;
	if ((error = get_str(&doc->title, &c, root, "title", 0)) < 0 ||
	    (error = get_str(&doc->scope, &c, root, "scope", 0)) < 0 ||
	    (error = get_str(&doc->focus_branch, &c, root, "focus_branch", 0)) < 0 ||
	    (error = get_date(&doc->data_date, &c, root, "data_date")) < 0)
		goto out;
	if ((pub = json_object_get(root, "publisher")) && json_is_object(pub)) {
		snprintf(c.where, sizeof(c.where), "publisher");
		if ((error = get_str(&doc->publisher, &c, pub, "name", 0)) < 0 ||
		    (error = get_str(&doc->namespace_url, &c, pub, "namespace", 0)) < 0)
			goto out;
	}
	a = json_object_get(root, "products");
	if (!json_is_array(a)) {
		error = pg_error_setc(PG_EINVALID, "%s: 'products' must be an array", src);
		goto out;
	}
	json_array_foreach(a, i, o) {
		pg_advise_product *p;
		pg_advise_kind kind = PG_ADVISE_STABLE;
		char *pid = NULL, *kname = NULL;
		snprintf(c.where, sizeof(c.where), "products[%zu]", i);
		if (!json_is_object(o)) {
			error = pg_error_setc(PG_EINVALID, "%s: %s must be an object", src, c.where);
			goto out;
		}
		if ((error = get_str(&pid, &c, o, "id", 1)) < 0 || (error = get_str(&kname, &c, o, "kind", 0)) < 0 ||
		    (kname && (error = pg_advise_kind_parse(&kind, kname)) < 0) ||
		    (error = pg_advise_doc_add_product(&p, doc, pid, NULL, kind, NULL)) < 0) {
			if (error == PG_EINVALID && kname)
				pg_error_prefix("%s: %s", src, c.where);
			free(pid);
			free(kname);
			goto out;
		}
		free(pid);
		free(kname);
		if ((error = get_str(&p->branch, &c, o, "branch", 0)) < 0 ||
		    (error = get_str(&p->build, &c, o, "build", 0)) < 0 ||
		    (error = get_str(&p->repo, &c, o, "repo", 0)) < 0)
			goto out;
		if (!p->branch && (error = pg_advise_set(&p->branch, p->id)) < 0)
			goto out;
		p->has_tags = json_is_true(json_object_get(o, "has_tags"));
	}
	a = json_object_get(root, "vulnerabilities");
	if (!json_is_array(a)) {
		error = pg_error_setc(PG_EINVALID, "%s: 'vulnerabilities' must be an array", src);
		goto out;
	}
	json_array_foreach(a, i, o)
		if ((error = load_vuln(doc, &c, o, i)) < 0)
			goto out;
	if (!doc->data_date)
		for (i = 0; i < doc->nvulns; i++) {
			if (doc->vulns[i].published > doc->data_date)
				doc->data_date = doc->vulns[i].published;
			if (doc->vulns[i].modified > doc->data_date)
				doc->data_date = doc->vulns[i].modified;
		}
	if ((error = pg_advise_doc_normalize(doc)) < 0) {
		pg_error_prefix("%s", src);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	free(id);
	free(str);
	pg_advise_doc_free(doc);
	json_decref(root);
	return error;
}

int pg_advise_load_json_file(pg_advise_doc **out, const char *path)
{
	pg_buf b = PG_BUF_INIT;
	int error;
	*out = NULL;
	pg_buf_init(&b, (size_t)256 << 20);
	if ((error = pg_buf_read_file(&b, path)) == 0)
		error = pg_advise_load_json(out, pg_buf_cstr(&b), path);
	pg_buf_release(&b);
	return error;
}
