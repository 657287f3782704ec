/*
 * cmd_ingest.c - `patchgap ingest`: bring the database up to date with the
 * tracked refs (incremental; safe to kill and rerun).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/ingest.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap [--conf FILE] [--db FILE] ingest [--no-diffstat] [--batch N] [--json]\n"
	"\n"
	"Reads every commit reachable from the tracked refs of the config into the\n"
	"database: message, parsed trailers, touched files and diffstat, first release\n"
	"(mainline and per stable branch), upstream/backport relations. Only new\n"
	"commits, tags and moved refs are processed; a killed run resumes cleanly.\n"
	"\n"
	"  --no-diffstat   skip line counts (faster; files are still recorded)\n"
	"  --batch N       commits per transaction (default 5000)\n"
	"  --json          print the run's statistics as JSON\n"
	"\n"
	"Warnings (missing trees or blobs, rewritten branches) go to stderr; a commit that\n"
	"cannot be read fails the run and moves no branch head.\n"
	"Exit status: 0 ok, 1 error (also an incomplete repository), 2 usage, 3 repository/ref\n"
	"not found, 4 bad config/database.\n";

struct ctx {
	struct pg_cli *cli;
};

static void on_warn(const char *msg, void *payload)
{
	struct ctx *c = payload;
	if (!c->cli->quiet)
		fprintf(stderr, "%swarning: %s\n", c->cli->progress ? "\r\033[K" : "", msg);
}

static void on_progress(const char *phase, size_t done, size_t total, void *payload)
{
	struct ctx *c = payload;
	if (total)
		pg_cli_progress(c->cli, "ingest: %s: %zu/%zu commits", phase, done, total);
	else
		pg_cli_progress(c->cli, "ingest: %s", phase);
}

PG_CMD(ingest)
{
	struct pg_opt opts[] = { { "no-diffstat", 0, NULL, 0 }, { "batch", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_ingest_options io = PG_INGEST_OPTIONS_INIT;
	pg_ingest_stats stats;
	pg_config *cfg = NULL;
	pg_store *store = NULL;
	struct ctx c = { cli };
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if (pg_opt_get(opts, "batch")) {
		const char *v = pg_opt_get(opts, "batch");
		char *end;
		long n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || n <= 0 || n > 10000000) {
			pg_cli_error(cli, "--batch wants a number of commits from 1 to 10000000, not '%.40s'", v);
			return PG_EXIT_USAGE;
		}
		io.batch = (size_t)n;
	}
	io.diffstat = !pg_opt_get(opts, "no-diffstat");
	io.warn = on_warn;
	io.progress = on_progress;
	io.payload = &c;
	if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
		return rc;
	{
		/* a missing repository must not leave a new, empty database behind */
		git_repository *repo = NULL;
		int bad;
		git_libgit2_init();
		bad = git_repository_open_ext(&repo, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0;
		git_repository_free(repo);
		git_libgit2_shutdown();
		if (bad) {
			pg_cli_error(cli, "'%s' is not a git repository (core.repository in '%s')", cfg->repository,
				     cfg->path);
			rc = PG_EXIT_NOTFOUND;
			goto out;
		}
	}
	if ((error = pg_store_open(&store, cli->db_path ? cli->db_path : cfg->database, pg_cli_store_flags(PG_STORE_CREATE))) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	error = pg_ingest_run(&stats, cfg, store, &io);
	pg_cli_progress_done(cli);
	if (error < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		json_t *o = json_object();
		pg_json_set(o, "commits_new", json_integer((json_int_t)stats.commits_new));
		pg_json_set(o, "commits_total", json_integer((json_int_t)stats.commits_total));
		pg_json_set(o, "files_new", json_integer((json_int_t)stats.files_new));
		pg_json_set(o, "tags_new", json_integer((json_int_t)stats.tags_new));
		pg_json_set(o, "relations_resolved", json_integer((json_int_t)stats.relations_resolved));
		pg_json_set(o, "relations_unresolved", json_integer((json_int_t)stats.relations_unresolved));
		pg_json_set(o, "relations_ambiguous", json_integer((json_int_t)stats.relations_ambiguous));
		pg_json_set(o, "branches_rewritten", json_integer((json_int_t)stats.branches_rewritten));
		pg_json_set(o, "commits_unreachable", json_integer((json_int_t)stats.commits_unreachable));
		pg_json_set(o, "warnings", json_integer((json_int_t)stats.warnings));
		pg_json_set(o, "commits_incomplete", json_integer((json_int_t)stats.commits_incomplete));
		pg_json_set(o, "commits_healed", json_integer((json_int_t)stats.commits_healed));
		pg_json_print(stdout, o, 2);
		json_decref(o);
	} else if (!cli->quiet) {
		printf("ingested %zu new commits (%zu total), %zu files, %zu new release tags\n", stats.commits_new,
		       stats.commits_total, stats.files_new, stats.tags_new);
		printf("relations: %zu resolved, %zu unresolved, %zu ambiguous\n", stats.relations_resolved,
		       stats.relations_unresolved, stats.relations_ambiguous);
		if (stats.branches_rewritten || stats.commits_unreachable)
			printf("rewritten branches: %zu; unreachable commits kept: %zu\n", stats.branches_rewritten,
			       stats.commits_unreachable);
		if (stats.commits_incomplete || stats.commits_healed)
			printf("incomplete commits (missing objects): %zu; completed by this run: %zu\n",
			       stats.commits_incomplete, stats.commits_healed);
		if (stats.warnings)
			printf("%zu warnings (see above)\n", stats.warnings);
	}
	rc = PG_EXIT_OK;
out:
	pg_store_free(store);
	pg_config_free(cfg);
	return rc;
}
