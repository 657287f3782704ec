/*
 * cmd_cells.c - `patchgap cells`: bring the stored verdicts (CVE x branch x
 * config, table cells) up to date, incrementally, or list them.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/affect.h"
#include "patchgap/config.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap cells [--full] [--json]\n"
	"       patchgap cells --list [--branch NAME] [--id CVE-ID|COMMIT] [--json]\n"
	"\n"
	"Stores, for every known security fix (published CVEs and classifier-flagged\n"
	"silent fixes) and every tracked branch, the verdict 'patchgap status' gives\n"
	"(affected, fixed, not_affected, unknown) with the inputs it was computed from,\n"
	"so the watch daemon and the API read verdicts without recomputing.  After\n"
	"'ingest' or 'cve import' only the cells that can have changed are computed;\n"
	"--full recomputes every cell (the result is the same).  Prints what it did on\n"
	"stderr (--json: on stdout).\n"
	"\n"
	"A branch with a kernel .config ('kconfig' in the config file) also gets one\n"
	"cell per fix under that build (config = its path): an affected fix whose code\n"
	"the .config does not build is not_affected, with the VEX justification, as\n"
	"'patchgap status' lists it under not_affected_by_config.\n"
	"\n"
	"--list prints the stored cells, tab-separated: id, branch, config (the\n"
	".config's path, '-' for the cell without a build), status, introducer known\n"
	"(1/0), fix, fixed by, reason.\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage.\n";

static int print_cell(const pg_affect_cell *c, void *payload)
{
	json_t *arr = payload;
	if (arr) {
		json_t *o = json_object();
		pg_json_set(o, "id", json_string(c->id));
		pg_json_set(o, "kind", json_string(c->kind));
		pg_json_set(o, "branch", json_string(c->branch));
		pg_json_set(o, "config", json_string(c->config));
		pg_json_set(o, "status", json_string(c->status));
		pg_json_set(o, "introducer_known", json_boolean(c->introducer_known));
		pg_json_set(o, "fix", pg_json_string(c->fix));
		pg_json_set(o, "introducer", pg_json_string(c->introducer));
		pg_json_set(o, "introducer_how", pg_json_string(c->introducer_how));
		pg_json_set(o, "fixed_by", pg_json_string(c->fixed_by));
		pg_json_set(o, "fix_how", pg_json_string(c->fix_how));
		pg_json_set(o, "reason", pg_json_string(c->reason));
		pg_json_set(o, "cve_hash", pg_json_string(c->cve_hash));
		pg_json_set(o, "deps", pg_json_string(c->deps));
		if (c->config[0]) {
			json_t *vex = NULL;
			pg_json_set(o, "justification", pg_json_string(c->justification));
			if (c->vex && pg_json_parse(&vex, c->vex, strlen(c->vex), "stored build verdict") == 0)
				pg_json_set(o, "vex", vex);
		}
		json_array_append_new(arr, o);
	} else {
		/* a branch with a .config has two cells per fix: the config column tells them apart */
		printf("%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", c->id, c->branch, c->config[0] ? c->config : "-", c->status,
		       c->introducer_known, c->fix ? c->fix : "-", c->fixed_by ? c->fixed_by : "-", c->reason);
	}
	return 0;
}

PG_CMD(cells)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "full", 0, NULL, 0 }, { "list", 0, NULL, 0 },
				 { "branch", 1, NULL, 0 }, { "id", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args;
	int nargs, rc, error;
	pg_store *store = NULL;
	pg_affect_cells_stats stats;
	pg_config *cfg = NULL;
	json_t *arr = NULL;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		goto done;
	if (nargs) {
		pg_cli_error(cli, "unexpected argument '%s' (see --help)", args[0]);
		rc = PG_EXIT_USAGE;
		goto done;
	}
	if (pg_opt_get(opts, "list")) {
		if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
			goto done;
		arr = cli->json ? json_array() : NULL;
		if ((error = pg_affect_cells_foreach(store, pg_opt_get(opts, "branch"), pg_opt_get(opts, "id"), print_cell,
						     arr)) < 0) {
			rc = pg_cli_fail(cli, error);
			goto done;
		}
		if (arr)
			pg_json_print(stdout, arr, 2);
		rc = PG_EXIT_OK;
		goto done;
	}
	/* the repository, for the build verdicts of branches with a .config */
	if (pg_config_load(&cfg, cli->conf_path) < 0 &&
	    (strcmp(cli->conf_path, "patchgap.conf") || access(cli->conf_path, F_OK) == 0)) {
		rc = pg_cli_load_config(&cfg, cli);
		goto done;
	}
	if ((rc = pg_cli_open_store(&store, cli, 0)) > 0)
		goto done;
	if ((error = pg_store_lock(store, "cells")) < 0 ||
	    (error = pg_affect_cells_update_ext(&stats, store, pg_opt_get(opts, "full") ? PG_AFFECT_CELLS_FULL : 0,
						cfg ? cfg->repository : NULL)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	if (cli->json) {
		json_t *o = json_object();
		pg_json_set(o, "full", json_boolean(stats.full));
		pg_json_set(o, "targets", json_integer((json_int_t)stats.targets));
		pg_json_set(o, "branches", json_integer((json_int_t)stats.branches));
		pg_json_set(o, "dirty_targets", json_integer((json_int_t)stats.dirty_targets));
		pg_json_set(o, "full_branches", json_integer((json_int_t)stats.full_branches));
		pg_json_set(o, "evaluated", json_integer((json_int_t)stats.evaluated));
		pg_json_set(o, "written", json_integer((json_int_t)stats.written));
		pg_json_set(o, "deleted", json_integer((json_int_t)stats.deleted));
		pg_json_print(stdout, o, 2);
		json_decref(o);
	} else {
		fprintf(stderr, "%s: %zu targets x %zu branches; recomputed %zu cells (%zu targets, %zu whole branches),"
			" %zu changed, deleted %zu\n",
			stats.full ? "full" : "incremental", stats.targets, stats.branches, stats.evaluated,
			stats.dirty_targets, stats.full_branches, stats.written, stats.deleted);
	}
	rc = PG_EXIT_OK;
done:
	pg_config_free(cfg);
	json_decref(arr);
	pg_store_free(store);
	return rc;
}
