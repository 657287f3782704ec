#!/bin/bash
# t6005: advisories from the database: a real git history is ingested, the
# affectedness engine decides per tracked branch, 'patchgap advisory --id'
# turns that into documents (a silent fix by commit id, and a CVE imported
# with 'patchgap cve import').  Checks the per-branch statuses in CSAF /
# OpenVEX / OSV / text, schema validity (when ajv is installed by t6001),
# and that a backport landing on the vendor branch gives revision 2 of the
# same document with the vendor branch now fixed.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq not available"
jqc() { jq -e "$@" >/dev/null; }

R=$T/repo
git init -q -b master "$R"
commit net/core/a.c a1 "net: initial"; g tag -a v6.0 -m v6.0
commit net/core/a.c a2 "net: add frobnication"; A=$(g rev-parse HEAD)
g tag -a v6.1 -m v6.1
commit net/core/a.c a3 "net: fix use-after-free in frobnicate()

The frob buffer is freed while still queued.

Fixes: ${A:0:12} (\"net: add frobnication\")
Cc: stable@vger.kernel.org
Signed-off-by: X <x@example.org>"
F=$(g rev-parse HEAD)
commit mm/b.c b1 "mm: unrelated"; g tag -a v6.2 -m v6.2
g checkout -q -b linux-6.1.y v6.1
tick; g cherry-pick "$F" >/dev/null
tick; g commit -q --amend -m "net: fix use-after-free in frobnicate()

commit $F upstream.

Fixes: ${A:0:12} (\"net: add frobnication\")"
B=$(g rev-parse HEAD)
g tag -a v6.1.1 -m v6.1.1
g checkout -q -b linux-6.0.y v6.0
commit fs/c.c c1 "fs: stable 6.0 change"; g tag -a v6.0.1 -m v6.0.1
g checkout -q -b vendor v6.1
commit vendor/x.c x1 "vendor: local change"
g checkout -q master

write_conf $T/patchgap.conf master:mainline linux-6.1.y:stable linux-6.0.y:stable vendor:vendor:linux-6.1.y
cd $T
# ingest is only the setup here (t1000 tests it): its leak report (libgit2's regex, via
# the config) must not fail this test.  Every other step names the database with --db,
# so it runs with full ASan/LSan checks.
ingest() { PATCHGAP_CONFIG=$T/patchgap.conf ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	$PG --quiet ingest >/dev/null 2>ingest.err || { echo "ingest failed"; tail -30 ingest.err; exit 1; }; }
export PATCHGAP_CONFIG=$T/none.conf
PG="$PG --db $T/pg.db"
ingest

# --- a silent fix, by commit id --------------------------------------------
$PG advisory --format all --id "$F" --out out >log1 2>err || { cat err; exit 1; }
DOC=PGAP-PGSA-${F:0:12}
check "document id from the fix commit" grep -q "^$DOC revision 1" log1
C=out/$DOC.csaf.json
check "mainline fixed" jqc '.vulnerabilities[0].product_status.fixed | index("master") != null' $C
check "6.1.y fixed by its backport" jqc '.vulnerabilities[0].product_status.fixed | index("linux-6.1.y") != null' $C
check "6.0.y not affected (bug entered after v6.0)" jqc '.vulnerabilities[0].product_status.known_not_affected == ["linux-6.0.y"]' $C
check "vendor affected" jqc '.vulnerabilities[0].product_status.known_affected == ["vendor"]' $C
check "vendor remediation names the fix" jqc --arg f "$F" '.vulnerabilities[0].remediations[] | select(.product_ids == ["vendor"]) | .details | contains($f)' $C
check "not-affected flag with justification" jqc '.vulnerabilities[0].flags[0].label == "vulnerable_code_not_present"' $C
check "title is the fix subject" jqc '.vulnerabilities[0].title == "net: fix use-after-free in frobnicate()"' $C
check "no CVE JSON 5 for a silent fix" test ! -e out/$DOC.cve5.json
O=out/$DOC.osv.json
check "OSV GIT range of 6.1.y = introducer..backport" jqc --arg a "$A" --arg b "$B" \
	'[.affected[] | select(.ecosystem_specific.product == "linux-6.1.y") | .ranges[] | select(.type == "GIT") | .events] == [[{"introduced": $a}, {"fixed": $b}]]' $O
check "OSV ECOSYSTEM range of 6.1.y = 6.1..6.1.1" jqc \
	'[.affected[] | select(.ecosystem_specific.product == "linux-6.1.y") | .ranges[] | select(.type == "ECOSYSTEM") | .events] == [[{"introduced": "6.1"}, {"fixed": "6.1.1"}]]' $O
check "OSV vendor range open" jqc --arg a "$A" \
	'[.affected[] | select(.ecosystem_specific.product == "vendor") | .ranges[0].events] == [[{"introduced": $a}]]' $O
check "OpenVEX affected statement has an action" jqc '.statements[] | select(.products[0]["@id"] | endswith("#vendor")) | .status == "affected" and (.action_statement | length > 0)' out/$DOC.openvex.json
$PG advisory --format text --id "${F:0:10}" --branch vendor >vendor.txt 2>err || { cat err; exit 1; }
check "text for the vendor branch: status and what to do" grep -q "^What to do: backport needed" vendor.txt
check "text names the files" grep -q "net/core/a.c" vendor.txt
rc=0; $PG advisory --format text --id "$F" --branch nope >/dev/null 2>err || rc=$?
check "unknown branch: exit 3" test $rc = 3
check "unknown branch: message" grep -q "branch 'nope' is not tracked" err

# --- a CVE imported into the database ---------------------------------------
cat > CVE-2026-90001.json <<JSON
{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "CVE-2026-90001", "assignerOrgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038", "state": "PUBLISHED",
                 "datePublished": "2026-02-02T10:00:00.000Z"},
 "containers": {"cna": {"providerMetadata": {"orgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038"},
   "title": "net: fix use-after-free in frobnicate()",
   "descriptions": [{"lang": "en", "value": "In the Linux kernel, the following vulnerability has been resolved: frob."}],
   "affected": [{"product": "Linux", "vendor": "Linux", "defaultStatus": "unaffected", "programFiles": ["net/core/a.c"],
     "repo": "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git",
     "versions": [{"version": "$A", "lessThan": "$F", "status": "affected", "versionType": "git"}]}],
   "references": [{"url": "https://git.kernel.org/stable/c/$F"}]}}}
JSON
$PG cve import CVE-2026-90001.json >/dev/null 2>err || { cat err; exit 1; }
$PG advisory --format all --id CVE-2026-90001 --out cve >/dev/null 2>err || { cat err; exit 1; }
check "CVE document: CVE JSON 5 written" test -s cve/PGAP-CVE-2026-90001.cve5.json
check "CVE document: vendor affected, unfixed git range" jqc --arg a "$A" \
	'[.containers.cna.affected[].versions[] | select(.versionType == "git" and .lessThan == null) | .version] == [$a]' cve/PGAP-CVE-2026-90001.cve5.json
check "CVE document: dated from the CVE" jqc '.document.tracking.initial_release_date >= "2026-02-02T10:00:00Z"' cve/PGAP-CVE-2026-90001.csaf.json
check "CVE document: description from the record" jqc '.vulnerabilities[0].notes[] | select(.category == "description") | .text | contains("frob")' cve/PGAP-CVE-2026-90001.csaf.json

# --- the patch-gap report from the same database -----------------------------
$PG report --json >report.json 2>err || { cat err; exit 1; }
FT=$(g log -1 --format=%ct "$F"); BT=$(g log -1 --format=%ct "$B")
check "report: two fixes (6.1.y closed, vendor open; 6.0.y not affected)" jqc '.fixes_total == 2 and .fixes_open == 1' report.json
check "report: 6.1.y window = backport date - fix date" jqc --argjson w "$(( BT - FT ))" \
	'.fixes[] | select(.branch == "linux-6.1.y") | (.window_days * 86400 | round) == $w and .branch_tag == "v6.1.1" and .mainline_release == "v6.2"' report.json
check "report: vendor open since the fix, as of the CVE date" jqc --argjson ft "$FT" \
	'.fixes[] | select(.branch == "vendor") | .open and ((.open_age_days * 86400 - (("2026-02-02T10:00:00Z" | fromdateiso8601) - $ft)) | if . < 0 then -. else . end) < 100' report.json
check "report: subsystem from the fix's files" jqc '.groups.subsystem | has("net/core")' report.json
$PG report --format html --out report.html 2>err || { cat err; exit 1; }
check "report: html standalone" bash -c '! grep -qiE "https?:|src=|href=" report.html'
rc=0; $PG report --branch nope >/dev/null 2>err || rc=$?
check "report: unknown branch exit 3" test $rc = 3

# --- the vendor branch picks up the fix: revision 2 -------------------------
g checkout -q vendor
tick; g cherry-pick -x "$F" >/dev/null
g checkout -q master
ingest
$PG advisory --format all --id "$F" --out out2 >log2 2>err || { cat err; exit 1; }
check "same document, revision 2" grep -q "^$DOC revision 2" log2
C2=out2/$DOC.csaf.json
check "vendor now fixed" jqc '.vulnerabilities[0].product_status.fixed | index("vendor") != null' $C2
check "revision history grew" jqc '(.document.tracking.revision_history | length) == 2 and .document.tracking.current_release_date > .document.tracking.initial_release_date' $C2
$PG advisory --format all --id "$F" --out out3 >log3 2>err || { cat err; exit 1; }
check "unchanged: still revision 2" grep -q "^$DOC revision 2" log3
for f in out2/*; do check "byte-identical re-run: $(basename $f)" cmp -s "$f" "out3/$(basename $f)"; done

# --- schema validation, when the schemas and ajv are available ---------------
if [ -d "$SRC/../shared/schemas" ] && MODS=$("$SRC/tests/integration/lib/need-ajv.sh" "$SRC"); then
	AJVDIR=$(dirname "$MODS")
	jobs=()
	for f in out/*.json out2/*.json cve/*.json; do
		case "$f" in *.osv.json) jobs+=("osv=$f") ;; *.cve5.json) jobs+=("cve5=$f") ;;
		*.csaf.json) jobs+=("csaf=$f") ;; *.openvex.json) jobs+=("openvex=$f") ;; esac
	done
	check "all documents validate against the official schemas" \
		node "$SRC/tests/integration/lib/ajv-validate.js" "$AJVDIR/node_modules" "$SRC/../shared/schemas" "${jobs[@]}"
else
	echo "# no ../shared/schemas or no ajv: schema validation skipped"
fi
finish
