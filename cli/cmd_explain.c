/*
 * cmd_explain.c - `patchgap explain`: the features that drove the
 * classifier's decision for one ingested commit (or for --input), with their
 * weights and contributions to the logit.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap explain [--top N] [--json] [--model FILE] <commit>\n"
	"       patchgap explain --input FILE [--format jsonl|mbox] [--top N] [--json]\n"
	"\n"
	"Shows why the classifier scores a commit as it does: P(security), the stage-1\n"
	"(text, paths) and stage-2 (trailers, diff, mail tags) features with their\n"
	"weights and contributions to the logit, largest first, and the priority reasons.\n"
	"\n"
	"  <commit>        an ingested commit id (at least 4 hex digits of it)\n"
	"  --input FILE    explain each patch / mail / JSON Lines record of FILE (\"-\" = stdin)\n"
	"  --format F      force the input format: jsonl or mbox\n"
	"  --top N         features to list (default 20; 0 = all)\n"
	"  --model FILE    model file (default: the committed data/model/classify.model)\n"
	"  --json          machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 commit/file/model not found, 4 malformed\n"
	"input or an ambiguous commit id.\n";

static int explain_one(struct pg_cli *cli, const pg_cls_model *m, const char *id, const pg_cls_input *in, size_t top,
		       json_t *arr)
{
	pg_cls_explain e;
	int error;
	size_t n;

	if ((error = pg_cls_explain_input(&e, m, in)) < 0)
		return pg_cli_fail(cli, error);
	n = top && top < e.n ? top : e.n;
	if (arr) {
		json_t *feats = json_array(), *reasons = json_loads(e.result.reasons_json, 0, NULL);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(feats, json_pack("{s:s, s:i, s:f, s:f}", "feature", e.v[i].name, "stage",
								e.v[i].stage, "weight", e.v[i].weight, "contribution",
								e.v[i].contrib));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:f, s:b, s:f, s:f, s:f, s:s, s:f, s:s, s:I, s:o, s:o}",
						     "id", id, "subject", in->subject ? in->subject : "", "model",
						     pg_cls_model_version(m), "p_security", e.result.p_security, "label",
						     e.result.label, "logit", e.result.z, "stage1_logit", e.result.z1,
						     "intercept", e.bias, "bug_class", pg_cls_bug_class_name(e.result.bug_class),
						     "priority", e.result.priority, "level", pg_cls_level_name(e.result.level),
						     "features_total", (json_int_t)e.n, "features", feats, "reasons",
						     reasons ? reasons : json_array()));
	} else {
		json_t *reasons = json_loads(e.result.reasons_json, 0, NULL), *r;
		size_t i;
		printf("%s  %s\n", id, in->subject ? in->subject : "");
		printf("  P(security) %.3f  label %s  (logit %.3f = intercept %.3f + features; stage-1 logit %.3f)\n",
		       e.result.p_security, e.result.label ? "security-fix" : "not flagged", e.result.z, e.bias, e.result.z1);
		printf("  bug class %s  priority %.1f (%s)\n", pg_cls_bug_class_name(e.result.bug_class), e.result.priority,
		       pg_cls_level_name(e.result.level));
		printf("  %-9s %9s %9s  feature  (%zu of %zu)\n", "stage", "weight", "contrib", n, e.n);
		for (i = 0; i < n; i++)
			printf("  %-9d %+9.3f %+9.3f  %s\n", e.v[i].stage, e.v[i].weight, e.v[i].contrib, e.v[i].name);
		printf("  priority reasons:\n");
		json_array_foreach(reasons, i, r)
			printf("    %+6.1f  %s\n", json_real_value(json_object_get(r, "points")),
			       json_string_value(json_object_get(r, "why")));
		json_decref(reasons);
	}
	pg_cls_explain_release(&e);
	return PG_EXIT_OK;
}

static int explain_commit(struct pg_cli *cli, const pg_cls_model *m, const char *rev, size_t top, json_t *arr)
{
	pg_store *s = NULL;
	pg_stmt *st = NULL, *fs = NULL;
	pg_cls_history *hist = NULL;
	char pattern[64], *sha = NULL, *subject = NULL, *message = NULL, **paths = NULL;
	size_t npaths = 0, len = strlen(rev);
	int64_t id = 0, when = 0;
	int rc, error = 0, ret = PG_EXIT_OK, found = 0;

	if (len < 4 || len > 40 || strspn(rev, "0123456789abcdefABCDEF") != len) {
		pg_cli_error(cli, "'%s' is not a commit id (4 to 40 hex digits)", rev);
		return PG_EXIT_USAGE;
	}
	snprintf(pattern, sizeof(pattern), "%s%%", rev);
	for (char *p = pattern; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((rc = pg_cli_open_store(&s, cli, PG_STORE_READONLY)) > 0)
		return rc;
	if ((error = pg_store_prepare(&st, s, "SELECT id, sha, subject, message, committer_time FROM commits WHERE sha LIKE ? ORDER BY sha LIMIT 2")) < 0 ||
	    (error = pg_stmt_bind_text(st, 1, pattern)) < 0)
		goto fail;
	while ((rc = pg_stmt_step(st)) > 0) {
		if (found++) {
			pg_cli_error(cli, "commit id '%s' is ambiguous (matches %s and %s...)", rev, sha, pg_stmt_text(st, 1));
			ret = PG_EXIT_INPUT;
			goto out;
		}
		id = pg_stmt_int(st, 0);
		when = pg_stmt_int(st, 4);
		if (!(sha = strdup(pg_stmt_text(st, 1))) || !(subject = strdup(pg_stmt_text(st, 2))) ||
		    !(message = strdup(pg_stmt_text(st, 3)))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (rc < 0) {
		error = rc;
		goto fail;
	}
	if (!found) {
		pg_cli_error(cli, "no ingested commit '%s' in %s", rev, pg_store_path(s));
		ret = PG_EXIT_NOTFOUND;
		goto out;
	}
	if ((error = pg_store_prepare(&fs, s, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0 ||
	    (error = pg_stmt_bind_int(fs, 1, id)) < 0)
		goto fail;
	while ((rc = pg_stmt_step(fs)) > 0) {
		char **np = realloc(paths, (npaths + 1) * sizeof(*np));
		if (!np || !(np[npaths] = strdup(pg_stmt_text(fs, 0)))) {
			if (np)
				paths = np;
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto fail;
		}
		paths = np;
		npaths++;
	}
	if (rc < 0) {
		error = rc;
		goto fail;
	}
	{
		pg_cls_input in = PG_CLS_INPUT_INIT;
		in.subject = subject;
		in.message = pg_cls_message_body(message); /* raw message: skip the subject */
		in.files = (const char *const *)paths;
		in.nfiles = npaths;
		/* the same file history classify scores with */
		if ((error = pg_cls_history_open(&hist, s)) < 0 ||
		    (error = pg_cls_history_count(&in.history_cves, hist, sha, when, in.files, npaths)) < 0)
			goto fail;
		ret = explain_one(cli, m, sha, &in, top, arr);
	}
	goto out;
fail:
	ret = pg_cli_fail(cli, error);
out:
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	free(sha);
	free(subject);
	free(message);
	pg_stmt_free(st);
	pg_stmt_free(fs);
	pg_cls_history_free(hist);
	pg_store_free(s);
	return ret;
}

PG_CMD(explain)
{
	struct pg_opt opts[] = { { "input", 1, NULL, 0 }, { "format", 1, NULL, 0 }, { "top", 1, NULL, 0 },
				 { "model", 1, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
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
		rc = explain_commit(cli, m, rest[0], top, arr);
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
