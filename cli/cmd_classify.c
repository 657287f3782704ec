/*
 * cmd_classify.c - `patchgap classify`: flag security fixes, name their bug
 * class and rank them.  Two inputs:
 *   - the database: commits ingested by `patchgap ingest` that the current
 *     model has not scored yet (or all with --all); verdicts go to the
 *     classifications table in one transaction;
 *   - --input FILE (or "-"): patch files, git format-patch / mbox streams, a
 *     bare message, or JSON Lines; verdicts are printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/classify.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap classify [--all] [--json] [--model FILE] [--config-built yes|no]\n"
	"       patchgap classify --input FILE [--format jsonl|mbox] [--json] [--model FILE]\n"
	"\n"
	"Scores commits with the security-fix classifier (doc/model.md): P(security),\n"
	"a label, the bug class and a priority (urgent/high/medium/low) with its reasons.\n"
	"\n"
	"Without --input, scores the ingested commits that the current model has not\n"
	"scored yet and stores the verdicts in the database (table classifications),\n"
	"then lists the flagged ones.\n"
	"\n"
	"  --all               rescore every commit, not only new ones\n"
	"  --input FILE        score a patch, mbox, message or JSON Lines file (\"-\" = stdin);\n"
	"                      JSON Lines fields: subject, message, optional diff, files, id\n"
	"  --format F          force the input format: jsonl or mbox (default: detect)\n"
	"  --config-built B    yes/no: the touched code is (not) compiled in the branch's\n"
	"                      .config (adjusts the priority; default unknown)\n"
	"  --model FILE        model file (default: the committed data/model/classify.model)\n"
	"  --json              machine-readable output\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 file/model not found, 4 malformed input.\n";

static json_t *result_json(const char *id, const char *subject, const pg_cls_result *r, const char *version)
{
	json_t *reasons = json_loads(r->reasons_json ? r->reasons_json : "[]", 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:f, s:b, s:s, s:f, s:s, s:o}", "id", id ? id : "", "subject",
			 subject ? subject : "", "model", version, "p_security", r->p_security, "label", r->label,
			 "bug_class", pg_cls_bug_class_name(r->bug_class), "priority", r->priority, "level",
			 pg_cls_level_name(r->level), "reasons", reasons ? reasons : json_array());
}

static void print_text(const char *id, const char *subject, const pg_cls_result *r)
{
	printf("%-14.14s %-6s %5.1f  p=%.3f %-24s %s\n", id ? id : "", r->label ? pg_cls_level_name(r->level) : "-",
	       r->priority, r->p_security, r->label ? pg_cls_bug_class_name(r->bug_class) : "-", subject ? pg_cli_safe(subject) : "");
}

static int emit_json(json_t *o, struct pg_cli *cli)
{
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	if (!s) {
		pg_cli_error(cli, "out of memory");
		return PG_EXIT_ERROR;
	}
	puts(s);
	free(s);
	return PG_EXIT_OK;
}

/*
 * One element of a JSON array printed as it is computed, byte for byte as
 * emit_json would print the whole array: a 250 MB mbox no longer builds
 * its results in memory first (8.3 GB).  Takes o.  n = elements so far.
 */
static int stream_json_item(json_t *o, size_t n, struct pg_cli *cli)
{
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	if (!s) {
		pg_cli_error(cli, "out of memory");
		return PG_EXIT_ERROR;
	}
	fputs(n ? ",\n  " : "[\n  ", stdout);
	for (const char *p = s; *p; p++) {
		putchar(*p);
		if (*p == '\n') /* strings hold no raw newline: this is layout */
			fputs("  ", stdout);
	}
	free(s);
	return PG_EXIT_OK;
}

