#!/bin/bash
# t5005: the fix touches drivers/foo.c, which stable renamed to
# drivers/foo_core.c (and edited elsewhere).  The rename is detected and the
# fix applied to the new path; tree and `git am` match a hand-made backport.
. "$(dirname "$0")/lib-backport.sh"
new_repo
git checkout -q stable
git mv drivers/foo.c drivers/foo_core.c
set_line drivers/foo_core.c 93 "	return x + 19; /* stable */"
commit_all "stable: rename foo.c" >/dev/null
git checkout -q master
set_line drivers/foo.c 8 "	return x * 2;"
FIX=$(commit_all "foo: fix foo_2")

"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --mbox "$TMP/o.mbox" --json >"$TMP/r.json" \
	|| fail "rename backport exited $?"
python3 - "$TMP/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "clean", r["status"]
assert {"from": "drivers/foo.c", "to": "drivers/foo_core.c"}.items() <= r["renames"][0].items(), r["renames"]
PY
REF=refs/heads/patchgap/stable/${FIX:0:12}
git cat-file -e "$REF:drivers/foo.c" 2>/dev/null && fail "the fix re-created the old path"
hand_clone stable
set_line drivers/foo_core.c 8 "	return x * 2;"
want=$(hand_tree); cd "$TMP/repo"
[ "$(git rev-parse "$REF^{tree}")" = "$want" ] || fail "tree differs from the hand-made backport"
grep -q "^+++ b/drivers/foo_core.c$" "$TMP/o.mbox" || fail "mbox does not patch the new path"
[ "$(am_tree "$TMP/o.mbox" stable)" = "$want" ] || fail "git am of the mbox gives another tree"
echo "ok: renamed file followed"
