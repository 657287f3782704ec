#!/bin/bash
# run.sh - build patchgap and run every test: unit binaries and the numbered
# integration scripts, once on the normal build and once on an
# AddressSanitizer + UBSan build.  Ends with "N passed, N failed, N skipped"
# and the ten slowest tests.
#
#   tests/run.sh            everything (what CI runs)
#   tests/run.sh --quick    normal build only
#   tests/run.sh -j N       N tests at a time (default: the number of CPUs + 1)
#   tests/run.sh PATTERN    only tests whose name contains PATTERN
#
# Tests run in parallel, the slowest of the previous run first (their times
# are kept in build/test-times), so the run ends when its longest test does.
# A script with the line "# run.sh: normal build only" (it tests tools/,
# not the binary) is not run again on the ASan build.
# Every test has its own temporary directory; generated histories are shared
# through a cache guarded by a lock (tests/integration/lib.sh).
#
# The normal build also runs integration tests a second time on PostgreSQL,
# on one private server started here (tests/integration/pgserver.sh),
# labelled pg/: by default the store-heavy ones (PG_SUBSET: ingest, status,
# affected, advisory); PG_SUBSET=all runs every script (what CI's pass with
# ../shared does) except those with the line "# run.sh: sqlite only
# (reason)", which test SQLite itself; PG_SUBSET="" skips the pass.  There
# every way a test runs patchgap or sqlite3 reaches the server
# (tests/integration/lib/pg-bin, lib-db.sh).
#
# Environment: PATCHGAP_SHARED_DATA points the tests at the kernel data
# (default ../shared/data); a missing directory makes the tests that need it
# skip, as in a user's clone.  PATCHGAP_TEST_TIMEOUT (seconds, default 600)
# bounds each test.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh || exit 1

QUICK=0
FILTER=""
JOBS=$(( $(nproc 2>/dev/null || echo 2) + 1 )) # one more than CPUs: many tests wait on servers and processes
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	-j) shift; JOBS=${1:-}; ;;
	-j*) JOBS=${1#-j} ;;
	-h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) FILTER="$1" ;;
	esac
	shift
done
case "$JOBS" in ''|*[!0-9]*|0) echo "run.sh: -j needs a positive number, not '$JOBS'" >&2; exit 2 ;; esac
TIMEOUT=${PATCHGAP_TEST_TIMEOUT:-600}

build() { # dir, extra meson args
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
}

