#!/bin/bash
# t7002-watch-delivery: a remote that cannot be reached is logged and backs
# off while the others are fetched.  A webhook receiver that answers 500, then hangs:
# the event stays queued with its error and backs off, the other sinks are
# not blocked, and once the receiver is back the queue drains in event
# order with byte-identical bodies.  Then kill -9 of `watch` at random
# points of cycles (fetch, ingest, evaluation, delivery): after a final
# clean cycle every event was delivered at least once, never with two
# contents for one key, and the events and cells equal those of a run
# without kills.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
start_receiver
write_conf '[remote "dead"]' '	url = git://127.0.0.1:1/none.git'
sed -i 's/backoff-max = 2/backoff-max = 1/; s/timeout = 2/timeout = 1/' "$T/patchgap.conf" # retries after exactly 1 s, attempts of 1 s
cd "$T"
$PG watch --once --fetch-now > /dev/null 2> c0.err || fail "baseline cycle"
check "a dead remote is logged, the others go on" sh -c "grep -q \"remote 'dead': cannot fetch 'git://127.0.0.1:1/none.git'\" c0.err &&
	test \"\$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM commits')\" = 3"
check "the dead remote backs off" test "$(sqlite3 patchgap.db "SELECT CASE WHEN failures = 1 AND next_try > last_attempt AND last_ok IS NULL THEN 1 ELSE 0 END FROM watch_sources WHERE name = 'dead'")" = 1

echo fail > mode
push_fix "$B1" kernel/core.c "core: fix use-after-free in a()"
cna_record CVE-2024-0001 "$FIX"
$PG watch --once --fetch-now > /dev/null 2> c1.err || { cat c1.err; fail "cycle with a failing receiver"; }
N=$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM events')
check "events were written" test "$N" -ge 2
check "webhook queue holds them with the HTTP status" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE sink = 'hook' AND state = 'pending' AND last_status = 500")" = 1
check "the queue stops at its failing head (ordered)" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE sink = 'hook' AND attempts = 0")" = $((N - 1))
check "other sinks are not blocked" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE sink <> 'hook' AND state = 'delivered'")" = $((N * 2))
check "the failure is logged" grep -q "sink 'hook': event 1 attempt 1 failed: POST http://127.0.0.1:$HPORT/events: HTTP 500" c1.err
$PG watch --status --json > st.json
check "--status shows the queue and its error" $PY -c "
import json; o=json.load(open('st.json')); k={x['name']:x for x in o['sinks']}
assert k['hook']['queued']==$N and 'HTTP 500' in k['hook']['last_error'] and k['mail']['queued']==0, k
assert o['oldest_undelivered']['id']==1, o"
check "the retry is scheduled later" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries d JOIN events e ON e.id = d.event_id WHERE d.sink = 'hook' AND d.event_id = 1 AND d.next_attempt > e.created")" = 1
sleep 1.1
echo hang > mode
$PG watch --once --fetch-now > /dev/null 2> c2.err
check "a hanging receiver times out" grep -q "sink 'hook': event 1 attempt 2 failed:.*timed out" c2.err
check "attempts are counted" test "$(sqlite3 patchgap.db "SELECT attempts FROM event_deliveries WHERE sink = 'hook' AND event_id = 1")" = 2
echo ok > mode
sleep 1.1
$PG watch --once --fetch-now > /dev/null 2>&1
check "the receiver is back: the queue drains" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE state <> 'delivered'")" = 0
check "delivered in event order, one content per key" $PY -c "
import json
r=[json.loads(l) for l in open('received.jsonl')]
ok=[json.loads(x['body'])['id'] for x in r if x['mode']=='ok']
assert ok==sorted(ok) and len(ok)==$N, ok
by={}
for x in r: by.setdefault(x['key'], set()).add(x['body'])
assert all(len(v)==1 for v in by.values()) and all(x['sig_ok'] for x in r), by"

# --- kill -9 at random points --------------------------------------------
push_fix "$B2" drivers/foo.c "foo: fix out-of-bounds write in foo()"
F2=$FIX
cna_record CVE-2024-0002 "$F2"
push_backport "$F2"
# the reference: the same state, run once without kills and without delivery
mkdir ref
cp -r mirror.git patchgap.conf ref/
cp -r patchgap.db.vulns ref/
db_clone patchgap.db ref/patchgap.db
(cd ref && $PG watch --once --fetch-now --no-deliver > /dev/null 2>&1) || fail "reference cycle"
# locks a killed fetch or checkout left: every one in the CNA checkout (only
# watch writes there), an old one in core.repository; a fresh one there may be
# a live git's and stays
touch patchgap.db.vulns/.git/index.lock
touch -d '-1 hour' mirror.git/refs/heads/master.lock
touch mirror.git/refs/heads/zz-live.lock
RANDOM=7001
for i in 1 2 3 4 5; do
	d=$(printf '0.%02d' $((RANDOM % 40 + 3)))
	(timeout --foreground -s KILL "$d" "$PG" watch --once --fetch-now > /dev/null 2>&1) 2>/dev/null || true
done
$PG watch --once --fetch-now > /dev/null 2> final.err || { cat final.err; fail "final cycle"; }
q="SELECT kind, key, target, COALESCE(branch,''), COALESCE(old_state,''), new_state, payload FROM events ORDER BY key"
sqlite3 patchgap.db "$q" > got.txt
sqlite3 ref/patchgap.db "$q" > want.txt
check "events equal a run without kills" cmp -s got.txt want.txt
check "cells equal a run without kills" sh -c "sqlite3 patchgap.db 'SELECT * FROM watch_cells ORDER BY 1,2' > c1.txt &&
	sqlite3 ref/patchgap.db 'SELECT * FROM watch_cells ORDER BY 1,2' > c2.txt && cmp -s c1.txt c2.txt"
check "stored verdicts equal a run without kills" sh -c "sqlite3 patchgap.db 'SELECT * FROM cells ORDER BY 1,2,3' > v1.txt &&
	sqlite3 ref/patchgap.db 'SELECT * FROM cells ORDER BY 1,2,3' > v2.txt && test -s v1.txt && cmp -s v1.txt v2.txt"
check "the kill run found the new changes" grep -q "^cve.published|cve:CVE-2024-0002" got.txt
check "stale locks are gone" sh -c "! ls patchgap.db.vulns/.git/*.lock mirror.git/refs/heads/master.lock 2>/dev/null"
check "a fresh lock in core.repository is kept" test -e mirror.git/refs/heads/zz-live.lock
rm -f mirror.git/refs/heads/zz-live.lock
check "every event delivered, at least once, one content per key" $PY -c "
import json, subprocess
keys=subprocess.run(['sqlite3','patchgap.db','SELECT key FROM events'],capture_output=True,text=True).stdout.split()
by={}
for l in open('received.jsonl'):
    x=json.loads(l)
    if x['mode']=='ok': by.setdefault(x['key'], set()).add(x['body'])
missing=[k for k in keys if k not in by]
assert not missing, missing
assert all(len(v)==1 for v in by.values()), by"
check "nothing left queued" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE state <> 'delivered'")" = 0
finish
