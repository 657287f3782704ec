/*
 * cmd_decide.c - `patchgap decide`: record a triage decision on a CVE or fix
 * for a branch (append-only), or show the decision history.  The same
 * library call (pg_triage_decide) backs POST /api/v1/decisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "patchgap/triage.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap decide <CVE|commit> --branch B --state STATE [--justification J]\n"
	"                       [--config BUILD] -m NOTE [--author NAME] [--json]\n"
	"       patchgap decide --history <CVE|commit> [--branch B] [--json]\n"
	"\n"
	"Records what the team decided about a fix on a tracked branch: STATE is\n"
	"affected, not_affected, fixed, under_investigation or will_not_fix.  A\n"
	"not_affected decision needs the VEX justification: component_not_present,\n"
	"vulnerable_code_not_present, vulnerable_code_not_in_execute_path,\n"
	"vulnerable_code_cannot_be_controlled_by_adversary or\n"
	"inline_mitigations_already_exist (the 'vulnerable_' prefix may be left out).\n"
	"-m (--message) gives the reason; it ends up in the VEX impact statement.\n"
	"Decisions are never changed: a new one overrides the engine's verdict (and\n"
	"older decisions) in 'status', 'advisory' and the report.  --config limits the\n"
	"decision to one .config build of the branch.  The author is --author, else\n"
	"$PATCHGAP_AUTHOR, else $USER.\n"
	"\n"
	"Exit status: 0 recorded, 1 error, 2 usage, 3 unknown CVE/commit/branch, 4 bad value.\n";

static int show_history(struct pg_cli *cli, const char *target, const char *branch)
{
	pg_store *store = NULL;
	json_t *h = NULL, *e;
	size_t i;
	int rc, error;

	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_triage_history(&h, store, target, branch)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		pg_json_print(stdout, h, 2);
	else
		json_array_foreach(h, i, e)
			printf("#%lld %s %s%s%s: %s\n", (long long)json_integer_value(json_object_get(e, "id")),
			       pg_cli_safe(json_string_value(json_object_get(e, "target"))),
			       pg_cli_safe(json_string_value(json_object_get(e, "branch"))),
			       json_is_string(json_object_get(e, "config")) ? "+" : "",
			       json_is_string(json_object_get(e, "config")) ? pg_cli_safe(json_string_value(json_object_get(e, "config"))) : "",
			       pg_cli_safe(json_string_value(json_object_get(e, "decided"))));
	rc = PG_EXIT_OK;
out:
	json_decref(h);
	pg_store_free(store);
	return rc;
}

PG_CMD(decide)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "branch", 1, NULL, 0 }, { "state", 1, NULL, 0 },
				 { "justification", 1, NULL, 0 }, { "config", 1, NULL, 0 }, { "message", 1, NULL, 0 },
				 { "author", 1, NULL, 0 }, { "history", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args = NULL, **av = NULL;
	int nargs, rc, error;
	pg_store *store = NULL;
	json_t *row = NULL;
	const char *bad_field = NULL;
	pg_decision d = { 0 };

	/* -m NOTE, as in git commit */
	if (!(av = calloc((size_t)argc + 1, sizeof(*av))))
		return PG_EXIT_ERROR;
	for (int i = 0; i < argc; i++)
		av[i] = strcmp(argv[i], "-m") ? argv[i] : "--message";
	if ((rc = pg_cli_parse(cli, argc, av, opts, &args, &nargs, usage)) >= 0)
		goto done;
	if (nargs != 1) {
		pg_cli_error(cli, "want exactly one CVE id or commit id (see --help)");
		rc = PG_EXIT_USAGE;
		goto done;
	}
	if (pg_opt_get(opts, "history")) {
		rc = show_history(cli, args[0], pg_opt_get(opts, "branch"));
		goto done;
	}
	if (!pg_opt_get(opts, "branch") || !pg_opt_get(opts, "state") || !pg_opt_get(opts, "message")) {
		pg_cli_error(cli, "--branch, --state and -m NOTE are required (see --help)");
		rc = PG_EXIT_USAGE;
		goto done;
	}
	d.target = args[0];
	d.branch = pg_opt_get(opts, "branch");
	d.state = pg_opt_get(opts, "state");
	d.justification = pg_opt_get(opts, "justification");
	d.config = pg_opt_get(opts, "config");
	d.note = pg_opt_get(opts, "message");
	d.author = pg_opt_get(opts, "author");
	if (!d.author)
		d.author = getenv("PATCHGAP_AUTHOR");
	if (!d.author)
		d.author = getenv("USER");
	if (!d.author)
		d.author = "unknown";
	d.created = (int64_t)time(NULL);
	if ((rc = pg_cli_open_store(&store, cli, 0)) > 0)
		goto done;
	if ((error = pg_triage_decide(&row, &bad_field, store, &d)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	if (cli->json)
		pg_json_print(stdout, row, 2);
	else
		printf("decision #%lld on %s for %s: %s\n", (long long)json_integer_value(json_object_get(row, "id")),
		       pg_cli_safe(json_string_value(json_object_get(row, "target"))), pg_cli_safe(d.branch),
		       pg_cli_safe(json_string_value(json_object_get(row, "decided"))));
	rc = PG_EXIT_OK;
done:
	json_decref(row);
	pg_store_free(store);
	free(av);
	return rc;
}
