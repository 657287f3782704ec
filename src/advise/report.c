/*
 * report.c - the patch-gap report: for every security fix that affected a
 * tracked branch, the timeline upstream commit -> first mainline release ->
 * stable release -> commit in the branch -> branch release tag, and the
 * exposure windows it implies.
 *
 * Definitions (days, 86400 s; see doc/internals/advise.md):
 *   window      branch_date - upstream_date, for fixes the branch has;
 *   tag window  branch_tag_date - upstream_date, where the branch tagged it;
 *   open age    as_of - upstream_date, for fixes the branch lacks;
 *   lead        cve_date - classifier_date, for fixes the classifier
 *               flagged before their CVE was published.
 * Statistics: median and 90th percentile by linear interpolation between
 * order statistics (Hyndman-Fan type 7, the default of R and NumPy), mean,
 * min, max.  as_of defaults to the latest date in the input, so the same
 * input always gives the same report.  The input is a list of fix events
 * (pg_report_input), filled from JSON today and from the store once
 * ingest/affect land.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise/advise_int.h"
#include "util/json.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

#define DAY 86400.0

static void fix_release(pg_report_fix *f)
{
	free(f->id);
	free(f->branch);
	free(f->subject);
	free(f->priority);
	free(f->bug_class);
	free(f->subsystem);
	free(f->upstream_sha);
	free(f->mainline_release);
	free(f->stable_release);
	free(f->branch_sha);
	free(f->branch_tag);
}

void pg_report_input_release(pg_report_input *in)
{
	for (size_t i = 0; i < in->nfixes; i++)
		fix_release(&in->fixes[i]);
	free(in->fixes);
	free(in->title);
	json_decref(in->list_lead);
	memset(in, 0, sizeof(*in));
}

void pg_report__drop_last(pg_report_input *in)
{
	if (in->nfixes)
		fix_release(&in->fixes[--in->nfixes]);
}

int pg_report_input_add(pg_report_fix **out, pg_report_input *in, const char *id, const char *branch)
{
	pg_report_fix *f;
	if (pg_vec__grow((void **)&in->fixes, &in->afixes, sizeof(*in->fixes), in->nfixes + 1) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	f = &in->fixes[in->nfixes];
	memset(f, 0, sizeof(*f));
	if (pg_advise_set(&f->id, id) < 0 || pg_advise_set(&f->branch, branch) < 0) {
		fix_release(f);
		return PG_ENOMEM;
	}
	in->nfixes++;
	if (out)
		*out = f;
	return 0;
}

/* ---- loading ---- */

static int jget_str(char **field, json_t *o, const char *key, const char *src, size_t idx)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pg_error_setc(PG_EINVALID, "%s: fixes[%zu]: '%s' must be a string", src, idx, key);
	return pg_advise_set(field, json_string_value(v));
}

static int jget_date(int64_t *out, json_t *o, const char *key, const char *src, size_t idx)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || pg_time_parse(out, json_string_value(v)) < 0)
		return pg_error_setc(PG_EINVALID, "%s: fixes[%zu]: '%s' must be an ISO 8601 date", src, idx, key);
	return 0;
}

