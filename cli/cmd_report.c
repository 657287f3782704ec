/*
 * cmd_report.c - `patchgap report`: the patch-gap report (timelines,
 * exposure windows, medians/P90 by priority, bug class, subsystem and
 * branch, open fixes, classifier lead) as text, JSON or a self-contained
 * HTML page.  Input: a list of fix events as JSON (doc/internals/advise.md);
 * once ingest and affect land, the same events come from the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/advise.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/fs.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap [--db FILE] report [--input FILE] [--format text|json|html] [--branch NAME]\n"
	"                       [--as-of DATE] [--out FILE] [--json]\n"
	"\n"
	"The patch-gap report: per tracked branch and security fix, the timeline upstream\n"
	"commit -> first mainline release -> stable release -> commit in the branch ->\n"
	"branch release tag; exposure windows with medians and 90th percentiles by\n"
	"priority, bug class, subsystem and branch; fixes still open and their age; fixes\n"
	"the classifier flagged before their CVE and by how many days.\n"
	"\n"
	"  --input FILE    fix events as JSON (doc/internals/advise.md); without it, the\n"
	"                  database: ingested history, imported CVEs, affectedness engine\n"
	"  --format FMT    text (default), json, or html (one self-contained page with\n"
	"                  SVG charts, no external resources)\n"
	"  --branch NAME   only the fixes of this branch\n"
	"  --as-of DATE    'now' for open-fix ages (default: the latest date in the input)\n"
	"  --out FILE      write there instead of stdout\n"
	"  --json          same as --format json\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 no fix for --branch, 4 malformed input.\n";

PG_CMD(report)
{
	struct pg_opt opts[] = { { "input", 1, NULL, 0 }, { "format", 1, NULL, 0 }, { "branch", 1, NULL, 0 },
				 { "as-of", 1, NULL, 0 }, { "out", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	const char *input, *fmt, *branch, *asof, *outpath;
	pg_report_input in = { 0 };
	pg_report rep = { 0 };
	pg_buf b = PG_BUF_INIT;
	int rc, error, ret = PG_EXIT_OK;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	input = pg_opt_get(opts, "input");
	fmt = cli->json ? "json" : pg_opt_get(opts, "format") ? pg_opt_get(opts, "format") : "text";
	branch = pg_opt_get(opts, "branch");
	asof = pg_opt_get(opts, "as-of");
	outpath = pg_opt_get(opts, "out");
	if (strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "html")) {
		pg_cli_error(cli, "'%s' is not a report format (text, json, html)", fmt);
		return PG_EXIT_USAGE;
	}
	if (input)
		error = pg_report_load_json_file(&in, input);
	else {
		pg_store *store = NULL;
		if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0) {
			ret = rc;
			goto out;
		}
		error = pg_report_load_store(&in, store, branch);
		pg_store_free(store);
	}
	if (error < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (asof && pg_time_parse(&in.as_of, asof) < 0) {
		pg_cli_error(cli, "--as-of: %s", pg_error_last());
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (branch) {
		size_t j = 0;
		for (size_t i = 0; i < in.nfixes; i++) {
			if (!strcmp(in.fixes[i].branch, branch)) {
				pg_report_fix tmp = in.fixes[j];
				in.fixes[j++] = in.fixes[i];
				in.fixes[i] = tmp;
			}
		}
		if (!j) {
			pg_cli_error(cli, "'%s' has no fix for branch '%s'", input ? input : "the database", branch);
			ret = PG_EXIT_NOTFOUND;
			goto out;
		}
		{
			/* release the other branches' fixes (now at the tail) */
			pg_report_input tail = { 0 };
			tail.fixes = malloc((in.nfixes - j + 1) * sizeof(*tail.fixes));
			if (!tail.fixes) {
				ret = pg_cli_fail(cli, pg_error_setc(PG_ENOMEM, "out of memory"));
				goto out;
			}
			memcpy(tail.fixes, &in.fixes[j], (in.nfixes - j) * sizeof(*tail.fixes));
			tail.nfixes = in.nfixes - j;
			in.nfixes = j;
			pg_report_input_release(&tail);
		}
	}
	if ((error = pg_report_compute(&rep, &in)) < 0 ||
	    (error = !strcmp(fmt, "json") ? pg_report_write_json(&b, &rep)
		     : !strcmp(fmt, "html") ? pg_report_write_html(&b, &rep) : pg_report_write_text(&b, &rep)) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (outpath) {
		/* atomically, as advisories: a reader never sees half a report */
		if ((error = pg_fs_write_file_atomic(outpath, b.ptr ? b.ptr : "", b.len)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
	} else
		fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
out:
	pg_buf_release(&b);
	pg_report_release(&rep);
	pg_report_input_release(&in);
	return ret;
}
