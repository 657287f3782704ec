#!/bin/bash
# bench-watch.sh - latency of `patchgap watch` from a fetch that brings new
# upstream commits or CNA records to the webhook receiver having the event,
# with the breakdown per step; CPU of an idle cycle; memory over many cycles.
#
#   bench/bench-watch.sh [SCALE] [WORKDIR]   SCALE: tiny|small|medium|large|huge (default large)
#
# The generated history (tools/gen-history.py, cached in WORKDIR, shared with
# bench-ingest.sh) is the upstream, served by `git daemon` on 127.0.0.1; its CNA records
# (tools/truth-to-cna.py) are a vulns.git repository.  A Python receiver on
# 127.0.0.1 checks the HMAC and timestamps arrivals.  BENCH_CYCLES (default
# 1000) sets the memory run.
#
# Targets (issue 13): push of one fix -> event at the receiver < 5 s on
# `large`; idle cycle < 0.5 s CPU; memory flat over 1,000 cycles.
# Baseline measured in the same run: `git fetch` of the same change by git itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh time bc
SCALE=${1:-large}
W=${2:-/tmp/patchgap-bench-$SCALE}
CYCLES=${BENCH_CYCLES:-1000}
PG=$ROOT/build/cli/patchgap
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
data=(--no-data); [ -d "$ROOT/../shared/data" ] && data=(--data "$ROOT/../shared/data")
if [ ! -f "$W/gen.done" ]; then
	rm -rf "$W/repo"
	$PY tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" --truth "$W/truth.json" "${data[@]}" >/dev/null
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	touch "$W/gen.done"
fi
B=$W/watch
rm -rf "$B"; mkdir -p "$B"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

# upstream (a mirror of the generated repo: objects hardlinked), our mirror, the CNA repo
git clone -q --mirror "$W/repo" "$B/up.git"
git clone -q --mirror "$B/up.git" "$B/mirror.git"
$PY tools/truth-to-cna.py "$W/truth.json" "$B/cna" >/dev/null
git -C "$B/cna" init -q -b master
git -C "$B/cna" add -A
git -C "$B/cna" -c user.name=cna -c user.email=cna@example.org commit -qm "records"
nrec=$(find "$B/cna/cve" -name 'CVE-*.sha1' | wc -l)

# upstream over git:// (libgit2's file:// transport takes seconds per fetch on big histories)
touch "$B/up.git/git-daemon-export-ok"
GPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --listen=127.0.0.1 --port="$GPORT" --base-path="$B" "$B" 2>/dev/null &
PIDS+=($!)
for i in $(seq 1 100); do git ls-remote "git://127.0.0.1:$GPORT/up.git" >/dev/null 2>&1 && break; sleep 0.05; done
$PY tests/integration/watch-receiver.py "$B/hport" bench-secret "$B/received.jsonl" "$B/mode" &
PIDS+=($!)
for i in $(seq 1 100); do [ -s "$B/hport" ] && break; sleep 0.05; done
{
	printf '[core]\n\trepository = mirror.git\n\tdatabase = patchgap.db\n'
	$PY "$ROOT/tools/truth-to-conf.py" "$W/truth.json" repo | sed -n '/^\[branch/,$p'
	printf '[remote "up"]\n\turl = git://127.0.0.1:%s/up.git\n[cna]\n\turl = file://%s/cna\n' "$GPORT" "$B"
	printf '[watch]\n\tinterval = 1\n[sink "hook"]\n\ttype = webhook\n\turl = http://127.0.0.1:%s/\n\tsecret = bench-secret\n' "$(cat "$B/hport")"
} > "$B/patchgap.conf"
cd "$B"
export PATCHGAP_CONFIG=$B/patchgap.conf
nbranch=$(grep -c '^\[branch' patchgap.conf)
ncommits=$(git -C up.git rev-list --all --count)

# wall, CPU (user+sys), peak KB of one command; its stdout to $B/out.json
run() {
	/usr/bin/time -f "%e %U %S %M" -o t.out "$@" > out.json 2> run.err || { cat run.err; exit 1; }
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' t.out
}
ms() { $PY -c 'import json,sys; m=json.load(open("out.json"))["ms"]; print(" ".join("%s %.0f" % (k, m[k]) for k in ("fetch","ingest","classify","import","reeval","deliver","total")))'; }
# commits on master of up.git: $1 = how many, $2 = subject of the last (a fix of $3)
add_commits() { $PY "$ROOT/tools/push-fix.py" up.git "$1" "$2" "$3"; }
# receiver arrival of the first event after $1 (epoch seconds, float) -> seconds
arrival() { $PY - "$1" <<'PY'
import json, sys
t0 = float(sys.argv[1]); best = None
for l in open('received.jsonl'):
    x = json.loads(l)
    if x.get('t', 0) >= t0 and (best is None or x['t'] < best): best = x['t']
print("%.2f" % (best - t0) if best else "none")
PY
}

