#!/bin/bash
# A repository with missing or corrupt objects: a walk that cannot be
# completed fails, naming the object, and moves no branch head, so a run on
# the repaired repository stores what was missed; a commit whose tree or
# blob is missing is stored as incomplete (no invented file rows) and is
# completed by the first run that can read the object again.
. "$(dirname "$0")/lib.sh"

R=$T/repo
git init -q -b master "$R"
mkdir -p "$R/drivers/net" "$R/fs/ext4" "$R/kernel"
for f in drivers/net/a.c drivers/net/b.c fs/ext4/c.c kernel/d.c kernel/e.c; do echo "init $f" > "$R/$f"; done
tick; git -C "$R" add -A; git -C "$R" commit -q -m "initial tree"
for i in $(seq 1 24); do
	f=$(printf 'drivers/net/a.c\nfs/ext4/c.c\nkernel/d.c\n' | sed -n "$(( i % 3 + 1 ))p")
	tick; echo "change $i" >> "$R/$f"; git -C "$R" commit -q -am "change $i"
done
git -C "$R" tag v6.0
cd "$T"
conf() { printf '[core]\n\trepository = %s\n\tdatabase = %s\n[branch "master"]\n\tkind = mainline\n' "$1" "$2" > "$3"; }
total=$(git -C "$R" rev-list --count master)
rows() { sqlite3 "$1" "select c.sha, f.path, f.status, f.added, f.deleted from commit_files f join commits c on c.id = f.commit_id order by 1, 2"; }
state() { sqlite3 "$1" "select sha, files_changed, insertions, deletions, diff_state from commits order by sha"; }

# the reference: a complete ingest of the intact repository
conf "$R" good.db good.conf
$PG --conf good.conf ingest >/dev/null
check "reference ingest stores every commit" test "$(sqlite3 good.db 'select count(*) from commits')" = "$total"

obj_path() { echo "$1/objects/${2:0:2}/${2:2}"; }

# 1. a missing commit object in the middle of the history
cp -a "$R" miss
victim=$(git -C miss rev-parse master~12)
mv "$(obj_path miss/.git "$victim")" victim.obj
conf "$T/miss" miss.db miss.conf
set +e; $PG --conf miss.conf ingest >out.txt 2>err.txt; rc=$?; set -e
check "missing commit: ingest fails" test "$rc" != 0
check "missing commit: the error names the object" grep -q "$victim" err.txt
check "missing commit: no branch head recorded" \
	test -z "$(sqlite3 miss.db "select head_sha from branches where head_sha is not null" 2>/dev/null)"
set +e; $PG --conf miss.conf status master --fail-on any >/dev/null 2>&1; rc=$?; set -e
check "missing commit: status gate does not pass on the partial view (exit $rc)" test "$rc" != 0
mv victim.obj "$(obj_path miss/.git "$victim")"
$PG --conf miss.conf ingest >out.txt 2>err.txt || fail "repaired: ingest exit $?"
check "repaired: every commit stored" test "$(sqlite3 miss.db 'select count(*) from commits')" = "$total"
check "repaired: same file rows as the reference" cmp -s <(rows good.db) <(rows miss.db)
check "repaired: same releases as the reference" cmp -s \
	<(sqlite3 good.db 'select sha, mainline_release from commits order by 1') \
	<(sqlite3 miss.db 'select sha, mainline_release from commits order by 1')

# 2. corrupt bytes inside one commit of a pack
git clone -q --bare --no-local "$R" packed.git
git -C packed.git repack -q -a -d
pack=$(ls "$T"/packed.git/objects/pack/*.pack)
cp "$pack" pack.orig
victim=$(git -C packed.git rev-parse master~7)
off=$(git -C packed.git verify-pack -v "${pack%.pack}.idx" | awk -v v="$victim" '$1 == v { print $5 }')
printf '\377\377\377\377\377\377\377\377' | dd of="$pack" bs=1 seek=$((off + 4)) conv=notrunc status=none
conf "$T/packed.git" packed.db packed.conf
set +e; $PG --conf packed.conf ingest >out.txt 2>err.txt; rc=$?; set -e
check "corrupt pack: ingest fails" test "$rc" != 0
check "corrupt pack: the error names the repository" grep -q "packed.git" err.txt
cp pack.orig "$pack"
$PG --conf packed.conf ingest >out.txt 2>err.txt || fail "restored pack: ingest exit $?"
check "restored pack: every commit stored" test "$(sqlite3 packed.db 'select count(*) from commits')" = "$total"
check "restored pack: same file rows as the reference" cmp -s <(rows good.db) <(rows packed.db)

# 3. a missing tree: the commit is stored incomplete, without invented rows
cp -a "$R" notree
c=$(git -C notree rev-parse master~5)
tree=$(git -C notree rev-parse "$c:drivers")
mv "$(obj_path notree/.git "$tree")" tree.obj
conf "$T/notree" notree.db notree.conf
set +e; $PG --conf notree.conf ingest >out.txt 2>err.txt; rc=$?; set -e
check "missing tree: ingest stores the history (exit $rc)" test "$rc" = 0
check "missing tree: warning names the tree" grep -q "$tree" err.txt
check "missing tree: every commit stored" test "$(sqlite3 notree.db 'select count(*) from commits')" = "$total"
n=$(sqlite3 notree.db "select count(*) from commits where diff_state = 'missing $tree'")
check "missing tree: the commits reading it are flagged ($n)" test "$n" -ge 1
bad=$(sqlite3 notree.db "select count(*) from commit_files f join commits c on c.id = f.commit_id where c.diff_state <> 'ok'")
check "missing tree: no file rows for incomplete commits ($bad)" test "$bad" = 0
check "missing tree: complete commits have the reference rows" cmp -s \
	<(sqlite3 good.db "select c.sha, f.path from commit_files f join commits c on c.id = f.commit_id order by 1, 2" | grep -v -F -f <(sqlite3 notree.db "select sha from commits where diff_state <> 'ok'")) \
	<(rows notree.db | cut -d'|' -f1,2)
mv tree.obj "$(obj_path notree/.git "$tree")"
$PG --conf notree.conf ingest --json >out.json 2>err.txt || fail "tree restored: ingest exit $?"
check "tree restored: commits re-read and healed" test "$(jq .commits_healed out.json)" = "$n"
check "tree restored: same rows as the reference" cmp -s <(rows good.db) <(rows notree.db)
check "tree restored: same counts and states as the reference" cmp -s <(state good.db) <(state notree.db)

# 4. a missing blob: diffstat incomplete, completed once the blob is back
cp -a "$R" noblob
blob=$(git -C noblob rev-parse master~3:kernel/d.c)
mv "$(obj_path noblob/.git "$blob")" blob.obj
conf "$T/noblob" noblob.db noblob.conf
$PG --conf noblob.conf ingest >out.txt 2>err.txt || fail "missing blob: ingest exit $?"
check "missing blob: flagged" test "$(sqlite3 noblob.db "select count(*) from commits where diff_state = 'missing $blob'")" -ge 1
mv blob.obj "$(obj_path noblob/.git "$blob")"
$PG --conf noblob.conf ingest >out.txt 2>err.txt || fail "blob restored: ingest exit $?"
check "blob restored: same counts and states as the reference" cmp -s <(state good.db) <(state noblob.db)
check "blob restored: same rows as the reference" cmp -s <(rows good.db) <(rows noblob.db)
finish
