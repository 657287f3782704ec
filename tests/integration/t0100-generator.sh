#!/usr/bin/env bash
# t0100-generator: tools/gen-history.py produces a reproducible, consistent kernel-shaped
# history and a ground truth that matches the repository.
#
# Prints one "ok N - ..." / "not ok N - ..." / "ok N - # skip ..." line per check and exits
# non-zero if any check failed.  Needs git and python3; the shared data directory
# (../shared/data relative to the repository root) is optional.
# run.sh: normal build only
# run.sh: sqlite only (the history generator, no database)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$ROOT/tools/gen-history.py"
DATA="$ROOT/../shared/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/t0100.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

n=0
failed=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }
skip() { n=$((n + 1)); echo "ok $n - # skip $1"; }
check() { # check "description" command...
    local d=$1; shift
    if "$@" >"$TMP/last.out" 2>&1; then ok "$d"; else nok "$d"; sed 's/^/#   /' "$TMP/last.out" | head -20; fi
}

have_data=0
if [ -f "$DATA/kernel-cves.jsonl.gz" ] && [ -f "$DATA/lore-patches.jsonl.gz" ]; then have_data=1; fi

gen() { python3 "$GEN" --quiet "$@"; }

# --- reproducibility ------------------------------------------------------------------------
check "generate tiny (seed 7, synthetic)" gen --out "$TMP/a" --seed 7 --scale tiny --no-data
check "generate tiny again (seed 7, synthetic)" gen --out "$TMP/b" --seed 7 --scale tiny --no-data
check "generate tiny (seed 8, synthetic, 150 commits)" gen --out "$TMP/c" --seed 8 --scale tiny --no-data --commits 150

same_master() { [ "$(git -C "$TMP/a" rev-parse master)" = "$(git -C "$TMP/b" rev-parse master)" ]; }
check "same seed gives the same master" same_master
check "same seed gives a byte-identical truth file" cmp "$TMP/a.truth.json" "$TMP/b.truth.json"
same_refs() { diff <(git -C "$TMP/a" for-each-ref) <(git -C "$TMP/b" for-each-ref); }
check "same seed gives identical refs and tags" same_refs
differs() { [ "$(git -C "$TMP/a" rev-parse master)" != "$(git -C "$TMP/c" rev-parse master)" ] &&
            ! cmp -s "$TMP/a.truth.json" "$TMP/c.truth.json"; }
check "a different seed gives a different history" differs

# --- consistency checks, run on one repository ----------------------------------------------
verify_repo() { # verify_repo DIR label
    local R=$1 L=$2 T="$1.truth.json"
    check "$L: git fsck --strict --no-dangling" git -C "$R" fsck --strict --no-dangling --no-progress
    check "$L: consistency of truth and repository" python3 - "$R" "$T" <<'EOF'
import json, re, subprocess, sys
repo, tpath = sys.argv[1], sys.argv[2]
t = json.load(open(tpath))
def git(*a, inp=None):
    return subprocess.run(["git", "-C", repo] + list(a), input=inp, capture_output=True,
                          text=True, check=True).stdout
errors = []
# every sha mentioned in the truth exists
shas = set(re.findall(r'\b[0-9a-f]{40}\b', open(tpath).read()))
out = git("cat-file", "--batch-check=%(objectname) %(objecttype)", inp="\n".join(sorted(shas)) + "\n")
missing = [l for l in out.splitlines() if l.endswith("missing")]
if missing:
    errors.append("%d truth shas missing, e.g. %s" % (len(missing), missing[:3]))
# branch heads and tags
refs = {}
for line in git("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)").splitlines():
    p = line.split(" ")
    refs[p[0]] = p[2] if len(p) > 2 and p[2] else p[1]
revs = {}
def on(branch, sha):
    if branch not in revs:
        revs[branch] = set(git("rev-list", "refs/heads/" + branch).split())
    return sha in revs[branch]
for name, b in t["branches"].items():
    if refs.get("refs/heads/" + name) != b["head"]:
        errors.append("head of %s differs" % name)
for name, sha in t["tags"].items():
    if refs.get("refs/tags/" + name) != sha:
        errors.append("tag %s differs" % name)
    m = re.match(r'^v(\d+\.\d+)\.\d+$', name)
    if m and not on("linux-%s.y" % m.group(1), sha):
        errors.append("stable tag %s not on linux-%s.y" % (name, m.group(1)))
# backport upstreams are on master; backports are on their branch
on("master", "")
master = revs["master"]
for b in t["backports"]:
    if b["upstream"] not in master:
        errors.append("upstream %s of %s not on master" % (b["upstream"], b["commit"]))
    if not on(b["branch"], b["commit"]):
        errors.append("backport %s not on %s" % (b["commit"], b["branch"]))
# commit messages, read in one batch
def messages(shas):
    shas = sorted(set(shas))
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch"], input=("\n".join(shas) + "\n").encode(),
                         capture_output=True, check=True).stdout
    res, pos = {}, 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        sha, typ, size = out[pos:nl].decode().split()
        body = out[nl + 1:nl + 1 + int(size)].decode("utf-8", "replace")
        res[sha] = body.split("\n\n", 1)[1] if "\n\n" in body else ""
        pos = nl + 1 + int(size) + 1
    return res
