#!/bin/bash
# Ingest of a small hand-built kernel-shaped repository: releases, backports,
# Fixes resolution, incremental runs, force-pushed vendor branch, log/show.
. "$(dirname "$0")/lib.sh"

R=$T/repo
git init -q -b master "$R"
commit drivers/net/a.c a1 "net: initial"; g tag -a v6.0 -m v6.0
commit drivers/net/a.c a2 "net: add feature"; A=$(g rev-parse HEAD)
g tag -a v6.1-rc1 -m rc1
commit drivers/net/a.c a3 "net: fix use-after-free in a

Fixes: ${A:0:12} (\"net: add feature\")
Cc: stable@vger.kernel.org # 6.1.x
Signed-off-by: X <x@example.org>"
F=$(g rev-parse HEAD)
g tag -a v6.1 -m v6.1
g checkout -q -b linux-6.1.y v6.1
commit fs/b.c b1 "fs: stable only change"; S1=$(g rev-parse HEAD)
g tag -a v6.1.1 -m v6.1.1
g checkout -q master
commit mm/c.c c1 "mm: fix leak

Fixes: ${F:0:8} (\"net: fix use-after-free in a\")
Fixes: deadbeefdeadbeef (\"nonexistent\")
Fixes: v5.10"
U=$(g rev-parse HEAD)
g tag -a v6.2-rc1 -m rc1
g checkout -q linux-6.1.y
tick; g cherry-pick "$U" >/dev/null
tick; g commit -q --amend -m "mm: fix leak

commit $U upstream.

Fixes: ${F:0:8} (\"net: fix use-after-free in a\")"
B=$(g rev-parse HEAD)
g checkout -q -b vendor v6.1.1
tick; g cherry-pick -x "$U" >/dev/null; V1=$(g rev-parse HEAD)
commit vendor/x.c x1 "vendor: local change"; V2=$(g rev-parse HEAD)
g checkout -q master

write_conf $T/patchgap.conf master:mainline linux-6.1.y:stable vendor:vendor:linux-6.1.y
cd $T
$PG ingest --json > run1.json
check "first run stores all 8 commits" grep -q '"commits_total": 8' run1.json
q() { sqlite3 pg.db "$1"; }
check "mainline release of the introducer is v6.1-rc1" test "$(q "select mainline_release from commits where sha='$A'")" = v6.1-rc1
check "mainline release of the fix is v6.1" test "$(q "select mainline_release from commits where sha='$F'")" = v6.1
check "untagged mainline commit has a v6.2-rc1 release" test "$(q "select mainline_release from commits where sha='$U'")" = v6.2-rc1
check "stable-only commit released in v6.1.1" test "$(q "select release from branch_commits bc join commits c on c.id=bc.commit_id join branches b on b.id=bc.branch_id where c.sha='$S1' and b.name='linux-6.1.y'")" = v6.1.1
check "untagged stable backport has no release yet" test -z "$(q "select release from branch_commits bc join commits c on c.id=bc.commit_id where c.sha='$B'")"
check "backport relation resolved (commit X upstream)" test "$(q "select target_sha from relations r join commits c on c.id=r.commit_id where c.sha='$B' and r.kind='upstream'")" = "$U"
check "cherry-pick -x relation resolved" test "$(q "select target_sha from relations r join commits c on c.id=r.commit_id where c.sha='$V1' and r.kind='upstream'")" = "$U"
check "abbreviated Fixes resolved to full id" test "$(q "select target_sha from relations r join commits c on c.id=r.commit_id where c.sha='$U' and r.kind='fixes' and r.ref_id='${F:0:8}'")" = "$F"
check "unknown Fixes id kept and flagged" test "$(q "select state from relations r join commits c on c.id=r.commit_id where c.sha='$U' and r.ref_id='deadbeefdeadbeef'")" = unresolved
check "malformed Fixes recorded as malformed" test "$(q "select count(*) from trailers t join commits c on c.id=t.commit_id where c.sha='$U' and t.kind='fixes' and t.malformed=1")" = 1
check "vendor branch holds the stable commit of its base and its own" test "$(q "select count(*) from branch_commits bc join branches b on b.id=bc.branch_id where b.name='vendor'")" = 3
check "touched files recorded" test "$(q "select path||':'||status from commit_files cf join commits c on c.id=cf.commit_id where c.sha='$V2'")" = "vendor/x.c:A"

# show / log
$PG show "${U:0:10}" --json > show.json
check "show lists the backport on linux-6.1.y" python3 -c "
import json,sys; o=json.load(open('show.json'))
assert any(r['sha']=='$B' and r['branch']=='linux-6.1.y' and r['kind']=='upstream' for r in o['referenced_by']), o['referenced_by']
assert o['mainline_release']=='v6.2-rc1'"
check "show carries the live-patch verdict of the diff" python3 -c "
import json; o=json.load(open('show.json')); assert o['livepatch']['verdict'] in ('likely','shadow','not'), o.get('livepatch')"
check "log --backport-of finds both backports" test "$($PG log --backport-of "${U:0:12}" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2
check "log --ref linux-6.1.y lists the stable commits" test "$($PG log --ref linux-6.1.y | wc -l)" = 2
check "log --path prefix" test "$($PG log --path drivers/net | wc -l)" = 3
check "log --has-fixes" test "$($PG log --has-fixes | wc -l)" = 4
set +e
$PG show 123456789 >/dev/null 2>err.txt; rc=$?
set -e
check "show of unknown commit exits 3 with a message" test "$rc" = 3 -a -s err.txt

# incremental: nothing new -> nothing stored, database unchanged
sqlite3 pg.db .dump > dump1.sql
$PG ingest --json > run2.json
check "second run stores nothing" grep -q '"commits_new": 0' run2.json
sqlite3 pg.db .dump > dump2.sql
check "second run leaves the database identical" cmp -s dump1.sql dump2.sql

# new commits + a new tag: incremental equals a full ingest
g checkout -q linux-6.1.y; g tag -a v6.1.2 -m v6.1.2
g checkout -q master; commit net/d.c d1 "net: later change"; g tag -a v6.2 -m v6.2
g checkout -q master
cp pg.db loadall.db
PATCHGAP_INGEST_LOOKUP_MAX=0 $PG --db loadall.db ingest >/dev/null   # the load-every-id path
$PG ingest --json > run3.json
check "incremental run stores only the new commit" grep -q '"commits_new": 1' run3.json
check "new stable tag updates the backport's release" test "$(q "select release from branch_commits bc join commits c on c.id=bc.commit_id where c.sha='$B'")" = v6.1.2
$PG --db full.db ingest >/dev/null
# ids are assigned in ingest order, so compare by commit id (sha), not row id
semantic() { # db
	sqlite3 "$1" "select sha, author, author_time, committer_time, parents, subject, message, files_changed, insertions, deletions, diff_state, mainline_release, on_mainline, reachable from commits order by sha;
	select c.sha, path, status, added, deleted from commit_files f join commits c on c.id=f.commit_id order by 1,2;
	select c.sha, seq, kind, raw, value, ref_id, ref_subject, hint, malformed from trailers t join commits c on c.id=t.commit_id order by 1,2;
	select c.sha, kind, ref_id, target_sha, state, candidates from relations r join commits c on c.id=r.commit_id order by 1,2,3;
	select b.name, c.sha, release, bc.reachable from branch_commits bc join commits c on c.id=bc.commit_id join branches b on b.id=bc.branch_id order by 1,2;
	select name, sha, line from tags order by 1;"
}
semantic pg.db > inc.txt; semantic full.db > full.txt; semantic loadall.db > loadall.txt
check "incremental == full ingest (all tables, by commit id)" cmp -s inc.txt full.txt
check "incremental loading every stored id == full ingest" cmp -s loadall.txt full.txt

# force-pushed vendor branch: dropped commit is kept, marked unreachable
g checkout -q vendor; g reset -q --hard HEAD~1; commit vendor/y.c y1 "vendor: replacement"; g checkout -q master
$PG ingest --json > run4.json
check "rewritten branch detected" grep -q '"branches_rewritten": 1' run4.json
check "dropped vendor commit kept but unreachable" test "$(q "select reachable from commits where sha='$V2'")" = 0
check "surviving vendor commit still reachable" test "$(q "select reachable from commits where sha='$V1'")" = 1
check "log hides unreachable commits" sh -c "! $PG log | grep -q 'vendor: local change'"

# a moved tag: v6.1.1 re-created on v6.1, so the stable-only commit is first released in v6.1.2
g tag -f -a v6.1.1 -m v6.1.1 v6.1^{commit} >/dev/null
$PG ingest >/dev/null
check "moved tag: stored tag follows the ref" test "$(q "select sha from tags where name='v6.1.1'")" = "$(g rev-parse v6.1^{commit})"
check "moved tag: release of its old commit remapped" test "$(q "select release from branch_commits bc join commits c on c.id=bc.commit_id join branches b on b.id=bc.branch_id where c.sha='$S1' and b.name='linux-6.1.y'")" = v6.1.2
rm -f full.db*; $PG --db full.db ingest >/dev/null
# (the dropped vendor commit stays in pg.db only: compare releases of reachable commits)
releases() { sqlite3 "$1" "select sha, mainline_release from commits where reachable = 1 order by 1;
	select b.name, c.sha, release from branch_commits bc join commits c on c.id=bc.commit_id join branches b on b.id=bc.branch_id where bc.reachable = 1 order by 1,2;
	select name, sha, line, tag_time, target from tags order by 1;"; }
releases pg.db > inc.txt; releases full.db > full.txt
check "moved tag: releases and tags of incremental == full ingest" cmp -s inc.txt full.txt
check "every tag records its ref target" test "$(q "select count(*) from tags where target = sha or target is null")" = "$(g for-each-ref --format='%(objecttype)' 'refs/tags/v*' | grep -c commit || true)"

# a database from before tag targets (migration 4): the next run fills them, changes nothing else
q "update tags set target = null"
sqlite3 pg.db .dump | grep -v '^INSERT INTO tags' > dump3.sql
$PG ingest >/dev/null
sqlite3 pg.db .dump | grep -v '^INSERT INTO tags' > dump4.sql
check "tag targets filled in after an upgrade" test "$(q "select count(*) from tags where target is null")" = 0
check "filling tag targets changes no other row" cmp -s dump3.sql dump4.sql
check "tag targets are the refs' own" test "$(q "select target from tags where name='v6.1.1'")" = "$(g rev-parse refs/tags/v6.1.1)"

finish
