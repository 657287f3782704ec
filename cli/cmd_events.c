/*
 * cmd_events.c - `patchgap events list|show|redeliver`: the outbox of
 * `patchgap watch` for operators.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/watch.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap events list [--kind KIND] [--branch NAME] [--sink NAME] [--undelivered]\n"
	"                            [--after ID] [--limit N] [--json]\n"
	"       patchgap events show ID|KEY [--json]\n"
	"       patchgap events redeliver ID|KEY [--sink NAME]\n"
	"\n"
	"The events written by `patchgap watch` (one per verdict change, with an\n"
	"idempotency key) and their delivery state per sink.\n"
	"\n"
	"  --kind KIND      exact kind (branch.affected) or prefix ending in '.' (cve.)\n"
	"  --branch NAME    events of one branch\n"
	"  --sink NAME      events queued for one sink\n"
	"  --undelivered    events with a delivery still pending\n"
	"  --after ID       events with a larger id\n"
	"  --limit N        at most N events\n"
	"  --json           machine-readable output\n"
	"\n"
	"redeliver queues the event again (due now) for every sink it was queued for,\n"
	"or for --sink NAME (also a sink added to the config after the event).\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 unknown event or sink.\n";

static void print_event(json_t *e, int verbose)
{
	json_t *d, *v;
	size_t i;
	char when[32];
	pg_time_iso8601(when, sizeof(when), json_integer_value(json_object_get(e, "created")));
	printf("%-6lld %s %-18s %-16s %-14s %s -> %s", (long long)json_integer_value(json_object_get(e, "id")), when,
	       pg_cli_safe(json_string_value(json_object_get(e, "kind"))),
	       pg_cli_safe(json_string_value(json_object_get(e, "target"))),
	       json_is_string(json_object_get(e, "branch")) ? pg_cli_safe(json_string_value(json_object_get(e, "branch"))) : "-",
	       json_is_string(json_object_get(e, "old_state")) ? pg_cli_safe(json_string_value(json_object_get(e, "old_state"))) : "-",
	       json_is_string(json_object_get(e, "new_state")) ? pg_cli_safe(json_string_value(json_object_get(e, "new_state"))) : "-");
	d = json_object_get(e, "deliveries");
	json_array_foreach(d, i, v) printf("%s%s:%s", i ? " " : "  [", pg_cli_safe(json_string_value(json_object_get(v, "sink"))),
					   json_string_value(json_object_get(v, "state")));
	printf("%s\n", json_array_size(d) ? "]" : "");
	if (!verbose)
		return;
	printf("key: %s\n", pg_cli_safe(json_string_value(json_object_get(e, "key"))));
	json_array_foreach(d, i, v) {
		printf("sink %s: %s, %lld attempts", pg_cli_safe(json_string_value(json_object_get(v, "sink"))),
		       json_string_value(json_object_get(v, "state")), (long long)json_integer_value(json_object_get(v, "attempts")));
		if (json_is_string(json_object_get(v, "last_error")))
			printf(", last error: %s", pg_cli_safe(json_string_value(json_object_get(v, "last_error"))));
		printf("\n");
	}
	{
		char *p = json_dumps(json_object_get(e, "payload"), JSON_SORT_KEYS | JSON_INDENT(2));
		if (p)
			printf("payload: %s\n", p);
		free(p);
	}
}

static int parse_num(long long *out, const char *v)
{
	char *end;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return *v >= '0' && *v <= '9' && !*end && !errno;
}

PG_CMD(events)
{
	struct pg_opt opts[] = { { "kind", 1, NULL, 0 },  { "branch", 1, NULL, 0 }, { "sink", 1, NULL, 0 },
				 { "undelivered", 0, NULL, 0 }, { "after", 1, NULL, 0 }, { "limit", 1, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	const char **rest = NULL;
	int nrest = 0, rc, error;
	pg_store *s = NULL;
	json_t *o = NULL;
	pg_config *cfg = NULL;
	pg_watch_conf *wc = NULL;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (nrest < 1 || (strcmp(rest[0], "list") && strcmp(rest[0], "show") && strcmp(rest[0], "redeliver"))) {
		pg_cli_error(cli, "want list, show ID or redeliver ID");
		fputs(usage, stderr);
		return PG_EXIT_USAGE;
	}
	if (!strcmp(rest[0], "list")) {
		pg_events_filter f = PG_EVENTS_FILTER_INIT;
		long long n;
		size_t i;
		json_t *e;
		if (nrest != 1) {
			pg_cli_error(cli, "list takes no argument ('%s')", pg_cli_safe(rest[1]));
			return PG_EXIT_USAGE;
		}
		f.kind = pg_opt_get(opts, "kind");
		f.branch = pg_opt_get(opts, "branch");
		f.sink = pg_opt_get(opts, "sink");
		f.undelivered = pg_opt_get(opts, "undelivered") != NULL;
		if (pg_opt_get(opts, "after")) {
			if (!parse_num(&n, pg_opt_get(opts, "after"))) {
				pg_cli_error(cli, "--after wants an event id, not '%.40s'", pg_opt_get(opts, "after"));
				return PG_EXIT_USAGE;
			}
			f.after_id = n;
		}
		if (pg_opt_get(opts, "limit")) {
			if (!parse_num(&n, pg_opt_get(opts, "limit")) || n <= 0) {
				pg_cli_error(cli, "--limit wants a positive number, not '%.40s'", pg_opt_get(opts, "limit"));
				return PG_EXIT_USAGE;
			}
			f.limit = (size_t)n;
		}
		if ((rc = pg_cli_open_store(&s, cli, PG_STORE_READONLY)) > 0)
			return rc;
		if ((error = pg_events_list(&o, s, &f)) < 0) {
			rc = pg_cli_fail(cli, error);
			goto out;
		}
		if (cli->json)
			pg_json_print(stdout, o, 2);
		else
			json_array_foreach(o, i, e) print_event(e, 0);
		rc = PG_EXIT_OK;
		goto out;
	}
	if (nrest != 2) {
		pg_cli_error(cli, "%s wants one event id or key", rest[0]);
		return PG_EXIT_USAGE;
	}
	if (!strcmp(rest[0], "show")) {
		if ((rc = pg_cli_open_store(&s, cli, PG_STORE_READONLY)) > 0)
			return rc;
		if ((error = pg_events_show(&o, s, rest[1])) < 0) {
			rc = pg_cli_fail(cli, error);
			goto out;
		}
		if (cli->json)
			pg_json_print(stdout, o, 2);
		else
			print_event(o, 1);
		rc = PG_EXIT_OK;
		goto out;
	}
	/* redeliver: the config tells which sinks exist */
	{
		size_t count = 0;
		if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
			return rc;
		if ((error = pg_watch_conf_load(&wc, cfg)) < 0) {
			rc = pg_cli_fail(cli, error);
			goto out;
		}
		if (pg_opt_get(opts, "sink")) {
			int known = 0;
			for (size_t i = 0; i < wc->nsinks; i++)
				known |= !strcmp(wc->sinks[i].name, pg_opt_get(opts, "sink"));
			if (!known) {
				pg_cli_error(cli, "no sink '%s' in '%s'", pg_cli_safe(pg_opt_get(opts, "sink")), cfg->path);
				rc = PG_EXIT_NOTFOUND;
				goto out;
			}
		}
		if ((rc = pg_cli_open_store(&s, cli, 0)) > 0)
			goto out;
		if ((error = pg_events_redeliver(&count, s, wc, rest[1], pg_opt_get(opts, "sink"))) < 0) {
			rc = pg_cli_fail(cli, error);
			goto out;
		}
		if (!cli->quiet)
			printf("event %s queued again for %zu sink%s\n", pg_cli_safe(rest[1]), count, count == 1 ? "" : "s");
		rc = PG_EXIT_OK;
	}
out:
	json_decref(o);
	pg_store_free(s);
	pg_watch_conf_free(wc);
	pg_config_free(cfg);
	return rc;
}
