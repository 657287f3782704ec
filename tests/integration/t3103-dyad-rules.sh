#!/bin/bash
# `patchgap affected` prints exactly the kernel CNA dyad's lines, one fixture
# CVE per dyad behaviour (doc/internals/affect.md, "dyad rules"): versions
# and -rc tags, unreleased fixes, several fix commits, mainline reverts and
# their backports, stable-only reverts, a backport reverted and re-applied,
# stable-only fixes, a Fixes: id that matches no commit, end-of-life
# branches, a backported bug never fixed on its branch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dyad.sh"
repo_init
mk BASE "init"; git tag v6.0
mk IA "a: add buffer"
git tag v6.1-rc1
mk IB "b: add table"
mk IE "e: add parser"
mk IZ "z: add cache"
mk IC "c: add queue"
mk J1 "j: add ring"
git tag v6.1
git branch linux-6.1.y v6.1
mk X "x: add feature"
mk Y "y: add helper"
mk W "w: add walker"
mk FC1 "c: fix queue overflow" "Fixes: ${IC:0:12} (\"c: add queue\")"
mk FZ "z: fix cache leak" "Fixes: ${IZ:0:12} (\"z: add cache\")"
mk FH "h: fix handler" "Fixes: 0123456789ab (\"h: gone\")"
mk G1 "j: fix ring overflow"
mk J2 "j: rework ring"
git tag v6.2-rc1
mk FC2 "c: fix queue underflow" "Fixes: ${IC:0:12} (\"c: add queue\")"
git tag v6.2
git branch linux-6.2.y v6.2

git checkout -q linux-6.1.y
pick BX $X; pick BY $Y; pick BW $W; pick BFC1 $FC1; git tag v6.1.1
pick BFZ $FZ; pick BFH $FH; git tag v6.1.2
rv RBFZ $BFZ; pick BFZ2 $FZ; pick BFC2 $FC2; git tag v6.1.3
mk SB "s: stable-only add"; git tag v6.1.4
mk SF "s: stable-only fix" "Fixes: ${SB:0:12} (\"s: stable-only add\")"; git tag v6.1.5

git checkout -q master
rv RVX $X
mk FY "y: fix helper" "Fixes: ${Y:0:12} (\"y: add helper\")"
mk FE "e: fix parser" "Fixes: ${IE:0:12} (\"e: add parser\")"
mk FW "w: fix walker" "Fixes: ${W:0:12} (\"w: add walker\")"
mk G2 "j: fix ring rework"
git tag v6.3
mk FA "a: fix buffer" "Fixes: ${IA:0:12} (\"a: add buffer\")"
git tag v6.4-rc1
mk FB "b: fix table" "Fixes: ${IB:0:12} (\"b: add table\")"

git checkout -q linux-6.1.y
pick BRVX $RVX; rv SR $BY "This reverts commit $BY which is commit $Y upstream."; git tag v6.1.6
pick BFA $FA; git tag v6.1.7
pick BFB $FB
git checkout -q linux-6.2.y
pick B2RVX $RVX; pick B2FY $FY; pick B2FE $FE; pick B2FW $FW; pick B2G2 $G2; git tag v6.2.1
pick B2FA $FA; pick B2FB $FB; git tag v6.2.2
git checkout -q master

cna CVE-2026-10001 $FA
cna CVE-2026-10002 $FB
cna CVE-2026-10003 $FC1 $FC2
cna CVE-2026-10004 $RVX
cna CVE-2026-10005 $FY
cna CVE-2026-10006 $FZ
cna CVE-2026-10007 $SF
cna CVE-2026-10008 $FH
cna CVE-2026-10009 $FE
cna CVE-2026-10010 $FW
cna CVE-2026-10011 $G1 $G2 -- $J1 $J2
conf master:mainline linux-6.1.y:stable linux-6.2.y:stable
cd $T
check "ingest of the fixture repository" $PG --quiet ingest
check "import of the fixture CNA folder" $PG --quiet cve import vulns

