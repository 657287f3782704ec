# lib.sh - shared setup for integration scripts (source it first).
# Gives: $PG (the patchgap binary), $T (a fresh temp dir, removed on exit),
# $SRC (repo root), $SHARED (../shared/data or ""), fail/ok/skip helpers, and
# deterministic git identities/dates.
set -eu
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG=${PATCHGAP_BIN:-$SRC/build/cli/patchgap}
[ -x "$PG" ] || { echo "patchgap binary not found at $PG (build first)"; exit 1; }
T=$(mktemp -d /tmp/pg-it.XXXXXX)
[ -n "${PG_KEEP:-}" ] && echo "keeping $T" >&2 || trap 'rm -rf "$T"' EXIT
SHARED=${PATCHGAP_SHARED_DATA:-$SRC/../shared/data}
[ -d "$SHARED" ] || SHARED=""
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL="author@example.org"
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL="committer@example.org"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# Tests read databases with the sqlite3 shell, sometimes two at once (process
# substitutions); the first reader of a WAL database may hold a lock while it
# recovers the index, so wait for locks instead of failing with "database is
# locked".
sqlite3() { command sqlite3 -cmd '.timeout 10000' "$@"; }
NFAIL=0
fail() { echo "not ok - $*"; NFAIL=$((NFAIL + 1)); }
ok() { echo "ok - $*"; }
check() { # description, command...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
skip_all() { echo "SKIP: $*"; exit 0; }
finish() { [ "$NFAIL" = 0 ] || { echo "$NFAIL checks failed"; exit 1; }; }

# PATCHGAP_TEST_BACKEND=postgresql: the same test on PostgreSQL.  $PG becomes
# lib/pg-wrap.sh, which hands every database file the test names (--db or
# core.database) a database of its own on a real server: the one of
# $PATCHGAP_TEST_PGSERVER (tests/run.sh starts one for its PostgreSQL pass),
# else a private one started here.  sqlite3 DB SQL becomes psql on it.
if [ "${PATCHGAP_TEST_BACKEND:-sqlite}" = postgresql ]; then
	. "$SRC/tests/integration/pgserver.sh"
	if [ -z "${PATCHGAP_TEST_PGSERVER:-}" ]; then
		pg_server_start || skip_all "PATCHGAP_TEST_BACKEND=postgresql but no PostgreSQL server binaries"
		export PATCHGAP_TEST_PGSERVER=$PGT_SERVER
	fi
	# run.sh's pg pass already names the wrapper PATCHGAP_BIN
	[ -n "${PATCHGAP_REAL_BIN:-}" ] || export PATCHGAP_REAL_BIN=$PG
	PG=$SRC/tests/integration/lib/pg-wrap.sh
	sqlite3() { "$SRC/tests/integration/lib/pg-wrap.sh" --sqlite3 "$@"; }
fi
# tick: advance a fake clock so commits get distinct, deterministic dates
TICK=1700000000
tick() { TICK=$((TICK + 3600)); export GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000"; }
# g: git in the test's repository $R; commit: append a line to a file of $R
# and commit it at the next tick
g() { git -C "$R" "$@"; }
commit() { # file line message
	tick; mkdir -p "$R/$(dirname "$1")"; echo "$2" >> "$R/$1"; g add "$1"; g commit -q -m "$3"
}
# write_conf FILE BRANCH:KIND[:BASE]...: a config tracking ./repo with the
# database ./pg.db and these branches (a vendor branch's BASE is its stable base)
write_conf() {
	local f=$1 spec name kind base
	shift
	printf '[core]\n\trepository = repo\n\tdatabase = pg.db\n' > "$f"
	for spec; do
		IFS=: read -r name kind base <<<"$spec"
		printf '[branch "%s"]\n\tkind = %s\n' "$name" "$kind" >> "$f"
		[ -z "$base" ] || printf '\tbase = %s\n' "$base" >> "$f"
	done
}

# gen_repo SCALE SEED: a generated kernel-shaped history (cached, since
# generating is slower than the tests that read it).  Sets $GEN (the repo) and
# $TRUTH (its ground truth), and writes $T/patchgap.conf tracking every branch
# of the truth file.  The cache is shared by the normal and the ASan build
# (the generator does not depend on the build), keyed by whether the kernel
# data was used, and guarded by a lock: tests run in parallel.
gen_repo() {
	local scale=$1 seed=$2 mode data=() cache
	[ -n "$SHARED" ] && { data=(--data "$SHARED"); mode=data; } || { data=(--no-data); mode=nodata; }
	cache=${PATCHGAP_GEN_CACHE:-$SRC/build/gen-cache}/$scale-$seed-$mode
	mkdir -p "$(dirname "$cache")"
	(
		flock 9
		if [ ! -f "$cache/done" ]; then
			rm -rf "$cache"; mkdir -p "$cache"
			python3 "$SRC/tools/gen-history.py" --out "$cache/repo" --seed "$seed" --scale "$scale" \
				--truth "$cache/truth.json" "${data[@]}" >"$cache/gen.log" 2>&1 || { cat "$cache/gen.log"; exit 1; }
			touch "$cache/done"
		fi
	) 9>"$cache.lock" || return 1
	GEN=$cache/repo TRUTH=$cache/truth.json
	python3 "$SRC/tools/truth-to-conf.py" "$TRUTH" "$GEN" > "$T/patchgap.conf"
}

# rewind_clone BRANCH:N ...: $T/repo, a mirror of $GEN that patchgap.conf
# tracks, as before a push: each BRANCH set back N commits and the tags no
# branch contains any more deleted.  restore_refs puts every ref back (the push).
rewind_clone() {
	local b t
	git clone -q --mirror "$GEN" "$T/repo"
	sed -i "s|repository = .*|repository = $T/repo|" "$T/patchgap.conf"
	git -C "$T/repo" for-each-ref --format='%(objectname) %(refname)' >"$T/refs.all"
	for b in "$@"; do
		git -C "$T/repo" update-ref "refs/heads/${b%%:*}" "refs/heads/${b%%:*}~${b#*:}"
	done
	for t in $(git -C "$T/repo" for-each-ref --format='%(refname)' refs/tags); do
		git -C "$T/repo" for-each-ref --contains "$t" --format=x refs/heads | grep -q x ||
			git -C "$T/repo" update-ref -d "$t"
	done
}
restore_refs() {
	local sha ref
	while read -r sha ref; do git -C "$T/repo" update-ref "$ref" "$sha"; done <"$T/refs.all"
}

. "$SRC/tests/integration/lib-db.sh"
