# lib-watch.sh - shared setup of the watch tests (source after lib.sh).
# Gives: a small kernel-shaped upstream repository $UP served by a real
# `git daemon` on 127.0.0.1:$GPORT, a CNA repository $CNA (file://), an
# empty mirror $MIRROR, a webhook receiver on 127.0.0.1:$HPORT writing
# $T/received.jsonl, and $T/patchgap.conf with a webhook, an exec and a
# maildir sink.  Everything started here is stopped on exit.
# the system interpreter: a version-manager shim costs ~1 s per start
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
PIDS=()
cleanup_watch() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${PG_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup_watch EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_file() { local i; for i in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

UP=$T/srv/up.git
CNA=$T/cna
MIRROR=$T/mirror.git
SECRET=s3cret-for-tests
g() { git -C "$T/work" "$@"; }
mk() { mkdir -p "$T/work/$(dirname "$1")"; printf "$2" > "$T/work/$1"; }

# upstream: v6.0, two bugs (kernel/core.c, drivers/foo.c), v6.1, branch linux-6.1.y;
# pushed to the served bare repo
setup_upstream() {
	git init -q -b master "$T/work"
	mk Makefile '# top\n'
	mk kernel/core.c 'int a(void)\n{\n\treturn 1;\n}\n'
	mk drivers/foo.c 'int foo(void)\n{\n\treturn 1;\n}\n'
	# Kbuild: kernel/ always built, drivers/ only with CONFIG_FOO (for branches with a .config)
	mk Kbuild 'obj-y += kernel/\nobj-$(CONFIG_FOO) += drivers/\n'
	mk arch/x86/Makefile 'BITS := 64\nexport BITS\n'
	mk kernel/Makefile 'obj-y += core.o\n'
	mk drivers/Makefile 'obj-y += foo.o\n'
	tick; g add -A; g commit -q -m "initial"; g tag -a v6.0 -m v6.0
	tick; sed -i 's/return 1;/return 11;/' "$T/work/kernel/core.c"; g commit -qam "core: add bug"; B1=$(g rev-parse HEAD)
	tick; sed -i 's/return 1;/return 12;/' "$T/work/drivers/foo.c"; g commit -qam "foo: add bug"; B2=$(g rev-parse HEAD)
	g tag -a v6.1 -m v6.1
	g branch linux-6.1.y v6.1
	mkdir -p "$T/srv"
	git init -q --bare "$UP"
	touch "$UP/git-daemon-export-ok"
	g push -q "$UP" master linux-6.1.y --tags
	# the CNA: vulns.git layout, one unrelated record to start with
	git init -q -b master "$CNA"
	mkdir -p "$CNA/cve/published/2023" "$CNA/cve/rejected"
	echo 0000000000000000000000000000000000000001 > "$CNA/cve/published/2023/CVE-2023-0001.sha1"
	git -C "$CNA" add -A; tick; git -C "$CNA" commit -qm "initial records"
	git init -q --bare "$MIRROR"
}

# a fix on master (Fixes: $1), pushed; sets FIX
push_fix() { # bug-sha file subject
	tick
	case $2 in
	kernel/core.c) sed -i 's/return 11;/return 1;/' "$T/work/kernel/core.c" ;;
	drivers/foo.c) sed -i 's/return 12;/return 1;/' "$T/work/drivers/foo.c" ;;
	esac
	g commit -qam "$3

Fixes: ${1:0:12} (\"bug\")"
	FIX=$(g rev-parse HEAD)
	g push -q "$UP" master
}

# the backport of $1 onto linux-6.1.y, pushed
push_backport() {
	local f=$1
	tick
	g checkout -q linux-6.1.y
	g cherry-pick -x "$f" >/dev/null
	g commit -q --amend -m "$(g log -1 --format=%s)

commit $f upstream."
	g checkout -q master
	g push -q "$UP" linux-6.1.y
}

cna_record() { # CVE-ID sha
	mkdir -p "$CNA/cve/published/${1:4:4}"
	echo "$2" > "$CNA/cve/published/${1:4:4}/$1.sha1"
	git -C "$CNA" add -A; tick; git -C "$CNA" commit -qm "add $1"
}

start_daemon() {
	GPORT=$(free_port)
	git daemon --listen=127.0.0.1 --port="$GPORT" --base-path="$T/srv" --reuseaddr --informative-errors \
		"$T/srv" >"$T/gitd.log" 2>&1 &
	PIDS+=($!)
	local i
	for i in $(seq 1 100); do
		git ls-remote "git://127.0.0.1:$GPORT/up.git" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "git daemon did not start: $(cat "$T/gitd.log")"; return 1
}

start_receiver() {
	rm -f "$T/hport"
	$PY "$SRC/tests/integration/watch-receiver.py" "$T/hport" "$SECRET" "$T/received.jsonl" "$T/mode" &
	PIDS+=($!)
	wait_file "$T/hport" || { echo "receiver did not start"; return 1; }
	HPORT=$(cat "$T/hport")
}

write_conf() { # extra lines appended
	cat > "$T/patchgap.conf" <<CONF
[core]
	repository = mirror.git
	database = patchgap.db
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
[remote "upstream"]
	url = git://127.0.0.1:$GPORT/up.git
[cna]
	url = file://$CNA
[watch]
	interval = 1
	backoff-max = 2
[sink "hook"]
	type = webhook
	url = http://127.0.0.1:$HPORT/events
	secret = $SECRET
	timeout = 2
[sink "mail"]
	type = maildir
	path = mail
[sink "exec"]
	type = exec
	command = "cat >> exec.out; echo >> exec.out"
CONF
	printf '%s\n' "$@" >> "$T/patchgap.conf"
}
