/*
 * cmd_train.c - `patchgap train`: rebuild the security-fix classifier from
 * the shared data set (deterministic: same data and seed, same model bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap train [--data DIR] [--out FILE] [--seed N] [--cutoff DATE] [--epochs N]\n"
	"\n"
	"Trains the security-fix classifier (doc/model.md) from the shared data set and\n"
	"writes the model file.  Records dated on or after the cutoff are held out\n"
	"(lore-patches from the cutoff on is the evaluation set of tools/make-eval-set.py).\n"
	"\n"
	"  --data DIR     data directory (default $PATCHGAP_SHARED_DATA, else ../shared/data)\n"
	"  --out FILE     model file to write (default: the source tree's data/model/classify.model)\n"
	"  --seed N       shuffle seed (default 1)\n"
	"  --cutoff DATE  time split, YYYY-MM-DD (default 2025-01-01)\n"
	"  --epochs N     stage-1 passes over the data (default 6)\n"
	"\n"
	"Exit status: 0 written, 1 I/O error, 2 usage, 3 data not found, 4 bad data.\n";

static void show(const char *msg, void *payload)
{
	const struct pg_cli *cli = payload;
	if (!cli->quiet)
		fprintf(stderr, "train: %s\n", msg);
}

PG_CMD(train)
{
	struct pg_opt opts[] = { { "data", 1, NULL, 0 }, { "out", 1, NULL, 0 }, { "seed", 1, NULL, 0 },
				 { "cutoff", 1, NULL, 0 }, { "epochs", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
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
	o.progress = show;
	o.payload = cli;
	outp = pg_opt_get(opts, "out") ? pg_opt_get(opts, "out") : pg_cls_model_default_path();
	if ((error = pg_cls_train(&m, &o)) < 0)
		return pg_cli_fail(cli, error);
	error = pg_cls_model_save(m, outp);
	if (!error && !cli->quiet)
		printf("wrote %s (%s)\n", outp, pg_cls_model_version(m));
	pg_cls_model_free(m);
	return error < 0 ? pg_cli_fail(cli, error) : PG_EXIT_OK;
}
