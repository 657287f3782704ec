/*
 * cmd_jobs.c - `patchgap jobs`: the work queue for operators.
 *
 *   jobs list [--state S] [--kind K] [--json]
 *   jobs add KIND [--key KEY] [--max-attempts N] ARG...
 *   jobs retry ID | --parked        parked/cancelled -> queued, attempts reset
 *   jobs cancel ID | --queued       queued/running/parked -> cancelled
 *   jobs result ID                  the stored result of a done job
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/jobs.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap jobs list [--state STATE] [--kind KIND] [--json]\n"
	"       patchgap jobs add KIND [--key KEY] [--max-attempts N] [--] ARG...\n"
	"       patchgap jobs retry (ID | --parked)\n"
	"       patchgap jobs cancel (ID | --queued)\n"
	"       patchgap jobs result ID\n"
	"\n"
	"The work queue that 'patchgap worker' processes take jobs from.\n"
	"Kinds and what a worker runs for them (ARG... are the arguments):\n"
	"  backport  patchgap backport ARG... --json --no-branch  (a fix x branch attempt)\n"
	"  hook      sh -c ARG...                                  (a build/test hook)\n"
	"  classify  patchgap classify ARG...\n"
	"  advisory  patchgap advisory ARG...\n"
	"  affected  patchgap affected ARG...\n"
	"States: queued, running (a worker holds its lease), done (result stored),\n"
	"parked (failed --max-attempts times, default 3; last error kept), cancelled.\n"
	"'add' is idempotent: a job with the same key (default: kind and arguments)\n"
	"is not queued twice.  'retry' requeues parked or cancelled jobs.\n"
	"\n"
	"Exit status: 0 ok, 1 database error, 2 usage, 3 no such job (retry, cancel,\n"
	"result: nothing matched).\n";

static const char *str_or(const char *s, const char *d)
{
	return s ? s : d;
}

static int print_job(const pg_job *j, void *payload)
{
	json_t *arr = payload;
	if (arr) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:I, s:I}", "id", (json_int_t)j->id,
				      "kind", j->kind, "key", j->job_key, "state", j->state,
				      "attempts", j->attempts, "max_attempts", j->max_attempts,
				      "created_at", (json_int_t)j->created_at, "updated_at", (json_int_t)j->updated_at);
		if (!o)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		{
			json_t *a = json_loads(j->args, 0, NULL);
			json_object_set_new(o, "args", a ? a : json_string(j->args));
		}
		json_object_set_new(o, "worker", j->worker ? json_string(j->worker) : json_null());
		json_object_set_new(o, "lease_until", j->lease_until ? json_integer(j->lease_until) : json_null());
		json_object_set_new(o, "last_error", j->last_error ? json_string(j->last_error) : json_null());
		json_array_append_new(arr, o);
		return 0;
	}
	printf("%lld\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", (long long)j->id, j->kind, j->state, j->attempts,
	       j->max_attempts, pg_cli_safe(str_or(j->worker, "-")), pg_cli_safe(j->args),
	       pg_cli_safe(str_or(j->last_error, "")));
	return 0;
}

static int do_list(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "state", 1, NULL, 0 }, { "kind", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_store *store = NULL;
	json_t *arr = NULL;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((rc = pg_cli_open_store(&store, cli, 0)) > 0)
		return rc;
	if (cli->json && !(arr = json_array())) {
		rc = PG_EXIT_ERROR;
		goto out;
	}
	if ((error = pg_jobs_list(store, pg_opt_get(opts, "state"), pg_opt_get(opts, "kind"), print_job, arr)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (arr) {
		char *text = json_dumps(arr, JSON_SORT_KEYS | JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	}
	rc = PG_EXIT_OK;
out:
	json_decref(arr);
	pg_store_free(store);
	return rc;
}

static int do_add(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "key", 1, NULL, 0 }, { "max-attempts", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_store *store = NULL;
	const char **rest;
	json_t *args = NULL;
	char *text = NULL;
	int64_t id = 0;
	int nrest, rc, error, max = 3;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (nrest < 1 || !pg_job_kind_valid(rest[0])) {
		pg_cli_error(cli, nrest < 1 ? "expected a job kind and its arguments"
					    : "unknown job kind '%s' (backport, hook, classify, advisory, affected)",
			     nrest < 1 ? "" : pg_cli_safe(rest[0]));
		return PG_EXIT_USAGE;
	}
	if (pg_opt_get(opts, "max-attempts")) {
		char *end;
		long v = strtol(pg_opt_get(opts, "max-attempts"), &end, 10);
		if (*end || v < 1 || v > 100) {
			pg_cli_error(cli, "--max-attempts '%s' is not a number in 1..100", pg_cli_safe(pg_opt_get(opts, "max-attempts")));
			return PG_EXIT_USAGE;
		}
		max = (int)v;
	}
	if (!(args = json_array()))
		return PG_EXIT_ERROR;
	for (int i = 1; i < nrest; i++)
		json_array_append_new(args, json_string(rest[i]));
	text = json_dumps(args, JSON_COMPACT);
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_CREATE)) > 0)
		goto out;
	if ((error = pg_jobs_enqueue(store, rest[0], text, pg_opt_get(opts, "key"), max, (int64_t)time(NULL), &id)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		printf("{\n  \"id\": %lld,\n  \"queued\": %s\n}\n", (long long)id, id ? "true" : "false");
	else if (!cli->quiet)
		printf(id ? "queued job %lld\n" : "already queued%.0lld\n", (long long)id);
	rc = PG_EXIT_OK;
out:
	free(text);
	json_decref(args);
	pg_store_free(store);
	return rc;
}

static int do_change(struct pg_cli *cli, int argc, const char **argv, int retry)
{
	struct pg_opt opts[] = { { retry ? "parked" : "queued", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_store *store = NULL;
	const char **rest;
	int64_t id = 0, n = 0;
	int nrest, rc, error;
	const char *state;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	state = pg_opt_get(opts, retry ? "parked" : "queued") ? (retry ? "parked" : "queued") : NULL;
	if (state ? nrest != 0 : nrest != 1) {
		pg_cli_error(cli, "expected one job id, or --%s", retry ? "parked" : "queued");
		return PG_EXIT_USAGE;
	}
	if (!state) {
		char *end;
		id = strtoll(rest[0], &end, 10);
		if (*end || id <= 0) {
			pg_cli_error(cli, "'%s' is not a job id", pg_cli_safe(rest[0]));
			return PG_EXIT_USAGE;
		}
	}
	if ((rc = pg_cli_open_store(&store, cli, 0)) > 0)
		return rc;
	error = retry ? pg_jobs_retry(store, id, state, (int64_t)time(NULL), &n)
		      : pg_jobs_cancel(store, id, state, (int64_t)time(NULL), &n);
	if (error < 0)
		rc = pg_cli_fail(cli, error);
	else if (id && !n) {
		pg_cli_error(cli, "no job %lld that can be %s", (long long)id,
			     retry ? "retried (parked or cancelled)" : "cancelled (queued, running or parked)");
		rc = PG_EXIT_NOTFOUND;
	} else {
		if (!cli->quiet)
			printf("%s %lld job%s\n", retry ? "requeued" : "cancelled", (long long)n, n == 1 ? "" : "s");
		rc = PG_EXIT_OK;
	}
	pg_store_free(store);
	return rc;
}

static int do_result(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { NULL, 0, NULL, 0 } };
	pg_store *store = NULL;
	const char **rest;
	char *text = NULL, *end;
	int nrest, rc, error, code = 0;
	int64_t id;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (nrest != 1 || (id = strtoll(rest[0], &end, 10)) <= 0 || *end) {
		pg_cli_error(cli, "expected one job id");
		return PG_EXIT_USAGE;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_jobs_result(&text, &code, store, id)) < 0)
		rc = pg_cli_fail(cli, error);
	else {
		fputs(text, stdout);
		rc = PG_EXIT_OK;
	}
	free(text);
	pg_store_free(store);
	return rc;
}

PG_CMD(jobs)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return do_list(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "add"))
		return do_add(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "retry"))
		return do_change(cli, argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "cancel"))
		return do_change(cli, argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "result"))
		return do_result(cli, argc - 1, argv + 1);
	pg_cli_error(cli, "'%s' is not a jobs subcommand (list, add, retry, cancel, result; see --help)", argv[1]);
	return PG_EXIT_USAGE;
}
