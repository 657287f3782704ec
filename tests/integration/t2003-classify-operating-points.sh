#!/bin/bash
# t2003-classify-operating-points.sh - `patchgap train` on a subsample of the
# shared data (every lore list, kernel-cves, patchdb): the model file carries
# the isotonic calibration and the operating points (one threshold per recall,
# measured on the calibration split) and the bag-of-words baseline; `eval`
# prints both models and the expected precision; --recall moves the threshold
# the right way; `train --lolo` leaves each list out (three lists here).
# The subsample keeps the test small: training takes a few seconds.
# run.sh: sqlite only (classifies JSONL input, never opens a database)
. "$(dirname "$0")/lib.sh"
[ -n "$SHARED" ] && [ -f "$SHARED/lore-patches.jsonl.gz" ] || skip_all "../shared/data not present"
command -v python3 >/dev/null || skip_all "python3 not installed"
D=$T/data
mkdir -p "$D"
# every 14th lore mail of each file, every 8th CVE and PatchDB record
# (every 3x more under the sanitizers: the same code paths at a third of the cost)
X=1; [ -n "${PATCHGAP_SANITIZED:-}" ] && X=3
sub() { zcat "$SHARED/$1" | awk -v n="$(($2 * X))" 'NR % n == 0' | gzip -1 >"$D/$1"; }
sub lore-patches.jsonl.gz 14
sub lore-patches-more.jsonl.gz 14
sub kernel-cves.jsonl.gz 8
sub patchdb-linux.jsonl.gz 8

$PG --quiet train --data "$D" --out "$T/m.model" >/dev/null 2>"$T/train.err" || { cat "$T/train.err"; fail "train"; }
check "format 2 header" grep -q '^patchgap-classify-model 2$' "$T/m.model"
check "calibration points for both heads" bash -c "grep -q '^calib diff ' '$T/m.model' && grep -q '^calib nodiff ' '$T/m.model'"
check "operating point for recall 0.90" grep -q '^op diff 0.90 ' "$T/m.model"
check "baseline weights" grep -q '^baseline-weights [1-9]' "$T/m.model"
check "calibration split named in meta" grep -q '^meta calibration 2024-07-01$' "$T/m.model"
# operating points: recall ascending, thresholds not increasing, precisions in [0, 1];
# calibration points ascending in both coordinates
python3 - "$T/m.model" <<'PY' && ok "operating points and calibration are monotone" || fail "operating points and calibration are monotone"
import sys
ops, cal = {}, {}
for l in open(sys.argv[1]):
    f = l.split()
    if f[0] == "op":
        ops.setdefault(f[1], []).append(tuple(map(float, f[2:5])))
    if f[0] == "calib":
        cal.setdefault(f[1], []).append(tuple(map(float, f[2:4])))
for h in ("diff", "nodiff"):
    o = ops[h]
    assert [r for r, _, _ in o] == sorted(r for r, _, _ in o), o
    assert all(a[1] >= b[1] for a, b in zip(o, o[1:])), o
    assert all(0 <= p <= 1 for _, _, p in o), o
    assert o[-1][0] == 1.0, o
    c = cal[h]
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(c, c[1:])), c
PY
def=$(awk '$1 == "head" && $2 == "diff" { print $6 }' "$T/m.model")
op90=$(awk '$1 == "op" && $2 == "diff" && $3 == "0.90" { print $4 }' "$T/m.model")
check "default threshold is the recall-0.90 operating point ($def = $op90)" python3 -c "assert abs($def - $op90) < 1e-6"

# held-out records in eval format (a few hundred of the subsample, from the cutoff on)
python3 - "$D" >"$T/held.jsonl" <<'PY'
import gzip, json, sys
for name in ("lore-patches.jsonl.gz", "lore-patches-more.jsonl.gz"):
    for i, l in enumerate(gzip.open(sys.argv[1] + "/" + name, "rt")):
        d = json.loads(l)
        if d["project"] == "kernel" and d["date"] >= "2025-01-02" and i % 3 == 0:
            print(json.dumps({"id": d["message_id"], "subject": d["subject"], "message": d["message"] or "",
                              "diff": d["diff"] or "", "files": d["files"], "label": d["label"]}))
PY
$PG eval --data "$T/held.jsonl" --model "$T/m.model" >"$T/eval.txt" || fail "eval"
check "eval names the operating point and its expected precision" grep -q "operating point: recall 0.90 with 95 % confidence on the calibration split, expected precision 0\.[0-9]" "$T/eval.txt"
check "eval prints the baseline beside the model" grep -q "baseline (bag of words)" "$T/eval.txt"
$PG eval --json --data "$T/held.jsonl" --model "$T/m.model" >"$T/eval.json" || fail "eval --json"
$PG eval --json --recall 0.5 --data "$T/held.jsonl" --model "$T/m.model" >"$T/eval50.json" || fail "eval --recall 0.5"
python3 - "$T/eval.json" "$T/eval50.json" <<'PY' && ok "eval --json: baseline, operating point, --recall" || fail "eval --json: baseline, operating point, --recall"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert 0 < a["baseline"]["pr_auc"] <= 1 and 0 < a["pr_auc"] <= 1, a
assert a["operating_point"]["recall"] == 0.9 and 0 < a["operating_point"]["expected_precision"] <= 1, a
assert a["threshold"] == a["operating_point"]["threshold"], a
# a lower recall target is a higher threshold: fewer flags, recall not higher
assert b["threshold"] > a["threshold"] and b["recall"] <= a["recall"], (a, b)
# calibration changes no ranking: the baseline and model PR-AUC do not depend on the operating point
assert a["pr_auc"] == b["pr_auc"] and a["baseline"] == b["baseline"], (a, b)
PY
rc=0
$PG eval --recall 0 --data "$T/held.jsonl" --model "$T/m.model" 2>"$T/err" >/dev/null || rc=$?
check "--recall 0 is a usage error naming the value (exit $rc)" bash -c "[ $rc = 2 ] && grep -q \"'0'\" '$T/err'"

# leave-one-list-out on three lists
mkdir -p "$T/d3"
cp "$D/kernel-cves.jsonl.gz" "$D/patchdb-linux.jsonl.gz" "$T/d3/"
zcat "$D/lore-patches.jsonl.gz" | grep -E '^\{"list":"(netfilter-devel|io-uring)"' | gzip -1 >"$T/d3/lore-patches.jsonl.gz"
zcat "$D/lore-patches-more.jsonl.gz" | grep '^{"list":"linux-usb"' | gzip -1 >"$T/d3/lore-patches-more.jsonl.gz"
$PG --quiet train --lolo --json --epochs 2 --data "$T/d3" >"$T/lolo.json" 2>"$T/lolo.err" || { cat "$T/lolo.err"; fail "train --lolo"; }
python3 - "$T/lolo.json" <<'PY' && ok "train --lolo: one row per list and the mean" || fail "train --lolo: one row per list and the mean"
import json, sys
rows = json.load(open(sys.argv[1]))
names = [r["list"] for r in rows]
assert names[-1] == "mean" and set(names[:-1]) <= {"netfilter-devel", "io-uring", "linux-usb"} and len(names) >= 3, names
for r in rows:
    for m in ("model", "baseline"):
        assert 0 <= r[m]["pr_auc"] <= 1, r
m = rows[-1]
assert abs(m["model"]["pr_auc"] - sum(r["model"]["pr_auc"] for r in rows[:-1]) / (len(rows) - 1)) < 1e-5, rows
PY
finish
