#!/bin/bash
# t7007-watch-classify-diffs: a commit a watch cycle fetches is classified
# with its diff, as `patchgap classify` does: a fix whose diff adds a NULL
# check is stored with the diff head's verdict (the P(security) `explain`
# gives with the diff, not the one without), the cycle counts it in
# classified_with_diff, and [classify] diffs = false keeps watch on the
# no-diff head.  The flag follows [classify] recall, as `classify` does: with
# recall = 0.05 a fix above the default threshold is stored unflagged, and
# `classify --all` rescoring the database stores the same verdict for it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
start_receiver
write_conf
cd "$T"
cycle() { $PG watch --once --fetch-now --json > "$1.json" 2> "$1.err" || { cat "$1.err"; fail "cycle $1"; }; }
# a fix without trailers (so nothing but the diff separates the heads), pushed
push_null_check() { # subject
	tick
	sed -i 's/^\treturn 11;/\tif (!a_ptr)\n\t\treturn -EINVAL;\n\treturn 11;/' "$T/work/kernel/core.c"
	g commit -qam "$1

a() can be called before a_ptr is set up: check it first."
	FIX=$(g rev-parse HEAD)
	g push -q "$UP" master
}
stored_p() { sqlite3 patchgap.db "SELECT p_security FROM classifications WHERE sha = '$1'"; }
p_of() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["p_security"])' "$1"; }

cycle c1
push_null_check "core: check a_ptr in a()"
cycle c2
check "the cycle classified the new commit with its diff" $PY -c "
import json; o = json.load(open('c2.json')); assert o['commits_new'] == 1 and o['classified_with_diff'] == 1, o"
$PG explain --json "$FIX" > e_diff.json || fail "explain"
$PG explain --json --no-diffs "$FIX" > e_nodiff.json || fail "explain --no-diffs"
check "explain names a diff feature of the fix" $PY -c "
import json; e = json.load(open('e_diff.json'))[0]
assert e['head'] == 'diff' and any(f['feature'].startswith('diff:') for f in e['features']), e"
P=$(stored_p "$FIX")
check "stored verdict is the diff head's ($P = $(p_of e_diff.json), not $(p_of e_nodiff.json))" $PY -c "
p, d, n = $P, $(p_of e_diff.json), $(p_of e_nodiff.json)
assert abs(p - d) < 1e-6 and abs(p - n) > 1e-4, (p, d, n)"

# diffs = false: the next new commit is scored without its diff
printf '[classify]\n\tdiffs = false\n' >> patchgap.conf
tick
sed -i 's/^\treturn 11;/\tif (!b_ptr)\n\t\treturn -EINVAL;\n\treturn 11;/' "$T/work/kernel/core.c"
g commit -qam "core: check b_ptr in a()

a() can be called before b_ptr is set up: check it first."
F2=$(g rev-parse HEAD)
g push -q "$UP" master
cycle c3
check "diffs = false: the cycle classified without diffs" $PY -c "
import json; o = json.load(open('c3.json')); assert o['commits_new'] == 1 and o['classified_with_diff'] == 0, o"
$PG explain --json "$F2" > e3.json || fail "explain with diffs = false"
P=$(stored_p "$F2")
check "diffs = false: stored verdict is the no-diff head's ($P)" $PY -c "
import json; e = json.load(open('e3.json'))[0]
assert e['head'] == 'nodiff' and abs(e['p_security'] - $P) < 1e-6, e"

# [classify] recall = 0.05: a far stricter operating point than the default 0.90
printf '[classify]\n\tdiffs = true\n\trecall = 0.05\n' >> patchgap.conf
tick
sed -i 's/^\treturn 11;/\tif (!c_ptr)\n\t\treturn -EINVAL;\n\treturn 11;/' "$T/work/kernel/core.c"
g commit -qam "core: fix a use-after-free of c_ptr in a()

KASAN reports a slab-use-after-free: c_ptr is freed while a() still reads it."
F3=$(g rev-parse HEAD)
g push -q "$UP" master
cycle c4
$PG explain --json "$F3" > e4.json || fail "explain at recall 0.05"
label() { sqlite3 "${2:-patchgap.db}" "SELECT label FROM classifications WHERE sha = '$1'"; }
check "recall 0.05: the fix is above the default threshold, yet stored unflagged (label $(label "$F3"))" $PY -c "
import json; e = json.load(open('e4.json'))[0]
assert e['head'] == 'diff' and e['p_security'] >= e['threshold'], e
assert '$(label "$F3")' == '0'"
check "recall 0.05: no fix.flagged event for it" $PY -c "
import json; o = json.load(open('c4.json')); assert o['commits_new'] == 1 and o['flagged'] == 0, o"
q="SELECT label, p_security FROM classifications WHERE sha = '$F3'"
W=$(sqlite3 patchgap.db "$q")
$PG classify --all > /dev/null 2> classify.err || { cat classify.err; fail "classify --all"; }
check "classify --all stores the verdict watch stored ($W)" test "$W" = "$(sqlite3 patchgap.db "$q")"
finish
