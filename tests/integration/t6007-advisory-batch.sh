#!/bin/bash
# advisory over many documents: --since/--until select CVEs by the date of
# their upstream fix; --new publishes only documents that are new or changed
# since their last recorded revision (a second run publishes nothing).
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
$PG ingest >/dev/null
python3 "$SRC/tools/truth-to-cna.py" "$TRUTH" vulns >/dev/null
$PG cve import vulns >/dev/null 2>&1
want=$(sqlite3 patchgap.db "select count(distinct v.id) from cves v join cve_fixes f on f.cve_id=v.id join commits c on c.sha=f.sha where v.state='published'")
$PG advisory --format osv --new --out first --json > first.json
check "--new publishes every CVE the first time ($want)" test "$(python3 -c "import json; print(len(json.load(open('first.json'))))")" = "$want"
check "one OSV file per document" test "$(ls first | wc -l)" = "$want"
$PG advisory --format osv --new --out second --json > second.json
check "a second --new run publishes nothing" test "$(python3 -c "import json; print(len(json.load(open('second.json'))))")" = 0
# a date range: CVEs whose earliest fix commit is dated in 2024
inrange=$(sqlite3 patchgap.db "select count(*) from (select v.id, min(c.committer_time) t from cves v join cve_fixes f on f.cve_id=v.id join commits c on c.sha=f.sha where v.state='published' group by v.id) f where t >= $(date -ud 2024-01-01 +%s) and t <= $(date -ud '2024-12-31 23:59:59' +%s)")
$PG advisory --format openvex --since 2024-01-01 --until 2024-12-31 --out range --no-record --json > range.json
check "--since/--until select the CVEs fixed in 2024 ($inrange)" test "$(python3 -c "import json; print(len(json.load(open('range.json'))))")" = "$inrange"
set +e
$PG advisory --format osv --new >/dev/null 2>err.txt; rc1=$?
$PG advisory --format osv --since yesterday --out x >/dev/null 2>&1; rc2=$?
set -e
check "--new without --out is a usage error" test $rc1 = 2
check "a malformed date is a usage error" test $rc2 = 2
finish
