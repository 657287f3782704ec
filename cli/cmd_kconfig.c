/*
 * cmd_kconfig.c - `patchgap kconfig`: is this code compiled under this
 * .config?  Per path (built-in / module / not built / possibly built, with
 * the Makefile lines and CONFIG symbols that decided it) and, with --diff,
 * per hunk of a patch (the enclosing #if conditions), as VEX verdicts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/kconfig.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap kconfig --config FILE (--tree DIR | --repo PATH [--rev REV])\n"
	"                        [--diff PATCHFILE] [--warnings] [--json] [PATH...]\n"
	"\n"
	"Evaluates the tree's Kbuild files for the .config and prints, for each PATH,\n"
	"whether it is compiled (built-in, module, not-built, possibly) with the chain of\n"
	"Makefile lines and CONFIG symbols that decided it.  With --diff, judges every\n"
	"file and hunk of the patch (a unified diff, '-' for stdin): a hunk inside an\n"
	"#if that is false under the config is 'disabled'.  Verdicts are VEX statuses:\n"
	"not_affected (code_not_present / vulnerable_code_not_in_execute_path),\n"
	"affected, under_investigation.\n"
	"\n"
	"  --config FILE   the kernel .config\n"
	"  --tree DIR      the kernel source tree (a directory)\n"
	"  --repo PATH     read the tree from this git repository instead...\n"
	"  --rev REV       ...at this commit (default HEAD)\n"
	"  --diff FILE     a patch to judge hunk by hunk\n"
	"  --warnings      also print the Kbuild syntax warnings (file:line)\n"
	"  --json          machine-readable output\n"
	"\n"
	"Exit status: 0 done (whatever the verdicts), 1 I/O or repository error,\n"
	"2 usage, 3 repository or revision not found, 4 the config is not a .config\n"
	"or the patch is not a unified diff.\n";

static void print_reason(const char *indent, const char *r)
{
	while (r && *r) {
		const char *nl = strchr(r, '\n');
		int n = nl ? (int)(nl - r) : (int)strlen(r);
		printf("%s%.*s\n", indent, n, r);
		r = nl ? nl + 1 : r + n;
	}
}

static void print_file_text(const pg_kfile_verdict *v, int with_hunks)
{
	printf("%s\t%s\t%s%s%s\n", v->path, pg_kbuild_state_name(v->build), pg_vex_status_name(v->status),
	       v->justification ? "/" : "", pg_vex_justification_name(v->justification));
	print_reason("    ", v->build_reason);
	if (!with_hunks)
		return;
	for (size_t i = 0; i < v->nhunks; i++) {
		const pg_khunk_verdict *h = &v->hunks[i];
		printf("  @@ -%u,%u +%u,%u @@ ", h->old_start, h->old_count, h->new_start, h->new_count);
		if (h->line)
			printf("at line %u: ", h->line);
		printf("%s\n", pg_kcond_name(h->cond));
		if (h->evidence)
			print_reason("      ", h->evidence);
	}
}

static int add_json(json_t *arr_or_obj, const char *key, const pg_buf *b)
{
	json_error_t jerr;
	json_t *v = json_loads(pg_buf_cstr(b), 0, &jerr);
	if (!v)
		return -1;
	if (key)
		return json_object_set_new(arr_or_obj, key, v);
	return json_array_append_new(arr_or_obj, v);
}

PG_CMD(kconfig)
{
	struct pg_opt opts[] = {
		{ "config", 1, NULL, 0 }, { "tree", 1, NULL, 0 }, { "repo", 1, NULL, 0 }, { "rev", 1, NULL, 0 },
		{ "diff", 1, NULL, 0 }, { "warnings", 0, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 },
	};
	const char **rest = NULL;
	int nrest = 0, rc, error = 0, ret = PG_EXIT_OK;
	pg_kconfig *cfg = NULL;
	pg_ktree tree = { NULL, NULL, NULL };
	pg_kbuild *kb = NULL;
	pg_buf patch = PG_BUF_INIT, js = PG_BUF_INIT;
	pg_kpatch_verdict pv;
	json_t *root = NULL, *paths = NULL;
	const char *conf, *dir, *repo, *diff;

	memset(&pv, 0, sizeof(pv));
	if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return rc;
	conf = pg_opt_get(opts, "config");
	dir = pg_opt_get(opts, "tree");
	repo = pg_opt_get(opts, "repo");
	diff = pg_opt_get(opts, "diff");
	if (!conf) {
		pg_cli_error(cli, "--config FILE is required (see --help)");
		return PG_EXIT_USAGE;
	}
	if (!dir == !repo) {
		pg_cli_error(cli, "give exactly one of --tree DIR or --repo PATH (see --help)");
		return PG_EXIT_USAGE;
	}
	if (pg_opt_get(opts, "rev") && !repo) {
		pg_cli_error(cli, "--rev needs --repo");
		return PG_EXIT_USAGE;
	}
	if (!nrest && !diff) {
		pg_cli_error(cli, "nothing to judge: give PATHs and/or --diff PATCHFILE (see --help)");
		return PG_EXIT_USAGE;
	}
	if ((error = pg_kconfig_load(&cfg, conf)) < 0)
		goto fail;
	if (dir)
		error = pg_ktree_dir(&tree, dir);
	else
		error = pg_ktree_git(&tree, repo, pg_opt_get(opts, "rev") ? pg_opt_get(opts, "rev") : "HEAD");
	if (error < 0)
		goto fail;
	if (dir) {
		/* a directory that is not a kernel tree would silently mean "nothing is built" */
		pg_buf probe = PG_BUF_INIT;
		int e1 = tree.read(&probe, "Makefile", tree.payload);
		pg_buf_release(&probe);
		if (e1 == PG_ENOTFOUND) {
			pg_error_setc(PG_EINVALID, "'%s' is not a kernel tree: it has no top-level Makefile", dir);
			error = PG_EINVALID;
			goto fail;
		}
	}
	if (diff) {
		pg_buf_init(&patch, (size_t)256 << 20);
		if ((error = pg_buf_read_file(&patch, diff)) < 0)
			goto fail;
	}
	pg_cli_progress(cli, "evaluating Kbuild files...");
	if ((error = pg_kbuild_eval(&kb, &tree, cfg)) < 0)
		goto fail;
	pg_cli_progress_done(cli);
	if (diff && (error = pg_kconfig_diff(&pv, kb, &tree, cfg, pg_buf_cstr(&patch), patch.len)) < 0) {
		pg_error_prefix("%s", diff);
		goto fail;
	}
	if (cli->json) {
		root = json_object();
		paths = json_array();
		json_object_set_new(root, "config", json_string(conf));
		json_object_set_new(root, "srcarch", json_string(pg_kbuild_srcarch(kb)));
		json_object_set_new(root, "directories", json_integer((json_int_t)pg_kbuild_dir_count(kb)));
		json_object_set_new(root, "warning_count", json_integer((json_int_t)pg_kbuild_warning_count(kb)));
		if (pg_opt_get(opts, "warnings")) {
			json_t *w = json_array();
			for (size_t i = 0; i < pg_kbuild_warning_count(kb); i++)
				json_array_append_new(w, json_string(pg_kbuild_warning(kb, i)));
			json_object_set_new(root, "warnings", w);
		}
	} else if (pg_opt_get(opts, "warnings")) {
		for (size_t i = 0; i < pg_kbuild_warning_count(kb); i++)
			fprintf(stderr, "warning: %s\n", pg_kbuild_warning(kb, i));
	}
	for (int i = 0; i < nrest; i++) {
		pg_kfile_verdict fv;
		if ((error = pg_kconfig_path(&fv, kb, rest[i])) < 0)
			goto fail;
		if (cli->json) {
			pg_buf_reset(&js);
			if ((error = pg_kfile_verdict_json(&js, &fv)) < 0 || add_json(paths, NULL, &js) < 0) {
				pg_kfile_verdict_release(&fv);
				error = error < 0 ? error : pg_error_setc(PG_ENOMEM, "out of memory");
				goto fail;
			}
		} else
			print_file_text(&fv, 0);
		pg_kfile_verdict_release(&fv);
	}
	if (diff) {
		if (cli->json) {
			pg_buf_reset(&js);
			if ((error = pg_kpatch_verdict_json(&js, &pv)) < 0 || add_json(root, "patch", &js) < 0) {
				error = error < 0 ? error : pg_error_setc(PG_ENOMEM, "out of memory");
				goto fail;
			}
		} else {
			printf("patch\t%s%s%s\n", pg_vex_status_name(pv.status), pv.justification ? "/" : "",
			       pg_vex_justification_name(pv.justification));
			print_reason("    ", pv.evidence);
			for (size_t i = 0; i < pv.nfiles; i++)
				print_file_text(&pv.files[i], 1);
		}
	}
	if (cli->json) {
		char *s;
		json_object_set_new(root, "paths", paths);
		paths = NULL;
		s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	}
	goto out;
fail:
	ret = pg_cli_fail(cli, error);
out:
	json_decref(root);
	json_decref(paths);
	pg_kpatch_verdict_release(&pv);
	pg_buf_release(&patch);
	pg_buf_release(&js);
	pg_kbuild_free(kb);
	pg_ktree_release(&tree);
	pg_kconfig_free(cfg);
	return ret;
}
