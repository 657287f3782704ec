#!/usr/bin/env python3
"""make-eval-set.py - write the classifier's held-out evaluation set as JSON Lines.

The records are the lore mails (lore-patches and lore-patches-more, every list)
of the kernel project dated on or after
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

Each lore record carries "history_cves": the most kernel-cves records first
added before the mail's date that touched one of its files (a CVE with the
mail's own subject not counted), as `patchgap train` computes it and
`patchgap classify` reads it from the imported CNA records.

Each lore record also carries "history_functions": the most kernel-cves
records first added before the mail's date whose message names one of the
functions the mail names (its diff's hunk headings and "name(" mentions in its
message; names of more than 1 % of the records, and more than 10, dropped), own subject not
counted, as src/classify/functions.c and `patchgap train` do.

Each lore record with a Fixes: trailer also carries "fixes_target_recent" and
"fixes_target_stable_lines", where its targets stood at the mail's date, as
`patchgap train` computes them from the mails (the repository's releases are
not in the data) and `patchgap classify` reads them from the ingested history:
recent = 1 when every target was first posted on the lore lists less than 90
days before (a target never posted there counts as released) and no backport
of it was in a stable line yet; stable lines = the most distinct stable lines
with a backport of one target (lore mails marked as stable backports, Debian
6.1 changelog entries) dated before the mail.

--until YYYY-MM-DD keeps only the held-out mails dated before that day (the
label-reliable months: the CNA had time to assign; doc/model.md uses
2026-02-21, six months before the CVE snapshot of 2026-08-21).

--split subjects writes a different, subject-only set from the stable feed:
positives are kernel-cves records first added on or after the cutoff,
negatives are debian-6.1-subjects lines (uploads on or after the cutoff) and
kernel-review-candidates stable_review records (v6.13 and later) that never
got a CVE; positives are sampled (by a hash of the CVE id, deterministic)
down to --base-rate.  Only subjects: the negatives have no message, so giving
the positives theirs would make "has a message" the label.  Subjects that a
CVE first added before the cutoff carries (trained on) are left out.

--split review writes split D: every kernel-review-candidates stable_review
record of v6.13 and later (the CNA's reviewers walking each stable release;
never trained on), label 1 when a published CVE matched it.  Subjects only
(the records have no message or paths).  Each record also carries
"reviewers" (who listed it) and "list_reviewers" (who reviewed that release),
which `patchgap eval` ignores and tools/compare-reviewers.py reads to put the
model beside each reviewer on the same records.  Subjects trained on (CVEs
first added before the cutoff, lore mails of the training years) are left out.
The records are the reviewers' candidates, not the whole stable feed: a commit
nobody listed is not in the data, so the base rate is far above the feed's.

Usage: make-eval-set.py [--data DIR] [--cutoff YYYY-MM-DD] [--until YYYY-MM-DD] [--split lore|subjects|review]
                        [--base-rate F] [--no-diff] [--no-trailers] [--commit-like] [-o FILE]
"""
import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import sys

TRAILER = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9_-]*-[A-Za-z0-9_-]+:\s|^\s*(Fixes|Cc|Link|Closes|BugLink):\s", re.I)


def key(subject):
    return " ".join(subject.lower().split())


def when(date):
    return datetime.datetime.fromisoformat(date.replace("Z", "+00:00"))


def file_history(a):
    """path -> sorted [(first_added, subject key)] of the published kernel-cves records."""
    hist = {}
    for d in read(a, "kernel-cves.jsonl.gz"):
        if d["state"] != "published" or not d["subject"] or not d["first_added"]:
            continue
        t = when(d["first_added"])
        for f in d["program_files"] or []:
            hist.setdefault(f, []).append((t, key(d["subject"])))
    for v in hist.values():
        v.sort(key=lambda x: x[0])
    return hist


def history_cves(hist, files, date, own):
    best = 0
    for f in files:
        n = 0
        for t, k in hist.get(f, ()):
            if t >= date:
                break
            n += k != own
        best = max(best, n)
    return best


