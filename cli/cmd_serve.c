/*
 * cmd_serve.c - `patchgap serve`: run the REST API and the triage screen
 * until SIGINT/SIGTERM.  Settings come from [serve] in the config and the
 * options here (which win).  The first line on stdout is the URL served,
 * so scripts can start it on port 0 and read the port.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/web.h"
#include "util/buf.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap serve [--bind ADDR] [--port N] [--public-read] [--threads N]\n"
	"\n"
	"Serves the REST API under /api/v1/ (doc/api.md) and the triage screen at /\n"
	"until interrupted.  Listens on 127.0.0.1 port 8642 unless [serve] bind/port\n"
	"or --bind/--port say otherwise; --port 0 takes any free port.  The first line\n"
	"printed is the URL.  Reads need a token (patchgap token add NAME --role reader)\n"
	"unless [serve] public-read = true or --public-read; decisions need a triager\n"
	"or admin token.  TLS when [serve] cert and key name PEM files.\n"
	"\n"
	"Exit status: 0 stopped by a signal, 1 cannot listen or open the database,\n"
	"2 usage.\n";

PG_CMD(serve)
{
	struct pg_opt opts[] = { { "bind", 1, NULL, 0 }, { "port", 1, NULL, 0 }, { "public-read", 0, NULL, 0 },
				 { "threads", 1, NULL, 0 }, { NULL, 0, NULL, 0 } };
	const char **args;
	int nargs, rc, error, sig;
	pg_config *cfg = NULL;
	pg_web *w = NULL;
	pg_web_options o = PG_WEB_OPTIONS_INIT;
	pg_buf cert = PG_BUF_INIT, key = PG_BUF_INIT;
	sigset_t set;
	char *end;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		return rc;
	if (nargs) {
		pg_cli_error(cli, "unexpected argument '%s' (see --help)", pg_cli_safe(args[0]));
		return PG_EXIT_USAGE;
	}
	o.port = 8642;
	if (pg_config_load(&cfg, cli->conf_path) == 0) {
		o.bind = cfg->serve_bind;
		if (cfg->serve_port)
			o.port = cfg->serve_port;
		o.public_read = cfg->serve_public_read;
		if (cfg->serve_cert) {
			if (pg_buf_read_regular(&cert, cfg->serve_cert) < 0 || pg_buf_read_regular(&key, cfg->serve_key) < 0) {
				rc = pg_cli_fail(cli, PG_EIO);
				goto out;
			}
			o.cert_pem = pg_buf_cstr(&cert);
			o.key_pem = pg_buf_cstr(&key);
		}
		o.database = cli->db_path ? cli->db_path : cfg->database;
		/* commit explanations as `explain` gives them: with the diff */
		o.repository = cfg->classify_diffs ? cfg->repository : NULL;
	} else if (cli->db_path && (strcmp(cli->conf_path, "patchgap.conf") || access(cli->conf_path, F_OK) != 0)) {
		o.database = cli->db_path;
	} else {
		rc = pg_cli_load_config(&cfg, cli);
		goto out;
	}
	if (pg_opt_get(opts, "bind"))
		o.bind = pg_opt_get(opts, "bind");
	if (pg_opt_get(opts, "port")) {
		long p = strtol(pg_opt_get(opts, "port"), &end, 10);
		if (*end || !*pg_opt_get(opts, "port") || p < 0 || p > 65535) {
			pg_cli_error(cli, "--port: '%s' is not a TCP port", pg_cli_safe(pg_opt_get(opts, "port")));
			rc = PG_EXIT_USAGE;
			goto out;
		}
		o.port = (int)p;
	}
	if (pg_opt_get(opts, "threads")) {
		long t = strtol(pg_opt_get(opts, "threads"), &end, 10);
		if (*end || t < 1 || t > 64) {
			pg_cli_error(cli, "--threads: want 1 to 64");
			rc = PG_EXIT_USAGE;
			goto out;
		}
		o.threads = (unsigned)t;
	}
	if (pg_opt_get(opts, "public-read"))
		o.public_read = 1;
	/* block the stop signals before the server's threads start, so they inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((error = pg_web_start(&w, &o)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto out;
	}
	printf("%s://%s%s%s:%d/\n", o.cert_pem ? "https" : "http", o.bind && strchr(o.bind, ':') ? "[" : "",
	       o.bind ? o.bind : "127.0.0.1", o.bind && strchr(o.bind, ':') ? "]" : "", pg_web_port(w));
	fflush(stdout);
	if (cli->progress)
		fprintf(stderr, "patchgap serve: %s, reads %s; Ctrl-C stops\n", o.database,
			o.public_read ? "public" : "need a token");
	sigwait(&set, &sig);
	rc = PG_EXIT_OK;
out:
	pg_web_stop(w);
	pg_buf_release(&cert);
	pg_buf_release(&key);
	pg_config_free(cfg);
	return rc;
}
