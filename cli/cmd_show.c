/*
 * cmd_show.c - `patchgap show <commit>`: everything known about one commit.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "patchgap/ingest.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap show <commit> [--json]\n"
	"\n"
	"Shows one ingested commit (full or abbreviated id): metadata, touched files,\n"
	"parsed trailers, resolved relations (upstream, fixes, reverts), the branches\n"
	"and releases containing it, and the commits that refer to it (backports,\n"
	"fixes of it, reverts).\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 unknown commit, 4 ambiguous or malformed id.\n";

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

PG_CMD(show)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args;
	int nargs, rc, error;
	pg_store *store = NULL;
	json_t *o = NULL, *v;
	size_t i;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		return rc;
	if (nargs != 1) {
		pg_cli_error(cli, "need exactly one commit id (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_ingest_show(&o, store, args[0])) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		pg_json_print(stdout, o, 2);
	} else {
		json_t *ds = json_object_get(o, "diffstat");
		printf("commit %s\nAuthor: %s <%s>\nDate:   %s\nRelease: %s%s\n\n%s\n", str(o, "sha"), str(o, "author"),
		       str(o, "author_email"), str(o, "author_date"), str(o, "mainline_release"),
		       json_is_true(json_object_get(o, "reachable")) ? "" : " (unreachable: no tracked ref has it)",
		       str(o, "message"));
		printf("files (%lld changed, +%lld -%lld):\n", (long long)json_integer_value(json_object_get(ds, "files_changed")),
		       (long long)json_integer_value(json_object_get(ds, "insertions")),
		       (long long)json_integer_value(json_object_get(ds, "deletions")));
		json_array_foreach(json_object_get(o, "files"), i, v)
			printf("  %s %s (+%lld -%lld)\n", str(v, "status"), str(v, "path"),
			       (long long)json_integer_value(json_object_get(v, "added")),
			       (long long)json_integer_value(json_object_get(v, "deleted")));
		json_array_foreach(json_object_get(o, "relations"), i, v)
			printf("%s %s -> %s [%s]\n", str(v, "kind"), str(v, "ref_id"), str(v, "target"), str(v, "state"));
		json_array_foreach(json_object_get(o, "branches"), i, v)
			printf("on %s, release %s\n", str(v, "branch"), str(v, "release"));
		json_array_foreach(json_object_get(o, "referenced_by"), i, v)
			printf("%s by %.12s on %s (%s): %s\n", str(v, "kind"), str(v, "sha"), str(v, "branch"), str(v, "release"),
			       str(v, "subject"));
	}
	rc = PG_EXIT_OK;
out:
	json_decref(o);
	pg_store_free(store);
	return rc;
}
