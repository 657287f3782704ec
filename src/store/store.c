/*
 * store.c - the backend-independent half of the store interface (store.h).
 *
 * The database name chooses the backend: a PostgreSQL connection string
 * (postgresql:// or postgres:// URI, or libpq "key=value" words) selects
 * pgsql.c, anything else is a SQLite file (sqlite.c).  Everything that must
 * behave identically on both lives here: nested transactions, the one list
 * of migrations with its refusal of newer databases, the meta table, the
 * sorted dump (so that two databases can be compared line by line whatever
 * their backends) and the copy between backends.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"
#include "store/schema_int.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

int pg_store_is_postgresql(const char *name)
{
	const char *p = name;

	if (!strncmp(name, "postgresql://", 13) || !strncmp(name, "postgres://", 11))
		return 1;
	/* libpq keyword form: starts with "word=" (a file named so needs "./") */
	while (*p == ' ')
		p++;
	if (!islower((unsigned char)*p))
		return 0;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ')
		p++;
	return *p == '=';
}

int pg_store_open(pg_store **out, const char *path, unsigned flags)
{
	const struct pg_store_ops *ops = pg_store_is_postgresql(path) ? &pg_store__pgsql_ops
								      : &pg_store__sqlite_ops;
	*out = NULL;
	return ops->open(out, path, flags);
}

void pg_store_free(pg_store *s)
{
	if (s)
		PG_STORE_C(s)->ops->free(s);
}

const char *pg_store_path(const pg_store *s)
{
	return ((const struct pg_store_common *)s)->display;
}

const char *pg_store_backend(const pg_store *s)
{
	return ((const struct pg_store_common *)s)->ops->name;
}

int pg_store_lock(pg_store *s, const char *what)
{
	return PG_STORE_C(s)->ops->lock(s, what);
}

int pg_store_exec(pg_store *s, const char *sql)
{
	return PG_STORE_C(s)->ops->exec(s, sql);
}

int pg_store_begin(pg_store *s)
{
	struct pg_store_common *c = PG_STORE_C(s);
	int error;

	if (c->txn_depth++ > 0)
		return 0;
	c->txn_failed = 0;
	if ((error = c->ops->begin(s)) < 0)
		c->txn_depth = 0;
	return error;
}

int pg_store_commit(pg_store *s)
{
	struct pg_store_common *c = PG_STORE_C(s);

	if (c->txn_depth <= 0)
		return pg_error_set("commit without a transaction on '%s'", c->display);
	if (--c->txn_depth > 0)
		return 0;
	if (c->txn_failed) {
		c->ops->exec(s, "ROLLBACK");
		return pg_error_set("transaction on '%s' was rolled back by an inner failure", c->display);
	}
	return c->ops->exec(s, "COMMIT");
}

int pg_store_rollback(pg_store *s)
{
	struct pg_store_common *c = PG_STORE_C(s);

	if (c->txn_depth <= 0)
		return 0;
	if (--c->txn_depth > 0) {
		c->txn_failed = 1;
		return 0;
	}
	return c->ops->exec(s, "ROLLBACK");
}

int pg_store_prepare(pg_stmt **out, pg_store *s, const char *sql)
{
	*out = NULL;
	return PG_STORE_C(s)->ops->prepare(out, s, sql);
}

void pg_stmt_free(pg_stmt *st)
{
	if (st)
		PG_STMT_C(st)->ops->stmt_free(st);
}

int pg_stmt_reset(pg_stmt *st)
{
	return PG_STMT_C(st)->ops->reset(st);
}

int pg_stmt_bind_int(pg_stmt *st, int idx, int64_t v)
{
	return PG_STMT_C(st)->ops->bind_int(st, idx, v);
}

int pg_stmt_bind_text(pg_stmt *st, int idx, const char *v)
{
	if (!v)
		return pg_stmt_bind_null(st, idx);
	return PG_STMT_C(st)->ops->bind_textn(st, idx, v, strlen(v));
}

int pg_stmt_bind_textn(pg_stmt *st, int idx, const char *v, size_t len)
{
	if (!v)
		return pg_stmt_bind_null(st, idx);
	return PG_STMT_C(st)->ops->bind_textn(st, idx, v, len);
}

int pg_stmt_bind_double(pg_stmt *st, int idx, double v)
{
	return PG_STMT_C(st)->ops->bind_double(st, idx, v);
}

