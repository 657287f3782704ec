#!/bin/bash
# t0200: every verb fed hostile input - ids with '/', '..', newlines, escape
# sequences, NUL and megabytes; hostile files (FIFOs, non-diffs, exponential
# Makefiles) and hostile trees (missing objects).  Each case must end in
# bounded time with a documented exit code, an error that echoes no control
# byte and no megabytes, no file written outside the output directory, and
# the database unchanged when the verb must not write.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq not available"

# --- a small history: mainline, a stable branch, a vendor branch with '/' --
R=$T/repo
git init -q -b master "$R"
commit net/core/a.c a1 "net: initial"; g tag -a v6.0 -m v6.0
commit net/core/a.c a2 "net: add frobnication"; A=$(g rev-parse HEAD)
g tag -a v6.1 -m v6.1
commit net/core/a.c a3 "net: fix use-after-free in frobnicate()

Fixes: ${A:0:12} (\"net: add frobnication\")
Cc: stable@vger.kernel.org"
F=$(g rev-parse HEAD)
commit mm/b.c "$(printf 'b1')" "$(printf 'mm: \033[2J\033[31mescape\033[0m in a subject')"
commit drivers/d.c d1 "drivers: fix a leak

From the report: the buffer leaks.
>From a quoted line."
D=$(g rev-parse HEAD)
g checkout -q -b linux-6.1.y v6.1
commit net/core/a.c s1 "net: stable change"; g tag -a v6.1.1 -m v6.1.1
g checkout -q -b vendor/acme-6.1 v6.1
commit vendor/x.c x1 "vendor: local change"
g checkout -q master

W=$T/work            # every verb runs here; only out/ may gain files
mkdir -p "$W/out" "$W/home"
cd "$W"
cat > patchgap.conf <<CONF
[core]
	repository = $R
	database = pg.db
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
[branch "vendor/acme-6.1"]
	kind = vendor
	base = linux-6.1.y
CONF
export PATCHGAP_CONFIG=$W/patchgap.conf HOME=$W/home
$PG --quiet ingest >/dev/null 2>ingest.err || { cat ingest.err; fail "setup ingest"; }
dump() { sqlite3 pg.db .dump | grep -v -e '^INSERT INTO meta' -e '^INSERT INTO backport_runs'; }
dump > db.before
# the backport verbs write result objects into the repository: that is their workspace
snapshot() { (cd "$T" && find . -path ./work/out -prune -o -path ./repo/.git/objects -prune -o -print |
	grep -v -e '^./work/err' -e '^./work/stdout' -e '^./work/pg.db-' -e '^./work/hostile' -e '^./tree\.' | sort); }
snapshot > "$T/tree.before"

# run DESCRIPTION MAXSECONDS ALLOWED_EXITS -- COMMAND...: exit code in the
# allowed set, done within the bound, stderr short and free of control bytes
# run DESC MAX ALLOWED -- CMD...: MAX bounds the command's CPU time (three
# times more on the sanitizer build); the wall clock only guards against a
# command that blocks without using CPU (a FIFO): 10x MAX.  CPU time, not
# wall time, so a loaded machine does not fail the test.
run() {
	local d=$1 max=$2 allowed=$3 rc t0 t1 cpu; shift 4
	cpu=$max; [ -n "${PATCHGAP_SANITIZED:-}" ] && cpu=$((max * 3))
	t0=$(date +%s%N)
	set +e; timeout "$((cpu * 10))" bash -c 'ulimit -t "$0"; exec "$@"' "$cpu" "$@" >stdout 2>err; rc=$?; set -e
	t1=$(date +%s%N)
	if [ "$rc" = 124 ]; then fail "$d: blocked: still running after $((cpu * 10)) s"; return; fi
	if [ "$rc" = 152 ] || [ "$rc" = 137 ]; then fail "$d: over $cpu s of CPU"; return; fi
	case " $allowed " in *" $rc "*) ;; *) fail "$d: exit $rc, want one of $allowed: $(head -c 300 err)"; return ;; esac
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' err; then fail "$d: stderr echoes control bytes"; return; fi
	if [ "$(wc -c < err)" -gt 4096 ]; then fail "$d: stderr is $(wc -c < err) bytes"; return; fi
	ok "$d (exit $rc, $(( (t1 - t0) / 1000000 )) ms)"
}

BIG=$(head -c 1048576 /dev/zero | tr '\0' 'a')   # 1 MB of input
ARG=${BIG:0:120000}                                # the longest one argument may be
ESC=$'\033[2J\033]0;pwned\007'
IDS=("../../etc/passwd" "$ESC" $'a\nBcc: x@example.org' "'; DROP TABLE commits; --" "$ARG")

