#!/bin/bash
# t0802: with [worker] enabled = true, backport --all queues one backport job
# per open fix (by severity, never twice) instead of running them; worker
# processes on the SQLite database run them, results stored once per job
# (job_results), none recorded as backport_runs by the jobs themselves.
. "$(dirname "$0")/lib-backport.sh"
cve_backport_fixture
printf '[worker]\n\tenabled = true\n' >>"$TMP/pg.conf"
"$PATCHGAP_BIN" backport --all --onto linux-6.1.y >"$TMP/q.txt" || fail "--all with workers enabled exited $?: $(cat "$TMP/q.txt")"
grep -q "^queued 2 backport jobs for linux-6.1.y (0 already queued)" "$TMP/q.txt" || fail "enqueue: $(cat "$TMP/q.txt")"
"$PATCHGAP_BIN" backport --all --onto linux-6.1.y --json >"$TMP/q.json" || fail "second --all"
grep -q '"existing": 2' "$TMP/q.json" && grep -q '"queued": 0' "$TMP/q.json" || fail "second --all queued again: $(cat "$TMP/q.json")"
[ "$(sqlite3 "$TMP/pg.db" "SELECT count(*) FROM backport_runs")" = 0 ] || fail "--all ran backports instead of queueing"
# the most severe first: CVE-2024-0002's fix is job 1
[ "$(sqlite3 "$TMP/pg.db" "SELECT args FROM jobs WHERE id = 1")" = "[\"$F2\",\"--onto\",\"refs/heads/linux-6.1.y\"]" ] \
	|| fail "job 1: $(sqlite3 "$TMP/pg.db" "SELECT args FROM jobs WHERE id = 1")"
"$PATCHGAP_BIN" worker --drain --poll 0 --concurrency 2 2>"$TMP/w.err" || fail "worker exited $?: $(cat "$TMP/w.err")"
[ "$(sqlite3 "$TMP/pg.db" "SELECT group_concat(state) FROM jobs")" = "done,done" ] || fail "jobs: $("$PATCHGAP_BIN" jobs list)"
"$PATCHGAP_BIN" jobs result 1 | grep -q '"status": "conflict"' || fail "job 1 result: $("$PATCHGAP_BIN" jobs result 1)"
"$PATCHGAP_BIN" jobs result 2 | grep -q '"status": "clean"' || fail "job 2 result: $("$PATCHGAP_BIN" jobs result 2)"
[ "$(sqlite3 "$TMP/pg.db" "SELECT count(*) FROM job_results")" = 2 ] || fail "results"
[ "$(sqlite3 "$TMP/pg.db" "SELECT count(*) FROM backport_runs")" = 0 ] || fail "jobs recorded backport_runs"
echo "ok: backport --all queues, workers run"