static int classify_input(struct pg_cli *cli, const pg_cls_model *m, const char *path, const char *format, int built)
{
	pg_cls_docs docs = PG_CLS_DOCS_INIT;
	int error, ret = PG_EXIT_OK;
	size_t nout = 0;

	if ((error = pg_cls_read_input(&docs, path, format)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	for (size_t i = 0; i < docs.n; i++) {
		pg_cls_input in;
		pg_cls_result r;
		pg_cls_doc_input(&in, &docs.v[i]);
		in.config_built = built;
		if ((error = pg_cls_classify(&r, m, &in)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		if (cli->json)
			ret = stream_json_item(result_json(docs.v[i].id, docs.v[i].subject, &r, pg_cls_model_version(m)),
					       nout++, cli);
		else
			print_text(docs.v[i].id, docs.v[i].subject, &r);
		pg_cls_result_release(&r);
		if (ret != PG_EXIT_OK)
			goto out;
	}
	if (cli->json)
		fputs(nout ? "\n]\n" : "[]\n", stdout);
out:
	if (cli->json && nout && ret != PG_EXIT_OK)
		fputs("\n]\n", stdout); /* stderr says why it is short */
	pg_cls_docs_release(&docs);
	return ret;
}

struct row { int64_t id; char *sha, *subject, *message; };

static int classify_db(struct pg_cli *cli, const pg_cls_model *m, int all, int built)
{
	pg_store *s = NULL;
	pg_stmt *sel = NULL, *files = NULL, *ins = NULL;
	const char *ver = pg_cls_model_version(m);
	json_t *flagged = cli->json ? json_array() : NULL;
	size_t n = 0, nflag = 0, by_level[4] = { 0 };
	char **paths = NULL;
	size_t npaths = 0, apaths = 0;
	int rc, error = 0, ret = PG_EXIT_OK;

	if ((rc = pg_cli_open_store(&s, cli, 0)) > 0)
		return rc;
	if ((error = pg_store_prepare(&sel, s, all ? "SELECT id, sha, subject, message FROM commits ORDER BY id"
					      : "SELECT c.id, c.sha, c.subject, c.message FROM commits c WHERE NOT EXISTS "
						"(SELECT 1 FROM classifications k WHERE k.commit_id = c.id AND k.model_version = ?) "
						"ORDER BY c.id")) < 0 ||
	    (error = pg_store_prepare(&files, s, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0 ||
	    (error = pg_store_prepare(&ins, s,
				      "INSERT INTO classifications (commit_id, sha, model_version, p_security, label, bug_class, "
				      "priority, level, reasons, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
				      "ON CONFLICT (commit_id) DO UPDATE SET sha = excluded.sha, model_version = excluded.model_version, "
				      "p_security = excluded.p_security, label = excluded.label, bug_class = excluded.bug_class, "
				      "priority = excluded.priority, level = excluded.level, reasons = excluded.reasons, "
				      "classified_at = excluded.classified_at")) < 0)
		goto fail;
	if (!all && (error = pg_stmt_bind_text(sel, 1, ver)) < 0)
		goto fail;
	if ((error = pg_store_begin(s)) < 0)
		goto fail;
	while ((rc = pg_stmt_step(sel)) > 0) {
		pg_cls_input in = PG_CLS_INPUT_INIT;
		pg_cls_result r;
		int64_t id = pg_stmt_int(sel, 0);
		const char *sha = pg_stmt_text(sel, 1);

		for (size_t i = 0; i < npaths; i++)
			free(paths[i]);
		npaths = 0;
		if ((error = pg_stmt_bind_int(files, 1, id)) < 0)
			goto rollback;
		while ((rc = pg_stmt_step(files)) > 0) {
			const char *p = pg_stmt_text(files, 0);
			if (npaths == apaths) {
				size_t na = apaths ? apaths * 2 : 16;
				char **np = realloc(paths, na * sizeof(*np));
				if (!np) {
					error = pg_error_setc(PG_ENOMEM, "out of memory");
					goto rollback;
				}
				paths = np;
				apaths = na;
			}
			if (!(paths[npaths] = strdup(p ? p : ""))) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto rollback;
			}
			npaths++;
		}
		if (rc < 0 || (error = pg_stmt_reset(files)) < 0) {
			error = rc < 0 ? rc : error;
			goto rollback;
		}
		in.subject = pg_stmt_text(sel, 2);
		/* commits.message is the raw message: the subject paragraph, then the body */
		in.message = pg_cls_message_body(pg_stmt_text(sel, 3));
		in.files = (const char *const *)paths;
		in.nfiles = npaths;
		in.config_built = built;
		if ((error = pg_cls_classify(&r, m, &in)) < 0)
			goto rollback;
		if ((error = pg_stmt_bind_int(ins, 1, id)) < 0 || (error = pg_stmt_bind_text(ins, 2, sha)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 3, ver)) < 0 || (error = pg_stmt_bind_double(ins, 4, r.p_security)) < 0 ||
		    (error = pg_stmt_bind_int(ins, 5, r.label)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 6, pg_cls_bug_class_name(r.bug_class))) < 0 ||
		    (error = pg_stmt_bind_double(ins, 7, r.priority)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 8, pg_cls_level_name(r.level))) < 0 ||
		    (error = pg_stmt_bind_text(ins, 9, r.reasons_json)) < 0 ||
		    (error = pg_stmt_bind_int(ins, 10, (int64_t)time(NULL))) < 0 || (error = pg_stmt_exec(ins)) < 0) {
			pg_cls_result_release(&r);
			goto rollback;
		}
		n++;
		if (r.label) {
			nflag++;
			by_level[r.level]++;
			if (flagged)
				json_array_append_new(flagged, result_json(sha, in.subject, &r, ver));
			else
				print_text(sha, in.subject, &r);
		}
		pg_cls_result_release(&r);
		if (n % 4096 == 0)
			pg_cli_progress(cli, "classified %zu commits", n);
	}
	if (rc < 0) {
		error = rc;
		goto rollback;
	}
	if ((error = pg_store_commit(s)) < 0)
		goto fail;
	pg_cli_progress_done(cli);
	if (flagged) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:O}", "model", ver, "classified", (json_int_t)n,
				      "flagged", (json_int_t)nflag, "by_level", "urgent", (json_int_t)by_level[PG_CLS_URGENT],
				      "high", (json_int_t)by_level[PG_CLS_HIGH], "medium", (json_int_t)by_level[PG_CLS_MEDIUM],
				      "low", (json_int_t)by_level[PG_CLS_LOW], "commits", flagged);
		ret = emit_json(o, cli);
		json_decref(o);
	} else if (!cli->quiet) {
		printf("classified %zu commits with %s: %zu flagged (urgent %zu, high %zu, medium %zu, low %zu)\n", n, ver,
		       nflag, by_level[PG_CLS_URGENT], by_level[PG_CLS_HIGH], by_level[PG_CLS_MEDIUM], by_level[PG_CLS_LOW]);
	}
	goto out;
