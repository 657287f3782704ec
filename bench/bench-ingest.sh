#!/bin/bash
# bench-ingest.sh - ingest speed, incremental speed, memory and database size on a
# generated kernel-shaped history, against `git log --no-renames --name-only`
# over the same refs measured in the same run.
#
#   bench/bench-ingest.sh [SCALE] [WORKDIR]     SCALE: small|medium|large|huge (default medium)
#
# BENCH_DIFFSTAT=0 skips the diffstat runs; BENCH_MEMORY_LIMIT=2G adds a run inside
# a memory cgroup of that size (bench/memlimit.sh, root only).
#
# Targets: full ingest <= 1.2x git log; +1,000 commits < 1 s;
# peak memory < 2 GB at 1.5M commits.  Also reports `status` over every
# CVE x branch (target: < 2 s for ~15,000 CVEs x 20 branches).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh bc time
SCALE=${1:-medium}
W=${2:-/tmp/patchgap-bench-$SCALE}
PG=$ROOT/build/cli/patchgap
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
data=(--no-data); [ -d "$ROOT/../shared/data" ] && data=(--data "$ROOT/../shared/data")
if [ ! -f "$W/gen.done" ]; then
	rm -rf "$W/repo"
	/usr/bin/time -f "%e" -o "$W/gen.time" python3 tools/gen-history.py --out "$W/repo" --seed 1 --scale "$SCALE" \
		--truth "$W/truth.json" "${data[@]}" >/dev/null
	# libgit2 1.5 reads only generation-v1 commit-graphs (measured 5-10x faster walks)
	git -C "$W/repo" -c commitGraph.generationVersion=1 commit-graph write --reachable
	touch "$W/gen.done"
fi
python3 "$ROOT/tools/truth-to-conf.py" "$W/truth.json" "$W/repo" > "$W/patchgap.conf"
cd "$W"
ncommits=$(git -C repo rev-list --all --count)
refs=$(sed -n 's/^\[branch "\(.*\)"\]/refs\/heads\/\1/p' patchgap.conf)
# wall seconds, CPU seconds (user+sys: what to compare on a loaded machine), peak KB
secs() {
	/usr/bin/time -f "%e %U %S %M" -o "$W/t.out" "$@" >/dev/null 2>&1
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$W/t.out"
}

read git_s git_cpu git_kb < <(secs git -C repo log --no-renames --name-only --format=%H $refs)
# the like-for-like baseline of an ingest with diffstat: git computes line counts too
# (BENCH_DIFFSTAT=0 skips both, e.g. on the huge history)
gitn_s=0 gitn_cpu=0 gitn_kb=0 pg_s=0 pg_cpu=0 pg_kb=0
if [ "${BENCH_DIFFSTAT:-1}" != 0 ]; then
	read gitn_s gitn_cpu gitn_kb < <(secs git -C repo log --no-renames --numstat --format=%H $refs)
fi
rm -f patchgap.db* nostat.db*
# the no-diffstat run also reports its phases, threads and object reads (stderr -> phases.txt)
# and samples its memory: heap (RssAnon) and mapped pack/index files (RssFile) separately
PATCHGAP_INGEST_STATS=1 PATCHGAP_QUEUE_STATS=1 PATCHGAP_ODB_STATS=1 \
	/usr/bin/time -f "%e %U %S %M" -o "$W/t.out" "$PG" --conf patchgap.conf --db nostat.db ingest --no-diffstat \
	>/dev/null 2>"$W/phases.txt" &
ipid=$!
anon_kb=0 file_kb=0
while kill -0 $ipid 2>/dev/null; do
	for p in $(pgrep -P $ipid); do
		read -r a f < <(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } END { print a + 0, f + 0 }' /proc/$p/status 2>/dev/null || echo "0 0")
		[ "${a:-0}" -gt "$anon_kb" ] && anon_kb=$a
		[ "${f:-0}" -gt "$file_kb" ] && file_kb=$f
	done
	sleep 0.5
