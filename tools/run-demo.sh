#!/bin/bash
# run-demo.sh - build patchgap and run its main job end to end on the embedded
# default: a SQLite database and, unless you name a repository, a generated
# kernel-shaped sample history with synthetic CNA records.
#
#   tools/run-demo.sh            sample history (reproducible, ~3,000 commits)
#   tools/run-demo.sh REPO       your kernel clone: mainline = master/main,
#                                stable = every linux-X.Y.y branch
#   tools/run-demo.sh --serve [REPO]  the same, then serve the triage screen
#                                (http://127.0.0.1:8642/, public reads) until Ctrl-C
#
# With REPO: PATCHGAP_CNA=DIR names a clone of the CNA's vulns.git (without it
# there are no CVE records, only the classifier's silent fixes), and the clone
# should have a generation-1 commit-graph (ingest of a full kernel history is
# several times slower without one); the script says how to write it.
#
# Everything is written under ./demo (or $PATCHGAP_DEMO_DIR): the config, the
# database, advisories and the HTML patch-gap report.
set -euo pipefail
SERVE=0
if [ "${1:-}" = --serve ]; then
	SERVE=1
	shift
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
PG=$ROOT/build/cli/patchgap
DEMO=${PATCHGAP_DEMO_DIR:-$ROOT/demo}
mkdir -p "$DEMO"
step() { printf '\n== %s\n' "$*"; }

