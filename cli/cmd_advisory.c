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
#include "patchgap/classify.h"
#include "patchgap/cve.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/fs.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap [--db FILE] advisory --format FMT (--id ID | --model FILE | --cve-jsonl FILE --id CVE-ID\n"
	"                                                   | [--since DATE] [--until DATE] [--new])\n"
	"                [--branch NAME] [--out DIR] [--no-record] [--json]\n"
	"\n"
	"Writes a per-branch security advisory.  FMT is cve5 (CVE JSON 5.1.1, kernel CNA\n"
	"style), osv (OSV 1.7), csaf (CSAF 2.0 csaf_vex), openvex (OpenVEX 0.2.0), text\n"
	"(mbox announcement), all (every format; needs --out) or model (the advisory\n"
	"model as JSON, the input form of --model).\n"
	"\n"
	"  --id ID           a CVE id or fix commit from the database: CVE record (cve import)\n"
	"                    and per-branch status from the affectedness engine (ingest)\n"
	"  --since/--until DATE  every CVE of the database whose upstream fix is dated in\n"
	"                    the range (YYYY-MM-DD or ISO 8601); needs --out\n"
	"  --new             every CVE and classifier-flagged silent fix whose document is\n"
	"                    new or changed since its last recorded revision; needs --out\n"
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

/*
 * dir/<id><.ext> (or <id>.<vuln><.ext>): ids come from the database, JSON
 * and the command line, so they go through pg_fs_safe_name; the file is
 * written atomically.  Its path is appended to p->files.
 */
static int write_file(pg_buf *files, int *nfiles, const char *dir, const char *id, const char *vuln,
		      const char *ext, const pg_buf *b)
{
	pg_buf name = PG_BUF_INIT;
	int error;

	if ((error = pg_fs_safe_name(&name, id, strlen(id), vuln ? NULL : ext)) < 0 ||
	    (vuln && ((error = pg_buf_putc(&name, '.')) < 0 ||
		      (error = pg_fs_safe_name(&name, vuln, strlen(vuln), ext)) < 0)))
		goto out;
	if (name.len > PG_FS_NAME_MAX) {
		/* document and vulnerability ids both long: one name for the pair */
		pg_buf whole = PG_BUF_INIT;
		if ((error = pg_buf_printf(&whole, "%s.%s", id, vuln)) == 0) {
			pg_buf_reset(&name);
			error = pg_fs_safe_name(&name, whole.ptr, whole.len, ext);
		}
		pg_buf_release(&whole);
		if (error < 0)
			goto out;
	}
	if ((error = pg_fs_write_atomic(dir, pg_buf_cstr(&name), b->ptr ? b->ptr : "", b->len)) < 0)
		goto out;
	error = pg_buf_printf(files, "%s%s/%s", (*nfiles)++ ? "\n" : "", dir, pg_buf_cstr(&name));
out:
	pg_buf_release(&name);
	return error;
}

/* What one run publishes, shared by every document it writes. */
struct publish {
	struct pg_cli *cli;
	pg_store *store;
	const char *branch, *outdir;
	pg_advise_format formats[PG_ADVISE_NFORMATS];
	size_t nformats;
	int record, only_new;
	pg_buf files;
	int nfiles;
	json_t *summary;   /* array of {document, revision, date, content_hash, files} */
};

/*
 * Write every requested format of one finalized document.  Returns an exit
 * code (PG_EXIT_OK or the failure's).
 */
