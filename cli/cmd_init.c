/*
 * cmd_init.c - `patchgap init`: write a commented starter config and create
 * the database with the current schema.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap [--conf FILE] init [--repository PATH] [--database FILE]\n"
	"\n"
	"Writes a commented starter config (default ./patchgap.conf; never overwrites)\n"
	"and creates the SQLite database it names.  Edit the config to list the\n"
	"branches to track, then run 'patchgap ingest'.\n"
	"\n"
	"  --repository PATH  the kernel git repository (default: .)\n"
	"  --database FILE    the database file (default: patchgap.db beside the config)\n";

PG_CMD(init)
{
	struct pg_opt opts[] = { { "repository", 1, NULL, 0 }, { "database", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
	pg_config *cfg = NULL;
	pg_store *store = NULL;
	int rc, error;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	if ((error = pg_config_write_starter(cli->conf_path,
					     pg_opt_get(opts, "repository") ? pg_opt_get(opts, "repository") : ".",
					     pg_opt_get(opts, "database") ? pg_opt_get(opts, "database") : "patchgap.db")) < 0)
		return pg_cli_fail(cli, error);
	if ((error = pg_config_load(&cfg, cli->conf_path)) < 0 ||
	    (error = pg_store_open(&store, cli->db_path ? cli->db_path : cfg->database, PG_STORE_CREATE)) < 0) {
		pg_config_free(cfg);
		return pg_cli_fail(cli, error);
	}
	if (!cli->quiet)
		printf("wrote %s\ncreated %s\n", cli->conf_path, pg_store_path(store));
	pg_store_free(store);
	pg_config_free(cfg);
	return PG_EXIT_OK;
}
