#!/bin/bash
# t2001-classify.sh - `patchgap classify`, `explain` and `eval` end to end:
# on commits inserted into a fresh database (the schema of src/store/schema.c,
# as ingest fills it), on a format-patch mbox and JSON Lines input, and on
# malformed input (clear error, exit 4).  No shared data needed.
set -u
BIN=${PATCHGAP_BIN:?PATCHGAP_BIN not set}
T=$(mktemp -d /tmp/pg-t2001-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 0; }

# init only creates the database here; under ASan its libgit2 config reading leaks
# pcre2 match data (61 KB, in libgit2 and pcre2, not in patchgap), so leaks are not
# checked for this one call.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$BIN" --conf pg.conf init --database pg.db >/dev/null || fail "init"
# three commits (message = the raw message, subject paragraph first, as ingest stores it): a syzbot-found UAF in net/, a driver leak, a documentation change
sqlite3 pg.db <<'SQL' || fail "insert"
INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents, subject, message)
VALUES
 (1, 'aaaa111111111111111111111111111111111111', 'A', 'a@x', 1, 1, '', 1,
  'net: sched: fix use-after-free in tc_dump_qdisc',
  'net: sched: fix use-after-free in tc_dump_qdisc

syzbot reported a slab-use-after-free in tc_dump_qdisc: the qdisc can be freed
while the dump walks it.  Take a reference before dropping the lock.

BUG: KASAN: slab-use-after-free in tc_dump_qdisc+0x1c/0x2a0

Fixes: 0123456789ab ("net: sched: add dump")
Reported-by: syzbot+0123@syzkaller.appspotmail.com
Cc: stable@vger.kernel.org
Signed-off-by: A <a@x>'),
 (2, 'bbbb222222222222222222222222222222222222', 'B', 'b@x', 2, 2, '', 1,
  'Documentation: fix a typo in the sched docs',
  'Documentation: fix a typo in the sched docs

Fix a typo.

Signed-off-by: B <b@x>'),
 (3, 'aaaa333333333333333333333333333333333333', 'C', 'c@x', 3, 3, '', 1,
  'usb: gadget: add support for the foo controller',
  'usb: gadget: add support for the foo controller

Add a new driver for the foo USB device controller.

Signed-off-by: C <c@x>');
INSERT INTO commit_files (commit_id, path, status) VALUES
 (1, 'net/sched/sch_api.c', 'M'), (2, 'Documentation/networking/sched.rst', 'M'),
 (3, 'drivers/usb/gadget/udc/foo.c', 'A');
SQL

"$BIN" --db pg.db classify --json >out1.json || fail "classify"
python3 - <<'PY' || fail "classify --json output"
import json
o = json.load(open("out1.json"))
assert o["classified"] == 3, o
assert o["model"].startswith("classify-"), o
flagged = {c["id"]: c for c in o["commits"]}
assert "aaaa111111111111111111111111111111111111" in flagged, o
c = flagged["aaaa111111111111111111111111111111111111"]
assert c["bug_class"] == "uaf" and c["label"] is True and c["level"] in ("urgent", "high"), c
assert any(r["factor"] == "reproducer" for r in c["reasons"]), c
assert "bbbb222222222222222222222222222222222222" not in flagged, o
PY
rows=$(sqlite3 pg.db "SELECT count(*) FROM classifications")
[ "$rows" = 3 ] || fail "expected 3 classifications, got $rows"
uaf=$(sqlite3 pg.db "SELECT bug_class || ' ' || label FROM classifications WHERE commit_id = 1")
[ "$uaf" = "uaf 1" ] || fail "commit 1 stored as '$uaf'"
doc=$(sqlite3 pg.db "SELECT label FROM classifications WHERE commit_id = 2")
[ "$doc" = 0 ] || fail "the typo fix was flagged"
p1=$(sqlite3 pg.db "SELECT CASE WHEN p_security > (SELECT p_security FROM classifications WHERE commit_id = 3) THEN 1 ELSE 0 END FROM classifications WHERE commit_id = 1")
[ "$p1" = 1 ] || fail "the UAF fix does not outscore the new driver"

# a second run scores nothing new; --all rescores everything
"$BIN" --db pg.db classify >out2.txt || fail "classify again"
grep -q "classified 0 commits" out2.txt || fail "second run was not a no-op: $(cat out2.txt)"
"$BIN" --db pg.db classify --all >out3.txt || fail "classify --all"
grep -q "classified 3 commits" out3.txt || fail "--all: $(cat out3.txt)"

# explain: by abbreviated id; unknown and ambiguous ids
"$BIN" --db pg.db explain aaaa1111 >ex.txt || fail "explain"
grep -q "P(security)" ex.txt && grep -q "trailer:fixes" ex.txt || fail "explain output: $(cat ex.txt)"
"$BIN" --db pg.db explain --json --top 5 aaaa1111 >ex.json || fail "explain --json"
python3 -c 'import json; o=json.load(open("ex.json"))[0]; assert len(o["features"]) == 5 and o["features_total"] > 5, o' || fail "explain json"
"$BIN" --db pg.db explain cccc0000 2>err.txt; rc=$?
[ $rc = 3 ] || fail "unknown commit: exit $rc"
grep -q "cccc0000" err.txt || fail "unknown commit error does not name it"
"$BIN" --db pg.db explain aaaa 2>err.txt; rc=$?
[ $rc = 4 ] && grep -q ambiguous err.txt || fail "ambiguous id: exit $rc, $(cat err.txt)"

# --input: a format-patch mail and JSON Lines on stdin
cat >p.mbox <<'EOF2'
From 4444444444444444444444444444444444444444 Mon Sep 17 00:00:00 2001
From: D <d@x>
Subject: [PATCH net] netfilter: nf_tables: fix out-of-bounds read in nft_payload
Message-ID: <p1@x>

The offset is not checked against the skb length, so a rule can read past
the end of the packet.

Fixes: 0123456789ab ("netfilter: nf_tables: add payload")
Signed-off-by: D <d@x>
---
diff --git a/net/netfilter/nft_payload.c b/net/netfilter/nft_payload.c
--- a/net/netfilter/nft_payload.c
+++ b/net/netfilter/nft_payload.c
@@ -1,2 +1,4 @@
+	if (offset + len > skb->len)
+		return -EINVAL;
EOF2
"$BIN" classify --input p.mbox --json >pm.json || fail "classify --input mbox"
python3 -c '
import json; o = json.load(open("pm.json"))
assert len(o) == 1 and o[0]["id"] == "4444444444444444444444444444444444444444", o
assert o[0]["bug_class"] in ("oob-read", "oob"), o' || fail "mbox result"
printf '%s\n' '{"id":"j1","subject":"mm: fix NULL pointer dereference in foo","message":"x","files":["mm/foo.c"]}' \
	'{"id":"j2","subject":"docs: typo","message":"y"}' | "$BIN" classify --input - >pj.txt || fail "classify jsonl stdin"
[ "$(wc -l <pj.txt)" = 2 ] || fail "jsonl text output: $(cat pj.txt)"
printf '%s\n' '{"subject":"a","message":"b"}' '{"subject":"trunc' | "$BIN" classify --input - 2>err.txt; rc=$?
[ $rc = 4 ] && grep -q "line 2" err.txt || fail "truncated JSON line: exit $rc, $(cat err.txt)"
head -c 3000 /dev/urandom >junk.bin
"$BIN" classify --input junk.bin >/dev/null 2>err.txt; rc=$?
[ $rc = 0 ] || [ $rc = 4 ] || fail "binary junk: exit $rc"

# eval on a tiny labelled set: counts add up, JSON and text agree
printf '%s\n' \
	'{"subject":"net: fix use-after-free in sk_destruct","message":"KASAN: slab-use-after-free","files":["net/core/sock.c"],"label":1}' \
	'{"subject":"bpf: fix out-of-bounds write in verifier","message":"an attacker can write past the map","files":["kernel/bpf/verifier.c"],"label":1}' \
	'{"subject":"docs: fix typo","message":"typo","files":["Documentation/a.rst"],"label":0}' \
	'{"subject":"drm/amd: add new pci ids","message":"add ids","files":["drivers/gpu/drm/amd/x.c"],"label":0}' >ev.jsonl
"$BIN" eval --data ev.jsonl --json >ev.json || fail "eval"
python3 -c '
import json; o = json.load(open("ev.json"))
c = o["confusion"]
assert o["records"] == 4 and o["positives"] == 2, o
assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == 4 and c["tp"] + c["fn"] == 2, o
assert 0 <= o["pr_auc"] <= 1 and o["pr_auc"] >= 0.99, o' || fail "eval json: $(cat ev.json)"
"$BIN" eval --data ev.jsonl --threshold 0 >ev.txt || fail "eval text"
grep -q "TP 2  FP 2" ev.txt || fail "threshold 0 flags everything: $(cat ev.txt)"
printf '%s\n' '{"subject":"x","message":"y"}' >nolabel.jsonl
"$BIN" eval --data nolabel.jsonl 2>err.txt; rc=$?
[ $rc = 4 ] && grep -q label err.txt || fail "eval without labels: exit $rc"
"$BIN" eval 2>/dev/null; [ $? = 2 ] || fail "eval without --data is a usage error"
"$BIN" eval --data ev.jsonl --model /nonexistent 2>/dev/null; [ $? = 3 ] || fail "missing model: not exit 3"
for v in classify explain eval train; do
	"$BIN" $v --help | grep -q "usage: patchgap $v" || fail "$v --help"
done
echo "t2001: ok"