# --- ids on the command line of every reading verb ----------------------------
for i in "${!IDS[@]}"; do
	id=${IDS[$i]}
	run "show id #$i" 10 "2 3 4" -- $PG show "$id"
	run "log --ref id #$i" 10 "2 3" -- $PG log --ref "$id"
	run "log --backport-of id #$i" 10 "0 2 3 4" -- $PG log --backport-of "$id"
	run "status id #$i" 10 "2 3 4" -- $PG status "$id"
	run "cve show id #$i" 10 "2 3" -- $PG cve show "$id"
	run "affected id #$i" 10 "2 3 4" -- $PG affected "$id"
	run "advisory --id #$i" 10 "2 3 4" -- $PG advisory --format csaf --id "$id" --out out
	run "backport id #$i" 10 "2 3 4" -- $PG backport "$id" --onto linux-6.1.y --no-branch
	run "kconfig path #$i" 10 "0 1 2 3 4" -- $PG kconfig --config /dev/null --tree "$R" "$id"
done
for id in "" "-"; do
	run "show '$id'" 10 "2 3 4" -- $PG show "$id"
	run "status '$id'" 10 "2 3 4" -- $PG status "$id"
	run "advisory --id '$id'" 10 "2 3 4" -- $PG advisory --format csaf --id "$id" --out out
done
run "log --limit abc" 5 2 -- $PG log --limit abc
run "log --limit -5" 5 2 -- $PG log --limit -5
run "status --fail-on age>1xyz" 5 2 -- $PG status --fail-on 'age>1xyz'
run "ingest --batch absurd" 5 2 -- $PG ingest --batch 99999999999999999999
run "status with a missing --conf" 5 3 -- $PG --conf "$W/nosuch.conf" status
run "status with a broken --conf" 5 4 -- $PG --conf "$R/net/core/a.c" status
run "cve show malformed id" 5 2 -- $PG cve show CVE-20x4-1
run "eval without data" 5 3 -- $PG eval --data "$W/nosuch.jsonl"
run "train without data" 5 3 -- $PG train --data "$W/nosuch-dir" --out "$W/out/m.json"
check "the database is unchanged by the reading verbs" cmp -s db.before <(dump)
check "subjects are printed without their escape sequences" \
	bash -c "$PG log | grep -q 'mm: ?\[2J?\[31mescape?\[0m in a subject'"

# --- advisory ids become safe file names -------------------------------------
model() { # id vuln-id title
	jq -n --arg id "$1" --arg v "$2" --arg t "$3" \
		'{id: $id, products: [{id: "p"}], vulnerabilities: [{id: $v, title: $t, states: [{product: "p", status: "fixed"}]}]}'
}
n=0
for id in "../../escaped" "vendor/acme-6.1" "../" "." ".." $'a\nBcc: victim@example.org' "${BIG:0:5000}"; do
	model "$id" "CVE-2024-0001" "a title" > hostile.json
	run "advisory --model id #$n" 10 0 -- $PG advisory --format all --model hostile.json --out out
	n=$((n + 1))
done
model $'doc\nBcc: victim@example.org' $'CVE-2024-0002\r\nBcc: v2@example.org' \
	"$(printf 'a title\nBcc: v3@example.org\nFrom evil %s' "${BIG:0:3000}")" > hostile.json
run "advisory mbox with header injection" 10 0 -- $PG advisory --format text --model hostile.json
sed '/^$/q' stdout > hostile-headers
check "mbox: no injected header" bash -c "! grep -qi '^bcc:' hostile-headers"
check "mbox: one Message-ID" test "$(grep -c '^Message-ID:' hostile-headers)" = 1
check "mbox: no header line over 998 bytes" bash -c "! awk 'length > 998 { bad = 1 } END { exit !bad }' hostile-headers"
check "mbox: the body's From line is quoted" grep -q '^>From evil' stdout
printf '{"id": "nul\\u0000byte", "products": [{"id": "p"}], "vulnerabilities": [{"id": "CVE-2024-0001", "states": [{"product": "p", "status": "fixed"}]}]}\n' > hostile.json
run "advisory id with NUL" 10 "0 4" -- $PG advisory --format csaf --model hostile.json --out out
run "advisory from the database, branch with '/'" 20 0 -- $PG advisory --format all --id "$F" --branch vendor/acme-6.1 --out out
check "branch document written inside out/" test -f "out/PGAP-PGSA-${F:0:12}-vendor%2Facme-6.1.csaf.json"
check "every advisory file is directly inside out/" test -z "$(find out -mindepth 1 ! -type f -o -mindepth 2)"
check "no advisory file is hidden or a temporary" test -z "$(find out -name '.*' -o -name '*.tmp.*')"

