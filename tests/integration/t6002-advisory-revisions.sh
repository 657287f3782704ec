#!/bin/bash
# t6002: document identity and revisions through the CLI.  Re-running on
# unchanged data gives byte-identical files in every format; a changed
# model gives revision 2 under the same document id with a grown revision
# history and a later current_release_date; --no-record does not write;
# without a database every document is revision 1.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
P=$PATCHGAP_BIN

cat >"$T/m1.json" <<'JSON'
{"schema": "patchgap-advisory-model/1", "id": "PGAP-REV-1", "title": "revision test",
 "data_date": "2026-02-01T00:00:00Z",
 "products": [{"id": "linux-6.6.y", "branch": "6.6", "kind": "stable", "has_tags": true},
              {"id": "linux-mainline", "branch": "mainline", "kind": "mainline", "has_tags": true}],
 "vulnerabilities": [{"id": "CVE-2026-0001", "title": "foo: fix overflow", "description": "An overflow.",
   "fix_commits": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "program_files": ["fs/foo.c"],
   "states": [
     {"product": "linux-mainline", "status": "fixed", "vuln_version": "6.5", "vuln_sha": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "fix_version": "6.9", "fix_sha": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
     {"product": "linux-6.6.y", "status": "affected", "vuln_version": "6.5", "vuln_sha": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "remediation": "backport needed"}]}]}
JSON
# the same content, keys and arrays in another order
jq -S '.products |= reverse | .vulnerabilities[0].states |= reverse' "$T/m1.json" >"$T/m1b.json"
# the 6.6 branch got the fix
jq '.vulnerabilities[0].states[1] = {"product": "linux-6.6.y", "status": "fixed", "vuln_version": "6.5",
     "vuln_sha": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "fix_version": "6.6.30", "fix_sha": "cccccccccccccccccccccccccccccccccccccccc"}' \
	"$T/m1.json" >"$T/m2.json"

$P --db "$T/db" advisory --format all --model "$T/m1.json" --out "$T/a" >"$T/log1" || fail "first run"
grep -q "PGAP-REV-1 revision 1 (2026-02-01T00:00:00Z)" "$T/log1" || fail "first run is not revision 1: $(cat "$T/log1")"
$P --db "$T/db" advisory --format all --model "$T/m1b.json" --out "$T/b" >/dev/null || fail "second run"
for f in "$T"/a/*; do
	cmp -s "$f" "$T/b/$(basename "$f")" || fail "$(basename "$f") differs on unchanged (reordered) input"
done
[ "$(ls "$T/a" | wc -l)" = 5 ] || fail "expected 5 files, got $(ls "$T/a")"

# --no-record: revision 2 is shown but not stored
$P --db "$T/db" advisory --format csaf --model "$T/m2.json" --no-record | jq -e '.document.tracking.version == "2"' >/dev/null ||
	fail "--no-record did not compute revision 2"
$P --db "$T/db" advisory --format csaf --model "$T/m1.json" | cmp -s - "$T/a/PGAP-REV-1.csaf.json" ||
	fail "--no-record wrote a revision"

$P --db "$T/db" --quiet advisory --format all --model "$T/m2.json" --out "$T/c" || fail "changed run"
$P --db "$T/db" advisory --json --format all --model "$T/m2.json" --out "$T/c" >"$T/j" || fail "json summary"
jq -e '.document == "PGAP-REV-1" and .revision == 2 and (.files | length) == 5' "$T/j" >/dev/null || fail "bad --json summary: $(cat "$T/j")"
C=$T/c/PGAP-REV-1.csaf.json
jq -e '.document.tracking.id == "PGAP-REV-1" and .document.tracking.version == "2"
	and (.document.tracking.revision_history | length) == 2
	and .document.tracking.initial_release_date == "2026-02-01T00:00:00Z"
	and .document.tracking.current_release_date == "2026-02-01T00:00:01Z"' "$C" >/dev/null ||
	fail "CSAF revision 2 tracking wrong: $(jq -c .document.tracking "$C")"
jq -e '.vulnerabilities[0].product_status.fixed == ["linux-mainline", "linux-6.6.y"]' "$C" >/dev/null || fail "CSAF product status"
jq -e '.version == 2 and .last_updated == "2026-02-01T00:00:01Z" and .timestamp == "2026-02-01T00:00:00Z"' \
	"$T/c/PGAP-REV-1.openvex.json" >/dev/null || fail "OpenVEX revision"
jq -e '.modified == "2026-02-01T00:00:01Z" and .published == "2026-02-01T00:00:00Z" and .database_specific.revision == 2' \
	"$T/c/PGAP-REV-1.osv.json" >/dev/null || fail "OSV revision"
grep -q "^X-Patchgap-Revision: 2" "$T/c/PGAP-REV-1.mbox" || fail "text revision"
# a later data date moves the date to the data's
jq '.data_date = "2026-03-01T00:00:00Z" | .vulnerabilities[0].title = "foo: fix overflow (updated)"' "$T/m2.json" >"$T/m3.json"
$P --db "$T/db" advisory --format csaf --model "$T/m3.json" |
	jq -e '.document.tracking.version == "3" and .document.tracking.current_release_date == "2026-03-01T00:00:00Z"' >/dev/null ||
	fail "revision 3 not dated from the data"
# going back to revision 2's content is a new revision too (the advisory changed again)
$P --db "$T/db" advisory --format csaf --model "$T/m2.json" | jq -e '.document.tracking.version == "4"' >/dev/null ||
	fail "reverting the content is not a new revision"
# without a database (no --db, no config): revision 1, stable bytes
(cd "$T" && PATCHGAP_CONFIG="$T/none.conf" "$P" advisory --format csaf --model m2.json) >"$T/nodb1" || fail "no-db run"
(cd "$T" && PATCHGAP_CONFIG="$T/none.conf" "$P" advisory --format csaf --model m2.json) | cmp -s - "$T/nodb1" || fail "no-db not stable"
jq -e '.document.tracking.version == "1"' "$T/nodb1" >/dev/null || fail "no-db not revision 1"
echo "ok revisions"
