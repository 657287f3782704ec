#!/bin/bash
# t7004-watch-lists: `patchgap watch --once` with a [list] whose inbox is a
# git URL (a public-inbox v2 epoch served by a real `git daemon`): the
# first cycle fetches and ingests the archive as a silent baseline; a new
# flagged patch mail on the list gives one patch.flagged event (list,
# subject, lore URL, touched files, the tracked branches carrying them);
# the commit that lands later is linked to the mail;
# a mail the model does not flag gives none; idle cycles and an
# unreachable inbox URL add nothing and the latter is retried later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
cd "$T"
EPOCH=$T/srv/netdev/0.git
mail() { # message-id subject file old new [body]
	cat <<MAIL
From: A U Thor <author@example.org>
Date: Mon, 01 Jan 2024 00:00:00 +0000
Subject: $2
Message-ID: <$1>

${6:-KASAN reports a slab-use-after-free read in a() when the object is freed
by the error path and then dereferenced. Do not touch it after free.

Fixes: 0123456789ab (\"core: add bug\")
Reported-by: syzbot+1234@syzkaller.appspotmail.com
Cc: stable@vger.kernel.org}
Signed-off-by: A U Thor <author@example.org>
---
diff --git a/$3 b/$3
--- a/$3
+++ b/$3
@@ -1,4 +1,4 @@
 int a(void)
 {
-	$4
+	$5
 }
-- 
2.43.0
MAIL
	printf '\0'
}
mail uaf-1@example.org "[PATCH net] core: fix use-after-free in a()" kernel/core.c "return 11;" "return 1;" |
	$PY "$SRC/tests/integration/lib/pi-write.py" "$EPOCH"
touch "$EPOCH/git-daemon-export-ok"
cat > patchgap.conf <<CONF
[core]
	repository = mirror.git
	database = patchgap.db
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
[remote "upstream"]
	url = git://127.0.0.1:$GPORT/up.git
[list "netdev"]
	inbox = lists/netdev
	url = git://127.0.0.1:$GPORT/netdev/0.git
[sink "mail"]
	type = maildir
	path = mail
CONF
ev() { sqlite3 patchgap.db "SELECT kind || ' ' || target FROM events WHERE kind = 'patch.flagged' ORDER BY id"; }

$PG watch --once --fetch-now --json > c1.json 2> c1.err || { cat c1.err; fail "first cycle"; }
check "the inbox URL was fetched into the v2 layout" git --git-dir=lists/netdev/git/0.git rev-parse -q --verify HEAD
check "first cycle ingested the list" $PY -c "
import json; o=json.load(open('c1.json')); assert o['mails_new']==1 and o['mails_flagged']==0 and o['fetch_failed']==0, o"
check "mails present at the start are a silent baseline" test -z "$(ev)"

# two new mails on the list: a flagged fix (its id needs escaping in a URL) and a typo fix
{
	mail "uaf/2@example.org" "[PATCH net v2] core: fix double free in a() error path" kernel/core.c "return 11;" "return 2;"
	mail typo-3@example.org "[PATCH] docs: fix a typo" Documentation/a.rst "teh" "the" "Fix a spelling mistake in the docs."
} | $PY "$SRC/tests/integration/lib/pi-write.py" "$EPOCH"
$PG watch --once --fetch-now --json > c2.json 2> c2.err || { cat c2.err; fail "second cycle"; }
check "second cycle ingested both mails, announced one" $PY -c "
import json; o=json.load(open('c2.json')); assert o['mails_new']==2 and o['mails_flagged']==1, o"
check "one patch.flagged event, for the flagged mail" test "$(ev)" = "patch.flagged uaf/2@example.org"
sqlite3 patchgap.db "SELECT payload FROM events WHERE kind = 'patch.flagged'" > p.json
check "payload: list, subject, lore URL, files, branches" $PY -c "
import json; p=json.load(open('p.json'))
assert p['list']=='netdev' and p['subject']=='[PATCH net v2] core: fix double free in a() error path', p
assert p['url']=='https://lore.kernel.org/r/uaf%2F2@example.org', p['url']
assert p['message_id']=='uaf/2@example.org' and p['tree']=='net' and p['version']==2, p
assert p['files']==['kernel/core.c'] and p['nfiles']==1, p
assert sorted(b['branch'] for b in p['branches'])==['linux-6.1.y','master'], p['branches']
assert p['level'] and p['p_security']>0.5, p"
check "the event was delivered" grep -q "^Subject: \[patchgap\] patch.flagged" mail/new/*

# the fix lands upstream (same subject and author, a different diff): the watch links it to the mail
push_fix "$B1" kernel/core.c "core: fix double free in a() error path"
$PG watch --once --fetch-now > /dev/null 2> cl.err || { cat cl.err; fail "cycle with the fix"; }
check "the new commit is linked to its mail" test "$(sqlite3 patchgap.db "SELECT m.message_id || ' ' || cm.how FROM commit_mails cm JOIN mails m ON m.id = cm.mail_id WHERE cm.sha = '$FIX'")" = "uaf/2@example.org subject"
check "show names the mail" sh -c "$PG show $FIX | grep -q '^mail: <uaf/2@example.org> on netdev (subject)'"

$PG watch --once --fetch-now --json > c3.json 2> c3.err || { cat c3.err; fail "idle cycle"; }
check "idle cycle: no mail, no event" $PY -c "
import json; o=json.load(open('c3.json')); assert o['mails_new']==0 and o['events']==0, o"
check "each flagged mail announced once" test "$(ev | wc -l)" = 1

# the inbox URL stops answering: a source failure, logged and retried with backoff
sed -i "s|netdev/0.git|gone/0.git|" patchgap.conf
$PG watch --once --fetch-now --json > c4.json 2> c4.err || { cat c4.err; fail "cycle with a dead inbox"; }
check "dead inbox URL is a source failure, not a cycle failure" $PY -c "
import json; o=json.load(open('c4.json')); assert o['fetch_failed']==1 and o['events']==0, o"
check "the failure is named" grep -q "list 'netdev'" c4.err
check "watch --status shows the list source failing" sh -c "$PG watch --status --json | $PY -c \"
import json,sys; o=json.load(sys.stdin); s=[x for x in o['sources'] if x['name']=='list:netdev'][0]
assert s['kind']=='list' and s['failures']==1 and s['last_error'], s\""
finish
