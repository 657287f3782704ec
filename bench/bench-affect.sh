#!/bin/bash
# bench-affect.sh - affectedness at scale: `status` of every CVE x branch
# (computed, and read from the stored cells), `cells --full` (every verdict
# computed and stored), and the incremental `cells` after an ingest of
# 1,000 new mainline commits and after a `cve import` of 50 changed
# records, on a generated kernel-shaped history.
# Baseline measured in the same run: sqlite3 reading the same stored rows
# (SELECT * FROM cells), i.e. what a reader of stored verdicts pays.
#
#   bench/bench-affect.sh [SCALE] [WORKDIR]     SCALE: small|medium|large|huge (default large)
#
# Targets (issue "affectedness you can push automatically"): all branches x
# ~15,000 CVEs (20 branches) < 2 s; huge (1.5M commits, 23 branches, ~81k
# fixes) < 10 s; incremental after +1,000 commits or 50 changed records < 0.3 s.
# Records: tools/truth-to-cna.py (one per generated CVE fix), plus the
# classifier-flagged silent fixes when `patchgap classify` has run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh bc time sqlite3
SCALE=${1:-large}
W=${2:-/tmp/patchgap-bench-affect-$SCALE}
PG=$ROOT/build/cli/patchgap
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
data=(--no-data); [ -d "$ROOT/../shared/data" ] && data=(--data "$ROOT/../shared/data")
if [ ! -f "$W/gen.done" ]; then
	rm -rf "$W/repo"
	python3 tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" --truth "$W/truth.json" "${data[@]}" >/dev/null
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	touch "$W/gen.done"
fi
python3 "$ROOT/tools/truth-to-conf.py" "$W/truth.json" "$W/repo" > "$W/patchgap.conf"
cd "$W"
# wall seconds and CPU seconds (user+sys: what to compare on a loaded machine)
secs() {
	/usr/bin/time -f "%e %U %S" -o "$W/t.out" "$@" >"$W/last.out" 2>"$W/t.err" || { cat "$W/t.err" >&2; return 1; }
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$W/t.out"
}
PGC=("$PG" --conf patchgap.conf)
# the history without its newest 1,000 mainline commits, then all of it.  The
# tags on those commits go too while they are hidden, as before a real push:
# otherwise the first ingest reads the commits through the tags and the
# second finds nothing new, only rows moved onto a branch.
head=$(git -C repo rev-parse refs/heads/master)
rm -f patchgap.db*
git -C repo rev-list "$head~1000..$head" | sort >hidden.commits
git -C repo for-each-ref refs/tags --format='%(refname) %(objectname) %(*objectname)' |
	awk 'NR == FNR { h[$1] = 1; next } ($3 != "" ? $3 : $2) in h { print $1, $2 }' hidden.commits - >hidden.tags
while read -r ref sha; do git -C repo update-ref -d "$ref"; done <hidden.tags
git -C repo update-ref refs/heads/master "$head~1000"
"${PGC[@]}" --quiet ingest
while read -r ref sha; do git -C repo update-ref "$ref" "$sha"; done <hidden.tags
python3 "$ROOT/tools/truth-to-cna.py" truth.json vulns >/dev/null
"${PGC[@]}" --quiet cve import vulns || true
read full1_s full1_cpu < <(secs "${PGC[@]}" cells)
git -C repo update-ref refs/heads/master "$head"
"${PGC[@]}" --quiet ingest
read inc_s inc_cpu < <(secs "${PGC[@]}" cells --json)
cp last.out inc.json
# 50 changed records: each names the next record's fix
python3 - vulns <<'PY'
import glob, sys
recs = sorted(glob.glob(sys.argv[1] + '/cve/published/*/*.sha1'))[:51]
shas = [open(p).read() for p in recs]
for i in range(50):
    open(recs[i], 'w').write(shas[i + 1])
PY
"${PGC[@]}" --quiet cve import vulns || true
read rec_s rec_cpu < <(secs "${PGC[@]}" cells --json)
cp last.out rec.json
read full_s full_cpu < <(secs "${PGC[@]}" cells --full)
read status_s status_cpu < <(secs "${PGC[@]}" status --json --recompute || true)
cp last.out status-computed.json
# the cells are current now (cells --full just ran): status reads them
read stored_s stored_cpu < <(secs "${PGC[@]}" status --json || true)
cmp -s last.out status-computed.json && same="same output" || same="OUTPUT DIFFERS"
read base_s base_cpu < <(secs sqlite3 patchgap.db "SELECT * FROM cells")
ncve=$(sqlite3 patchgap.db "SELECT count(DISTINCT id) FROM cells")
nbr=$(sqlite3 patchgap.db "SELECT count(*) FROM cell_branches")
ncells=$(sqlite3 patchgap.db "SELECT count(*) FROM cells")
ncommits=$(sqlite3 patchgap.db "SELECT count(*) FROM commits")
ratio() { echo "scale=1; $1 / ($2 + 0.001)" | bc; }
cat <<EOF2
bench-affect $SCALE: $ncommits commits, $ncve known fixes x $nbr branches = $ncells cells
  baseline: sqlite3 SELECT * FROM cells         ${base_s} s wall, ${base_cpu} s CPU
  status, every branch (computed: --recompute)  ${status_s} s wall, ${status_cpu} s CPU  (x$(ratio "$status_cpu" "$base_cpu") baseline CPU)
  status, every branch (stored cells)           ${stored_s} s wall, ${stored_cpu} s CPU  (x$(ratio "$stored_cpu" "$base_cpu"); $same)
  cells --full (compute + store every cell)     ${full_s} s wall, ${full_cpu} s CPU  (x$(ratio "$full_cpu" "$base_cpu"))
  cells, first run                              ${full1_s} s wall, ${full1_cpu} s CPU
  cells after ingest of 1,000 commits           ${inc_s} s wall, ${inc_cpu} s CPU  (x$(ratio "$inc_cpu" "$base_cpu")) $(python3 -c 'import json; o=json.load(open("inc.json")); print("evaluated %d" % o["evaluated"])' 2>/dev/null || true)
  cells after 50 changed records                ${rec_s} s wall, ${rec_cpu} s CPU  (x$(ratio "$rec_cpu" "$base_cpu")) $(python3 -c 'import json; o=json.load(open("rec.json")); print("evaluated %d" % o["evaluated"])' 2>/dev/null || true)
targets: all cells < 2 s (~15,000 CVEs x 20 branches), huge < 10 s, incremental < 0.3 s
EOF2
