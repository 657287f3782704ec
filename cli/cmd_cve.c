/*
 * cmd_cve.c - `patchgap cve import|show|list`: the kernel CNA's CVE records.
 *
 * import prints one line per skipped record or path ("FILE: reason") and a
 * summary line on stderr; exit 0 when everything was imported, 4 when any
 * record was skipped (the rest is stored), 1 when the database failed
 * (nothing of the run is stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/cve.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap cve import [--json] PATH...\n"
	"       patchgap cve show [--json] CVE-ID\n"
	"       patchgap cve list [--state published|rejected] [--since DATE] [--fixed-by SHA] [--json]\n"
	"\n"
	"import  reads kernel CNA records: a vulns.git checkout (or its cve/, cve/published,\n"
	"        cve/rejected or year folder), a cvelistV5 checkout (or its cves/ folder), a\n"
	"        folder of CVE JSON 5 files, or single CVE-*.json files.  Unchanged records are\n"
	"        left alone; changed ones are replaced; a malformed record is reported\n"
	"        (FILE: reason) and skipped.  Summary on stderr:\n"
	"        imported N, updated N, unchanged N, rejected N, skipped N\n"
	"show    everything known about one CVE (fixes, introducers, per-branch ranges,\n"
	"        files, CVSS, description), and whether each fix is in the ingested history\n"
	"list    the imported CVEs, by id\n"
	"\n"
	"  --json           print JSON on stdout\n"
	"  --state STATE    list: only published or only rejected ids\n"
	"  --since DATE     list: published on or after DATE (YYYY-MM-DD or ISO 8601)\n"
	"  --fixed-by SHA   list: the CVEs that commit (or hex prefix, >= 4 digits) fixes\n"
	"\n"
	"Exit status: 0 ok; 1 database error; 2 usage; 3 unknown CVE (show);\n"
	"4 some records were skipped (import) or a bad option value (list).\n";

struct import_ctx {
	const struct pg_cli *cli;
	json_t *problems;
	int progress_shown;   /* a progress line is on the terminal: end it first */
};

/* Reasons quote file content: keep control bytes off the terminal. */
static void print_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void on_problem(const char *path, const char *reason, void *payload)
{
	struct import_ctx *c = payload;
	if (c->progress_shown)
		pg_cli_progress_done(c->cli);
	c->progress_shown = 0;
	if (c->cli->json) {
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "reason", json_string(reason));
		json_array_append_new(c->problems, o);
	}
	fputs("patchgap cve import: ", stderr);
	print_clean(stderr, path);
	fputs(": ", stderr);
	print_clean(stderr, reason);
	fputc('\n', stderr);
}

static void on_progress(size_t done, size_t total, void *payload)
{
	struct import_ctx *c = payload;
	pg_cli_progress(c->cli, "importing CVE records: %zu/%zu", done, total);
	c->progress_shown = c->cli->progress;
}

static int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(4));
	if (!s)
		return PG_EXIT_ERROR;
	puts(s);
	free(s);
	return PG_EXIT_OK;
}

static int do_import(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **rest;
	int nrest, rc, error;
	pg_store *store = NULL;
	pg_cve_import_stats st;
	struct import_ctx ctx = { cli, json_array(), 0 };
	pg_cve_import_opts io = { on_problem, on_progress, &ctx };

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		goto out;
	if (!nrest) {
		pg_cli_error(cli, "import: no PATH given (see --help)");
		rc = PG_EXIT_USAGE;
		goto out;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_CREATE)) > 0)
		goto out;
	error = pg_cve_import(store, rest, (size_t)nrest, &io, &st);
	if (ctx.progress_shown)
		pg_cli_progress_done(cli);
	if (error < 0) {
		pg_cli_error(cli, "import failed, nothing stored: %s", pg_error_last());
		rc = PG_EXIT_ERROR;
		goto out;
	}
	if (!cli->quiet || st.skipped)
		fprintf(stderr, "imported %zu, updated %zu, unchanged %zu, rejected %zu, skipped %zu\n",
			st.imported, st.updated, st.unchanged, st.rejected, st.skipped);
	if (!cli->quiet && st.ignored)
		fprintf(stderr, "ignored %zu records of other CNAs\n", st.ignored);
	if (cli->json) {
		json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O}", "imported", (json_int_t)st.imported,
				      "updated", (json_int_t)st.updated, "unchanged", (json_int_t)st.unchanged,
				      "rejected", (json_int_t)st.rejected, "skipped", (json_int_t)st.skipped,
				      "ignored", (json_int_t)st.ignored, "problems", ctx.problems);
		print_json(o);
		json_decref(o);
	}
	rc = st.skipped ? PG_EXIT_INPUT : PG_EXIT_OK;
out:
	json_decref(ctx.problems);
	pg_store_free(store);
	return rc;
}

static void print_wrapped(const char *label, const char *text)
{
	const char *p = text, *nl;
	printf("%s\n", label);
	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			printf("    %s\n", p);
			break;
		}
		printf("    %.*s\n", (int)(nl - p), p);
	}
}

