#!/bin/bash
# lists ingest from a real public-inbox v2 inbox: created by public-inbox-init,
# first mails delivered by public-inbox-mda, then real lore patch mails (rebuilt
# from ../shared/data in four encodings) and hostile mails appended over two
# epochs in public-inbox's layout.  Checks the parsed fields against their
# records, incremental runs, and that kill -9 and a rerun give the same rows.
. "$(dirname "$0")/lib.sh"
command -v public-inbox-init >/dev/null && command -v public-inbox-mda >/dev/null ||
	skip_all "public-inbox not installed (tools/deps.d/lists)"
[ -n "$SHARED" ] && [ -r "$SHARED/lore-patches.jsonl.gz" ] || skip_all "../shared/data/lore-patches.jsonl.gz absent"
L=$SRC/tests/integration/lib
cd $T
export HOME=$T/home PI_CONFIG=$T/pi-config
mkdir -p $HOME
git init -q --bare repo.git
cat > patchgap.conf <<CONF
[core]
	repository = repo.git
	database = pg.db
[branch "master"]
	kind = mainline
[list "nf"]
	inbox = inbox
CONF

# 1. a real v2 inbox, the first mail delivered by public-inbox-mda (it wants the
#    recipient in ORIGINAL_RECIPIENT and a spam check it can run: none; ~2 s a mail)
timeout 60 public-inbox-init -V2 nf $T/inbox http://example.com/nf nf@example.com
git config -f $PI_CONFIG publicinboxmda.spamcheck none
cat > m1 <<'MAIL'
From: Ann Dev <ann@example.org>
To: nf@example.com
Subject: [PATCH nf v2 1/1] netfilter: fix a use-after-free in the flow table
Message-ID: <mda-1@example.org>
Date: Mon, 01 Jan 2024 10:00:00 +0000

The flow entry is freed while the gc worker still walks it.

Fixes: 0123456789ab ("netfilter: add flow table")
Cc: stable@vger.kernel.org
Signed-off-by: Ann Dev <ann@example.org>
---
diff --git a/net/netfilter/nf_flow_table_core.c b/net/netfilter/nf_flow_table_core.c
--- a/net/netfilter/nf_flow_table_core.c
+++ b/net/netfilter/nf_flow_table_core.c
@@ -1,3 +1,3 @@
 a
-	kfree(flow);
+	kfree_rcu(flow, rcu);
 c
MAIL
cat > m2 <<'MAIL'
From: Pablo Maint <pablo@example.org>
To: nf@example.com
Subject: Re: [PATCH nf v2 1/1] netfilter: fix a use-after-free in the flow table
Message-ID: <mda-2@example.org>
In-Reply-To: <mda-1@example.org>
References: <mda-1@example.org>
Date: Tue, 02 Jan 2024 10:00:00 +0000

On Mon, Ann Dev wrote:
> The flow entry is freed while the gc worker still walks it.

Applied to nf, thanks.

Reviewed-by: Pablo Maint <pablo@example.org>
MAIL
ORIGINAL_RECIPIENT=nf@example.com timeout 60 public-inbox-mda < m1
check "public-inbox-mda wrote epoch 0" test "$(git --git-dir inbox/git/0.git rev-list --count HEAD)" = 1

# 2. lore mails in epoch 0 and a second epoch, plus hostile mails
# (few processes: on a loaded CI machine each python start costs seconds)
python3 $L/lore-mails.py $SHARED/lore-patches.jsonl.gz 0 150 exp0.jsonl 100 exp1.jsonl lore1 30 exp2.jsonl lore2 > lore0
{ cat m2; printf '\0'; cat lore0; } | python3 $L/pi-write.py inbox/git/0.git
python3 - >> lore1 <<'PY'
import sys
w = sys.stdout.buffer.write
# header injection through an encoded word, and a second Subject
w(b"From: Mallory <m@example.org>\nSubject: =?utf-8?q?[PATCH]_x=0D=0ABcc:_victim@example.org?=\n"
  b"Subject: ignored\nMessage-ID: <inject@example.org>\nDate: Wed, 03 Jan 2024 00:00:00 +0000\n\nx\n\0")
