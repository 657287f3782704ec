#!/bin/bash
# backport --test interrupted by SIGTERM, SIGINT or SIGHUP: the test's
# process group is killed, its checkout (made under $TMPDIR) is removed,
# and patchgap dies of the same signal.
. "$(dirname "$0")/lib-backport.sh"
new_repo
set_line drivers/foo.c 3 "	return x * 2;"
git commit -qam "foo: fix the thing"
FIX=$(git rev-parse HEAD)
for sig in TERM INT HUP; do
	W=$TMP/$sig
	mkdir -p "$W/tmp"
	# the test leaves a background sleeper in its group and reports its pids
	TMPDIR=$W/tmp "$PATCHGAP_BIN" backport "$FIX" --onto stable --repo . --no-branch --timeout 120 \
		--test "sleep 300 & echo \$! > '$W/bg.pid'; echo \$\$ > '$W/sh.pid'; pwd > '$W/where'; wait" \
		>"$W/out" 2>&1 &
	pg=$!
	for _ in $(seq 1 300); do [ -s "$W/where" ] && [ -s "$W/bg.pid" ] && break; sleep 0.1; done
	[ -s "$W/where" ] || fail "$sig: the test command never started: $(cat "$W/out")"
	case "$(cat "$W/where")" in "$W/tmp/"*) ;; *) fail "$sig: checkout not under TMPDIR: $(cat "$W/where")" ;; esac
	kill -"$sig" "$pg"
	rc=0; wait "$pg" || rc=$?
	want=$((128 + $(kill -l "$sig")))
	[ "$rc" = "$want" ] || fail "$sig: patchgap exited $rc, expected $want (died of SIG$sig): $(cat "$W/out")"
	for p in "$(cat "$W/bg.pid")" "$(cat "$W/sh.pid")"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$p" 2>/dev/null; then kill -9 "$p"; fail "$sig: test process $p still running"; fi
	done
	[ -z "$(ls -A "$W/tmp")" ] || fail "$sig: checkout left behind: $(ls -A "$W/tmp")"
done
echo "ok: interrupted tests leave no process and no checkout"
