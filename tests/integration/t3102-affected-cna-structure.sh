#!/bin/bash
# `patchgap affected` against the structure of REAL kernel CNA records: a
# kernel-shaped repository realising ~50 records of ../shared/data's
# kernel-cves (dyad 1.2.0) is built by tools/cna-structure-repo.py (mainline
# introducers and fixes at the records' releases, stable backports at their
# stable releases, stable-only introducers, never-fixed branches, several fix
# commits, .vulnerable overrides, unknown introducers); the CNA folder it
# writes is imported and every record's dyad lines must come back, mapped to
# the generated commits: the printed lines are exactly the record's lines;
# patchgap's per-branch view (--json "branches") may add branches the record
# does not name (the bug in the base, no fix: affected).
. "$(dirname "$0")/lib.sh"
[ -n "$SHARED" ] && [ -f "$SHARED/kernel-cves.jsonl.gz" ] || skip_all "no ../shared/data/kernel-cves.jsonl.gz"
cd $T
python3 "$SRC/tools/cna-structure-repo.py" --data "$SHARED/kernel-cves.jsonl.gz" --out cna >build.log ||
	{ cat build.log; exit 1; }
sed -n '1,2p;$p' build.log
{
	printf '[core]\n\trepository = %s\n\tdatabase = patchgap.db\n' "$T/cna/repo"
	while read -r b; do
		[ "$b" = master ] && k=mainline || k=stable
		printf '[branch "%s"]\n\tkind = %s\n' "$b" "$k"
	done <cna/branches.txt
} >patchgap.conf
IDS=$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' cna/expected.json)
# Records whose commits are not ingested yet: no crash (regression: freeing the
# index dereferenced cached "not ingested" commits), nothing claimed.
$PG cve import cna/vulns >/dev/null
if $PG affected --json $IDS >pre.json; then ok "affected before ingest runs cleanly"; else fail "affected before ingest runs cleanly"; fi
check "affected before ingest prints no dyad line" python3 -c '
import json, sys
o = json.load(open(sys.argv[1])); o = o if isinstance(o, list) else [o]
sys.exit(any(x["dyad"] for x in o))' pre.json
check "ingest of the CNA-shaped repository" $PG --quiet ingest
check "import of the generated CNA folder" $PG cve import cna/vulns
$PG affected --json $IDS >got.json ||
	fail "patchgap affected failed"

# Deterministic: a second build gives the same commits.
python3 "$SRC/tools/cna-structure-repo.py" --data "$SHARED/kernel-cves.jsonl.gz" --out cna2 >/dev/null
check "builder is deterministic" cmp -s cna/map.json cna2/map.json

python3 - cna/expected.json got.json <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
if isinstance(got, dict):
    got = [got]
got = {g['id']: g for g in got}
classes = {}
bad = []
for cve, e in sorted(exp.items()):
    g = got.get(cve)
    problems = []
    if g is None:
        problems.append('no answer')
    else:
        # Per tracked branch, the accepted lines: the record's (several for a
        # branch with several fix commits: patchgap prints one line per
        # branch, any of the record's is right), plus the extension lines
        # (an unnamed branch whose base has the bug and no fix: affected).
        want = dict(e['branches'])
        want.update(e['extension'])
        have = {}
        for name, b in g['branches'].items():
            if b.get('status') in ('affected', 'fixed'):
                have[name] = '%s:%s:%s:%s' % (b['vuln_version'], b['vuln_sha'], b['fix_version'], b['fix_sha'])
        for name in sorted(set(want) | set(have)):
            if have.get(name) not in want.get(name, []):
                problems.append('%s: want %s got %s (%s)' % (name, want.get(name), have.get(name),
                                                            g['branches'].get(name, {}).get('reason')))
        # the printed lines are exactly the record's dyad lines
        rec = sorted(l for ls in e['branches'].values() for l in ls)
        if sorted(g['dyad']) != rec:
            problems.append('dyad lines: want %s got %s' % (rec, sorted(g['dyad'])))
    for c in e['classes']:
        m, t = classes.get(c, (0, 0))
        classes[c] = (m + (not problems), t + 1)
    if problems:
        bad.append((cve, problems))
for c in sorted(classes):
    print('  %-10s %d/%d records matched' % (c, classes[c][0], classes[c][1]))
for cve, p in bad[:10]:
    print('not ok - %s:' % cve)
    for x in p[:6]:
        print('     ', x)
print('%s - dyad lines of %d real CNA record structures (%d mismatches)' % ('not ok' if bad else 'ok', len(exp), len(bad)))
sys.exit(1 if bad else 0)
PY
[ $? = 0 ] || NFAIL=$((NFAIL + 1))

# `status` of every tracked branch agrees: open exactly where the expected
# line has fix 0 (a record's branch-only .sha1 commit must not reopen the CVE
# on branches whose base has the mainline fix).
$PG status --json >status.json || [ $? = 5 ] || fail "patchgap status failed"
python3 - cna/expected.json status.json <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
st = json.load(open(sys.argv[2]))
def ver(v):
    return tuple(int(x) for x in v.split('-')[0].split('.'))
st = st if isinstance(st, list) else [st]
bad, n = [], 0
for t in st:
    name = t['branch']
    got = {e['id'] for e in t['unfixed']}
    want = set()
    for cve, e in exp.items():
        lines = dict(e['branches'], **e['extension']).get(name, [])
        if lines and all(l.endswith(':0:0') for l in lines):
            want.add(cve)
        # no introducer known, the branch has no fix and its base lacks the
        # mainline fix: affected (the CNA's convention for 0:0:fix)
        every = [l for ls in e['branches'].values() for l in ls]
        main = [l.split(':')[2] for l in every if l.split(':')[2].count('.') == 1]
        if (not lines and every and all(l.startswith('0:0:') for l in every) and main and
                name.startswith('linux-') and ver(name[6:-2]) < ver(main[0])):
            want.add(cve)
    n += 1
    if got != want:
        bad.append((name, 'extra', sorted(got - want), 'missing', sorted(want - got)))
for b in bad[:10]:
    print('    ', b)
print('%s - status open CVEs on %d branches match the expected lines' % ('not ok' if bad else 'ok', n))
sys.exit(1 if bad else 0)
PY
[ $? = 0 ] || NFAIL=$((NFAIL + 1))
finish