echo "bench-watch: scale $SCALE, $ncommits commits, $nbranch branches, $nrec CNA records"
read s cpu kb < <(run "$PG" watch --once --json)
echo "baseline cycle (ingest, classify, import, evaluate everything; no events): ${s}s wall, ${cpu}s CPU, $((kb / 1024)) MB"
echo "  ms: $(ms)"
read s cpu kb < <(run "$PG" watch --once --fetch-now --json)
echo "idle cycle with fetch: ${s}s wall, ${cpu}s CPU (target < 0.5 s CPU)   ms: $(ms)"
read s cpu kb < <(run "$PG" watch --once --json)
echo "idle cycle, nothing due: ${s}s wall, ${cpu}s CPU"

# one upstream fix of an old bug (a mainline commit from before the first stable fork)
bug=$(sqlite3 patchgap.db "SELECT c.sha FROM commits c WHERE c.on_mainline = 1 ORDER BY c.id LIMIT 1 OFFSET 100")
for what in "1 fix:1" "+1,000 commits:1000"; do
	n=${what##*:}
	add_commits "$n" "bench: fix use-after-free in bench_remove() ($n)" "$bug"
	gitf=$( { /usr/bin/time -f "%e" git -C mirror.git fetch -q "git://127.0.0.1:$GPORT/up.git" "+refs/heads/master:refs/bench/git-baseline" 2>&1 >/dev/null; } | tail -1)
	t0=$($PY -c 'import time; print(time.time())')
	read s cpu kb < <(run "$PG" watch --once --fetch-now --json)
	ev=$($PY -c 'import json; print(json.load(open("out.json"))["events"])')
	echo "${what%%:*}: push -> receiver $(arrival "$t0") s; cycle ${s}s wall, ${cpu}s CPU, $ev events   ms: $(ms)"
	echo "  baseline: git fetch of the same change by git: ${gitf}s"
done

# a CNA pull with 50 new records: mainline fixes (Fixes: trailer) that no CVE names yet
sqlite3 patchgap.db "SELECT DISTINCT c.sha FROM commits c JOIN relations r ON r.commit_id = c.id AND r.kind = 'fixes'
	WHERE c.on_mainline = 1 AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = c.sha) ORDER BY c.id DESC LIMIT 50" > fixes50
i=0
mkdir -p cna/cve/published/2030
while read -r sha; do
	i=$((i + 1))
	echo "$sha" > "cna/cve/published/2030/CVE-2030-$((90000 + i)).sha1"
done < fixes50
git -C cna add -A
git -C cna -c user.name=cna -c user.email=cna@example.org commit -qm "50 records"
t0=$($PY -c 'import time; print(time.time())')
read s cpu kb < <(run "$PG" watch --once --fetch-now --json)
ev=$($PY -c 'import json; print(json.load(open("out.json"))["events"])')
echo "CNA pull, $i new records: push -> receiver $(arrival "$t0") s; cycle ${s}s wall, ${cpu}s CPU, $ev events   ms: $(ms)"

# memory over many idle cycles (each fetches: [watch] interval = 1)
"$PG" watch --cycles "$CYCLES" --interval 0 --verbose 2> mem.log &
P=$!
PIDS+=($P)
first="" last="" at=0
while kill -0 "$P" 2>/dev/null; do
	r=$(awk '/VmRSS/ { print $2 }' "/proc/$P/status" 2>/dev/null || true)
	n=$(grep -c ' cycle: ' mem.log || true)
	# the first sample once 10 cycles ran: start-up allocations are not growth
	if [ -n "$r" ] && [ "$n" -ge 10 ]; then [ -z "$first" ] && { first=$r; at=$n; }; last=$r; fi
	sleep 0.5
done
wait "$P" || true
n=$(grep -c ' cycle: ' mem.log || true)
echo "memory over $n cycles: RSS $((first / 1024)) MB after $at cycles, $((last / 1024)) MB at the end (ratio $(echo "scale=2; $last / $first" | bc))"
