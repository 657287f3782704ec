/*
 * cmd_advisory.c - `patchgap advisory`: build an advisory model (from a
 * model JSON file or a kernel CNA record), give it its revision from the
 * database ledger when there is one, and write it in one or all formats to
 * stdout or to files in --out DIR (written to a temporary name and renamed,
 * so a reader never sees half a document).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/advise.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap [--db FILE] advisory --format FMT (--id ID | --model FILE | --cve-jsonl FILE --id CVE-ID)\n"
	"                [--branch NAME] [--out DIR] [--no-record] [--json]\n"
	"\n"
	"Writes a per-branch security advisory.  FMT is cve5 (CVE JSON 5.1.1, kernel CNA\n"
	"style), osv (OSV 1.7), csaf (CSAF 2.0 csaf_vex), openvex (OpenVEX 0.2.0), text\n"
	"(mbox announcement), all (every format; needs --out) or model (the advisory\n"
	"model as JSON, the input form of --model).\n"
	"\n"
	"  --id ID           a CVE id or fix commit from the database: CVE record (cve import)\n"
	"                    and per-branch status from the affectedness engine (ingest)\n"
	"  --model FILE      the advisory model as JSON (doc/internals/advise.md)\n"
	"  --cve-jsonl FILE  kernel CNA records (kernel-cves.jsonl[.gz]); with --id\n"
	"                    (with --id: the CVE to publish from that file)\n"
	"  --branch NAME     scope the advisory to one branch (6.1, linux-6.1.y, mainline,\n"
	"                    or a vendor branch such as debian-6.1)\n"
	"  --out DIR         write <document id><.ext> files into DIR (created if missing)\n"
	"  --no-record       do not record a new revision in the database\n"
	"  --json            print a JSON summary (document, revision, files)\n"
	"\n"
	"Revisions: when a database is available (--db, or the config's), the document's\n"
	"revision history is kept there: unchanged input gives byte-identical output, a\n"
	"change gives the next revision under the same document id.  Without a database\n"
	"every document is revision 1.  Timestamps come from the data, never the clock.\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 CVE not found, 4 malformed input.\n";

static int write_file(const char *dir, const char *name, const pg_buf *b)
{
	char path[4096], tmp[4200];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "wb")))
		return pg_error_setc(PG_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	if (fwrite(b->ptr ? b->ptr : "", 1, b->len, f) != b->len || fclose(f) != 0) {
		remove(tmp);
		return pg_error_setc(PG_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) < 0) {
		remove(tmp);
		return pg_error_setc(PG_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
	}
	return 0;
}

PG_CMD(advisory)
{
	struct pg_opt opts[] = { { "format", 1, NULL, 0 }, { "model", 1, NULL, 0 }, { "cve-jsonl", 1, NULL, 0 },
				 { "id", 1, NULL, 0 }, { "branch", 1, NULL, 0 }, { "out", 1, NULL, 0 },
				 { "no-record", 0, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char *fmt, *model, *jsonl, *id, *branch, *outdir;
	pg_advise_format formats[PG_ADVISE_NFORMATS];
	size_t nformats = 0;
	pg_advise_doc *doc = NULL;
	pg_store *store = NULL;
	pg_buf b = PG_BUF_INIT, files = PG_BUF_INIT;
	int rc, error = 0, ret = PG_EXIT_OK, nfiles = 0;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	fmt = pg_opt_get(opts, "format");
	model = pg_opt_get(opts, "model");
	jsonl = pg_opt_get(opts, "cve-jsonl");
	id = pg_opt_get(opts, "id");
	branch = pg_opt_get(opts, "branch");
	outdir = pg_opt_get(opts, "out");
	if (!fmt) {
		pg_cli_error(cli, "--format is required (cve5, osv, csaf, openvex, text, all)");
		return PG_EXIT_USAGE;
	}
	if (!strcmp(fmt, "model")) {
		nformats = 0; /* the model JSON itself, for other tools and tests */
	} else if (!strcmp(fmt, "all")) {
		for (int i = 0; i < PG_ADVISE_NFORMATS; i++)
			formats[nformats++] = (pg_advise_format)i;
		if (!outdir) {
			pg_cli_error(cli, "--format all writes several files: give --out DIR");
			return PG_EXIT_USAGE;
		}
	} else if (pg_advise_format_parse(&formats[0], fmt) < 0) {
		pg_cli_error(cli, "%s", pg_error_last());
		return PG_EXIT_USAGE;
	} else
		nformats = 1;
	if ((model && jsonl) || (!model && !jsonl && !id)) {
		pg_cli_error(cli, "give exactly one of --id ID, --model FILE or --cve-jsonl FILE --id CVE-ID");
		return PG_EXIT_USAGE;
	}
	if (jsonl && !id) {
		pg_cli_error(cli, "--cve-jsonl needs --id CVE-ID");
		return PG_EXIT_USAGE;
	}
	if (model && (id || branch)) {
		pg_cli_error(cli, "--id and --branch apply to --cve-jsonl; a model already says what it covers");
		return PG_EXIT_USAGE;
	}

	/* The ledger (and the source for --id): an explicit --db (created if new when it is
	 * only the ledger), else the config's database if there is a config. */
	if (cli->db_path || access(cli->conf_path, R_OK) == 0 || (!model && !jsonl)) {
		if ((rc = pg_cli_open_store(&store, cli, cli->db_path && (model || jsonl) ? PG_STORE_CREATE : 0)) > 0) {
			ret = rc;
			goto out;
		}
	}
	if (model)
		error = pg_advise_load_json_file(&doc, model);
	else if (jsonl)
		error = pg_advise_load_cna_file(&doc, jsonl, id, branch);
	else
		error = pg_advise_load_store(&doc, store, id, branch);
	if (error < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if ((error = pg_advise_doc_finalize(doc, store, !pg_opt_get(opts, "no-record"))) < 0) {
		ret = pg_cli_fail(cli, error);
		goto out;
	}
	if (outdir && mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		pg_cli_error(cli, "cannot create '%s': %s", outdir, strerror(errno));
		ret = PG_EXIT_ERROR;
		goto out;
	}
	if (!nformats) {
		if ((error = pg_advise_write_model(&b, doc)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		if (outdir) {
			char name[1024];
			snprintf(name, sizeof(name), "%s.model.json", doc->id);
			if ((error = write_file(outdir, name, &b)) < 0 ||
			    (error = pg_buf_printf(&files, "%s/%s", outdir, name)) < 0) {
				ret = pg_cli_fail(cli, error);
				goto out;
			}
			nfiles++;
		} else
			fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
	}
	for (size_t f = 0; f < nformats; f++) {
		int per_vuln = formats[f] == PG_ADVISE_CVE5 || formats[f] == PG_ADVISE_OSV;
		size_t n = per_vuln ? doc->nvulns : 1;
		if (per_vuln && n > 1 && !outdir) {
			pg_cli_error(cli, "'%s' holds %zu vulnerabilities: %s writes one file each; give --out DIR",
				     doc->id, n, pg_advise_format_name(formats[f]));
			ret = PG_EXIT_USAGE;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			char name[1024];
			pg_buf_reset(&b);
			if (formats[f] == PG_ADVISE_CVE5 && strncmp(doc->vulns[i].id, "CVE-", 4)) {
				if (nformats > 1)
					continue; /* --format all: CVE JSON 5 only exists for CVEs */
			}
			if ((error = pg_advise_write(&b, formats[f], doc, i)) < 0) {
				ret = pg_cli_fail(cli, error);
				goto out;
			}
			if (!outdir) {
				fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
				continue;
			}
			if (per_vuln && n > 1)
				snprintf(name, sizeof(name), "%s.%s%s", doc->id, doc->vulns[i].id,
					 pg_advise_format_ext(formats[f]));
			else
				snprintf(name, sizeof(name), "%s%s", doc->id, pg_advise_format_ext(formats[f]));
			if ((error = write_file(outdir, name, &b)) < 0) {
				ret = pg_cli_fail(cli, error);
				goto out;
			}
			if (pg_buf_printf(&files, "%s%s/%s", nfiles++ ? "\n" : "", outdir, name) < 0) {
				ret = pg_cli_fail(cli, PG_ENOMEM);
				goto out;
			}
		}
	}
	if (outdir && !cli->quiet) {
		const pg_advise_revision *r = &doc->revisions[doc->nrevisions - 1];
		char date[32];
		pg_time_iso8601(date, sizeof(date), r->date);
		if (cli->json) {
			const char *p = pg_buf_cstr(&files);
			pg_buf j = PG_BUF_INIT;
			int e = pg_buf_puts(&j, "{\"document\": ") < 0 || pg_buf_put_json_str(&j, doc->id) < 0 ||
				pg_buf_printf(&j, ", \"revision\": %d, \"date\": \"%s\", \"content_hash\": ", r->number, date) < 0 ||
				pg_buf_put_json_str(&j, r->content_hash) < 0 || pg_buf_puts(&j, ", \"files\": [") < 0;
			for (int k = 0; !e && *p; k++) {
				const char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);
				char *one = strndup(p, len);
				e |= !one || pg_buf_puts(&j, k ? ", " : "") < 0 || pg_buf_put_json_str(&j, one) < 0;
				free(one);
				p += len + (nl ? 1 : 0);
			}
			if (!e && pg_buf_puts(&j, "]}\n") == 0)
				fputs(pg_buf_cstr(&j), stdout);
			pg_buf_release(&j);
		} else {
			printf("%s revision %d (%s)\n%s\n", doc->id, r->number, date, pg_buf_cstr(&files));
		}
	}
out:
	pg_buf_release(&b);
	pg_buf_release(&files);
	pg_advise_doc_free(doc);
	pg_store_free(store);
	return ret;
}
