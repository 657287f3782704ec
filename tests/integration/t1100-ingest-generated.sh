#!/bin/bash
# Ingest of a generated kernel-shaped history checked against the generator's
# ground truth: first releases (mainline and stable), backport relations,
# Fixes: resolution, reverts, and the vulnerable/fixed pairs of every fix.
. "$(dirname "$0")/lib.sh"
gen_repo small 11
cd $T
$PG ingest >/dev/null
python3 "$SRC/tools/check-truth.py" --db patchgap.db --read "$(db_sqlite patchgap.db rows.db)" --truth "$TRUTH" \
	--patchgap "$PG" --conf patchgap.conf

# The same history with git's commit-graph file (generation 1, as libgit2 1.5 reads it,
# and generation 2, which only util/cgraph reads): release mapping takes the parents
# from it; the database must not change.
tables() { sqlite3 "$1" "select sha, mainline_release, on_mainline, reachable from commits order by id;
	select branch_id, commit_id, release, reachable from branch_commits order by 1, 2;
	select commit_id, kind, ref_id, target_sha, state, candidates from relations order by 1, 2, 3;
	select name, sha, line, tag_time, target from tags order by 1;"; }
tables patchgap.db > plain.txt
reads() { sed -n 's/^odb: \([0-9]*\) reads.*/\1/p' "$1"; }
PATCHGAP_ODB_STATS=1 $PG --db plain2.db ingest >/dev/null 2>plain2.err
for v in 1 2; do
	rm -rf cg$v && cp -r "$GEN" cg$v
	git -C cg$v -c commitGraph.generationVersion=$v commit-graph write --reachable 2>/dev/null
	sed "s|repository = .*|repository = $T/cg$v|; s|database = .*|database = cg$v.db|" patchgap.conf > cg$v.conf
	PATCHGAP_ODB_STATS=1 $PG --conf cg$v.conf ingest >/dev/null 2>cg$v.err
	tables cg$v.db > cg$v.txt
	check "commit-graph v$v: same releases, relations and tags as without it" cmp -s plain.txt cg$v.txt
	check "commit-graph v$v: used without a warning" test -z "$(grep -v '^odb:' cg$v.err)"
	# parents from the graph: the release mapping reads no commit objects
	check "commit-graph v$v: fewer objects read ($(reads cg$v.err) < $(reads plain2.err))" \
		test "$(reads cg$v.err)" -lt "$(reads plain2.err)"
done
finish
