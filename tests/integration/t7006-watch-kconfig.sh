#!/bin/bash
# t7006-watch-kconfig: watch judges a branch with a kernel .config by its
# build: a fix whose code the .config does not build leaves the branch
# not_affected_by_config and announces nothing, a fix of built code makes
# it affected; the states equal the stored cells under the .config.  A
# foreign writer of the stored verdicts (`patchgap ingest` + `patchgap
# cells` by hand between two cycles) does not make watch miss the change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
start_receiver
printf 'CONFIG_X86_64=y\nCONFIG_X86=y\n# CONFIG_FOO is not set\n' > "$T/amd64.config"
write_conf
# the stable branch is built with amd64.config (no CONFIG_FOO: drivers/ is not built)
sed -i 's/^\t\(kind = stable\)$/\t\1\n\tkconfig = amd64.config/' "$T/patchgap.conf"
grep -q "kconfig = amd64.config" "$T/patchgap.conf" || fail "config edit"
cd "$T"
ev() { sqlite3 patchgap.db "SELECT kind || ' ' || target || ' ' || COALESCE(branch, '-') || ' ' || COALESCE(old_state, '-') || ' ' || new_state FROM events WHERE kind LIKE 'branch.%' ORDER BY id"; }
state() { sqlite3 patchgap.db "SELECT state FROM watch_cells WHERE item = '$1' AND branch = '$2'"; }
cycle() { $PG watch --once --fetch-now > "$1.out" 2> "$1.err" || { cat "$1.err"; fail "cycle $1"; }; }

cycle c1
push_fix "$B2" drivers/foo.c "foo: fix out-of-bounds read in foo()"
F2=$FIX
cna_record CVE-2024-0002 "$F2"
push_fix "$B1" kernel/core.c "core: fix use-after-free in a()"
F1=$FIX
cna_record CVE-2024-0001 "$F1"
cycle c2
ev > ev2.txt
check "the built fix makes the stable branch affected" grep -qx "branch.affected CVE-2024-0001 linux-6.1.y not_affected affected" ev2.txt
check "the fix of code not built is not announced" sh -c "! grep -q 'CVE-2024-0002 linux-6.1.y' ev2.txt"
check "its state is not_affected_by_config" test "$(state CVE-2024-0002 linux-6.1.y)" = not_affected_by_config
check "the state comes from the cell under the .config" test "$(sqlite3 patchgap.db "SELECT status || ' ' || justification FROM cells WHERE id = 'CVE-2024-0002' AND branch = 'linux-6.1.y' AND config != ''")" = "not_affected code_not_present"
sqlite3 patchgap.db "SELECT payload FROM events WHERE kind = 'branch.affected' AND target = 'CVE-2024-0001'" > p1.json
check "an announced state carries the build verdict" $PY -c "
import json
p = json.load(open('p1.json'))
d = p['detail']
assert d['status'] == 'affected' and d['config'].endswith('amd64.config') and 'vex' in d, p"
check "watch_cells and the build cells agree on every item" sh -c "
sqlite3 patchgap.db \"SELECT item, state FROM watch_cells WHERE branch = 'linux-6.1.y' ORDER BY 1\" > w.txt
sqlite3 patchgap.db \"SELECT id, CASE WHEN justification IS NOT NULL THEN 'not_affected_by_config' ELSE status END
  FROM cells WHERE branch = 'linux-6.1.y' AND config != '' AND status != 'not_affected' OR
  (branch = 'linux-6.1.y' AND config != '' AND justification IS NOT NULL) ORDER BY 1\" > c.txt
cmp -s w.txt c.txt"

# another writer brings the backport in and stores the verdicts before watch runs
push_backport "$F1"
git --git-dir=mirror.git fetch -q "git://127.0.0.1:$GPORT/up.git" '+refs/heads/*:refs/heads/*'
$PG ingest > /dev/null
$PG cells > /dev/null
check "the foreign writer stored the fixed cell" test "$(sqlite3 patchgap.db "SELECT status FROM cells WHERE id = 'CVE-2024-0001' AND branch = 'linux-6.1.y' AND config != ''")" = fixed
cycle c3
check "watch noticed the foreign write" grep -q "updated by another writer" c3.err
ev > ev3.txt
check "and still announces the fix" grep -qx "branch.fixed CVE-2024-0001 linux-6.1.y affected fixed" ev3.txt
check "once" test "$(grep -c 'branch.fixed CVE-2024-0001 linux-6.1.y' ev3.txt)" = 1
cycle c4
ev > ev4.txt
check "an idle cycle after it adds nothing" cmp -s ev3.txt ev4.txt
finish
