#!/bin/bash
# t7005-watch-backport: [watch] backport = true tries each fix that became
# open on the stable branch (in memory, no ref written), records the run in
# backport_runs and announces backport.result with the live-patch verdict in
# the cycle's transaction; backport-max bounds a cycle and the rest follow in
# the next one; kill -9 at random points leaves the same runs, events and
# drafts as a run without kills; [watch] drafts = DIR gets the advisory
# model of every item that changed, without touching the advisory ledger.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
# the stable branch changed the line the second fix touches: that one conflicts
g checkout -q linux-6.1.y
tick; sed -i 's/return 12;/return 13;/' "$T/work/drivers/foo.c"; g commit -qam "foo: stable-only tweak"
g checkout -q master
g push -q "$UP" linux-6.1.y
start_daemon
start_receiver
write_conf '[watch]' '	backport = true' '	backport-max = 1' '	drafts = drafts'
cd "$T"
bp() { sqlite3 patchgap.db "SELECT target || ' ' || branch || ' ' || new_state FROM events WHERE kind = 'backport.result' ORDER BY id"; }

$PG watch --once --fetch-now > c1.out 2> c1.err || { cat c1.err; fail "baseline cycle"; }
check "baseline: no backport run" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM backport_runs')" = 0
check "baseline: no draft" test ! -e drafts

# two fixes land upstream with their CVEs: both open on linux-6.1.y
push_fix "$B1" kernel/core.c "core: fix use-after-free in a()"
F1=$FIX
push_fix "$B2" drivers/foo.c "foo: fix out-of-bounds read"
F2=$FIX
cna_record CVE-2024-0001 "$F1"
cna_record CVE-2024-0002 "$F2"
# the reference: the same state, cycle by cycle without kills and without delivery
mkdir ref
cp -r mirror.git patchgap.conf patchgap.db.vulns ref/
db_clone patchgap.db ref/patchgap.db
(cd ref && $PG watch --once --fetch-now --no-deliver --json > c2.json 2> c2.err) || { cat ref/c2.err; fail "reference cycle"; }
check "both CVEs became affected on the stable branch" test "$(sqlite3 ref/patchgap.db "SELECT COUNT(*) FROM events WHERE kind = 'branch.affected' AND branch = 'linux-6.1.y'")" = 2
check "backport-max = 1: one run this cycle" test "$(sqlite3 ref/patchgap.db "SELECT COUNT(*) FROM events WHERE kind = 'backport.result'")" = 1
check "the cycle counts it" $PY -c "
import json; o=json.load(open('ref/c2.json')); assert o['backports']==1 and o['drafts']==2, o"
(cd ref && $PG watch --once --fetch-now --no-deliver > /dev/null 2>&1 && $PG watch --once --no-deliver > /dev/null 2>&1) || fail "reference cycles"

# the same cycles killed at random points, then run to the end
RANDOM=7005
for i in 1 2 3 4 5; do
	d=$(printf '0.%02d' $((RANDOM % 50 + 3)))
	(timeout --foreground -s KILL "$d" "$PG" watch --once --fetch-now > /dev/null 2>&1) 2>/dev/null || true
done
# what a cycle killed between writing a draft and renaming it leaves (util/fs.h)
mkdir -p drafts && echo partial > drafts/.CVE-2024-0001.model.json.tmp.99999
for i in 1 2 3; do
	$PG watch --once --fetch-now > /dev/null 2> c3.err || { cat c3.err; fail "cycle after kills"; }
