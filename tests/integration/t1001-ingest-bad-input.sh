#!/bin/bash
# Bad input to ingest: every case gets a clear error naming the input, a
# non-zero exit, and an existing database is never damaged.
. "$(dirname "$0")/lib.sh"

R=$T/repo
git init -q -b master "$R"
tick; echo a > "$R/a.c"; git -C "$R" add a.c; git -C "$R" commit -q -m "first"
tick; echo b > "$R/b.c"; git -C "$R" add b.c; git -C "$R" commit -q -m "second"
cd $T
conf() { printf '[core]\n\trepository = %s\n\tdatabase = pg.db\n[branch "master"]\n\tkind = mainline\n%b' "$1" "${2:-}" > patchgap.conf; }
expect_fail() { # description, expected exit, needle, command...
	local d=$1 want=$2 needle=$3 rc; shift 3
	set +e; "$@" >out.txt 2>err.txt; rc=$?; set -e
	if [ "$rc" = "$want" ] && grep -q -- "$needle" err.txt; then ok "$d"; else
		fail "$d (exit $rc, want $want; stderr: $(cat err.txt))"; fi
}

conf repo
$PG ingest >/dev/null
db_dump pg.db > good.sql

conf nowhere
expect_fail "not a repository" 3 "'$T/nowhere' is not a git repository" $PG ingest
conf repo '[branch "linux-6.1.y"]\n\tkind = stable\n'
expect_fail "unknown ref named in the config" 3 "refs/heads/linux-6.1.y" $PG ingest
conf repo '[branch "x"]\n\tkind = sideways\n'
expect_fail "bad branch kind" 4 "kind 'sideways'" $PG ingest
printf '[core\n\trepository = repo\n' > patchgap.conf
expect_fail "unparsable config" 4 "patchgap.conf" $PG ingest
expect_fail "missing config" 3 "nosuch.conf" $PG --conf nosuch.conf ingest
conf repo
chmod 000 patchgap.conf
if [ "$(id -u)" != 0 ]; then expect_fail "unreadable config" 4 "patchgap.conf" $PG ingest; fi
chmod 644 patchgap.conf
db_dump pg.db > after.sql
check "failed runs left the database identical" cmp -s good.sql after.sql

# a corrupt database file is refused and left byte-identical (a SQLite file:
# on PostgreSQL a file name maps to a server database, see lib.sh)
if ! db_is_pg; then
	head -c 4096 /dev/urandom > junk.db
	cp junk.db junk.orig
	expect_fail "corrupt database refused" 4 "junk.db" $PG --db junk.db ingest
	check "corrupt database untouched" cmp -s junk.db junk.orig
	sqlite3 other.db "create table t(x); insert into t values (1);"
	expect_fail "foreign SQLite database refused" 4 "not a patchgap database" $PG --db other.db ingest
	check "foreign database untouched" test "$(sqlite3 other.db 'select count(*) from t')" = 1
fi
expect_fail "bad option" 2 "unknown option" $PG ingest --frobnicate

# missing objects: delete a blob from a copy; ingest warns, names it, stores the rest
git clone -q --no-local --bare repo partial.git
blob=$(git -C partial.git rev-parse HEAD:b.c)
git -C partial.git repack -q -a -d
git -C partial.git cat-file blob $blob >/dev/null
# unpack to loose objects so one can be removed
mkdir loose && git -C partial.git unpack-objects -q < "$(ls partial.git/objects/pack/*.pack)" 2>/dev/null || true
mv partial.git/objects/pack/* loose/ 2>/dev/null || true
git -C partial.git unpack-objects -q < loose/*.pack
rm -f "partial.git/objects/${blob:0:2}/${blob:2}"
conf partial.git
set +e; $PG --db partial.db ingest >out.txt 2>err.txt; rc=$?; set -e
check "missing blob: exit 0" test "$rc" = 0
check "missing blob: warning names the object" grep -q "$blob" err.txt
check "missing blob: both commits stored" test "$(sqlite3 partial.db 'select count(*) from commits')" = 2
check "missing blob: file list still recorded" test "$(sqlite3 partial.db "select count(*) from commit_files where path='b.c'")" = 1
check "missing blob: commit flagged" test "$(sqlite3 partial.db "select count(*) from commits where diff_state like 'missing%'")" = 1
finish
