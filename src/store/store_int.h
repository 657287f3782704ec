/*
 * store_int.h - what a storage backend implements behind store.h.
 *
 * store.c owns everything both backends share: choosing the backend from
 * the database name, nested transactions, migrations (the same steps on
 * both), the meta table and the sorted dump.  A backend implements the
 * primitive operations below; its pg_store and pg_stmt begin with the
 * common headers so that store.c can reach the ops table.
 */
#ifndef PG_STORE_STORE_INT_H
#define PG_STORE_STORE_INT_H

#include <stdint.h>
#include "patchgap/store.h"

enum { PG_COL_NULL, PG_COL_INT, PG_COL_DOUBLE, PG_COL_TEXT };

struct pg_store_ops {
	const char *name;                       /* "sqlite" | "postgresql" */
	int (*open)(pg_store **out, const char *path, unsigned flags);
	void (*free)(pg_store *s);
	int (*lock)(pg_store *s, const char *what);
	int (*exec)(pg_store *s, const char *sql);
	int (*begin)(pg_store *s);              /* outermost BEGIN */
	int (*prepare)(pg_stmt **out, pg_store *s, const char *sql);
	void (*stmt_free)(pg_stmt *st);
	int (*reset)(pg_stmt *st);
	int (*bind_int)(pg_stmt *st, int idx, int64_t v);
	int (*bind_textn)(pg_stmt *st, int idx, const char *v, size_t len);
	int (*bind_double)(pg_stmt *st, int idx, double v);
	int (*bind_null)(pg_stmt *st, int idx);
	int (*step)(pg_stmt *st);
	int64_t (*col_int)(pg_stmt *st, int col);
	double (*col_double)(pg_stmt *st, int col);
	const char *(*col_text)(pg_stmt *st, int col);
	int (*col_isnull)(pg_stmt *st, int col);
	int (*col_kind)(pg_stmt *st, int col);  /* PG_COL_* of the current value */
	int (*columns)(pg_stmt *st);
	const char *(*column_name)(pg_stmt *st, int col);
	int64_t (*last_id)(pg_store *s);
	int64_t (*changes)(pg_store *s);
	/* SQL listing the user tables by name, one column (dump, copy) */
	const char *list_tables_sql;
	/*
	 * Optional (NULL: pg_stmt_exec): send a statement without waiting for
	 * its outcome; flush waits for every one sent and returns the first
	 * failure.  The statement queue's writer uses them (PostgreSQL: libpq
	 * pipeline mode, one round trip per batch instead of per row).
	 */
	int (*exec_pipelined)(pg_stmt *st);
	int (*flush)(pg_store *s);
	/* after rows were written with explicit ids: restart id generators above them */
	int (*fix_sequences)(pg_store *s);
};

/* First member of every backend's pg_store. */
struct pg_store_common {
	const struct pg_store_ops *ops;
	char *path;          /* as given: file path or connection string */
	char *display;       /* for messages: the path, or the URI without password */
	unsigned flags;
	int txn_depth;
	int txn_failed;      /* an inner rollback poisons the outer commit */
};

/* First member of every backend's pg_stmt. */
struct pg_stmt_common {
	const struct pg_store_ops *ops;
	pg_store *store;
};

extern const struct pg_store_ops pg_store__sqlite_ops;
extern const struct pg_store_ops pg_store__pgsql_ops;

/* The common header of a store / statement. */
#define PG_STORE_C(s) ((struct pg_store_common *)(s))
#define PG_STMT_C(st) ((struct pg_stmt_common *)(st))

struct pg_buf;
/*
 * The PostgreSQL spelling of portable module SQL (see pgsql.c): appends it
 * to out; *nparams (optional) gets the number of '?' parameters.  One pass,
 * linear in the input; string literals and quoted names are left alone.
 */
int pg_store__pgsql_rewrite(struct pg_buf *out, const char *sql, int *nparams);

/* Execute st now or pipelined (the backend decides); pg_store__flush waits for all. */
int pg_store__exec_queued(pg_stmt *st);
int pg_store__flush(pg_store *s);

/* Apply every pending migration; refuse a database newer than this binary. */
int pg_store__migrate(pg_store *s);

#endif
