/*
 * sqlite.c - the SQLite backend of the store interface (store.h).
 *
 * Safety rules, because the database is the user's accumulated state:
 *  - an existing file is checked before anything is written: it must be a
 *    SQLite database whose application_id is patchgap's (or a brand new,
 *    empty file) and pass PRAGMA quick_check; anything else is refused with
 *    a clear error and left byte-identical;
 *  - every schema migration runs in its own transaction;
 *  - WAL journal + synchronous=NORMAL: a killed process loses at most the
 *    transaction in flight, never a committed one, and never corrupts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "patchgap/store.h"
#include "store/schema_int.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

/* 'PGap' - marks the file as ours (PRAGMA application_id). */
#define PG_APPLICATION_ID 0x50476170

struct pg_store {
	sqlite3 *db;
	char *path;
	unsigned flags;
	int txn_depth;
	int txn_failed;  /* an inner rollback poisons the outer commit */
	int lock_fd;     /* pg_store_lock: flock()ed descriptor of the file, or -1 */
};

struct pg_stmt {
	sqlite3_stmt *st;
	pg_store *store;
};

static int db_error(pg_store *s, const char *what)
{
	int code = sqlite3_errcode(s->db);
	return pg_error_setc(code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? PG_EINVALID : PG_EIO,
			     "%s on database '%s': %s", what, s->path, sqlite3_errmsg(s->db));
}

int pg_store_exec(pg_store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(s->db);
		pg_error_setc(code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? PG_EINVALID : PG_EIO,
			      "database '%s': %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? PG_EINVALID : PG_EIO;
	}
	return 0;
}

static int query_int(pg_store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "cannot read");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, "cannot read");
	return 0;
}

static int migrate(pg_store *s)
{
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
		for (i = done; m->steps[i]; i++) {
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
		if (i < done)
			return pg_error_setc(PG_EINVALID,
					     "database '%s' has schema %s version %ld, newer than this patchgap (%ld)",
					     s->path, m->name, done, i);
	}
	return 0;
}

/*
 * PRAGMA quick_check before the first write: a b-tree damaged by a bit flip
 * is otherwise only noticed when a statement happens to read the bad page,
 * after earlier batches have been committed into the damaged file.  The
 * check reads every page once (O(n), no sorting, unlike integrity_check):
 * 2.1-2.5 s for a 650 MB database of 291k commits (a run with nothing new
 * took 0.3 s before it).  PG_STORE_NO_CHECK skips it.  The result of a
 * healthy database is the single row "ok".
 */
