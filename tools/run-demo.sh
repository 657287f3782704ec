#!/bin/bash
# run-demo.sh - build patchgap and run its main job end to end on the embedded
# default: a SQLite database and, unless you name a repository, a generated
# kernel-shaped sample history with synthetic CNA records.
#
#   tools/run-demo.sh            sample history (reproducible, ~3,000 commits)
#   tools/run-demo.sh REPO       your kernel clone: mainline = master/main,
#                                stable = every linux-X.Y.y branch
#
# With REPO: PATCHGAP_CNA=DIR names a clone of the CNA's vulns.git (without it
# there are no CVE records, only the classifier's silent fixes), and the clone
# should have a generation-1 commit-graph (ingest of a full kernel history is
# several times slower without one); the script says how to write it.
#
# Everything is written under ./demo (or $PATCHGAP_DEMO_DIR): the config, the
# database, advisories and the HTML patch-gap report.
set -euo pipefail
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
	python3 - "$DEMO/linux.truth.json" > "$DEMO/patchgap.conf" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print("# patchgap demo config (git-config syntax; see doc/patchgap.1.md)")
print("[core]\n\trepository = linux\n\tdatabase = patchgap.db")
for name, b in sorted(t['branches'].items(), key=lambda kv: (kv[1]['kind'] != 'mainline', kv[0])):
    print('[branch "%s"]\n\tkind = %s' % (name, b['kind']))
    if b['kind'] == 'vendor':
        print('\tbase = %s' % b['parent'])
PY
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
printf '\ndone: database %s/patchgap.db, config %s/patchgap.conf\n' "$DEMO" "$DEMO"
# What a user types next, with ids from this run.
fix=""
[ -n "$cve" ] && fix=$("$PG" cve show "$cve" --json 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); f=d.get("fixes") or []; print(f[0].get("sha", "")[:12] if f else "")' 2>/dev/null || true)
printf '\nnext (in %s, or with --conf %s/patchgap.conf):\n' "$DEMO" "$DEMO"
printf '  %s status %s --fail-on any   # open security fixes of a branch, as a CI gate\n' "$PG" "${stable:-<branch>}"
printf '  %s show %s   # one fix: releases, backports, CVE, classifier verdict\n' "$PG" "${fix:-<commit>}"
printf '  %s backport %s --onto %s   # try the fix on the branch, in memory\n' "$PG" "${cve:-<CVE-ID>}" "${stable:-<branch>}"
