/*
 * api.c - the /api/v1 routes (doc/api.md, doc/openapi.json).
 *
 * Each route validates its query parameters (an unknown one is a 400
 * naming it), calls the library function the matching CLI verb calls, and
 * answers JSON.  Decisions overlay the engine's verdicts through
 * pg_triage_apply_status / pg_triage_latest, as in `patchgap status`.
 * Nothing here builds SQL except the read of the watch daemon's events
 * table, which may not exist (then the list is empty; it is not created).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <microhttpd.h>
#include <git2.h>
#include "web/web_int.h"
#include "patchgap/advise.h"
#include "patchgap/affect.h"
#include "patchgap/backport.h"
#include "patchgap/classify.h"
#include "patchgap/cve.h"
#include "patchgap/ingest.h"
#include "patchgap/watch.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

#define PAGE_SIZE 50

/* r->conn is NULL for the server's own warm-up requests: they carry no query */
static const char *arg(struct pg_web_req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

struct argcheck {
	const char *const *allowed;
	char bad[80];
};

static enum MHD_Result check_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct argcheck *a = cls;
	(void)kind, (void)value;
	for (const char *const *p = a->allowed; *p; p++)
		if (!strcmp(*p, key))
			return MHD_YES;
	snprintf(a->bad, sizeof(a->bad), "%s", key);
	return MHD_NO;
}

/* 0 when every query parameter is one of allowed (NULL-terminated); else a 400 is set. */
static int check_args(struct pg_web_req *r, const char *const *allowed)
{
	struct argcheck a = { allowed, "" };
	if (r->conn)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_one, &a);
	if (!a.bad[0])
		return 0;
	pg_web__error(r, 400, a.bad, "unknown query parameter '%s'", a.bad);
	return -1;
}

/* Map a library failure to an answer: unknown things 404, bad input 400, the rest 500. */
static void fail(struct pg_web_req *r, int error, const char *field)
{
	int status = error == PG_ENOTFOUND ? 404 : error == PG_EINVALID || error == PG_EAMBIGUOUS ? 400 : 500;
	pg_web__error(r, status, status == 400 ? field : NULL, "%s", pg_error_last());
}

static int parse_uint(long long *out, const char *s, long long max)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	*out = strtoll(s, &end, 10);
	return *end || *out > max ? -1 : 0;
}

static void get_branches(struct pg_web_req *r)
{
	static const char *const ok[] = { NULL };
	json_t *b = NULL;
	int error;
	if (check_args(r, ok) < 0)
		return;
	if ((error = pg_ingest_branches(&b, r->store)) < 0)
		return fail(r, error, NULL);
	pg_web__json(r, 200, b);
}

static int branch_status(json_t **out, struct pg_web_req *r, const char *branch, int all, const char *config)
{
	pg_status_options so = PG_STATUS_OPTIONS_INIT;
	int error;
	so.include_fixed = all;
	so.kconfig = config;
	*out = NULL;
	if ((error = pg_web__status(out, r, branch, &so)) == 0 && (error = pg_triage_apply_status(*out, r->store)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return error;
}

/* The branch must be tracked: a commit id is a valid status target for the CLI, not for this route. */
static int tracked(struct pg_web_req *r, const char *name)
{
	json_t *b = NULL, *e;
	size_t i;
	int found = 0;
	if (pg_ingest_branches(&b, r->store) < 0)
		return 0;
	json_array_foreach(b, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "name")), name))
			found = 1;
	json_decref(b);
	return found;
}

static void get_status(struct pg_web_req *r, const char *branch)
{
	static const char *const ok[] = { "all", NULL };
	const char *all = arg(r, "all");
	json_t *o = NULL;
	int error;
	if (check_args(r, ok) < 0)
		return;
	if (all && strcmp(all, "0") && strcmp(all, "1"))
		return pg_web__error(r, 400, "all", "'all' is 0 or 1");
	if (!tracked(r, branch))
		return pg_web__error(r, 404, NULL, "branch '%.100s' is not tracked", branch);
	if ((error = branch_status(&o, r, branch, all && !strcmp(all, "1"), NULL)) < 0)
		return fail(r, error, NULL);
	pg_web__json(r, 200, o);
}

