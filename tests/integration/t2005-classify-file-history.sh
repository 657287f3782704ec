#!/bin/bash
# t2005-classify-file-history.sh - the file-history evidence: a real netfilter
# patch mail (from ../shared/data/lore-patches) ingested as a commit is scored
# with the number of CVEs published before it on the files it touches (only
# earlier ones, and not a CVE that names this very commit as its fix: no
# look-ahead), `explain` shows it as history:earlier_cves_same_file, the score
# rises with it, and JSON Lines input can carry it ("history_cves", checked).
. "$(dirname "$0")/lib.sh"
[ -n "$SHARED" ] && [ -f "$SHARED/lore-patches.jsonl.gz" ] || skip_all "../shared/data not present"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
cd "$T"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" $PG --conf pg.conf init --database pg.db >/dev/null || fail "init"
SHA=f00dfeed00000000000000000000000000000001
WHEN=1748736000 # 2025-06-01T00:00:00Z
# the first held-out netfilter mail that touches nf_tables_api.c only, as ingest stores a commit
zcat "$SHARED/lore-patches.jsonl.gz" | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d["date"] >= "2025-01-01" and d["files"] == ["net/netfilter/nf_tables_api.c"] and d["message"]:
        subj, msg = d["clean_subject"].replace("\x27", "\x27\x27"), d["message"].replace("\x27", "\x27\x27")
        print("INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents, subject, message) "
              "VALUES (1, \x27'$SHA'\x27, \x27A\x27, \x27a@x\x27, '$WHEN', '$WHEN', \x27\x27, 1, \x27%s\x27, \x27%s\n\n%s\x27);" % (subj, subj, msg))
        print("INSERT INTO commit_files (commit_id, path, status) VALUES (1, \x27net/netfilter/nf_tables_api.c\x27, \x27M\x27);")
        break
' >commit.sql
[ -s commit.sql ] || skip_all "no netfilter mail of 2025 touching only nf_tables_api.c in the shared data"
sqlite3 pg.db <commit.sql || fail "insert commit"
$PG --db pg.db classify --all --json >p0.json || fail "classify without history"
$PG --db pg.db explain --json "$SHA" >e0.json || fail "explain without history"

# CNA records as `patchgap cve import` stores them: three earlier CVEs on the file,
# one published after the commit, one whose fix is this very commit, one on another file
cve() { # id, published, path
	echo "INSERT INTO cves (id, year, num, state, published, layout, source_path, content_hash) VALUES ('$1', ${1:4:4}, ${1:9}, 'published', '$2', 'vulns', 'x', 'h');"
	echo "INSERT INTO cve_files (cve_id, seq, path) VALUES ('$1', 0, '$3');"
}
{
	cve CVE-2024-1001 2024-03-01T10:00:00.000Z net/netfilter/nf_tables_api.c
	cve CVE-2024-1002 2024-07-15T10:00:00.000Z net/netfilter/nf_tables_api.c
	cve CVE-2025-1003 2025-02-01T10:00:00.000Z net/netfilter/nf_tables_api.c
	cve CVE-2025-1004 2025-08-01T10:00:00.000Z net/netfilter/nf_tables_api.c
	cve CVE-2025-1005 2025-03-01T10:00:00.000Z net/netfilter/nf_tables_api.c
	echo "INSERT INTO cve_fixes (cve_id, sha, source) VALUES ('CVE-2025-1005', '$SHA', 'cna');"
	cve CVE-2024-1006 2024-03-01T10:00:00.000Z net/ipv4/tcp.c
} | sqlite3 pg.db || fail "insert CVEs"
$PG --db pg.db classify --all --json >p1.json || fail "classify with history"
$PG --db pg.db explain --json "$SHA" >e1.json || fail "explain with history"
python3 - <<'PY' && ok "three earlier CVEs on the file: feature log2(1 + 3) = 2, named in explain" || fail "history feature in explain"
import json
def feat(path):
    fs = json.load(open(path))[0]["features"]
    return [f for f in fs if f["feature"] == "history:earlier_cves_same_file"]
assert feat("e0.json") == [], feat("e0.json")
f = feat("e1.json")
# the value is contribution / weight (stage 2: v x)
assert len(f) == 1 and f[0]["stage"] == 2 and f[0]["weight"] > 0, f
assert abs(f[0]["contribution"] - 2 * f[0]["weight"]) < 1e-5, f
PY
check "the score rises with the file's CVE history" python3 -c '
import json
# classify --json lists flagged commits only: compare the scores through explain
e0 = json.load(open("e0.json"))[0]["p_security"]; e1 = json.load(open("e1.json"))[0]["p_security"]
assert e1 > e0, (e0, e1)'

# JSON Lines input: the count is read, and checked
printf '%s\n' '{"id":"a","subject":"netfilter: nf_tables: fix a use-after-free","message":"x","files":["net/netfilter/nf_tables_api.c"],"history_cves":3}' \
	'{"id":"b","subject":"netfilter: nf_tables: fix a use-after-free","message":"x","files":["net/netfilter/nf_tables_api.c"]}' >h.jsonl
$PG classify --input h.jsonl --json >h.json || fail "classify jsonl with history_cves"
check "history_cves in JSON Lines raises the score" python3 -c '
import json; o = json.load(open("h.json")); assert o[0]["p_security"] > o[1]["p_security"], o'
printf '%s\n' '{"subject":"a","message":"b","history_cves":-2}' >bad.jsonl
rc=0
$PG classify --input bad.jsonl >/dev/null 2>err.txt || rc=$?
check "a negative history_cves is malformed input naming the line and field (exit $rc)" \
	bash -c "[ $rc = 4 ] && grep -q 'line 1' err.txt && grep -q history_cves err.txt"
finish
