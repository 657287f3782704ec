#!/bin/bash
# `patchgap cells` after an ingest that resolves an old commit's annotation:
# a 6.1.y pick whose "commit X upstream." named a commit not yet ingested
# counted as an unannotated pick, matched by subject to a fix with the same
# subject; once X is ingested the pick is X's backport, no longer a subject
# match, and the incremental update must recompute the fix's cells although
# neither the fix nor its introducer is new.
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

git -C repo update-ref refs/heads/master "$U"
$PG --quiet ingest
check "the pick's annotation now resolves" test "$(sqlite3 patchgap.db \
	"SELECT r.state FROM relations r JOIN commits c ON c.id = r.commit_id WHERE c.sha = '$P' AND r.kind = 'upstream'")" = resolved
db_clone patchgap.db full.db
$PG cells --json >inc.json 2>/dev/null
sed "s|database = .*|database = $T/full.db|" patchgap.conf >full.conf
$PG --conf full.conf --quiet cells --full 2>/dev/null
check "after: the fix is affected on 6.1.y (a full recomputation)" test "$(cell full.db)" = "affected -"
check "the incremental update recomputed the fix" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert not o["full"] and o["dirty_targets"] == 1, o' inc.json
dump() { db_dump "$1" cells cell_deps cell_branches; }
if [ "$(dump patchgap.db)" = "$(dump full.db)" ]; then ok "incremental cells equal a full recomputation"
else fail "incremental cells differ from a full recomputation"; diff <(dump patchgap.db) <(dump full.db) | head; fi
finish