static int sev_rank(const char *s)
{
	static const char *const names[] = { "none", "low", "medium", "high", "critical" };
	for (int i = 0; s && i < 5; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

static void get_cves(struct pg_web_req *r)
{
	static const char *const ok[] = { "state", "branch", "priority", "priority>", "since", "q", "page", NULL };
	const char *state = arg(r, "state"), *branch = arg(r, "branch"), *q = arg(r, "q");
	const char *prio = arg(r, "priority") ? arg(r, "priority") : arg(r, "priority>");
	const char *prio_field = arg(r, "priority") ? "priority" : "priority>";
	pg_cve_filter f = { NULL, NULL, NULL };
	json_t *list = NULL, *open = NULL, *items = NULL, *e;
	long long page = 1;
	int minsev = -1, error;
	size_t i, total = 0;

	if (check_args(r, ok) < 0)
		return;
	if (state && strcmp(state, "published") && strcmp(state, "rejected"))
		return pg_web__error(r, 400, "state", "'state' is published or rejected");
	if (arg(r, "page") && parse_uint(&page, arg(r, "page"), 1000000) < 0)
		return pg_web__error(r, 400, "page", "'page' is a number from 1");
	if (page < 1)
		return pg_web__error(r, 400, "page", "'page' is a number from 1");
	if (prio && (minsev = sev_rank(prio)) < 0)
		return pg_web__error(r, 400, prio_field, "'%s' is low, medium, high or critical", prio_field);
	if (q && strlen(q) > 200)
		return pg_web__error(r, 400, "q", "'q' is longer than 200 bytes");
	f.state = state;
	f.since = arg(r, "since");
	if ((error = pg_cve_list(&list, r->store, &f)) < 0)
		return fail(r, error, "since");
	if (branch) {
		json_t *st = NULL;
		if (!tracked(r, branch)) {
			json_decref(list);
			return pg_web__error(r, 400, "branch", "branch '%.100s' is not tracked", branch);
		}
		if ((error = branch_status(&st, r, branch, 0, NULL)) < 0) {
			json_decref(list);
			return fail(r, error, NULL);
		}
		open = json_object();
		json_array_foreach(json_object_get(st, "unfixed"), i, e)
			json_object_set(open, json_string_value(json_object_get(e, "id")), json_true());
		json_decref(st);
	}
	items = json_array();
	json_array_foreach(list, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *title = json_string_value(json_object_get(e, "title"));
		if (open && !json_object_get(open, id))
			continue;
		if (minsev >= 0 && sev_rank(json_string_value(json_object_get(e, "cvss_severity"))) < minsev)
			continue;
		if (q && !pg_str_find_ci(id, q) && !(title && pg_str_find_ci(title, q)))
			continue;
		if (total >= (size_t)(page - 1) * PAGE_SIZE && total < (size_t)page * PAGE_SIZE)
			json_array_append(items, e);
		total++;
	}
	pg_web__json(r, 200, json_pack("{s:o,s:I,s:I,s:I,s:I}", "items", items, "page", page, "page_size",
				       (json_int_t)PAGE_SIZE, "total", (json_int_t)total, "pages",
				       (json_int_t)((total + PAGE_SIZE - 1) / PAGE_SIZE)));
	json_decref(list);
	json_decref(open);
}

/* One CVE or fix: the record, the engine's per-branch verdicts with the decisions in force, the history. */
static void get_cve(struct pg_web_req *r, const char *id)
{
	static const char *const ok[] = { NULL };
	pg_affect_index *ix = NULL;
	json_t *af = NULL, *rec = NULL, *hist = NULL, *b, *ids;
	const char *name;
	int error;

	if (check_args(r, ok) < 0)
		return;
	if ((error = pg_web__index(&ix, r)) < 0 || (error = pg_affect_fix(&af, ix, id)) < 0)
		return fail(r, error, NULL);
	if (!strncmp(json_string_value(json_object_get(af, "id")), "CVE-", 4))
		error = pg_cve_show(&rec, r->store, json_string_value(json_object_get(af, "id")));
	else
		error = pg_ingest_show(&rec, r->store, json_string_value(json_array_get(json_object_get(af, "fixes"), 0)));
	if (error < 0 && error != PG_ENOTFOUND)
		goto fail;
	error = 0;
	if ((error = pg_triage_history(&hist, r->store, json_string_value(json_object_get(af, "id")), NULL)) < 0 &&
	    error != PG_ENOTFOUND)
		goto fail;
	if (!hist)
		hist = json_array();
	ids = json_array();
	json_array_append(ids, json_object_get(af, "id"));
	json_array_extend(ids, json_object_get(af, "fixes"));
	json_object_foreach(json_object_get(af, "branches"), name, b) {
		const char *v[64];
		size_t n = 0;
		json_t *d = NULL;
		for (; n < json_array_size(ids) && n < 64; n++)
			v[n] = json_string_value(json_array_get(ids, n));
		if ((error = pg_triage_latest(&d, r->store, v, n, name, NULL)) < 0) {
			json_decref(ids);
			goto fail;
		}
		pg_json_set(b, "engine", json_incref(json_object_get(b, "status")));
		pg_json_set(b, "state", d ? json_incref(json_object_get(d, "state")) : json_incref(json_object_get(b, "status")));
		pg_json_set(b, "decision", d ? d : json_null());
	}
	json_decref(ids);
	{
		/* recorded backport runs (patchgap backport --record) of every fix commit, with their live-patch verdicts */
		json_t *runs = json_array(), *fx;
		size_t k;
		json_array_foreach(json_object_get(af, "fixes"), k, fx) {
			void *one = NULL;
			if ((error = pg_backport_runs(&one, r->store, json_string_value(fx))) < 0) {
				json_decref(runs);
				goto fail;
			}
			json_array_extend(runs, one);
			json_decref(one);
		}
		pg_json_set(af, "backports", runs);
	}
	pg_json_set(af, "record", rec ? rec : json_null());
	pg_json_set(af, "decisions", hist);
	pg_web__json(r, 200, af);
	return;
fail:
	json_decref(af);
	json_decref(rec);
	json_decref(hist);
	fail(r, error, NULL);
}

static void get_commit(struct pg_web_req *r, const char *sha)
{
	static const char *const ok[] = { NULL };
	const pg_cls_model *m;
	json_t *o = NULL;
	int error;
	if (check_args(r, ok) < 0)
		return;
	if (pg_str_hexlen(sha, 41) != strlen(sha) || strlen(sha) < 4)
		return pg_web__error(r, 400, "sha", "'%.60s' is not a commit id (4 to 40 hex digits)", sha);
	if ((error = pg_ingest_show(&o, r->store, sha)) < 0)
		return fail(r, error, "sha");
	/* why the classifier scores it as it does: `patchgap explain --json`, top 20 features */
	if ((m = pg_web__model(r))) {
		pg_cls_explain e;
		char *full = NULL, *subject = NULL;
		git_repository *repo = NULL;
		int has_diff = 0;
		/* opened per request: a handle is cheap, and not shared between worker threads */
		if (pg_web__repository(r) &&
		    git_repository_open_ext(&repo, pg_web__repository(r), GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			repo = NULL; /* gone since the start: explained without the diff */
			git_error_clear();
		}
		error = pg_cls_explain_commit(&e, &full, &subject, &has_diff, r->store, repo, m, sha);
		git_repository_free(repo);
		if (error < 0) {
			json_decref(o);
			return fail(r, error, "sha");
		}
		pg_json_set(o, "explanation", pg_cls_explain_json(&e, m, full, subject, 20, has_diff));
		pg_cls_explain_release(&e);
		free(full);
		free(subject);
	} else {
		pg_json_set(o, "explanation", json_null());
	}
	pg_web__json(r, 200, o);
}

static void get_report(struct pg_web_req *r)
{
	static const char *const ok[] = { "branch", NULL };
	pg_report_input in = { 0 };
	pg_report rep;
	pg_buf b = PG_BUF_INIT;
	json_t *o = NULL;
	const char *branch = arg(r, "branch");
	int error;

	memset(&rep, 0, sizeof(rep));
	if (check_args(r, ok) < 0)
		return;
	if (branch && !tracked(r, branch))
		return pg_web__error(r, 400, "branch", "branch '%.100s' is not tracked", branch);
	if ((error = pg_report_load_store(&in, r->store, branch)) < 0 || (error = pg_report_compute(&rep, &in)) < 0 ||
	    (error = pg_report_write_json(&b, &rep)) < 0 ||
	    (error = pg_json_parse(&o, pg_buf_cstr(&b), b.len, "report")) < 0)
		fail(r, error, NULL);
	else
		pg_web__json(r, 200, o);
	pg_buf_release(&b);
	pg_report_release(&rep);
	pg_report_input_release(&in);
}

/* The watch daemon's outbox (pg_events_since): an absent table is an empty list. */
static void get_events(struct pg_web_req *r)
{
	static const char *const ok[] = { "after", "limit", NULL };
	long long after = 0, limit = 500;
	json_t *o = NULL;
	int error;

	if (check_args(r, ok) < 0)
		return;
	if (arg(r, "after") && parse_uint(&after, arg(r, "after"), (long long)1 << 62) < 0)
		return pg_web__error(r, 400, "after", "'after' is an event id (a number)");
	if (arg(r, "limit") && (parse_uint(&limit, arg(r, "limit"), 5000) < 0 || limit < 1))
		return pg_web__error(r, 400, "limit", "'limit' is a number from 1 to 5000");
	if ((error = pg_events_since(&o, r->store, after, (size_t)limit)) < 0)
		return fail(r, error, NULL);
	pg_web__json(r, 200, o);
}

static void get_advisory(struct pg_web_req *r, const char *id)
{
	static const char *const ok[] = { "format", "branch", NULL };
	const char *fname = arg(r, "format") ? arg(r, "format") : "openvex", *branch = arg(r, "branch");
	pg_advise_format f;
	pg_advise_doc *doc = NULL;
	pg_buf out = PG_BUF_INIT, name = PG_BUF_INIT;
	int error;

	if (check_args(r, ok) < 0)
		return;
	if (pg_advise_format_parse(&f, fname) < 0)
		return pg_web__error(r, 400, "format", "'format' is cve5, osv, csaf, openvex or text");
	if ((error = pg_advise_load_store(&doc, r->store, id, branch)) < 0 ||
	    (error = pg_advise_doc_finalize(doc, r->store, 0)) < 0 || (error = pg_advise_write(&out, f, doc, 0)) < 0) {
		pg_advise_doc_free(doc);
		pg_buf_release(&out);
		return fail(r, error, NULL);
	}
	r->status = 200;
	r->content_type = f == PG_ADVISE_TEXT ? "text/plain; charset=utf-8" : "application/json";
	if (pg_fs_safe_name(&name, doc->id, strlen(doc->id), pg_advise_format_ext(f)) == 0)
		snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%s\"", pg_buf_cstr(&name));
	pg_buf_release(&r->out);
	r->out = out;
	pg_buf_release(&name);
	pg_advise_doc_free(doc);
}

static void get_decisions(struct pg_web_req *r)
{
	static const char *const ok[] = { "target", "branch", NULL };
	json_t *h = NULL;
	int error;
	if (check_args(r, ok) < 0)
		return;
	if (!arg(r, "target"))
		return pg_web__error(r, 400, "target", "'target' (a CVE id or commit id) is required");
	if ((error = pg_triage_history(&h, r->store, arg(r, "target"), arg(r, "branch"))) < 0)
		return fail(r, error, "target");
	pg_web__json(r, 200, h);
}

static void post_decision(struct pg_web_req *r)
{
	static const char *const ok[] = { NULL };
	const char *bad_field = NULL;
	json_t *body = NULL, *row = NULL;
	pg_decision d;
	pg_store *w;
	int error;

	if (check_args(r, ok) < 0)
		return;
	if (pg_triage_parse_request(&body, &d, &bad_field, r->body, r->body_len) < 0)
		return pg_web__error(r, 400, bad_field, "%s", pg_error_last());
	d.author = r->who;
	d.created = (int64_t)time(NULL);
	if (!(w = r->writer(r->ctx))) {
		pg_web__error(r, 503, NULL, "cannot open the database for writing: %s", pg_error_last());
		goto out;
	}
	if ((error = pg_triage_decide(&row, &bad_field, w, &d)) < 0) {
		if (bad_field)
			pg_web__error(r, 400, bad_field, "%s", pg_error_last());
		else
			fail(r, error, NULL);
		goto out;
	}
	pg_web__json(r, 201, row);
out:
	json_decref(body);
}

/* Strip prefix p from path; the rest (may be "") or NULL. */
static const char *after(const char *path, const char *p)
{
	size_t n = strlen(p);
	return strncmp(path, p, n) ? NULL : path + n;
}

void pg_web__api(struct pg_web_req *r)
{
	const char *p = r->path, *rest;
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int post = !strcmp(r->method, "POST");

	r->status = 500;
	if (!strcmp(p, "/decisions")) {
		if (post)
			return post_decision(r);
		if (get)
			return get_decisions(r);
	} else if (!get) {
		return pg_web__error(r, 405, NULL, "%s is not allowed on %.100s", r->method, p);
	} else if (!strcmp(p, "/branches")) {
		return get_branches(r);
	} else if ((rest = after(p, "/branches/")) && strlen(rest) > 7 && !strcmp(rest + strlen(rest) - 7, "/status")) {
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(rest) - 7), rest);
		return get_status(r, name);
	} else if (!strcmp(p, "/cves")) {
		return get_cves(r);
	} else if ((rest = after(p, "/cves/")) && *rest && !strchr(rest, '/')) {
		return get_cve(r, rest);
	} else if ((rest = after(p, "/commits/")) && *rest && !strchr(rest, '/')) {
		return get_commit(r, rest);
	} else if (!strcmp(p, "/report")) {
		return get_report(r);
	} else if (!strcmp(p, "/events")) {
		return get_events(r);
	} else if ((rest = after(p, "/advisories/")) && *rest && !strchr(rest, '/')) {
		return get_advisory(r, rest);
	} else {
		return pg_web__error(r, 404, NULL, "no such resource: /api/v1%.200s", p);
	}
	pg_web__error(r, 405, NULL, "%s is not allowed on %.100s", r->method, p);
}