done
wait $ipid
read pgn_s pgn_cpu pgn_kb < <(awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$W/t.out")
if [ "${BENCH_DIFFSTAT:-1}" != 0 ]; then
	read pg_s pg_cpu pg_kb < <(secs "$PG" --conf patchgap.conf ingest)
else
	cp nostat.db patchgap.db
fi
# the copy's dirty pages would otherwise be flushed by the next run's first fsync (seen:
# +1,000 commits took 2.3 s instead of 1.0 s on a 3 GB database)
sync
dbsize=$(du -k patchgap.db | cut -f1)

# +1,000 commits on master, then an incremental run
git -C repo branch -f bench-base master
{
	for i in $(seq 1 1000); do
		printf 'commit refs/heads/master\ncommitter Bench <b@example.org> %d +0000\ndata <<EOM\nbench: change %d\nEOM\n' $((2000000000 + i)) "$i"
		[ "$i" = 1 ] && printf 'from refs/heads/master^0\n'
		printf 'M 100644 inline bench/file%d.c\ndata <<EOM\nint x%d;\nEOM\n\n' $((i % 50)) "$i"
	done
} | git -C repo fast-import --quiet
sync
read inc_s inc_cpu inc_kb < <(secs "$PG" --conf patchgap.conf ingest)
git -C repo update-ref refs/heads/master bench-base   # restore for the next run
read noop_s noop_cpu noop_kb < <(secs "$PG" --conf patchgap.conf --db nostat.db ingest)

# status over every CVE x branch
python3 "$ROOT/tools/truth-to-cna.py" truth.json vulns >/dev/null
"$PG" --conf patchgap.conf cve import vulns >/dev/null 2>&1 || true
ncve=$(sqlite3 patchgap.db "select count(*) from cves")
nbr=$(sqlite3 patchgap.db "select count(*) from branches")
start=$(date +%s.%N)
"$PG" --conf patchgap.conf status --json >/dev/null   # every tracked branch, one process
end=$(date +%s.%N)
status_s=$(echo "$end - $start" | bc)

# BENCH_MEMORY_LIMIT=2G (root, a cgroup memory controller): the --no-diffstat ingest once
# more, inside a memory cgroup of that size, after dropping the pack, index and
# commit-graph from the page cache.  The cgroup is charged for everything the run brings
# into memory, heap and the file pages it reads: this is the peak-memory target's
# measure, where peak RSS also counts page cache that the kernel may take back.
mem_report=""
if [ -n "${BENCH_MEMORY_LIMIT:-}" ]; then
	mem_report=$("$ROOT/bench/memlimit.sh" "$BENCH_MEMORY_LIMIT" repo \
		"$PG" --conf patchgap.conf --db memlimit.db ingest --no-diffstat) || mem_report="  memory-limited run failed: $mem_report"
	# the limited run must store what the unlimited one stored
	for tbl in commits commit_files trailers relations branch_commits; do
		[ "$(sqlite3 memlimit.db "select count(*) from $tbl")" = "$(sqlite3 nostat.db "select count(*) from $tbl")" ] ||
			mem_report="$mem_report
  MISMATCH: table $tbl differs from the unlimited run"
	done
	rm -f memlimit.db*
fi

ratio() { if [ "$2" = 0 ]; then echo "-"; else echo "scale=2; $1 / $2" | bc; fi; }
cat <<REPORT
patchgap ingest benchmark ($SCALE, $ncommits commits, $(echo $refs | wc -w) refs; generated in $(cat "$W/gen.time") s)
                                        wall                      CPU (user+sys)
  git log --no-renames --name-only      ${git_s} s   (baseline)    ${git_cpu} s   (baseline)   peak $((git_kb / 1024)) MB
  patchgap ingest --no-diffstat         ${pgn_s} s   ratio $(ratio "$pgn_s" "$git_s")x   ${pgn_cpu} s   ratio $(ratio "$pgn_cpu" "$git_cpu")x   peak $((pgn_kb / 1024)) MB
  git log --no-renames --numstat        ${gitn_s} s   (baseline)    ${gitn_cpu} s   (baseline)   peak $((gitn_kb / 1024)) MB
  patchgap ingest (with diffstat)       ${pg_s} s   ratio $(ratio "$pg_s" "$gitn_s")x   ${pg_cpu} s   ratio $(ratio "$pg_cpu" "$gitn_cpu")x   peak $((pg_kb / 1024)) MB
  (patchgap runs a reader and a writer thread: wall is the target's measure, CPU the work done)
  --no-diffstat memory: heap (RssAnon) $((anon_kb / 1024)) MB, mapped pack and index files (RssFile) $((file_kb / 1024)) MB
  incremental +1,000 commits            ${inc_s} s                ${inc_cpu} s
  incremental, nothing new              ${noop_s} s                ${noop_cpu} s
  database size                         $((dbsize / 1024)) MB ($(echo "scale=0; $dbsize * 1024 / $ncommits" | bc) bytes/commit)
  status, $ncve CVEs x $nbr branches      ${status_s} s (all branches, one process)
REPORT
[ -n "$mem_report" ] && printf '%s\n' "$mem_report"
echo "phases of the --no-diffstat run ($W/phases.txt):"
grep -E '^(ingest|queue|odb):' "$W/phases.txt" | sed 's/^/  /'
