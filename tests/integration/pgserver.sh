# pgserver.sh - a real, private PostgreSQL server for tests (source it).
#
#   pg_server_start        initdb + pg_ctl into a fresh temp dir; the server
#                          listens on a unix socket in that dir only (no TCP);
#                          sets PGT_DIR, PGT_PORT, PGT_SERVER (libpq words
#                          "host=... port=... user=...", without dbname)
#   pg_server_stop         immediate shutdown and removal (also on EXIT)
#   pg_server_restart      stop (immediate: like a crash) and start again
#   pg_server_kill         stop (immediate) without starting again
#   pg_server_up           start the stopped server again
#   pg_conninfo NAME       the connection string of database NAME
#   pg_psql NAME ARGS...   psql on database NAME (-X -q -At -F'|')
#
# initdb refuses to run as root: as root the server runs as 'nobody'.
# fsync is off: these servers hold throwaway test data.
# Returns 1 (callers print SKIP) when no PostgreSQL server binaries exist.
pg_server_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	return 1
}

pg_server__as() {
	if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pg_server_start() {
	PGT_BIN=$(pg_server_bin) || return 1
	PGT_DIR=$(mktemp -d /tmp/pg-srv.XXXXXX)
	chmod 755 "$PGT_DIR"
	[ "$(id -u)" = 0 ] && chown nobody "$PGT_DIR"
	PGT_USER=$(pg_server__as id -un)
	pg_server__as "$PGT_BIN/initdb" -D "$PGT_DIR/data" -U "$PGT_USER" --auth=trust -E SQL_ASCII \
		--locale=C -N >"$PGT_DIR/initdb.log" 2>&1 || { cat "$PGT_DIR/initdb.log"; return 1; }
	local try
	for try in 1 2 3 4 5; do
		PGT_PORT=$((20000 + (RANDOM % 20000)))
		pg_server_up && break
	done
	PGT_SERVER="host=$PGT_DIR port=$PGT_PORT user=$PGT_USER"
	# keeps lib.sh's cleanup of $T
	trap 'pg_server_stop; [ -n "${PG_KEEP:-}" ] || [ -z "${T:-}" ] || rm -rf "$T"' EXIT
}

pg_server_up() {
	pg_server__as "$PGT_BIN/pg_ctl" -D "$PGT_DIR/data" -l "$PGT_DIR/server.log" -w -t 30 \
		-o "-k $PGT_DIR -p $PGT_PORT -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
		start >/dev/null 2>&1
}

pg_server_kill() {
	pg_server__as "$PGT_BIN/pg_ctl" -D "$PGT_DIR/data" -m immediate -w stop >/dev/null 2>&1
}

pg_server_restart() {
	pg_server_kill && pg_server_up
}

pg_server_stop() {
	[ -n "${PGT_DIR:-}" ] && [ -d "$PGT_DIR" ] || return 0
	pg_server_kill
	rm -rf "$PGT_DIR"
	PGT_DIR=""
}

pg_conninfo() {
	echo "$PGT_SERVER dbname=$1"
}

pg_psql() {
	local db=$1; shift
	"$PGT_BIN/psql" -X -q -At -F'|' -d "$(pg_conninfo "$db")" "$@"
}
