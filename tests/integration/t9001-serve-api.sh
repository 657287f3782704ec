#!/bin/bash
# t9001: `patchgap serve` over real HTTP on 127.0.0.1: the read API answers
# what the CLI prints, tokens gate reads and writes (stored hashed, shown
# once), bad requests get 400 naming the field, oversize bodies 413, every
# answer has a Content-Type and the security headers and no CORS header,
# and the watch daemon's events table may be empty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-serve.sh"
command -v curl >/dev/null || skip_all "curl not available"
command -v jq >/dev/null || skip_all "jq not available"
jqc() { jq -e "$@" >/dev/null; }
cd $T
serve_repo

READ=$($PG --db $DB token add reader1 --role reader 2>/dev/null)
TRI=$($PG --db $DB token add tri1 --role triager 2>/dev/null)
check "token printed once, well-formed" bash -c "[[ '$READ' =~ ^pgt_[0-9a-f]{40}$ ]]"
check "token not stored in clear" bash -c "! sqlite3 $DB .dump | grep -q '${READ#pgt_}'"
rc=0; $PG --db $DB token add reader1 --role reader >/dev/null 2>err || rc=$?
check "same name twice refused" test $rc != 0
rc=0; $PG --db $DB token add x --role boss >/dev/null 2>err || rc=$?
check "bad role: usage exit 2" test $rc = 2
$PG --db $DB token list --json >tokens.json
check "token list has names and roles, no secrets" jqc '[.[].role] == ["reader", "triager"] and (tostring | contains("pgt_") | not)' tokens.json

serve_start
H="Authorization: Bearer $READ"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "read without token: 401" test "$(code $URL/api/v1/branches)" = 401
check "read with unknown token: 401" test "$(code -H 'Authorization: Bearer pgt_0000000000000000000000000000000000000000' $URL/api/v1/branches)" = 401
curl -s -D hdr -H "$H" $URL/api/v1/branches >branches.json
check "branches: the tracked ones" jqc '[.[].name] == ["master", "linux-6.1.y", "vendor"]' branches.json
check "header: JSON content type" grep -qi '^Content-Type: application/json' hdr
check "header: CSP without unsafe-inline" bash -c "grep -i '^Content-Security-Policy:' hdr | grep -q \"script-src 'self'\" && ! grep -qi unsafe-inline hdr"
check "header: nosniff" grep -qi '^X-Content-Type-Options: nosniff' hdr
check "header: no CORS" bash -c "! grep -qi '^Access-Control' hdr"

curl -s -H "$H" $URL/api/v1/branches/vendor/status >st.json
$PG --db $DB status vendor --json >cli-st.json
check "status over HTTP = patchgap status --json" jqc --slurpfile c cli-st.json '. == $c[0]' st.json
check "status: the CVE is open on vendor" jqc --arg c $CVE '.unfixed[0].id == $c' st.json
check "unknown branch: 404" test "$(code -H "$H" $URL/api/v1/branches/nope/status)" = 404
curl -s -H "$H" "$URL/api/v1/cves?state=published&q=frob" >cves.json
check "cves: filtered list" jqc --arg c $CVE '.total == 1 and .items[0].id == $c' cves.json
curl -s -H "$H" "$URL/api/v1/cves?priority=critical&branch=vendor" >cves2.json
check "cves: open on vendor and critical" jqc '.total == 1' cves2.json
curl -s -H "$H" "$URL/api/v1/cves?branch=linux-6.1.y" >cves3.json
check "cves: nothing open on 6.1.y" jqc '.total == 0' cves3.json
curl -s -H "$H" "$URL/api/v1/cves?bogus=1" -o bad.json -w '%{http_code}' >code
check "unknown query parameter: 400 naming it" bash -c "[ \$(cat code) = 400 ] && jq -e '.field == \"bogus\"' bad.json >/dev/null"
check "bad page: 400 naming it" jqc '.field == "page"' <(curl -s -H "$H" "$URL/api/v1/cves?page=x")
$PG --conf $T/patchgap.conf backport $F --onto vendor --no-branch >/dev/null 2>err || { cat err; exit 1; }
curl -s -H "$H" $URL/api/v1/cves/$CVE >cve.json
check "cve: the recorded backport run with its live-patch verdict" jqc '.backports[0].status == "clean" and .backports[0].onto_ref == "refs/heads/vendor" and .backports[0].livepatch == "likely"' cve.json
check "cve: record, dyad lines, per-branch verdicts" jqc --arg a "$A" '.record.id != null and (.dyad | length) == 2 and .branches.vendor.state == "affected" and .branches["linux-6.1.y"].state == "fixed" and .decisions == []' cve.json
# a run that conflicts: a branch whose a.c grew its own line where the fix appends
git -C repo branch -q conflicting v6.1
git -C repo checkout -q conflicting
echo local-change >> repo/net/core/a.c
git -C repo commit -q -am "net: local change at the end of a.c"
git -C repo checkout -q master
$PG --conf $T/patchgap.conf backport $F --onto conflicting --no-branch >/dev/null 2>err || true
curl -s -H "$H" $URL/api/v1/cves/$CVE >cve-conf.json
check "cve: a conflict run carries its conflicting hunks" jqc '[.backports[] | select(.status == "conflict")][0]
	| .conflict_hunks[0].path == "net/core/a.c" and (.conflict_hunks[0].hunks[0].ours.text | contains("local-change"))
	and (.conflict_hunks[0].hunks[0].theirs.text | contains("a3"))' cve-conf.json
