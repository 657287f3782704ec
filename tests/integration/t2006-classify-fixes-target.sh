#!/bin/bash
# t2006-classify-fixes-target.sh - where the Fixes: target of an ingested
# commit stood, read from the database as classify and explain score it:
# released once a non-rc mainline tag of the target's version is older than
# the fix, in how many stable lines a released backport of it was, only tags
# older than the fix (no look-ahead), and unknown (taken as released) when the
# database records no release tags.  The committed model gives these
# features weight 0 (doc/model.md), so the test scores with a copy of it whose
# two weights are set to 1: the contribution explain prints is the value.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
cd "$T"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" $PG --conf pg.conf init --database pg.db >/dev/null || fail "init"

# the committed model with weight 1 on both features in both heads (checksum redone)
python3 - "$SRC/data/model/classify.model" <<'PY' || fail "test model"
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
body = [l for l in lines if l and not l.startswith(b"checksum ")]
for head in (b"diff", b"nodiff"):
    for k in (48, 49):
        body.append(b"v %s %d 1" % (head, k))
data = b"\n".join(body) + b"\n"
h = 1469598103934665603
for c in data:
    h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
open("m.model", "wb").write(data + b"checksum %016x\n" % h)
PY

T1=aaaa000000000000000000000000000000000001 # in v6.1 (released 2022-12-11), backported to 6.1.y
T2=aaaa000000000000000000000000000000000002 # in v6.3-rc1 (v6.3 released 2023-04-22)
F1=ffff000000000000000000000000000000000001 # fixes T1, 2023-01-15
F2=ffff000000000000000000000000000000000002 # fixes T2, 2023-03-15: before v6.3
F3=ffff000000000000000000000000000000000003 # fixes T2, 2023-06-01: after v6.3
S1=5555000000000000000000000000000000000001 # T1's backport in 6.1.y, released in v6.1.5 (2023-01-12)
commit() { # id, sha, time, release, message
	echo "INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents, subject, message, mainline_release)"
	echo " VALUES ($1, '$2', 'A', 'a@x', $3, $3, '', 1, 'net: x: fix a use-after-free in y', 'net: x: fix a use-after-free in y\n\n$5', $4);"
}
tag() { echo "INSERT INTO tags (name, sha, line, major, minor, patch, rc, tag_time) VALUES ('$1', '$T1', '$2', $3, $4, $5, $6, $7);"; }
fixes() { echo "INSERT INTO relations (commit_id, kind, ref_id, target_sha, state) VALUES ($1, 'fixes', '${2:0:12}', '$2', 'resolved');"; }
msg() { printf 'A use-after-free.\n\nFixes: %s ("net: x: add y")\nSigned-off-by: A <a@x>\n' "${1:0:12}"; }
{
	commit 1 $T1 1665000000 "'v6.1-rc1'" "add y"
	commit 2 $T2 1677000000 "'v6.3-rc1'" "add z"
	commit 3 $F1 1673740800 "'v6.2-rc5'" "$(msg $T1)"
	commit 4 $F2 1678838400 "'v6.3-rc3'" "$(msg $T2)"
	commit 5 $F3 1685577600 "'v6.4-rc5'" "$(msg $T2)"
	commit 6 $S1 1673000000 NULL "[ Upstream commit $T1 ]"
	tag v6.1-rc1 mainline 6 1 0 1 1665300000
	tag v6.1 mainline 6 1 0 0 1670800000
	tag v6.3-rc1 mainline 6 3 0 1 1678000000
	tag v6.3 mainline 6 3 0 0 1682200000
	tag v6.1.5 6.1 6 1 5 0 1673500000
	fixes 3 $T1
	fixes 4 $T2
	fixes 5 $T2
	echo "INSERT INTO relations (commit_id, kind, ref_id, target_sha, state) VALUES (6, 'upstream', '$T1', '$T1', 'resolved');"
	echo "INSERT INTO branches (id, name, kind, ref) VALUES (1, 'linux-6.1.y', 'stable', 'refs/heads/linux-6.1.y');"
	echo "INSERT INTO branch_commits (branch_id, commit_id, release) VALUES (1, 6, 'v6.1.5');"
} >db.sql
sqlite3 pg.db <db.sql || fail "insert history"

feats() { # sha -> "released stable_lines" (contributions; weight 1), "- -" when absent
	$PG --db pg.db explain --model m.model --top 100 --json "$1" | python3 -c '
import json, sys
fs = {f["feature"]: f["contribution"] for f in json.load(sys.stdin)[0]["features"]}
print(" ".join("%g" % fs[k] if k in fs else "-" for k in ("history:fixes_target_released", "history:fixes_target_stable_lines")))'
}
got=$(feats $F1) || fail "explain F1"
check "a target released and in one stable line: released 1, lines log2(2) = 1 (got $got)" [ "$got" = "1 1" ]
got=$(feats $F2) || fail "explain F2"
check "a target whose release came after the fix: not released, no lines (got $got)" [ "$got" = "- -" ]
got=$(feats $F3) || fail "explain F3"
check "the same target fixed after its release: released (got $got)" [ "$got" = "1 -" ]
got=$(feats $T1) || fail "explain T1"
check "no Fixes: trailer: neither feature (got $got)" [ "$got" = "- -" ]
$PG --db pg.db classify --all --model m.model --recall 1 --json >c.json || fail "classify"
$PG --db pg.db explain --model m.model --json $F2 >e2.json && $PG --db pg.db explain --model m.model --json $F3 >e3.json || fail "explain"
check "classify scores the fix of an unreleased target lower than the same fix after the release" python3 -c '
import json
c = {r["id"]: r["p_security"] for r in json.load(open("c.json"))["commits"]}
e2 = json.load(open("e2.json"))[0]["p_security"]; e3 = json.load(open("e3.json"))[0]["p_security"]
assert e2 < e3, (e2, e3)
f2, f3 = c.get("'$F2'"), c.get("'$F3'")
assert abs(f2 - e2) < 1e-6 and abs(f3 - e3) < 1e-6, (c, e2, e3)'

sqlite3 pg.db "DELETE FROM tags" || fail "delete tags"
got=$(feats $F2) || fail "explain F2 without tags"
check "no release tags recorded: unknown, taken as released (got $got)" [ "$got" = "1 -" ]
finish
