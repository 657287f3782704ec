/*
 * cmd_db.c - `patchgap db`: move a database between backends and compare.
 *
 *   db copy --from X --to Y   every row of X into the empty database Y (a
 *                             SQLite file or a PostgreSQL connection string
 *                             each), in one transaction of Y: a user grows
 *                             from SQLite to PostgreSQL without re-ingesting
 *   db dump                   the sorted dump of the database (--db or the
 *                             config): identical for the same content on
 *                             both backends, so two dumps can be diffed
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap db copy --from DATABASE --to DATABASE [--json]\n"
	"       patchgap [--db DATABASE] db dump\n"
	"\n"
	"copy: copies every table of --from into --to, which is created (or\n"
	"migrated) first and must hold no rows yet.  Either side is a SQLite file\n"
	"or a PostgreSQL connection string (postgresql://user@host/db,\n"
	"postgres://..., or libpq words 'host=... dbname=...').  Nothing is written\n"
	"to --to unless the whole copy succeeds.\n"
	"dump: every row of every table as sorted text lines 'table|\"v1\"|\"v2\"...'\n"
	"(NULL as \"\\\\N\"); the same content dumps the same on both backends.\n"
	"\n"
	"Exit status: 0 ok, 1 error (database, connection), 2 usage,\n"
	"3 --from does not exist, 4 --to is not empty or not a patchgap database.\n";

static int do_copy(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { "from", 1, NULL, 0 }, { "to", 1, NULL, 0 }, { "json", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	pg_store *from = NULL, *to = NULL;
	const char *f, *t;
	int64_t rows = 0;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	f = pg_opt_get(opts, "from");
	t = pg_opt_get(opts, "to");
	if (!f || !t || !*f || !*t) {
		pg_cli_error(cli, "both --from and --to are required");
		return PG_EXIT_USAGE;
	}
	if (!strcmp(f, t)) {
		pg_cli_error(cli, "--from and --to name the same database '%s'", pg_cli_safe(f));
		return PG_EXIT_USAGE;
	}
	/* the source is opened for writing so that it is migrated to this version's schema */
	if ((error = pg_store_open(&from, f, pg_cli_store_flags(0))) < 0 ||
	    (error = pg_store_open(&to, t, pg_cli_store_flags(PG_STORE_CREATE))) < 0 ||
	    (error = pg_store_lock(to, "copy")) < 0 ||
	    (error = pg_store_copy(to, from, &rows)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	if (cli->json)
		printf("{\n  \"from\": \"%s\",\n  \"rows\": %lld,\n  \"to\": \"%s\"\n}\n",
		       pg_store_backend(from), (long long)rows, pg_store_backend(to));
	else if (!cli->quiet)
		printf("copied %lld rows from %s to %s\n", (long long)rows,
		       pg_cli_safe(pg_store_path(from)), pg_cli_safe(pg_store_path(to)));
	rc = PG_EXIT_OK;
out:
	pg_store_free(from);
	pg_store_free(to);
	return rc;
}

static void emit_line(const char *line, void *payload)
{
	fputs(line, payload);
	fputc('\n', payload);
}

static int do_dump(struct pg_cli *cli, int argc, const char **argv)
{
	struct pg_opt opts[] = { { NULL, 0, NULL, 0 } };
	pg_store *store = NULL;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		return rc;
	error = pg_store_dump(store, emit_line, stdout);
	rc = error < 0 ? pg_cli_fail(cli, error) : PG_EXIT_OK;
	pg_store_free(store);
	return rc;
}

PG_CMD(db)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	if (!strcmp(argv[1], "copy"))
		return do_copy(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return do_dump(cli, argc - 1, argv + 1);
	pg_cli_error(cli, "'%s' is not a db subcommand (copy, dump; see --help)", argv[1]);
	return PG_EXIT_USAGE;
}