static const char *js(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "-";
}

static void print_show(json_t *o)
{
	json_t *v, *c = json_object_get(o, "cvss");
	size_t i;

	printf("%s  %s\n", js(o, "id"), js(o, "state"));
	printf("title:      %s\n", pg_cli_safe(js(o, "title")));
	printf("published:  %s\n", js(o, "published"));
	printf("updated:    %s\n", js(o, "updated"));
	if (json_is_object(c))
		printf("cvss:       %.1f %s %s\n", json_number_value(json_object_get(c, "score")), js(c, "severity"),
		       js(c, "vector"));
	else
		printf("cvss:       -\n");
	if (json_is_string(json_object_get(o, "rejected_reason")))
		printf("rejected:   %s\n", js(o, "rejected_reason"));
	printf("source:     %s (%s)\n", js(o, "source_path"), js(o, "layout"));
	printf("fixes:\n");
	json_array_foreach(json_object_get(o, "fixes"), i, v) {
		if (json_is_true(json_object_get(v, "in_history")))
			printf("    %s  %-9s in history: %s\n", js(v, "sha"), js(v, "source"), pg_cli_safe(js(v, "subject")));
		else
			printf("    %s  %-9s not in the ingested history\n", js(v, "sha"), js(v, "source"));
	}
	printf("introducers:\n");
	json_array_foreach(json_object_get(o, "introducers"), i, v) {
		if (json_is_string(json_object_get(v, "version")))
			printf("    %s  %s (%s)\n", js(v, "sha"), js(v, "source"), js(v, "version"));
		else
			printf("    %s  %s\n", js(v, "sha"), js(v, "source"));
	}
	printf("ranges (vuln_version:vuln_sha:fix_version:fix_sha; dyad %s):\n", js(o, "dyad_version"));
	json_array_foreach(json_object_get(o, "ranges"), i, v)
		printf("    %s:%s:%s:%s  %s\n", js(v, "vuln_version"), js(v, "vuln_sha"), js(v, "fix_version"),
		       js(v, "fix_sha"), js(v, "source"));
	printf("versions:\n");
	json_array_foreach(json_object_get(o, "versions"), i, v) {
		const char *lt = json_string_value(json_object_get(v, "less_than"));
		const char *le = json_string_value(json_object_get(v, "less_than_or_equal"));
		printf("    %s%s%s %s (%s; default %s)\n", js(v, "version"), lt ? " < " : le ? " <= " : "",
		       lt ? lt : le ? le : "", js(v, "status"), js(v, "version_type"), js(v, "default_status"));
	}
	printf("files:\n");
	json_array_foreach(json_object_get(o, "files"), i, v)
		printf("    %s\n", json_string_value(v));
	printf("references:\n");
	json_array_foreach(json_object_get(o, "references"), i, v)
		printf("    %s\n", json_string_value(v));
	if (json_is_string(json_object_get(o, "description")))
		print_wrapped("description:", js(o, "description"));
}

static int do_show(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **rest;
	int nrest, rc, error;
	pg_store *store = NULL;
	json_t *o = NULL;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (nrest != 1) {
		pg_cli_error(cli, "show: want exactly one CVE id (see --help)");
		return PG_EXIT_USAGE;
	}
	if (!pg_cve_id_valid(rest[0])) {
		pg_cli_error(cli, "show: '%s' is not a CVE id (want CVE-YYYY-NNNN)", rest[0]);
		return PG_EXIT_USAGE;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_cve_show(&o, store, rest[0])) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		rc = print_json(o);
	else
		print_show(o);
out:
	json_decref(o);
	pg_store_free(store);
	return rc;
}

static int do_list(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "state", 1, NULL, 0 }, { "since", 1, NULL, 0 },
				 { "fixed-by", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_cve_filter f;
	pg_store *store = NULL;
	json_t *arr = NULL, *v;
	int rc, error;
	size_t i;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	f.state = pg_opt_get(opts, "state");
	f.since = pg_opt_get(opts, "since");
	f.fixed_by = pg_opt_get(opts, "fixed-by");
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_cve_list(&arr, store, &f)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		rc = print_json(arr);
		goto out;
	}
	json_array_foreach(arr, i, v) {
		json_t *score = json_object_get(v, "cvss_score");
		char sc[16] = "-";
		if (json_is_number(score))
			snprintf(sc, sizeof(sc), "%.1f", json_number_value(score));
		printf("%s\t%s\t%s\t%s\t%s\n", js(v, "id"), js(v, "state"), js(v, "published"), sc, pg_cli_safe(js(v, "title")));
	}
	rc = PG_EXIT_OK;
out:
	json_decref(arr);
	pg_store_free(store);
	return rc;
}

PG_CMD(cve)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	if (!strcmp(argv[1], "import"))
		return do_import(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return do_show(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return do_list(cli, argc - 1, argv + 1);
	pg_cli_error(cli, "'%s' is not a cve subcommand (import, show, list; see --help)", argv[1]);
	return PG_EXIT_USAGE;
}
