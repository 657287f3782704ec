#!/bin/bash
# PostgreSQL backend on a real server started here: db copy between SQLite
# and PostgreSQL both ways (identical dumps), a non-empty target refused
# untouched, a database from a newer patchgap refused, and a server restart
# in the middle of an ingest (the run fails, a rerun resumes to the same
# database as an uninterrupted run).
# run.sh: sqlite only (tests both backends itself, on a server of its own that it restarts)
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/pgserver.sh"
pg_server_start || skip_all "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
gen_repo small 11
cd $T
REAL=${PATCHGAP_REAL_BIN:-$PG}
dump() { "$REAL" --db "$1" db dump | grep -v '^meta|'; }

"$REAL" --db clean.db ingest --batch 25 >/dev/null || fail "sqlite ingest"
dump clean.db > clean.txt
check "the dump is not empty" test "$(wc -l < clean.txt)" -gt 1000

# SQLite -> PostgreSQL -> SQLite
"$REAL" db copy --from clean.db --to "$(pg_conninfo copy1)" > out.txt 2>err.txt || fail "copy to pg: $(cat err.txt)"
check "copy reports the rows" grep -q '^copied [0-9]* rows' out.txt
dump "$(pg_conninfo copy1)" > copy1.txt
check "PostgreSQL dump equals the SQLite dump after db copy" cmp -s clean.txt copy1.txt
"$REAL" --db "$(pg_conninfo copy1)" db dump | grep '^meta|' > meta1.txt
"$REAL" --db clean.db db dump | grep '^meta|' > meta0.txt
check "meta copied too" cmp -s meta0.txt meta1.txt
"$REAL" db copy --json --from "$(pg_conninfo copy1)" --to back.db > out.json || fail "copy back"
check "copy --json names the backends" grep -q '"from": "postgresql"' out.json
dump back.db > back.txt
check "copied back to SQLite: same dump" cmp -s clean.txt back.txt
# ids generated after a copy continue above the copied ones
"$REAL" --db "$(pg_conninfo copy1)" ingest --batch 25 >/dev/null || fail "ingest after copy"
dump "$(pg_conninfo copy1)" > copy1b.txt
check "  and leaves the same content" cmp -s clean.txt copy1b.txt

# a non-empty target is refused, untouched
rc=0; "$REAL" db copy --from clean.db --to "$(pg_conninfo copy1)" >/dev/null 2>err.txt || rc=$?
check "copy into a non-empty database exits 4" test $rc = 4
check "  saying it is not empty" grep -q 'is not empty' err.txt
dump "$(pg_conninfo copy1)" > copy1c.txt
check "  and changes nothing" cmp -s clean.txt copy1c.txt
rc=0; "$REAL" db copy --from missing.db --to "$(pg_conninfo copy2)" >/dev/null 2>&1 || rc=$?
check "copy from a missing file exits 3" test $rc = 3

# a database from a newer patchgap is refused
pg_psql copy1 -c "UPDATE meta SET value = '999' WHERE key = 'schema.ingest'"
rc=0; "$REAL" --db "$(pg_conninfo copy1)" ingest >/dev/null 2>err.txt || rc=$?
check "newer schema refused (exit 4)" test $rc = 4
check "  with a message naming the version" grep -q 'newer than this patchgap' err.txt
# a PostgreSQL database holding other tables is not ours
pg_psql postgres -c "CREATE DATABASE other" && pg_psql other -c "CREATE TABLE t (x int)"
rc=0; "$REAL" --db "$(pg_conninfo other)" ingest >/dev/null 2>err.txt || rc=$?
check "foreign database refused (exit 4)" test $rc = 4
check "  and left alone" test "$(pg_psql other -c "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'")" = 1

# server restart in the middle of an ingest
ok_restart=0
for delay in 0.3 0.8; do
	[ $ok_restart -ge 1 ] && break
	timeout 120 "$REAL" --db "$(pg_conninfo crash)" ingest --batch 25 >/dev/null 2>err.txt &
	pid=$!
	sleep $delay
	if kill -0 $pid 2>/dev/null; then
		pg_server_restart || fail "server restart"
		rc=0; wait $pid || rc=$?
		if [ $rc != 0 ] && grep -q "lost the connection\|terminat\|connect" err.txt; then ok_restart=$((ok_restart + 1)); fi
	else
		wait $pid || true
	fi
done
check "an ingest was cut by the server restart and said so" test $ok_restart -ge 1
"$REAL" --db "$(pg_conninfo crash)" ingest --batch 25 >/dev/null 2>err.txt || fail "rerun after restart: $(cat err.txt)"
dump "$(pg_conninfo crash)" > crash.txt
check "resumed database equals the uninterrupted one" cmp -s clean.txt crash.txt
finish
