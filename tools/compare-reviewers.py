#!/usr/bin/env python3
"""compare-reviewers.py - the classifier beside the kernel CNA's reviewers (split D).

    tools/make-eval-set.py --split review -o /tmp/review.jsonl
    patchgap classify --input /tmp/review.jsonl --json > /tmp/review-scores.json
    tools/compare-reviewers.py /tmp/review.jsonl /tmp/review-scores.json

For each reviewer, on the records of the stable releases that reviewer walked
(`list_reviewers`), the reviewer "predicts" 1 for the commits they listed; the
label is whether a published CVE matched the commit.  Printed per reviewer:
records, positives, the reviewer's precision and recall, and the model's
precision at the reviewer's recall and recall at the reviewer's precision on
the same records (best operating point of the model's score), plus the
model's PR-AUC there.  `--json` prints the same as one JSON object.

Caveat (printed too): the label is not independent of the reviewers; the CNA
assigns largely by their votes (doc/model.md), and the records are only the
commits somebody listed or annotated, not the whole release.
"""
import argparse
import json
import sys


def ap_score(rows):
    """Average precision of (score, label) rows (ties broken by label, like patchgap eval)."""
    rows = sorted(rows, key=lambda r: (-r[0], -r[1]))
    pos = sum(y for _, y in rows)
    if not pos:
        return 0.0
    tp = 0
    s = 0.0
    for i, (_, y) in enumerate(rows, 1):
        if y:
            tp += 1
            s += tp / i
    return s / pos


def curve(rows):
    """(precision, recall) at every cut of the ranking."""
    rows = sorted(rows, key=lambda r: -r[0])
    pos = sum(y for _, y in rows)
    tp = fp = 0
    out = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j][0] == rows[i][0]:
            tp += rows[j][1]
            fp += 1 - rows[j][1]
            j += 1
        out.append((tp / (tp + fp), tp / pos if pos else 0.0))
        i = j
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="JSON Lines of make-eval-set.py --split review")
    ap.add_argument("scores", help="output of patchgap classify --input DATA --json")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    recs = [json.loads(l) for l in open(a.data, encoding="utf-8") if l.strip()]
    scores = {}
    for r in json.load(open(a.scores, encoding="utf-8")):
        scores[r["id"]] = r["p_security"]
    missing = [r["id"] for r in recs if r["id"] not in scores]
    if missing:
        sys.exit(f"compare-reviewers: {len(missing)} records have no score (first: {missing[0]})")
    who = sorted({w for r in recs for w in r["list_reviewers"]})
    res = {"records": len(recs), "positives": sum(r["label"] for r in recs),
           "model_pr_auc": round(ap_score([(scores[r["id"]], r["label"]) for r in recs]), 3), "reviewers": {}}
    for w in who:
        sub = [r for r in recs if w in r["list_reviewers"]]
        pos = sum(r["label"] for r in sub)
        listed = [r for r in sub if w in r["reviewers"]]
        tp = sum(r["label"] for r in listed)
        p = tp / len(listed) if listed else 0.0
        rc = tp / pos if pos else 0.0
        cv = curve([(scores[r["id"]], r["label"]) for r in sub])
        mp = max([pp for pp, rr in cv if rr >= rc] or [0.0])
        mr = max([rr for pp, rr in cv if pp >= p] or [0.0])
        res["reviewers"][w] = {"records": len(sub), "positives": pos, "base_rate": round(pos / len(sub), 3),
                               "precision": round(p, 3), "recall": round(rc, 3),
                               "model_precision_at_recall": round(mp, 3), "model_recall_at_precision": round(mr, 3),
                               "model_pr_auc": round(ap_score([(scores[r["id"]], r["label"]) for r in sub]), 3)}
    # agreement between two reviewers on the releases both walked: positive agreement
    # 2|A and B| / (|A| + |B|) (the commits neither listed are not in the data, so no kappa)
    res["positive_agreement"] = {}
    for i, w1 in enumerate(who):
        for w2 in who[i + 1:]:
            sub = [r for r in recs if w1 in r["list_reviewers"] and w2 in r["list_reviewers"]]
            n1 = sum(w1 in r["reviewers"] for r in sub)
            n2 = sum(w2 in r["reviewers"] for r in sub)
            both = sum(w1 in r["reviewers"] and w2 in r["reviewers"] for r in sub)
            if n1 + n2:
                res["positive_agreement"][f"{w1}/{w2}"] = round(2 * both / (n1 + n2), 3)
    if a.json:
        print(json.dumps(res, indent=2, sort_keys=True))
        return
    print(f"{res['records']} records, {res['positives']} positive "
          f"({100.0 * res['positives'] / max(res['records'], 1):.1f} %), model PR-AUC {res['model_pr_auc']:.3f}")
    print(f"{'reviewer':10} {'records':>7} {'pos %':>6} {'P':>6} {'R':>6} {'model P@R':>10} {'model R@P':>10} {'model AP':>9}")
    for w, v in res["reviewers"].items():
        print(f"{w:10} {v['records']:7d} {100 * v['base_rate']:6.1f} {v['precision']:6.3f} {v['recall']:6.3f} "
              f"{v['model_precision_at_recall']:10.3f} {v['model_recall_at_precision']:10.3f} {v['model_pr_auc']:9.3f}")
    pa = res["positive_agreement"]
    if pa:
        print("positive agreement between reviewers (2 |both listed| / (|listed by one| + |by the other|)): "
              + ", ".join(f"{k} {v:.2f}" for k, v in pa.items()))
    print("(label = a published CVE; the CNA assigns largely by these reviewers' votes, and the records are only the"
          " commits somebody listed or annotated)")


if __name__ == "__main__":
    main()
