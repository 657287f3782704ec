#!/bin/bash
# `patchgap status` on a generated history with CNA-style records made from the
# ground truth: every branch's open fixes equal the truth's unfixed fixes, for
# stable branches (annotations) and the vendor branch (also unannotated and
# adapted picks); status of an older vendor commit; --fail-on exit codes.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
$PG ingest >/dev/null
python3 "$SRC/tools/truth-to-cna.py" "$TRUTH" vulns >/dev/null
$PG cve import vulns >/dev/null 2>&1
python3 - "$TRUTH" "$PG" <<'PY'
import json, subprocess, sys
t = json.load(open(sys.argv[1])); pg = sys.argv[2]
bad = 0
for name, b in sorted(t['branches'].items()):
    if b['kind'] == 'mainline':
        continue
    o = json.loads(subprocess.run([pg, 'status', name, '--json', '--all'], capture_output=True, text=True, check=True).stdout)
    got_open = {e['id'] for e in o['unfixed']}
    got_fixed = {e['id'] for e in o['fixed']}
    want_open, want_fixed = set(), set()
    for f in t['fixes']:
        if not f.get('cve'):
            continue
        e = f['branches'].get(name)
        if e is None:
            # no introducer known and the fix absent: affected (CNA convention)
            series = tuple(int(x) for x in b['base_tag'][1:].split('.')[:2])
            fixv = tuple(int(x) for x in f['mainline_version'].split('-')[0].split('.')[:2])
            if not f['introducers'] and fixv > series:
                want_open.add(f['cve'])
            continue
        # known generator limitation: a vendor entry ignores a revert of the
        # fix's stable backport that happened before the vendor forked
        if b['kind'] == 'vendor' and (f['branches'].get(b['parent']) or {}).get('reverted_backport') == e['fix_sha']:
            continue
        if e['fix_sha'] == '0':
            want_open.add(f['cve'])
        elif b['kind'] == 'stable' or e['fix_sha'] != f['fix']:
            want_fixed.add(f['cve'])
    if b['kind'] == 'vendor':
        skip = {f['cve'] for f in t['fixes'] if f.get('cve') and f['branches'].get(name) and
                (f['branches'].get(b['parent']) or {}).get('reverted_backport') == f['branches'][name]['fix_sha']}
        got_open -= skip
        got_fixed -= skip
    if got_open != want_open:
        bad += 1
        print("not ok - %s open: missing %s, extra %s" % (name, sorted(want_open - got_open)[:5], sorted(got_open - want_open)[:5]))
    else:
        print("ok - %s: %d open fixes as in the truth" % (name, len(want_open)))
    if not want_fixed <= got_fixed:
        bad += 1
        print("not ok - %s fixed: missing %s" % (name, sorted(want_fixed - got_fixed)[:5]))
    else:
        print("ok - %s: %d fixed, found by %s" % (name, len(want_fixed), sorted({e['fix_how'] for e in o['fixed']})))
sys.exit(1 if bad else 0)
PY

# an older vendor commit: a fix picked later onto the vendor branch is open there
V=$(python3 -c "import json; t=json.load(open('$TRUTH')); print([n for n,b in t['branches'].items() if b['kind']=='vendor'][0])")
pick=$($PG log --ref "$V" --json | python3 -c "
import json, sys, subprocess
for c in json.load(sys.stdin):
    o = json.loads(subprocess.run(['$PG', 'show', c['sha'], '--json'], capture_output=True, text=True).stdout)
    ups = [r['target'] for r in o['relations'] if r['kind'] == 'upstream' and r['target']]
    if ups:
        print(c['sha'], ups[0]); break")
set -- $pick
older=$(git -C "$GEN" rev-parse "$1~1")
$PG status "$V" --json --all > head.json
$PG status "$older" --json --all > older.json
check "status of an older vendor commit works" test -s older.json
check "older vendor commit has at least as many open fixes" python3 -c "
import json; h=json.load(open('head.json')); o=json.load(open('older.json'))
assert len(o['unfixed']) >= len(h['unfixed']), (len(o['unfixed']), len(h['unfixed']))"
set +e
$PG status linux-6.1.y --fail-on any >/dev/null; rc1=$?
$PG status linux-6.1.y --fail-on 'age>100000' >/dev/null; rc2=$?
$PG status linux-6.1.y --fail-on 'bogus' >/dev/null 2>&1; rc3=$?
$PG status no-such-branch >/dev/null 2>&1; rc4=$?
set -e
check "--fail-on any exits 5 when fixes are open" test $rc1 = 5
check "--fail-on age>100000 matches nothing, exits 0" test $rc2 = 0
check "bad policy is a usage error" test $rc3 = 2
check "unknown branch exits 3" test $rc4 = 3
# silent fixes: what the classifier flags on mainline without a CVE joins the list
$PG classify >/dev/null
$PG status linux-6.1.y --json > cls.json
check "classified fixes carry a priority" python3 -c "
import json; o=json.load(open('cls.json')); l=[e for e in o['unfixed'] if e.get('priority_level')]
assert l, 'no priorities'"
check "silent (classifier-flagged, no CVE) fixes are listed" python3 -c "
import json; o=json.load(open('cls.json')); assert any(e['kind']=='silent' and e['id']==e['fix'] for e in o['unfixed'])"
set +e; $PG status linux-6.1.y --fail-on 'priority>=urgent' >/dev/null; rc=$?; set -e
want=$(python3 -c "
import json; o=json.load(open('cls.json'))
print(5 if any(e.get('priority_level')=='urgent' or (not e.get('priority_level') and e.get('severity')=='critical') for e in o['unfixed']) else 0)")
check "--fail-on priority>=urgent exits $want" test $rc = $want
finish
