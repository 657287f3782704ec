#!/bin/bash
# `patchgap status` of a tracked branch is read from the stored cells while
# they are provably current, and computed otherwise: on a generated history
# its output (JSON and text) equals `status --recompute` after `cells`, and
# after each input the cells do not know yet (new commits, a changed or new
# record, a classifier run at another operating point) it is computed again
# until `cells` runs; under a kernel .config the same after editing the
# .config and after pointing the branch's kconfig at another file.
# Whether the cells were read is seen by marking the stored reasons.
# run.sh: sqlite only (marks cells of the SQLite file with sqlite3)
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
# the first ingest lacks the newest commits of some branches (and their tags)
rewind_clone master:40 linux-6.1.y:12 linux-6.6.y:6
python3 "$SRC/tools/truth-to-cna.py" "$TRUTH" vulns >/dev/null
cp -r vulns vulns.final
# the first import: a few records name another fix, a few are not there yet
python3 - vulns <<'PY'
import glob, os, sys
recs = sorted(glob.glob(sys.argv[1] + '/cve/published/*/*.sha1'))
shas = [open(p).read() for p in recs]
for i, p in enumerate(recs[:5]):
    open(p, 'w').write(shas[-1 - i])
for p in recs[5:10]:
    os.remove(p)
PY
$PG --quiet ingest
$PG --quiet cve import vulns
$PG classify >/dev/null
$PG cells >/dev/null

# every branch (one process), JSON with the fixed ones and text: stored = computed
same() { # what
	local bad=0
	$PG status --json --all >st.json || [ $? = 5 ] || bad=1
	$PG status --json --all --recompute >rc.json || [ $? = 5 ] || bad=1
	cmp -s st.json rc.json || { bad=1; echo "# JSON differs"; diff st.json rc.json | head -5; }
	$PG status >st.txt || [ $? = 5 ] || bad=1
	$PG status --recompute >rc.txt || [ $? = 5 ] || bad=1
	cmp -s st.txt rc.txt || { bad=1; echo "# text differs"; diff st.txt rc.txt | head -5; }
	if [ $bad = 0 ]; then ok "$1: status equals status --recompute ($(grep -c '^OPEN' rc.txt) open, every branch)"
	else fail "$1: status differs from status --recompute"; fi
}
# read BRANCH: 1 when status of BRANCH shows the stored (marked) reasons
MARK=' [stored]'
read_cells() {
	sqlite3 patchgap.db "UPDATE cells SET reason = reason || '$MARK' WHERE branch = '$1'"
	$PG status "$1" --json --all >mark.json || [ $? = 5 ]
	sqlite3 patchgap.db "UPDATE cells SET reason = substr(reason, 1, length(reason) - ${#MARK}) WHERE branch = '$1'"
	grep -qF "$MARK" mark.json && echo 1 || echo 0
}
uses() { # what, 1|0
	local b got=
	for b in master linux-6.1.y vendor/acme-6.1; do got="$got$(read_cells $b)"; done
	check "$1: cells read ($2 wanted; master, linux-6.1.y, vendor/acme-6.1: $got)" test "$got" = "$2$2$2"
}

uses "after cells" 1
same "after cells"
$PG status linux-6.1.y --json --all >before.json || [ $? = 5 ]

# new commits: backports among them
restore_refs
$PG --quiet ingest
uses "new commits, no cells run" 0
$PG status linux-6.1.y --json --all >after.json || [ $? = 5 ]
check "the new commits change linux-6.1.y's status" python3 - before.json after.json <<'PY'
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:])
key = lambda o: sorted((e['id'], e['status'], e.get('fixed_by')) for e in o['unfixed'] + o['fixed'])
assert key(b) != key(a), 'no change'
PY
same "new commits, no cells run"
$PG cells >/dev/null
uses "new commits, cells run" 1
same "new commits, cells run"

# changed and new records
rm -rf vulns && cp -r vulns.final vulns
$PG --quiet cve import vulns
uses "changed and new records, no cells run" 0
same "changed and new records, no cells run"
$PG cells >/dev/null
uses "changed and new records, cells run" 1
same "changed and new records, cells run"

# another operating point of the classifier: other silent fixes
n0=$(sqlite3 patchgap.db "SELECT count(*) FROM classifications WHERE label = 1")
$PG classify --all --recall 1 >/dev/null
n1=$(sqlite3 patchgap.db "SELECT count(*) FROM classifications WHERE label = 1")
check "recall 1 flags more commits ($n0 -> $n1)" test "$n1" -gt "$n0"
uses "classify at recall 1, no cells run" 0
same "classify at recall 1, no cells run"
$PG cells >/dev/null
uses "classify at recall 1, cells run" 1
same "classify at recall 1, cells run"

# a branch's definition: vendor/acme-6.1 is tracked as a stable tree of its own now
sed -i '/\[branch "vendor\/acme-6.1"\]/,/^\[/ s/kind = vendor/kind = stable\n\tseries = 6.1/' patchgap.conf
$PG --quiet ingest
check "vendor/acme-6.1 is stable now" test "$(sqlite3 patchgap.db "SELECT kind FROM branches WHERE name = 'vendor/acme-6.1'")" = stable
uses "a branch's kind changed, no cells run" 0
$PG cells --json >c.json
check "a changed definition recomputes every branch" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["full"], o' c.json
uses "a branch's kind changed, cells run" 1
same "a branch's kind changed, cells run"

# the config dimension, on a tree with Kbuild files and a .config
T0=$T; T=$T0/k; mkdir -p $T
[ -n "${PG_KEEP:-}" ] || trap 'rm -rf "$T0"' EXIT
. "$SRC/tests/integration/lib-kconfig.sh"
kconfig_fixture amd64.config
cd $T
$PG --quiet ingest
$PG --quiet cve import vulns
$PG cells >/dev/null
same ".config"
check ".config: cells read" test "$(read_cells linux-6.1.y)" = 1
check ".config: the stored build verdicts are printed" python3 -c '
import json, sys; o = json.load(open(sys.argv[1])); assert o["config"] and o["not_affected_by_config"] and all("vex" in e for e in o["unfixed"] + o["not_affected_by_config"]), o' mark.json
$PG status linux-6.1.y --no-config --json >a.json || [ $? = 5 ]
$PG status linux-6.1.y --no-config --json --recompute >b.json || [ $? = 5 ]
check "--no-config: the plain cells, as computed" cmp -s a.json b.json

sed -i 's/# CONFIG_FOO is not set/CONFIG_FOO=y/' amd64.config
check "edited .config, no cells run: computed" test "$(read_cells linux-6.1.y)" = 0
same "edited .config, no cells run"
$PG cells >/dev/null
check "edited .config, cells run: cells read" test "$(read_cells linux-6.1.y)" = 1
same "edited .config, cells run"

cp amd64.config other.config && echo 'CONFIG_CORE_DEBUG=y' >>other.config
sed -i 's/kconfig = amd64.config/kconfig = other.config/' patchgap.conf
check "kconfig names another file, no ingest: computed" test "$(read_cells linux-6.1.y)" = 0
same "kconfig names another file"
$PG status linux-6.1.y --config amd64.config --json >a.json || [ $? = 5 ]
$PG status linux-6.1.y --config amd64.config --json --recompute >b.json || [ $? = 5 ]
check "--config naming the stored .config: as computed" cmp -s a.json b.json
$PG --quiet ingest
$PG cells >/dev/null
check "kconfig names another file, cells run: cells read" test "$(read_cells linux-6.1.y)" = 1
same "kconfig names another file, cells run"
finish
