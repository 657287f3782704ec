/*
 * store.h - the one storage interface of patchgap.
 *
 * Every module reads and writes the database through this thin layer: open,
 * transactions, prepared statements with positional '?' parameters, and a
 * small metadata table.  Two backends: SQLite (a file path, the default)
 * and PostgreSQL (a connection string: postgresql://..., postgres://... or
 * libpq "key=value" words).  The SQL used by the modules stays portable (no
 * SQLite-only functions, INSERT ... ON CONFLICT rather than INSERT OR
 * REPLACE, explicit types, no integer used as a boolean); the few spellings
 * that differ are translated in one place (src/store/pgsql.c).
 *
 * Ownership: pg_store_open() gives the caller a pg_store to free with
 * pg_store_free().  Statements from pg_store_prepare() are owned by the caller
 * (pg_stmt_free); text returned by pg_stmt_text() is borrowed until the next
 * step/reset/free of that statement.
 */
#ifndef PATCHGAP_STORE_H
#define PATCHGAP_STORE_H

#include <stdint.h>
#include "patchgap/common.h"

typedef struct pg_store pg_store;
typedef struct pg_stmt pg_stmt;

enum pg_store_flags {
	PG_STORE_CREATE = 1 << 0,   /* create the file and schema if missing */
	PG_STORE_READONLY = 1 << 1, /* never write (query verbs) */
	PG_STORE_NO_CHECK = 1 << 2, /* skip the integrity check that precedes the first write */
};

/*
 * Open (and migrate to the current schema unless READONLY).  path is a file
 * or a PostgreSQL connection string; with PG_STORE_CREATE a missing
 * PostgreSQL database is created (encoding SQL_ASCII, collation C).
 */
int pg_store_open(pg_store **out, const char *path, unsigned flags);
void pg_store_free(pg_store *s);
/* For messages: the file, or the connection string without its password. */
const char *pg_store_path(const pg_store *s);
/* "sqlite" or "postgresql". */
const char *pg_store_backend(const pg_store *s);
/* Does this database name select the PostgreSQL backend? */
int pg_store_is_postgresql(const char *name);
/*
 * Hold the database exclusively for one kind of run (what: "ingest") until
 * pg_store_free: a second holder gets PG_ERROR naming the database and what
 * holds it, instead of colliding row by row.  Readers are not affected.
 */
int pg_store_lock(pg_store *s, const char *what);

/* Transactions nest by counting: only the outermost commit writes. */
int pg_store_begin(pg_store *s);
int pg_store_commit(pg_store *s);
int pg_store_rollback(pg_store *s);

/* Run one or more statements without parameters. */
int pg_store_exec(pg_store *s, const char *sql);
int pg_store_prepare(pg_stmt **out, pg_store *s, const char *sql);
void pg_stmt_free(pg_stmt *st);
int pg_stmt_reset(pg_stmt *st);          /* also clears bindings */
/* Parameters are 1-based.  Text is copied (transient). NULL text binds NULL. */
int pg_stmt_bind_int(pg_stmt *st, int idx, int64_t v);
int pg_stmt_bind_text(pg_stmt *st, int idx, const char *v);
int pg_stmt_bind_textn(pg_stmt *st, int idx, const char *v, size_t len);
int pg_stmt_bind_double(pg_stmt *st, int idx, double v);
int pg_stmt_bind_null(pg_stmt *st, int idx);
/* 1 when a row is available, 0 when done, < 0 on error. */
int pg_stmt_step(pg_stmt *st);
/* Convenience: step until done, expecting no rows; resets the statement. */
int pg_stmt_exec(pg_stmt *st);
int64_t pg_stmt_int(pg_stmt *st, int col);   /* 0-based columns */
double pg_stmt_double(pg_stmt *st, int col);
const char *pg_stmt_text(pg_stmt *st, int col); /* NULL for SQL NULL */
int pg_stmt_isnull(pg_stmt *st, int col);
int pg_stmt_columns(pg_stmt *st);
const char *pg_stmt_column_name(pg_stmt *st, int col);
int64_t pg_store_last_id(pg_store *s);
int64_t pg_store_changes(pg_store *s);

/* meta table: small key/value settings (schema version, last ingest...). */
int pg_store_meta_get(char **out, pg_store *s, const char *key); /* PG_ENOTFOUND if absent; out owned */
int pg_store_meta_set(pg_store *s, const char *key, const char *value);

/*
 * Statement queue: execute prepared statements on a writer thread, in
 * order, so that producing rows (reading git) and writing them overlap.
 * While a queue is open its store and the statements given to it belong
 * to the writer: the caller binds through pg_queue_bind_*, then
 * pg_queue_exec(q, st) queues st with those parameters (text is copied).
 * pg_queue_commit() queues "commit; begin" (the caller began the
 * transaction before opening the queue).  pg_queue_sync() waits until
 * everything queued ran; after it the caller may use the store directly
 * until its next pg_queue_* call.  The first failure of the writer is
 * returned by every later call (same code and message), and nothing after
 * it runs.  pg_queue_close() syncs, stops the thread and frees the queue.
 */
typedef struct pg_queue pg_queue;
int pg_queue_open(pg_queue **out, pg_store *s);
int pg_queue_bind_int(pg_queue *q, int idx, int64_t v);
int pg_queue_bind_text(pg_queue *q, int idx, const char *v); /* NULL binds NULL */
int pg_queue_bind_textn(pg_queue *q, int idx, const char *v, size_t len);
int pg_queue_exec(pg_queue *q, pg_stmt *st);
int pg_queue_commit(pg_queue *q);
int pg_queue_sync(pg_queue *q);
int pg_queue_close(pg_queue *q);

/*
 * Dump every table as sorted text lines (crash-resume tests, db copy): the
 * same database gives the same lines on both backends.
 */
int pg_store_dump(pg_store *s, void (*emit)(const char *line, void *payload), void *payload);

/*
 * Copy every row of every table of `from` into `to`, in one transaction of
 * `to`.  Both must be at the same schema versions (both opened read-write,
 * which migrates them), and `to` must hold no rows yet (PG_EINVALID
 * otherwise, nothing written).  rows_out (optional) counts the rows copied.
 */
int pg_store_copy(pg_store *to, pg_store *from, int64_t *rows_out);

#endif
