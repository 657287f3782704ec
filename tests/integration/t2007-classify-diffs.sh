#!/bin/bash
# t2007-classify-diffs.sh - ingested commits are scored with their diff: on a
# real repository, a fix whose diff adds a NULL check and a bounds check is
# scored by the diff head (explain names diff: features and the diff head's
# threshold; the stored verdict is that one), and with --no-diffs or
# [classify] diffs = false by the no-diff head (no diff: feature, the other
# threshold, another P(security)).  A merge and a commit the repository has
# not got (a database ingested from another clone) get the no-diff head
# without error and are counted.  A repository that cannot be opened:
# silent no-diff scoring by default, a note when diffs were asked for.  A
# bad `diffs` value is an error naming the key and the value.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
cd "$T"
R=$T/repo
MODEL=$SRC/data/model/classify.model
git init -q -b master "$R"
mkdir -p "$R/drivers/net" "$R/kernel"
printf 'int foo_rx(struct foo *f, size_t len)\n{\n\tmemcpy(f->buf, f->data, len);\n\treturn f->dev->id;\n}\n' >"$R/drivers/net/foo.c"
printf 'int bar(void)\n{\n\treturn 1;\n}\n' >"$R/kernel/bar.c"
tick; g add -A; g commit -qm "foo: add the foo driver"
printf 'int foo_rx(struct foo *f, size_t len)\n{\n\tif (!f->dev)\n\t\treturn -EINVAL;\n\tif (len > sizeof(f->buf))\n\t\treturn -EINVAL;\n\tmemcpy(f->buf, f->data, len);\n\treturn f->dev->id;\n}\n' >"$R/drivers/net/foo.c"
tick; g commit -qam "net: foo: check the device and the length in foo_rx