int pg_report_load_json(pg_report_input *in, const char *text, const char *src)
{
	json_t *root = NULL, *fixes, *o, *t;
	size_t i;
	int error;

	if ((error = pg_json_parse(&root, text, strlen(text), src)) < 0)
		return error;
	fixes = json_object_get(root, "fixes");
	if (!json_is_object(root) || !json_is_array(fixes)) {
		error = pg_error_setc(PG_EINVALID, "%s: a report input is an object with a 'fixes' array", src);
		goto out;
	}
	if ((t = json_object_get(root, "as_of")) && !json_is_null(t) &&
	    (!json_is_string(t) || pg_time_parse(&in->as_of, json_string_value(t)) < 0)) {
		error = pg_error_setc(PG_EINVALID, "%s: 'as_of' must be an ISO 8601 date", src);
		goto out;
	}
	if ((t = json_object_get(root, "title")) && json_is_string(t) &&
	    (error = pg_advise_set(&in->title, json_string_value(t))) < 0)
		goto out;
	json_array_foreach(fixes, i, o) {
		pg_report_fix *f;
		json_t *id = json_object_get(o, "id"), *br = json_object_get(o, "branch");
		if (!json_is_object(o) || !json_is_string(id) || !json_is_string(br)) {
			error = pg_error_setc(PG_EINVALID, "%s: fixes[%zu] needs string 'id' and 'branch'", src, i);
			goto out;
		}
		if ((error = pg_report_input_add(&f, in, json_string_value(id), json_string_value(br))) < 0 ||
		    (error = jget_str(&f->subject, o, "subject", src, i)) < 0 ||
		    (error = jget_str(&f->priority, o, "priority", src, i)) < 0 ||
		    (error = jget_str(&f->bug_class, o, "bug_class", src, i)) < 0 ||
		    (error = jget_str(&f->subsystem, o, "subsystem", src, i)) < 0 ||
		    (error = jget_str(&f->upstream_sha, o, "upstream_sha", src, i)) < 0 ||
		    (error = jget_str(&f->mainline_release, o, "mainline_release", src, i)) < 0 ||
		    (error = jget_str(&f->stable_release, o, "stable_release", src, i)) < 0 ||
		    (error = jget_str(&f->branch_sha, o, "branch_sha", src, i)) < 0 ||
		    (error = jget_str(&f->branch_tag, o, "branch_tag", src, i)) < 0 ||
		    (error = jget_date(&f->upstream_date, o, "upstream_date", src, i)) < 0 ||
		    (error = jget_date(&f->mainline_release_date, o, "mainline_release_date", src, i)) < 0 ||
		    (error = jget_date(&f->stable_release_date, o, "stable_release_date", src, i)) < 0 ||
		    (error = jget_date(&f->branch_date, o, "branch_date", src, i)) < 0 ||
		    (error = jget_date(&f->branch_tag_date, o, "branch_tag_date", src, i)) < 0 ||
		    (error = jget_date(&f->cve_date, o, "cve_date", src, i)) < 0 ||
		    (error = jget_date(&f->classifier_date, o, "classifier_date", src, i)) < 0)
			goto out;
		if (!f->upstream_date) {
			error = pg_error_setc(PG_EINVALID, "%s: fixes[%zu] ('%s') has no 'upstream_date'", src, i, f->id);
			goto out;
		}
	}
out:
	json_decref(root);
	return error;
}

int pg_report_load_json_file(pg_report_input *in, const char *path)
{
	pg_buf b = PG_BUF_INIT;
	int error;
	pg_buf_init(&b, (size_t)512 << 20);
	if ((error = pg_buf_read_file(&b, path)) == 0)
		error = pg_report_load_json(in, pg_buf_cstr(&b), path);
	pg_buf_release(&b);
	return error;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, size_t n, double p)
{
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

int pg_report_stats_compute(pg_report_stats *out, const double *values, size_t n)
{
	double *s, sum = 0;
	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	if (!(s = malloc(n * sizeof(*s))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	memcpy(s, values, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	out->n = n;
	out->min = s[0];
	out->max = s[n - 1];
	out->mean = sum / (double)n;
	out->median = quantile(s, n, 0.5);
	out->p90 = quantile(s, n, 0.9);
	free(s);
	return 0;
}

typedef PG_VEC(double) dvec;

static const char *key_of(const pg_report_fix *f, int dim)
{
	const char *k = dim == 0 ? f->priority : dim == 1 ? f->bug_class : dim == 2 ? f->subsystem : f->branch;
	return k && *k ? k : "(unknown)";
}

static const char *const dims[] = { "priority", "bug_class", "subsystem", "branch" };

static int cmp_group(const void *pa, const void *pb)
{
	const pg_report_group *a = pa, *b = pb;
	int c = strcmp(a->dimension, b->dimension);
	return c ? c : strcmp(a->key, b->key);
}

void pg_report_release(pg_report *r)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		free(r->groups[i].dimension);
		free(r->groups[i].key);
	}
	free(r->groups);
	memset(r, 0, sizeof(*r));
}

int pg_report_compute(pg_report *r, const pg_report_input *in)
{
	dvec win = PG_VEC_INIT, tag = PG_VEC_INIT, age = PG_VEC_INIT, lead = PG_VEC_INIT, g = PG_VEC_INIT;
	size_t agroups = 0;
	int error = 0;

	memset(r, 0, sizeof(*r));
	r->input = in;
	r->as_of = in->as_of;
	if (!r->as_of)
		for (size_t i = 0; i < in->nfixes; i++) {
			const pg_report_fix *f = &in->fixes[i];
			int64_t d[] = { f->upstream_date, f->mainline_release_date, f->stable_release_date, f->branch_date,
					f->branch_tag_date, f->cve_date, f->classifier_date };
			for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++)
				if (d[k] > r->as_of)
					r->as_of = d[k];
		}
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[i];
		if (f->branch_date) {
			if ((error = pg_vec_push(&win, (double)(f->branch_date - f->upstream_date) / DAY)) < 0)
				goto out;
			if (f->branch_tag_date && (error = pg_vec_push(&tag, (double)(f->branch_tag_date - f->upstream_date) / DAY)) < 0)
				goto out;
		} else if ((error = pg_vec_push(&age, (double)(r->as_of - f->upstream_date) / DAY)) < 0)
			goto out;
		if (f->classifier_date && f->cve_date && f->classifier_date < f->cve_date &&
		    (error = pg_vec_push(&lead, (double)(f->cve_date - f->classifier_date) / DAY)) < 0)
			goto out;
	}
	r->nclosed = win.len;
	r->nopen = age.len;
	r->nlead = lead.len;
	if ((error = pg_report_stats_compute(&r->window, win.ptr, win.len)) < 0 ||
	    (error = pg_report_stats_compute(&r->tag_window, tag.ptr, tag.len)) < 0 ||
	    (error = pg_report_stats_compute(&r->open_age, age.ptr, age.len)) < 0 ||
	    (error = pg_report_stats_compute(&r->lead, lead.ptr, lead.len)) < 0)
		goto out;
	/* groups: every distinct key of every dimension */
	for (int dim = 0; dim < 4; dim++) {
		for (size_t i = 0; i < in->nfixes; i++) {
			const char *key = key_of(&in->fixes[i], dim);
			pg_report_group *grp;
			int seen = 0;
			for (size_t k = 0; k < i && !seen; k++)
				seen = !strcmp(key_of(&in->fixes[k], dim), key);
			if (seen)
				continue;
			g.len = 0;
			if (pg_vec__grow((void **)&r->groups, &agroups, sizeof(*r->groups), r->ngroups + 1) < 0) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
			grp = &r->groups[r->ngroups];
			memset(grp, 0, sizeof(*grp));
			r->ngroups++;
			if ((error = pg_advise_set(&grp->dimension, dims[dim])) < 0 ||
			    (error = pg_advise_set(&grp->key, key)) < 0)
				goto out;
			for (size_t k = i; k < in->nfixes; k++) {
				const pg_report_fix *f = &in->fixes[k];
				if (strcmp(key_of(f, dim), key))
					continue;
				if (!f->branch_date)
					grp->open++;
				else if ((error = pg_vec_push(&g, (double)(f->branch_date - f->upstream_date) / DAY)) < 0)
					goto out;
			}
			if ((error = pg_report_stats_compute(&grp->window, g.ptr, g.len)) < 0)
				goto out;
		}
	}
	if (r->ngroups > 1)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), cmp_group);
