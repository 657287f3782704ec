#!/bin/bash
# `patchgap cells` on the partial index: an incremental update that
# recomputes a few targets loads only the branch rows their fix and
# introducer ids reach (PATCHGAP_CELLS_INDEX=partial forces it whatever the
# number of targets, =full forces every row).  On a generated history first
# ingested with every tracked branch rewound, then ingested in full (new
# commits on mainline, stable and vendor branches: backports, unannotated
# picks, reverts), and after changed records: the partial index, the full
# index and a full recomputation leave the same tables.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
rewind_clone master:40 linux-6.1.y:12 linux-6.6.y:6 linux-6.7.y:4 vendor/acme-6.1:5
python3 "$SRC/tools/truth-to-cna.py" "$TRUTH" vulns >/dev/null
$PG --quiet ingest
$PG --quiet cve import vulns
$PG cells --json >c1.json
check "first run is a full one" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["full"], o' c1.json

conf() { sed "s|database = .*|database = $T/$1|" patchgap.conf >"$1.conf"; }
# three copies of one state: incremental on the partial index, on the full index, and a full recomputation
compare() { # label
	local label=$1 db
	for db in part.db fullix.db full.db; do db_clone patchgap.db $db; conf $db; done
	PATCHGAP_CELLS_INDEX=partial $PG --conf part.db.conf cells --json >part.json
	PATCHGAP_CELLS_INDEX=full $PG --conf fullix.db.conf cells --json >fullix.json
	$PG --conf full.db.conf cells --full --json >full.json
	check "$label: the incremental runs recompute some targets on no full branch" python3 -c '
import json, sys
p, x, f = (json.load(open(a)) for a in sys.argv[1:])
assert not p["full"] and p["full_branches"] == 0 and 0 < p["evaluated"] < f["evaluated"], (p, f)
assert {k: v for k, v in p.items()} == x, (p, x)' part.json fullix.json full.json
	for db in part.db fullix.db full.db; do db_dump $db cells cell_deps cell_branches >$db.dump; done
	if cmp -s part.db.dump full.db.dump && cmp -s fullix.db.dump full.db.dump; then
		ok "$label: partial index = full index = full recomputation ($(grep -c '^cells|' full.db.dump) cells)"
	else
		fail "$label: the tables differ"
		diff part.db.dump full.db.dump | head -6
		diff fullix.db.dump full.db.dump | head -6
	fi
}

# the rest of the history: new commits on every branch
restore_refs
$PG --quiet ingest
compare "new commits"

# records naming other fixes: their targets only
$PG cells >/dev/null
python3 - vulns <<'PY'
import glob, sys
recs = sorted(glob.glob(sys.argv[1] + '/cve/published/*/*.sha1'))
shas = [open(p).read() for p in recs]
for i, p in enumerate(recs[:20]):
    open(p, 'w').write(shas[-1 - i])
PY
$PG --quiet cve import vulns
compare "changed records"
finish
