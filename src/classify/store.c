/*
 * store.c - the classifier against the database: scoring the ingested
 * commits into the classifications table (this module's table), relabelling
 * stored verdicts at a per-day budget, the flagged fixes no CVE names, and
 * the explanation of one ingested commit.  Commit text and paths come from
 * the ingest module (pg_ingest_commit_*); the per-file CVE history is the
 * same one training and `classify` use (history.c); the diff, when the
 * caller has the repository, is ingest's (pg_ingest_diff_commit), so the
 * diff head scores the commit.  `patchgap classify`,
 * `explain`, `advisory` and the web API call these, so each verdict is
 * computed in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <git2.h>
#include "patchgap/classify.h"
#include "patchgap/ingest.h"
#include "patchgap/store.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/vec.h"
#include "util/banned.h"

json_t *pg_cls_explain_json(const pg_cls_explain *e, const pg_cls_model *m, const char *id, const char *subject,
			    size_t top, int has_diff)
{
	size_t n = top && top < e->n ? top : e->n;
	pg_cls_operating_point op;
	json_t *feats = json_array(), *reasons = json_loads(e->result.reasons_json ? e->result.reasons_json : "[]", 0, NULL);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(feats, json_pack("{s:s, s:i, s:f, s:f}", "feature", e->v[i].name, "stage",
							e->v[i].stage, "weight", e->v[i].weight, "contribution",
							e->v[i].contrib));
	if (pg_cls_model_operating_point(&op, m, has_diff, PG_CLS_DEFAULT_RECALL) < 0)
		op.threshold = pg_cls_model_threshold(m); /* cannot fail at the default recall */
	return json_pack("{s:s, s:s, s:s, s:f, s:b, s:f, s:f, s:f, s:s, s:f, s:s, s:I, s:o, s:o, s:s, s:f}", "id", id,
			 "subject", subject ? subject : "", "model", pg_cls_model_version(m), "p_security",
			 e->result.p_security, "label", e->result.label, "logit", e->result.z, "stage1_logit", e->result.z1,
			 "intercept", e->bias, "bug_class", pg_cls_bug_class_name(e->result.bug_class), "priority",
			 e->result.priority, "level", pg_cls_level_name(e->result.level), "features_total", (json_int_t)e->n,
			 "features", feats, "reasons", reasons ? reasons : json_array(), "head", has_diff ? "diff" : "nodiff",
			 "threshold", op.threshold);
}

/*
 * Set in->diff to the diff of commit sha (buf holds it), cut at
 * PG_CLS_DIFF_MAX.  No diff, and no error, for a merge, a commit that
 * changes no file, or one the repository has not got (*absent = 1); d NULL:
 * no repository.
 */
static int fetch_diff(pg_cls_input *in, pg_buf *buf, int *absent, int *cut, pg_ingest_diff *d, const char *sha)
{
	git_oid id;
	unsigned info = 0;
	int error;

	*absent = *cut = 0;
	pg_buf_reset(buf);
	if (!d || git_oid_fromstr(&id, sha) < 0)
		return 0;
	if ((error = pg_ingest_diff_commit(d, buf, &id, 0, PG_CLS_DIFF_MAX, &info)) == PG_ENOTFOUND) {
		pg_error_clear();
		pg_buf_reset(buf);
		*absent = 1;
		return 0;
	}
	if (error < 0)
		return error;
	*cut = (info & PG_INGEST_DIFF_CUT) != 0;
	if (buf->len) {
		in->diff = buf->ptr;
		in->diff_len = buf->len;
	}
	return 0;
}

int pg_cls_explain_commit(pg_cls_explain *out, char **sha, char **subject, int *has_diff, pg_store *s,
			  git_repository *repo, const pg_cls_model *m, const char *id)
{
	pg_ingest_commit c;
	pg_cls_history *hist = NULL;
	pg_ingest_diff *d = NULL;
	pg_buf diff = PG_BUF_INIT;
	pg_cls_input in = PG_CLS_INPUT_INIT;
	int absent, cut, error;

	*sha = *subject = NULL;
	if (has_diff)
		*has_diff = 0;
	if ((error = pg_ingest_commit_get(&c, s, id)) < 0)
		return error;
	in.subject = c.subject;
	in.message = pg_cls_message_body(c.message); /* raw message: skip the subject */
	in.files = (const char *const *)c.paths;
	in.nfiles = c.npaths;
	/* the same file history and diff classify scores with */
	if ((repo && (error = pg_ingest_diff_open(&d, repo)) < 0) ||
	    (error = fetch_diff(&in, &diff, &absent, &cut, d, c.sha)) < 0 ||
	    (error = pg_cls_history_open(&hist, s)) < 0 ||
	    (error = pg_cls_history_count(&in.history_cves, hist, c.sha, c.committer_time, in.files, c.npaths)) < 0 ||
	    (error = pg_cls_history_functions(&in.history_functions, hist, c.sha, c.committer_time, in.message, in.diff,
					      in.diff_len)) < 0 ||
	    (error = pg_cls_history_fixes(&in.fixes_target_recent, &in.fixes_target_stable_lines, hist, c.sha,
					  c.committer_time)) < 0 ||
	    (error = pg_cls_explain_input(out, m, &in)) < 0)
		goto out;
	if (has_diff)
		*has_diff = in.diff != NULL;
	*sha = c.sha;
	*subject = c.subject;
	c.sha = c.subject = NULL;
out:
	pg_cls_history_free(hist);
	pg_ingest_diff_free(d);
	pg_buf_release(&diff);
	pg_ingest_commit_release(&c);
	return error;
}