# versions: a tagged -rc counts only for the newest cycle (6.4-rc1; v6.2-rc1 is 6.2)
expect_dyad CVE-2026-10001 "6.1:$IA:6.1.7:$BFA" "6.1:$IA:6.2.2:$B2FA" "6.1:$IA:6.4-rc1:$FA"
# an unreleased fix prints nothing (mainline, and the 6.1.y backport after v6.1.7)
expect_dyad CVE-2026-10002 "6.1:$IB:6.2.2:$B2FB"
# several fix commits: every stable line, one mainline line (the first fix)
expect_dyad CVE-2026-10003 "6.1:$IC:6.1.1:$BFC1" "6.1:$IC:6.1.3:$BFC2" "6.1:$IC:6.2:$FC1"
# a mainline revert without Fixes: introduced by what it reverts; backported pair
expect_dyad CVE-2026-10004 "6.1.1:$BX:6.1.6:$BRVX" "6.2:$X:6.2.1:$B2RVX" "6.2:$X:6.3:$RVX"
# a stable-only revert of the backported bug closes it on that branch
expect_dyad CVE-2026-10005 "6.1.1:$BY:6.1.6:$SR" "6.2:$Y:6.2.1:$B2FY" "6.2:$Y:6.3:$FY"
# a fix backported, reverted and re-applied: the re-applied copy
expect_dyad CVE-2026-10006 "6.1:$IZ:6.1.3:$BFZ2" "6.1:$IZ:6.2:$FZ"
# a stable-only fix of a stable-only bug
expect_dyad CVE-2026-10007 "6.1.4:$SB:6.1.5:$SF"
# a Fixes: id that matches no commit: unknown introducer
expect_dyad CVE-2026-10008 "0:0:6.1.2:$BFH" "0:0:6.2:$FH"
# mainline introducer, 6.1.y never fixed (end of life): no 6.1.y line
expect_dyad CVE-2026-10009 "6.1:$IE:6.2.1:$B2FE" "6.1:$IE:6.3:$FE"
# a backported bug never fixed on its branch: fixed lines first, then the open one
expect_dyad CVE-2026-10010 "6.2:$W:6.2.1:$B2FW" "6.2:$W:6.3:$FW" "6.1.1:$BW:0:0"
# two introducers, two fixes: each fix pairs with the bug it closes (6.1.y never fixed: no line)
expect_dyad CVE-2026-10011 "6.1:$J1:6.2:$G1" "6.2:$J2:6.2.1:$B2G2" "6.2:$J2:6.3:$G2"

# patchgap's own per-branch view is kept, marked, in --verbose and --json
out=$($PG affected --verbose CVE-2026-10009)
check "--verbose marks the per-branch view" grep -q "^# patchgap: linux-6.1.y: affected" <<<"$out"
$PG affected --json CVE-2026-10009 >v.json
check "--json: dyad lines and the per-branch view" python3 - v.json "$IE" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert len(o["dyad"]) == 2, o["dyad"]
b = o["branches"]["linux-6.1.y"]
assert b["status"] == "affected" and b["vuln_sha"] == sys.argv[2] and b["fix_sha"] == "0", b
assert o["branches_view"] == "patchgap", o
PY

# stored cells: each CVE recomputed alone (its cells dropped) on the partial
# index, which loads only the rows its ids reach, equals a full recomputation;
# 6.1.y now carries the parser fix under another subject (found by annotation only)
cd repo && git checkout -q linux-6.1.y
echo fixed >"${PG_FILE[$FE]}" && git add -A && _commit "[6.1.y] e: fix parser" "commit $FE upstream."
git checkout -q master && cd "$T"
$PG --quiet ingest
$PG --quiet cells --full >/dev/null 2>&1
check "a backport under another subject is found by its annotation" \
	test "$(sqlite3 patchgap.db "SELECT fix_how FROM cells WHERE id = 'CVE-2026-10009' AND branch = 'linux-6.1.y'")" = annotation
db_dump patchgap.db cells cell_deps >full.dump
for id in $(sqlite3 patchgap.db "SELECT DISTINCT id FROM cells ORDER BY id"); do
	sqlite3 patchgap.db "DELETE FROM cells WHERE id = '$id'"
	PATCHGAP_CELLS_INDEX=partial $PG --quiet cells >/dev/null 2>&1
	db_dump patchgap.db cells cell_deps >part.dump
	cmp -s part.dump full.dump || { fail "$id alone on the partial index differs"; diff part.dump full.dump | head -4; }
done
ok "every CVE alone on the partial index: the cells of a full recomputation"
finish
