/*
 * cmd_classify.c - `patchgap classify`: flag security fixes, name their bug
 * class and rank them.  Two inputs:
 *   - the database: commits ingested by `patchgap ingest` that the current
 *     model has not scored yet (or all with --all); verdicts go to the
 *     classifications table in one transaction;
 *   - --input FILE (or "-"): patch files, git format-patch / mbox streams, a
 *     bare message, or JSON Lines; verdicts are printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap classify [--all] [--json] [--model FILE] [--config-built yes|no]\n"
	"                         [--recall R | --budget N]\n"
	"       patchgap classify --input FILE [--format jsonl|mbox] [--json] [--model FILE]\n"
	"                         [--recall R | --budget N]\n"
	"\n"
	"Scores commits with the security-fix classifier (doc/model.md): P(security),\n"
	"a label, the bug class and a priority (urgent/high/medium/low) with its reasons.\n"
	"\n"
	"Without --input, scores the ingested commits that the current model has not\n"
	"scored yet and stores the verdicts in the database (table classifications),\n"
	"then lists the flagged ones.\n"
	"\n"
	"Which commits are flagged is an operating point: by default the threshold\n"
	"that reached recall 0.90 with 95 % confidence on the model's calibration\n"
	"split (a held-out time split; the precision measured there is printed as the\n"
	"expected precision),\n"
	"or the config's [classify] recall, or --recall.  --budget N flags instead the\n"
	"N highest-scored commits of each day (committer date, UTC; with --input, the\n"
	"N highest of the input).  A new operating point relabels stored verdicts\n"
	"only with --all.\n"
	"\n"
	"  --all               rescore every commit, not only new ones\n"
	"  --input FILE        score a patch, mbox, message or JSON Lines file (\"-\" = stdin);\n"
	"                      JSON Lines fields: subject, message, optional diff, files, id\n"
	"  --format F          force the input format: jsonl or mbox (default: detect)\n"
	"  --config-built B    yes/no: the touched code is (not) compiled in the branch's\n"
	"                      .config (adjusts the priority; default unknown)\n"
	"  --recall R          operating point: flag at the threshold that reached recall R\n"
	"                      (0 < R <= 1) on the calibration split\n"
	"  --budget N          flag the N highest-scored commits per day (N >= 1)\n"
	"  --model FILE        model file (default: the committed data/model/classify.model)\n"
	"  --json              machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 file/model not found, 4 malformed input.\n";

/* How commits are flagged: at the thresholds of a recall, or the top `budget` per day. */
struct opsel {
	double recall;
	pg_cls_operating_point op[2];  /* [0] input with a diff, [1] without */
	size_t budget;                 /* 0: by threshold */
};

static void print_op(const struct opsel *o, int has_diff)
{
	if (o->budget)
		printf("operating point: the %zu highest-scored commits per day\n", o->budget);
	else
		printf("operating point: recall %.2f (threshold %.4f, expected precision %.3f on the calibration split)\n",
		       o->recall, o->op[!has_diff].threshold, o->op[!has_diff].precision);
}

static json_t *op_json(const struct opsel *o, int has_diff)
{
	if (o->budget)
		return json_pack("{s:I}", "budget_per_day", (json_int_t)o->budget);
	return json_pack("{s:f, s:f, s:f}", "recall", o->recall, "threshold", o->op[!has_diff].threshold,
			 "expected_precision", o->op[!has_diff].precision);
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

/* flag[v[k].i] = 1 for the `budget` highest of each day; v is reordered. */
static void flag_budget(struct ranked *v, size_t n, size_t budget, unsigned char *flag)
{
	size_t rank = 0;
	qsort(v, n, sizeof(*v), cmp_ranked);
	for (size_t k = 0; k < n; k++) {
		rank = k && v[k].day == v[k - 1].day ? rank + 1 : 0;
		flag[v[k].i] = rank < budget;
	}
}

static json_t *result_json(const char *id, const char *subject, const pg_cls_result *r, const char *version)
{
	json_t *reasons = json_loads(r->reasons_json ? r->reasons_json : "[]", 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:f, s:b, s:s, s:f, s:s, s:o}", "id", id ? id : "", "subject",
			 subject ? subject : "", "model", version, "p_security", r->p_security, "label", r->label,
			 "bug_class", pg_cls_bug_class_name(r->bug_class), "priority", r->priority, "level",
			 pg_cls_level_name(r->level), "reasons", reasons ? reasons : json_array());
}