RES=$(mktemp -d "${TMPDIR:-/tmp}/pg-run.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$RES"' EXIT
trap 'exit 130' INT TERM
TIMES=$ROOT/build/test-times # "seconds label/name" of the last run
PG_SUBSET=${PG_SUBSET-t1102 t3002 t3101 t3102 t6002 t6005 t6006}

# The queue: one line "label dir kind path name" per test.
queue() { # build dir, label
	local dir=$1 label=$2 only=${3:-} t name
	[ -n "$only" ] || for t in "$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=$(basename "$t")
		[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
		echo "$label $dir unit $t $name"
	done
	for t in tests/integration/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
		# scripts that test the tools/ scripts, not the binary, say so:
		# the sanitizer build would run the same Python twice
		[ "$label" = asan ] && grep -q '^# run.sh: normal build only' "$t" && continue
		# scripts that test SQLite itself (the file, WAL, PRAGMAs) say so
		[ "$label" = pg ] && grep -q '^# run.sh: sqlite only' "$t" && continue
		[ -n "$only" ] && [ "$only" != all ] && [[ " $only " != *" ${name%%-*} "* ]] && continue
		echo "$label $dir script $t $name"
	done
}

# One test, in a subshell: its environment depends on the build it tests.
run_one() { # label dir kind path name
	local label=$1 dir=$2 kind=$3 path=$4 name=$5 out=$RES/$1__$5 start rc
	(
		export PATCHGAP_BIN="$ROOT/$dir/cli/patchgap" PATCHGAP_BUILD="$ROOT/$dir"
		export PATH="$ROOT/$dir/cli:$PATH"
		if [ "$label" = asan ]; then
			export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
			export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
			export PATCHGAP_SANITIZED=1
		elif [ "$label" = pg ]; then
			# every way a test runs patchgap or sqlite3 reaches the server
			export PATCHGAP_TEST_BACKEND=postgresql PATCHGAP_TEST_PGSERVER="$PGT_SERVER"
			export PATCHGAP_REAL_BIN=$PATCHGAP_BIN PATCHGAP_BIN=$ROOT/tests/integration/lib/pg-bin/patchgap
			export PATH="$ROOT/tests/integration/lib/pg-bin:$PATH"
		fi
		start=$(date +%s.%N)
		if [ "$kind" = unit ]; then
			timeout "$TIMEOUT" "$path" >"$out.out" 2>&1 </dev/null; rc=$?
		else
			timeout "$TIMEOUT" bash "$path" >"$out.out" 2>&1 </dev/null; rc=$?
		fi
		[ "$rc" = 124 ] && echo "timed out after $TIMEOUT s" >>"$out.out"
		echo "$rc" >"$out.rc"
		awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", e - s }' >"$out.time"
	)
}

report_one() { # label name
	local f=$RES/$1__$2 rc
	rc=$(cat "$f.rc" 2>/dev/null || echo 255)
	if [ "$rc" = 0 ]; then
		if grep -q '^SKIP:' "$f.out"; then
			skip=$((skip + 1)); echo "skip $1/$2: $(grep '^SKIP:' "$f.out" | head -1)"
		else
			pass=$((pass + 1)); echo "ok   $1/$2 ($(cat "$f.time") s)"
		fi
	else
		fail=$((fail + 1)); failed_names+=("$1/$2")
		echo "FAIL $1/$2 (exit $rc, $(cat "$f.time" 2>/dev/null) s)"
		tail -40 "$f.out" | sed 's/^/     | /'
	fi
}

pass=0 fail=0 skip=0
failed_names=()
T0=$(date +%s)
build build || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
queue build normal >"$RES/queue"
if [ -n "$PG_SUBSET" ]; then
	. tests/integration/pgserver.sh
	if pg_server_start; then
		# pg_server_start set its own EXIT trap: keep ours too
		trap 'kill $(jobs -p) 2>/dev/null; pg_server_stop; rm -rf "$RES"' EXIT
		queue build pg "$PG_SUBSET" >>"$RES/queue"
	else
		echo "skip pg/*: no PostgreSQL server binaries"
	fi
fi
if [ "$QUICK" = 0 ]; then
	if build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug; then
		queue build-asan asan >>"$RES/queue"
	else
		fail=$((fail + 1)); failed_names+=("asan/build")
	fi
fi

# Slowest first, by the previous run's times; unknown tests first of all
# (a new test may be slow).
awk -v times="$TIMES" 'BEGIN { while ((getline l < times) > 0) { split(l, f, " "); t[f[2]] = f[1] } }
	{ k = $1 "/" $5; print (k in t ? t[k] : 1e9), $0 }' "$RES/queue" | sort -s -k1,1gr | cut -d' ' -f2- >"$RES/order"

running=0
while read -r label dir kind path name; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n; running=$((running - 1))
	fi
	run_one "$label" "$dir" "$kind" "$path" "$name" &
	running=$((running + 1))
	[ -t 2 ] && printf '\r%s started: %s/%s    ' "$(date +%T)" "$label" "$name" >&2
done <"$RES/order"
wait
[ -t 2 ] && printf '\r\033[K' >&2

# Results in the queue's (stable) order.
while read -r label dir kind path name; do
	report_one "$label" "$name"
done <"$RES/queue"

# Keep this run's times for the next run's order, then show the slowest.
while read -r label dir kind path name; do
	[ -f "$RES/${label}__$name.time" ] && echo "$(cat "$RES/${label}__$name.time") $label/$name"
done <"$RES/queue" | sort -k1,1gr >"$RES/times"
if [ -z "$FILTER" ]; then cp "$RES/times" "$TIMES" 2>/dev/null; fi
echo "slowest tests (seconds, $JOBS at a time):"
head -10 "$RES/times" | sed 's/^/  /'
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "total $(( $(date +%s) - T0 )) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