struct run {
	pg_store *s;
	const pg_cls_model *m;
	const pg_cls_store_opts *o;
	pg_cls_history *hist;
	pg_stmt *ins;
	PG_VEC(int64_t) scored; /* commit ids this model version scored, ascending */
	size_t cur;
	pg_ingest_diff *diff;   /* NULL: no repository, no diffs */
	pg_buf diff_text;       /* the current commit's diff, reused */
	pg_cls_store_stats *stats;
};

/* commits come in id order: one cursor through the scored ids */
static int skip_scored(int64_t id, void *payload)
{
	struct run *r = payload;
	while (r->cur < r->scored.len && r->scored.ptr[r->cur] < id)
		r->cur++;
	return r->cur < r->scored.len && r->scored.ptr[r->cur] == id;
}

static int score_one(const pg_ingest_commit *c, void *payload)
{
	struct run *x = payload;
	pg_cls_input in = PG_CLS_INPUT_INIT;
	pg_cls_result r;
	pg_stmt *ins = x->ins;
	int absent, cut, error;

	in.subject = c->subject;
	/* commits.message is the raw message: the subject paragraph, then the body */
	in.message = pg_cls_message_body(c->message);
	in.files = (const char *const *)c->paths;
	in.nfiles = c->npaths;
	in.config_built = x->o->built;
	if ((error = fetch_diff(&in, &x->diff_text, &absent, &cut, x->diff, c->sha)) < 0 ||
	    (error = pg_cls_history_count(&in.history_cves, x->hist, c->sha, c->committer_time, in.files, c->npaths)) < 0 ||
	    (error = pg_cls_history_functions(&in.history_functions, x->hist, c->sha, c->committer_time, in.message,
					      in.diff, in.diff_len)) < 0 ||
	    (error = pg_cls_history_fixes(&in.fixes_target_recent, &in.fixes_target_stable_lines, x->hist, c->sha,
					  c->committer_time)) < 0 ||
	    (error = pg_cls_classify(&r, x->m, &in)) < 0)
		return error;
	/* the threshold of the head that scored it; a budget labels afterwards */
	r.label = !x->o->budget && r.p_security >= (in.diff ? x->o->threshold_diff : x->o->threshold);
	x->stats->with_diff += in.diff != NULL;
	x->stats->not_in_repo += absent;
	x->stats->cut += cut;
	if ((error = pg_stmt_bind_int(ins, 1, c->id)) < 0 || (error = pg_stmt_bind_text(ins, 2, c->sha)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 3, pg_cls_model_version(x->m))) < 0 ||
	    (error = pg_stmt_bind_double(ins, 4, r.p_security)) < 0 || (error = pg_stmt_bind_int(ins, 5, r.label)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 6, pg_cls_bug_class_name(r.bug_class))) < 0 ||
	    (error = pg_stmt_bind_double(ins, 7, r.priority)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 8, pg_cls_level_name(r.level))) < 0 ||
	    (error = pg_stmt_bind_text(ins, 9, r.reasons_json)) < 0 ||
	    (error = pg_stmt_bind_int(ins, 10, (int64_t)time(NULL))) < 0 || (error = pg_stmt_exec(ins)) < 0)
		goto out;
	x->stats->scored++;
	x->stats->flagged += r.label;
	if (x->o->cb)
		error = x->o->cb(c->sha, c->subject, &r, in.diff != NULL, x->o->payload);
out:
	pg_cls_result_release(&r);
	return error;
}

struct ranked { double p; int64_t day; size_t i; };

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if (a->p != b->p)
		return a->p > b->p ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i; /* ties: the earlier one first, deterministic */
}

