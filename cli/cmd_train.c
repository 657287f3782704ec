/*
 * cmd_train.c - `patchgap train`: rebuild the security-fix classifier from
 * the shared data set (deterministic: same data and seed, same model bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap train [--data DIR] [--out FILE] [--seed N] [--cutoff DATE] [--epochs N]\n"
	"                      [--calibration-from DATE] [--lore-from DATE] [--lolo [--json]]\n"
	"\n"
	"Trains the security-fix classifier (doc/model.md) and the bag-of-words baseline\n"
	"from the shared data set and writes the model file.  Records dated on or after\n"
	"the cutoff are held out (lore from the cutoff on is the evaluation set of\n"
	"tools/make-eval-set.py); lore mails from the calibration start to the cutoff are\n"
	"held out too and fit the calibration and the operating points (the threshold\n"
	"for each recall, default recall 0.90, and the precision expected there).\n"
	"\n"
	"With --lolo, writes no model: for every mailing list L, trains both models\n"
	"without any mail of L and prints their figures on L's held-out mails\n"
	"(leave-one-list-out) and the mean over lists.\n"
	"\n"
	"  --data DIR     data directory (default $PATCHGAP_SHARED_DATA, else ../shared/data)\n"
	"  --out FILE     model file to write (default: the source tree's data/model/classify.model)\n"
	"  --seed N       shuffle seed (default 1)\n"
	"  --cutoff DATE  time split, YYYY-MM-DD (default 2025-01-01)\n"
	"  --epochs N     stage-1 passes over the data (default 6)\n"
	"  --calibration-from DATE  start of the calibration split (default: the first\n"
	"                 of the month six months before the cutoff)\n"
	"  --lore-from DATE  lore mails older than this are not read (default: the first\n"
	"                 of the month three months before the calibration start; older\n"
	"                 labels follow an earlier CNA practice, doc/model.md)\n"
	"  --lolo         leave-one-list-out evaluation instead of writing a model\n"
	"  --json         with --lolo: machine-readable output\n"
	"\n"
	"Exit status: 0 written, 1 I/O error, 2 usage, 3 data not found, 4 bad data.\n";

static void show(const char *msg, void *payload)
{
	const struct pg_cli *cli = payload;
	if (!cli->quiet)
		fprintf(stderr, "train: %s\n", msg);
}

static int lolo(struct pg_cli *cli, const pg_cls_train_opts *o)
{
	pg_cls_lolo_row *r = NULL;
	size_t n = 0;
	int error, ret = PG_EXIT_OK;

	if ((error = pg_cls_train_lolo(&r, &n, o)) < 0)
		return pg_cli_fail(cli, error);
	if (cli->json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:I, s:I, s:{s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f}}", "list", r[i].list,
					     "records", (json_int_t)r[i].n, "positives", (json_int_t)r[i].positives, "model",
					     "pr_auc", r[i].pr_auc, "precision_at_recall_0.90", r[i].p_at_r90,
					     "precision_at_recall_0.90_base_rate_0.07", r[i].p_at_r90_7, "recall_at_default",
					     r[i].recall_at_default, "precision_at_default", r[i].precision_at_default, "baseline",
					     "pr_auc", r[i].base_pr_auc, "precision_at_recall_0.90", r[i].base_p_at_r90,
					     "precision_at_recall_0.90_base_rate_0.07", r[i].base_p_at_r90_7));
		char *s = a ? json_dumps(a, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
		if (s)
			puts(s);
		else
			ret = PG_EXIT_ERROR;
		free(s);
		json_decref(a);
	} else {
		printf("%-18s %6s %5s | %7s %6s %8s %6s %6s | %7s %6s %8s\n", "list left out", "mails", "pos", "PR-AUC",
		       "P@R90", "P@R90@7%", "R@def", "P@def", "base", "P@R90", "P@R90@7%");
		for (size_t i = 0; i < n; i++)
			printf("%-18s %6zu %5zu | %7.3f %6.3f %8.3f %6.3f %6.3f | %7.3f %6.3f %8.3f\n", r[i].list, r[i].n,
			       r[i].positives, r[i].pr_auc, r[i].p_at_r90, r[i].p_at_r90_7, r[i].recall_at_default,
			       r[i].precision_at_default, r[i].base_pr_auc, r[i].base_p_at_r90, r[i].base_p_at_r90_7);
	}
	free(r);
	return ret;
}

PG_CMD(train)
{
	struct pg_opt opts[] = { { "data", 1, NULL, 0 }, { "out", 1, NULL, 0 }, { "seed", 1, NULL, 0 },
				 { "cutoff", 1, NULL, 0 }, { "epochs", 1, NULL, 0 }, { "calibration-from", 1, NULL, 0 },
				 { "lore-from", 1, NULL, 0 }, { "lolo", 0, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_cls_train_opts o;
	pg_cls_model *m = NULL;
	const char *env = getenv("PATCHGAP_SHARED_DATA"), *outp;
	char *end;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.data_dir = pg_opt_get(opts, "data") ? pg_opt_get(opts, "data") : env && *env ? env : "../shared/data";
	o.seed = 1;
	if (pg_opt_get(opts, "seed")) {
		o.seed = strtoull(pg_opt_get(opts, "seed"), &end, 10);
		if (*end || end == pg_opt_get(opts, "seed")) {
			pg_cli_error(cli, "--seed wants a number, not '%s'", pg_opt_get(opts, "seed"));
			return PG_EXIT_USAGE;
		}
	}
	if (pg_opt_get(opts, "epochs")) {
		o.epochs = atoi(pg_opt_get(opts, "epochs"));
		if (o.epochs < 1 || o.epochs > 100) {
			pg_cli_error(cli, "--epochs wants 1..100, not '%s'", pg_opt_get(opts, "epochs"));
			return PG_EXIT_USAGE;
		}
	}
	o.cutoff = pg_opt_get(opts, "cutoff");
	o.calib_from = pg_opt_get(opts, "calibration-from");
	o.lore_from = pg_opt_get(opts, "lore-from");
	o.progress = show;
	o.payload = cli;
	if (pg_opt_get(opts, "lolo"))
		return lolo(cli, &o);
	outp = pg_opt_get(opts, "out") ? pg_opt_get(opts, "out") : pg_cls_model_default_path();
	if ((error = pg_cls_train(&m, &o)) < 0)
		return pg_cli_fail(cli, error);
	error = pg_cls_model_save(m, outp);
	if (!error && !cli->quiet)
		printf("wrote %s (%s)\n", outp, pg_cls_model_version(m));
	pg_cls_model_free(m);
	return error < 0 ? pg_cli_fail(cli, error) : PG_EXIT_OK;
}
