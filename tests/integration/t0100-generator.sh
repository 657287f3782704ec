#!/usr/bin/env bash
# t0100-generator: tools/gen-history.py produces a reproducible, consistent kernel-shaped
# history and a ground truth that matches the repository.
#
# Prints one "ok N - ..." / "not ok N - ..." / "ok N - # skip ..." line per check and exits
# non-zero if any check failed.  Needs git and python3; the shared data directory
# (../shared/data relative to the repository root) is optional.
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
check "generate tiny (seed 8, synthetic)" gen --out "$TMP/c" --seed 8 --scale tiny --no-data

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
    check "$L: git fsck --no-dangling" git -C "$R" fsck --no-dangling --no-progress
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
for name, b in t["branches"].items():
    if git("rev-parse", "refs/heads/" + name).strip() != b["head"]:
        errors.append("head of %s differs" % name)
for name, sha in t["tags"].items():
    if git("rev-parse", name + "^{commit}").strip() != sha:
        errors.append("tag %s differs" % name)
    m = re.match(r'^v(\d+\.\d+)\.\d+$', name)
    if m:
        br = "linux-%s.y" % m.group(1)
        r = subprocess.run(["git", "-C", repo, "merge-base", "--is-ancestor", sha, br])
        if r.returncode != 0:
            errors.append("stable tag %s not on %s" % (name, br))
# backport upstreams are on master; backports are on their branch
master = set(git("rev-list", "master").split())
for b in t["backports"]:
    if b["upstream"] not in master:
        errors.append("upstream %s of %s not on master" % (b["upstream"], b["commit"]))
onbr = {}
for b in t["backports"]:
    br = b["branch"]
    if br not in onbr:
        onbr[br] = set(git("rev-list", br).split())
    if b["commit"] not in onbr[br]:
        errors.append("backport %s not on %s" % (b["commit"], br))
# stable/vendor annotations name the upstream commit
msgs = {}
for b in t["backports"][:300]:
    msg = git("cat-file", "commit", b["commit"]).split("\n\n", 1)[1]
    want = {"commit_upstream": "commit %s upstream." % b["upstream"],
            "upstream_bracket": "[ Upstream commit %s ]" % b["upstream"],
            "cherry_pick": "(cherry picked from commit %s)" % b["upstream"],
            "adapted": "(backported from commit %s)" % b["upstream"]}.get(b["style"])
    if want and want not in msg:
        errors.append("%s (%s) lacks %r" % (b["commit"], b["style"], want))
    if b["style"] == "none" and b["upstream"] in msg:
        errors.append("%s (none) names its upstream" % b["commit"])
# reverts say so
for r in t["reverts"]:
    msg = git("cat-file", "commit", r["commit"])
    ref = r.get("message_reverts", r["reverts"])
    if "This reverts commit %s" % ref not in msg:
        errors.append("revert %s does not name %s" % (r["commit"], ref))
# fixes tags: raw lines present in the messages, targets real
for sha, tags in list(t["fixes_tags"].items())[:300]:
    msg = git("cat-file", "commit", sha)
    for x in tags:
        if x["raw"] not in msg.splitlines():
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
sample = items[:: max(1, len(items) // 60)]
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
def pid(sha):
    diff = subprocess.run(["git", "-C", repo, "diff-tree", "-p", "--no-renames", sha + "^", sha],
                          capture_output=True, check=True).stdout
    out = subprocess.run(["git", "-C", repo, "patch-id", "--stable"], input=diff, capture_output=True,
                         check=True).stdout.split()
    return out[0] if out else None
errors = []
checked = 0
for b in t["backports"][:400]:
    a, u = pid(b["commit"]), pid(b["upstream"])
    checked += 1
    if b["style"] == "adapted":
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
check "rewritten repository: git fsck --no-dangling" git -C "$TMP/a" fsck --no-dangling --no-progress

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed check(s) failed"
    exit 1
fi
