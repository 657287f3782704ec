/*
 * cmd_watch.c - `patchgap watch`: the daemon loop around pg_watch_cycle.
 *
 * Foreground process logging to stderr with UTC timestamps and levels (for
 * journald).  SIGTERM/SIGINT: the current transaction finishes, then exit 0.
 * SIGHUP: the config is read again before the next cycle; a broken one is
 * logged and the old one kept.  One watch per database (pg_watch_lock).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/watch.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap watch [--once] [--interval SECONDS] [--cycles N] [--fetch-now] [--no-deliver] [--verbose]\n"
	"       patchgap watch --status [--json]\n"
	"\n"
	"Runs the pipeline by itself: fetch the [remote], [cna] and [list] sources,\n"
	"ingest commits and list mails, classify new mainline commits, announce newly\n"
	"flagged patch mails, import changed CNA records, re-evaluate only\n"
	"the (CVE or fix) x branch cells that can have changed, write one event per\n"
	"change (table events), and deliver events to the configured sinks\n"
	"(webhook, exec, maildir).  Logs go to stderr.\n"
	"\n"
	"  --once              run one cycle and exit (cron, tests)\n"
	"  --interval SECONDS  seconds between cycles (default: [watch] interval, 300)\n"
	"  --cycles N          stop after N cycles\n"
	"  --fetch-now         fetch every source now, ignoring intervals and backoff\n"
	"  --no-deliver        leave events queued\n"
	"  --verbose           debug log lines too\n"
	"  --status            last run per source, queue depth per sink, oldest undelivered event\n"
	"  --json              machine-readable output (--once, --status)\n"
	"\n"
	"Signals: SIGTERM/SIGINT finish the current transaction and exit 0; SIGHUP\n"
	"reloads the config.\n"
	"\n"
	"Exit status: 0 ok, 1 error (database, repository, another watch holds the\n"
	"database), 2 usage, 3 config not found, 4 bad config.\n";

static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

struct logctx { int verbose; };

static void log_line(pg_watch_level lv, const char *msg, void *payload)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };
	struct logctx *l = payload;
	char when[32];
	if (lv == PG_WATCH_DEBUG && !(l && l->verbose))
		return;
	pg_time_iso8601(when, sizeof(when), (int64_t)time(NULL));
	fprintf(stderr, "%s %s: %s\n", when, names[lv], pg_cli_safe(msg));
	fflush(stderr);
}

static int should_stop(void *payload)
{
	return got_term != 0;
}

static int parse_num(long *out, const char *v, long min, long max)
{
	char *end;
	errno = 0;
	*out = strtol(v, &end, 10);
	return *v >= '0' && *v <= '9' && !*end && !errno && *out >= min && *out <= max;
}

static json_t *stats_json(const pg_watch_stats *s)
{
	json_t *o = json_object(), *ms = json_object();
	pg_json_set(o, "fetched", json_integer((json_int_t)s->fetched));
	pg_json_set(o, "fetch_failed", json_integer((json_int_t)s->fetch_failed));
	pg_json_set(o, "commits_new", json_integer((json_int_t)s->commits_new));
	pg_json_set(o, "classified", json_integer((json_int_t)s->classified));
	pg_json_set(o, "classified_with_diff", json_integer((json_int_t)s->classified_diff));
	pg_json_set(o, "flagged", json_integer((json_int_t)s->flagged));
	pg_json_set(o, "cves_changed", json_integer((json_int_t)s->cves_changed));
	pg_json_set(o, "branches_evaluated", json_integer((json_int_t)s->branches_evaluated));
	pg_json_set(o, "items_evaluated", json_integer((json_int_t)s->items_evaluated));
	pg_json_set(o, "events", json_integer((json_int_t)s->events));
	pg_json_set(o, "backports", json_integer((json_int_t)s->backports));
	pg_json_set(o, "drafts", json_integer((json_int_t)s->drafts));
	pg_json_set(o, "delivered", json_integer((json_int_t)s->delivered));
	pg_json_set(o, "delivery_failed", json_integer((json_int_t)s->delivery_failed));
	pg_json_set(o, "mails_new", json_integer((json_int_t)s->mails_new));
	pg_json_set(o, "mails_flagged", json_integer((json_int_t)s->mails_flagged));
	pg_json_set(ms, "fetch", json_real(s->ms_fetch));
	pg_json_set(ms, "ingest", json_real(s->ms_ingest));
	pg_json_set(ms, "classify", json_real(s->ms_classify));
	pg_json_set(ms, "import", json_real(s->ms_import));
	pg_json_set(ms, "reeval", json_real(s->ms_reeval));
	pg_json_set(ms, "deliver", json_real(s->ms_deliver));
	pg_json_set(ms, "backport", json_real(s->ms_backport));
	pg_json_set(ms, "drafts", json_real(s->ms_drafts));
	pg_json_set(ms, "total", json_real(s->ms_total));
	pg_json_set(o, "ms", ms);
	return o;
}

static int print_status(struct pg_cli *cli, pg_watch_conf *wc)
{
	pg_store *s = NULL;
	json_t *o = NULL, *v;
	size_t i;
	int rc, error;

	if ((rc = pg_cli_open_store(&s, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_watch_status(&o, wc, s)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	rc = PG_EXIT_OK;
	if (cli->json) {
		pg_json_print(stdout, o, 2);
		goto out;
	}
	json_array_foreach(json_object_get(o, "sources"), i, v) {
		char when[32] = "never";
		json_t *ok = json_object_get(v, "last_ok");
		if (json_is_integer(ok))
			pg_time_iso8601(when, sizeof(when), json_integer_value(ok));
		printf("source %-12s last ok %s, %lld ms, %lld failures%s%s\n", pg_cli_safe(json_string_value(json_object_get(v, "name"))),
		       when, (long long)json_integer_value(json_object_get(v, "last_ms")),
		       (long long)json_integer_value(json_object_get(v, "failures")),
		       json_is_string(json_object_get(v, "last_error")) ? ": " : "",
		       json_is_string(json_object_get(v, "last_error")) ? pg_cli_safe(json_string_value(json_object_get(v, "last_error"))) : "");
	}
	json_array_foreach(json_object_get(o, "sinks"), i, v)
		printf("sink   %-12s %-8s %lld queued%s%s\n", pg_cli_safe(json_string_value(json_object_get(v, "name"))),
		       json_string_value(json_object_get(v, "type")), (long long)json_integer_value(json_object_get(v, "queued")),
		       json_is_string(json_object_get(v, "last_error")) ? ", last error: " : "",
		       json_is_string(json_object_get(v, "last_error")) ? pg_cli_safe(json_string_value(json_object_get(v, "last_error"))) : "");
	if ((v = json_object_get(o, "oldest_undelivered")) && json_is_object(v)) {
		char when[32];
		pg_time_iso8601(when, sizeof(when), json_integer_value(json_object_get(v, "created")));
		printf("oldest undelivered: event %lld %s (%s)\n", (long long)json_integer_value(json_object_get(v, "id")),
		       pg_cli_safe(json_string_value(json_object_get(v, "kind"))), when);
	} else
		printf("oldest undelivered: none\n");
	if ((v = json_object_get(o, "last_cycle")) && json_is_object(v)) {
		char when[32];
		pg_time_iso8601(when, sizeof(when), json_integer_value(json_object_get(v, "finished")));
		printf("last cycle: %s, %lld new commits, %lld events, %.0f ms\n", when,
		       (long long)json_integer_value(json_object_get(v, "commits_new")),
		       (long long)json_integer_value(json_object_get(v, "events")),
		       json_number_value(json_object_get(v, "ms_total")));
	}
out:
	json_decref(o);
	pg_store_free(s);
	return rc;
}

static int load(pg_config **cfg, pg_watch_conf **wc, struct pg_cli *cli)
{
	int rc, error;
	if ((rc = pg_cli_load_config(cfg, cli)) > 0)
		return rc;
	if ((error = pg_watch_conf_load(wc, *cfg)) < 0) {
		pg_config_free(*cfg);
		*cfg = NULL;
		return pg_cli_fail(cli, error);
	}
	return 0;
}

PG_CMD(watch)
{
	struct pg_opt opts[] = { { "once", 0, NULL, 0 },     { "interval", 1, NULL, 0 }, { "cycles", 1, NULL, 0 },
				 { "fetch-now", 0, NULL, 0 }, { "no-deliver", 0, NULL, 0 }, { "verbose", 0, NULL, 0 },
				 { "status", 0, NULL, 0 },   { NULL, 0, NULL, 0 } };
	pg_config *cfg = NULL;
	pg_watch_conf *wc = NULL;
	pg_store *s = NULL, *lock = NULL;
	pg_watch_options wo = PG_WATCH_OPTIONS_INIT;
	struct logctx lc = { 0 };
	struct sigaction sa;
	long interval = -1, cycles = 0, n;
	int rc, error, lockfd = -1;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if (pg_opt_get(opts, "interval") && !parse_num(&interval, pg_opt_get(opts, "interval"), 0, 86400)) {
		pg_cli_error(cli, "--interval wants seconds from 0 to 86400, not '%.40s'", pg_opt_get(opts, "interval"));
		return PG_EXIT_USAGE;
	}
	if (pg_opt_get(opts, "cycles") && !parse_num(&cycles, pg_opt_get(opts, "cycles"), 1, 100000000)) {
		pg_cli_error(cli, "--cycles wants a positive number, not '%.40s'", pg_opt_get(opts, "cycles"));
		return PG_EXIT_USAGE;
	}
	if (pg_opt_get(opts, "once"))
		cycles = 1;
	if ((rc = load(&cfg, &wc, cli)) > 0)
		return rc;
	if (pg_opt_get(opts, "status")) {
		rc = print_status(cli, wc);
		goto out;
	}
	lc.verbose = pg_opt_get(opts, "verbose") != NULL;
	wo.force_fetch = pg_opt_get(opts, "fetch-now") != NULL;
	wo.no_deliver = pg_opt_get(opts, "no-deliver") != NULL;
	wo.log = log_line;
	wo.stop = should_stop;
	wo.payload = &lc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/*
	 * One watch per database.  A server database may be watched from several
	 * hosts and has no file to lock: a session advisory lock on a connection
	 * of its own (the cycles' ingest takes its own lock), dropped by the
	 * server when this process ends.
	 */
	error = 0;
	if (pg_store_is_postgresql(cli->db_path ? cli->db_path : cfg->database))
		error = pg_store_open(&lock, cli->db_path ? cli->db_path : cfg->database, pg_cli_store_flags(PG_STORE_CREATE));
	if (error >= 0)
		error = lock ? pg_store_lock(lock, "watch") : pg_watch_lock(&lockfd, cli->db_path ? cli->db_path : cfg->database);
	if (error < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if ((error = pg_store_open(&s, cli->db_path ? cli->db_path : cfg->database, pg_cli_store_flags(PG_STORE_CREATE))) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cycles != 1)
		log_line(PG_WATCH_INFO, "watching", &lc);
	rc = PG_EXIT_OK;
	for (n = 0; !got_term; n++) {
		pg_watch_stats st;
		long wait;

		if (got_hup) {
			pg_config *ncfg = NULL;
			pg_watch_conf *nwc = NULL;
			got_hup = 0;
			if ((error = pg_config_load(&ncfg, cli->conf_path)) < 0 || (error = pg_watch_conf_load(&nwc, ncfg)) < 0) {
				log_line(PG_WATCH_ERROR, pg_error_last(), &lc);
				log_line(PG_WATCH_WARN, "SIGHUP: config not reloaded, keeping the previous one", &lc);
				pg_config_free(ncfg);
			} else {
				pg_watch_conf_free(wc);
				pg_config_free(cfg);
				cfg = ncfg;
				wc = nwc;
				log_line(PG_WATCH_INFO, "SIGHUP: config reloaded", &lc);
			}
		}
		error = pg_watch_cycle(&st, wc, s, &wo);
		if (error < 0) {
			log_line(PG_WATCH_ERROR, pg_error_last(), &lc);
			if (cycles == 1) {
				rc = pg_cli_exit_code(error);
				break;
			}
		} else if (st.commits_new || st.mails_new || st.events || st.delivered || st.delivery_failed || st.fetch_failed || lc.verbose) {
			char msg[512];
			snprintf(msg, sizeof(msg),
				 "cycle: %zu new commits, %zu flagged, %zu CVE records changed, %zu branches and %zu items "
				 "re-evaluated, %zu events, %zu delivered, %zu delivery failures; %.0f ms "
				 "(fetch %.0f, ingest %.0f, classify %.0f, import %.0f, reeval %.0f, deliver %.0f)",
				 st.commits_new, st.flagged, st.cves_changed, st.branches_evaluated, st.items_evaluated, st.events,
				 st.delivered, st.delivery_failed, st.ms_total, st.ms_fetch, st.ms_ingest, st.ms_classify,
				 st.ms_import, st.ms_reeval, st.ms_deliver);
			log_line(PG_WATCH_INFO, msg, &lc);
		}
		if (cycles == 1 && cli->json && error >= 0) {
			json_t *o = stats_json(&st);
			pg_json_print(stdout, o, 2);
			json_decref(o);
		}
		if (cycles && n + 1 >= cycles)
			break;
		wait = interval >= 0 ? interval : wc->interval;
		for (long ms = 0; ms < wait * 1000 && !got_term && !got_hup; ms += 100)
			usleep(100000);
	}
	if (got_term)
		log_line(PG_WATCH_INFO, "stopping on signal", &lc);
out:
	pg_store_free(s);
	if (lockfd >= 0)
		close(lockfd);
	pg_store_free(lock);
	pg_watch_conf_free(wc);
	pg_config_free(cfg);
	return rc;
}