HUNK = re.compile(r'^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@(.*)$', re.M)
MENTION = re.compile(r'([A-Za-z0-9_]+)\(', re.A)
TAIL_IDENT = re.compile(r'([A-Za-z0-9_]*)[ \t]*$', re.A)
FUNC_STOP = {
    "IS_ERR", "PTR_ERR", "READ_ONCE", "WARN_ON", "WARN_ON_ONCE", "WRITE_ONCE", "atomic_dec", "atomic_inc",
    "atomic_read", "copy_from_user", "copy_to_user", "dev_err", "dev_info", "dev_warn", "free", "kcalloc",
    "kfree", "kmalloc", "kmemdup", "kstrdup", "kvfree", "kvmalloc", "kzalloc", "list_add", "list_del",
    "malloc", "memcmp", "memcpy", "memmove", "memset", "mutex_lock", "mutex_unlock", "pr_debug", "pr_err",
    "pr_info", "pr_warn", "printk", "rcu_read_lock", "rcu_read_unlock", "sizeof", "snprintf", "spin_lock",
    "spin_lock_bh", "spin_lock_irq", "spin_lock_irqsave", "spin_unlock", "spin_unlock_bh", "spin_unlock_irq",
    "spin_unlock_irqrestore", "sprintf", "strcmp", "strlen", "strncmp", "strscpy", "vfree", "vmalloc",
    "while",
}
FUNCS_MAX = 64


def functions(message, diff):
    """The distinct function names of src/classify/functions.c: hunk headings first, then name( mentions."""
    names = []

    def add(n):
        if len(names) < FUNCS_MAX and 4 <= len(n) <= 128 and not n[0].isdigit() and n not in FUNC_STOP and n not in names:
            names.append(n)
    for m in HUNK.finditer(diff or ""):
        h = m.group(1)
        if "(" in h:
            add(TAIL_IDENT.search(h[:h.index("(")]).group(1))
    for m in MENTION.finditer(message or ""):
        add(m.group(1))
    return names