out:
	pg_vec_release(&win);
	pg_vec_release(&tag);
	pg_vec_release(&age);
	pg_vec_release(&lead);
	pg_vec_release(&g);
	if (error < 0)
		pg_report_release(r);
	return error;
}

/* Fixes in report order: branch, then upstream date, then id. */
static const pg_report_input *order_in;
static int cmp_fix_idx(const void *pa, const void *pb)
{
	const pg_report_fix *a = &order_in->fixes[*(const size_t *)pa], *b = &order_in->fixes[*(const size_t *)pb];
	int c = strcmp(a->branch, b->branch);
	if (c)
		return c;
	if (a->upstream_date != b->upstream_date)
		return a->upstream_date < b->upstream_date ? -1 : 1;
	return strcmp(a->id, b->id);
}

static size_t *fix_order(const pg_report_input *in)
{
	size_t *idx = malloc((in->nfixes ? in->nfixes : 1) * sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < in->nfixes; i++)
		idx[i] = i;
	order_in = in;
	if (in->nfixes > 1)
		qsort(idx, in->nfixes, sizeof(*idx), cmp_fix_idx);
	order_in = NULL;
	return idx;
}

static void day(char *buf, size_t size, int64_t t)
{
	char iso[32];
	if (!t) {
		snprintf(buf, size, "-");
		return;
	}
	pg_time_iso8601(iso, sizeof(iso), t);
	snprintf(buf, size, "%.10s", iso);
}

/* ---- text ---- */

static int stats_line(pg_buf *b, const char *label, const pg_report_stats *s)
{
	if (!s->n)
		return pg_buf_printf(b, "  %-34s n=0\n", label);
	return pg_buf_printf(b, "  %-34s n=%zu  median %.1f  p90 %.1f  mean %.1f  min %.1f  max %.1f days\n", label, s->n,
			     s->median, s->p90, s->mean, s->min, s->max);
}

/*
 * "Visible on a list" lines, from pg_lists_lead()'s rows: the lead time
 * is computed there (first version of the patch on a list -> commit / CVE),
 * the report only prints it.
 */
static int lead_text(pg_buf *b, json_t *rows)
{
	size_t i;
	json_t *o;
	int error;

	if (!json_array_size(rows))
		return 0;
	if ((error = pg_buf_puts(b, "\nVisible on a list before the fix (per list and tree; median days from the first version)\n")) < 0)
		return error;
	json_array_foreach(rows, i, o) {
		json_t *cve = json_object_get(o, "median_days_before_cve");
		char tail[96] = "";
		if (json_is_integer(cve))
			snprintf(tail, sizeof(tail), ", %lld days before the CVE (%lld with a CVE)",
				 (long long)json_integer_value(cve), (long long)json_integer_value(json_object_get(o, "with_cve")));
		if ((error = pg_buf_printf(b, "  %-24s %lld commits: %lld days before the mainline commit (max %lld)%s\n",
					   json_string_value(json_object_get(o, "subsystem")),
					   (long long)json_integer_value(json_object_get(o, "commits")),
					   (long long)json_integer_value(json_object_get(o, "median_days_before_commit")),
					   (long long)json_integer_value(json_object_get(o, "max_days_before_commit")), tail)) < 0)
			return error;
	}
	return 0;
}

