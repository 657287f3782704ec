#!/bin/bash
# `patchgap cells` on a branch with a kernel .config: besides the plain
# cells, one cell per CVE under the build, equal to what `status` reports
# (fixes whose code is not built are not_affected with the VEX
# justification); editing the .config, a new backport and dropping the
# .config each recompute only what they can change, and the incremental
# table equals a full recomputation every time.
# run.sh: sqlite only (reads the cells of the SQLite file with Python)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-kconfig.sh"
kconfig_fixture amd64.config
cd $T
$PG ingest >/dev/null
$PG cve import vulns >/dev/null
$PG cells --json >c1.json
check "first run: 3 CVEs x 2 branches plain, and 3 under the .config" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["full"] and o["evaluated"] == 9, o' c1.json

# the stored config cells are status's verdicts under the build
cells() { $PG cells --list --json >"$1"; }
cells l1.json
check "config cells: built fix affected, the others not built with their VEX justification" python3 - l1.json <<'PY'
import json, sys
cells = json.load(open(sys.argv[1]))
cfg = {c['id']: c for c in cells if c['branch'] == 'linux-6.1.y' and c['config']}
plain = {c['id']: c for c in cells if c['branch'] == 'linux-6.1.y' and not c['config']}
assert set(cfg) == set(plain) == {'CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003'}, cells
assert all(c['status'] == 'affected' for c in plain.values()), plain
assert all(c['config'].endswith('/amd64.config') for c in cfg.values()), cfg
assert cfg['CVE-2024-0001']['status'] == 'affected' and cfg['CVE-2024-0001']['vex']['status'] == 'affected', cfg
assert cfg['CVE-2024-0002']['status'] == 'not_affected', cfg
assert cfg['CVE-2024-0002']['justification'] == 'vulnerable_code_not_in_execute_path', cfg
assert cfg['CVE-2024-0003']['justification'] == 'code_not_present', cfg
assert not any(c['config'] for c in cells if c['branch'] == 'master'), 'master has no .config'
PY
$PG cells --list --branch linux-6.1.y --id CVE-2024-0003 >l1.txt
check "text list: the plain cell shows config '-', the config cell its .config and its own verdict" python3 - l1.txt <<'PY'
import sys
rows = sorted(l.rstrip('\n').split('\t') for l in open(sys.argv[1]))
assert len(rows) == 2 and all(len(r) == 8 for r in rows), rows
plain = [r for r in rows if r[2] == '-']; cfg = [r for r in rows if r[2] != '-']
assert len(plain) == 1 and len(cfg) == 1, rows
assert cfg[0][2].endswith('/amd64.config'), rows
assert plain[0][3] == 'affected' and cfg[0][3] == 'not_affected', rows
PY
agree() { # cells list, status json
	python3 - "$1" "$2" <<'PY'
import json, sys
cells = json.load(open(sys.argv[1])); st = json.load(open(sys.argv[2]))
cfg = [c for c in cells if c['branch'] == 'linux-6.1.y' and c['config']]
assert {c['id'] for c in cfg if c['status'] == 'affected'} == {e['id'] for e in st['unfixed']}, (cfg, st)
assert {c['id'] for c in cfg if c['justification']} == {e['id'] for e in st['not_affected_by_config']}, (cfg, st)
for e in st['not_affected_by_config']:
    c = [c for c in cfg if c['id'] == e['id']][0]
    assert c['justification'] == e['vex']['justification'], (c, e)
PY
}
$PG status linux-6.1.y --json >s1.json || true
check "config cells agree with status under the branch's .config" agree l1.json s1.json

same_as_full() { # what
	cp patchgap.db full.db
	sed -i "s|^\[core\]|[core]\n\tdatabase = $T/full.db|" patchgap.conf
	$PG cells --full --json >/dev/null
	sed -i "/database = /d" patchgap.conf
	dump() { sqlite3 "$1" ".dump cells cell_deps cell_branches cell_configs" | sort; }
	if cmp -s <(dump patchgap.db) <(dump full.db); then ok "$1: incremental cells equal a full recomputation"
	else fail "$1: incremental cells differ from a full recomputation"; diff <(dump patchgap.db) <(dump full.db) | head; fi
}

# an edited .config: only the config cells of that branch are recomputed
sed -i 's/# CONFIG_FOO is not set/CONFIG_FOO=y/' amd64.config
$PG cells --json >c2.json
check "edited .config: the branch's config cells only" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert not o["full"] and o["evaluated"] == 3 and o["written"] >= 1, o' c2.json
cells l2.json
check "the driver is built now: its fix is affected under the .config" python3 -c '
import json, sys
c = [c for c in json.load(open(sys.argv[1])) if c["id"] == "CVE-2024-0003" and c["config"]][0]
assert c["status"] == "affected" and not c["justification"] and c["vex"]["status"] == "affected", c' l2.json
$PG status linux-6.1.y --json >s2.json || true
check "still agrees with status" agree l2.json s2.json
same_as_full "edited .config"

# a backport of the first fix on the configured branch
g checkout -q linux-6.1.y
tick; g cherry-pick -x "$F1" >/dev/null
g checkout -q master
$PG ingest >/dev/null
$PG cells --json >c3.json
cells l3.json
check "the backported fix is fixed in both cells of the branch" python3 -c '
import json, sys
cs = [c for c in json.load(open(sys.argv[1])) if c["id"] == "CVE-2024-0001" and c["branch"] == "linux-6.1.y"]
assert len(cs) == 2 and all(c["status"] == "fixed" for c in cs), cs' l3.json
$PG status linux-6.1.y --json >s3.json || true
check "agrees with status after the backport" agree l3.json s3.json
same_as_full "backport"

# the .config is no longer configured: its cells go
sed -i '/kconfig = /d' patchgap.conf
$PG ingest >/dev/null
$PG cells --json >c4.json
check "no config cells once the branch has no .config" test "$(sqlite3 patchgap.db "SELECT count(*) FROM cells WHERE config <> ''")$(sqlite3 patchgap.db "SELECT count(*) FROM cell_configs")" = 00
check "the plain cells stay" test "$(sqlite3 patchgap.db "SELECT count(*) FROM cells")" = 6
$PG cells --json >c5.json
check "nothing new: nothing recomputed" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["evaluated"] == 0 and o["written"] == 0, o' c5.json
finish
