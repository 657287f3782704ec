/*
 * cmd_log.c - `patchgap log`: list ingested commits with filters.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "patchgap/ingest.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap log [--ref BRANCH] [--since DATE] [--until DATE] [--path PREFIX]\n"
	"                    [--has-fixes] [--backport-of ID] [--limit N] [--json]\n"
	"\n"
	"Lists ingested commits, newest first. --ref names a tracked branch: for the\n"
	"mainline branch its commits, for a stable/vendor branch the commits it adds on\n"
	"top of its mainline base (like git log vX.Y..linux-X.Y.y).\n"
	"Dates are YYYY-MM-DD or ISO 8601 (committer date).\n"
	"\n"
	"Exit status: 0 ok (also when nothing matches), 1 error, 2 usage, 4 bad input.\n";

PG_CMD(log)
{
	struct pg_opt opts[] = { { "ref", 1, NULL, 0 }, { "since", 1, NULL, 0 }, { "until", 1, NULL, 0 },
				 { "path", 1, NULL, 0 }, { "has-fixes", 0, NULL, 0 }, { "backport-of", 1, NULL, 0 },
				 { "limit", 1, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_log_filter f = PG_LOG_FILTER_INIT;
	pg_store *store = NULL;
	json_t *arr = NULL, *v;
	size_t i;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	f.branch = pg_opt_get(opts, "ref");
	f.path = pg_opt_get(opts, "path");
	f.has_fixes = pg_opt_get(opts, "has-fixes") != NULL;
	f.backport_of = pg_opt_get(opts, "backport-of");
	if (pg_opt_get(opts, "since") && pg_time_parse(&f.since, pg_opt_get(opts, "since")) < 0)
		return pg_cli_error(cli, "--since: %s", pg_error_last()), PG_EXIT_USAGE;
	if (pg_opt_get(opts, "until") && pg_time_parse(&f.until, pg_opt_get(opts, "until")) < 0)
		return pg_cli_error(cli, "--until: %s", pg_error_last()), PG_EXIT_USAGE;
	if (pg_opt_get(opts, "until") && strlen(pg_opt_get(opts, "until")) == 10)
		f.until += 86399; /* a date means the whole day */
	if (pg_opt_get(opts, "limit")) {
		const char *lim = pg_opt_get(opts, "limit");
		char *end;
		unsigned long long n = strtoull(lim, &end, 10);
		if (*lim < '0' || *lim > '9' || *end || !n || n > (unsigned long long)INT64_MAX) {
			pg_cli_error(cli, "--limit wants a positive number, not '%.40s'", lim);
			return PG_EXIT_USAGE;
		}
		f.limit = (size_t)n;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_ingest_log(&arr, store, &f)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		pg_json_print(stdout, arr, 2);
	else
		json_array_foreach(arr, i, v) {
			const char *rel = json_string_value(json_object_get(v, "mainline_release"));
			printf("%.12s %-10s %.10s ", json_string_value(json_object_get(v, "sha")),
			       rel ? rel : "-", json_string_value(json_object_get(v, "date")));
			pg_cli_put_safe(stdout, json_string_value(json_object_get(v, "subject")));
			putchar('\n');
		}
	rc = PG_EXIT_OK;
out:
	json_decref(arr);
	pg_store_free(store);
	return rc;
}
