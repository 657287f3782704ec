#!/usr/bin/env python3
"""reliability.py - calibration table of the classifier on labelled JSON Lines.

    patchgap classify --input held.jsonl --json > scored.json
    tools/reliability.py held.jsonl scored.json

Joins the scores to the labels by "id" and prints, per bin of P(security)
(0-0.05, 0.05-0.1, 0.1-0.2, ... 0.9-1), the records, the mean predicted
probability and the share that are positive: a calibrated model has the two
close.  Also prints the Brier score.  doc/model.md has the table of the
committed model on the held-out lore mails.
"""
import json
import sys

EDGES = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: reliability.py LABELLED.jsonl SCORED.json")
    labels = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        d = json.loads(line)
        labels[d["id"]] = int(d["label"])
    scored = json.load(open(sys.argv[2], encoding="utf-8"))
    bins = [[0, 0.0, 0] for _ in EDGES[:-1]]
    brier = 0.0
    n = 0
    for r in scored:
        if r["id"] not in labels:
            continue
        p, y = r["p_security"], labels[r["id"]]
        k = next(i for i in range(len(EDGES) - 1) if p < EDGES[i + 1])
        bins[k][0] += 1
        bins[k][1] += p
        bins[k][2] += y
        brier += (p - y) ** 2
        n += 1
    print("| P(security) | records | mean predicted | observed positive share |")
    print("| --- | --- | --- | --- |")
    for i, (c, sp, sy) in enumerate(bins):
        if c:
            print(f"| {EDGES[i]:.2f}–{min(EDGES[i + 1], 1):.2f} | {c} | {sp / c:.3f} | {sy / c:.3f} |")
    print(f"\nBrier score {brier / max(n, 1):.4f} over {n} records")


if __name__ == "__main__":
    main()