static void print_text(const char *id, const char *subject, const pg_cls_result *r)
{
	printf("%-14.14s %-6s %5.1f  p=%.3f %-24s %s\n", id ? id : "", r->label ? pg_cls_level_name(r->level) : "-",
	       r->priority, r->p_security, r->label ? pg_cls_bug_class_name(r->bug_class) : "-", subject ? pg_cli_safe(subject) : "");
}

static int emit_json(json_t *o, struct pg_cli *cli)
{
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	if (!s) {
		pg_cli_error(cli, "out of memory");
		return PG_EXIT_ERROR;
	}
	puts(s);
	free(s);
	return PG_EXIT_OK;
}

/*
 * One element of a JSON array printed as it is computed, byte for byte as
 * emit_json would print the whole array: a 250 MB mbox no longer builds
 * its results in memory first (8.3 GB).  Takes o.  n = elements so far.
 */
static int stream_json_item(json_t *o, size_t n, struct pg_cli *cli)
{
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	if (!s) {
		pg_cli_error(cli, "out of memory");
		return PG_EXIT_ERROR;
	}
	fputs(n ? ",\n  " : "[\n  ", stdout);
	for (const char *p = s; *p; p++) {
		putchar(*p);
		if (*p == '\n') /* strings hold no raw newline: this is layout */
			fputs("  ", stdout);
	}
	free(s);
	return PG_EXIT_OK;
}

