#!/bin/bash
# t5006: bad input gets a clear error and the documented exit code: unknown
# branch, unknown fix, a path that is not a repository, a CVE id (not yet
# supported), a merge commit.  A repository with a dirty index and working
# tree is left byte-identical.  A hanging --test command is killed at the
# timeout and recorded as a failure.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/foo.c 8 "	return x * 2;"; FIX=$(commit_all "foo: fix foo_2")

expect() { # exit-code message-regex command...
	local want=$1 re=$2 rc=0; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want ($(cat "$TMP/err"))"
	grep -Eq -e "$re" "$TMP/err" || fail "$*: error '$(cat "$TMP/err")' does not match '$re'"
}
expect 3 "unknown branch 'nosuch'" "$PATCHGAP_BIN" backport "$FIX" --onto nosuch --repo .
expect 3 "unknown fix 'deadbeefdeadbeef'" "$PATCHGAP_BIN" backport deadbeefdeadbeef --onto stable --repo .
mkdir "$TMP/plain"
expect 3 "'$TMP/plain' is not a git repository" "$PATCHGAP_BIN" backport "$FIX" --onto stable --repo "$TMP/plain"
expect 2 "CVE-2024-1234 needs the database" "$PATCHGAP_BIN" backport CVE-2024-1234 --onto stable --repo .
expect 2 "--onto <branch> is required" "$PATCHGAP_BIN" backport "$FIX" --repo .
expect 2 "--all needs the database" "$PATCHGAP_BIN" backport --all --onto stable --repo .
expect 3 "CVE-2024-1234" "$PATCHGAP_BIN" --db "$TMP/empty.db" backport CVE-2024-1234 --onto stable --repo .
expect 2 "--timeout 'x'" "$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --test true --timeout x
git checkout -q -b side stable
set_line drivers/bar.c 3 "	return 7;"; commit_all "side" >/dev/null
git checkout -q master
git merge -q --no-edit side
expect 4 "is a merge commit" "$PATCHGAP_BIN" backport HEAD --onto stable --repo .
git reset -q --hard "$FIX"
"$PATCHGAP_BIN" backport --help | grep -q "^usage: patchgap backport" || fail "--help"

# dirty index + working tree + untracked file stay byte-identical
set_line drivers/foo.c 3 "	return x + 42; /* staged */"; git add drivers/foo.c
set_line drivers/foo.c 3 "	return x + 43; /* unstaged */"
echo scratch >untracked.txt
sum_state() { { sha1sum .git/index drivers/foo.c untracked.txt; git rev-parse HEAD; git status --porcelain; } | sha1sum; }
before=$(sum_state)
"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . >/dev/null || fail "backport in a dirty repo exited $?"
"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --test 'echo built; exit 0' >"$TMP/t.txt" || fail "test run failed"
grep -q "test:     passed" "$TMP/t.txt" || fail "passing test not reported: $(cat "$TMP/t.txt")"
[ "$(sum_state)" = "$before" ] || fail "the dirty index/working tree changed"

# the test runs in a checkout of the result, not in the user's tree
"$PATCHGAP_BIN" --db "$TMP/pg.db" backport "$FIX" --onto stable --repo . \
	--test 'grep -q "return x \* 2;" drivers/foo.c && ! grep -q staged drivers/foo.c && ! test -e untracked.txt' \
	>/dev/null || fail "the test did not see the backported tree"

# a failing and a hanging test: recorded as failures with the reason
rc=0; "$PATCHGAP_BIN" --db "$TMP/pg.db" backport "$FIX" --onto stable --repo . --test 'echo boom >&2; exit 3' \
	>"$TMP/f.txt" || rc=$?
[ "$rc" = 1 ] || fail "failing test: exit $rc"
grep -q "exit status 3" "$TMP/f.txt" && grep -q "| boom" "$TMP/f.txt" || fail "failure not shown: $(cat "$TMP/f.txt")"
start=$(date +%s)
rc=0; "$PATCHGAP_BIN" --db "$TMP/pg.db" backport "$FIX" --onto stable --repo . \
	--test 'sleep 300 & sleep 300; echo never' --timeout 1 >"$TMP/h.txt" || rc=$?
el=$(( $(date +%s) - start ))
[ "$rc" = 1 ] || fail "hanging test: exit $rc"
[ "$el" -lt 20 ] || fail "hanging test not killed at the timeout (${el}s)"
grep -q "timed out after 1 s" "$TMP/h.txt" || fail "timeout not reported: $(cat "$TMP/h.txt")"
rows=$(sqlite3 "$TMP/pg.db" "SELECT test_result || '|' || test_reason FROM backport_runs ORDER BY id")
printf '%s\n' "$rows" | sed -n 1p | grep -q "^pass|passed$" || fail "rows: $rows"
printf '%s\n' "$rows" | sed -n 2p | grep -q "^fail|exit status 3$" || fail "rows: $rows"
printf '%s\n' "$rows" | sed -n 3p | grep -q "^fail|timed out after 1 s" || fail "rows: $rows"
[ "$(sum_state)" = "$before" ] || fail "the dirty index/working tree changed"
echo "ok: bad input, dirty repository, test timeout"