static int publish_doc(struct publish *p, pg_advise_doc *doc)
{
	pg_buf b = PG_BUF_INIT;
	size_t first_file = p->files.len;
	int error, ret = PG_EXIT_OK;

	if (!p->nformats) {
		if ((error = pg_advise_write_model(&b, doc)) < 0) {
			ret = pg_cli_fail(p->cli, error);
			goto out;
		}
		if (p->outdir) {
			if ((error = write_file(&p->files, &p->nfiles, p->outdir, doc->id, NULL, ".model.json", &b)) < 0) {
				ret = pg_cli_fail(p->cli, error);
				goto out;
			}
		} else
			fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
	}
	for (size_t f = 0; f < p->nformats; f++) {
		int per_vuln = p->formats[f] == PG_ADVISE_CVE5 || p->formats[f] == PG_ADVISE_OSV;
		size_t n = per_vuln ? doc->nvulns : 1;
		if (per_vuln && n > 1 && !p->outdir) {
			pg_cli_error(p->cli, "'%s' holds %zu vulnerabilities: %s writes one file each; give --out DIR",
				     doc->id, n, pg_advise_format_name(p->formats[f]));
			ret = PG_EXIT_USAGE;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			pg_buf_reset(&b);
			if (p->formats[f] == PG_ADVISE_CVE5 && strncmp(doc->vulns[i].id, "CVE-", 4)) {
				if (p->nformats > 1)
					continue; /* --format all: CVE JSON 5 only exists for CVEs */
			}
			if ((error = pg_advise_write(&b, p->formats[f], doc, i)) < 0) {
				ret = pg_cli_fail(p->cli, error);
				goto out;
			}
			if (!p->outdir) {
				fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
				continue;
			}
			if ((error = write_file(&p->files, &p->nfiles, p->outdir, doc->id,
						per_vuln && n > 1 ? doc->vulns[i].id : NULL,
						pg_advise_format_ext(p->formats[f]), &b)) < 0) {
				ret = pg_cli_fail(p->cli, error);
				goto out;
			}
		}
	}
	if (p->outdir) {
		const pg_advise_revision *r = &doc->revisions[doc->nrevisions - 1];
		char date[32];
		json_t *o = json_object(), *fl = json_array();
		const char *q = pg_buf_cstr(&p->files) + first_file + (first_file ? 1 : 0);
		pg_time_iso8601(date, sizeof(date), r->date);
		while (first_file < p->files.len && *q) {
			size_t len = strcspn(q, "\n");
			json_array_append_new(fl, pg_json_stringn(q, len));
			q += len + (q[len] == '\n');
		}
		pg_json_set(o, "document", pg_json_string(doc->id));
		pg_json_set(o, "revision", json_integer(r->number));
		pg_json_set(o, "date", json_string(date));
		pg_json_set(o, "content_hash", pg_json_string(r->content_hash));
		pg_json_set(o, "files", fl);
		json_array_append_new(p->summary, o);
	}
out:
	pg_buf_release(&b);
	return ret;
}

/* Load, finalize (revision ledger) and publish one CVE or fix id from the database. */
static int publish_id(struct publish *p, const char *id, int *published)
{
	pg_advise_doc *doc = NULL;
	int error, ret = PG_EXIT_OK, before;

	*published = 0;
	if ((error = pg_advise_load_store(&doc, p->store, id, p->branch)) < 0) {
		ret = pg_cli_fail(p->cli, error);
		goto out;
	}
	before = pg_advise_latest_revision(p->store, doc->id);
	if ((error = pg_advise_doc_finalize(doc, p->store, p->record)) < 0) {
		ret = pg_cli_fail(p->cli, error);
		goto out;
	}
	/* --new: only documents whose content changed since their last revision */
	if (p->only_new && before && doc->revisions[doc->nrevisions - 1].number <= before)
		goto out;
	*published = 1;
	ret = publish_doc(p, doc);
out:
	pg_advise_doc_free(doc);
	return ret;
}

/* CVE ids (and, with --new, flagged silent fixes) whose upstream fix date is in [since, until]. */
static int select_ids(json_t **out, pg_store *store, int64_t since, int64_t until, int silent)
{
	int error;
	*out = json_array();
	if ((error = pg_cve_fixed_between(*out, store, since, until)) < 0 || !silent)
		return error;
	/* silent fixes the classifier flagged, which no CVE names */
	return pg_cls_store_flagged_silent(*out, store, since, until);
}

