#!/bin/bash
# Ingest of a generated kernel-shaped history checked against the generator's
# ground truth: first releases (mainline and stable), backport relations,
# Fixes: resolution, reverts, and the vulnerable/fixed pairs of every fix.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
$PG ingest >/dev/null
python3 "$SRC/tools/check-truth.py" --db patchgap.db --truth "$TRUTH" --patchgap "$PG" --conf patchgap.conf
