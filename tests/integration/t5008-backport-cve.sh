#!/bin/bash
# t5008: backport driven by CVE ids and by `status`: an ingested history
# (mainline + linux-6.1.y), two imported CVE records (vulns.git layout), then
#   backport CVE-2024-0001 --onto linux-6.1.y   -> its fix, clean, created
#   backport --all --onto linux-6.1.y           -> every open fix, by
#        severity, continuing past the conflicting one; summary table
. "$(dirname "$0")/lib-backport.sh"
cve_backport_fixture

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
