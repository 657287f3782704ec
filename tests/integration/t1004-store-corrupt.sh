#!/bin/bash
# A patchgap database damaged inside a b-tree (bit flips in a page that a
# run would not otherwise read) is refused before anything is written:
# exit 4 naming the file, which stays byte-identical; reading verbs keep
# working as far as SQLite can read.  A file changed since the last clean
# close is checked even when its mtime was set back.
# run.sh: sqlite only (bit flips in the SQLite file, its WAL and quick_check stamp)
. "$(dirname "$0")/lib.sh"

R=$T/repo
git init -q -b master "$R"
for i in $(seq 1 40); do
	tick; echo "line $i" >> "$R/f$((i % 7)).c"; git -C "$R" add -A
	git -C "$R" commit -q -m "subsystem: change number $i with a subject long enough to fill pages"
done
cd "$T"
printf '[core]\n\trepository = %s\n\tdatabase = pg.db\n[branch "master"]\n\tkind = mainline\n' "$R" > patchgap.conf
$PG ingest >/dev/null
sqlite3 pg.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
check "healthy database passes the check" $PG --quiet ingest
# a clean close records the file's identity and times: the next open of an
# unchanged file skips quick_check (bench/bench-store-check.sh)
check "a clean close leaves the check stamp" test -s pg.db-checked
touch -r pg.db pg.times

# damage the cell count of the trailers table's root page: a run that stores
# commits without trailers never reads it, so SQLite alone would not notice
psize=$(sqlite3 pg.db "PRAGMA page_size")
root=$(sqlite3 pg.db "select rootpage from sqlite_master where name = 'trailers'")
off=$(( (root - 1) * psize + 3 ))
printf '\377\177' | dd of=pg.db bs=1 seek="$off" conv=notrunc status=none
# even with its mtime set back, the damaged file no longer matches the stamp
# (its ctime moved), so it is checked
touch -r pg.times pg.db
cp pg.db pg.orig
rm -f pg.db-wal pg.db-shm
tick; echo more >> "$R/f1.c"; git -C "$R" commit -q -am "a new commit to store"
for verb in "ingest" "cve import $T"; do
	set +e; $PG $verb >out.txt 2>err.txt; rc=$?; set -e
	check "$verb: refused with exit 4 (got $rc)" test "$rc" = 4
	check "$verb: the error names the database and says corrupt" grep -q "pg.db' is corrupt" err.txt
	check "$verb: database byte-identical" cmp -s pg.db pg.orig
done
finish
