/*
 * cmd_eval.c - `patchgap eval`: judge the classifier on labelled JSON Lines
 * (precision, recall, F1, PR-AUC, precision at recall 0.90/0.95, confusion).
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
	"usage: patchgap eval --data FILE.jsonl [--model FILE] [--threshold P] [--json]\n"
	"\n"
	"Scores every record of a labelled JSON Lines file (one object per line:\n"
	"\"subject\", \"message\", optional \"diff\", optional \"files\" [..], \"label\" 0/1,\n"
	"optional \"id\"; \"-\" reads stdin) and prints precision, recall and F1 at the\n"
	"model's threshold (or --threshold), PR-AUC (average precision), the best\n"
	"precision at recall >= 0.90 and >= 0.95, and the confusion matrix.\n"
	"\n"
	"  --data FILE      labelled JSON Lines (required)\n"
	"  --model FILE     model file (default: the committed data/model/classify.model)\n"
	"  --threshold P    decision threshold on P(security), 0..1\n"
	"  --json           machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 file or model not found, 4 malformed input\n"
	"(a line that is not a JSON object, a missing or non-0/1 label).\n";

PG_CMD(eval)
{
	struct pg_opt opts[] = { { "data", 1, NULL, 0 }, { "model", 1, NULL, 0 }, { "threshold", 1, NULL, 0 },
				 { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_cls_docs docs = PG_CLS_DOCS_INIT;
	pg_cls_model *m = NULL;
	pg_cls_metrics mt;
	double *scores = NULL, th;
	int *labels = NULL, rc, error = 0, ret = PG_EXIT_OK;
	const char *data;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if (!(data = pg_opt_get(opts, "data"))) {
		pg_cli_error(cli, "--data FILE.jsonl is required (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((error = pg_cls_model_open(&m, pg_opt_get(opts, "model"))) < 0)
		return pg_cli_fail(cli, error);
	th = pg_cls_model_threshold(m);
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
	scores = calloc(docs.n + 1, sizeof(double));
	labels = calloc(docs.n + 1, sizeof(int));
	if (!scores || !labels) {
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
	}
	if ((error = pg_cls_metrics_compute(&mt, scores, labels, docs.n, th)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:I, s:I, s:I, s:I}}",
				      "model", pg_cls_model_version(m), "data", data, "records", (json_int_t)mt.n,
				      "positives", (json_int_t)mt.positives, "threshold", mt.threshold,
				      "precision", mt.precision, "recall", mt.recall, "f1", mt.f1, "pr_auc", mt.pr_auc,
				      "precision_at_recall_0.90", mt.p_at_r90, "threshold_at_recall_0.90", mt.t_at_r90,
				      "precision_at_recall_0.95", mt.p_at_r95, "threshold_at_recall_0.95", mt.t_at_r95,
				      "confusion", "tp", (json_int_t)mt.tp, "fp", (json_int_t)mt.fp, "fn", (json_int_t)mt.fn,
				      "tn", (json_int_t)mt.tn);
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
		printf("threshold   %.3f\n", mt.threshold);
		printf("precision   %.3f\nrecall      %.3f\nF1          %.3f\n", mt.precision, mt.recall, mt.f1);
		printf("PR-AUC      %.3f (average precision)\n", mt.pr_auc);
		printf("P@R>=0.90   %.3f (threshold %.3f)\n", mt.p_at_r90, mt.t_at_r90);
		printf("P@R>=0.95   %.3f (threshold %.3f)\n", mt.p_at_r95, mt.t_at_r95);
		printf("confusion   TP %zu  FP %zu\n            FN %zu  TN %zu\n", mt.tp, mt.fp, mt.fn, mt.tn);
	}
out:
	free(scores);
	free(labels);
	pg_cls_docs_release(&docs);
	pg_cls_model_free(m);
	return ret;
}