int pg_report_write_text(pg_buf *b, const pg_report *r)
{
	const pg_report_input *in = r->input;
	size_t *idx = fix_order(in);
	char asof[32];
	int error = 0;

	if (!idx)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	day(asof, sizeof(asof), r->as_of);
	if ((error = pg_buf_printf(b, "%s\nas of %s: %zu fixes, %zu in the branch, %zu still open\n\n",
				   in->title ? in->title : "patch-gap report", asof, in->nfixes, r->nclosed, r->nopen)) < 0 ||
	    (error = pg_buf_puts(b, "Exposure windows (upstream fix -> fix in the branch)\n")) < 0 ||
	    (error = stats_line(b, "commit in the branch", &r->window)) < 0 ||
	    (error = stats_line(b, "branch release tag", &r->tag_window)) < 0 ||
	    (error = stats_line(b, "open fixes, age", &r->open_age)) < 0 ||
	    (error = stats_line(b, "classifier lead over the CVE", &r->lead)) < 0)
		goto out;
	for (size_t i = 0; i < r->ngroups; i++) {
		const pg_report_group *g = &r->groups[i];
		char label[200];
		if ((!i || strcmp(g->dimension, r->groups[i - 1].dimension)) &&
		    (error = pg_buf_printf(b, "\nBy %s (windows of fixes in the branch; open count)\n", g->dimension)) < 0)
			goto out;
		snprintf(label, sizeof(label), "%s (open %zu)", g->key, g->open);
		if ((error = stats_line(b, label, &g->window)) < 0)
			goto out;
	}
	if (r->nopen) {
		if ((error = pg_buf_puts(b, "\nOpen fixes (per branch, oldest first)\n")) < 0)
			goto out;
		for (size_t i = 0; i < in->nfixes; i++) {
			const pg_report_fix *f = &in->fixes[idx[i]];
			char up[16];
			if (f->branch_date)
				continue;
			day(up, sizeof(up), f->upstream_date);
			if ((error = pg_buf_printf(b, "  %-16s %-14s upstream %s  open %.1f days  %s\n", f->id, f->branch, up,
						   (double)(r->as_of - f->upstream_date) / DAY, f->subject ? f->subject : "")) < 0)
				goto out;
		}
	}
	if (r->nlead) {
		if ((error = pg_buf_puts(b, "\nFlagged by the classifier before the CVE\n")) < 0)
			goto out;
		for (size_t i = 0; i < in->nfixes; i++) {
			const pg_report_fix *f = &in->fixes[idx[i]];
			if (!f->classifier_date || !f->cve_date || f->classifier_date >= f->cve_date)
				continue;
			if ((error = pg_buf_printf(b, "  %-16s %-14s %.1f days before the CVE\n", f->id, f->branch,
						   (double)(f->cve_date - f->classifier_date) / DAY)) < 0)
				goto out;
		}
	}
	if ((error = lead_text(b, in->list_lead)) < 0 ||
	    (error = pg_buf_puts(b, "\nTimeline (upstream -> mainline release -> stable release -> branch commit -> branch tag)\n")) < 0)
		goto out;
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[idx[i]];
		char d0[16], d1[16], d2[16], d3[16], d4[16], w[32];
		day(d0, sizeof(d0), f->upstream_date);
		day(d1, sizeof(d1), f->mainline_release_date);
		day(d2, sizeof(d2), f->stable_release_date);
		day(d3, sizeof(d3), f->branch_date);
		day(d4, sizeof(d4), f->branch_tag_date);
		if (f->branch_date)
			snprintf(w, sizeof(w), "%.1f days", (double)(f->branch_date - f->upstream_date) / DAY);
		else
			snprintf(w, sizeof(w), "OPEN %.1f days", (double)(r->as_of - f->upstream_date) / DAY);
		if ((error = pg_buf_printf(b, "  %-16s %-14s %s -> %s %s -> %s %s -> %s -> %s %s  [%s]\n", f->id, f->branch, d0,
					   f->mainline_release ? f->mainline_release : "-", d1,
					   f->stable_release ? f->stable_release : "-", d2, d3,
					   f->branch_tag ? f->branch_tag : "-", d4, w)) < 0)
			goto out;
	}
out:
	free(idx);
	return error;
}

/* ---- JSON ---- */

