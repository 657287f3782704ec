# lib.sh - shared setup for integration scripts (source it first).
# Gives: $PG (the patchgap binary), $T (a fresh temp dir, removed on exit),
# $SRC (repo root), $SHARED (../shared/data or ""), fail/ok/skip helpers, and
# deterministic git identities/dates.
set -eu
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG=${PATCHGAP_BIN:-$SRC/build/cli/patchgap}
[ -x "$PG" ] || { echo "patchgap binary not found at $PG (build first)"; exit 1; }
T=$(mktemp -d /tmp/pg-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
SHARED=${PATCHGAP_SHARED_DATA:-$SRC/../shared/data}
[ -d "$SHARED" ] || SHARED=""
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL="author@example.org"
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL="committer@example.org"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
NFAIL=0
fail() { echo "not ok - $*"; NFAIL=$((NFAIL + 1)); }
ok() { echo "ok - $*"; }
check() { # description, command...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
skip_all() { echo "SKIP: $*"; exit 0; }
finish() { [ "$NFAIL" = 0 ] || { echo "$NFAIL checks failed"; exit 1; }; }
# tick: advance a fake clock so commits get distinct, deterministic dates
TICK=1700000000
tick() { TICK=$((TICK + 3600)); export GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000"; }
