#!/bin/bash
# t9003: the triage screen in a real browser (Debian chromium + chromedriver,
# python3-selenium, headless): the matrix, filters, j/k and /, the fix page,
# the classifier's explanation and a conflicting backport hunk on the fix
# page, a decision submitted from the form, which then shows in `patchgap status`
# and in the OpenVEX advisory.  The fix subject holds <script> and <img
# onerror>, the vendor branch name <svg onload>: every view shows them as
# text and nothing runs.  Screenshots go to <build>/screenshots/.
. "$(dirname "$0")/lib.sh"
XSS=1
. "$(dirname "$0")/lib-serve.sh"
"$SRC/tools/deps.sh" chromium chromium-driver python3-selenium >/dev/null 2>&1 ||
	skip_all "chromium, chromium-driver or python3-selenium not installed (tools/deps.sh)"
/usr/bin/python3 -c "import selenium" 2>/dev/null || skip_all "Debian python3 cannot import selenium"
command -v jq >/dev/null || skip_all "jq not available"
command -v curl >/dev/null || skip_all "curl not available"
jqc() { jq -e "$@" >/dev/null; }
cd $T
serve_repo
TRI=$($PG --db $DB token add browser --role triager 2>/dev/null)
# a recorded backport run that conflicts on a line holding markup: the fix page shows its hunk as text
git -C repo branch -q conflicting v6.1
git -C repo checkout -q conflicting
echo '<script>window.__xss=4</script>' >> repo/net/core/a.c
git -C repo commit -q -am "net: local change at the end of a.c"
git -C repo checkout -q master
$PG --conf $T/patchgap.conf backport $F --onto conflicting --no-branch >/dev/null 2>&1 || true
serve_start --public-read
curl -s -D hdr "$URL/" >index.html
check "the page loads one same-origin script and no inline code" bash -c \
	"[ \$(grep -c '<script' index.html) = 1 ] && grep -q '<script src=\"/app.js\" defer></script>' index.html && ! grep -qiE ' on[a-z]+=' index.html"
check "CSP forbids inline scripts" bash -c "grep -i '^Content-Security-Policy:' hdr | grep -q \"script-src 'self';\""
check "the screen is HTML" grep -qi '^Content-Type: text/html' hdr
curl -s "$URL/api/v1/branches" >br.json
check "API: hostile branch name is a plain JSON string" jqc --arg b "$VENDOR" '.[2].name == $b' br.json
SHOTS=${PATCHGAP_BUILD:-$SRC/build}/screenshots
/usr/bin/python3 "$SRC/tests/integration/serve-browser.py" "$URL" "$SHOTS" "$TRI" || fail "browser checks"
serve_stop
$PG --db $DB status "$VENDOR" >st.txt
check "status: the screen's decision is in force" grep -q "^DECIDED CVE-2026-90001 .* not_affected (engine: unfixed)" st.txt
check "status: decided by the token's name" grep -q "decided by browser on .*: frob is never queued" st.txt
$PG --db $DB advisory --id CVE-2026-90001 --format openvex --out adv >/dev/null
check "OpenVEX: not_affected with the decision's justification and reason" jqc --arg b "$VENDOR" \
	'[.statements[] | select(.products[0]["@id"] | endswith("#" + $b))][0] | .status == "not_affected" and .justification == "vulnerable_code_not_in_execute_path" and (.impact_statement | startswith("decided by browser on"))' \
	adv/PGAP-CVE-2026-90001.openvex.json
$PG --db $DB report --json >report.json
check "report: the fix decided not affected on the vendor branch is no open exposure" jqc '.fixes_open == 0' report.json
for v in matrix fix fix-decided report; do
	check "screenshot $v.png" test -s "$SHOTS/$v.png"
done
finish
