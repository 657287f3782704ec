/*
 * cmd_explain.c - `patchgap explain`: the features that drove the
 * classifier's decision for one ingested commit (or for --input), with their
 * weights and contributions to the logit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap explain [--top N] [--json] [--model FILE] [--no-diffs] <commit>\n"
	"       patchgap explain --input FILE [--format jsonl|mbox] [--top N] [--json]\n"
	"\n"
	"Shows why the classifier scores a commit as it does: P(security), the stage-1\n"
	"(text, paths) and stage-2 (trailers, diff, mail tags; with a diff also the\n"
	"bag-of-words baseline's logit) features with their weights and contributions\n"
	"to the logit, largest first, and the priority reasons.  An ingested commit is\n"
	"explained as `classify` scores it: with its diff from core.repository (the\n"
	"diff head) unless [classify] diffs = false, --no-diffs, or the repository has\n"
	"not got it.  The head and its threshold are shown.\n"
	"\n"
	"  <commit>        an ingested commit id (at least 4 hex digits of it)\n"
	"  --no-diffs      explain an ingested commit without its diff (the no-diff head)\n"
	"  --input FILE    explain each patch / mail / JSON Lines record of FILE (\"-\" = stdin)\n"
	"  --format F      force the input format: jsonl or mbox\n"
	"  --top N         features to list (default 20; 0 = all)\n"
	"  --model FILE    model file (default: the committed data/model/classify.model)\n"
	"  --json          machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 commit/file/model not found, 4 malformed\n"
	"input or an ambiguous commit id.\n";

/*
 * Print (or append to arr) an explanation; takes nothing, releases nothing.
 * has_diff: the head that scored it, named with the threshold its label used.
 */
static int print_explain(const pg_cls_explain *e, const pg_cls_model *m, const char *id, const char *subject, size_t top,
			 int has_diff, json_t *arr)
{
	json_t *j = pg_cls_explain_json(e, m, id, subject, top, has_diff), *feats, *reasons, *f, *r;
	size_t i;

	if (!j)
		return PG_EXIT_ERROR;
	if (arr) {
		json_array_append_new(arr, j);
		return PG_EXIT_OK;
	}
	feats = json_object_get(j, "features");
	reasons = json_object_get(j, "reasons");
	printf("%s  %s\n", id, subject ? subject : "");
	printf("  P(security) %.3f  label %s  (logit %.3f = intercept %.3f + features; stage-1 logit %.3f)\n",
	       e->result.p_security, e->result.label ? "security-fix" : "not flagged", e->result.z, e->bias, e->result.z1);
	printf("  head %s (threshold %.4f)  bug class %s  priority %.1f (%s)\n", has_diff ? "diff" : "nodiff",
	       json_real_value(json_object_get(j, "threshold")), pg_cls_bug_class_name(e->result.bug_class), e->result.priority,
	       pg_cls_level_name(e->result.level));
	printf("  %-9s %9s %9s  feature  (%zu of %zu)\n", "stage", "weight", "contrib", json_array_size(feats), e->n);
	json_array_foreach(feats, i, f)
		printf("  %-9d %+9.3f %+9.3f  %s\n", (int)json_integer_value(json_object_get(f, "stage")),
		       json_real_value(json_object_get(f, "weight")), json_real_value(json_object_get(f, "contribution")),
		       json_string_value(json_object_get(f, "feature")));
	printf("  priority reasons:\n");
	json_array_foreach(reasons, i, r)
		printf("    %+6.1f  %s\n", json_real_value(json_object_get(r, "points")),
		       json_string_value(json_object_get(r, "why")));
	json_decref(j);
	return PG_EXIT_OK;
}

static int explain_one(struct pg_cli *cli, const pg_cls_model *m, const char *id, const pg_cls_input *in, size_t top,
		       json_t *arr)
{
	pg_cls_explain e;
	int error, ret;

	if ((error = pg_cls_explain_input(&e, m, in)) < 0)
		return pg_cli_fail(cli, error);
	ret = print_explain(&e, m, id, in->subject, top, in->diff && (in->diff_len || *in->diff), arr);
	pg_cls_explain_release(&e);
	return ret;
}