static json_t *stats_json(const pg_report_stats *s)
{
	if (!s->n)
		return json_pack("{s:i}", "n", 0);
	return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)s->n, "median", s->median, "p90", s->p90,
			 "mean", s->mean, "min", s->min, "max", s->max);
}

static json_t *date_or_null(int64_t t)
{
	return t ? pg_advise__date(t) : json_null();
}

int pg_report_write_json(pg_buf *b, const pg_report *r)
{
	const pg_report_input *in = r->input;
	size_t *idx = fix_order(in);
	json_t *root, *groups, *fixes;
	int error = 0, e = 0;

	if (!idx)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	root = json_pack("{s:s,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:{},s:[]}", "title", in->title ? in->title : "patch-gap report",
			 "as_of", pg_advise__date(r->as_of), "fixes_total", (json_int_t)in->nfixes, "fixes_closed",
			 (json_int_t)r->nclosed, "fixes_open", (json_int_t)r->nopen, "window_days", stats_json(&r->window),
			 "tag_window_days", stats_json(&r->tag_window), "open_age_days", stats_json(&r->open_age),
			 "classifier_lead_days", stats_json(&r->lead), "groups", "fixes");
	if (!root) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	groups = json_object_get(root, "groups");
	fixes = json_object_get(root, "fixes");
	for (size_t i = 0; i < r->ngroups; i++) {
		const pg_report_group *g = &r->groups[i];
		json_t *d = json_object_get(groups, g->dimension);
		if (!d) {
			e |= pg_advise__set_new(groups, g->dimension, json_object());
			d = json_object_get(groups, g->dimension);
		}
		if (d)
			e |= pg_advise__set_new(d, g->key, json_pack("{s:o,s:I}", "window_days", stats_json(&g->window), "open",
								     (json_int_t)g->open));
	}
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[idx[i]];
		json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:s?,s:o,s:s?,s:o,s:s?,s:o,s:s?,s:o,s:o,s:o}",
				      "id", f->id, "branch", f->branch, "subject", f->subject, "priority", f->priority,
				      "bug_class", f->bug_class, "subsystem", f->subsystem, "upstream_sha", f->upstream_sha,
				      "upstream_date", date_or_null(f->upstream_date), "mainline_release", f->mainline_release,
				      "mainline_release_date", date_or_null(f->mainline_release_date), "stable_release",
				      f->stable_release, "stable_release_date", date_or_null(f->stable_release_date),
				      "branch_sha", f->branch_sha, "branch_date", date_or_null(f->branch_date), "branch_tag",
				      f->branch_tag, "branch_tag_date", date_or_null(f->branch_tag_date), "cve_date",
				      date_or_null(f->cve_date), "classifier_date", date_or_null(f->classifier_date));
		if (o) {
			e |= pg_advise__set_new(o, "open", json_boolean(!f->branch_date));
			e |= pg_advise__set_new(o, f->branch_date ? "window_days" : "open_age_days",
						json_real((double)((f->branch_date ? f->branch_date : r->as_of) - f->upstream_date) / DAY));
		}
		e |= pg_advise__append_new(fixes, o);
	}
	e |= pg_advise__set_new(root, "list_lead", in->list_lead ? json_incref(in->list_lead) : json_array());
	if (e) {
		error = pg_error_setc(PG_ENOMEM, "out of memory building the report JSON");
		goto out;
	}
	error = pg_advise__dump(b, root);
out:
	json_decref(root);
	free(idx);
	return error;
}

/* ---- HTML ---- */

static int html_esc(pg_buf *b, const char *s)
{
	int error = 0;
	for (; s && *s && !error; s++) {
		switch (*s) {
		case '<': error = pg_buf_puts(b, "&lt;"); break;
		case '>': error = pg_buf_puts(b, "&gt;"); break;
		case '&': error = pg_buf_puts(b, "&amp;"); break;
		case '"': error = pg_buf_puts(b, "&quot;"); break;
		case '\'': error = pg_buf_puts(b, "&#39;"); break;
		default: error = pg_buf_putc(b, *s);
		}
	}
	return error;
}

static int html_stats_row(pg_buf *b, const char *label, const char *key, const pg_report_stats *s, long open)
{
	int error;
	if ((error = pg_buf_puts(b, "<tr><td>")) < 0 || (error = html_esc(b, label)) < 0 ||
	    (key && ((error = pg_buf_puts(b, "</td><td>")) < 0 || (error = html_esc(b, key)) < 0)))
		return error;
	if (!s->n)
		error = pg_buf_printf(b, "</td><td>0</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>");
	else
		error = pg_buf_printf(b, "</td><td>%zu</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>",
				      s->n, s->median, s->p90, s->mean, s->min, s->max);
	if (!error && open >= 0)
		error = pg_buf_printf(b, "<td>%ld</td>", open);
	return error < 0 ? error : pg_buf_puts(b, "</tr>\n");
}

