#!/usr/bin/env python3
"""cna-layout.py - turn kernel-cves.jsonl.gz records into the kernel CNA's file layouts.

Writes what `patchgap cve import` reads, from the shared data set (see
../shared/data/README.md, `kernel-cves.jsonl.gz`):

  --layout vulns    a vulns.git checkout: cve/{published,rejected}/YYYY/CVE-*.json with the
                    .sha1, .vulnerable, .dyad (with dyad's header comments) and .mbox files
                    beside it, plus the empty bare CVE-* marker file;
  --layout cvelist  a cvelistV5 checkout: cves/YYYY/Nxxx/CVE-*.json only, with the CVE
                    Services metadata (datePublished/dateUpdated/dateRejected).

The CVE JSON 5 records are built the way the CNA's bippy tool builds them: `containers.cna`
with title, descriptions, affected (one `git` range per dyad line, `lessThan` the fix when the
branch is fixed, then the verbatim semver entries of `affected_semver` grouped by their
default status), references (stable commit URLs of the fixes, then `references_extra`),
metrics when a CVSS score exists.  Rejected ids get a REJECTED record (rejectedReasons).

Selection: --offset N (skip N records), --limit N (keep N), --stride K (keep every K-th),
--ids A,B (these too; only these when no other option is given).  Records are kept in file order.  Python standard library only.
"""
import argparse
import gzip
import json
import os
import sys

ORG = "f4215fc3-5b6b-47ff-a258-f7189bd81038"
STABLE_REPO = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
FIRST_COMMIT = "1da177e4c3f41524e886b7f1b8a0c1fc7321cac2"  # bippy's "vulnerable since the start"
TRUNCATED = "\n---truncated---"
PREAMBLE = "In the Linux kernel, the following vulnerability has been resolved:\n\n"


