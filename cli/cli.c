/*
 * cli.c - option parsing, error printing and store/config opening shared by
 * every verb.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>
#include "cli.h"
#include "util/banned.h"

/*
 * Messages quote input (ids, paths, option values): control bytes are shown
 * as '?' and the message is cut at 2 KB, so no input can drive the terminal
 * or flood stderr.
 */
void pg_cli_error(const struct pg_cli *cli, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "patchgap %s: ", cli->verb ? cli->verb : "");
	pg_cli_put_safe(stderr, msg);
	fputc('\n', stderr);
}

int pg_cli_exit_code(int error)
{
	switch (error) {
	case 0: return PG_EXIT_OK;
	case PG_ENOTFOUND: return PG_EXIT_NOTFOUND;
	case PG_EINVALID: return PG_EXIT_INPUT;
	case PG_EAMBIGUOUS: return PG_EXIT_INPUT;
	default: return PG_EXIT_ERROR;
	}
}

int pg_cli_fail(const struct pg_cli *cli, int error)
{
	pg_cli_error(cli, "%s", *pg_error_last() ? pg_error_last() : "failed");
	return pg_cli_exit_code(error);
}

int pg_cli_load_config(pg_config **out, struct pg_cli *cli)
{
	int error = pg_config_load(out, cli->conf_path);
	return error < 0 ? pg_cli_fail(cli, error) : 0;
}

unsigned pg_cli_store_flags(unsigned flags)
{
	const char *e = getenv("PATCHGAP_STORE_CHECK");
	return e && !strcmp(e, "0") ? flags | PG_STORE_NO_CHECK : flags;
}

int pg_cli_open_store(pg_store **out, struct pg_cli *cli, unsigned flags)
{
	pg_config *cfg = NULL;
	int error;
	const char *path = cli->db_path;

	if (!path) {
		if ((error = pg_cli_load_config(&cfg, cli)) > 0)
			return error;
		path = cfg->database;
	}
	error = pg_store_open(out, path, pg_cli_store_flags(flags));
	pg_config_free(cfg);
	return error < 0 ? pg_cli_fail(cli, error) : 0;
}

int pg_cli_open_diff_repo(struct git_repository **out, struct pg_cli *cli, int no_diffs)
{
	pg_config *cfg = NULL;
	int rc;

	*out = NULL;
	if (no_diffs || !cli->conf_path || access(cli->conf_path, F_OK) < 0)
		return 0; /* no config: no repository, scored as before diffs were read */
	if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
		return rc;
	if (cfg->classify_diffs) {
		git_libgit2_init();
		if (git_repository_open_ext(out, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			const git_error *e = git_error_last();
			*out = NULL;
			/* a default that cannot apply stays silent; an explicit request is answered */
			if (cfg->classify_diffs_set && !cli->quiet)
				fprintf(stderr, "patchgap %s: note: cannot open core.repository '%s' (%s): scoring without diffs\n",
					cli->verb, cfg->repository, e && e->message ? e->message : "not a git repository");
			git_error_clear();
		}
	}
	pg_config_free(cfg);
	return 0;
}

void pg_cli_free_diff_repo(struct git_repository *repo)
{
	if (repo) {
		git_repository_free(repo);
		git_libgit2_shutdown();
	}
}

void pg_cli_put_safe(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

const char *pg_cli_safe(const char *s)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];
	size_t i = 0;

	if (!s)
		return NULL;
	for (; s[i] && i < 1000; i++)
		b[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i])
		memcpy(b + i, "...", 4);
	else
		b[i] = '\0';
	return b;
}

const char *pg_opt_get(const struct pg_opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts->value;
	return NULL;
}

int pg_cli_parse(struct pg_cli *cli, int argc, const char **argv, struct pg_opt *opts,
		 const char ***rest, int *nrest, const char *usage)
{
	static const char *none[1];
	const char **r = calloc((size_t)argc + 1, sizeof(char *));
	int nr = 0, only_args = 0;

	if (!r)
		return PG_EXIT_ERROR;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		struct pg_opt *o;
		size_t nlen;
		const char *eq;

		if (only_args || a[0] != '-' || !strcmp(a, "-")) {
			r[nr++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			free(r);
			return PG_EXIT_OK;
		}
		if (!strcmp(a, "--json")) {
			cli->json = 1;
			for (o = opts; o->name; o++)
				if (!strcmp(o->name, "json"))
					o->value = "1", o->count++;
			continue;
		}
		if (strncmp(a, "--", 2)) {
			pg_cli_error(cli, "unknown option '%s' (see --help)", a);
			free(r);
			return PG_EXIT_USAGE;
		}
		a += 2;
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (o = opts; o->name; o++)
			if (strlen(o->name) == nlen && !strncmp(o->name, a, nlen))
				break;
		if (!o->name) {
			pg_cli_error(cli, "unknown option '--%.*s' (see --help)", (int)nlen, a);
			free(r);
			return PG_EXIT_USAGE;
		}
		o->count++;
		if (o->has_arg) {
			if (eq)
				o->value = eq + 1;
			else if (i + 1 < argc)
				o->value = argv[++i];
			else {
				pg_cli_error(cli, "option '--%s' needs a value", o->name);
				free(r);
				return PG_EXIT_USAGE;
			}
		} else {
			if (eq) {
				pg_cli_error(cli, "option '--%s' takes no value", o->name);
				free(r);
				return PG_EXIT_USAGE;
			}
			o->value = "1";
		}
	}
	if (rest) {
		*rest = nr ? r : none;
		*nrest = nr;
		if (!nr)
			free(r);
		else {
			free(cli->rest_alloc);
			cli->rest_alloc = r;
		}
	} else {
		free(r);
		if (nr) {
			pg_cli_error(cli, "unexpected argument '%s' (see --help)", argv[1]);
			return PG_EXIT_USAGE;
		}
	}
	return -1;
}

void pg_cli_progress(const struct pg_cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (!cli->progress)
		return;
	fputc('\r', stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
}

void pg_cli_progress_done(const struct pg_cli *cli)
{
	if (cli->progress)
		fputc('\n', stderr);
}