rollback:
	pg_store_rollback(s);
fail:
	ret = pg_cli_fail(cli, error);
out:
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	json_decref(flagged);
	pg_stmt_free(sel);
	pg_stmt_free(files);
	pg_stmt_free(ins);
	pg_store_free(s);
	return ret;
}

PG_CMD(classify)
{
	struct pg_opt opts[] = { { "all", 0, NULL, 0 }, { "input", 1, NULL, 0 }, { "format", 1, NULL, 0 },
				 { "model", 1, NULL, 0 }, { "config-built", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_cls_model *m = NULL;
	const char *cb;
	int rc, error, built = -1;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((cb = pg_opt_get(opts, "config-built"))) {
		if (!strcmp(cb, "yes") || !strcmp(cb, "1"))
			built = 1;
		else if (!strcmp(cb, "no") || !strcmp(cb, "0"))
			built = 0;
		else {
			pg_cli_error(cli, "--config-built wants yes or no, not '%s'", cb);
			return PG_EXIT_USAGE;
		}
	}
	if (pg_opt_get(opts, "input") && pg_opt_get(opts, "all")) {
		pg_cli_error(cli, "--all applies to the database, not to --input");
		return PG_EXIT_USAGE;
	}
	if ((error = pg_cls_model_open(&m, pg_opt_get(opts, "model"))) < 0)
		return pg_cli_fail(cli, error);
	if (pg_opt_get(opts, "input"))
		rc = classify_input(cli, m, pg_opt_get(opts, "input"), pg_opt_get(opts, "format"), built);
	else
		rc = classify_db(cli, m, pg_opt_get(opts, "all") != NULL, built);
	pg_cls_model_free(m);
	return rc;
}