# broken MIME: a multipart that never ends, invalid UTF-8 in headers and body
w(b"From: \xff\xfe <b@example.org>\nSubject: [PATCH] broken \xc3\x28\nMessage-ID: <broken@example.org>\n"
  b"Date: Wed, 03 Jan 2024 00:00:01 +0000\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\n\n"
  b"text \xe2\x28\xa1\n--zz\nContent-Type: text/plain; charset=x-klingon\n\ndiff --git a/k/a.c b/k/a.c\n+1\n\0")
# a diff touching 10,000 files
w(b"From: T <t@example.org>\nSubject: [PATCH] treewide: touch everything\nMessage-ID: <tenk@example.org>\n"
  b"Date: Wed, 03 Jan 2024 00:00:02 +0000\n\nm\n---\n")
for i in range(10000):
    w(b"diff --git a/d/f%d.c b/d/f%d.c\n--- a/d/f%d.c\n+++ b/d/f%d.c\n@@ -1 +1 @@\n-a\n+b\n" % (i, i, i, i))
w(b"\0")
# a large mail (2 MB of quoted text; bounded to keep the test fast)
w(b"From: Big <big@example.org>\nSubject: Re: [PATCH] large\nMessage-ID: <large@example.org>\n"
  b"Date: Wed, 03 Jan 2024 00:00:03 +0000\n\n" + b"> " + b"y" * 78 + b"\n" + (b"> " + b"y" * 78 + b"\n") * 25000 + b"\0")
PY
python3 $L/pi-write.py inbox/git/1.git < lore1

start=$(date +%s.%N)
$PG lists ingest > out1.txt
check "first run reads both epochs" grep -q "^nf: 256 new mails (.*) from 2 epochs" out1.txt
q() { sqlite3 pg.db "$1"; }
check "every mail stored once" test "$(q 'SELECT COUNT(*), COUNT(DISTINCT git_commit) FROM mails')" = "256|256"
check "epoch positions stored" test "$(q 'SELECT COUNT(*) FROM list_epochs')" = 2

# 3. parsed fields against the records they came from
cat exp0.jsonl exp1.jsonl > exp.jsonl
python3 - "$(db_sqlite pg.db rows.db)" exp.jsonl > fields.txt <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = bad_tags = bad_subj = bad_files = nfiles = 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    row = db.execute("SELECT clean_subject, version, idx, total, rfc, nfiles FROM mails WHERE message_id = ?",
                     (e["message_id"],)).fetchone()
    n += 1
    if row is None:
        bad_subj += 1; continue
    bad_subj += row[0] != e["clean_subject"]
    bad_tags += (row[1], row[2], row[3], row[4]) != (e["version"], e["idx"], e["total"], e["rfc"])
    if e["files"] is not None:
        nfiles += 1
        bad_files += row[5] != e["files"]
print(n, bad_subj, bad_tags, bad_files, nfiles)
PY
read n bad_subj bad_tags bad_files nfiles < fields.txt
echo "# $n lore mails: subject mismatches $bad_subj, tag mismatches $bad_tags, file-count mismatches $bad_files of $nfiles"
check "all 250 lore mails found" test "$n" = 250
check "clean subjects match their records" test "$bad_subj" = 0
check "version, N/M and RFC match their records" test "$bad_tags" -le 1
check "touched files match for >= 99%" test $((bad_files * 100)) -le "$nfiles"

# 4. hostile mails
q "SELECT flags & 8, subject FROM mails WHERE message_id = 'inject@example.org'" >inject.txt
check "header injection flagged, no line break in the subject" \
	test "$(wc -l <inject.txt) $(cut -c1-2 inject.txt) $(tr -cd '\r' <inject.txt | wc -c)" = "1 8| 0"
check "broken MIME and bad charsets flagged, diff still found" \
	test "$(q "SELECT flags & 6, nfiles FROM mails WHERE message_id = 'broken@example.org'")" = "6|1"
check "10,000-file diff lists every file" \
	test "$(q "SELECT nfiles, (SELECT COUNT(*) FROM mail_files f WHERE f.mail_id = m.id) FROM mails m WHERE message_id = 'tenk@example.org'")" = "10000|10000"
