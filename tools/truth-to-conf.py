#!/usr/bin/env python3
"""truth-to-conf.py TRUTH REPO [--database FILE] [--comment TEXT]

Print the patchgap config (git-config syntax) that tracks every branch of a
generated history: mainline first, then stable and vendor branches (vendor
with its base).  TRUTH is the ground-truth file of tools/gen-history.py,
REPO the repository path written into core.repository as given.  The one
place the tests, the benchmarks and the demo derive their config from."""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    ap.add_argument("truth")
    ap.add_argument("repo")
    ap.add_argument("--database", default="patchgap.db")
    ap.add_argument("--comment", default=None)
    a = ap.parse_args()
    try:
        with open(a.truth) as f:
            t = json.load(f)
        branches = t["branches"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit("truth-to-conf.py: %s: not a ground-truth file (%s)" % (a.truth, e))
    if a.comment:
        print("# " + a.comment)
    print("[core]\n\trepository = %s\n\tdatabase = %s" % (a.repo, a.database))
    for name, b in sorted(branches.items(), key=lambda kv: (kv[1]["kind"] != "mainline", kv[0])):
        print('[branch "%s"]\n\tkind = %s' % (name, b["kind"]))
        if b["kind"] == "vendor":
            print("\tbase = %s" % b["parent"])


if __name__ == "__main__":
    main()
