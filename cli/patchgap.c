/*
 * patchgap.c - the `patchgap <verb>` dispatcher (git.c's command table).
 *
 * Global options come before the verb: --conf FILE (default
 * $PATCHGAP_CONFIG, then ./patchgap.conf), --db FILE, --quiet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>
#include "cli.h"
#include "commands.h"
#include "util/banned.h"

static const struct cmd {
	const char *name;
	int (*fn)(int, const char **, struct pg_cli *);
	const char *help;
} commands[] = {
#define PG_COMMAND(name, help) { #name, cmd_##name, help },
#include "commands.def"
#undef PG_COMMAND
	{ NULL, NULL, NULL }
};

static void usage(FILE *f)
{
	fprintf(f, "usage: patchgap [--conf FILE] [--db FILE] [--quiet] <verb> [options]\n\n"
		   "Tracks Linux kernel security fixes across mainline, stable and vendor trees.\n\nverbs:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
	fprintf(f, "\n'patchgap <verb> --help' describes a verb; doc/patchgap.1.md has the reference.\n"
		   "Exit status: 0 ok, 1 error, 2 usage, 3 not found, 4 bad input, 5 policy matched.\n");
}

int main(int argc, const char **argv)
{
	struct pg_cli cli = { 0 };
	int i, rc;
	const char *env;

	cli.conf_path = (env = getenv("PATCHGAP_CONFIG")) && *env ? env : "patchgap.conf";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--conf") && i + 1 < argc)
			cli.conf_path = argv[++i];
		else if (!strncmp(argv[i], "--conf=", 7))
			cli.conf_path = argv[i] + 7;
		else if (!strcmp(argv[i], "--db") && i + 1 < argc)
			cli.db_path = argv[++i];
		else if (!strncmp(argv[i], "--db=", 5))
			cli.db_path = argv[i] + 5;
		else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			cli.quiet = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return PG_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("patchgap %s\n", PG_VERSION);
			return PG_EXIT_OK;
		} else {
			fprintf(stderr, "patchgap: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return PG_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return PG_EXIT_USAGE;
	}
	cli.progress = !cli.quiet && isatty(2);
	for (const struct cmd *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[i])) {
			cli.verb = c->name;
			git_libgit2_init();
			rc = c->fn(argc - i, argv + i, &cli);
			free(cli.rest_alloc);
			git_libgit2_shutdown();
			return rc;
		}
	}
	fprintf(stderr, "patchgap: '%s' is not a patchgap verb (see patchgap --help)\n", argv[i]);
	return PG_EXIT_USAGE;
}
