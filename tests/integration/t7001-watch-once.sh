#!/bin/bash
# t7001-watch-once: `patchgap watch --once` against a real `git daemon` and a
# real webhook receiver: the first cycle is a silent baseline; a pushed fix
# plus its CNA record give cve.published and branch.affected, the stable
# backport gives branch.fixed; every sink gets every event once, signed;
# an idle cycle and a re-run add nothing; events list/show/redeliver;
# --status; bad sink configs are clear errors at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
start_receiver
write_conf
cd "$T"
ev() { sqlite3 patchgap.db "SELECT kind || ' ' || target || ' ' || COALESCE(branch, '-') || ' ' || COALESCE(old_state, '-') || ' ' || new_state FROM events ORDER BY id"; }

$PG watch --once --fetch-now --json > c1.json 2> c1.err || { cat c1.err; fail "first cycle"; }
check "first cycle fetched over git:// and ingested" $PY -c "
import json; o=json.load(open('c1.json')); assert o['fetch_failed']==0 and o['commits_new']==3, o"
check "the mirror has the upstream branches" git --git-dir=mirror.git rev-parse --verify -q --no-revs linux-6.1.y
check "first cycle is a silent baseline" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM events')" = 0
check "baseline stored the branch tips" test "$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM watch_tips')" = 2

# a fix lands upstream, the CNA assigns it a CVE
push_fix "$B1" kernel/core.c "core: fix use-after-free in a()"
F1=$FIX
cna_record CVE-2024-0001 "$F1"
$PG watch --once --fetch-now --json > c2.json 2> c2.err || { cat c2.err; fail "second cycle"; }
ev > ev2.txt
check "the new record is announced" grep -qx "cve.published CVE-2024-0001 - - published" ev2.txt
check "the stable branch became affected" grep -qx "branch.affected CVE-2024-0001 linux-6.1.y not_affected affected" ev2.txt
check "mainline (which has the fix) is not announced" sh -c "! grep -q 'CVE-2024-0001 master' ev2.txt"
check "only the CVE's item, not its fix commit as a silent one" sh -c "! grep -q '$F1 linux-6.1.y' ev2.txt"
N2=$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM events')
check "all events delivered to all three sinks" test "$(sqlite3 patchgap.db "SELECT COUNT(*) FROM event_deliveries WHERE state = 'delivered'")" = $((N2 * 3))
check "the receiver got every event, each signed" $PY -c "
import json
r=[json.loads(l) for l in open('received.jsonl')]
assert len(r)==$N2 and all(x['sig_ok'] for x in r), r
b=[json.loads(x['body']) for x in r]
assert [x['key'] for x in b]==[x['key'] for x in r]
assert sorted(x['id'] for x in b)==[x['id'] for x in b]"
check "maildir has one message per event" test "$(ls mail/new | wc -l)" = "$N2"
check "mail names the event" grep -q "^Subject: \[patchgap\] branch.affected" mail/new/*
check "the exec hook got the JSON on stdin" test "$(grep -c '"key"' exec.out)" = "$N2"

# the backport reaches the stable branch
push_backport "$F1"
$PG watch --once --fetch-now > /dev/null 2> c3.err || { cat c3.err; fail "third cycle"; }
ev > ev3.txt
check "the stable branch is fixed" grep -qx "branch.fixed CVE-2024-0001 linux-6.1.y affected fixed" ev3.txt
N3=$(sqlite3 patchgap.db 'SELECT COUNT(*) FROM events')

# idle cycles: nothing new, nothing announced, nothing re-sent
$PG watch --once --fetch-now --json > c4.json 2> c4.err || { cat c4.err; fail "idle cycle"; }
check "idle cycle: no new commit, no event" $PY -c "
import json; o=json.load(open('c4.json')); assert o['commits_new']==0 and o['events']==0 and o['delivered']==0, o"
check "receiver got each event exactly once" test "$(wc -l < received.jsonl)" = "$N3"
check "idempotency keys are unique" test "$(sqlite3 patchgap.db 'SELECT COUNT(DISTINCT key) FROM events')" = "$N3"

# operators: list, show, redeliver
$PG events list --json > list.json
check "events list --json" $PY -c "
import json; l=json.load(open('list.json')); assert len(l)==$N3 and all(len(e['deliveries'])==3 for e in l), l"
check "events list --kind prefix" test "$($PG events list --kind cve. | wc -l)" = 1
KEY=$(sqlite3 patchgap.db "SELECT key FROM events WHERE kind = 'branch.fixed'")
check "events show by key" sh -c "$PG events show '$KEY' | grep -q 'key: $KEY'"
$PG events redeliver "$KEY" --sink hook > redeliver.out
check "redeliver queues one sink" grep -qx "event $KEY queued again for 1 sink" redeliver.out
$PG watch --once --fetch-now > /dev/null 2>&1
check "the redelivered body is byte-identical" $PY -c "
import json
r=[json.loads(l) for l in open('received.jsonl') if json.loads(l)['key']=='$KEY']
assert len(r)==2 and r[0]['body']==r[1]['body'], r"
set +e
$PG events show 99999 > /dev/null 2> e.err; rc=$?
set -e
check "unknown event: exit 3" sh -c "test $rc = 3 && grep -q 99999 e.err"

$PG watch --status --json > status.json
check "--status: sources and empty queues" $PY -c "
import json; o=json.load(open('status.json'))
s={x['name']:x for x in o['sources']}; assert s['upstream']['failures']==0 and s['cna']['failures']==0, s
assert all(k['queued']==0 for k in o['sinks']) and o['oldest_undelivered'] is None, o"
check "--status text" sh -c "$PG watch --status | grep -q 'oldest undelivered: none'"

# the CNA rejects the record
mkdir -p cna/cve/rejected/2024
git -C cna mv cve/published/2024/CVE-2024-0001.sha1 cve/rejected/2024/CVE-2024-0001.sha1
git -C cna commit -qm "reject CVE-2024-0001"
$PG watch --once --fetch-now > /dev/null 2> c5.err || { cat c5.err; fail "rejection cycle"; }
check "a rejected CVE leaves the cells of branches that did not move" test "$(sqlite3 patchgap.db "SELECT state FROM watch_cells WHERE item = 'CVE-2024-0001' AND branch = 'linux-6.1.y'")" = not_affected
check "a rejection is announced" test "$(sqlite3 patchgap.db "SELECT old_state || '>' || new_state FROM events WHERE kind = 'cve.rejected' AND target = 'CVE-2024-0001'")" = "published>rejected"

# bad configs: clear errors at start, exit 4, nothing written
bad() { # description, sink lines, expected message
	cp patchgap.conf good.conf
	printf '%s\n' "$2" >> patchgap.conf
	set +e; $PG watch --once --fetch-now > /dev/null 2> bad.err; local rc=$?; set -e
	cp good.conf patchgap.conf
	check "$1" sh -c "test $rc = 4 && grep -q \"$3\" bad.err"
}
bad "unknown sink type" '[sink "x"]
	type = pigeon' "sink 'x' has unknown type 'pigeon'"
bad "webhook without secret" '[sink "x"]
	type = webhook
	url = http://127.0.0.1:1/' "webhook sink 'x' has no 'secret'"
bad "webhook with a bad URL" '[sink "x"]
	type = webhook
	secret = k
	url = ftp://example.org/' "needs 'url' = http:// or https:// URL (not 'ftp://example.org/')"
bad "remote without url" '[remote "y"]
	interval = 5' "remote 'y' has no 'url'"
finish