def utc(ts):
    """ISO 8601 with offset -> CVE Services' UTC form (2024-02-26T17:21:24.000Z)."""
    from datetime import datetime, timezone
    if not ts:
        return None
    d = datetime.fromisoformat(ts).astimezone(timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def metrics(cvss):
    vec = cvss["vector"]
    ver = vec.split("/")[0].split(":")[1] if vec.startswith("CVSS:") else "3.1"
    key = {"3.1": "cvssV3_1", "3.0": "cvssV3_0", "4.0": "cvssV4_0"}.get(ver, "cvssV3_1")
    m = {"version": ver, "vectorString": vec, "baseScore": cvss["base_score"],
         "baseSeverity": cvss["severity"]}
    return [{key: m}]


def published_record(r, cvelist):
    cna = {"providerMetadata": {"orgId": ORG}}
    desc = r["message"] or ""
    text = PREAMBLE + (r["subject"] or "") + ("\n\n" + desc if desc else "")
    if len(text) > 4096:  # the schema's limit; bippy cuts long messages the same way
        text = text[:4096 - len(TRUNCATED)] + TRUNCATED
    cna["descriptions"] = [{"lang": "en", "value": text}]
    git = []
    for d in r["dyad"] or []:
        v = {"version": d["vuln_sha"] if d["vuln_sha"] != "0" else FIRST_COMMIT}
        if d["fix_sha"] != "0":
            v["lessThan"] = d["fix_sha"]
        v.update({"status": "affected", "versionType": "git"})
        git.append(v)
    blocks = {}
    order = []
    for s in r["affected_semver"] or []:
        ds = s.get("default_status") or "affected"
        e = {k: v for k, v in s.items() if k != "default_status"}
        if ds not in blocks:
            blocks[ds] = []
            order.append(ds)
        blocks[ds].append(e)
    affected = []
    first = git + blocks.pop("unaffected", [])
    if first:
        affected.append(("unaffected", first))
    for ds in order:
        if ds in blocks:
            affected.append((ds, blocks[ds]))
    if not affected:
        affected.append(("unknown", [{"version": "0", "status": "unknown"}]))
    cna["affected"] = []
    for ds, versions in affected:
        a = {"product": "Linux", "vendor": "Linux", "defaultStatus": ds, "repo": STABLE_REPO}
        if r["program_files"]:
            a["programFiles"] = r["program_files"]
        a["versions"] = versions
        cna["affected"].append(a)
    if r["cvss"]:
        cna["metrics"] = metrics(r["cvss"])
    refs = []
    for d in r["dyad"] or []:
        if d["fix_sha"] != "0":
            u = "https://git.kernel.org/stable/c/" + d["fix_sha"]
            if u not in refs:
                refs.append(u)
    if not refs:
        refs = ["https://git.kernel.org/stable/c/" + s for s in r["fix_sha"]]
    for u in r["references_extra"] or []:
        if u not in refs:
            refs.append(u)
    cna["references"] = [{"url": u} for u in refs] or [{"url": STABLE_REPO}]
    if r["subject"]:
        cna["title"] = r["subject"][:256]
    cna["x_generator"] = {"engine": "bippy-1.2.0"}
    meta = {"assignerOrgId": ORG, "cveId": r["id"], "state": "PUBLISHED"}
    if cvelist:
        meta.update({"assignerShortName": "Linux", "dateReserved": utc(r["first_added"]),
                     "datePublished": utc(r["first_added"]), "dateUpdated": utc(r["first_added"])})
    return {"containers": {"cna": cna}, "cveMetadata": meta,
            "dataType": "CVE_RECORD", "dataVersion": "5.1.1"}


def rejected_record(r, cvelist):
    rej = r.get("rejection") or {}
    reason = rej.get("reason") or "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
    cna = {"providerMetadata": {"orgId": ORG}, "rejectedReasons": [{"lang": "en", "value": reason}]}
    meta = {"assignerOrgId": ORG, "cveId": r["id"], "state": "REJECTED"}
    if cvelist:
        meta.update({"assignerShortName": "Linux", "dateReserved": utc(r["first_added"]),
                     "datePublished": utc(r["first_added"]),
                     "dateUpdated": utc(rej.get("date") or r["first_added"]),
                     "dateRejected": utc(rej.get("date") or r["first_added"])})
    return {"containers": {"cna": cna}, "cveMetadata": meta,
            "dataType": "CVE_RECORD", "dataVersion": "5.1.1"}


def record_json(r, cvelist):
    rec = rejected_record(r, cvelist) if r["state"] == "rejected" else published_record(r, cvelist)
    return json.dumps(rec, indent=3, ensure_ascii=False) + "\n"


def dyad_text(r):
    meta = r["dyad_meta"] or {}
    out = []
    if meta.get("tool_version"):
        out.append("# dyad version: %s" % meta["tool_version"])
    for q in meta.get("queried_shas") or r["fix_sha"]:
        out.append("# \tgetting vulnerable:fixed pairs for git id %s" % q)
    for o in meta.get("vuln_overrides") or []:
        out.append("# \tSetting original vulnerable kernel to be kernel %s and git id %s"
                   % (o["version"], o["sha"]))
    for d in r["dyad"] or []:
        out.append("%s:%s:%s:%s" % (d["vuln_version"], d["vuln_sha"], d["fix_version"], d["fix_sha"]))
    return "\n".join(out) + "\n"


def mbox_text(r):
    return ("From bippy-1.2.0 Mon Sep 17 00:00:00 2001\n"
            "From: Greg Kroah-Hartman <gregkh@linuxfoundation.org>\n"
            "To: <linux-cve-announce@vger.kernel.org>\n"
            "Reply-to: <cve@kernel.org>, <linux-kernel@vger.kernel.org>\n"
            "Subject: %s: %s\n\nDescription\n===========\n\n%s%s\n\n%s\n"
            % (r["id"], r["subject"] or "", PREAMBLE, r["subject"] or "", r["message"] or ""))


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def emit_vulns(r, out):
    d = os.path.join(out, "cve", r["state"], str(r["year"]))
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, r["id"])
    write(base, (r["notes"] or "") if "(bare)" in r["files"] else "")
    write(base + ".json", record_json(r, False))
    write(base + ".sha1", "".join(s + "\n" for s in r["fix_sha"]))
    if r["dyad"] is not None:
        write(base + ".dyad", dyad_text(r))
    if r["vulnerable_override"]:
        write(base + ".vulnerable", "".join(s + "\n" for s in r["vulnerable_override"]))
    write(base + ".mbox", mbox_text(r))


def emit_cvelist(r, out):
    num = int(r["id"].split("-")[2])
    d = os.path.join(out, "cves", str(r["year"]), "%dxxx" % (num // 1000))
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, r["id"] + ".json"), record_json(r, True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="kernel-cves.jsonl.gz")
    ap.add_argument("outdir")
    ap.add_argument("--layout", choices=["vulns", "cvelist"], default="vulns")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--ids", default="")
    a = ap.parse_args()
    a.sliced = a.offset or a.limit or a.stride != 1
    ids = set(x for x in a.ids.split(",") if x)
    emit = emit_vulns if a.layout == "vulns" else emit_cvelist
    n = kept = 0  # kept: records chosen by offset/limit/stride
    with gzip.open(a.input, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            n += 1
            if r["id"] in ids:
                emit(r, a.outdir)
                continue
            if ids and not a.sliced:
                continue
            if n <= a.offset or (n - a.offset - 1) % a.stride or (a.limit and kept >= a.limit):
                continue
            emit(r, a.outdir)
            kept += 1
    print("wrote %d records to %s (%s layout)" % (kept + len(ids), a.outdir, a.layout), file=sys.stderr)


if __name__ == "__main__":
    main()
