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
#include "store/store_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/banned.h"

/* 'PGap' - marks the file as ours (PRAGMA application_id). */
#define PG_APPLICATION_ID 0x50476170

struct pg_store {
	struct pg_store_common c;
	sqlite3 *db;
	char *path;      /* = c.path */
	int lock_fd;     /* pg_store_lock: flock()ed descriptor of the file, or -1 */
	int stamp;       /* opened for writing after a passed (or skipped-as-unchanged) check */
};

struct pg_stmt {
	struct pg_stmt_common c;
	sqlite3_stmt *st;
	pg_store *store;
};

static void sq_store_free(pg_store *s);

static int db_error(pg_store *s, const char *what)
{
	int code = sqlite3_errcode(s->db);
	return pg_error_setc(code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? PG_EINVALID : PG_EIO,
			     "%s on database '%s': %s", what, s->path, sqlite3_errmsg(s->db));
}

static int sq_store_exec(pg_store *s, const char *sql)
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

/*
 * PRAGMA quick_check before the first write: a b-tree damaged by a bit flip
 * is otherwise only noticed when a statement happens to read the bad page,
 * after earlier batches have been committed into the damaged file.  The
 * check reads every page once (O(n), no sorting, unlike integrity_check):
 * 2.1-2.5 s for a 650 MB database of 291k commits (a run with nothing new
 * took 0.3 s before it).  PG_STORE_NO_CHECK skips it.  The result of a
 * healthy database is the single row "ok".
 */
/*
 * The check stamp: "<db>-checked" holds the identity, size, mtime and ctime
 * the file had when the last writer that had checked it closed it cleanly
 * (no -wal left: everything checkpointed).  A file that still matches was
 * not touched since, by patchgap or anything else (a write, a copy over it,
 * dd, touch -r: ctime cannot be set back), so the next open skips
 * quick_check: a run with nothing new stays at its 0.3 s on a 650 MB
 * database.  Damage a write does not cause (a failing disk under an
 * unchanged inode) is then caught by SQLite's page checks when read, or by
 * the next full check, which any change to the file brings back.
 */
static int stamp_line(char *buf, size_t size, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	snprintf(buf, size, "%ju %ju %jd %jd.%09ld %jd.%09ld\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		 (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		 (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	return 0;
}

static int stamp_matches(const char *path)
{
	char want[160], have[160] = "", side[4096];
	FILE *f;
	struct stat st;
	snprintf(side, sizeof(side), "%s-wal", path);
	if (stat(side, &st) == 0 && st.st_size > 0)
		return 0; /* a writer died or is running: check */
	snprintf(side, sizeof(side), "%s-checked", path);
	if (stamp_line(want, sizeof(want), path) < 0 || !(f = fopen(side, "r")))
		return 0;
	if (!fgets(have, sizeof(have), f))
		have[0] = '\0';
	fclose(f);
	return strcmp(want, have) == 0;
}

static void stamp_write(const char *path)
{
	char line[160], side[4096];
	struct stat st;
	snprintf(side, sizeof(side), "%s-wal", path);
	if (stat(side, &st) == 0)
		return; /* another connection is still open: its close will stamp */
	snprintf(side, sizeof(side), "%s-checked", path);
	if (stamp_line(line, sizeof(line), path) == 0 && pg_fs_write_file_atomic(side, line, strlen(line)) < 0)
		pg_error_clear();
}

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

static int sq_store_open(pg_store **out, const char *path, unsigned flags)
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
	s->c.ops = &pg_store__sqlite_ops;
	s->c.path = s->c.display = s->path;
	s->c.flags = flags;
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
		if (ntables > 0 && !(flags & PG_STORE_NO_CHECK) && !stamp_matches(path) &&
		    (error = check_integrity(s)) < 0)
			goto out;
		s->stamp = !(flags & PG_STORE_NO_CHECK);
		if ((error = sq_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
					      "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;")) < 0)
			goto out;
		if (appid != PG_APPLICATION_ID) {
			snprintf(pragma, sizeof(pragma), "PRAGMA application_id=%d", PG_APPLICATION_ID);
			if ((error = sq_store_exec(s, pragma)) < 0)
				goto out;
		}
		if ((error = sq_store_exec(s, "CREATE TABLE IF NOT EXISTS meta ("
					      " key TEXT PRIMARY KEY, value TEXT NOT NULL)")) < 0 ||
		    (error = pg_store__migrate(s)) < 0)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	sq_store_free(s);
	return error;
}

