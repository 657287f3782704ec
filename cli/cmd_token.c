/*
 * cmd_token.c - `patchgap token`: API tokens for `patchgap serve`.  The
 * secret is printed once by `add`; the database keeps only its hash.
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
	"usage: patchgap token add NAME --role reader|triager|admin [--json]\n"
	"       patchgap token list [--json]\n"
	"       patchgap token remove NAME\n"
	"\n"
	"API tokens for 'patchgap serve' (HTTP header 'Authorization: Bearer TOKEN').\n"
	"reader may read, triager may also record decisions, admin may do both.\n"
	"'add' prints the token once: only its hash is stored, so a lost token is\n"
	"removed and added again.\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 no such token, 4 bad name or role.\n";

PG_CMD(token)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "role", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args = NULL;
	int nargs, rc, error = 0;
	pg_store *store = NULL;
	json_t *list = NULL;
	char *secret = NULL;
	pg_triage_role role;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		return rc;
	if (nargs < 1 || (strcmp(args[0], "add") && strcmp(args[0], "list") && strcmp(args[0], "remove")) ||
	    (!strcmp(args[0], "list") ? nargs != 1 : nargs != 2)) {
		pg_cli_error(cli, "want 'add NAME --role ROLE', 'list' or 'remove NAME' (see --help)");
		return PG_EXIT_USAGE;
	}
	if (!strcmp(args[0], "add")) {
		if (!pg_opt_get(opts, "role")) {
			pg_cli_error(cli, "--role reader|triager|admin is required");
			return PG_EXIT_USAGE;
		}
		if (pg_triage_role_parse(&role, pg_opt_get(opts, "role")) < 0) {
			pg_cli_error(cli, "--role: %s", pg_error_last());
			return PG_EXIT_USAGE;
		}
	}
	if ((rc = pg_cli_open_store(&store, cli, strcmp(args[0], "list") ? PG_STORE_CREATE : PG_STORE_READONLY)) > 0)
		return rc;
	if (!strcmp(args[0], "add")) {
		if ((error = pg_triage_token_add(&secret, store, args[1], role, (int64_t)time(NULL))) < 0)
			goto out;
		if (cli->json) {
			json_t *o = json_pack("{s:s,s:s,s:s}", "name", args[1], "role", pg_triage_role_name(role), "token", secret);
			pg_json_print(stdout, o, 2);
			json_decref(o);
		} else {
			printf("%s\n", secret);
			if (!cli->quiet)
				fprintf(stderr, "token '%s' (%s) added; it is shown only this once\n", args[1],
					pg_triage_role_name(role));
		}
	} else if (!strcmp(args[0], "list")) {
		json_t *e;
		size_t i;
		if ((error = pg_triage_token_list(&list, store)) < 0)
			goto out;
		if (cli->json)
			pg_json_print(stdout, list, 2);
		else
			json_array_foreach(list, i, e)
				printf("%-24s %-8s %s\n", pg_cli_safe(json_string_value(json_object_get(e, "name"))),
				       json_string_value(json_object_get(e, "role")), json_string_value(json_object_get(e, "created")));
	} else
		error = pg_triage_token_remove(store, args[1]);
out:
	rc = error < 0 ? pg_cli_fail(cli, error) : PG_EXIT_OK;
	free(secret);
	json_decref(list);
	pg_store_free(store);
	return rc;
}