msgs = messages([b["commit"] for b in t["backports"]] + [r["commit"] for r in t["reverts"]] +
                list(t["fixes_tags"])[:2000])
for b in t["backports"]:
    msg = msgs[b["commit"]]
    want = {"commit_upstream": "commit %s upstream." % b["upstream"],
            "upstream_bracket": "[ Upstream commit %s ]" % b["upstream"],
            "cherry_pick": "(cherry picked from commit %s)" % b["upstream"],
            "backported": "(backported from commit %s)" % b["upstream"]}.get(b["annotation"])
    if want and want not in msg:
        errors.append("%s (%s) lacks %r" % (b["commit"], b["annotation"], want))
    if b["annotation"] == "none" and b["upstream"] in msg:
        errors.append("%s (none) names its upstream" % b["commit"])
# reverts say so
for r in t["reverts"]:
    ref = r.get("message_reverts", r["reverts"])
    if "This reverts commit %s" % ref not in msgs[r["commit"]]:
        errors.append("revert %s does not name %s" % (r["commit"], ref))
# fixes tags: raw lines present in the messages, targets real
for sha, tags in list(t["fixes_tags"].items())[:2000]:
    lines = msgs[sha].splitlines()
    for x in tags:
        if x["raw"] not in lines:
            errors.append("%s lacks %r" % (sha, x["raw"]))
        if x["target"] and x["target"] not in master:
            errors.append("Fixes target %s not on master" % x["target"])
# dyad lines are well formed
for f in t["fixes"]:
    for line in f["dyad"]:
        p = line.split(":")
        if len(p) != 4 or (p[1] != "0" and len(p[1]) != 40) or (p[3] != "0" and len(p[3]) != 40):
            errors.append("bad dyad line %r" % line)
    if f["fix"] not in master:
        errors.append("fix %s not on master" % f["fix"])
labels = t["labels"]
if not labels or not any(labels.values()):
    errors.append("no security labels")
kinds = {}
for b in t["backports"]:
    kinds[b["style"]] = kinds.get(b["style"], 0) + 1
for k in ("commit_upstream", "upstream_bracket"):
    if not kinds.get(k):
        errors.append("no backport of style %s" % k)
if errors:
    print("\n".join(errors[:30]))
    sys.exit(1)
EOF
    check "$L: first_release matches git tag --contains (sample)" python3 - "$R" "$T" <<'EOF'
import json, subprocess, sys
repo, tpath = sys.argv[1], sys.argv[2]
t = json.load(open(tpath))
def vkey(tag):
    # v6.2-rc3 < v6.2 < v6.2.1 < v6.3-rc1
    base, _, rc = tag[1:].partition("-rc")
    nums = [int(x) for x in base.split(".")]
    return (nums[0], nums[1], 0 if rc else 1, int(rc) if rc else 0, nums[2] if len(nums) > 2 else -1)