static int classify_input(struct pg_cli *cli, const pg_cls_model *m, const char *path, const char *format, int built,
			  const struct opsel *o)
{
	pg_cls_docs docs = PG_CLS_DOCS_INIT;
	struct ranked *rk = NULL;
	unsigned char *flag = NULL;
	int error, ret = PG_EXIT_OK;
	size_t nout = 0;

	if ((error = pg_cls_read_input(&docs, path, format)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (o->budget) {
		/* a first pass ranks the input: the budget is relative to the whole of it */
		if (!(rk = calloc(docs.n + 1, sizeof(*rk))) || !(flag = calloc(docs.n + 1, 1))) {
			ret = pg_cli_fail(cli, pg_error_setc(PG_ENOMEM, "out of memory"));
			goto out;
		}
		for (size_t i = 0; i < docs.n; i++) {
			pg_cls_input in;
			pg_cls_result r;
			pg_cls_doc_input(&in, &docs.v[i]);
			if ((error = pg_cls_classify(&r, m, &in)) < 0) {
				ret = pg_cli_fail(cli, error);
				goto out;
			}
			rk[i].p = r.p_security;
			rk[i].i = i;
			pg_cls_result_release(&r);
		}
		flag_budget(rk, docs.n, o->budget, flag);
	}
	for (size_t i = 0; i < docs.n; i++) {
		pg_cls_input in;
		pg_cls_result r;
		pg_cls_doc_input(&in, &docs.v[i]);
		in.config_built = built;
		if ((error = pg_cls_classify(&r, m, &in)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		r.label = flag ? flag[i] : r.p_security >= o->op[!docs.v[i].diff].threshold;
		if (cli->json)
			ret = stream_json_item(result_json(docs.v[i].id, docs.v[i].subject, &r, pg_cls_model_version(m)),
					       nout++, cli);
		else
			print_text(docs.v[i].id, docs.v[i].subject, &r);
		pg_cls_result_release(&r);
		if (ret != PG_EXIT_OK)
			goto out;
	}
	if (cli->json)
		fputs(nout ? "\n]\n" : "[]\n", stdout);
out:
	if (cli->json && nout && ret != PG_EXIT_OK)
		fputs("\n]\n", stdout); /* stderr says why it is short */
	free(rk);
	free(flag);
	pg_cls_docs_release(&docs);
	return ret;
}

struct row { int64_t id; char *sha, *subject, *message; };

/*
 * --budget: relabel every verdict of this model version, the `budget`
 * highest of each committer day flagged (in the caller's transaction).
 */
static int relabel_budget(pg_store *s, const char *ver, size_t budget, size_t *nflag)
{
	pg_stmt *q = NULL, *u = NULL;
	PG_VEC(struct ranked) v = PG_VEC_INIT;
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
		struct ranked r = { pg_stmt_double(q, 2), t >= 0 ? t / 86400 : (t - 86399) / 86400, ids.len };
		if ((error = pg_vec_push(&ids, pg_stmt_int(q, 0))) < 0 || (error = pg_vec_push(&v, r)) < 0)
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
	flag_budget(v.ptr, v.len, budget, flag);
	for (size_t i = 0; i < ids.len; i++) {
		*nflag += flag[i];
		if ((error = pg_stmt_bind_int(u, 1, flag[i])) < 0 || (error = pg_stmt_bind_int(u, 2, ids.ptr[i])) < 0 ||
		    (error = pg_stmt_exec(u)) < 0)
			goto out;
	}
out:
	free(flag);
	pg_vec_release(&v);
	pg_vec_release(&ids);
	pg_stmt_free(q);
	pg_stmt_free(u);
	return error;
}

static int classify_db(struct pg_cli *cli, const pg_cls_model *m, int all, int built, const struct opsel *o)
{
	pg_store *s = NULL;
	pg_stmt *sel = NULL, *files = NULL, *ins = NULL;
	pg_cls_history *hist = NULL;
	const char *ver = pg_cls_model_version(m);
	json_t *flagged = cli->json ? json_array() : NULL;
	size_t n = 0, nflag = 0, by_level[4] = { 0 };
	char **paths = NULL;
	size_t npaths = 0, apaths = 0;
	int rc, error = 0, ret = PG_EXIT_OK;

	if ((rc = pg_cli_open_store(&s, cli, 0)) > 0)
		return rc;
	if ((error = pg_store_prepare(&sel, s, all ? "SELECT id, sha, subject, message, committer_time FROM commits ORDER BY id"
					      : "SELECT c.id, c.sha, c.subject, c.message, c.committer_time FROM commits c WHERE NOT EXISTS "
						"(SELECT 1 FROM classifications k WHERE k.commit_id = c.id AND k.model_version = ?) "
						"ORDER BY c.id")) < 0 ||
	    (error = pg_store_prepare(&files, s, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0 ||
	    (error = pg_store_prepare(&ins, s,
				      "INSERT INTO classifications (commit_id, sha, model_version, p_security, label, bug_class, "
				      "priority, level, reasons, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
				      "ON CONFLICT (commit_id) DO UPDATE SET sha = excluded.sha, model_version = excluded.model_version, "
				      "p_security = excluded.p_security, label = excluded.label, bug_class = excluded.bug_class, "
				      "priority = excluded.priority, level = excluded.level, reasons = excluded.reasons, "
				      "classified_at = excluded.classified_at")) < 0)
		goto fail;
	if (!all && (error = pg_stmt_bind_text(sel, 1, ver)) < 0)
		goto fail;
	if ((error = pg_cls_history_open(&hist, s)) < 0)
		goto fail;
	if ((error = pg_store_begin(s)) < 0)
		goto fail;
	while ((rc = pg_stmt_step(sel)) > 0) {
		pg_cls_input in = PG_CLS_INPUT_INIT;
		pg_cls_result r;
		int64_t id = pg_stmt_int(sel, 0);
		const char *sha = pg_stmt_text(sel, 1);

		for (size_t i = 0; i < npaths; i++)
			free(paths[i]);
		npaths = 0;
		if ((error = pg_stmt_bind_int(files, 1, id)) < 0)
			goto rollback;
		while ((rc = pg_stmt_step(files)) > 0) {
			const char *p = pg_stmt_text(files, 0);
			if (npaths == apaths) {
				size_t na = apaths ? apaths * 2 : 16;
				char **np = realloc(paths, na * sizeof(*np));
				if (!np) {
					error = pg_error_setc(PG_ENOMEM, "out of memory");
					goto rollback;
				}
				paths = np;
				apaths = na;
			}
			if (!(paths[npaths] = strdup(p ? p : ""))) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto rollback;
			}
			npaths++;
		}
		if (rc < 0 || (error = pg_stmt_reset(files)) < 0) {
			error = rc < 0 ? rc : error;
			goto rollback;
		}
		in.subject = pg_stmt_text(sel, 2);
		/* commits.message is the raw message: the subject paragraph, then the body */
		in.message = pg_cls_message_body(pg_stmt_text(sel, 3));
		in.files = (const char *const *)paths;
		in.nfiles = npaths;
		in.config_built = built;
		if ((error = pg_cls_history_count(&in.history_cves, hist, sha, pg_stmt_int(sel, 4), (const char *const *)paths,
						  npaths)) < 0)
			goto rollback;
		if ((error = pg_cls_classify(&r, m, &in)) < 0)
			goto rollback;
		/* ingested commits have no diff: the no-diff head's operating point; --budget labels below */
		r.label = !o->budget && r.p_security >= o->op[1].threshold;
		if ((error = pg_stmt_bind_int(ins, 1, id)) < 0 || (error = pg_stmt_bind_text(ins, 2, sha)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 3, ver)) < 0 || (error = pg_stmt_bind_double(ins, 4, r.p_security)) < 0 ||
		    (error = pg_stmt_bind_int(ins, 5, r.label)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 6, pg_cls_bug_class_name(r.bug_class))) < 0 ||
		    (error = pg_stmt_bind_double(ins, 7, r.priority)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 8, pg_cls_level_name(r.level))) < 0 ||
		    (error = pg_stmt_bind_text(ins, 9, r.reasons_json)) < 0 ||
		    (error = pg_stmt_bind_int(ins, 10, (int64_t)time(NULL))) < 0 || (error = pg_stmt_exec(ins)) < 0) {
			pg_cls_result_release(&r);
			goto rollback;
		}
		n++;
		if (r.label) {
			nflag++;
			by_level[r.level]++;
			if (flagged)
				json_array_append_new(flagged, result_json(sha, in.subject, &r, ver));
			else
				print_text(sha, in.subject, &r);
		}
		pg_cls_result_release(&r);
		if (n % 4096 == 0)
			pg_cli_progress(cli, "classified %zu commits", n);
	}
	if (rc < 0) {
		error = rc;
		goto rollback;
	}
	if (o->budget && (error = relabel_budget(s, ver, o->budget, &nflag)) < 0)
		goto rollback;
	if ((error = pg_store_commit(s)) < 0)
		goto fail;
	pg_cli_progress_done(cli);
	if (flagged) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:O, s:o}", "model", ver, "classified", (json_int_t)n,
				      "flagged", (json_int_t)nflag, "by_level", "urgent", (json_int_t)by_level[PG_CLS_URGENT],
				      "high", (json_int_t)by_level[PG_CLS_HIGH], "medium", (json_int_t)by_level[PG_CLS_MEDIUM],
				      "low", (json_int_t)by_level[PG_CLS_LOW], "commits", flagged, "operating_point", op_json(o, 0));
		ret = emit_json(j, cli);
		json_decref(j);
	} else if (!cli->quiet) {
		print_op(o, 0);
		printf("classified %zu commits with %s: %zu flagged (urgent %zu, high %zu, medium %zu, low %zu)\n", n, ver,
		       nflag, by_level[PG_CLS_URGENT], by_level[PG_CLS_HIGH], by_level[PG_CLS_MEDIUM], by_level[PG_CLS_LOW]);
	}
	goto out;