static int check_integrity(pg_store *s)
{
	sqlite3_stmt *st = NULL;
	char first[256] = "";
	int rc, error = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
		snprintf(first, sizeof(first), "%s", sqlite3_errmsg(s->db));
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (!t || strcmp((const char *)t, "ok"))
			snprintf(first, sizeof(first), "%s", t ? (const char *)t : "no result");
	} else if (rc != SQLITE_DONE) {
		snprintf(first, sizeof(first), "%s", sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	if (first[0]) {
		pg_str_sanitize(first);
		error = pg_error_setc(PG_EINVALID,
				      "database '%s' is corrupt (quick_check: %s); nothing was written to it:"
				      " restore a copy, or build a new database", s->path, first);
	}
	return error;
}

int pg_store_open(pg_store **out, const char *path, unsigned flags)
{
	pg_store *s = NULL;
	struct stat stbuf;
	int exists, oflags, error = 0;
	int64_t appid = 0, ntables = 0;

	*out = NULL;
	exists = stat(path, &stbuf) == 0;
	if (!exists && !(flags & PG_STORE_CREATE))
		return pg_error_setc(PG_ENOTFOUND, "database '%s' does not exist (run 'patchgap init')", path);
	if (exists && S_ISDIR(stbuf.st_mode))
		return pg_error_setc(PG_EINVALID, "database '%s' is a directory", path);
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		free(s);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	s->flags = flags;
	s->lock_fd = -1;
	oflags = (flags & PG_STORE_READONLY) ? SQLITE_OPEN_READONLY
					     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		error = pg_error_setc(PG_EIO, "cannot open database '%s': %s", path,
				      s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 0);

	/* Identify the file before writing anything to it. */
	if ((error = query_int(s, "PRAGMA application_id", &appid)) < 0 ||
	    (error = query_int(s, "SELECT count(*) FROM sqlite_master", &ntables)) < 0) {
		pg_error_setc(PG_EINVALID, "'%s' is not a patchgap database (not SQLite, or corrupt): %s",
			      path, sqlite3_errmsg(s->db));
		error = PG_EINVALID;
		goto out;
	}
	if (appid != PG_APPLICATION_ID && ntables > 0) {
		error = pg_error_setc(PG_EINVALID, "'%s' is a SQLite database but not a patchgap database", path);
		goto out;
	}
	if (flags & PG_STORE_READONLY) {
		if (appid != PG_APPLICATION_ID) {
			error = pg_error_setc(PG_EINVALID, "'%s' is not an initialised patchgap database", path);
			goto out;
		}
	} else {
		char pragma[64];
		if (ntables > 0 && !(flags & PG_STORE_NO_CHECK) && (error = check_integrity(s)) < 0)
			goto out;
		if ((error = pg_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
					      "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;")) < 0)
			goto out;
		if (appid != PG_APPLICATION_ID) {
			snprintf(pragma, sizeof(pragma), "PRAGMA application_id=%d", PG_APPLICATION_ID);
			if ((error = pg_store_exec(s, pragma)) < 0)
				goto out;
		}
		if ((error = pg_store_exec(s, "CREATE TABLE IF NOT EXISTS meta ("
					      " key TEXT PRIMARY KEY, value TEXT NOT NULL)")) < 0 ||
		    (error = migrate(s)) < 0)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	pg_store_free(s);
	return error;
}

void pg_store_free(pg_store *s)
{
	if (!s)
		return;
	if (s->txn_depth)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(s->db);
	/* after SQLite's own descriptors: closing one drops the process's fcntl locks */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->path);
	free(s);
}

/*
 * flock() on a descriptor of its own: flock and SQLite's fcntl locks do not
 * interact, and the descriptor stays open until pg_store_free has closed
 * SQLite's, since closing any descriptor of the file would release them.
 * The kernel drops the lock when the process dies: a killed run never
 * leaves the database locked.
 */
int pg_store_lock(pg_store *s, const char *what)
{
	int fd;
	if (s->lock_fd >= 0)
		return 0;
	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
		return pg_error_setc(PG_EIO, "cannot open database '%s': %s", s->path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return pg_error_setc(PG_ERROR, "database '%s' is in use: another %s holds it; run again once it has finished",
					     s->path, what);
		return pg_error_setc(PG_EIO, "cannot lock database '%s': %s", s->path, strerror(e));
	}
	s->lock_fd = fd;
	return 0;
}

const char *pg_store_path(const pg_store *s)
{
	return s->path;
}

int pg_store_begin(pg_store *s)
{
	int error;
	if (s->txn_depth++ > 0)
		return 0;
	s->txn_failed = 0;
	if ((error = pg_store_exec(s, "BEGIN IMMEDIATE")) < 0)
		s->txn_depth = 0;
	return error;
}

int pg_store_commit(pg_store *s)
{
	if (s->txn_depth <= 0)
		return pg_error_set("commit without a transaction on '%s'", s->path);
	if (--s->txn_depth > 0)
		return 0;
	if (s->txn_failed) {
		pg_store_exec(s, "ROLLBACK");
		return pg_error_set("transaction on '%s' was rolled back by an inner failure", s->path);
	}
	return pg_store_exec(s, "COMMIT");
}

int pg_store_rollback(pg_store *s)
{
	if (s->txn_depth <= 0)
		return 0;
	if (--s->txn_depth > 0) {
		s->txn_failed = 1;
		return 0;
	}
	return pg_store_exec(s, "ROLLBACK");
}

int pg_store_prepare(pg_stmt **out, pg_store *s, const char *sql)
{
	pg_stmt *st;
	*out = NULL;
	if (!(st = calloc(1, sizeof(*st))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL) != SQLITE_OK) {
		int error = pg_error_setc(PG_EIO, "cannot prepare query on '%s': %s (in: %.80s)",
					  s->path, sqlite3_errmsg(s->db), sql);
		free(st);
		return error;
	}
	st->store = s;
	*out = st;
	return 0;
}