items = sorted(t["first_release"].items())
sample = items[:: max(1, len(items) // 30)]
errors = []
for sha, e in sample:
    out = subprocess.run(["git", "-C", repo, "tag", "--contains", sha, "v*"], capture_output=True,
                         text=True, check=True).stdout.split()
    got = min(out, key=vkey) if out else None
    exp = [v for v in e.values() if v]
    want = min(exp, key=vkey) if exp else None
    if got != want:
        errors.append("%s: git says %s, truth %s" % (sha, got, e))
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
EOF
    check "$L: backport diffs equal upstream diffs (patch-id), adapted ones differ" python3 - "$R" "$T" <<'EOF'
import json, subprocess, sys
repo, tpath = sys.argv[1], sys.argv[2]
t = json.load(open(tpath))
def pids(shas):
    diff = subprocess.run(["git", "-C", repo, "diff-tree", "--stdin", "-p", "--no-renames"],
                          input=("\n".join(shas) + "\n").encode(), capture_output=True, check=True).stdout
    out = subprocess.run(["git", "-C", repo, "patch-id", "--stable"], input=diff, capture_output=True,
                         check=True).stdout.decode().split("\n")
    return {c: p for p, c in (l.split() for l in out if l)}
bps = t["backports"]
pid = pids(sorted(set([b["commit"] for b in bps] + [b["upstream"] for b in bps])))
errors = []
checked = 0
for b in bps:
    a, u = pid.get(b["commit"]), pid.get(b["upstream"])
    checked += 1
    if a is None or u is None:
        errors.append("no patch-id for %s or %s" % (b["commit"], b["upstream"]))
    elif b["style"] == "adapted":
        if a == u:
            errors.append("adapted %s has the upstream patch-id" % b["commit"])
    elif a != u:
        errors.append("%s (%s) patch-id %s != upstream %s %s" % (b["commit"], b["style"], a, b["upstream"], u))
if not checked:
    errors.append("no backports")
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
EOF
}

verify_repo "$TMP/a" "synthetic"

# --- the pack is written by the generator itself (no fast-import) ---------------------------
pack_ok() { # the .idx is byte-identical to what git index-pack writes for the pack; chains <= 50
    local R=$1 lim=${2:-} p n
    p=$(ls "$R"/.git/objects/pack/pack-*.pack)
    n=$(echo "$p" | wc -l)
    [ "$n" = 1 ] || { echo "expected one pack, found $n"; return 1; }
    [ -z "$(find "$R/.git/objects" -path '*/pack' -prune -o -type f -print)" ] || { echo "loose objects"; return 1; }
    git index-pack ${lim:+--index-version=2,$lim} -o "$TMP/check.idx" "$p" >/dev/null
    cmp "$TMP/check.idx" "${p%.pack}.idx"
    rm -f "$TMP/check.idx"
    local depth
    depth=$(git verify-pack -v "${p%.pack}.idx" | sed -n 's/^chain length = \([0-9]*\):.*/\1/p' | sort -n | tail -1)
    echo "max delta chain $depth"
    [ -n "$depth" ] && [ "$depth" -le 50 ] && [ "$depth" -ge 2 ]
}
check "pack: index equals git index-pack's, delta chains 2..50" pack_ok "$TMP/a"
check "pack with 64-bit offset table (offsets > 4095)" \
    gen --out "$TMP/lo" --seed 7 --scale tiny --no-data --pack-off32-limit 4095
check "pack with 64-bit offset table: index equals git index-pack --index-version=2,4095" pack_ok "$TMP/lo" 4095
check "pack with 64-bit offset table: git fsck --strict" git -C "$TMP/lo" fsck --strict --no-dangling --no-progress
same_lo() { diff <(git -C "$TMP/a" for-each-ref) <(git -C "$TMP/lo" for-each-ref); }
check "pack with 64-bit offset table: same refs" same_lo

if [ "$have_data" = 1 ]; then
    check "generate tiny with data (seed 3)" gen --out "$TMP/d" --seed 3 --scale tiny --data "$DATA"
    datakind() { grep -q '"data": "kernel-cves+lore"' "$TMP/d.truth.json"; }
    check "data: truth records the data source" datakind
    verify_repo "$TMP/d" "data"
else
    skip "generate tiny with data: $DATA not present"
    skip "data: truth records the data source"
fi

# --- vendor force-push simulation -----------------------------------------------------------
rewrite() {
    local R="$TMP/a"
    local old_master old_vendor vb
    old_master=$(git -C "$R" rev-parse master)
    vb=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print([b for b,v in t["branches"].items() if v["kind"]=="vendor"][0])' "$R.truth.json")
    old_vendor=$(git -C "$R" rev-parse "$vb")
    local nv
    nv=$(git -C "$R" rev-list --count "$vb" --not $(git -C "$R" for-each-ref --format='%(refname)' 'refs/heads/linux-*'))
    [ "$nv" -ge 2 ] || { echo "vendor branch has only $nv own commits"; return 1; }
    gen --out "$R" --seed 7 --scale tiny --no-data --vendor-rewrite 2
    [ "$(git -C "$R" rev-parse master)" = "$old_master" ] || { echo "master changed"; return 1; }
    [ "$(git -C "$R" rev-parse "$vb")" != "$old_vendor" ] || { echo "vendor unchanged"; return 1; }
    python3 - "$R" "$R.truth.json" "$old_vendor" <<'EOF'
import json, subprocess, sys
repo, tpath, old = sys.argv[1:4]
t = json.load(open(tpath))
vr = t["vendor_rewrite"]
assert vr["old_head"] == old, (vr["old_head"], old)
assert len(vr["dropped"]) == vr["k"] == len(vr["added"]) == 2, vr
head = t["branches"][vr["branch"]]["head"]
onv = set(subprocess.run(["git", "-C", repo, "rev-list", head], capture_output=True, text=True,
                         check=True).stdout.split())
assert not any(d in onv for d in vr["dropped"]), "dropped commit still on the vendor branch"
assert all(a in onv for a in vr["added"]), "added commit not on the vendor branch"
EOF
}
check "vendor rewrite (--vendor-rewrite 2) into the same repository" rewrite
check "rewritten repository: git fsck --strict --no-dangling" git -C "$TMP/a" fsck --strict --no-dangling --no-progress

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed check(s) failed"
    exit 1
fi
