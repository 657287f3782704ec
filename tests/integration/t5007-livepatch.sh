#!/bin/bash
# t5007: `patchgap livepatch` on a commit and on a diff file, text and JSON;
# the backport result carries the same verdict.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/foo.c 8 "	return x * 2;"; BODY=$(commit_all "foo: body-only fix")
printf 'config FOO\n\tbool "foo"\n' >drivers/Kconfig; KC=$(commit_all "foo: add Kconfig")

"$PATCHGAP_BIN" livepatch "$BODY" --repo . >"$TMP/a.txt" || fail "livepatch exited $?"
grep -q "^live patch: likely (1 C file, 1 function changed)$" "$TMP/a.txt" || fail "$(cat "$TMP/a.txt")"
"$PATCHGAP_BIN" livepatch "$KC" --repo . --json >"$TMP/b.json" || fail "livepatch --json exited $?"
grep -q '^  "verdict": "not"$' "$TMP/b.json" || fail "verdict: $(cat "$TMP/b.json")"
grep -q '"rule": "build"' "$TMP/b.json" && grep -q '"file": "drivers/Kconfig"' "$TMP/b.json" \
	&& grep -q '"line": 1,' "$TMP/b.json" || fail "reason: $(cat "$TMP/b.json")"
git show "$KC" >"$TMP/kc.diff"
"$PATCHGAP_BIN" livepatch --diff "$TMP/kc.diff" | grep -q "build.*drivers/Kconfig:1:" || fail "--diff FILE"
git show "$BODY" | "$PATCHGAP_BIN" livepatch --diff - | grep -q "^live patch: likely" || fail "--diff -"
rc=0; "$PATCHGAP_BIN" livepatch --diff "$TMP/nope.diff" 2>"$TMP/err" || rc=$?
[ "$rc" = 4 ] && grep -q "nope.diff" "$TMP/err" || fail "missing diff file: exit $rc $(cat "$TMP/err")"
rc=0; "$PATCHGAP_BIN" livepatch nosuchcommit --repo . 2>"$TMP/err" || rc=$?
[ "$rc" = 3 ] || fail "unknown commit: exit $rc"
rc=0; "$PATCHGAP_BIN" livepatch 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "no argument: exit $rc"
"$PATCHGAP_BIN" backport "$KC" --onto stable --repo . --no-branch --json | grep -q '^    "verdict": "not"$' \
	|| fail "backport result lacks the verdict"
echo "ok: livepatch verdicts"