static void sq_store_free(pg_store *s)
{
	if (!s)
		return;
	if (s->c.txn_depth)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (sqlite3_close_v2(s->db) == SQLITE_OK && s->stamp)
		stamp_write(s->path);
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
static int sq_store_lock(pg_store *s, const char *what)
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

static int sq_store_prepare(pg_stmt **out, pg_store *s, const char *sql)
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
	st->c.ops = &pg_store__sqlite_ops;
	st->c.store = s;
	st->store = s;
	*out = st;
	return 0;
}

static void sq_stmt_free(pg_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->st);
	free(st);
}

static int sq_stmt_reset(pg_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
	return 0;
}

static int sq_store_begin(pg_store *s)
{
	return sq_store_exec(s, "BEGIN IMMEDIATE");
}

static int bind_rc(pg_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : db_error(st->store, "cannot bind a parameter");
}

static int sq_stmt_bind_int(pg_stmt *st, int idx, int64_t v)
{
	return bind_rc(st, sqlite3_bind_int64(st->st, idx, v));
}

static int sq_stmt_bind_textn(pg_stmt *st, int idx, const char *v, size_t len)
{
	return bind_rc(st, sqlite3_bind_text64(st->st, idx, v, len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

static int sq_stmt_bind_double(pg_stmt *st, int idx, double v)
{
	return bind_rc(st, sqlite3_bind_double(st->st, idx, v));
}

static int sq_stmt_bind_null(pg_stmt *st, int idx)
{
	return bind_rc(st, sqlite3_bind_null(st->st, idx));
}

static int sq_stmt_step(pg_stmt *st)
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

static int64_t sq_stmt_int(pg_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

static double sq_stmt_double(pg_stmt *st, int col)
{
	return sqlite3_column_double(st->st, col);
}

static const char *sq_stmt_text(pg_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

static int sq_stmt_isnull(pg_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

static int sq_stmt_columns(pg_stmt *st)
{
	return sqlite3_column_count(st->st);
}

static const char *sq_stmt_column_name(pg_stmt *st, int col)
{
	return sqlite3_column_name(st->st, col);
}

static int64_t sq_store_last_id(pg_store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

static int64_t sq_store_changes(pg_store *s)
{
	return sqlite3_changes64(s->db);
}

static int sq_stmt_kind(pg_stmt *st, int col)
{
	switch (sqlite3_column_type(st->st, col)) {
	case SQLITE_NULL: return PG_COL_NULL;
	case SQLITE_INTEGER: return PG_COL_INT;
	case SQLITE_FLOAT: return PG_COL_DOUBLE;
	default: return PG_COL_TEXT;
	}
}

/* ids are the rowid: SQLite continues above the largest one by itself */
static int sq_fix_sequences(pg_store *s)
{
	return 0;
}

const struct pg_store_ops pg_store__sqlite_ops = {
	.name = "sqlite",
	.open = sq_store_open,
	.free = sq_store_free,
	.lock = sq_store_lock,
	.exec = sq_store_exec,
	.begin = sq_store_begin,
	.prepare = sq_store_prepare,
	.stmt_free = sq_stmt_free,
	.reset = sq_stmt_reset,
	.bind_int = sq_stmt_bind_int,
	.bind_textn = sq_stmt_bind_textn,
	.bind_double = sq_stmt_bind_double,
	.bind_null = sq_stmt_bind_null,
	.step = sq_stmt_step,
	.col_int = sq_stmt_int,
	.col_double = sq_stmt_double,
	.col_text = sq_stmt_text,
	.col_isnull = sq_stmt_isnull,
	.col_kind = sq_stmt_kind,
	.columns = sq_stmt_columns,
	.column_name = sq_stmt_column_name,
	.last_id = sq_store_last_id,
	.changes = sq_store_changes,
	.list_tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
			   " AND name NOT LIKE 'sqlite%'",
	.fix_sequences = sq_fix_sequences,
};
