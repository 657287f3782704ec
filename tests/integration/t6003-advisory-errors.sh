#!/bin/bash
# t6003: bad input to 'patchgap advisory' gives a clear error naming the
# input and the problem and the documented exit code, never a crash.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
P=$PATCHGAP_BIN
expect() { # exit-code, stderr-substring, args...
	local want=$1 msg=$2; shift 2
	local rc
	(cd "$T" && PATCHGAP_CONFIG="$T/none.conf" "$P" "$@") >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
	grep -qF -- "$msg" "$T/err" || fail "'$*': stderr lacks '$msg': $(cat "$T/err")"
}
$P advisory --help | grep -q "^usage: patchgap" || fail "--help"
expect 2 "--format is required" advisory --model x.json
expect 2 "'pdf' is not an advisory format" advisory --format pdf --model x.json
expect 2 "give exactly one of" advisory --format csaf
expect 2 "--cve-jsonl needs --id" advisory --format csaf --cve-jsonl x.gz
expect 2 "give --out DIR" advisory --format all --model x.json
expect 1 "cannot open 'missing.json'" advisory --format csaf --model missing.json
printf '{"id": "X", "products": [' >"$T/trunc.json"
expect 4 "trunc.json: invalid JSON" advisory --format csaf --model trunc.json
echo '{"id": "X", "products": [{"id": "p"}], "vulnerabilities": [{"id": "V", "states": [{"product": "q", "status": "fixed"}]}]}' >"$T/unk.json"
expect 4 "unknown product 'q'" advisory --format osv --model unk.json
echo '{"id": "X", "products": [{"id": "p"}], "vulnerabilities": [{"id": "V", "states": [{"product": "p", "status": "fixed", "fix_sha": "abc123"}]}]}' >"$T/sha.json"
expect 4 "'abc123'" advisory --format osv --model sha.json
echo '{"id": "X", "products": [], "vulnerabilities": []}' >"$T/empty.json"
expect 4 "lists no product" advisory --format csaf --model empty.json
echo '{"id": "X", "products": [{"id": "p"}], "vulnerabilities": [{"id": "PGSA-1", "states": []}]}' >"$T/nocve.json"
expect 4 "needs a CVE id" advisory --format cve5 --model nocve.json
printf 'not gzip, not json\n' >"$T/junk.jsonl"
expect 3 "CVE-2024-0001 is not in 'junk.jsonl'" advisory --format csaf --cve-jsonl junk.jsonl --id CVE-2024-0001
printf '{"id":"CVE-2024-0001", "state": "published", "dyad": [{"vuln_version": "6.1", "vuln_sha": "zz", "fix_version": "6.2", "fix_sha": "0"}]}\n' >"$T/baddyad.jsonl"
expect 4 "malformed commit id" advisory --format csaf --cve-jsonl baddyad.jsonl --id CVE-2024-0001
expect 4 "'NOPE' is not a CVE id" advisory --format csaf --cve-jsonl baddyad.jsonl --id NOPE
DATA=${PATCHGAP_SHARED_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data}
if [ -r "$DATA/kernel-cves.jsonl.gz" ]; then
	expect 3 "CVE-1999-0001 is not in" advisory --format text --cve-jsonl "$DATA/kernel-cves.jsonl.gz" --id CVE-1999-0001
fi
echo "ok errors"