done
bp > bp3.txt
check "both runs, announced once each" test "$(wc -l < bp3.txt)" = 2
check "mainline gets no backport" sh -c "! grep -q ' master ' bp3.txt"
check "the clean fix" grep -qx "CVE-2024-0001 linux-6.1.y clean" bp3.txt
check "the conflicting fix" grep -qx "CVE-2024-0002 linux-6.1.y conflict" bp3.txt
q="SELECT kind, key, target, COALESCE(branch,''), new_state, payload FROM events WHERE kind = 'backport.result' ORDER BY key"
sqlite3 patchgap.db "$q" > got.txt
sqlite3 ref/patchgap.db "$q" > want.txt
check "backport events equal a run without kills" cmp -s got.txt want.txt
q="SELECT fix_sha, onto_ref, onto_sha, status, conflicts, livepatch FROM backport_runs ORDER BY fix_sha"
sqlite3 patchgap.db "$q" > got.txt
sqlite3 ref/patchgap.db "$q" > want.txt
check "backport runs equal a run without kills" cmp -s got.txt want.txt
check "the drafts equal a run without kills, no temporary file left" sh -c "ls -A drafts > d1.txt && ls -A ref/drafts > d2.txt && cmp -s d1.txt d2.txt"
check "runs recorded where backport keeps them" test "$(sqlite3 patchgap.db "SELECT fix_sha || ' ' || onto_ref || ' ' || status || ' ' || livepatch FROM backport_runs ORDER BY fix_sha = '$F2'" | tr '\n' '|')" = "$F1 refs/heads/linux-6.1.y clean likely|$F2 refs/heads/linux-6.1.y conflict likely|"
check "the event carries the verdicts" $PY -c "
import json, subprocess
rows = subprocess.check_output(['sqlite3', 'patchgap.db', \"SELECT payload FROM events WHERE kind = 'backport.result' ORDER BY target\"]).decode().splitlines()
a, b = [json.loads(r) for r in rows]
assert a['fix'] == '$F1' and a['status'] == 'clean' and a['livepatch']['verdict'] == 'likely' and a['conflict_files'] == [], a
assert b['fix'] == '$F2' and b['status'] == 'conflict' and b['conflict_files'] == ['drivers/foo.c'], b
assert len(a['branch_head']) == 40"
check "the webhook received the backport results" test "$(grep backport.result received.jsonl | $PY -c 'import json,sys; print(len({json.loads(l)["key"] for l in sys.stdin}))')" = 2
check "in memory: no patchgap/ ref written" test -z "$(git --git-dir=mirror.git for-each-ref refs/heads/patchgap/)"

# drafts: the documents advisory --new writes, for every changed item
check "a draft per changed CVE" test "$(ls drafts | tr '\n' ' ')" = "PGAP-CVE-2024-0001.model.json PGAP-CVE-2024-0002.model.json "
check "the drafts are the advisory model" $PY -c "
import json; d=json.load(open('drafts/PGAP-CVE-2024-0001.model.json')); assert 'CVE-2024-0001' in json.dumps(d), d"
check "a draft is the input advisory --model publishes" sh -c "$PG advisory --model drafts/PGAP-CVE-2024-0001.model.json --format osv --no-record | grep -q CVE-2024-0001"
check "drafting records no advisory revision" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM advisories' 2>/dev/null || echo 0)" = 0

# idle: nothing tried again, nothing drafted again
rm -rf drafts
$PG watch --once --fetch-now --json > c4.json 2> c4.err || { cat c4.err; fail "idle cycle"; }
check "idle cycle: no backport, no draft" $PY -c "
import json; o=json.load(open('c4.json')); assert o['backports']==0 and o['drafts']==0 and o['events']==0, o"
check "idle cycle writes no drafts directory" test ! -e drafts
check "one run per fix and branch" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM backport_runs')" = 2

# the stable backport arrives: fixed, no new backport run
push_backport "$F1"
$PG watch --once --fetch-now > /dev/null 2> c5.err || { cat c5.err; fail "fifth cycle"; }
check "a fix that closed is not tried" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM backport_runs')" = 2
check "its draft is refreshed" test -s drafts/PGAP-CVE-2024-0001.model.json

# a bad bound is a clear error at start
write_conf '[watch]' '	backport = true' '	backport-max = 0'
set +e; $PG watch --once > /dev/null 2> bad.err; rc=$?; set -e
check "backport-max = 0: exit 4 naming the key" sh -c "test $rc = 4 && grep -q 'backport-max' bad.err"
finish
