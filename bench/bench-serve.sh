#!/bin/bash
# bench-serve.sh - latency of `patchgap serve` under 50 concurrent clients on a
# generated kernel-shaped history: p50/p90/p99 of GET /api/v1/cves/{id} (every
# CVE in turn) and GET /api/v1/branches/{b}/status (every tracked branch), each
# with the same-run baseline GET /api/v1/branches (a one-table read: the
# server's own overhead) and the CLI `patchgap status B --json` (one process).
#
#   bench/bench-serve.sh [SCALE] [SECONDS] [CLIENTS]   SCALE: small|medium|large (default small)
#
# Targets (issue 14): p99 < 50 ms for a CVE, < 300 ms for a branch status on `large`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh bc time
SCALE=${1:-small} SECS=${2:-10} CLIENTS=${3:-50}
W=${BENCH_SERVE_DIR:-/tmp/patchgap-bench-serve-$SCALE}   # or an existing run-demo.sh directory
PG=$ROOT/build/cli/patchgap
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
data=(--no-data); [ -d "$ROOT/../shared/data" ] && data=(--data "$ROOT/../shared/data")
if [ ! -f "$W/ready" ] && [ ! -f "$W/patchgap.db" ]; then
	rm -rf "$W/repo" "$W"/patchgap.db* "$W/vulns"
	python3 tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" --truth "$W/truth.json" "${data[@]}" >/dev/null
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	python3 "$ROOT/tools/truth-to-conf.py" "$W/truth.json" "$W/repo" > "$W/patchgap.conf"
	(cd "$W" && "$PG" --quiet --conf patchgap.conf ingest >/dev/null &&
		python3 "$ROOT/tools/truth-to-cna.py" truth.json vulns >/dev/null &&
		"$PG" --quiet --conf patchgap.conf cve import vulns >/dev/null 2>&1 || true)
	touch "$W/ready"
fi
cd "$W"
"$PG" --conf patchgap.conf serve --port 0 --public-read >serve.out 2>serve.err &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s serve.out ] && break; sleep 0.1; done
URL=$(head -1 serve.out); URL=${URL%/}
cves=$("$PG" --conf patchgap.conf cve list --json | python3 -c 'import json,sys; print(" ".join("/api/v1/cves/" + c["id"] for c in json.load(sys.stdin)))')
branches=$(sed -n 's/^\[branch "\(.*\)"\]/\1/p' patchgap.conf)
status_paths=$(for b in $branches; do printf '/api/v1/branches/%s/status ' "$b"; done)
ncves=$(echo $cves | wc -w); nbr=$(echo $branches | wc -w)
b1=$(echo $branches | awk '{print $2}')
cli_s=$( { /usr/bin/time -f %e "$PG" --conf patchgap.conf status "$b1" --json >/dev/null; } 2>&1 | tail -1)
echo "scale $SCALE: $(git -C "$(sed -n "s/^\trepository = //p" patchgap.conf)" rev-list --all --count) commits, $ncves CVEs, $nbr branches; $CLIENTS clients, ${SECS}s per run; load $(cut -d' ' -f1 /proc/loadavg)"
run() { python3 "$ROOT/bench/serve-load.py" "$URL" "$SECS" "$CLIENTS" "$@"; }
printf '%-34s %8s %8s %8s %8s %8s %6s\n' request n p50_ms p90_ms p99_ms max_ms errors
read n p50 p90 p99 mx err < <(run /api/v1/branches); base99=$p99
printf '%-34s %8s %8s %8s %8s %8s %6s\n' "GET /branches (baseline)" $n $p50 $p90 $p99 $mx $err
read n p50 p90 p99 mx err < <(run $cves)
printf '%-34s %8s %8s %8s %8s %8s %6s\n' "GET /cves/{id}" $n $p50 $p90 $p99 $mx $err
cve99=$p99 cveerr=$err
read n p50 p90 p99 mx err < <(run $status_paths)
printf '%-34s %8s %8s %8s %8s %8s %6s\n' "GET /branches/{b}/status" $n $p50 $p90 $p99 $mx $err
echo "ratios: cve p99 / baseline p99 = $(echo "scale=2; $cve99 / $base99" | bc); status p99 = $p99 ms vs one CLI 'status $b1 --json' = $(echo "$cli_s * 1000" | bc) ms"
# a run whose requests failed has no latency to compare: it misses the target
echo "targets: cve p99 < 50 ms: $( [ "$cveerr" = 0 ] && [ "$(echo "$cve99 < 50" | bc)" = 1 ] && echo met || echo MISSED ); status p99 < 300 ms: $( [ "$err" = 0 ] && [ "$(echo "$p99 < 300" | bc)" = 1 ] && echo met || echo MISSED )"