/* Timeline: one row per fix, x = date. */
static int svg_timeline(pg_buf *b, const pg_report *r, const size_t *idx)
{
	const pg_report_input *in = r->input;
	int64_t t0 = INT64_MAX, t1 = r->as_of;
	const double W = 900, left = 230, right = 20, rowh = 18, top = 30;
	double H, span;
	int error;

	for (size_t i = 0; i < in->nfixes; i++)
		if (in->fixes[i].upstream_date < t0)
			t0 = in->fixes[i].upstream_date;
	if (!in->nfixes || t1 <= t0)
		return pg_buf_puts(b, "<p>No timeline to draw.</p>\n");
	span = (double)(t1 - t0);
	H = top + rowh * (double)in->nfixes + 30;
#define X(t) (left + (W - left - right) * (double)((t) - t0) / span)
	if ((error = pg_buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-label=\"timeline\" viewBox=\"0 0 %.0f %.0f\" "
				      "width=\"%.0f\" height=\"%.0f\">\n", W, H, W, H)) < 0)
		return error;
	/* axis with a label every ~quarter of the span */
	for (int k = 0; k <= 4; k++) {
		int64_t t = t0 + (int64_t)((double)(t1 - t0) * k / 4.0);
		char d[16];
		day(d, sizeof(d), t);
		if ((error = pg_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
					      "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">%s</text>\n",
					   X(t), top - 5, X(t), H - 25, X(t), H - 10, d)) < 0)
			return error;
	}
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[idx[i]];
		double y = top + rowh * (double)i;
		int64_t end = f->branch_date ? f->branch_date : r->as_of;
		if ((error = pg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">", left - 6, y + 12)) < 0 ||
		    (error = html_esc(b, f->id)) < 0 || (error = pg_buf_puts(b, " (")) < 0 ||
		    (error = html_esc(b, f->branch)) < 0 ||
		    (error = pg_buf_printf(b, ")</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s\"><title>",
					   X(f->upstream_date), y + 3, X(end) - X(f->upstream_date) < 1 ? 1 : X(end) - X(f->upstream_date),
					   rowh - 6, f->branch_date ? "closed" : "open")) < 0 ||
		    (error = html_esc(b, f->id)) < 0 ||
		    (f->subject && ((error = pg_buf_puts(b, " ")) < 0 || (error = html_esc(b, f->subject)) < 0)) ||
		    (error = pg_buf_printf(b, ": %.1f days%s</title></rect>\n", (double)(end - f->upstream_date) / DAY,
					   f->branch_date ? "" : " (open)")) < 0)
			return error;
		/* markers: mainline release, stable release, branch tag */
		if (f->mainline_release_date &&
		    (error = pg_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"m-main\"/>", X(f->mainline_release_date), y + rowh / 2)) < 0)
			return error;
		if (f->stable_release_date &&
		    (error = pg_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"m-stable\"/>", X(f->stable_release_date), y + rowh / 2)) < 0)
			return error;
		if (f->branch_tag_date &&
		    (error = pg_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"5\" class=\"m-tag\"/>", X(f->branch_tag_date) - 2.5, y + rowh / 2 - 2.5)) < 0)
			return error;
	}
#undef X
	return pg_buf_puts(b, "</svg>\n<p class=\"legend\"><span class=\"k closed\"></span>exposure until the branch "
			      "commit <span class=\"k open\"></span>still open <span class=\"k m-main\"></span>mainline "
			      "release <span class=\"k m-stable\"></span>stable release <span class=\"k m-tag\"></span>branch tag</p>\n");
}

/* Bar chart of labelled values (days). */
static int svg_bars(pg_buf *b, const char *aria, const char *const *labels, const double *vals, size_t n, const char *cls)
{
	const double W = 900, left = 230, right = 60, rowh = 18, top = 10;
	double max = 0, H = top + rowh * (double)n + 10;
	int error;
	if (!n)
		return pg_buf_puts(b, "<p>Nothing to draw.</p>\n");
	for (size_t i = 0; i < n; i++)
		if (vals[i] > max)
			max = vals[i];
	if (max <= 0)
		max = 1;
	if ((error = pg_buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-label=\"%s\" viewBox=\"0 0 %.0f %.0f\" "
				      "width=\"%.0f\" height=\"%.0f\">\n", aria, W, H, W, H)) < 0)
		return error;
	for (size_t i = 0; i < n; i++) {
		double y = top + rowh * (double)i, w = (W - left - right) * (vals[i] > 0 ? vals[i] : 0) / max;
		if ((error = pg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">", left - 6, y + 12)) < 0 ||
		    (error = html_esc(b, labels[i])) < 0 ||
		    (error = pg_buf_printf(b, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s\"/>"
					      "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">%.*f</text>\n",
					   left, y + 3, w < 1 ? 1 : w, rowh - 6, cls, left + w + 4, y + 12,
					   strcmp(cls, "hist") ? 1 : 0, vals[i])) < 0)
			return error;
	}
	return pg_buf_puts(b, "</svg>\n");
}

