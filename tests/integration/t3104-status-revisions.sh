#!/bin/bash
# `patchgap status` of any revision a user names (tags, vendor tags,
# revision syntax, `git describe` output, commit ids) evaluated on the
# tracked branch that contains it; a revision no tracked branch contains is
# a clear error.  A fix with no introducer known is open where it is absent
# (CNA convention), also in a vendor tree lacking a stable-only fix; a
# merge commit is never a (silent) fix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dyad.sh"
repo_init
mk BASE "init"; git tag v6.0
mk IA "a: add parser"
git tag v6.1
git branch linux-6.1.y v6.1
mk FA "a: fix use-after-free in parser" "Fixes: ${IA:0:12} (\"a: add parser\")"
mk FU "u: fix out-of-bounds read in walker"
git checkout -q -b side
mk M1 "m: fix use-after-free in bar()"
git checkout -q master
tick; git merge -q --no-ff -m "Merge tag 'net-fixes' of git://example.org/net: fix use-after-free" side
MERGE=$(git rev-parse HEAD)
git tag v6.2
git checkout -q linux-6.1.y
pick BFA $FA; git tag v6.1.1
mk X1 "x: one"; mk X2 "x: two"; git tag v6.1.2
mk SB "s: add table"; git tag v6.1.3
git branch vendor/acme-6.1 v6.1.3
mk SF "s: fix table" "Fixes: ${SB:0:12} (\"s: add table\")"
mk SF2 "t: fix stable-only leak"; git tag v6.1.4
mk X3 "x: three"
git checkout -q vendor/acme-6.1
mk V1 "acme: tune"; git tag acme-6.1.3-1
git checkout -q -b scratch v6.0
mk SC "scratch: unrelated"
git checkout -q master
cna CVE-2026-20001 $FA
cna CVE-2026-20002 $FU
cna CVE-2026-20003 $SF
cna CVE-2026-20004 $SF2
conf master:mainline linux-6.1.y:stable vendor/acme-6.1:vendor
printf '\tbase = linux-6.1.y\n' >>"$T/patchgap.conf"
cd $T
check "ingest" $PG --quiet ingest
check "cve import" $PG --quiet cve import vulns

# open CVE ids per target, all targets in one run (one index for all)
TARGETS=(linux-6.1.y v6.1.4 v6.1.1 v6.1.3 "linux-6.1.y~7" "linux-6.1.y~6" "linux-6.1.y~2"
	"$(git -C repo describe --tags linux-6.1.y)" "${SB:0:10}" v6.1 master vendor/acme-6.1
	acme-6.1.3-1 "acme-6.1.3-1~1")
WANT=(CVE-2026-20002 CVE-2026-20002 CVE-2026-20002,CVE-2026-20004
	CVE-2026-20002,CVE-2026-20003,CVE-2026-20004 CVE-2026-20001,CVE-2026-20002
	CVE-2026-20002,CVE-2026-20004 CVE-2026-20002,CVE-2026-20004 CVE-2026-20002
	CVE-2026-20002,CVE-2026-20003,CVE-2026-20004 CVE-2026-20001,CVE-2026-20002 ""
	CVE-2026-20002,CVE-2026-20003,CVE-2026-20004 CVE-2026-20002,CVE-2026-20003,CVE-2026-20004
	CVE-2026-20002,CVE-2026-20003,CVE-2026-20004)
$PG status --json "${TARGETS[@]}" >all.json || fail "status of every target"
mapfile -t GOT < <(python3 -c '
import json, sys
for o in json.load(open(sys.argv[1])):
    print(",".join(sorted(e["id"] for e in o["unfixed"] if e["kind"] == "cve")))' all.json)
for i in "${!TARGETS[@]}"; do
	if [ "${GOT[$i]-?}" = "${WANT[$i]}" ]; then ok "status ${TARGETS[$i]}: open [${WANT[$i]}]"
	else fail "status ${TARGETS[$i]}: open [${GOT[$i]-?}], want [${WANT[$i]}]"; fi
done

$PG status --json acme-6.1.3-1 >v.json
check "a vendor tag is evaluated on the vendor tree, unknown introducers marked" python3 - v.json <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["branch"] == "vendor/acme-6.1" and o["contained_in"] == ["vendor/acme-6.1"], o
by = {e["id"]: e for e in o["unfixed"]}
assert by["CVE-2026-20004"]["introducer_known"] is False and by["CVE-2026-20004"]["status"] == "affected"
assert by["CVE-2026-20003"]["introducer_known"] is True
assert o["counts"]["introducer_unknown"] == sum(1 for e in o["unfixed"] if not e["introducer_known"])
assert "possibly_affected" not in o
for e in o["unfixed"]:
    assert e["status"] == "affected", e
PY
$PG status --json v6.1.3 >t.json
check "a stable tag is contained in the stable branch and the vendor tree" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["branch"] == "linux-6.1.y" and o["contained_in"] == ["linux-6.1.y", "vendor/acme-6.1"], o' t.json

set +e
$PG status no-such-rev >/dev/null 2>err1; rc1=$?
$PG status scratch >/dev/null 2>err2; rc2=$?
set -e
check "an unknown revision exits 3" test $rc1 = 3
check "the error names the revision" grep -q "'no-such-rev' is not a tracked branch, a tag, a revision" err1
check "a revision on no tracked branch exits 3" test $rc2 = 3
check "the error names it" grep -q "'scratch' (commit ${SC:0:12}) is on no tracked branch" err2

# a merge is never a fix, even when flagged
$PG --quiet classify >/dev/null
sqlite3 patchgap.db "UPDATE classifications SET label = 1 WHERE sha IN ('$MERGE', '$M1')"
check "classifier rows for the merge and the merged fix" test "$(sqlite3 patchgap.db "SELECT count(*) FROM classifications WHERE label = 1 AND sha IN ('$MERGE', '$M1')")" = 2
$PG status --json linux-6.1.y >s.json
check "the merged fix is a silent fix, the merge is not" python3 - s.json "$MERGE" "$M1" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
ids = {e["id"] for e in o["unfixed"] if e["kind"] == "silent"}
assert sys.argv[3] in ids and sys.argv[2] not in ids, ids
PY
finish
