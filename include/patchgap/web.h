/*
 * web.h - `patchgap serve`: the REST API (/api/v1/, doc/api.md) and the
 * embedded triage screen, served with libmicrohttpd.
 *
 * Every answer comes from the library functions the CLI verbs use (status,
 * affected, cve, ingest, advise, triage); the server adds transport only:
 * authentication by API token, size limits, JSON errors naming the field,
 * security headers.  Readers get a read-only database connection per
 * worker (SQLite WAL: ingest and watch may write meanwhile); decisions go
 * through one writer connection.
 *
 * Ownership: pg_web_start() gives a running server owned by the caller;
 * pg_web_stop() stops it and frees it.  Options are copied.
 */
#ifndef PATCHGAP_WEB_H
#define PATCHGAP_WEB_H

#include "patchgap/common.h"

typedef struct pg_web pg_web;

typedef struct pg_web_options {
	unsigned version;
	const char *database;   /* database file (must exist) */
	const char *bind;       /* listen address (IPv4 or IPv6 literal); NULL = 127.0.0.1 */
	int port;               /* 0 = any free port (see pg_web_port) */
	int public_read;        /* GET without a token */
	const char *cert_pem;   /* TLS: PEM certificate text, or NULL for plain HTTP */
	const char *key_pem;    /* TLS: PEM private key text */
	unsigned threads;       /* worker threads; 0 = 4 */
	size_t max_body;        /* request body limit in bytes; 0 = 64 KiB */
	const char *repository; /* core.repository: commits are explained with their diff; NULL = without */
} pg_web_options;
#define PG_WEB_OPTIONS_INIT { 1, NULL, NULL, 0, 0, NULL, NULL, 0, 0, NULL }

int pg_web_start(pg_web **out, const pg_web_options *opts);
/* The TCP port actually bound. */
int pg_web_port(const pg_web *w);
void pg_web_stop(pg_web *w);

#endif
