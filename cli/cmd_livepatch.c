/*
 * cmd_livepatch.c - `patchgap livepatch`: is a fix plausible as a live
 * patch (kpatch/klp)?  Judged from the commit's diff or a diff file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/backport.h"
#include "util/buf.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap livepatch <commit> [--repo PATH] [--json]\n"
	"       patchgap livepatch --diff FILE [--json]\n"
	"\n"
	"Classifies a fix's diff for live patching:\n"
	"  likely  only changes inside function bodies\n"
	"  shadow  struct/union layout or new global data: needs shadow variables\n"
	"  not     data initializers, __init/__exit code, assembly, Kconfig/Makefiles,\n"
	"          exported function signatures, static keys, notifier/registration\n"
	"each with its reasons as file:line.  --diff reads a unified diff ('-' = stdin).\n"
	"\n"
	"  --repo PATH  the git repository (default: core.repository of the config)\n"
	"  --json       print the verdict as JSON\n"
	"\n"
	"Exit status: 0 verdict printed; 2 usage; 3 unknown commit or repository;\n"
	"4 unreadable diff file or input that is not a unified diff.\n";

PG_CMD(livepatch)
{
	struct pg_opt opts[] = { { "repo", 1, NULL, 0 }, { "diff", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_livepatch_verdict *v = NULL;
	git_repository *repo = NULL;
	git_object *obj = NULL;
	pg_config *cfg = NULL;
	pg_buf diff = PG_BUF_INIT;
	const char **rest, *path;
	char *text = NULL;
	int nrest, rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if ((pg_opt_get(opts, "diff") != NULL) == (nrest == 1) || nrest > 1) {
		pg_cli_error(cli, "give either one <commit> or --diff FILE (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((path = pg_opt_get(opts, "diff"))) {
		pg_buf_init(&diff, (size_t)256 << 20);
		if (pg_buf_read_file(&diff, path) < 0) {
			pg_cli_error(cli, "cannot read the diff '%s': %s", path, pg_error_last());
			rc = PG_EXIT_INPUT;
			goto out;
		}
		error = pg_livepatch_assess(&v, pg_buf_cstr(&diff), diff.len);
	} else {
		if (!(path = pg_opt_get(opts, "repo"))) {
			if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
				goto out;
			path = cfg->repository;
		}
		if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			pg_cli_error(cli, "'%s' is not a git repository", path);
			rc = PG_EXIT_NOTFOUND;
			goto out;
		}
		if (git_revparse_single(&obj, repo, rest[0]) < 0) {
			pg_cli_error(cli, "unknown commit '%s' in %s", rest[0], path);
			rc = PG_EXIT_NOTFOUND;
			goto out;
		}
		error = pg_livepatch_assess_commit(&v, repo, git_object_id(obj));
	}
	if (error < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json) {
		if ((error = pg_livepatch_json(&text, v)) < 0) {
			rc = pg_cli_fail(cli, error);
			goto out;
		}
		printf("%s\n", text);
	} else {
		printf("live patch: %s (%u C file%s, %u function%s changed)\n", pg_livepatch_level_name(v->level),
		       v->files, v->files == 1 ? "" : "s", v->functions, v->functions == 1 ? "" : "s");
		for (size_t i = 0; i < v->nreasons; i++)
			printf("  %-6s %-18s %s:%u: %s\n", pg_livepatch_level_name(v->reasons[i].level),
			       v->reasons[i].rule, v->reasons[i].file, v->reasons[i].line, v->reasons[i].detail);
	}
	rc = PG_EXIT_OK;
out:
	free(text);
	pg_livepatch_free(v);
	pg_buf_release(&diff);
	git_object_free(obj);
	git_repository_free(repo);
	pg_config_free(cfg);
	return rc;
}
