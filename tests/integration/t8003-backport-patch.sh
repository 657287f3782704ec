#!/bin/bash
# backport --patch: patches that are not commits (format-patch file, mbox
# series, directory queue) tried on branches in memory: present (also on a
# tree without history), clean (a series builds on its own clean patches),
# conflict with the hunks; the work tree is never touched.
. "$(dirname "$0")/lib.sh"
cd $T
git init -q -b master repo
cd repo
tick
printf 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n' > a.c
printf 'alpha\nbeta\ngamma\n' > b.c
git add . && git commit -q -m base
git branch old
tick; sed -i 's/^two$/two fixed/' a.c; git commit -q -am "a: fix two"
tick; sed -i 's/^two fixed$/two fixed again/' a.c; git commit -q -am "a: fix two again"
tick; sed -i 's/^beta$/beta fixed/' b.c; git commit -q -am "b: fix beta"
git checkout -q old
tick; sed -i 's/^beta$/BETA (vendor)/' b.c; git commit -q -am "b: vendor change"
git checkout -q master
# a tree without history: master's files in an orphan commit
git checkout -q --orphan flat && git commit -q -m "flat import" && git checkout -q master
cd $T
git -C repo format-patch -q -o $T/queue old..master   # 0001.. 0003 on master
git -C repo format-patch --stdout old..master > series.mbox
git -C repo format-patch --stdout -1 master~2 > fix-two.patch
git -C repo format-patch --stdout -1 master > fix-beta.patch
printf 'From: x <x@example.org>\nSubject: [PATCH] words only\n\nno diff here\n' > nodiff.patch
head_before=$(git -C repo rev-parse HEAD); status_before=$(git -C repo status --porcelain)
bp() { rc=0; $PG backport --repo repo "$@" > out.txt 2>err.txt || rc=$?; }

bp --patch fix-two.patch --onto old
check "format-patch file onto an older branch: clean" sh -c "test $rc = 0 && grep -q '^clean .*a: fix two' out.txt"
bp --patch fix-beta.patch --onto master
check "onto the branch that has it: present" sh -c "test $rc = 0 && grep -q '^present' out.txt"
bp --patch fix-two.patch --onto master~1
check "onto a later commit that changed the same line again: conflict" sh -c "test $rc = 1 && grep -q '^conflict' out.txt"
bp --patch fix-beta.patch --onto flat
check "on a tree without history: present" sh -c "test $rc = 0 && grep -q '^present' out.txt"
bp --patch series.mbox --onto old --json
check "mbox series: clean, clean (builds on the first), conflict with its hunk" python3 -c "
import json; a = json.load(open('out.txt'))
assert [p['verdict'] for p in a] == ['clean', 'clean', 'conflict'], a
assert a[0]['name'] == 'series.mbox#1' and a[1]['subject'].endswith('a: fix two again'), a
assert a[2]['conflicting_hunks'] == ['b.c: @@ -1,3 +1,3 @@'], a[2]"
check "conflict: exit 1" test $rc = 1
bp --patch queue --onto old
check "directory applied in name order" sh -c "test $rc = 1 && sed -n 1p out.txt | grep -q '^clean *0001-' && sed -n 2p out.txt | grep -q '^clean *0002-' && sed -n 3p out.txt | grep -q '^conflict *0003-'"
bp --patch nodiff.patch --onto old
check "a patch without a diff: invalid, exit 4" sh -c "test $rc = 4 && grep -q '^invalid' out.txt"
bp --patch nosuch.patch --onto old
check "missing patch: exit 3 naming it" sh -c "test $rc = 3 && grep -q nosuch.patch err.txt"
bp --patch fix-two.patch --onto nosuch-branch
check "unknown branch: exit 3" test $rc = 3
check "HEAD untouched" test "$head_before" = "$(git -C repo rev-parse HEAD)"
check "work tree and index untouched" test "$status_before" = "$(git -C repo status --porcelain)"
check "no ref created" test "$(git -C repo for-each-ref | wc -l)" = 3
finish
