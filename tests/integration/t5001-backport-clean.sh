#!/bin/bash
# t5001: a fix that applies cleanly onto an older branch: new ref with the
# stable-convention message, tree equal to a hand-made backport, `git am` of
# the mbox reproduces it, the run is recorded in the database, and the
# user's checkout (HEAD, index, working tree) is untouched.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/bar.c 3 "	return x + 100;"; commit_all "bar: unrelated" >/dev/null
set_line drivers/foo.c 8 "	return x * 2;"
FIX=$(commit_all "foo: fix overflow in foo_2

The old code could overflow.

Signed-off-by: Dev <dev@example.org>")
git status --porcelain >"$TMP/status.before"
HEAD_BEFORE=$(git rev-parse HEAD)

"$PATCHGAP_BIN" --db "$TMP/pg.db" backport "$FIX" --onto stable --repo . --mbox "$TMP/out.mbox" >"$TMP/out.txt" \
	|| fail "clean backport exited $?: $(cat "$TMP/out.txt")"
grep -q "result:   clean" "$TMP/out.txt" || fail "not reported clean: $(cat "$TMP/out.txt")"
REF=refs/heads/patchgap/stable/${FIX:0:12}
got=$(git rev-parse "$REF^{tree}") || fail "no ref $REF"
[ "$(git rev-parse "$REF^")" = "$(git rev-parse stable)" ] || fail "backport is not on top of stable"

# the same change made by hand on stable
hand_clone stable
set_line drivers/foo.c 8 "	return x * 2;"
want=$(hand_tree)
cd "$TMP/repo"
[ "$got" = "$want" ] || fail "tree $got != hand-made $want"

msg=$(git log -1 --format=%B "$REF")
[ "$(printf '%s\n' "$msg" | sed -n 1p)" = "foo: fix overflow in foo_2" ] || fail "subject: $msg"
[ "$(printf '%s\n' "$msg" | sed -n 3p)" = "commit $FIX upstream." ] || fail "no upstream line: $msg"
printf '%s\n' "$msg" | grep -q "^The old code could overflow.$" || fail "body lost: $msg"
printf '%s\n' "$msg" | grep -q "^Backported-by: patchgap .* (clean)$" || fail "no provenance trailer: $msg"
[ "$(git log -1 --format=%an "$REF")" = "Test Author" ] || fail "author not kept"

# git am of the mbox on the branch head reproduces the tree
grep -q "^Subject: \[PATCH\] foo: fix overflow in foo_2$" "$TMP/out.mbox" || fail "mbox subject"
[ "$(am_tree "$TMP/out.mbox" stable)" = "$want" ] || fail "git am of the mbox gives another tree"

# the user's side is untouched
[ "$(git rev-parse HEAD)" = "$HEAD_BEFORE" ] || fail "HEAD moved"
git status --porcelain >"$TMP/status.after"
cmp -s "$TMP/status.before" "$TMP/status.after" || fail "working tree/index changed"

# recorded
[ "$(sqlite3 "$TMP/pg.db" "SELECT status || ' ' || fix_sha || ' ' || created_ref FROM backport_runs")" = \
  "clean $FIX $REF" ] || fail "run not recorded: $(sqlite3 "$TMP/pg.db" 'SELECT * FROM backport_runs')"

# the repository and database from the config (core.repository / core.database)
cat >"$TMP/pg.conf" <<CONF
[core]
	repository = $TMP/repo
	database = $TMP/cfg.db
[branch "master"]
	kind = mainline
CONF
(cd "$TMP" && "$PATCHGAP_BIN" --conf "$TMP/pg.conf" backport "$FIX" --onto stable --no-branch >/dev/null) \
	|| fail "backport with the config's repository exited $?"
[ "$(sqlite3 "$TMP/cfg.db" "SELECT status FROM backport_runs")" = clean ] || fail "not recorded in core.database"

# JSON
"$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --no-branch --json >"$TMP/out.json"
python3 - "$TMP/out.json" "$FIX" "$want" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "clean", r["status"]
assert r["fix"] == sys.argv[2]
assert len(r["series"]) == 1 and r["series"][0]["tree"] == sys.argv[3], r["series"]
assert r["series"][0]["created"] is None      # --no-branch
assert r["livepatch"]["verdict"] == "likely"
PY
echo "ok: clean backport"