PG_CMD(advisory)
{
	struct pg_opt opts[] = { { "format", 1, NULL, 0 }, { "model", 1, NULL, 0 }, { "cve-jsonl", 1, NULL, 0 },
				 { "id", 1, NULL, 0 }, { "branch", 1, NULL, 0 }, { "out", 1, NULL, 0 },
				 { "no-record", 0, NULL, 0 }, { "json", 0, NULL, 0 }, { "since", 1, NULL, 0 },
				 { "until", 1, NULL, 0 }, { "new", 0, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char *fmt, *model, *jsonl, *id, *outdir;
	struct publish p;
	pg_advise_doc *doc = NULL;
	json_t *ids = NULL;
	int64_t since = 0, until = 0;
	int rc, error = 0, ret = PG_EXIT_OK, multi;

	memset(&p, 0, sizeof(p));
	pg_buf_init(&p.files, 0);
	p.cli = cli;
	p.summary = json_array();
	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0) {
		ret = rc;
		goto out;
	}
	fmt = pg_opt_get(opts, "format");
	model = pg_opt_get(opts, "model");
	jsonl = pg_opt_get(opts, "cve-jsonl");
	id = pg_opt_get(opts, "id");
	p.branch = pg_opt_get(opts, "branch");
	p.outdir = outdir = pg_opt_get(opts, "out");
	p.record = !pg_opt_get(opts, "no-record");
	p.only_new = pg_opt_get(opts, "new") != NULL;
	multi = pg_opt_get(opts, "since") || pg_opt_get(opts, "until") || p.only_new;
	if (!fmt) {
		pg_cli_error(cli, "--format is required (cve5, osv, csaf, openvex, text, all)");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (!strcmp(fmt, "model")) {
		p.nformats = 0; /* the model JSON itself, for other tools and tests */
	} else if (!strcmp(fmt, "all")) {
		for (int i = 0; i < PG_ADVISE_NFORMATS; i++)
			p.formats[p.nformats++] = (pg_advise_format)i;
		if (!outdir) {
			pg_cli_error(cli, "--format all writes several files: give --out DIR");
			ret = PG_EXIT_USAGE;
			goto out;
		}
	} else if (pg_advise_format_parse(&p.formats[0], fmt) < 0) {
		pg_cli_error(cli, "%s", pg_error_last());
		ret = PG_EXIT_USAGE;
		goto out;
	} else
		p.nformats = 1;
	if (multi && (model || jsonl || id)) {
		pg_cli_error(cli, "--since/--until/--new select documents from the database: not with --id, --model or --cve-jsonl");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (multi && !outdir) {
		pg_cli_error(cli, "--since/--until/--new write several documents: give --out DIR");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (!multi && ((model && jsonl) || (!model && !jsonl && !id))) {
		pg_cli_error(cli, "give exactly one of --id ID, --model FILE, --cve-jsonl FILE --id CVE-ID, or --since/--until/--new");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (jsonl && !id) {
		pg_cli_error(cli, "--cve-jsonl needs --id CVE-ID");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (model && (id || p.branch)) {
		pg_cli_error(cli, "--id and --branch apply to --cve-jsonl; a model already says what it covers");
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if ((pg_opt_get(opts, "since") && pg_time_parse(&since, pg_opt_get(opts, "since")) < 0) ||
	    (pg_opt_get(opts, "until") && pg_time_parse(&until, pg_opt_get(opts, "until")) < 0)) {
		pg_cli_error(cli, "%s", pg_error_last());
		ret = PG_EXIT_USAGE;
		goto out;
	}
	if (until && strlen(pg_opt_get(opts, "until")) == 10)
		until += 86399; /* a date means the whole day */

	/* The ledger (and the source for --id): an explicit --db (created if new when it is
	 * only the ledger), else the config's database if there is a config. */
	if (cli->db_path || access(cli->conf_path, R_OK) == 0 || (!model && !jsonl)) {
		if ((rc = pg_cli_open_store(&p.store, cli, cli->db_path && (model || jsonl) ? PG_STORE_CREATE : 0)) > 0) {
			ret = rc;
			goto out;
		}
	}
	if (outdir && mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		pg_cli_error(cli, "cannot create '%s': %s", outdir, strerror(errno));
		ret = PG_EXIT_ERROR;
		goto out;
	}
	if (multi) {
		size_t i, n = 0;
		json_t *v;
		if ((error = select_ids(&ids, p.store, since, until, p.only_new)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		json_array_foreach(ids, i, v) {
			int published;
			pg_cli_progress(cli, "advisory: %zu/%zu", i + 1, json_array_size(ids));
			if ((rc = publish_id(&p, json_string_value(v), &published)) != PG_EXIT_OK) {
				ret = rc;
				break;
			}
			n += published;
		}
		pg_cli_progress_done(cli);
		if (!cli->quiet && !cli->json)
			fprintf(stderr, "%zu of %zu documents %s\n", n, json_array_size(ids),
				p.only_new ? "were new or changed" : "written");
	} else if (model || jsonl) {
		error = model ? pg_advise_load_json_file(&doc, model) : pg_advise_load_cna_file(&doc, jsonl, id, p.branch);
		if (error < 0 || (error = pg_advise_doc_finalize(doc, p.store, p.record)) < 0) {
			ret = pg_cli_fail(cli, error);
			goto out;
		}
		ret = publish_doc(&p, doc);
	} else {
		int published;
		ret = publish_id(&p, id, &published);
	}
	if (ret == PG_EXIT_OK && outdir && !cli->quiet) {
		size_t i;
		json_t *o;
		if (cli->json)
			pg_json_print(stdout, multi ? p.summary : json_array_get(p.summary, 0), 0);
		else
			json_array_foreach(p.summary, i, o) {
				size_t k;
				json_t *f;
				pg_cli_put_safe(stdout, json_string_value(json_object_get(o, "document")));
				printf(" revision %lld (%s)\n", (long long)json_integer_value(json_object_get(o, "revision")),
				       json_string_value(json_object_get(o, "date")));
				json_array_foreach(json_object_get(o, "files"), k, f)
					printf("%s\n", json_string_value(f));
			}
	}
out:
	json_decref(ids);
	json_decref(p.summary);
	pg_buf_release(&p.files);
	pg_advise_doc_free(doc);
	pg_store_free(p.store);
	return ret;
}