int pg_stmt_bind_null(pg_stmt *st, int idx)
{
	return PG_STMT_C(st)->ops->bind_null(st, idx);
}

int pg_stmt_step(pg_stmt *st)
{
	return PG_STMT_C(st)->ops->step(st);
}

int pg_stmt_exec(pg_stmt *st)
{
	int rc;
	while ((rc = pg_stmt_step(st)) > 0)
		;
	pg_stmt_reset(st);
	return rc;
}

int pg_store__exec_queued(pg_stmt *st)
{
	if (PG_STMT_C(st)->ops->exec_pipelined)
		return PG_STMT_C(st)->ops->exec_pipelined(st);
	return pg_stmt_exec(st);
}

int pg_store__flush(pg_store *s)
{
	return PG_STORE_C(s)->ops->flush ? PG_STORE_C(s)->ops->flush(s) : 0;
}

int64_t pg_stmt_int(pg_stmt *st, int col)
{
	return PG_STMT_C(st)->ops->col_int(st, col);
}

double pg_stmt_double(pg_stmt *st, int col)
{
	return PG_STMT_C(st)->ops->col_double(st, col);
}

const char *pg_stmt_text(pg_stmt *st, int col)
{
	return PG_STMT_C(st)->ops->col_text(st, col);
}

int pg_stmt_isnull(pg_stmt *st, int col)
{
	return PG_STMT_C(st)->ops->col_isnull(st, col);
}

int pg_stmt_columns(pg_stmt *st)
{
	return PG_STMT_C(st)->ops->columns(st);
}

const char *pg_stmt_column_name(pg_stmt *st, int col)
{
	return PG_STMT_C(st)->ops->column_name(st, col);
}

int64_t pg_store_last_id(pg_store *s)
{
	return PG_STORE_C(s)->ops->last_id(s);
}

int64_t pg_store_changes(pg_store *s)
{
	return PG_STORE_C(s)->ops->changes(s);
}

int pg_store_meta_get(char **out, pg_store *s, const char *key)
{
	pg_stmt *st = NULL;
	int error;

	*out = NULL;
	if ((error = pg_store_prepare(&st, s, "SELECT value FROM meta WHERE key = ?")) < 0)
		return error;
	if ((error = pg_stmt_bind_text(st, 1, key)) < 0)
		goto out;
	if ((error = pg_stmt_step(st)) < 0)
		goto out;
	if (error == 0) {
		error = PG_ENOTFOUND;
		goto out;
	}
	error = (*out = pg_strdup(pg_stmt_text(st, 0))) ? 0 : PG_ENOMEM;
out:
	pg_stmt_free(st);
	return error;
}

int pg_store_meta_set(pg_store *s, const char *key, const char *value)
{
	pg_stmt *st = NULL;
	int error;
	if ((error = pg_store_prepare(&st, s,
				      "INSERT INTO meta(key, value) VALUES (?, ?) "
				      "ON CONFLICT(key) DO UPDATE SET value = excluded.value")) < 0)
		return error;
	if ((error = pg_stmt_bind_text(st, 1, key)) < 0 ||
	    (error = pg_stmt_bind_text(st, 2, value)) < 0)
		goto out;
	error = pg_stmt_exec(st);
out:
	pg_stmt_free(st);
	return error;
}

/*
 * Each migration step runs in its own transaction with the meta update that
 * records it, on both backends (PostgreSQL DDL is transactional too): a
 * run killed mid-migration leaves the previous schema, never half of one.
 */
