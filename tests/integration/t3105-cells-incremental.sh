#!/bin/bash
# `patchgap cells`: stored CVE x branch verdicts.  On a generated history
# first ingested with every tracked branch rewound (and a vendor branch
# later force-pushed), and CNA records of which some change, appear or are
# rejected later: after the second ingest and import, the incremental
# update recomputes fewer cells than a full one and leaves exactly the
# table a full recomputation writes; the stored verdicts agree with
# `patchgap status`.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
# rewind: every branch loses its newest commits; tags they no longer contain go too
rewind_clone master:40 linux-6.1.y:12 linux-6.6.y:6 linux-6.7.y:4
python3 "$SRC/tools/truth-to-cna.py" "$TRUTH" vulns >/dev/null
cp -r vulns vulns.final
# the first import: some records name another fix, some are not there yet, one is later rejected
python3 - vulns <<'PY'
import glob, os, sys
recs = sorted(glob.glob(sys.argv[1] + '/cve/published/*/*.sha1'))
shas = [open(p).read() for p in recs]
for i, p in enumerate(recs[:25]):
    open(p, 'w').write(shas[-1 - i])          # changed later
for p in recs[25:35]:
    os.remove(p)                              # new later
PY
REJ=$(cd vulns.final && ls cve/published/*/*.sha1 | sed -n 40p)
$PG --quiet ingest
$PG --quiet cve import vulns
$PG cells --json >c1.json
check "first run is a full one" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["full"] and o["evaluated"] == o["targets"] * o["branches"], o' c1.json

# the rest of the history (a force-pushed vendor branch among it), the final records
restore_refs
git -C repo update-ref refs/heads/vendor/acme-6.1 refs/heads/vendor/acme-6.1~3
rm -rf vulns && cp -r vulns.final vulns
mkdir -p "vulns/$(dirname "${REJ/published/rejected}")" && mv "vulns/$REJ" "vulns/${REJ/published/rejected}"
$PG --quiet ingest
$PG --quiet cve import vulns
check "the rejected record is rejected" test "$(sqlite3 patchgap.db "SELECT state FROM cves WHERE id = '$(basename "$REJ" .sha1)'")" = rejected
db_clone patchgap.db full.db
$PG cells --json >c2.json
sed -i "s|database = .*|database = $T/full.db|" patchgap.conf
$PG cells --full --json >c3.json
sed -i "s|database = .*|database = $T/patchgap.db|" patchgap.conf
check "the incremental run recomputes less than a full one" python3 -c '
import json, sys
i, f = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert not i["full"] and f["full"] and 0 < i["evaluated"] < f["evaluated"], (i, f)
assert i["full_branches"] == 1, i   # the force-pushed vendor branch
assert i["deleted"] > 0, i' c2.json c3.json
dump() { db_dump "$1" cells cell_deps cell_branches; }
dump patchgap.db >inc.dump
dump full.db >full.dump
if cmp -s inc.dump full.dump; then ok "incremental cells equal a full recomputation ($(grep -c '^cells|' full.dump) cells)"
else fail "incremental cells differ from a full recomputation"; diff inc.dump full.dump | head -10; fi
check "no cell of the rejected record" test "$(sqlite3 patchgap.db "SELECT count(*) FROM cells WHERE id = '$(basename "$REJ" .sha1)'")" = 0

# the stored verdicts are status's
$PG status --json >status.json || [ $? = 5 ]
$PG cells --list --json >cells.json
check "stored affected cells are status's open fixes" python3 - status.json cells.json <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); cells = json.load(open(sys.argv[2]))
for t in st:
    want = {e['id'] for e in t['unfixed']}
    got = {c['id'] for c in cells if c['branch'] == t['branch'] and c['status'] == 'affected'}
    assert want == got, (t['branch'], sorted(want - got)[:5], sorted(got - want)[:5])
PY
$PG cells --json >c4.json
check "nothing new: nothing recomputed" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["evaluated"] == 0, o' c4.json
finish
