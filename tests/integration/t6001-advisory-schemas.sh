#!/bin/bash
# t6001: every JSON advisory format validates against the official schemas
# (../shared/schemas, offline, with ajv from the npm registry installed into
# the build dir), for real kernel CNA records: a stable-introduced bug that
# is never fixed on some branches, a bug introduced and fixed within one
# stable release, a rejected id, branch-scoped documents including one for a
# branch that is not affected, and an in-memory model of a silent fix with
# a vendor tree and a .config build.  A broken copy must be rejected, so a
# validator that accepts everything would fail this test.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCHEMAS=$ROOT/../shared/schemas
DATA=${PATCHGAP_SHARED_DATA:-$ROOT/../shared/data}
CVES=$DATA/kernel-cves.jsonl.gz
[ -d "$SCHEMAS" ] || { echo "SKIP: ../shared/schemas not present"; exit 0; }
[ -r "$CVES" ] || { echo "SKIP: $CVES not present"; exit 0; }
MODS=$("$ROOT/tests/integration/lib/need-ajv.sh" "$ROOT") || { echo "SKIP: $MODS"; exit 0; }
AJVDIR=$(dirname "$MODS")
AJV=$MODS/.bin/ajv

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
gen() { # id [branch]
	"$PATCHGAP_BIN" --db "$T/db" advisory --format all --cve-jsonl "$CVES" --id "$1" ${2:+--branch "$2"} --out "$T/out" >/dev/null ||
		fail "advisory $1 ${2:-} failed"
}
gen CVE-2025-21629             # stable-introduced (6.1.116), never fixed on 4.19..6.11
gen CVE-2025-21629 6.1         # branch-scoped, fixed
gen CVE-2025-21629 5.4         # branch-scoped, affected, backport needed
gen CVE-2025-21629 4.4         # branch-scoped, not affected (bug entered mainline in 6.12)
gen CVE-2021-46905             # introduced and fixed in one stable release on 4.4/4.9/4.14
gen CVE-2021-46905 4.4         # a document with no affected branch
gen CVE-2019-25161             # rejected
gen CVE-2020-36785             # two fixing commits, CVSS, vulnerable override
gen CVE-2024-38635             # a dyad line with unknown introduction ("0")

