#!/bin/bash
# memlimit.sh - run a command inside a memory cgroup and report what it was charged.
#
#   bench/memlimit.sh LIMIT REPO COMMAND...      LIMIT: e.g. 2G; REPO: a git work tree
#
# First drops REPO's pack, index and commit-graph files from the page cache
# (posix_fadvise DONTNEED), so that the pages the command reads are charged to
# its cgroup and not to whoever read them before.  The cgroup then holds the
# command's heap *and* the file pages it brings in; when it reaches LIMIT the
# kernel reclaims page cache (and the OOM killer ends the command if its private
# memory alone does not fit).  That is the question a "peak memory < 2 GB" target
# asks: can the job run on a machine or in a container of that size.  Peak RSS
# cannot answer it: it counts mapped page cache the kernel would take back.
#
# Prints "  in a LIMIT memory cgroup: WALL s wall, CPU s CPU, peak charged N MB (peak
# RSS R MB), N reclaims, N major faults".  Needs root and a memory
# controller (cgroup v2 or v1); exit 2 when there is none.
set -euo pipefail
LIMIT=$1 REPO=$2
shift 2
[ "$(id -u)" = 0 ] || { echo "memlimit.sh: needs root (creates a cgroup)" >&2; exit 2; }
bytes=$(numfmt --from=iec "$LIMIT")
name=patchgap-bench-$$
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	cg=/sys/fs/cgroup/$name v=2
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
	mkdir "$cg"
	echo "$bytes" > "$cg/memory.max"
	echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
elif [ -d /sys/fs/cgroup/memory ]; then
	cg=/sys/fs/cgroup/memory/$name v=1
	mkdir "$cg"
	echo "$bytes" > "$cg/memory.limit_in_bytes"
else
	echo "memlimit.sh: no cgroup memory controller" >&2
	exit 2
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT

objs=$(git -C "$REPO" rev-parse --path-format=absolute --git-path objects)
python3 - "$objs"/pack/* "$objs"/info/commit-graph* <<'PY'
import os, sys
for f in sys.argv[1:]:
    if os.path.isfile(f):
        fd = os.open(f, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY

out=$(mktemp)
rc=0
# the subshell moves itself into the cgroup, then becomes the timed command
( echo $BASHPID > "$cg/cgroup.procs"; exec /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" >/dev/null 2>&1 ) || rc=$?
read -r wall user sys rss_kb < <(tail -1 "$out")
rm -f "$out"
if [ $v = 2 ]; then
	peak=$(cat "$cg/memory.peak" 2>/dev/null || echo 0)
	reclaims=$(awk '$1 == "max" { print $2 }' "$cg/memory.events")
	majflt=$(awk '$1 == "pgmajfault" { print $2 }' "$cg/memory.stat")
else
	peak=$(cat "$cg/memory.max_usage_in_bytes")
	reclaims=$(cat "$cg/memory.failcnt")
	majflt=$(awk '$1 == "total_pgmajfault" { print $2 }' "$cg/memory.stat")
	echo 1 > "$cg/memory.force_empty" 2>/dev/null || true
fi
printf '  in a %s memory cgroup: %s s wall, %.2f s CPU, peak charged %d MB (peak RSS %d MB), %s reclaims, %s major faults%s\n' \
	"$LIMIT" "$wall" "$(echo "$user + $sys" | bc)" $((peak >> 20)) $((${rss_kb:-0} >> 10)) \
	"${reclaims:-?}" "${majflt:-?}" "$([ $rc = 0 ] || echo ", EXIT STATUS $rc")"
exit $rc