/* the "visible on a list" table (pg_lists_lead()'s rows) */
static int lead_html(pg_buf *b, json_t *rows)
{
	size_t i;
	json_t *o;
	int error;

	if (!json_array_size(rows))
		return 0;
	if ((error = pg_buf_puts(b, "<h2>Visible on a list before the fix (days from the first version)</h2>\n<table><tr>"
				    "<th>list and tree</th><th>commits</th><th>median before the commit</th><th>max</th>"
				    "<th>with a CVE</th><th>median before the CVE</th></tr>\n")) < 0)
		return error;
	json_array_foreach(rows, i, o) {
		json_t *cve = json_object_get(o, "median_days_before_cve");
		char med[32] = "-";
		if (json_is_integer(cve))
			snprintf(med, sizeof(med), "%lld", (long long)json_integer_value(cve));
		if ((error = pg_buf_puts(b, "<tr><td>")) < 0 ||
		    (error = html_esc(b, json_string_value(json_object_get(o, "subsystem")))) < 0 ||
		    (error = pg_buf_printf(b, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%s</td></tr>\n",
					   (long long)json_integer_value(json_object_get(o, "commits")),
					   (long long)json_integer_value(json_object_get(o, "median_days_before_commit")),
					   (long long)json_integer_value(json_object_get(o, "max_days_before_commit")),
					   (long long)json_integer_value(json_object_get(o, "with_cve")), med)) < 0)
			return error;
	}
	return pg_buf_puts(b, "</table>\n");
}