cat >"$T/model.json" <<'JSON'
{
  "schema": "patchgap-advisory-model/1",
  "id": "PGAP-SILENT-0123456789ab",
  "title": "net: silent use-after-free fix (vendor tree)",
  "data_date": "2026-03-01T12:00:00Z",
  "products": [
    {"id": "acme-6.1", "branch": "acme-6.1", "kind": "vendor", "repo": "https://git.example.org/acme/linux.git"},
    {"id": "acme-6.1+arm64", "branch": "acme-6.1", "kind": "vendor", "build": "arm64", "repo": "https://git.example.org/acme/linux.git"},
    {"id": "linux-6.1.y", "branch": "6.1", "kind": "stable", "has_tags": true}
  ],
  "vulnerabilities": [
    {"id": "PGSA-0123456789ab", "title": "net: fix use-after-free in foo_rcv()", "cwe": "CWE-416",
     "bug_class": "use-after-free", "cvss": {"vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "score": 7.8, "severity": "HIGH"},
     "fix_commits": ["0123456789abcdef0123456789abcdef01234567"],
     "program_files": ["net/foo/foo.c"],
     "states": [
       {"product": "linux-6.1.y", "status": "fixed", "vuln_version": "6.1.10", "vuln_sha": "1111111111111111111111111111111111111111",
        "fix_version": "6.1.20", "fix_sha": "2222222222222222222222222222222222222222"},
       {"product": "acme-6.1", "status": "affected", "vuln_sha": "1111111111111111111111111111111111111111",
        "remediation": "backport needed: 2222222222222222222222222222222222222222"},
       {"product": "acme-6.1+arm64", "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
        "evidence": "CONFIG_FOO is not set in the arm64 .config"}
     ]},
    {"id": "CVE-2099-0001", "title": "second issue, unknown status", "states": [
       {"product": "acme-6.1", "status": "under_investigation"}]}
  ]
}
JSON
"$PATCHGAP_BIN" --db "$T/db" advisory --format all --model "$T/model.json" --out "$T/out" >/dev/null || fail "model advisory failed"

n=$(ls "$T"/out/*.json | wc -l)
[ "$n" -ge 40 ] || fail "expected at least 40 JSON documents, got $n"
jobs=()
for f in "$T"/out/*.json; do
	case "$f" in
	*.osv.json) jobs+=("osv=$f") ;; *.cve5.json) jobs+=("cve5=$f") ;;
	*.csaf.json) jobs+=("csaf=$f") ;; *.openvex.json) jobs+=("openvex=$f") ;;
	esac
done
for k in osv cve5 csaf openvex; do
	c=$(printf '%s\n' "${jobs[@]}" | grep -c "^$k=")
	[ "$c" -ge 10 ] || fail "only $c $k documents"
done
# the silent fix has no CVE id: no CVE JSON 5 file for it, OSV per vulnerability
[ ! -e "$T/out/PGAP-SILENT-0123456789ab.PGSA-0123456789ab.cve5.json" ] || fail "CVE JSON 5 written for a non-CVE id"
[ -e "$T/out/PGAP-SILENT-0123456789ab.CVE-2099-0001.cve5.json" ] || fail "CVE JSON 5 missing for the CVE in the model"
[ -e "$T/out/PGAP-SILENT-0123456789ab.PGSA-0123456789ab.osv.json" ] || fail "OSV missing for the silent fix"

# the not-affected document says so
jq -e '.vulnerabilities[0].product_status.known_not_affected == ["linux-4.4.y"]' "$T/out/PGAP-CVE-2021-46905-4.4.csaf.json" >/dev/null ||
	fail "CSAF of CVE-2021-46905 on 4.4 is not 'known_not_affected'"
jq -e '.statements[0].status == "not_affected" and .statements[0].justification == "vulnerable_code_not_present"' \
	"$T/out/PGAP-CVE-2021-46905-4.4.openvex.json" >/dev/null || fail "OpenVEX of CVE-2021-46905 on 4.4 is not not_affected"
jq -e '.affected == [] and (.database_specific.not_affected | length) == 1' "$T/out/PGAP-CVE-2021-46905-4.4.osv.json" >/dev/null ||
	fail "OSV of CVE-2021-46905 on 4.4 lists affected ranges"
jq -e '.containers.cna.affected[0].defaultStatus == "unaffected" and (.containers.cna.affected[0].versions[0].status == "unaffected")' \
	"$T/out/PGAP-CVE-2021-46905-4.4.cve5.json" >/dev/null || fail "CVE5 of CVE-2021-46905 on 4.4 is not explicit about 'unaffected'"
grep -q "None of the branches covered by this advisory is affected" "$T/out/PGAP-CVE-2021-46905-4.4.mbox" ||
	fail "text of CVE-2021-46905 on 4.4 does not say 'not affected'"
# the rejected one is a REJECTED record / withdrawn entry
jq -e '.cveMetadata.state == "REJECTED"' "$T/out/PGAP-CVE-2019-25161.cve5.json" >/dev/null || fail "rejected CVE not REJECTED"
jq -e '.withdrawn | type == "string"' "$T/out/PGAP-CVE-2019-25161.osv.json" >/dev/null || fail "rejected CVE not withdrawn in OSV"
grep -q "^Subject: REJECTED: CVE-2019-25161" "$T/out/PGAP-CVE-2019-25161.mbox" || fail "rejected CVE text has no REJECTED subject"

# the text advisories are well-formed mailboxes: one message per vulnerability, headers parsed
if command -v python3 >/dev/null; then
	python3 - "$T/out" <<'PY' || fail "an mbox does not parse"
import mailbox, sys, glob, os
n = 0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.mbox"))):
    msgs = list(mailbox.mbox(f))
    want = 2 if "SILENT" in f else 1
    assert len(msgs) == want, (f, len(msgs))
    for m in msgs:
        assert m["Subject"] and m["Date"] and m["Message-ID"] and m["X-Patchgap-Revision"], f
        body = m.get_payload()
        assert "Affected and fixed versions" in body and "Description" in body, f
    n += 1
assert n >= 10, n
PY
fi

# negative controls: the validators reject broken documents
jq '.affected[0].ranges[0].events[0].introduced = "04c20a9356f2"' "$T/out/PGAP-CVE-2025-21629.osv.json" >"$T/bad.osv.json"
jq 'del(.document.category)' "$T/out/PGAP-CVE-2025-21629.csaf.json" >"$T/bad.csaf.json"
jq '.statements[0].status = "maybe"' "$T/out/PGAP-CVE-2025-21629.openvex.json" >"$T/bad.openvex.json"
jq '.containers.cna.affected[0].versions[0].status = "perhaps"' "$T/out/PGAP-CVE-2025-21629.cve5.json" >"$T/bad.cve5.json"
jobs+=("!osv=$T/bad.osv.json" "!csaf=$T/bad.csaf.json" "!openvex=$T/bad.openvex.json" "!cve5=$T/bad.cve5.json")
out=$(node "$ROOT/tests/integration/lib/ajv-validate.js" "$AJVDIR/node_modules" "$SCHEMAS" "${jobs[@]}" 2>&1) ||
	{ printf '%s\n' "$out" | grep -v ' valid$' | head -60; fail "schema validation"; }
echo "ok $(printf '%s\n' "$out" | grep -c ' valid$') documents valid, $(printf '%s\n' "$out" | grep -c 'expected invalid') broken copies rejected"
