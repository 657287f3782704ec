#!/bin/bash
# t2008-classify-function-history.sh - the function-history evidence from the
# database: an ingested commit whose diff changes foo_rx() (the function git
# names in the hunk header; the message does not name it) is scored with the
# number of CNA records published before it whose description names
# foo_rx(): a record published after the commit and the record whose fix is
# this very commit do not count (no look-ahead, no label), explain names it
# history:earlier_cves_same_function, and without earlier records it is 0.
# The committed model gives the feature weight 0 (doc/model.md), so the test
# scores with a copy of it whose weight is 1 in both heads: the contribution
# explain prints is the value.  JSON Lines input carries the count as
# "history_functions" (checked).
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
cd "$T"
R=$T/repo

# the committed model with weight 1 on the function history in both heads (checksum redone)
python3 - "$SRC/data/model/classify.model" <<'PY' || fail "test model"
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
body = [l for l in lines if l and not l.startswith(b"checksum ")]
for head in (b"diff", b"nodiff"):
    body.append(b"v %s 51 1" % head)
data = b"\n".join(body) + b"\n"
h = 1469598103934665603
for c in data:
    h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
open("m.model", "wb").write(data + b"checksum %016x\n" % h)
PY

git init -q -b master "$R"
mkdir -p "$R/drivers/net"
body='int foo_rx(struct foo *f, size_t len)\n{\n\tint a = 1;\n\tint b = 2;\n\tint c = 3;\n%s\tmemcpy(f->buf, f->data, len);\n\treturn a + b + c;\n}\n'
# shellcheck disable=SC2059
{ printf '#include <foo.h>\n\nstatic int other(void)\n{\n\treturn 0;\n}\n\n'; printf "$body" ''; } >"$R/drivers/net/foo.c"
tick; g add -A; g commit -qm "foo: add the foo driver"
# shellcheck disable=SC2059
{ printf '#include <foo.h>\n\nstatic int other(void)\n{\n\treturn 0;\n}\n\n'; printf "$body" '\tif (len > sizeof(f->buf))\n\t\treturn -EINVAL;\n'; } >"$R/drivers/net/foo.c"
tick; g commit -qam "net: foo: check the length before the copy

The receive path copies len bytes into the buffer without checking len."
FIX=$(g rev-parse HEAD)
check "git names foo_rx in the fix's hunk header, the message does not" \
	bash -c "git -C '$R' show $FIX | grep -q '^@@ .* @@ int foo_rx(' && ! git -C '$R' log -1 --format=%B $FIX | grep -q foo_rx"
write_conf patchgap.conf master:mainline
$PG --conf patchgap.conf ingest >/dev/null 2>ingest.err || { cat ingest.err; fail "ingest"; }

# CNA records as `patchgap cve import` stores them (the commit is of 2023-11-14)
cve() { # id, published, description
	echo "INSERT INTO cves (id, year, num, state, published, description, layout, source_path, content_hash) VALUES ('$1', ${1:4:4}, ${1:9}, 'published', '$2', '$3', 'vulns', 'x', 'h');"
}
{
	cve CVE-2023-2001 2023-06-01T10:00:00.000Z 'net: foo: fix an overflow; foo_rx() trusts the length.'
	cve CVE-2023-2002 2023-09-01T10:00:00.000Z 'In the foo driver, foo_rx() and other() leak memory.'
	cve CVE-2023-2003 2023-10-01T10:00:00.000Z 'A race in foo_rx(struct foo *f).'
	cve CVE-2024-2004 2024-03-01T10:00:00.000Z 'After the commit: foo_rx() again.'
	cve CVE-2023-2005 2023-08-01T10:00:00.000Z 'This very fix: foo_rx() copies too much.'
	echo "INSERT INTO cve_fixes (cve_id, sha, source) VALUES ('CVE-2023-2005', '$FIX', 'cna');"
	cve CVE-2023-2006 2023-06-01T10:00:00.000Z 'bar_tx() is another function.'
} | sqlite3 pg.db || fail "insert CVEs"

feat() { # sha -> the function-history contribution (weight 1), "-" when absent
	$PG --conf patchgap.conf explain --model m.model --top 100 --json "$1" | python3 -c '
import json, sys
fs = {f["feature"]: f["contribution"] for f in json.load(sys.stdin)[0]["features"]}
print("%g" % fs["history:earlier_cves_same_function"] if "history:earlier_cves_same_function" in fs else "-")'
}
got=$(feat "$FIX") || fail "explain the fix"
check "three earlier records name foo_rx (not the later one, not its own): log2(1 + 3) = 2 (got $got)" [ "$got" = 2 ]
got=$(feat "$(g rev-parse HEAD~1)") || fail "explain the first commit"
check "a commit naming no function has none (got $got)" [ "$got" = - ]
$PG --conf patchgap.conf classify --all --model m.model --recall 1 --json >c1.json || fail "classify with history"
sqlite3 pg.db "DELETE FROM cves WHERE id IN ('CVE-2023-2001', 'CVE-2023-2002', 'CVE-2023-2003')" || fail "delete"
got=$(feat "$FIX") || fail "explain the fix without earlier records"
check "only a later record and its own record name foo_rx: 0 (got $got)" [ "$got" = - ]

# JSON Lines input: the count is read, and checked
printf '%s\n' '{"id":"a","subject":"net: foo: fix a use-after-free","message":"x","files":["drivers/net/foo.c"],"history_functions":3}' \
	'{"id":"b","subject":"net: foo: fix a use-after-free","message":"x","files":["drivers/net/foo.c"]}' >h.jsonl
$PG classify --input h.jsonl --model m.model --json >h.json || fail "classify jsonl with history_functions"
check "history_functions in JSON Lines raises the score" python3 -c '
import json; o = json.load(open("h.json")); assert o[0]["p_security"] > o[1]["p_security"], o'
printf '%s\n' '{"subject":"a","message":"b","history_functions":"many"}' >bad.jsonl
rc=0
$PG classify --input bad.jsonl >/dev/null 2>err.txt || rc=$?
check "a history_functions that is not a count is malformed input naming the line and field (exit $rc)" \
	bash -c "[ $rc = 4 ] && grep -q 'line 1' err.txt && grep -q history_functions err.txt"
finish
