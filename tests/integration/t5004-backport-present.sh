#!/bin/bash
# t5004: the fix is already on the branch: under another id with the same
# patch id (plain cherry-pick, different message), via an annotation
# ("commit X upstream."), in the files (part of a bigger commit), or as an
# ancestor.  Each is reported with its evidence, exit 0, nothing created.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/foo.c 8 "	return x * 2;"; FIX=$(commit_all "foo: fix foo_2")
set_line drivers/foo.c 13 "	return x * 3;"; FIX_B=$(commit_all "foo: fix foo_3")
set_line drivers/foo.c 18 "	return x * 4;"; FIX_C=$(commit_all "foo: fix foo_4")
git checkout -q stable
# (a) the same change under another message and id
set_line drivers/foo.c 8 "	return x * 2;"; SAME=$(commit_all "stable: a differently worded fix")
# (b) annotated backport that had to be adapted (different diff)
set_line drivers/foo.c 13 "	return x * 3; /* adapted */"; ANN=$(commit_all "foo: fix foo_3

commit $FIX_B upstream.")
# (c) the change hidden inside a larger commit
set_line drivers/foo.c 18 "	return x * 4;"; set_line drivers/bar.c 3 "	return 0;"; commit_all "big squash" >/dev/null
git checkout -q master

# the JSON is indented with sorted keys: one "key": value per line
check() { # fix how evidence-commit-or-empty [onto]
	"$PATCHGAP_BIN" backport "$1" --onto "${4:-stable}" --repo . --json >"$TMP/p.json" || fail "present ($2) exited $?"
	grep -q '^  "status": "present",$' "$TMP/p.json" || fail "$2: not present: $(cat "$TMP/p.json")"
	grep -q "^    \"how\": \"$2\",\?$" "$TMP/p.json" || fail "$2: wrong how: $(grep -A4 '"present"' "$TMP/p.json")"
	[ -z "$3" ] || grep -q "^    \"commit\": \"$3\",\?$" "$TMP/p.json" || fail "$2: evidence is not $3"
	grep -q '^    "evidence": ".\+",$' "$TMP/p.json" || fail "$2: no evidence"
	grep -q '^  "created_ref": null,$' "$TMP/p.json" && grep -q '^  "series": \[\],$' "$TMP/p.json" \
		|| fail "$2: something was created"
}
check "$FIX" patch-id "$SAME"
[ "$(git show "$FIX" | git patch-id --stable | cut -d' ' -f1)" = \
  "$(git show "$SAME" | git patch-id --stable | cut -d' ' -f1)" ] || fail "git disagrees on the patch ids"
check "$FIX_B" annotation "$ANN"
check "$FIX_C" tree ""
git branch old "$FIX_B"
check "$FIX" ancestor "$FIX" old
"$PATCHGAP_BIN" backport "$FIX_B" --onto stable --repo . | grep -q "says 'commit $FIX_B upstream.'" \
	|| fail "annotation evidence not printed"
[ -z "$(git for-each-ref refs/heads/patchgap)" ] || fail "a ref was created"
echo "ok: present fixes detected"
