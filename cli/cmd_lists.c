/*
 * cmd_lists.c - `patchgap lists`: mailing-list archives (public-inbox).
 *
 *   lists ingest [--list NAME] [--batch N] [--max N] [--no-classify]
 *   lists show MESSAGE-ID [--json]
 *   lists log [--flagged] [--since DATE] [--limit N] [--json]
 *   lists lead [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/lists.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap lists ingest [--list NAME] [--batch N] [--max N] [--no-classify] [--json]\n"
	"       patchgap lists show MESSAGE-ID [--json]\n"
	"       patchgap lists log [--flagged] [--since DATE] [--limit N] [--json]\n"
	"       patchgap lists lead [--json]\n"
	"\n"
	"Reads the public-inbox archives of the config's [list \"NAME\"] sections\n"
	"(inbox = PATH of a v2 inbox with git/N.git epochs, or a v1 inbox):\n"
	"  ingest  new mails of every epoch, incrementally (a killed run resumes);\n"
	"          patch mails get the classifier's verdict; then ingested commits\n"
	"          are linked to their mails (Link: message id, patch-id, subject+author)\n"
	"  show    one mail: tags, series, versions, replies with review tags, verdict\n"
	"  log     mails newest first; --flagged: patches the classifier flags\n"
	"  lead    days between a fix's first version on a list and its commit / CVE,\n"
	"          per list and tree\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 unknown message id, 4 bad input (config, inbox).\n";

static size_t parse_count(const char *s, int *bad)
{
	char *end;
	unsigned long long n;
	if (!s)
		return 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || n > 100000000ull)
		*bad = 1;
	return (size_t)n;
}

static void progress_cb(const char *list, int epoch, size_t mails, void *payload)
{
	pg_cli_progress(payload, "lists: %s epoch %d: %zu mails", list, epoch, mails);
}

static int do_ingest(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "list", 1, NULL, 0 }, { "batch", 1, NULL, 0 }, { "max", 1, NULL, 0 },
				 { "no-classify", 0, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_lists_ingest_options o = PG_LISTS_INGEST_OPTIONS_INIT;
	pg_config *cfg = NULL;
	pg_list_conf *lists = NULL;
	size_t nlists = 0, linked = 0, done = 0;
	pg_store *store = NULL;
	pg_cls_model *model = NULL;
	git_repository *repo = NULL;
	json_t *out = json_object(), *arr = json_array();
	const char *only;
	int rc, error, bad = 0;

	pg_json_set(out, "lists", arr);
	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		goto done;
	only = pg_opt_get(opts, "list");
	o.batch = parse_count(pg_opt_get(opts, "batch"), &bad);
	o.max_mails = parse_count(pg_opt_get(opts, "max"), &bad);
	if (bad) {
		pg_cli_error(cli, "--batch and --max want a number");
		rc = PG_EXIT_USAGE;
		goto done;
	}
	if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
		goto done;
	if ((error = pg_lists_conf_load(&lists, &nlists, cfg->path)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	if (!nlists) {
		pg_cli_error(cli, "config '%s' has no [list \"NAME\"] section with an inbox", cfg->path);
		rc = PG_EXIT_INPUT;
		goto done;
	}
	if (only) {
		size_t i;
		for (i = 0; i < nlists && strcmp(lists[i].name, only); i++)
			;
		if (i == nlists) {
			pg_cli_error(cli, "--list '%s': no such [list] section in '%s'", only, cfg->path);
			rc = PG_EXIT_USAGE;
			goto done;
		}
	}
	if (!pg_opt_get(opts, "no-classify") && pg_cls_model_load_default(&model) < 0) {
		pg_cli_error(cli, "warning: %s; patch mails are stored without a verdict", pg_error_last());
		model = NULL;
	}
	o.model = model;
	o.progress = progress_cb;
	o.payload = cli;
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_CREATE)) > 0)
		goto done;
	if ((error = pg_store_lock(store, "lists ingest")) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	for (size_t i = 0; i < nlists; i++) {
		pg_lists_stats st;
		json_t *l;
		if (only && strcmp(lists[i].name, only))
			continue;
		error = pg_lists_ingest(&st, store, &lists[i], &o);
		pg_cli_progress_done(cli);
		if (error < 0) {
			rc = pg_cli_fail(cli, error);
			goto done;
		}
		done += st.mails;
		l = json_object();
		pg_json_set(l, "list", pg_json_string(lists[i].name));
		pg_json_set(l, "epochs", json_integer((json_int_t)st.epochs));
		pg_json_set(l, "mails", json_integer((json_int_t)st.mails));
		pg_json_set(l, "patches", json_integer((json_int_t)st.patches));
		pg_json_set(l, "flagged", json_integer((json_int_t)st.flagged));
		pg_json_set(l, "skipped", json_integer((json_int_t)st.skipped));
		json_array_append_new(arr, l);
		if (!cli->json)
			printf("%s: %zu new mails (%zu patches, %zu flagged) from %zu epochs\n", lists[i].name,
			       st.mails, st.patches, st.flagged, st.epochs);
	}
	/* commits of the tracked repository, when it is there */
	if (git_repository_open_ext(&repo, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		repo = NULL;
	if ((error = pg_lists_link(&linked, store, repo)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	pg_json_set(out, "linked_commits", json_integer((json_int_t)linked));
	if (cli->json)
		pg_json_print(stdout, out, 2);
	else
		printf("linked %zu commits to mails\n", linked);
	rc = PG_EXIT_OK;
done:
	(void)done;
	json_decref(out);
	git_repository_free(repo);
	pg_cls_model_free(model);
	pg_store_free(store);
	pg_lists_conf_free(lists, nlists);
	pg_config_free(cfg);
	return rc;
}

static void print_mail_line(json_t *v)
{
	json_t *verdict = json_object_get(v, "verdict");
	const char *date = json_string_value(json_object_get(v, "date"));
	printf("%.10s %-6s %-8s %s ", date ? date : "-", json_string_value(json_object_get(v, "kind")),
	       json_is_object(verdict) ? (json_is_true(json_object_get(verdict, "flagged")) ? "FLAGGED" : "-") : "",
	       pg_cli_safe(json_string_value(json_object_get(v, "list"))));
	pg_cli_put_safe(stdout, json_string_value(json_object_get(v, "subject")));
	printf(" <%s>\n", pg_cli_safe(json_string_value(json_object_get(v, "message_id"))));
}

static int do_show(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **rest;
	int nrest, rc, error;
	pg_store *store = NULL;
	json_t *o = NULL, *v;
	char *mid = NULL;
	size_t i;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (nrest != 1) {
		pg_cli_error(cli, "lists show wants one message id");
		return PG_EXIT_USAGE;
	}
	/* accept <id>, id, and lore URLs */
	{
		const char *s = rest[0], *e;
		const char *slash = strstr(s, "://") ? strrchr(s, '/') : NULL;
		while (slash && !slash[1] && slash > s) {   /* trailing '/' */
			const char *p = slash - 1;
			while (p > s && *p != '/')
				p--;
			s = p + 1;
			slash = NULL;
		}
		if (slash)
			s = slash + 1;
		if (*s == '<')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '>' || e[-1] == '/'))
			e--;
		mid = pg_strndup(s, (size_t)(e - s));
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		goto out;
	if ((error = pg_lists_show(&o, store, mid)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		pg_json_print(stdout, o, 2);
	} else {
		json_t *verdict = json_object_get(o, "verdict");
		printf("message-id: <%s>\nlist:       %s\nfrom:       ", pg_cli_safe(mid),
		       pg_cli_safe(json_string_value(json_object_get(o, "list"))));
		pg_cli_put_safe(stdout, json_string_value(json_object_get(o, "author")));
		printf("\ndate:       %s\nsubject:    ", json_string_value(json_object_get(o, "date")) ?
		       json_string_value(json_object_get(o, "date")) : "-");
		pg_cli_put_safe(stdout, json_string_value(json_object_get(o, "subject")));
		printf("\nkind:       %s, version %lld%s, %lld/%lld\n", json_string_value(json_object_get(o, "kind")),
		       (long long)json_integer_value(json_object_get(o, "version")),
		       json_is_true(json_object_get(o, "superseded")) ? " (superseded)" : "",
		       (long long)json_integer_value(json_object_get(o, "index")),
		       (long long)json_integer_value(json_object_get(o, "total")));
		if (json_is_object(verdict))
			printf("verdict:    %s (p=%.3f, %s, %s)\n",
			       json_is_true(json_object_get(verdict, "flagged")) ? "likely security fix" : "not flagged",
			       json_real_value(json_object_get(verdict, "p_security")),
			       json_string_value(json_object_get(verdict, "bug_class")),
			       json_string_value(json_object_get(verdict, "level")));
		printf("first seen: %s\n", json_string_value(json_object_get(o, "first_version_date")) ?
		       json_string_value(json_object_get(o, "first_version_date")) : "-");
		json_array_foreach(json_object_get(o, "paths"), i, v)
			printf("file:       %s\n", pg_cli_safe(json_string_value(v)));
		json_array_foreach(json_object_get(o, "versions"), i, v) {
			printf("version %lld: ", (long long)json_integer_value(json_object_get(v, "version")));
			print_mail_line(v);
		}
		json_array_foreach(json_object_get(o, "reviews"), i, v)
			printf("review:     %s: %s\n", json_string_value(json_object_get(v, "kind")),
			       pg_cli_safe(json_string_value(json_object_get(v, "value"))));
		json_array_foreach(json_object_get(o, "replies"), i, v) {
			printf("reply%s: ", json_is_true(json_object_get(v, "applied")) ? " (applied)" : "");
			print_mail_line(v);
		}
		json_array_foreach(json_object_get(o, "commits"), i, v)
			printf("commit:     %s (%s)\n", json_string_value(json_object_get(v, "sha")),
			       json_string_value(json_object_get(v, "how")));
	}
	rc = PG_EXIT_OK;
out:
	free(mid);
	json_decref(o);
	pg_store_free(store);
	return rc;
}

static int do_log(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "flagged", 0, NULL, 0 }, { "since", 1, NULL, 0 }, { "limit", 1, NULL, 0 },
				 { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	int rc, error, bad = 0;
	int64_t since = 0;
	size_t limit, i;
	pg_store *store = NULL;
	json_t *arr = NULL, *v;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if (pg_opt_get(opts, "since") && pg_time_parse(&since, pg_opt_get(opts, "since")) < 0) {
		pg_cli_error(cli, "--since: %s", pg_error_last());
		return PG_EXIT_USAGE;
	}
	limit = parse_count(pg_opt_get(opts, "limit"), &bad);
	if (bad) {
		pg_cli_error(cli, "--limit wants a number, not '%.40s'", pg_opt_get(opts, "limit"));
		return PG_EXIT_USAGE;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_lists_log(&arr, store, pg_opt_get(opts, "flagged") != NULL, since, limit)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		pg_json_print(stdout, arr, 2);
	else
		json_array_foreach(arr, i, v)
			print_mail_line(v);
	rc = PG_EXIT_OK;
out:
	json_decref(arr);
	pg_store_free(store);
	return rc;
}

static int do_lead(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	int rc, error;
	pg_store *store = NULL;
	json_t *arr = NULL, *v;
	size_t i;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_lists_lead(&arr, store)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		pg_json_print(stdout, arr, 2);
	} else {
		printf("%-30s %8s %14s %10s %14s\n", "subsystem", "commits", "median days", "with CVE", "days to CVE");
		json_array_foreach(arr, i, v) {
			json_t *cve = json_object_get(v, "median_days_before_cve");
			printf("%-30s %8lld %14lld %10lld ", pg_cli_safe(json_string_value(json_object_get(v, "subsystem"))),
			       (long long)json_integer_value(json_object_get(v, "commits")),
			       (long long)json_integer_value(json_object_get(v, "median_days_before_commit")),
			       (long long)json_integer_value(json_object_get(v, "with_cve")));
			if (json_is_integer(cve))
				printf("%14lld\n", (long long)json_integer_value(cve));
			else
				printf("%14s\n", "-");
		}
	}
	rc = PG_EXIT_OK;
out:
	json_decref(arr);
	pg_store_free(store);
	return rc;
}

PG_CMD(lists)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	if (!strcmp(argv[1], "ingest"))
		return do_ingest(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return do_show(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "log"))
		return do_log(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "lead"))
		return do_lead(cli, argc - 1, argv + 1);
	pg_cli_error(cli, "'%s' is not a lists subcommand (ingest, show, log, lead; see --help)", argv[1]);
	return PG_EXIT_USAGE;
}
