#!/bin/bash
# kill -9 at arbitrary moments of an ingest, then a new run: the database must
# equal, row for row, the one an uninterrupted run produces.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
$PG --db clean.db ingest --batch 25 >/dev/null
dump() { db_dump "$1" | grep -v '^meta|'; }
dump clean.db > clean.txt
kills=0
for delay in 0.05 0.2 0.4 0.7 1.0 1.5 2.5; do
	$PG --db crash.db ingest --batch 25 >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
	wait $pid 2>/dev/null || true
done
echo "killed $kills runs"
$PG --db crash.db ingest --batch 25 >/dev/null
dump crash.db > crash.txt
check "at least two runs were killed mid-way" test $kills -ge 2
check "crash-resumed database equals the uninterrupted one" cmp -s clean.txt crash.txt
db_is_pg || check "integrity check passes" test "$(sqlite3 crash.db 'PRAGMA integrity_check')" = ok
finish
