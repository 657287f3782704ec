/*
 * cmd_affected.c - `patchgap affected <fix|CVE>`: vulnerable/fixed pairs per
 * tracked branch, in the kernel CNA dyad's line format or JSON.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "patchgap/affect.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap affected <fix-commit|CVE-ID>... [--json] [--verbose]\n"
	"\n"
	"Prints the lines the kernel CNA's dyad prints for the same history and the same\n"
	"records: vuln_version:vuln_sha:fix_version:fix_sha, one per fix commit and\n"
	"upstream branch where the bug was fixed in a release or entered by a backport\n"
	"and was never fixed; fixed lines by fix version, then open ones.\n"
	"\n"
	"--verbose and --json add patchgap's own view, every tracked branch (vendor and\n"
	"end-of-life branches included) with its status, reason and how the commits were\n"
	"found, next-release guesses for unreleased fixes; in text it follows the dyad\n"
	"lines as '# patchgap: <branch>: <status> (<reason>)'.  A CVE whose fix is not\n"
	"ingested is 'unknown' there and prints no dyad line.\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 unknown fix or CVE, 4 malformed id.\n";

PG_CMD(affected)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "verbose", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args;
	int nargs, rc, error;
	pg_store *store = NULL;
	pg_affect_index *ix = NULL;
	json_t *all = json_array();

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		goto done;
	if (nargs < 1) {
		pg_cli_error(cli, "need a fix commit or a CVE id (see --help)");
		rc = PG_EXIT_USAGE;
		goto done;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		goto done;
	if ((error = pg_affect_index_open(&ix, store)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	rc = PG_EXIT_OK;
	for (int i = 0; i < nargs; i++) {
		json_t *o = NULL, *v;
		size_t k;
		const char *name;
		if ((error = pg_affect_fix(&o, ix, args[i])) < 0) {
			rc = pg_cli_fail(cli, error);
			continue;
		}
		if (cli->json) {
			json_array_append_new(all, o);
			continue;
		}
		if (nargs > 1)
			printf("# %s\n", json_string_value(json_object_get(o, "id")));
		json_array_foreach(json_object_get(o, "dyad"), k, v)
			printf("%s\n", json_string_value(v));
		if (pg_opt_get(opts, "verbose"))
			json_object_foreach(json_object_get(o, "branches"), name, v)
				printf("# patchgap: %s: %s (%s)\n", name, json_string_value(json_object_get(v, "status")),
				       json_string_value(json_object_get(v, "reason")));
		json_decref(o);
	}
	if (cli->json)
		pg_json_print(stdout, nargs == 1 && json_array_size(all) == 1 ? json_array_get(all, 0) : all, 2);
done:
	json_decref(all);
	pg_affect_index_free(ix);
	pg_store_free(store);
	return rc;
}
