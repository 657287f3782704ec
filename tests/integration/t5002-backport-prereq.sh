#!/bin/bash
# t5002: a fix that needs a known prerequisite.  Upstream P changes line 8 of
# foo.c, an unrelated commit follows, then the fix changes line 8 again.  The
# fix alone conflicts on stable; blame finds P; the series P, fix applies and
# --with-deps creates both commits.  A Depends-on: annotation is followed too.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/foo.c 8 "	return x + 2 + offset;"; P=$(commit_all "foo: add offset")
set_line drivers/bar.c 3 "	return x + 100;"; U=$(commit_all "bar: unrelated")
set_line drivers/foo.c 8 "	return clamp(x + 2 + offset);"
FIX=$(commit_all "foo: clamp the result")
REF=refs/heads/patchgap/stable/${FIX:0:12}

rc=0; "$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --json >"$TMP/a.json" || rc=$?
[ "$rc" = 1 ] || fail "without --with-deps: exit $rc, want 1"
git rev-parse -q --verify "$REF" >/dev/null && fail "created $REF without --with-deps"
python3 - "$TMP/a.json" "$P" "$FIX" "$U" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
P, FIX, U = sys.argv[2:5]
assert r["status"] == "with-deps", r["status"]
assert [s["commit"] for s in r["series"]] == [P, FIX], r["series"]
c = r["conflicts"]
assert len(c) == 1 and c[0]["path"] == "drivers/foo.c" and c[0]["kind"] == "content", c
h = c[0]["hunks"][0]
assert h["ours"]["start"] == 8 and h["ours"]["text"] == "\treturn x + 2;\n", h
assert h["theirs"]["text"] == "\treturn clamp(x + 2 + offset);\n", h
assert [x["commit"] for x in r["candidates"]] == [P], r["candidates"]   # U never blamed
assert "blame drivers/foo.c:8" in r["candidates"][0]["why"]
PY

"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --with-deps --mbox "$TMP/o.mbox" >"$TMP/b.txt" \
	|| fail "--with-deps exited $?: $(cat "$TMP/b.txt")"
[ "$(git rev-list --count stable.."$REF")" = 2 ] || fail "series is not 2 commits"
git log -1 --format=%B "$REF^" | grep -q "^commit $P upstream.$" || fail "first commit is not P"
git log -1 --format=%B "$REF^" | grep -q "^Stable-dep-of: ${FIX:0:12}" || fail "P lacks Stable-dep-of"
git log -1 --format=%B "$REF" | grep -q "(with 1 prerequisite)" || fail "fix lacks provenance"
hand_clone stable
set_line drivers/foo.c 8 "	return clamp(x + 2 + offset);"
want=$(hand_tree); cd "$TMP/repo"
[ "$(git rev-parse "$REF^{tree}")" = "$want" ] || fail "series tree differs from the hand-made one"
grep -q '^Subject: \[PATCH 1/2\] foo: add offset$' "$TMP/o.mbox" || fail "mbox patch 1 subject"
grep -q '^Subject: \[PATCH 2/2\] foo: clamp the result$' "$TMP/o.mbox" || fail "mbox patch 2 subject"
[ "$(am_tree "$TMP/o.mbox" stable)" = "$want" ] || fail "git am of the series gives another tree"

# a prerequisite named only by a Depends-on: line (it touches another file,
# so blame cannot find it; the fix needs it because it edits P2's new line)
cd "$TMP/repo"
git checkout -q -b feat master
printf 'int helper(void);\n' >drivers/helper.h; P2=$(commit_all "add helper")
printf 'int helper(int flags);\n' >drivers/helper.h
set_line drivers/bar.c 8 "	return x + 3;"
FIX2=$(commit_all "helper: take flags

Depends-on: ${P2:0:12}")
rc=0; "$PATCHGAP_BIN" backport "$FIX2" --onto stable --repo . --no-branch --json >"$TMP/c.json" || rc=$?
python3 - "$TMP/c.json" "$P2" "$FIX2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "with-deps", r
assert [s["commit"] for s in r["series"]] == sys.argv[2:4], r["series"]
assert "Depends-on" in r["series"][0]["why"], r["series"][0]
PY

# the same, named by the stable prerequisite convention on a Cc: line
git checkout -q -b feat2 master
printf 'int helper2(void);\n' >drivers/helper2.h; P3=$(commit_all "add helper2")
printf 'int helper2(int flags);\n' >drivers/helper2.h
FIX4=$(commit_all "helper2: take flags

Cc: stable@vger.kernel.org # 6.1.x: ${P3:0:12}: add helper2
Cc: stable@vger.kernel.org # 6.1.x")
"$PATCHGAP_BIN" backport "$FIX4" --onto stable --repo . --no-branch --json >"$TMP/e.json" || true
grep -q '"status": "with-deps"' "$TMP/e.json" && grep -q "\"commit\": \"$P3\"" "$TMP/e.json" \
	|| fail "Cc: stable prerequisite not followed: $(cat "$TMP/e.json")"

# a chain: the prerequisite itself needs an older one (found by blaming the
# prerequisite's own conflict); --max-deps 1 is not enough
git checkout -q -b chain stable
set_line drivers/foo.c 13 "	return x + 3 + a;"; C1=$(commit_all "chain 1")
set_line drivers/foo.c 13 "	return x + 3 + a + b;"; C2=$(commit_all "chain 2")
set_line drivers/foo.c 13 "	return clamp(x + 3 + a + b);"; FIX3=$(commit_all "chain fix")
"$PATCHGAP_BIN" backport "$FIX3" --onto stable --repo . --with-deps >/dev/null || fail "chain: exit $?"
[ "$(git log --format='%b' --reverse stable..patchgap/stable/${FIX3:0:12} | grep '^commit .* upstream.$' | cut -d' ' -f2 | tr '\n' ' ')" = \
  "$C1 $C2 $FIX3 " ] || fail "chain series is not C1 C2 fix"
rc=0; "$PATCHGAP_BIN" backport "$FIX3" --onto stable --repo . --no-branch --max-deps 1 >"$TMP/d.txt" || rc=$?
[ "$rc" = 1 ] && grep -q "result:   conflict" "$TMP/d.txt" || fail "--max-deps 1: exit $rc $(cat "$TMP/d.txt")"
echo "ok: prerequisite found and series applied"
