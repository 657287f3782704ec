#!/bin/bash
# t5008: backport driven by CVE ids and by `status`: an ingested history
# (mainline + linux-6.1.y), two imported CVE records (vulns.git layout), then
#   backport CVE-2024-0001 --onto linux-6.1.y   -> its fix, clean, created
#   backport --all --onto linux-6.1.y           -> every open fix, by
#        severity, continuing past the conflicting one; summary table
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

"$PATCHGAP_BIN" backport CVE-2024-0001 --onto linux-6.1.y >"$TMP/a.txt" || fail "CVE backport exited $?: $(cat "$TMP/a.txt")"
grep -q "result:   clean" "$TMP/a.txt" || fail "CVE backport: $(cat "$TMP/a.txt")"
git rev-parse -q --verify "refs/heads/patchgap/linux-6.1.y/${F1:0:12}" >/dev/null || fail "no ref for the CVE's fix"
[ "$(sqlite3 "$TMP/pg.db" "SELECT fix_sha FROM backport_runs")" = "$F1" ] || fail "CVE run not recorded"

rc=0; "$PATCHGAP_BIN" backport --all --onto linux-6.1.y --no-branch >"$TMP/b.txt" || rc=$?
[ "$rc" = 1 ] || fail "--all with a conflict: exit $rc, want 1: $(cat "$TMP/b.txt")"
# the table: critical first, then medium; the conflict does not stop the run
sed -n '/^ID /,$p' "$TMP/b.txt" >"$TMP/table"
[ "$(sed -n 2p "$TMP/table" | awk '{print $1, $3}')" = "CVE-2024-0002 conflict" ] || fail "table: $(cat "$TMP/table")"
[ "$(sed -n 3p "$TMP/table" | awk '{print $1, $3}')" = "CVE-2024-0001 clean" ] || fail "table: $(cat "$TMP/table")"
grep -q "^2 fixes: 1 done, 1 not applied$" "$TMP/table" || fail "summary: $(cat "$TMP/table")"
"$PATCHGAP_BIN" backport --all --onto linux-6.1.y --no-branch --json >"$TMP/c.json" || true
grep -c '"status": "clean"\|"status": "conflict"' "$TMP/c.json" | grep -qx 2 || fail "--all --json: $(cat "$TMP/c.json")"
echo "ok: CVE ids and --all"
