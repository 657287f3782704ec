#!/bin/bash
# t2004-classify-recall-budget.sh - operating points of `patchgap classify` on
# ingested commits (a fresh database filled as ingest fills it): the default
# (recall 0.90 of the calibration split, with its expected precision), the
# config's [classify] recall, --recall, --budget N (the N highest of each
# committer day), the stored labels that status and report read, and bad
# values (clear error, no change to the database).  Uses the committed model.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
cd "$T"
# init only creates the database; its libgit2 config reading leaks pcre2 match data under ASan
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" $PG --conf pg.conf init --database pg.db >/dev/null || fail "init"
DAY1=1767225600 # 2026-01-01T00:00:00Z
DAY2=$((DAY1 + 86400))
sqlite3 pg.db <<SQL || fail "insert"
INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents, subject, message)
VALUES
 (1, 'a111111111111111111111111111111111111111', 'A', 'a@x', $DAY1, $((DAY1 + 60)), '', 1,
  'net: sched: fix use-after-free in tc_dump_qdisc',
  'net: sched: fix use-after-free in tc_dump_qdisc

syzbot reported a slab-use-after-free in tc_dump_qdisc: the qdisc can be freed
while the dump walks it.  Take a reference before dropping the lock.

Fixes: 0123456789ab ("net: sched: add dump")
Reported-by: syzbot+0123@syzkaller.appspotmail.com
Cc: stable@vger.kernel.org
Signed-off-by: A <a@x>'),
 (2, 'b222222222222222222222222222222222222222', 'B', 'b@x', $DAY1, $((DAY1 + 120)), '', 1,
  'Documentation: fix a typo in the sched docs', 'Documentation: fix a typo in the sched docs

Fix a typo.

Signed-off-by: B <b@x>'),
 (3, 'c333333333333333333333333333333333333333', 'C', 'c@x', $DAY2, $((DAY2 + 60)), '', 1,
  'usb: gadget: add support for the foo controller', 'usb: gadget: add support for the foo controller

Add a new driver for the foo USB device controller.

Signed-off-by: C <c@x>'),
 (4, 'd444444444444444444444444444444444444444', 'D', 'd@x', $DAY2, $((DAY2 + 120)), '', 1,
  'ext4: fix out-of-bounds read in ext4_xattr_get',
  'ext4: fix out-of-bounds read in ext4_xattr_get

A crafted image makes the name length exceed the entry, and the lookup reads
past the end of the buffer (KASAN: slab-out-of-bounds).  Check the length.

Fixes: 89abcdef0123 ("ext4: xattr lookup")
Cc: stable@vger.kernel.org
Signed-off-by: D <d@x>');
INSERT INTO commit_files (commit_id, path, status) VALUES
 (1, 'net/sched/sch_api.c', 'M'), (2, 'Documentation/networking/sched.rst', 'M'),
 (3, 'drivers/usb/gadget/udc/foo.c', 'A'), (4, 'fs/ext4/xattr.c', 'M');
SQL

$PG --conf pg.conf --db pg.db classify --json >def.json || fail "classify"
python3 - <<'PY' && ok "default operating point: recall 0.90 and its expected precision" || fail "default operating point"
import json
o = json.load(open("def.json"))
op = o["operating_point"]
assert op["recall"] == 0.9 and 0 < op["expected_precision"] <= 1 and 0 < op["threshold"] < 1, op
assert all(c["p_security"] >= op["threshold"] for c in o["commits"]), o
PY
$PG --conf pg.conf --db pg.db classify --all >def.txt || fail "classify text"
check "text output names the operating point" grep -q "operating point: recall 0.90 (threshold 0\.[0-9]*, expected precision 0\.[0-9]*" def.txt

# [classify] recall in the config moves the stored labels (with --all)
printf '[classify]\n\trecall = 0.3\n' >>pg.conf
$PG --conf pg.conf --db pg.db classify --all --json >r30.json || fail "classify with recall 0.3"
python3 - <<'PY' && ok "config recall 0.3: higher threshold, no more flags" || fail "config recall 0.3"
import json
a, b = json.load(open("def.json")), json.load(open("r30.json"))
assert b["operating_point"]["recall"] == 0.3, b
assert b["operating_point"]["threshold"] > a["operating_point"]["threshold"], (a, b)
assert b["flagged"] <= a["flagged"], (a, b)
PY
flagged=$(sqlite3 pg.db "SELECT count(*) FROM classifications WHERE label = 1")
want=$(python3 -c 'import json; print(json.load(open("r30.json"))["flagged"])')
check "stored labels follow the operating point ($flagged = $want)" [ "$flagged" = "$want" ]
# --recall overrides the config
$PG --conf pg.conf --db pg.db classify --all --recall 1 --json >r100.json || fail "classify --recall 1"
check "--recall 1 flags every commit scored at or above the lowest calibration score" \
	python3 -c 'import json; o = json.load(open("r100.json")); assert o["operating_point"]["recall"] == 1 and o["flagged"] >= 2, o'

# --budget 1: the highest of each committer day, whatever the threshold
$PG --conf pg.conf --db pg.db classify --all --budget 1 --json >b1.json || fail "classify --budget 1"
per_day=$(sqlite3 pg.db "SELECT sum(cl.label) AS n FROM classifications cl JOIN commits c ON c.id = cl.commit_id GROUP BY c.committer_time / 86400 ORDER BY 1" | paste -sd,)
check "--budget 1 flags one commit per day ($per_day)" [ "$per_day" = "1,1" ]
top=$(sqlite3 pg.db "SELECT commit_id FROM classifications WHERE label = 1 ORDER BY commit_id" | paste -sd,)
check "--budget 1 flags the security fixes, not the typo or the driver ($top)" [ "$top" = "1,4" ]
check "--budget names itself" python3 -c 'import json; o = json.load(open("b1.json")); assert o["operating_point"] == {"budget_per_day": 1} and o["flagged"] == 2, o'

# --input with --budget: the N highest of the input
printf '%s\n' '{"id":"j1","subject":"mm: fix use-after-free in foo_release","message":"KASAN: use-after-free","files":["mm/foo.c"]}' \
	'{"id":"j2","subject":"docs: typo","message":"y"}' '{"id":"j3","subject":"staging: rename a variable","message":"z"}' >in.jsonl
$PG classify --input in.jsonl --budget 1 --json >ib.json || fail "classify --input --budget"
check "--input --budget 1 flags the highest of the input" \
	python3 -c 'import json; o = json.load(open("ib.json")); assert [r["id"] for r in o if r["label"]] == ["j1"], o'

# bad values: usage errors that name the value; the database is unchanged
before=$(sqlite3 pg.db "SELECT label FROM classifications ORDER BY commit_id" | paste -sd,)
for bad in "--recall 0" "--recall 1.5" "--recall x" "--budget 0" "--budget -1" "--recall 0.5 --budget 2"; do
	rc=0
	# shellcheck disable=SC2086
	$PG --conf pg.conf --db pg.db classify --all $bad >/dev/null 2>err.txt || rc=$?
	check "classify $bad: exit 2 with a message ($(head -c 80 err.txt))" bash -c "[ $rc = 2 ] && [ -s err.txt ]"
done
printf '[classify]\n\trecall = 2\n' >bad.conf
cat pg.conf | grep -v -e '^\[classify\]' -e 'recall' >>bad.conf
rc=0
$PG --conf bad.conf --db pg.db classify --all >/dev/null 2>err.txt || rc=$?
check "config recall 2: error naming classify.recall (exit $rc)" bash -c "[ $rc != 0 ] && grep -q 'classify.recall' err.txt"
after=$(sqlite3 pg.db "SELECT label FROM classifications ORDER BY commit_id" | paste -sd,)
check "bad values leave the stored labels alone" [ "$before" = "$after" ]
finish
