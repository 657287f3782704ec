/*
 * cli.h - shared pieces of the command-line front end.
 *
 * Every verb lives in cmd_<verb>.c as
 *     int cmd_<verb>(int argc, const char **argv, struct pg_cli *cli);
 * and is listed once in patchgap.c's table.  Verbs return an exit code
 * (see PG_EXIT_*); they print errors with pg_cli_error(), which prefixes
 * "patchgap <verb>: " and the library's message.
 */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdio.h>
#include "patchgap/common.h"
#include "patchgap/config.h"
#include "patchgap/store.h"

/* Exit codes: keep in sync with doc/patchgap.1.md "EXIT STATUS". */
enum {
	PG_EXIT_OK = 0,
	PG_EXIT_ERROR = 1,     /* runtime failure (I/O, repository, database) */
	PG_EXIT_USAGE = 2,     /* bad command line */
	PG_EXIT_NOTFOUND = 3,  /* the commit/CVE/branch asked for is unknown */
	PG_EXIT_INPUT = 4,     /* malformed input file or data */
	PG_EXIT_POLICY = 5,    /* a --fail-on policy matched (status) */
};

struct pg_cli {
	const char *verb;
	const char *conf_path;   /* --conf or PATCHGAP_CONFIG or ./patchgap.conf */
	const char *db_path;     /* --db overrides the config's database */
	int json;                /* --json */
	int quiet;
	int progress;            /* stderr is a terminal and not --quiet */
	const char **rest_alloc; /* owned: positional args kept by pg_cli_parse, freed by main */
	int in_job;              /* run by `patchgap worker`: the result goes to job_results */
};

void pg_cli_error(const struct pg_cli *cli, const char *fmt, ...) PG_PRINTF(2, 3);
/* Map a library error code to an exit code. */
int pg_cli_exit_code(int error);
/* Print the library's last error for a failed call and return the exit code. */
int pg_cli_fail(const struct pg_cli *cli, int error);

/* Load the config (cli->conf_path); on error prints and returns exit code > 0. */
int pg_cli_load_config(pg_config **out, struct pg_cli *cli);
/* flags plus PG_STORE_NO_CHECK when PATCHGAP_STORE_CHECK=0. */
unsigned pg_cli_store_flags(unsigned flags);
/* Open the database named by --db, or by the config.  flags: PG_STORE_*. */
int pg_cli_open_store(pg_store **out, struct pg_cli *cli, unsigned flags);

/*
 * The repository whose diffs `classify` and `explain` score ingested
 * commits with: core.repository of the config, unless no_diffs
 * (--no-diffs), [classify] diffs = false or there is no config file (*out
 * NULL: the no-diff head, as before).  A repository that cannot be opened
 * is NULL too, with a one-line note on stderr when the config asked for
 * diffs explicitly.  Returns 0, or an exit code > 0 (bad config, printed).
 * Free with pg_cli_free_diff_repo.
 */
struct git_repository;
int pg_cli_open_diff_repo(struct git_repository **out, struct pg_cli *cli, int no_diffs);
void pg_cli_free_diff_repo(struct git_repository *repo);

/*
 * Minimal long-option parser.  Options: "--name" flags and "--name VALUE" /
 * "--name=VALUE".  Usage:
 *     struct pg_opt opts[] = { {"json", 0, NULL}, {"since", 1, NULL}, {0} };
 *     if ((rc = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0) return rc;
 * Returns -1 to continue; >= 0 is an exit code (help printed, or usage error).
 * --help / -h print usage to stdout and return 0.  --json sets cli->json.
 */
struct pg_opt {
	const char *name;
	int has_arg;
	const char *value;   /* out: the value, or "1" for a flag; NULL if absent */
	int count;           /* out: times seen */
};
int pg_cli_parse(struct pg_cli *cli, int argc, const char **argv, struct pg_opt *opts,
		 const char ***rest, int *nrest, const char *usage);
const char *pg_opt_get(const struct pg_opt *opts, const char *name);

/* Print s with every control byte shown as '?' (text from input: ids, subjects). */
void pg_cli_put_safe(FILE *f, const char *s);
/*
 * s for printf: control bytes shown as '?', cut at 1,000 bytes ("...").
 * The result lives in one of 8 rotating static buffers: up to 8 per call.
 */
const char *pg_cli_safe(const char *s);

/* Progress line on stderr (only when cli->progress); "\r"-updated. */
void pg_cli_progress(const struct pg_cli *cli, const char *fmt, ...) PG_PRINTF(2, 3);
void pg_cli_progress_done(const struct pg_cli *cli);

#define PG_CMD(name) int cmd_##name(int argc, const char **argv, struct pg_cli *cli)

#include "commands.h"

#endif
