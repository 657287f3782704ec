/*
 * web_int.h - between the HTTP transport (server.c) and the API handlers
 * (api.c) and the embedded files (assets.c, generated at build time from
 * src/web/static/ by embed.py).
 */
#ifndef PG_WEB_INT_H
#define PG_WEB_INT_H

#include <stddef.h>
#include <jansson.h>
#include "patchgap/store.h"
#include "patchgap/triage.h"
#include "util/buf.h"

struct MHD_Connection;

struct pg_web_asset {
	const char *path;         /* "/app.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};
extern const struct pg_web_asset pg_web__assets[]; /* ends with path == NULL */

struct pg_affect_index;
struct pg_web_db;  /* a pooled read-only connection and its caches */

struct pg_web;

struct pg_web_req {
	struct pg_web *web;
	const char *method;
	const char *path;                 /* after "/api/v1" */
	struct MHD_Connection *conn;
	const char *body;
	size_t body_len;
	pg_store *store;                  /* read-only, this worker's */
	struct pg_web_db *db;             /* the pool entry store belongs to */
	pg_store *(*writer)(void *ctx);   /* the writer connection, locked until the request ends */
	void *ctx;
	pg_triage_role role;
	const char *who;                  /* token name, or NULL */
	/* response */
	int status;
	pg_buf out;
	const char *content_type;
	char disposition[200];            /* Content-Disposition, or "" */
};

/*
 * The affectedness index of r's connection (borrowed), rebuilt only when
 * another connection wrote to the database since it was built.
 */
int pg_web__index(struct pg_affect_index **out, struct pg_web_req *r);
/*
 * A branch's status (pg_affect_status) from the server's shared index,
 * rebuilt only when the database changed.  *out owned.
 */
struct pg_status_options;
int pg_web__status(json_t **out, struct pg_web_req *r, const char *branch, const struct pg_status_options *so);
/* core.repository when commits are explained with their diff, else NULL.  Borrowed. */
const char *pg_web__repository(struct pg_web_req *r);
/* The classifier model (loaded once; NULL when none can be read).  Borrowed. */
struct pg_cls_model;
const struct pg_cls_model *pg_web__model(struct pg_web_req *r);
/* Route an /api/v1 request; fills status, out, content_type. */
void pg_web__api(struct pg_web_req *r);
/* Set a JSON error answer {"error": msg, "field": field|null}. */
void pg_web__error(struct pg_web_req *r, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A JSON answer (steals v). */
void pg_web__json(struct pg_web_req *r, int status, json_t *v);

#endif
