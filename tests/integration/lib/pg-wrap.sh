#!/bin/bash
# pg-wrap.sh - run patchgap (or, with --sqlite3, a sqlite3-style query) with
# every database file mapped to a PostgreSQL database of its own
# (--map FILE prints the connection string of FILE).
# Used by lib.sh when PATCHGAP_TEST_BACKEND=postgresql; needs
# PATCHGAP_REAL_BIN and PATCHGAP_TEST_PGSERVER ("host=... port=... user=...").
# The database of a file is named after a hash of its absolute path: the
# same file always maps to the same database, two files never share one.
set -u
map() { # a database name as the test wrote it -> a connection string
	case "$1" in
	*=*|postgres://*|postgresql://*) echo "$1" ;;
	*) echo "$PATCHGAP_TEST_PGSERVER dbname=t$(realpath -m "$1" | md5sum | cut -c1-20)" ;;
	esac
}
if [ "${1:-}" = --map ]; then
	map "$2"; exit 0
fi
if [ "${1:-}" = --sqlite3 ]; then
	shift
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
	db=$1; shift
	if [ $# -gt 0 ]; then sql="$*"; else sql=$(cat); fi
	case "$sql" in .*) echo "pg-wrap: sqlite3 dot-command not supported on PostgreSQL: $sql" >&2; exit 1 ;; esac
	# the server's own psql: /usr/bin/psql is a Perl wrapper, slow to start
	psql=psql
	for d in /usr/lib/postgresql/*/bin; do [ -x "$d/psql" ] && psql=$d/psql; done
	exec "$psql" -X -q -At -F'|' -v ON_ERROR_STOP=1 -d "$(map "$db")" -c "$sql"
fi
args=() db="" conf=${PATCHGAP_CONFIG:-patchgap.conf}
[ -n "${PATCHGAP_CONFIG:-}" ] || conf=patchgap.conf
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
	case "$1" in
	--db) db=$2; shift 2 ;;
	--db=*) db=${1#--db=}; shift ;;
	--conf) conf=$2; args+=("$1" "$2"); shift 2 ;;
	--conf=*) conf=${1#--conf=}; args+=("$1"); shift ;;
	*) args+=("$1"); shift ;;
	esac
done
verb=${1:-}
if [ -z "$db" ] && [ -f "$conf" ] && [ "$verb" != init ]; then
	db=$(git config -f "$conf" core.database 2>/dev/null || echo patchgap.db)
	case "$db" in /*|*=*|postgres://*|postgresql://*) ;; *) db=$(dirname "$conf")/$db ;; esac
fi
if [ -z "$db" ] && [ "$verb" = init ]; then
	db=patchgap.db
	for ((i = 2; i <= $#; i++)); do
		[ "${!i}" = --database ] && { j=$((i + 1)); db=${!j}; }
	done
	case "$db" in /*) ;; *) db=$(dirname "$conf")/$db ;; esac
fi
[ -n "$db" ] && args+=(--db "$(map "$db")")
exec "$PATCHGAP_REAL_BIN" "${args[@]}" "$@"
