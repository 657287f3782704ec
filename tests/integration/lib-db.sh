# lib-db.sh - backend-neutral access to a test's database (sourced by lib.sh;
# scripts that do not use lib.sh source it alone).  Each function takes the
# database file the test names: on PostgreSQL (PATCHGAP_TEST_BACKEND=
# postgresql, tests/run.sh's pg pass) that file stands for a database of its
# own on the test server (lib/pg-wrap.sh), and `sqlite3 DB SQL` runs SQL
# there with psql (plain SQL: no dot-commands, no PRAGMA, no group_concat).
# A script that tests SQLite itself (the file, WAL, PRAGMAs) has the line
# "# run.sh: sqlite only (reason)" and is not run on PostgreSQL.
#   db_is_pg            true on the PostgreSQL pass
#   db_conn DB          what to pass to --db, --from or --to for DB
#   db_query DB SQL     rows as "v1|v2" lines (= sqlite3 DB SQL on either)
#   db_dump DB [TABLE...]  `patchgap db dump` (sorted 'table|"v"|...' lines,
#                       the same on both backends), only TABLEs if named
#   db_reset DB         no database DB any more (file, or server database)
#   db_clone SRC DST    DST becomes a copy of SRC (.backup, or `db copy`)
#   db_sqlite DB OUT    prints a SQLite file holding DB's rows (DB itself, or
#                       OUT filled by `db copy`): for Python's sqlite3 module
DB_WRAP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/pg-wrap.sh
db_is_pg() { [ "${PATCHGAP_TEST_BACKEND:-sqlite}" = postgresql ]; }
db__bin() { echo "${PATCHGAP_REAL_BIN:-${PG:-$PATCHGAP_BIN}}"; }
db_conn() {
	if db_is_pg; then "$DB_WRAP" --map "$1"; else echo "$1"; fi
}
db_query() {
	if db_is_pg; then "$DB_WRAP" --sqlite3 "$@"; else command sqlite3 -cmd '.timeout 10000' "$@"; fi
}
db_dump() {
	local db=$1; shift
	if [ $# = 0 ]; then
		"$(db__bin)" --db "$(db_conn "$db")" db dump
	else
		"$(db__bin)" --db "$(db_conn "$db")" db dump | grep -E "^($(IFS='|'; echo "$*"))\|" || true
	fi
}
db_reset() {
	if db_is_pg; then
		. "$(dirname "$DB_WRAP")/../pgserver.sh"
		"$(pg_server_bin)/psql" -X -q -d "$PATCHGAP_TEST_PGSERVER dbname=postgres" \
			-c "DROP DATABASE IF EXISTS \"$(db_conn "$1" | sed 's/.*dbname=//')\"" >/dev/null
	else
		rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
	fi
}
db_clone() {
	if db_is_pg; then
		db_reset "$2"
		"$(db__bin)" db copy --from "$(db_conn "$1")" --to "$(db_conn "$2")" >/dev/null
	else
		command sqlite3 -cmd '.timeout 10000' "$1" ".backup '$2'"
	fi
}
db_sqlite() {
	if db_is_pg; then
		rm -f "$2"
		"$(db__bin)" db copy --from "$(db_conn "$1")" --to "$2" >/dev/null || return 1
		echo "$2"
	else
		echo "$1"
	fi
}