int pg_store__migrate(pg_store *s)
{
	const char *name = PG_STORE_C(s)->display;
	int error = 0;

	for (const struct pg_schema_module *m = pg_store__schema; m->name; m++) {
		char key[128], *cur = NULL, num[32];
		long done = 0, i;

		snprintf(key, sizeof(key), "schema.%s", m->name);
		error = pg_store_meta_get(&cur, s, key);
		if (error == PG_ENOTFOUND)
			error = 0;
		else if (error < 0)
			return error;
		if (cur)
			done = strtol(cur, NULL, 10);
		free(cur);
		for (i = 0; i < done && m->steps[i]; i++)
			;
		if (i < done)
			return pg_error_setc(PG_EINVALID,
					     "database '%s' has schema %s version %ld, newer than this patchgap (%ld)",
					     name, m->name, done, i);
		for (; m->steps[i]; i++) {
			if ((error = pg_store_begin(s)) < 0)
				return error;
			snprintf(num, sizeof(num), "%ld", i + 1);
			if ((error = pg_store_exec(s, m->steps[i])) < 0 ||
			    (error = pg_store_meta_set(s, key, num)) < 0) {
				pg_error_prefix("schema migration %s #%ld", m->name, i + 1);
				pg_store_rollback(s);
				return error;
			}
			if ((error = pg_store_commit(s)) < 0)
				return error;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The user tables, sorted by name (both backends list them with the same SQL shape). */
static int list_tables(pg_store *s, char ***out, size_t *n)
{
	pg_stmt *st = NULL;
	char **names = NULL;
	size_t len = 0, alloc = 0;
	int error, rc;

	*out = NULL;
	*n = 0;
	if ((error = pg_store_prepare(&st, s, PG_STORE_C(s)->ops->list_tables_sql)) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		if (len == alloc) {
			char **p = realloc(names, (alloc = alloc ? alloc * 2 : 32) * sizeof(*p));
			if (!p) {
				rc = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			names = p;
		}
		if (!(names[len] = pg_strdup(pg_stmt_text(st, 0)))) {
			rc = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		len++;
	}
	pg_stmt_free(st);
	if (rc < 0) {
		while (len)
			free(names[--len]);
		free(names);
		return rc;
	}
	if (len)
		qsort(names, len, sizeof(*names), cmp_str);
	*out = names;
	*n = len;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int pg_store_dump(pg_store *s, void (*emit)(const char *line, void *payload), void *payload)
{
	pg_buf line = PG_BUF_INIT, sql = PG_BUF_INIT;
	char **tables = NULL;
	size_t ntables = 0;
	int error;

	if ((error = list_tables(s, &tables, &ntables)) < 0)
		return error;
	for (size_t t = 0; t < ntables && !error; t++) {
		pg_stmt *rows = NULL;
		char **lines = NULL;
		size_t n = 0, alloc = 0;
		int rc;

		pg_buf_reset(&sql);
		if ((error = pg_buf_printf(&sql, "SELECT * FROM \"%s\"", tables[t])) < 0 ||
		    (error = pg_store_prepare(&rows, s, sql.ptr)) < 0)
			break;
		while ((rc = pg_stmt_step(rows)) > 0) {
			pg_buf_reset(&line);
			pg_buf_printf(&line, "%s|", tables[t]);
			for (int c = 0; c < pg_stmt_columns(rows); c++) {
				const char *v = pg_stmt_text(rows, c);
				pg_buf_puts(&line, c ? "|" : "");
				pg_buf_put_json_str(&line, v ? v : "\\N");
			}
			if (n == alloc) {
				char **p = realloc(lines, (alloc = alloc ? alloc * 2 : 256) * sizeof(char *));
				if (!p) {
					rc = pg_error_setc(PG_ENOMEM, "out of memory");
					break;
				}
				lines = p;
			}
			if (!(lines[n] = pg_buf_detach(&line))) {
				rc = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			n++;
		}
		pg_stmt_free(rows);
		if (rc < 0)
			error = rc;
		else if (n)
			qsort(lines, n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (!error)
				emit(lines[i], payload);
			free(lines[i]);
		}
		free(lines);
	}
	free_names(tables, ntables);
	pg_buf_release(&line);
	pg_buf_release(&sql);
	return error;
}

static int count_rows(pg_store *s, const char *table, int64_t *out)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *st = NULL;
	int error;

	*out = 0;
	if ((error = pg_buf_printf(&sql, "SELECT count(*) FROM \"%s\"", table)) < 0 ||
	    (error = pg_store_prepare(&st, s, sql.ptr)) < 0)
		goto out;
	if ((error = pg_stmt_step(st)) > 0) {
		*out = pg_stmt_int(st, 0);
		error = 0;
	}
out:
	pg_stmt_free(st);
	pg_buf_release(&sql);
	return error;
}

/* Rows of one table: SELECT * on one side, INSERT of the same columns on the other. */
static int copy_table(pg_store *to, pg_store *from, const char *table, int64_t *rows)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *src = NULL, *dst = NULL;
	int error, rc, ncols = 0;

	if ((error = pg_buf_printf(&sql, "SELECT * FROM \"%s\"", table)) < 0 ||
	    (error = pg_store_prepare(&src, from, sql.ptr)) < 0)
		goto out;
	while ((rc = pg_stmt_step(src)) > 0) {
		if (!dst) {
			ncols = pg_stmt_columns(src);
			pg_buf_reset(&sql);
			pg_buf_printf(&sql, "INSERT INTO \"%s\" (", table);
			for (int c = 0; c < ncols; c++)
				pg_buf_printf(&sql, "%s\"%s\"", c ? ", " : "", pg_stmt_column_name(src, c));
			pg_buf_puts(&sql, ") VALUES (");
			for (int c = 0; c < ncols; c++)
				pg_buf_puts(&sql, c ? ", ?" : "?");
			if ((error = pg_buf_puts(&sql, ")")) < 0 ||
			    (error = pg_store_prepare(&dst, to, sql.ptr)) < 0)
				goto out;
		}
		for (int c = 0; c < ncols && !error; c++) {
			switch (PG_STMT_C(src)->ops->col_kind(src, c)) {
			case PG_COL_NULL: error = pg_stmt_bind_null(dst, c + 1); break;
			case PG_COL_INT: error = pg_stmt_bind_int(dst, c + 1, pg_stmt_int(src, c)); break;
			case PG_COL_DOUBLE: error = pg_stmt_bind_double(dst, c + 1, pg_stmt_double(src, c)); break;
			default: error = pg_stmt_bind_text(dst, c + 1, pg_stmt_text(src, c)); break;
			}
		}
		if (error < 0 || (error = pg_stmt_exec(dst)) < 0) {
			pg_error_prefix("copying table '%s'", table);
			goto out;
		}
		(*rows)++;
	}
	error = rc;
out:
	pg_stmt_free(src);
	pg_stmt_free(dst);
	pg_buf_release(&sql);
	return error;
}

int pg_store_copy(pg_store *to, pg_store *from, int64_t *rows_out)
{
	char **ft = NULL, **tt = NULL;
	size_t nf = 0, nt = 0;
	int64_t rows = 0;
	int error, began = 0;

	if (rows_out)
		*rows_out = 0;
	if ((error = list_tables(from, &ft, &nf)) < 0 || (error = list_tables(to, &tt, &nt)) < 0)
		goto out;
	/* same schema: the same tables (meta's schema.* keys are compared below) */
	for (size_t i = 0; i < nf; i++) {
		size_t j = 0;
		while (j < nt && strcmp(ft[i], tt[j]))
			j++;
		if (j == nt) {
			error = pg_error_setc(PG_EINVALID, "'%s' has no table '%s' (different patchgap versions?)",
					      pg_store_path(to), ft[i]);
			goto out;
		}
	}
	for (size_t i = 0; i < nt; i++) {
		int64_t n = 0;
		if ((error = count_rows(to, tt[i], &n)) < 0)
			goto out;
		if (n > 0 && strcmp(tt[i], "meta")) {
			error = pg_error_setc(PG_EINVALID, "'%s' is not empty (table '%s' has %lld rows); nothing was copied",
					      pg_store_path(to), tt[i], (long long)n);
			goto out;
		}
	}
	for (const struct pg_schema_module *m = pg_store__schema; m->name; m++) {
		char key[128], *a = NULL, *b = NULL;
		int same;
		snprintf(key, sizeof(key), "schema.%s", m->name);
		pg_store_meta_get(&a, from, key);
		pg_store_meta_get(&b, to, key);
		same = a && b && !strcmp(a, b);
		free(a);
		free(b);
		if (!same) {
			error = pg_error_setc(PG_EINVALID, "'%s' and '%s' are at different schema versions (%s)",
					      pg_store_path(from), pg_store_path(to), m->name);
			goto out;
		}
	}
	if ((error = pg_store_begin(to)) < 0)
		goto out;
	began = 1;
	if ((error = pg_store_exec(to, "DELETE FROM meta")) < 0)
		goto out;
	for (size_t i = 0; i < nf; i++)
		if ((error = copy_table(to, from, ft[i], &rows)) < 0)
			goto out;
	if ((error = PG_STORE_C(to)->ops->fix_sequences(to)) < 0)
		goto out;
	began = 0;
	error = pg_store_commit(to);
	if (!error && rows_out)
		*rows_out = rows;
out:
	if (began)
		pg_store_rollback(to);
	free_names(ft, nf);
	free_names(tt, nt);
	return error;
}