int pg_report_write_html(pg_buf *b, const pg_report *r)
{
	const pg_report_input *in = r->input;
	size_t *idx = fix_order(in), nb = 0, no = 0;
	char asof[16], bins[10][32];
	const char *blabels[10], **olabels = NULL;
	double bvals[10], *ovals = NULL;
	char (*onames)[160] = NULL;
	int error = 0;

	if (!idx || !(olabels = calloc(in->nfixes + 1, sizeof(*olabels))) || !(ovals = calloc(in->nfixes + 1, sizeof(*ovals))) ||
	    !(onames = calloc(in->nfixes + 1, sizeof(*onames)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	day(asof, sizeof(asof), r->as_of);
	if ((error = pg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")) < 0 ||
	    (error = html_esc(b, in->title ? in->title : "patch-gap report")) < 0 ||
	    (error = pg_buf_puts(b, "</title>\n<style>\n"
				    "body{font-family:sans-serif;margin:2em;color:#222;max-width:980px}\n"
				    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\n"
				    "td:first-child,th:first-child{text-align:left}table.grp td:nth-child(2){text-align:left}\n"
				    ".chart text{font-size:11px}.lbl{text-anchor:end}.axis{text-anchor:middle;fill:#555}\n"
				    ".grid{stroke:#ddd}.closed{fill:#4a7fb5}.open{fill:#c0392b}.hist{fill:#6a9f58}.age{fill:#c0392b}\n"
				    ".m-main{fill:#f39c12}.m-stable{fill:#8e44ad}.m-tag{fill:#111}\n"
				    ".k{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}\n"
				    "span.closed{background:#4a7fb5}span.open{background:#c0392b}span.m-main{background:#f39c12}"
				    "span.m-stable{background:#8e44ad}span.m-tag{background:#111}\n"
				    "</style>\n</head>\n<body>\n<h1>")) < 0 ||
	    (error = html_esc(b, in->title ? in->title : "patch-gap report")) < 0 ||
	    (error = pg_buf_printf(b, "</h1>\n<p>As of %s: %zu fixes, %zu in the branch, %zu still open.</p>\n", asof,
				   in->nfixes, r->nclosed, r->nopen)) < 0)
		goto out;
	if ((error = pg_buf_puts(b, "<h2>Exposure windows (days)</h2>\n<table><tr><th>measure</th><th>n</th><th>median</th>"
				    "<th>p90</th><th>mean</th><th>min</th><th>max</th></tr>\n")) < 0 ||
	    (error = html_stats_row(b, "upstream fix to commit in the branch", NULL, &r->window, -1)) < 0 ||
	    (error = html_stats_row(b, "upstream fix to branch release tag", NULL, &r->tag_window, -1)) < 0 ||
	    (error = html_stats_row(b, "open fixes: age", NULL, &r->open_age, -1)) < 0 ||
	    (error = html_stats_row(b, "classifier lead over the CVE", NULL, &r->lead, -1)) < 0 ||
	    (error = pg_buf_puts(b, "</table>\n<h2>By priority, bug class, subsystem and branch</h2>\n<table class=\"grp\"><tr><th>dimension</th>"
				    "<th>key</th><th>n</th><th>median</th><th>p90</th><th>mean</th><th>min</th><th>max</th><th>open</th></tr>\n")) < 0)
		goto out;
	for (size_t i = 0; i < r->ngroups; i++)
		if ((error = html_stats_row(b, r->groups[i].dimension, r->groups[i].key, &r->groups[i].window,
					    (long)r->groups[i].open)) < 0)
			goto out;
	if ((error = pg_buf_puts(b, "</table>\n")) < 0 || (error = lead_html(b, r->input->list_lead)) < 0 ||
	    (error = pg_buf_puts(b, "<h2>Timeline</h2>\n")) < 0 || (error = svg_timeline(b, r, idx)) < 0)
		goto out;
	/* distribution of windows: 10 equal bins from 0 to the maximum */
	if (r->window.n) {
		double hi = r->window.max > 0 ? r->window.max : 1, w = hi / 10.0;
		for (int k = 0; k < 10; k++) {
			snprintf(bins[k], sizeof(bins[k]), "%.0f-%.0f days", w * k, w * (k + 1));
			blabels[k] = bins[k];
			bvals[k] = 0;
		}
		for (size_t i = 0; i < in->nfixes; i++) {
			const pg_report_fix *f = &in->fixes[i];
			double d;
			int k;
			if (!f->branch_date)
				continue;
			d = (double)(f->branch_date - f->upstream_date) / DAY;
			k = d <= 0 ? 0 : (int)(d / w);
			bvals[k > 9 ? 9 : k]++;
		}
		nb = 10;
	}
	if ((error = pg_buf_puts(b, "<h2>Distribution of exposure windows (number of fixes)</h2>\n")) < 0 ||
	    (error = svg_bars(b, "distribution of windows", blabels, bvals, nb, "hist")) < 0)
		goto out;
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[idx[i]];
		if (f->branch_date)
			continue;
		snprintf(onames[no], sizeof(onames[no]), "%s (%s)", f->id, f->branch);
		olabels[no] = onames[no];
		ovals[no++] = (double)(r->as_of - f->upstream_date) / DAY;
	}
	if ((error = pg_buf_puts(b, "<h2>Open fixes: age (days)</h2>\n")) < 0 ||
	    (error = svg_bars(b, "open-fix ageing", olabels, ovals, no, "age")) < 0)
		goto out;
	if ((error = pg_buf_puts(b, "<h2>Fixes</h2>\n<table><tr><th>fix</th><th>branch</th><th>upstream</th><th>mainline</th>"
				    "<th>stable</th><th>branch commit</th><th>branch tag</th><th>window</th></tr>\n")) < 0)
		goto out;
	for (size_t i = 0; i < in->nfixes; i++) {
		const pg_report_fix *f = &in->fixes[idx[i]];
		char d0[16], d1[16], d2[16], d3[16], d4[16];
		day(d0, sizeof(d0), f->upstream_date);
		day(d1, sizeof(d1), f->mainline_release_date);
		day(d2, sizeof(d2), f->stable_release_date);
		day(d3, sizeof(d3), f->branch_date);
		day(d4, sizeof(d4), f->branch_tag_date);
		if ((error = pg_buf_puts(b, "<tr><td>")) < 0 || (error = html_esc(b, f->id)) < 0 ||
		    (error = pg_buf_puts(b, "</td><td>")) < 0 || (error = html_esc(b, f->branch)) < 0 ||
		    (error = pg_buf_printf(b, "</td><td>%s</td><td>", d0)) < 0 ||
		    (error = html_esc(b, f->mainline_release ? f->mainline_release : "-")) < 0 ||
		    (error = pg_buf_printf(b, " %s</td><td>", d1)) < 0 ||
		    (error = html_esc(b, f->stable_release ? f->stable_release : "-")) < 0 ||
		    (error = pg_buf_printf(b, " %s</td><td>%s</td><td>", d2, d3)) < 0 ||
		    (error = html_esc(b, f->branch_tag ? f->branch_tag : "-")) < 0 ||
		    (error = pg_buf_printf(b, " %s</td><td>%s%.1f</td></tr>\n", d4, f->branch_date ? "" : "open ",
					   (double)((f->branch_date ? f->branch_date : r->as_of) - f->upstream_date) / DAY)) < 0)
			goto out;
	}
	error = pg_buf_puts(b, "</table>\n<p>Generated by patchgap " PG_VERSION ". Medians and 90th percentiles interpolate "
			       "between order statistics.</p>\n</body>\n</html>\n");
out:
	free(idx);
	free(olabels);
	free(ovals);
	free(onames);
	return error;
}
