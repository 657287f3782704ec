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
#include <jansson.h>
#include <unistd.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap classify [--all] [--json] [--model FILE] [--config-built yes|no]\n"
	"                         [--recall R | --budget N] [--no-diffs]\n"
	"       patchgap classify --input FILE [--format jsonl|mbox] [--json] [--model FILE]\n"
	"                         [--recall R | --budget N]\n"
	"\n"
	"Scores commits with the security-fix classifier (doc/model.md): P(security),\n"
	"a label, the bug class and a priority (urgent/high/medium/low) with its reasons.\n"
	"\n"
	"Without --input, scores the ingested commits that the current model has not\n"
	"scored yet and stores the verdicts in the database (table classifications),\n"
	"then lists the flagged ones.  Each commit is scored with its diff, read from\n"
	"core.repository (the diff head, its diff features and threshold); merges,\n"
	"commits that change no file and commits the repository has not got are\n"
	"scored from message and paths (the no-diff head).  [classify] diffs = false\n"
	"in the config or --no-diffs scores every commit without its diff.\n"
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
	"  --no-diffs          score ingested commits without their diff (message and paths\n"
	"                      only: the no-diff head; ~8x less CPU on a whole history)\n"
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
	double *p = NULL;
	unsigned char *flag = NULL;
	int error, ret = PG_EXIT_OK;
	size_t nout = 0;

	if ((error = pg_cls_read_input(&docs, path, format)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (o->budget) {
		/* a first pass ranks the input: the budget is relative to the whole of it */
		if (!(p = calloc(docs.n + 1, sizeof(*p))) || !(flag = calloc(docs.n + 1, 1))) {
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
			p[i] = r.p_security;
			pg_cls_result_release(&r);
		}
		pg_cls_flag_budget(flag, p, NULL, docs.n, o->budget);
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
	free(p);
	free(flag);
	pg_cls_docs_release(&docs);
	return ret;
}

struct db_out {
	struct pg_cli *cli;
	const char *ver;
	json_t *flagged;
	size_t n, by_level[4];
};

static int db_result(const char *sha, const char *subject, const pg_cls_result *r, int has_diff, void *payload)
{
	struct db_out *d = payload;
	(void)has_diff;
	if (r->label) {
		d->by_level[r->level]++;
		if (d->flagged)
			json_array_append_new(d->flagged, result_json(sha, subject, r, d->ver));
		else
			print_text(sha, subject, r);
	}
	if (++d->n % 4096 == 0)
		pg_cli_progress(d->cli, "classified %zu commits", d->n);
	return 0;
}

static int classify_db(struct pg_cli *cli, const pg_cls_model *m, int all, int built, int no_diffs,
		       const struct opsel *o)
{
	pg_store *s = NULL;
	git_repository *repo = NULL;
	pg_cls_store_opts so = { all, built, o->op[1].threshold, o->budget, db_result, NULL, NULL, o->op[0].threshold };
	pg_cls_store_stats st;
	struct db_out d = { cli, pg_cls_model_version(m), cli->json ? json_array() : NULL, 0, { 0 } };
	const char *ver = d.ver;
	int rc, error = 0, ret = PG_EXIT_OK;

	so.payload = &d;
	if ((rc = pg_cli_open_diff_repo(&repo, cli, no_diffs)) > 0 || (rc = pg_cli_open_store(&s, cli, 0)) > 0) {
		json_decref(d.flagged);
		pg_cli_free_diff_repo(repo);
		return rc;
	}
	so.repo = repo;
	if ((error = pg_cls_store_classify(&st, s, m, &so)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	pg_cli_progress_done(cli);
	if (d.flagged) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:O, s:o, s:I, s:I, s:b}", "model", ver,
				      "classified", (json_int_t)st.scored, "flagged", (json_int_t)st.flagged, "by_level",
				      "urgent", (json_int_t)d.by_level[PG_CLS_URGENT], "high", (json_int_t)d.by_level[PG_CLS_HIGH],
				      "medium", (json_int_t)d.by_level[PG_CLS_MEDIUM], "low", (json_int_t)d.by_level[PG_CLS_LOW],
				      "commits", d.flagged, "operating_point", op_json(o, 0), "with_diff",
				      (json_int_t)st.with_diff, "not_in_repository", (json_int_t)st.not_in_repo, "diffs",
				      repo != NULL);
		if (j && repo)
			json_object_set_new(j, "operating_point_diff", op_json(o, 1));
		ret = emit_json(j, cli);
		json_decref(j);
	} else if (!cli->quiet) {
		print_op(o, 0);
		if (repo && !o->budget)
			printf("with a diff (the diff head): threshold %.4f, expected precision %.3f\n", o->op[0].threshold,
			       o->op[0].precision);
		printf("classified %zu commits with %s: %zu flagged (urgent %zu, high %zu, medium %zu, low %zu)\n", st.scored,
		       ver, st.flagged, d.by_level[PG_CLS_URGENT], d.by_level[PG_CLS_HIGH], d.by_level[PG_CLS_MEDIUM],
		       d.by_level[PG_CLS_LOW]);
		if (repo)
			printf("%zu scored with their diff, %zu without (merges, no change, or not in the repository: %zu)\n",
			       st.with_diff, st.scored - st.with_diff, st.not_in_repo);
	}
out:
	json_decref(d.flagged);
	pg_store_free(s);
	pg_cli_free_diff_repo(repo);
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
				 { "recall", 1, NULL, 0 }, { "budget", 1, NULL, 0 }, { "no-diffs", 0, NULL, 0 },
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
		rc = classify_db(cli, m, pg_opt_get(opts, "all") != NULL, built, pg_opt_get(opts, "no-diffs") != NULL, &o);
	pg_cls_model_free(m);
	return rc;
}