if [ $# -ge 1 ]; then
	REPO=$(cd "$1" && pwd)
	step "tracking $REPO"
	{
		printf '[core]\n\trepository = %s\n\tdatabase = patchgap.db\n' "$REPO"
		main=$(git -C "$REPO" for-each-ref --format='%(refname:short)' refs/heads/master refs/heads/main | head -1)
		[ -n "$main" ] || { echo "no master or main branch in $REPO" >&2; exit 1; }
		printf '[branch "%s"]\n\tkind = mainline\n' "$main"
		git -C "$REPO" for-each-ref --format='%(refname:short)' 'refs/heads/linux-*.y' |
			while read -r b; do printf '[branch "%s"]\n\tkind = stable\n' "$b"; done
	} > "$DEMO/patchgap.conf"
	CNA=${PATCHGAP_CNA:-}
	gitdir=$(git -C "$REPO" rev-parse --absolute-git-dir)
	if [ ! -e "$gitdir/objects/info/commit-graph" ]; then
		echo "note: $REPO has no single-file commit-graph; ingest is several times faster with one:"
		echo "      git -C $REPO -c commitGraph.generationVersion=1 commit-graph write --reachable"
	fi
	[ -n "$CNA" ] || echo "note: no PATCHGAP_CNA: no CVE records will be imported" \
		"(git clone https://git.kernel.org/pub/scm/linux/security/vulns.git, then PATCHGAP_CNA=<its path>)"
else
	step "generating a sample kernel-shaped history (tools/gen-history.py)"
	data=(--no-data)
	[ -d "$ROOT/../shared/data" ] && data=(--data "$ROOT/../shared/data")
	if [ ! -f "$DEMO/sample.done" ]; then
		rm -rf "$DEMO/linux" "$DEMO/vulns"
		python3 tools/gen-history.py --out "$DEMO/linux" --seed 42 --scale small \
			--truth "$DEMO/linux.truth.json" "${data[@]}"
		python3 tools/truth-to-cna.py "$DEMO/linux.truth.json" "$DEMO/vulns"
		touch "$DEMO/sample.done"
	fi
	python3 tools/truth-to-conf.py "$DEMO/linux.truth.json" linux \
		--comment "patchgap demo config (git-config syntax; see doc/patchgap.1.md)" > "$DEMO/patchgap.conf"
	CNA=$DEMO/vulns
fi
cd "$DEMO"
export PATCHGAP_CONFIG=$DEMO/patchgap.conf

step "patchgap ingest"
"$PG" ingest
if [ -n "$CNA" ]; then
	step "patchgap cve import $CNA"
	"$PG" cve import "$CNA" || true
fi
if "$PG" --help | grep -q '^  classify'; then
	step "patchgap classify (security fixes, including silent ones)"
	"$PG" classify || true
fi
step "patchgap status, per tracked branch"
branches=$(sed -n 's/^\[branch "\(.*\)"\]/\1/p' patchgap.conf)
for b in $branches; do
	"$PG" status "$b" | head -1 || true
done
# an interesting CVE: one still open on the first stable branch, else the first one
stable=$(sed -n 's/^\[branch "\(linux-.*\)"\]/\1/p' patchgap.conf | head -1)
cve=""
[ -n "$stable" ] && cve=$("$PG" status "$stable" --json 2>/dev/null |
	python3 -c 'import json,sys; l=json.load(sys.stdin)["unfixed"]; print(l[0]["id"] if l else "")' || true)
[ -n "$cve" ] || cve=$("$PG" cve list --json 2>/dev/null |
	python3 -c 'import json,sys; l=json.load(sys.stdin); print(l[0]["id"] if l else "")' || true)
if [ -n "$cve" ]; then
	step "patchgap affected $cve (dyad format)"
	"$PG" affected "$cve" --verbose
	step "patchgap advisory --id $cve --format all"
	"$PG" advisory --id "$cve" --format all --out advisories || true
	ls advisories 2>/dev/null | head
fi
step "patchgap report --format html"
"$PG" report --format html --out report.html && echo "wrote $DEMO/report.html"
"$PG" report | head -25 || true

# --- the watch loop once: a push upstream, the event at a local receiver -----
if [ -n "$CNA" ] && [ $# -eq 0 ]; then
	step "patchgap watch: a push to the sample upstream, the event at a local webhook receiver"
	PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	WD=$DEMO/watch
	rm -rf "$WD"; mkdir -p "$WD"
	git clone -q --mirror "$DEMO/linux" "$WD/upstream.git"    # plays git.kernel.org, over git://
	touch "$WD/upstream.git/git-daemon-export-ok"
	# what watch fetches into: the first copy is made by git (a libgit2 fetch of a whole
	# history into an empty repository is ~20x slower), watch fetches the increments
	git clone -q --mirror "$WD/upstream.git" "$WD/mirror.git"
	cp -r "$CNA" "$WD/cna"                                      # plays vulns.git
	git -C "$WD/cna" init -q -b master
	git -C "$WD/cna" add -A
	git -C "$WD/cna" -c user.name=cna -c user.email=cna@example.org commit -qm "records"
	$PY "$ROOT/tests/integration/watch-receiver.py" "$WD/port" demo-secret "$WD/received.jsonl" "$WD/mode" &
	RECV=$!
	GPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	git daemon --listen=127.0.0.1 --port="$GPORT" --base-path="$WD" "$WD" 2>/dev/null &
	GITD=$!
	trap 'kill $RECV $GITD 2>/dev/null || true' EXIT
	for i in $(seq 1 100); do [ -s "$WD/port" ] && break; sleep 0.05; done
	for i in $(seq 1 100); do git ls-remote "git://127.0.0.1:$GPORT/upstream.git" >/dev/null 2>&1 && break; sleep 0.05; done
	sed -n '/^\[branch/,$p' "$DEMO/patchgap.conf" > "$WD/branches.conf"
	{
		printf '[core]\n\trepository = mirror.git\n\tdatabase = patchgap.db\n'
		cat "$WD/branches.conf"
		printf '[remote "upstream"]\n\turl = git://127.0.0.1:%s/upstream.git\n[cna]\n\turl = file://%s/cna\n' "$GPORT" "$WD"
		printf '[sink "soc"]\n\ttype = webhook\n\turl = http://127.0.0.1:%s/hook\n\tsecret = demo-secret\n' "$(cat "$WD/port")"
		printf '[sink "mail"]\n\ttype = maildir\n\tpath = mail\n'
	} > "$WD/patchgap.conf"
	cd "$WD"
	export PATCHGAP_CONFIG=$WD/patchgap.conf
	echo "first cycle: fetch, ingest, classify, import, evaluate (a silent baseline)"
	"$PG" watch --once 2>&1 | tail -1
	bug=$(sqlite3 patchgap.db "SELECT sha FROM commits WHERE on_mainline = 1 ORDER BY id LIMIT 1 OFFSET 100")
	echo "upstream pushes a fix of ${bug:0:12}"
	$PY "$ROOT/tools/push-fix.py" upstream.git 1 "demo: fix use-after-free in demo_remove()" "$bug"
	"$PG" watch --once --fetch-now 2>&1 | grep -E 'cycle:' || true
	echo "the receiver got (HMAC checked):"
	$PY - received.jsonl <<'PY'
import json, sys
for l in open(sys.argv[1]):
    x = json.loads(l); e = json.loads(x['body'])
    print("  %-16s %-14.14s %-16s %s -> %s  signature %s" % (e['kind'], e['target'], e['branch'] or '-',
          e['old_state'] or '-', e['new_state'], 'ok' if x['sig_ok'] else 'BAD'))
PY
	"$PG" watch --status
	cd "$DEMO"
fi
printf '\ndone: database %s/patchgap.db, config %s/patchgap.conf\n' "$DEMO" "$DEMO"
# What a user types next, with ids from this run.
fix=""
[ -n "$cve" ] && fix=$("$PG" cve show "$cve" --json 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); f=d.get("fixes") or []; print(f[0].get("sha", "")[:12] if f else "")' 2>/dev/null || true)
printf '\nnext (in %s, or with --conf %s/patchgap.conf):\n' "$DEMO" "$DEMO"
printf '  %s status %s --fail-on any   # open security fixes of a branch, as a CI gate\n' "$PG" "${stable:-<branch>}"
printf '  %s show %s   # one fix: releases, backports, CVE, classifier verdict\n' "$PG" "${fix:-<commit>}"
printf '  %s backport %s --onto %s   # try the fix on the branch, in memory\n' "$PG" "${cve:-<CVE-ID>}" "${stable:-<branch>}"
SERVE_CMD="$PG --conf $DEMO/patchgap.conf serve --public-read"
printf 'serve the triage screen on this data (http://127.0.0.1:8642/):\n  %s\n' "$SERVE_CMD"
if [ "$SERVE" = 1 ]; then
	step "patchgap serve (Ctrl-C stops)"
	exec $SERVE_CMD
fi
