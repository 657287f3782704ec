#!/usr/bin/env python3
"""make-eval-set.py - write the classifier's held-out evaluation set as JSON Lines.

The records are the lore-patches mails of the kernel project dated on or after
the cutoff (default 2025-01-01, the cutoff `patchgap train` uses), plus older
mails with the same clean_subject (versions of a held-out fix are never split),
in the stable `patchgap eval` format: id, subject (raw, with its [PATCH ...]
tags), message, diff, files, label.  The trainer holds out exactly these
records, so

    tools/make-eval-set.py > /tmp/heldout.jsonl
    patchgap eval --data /tmp/heldout.jsonl

measures the committed model on data it never saw.  --no-trailers writes the
same records with their trailers removed (the trap test of doc/model.md),
--no-diff drops the diffs, and --commit-like drops the diffs and the subject's
[PATCH ...] tags (what an ingested commit looks like).

Usage: make-eval-set.py [--data DIR] [--cutoff YYYY-MM-DD] [--no-diff] [--no-trailers] [--commit-like] [-o FILE]
"""
import argparse
import datetime
import gzip
import json
import os
import re
import sys

TRAILER = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9_-]*-[A-Za-z0-9_-]+:\s|^\s*(Fixes|Cc|Link|Closes|BugLink):\s", re.I)


def key(subject):
    return " ".join(subject.lower().split())


def when(date):
    return datetime.datetime.fromisoformat(date.replace("Z", "+00:00"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("PATCHGAP_SHARED_DATA") or os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--cutoff", default="2025-01-01")
    ap.add_argument("--no-diff", action="store_true")
    ap.add_argument("--no-trailers", action="store_true")
    ap.add_argument("--commit-like", action="store_true", help="clean subject (no [PATCH] tags) and no diff")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    cutoff = datetime.datetime.fromisoformat(a.cutoff + "T00:00:00+00:00")
    path = os.path.join(a.data, "lore-patches.jsonl.gz")
    if not os.path.exists(path):
        sys.exit(f"make-eval-set: {path} not found (set --data or PATCHGAP_SHARED_DATA)")
    recs = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["project"] == "kernel" and d["clean_subject"] and d["date"]:
                recs.append(d)
    held = {key(d["clean_subject"]) for d in recs if when(d["date"]) >= cutoff}
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    n = pos = 0
    for d in recs:
        if key(d["clean_subject"]) not in held:
            continue
        msg = d["message"] or ""
        if a.no_trailers:
            msg = "\n".join(l for l in msg.split("\n") if not TRAILER.match(l))
        o = {"id": d["message_id"], "subject": d["clean_subject"] if a.commit_like else d["subject"], "message": msg, "files": d["files"] or [],
             "label": int(d["label"])}
        if not a.no_diff and not a.commit_like and d["diff"]:
            o["diff"] = d["diff"]
        out.write(json.dumps(o, sort_keys=True) + "\n")
        n += 1
        pos += o["label"]
    if out is not sys.stdout:
        out.close()
    print(f"make-eval-set: {n} records, {pos} positive ({100.0 * pos / max(n, 1):.1f} %)", file=sys.stderr)


if __name__ == "__main__":
    main()
