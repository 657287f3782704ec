#!/bin/bash
# run.sh - build patchgap and run every test: unit binaries and the numbered
# integration scripts, once on the normal build and once on an
# AddressSanitizer + UBSan build.  Ends with "N passed, N failed".
#
#   tests/run.sh            everything (what CI runs)
#   tests/run.sh --quick    normal build only
#   tests/run.sh PATTERN    only tests whose name contains PATTERN
#
# The normal build also runs the store-heavy integration tests (PG_SUBSET:
# ingest, status, affected, advisory) a second time on PostgreSQL, on one
# private server started here (tests/integration/pgserver.sh), labelled pg/.
# PG_SUBSET="" skips that pass; PG_SUBSET=all runs every test on PostgreSQL.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh || exit 1

QUICK=0
FILTER=""
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 ;;
	*) FILTER="$a" ;;
	esac
done

build() { # dir, extra meson args
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
}

pass=0 fail=0 skip=0
failed_names=()
PG_SUBSET=${PG_SUBSET-t1102 t3002 t3101 t3102 t6002 t6005 t6006}
run_suite() { # build dir, label [only these test names]
	local dir=$1 label=$2 only=${3:-} t name out rc
	export PATCHGAP_BIN="$ROOT/$dir/cli/patchgap"
	export PATCHGAP_BUILD="$ROOT/$dir"
	export PATH="$ROOT/$dir/cli:$PATH"
	[ -n "$only" ] || for t in "$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=$(basename "$t")
		[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
		out=$("$t" 2>&1); rc=$?
		count_result "$label" "$name" "$rc" "$out"
	done
	for t in tests/integration/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
		[ -n "$only" ] && [ "$only" != all ] && [[ " $only " != *" ${name%%-*} "* ]] && continue
		out=$(timeout 600 bash "$t" 2>&1); rc=$?
		count_result "$label" "$name" "$rc" "$out"
	done
}
count_result() { # label name rc output
	if [ "$3" = 0 ]; then
		if printf '%s\n' "$4" | grep -q '^SKIP:'; then
			skip=$((skip + 1)); echo "skip $1/$2: $(printf '%s\n' "$4" | grep '^SKIP:' | head -1)"
		else
			pass=$((pass + 1)); echo "ok   $1/$2"
		fi
	else
		fail=$((fail + 1)); failed_names+=("$1/$2")
		echo "FAIL $1/$2 (exit $3)"
		printf '%s\n' "$4" | tail -40 | sed 's/^/     | /'
	fi
}

build build || { echo "0 passed, 1 failed"; exit 1; }
run_suite build normal
if [ -n "$PG_SUBSET" ]; then
	(
		. tests/integration/pgserver.sh
		pg_server_start || { echo "skip pg/*: no PostgreSQL server binaries"; exit 0; }
		export PATCHGAP_TEST_PGSERVER=$PGT_SERVER PATCHGAP_TEST_BACKEND=postgresql
		run_suite build pg "$PG_SUBSET"
		echo "$pass $fail $skip ${failed_names[*]}" >"$ROOT/build/pg-pass.txt"
	)
	if [ -f build/pg-pass.txt ]; then
		read -r p f s names <build/pg-pass.txt
		pass=$p fail=$f skip=$s
		[ -n "${names:-}" ] && read -r -a failed_names <<<"$names"
		rm -f build/pg-pass.txt
	fi
fi
if [ "$QUICK" = 0 ]; then
	if build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
		export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
		export PATCHGAP_SANITIZED=1
		run_suite build-asan asan
	else
		fail=$((fail + 1)); failed_names+=("asan/build")
	fi
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
