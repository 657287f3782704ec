#!/bin/bash
# t5003: an irreducible conflict.  stable changed line 8 of foo.c its own way;
# upstream's fix changes the same line, and no upstream commit between the
# fork point and the fix touched it: no prerequisite can help.  The conflict
# is reported with file and hunk (line ranges and both sides), exit 1, and
# nothing is created.  --mbox writes nothing.
. "$(dirname "$0")/lib-backport.sh"
new_repo
git checkout -q stable
set_line drivers/foo.c 8 "	return x - 2; /* stable-only */"; commit_all "stable: local change" >/dev/null
git checkout -q master
set_line drivers/bar.c 3 "	return x + 100;"; commit_all "bar: unrelated" >/dev/null
set_line drivers/foo.c 8 "	return x * 2;"
set_line drivers/foo.c 13 "	return x * 3;"
FIX=$(commit_all "foo: fix two functions")

rc=0; "$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --mbox "$TMP/o.mbox" >"$TMP/a.txt" 2>"$TMP/a.err" || rc=$?
[ "$rc" = 1 ] || fail "conflict: exit $rc, want 1"
grep -q "result:   conflict" "$TMP/a.txt" || fail "not reported as conflict: $(cat "$TMP/a.txt")"
grep -q "drivers/foo.c (content conflict" "$TMP/a.txt" || fail "file not named"
grep -q "hunk 1: branch 8-8, upstream parent 8-8, commit 8-8" "$TMP/a.txt" || fail "hunk range: $(cat "$TMP/a.txt")"
grep -q "stable-only" "$TMP/a.txt" || fail "ours snippet missing"
[ ! -e "$TMP/o.mbox" ] || fail "mbox written for a conflict"
[ -z "$(git for-each-ref refs/heads/patchgap)" ] || fail "a ref was created"

"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --json >"$TMP/a.json" || true
python3 - "$TMP/a.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "conflict", r["status"]
assert r["candidates"] == [], r["candidates"]          # nothing upstream to blame
c = r["remaining_conflicts"]
assert len(c) == 1 and c[0]["path"] == "drivers/foo.c", c
h = c[0]["hunks"]
assert len(h) == 1, h                                     # line 13 merged cleanly
assert h[0]["ours"] == {"start": 8, "lines": 1, "text": "\treturn x - 2; /* stable-only */\n"}, h
assert h[0]["base"] == {"start": 8, "lines": 1, "text": "\treturn x + 2;\n"}, h
assert h[0]["theirs"] == {"start": 8, "lines": 1, "text": "\treturn x * 2;\n"}, h
assert r["created_ref"] is None
PY
echo "ok: irreducible conflict reported"
