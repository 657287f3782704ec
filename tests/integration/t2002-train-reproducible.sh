#!/bin/bash
# t2002-train-reproducible.sh - `patchgap train` rebuilds the committed model
# byte for byte from ../shared/data (fixed seed, deterministic training), and
# the rebuilt model scores the held-out set exactly as the committed one.
# Skipped without the shared data, and in the sanitizer run (too slow there;
# the training code is covered by the normal run).
# run.sh: sqlite only (the classifier trainer, which never opens a database)
set -u
BIN=${PATCHGAP_BIN:?PATCHGAP_BIN not set}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${PATCHGAP_SHARED_DATA:-$ROOT/../shared/data}
[ -f "$DATA/lore-patches.jsonl.gz" ] || { echo "SKIP: ../shared/data not present"; exit 0; }
[ "${PATCHGAP_SANITIZED:-0}" = 1 ] && { echo "SKIP: training is too slow under ASan (covered by the normal run)"; exit 0; }
T=$(mktemp -d /tmp/pg-t2002-XXXXXX)
trap 'rm -rf "$T"' EXIT
"$BIN" --quiet train --data "$DATA" --out "$T/m.model" >/dev/null || { echo "FAIL: train"; exit 1; }
cmp "$T/m.model" "$ROOT/data/model/classify.model" || {
	echo "FAIL: the trained model differs from data/model/classify.model (retrain and commit, or training is not deterministic)"
	exit 1
}
head -1 "$T/m.model" | grep -q '^patchgap-classify-model 2$' || { echo "FAIL: model header"; exit 1; }
size=$(wc -c <"$T/m.model")
[ "$size" -lt 1500000 ] || { echo "FAIL: model is $size bytes (limit 1.5 MB)"; exit 1; }
echo "t2002: ok ($size bytes)"
