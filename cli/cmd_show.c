/*
 * cmd_show.c - `patchgap show <commit>`: everything known about one commit.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include <git2.h>
#include "patchgap/backport.h"
#include "patchgap/ingest.h"
#include "util/buf.h"
#include "patchgap/lists.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap show <commit> [--json]\n"
	"\n"
	"Shows one ingested commit (full or abbreviated id): metadata, touched files,\n"
	"parsed trailers, resolved relations (upstream, fixes, reverts), the branches\n"
	"and releases containing it, and the commits that refer to it (backports,\n"
	"fixes of it, reverts), and, when the config's repository is readable, the\n"
	"live-patchability verdict of its diff with the reasons (file:line).\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 unknown commit, 4 ambiguous or malformed id.\n";

/*
 * The live-patchability verdict needs the diff, so the repository: taken
 * from the config when there is one; silently absent otherwise.
 */
static json_t *livepatch(struct pg_cli *cli, const char *sha)
{
	pg_config *cfg = NULL;
	git_repository *repo = NULL;
	pg_livepatch_verdict *v = NULL;
	pg_buf diff = PG_BUF_INIT;
	char *js = NULL;
	json_t *o = NULL;
	git_oid id;

	if (pg_config_load(&cfg, cli->conf_path) == 0 &&
	    git_repository_open_ext(&repo, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0 &&
	    git_oid_fromstr(&id, sha) == 0 && pg_ingest_commit_diff(&diff, repo, &id) == 0 &&
	    pg_livepatch_assess(&v, pg_buf_cstr(&diff), diff.len) == 0 && pg_livepatch_json(&js, v) == 0)
		o = json_loads(js, 0, NULL);
	free(js);
	pg_livepatch_free(v);
	pg_buf_release(&diff);
	git_repository_free(repo);
	pg_config_free(cfg);
	return o;
}

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
	{
		json_t *lp = livepatch(cli, json_string_value(json_object_get(o, "sha")));
		if (lp)
			pg_json_set(o, "livepatch", lp);
	}
	{
		/* the mail the commit came from (lists ingest), when one is linked */
		json_t *mail = NULL;
		if (pg_lists_commit_mail(&mail, store, json_string_value(json_object_get(o, "sha"))) == 0)
			pg_json_set(o, "mail", mail);
		else
			pg_error_clear();
	}
	if (cli->json) {
		pg_json_print(stdout, o, 2);
	} else {
		json_t *ds = json_object_get(o, "diffstat");
		printf("commit %s\nAuthor: %s <%s>\nDate:   %s\nRelease: %s%s\n\n", str(o, "sha"), pg_cli_safe(str(o, "author")),
		       pg_cli_safe(str(o, "author_email")), str(o, "author_date"), str(o, "mainline_release"),
		       json_is_true(json_object_get(o, "reachable")) ? "" : " (unreachable: no tracked ref has it)");
		/* the message keeps its lines; other control bytes (escapes) are shown as '?' */
		for (const char *m = str(o, "message"); *m; m++)
			putchar((unsigned char)*m < 0x20 && *m != '\n' && *m != '\t' ? '?' : *m == 0x7f ? '?' : *m);
		putchar('\n');
		printf("files (%lld changed, +%lld -%lld):\n", (long long)json_integer_value(json_object_get(ds, "files_changed")),
		       (long long)json_integer_value(json_object_get(ds, "insertions")),
		       (long long)json_integer_value(json_object_get(ds, "deletions")));
		json_array_foreach(json_object_get(o, "files"), i, v)
			printf("  %s %s (+%lld -%lld)\n", str(v, "status"), pg_cli_safe(str(v, "path")),
			       (long long)json_integer_value(json_object_get(v, "added")),
			       (long long)json_integer_value(json_object_get(v, "deleted")));
		json_array_foreach(json_object_get(o, "relations"), i, v)
			printf("%s %s -> %s [%s]\n", str(v, "kind"), str(v, "ref_id"), str(v, "target"), str(v, "state"));
		json_array_foreach(json_object_get(o, "branches"), i, v)
			printf("on %s, release %s\n", str(v, "branch"), str(v, "release"));
		if (json_object_get(o, "livepatch")) {
			json_t *lp = json_object_get(o, "livepatch"), *r;
			size_t k;
			printf("live patch: %s\n", str(lp, "verdict"));
			json_array_foreach(json_object_get(lp, "reasons"), k, r)
				printf("  %s:%lld: %s\n", str(r, "file"), (long long)json_integer_value(json_object_get(r, "line")),
				       str(r, "detail"));
		}
		json_array_foreach(json_object_get(o, "referenced_by"), i, v)
			printf("%s by %.12s on %s (%s): %s\n", str(v, "kind"), str(v, "sha"), str(v, "branch"), str(v, "release"),
			       pg_cli_safe(str(v, "subject")));
		if ((v = json_object_get(o, "mail"))) {
			json_t *lead = json_object_get(v, "lead_days");
			printf("mail: <%s> on %s (%s), first version %.10s", pg_cli_safe(str(v, "message_id")),
			       pg_cli_safe(str(v, "list")), str(v, "how"), str(v, "first_version_date"));
			if (json_is_integer(lead))
				printf(", %lld days before the commit", (long long)json_integer_value(lead));
			putchar('\n');
		}
	}
	rc = PG_EXIT_OK;
out:
	json_decref(o);
	pg_store_free(store);
	return rc;
}