foo_rx() dereferences f->dev and copies len bytes into f->buf without
checking either.  Check both before use."
FIX=$(g rev-parse HEAD)
g checkout -q -b side HEAD~1
sed -i 's/return 1;/return 2;/' "$R/kernel/bar.c"
tick; g commit -qam "kernel: bar returns 2"
g checkout -q master
tick; g merge -q --no-ff -m "Merge branch 'side'" side
MERGE=$(g rev-parse HEAD)
write_conf patchgap.conf master:mainline
$PG --conf patchgap.conf ingest >/dev/null 2>ingest.err || { cat ingest.err; fail "ingest"; }
# a commit ingested from another clone: in the database, not in this repository
ABSENT=f00dfeed00000000000000000000000000000007
sqlite3 pg.db "INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents, subject, message)
  VALUES (1000, '$ABSENT', 'A', 'a@x', $TICK, $TICK, '', 1, 'net: foo: fix a use-after-free in foo_close',
  'net: foo: fix a use-after-free in foo_close

Take a reference.');
  INSERT INTO commit_files (commit_id, path, status) VALUES (1000, 'drivers/net/foo.c', 'M');" || fail "insert absent commit"

# the thresholds each head labels with at the default recall, from the model file
op() { python3 -c "import sys
for l in open('$MODEL'):
    w = l.split()
    if w[:3] == ['op', sys.argv[1], '0.90']: print(w[3]); break" "$1"; }
TDIFF=$(op diff) TNODIFF=$(op nodiff)
check "the model has both heads' operating points ($TDIFF, $TNODIFF)" test -n "$TDIFF" -a -n "$TNODIFF" -a "$TDIFF" != "$TNODIFF"

$PG --conf patchgap.conf classify --all --json >d.json 2>d.err || { cat d.err; fail "classify with diffs"; }
check "five commits scored, three with their diff, the absent one counted (merge and absent: no-diff head)" python3 -c '
import json; o = json.load(open("d.json"))
assert o["classified"] == 5 and o["with_diff"] == 3 and o["not_in_repository"] == 1 and o["diffs"] is True, o
assert o["operating_point_diff"]["threshold"] != o["operating_point"]["threshold"], o'
check "no note on stderr" test ! -s d.err
$PG --conf patchgap.conf explain --json "$FIX" >e_diff.json || fail "explain with the diff"
$PG --conf patchgap.conf explain --json --no-diffs "$FIX" >e_nodiff.json || fail "explain --no-diffs"
python3 - "$TDIFF" "$TNODIFF" <<'PY' && ok "explain: diff head with diff: features and its threshold; --no-diffs: none, the no-diff threshold, another score" || fail "explain heads"
import json, sys
tdiff, tnodiff = float(sys.argv[1]), float(sys.argv[2])
d, n = json.load(open("e_diff.json"))[0], json.load(open("e_nodiff.json"))[0]
names = lambda e: [f["feature"] for f in e["features"]]
assert d["head"] == "diff" and abs(d["threshold"] - tdiff) < 1e-6, d
assert any(x in names(d) for x in ("diff:add_null_check", "diff:add_bounds_check", "diff:add_return_error")), names(d)
assert n["head"] == "nodiff" and abs(n["threshold"] - tnodiff) < 1e-6, n
assert not any(x.startswith("diff:") for x in names(n)), names(n)
assert abs(d["p_security"] - n["p_security"]) > 1e-4, (d["p_security"], n["p_security"])
PY
stored() { sqlite3 pg.db "SELECT p_security || ' ' || label FROM classifications WHERE sha = '$1'"; }
read -r P L <<<"$(stored "$FIX")"
check "the stored verdict is the diff head's (p $P, label $L at threshold $TDIFF)" python3 -c "
import json; e = json.load(open('e_diff.json'))[0]
assert abs(e['p_security'] - $P) < 1e-6 and $L == ($P >= $TDIFF), e"
$PG --conf patchgap.conf explain --json "$MERGE" >e_merge.json || fail "explain a merge"
$PG --conf patchgap.conf explain --json "$ABSENT" >e_absent.json || fail "explain a commit absent from the repository"
check "a merge and an absent commit are explained by the no-diff head" python3 -c '
import json
for f in ("e_merge.json", "e_absent.json"):
    e = json.load(open(f))[0]
    assert e["head"] == "nodiff" and not any(x["feature"].startswith("diff:") for x in e["features"]), e'

# --no-diffs and [classify] diffs = false: every commit by the no-diff head
$PG --conf patchgap.conf classify --all --no-diffs --json >n.json || fail "classify --no-diffs"
check "--no-diffs: nothing scored with a diff" python3 -c '
import json; o = json.load(open("n.json")); assert o["classified"] == 5 and o["with_diff"] == 0 and o["diffs"] is False, o'
read -r P L <<<"$(stored "$FIX")"
check "--no-diffs stores the no-diff head's verdict (p $P, label $L at threshold $TNODIFF)" python3 -c "
import json; e = json.load(open('e_nodiff.json'))[0]
assert abs(e['p_security'] - $P) < 1e-6 and $L == ($P >= $TNODIFF), e"
cp patchgap.conf off.conf
printf '[classify]\n\tdiffs = false\n' >>off.conf
$PG --conf off.conf classify --all --json >off.json || fail "classify with diffs = false"
check "diffs = false: nothing scored with a diff" python3 -c '
import json; o = json.load(open("off.json")); assert o["with_diff"] == 0 and o["diffs"] is False, o'
$PG --conf off.conf explain --json "$FIX" >e_off.json || fail "explain with diffs = false"
check "diffs = false: explain uses the no-diff head" python3 -c '
import json; e = json.load(open("e_off.json"))[0]; assert e["head"] == "nodiff", e'

# a repository that cannot be opened: the no-diff head; a note only when diffs were asked for
sed 's|repository = repo|repository = no-such-repo|' patchgap.conf >gone.conf
$PG --conf gone.conf classify --all --json >g.json 2>g.err || fail "classify, repository gone"
check "repository gone, diffs by default: no-diff head, silently" bash -c \
	"python3 -c 'import json; o = json.load(open(\"g.json\")); assert o[\"with_diff\"] == 0 and o[\"diffs\"] is False, o' && [ ! -s g.err ]"
cp gone.conf gone-on.conf
printf '[classify]\n\tdiffs = true\n' >>gone-on.conf
$PG --conf gone-on.conf classify --all --json >g2.json 2>g2.err || fail "classify, repository gone, diffs = true"
check "repository gone, diffs = true: one note naming core.repository ($(head -c 120 g2.err))" bash -c \
	"[ \$(wc -l <g2.err) = 1 ] && grep -q 'core.repository' g2.err && grep -q 'without diffs' g2.err"

# a bad value: an error naming the key and the value, the stored verdicts unchanged
before=$(sqlite3 pg.db "SELECT p_security FROM classifications ORDER BY commit_id" | paste -sd,)
cp patchgap.conf bad.conf
printf '[classify]\n\tdiffs = maybe\n' >>bad.conf
for verb in "classify --all" "explain $FIX"; do
	rc=0
	# shellcheck disable=SC2086
	$PG --conf bad.conf $verb >/dev/null 2>bad.err || rc=$?
	check "$verb with diffs = maybe: exit $rc, $(head -c 100 bad.err)" bash -c \
		"[ $rc != 0 ] && grep -q 'classify.diffs' bad.err && grep -q maybe bad.err"
done
after=$(sqlite3 pg.db "SELECT p_security FROM classifications ORDER BY commit_id" | paste -sd,)
check "the bad value changed no stored verdict" [ "$before" = "$after" ]
finish
