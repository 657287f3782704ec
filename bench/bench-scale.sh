#!/bin/bash
# bench-scale.sh - PostgreSQL against SQLite on the same generated history,
# and `patchgap worker` throughput with 1, 2 and 4 processes.
#
#   bench/bench-scale.sh [SCALE] [NJOBS]    SCALE: small|medium|large (default small)
#
# Prints, each measured in this run:
#   ingest into SQLite and into PostgreSQL (a private server started here,
#   tests/integration/pgserver.sh: fsync off, unix socket), ratio PG/SQLite;
#   `status` of every tracked branch on both, ratio PG/SQLite;
#   NJOBS (default 60) backport jobs (recent mainline fixes onto the oldest
#   stable branch) run by `worker --concurrency 1|2|4 --drain` from a
#   PostgreSQL queue: jobs/s and the ratio to one process.
# The machine's core count is printed with the figures: on 2 cores, 4
# processes cannot beat 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCALE=${1:-small}
NJOBS=${2:-60}
W=/tmp/patchgap-bench-scale-$SCALE
PG=$ROOT/build/cli/patchgap
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
if [ ! -f "$W/gen.done" ]; then
	rm -rf "$W/repo"
	python3 tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" --truth "$W/truth.json" --no-data >/dev/null
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	touch "$W/gen.done"
fi
python3 "$ROOT/tools/truth-to-conf.py" "$W/truth.json" "$W/repo" > "$W/patchgap.conf"
. tests/integration/pgserver.sh
pg_server_start || { echo "no PostgreSQL server binaries"; exit 1; }
cd "$W"
export PATCHGAP_CONFIG=$W/patchgap.conf
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
ncommits=$(git -C repo rev-list --all --count)
branches=$(sed -n 's/^\[branch "\(.*\)"\]/\1/p' patchgap.conf)

rm -f patchgap.db*
t=$(now); "$PG" --db "$W/patchgap.db" ingest >/dev/null; sq_ingest=$(elapsed $t)
PGDB=$(pg_conninfo bench)
t=$(now); "$PG" --db "$PGDB" ingest >/dev/null; pq_ingest=$(elapsed $t)
t=$(now); for b in $branches; do "$PG" --db "$W/patchgap.db" status "$b" >/dev/null || true; done; sq_status=$(elapsed $t)
t=$(now); for b in $branches; do "$PG" --db "$PGDB" status "$b" >/dev/null || true; done; pq_status=$(elapsed $t)

echo "history: $SCALE, $ncommits commits, $(echo $branches | wc -w) branches; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-34s %8.2f s\n" "ingest, SQLite" "$sq_ingest" "ingest, PostgreSQL" "$pq_ingest"
echo "ingest ratio PostgreSQL/SQLite: $(ratio $pq_ingest $sq_ingest)"
printf "%-34s %8.2f s\n" "status of every branch, SQLite" "$sq_status" "status of every branch, PostgreSQL" "$pq_status"
echo "status ratio PostgreSQL/SQLite: $(ratio $pq_status $sq_status)"

# worker throughput: the same backport jobs, on a fresh queue per run
main=$(sed -n '0,/kind = mainline/s/^\[branch "\(.*\)"\]/\1/p' patchgap.conf | head -1)
oldest=$(python3 -c "
import json; t = json.load(open('truth.json'))
print(sorted([n for n, b in t['branches'].items() if b['kind'] == 'stable'], key=lambda n: [int(x) for x in n.split('-')[1].split('.')[:2]])[0])")
fixes=$(git -C repo log --no-merges --format=%H -n "$NJOBS" "$main")
base1=""
for c in 1 2 4; do
	q=$(pg_conninfo "queue$c")
	"$PG" db copy --from "$PGDB" --to "$q" >/dev/null
	for f in $fixes; do "$PG" --db "$q" jobs add backport -- "$f" --onto "$oldest" >/dev/null; done
	t=$(now); "$PG" --db "$q" worker --drain --poll 0 --concurrency $c 2>/dev/null; s=$(elapsed $t)
	done_n=$(pg_psql "queue$c" -c "SELECT count(*) FROM jobs WHERE state = 'done'")
	rate=$(echo "scale=2; $done_n / $s" | bc)
	[ -n "$base1" ] || base1=$rate
	printf "worker --concurrency %d: %d/%d backport jobs in %6.2f s, %6.2f jobs/s, ratio to 1 process %s\n" \
		$c "$done_n" "$NJOBS" "$s" "$rate" "$(ratio $rate $base1)"
done
