/*
 * cmd_eval.c - `patchgap eval`: judge the classifier on labelled JSON Lines
 * (precision, recall, F1, PR-AUC, precision at recall 0.90/0.95, confusion),
 * beside the bag-of-words baseline the model file carries, and the operating
 * point used (threshold, the recall it was chosen for and the precision the
 * calibration split promised).
 * The input format is stable: doc/patchgap.1.md "eval".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap eval --data FILE.jsonl [--model FILE] [--recall R | --threshold P] [--json]\n"
	"\n"
	"Scores every record of a labelled JSON Lines file (one object per line:\n"
	"\"subject\", \"message\", optional \"diff\", optional \"files\" [..], \"label\" 0/1,\n"
	"optional \"id\"; \"-\" reads stdin) and prints precision, recall and F1 at the\n"
	"model's default operating point (recall 0.90 with 95 % confidence on its\n"
	"calibration split; or --recall / --threshold), PR-AUC (average precision),\n"
	"the best precision at recall >= 0.90 and >= 0.95, and the confusion matrix,\n"
	"for the model and, beside it, for the plain bag-of-words baseline trained on\n"
	"the same records.\n"
	"\n"
	"  --data FILE      labelled JSON Lines (required)\n"
	"  --model FILE     model file (default: the committed data/model/classify.model)\n"
	"  --recall R       operating point: the threshold that reached recall R (0..1]\n"
	"                   on the model's calibration split (default 0.90)\n"
	"  --threshold P    decision threshold on P(security), 0..1\n"
	"  --json           machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 file or model not found, 4 malformed input\n"
	"(a line that is not a JSON object, a missing or non-0/1 label).\n";

PG_CMD(eval)
{
	struct pg_opt opts[] = { { "data", 1, NULL, 0 }, { "model", 1, NULL, 0 }, { "threshold", 1, NULL, 0 },
				 { "recall", 1, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_cls_docs docs = PG_CLS_DOCS_INIT;
	pg_cls_model *m = NULL;
	pg_cls_metrics mt, mb;
	pg_cls_operating_point op;
	double *scores = NULL, *bscores = NULL, th = 0.5;
	int *labels = NULL, rc, error = 0, ret = PG_EXIT_OK, any_diff = 0;
	const char *data;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if (!(data = pg_opt_get(opts, "data"))) {
		pg_cli_error(cli, "--data FILE.jsonl is required (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((error = pg_cls_model_open(&m, pg_opt_get(opts, "model"))) < 0)
		return pg_cli_fail(cli, error);
	if (pg_opt_get(opts, "recall") && pg_opt_get(opts, "threshold")) {
		pg_cli_error(cli, "--recall and --threshold both choose the threshold; give one");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	op.recall = PG_CLS_DEFAULT_RECALL;
	if (pg_opt_get(opts, "recall")) {
		char *end;
		op.recall = strtod(pg_opt_get(opts, "recall"), &end);
		if (*end || end == pg_opt_get(opts, "recall") || !(op.recall > 0 && op.recall <= 1)) {
			pg_cli_error(cli, "--recall wants a recall in (0, 1], not '%s'", pg_opt_get(opts, "recall"));
			ret = PG_EXIT_USAGE;
			goto out;
		}
	}

	if (pg_opt_get(opts, "threshold")) {
		char *end;
		th = strtod(pg_opt_get(opts, "threshold"), &end);
		if (*end || th < 0 || th > 1) {
			pg_cli_error(cli, "--threshold wants a probability 0..1, not '%s'", pg_opt_get(opts, "threshold"));
			ret = PG_EXIT_USAGE;
			goto out;
		}
	}
	if (strcmp(data, "-") && access(data, F_OK) < 0) {
		pg_cli_error(cli, "data file '%s' not found", data);
		ret = PG_EXIT_NOTFOUND;
		goto out;
	}
	if ((error = pg_cls_read_input(&docs, data, "jsonl")) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	/* the operating point of the head that scores the data: with diffs, or (no record has one) without */
	for (size_t i = 0; i < docs.n && !any_diff; i++)
		any_diff = docs.v[i].diff && *docs.v[i].diff;
	if ((error = pg_cls_model_operating_point(&op, m, any_diff, op.recall)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (!pg_opt_get(opts, "threshold"))
		th = op.threshold;
	scores = calloc(docs.n + 1, sizeof(double));
	labels = calloc(docs.n + 1, sizeof(int));
	bscores = calloc(docs.n + 1, sizeof(double));
	if (!scores || !labels || !bscores) {
		pg_cli_error(cli, "out of memory");
		ret = PG_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < docs.n; i++) {
		pg_cls_input in;
		pg_cls_result r;
		if (docs.v[i].label < 0) {
			pg_cli_error(cli, "'%s' %s: no \"label\" (eval needs 0 or 1 on every record)", data, docs.v[i].id);
			ret = PG_EXIT_INPUT;
			goto out;
		}
		pg_cls_doc_input(&in, &docs.v[i]);
		if ((error = pg_cls_classify(&r, m, &in)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		scores[i] = r.p_security;
		labels[i] = docs.v[i].label;
		pg_cls_result_release(&r);
		if (pg_cls_model_has_baseline(m) && (error = pg_cls_baseline_score(&bscores[i], m, &in)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
	}
	/* the baseline is uncalibrated: its figures at 0.5 are for the record, its ranking is the comparison */
	if ((error = pg_cls_metrics_compute(&mt, scores, labels, docs.n, th)) < 0 ||
	    (error = pg_cls_metrics_compute(&mb, bscores, labels, docs.n, 0.5)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		json_t *b = !pg_cls_model_has_baseline(m) ? json_null() :
			json_pack("{s:f, s:f, s:f, s:f, s:f}", "pr_auc", mb.pr_auc, "precision_at_recall_0.90", mb.p_at_r90,
				  "threshold_at_recall_0.90", mb.t_at_r90, "precision_at_recall_0.95", mb.p_at_r95,
				  "threshold_at_recall_0.95", mb.t_at_r95);
		json_t *opj = pg_opt_get(opts, "threshold") ? json_null() :
			json_pack("{s:f, s:f, s:f}", "recall", op.recall, "threshold", op.threshold, "expected_precision",
				  op.precision);
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:I, s:I, s:I, s:I}}",
				      "model", pg_cls_model_version(m), "data", data, "records", (json_int_t)mt.n,
				      "positives", (json_int_t)mt.positives, "threshold", mt.threshold,
				      "precision", mt.precision, "recall", mt.recall, "f1", mt.f1, "pr_auc", mt.pr_auc,
				      "precision_at_recall_0.90", mt.p_at_r90, "threshold_at_recall_0.90", mt.t_at_r90,
				      "precision_at_recall_0.95", mt.p_at_r95, "threshold_at_recall_0.95", mt.t_at_r95,
				      "confusion", "tp", (json_int_t)mt.tp, "fp", (json_int_t)mt.fp, "fn", (json_int_t)mt.fn,
				      "tn", (json_int_t)mt.tn);
		if (o) {
			json_object_set_new(o, "baseline", b ? b : json_null());
			json_object_set_new(o, "operating_point", opj ? opj : json_null());
		} else {
			json_decref(b);
			json_decref(opj);
		}
		char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
		if (!s) {
			pg_cli_error(cli, "out of memory");
			ret = PG_EXIT_ERROR;
		} else {
			puts(s);
		}
		free(s);
		json_decref(o);
	} else {
		printf("model       %s\n", pg_cls_model_version(m));
		printf("records     %zu, positives %zu (%.1f %%)\n", mt.n, mt.positives,
		       mt.n ? 100.0 * (double)mt.positives / (double)mt.n : 0.0);
		if (pg_opt_get(opts, "threshold"))
			printf("threshold   %.4f (--threshold)\n", mt.threshold);
		else
			printf("threshold   %.4f (operating point: recall %.2f with 95 %% confidence on the calibration split, "
			       "expected precision %.3f)\n", mt.threshold, op.recall, op.precision);
		printf("precision   %.3f\nrecall      %.3f\nF1          %.3f\n", mt.precision, mt.recall, mt.f1);
		printf("\n            %-22s %s\n", "model", pg_cls_model_has_baseline(m) ? "baseline (bag of words)" : "");
		if (pg_cls_model_has_baseline(m)) {
			printf("PR-AUC      %-22.3f %.3f\n", mt.pr_auc, mb.pr_auc);
			printf("P@R>=0.90   %.3f (t %.4f)%8s %.3f\n", mt.p_at_r90, mt.t_at_r90, "", mb.p_at_r90);
			printf("P@R>=0.95   %.3f (t %.4f)%8s %.3f\n\n", mt.p_at_r95, mt.t_at_r95, "", mb.p_at_r95);
		} else {
			printf("PR-AUC      %.3f (average precision; no baseline in this model file)\n", mt.pr_auc);
			printf("P@R>=0.90   %.3f (threshold %.4f)\n", mt.p_at_r90, mt.t_at_r90);
			printf("P@R>=0.95   %.3f (threshold %.4f)\n\n", mt.p_at_r95, mt.t_at_r95);
		}
		printf("confusion   TP %zu  FP %zu\n            FN %zu  TN %zu\n", mt.tp, mt.fp, mt.fn, mt.tn);
	}
out:
	free(scores);
	free(bscores);
	free(labels);
	pg_cls_docs_release(&docs);
	pg_cls_model_free(m);
	return ret;
}