rollback:
	pg_store_rollback(s);
fail:
	ret = pg_cli_fail(cli, error);
out:
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	json_decref(flagged);
	pg_stmt_free(sel);
	pg_stmt_free(files);
	pg_stmt_free(ins);
	pg_cls_history_free(hist);
	pg_store_free(s);
	return ret;
}

/*
 * The operating point: --budget, else --recall, else the config's
 * [classify] recall (when a config is there), else 0.90.
 */
static int choose_op(struct opsel *o, struct pg_cli *cli, struct pg_opt *opts)
{
	const char *r = pg_opt_get(opts, "recall"), *b = pg_opt_get(opts, "budget");
	char *end;

	memset(o, 0, sizeof(*o));
	o->recall = PG_CLS_DEFAULT_RECALL;
	if (r && b) {
		pg_cli_error(cli, "--recall and --budget are two operating points; give one");
		return PG_EXIT_USAGE;
	}
	if (b) {
		unsigned long long n = strtoull(b, &end, 10);
		if (end == b || *end || *b == '-' || n < 1 || n > 1000000) {
			pg_cli_error(cli, "--budget wants a number of commits per day (1..1000000), not '%s'", b);
			return PG_EXIT_USAGE;
		}
		o->budget = (size_t)n;
	} else if (r) {
		o->recall = strtod(r, &end);
		if (end == r || *end || !(o->recall > 0 && o->recall <= 1)) {
			pg_cli_error(cli, "--recall wants a recall in (0, 1], not '%s'", r);
			return PG_EXIT_USAGE;
		}
	} else if (cli->conf_path && access(cli->conf_path, F_OK) == 0) {
		pg_config *cfg = NULL;
		int rc = pg_cli_load_config(&cfg, cli);
		if (rc > 0)
			return rc;
		o->recall = cfg->classify_recall;
		pg_config_free(cfg);
	}
	return 0;
}