run "backport --mbox" 20 0 -- $PG backport "$D" --onto linux-6.1.y --no-branch --mbox out/series.mbox
check "backport --mbox: body 'From ' lines are quoted (mboxrd)" \
	bash -c "grep -q '^>From the report' out/series.mbox && grep -q '^>>From a quoted line' out/series.mbox"
check "backport --mbox: one message separator" test "$(grep -c '^From ' out/series.mbox)" = 1
run "report --out" 20 0 -- $PG report --out out/report.txt
check "report --out: written, no temporary left" bash -c "test -s out/report.txt && ! ls out | grep -q tmp"

# --- hostile files -----------------------------------------------------------
mkdir -p hostile-vulns/cve/published/2024
mkfifo hostile-vulns/cve/published/2024/CVE-2024-0001.json
ln -s /dev/zero hostile-vulns/cve/published/2024/CVE-2024-0002.json
run "cve import of a FIFO and a device" 10 4 -- $PG cve import hostile-vulns
check "cve import names what it skipped" grep -q "not a regular file" err
: > hostile-empty.diff
head -c 65536 /dev/urandom > hostile-random.diff
printf 'diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,z +1 @@\n-a\n+b\n' > hostile-bad.diff
for f in empty random bad; do
	run "livepatch --diff $f" 10 4 -- $PG livepatch --diff hostile-$f.diff
	run "kconfig --diff $f" 10 4 -- $PG kconfig --config /dev/null --tree "$R" --diff hostile-$f.diff
done
mkdir -p hostile-tree/kernel
echo '# top' > hostile-tree/Makefile
printf 'obj-y += kernel/\n' > hostile-tree/Kbuild
{ echo 'Y0 := x'; for i in $(seq 1 40); do echo "Y$i = \$(Y$((i - 1)))\$(Y$((i - 1)))"; done
  echo 'obj-$(Y40) += core.o'; } > hostile-tree/kernel/Makefile
echo 'int a;' > hostile-tree/kernel/core.c
printf 'CONFIG_X86=y\n' > hostile.config
run "kconfig on an exponential Makefile" 20 0 -- $PG kconfig --config hostile.config --tree hostile-tree kernel/core.c
check "exponential Makefile: 'possibly', with the budget warning" grep -q "possibly.*" stdout
check "exponential Makefile: the budget is named" grep -q "exceeds its budget" stdout

# --- parsers are linear: 8x the input must not take much more than 8x --------
secs() { # CPU milliseconds of a command (user + system), whatever the load
	local TIMEFORMAT='%3U %3S' o
	o=$( { time "$@" >/dev/null 2>&1; } 2>&1 ) || true
	awk '{ printf "%d\n", ($1 + $2) * 1000 }' <<<"$o"
}
mkdiff() { # lines
	{ printf 'diff --git a/k.c b/k.c\n--- a/k.c\n+++ b/k.c\n@@ -1,%d +1,%d @@ int f(void)\n' "$1" "$1"
	  seq 1 "$1" | sed 's/^/-\tx = /'; seq 1 "$1" | sed 's/^/+\ty = /'; } > "hostile-$1.diff"
}
mkdiff 20000; mkdiff 160000
small=$(secs $PG livepatch --diff hostile-20000.diff)
large=$(secs $PG livepatch --diff hostile-160000.diff)
check "livepatch --diff scales linearly (${small} ms -> ${large} ms for 8x)" test "$large" -le $(( small * 24 + 2000 ))
# a 1 MB line without a newline, as a commit message to classify
{ printf '{"subject": "x", "message": "'; printf '%s' "$BIG"; printf '"}\n'; } > hostile-line.jsonl
run "classify a 1 MB line" 20 "0 4" -- $PG classify --input hostile-line.jsonl --json

# --- a second ingest while one holds the database ------------------------------
if command -v flock >/dev/null; then
	flock pg.db sleep 5 &
	locker=$!
	sleep 0.3
	run "second concurrent ingest" 10 1 -- $PG ingest
	check "it says another ingest holds the database" grep -q "another ingest holds it" err
	kill "$locker" 2>/dev/null || true; wait "$locker" 2>/dev/null || true
fi
# ingest of a missing repository creates no database
sed "s|repository = $R|repository = $W/nowhere|; s|database = pg.db|database = new.db|" patchgap.conf > hostile.conf
run "ingest of a missing repository" 10 3 -- $PG --conf hostile.conf ingest
check "no database was created for it" test ! -e new.db

snapshot > "$T/tree.after"
check "nothing written outside the output directory" diff "$T/tree.before" "$T/tree.after"
finish
