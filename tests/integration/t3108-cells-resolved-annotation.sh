#!/bin/bash
# `patchgap cells` after ingests that change a fix's verdict on a stable
# branch although neither the fix nor its introducer is new, each time
# compared with a full recomputation:
#  - a 6.1.y pick whose "commit X upstream." named a commit not yet
#    ingested counted as an unannotated pick, matched by subject to a fix
#    with the same subject; once X is ingested it is X's backport;
#  - a backport of the fix under another subject (found by annotation only);
#  - a revert of that backport;
# and not after a mainline commit whose Fixes: names the fix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-dyad.sh"
repo_init
mk BASE "init"; git tag v6.0
mk I "q: add quux"
git tag v6.1
git branch linux-6.1.y v6.1
mk F "q: fix quux" "Fixes: ${I:0:12} (\"q: add quux\")"
git tag v6.2
mk U "q: fix quux"
git checkout -q linux-6.1.y
pick P $U; git tag v6.1.1
git checkout -q master
cna CVE-2026-20001 $F
conf master:mainline linux-6.1.y:stable
git update-ref refs/heads/master "$F"
cd $T
$PG --quiet ingest
$PG --quiet cve import vulns
$PG --quiet cells 2>/dev/null
cell() { sqlite3 "$1" "SELECT status || ' ' || coalesce(fix_how, '-') FROM cells WHERE id = 'CVE-2026-20001' AND branch = 'linux-6.1.y'"; }
check "before: the pick counts as a subject match of the fix" test "$(cell patchgap.db)" = "fixed subject"

sed "s|database = .*|database = $T/full.db|" patchgap.conf >full.conf
dump() { db_dump "$1" cells cell_deps cell_branches; }
# after an ingest: the incremental update recomputes the fix and leaves the table of a full one
compare() { # label, expected cell
	db_clone patchgap.db full.db
	$PG cells --json >inc.json 2>/dev/null
	$PG --conf full.conf --quiet cells --full 2>/dev/null
	check "$1: the fix is $2 on 6.1.y (a full recomputation)" test "$(cell full.db)" = "$2"
	check "$1: the incremental update recomputed the fix" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert not o["full"] and o["dirty_targets"] == 1, o' inc.json
	if [ "$(dump patchgap.db)" = "$(dump full.db)" ]; then ok "$1: incremental cells equal a full recomputation"
	else fail "$1: incremental cells differ from a full recomputation"; diff <(dump patchgap.db) <(dump full.db) | head; fi
}

git -C repo update-ref refs/heads/master "$U"
$PG --quiet ingest
check "the pick's annotation now resolves" test "$(sqlite3 patchgap.db \
	"SELECT r.state FROM relations r JOIN commits c ON c.id = r.commit_id WHERE c.sha = '$P' AND r.kind = 'upstream'")" = resolved
compare "annotation resolved" "affected -"

# a mainline fix of the fix changes no branch row and no fact of the fix's own
cd repo && mk F2 "q: fix quux harder" "Fixes: ${F:0:12} (\"q: fix quux\")" && cd "$T"
$PG --quiet ingest
$PG cells --json >inc.json 2>/dev/null
check "a mainline commit's Fixes: of the fix recomputes nothing" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert not o["full"] and o["evaluated"] == 0, o' inc.json

cd repo && git checkout -q linux-6.1.y
echo fixed >"${PG_FILE[$F]}" && git add -A && _commit "[6.1.y] q: fix the quux" "commit $F upstream."
B=$(git rev-parse HEAD)
git checkout -q master && cd "$T"
$PG --quiet ingest
compare "backport under another subject" "fixed annotation"

cd repo && git checkout -q linux-6.1.y
git rm -q "${PG_FILE[$F]}" && _commit "Revert \"[6.1.y] q: fix the quux\"" "This reverts commit $B."
git checkout -q master && cd "$T"
$PG --quiet ingest
compare "backport reverted" "affected -"
finish
