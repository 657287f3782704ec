#!/usr/bin/env python3
"""truth-to-cna.py -- write a vulns.git-style folder of CNA records for the
security fixes of a generated history (tools/gen-history.py ground truth).

Each fix that the generator gave a CVE id becomes cve/published/YYYY/CVE-YYYY-N.sha1
(the mainline fix), like the kernel CNA's vulns.git; `patchgap cve import DIR`
reads it.  Used by the demo and by tests; the records are synthetic.

Usage: tools/truth-to-cna.py TRUTH.json OUTDIR
"""
import json, os, sys

def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    t = json.load(open(sys.argv[1]))
    n = 0
    for f in t['fixes']:
        cve = f.get('cve')
        if not cve:
            continue
        d = os.path.join(sys.argv[2], 'cve', 'published', cve.split('-')[1])
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, cve + '.sha1'), 'w') as out:
            out.write(f['fix'] + '\n')
        n += 1
    print("wrote %d CNA records to %s" % (n, sys.argv[2]))

if __name__ == '__main__':
    main()
