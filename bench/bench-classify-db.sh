#!/bin/bash
# bench-classify-db.sh - `patchgap classify --all` of a whole ingested
# database, with each commit's diff (the default when core.repository is
# configured) and with --no-diffs, against `git log -p --no-merges` over the
# same repository (the cost of producing every diff with git itself).
#
#   bench/bench-classify-db.sh [BENCHDIR] [WORKDIR]
#
# BENCHDIR holds patchgap.conf and the ingested patchgap.db (default
# /tmp/patchgap-bench-scale-large, as bench/bench-scale.sh large leaves it); its database is
# COPIED to WORKDIR for each run (default /tmp/patchgap-bench-classify),
# never written in place.  Prints CPU seconds (user + sys, the figure that
# survives a shared machine's load), wall seconds and peak RSS of each,
# commits/s, the ratios, and how many commits each run flags.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${1:-/tmp/patchgap-bench-scale-large}
W=${2:-/tmp/patchgap-bench-classify}
PG=$ROOT/build/cli/patchgap
[ -r "$B/patchgap.conf" ] && [ -r "$B/patchgap.db" ] || { echo "needs $B/patchgap.conf and $B/patchgap.db"; exit 1; }
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
REPO=$(git config -f "$B/patchgap.conf" core.repository)
case $REPO in /*) ;; *) REPO=$B/$REPO ;; esac
N=$(git -C "$REPO" rev-list --all --count)
NM=$(git -C "$REPO" rev-list --all --no-merges --count)
echo "# $B: $N commits ($NM not merges); $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
declare -A CPU WALL RSS FLAG
run() { # key, command...
	local k=$1
	shift
	/usr/bin/time -f '%U %S %e %M' -o "$W/$k.time" "$@" >"$W/$k.out" 2>"$W/$k.err" || { cat "$W/$k.err"; exit 1; }
	read -r u s e m <"$W/$k.time"
	CPU[$k]=$(python3 -c "print('%.2f' % ($u + $s))")
	WALL[$k]=$e
	RSS[$k]=$((m / 1024))
}
classify() { # key, extra options
	local k=$1
	shift
	cp "$B/patchgap.db" "$W/$k.db"
	sed "s#^\([[:space:]]*database = \).*#\1$W/$k.db#; s#^\([[:space:]]*repository = \).*#\1$REPO#" "$B/patchgap.conf" >"$W/$k.conf"
	run "$k" "$PG" --conf "$W/$k.conf" classify --all "$@"
	FLAG[$k]=$(sed -n 's/^classified .*: \([0-9]*\) flagged.*/\1/p' "$W/$k.out")
	rm -f "$W/$k.db" "$W/$k.db-"*
}
classify nodiff --no-diffs
classify diff
run gitlog sh -c "git -C '$REPO' log -p --no-merges --all | wc -c"
printf '%-34s %9s %8s %8s %10s\n' "" "CPU s" "wall s" "RSS MB" "commits/s"
for k in nodiff diff gitlog; do
	case $k in
	nodiff) label="classify --all --no-diffs"; n=$N ;;
	diff) label="classify --all (with diffs)"; n=$N ;;
	gitlog) label="git log -p --no-merges ($(($(cat "$W/gitlog.out") / 1000000)) MB)"; n=$NM ;;
	esac
	printf '%-34s %9s %8s %8s %10.0f\n' "$label" "${CPU[$k]}" "${WALL[$k]}" "${RSS[$k]}" \
		"$(python3 -c "print($n / max(${CPU[$k]}, 0.01))")"
done
grep -h "scored with their diff" "$W/diff.out" || true
python3 -c "
c = {'nodiff': ${CPU[nodiff]}, 'diff': ${CPU[diff]}, 'gitlog': ${CPU[gitlog]}}
print('CPU ratio: with diffs / --no-diffs %.2fx, with diffs / git log -p %.2fx' % (c['diff'] / c['nodiff'], c['diff'] / c['gitlog']))"
echo "flagged: with diffs ${FLAG[diff]} of $N ($(python3 -c "print('%.1f' % (100 * ${FLAG[diff]} / $N))") %)," \
	"--no-diffs ${FLAG[nodiff]} ($(python3 -c "print('%.1f' % (100 * ${FLAG[nodiff]} / $N))") %)"