static int explain_commit(struct pg_cli *cli, const pg_cls_model *m, const char *rev, size_t top, int no_diffs,
			  json_t *arr)
{
	pg_store *s = NULL;
	git_repository *repo = NULL;
	pg_cls_explain e;
	char *sha = NULL, *subject = NULL;
	size_t len = strlen(rev);
	int rc, error, has_diff = 0;

	if (len < 4 || len > 40 || strspn(rev, "0123456789abcdefABCDEF") != len) {
		pg_cli_error(cli, "'%s' is not a commit id (4 to 40 hex digits)", rev);
		return PG_EXIT_USAGE;
	}
	if ((rc = pg_cli_open_diff_repo(&repo, cli, no_diffs)) > 0)
		return rc;
	if ((rc = pg_cli_open_store(&s, cli, PG_STORE_READONLY)) > 0) {
		pg_cli_free_diff_repo(repo);
		return rc;
	}
	if ((error = pg_cls_explain_commit(&e, &sha, &subject, &has_diff, s, repo, m, rev)) < 0) {
		rc = pg_cli_fail(cli, error);
	} else {
		rc = print_explain(&e, m, sha, subject, top, has_diff, arr);
		pg_cls_explain_release(&e);
	}
	free(sha);
	free(subject);
	pg_store_free(s);
	pg_cli_free_diff_repo(repo);
	return rc;
}

PG_CMD(explain)
{
	struct pg_opt opts[] = { { "input", 1, NULL, 0 }, { "format", 1, NULL, 0 }, { "top", 1, NULL, 0 },
				 { "model", 1, NULL, 0 }, { "json", 0, NULL, 0 }, { "no-diffs", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	const char **rest;
	int nrest = 0, rc, error;
	size_t top = 20;
	pg_cls_model *m = NULL;
	json_t *arr = NULL;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	if (pg_opt_get(opts, "top")) {
		char *end;
		long t = strtol(pg_opt_get(opts, "top"), &end, 10);
		if (*end || t < 0) {
			pg_cli_error(cli, "--top wants a number >= 0, not '%s'", pg_opt_get(opts, "top"));
			return PG_EXIT_USAGE;
		}
		top = (size_t)t;
	}
	if ((pg_opt_get(opts, "input") != NULL) == (nrest == 1) || nrest > 1) {
		pg_cli_error(cli, "give one commit id or --input FILE (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((error = pg_cls_model_open(&m, pg_opt_get(opts, "model"))) < 0)
		return pg_cli_fail(cli, error);
	if (cli->json)
		arr = json_array();
	if (nrest == 1) {
		rc = explain_commit(cli, m, rest[0], top, pg_opt_get(opts, "no-diffs") != NULL, arr);
	} else {
		pg_cls_docs docs = PG_CLS_DOCS_INIT;
		rc = PG_EXIT_OK;
		if ((error = pg_cls_read_input(&docs, pg_opt_get(opts, "input"), pg_opt_get(opts, "format"))) < 0)
			rc = pg_cli_fail(cli, error);
		for (size_t i = 0; i < docs.n && rc == PG_EXIT_OK; i++) {
			pg_cls_input in;
			pg_cls_doc_input(&in, &docs.v[i]);
			if (i && !arr)
				putchar('\n');
			rc = explain_one(cli, m, docs.v[i].id, &in, top, arr);
		}
		pg_cls_docs_release(&docs);
	}
	if (arr && rc == PG_EXIT_OK) {
		char *s = json_dumps(arr, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		if (s)
			puts(s);
		else
			rc = PG_EXIT_ERROR;
		free(s);
	}
	json_decref(arr);
	pg_cls_model_free(m);
	return rc;
}
