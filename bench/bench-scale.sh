#!/bin/bash
# bench-scale.sh - PostgreSQL against SQLite on the same generated history,
# and `backport --all` run by `patchgap worker` with 1, 2 and 4 processes.
#
#   bench/bench-scale.sh [SCALE] [WORKDIR]   SCALE: small|medium|large (default small)
#
# WORKDIR (default /tmp/patchgap-bench-scale-SCALE) holds the history: one
# with gen.done in it (repo/, truth.json) is used as it is, e.g. a copy of a
# history generated with the kernel data; otherwise one is generated there
# (--no-data).  Environment: BENCH_BRANCHES (default 20) and BENCH_FIXES
# (default 200): backport --all onto that many tracked non-mainline branches,
# at most that many open fixes each.  On `large` one backport job costs tens
# of seconds of CPU: BENCH_FIXES=1 or 2 keeps the worker runs to minutes.
#
# Prints, each measured in this run, wall seconds and the client's CPU
# seconds (user+sys of patchgap; the PostgreSQL server's CPU is not in it):
#   ingest, and `cve import` of the history's CNA records
#   (tools/truth-to-cna.py), into SQLite and into PostgreSQL (a private server
#   started here, tests/integration/pgserver.sh: fsync off, unix socket),
#   ratio PG/SQLite;
#   `status` of every tracked branch (one process), ratio PG/SQLite;
#   `backport --all --onto B` for each branch with [worker] enabled (queues
#   one job per open fix), then the same queue run by `worker --concurrency
#   1|2|4 --drain`: jobs/s and the ratio to one process.
# The machine's core count and load are printed with the figures: on 2
# cores, 4 processes cannot beat 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh bc time
SCALE=${1:-small}
W=${2:-/tmp/patchgap-bench-scale-$SCALE}
NBRANCH=${BENCH_BRANCHES:-20}
NFIX=${BENCH_FIXES:-200}
PG=$ROOT/build/cli/patchgap
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
W=$(cd "$W" && pwd)
if [ ! -f "$W/gen.done" ]; then
	rm -rf "$W/repo"
	python3 tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" --truth "$W/truth.json" --no-data >/dev/null
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	touch "$W/gen.done"
fi
python3 "$ROOT/tools/truth-to-conf.py" "$W/truth.json" "$W/repo" > "$W/patchgap.conf"
rm -rf "$W/vulns"
python3 "$ROOT/tools/truth-to-cna.py" "$W/truth.json" "$W/vulns" >/dev/null
. tests/integration/pgserver.sh
pg_server_start || { echo "no PostgreSQL server binaries"; exit 1; }
cd "$W"
export PATCHGAP_CONFIG=$W/patchgap.conf
load() { cut -d' ' -f1 /proc/loadavg; }
# secs CMD...: "wall cpu" of one command (CPU: user+sys of it and its children)
secs() {
	/usr/bin/time -f "%e %U %S" -o "$W/t.out" "$@" >"$W/last.out" 2>"$W/t.err" || { cat "$W/t.err" >&2; return 1; }
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$W/t.out"
}
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
row() { # label "wall cpu" "wall cpu"
	local a=($2) b=($3)
	printf "%-28s %8.2f s (cpu %7.2f)  %8.2f s (cpu %7.2f)  %5s\n" "$1" "${a[0]}" "${a[1]}" "${b[0]}" "${b[1]}" \
		"$(ratio "${b[0]}" "${a[0]}")"
}
ncommits=$(git -C repo rev-list --all --count)
nbranches=$(grep -c '^\[branch ' patchgap.conf)
PGDB=$(pg_conninfo bench)
SQ=$W/patchgap.db
rm -f "$SQ" "$SQ"-*

