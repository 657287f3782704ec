#!/bin/bash
# t0802: with [worker] enabled = true, backport --all queues one backport job
# per open fix (by severity, never twice) instead of running them; worker
# processes on the SQLite database run them, results stored once per job
# (job_results), none recorded as backport_runs by the jobs themselves.
. "$(dirname "$0")/lib-backport.sh"
. "$(dirname "$0")/lib-backport.sh"
R=$TMP/repo
git init -q "$R"; cd "$R"
mkdir -p drivers
gen_c foo 20 >drivers/foo.c
git add . && git commit -qm "base" && git tag -a v6.0 -m v6.0
set_line drivers/foo.c 8 "	return x + 2 + len;"; A=$(commit_all "foo: use len")
set_line drivers/foo.c 13 "	return x + 3 + len;"; A2=$(commit_all "foo: use len in foo_3")
git tag -a v6.1 -m v6.1
git checkout -q -b linux-6.1.y v6.1
set_line drivers/foo.c 13 "	return x + 3 + len; /* stable */"; commit_all "stable: note" >/dev/null
git tag -a v6.1.1 -m v6.1.1
git checkout -q master
set_line drivers/foo.c 8 "	return x + 2 + min(len, 16);"
F1=$(commit_all "foo: bound len in foo_2

Fixes: ${A:0:12} (\"foo: use len\")")
set_line drivers/foo.c 13 "	return x + 3 + min(len, 16);"
F2=$(commit_all "foo: bound len in foo_3

Fixes: ${A2:0:12} (\"foo: use len in foo_3\")")
git tag -a v6.2-rc1 -m rc1

cat >"$TMP/pg.conf" <<CONF
[core]
	repository = $R
	database = $TMP/pg.db
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
CONF
export PATCHGAP_CONFIG=$TMP/pg.conf
# ingest is set-up here, not under test (its own tests cover it): its leak
# report must not decide this test (libgit2 objects kept by ingest under ASan)
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" "$PATCHGAP_BIN" ingest >"$TMP/ingest.out" 2>&1 \
	|| fail "ingest exited $?: $(tail -5 "$TMP/ingest.out")"
cve() { # id fix severity
	local d=$TMP/vulns/cve/published/2024
	mkdir -p "$d"
	cat >"$d/$1.json" <<JSON
{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "$1", "state": "PUBLISHED", "assignerOrgId": "416baaa9-dc9f-4396-8d5f-8c081fb06d67"},
 "containers": {"cna": {"providerMetadata": {"orgId": "416baaa9-dc9f-4396-8d5f-8c081fb06d67"},
   "title": "$1", "metrics": [{"cvssV3_1": {"baseScore": $3, "baseSeverity": "$4", "version": "3.1",
   "vectorString": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}]}}}
JSON
	echo "$2" >"$d/$1.sha1"
}
cve CVE-2024-0001 "$F1" 5.5 MEDIUM
cve CVE-2024-0002 "$F2" 9.8 CRITICAL
"$PATCHGAP_BIN" cve import "$TMP/vulns" >/dev/null 2>"$TMP/imp.err" || fail "cve import: $(cat "$TMP/imp.err")"
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
[ "$(sqlite3 "$TMP/pg.db" "SELECT state FROM jobs ORDER BY id" | paste -sd,)" = "done,done" ] || fail "jobs: $("$PATCHGAP_BIN" jobs list)"
"$PATCHGAP_BIN" jobs result 1 | grep -q '"status": "conflict"' || fail "job 1 result: $("$PATCHGAP_BIN" jobs result 1)"
"$PATCHGAP_BIN" jobs result 2 | grep -q '"status": "clean"' || fail "job 2 result: $("$PATCHGAP_BIN" jobs result 2)"
[ "$(sqlite3 "$TMP/pg.db" "SELECT count(*) FROM job_results")" = 2 ] || fail "results"
[ "$(sqlite3 "$TMP/pg.db" "SELECT count(*) FROM backport_runs")" = 0 ] || fail "jobs recorded backport_runs"
echo "ok: backport --all queues, workers run"
