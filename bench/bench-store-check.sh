#!/bin/bash
# bench-store-check.sh - what the integrity check before writing costs: an
# ingest with nothing new on an ingested database, with the check (default)
# and without it (PATCHGAP_STORE_CHECK=0, the baseline, measured in the same
# run), plus PRAGMA quick_check alone through sqlite3, and the common case:
# the file is unchanged since the last clean close, so the check is skipped.
#
#   bench/bench-store-check.sh DB CONF [RUNS]
#
# DB must have been written by `patchgap ingest` with CONF (e.g. the
# database bench-ingest.sh leaves in its work directory); it is read, and
# the ingest with nothing new writes only branch heads and tags.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh bc time sqlite3
DB=${1:?usage: bench-store-check.sh DB CONF [RUNS]}
CONF=${2:?usage: bench-store-check.sh DB CONF [RUNS]}
RUNS=${3:-3}
PG=$ROOT/build/cli/patchgap
secs() { /usr/bin/time -f "%e %U %S" -o /tmp/bench-store-check.$$ "$@" >/dev/null 2>&1; cat /tmp/bench-store-check.$$; }
best() { sort -n | head -1; }
echo "database: $DB ($(du -h "$DB" | cut -f1))"
"$PG" --conf "$CONF" --db "$DB" --quiet ingest >/dev/null # nothing new from here on
qc=$(for _ in $(seq "$RUNS"); do secs sqlite3 "$DB" "PRAGMA quick_check(1)" | cut -d' ' -f1; done | best)
# the check runs when the file changed since the last clean close: removing
# the stamp (DB-checked) forces it; with the stamp in place it is skipped
with=$(for _ in $(seq "$RUNS"); do rm -f "$DB-checked"; secs "$PG" --conf "$CONF" --db "$DB" --quiet ingest | cut -d' ' -f1; done | best)
stamped=$(for _ in $(seq "$RUNS"); do secs "$PG" --conf "$CONF" --db "$DB" --quiet ingest | cut -d' ' -f1; done | best)
without=$(for _ in $(seq "$RUNS"); do PATCHGAP_STORE_CHECK=0 secs "$PG" --conf "$CONF" --db "$DB" --quiet ingest | cut -d' ' -f1; done | best)
rm -f /tmp/bench-store-check.$$
printf 'PRAGMA quick_check alone:        %6.2f s\n' "$qc"
printf 'ingest, nothing new, no check:   %6.2f s (baseline)\n' "$without"
printf 'ingest, nothing new, with check: %6.2f s (%.1fx)\n' "$with" "$(echo "$with / $without" | bc -l)"
printf 'ingest, nothing new, unchanged since the last clean close (stamp): %6.2f s (%.1fx)\n' "$stamped" "$(echo "$stamped / $without" | bc -l)"