echo "history: $SCALE ($W), $ncommits commits, $nbranches branches; $(nproc) cores, load $(load) at the start"
l0=$(load)
sq_ingest=$(secs "$PG" --db "$SQ" ingest)
pq_ingest=$(secs "$PG" --db "$PGDB" ingest)
sq_cve=$(secs "$PG" --db "$SQ" cve import vulns)
pq_cve=$(secs "$PG" --db "$PGDB" cve import vulns)
sq_status=$(secs "$PG" --db "$SQ" status --json)
nopen=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d=d if isinstance(d,list) else d.get("branches",[d]); print(sum(len(b.get("open",b.get("unfixed",[]))) for b in d))' "$W/last.out" 2>/dev/null || echo "?")
pq_status=$(secs "$PG" --db "$PGDB" status --json)
cp "$W/last.out" "$W/status-pg.json"
printf "%-28s %26s  %26s  %5s\n" "" "SQLite" "PostgreSQL" "PG/SQ"
row "ingest" "$sq_ingest" "$pq_ingest"
row "cve import ($(find vulns -name '*.sha1' | wc -l) records)" "$sq_cve" "$pq_cve"
row "status, every branch" "$sq_status" "$pq_status"
echo "open fixes over all branches (status): $nopen; load $l0 -> $(load)"
"$PG" --db "$SQ" db dump >sq.dump; "$PG" --db "$PGDB" db dump >pq.dump
cmp -s sq.dump pq.dump && echo "db dump: identical on both backends ($(wc -l <sq.dump) rows)" \
	|| echo "db dump: the backends DIFFER ($(diff sq.dump pq.dump | grep -c '^[<>]') lines)"
rm -f sq.dump pq.dump

# backport --all onto each branch: the jobs it queues, at most NFIX per branch
{ cat patchgap.conf; printf '[worker]\n\tenabled = true\n'; } >worker.conf
export PATCHGAP_CONFIG=$W/worker.conf
targets=$(sed -n 's/^\[branch "\(.*\)"\]/\1/p' patchgap.conf | while read -r b; do
	[ "$(git config -f patchgap.conf "branch.$b.kind")" = mainline ] || echo "$b"; done | sed -n "1,${NBRANCH}p")
queued=0
t0=$(date +%s.%N)
for b in $targets; do
	"$PG" --db "$PGDB" backport --all --onto "$b" --json >q.json || true
	queued=$((queued + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queued"])' q.json)))
done
tq=$(echo "$(date +%s.%N) - $t0" | bc)
# keep the first NFIX jobs (the most severe) of each branch; args = ["fix","--onto","refs/heads/B"]
pg_psql bench -c "DELETE FROM jobs WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER
	(PARTITION BY split_part(args, '\"', 6) ORDER BY id) AS n FROM jobs) r WHERE n > $NFIX)"
njobs=$(pg_psql bench -c "SELECT count(*) FROM jobs")
printf "backport --all onto %d branches: %d jobs queued in %.2f s; %d kept (at most %d per branch)\n" \
	"$(echo $targets | wc -w)" "$queued" "$tq" "$njobs" "$NFIX"
pg_psql bench -c "SELECT split_part(args, '\"', 6), count(*) FROM jobs GROUP BY 1 ORDER BY 1" | sed 's/^/  /'
base1=""
for c in 1 2 4; do
	pg_psql bench -c "DELETE FROM job_results; UPDATE jobs SET state = 'queued', attempts = 0, worker = NULL,
		lease_until = NULL, last_error = NULL"
	l0=$(load)
	s=($(secs "$PG" --db "$PGDB" worker --drain --poll 0 --concurrency $c))
	done_n=$(pg_psql bench -c "SELECT count(*) FROM jobs WHERE state = 'done'")
	parked=$(pg_psql bench -c "SELECT count(*) FROM jobs WHERE state = 'parked'")
	outcomes=$(pg_psql bench -c "SELECT coalesce(substring(result from '\"status\": *\"([a-z-]*)\"'), '?') AS o, count(*)
		FROM job_results GROUP BY 1 ORDER BY 1" | sed 's/|/ /' | paste -sd, | sed 's/,/, /g')
	njobs=$(pg_psql bench -c "SELECT count(*) FROM jobs")
	rate=$(echo "scale=4; $done_n / ${s[0]}" | bc)
	[ -n "$base1" ] || base1=$rate
	printf "worker --concurrency %d: %d/%d jobs done (%d parked) in %7.2f s (client cpu %7.2f), %6.4f jobs/s, ratio to 1 process %s; load %s -> %s\n" \
		$c "$done_n" "$njobs" "$parked" "${s[0]}" "${s[1]}" "$rate" "$(ratio "$rate" "$base1")" "$l0" "$(load)"
	echo "  outcomes: $outcomes"
done
