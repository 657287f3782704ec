#!/bin/bash
# t7003-watch-daemon: `patchgap watch` as a long-running process: a second
# instance on the same database refuses to start and names the holder; a
# push is picked up by the running loop and delivered; SIGHUP with a broken
# config keeps the old one, with a good one reloads it; SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-watch.sh"
setup_upstream
start_daemon
start_receiver
write_conf
cd "$T"
wait_log() { # pattern: up to 60 s (a loaded machine; returns as soon as it appears)
	local i
	for i in $(seq 1 1200); do grep -q "$1" watch.log && return 0; sleep 0.05; done
	return 1
}
$PG watch --interval 0 > /dev/null 2> watch.log &
W=$!
PIDS+=($W)
check "the daemon starts and logs with timestamps and levels" wait_log '^20[0-9-]*T[0-9:]*Z info: watching'
sleep 0.3
set +e; $PG watch --once > /dev/null 2> second.err; rc=$?; set -e
if db_is_pg; then # a server-side advisory lock: the server knows no pid of ours
	check "a second instance refuses" sh -c "test $rc = 1 && grep -q 'another watch holds it' second.err"
else
	check "a second instance refuses, naming the holder" sh -c "test $rc = 1 && grep -q 'is watched already by patchgap watch pid $W on ' second.err"
fi

push_fix "$B1" kernel/core.c "core: fix use-after-free in a()"
cna_record CVE-2024-0001 "$FIX"
check "the running loop picks up the push and delivers" wait_log "delivered event [0-9]* (branch.affected) to sink 'hook'"

cp patchgap.conf good.conf
printf '[sink "x"]\n\ttype = pigeon\n' >> patchgap.conf
kill -HUP $W
check "SIGHUP with a broken config keeps the old one" wait_log "SIGHUP: config not reloaded, keeping the previous one"
check "the reason is logged" grep -q "unknown type 'pigeon'" watch.log
cp good.conf patchgap.conf
printf '[sink "late"]\n\ttype = maildir\n\tpath = late-mail\n' >> patchgap.conf
kill -HUP $W
check "SIGHUP reloads the config" wait_log "SIGHUP: config reloaded"
push_fix "$B2" drivers/foo.c "foo: fix out-of-bounds write in foo()"
cna_record CVE-2024-0002 "$FIX"
check "a sink added by SIGHUP gets the new events" sh -c 'for i in $(seq 1 200); do [ -n "$(ls late-mail/new 2>/dev/null)" ] && exit 0; sleep 0.05; done; exit 1'

kill -TERM $W
set +e; wait $W; rc=$?; set -e
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM is logged" grep -q "stopping on signal" watch.log
check "the lock is released" $PG watch --once > /dev/null 2>&1
finish
