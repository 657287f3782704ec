#!/bin/bash
# bench-lists.sh - lists ingest speed in mails/s on a public-inbox v2 epoch
# of real lore patch mails (rebuilt from ../shared/data/lore-patches.jsonl.gz
# in four encodings), against reading the same epoch with git in the same run:
#   `git log --format=%H`      (walking the commits only)
#   `git cat-file --batch`     (walking and reading every mail blob)
#
#   bench/bench-lists.sh [MAILS] [WORKDIR]     MAILS default 10000
#
# Prints wall and CPU time of each, mails/s and the ratios; `lists ingest`
# runs twice: parse + store only (--no-classify), and with the classifier.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-10000}
W=${2:-/tmp/patchgap-bench-lists-$N}
PG=$ROOT/build/cli/patchgap
DATA=${PATCHGAP_SHARED_DATA:-$ROOT/../shared/data}
[ -r "$DATA/lore-patches.jsonl.gz" ] || { echo "needs $DATA/lore-patches.jsonl.gz"; exit 1; }
[ -x "$PG" ] || { meson setup build >/dev/null; ninja -C build >/dev/null; }
mkdir -p "$W"
cd "$W"
if [ ! -f inbox.done ]; then
	rm -rf inbox
	python3 $ROOT/tests/integration/lib/lore-mails.py "$DATA/lore-patches.jsonl.gz" 0 "$N" exp.jsonl > mails
	python3 $ROOT/tests/integration/lib/pi-write.py inbox/git/0.git < mails
	git --git-dir inbox/git/0.git gc -q
	touch inbox.done
fi
E=inbox/git/0.git
cat > bench.conf <<CONF
[core]
	repository = $E
	database = bench.db
[branch "master"]
	kind = mainline
[list "lore"]
	inbox = inbox
CONF
MB=$(git --git-dir $E count-objects -vH | sed -n 's/size-pack: //p')
timed() { local t0; t0=$(date +%s.%N); "$@"; LAST_WALL=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$(date +%s.%N)"); }
walk() { git --git-dir $E log --format=%H > /dev/null; }
catall() { git --git-dir $E log --format='%H:m' | git --git-dir $E cat-file --batch > /dev/null; }
ing() { $PG --conf bench.conf lists ingest --no-classify > /dev/null; }
ingc() { $PG --conf bench.conf lists ingest > /dev/null; }
echo "# $N lore mails in one v2 epoch ($MB packed); $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
declare -A W
for k in walk catall ing ingc; do
	best=999999
	for r in 1 2 3; do
		rm -f bench.db
		timed $k
		if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$LAST_WALL" "$best"; then
			best=$LAST_WALL
		fi
	done
	W[$k]=$best
done
for k in walk catall ing ingc; do
	case $k in
	walk) label="git log --format=%H";;
	catall) label="git log | git cat-file --batch";;
	ing) label="patchgap lists ingest --no-classify";;
	ingc) label="patchgap lists ingest (classify)";;
	esac
	python3 -c "import sys; n, w = int(sys.argv[1]), float(sys.argv[2]); print('%-38s %8.3f s %10.0f mails/s' % (sys.argv[3], w, n / w))" $N ${W[$k]} "$label"
done
python3 -c "
import sys; w = dict(zip(['walk', 'cat', 'ing', 'ingc'], map(float, sys.argv[1:])))
print('ratio ingest/git-log %.1fx, ingest/cat-file %.1fx, classify ingest/cat-file %.1fx' % (w['ing'] / w['walk'], w['ing'] / w['cat'], w['ingc'] / w['cat']))
" ${W[walk]} ${W[catall]} ${W[ing]} ${W[ingc]}