check "large mail stored as a reply" test "$(q "SELECT kind FROM mails WHERE message_id = 'large@example.org'")" = reply

# 5. the delivered patch: verdict, review tag and applied reply linked
$PG lists show --json '<mda-1@example.org>' > show.json
$PG lists log --flagged --since 2024-01-01 --json > flagged.json
check "lists show: the patch, its reply, review tag, applied answer; log --flagged --since" python3 -c "
import json; o = json.load(open('show.json'))
assert o['kind'] == 'patch' and o['version'] == 2 and o['tree'] == 'nf', o
assert o['verdict'] is not None
assert o['paths'] == ['net/netfilter/nf_flow_table_core.c']
assert [r['message_id'] for r in o['replies']] == ['mda-2@example.org']
assert o['applied_reply'] is True
assert o['reviews'][0]['kind'] == 'reviewed_by', o['reviews']
assert any(t['kind'] == 'fixes' for t in o['trailers'])
a = json.load(open('flagged.json'))
assert all(m['kind'] == 'patch' and m['verdict']['flagged'] and m['date'] >= '2024' for m in a), a
print('# flagged since 2024:', len(a))"
$PG lists show https://lore.kernel.org/r/mda-1@example.org/ > show.txt
check "lists show takes a lore URL" grep -q "^subject: *\[PATCH nf v2 1/1\]" show.txt
rc=0; $PG lists show nosuch@example.org 2>err.txt || rc=$?
check "unknown message id: exit 3, named" sh -c "test $rc = 3 && grep -q nosuch@example.org err.txt"
rc=0; $PG lists log --since yesterday-ish 2>/dev/null || rc=$?
check "bad --since: usage error" test $rc = 2

# 6. incremental: nothing new, then 30 new mails in epoch 1
$PG lists ingest > out2.txt
check "second run stores nothing" grep -q "^nf: 0 new mails" out2.txt
python3 $L/pi-write.py inbox/git/1.git < lore2
$PG lists ingest > out3.txt
check "third run stores just the 30 new mails" grep -q "^nf: 30 new mails" out3.txt
check "286 mails in all" test "$(q 'SELECT COUNT(*) FROM mails')" = 286

# 7. kill -9 at arbitrary moments, then a full run: the same rows
# mail ids come from a sequence on PostgreSQL, where a killed transaction
# leaves a gap: mail ids are compared by rank
dump() {
	db_dump "$1" | grep -v '^meta|' | awk -F'|' -v OFS='|' '
		{ line[NR] = $0 } $1 == "mails" { id = $2; gsub(/"/, "", id); ids[id] = 1 }
		END { n = 0; for (id in ids) sorted[++n] = id + 0
			for (i = 1; i <= n; i++) for (j = i; j > 1 && sorted[j - 1] > sorted[j]; j--) { t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t }
			for (i = 1; i <= n; i++) rank[sorted[i]] = i
			for (k = 1; k <= NR; k++) { $0 = line[k]
				if ($1 == "mails" || $1 == "mail_files" || $1 == "mail_trailers") { id = $2; gsub(/"/, "", id); $2 = "\"" rank[id + 0] "\"" }
				print } }' | sort
}
dump pg.db > clean.txt
kills=0
for delay in 0.02 0.05 0.2 0.5 1.0; do # a run takes well under a second on an idle machine
	$PG --db crash.db lists ingest --batch 20 >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
	wait $pid 2>/dev/null || true
done
echo "# killed $kills runs"
$PG --db crash.db lists ingest --batch 20 >/dev/null
dump crash.db > crash.txt
check "at least one run was killed mid-way" test $kills -ge 1
check "kill -9 and rerun give the same rows" cmp -s clean.txt crash.txt

# 8. bad input: an inbox that is not one
cat > bad.conf <<CONF
[core]
	repository = repo.git
	database = bad.db
[branch "master"]
	kind = mainline
[list "x"]
	inbox = nowhere
CONF
rc=0; $PG --conf bad.conf lists ingest 2>err.txt || rc=$?
check "missing inbox: non-zero exit naming it" sh -c "test $rc -ne 0 && grep -q nowhere err.txt"
finish