void pg_cls_flag_budget(unsigned char *flag, const double *p, const int64_t *day, size_t n, size_t budget)
{
	struct ranked *v = calloc(n + 1, sizeof(*v));
	size_t rank = 0;
	if (!v) { /* cannot rank: flag nothing rather than everything */
		memset(flag, 0, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (struct ranked){ p[i], day ? day[i] : 0, i };
	qsort(v, n, sizeof(*v), cmp_ranked);
	for (size_t k = 0; k < n; k++) {
		rank = k && v[k].day == v[k - 1].day ? rank + 1 : 0;
		flag[v[k].i] = rank < budget;
	}
	free(v);
}

/*
 * Relabel every verdict of this model version, the `budget` highest of each
 * committer day flagged (in the caller's transaction).
 */
static int relabel_budget(pg_store *s, const char *ver, size_t budget, size_t *nflag)
{
	pg_stmt *q = NULL, *u = NULL;
	PG_VEC(double) p = PG_VEC_INIT;
	PG_VEC(int64_t) day = PG_VEC_INIT;
	PG_VEC(int64_t) ids = PG_VEC_INIT;
	unsigned char *flag = NULL;
	int rc, error = 0;

	*nflag = 0;
	if ((error = pg_store_prepare(&q, s, "SELECT cl.commit_id, c.committer_time, cl.p_security FROM classifications cl "
					     "JOIN commits c ON c.id = cl.commit_id WHERE cl.model_version = ? ORDER BY cl.commit_id")) < 0 ||
	    (error = pg_store_prepare(&u, s, "UPDATE classifications SET label = ? WHERE commit_id = ?")) < 0 ||
	    (error = pg_stmt_bind_text(q, 1, ver)) < 0)
		goto out;
	while ((rc = pg_stmt_step(q)) > 0) {
		int64_t t = pg_stmt_int(q, 1);
		if ((error = pg_vec_push(&ids, pg_stmt_int(q, 0))) < 0 || (error = pg_vec_push(&p, pg_stmt_double(q, 2))) < 0 ||
		    (error = pg_vec_push(&day, t >= 0 ? t / 86400 : (t - 86399) / 86400)) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if (!(flag = calloc(ids.len + 1, 1))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	pg_cls_flag_budget(flag, p.ptr, day.ptr, ids.len, budget);
	for (size_t i = 0; i < ids.len; i++) {
		*nflag += flag[i];
		if ((error = pg_stmt_bind_int(u, 1, flag[i])) < 0 || (error = pg_stmt_bind_int(u, 2, ids.ptr[i])) < 0 ||
		    (error = pg_stmt_exec(u)) < 0)
			goto out;
	}
out:
	free(flag);
	pg_vec_release(&p);
	pg_vec_release(&day);
	pg_vec_release(&ids);
	pg_stmt_free(q);
	pg_stmt_free(u);
	return error;
}

int pg_cls_store_classify(pg_cls_store_stats *out, pg_store *s, const pg_cls_model *m, const pg_cls_store_opts *o)
{
	struct run x;
	pg_stmt *q = NULL;
	const char *ver = pg_cls_model_version(m);
	int error, rc, began = 0;

	memset(&x, 0, sizeof(x));
	memset(out, 0, sizeof(*out));
	x.s = s;
	x.m = m;
	x.o = o;
	x.stats = out;
	if ((error = pg_store_prepare(&x.ins, s,
				      "INSERT INTO classifications (commit_id, sha, model_version, p_security, label, bug_class, "
				      "priority, level, reasons, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
				      "ON CONFLICT (commit_id) DO UPDATE SET sha = excluded.sha, model_version = excluded.model_version, "
				      "p_security = excluded.p_security, label = excluded.label, bug_class = excluded.bug_class, "
				      "priority = excluded.priority, level = excluded.level, reasons = excluded.reasons, "
				      "classified_at = excluded.classified_at")) < 0)
		goto out;
	if (!o->all) {
		if ((error = pg_store_prepare(&q, s, "SELECT commit_id FROM classifications WHERE model_version = ?"
						     " ORDER BY commit_id")) < 0 ||
		    (error = pg_stmt_bind_text(q, 1, ver)) < 0)
			goto out;
		while ((rc = pg_stmt_step(q)) > 0)
			if ((error = pg_vec_push(&x.scored, pg_stmt_int(q, 0))) < 0)
				goto out;
		if (rc < 0) {
			error = rc;
			goto out;
		}
	}
	if ((o->repo && (error = pg_ingest_diff_open(&x.diff, o->repo)) < 0) ||
	    (error = pg_cls_history_open(&x.hist, s)) < 0 || (error = pg_store_begin(s)) < 0)
		goto out;
	began = 1;
	if ((error = pg_ingest_commit_foreach(s, o->all ? NULL : skip_scored, score_one, &x)) < 0)
		goto out;
	if (o->budget && (error = relabel_budget(s, ver, o->budget, &out->flagged)) < 0)
		goto out;
	error = pg_store_commit(s);
	began = 0;
out:
	if (began)
		pg_store_rollback(s);
	pg_vec_release(&x.scored);
	pg_cls_history_free(x.hist);
	pg_ingest_diff_free(x.diff);
	pg_buf_release(&x.diff_text);
	pg_stmt_free(x.ins);
	pg_stmt_free(q);
	return error;
}

int pg_cls_store_flagged_silent(json_t *ids, pg_store *s, int64_t since, int64_t until)
{
	pg_stmt *st = NULL;
	int rc;
	if (pg_store_prepare(&st, s,
			     "SELECT cl.sha, c.committer_time FROM classifications cl JOIN commits c ON c.id = cl.commit_id"
			     " WHERE cl.label = 1 AND c.on_mainline = 1"
			     " AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = cl.sha) ORDER BY c.id") < 0)
		return 0; /* no classifier table: nothing silent */
	while ((rc = pg_stmt_step(st)) > 0) {
		int64_t t = pg_stmt_int(st, 1);
		if ((!since || t >= since) && (!until || t <= until))
			json_array_append_new(ids, pg_json_string(pg_stmt_text(st, 0)));
	}
	pg_stmt_free(st);
	return rc < 0 ? rc : 0;
}