check "cve: a clean run has no hunks" jqc '.backports[0].conflict_hunks == []' cve-conf.json
check "cve of a fix commit id (silent fix view)" test "$(code -H "$H" $URL/api/v1/cves/${F:0:12})" = 200
check "unknown CVE: 404" test "$(code -H "$H" $URL/api/v1/cves/CVE-2020-0001)" = 404
curl -s -H "$H" $URL/api/v1/commits/${F:0:12} >commit.json
check "commit: by abbreviated id" jqc --arg f "$F" '.sha == $f' commit.json
$PG --conf $T/patchgap.conf explain $F --json >explain.json
check "commit: the classifier's explanation, as patchgap explain --json prints it" jqc --slurpfile e explain.json '.explanation == $e[0][0] and (.explanation.features | length) > 0' commit.json
check "bad commit id: 400 naming sha" jqc '.field == "sha"' <(curl -s -H "$H" $URL/api/v1/commits/xyz)
curl -s -H "$H" $URL/api/v1/report >report.json
check "report: the patch-gap data" jqc '.fixes_total == 2 and .fixes_open == 1' report.json
curl -s -H "$H" "$URL/api/v1/events?after=0" >ev.json
check "events without a watch daemon: empty list" jqc '.events == [] and .last == 0' ev.json
curl -s -D hdr2 -H "$H" "$URL/api/v1/advisories/$CVE?format=openvex&branch=vendor" >vex.json
check "advisory download: OpenVEX, attachment" bash -c "jq -e '.statements | length == 1' vex.json >/dev/null && grep -qi '^Content-Disposition: attachment' hdr2"
check "advisory: bad format is 400 naming format" jqc '.field == "format"' <(curl -s -H "$H" "$URL/api/v1/advisories/$CVE?format=pdf")
check "unknown route: 404" test "$(code -H "$H" $URL/api/v1/nothing)" = 404
check "unknown API version: 404" test "$(code -H "$H" $URL/api/v2/branches)" = 404
check "DELETE on a read route: 405" test "$(code -X DELETE -H "Authorization: Bearer $TRI" $URL/api/v1/branches)" = 405

# writes
post() { curl -s -o post.json -w '%{http_code}' -H "Content-Type: application/json" "$@" $URL/api/v1/decisions; }
BODY='{"target":"'$CVE'","branch":"vendor","state":"will_not_fix","note":"EOL soon"}'
check "write with reader token: 403" test "$(post -H "$H" -d "$BODY")" = 403
check "write without token: 401" test "$(post -d "$BODY")" = 401
check "write with triager token: 201" test "$(post -H "Authorization: Bearer $TRI" -d "$BODY")" = 201
check "decision author is the token's name" jqc '.author == "tri1" and .state == "will_not_fix"' post.json
bad_field() { # body, field
	local c; c=$(post -H "Authorization: Bearer $TRI" -d "$1")
	[ "$c" = 400 ] && jq -e --arg f "$2" '.field == $f' post.json >/dev/null || { echo "got $c: $(cat post.json)"; return 1; }
}
check "unknown field: 400 naming it" bad_field '{"target":"'$CVE'","branch":"vendor","state":"fixed","note":"x","extra":1}' extra
check "bad state: 400 state" bad_field '{"target":"'$CVE'","branch":"vendor","state":"maybe","note":"x"}' state
check "not_affected without justification: 400" bad_field '{"target":"'$CVE'","branch":"vendor","state":"not_affected","note":"x"}' justification
check "bad justification: 400" bad_field '{"target":"'$CVE'","branch":"vendor","state":"not_affected","justification":"because","note":"x"}' justification
check "unknown branch: 400 branch" bad_field '{"target":"'$CVE'","branch":"nope","state":"fixed","note":"x"}' branch
check "unknown CVE: 400 target" bad_field '{"target":"CVE-2020-0001","branch":"vendor","state":"fixed","note":"x"}' target
check "missing note: 400 note" bad_field '{"target":"'$CVE'","branch":"vendor","state":"fixed"}' note
check "non-string value: 400 naming it" bad_field '{"target":"'$CVE'","branch":"vendor","state":"fixed","note":3}' note
check "not JSON: 400" test "$(post -H "Authorization: Bearer $TRI" -d '{"target":')" = 400
head -c 70000 /dev/zero | tr '\0' 'a' >big
check "body over 64 KiB: 413" test "$(post -H "Authorization: Bearer $TRI" --data-binary @big)" = 413
check "after bad requests: one decision stored" test "$(sqlite3 $DB 'select count(*) from decisions')" = 1

# public reads
serve_stop
serve_start --public-read
check "public-read: GET without token" test "$(code $URL/api/v1/branches)" = 200
check "public-read: POST still needs a token" test "$(post -d "$BODY")" = 401
serve_stop
check "server exits 0 on SIGTERM" bash -c "! grep -q 'serve exited' $T/serve.err"

# TLS when [serve] cert and key name PEM files (the config in the current directory)
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 2 -keyout key.pem -out cert.pem >/dev/null 2>&1
	printf '[serve]\n\tcert = cert.pem\n\tkey = key.pem\n\tpublic-read = true\n' >>patchgap.conf
	serve_start
	check "TLS: the URL is https" bash -c "[[ '$URL' == https://* ]]"
	check "TLS: API answers over HTTPS" test "$(curl -s -k -o /dev/null -w '%{http_code}' $URL/api/v1/branches)" = 200
	check "TLS: plain HTTP is not answered" bash -c "! curl -s -m 5 -o /dev/null ${URL/https/http}/api/v1/branches"
	serve_stop
fi
finish
