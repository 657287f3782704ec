#!/bin/bash
# patchgap worker on a real PostgreSQL server (and, for the plain run, on
# SQLite): several worker processes at once run every job exactly once;
# kill -9 of a worker holding a job: the job is run again by another worker,
# one result; a worker stopped past its lease never commits a result next
# to the one of the worker that took the job over; failing jobs are parked
# with their error and can be retried.
# run.sh: sqlite only (tests both backends itself, on a server of its own that it restarts)
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/pgserver.sh"
pg_server_start || skip_all "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
cd $T
REAL=${PATCHGAP_REAL_BIN:-$PG}
Q=$(pg_conninfo queue)
state() { pg_psql queue -c "SELECT state FROM jobs WHERE id = $2"; }
field() { pg_psql queue -c "SELECT $3 FROM jobs WHERE id = $2"; }

# several workers, both backends: every job done once, by several slots
for db in "$T/local.db" "$Q"; do
	for i in $(seq 1 8); do "$REAL" --db "$db" jobs add hook "sleep 0.2; echo job $i" >/dev/null; done
	"$REAL" --db "$db" jobs add hook "sleep 0.2; echo job 1" > again.txt
	check "enqueuing the same work twice is a no-op" grep -q 'already queued' again.txt
	pids=""
	for w in 1 2 3; do
		"$REAL" --db "$db" worker --drain --poll 0 --concurrency 2 --name w$w 2>>workers.err & pids="$pids $!"
	done
	rc=0; for p in $pids; do wait $p || rc=1; done
	check "three workers exit 0 ($db)" test $rc = 0
	"$REAL" --db "$db" jobs list --json > list.json
	check "all 8 jobs done ($db)" test "$(python3 -c "import json; print(sum(j['state'] == 'done' and j['attempts'] == 1 for j in json.load(open('list.json'))))")" = 8
	check "by more than one worker process ($db)" test "$(python3 -c "import json; print(len({j['worker'] for j in json.load(open('list.json'))}))")" -gt 1
	check "results stored ($db)" test "$("$REAL" --db "$db" jobs result 7)" = "job 7"
done
check "one result row per job (PostgreSQL)" test "$(pg_psql queue -c 'SELECT count(*), count(DISTINCT job_id) FROM job_results')" = "8|8"

wait_state() { # id state: up to 10 s (psql: lighter than the CLI + python per look)
	for _ in $(seq 1 200); do [ "$(pg_psql queue -c "SELECT state FROM jobs WHERE id = $1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}

# kill -9 of the worker holding a job: re-run once by another worker
"$REAL" --db "$Q" jobs add --key crash hook 'sleep 2; echo ran' >/dev/null
id=$(pg_psql queue -c "SELECT id FROM jobs WHERE job_key = 'crash'")
"$REAL" --db "$Q" worker --lease 2 --poll 0 --kinds hook --name victim 2>/dev/null & victim=$!
check "the first worker claims the job" wait_state $id running
kill -9 $victim; wait $victim 2>/dev/null || true
"$REAL" --db "$Q" worker --drain --lease 2 --poll 0 --name rescuer 2>rescuer.err || fail "rescuer: $(cat rescuer.err)"
check "the job is done after the kill" test "$(state "$Q" $id)" = done
check "  on the second attempt" test "$(field "$Q" $id attempts)" = 2
check "  by the rescuer" grep -q '^rescuer:' <<<"$(field "$Q" $id worker)"
check "  with exactly one result" test "$(pg_psql queue -c "SELECT count(*) FROM job_results WHERE job_id = $id")" = 1

# a worker stopped past its lease: the worker that took over commits, it never does
"$REAL" --db "$Q" jobs add --key stall hook 'sleep 2; echo stall' >/dev/null
id=$(pg_psql queue -c "SELECT id FROM jobs WHERE job_key = 'stall'")
"$REAL" --db "$Q" worker --drain --lease 1 --poll 0 --name stalled 2>stalled.err & stalled=$!
check "the stalled worker claims the job" wait_state $id running
kill -STOP $stalled
sleep 1.5
"$REAL" --db "$Q" worker --drain --lease 5 --poll 0 --name second 2>second.err || fail "second: $(cat second.err)"
kill -CONT $stalled
rc=0; wait $stalled || rc=$?
check "the stalled worker exits normally" test $rc = 0
check "  saying it lost the job" grep -q 'no longer held' stalled.err
check "one result, from the second worker" test "$(pg_psql queue -c "SELECT count(*), min(worker) LIKE 'second:%' FROM job_results WHERE job_id = $id")" = "1|t"

# failures: retried, then parked with the error; retry requeues
"$REAL" --db "$Q" jobs add --key bad --max-attempts 2 hook 'echo broken >&2; exit 7' >/dev/null
id=$(pg_psql queue -c "SELECT id FROM jobs WHERE job_key = 'bad'")
"$REAL" --db "$Q" worker --drain --poll 0 2>/dev/null || fail "worker on a failing job"
check "a failing job is parked after max attempts" test "$(state "$Q" $id)" = parked
check "  with its error" grep -q 'exit 7: broken' <<<"$(field "$Q" $id last_error)"
check "  and no result" test "$(pg_psql queue -c "SELECT count(*) FROM job_results WHERE job_id = $id")" = 0
"$REAL" --db "$Q" jobs retry $id >/dev/null
check "jobs retry requeues it" test "$(state "$Q" $id)" = queued
"$REAL" --db "$Q" jobs cancel $id >/dev/null
check "jobs cancel cancels it" test "$(state "$Q" $id)" = cancelled
rc=0; "$REAL" --db "$Q" jobs cancel 999 2>/dev/null || rc=$?
check "cancel of an unknown job exits 3" test $rc = 3
rc=0; "$REAL" --db "$Q" worker --kinds nonsense 2>/dev/null || rc=$?
check "an unknown kind is a usage error" test $rc = 2
finish