PG_CMD(classify)
{
	struct pg_opt opts[] = { { "all", 0, NULL, 0 }, { "input", 1, NULL, 0 }, { "format", 1, NULL, 0 },
				 { "model", 1, NULL, 0 }, { "config-built", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { "recall", 1, NULL, 0 }, { "budget", 1, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_cls_model *m = NULL;
	struct opsel o;
	const char *cb;
	int rc, error, built = -1;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((cb = pg_opt_get(opts, "config-built"))) {
		if (!strcmp(cb, "yes") || !strcmp(cb, "1"))
			built = 1;
		else if (!strcmp(cb, "no") || !strcmp(cb, "0"))
			built = 0;
		else {
			pg_cli_error(cli, "--config-built wants yes or no, not '%s'", cb);
			return PG_EXIT_USAGE;
		}
	}
	if (pg_opt_get(opts, "input") && pg_opt_get(opts, "all")) {
		pg_cli_error(cli, "--all applies to the database, not to --input");
		return PG_EXIT_USAGE;
	}
	if ((rc = choose_op(&o, cli, opts)) > 0)
		return rc;
	if ((error = pg_cls_model_open(&m, pg_opt_get(opts, "model"))) < 0)
		return pg_cli_fail(cli, error);
	for (int h = 0; h < 2; h++)
		if ((error = pg_cls_model_operating_point(&o.op[h], m, !h, o.recall)) < 0) {
			pg_cls_model_free(m);
			return pg_cli_fail(cli, error);
		}
	if (pg_opt_get(opts, "input"))
		rc = classify_input(cli, m, pg_opt_get(opts, "input"), pg_opt_get(opts, "format"), built, &o);
	else
		rc = classify_db(cli, m, pg_opt_get(opts, "all") != NULL, built, &o);
	pg_cls_model_free(m);
	return rc;
}