void pg_stmt_free(pg_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->st);
	free(st);
}

int pg_stmt_reset(pg_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
	return 0;
}

static int bind_rc(pg_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : db_error(st->store, "cannot bind a parameter");
}

int pg_stmt_bind_int(pg_stmt *st, int idx, int64_t v)
{
	return bind_rc(st, sqlite3_bind_int64(st->st, idx, v));
}

int pg_stmt_bind_text(pg_stmt *st, int idx, const char *v)
{
	if (!v)
		return pg_stmt_bind_null(st, idx);
	return bind_rc(st, sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT));
}

int pg_stmt_bind_textn(pg_stmt *st, int idx, const char *v, size_t len)
{
	if (!v)
		return pg_stmt_bind_null(st, idx);
	return bind_rc(st, sqlite3_bind_text64(st->st, idx, v, len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

int pg_stmt_bind_double(pg_stmt *st, int idx, double v)
{
	return bind_rc(st, sqlite3_bind_double(st->st, idx, v));
}

int pg_stmt_bind_null(pg_stmt *st, int idx)
{
	return bind_rc(st, sqlite3_bind_null(st->st, idx));
}

int pg_stmt_step(pg_stmt *st)
{
	int rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	rc = db_error(st->store, "query failed");
	sqlite3_reset(st->st);
	return rc;
}

int pg_stmt_exec(pg_stmt *st)
{
	int rc;
	while ((rc = pg_stmt_step(st)) > 0)
		;
	pg_stmt_reset(st);
	return rc;
}

int64_t pg_stmt_int(pg_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

double pg_stmt_double(pg_stmt *st, int col)
{
	return sqlite3_column_double(st->st, col);
}

const char *pg_stmt_text(pg_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

int pg_stmt_isnull(pg_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int pg_stmt_columns(pg_stmt *st)
{
	return sqlite3_column_count(st->st);
}

const char *pg_stmt_column_name(pg_stmt *st, int col)
{
	return sqlite3_column_name(st->st, col);
}

int64_t pg_store_last_id(pg_store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

int64_t pg_store_changes(pg_store *s)
{
	return sqlite3_changes64(s->db);
}

int pg_store_data_version(int64_t *out, pg_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc;
	*out = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return pg_error_setc(PG_EIO, "database '%s': %s", s->path, sqlite3_errmsg(s->db));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : pg_error_setc(PG_EIO, "database '%s': cannot read its data version", s->path);
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pg_store_dump(pg_store *s, void (*emit)(const char *line, void *payload), void *payload)
{
	sqlite3_stmt *tables = NULL;
	pg_buf line = PG_BUF_INIT, sql = PG_BUF_INIT;
	int error = 0, rc;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name",
			       -1, &tables, NULL) != SQLITE_OK)
		return db_error(s, "cannot list tables");
	while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		sqlite3_stmt *rows = NULL;
		char **lines = NULL;
		size_t n = 0, alloc = 0;

		pg_buf_reset(&sql);
		if ((error = pg_buf_printf(&sql, "SELECT * FROM \"%s\"", name)) < 0)
			break;
		if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &rows, NULL) != SQLITE_OK) {
			error = db_error(s, "cannot dump");
			break;
		}
		while (sqlite3_step(rows) == SQLITE_ROW) {
			pg_buf_reset(&line);
			pg_buf_printf(&line, "%s|", name);
			for (int c = 0; c < sqlite3_column_count(rows); c++) {
				const char *v = (const char *)sqlite3_column_text(rows, c);
				pg_buf_puts(&line, c ? "|" : "");
				pg_buf_put_json_str(&line, v ? v : "\\N");
			}
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 256;
				lines = realloc(lines, alloc * sizeof(char *));
			}
			lines[n++] = pg_buf_detach(&line);
		}
		sqlite3_finalize(rows);
		qsort(lines, n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < n; i++) {
			emit(lines[i], payload);
			free(lines[i]);
		}
		free(lines);
	}
	sqlite3_finalize(tables);
	pg_buf_release(&line);
	pg_buf_release(&sql);
	return error;
}