def function_history(a):
    """function -> sorted [(first_added, subject key)]; names of more than 1 % of the records dropped."""
    hist, records = {}, 0
    for d in read(a, "kernel-cves.jsonl.gz"):
        if d["state"] != "published" or not d["subject"] or not d["first_added"]:
            continue
        records += 1
        t = when(d["first_added"])
        for f in functions(d.get("message"), None):
            hist.setdefault(f, []).append((t, key(d["subject"])))
    hist = {f: v for f, v in hist.items() if len(v) <= max(records // 100, 10)}
    for v in hist.values():
        v.sort(key=lambda x: x[0])
    return hist


FIXES = re.compile(r'^\s*fixes:\s*[0-9a-f]{8,40}\b(.*)$', re.I | re.M)
RECENT_DAYS = 90


def stable_line(v):
    m = re.match(r"v?(\d+)\.(\d+)", str(v or ""))
    return (int(m.group(1)), int(m.group(2))) if m and 1 < int(m.group(1)) < 100 else None


def fixes_index(a):
    """subject key -> first posting on the lore lists; subject key -> [(date, stable line)] of its backports."""
    first, stable = {}, {}
    for name in ("lore-patches.jsonl.gz", "lore-patches-more.jsonl.gz"):
        if not os.path.exists(os.path.join(a.data, name)):
            continue
        for d in read(a, name):
            if not d["clean_subject"] or not d["date"]:
                continue
            k, t = key(d["clean_subject"]), when(d["date"])
            ft = when(d["first_date"]) if d.get("first_date") else t
            if k not in first or min(t, ft) < first[k]:
                first[k] = min(t, ft)
            line = stable_line(d.get("stable_version")) if d.get("stable_backport") else None
            if line:
                stable.setdefault(k, []).append((t, line))
    if os.path.exists(os.path.join(a.data, "debian-6.1-subjects.jsonl.gz")):
        for d in read(a, "debian-6.1-subjects.jsonl.gz"):
            if d["subject"] and d["debian_date"]:
                stable.setdefault(key(d["subject"]), []).append((when(d["debian_date"]), (6, 1)))
    return first, stable


def fixes_targets(idx, msg, date):
    first, stable = idx
    targets = released = lines = 0
    for m in FIXES.finditer(msg):
        targets += 1
        q = re.match(r'\s*\(\s*"(.*)"\s*\)', m.group(1))
        if not q or not q.group(1).strip():
            released = 1
            continue
        k = key(q.group(1))
        f = first.get(k)
        if f is None or f >= date or (date - f).days >= RECENT_DAYS:
            released = 1
        lines = max(lines, len({ln for t, ln in stable.get(k, ()) if t < date}))
    if not targets:
        return None
    return int(not released and lines == 0), lines


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("PATCHGAP_SHARED_DATA") or os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--cutoff", default="2025-01-01")
    ap.add_argument("--no-diff", action="store_true")
    ap.add_argument("--no-trailers", action="store_true")
    ap.add_argument("--commit-like", action="store_true", help="clean subject (no [PATCH] tags) and no diff")
    ap.add_argument("--list", default=None, help="only the mails of this mailing list (e.g. linux-usb)")
    ap.add_argument("--until", default=None, help="held-out lore mails dated before this day only")
    ap.add_argument("--split", choices=["lore", "subjects", "review"], default="lore")
    ap.add_argument("--base-rate", type=float, default=0.075, help="positive share of --split subjects")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    cutoff = datetime.datetime.fromisoformat(a.cutoff + "T00:00:00+00:00")
    if a.split == "subjects":
        return subjects(a, cutoff)
    if a.split == "review":
        return review(a, cutoff)
    until = datetime.datetime.fromisoformat(a.until + "T00:00:00+00:00") if a.until else None
    path = os.path.join(a.data, "lore-patches.jsonl.gz")
    if not os.path.exists(path):
        sys.exit(f"make-eval-set: {path} not found (set --data or PATCHGAP_SHARED_DATA)")
    recs = []
    for name in ("lore-patches.jsonl.gz", "lore-patches-more.jsonl.gz"):
        path = os.path.join(a.data, name)
        if not os.path.exists(path):
            continue
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                if d["project"] == "kernel" and d["clean_subject"] and d["date"] and (not a.list or d["list"] == a.list):
                    recs.append(d)
    held = {key(d["clean_subject"]) for d in recs if when(d["date"]) >= cutoff and (not until or when(d["date"]) < until)}
    hist = file_history(a)
    fhist = function_history(a)
    fidx = fixes_index(a)
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    n = pos = 0
    for d in recs:
        if key(d["clean_subject"]) not in held or (until and when(d["date"]) >= until):
            continue
        msg = d["message"] or ""
        if a.no_trailers:
            msg = "\n".join(l for l in msg.split("\n") if not TRAILER.match(l))
        o = {"id": d["message_id"], "subject": d["clean_subject"] if a.commit_like else d["subject"], "message": msg, "files": d["files"] or [],
             "label": int(d["label"]),
             "history_cves": history_cves(hist, d["files"] or [], when(d["date"]), key(d["clean_subject"])),
             "history_functions": history_cves(fhist, functions(d["message"], d["diff"]), when(d["date"]),
                                               key(d["clean_subject"]))}
        ft = fixes_targets(fidx, msg, when(d["date"]))
        if ft:
            o["fixes_target_recent"], o["fixes_target_stable_lines"] = ft
        if not a.no_diff and not a.commit_like and d["diff"]:
            o["diff"] = d["diff"]
        out.write(json.dumps(o, sort_keys=True) + "\n")
        n += 1
        pos += o["label"]
    if out is not sys.stdout:
        out.close()
    print(f"make-eval-set: {n} records, {pos} positive ({100.0 * pos / max(n, 1):.1f} %)", file=sys.stderr)


def read(a, name):
    path = os.path.join(a.data, name)
    if not os.path.exists(path):
        sys.exit(f"make-eval-set: {path} not found (set --data or PATCHGAP_SHARED_DATA)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def subjects(a, cutoff):
    trained, pos, neg = set(), {}, {}
    for d in read(a, "kernel-cves.jsonl.gz"):
        if d["state"] != "published" or not d["subject"]:
            continue
        if when(d["first_added"]) < cutoff:
            trained.add(key(d["subject"]))
        else:
            pos.setdefault(key(d["subject"]), (d["id"], d["subject"]))
    cve_subjects = set(pos) | trained
    lim = (6, 13)
    # subjects `patchgap train` reads (Debian uploads before the cutoff, review lists before
    # v6.13): a stable fix is listed in several branches' releases, keep those out
    seen = set()
    deb = list(read(a, "debian-6.1-subjects.jsonl.gz"))
    rev = list(read(a, "kernel-review-candidates.jsonl.gz"))
    for d in deb:
        if d["subject"] and d["debian_date"] < a.cutoff:
            seen.add(key(d["subject"]))
    for d in rev:
        m = re.match(r"v(\d+)\.(\d+)", d["list"] or "")
        if d["source"] == "stable_review" and d["subject"] and m and (int(m.group(1)), int(m.group(2))) < lim:
            seen.add(key(d["subject"]))
    cve_subjects |= seen
    for d in deb:
        k = key(d["subject"] or "")
        if d["subject"] and d["debian_date"] >= a.cutoff and not d["label"] and not d["vulns_cve_ids"] and k not in cve_subjects:
            neg.setdefault(k, ("debian:%s:%s" % (d["debian_version"], d["seq"]), d["subject"]))
    for d in rev:
        m = re.match(r"v(\d+)\.(\d+)", d["list"] or "")
        k = key(d["subject"] or "")
        if (d["source"] == "stable_review" and d["subject"] and m and (int(m.group(1)), int(m.group(2))) >= lim
                and not d["matched_cves"] and k not in cve_subjects):
            neg.setdefault(k, ("review:%s:%s" % (d["list"], d["sha"]), d["subject"]))
    for k in trained:
        pos.pop(k, None)
    want = int(round(len(neg) * a.base_rate / (1 - a.base_rate)))
    ranked = sorted(pos.values(), key=lambda v: hashlib.sha256(v[0].encode()).hexdigest())[:want]
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    rows = [(i, s_, 1) for i, s_ in ranked] + [(i, s_, 0) for i, s_ in sorted(neg.values())]
    for i, s_, y in rows:
        out.write(json.dumps({"id": i, "subject": s_, "message": "", "files": [], "label": y}, sort_keys=True) + "\n")
    if out is not sys.stdout:
        out.close()
    print(f"make-eval-set: {len(rows)} records, {len(ranked)} positive ({100.0 * len(ranked) / max(len(rows), 1):.1f} %)"
          f" of {len(pos)} held-out CVE subjects", file=sys.stderr)


def review(a, cutoff):
    lim = (6, 13)
    trained = set()
    for d in read(a, "kernel-cves.jsonl.gz"):
        if d["state"] == "published" and d["subject"] and when(d["first_added"]) < cutoff:
            trained.add(key(d["subject"]))
    # the trainer's default --lore-from for the default cutoff (src/classify/train.c)
    lore_from = datetime.datetime.fromisoformat("2024-04-01T00:00:00+00:00")
    for d in read(a, "lore-patches.jsonl.gz"):
        if d["project"] == "kernel" and d["clean_subject"] and d["date"] and lore_from <= when(d["date"]) < cutoff:
            trained.add(key(d["clean_subject"]))
    recs, covered = [], {}
    for d in read(a, "kernel-review-candidates.jsonl.gz"):
        m = re.match(r"v(\d+)\.(\d+)", d["list"] or "")
        if d["source"] != "stable_review" or not d["subject"] or not m or (int(m.group(1)), int(m.group(2))) < lim:
            continue
        # a release's reviewers: the ones whose list file any record of it came from
        for f in d["files"]:
            who = f.rsplit("/", 1)[-1][len(d["list"]) + 1:]
            if not who.startswith("annotated-"):
                covered.setdefault(d["list"], set()).add(who)
        recs.append(d)
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    n = pos = left = 0
    for d in recs:
        if key(d["subject"]) in trained:
            left += 1
            continue
        y = int(any(c["state"] == "published" for c in d["matched_cves"]))
        o = {"id": "review:%s:%s" % (d["list"], d["sha"]), "subject": d["subject"], "message": "", "files": [], "label": y,
             "reviewers": sorted(d["reviewers"]), "list_reviewers": sorted(covered.get(d["list"], ()))}
        out.write(json.dumps(o, sort_keys=True) + "\n")
        n += 1
        pos += y
    if out is not sys.stdout:
        out.close()
    print(f"make-eval-set: {n} records, {pos} positive ({100.0 * pos / max(n, 1):.1f} %); {left} left out (subject trained on)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
