#!/bin/bash
# t8004-report-lead: `patchgap report` shows, per list and tree, how many
# days a fix was visible on a list before its mainline commit and before
# its CVE (the figures of `lists lead`, which computes them), in text,
# JSON and HTML; without linked mails the section is absent.
. "$(dirname "$0")/lib-lists.sh"
cd $T
git init -q -b master repo
cd repo
day $D0 $D0
printf 'int a;\nint b;\n' > a.c
git add . && git commit -q -m "base"
BASE=$(git rev-parse HEAD)
# authored on day 5, committed on day 15
day $((D0 + 86400 * 5)) $((D0 + 86400 * 15))
sed -i 's/int b;/int b = 0;/' a.c
git commit -q -am "netfilter: fix uninitialised b" -m "Link: https://lore.kernel.org/r/fix-a-v2@example.org
Signed-off-by: A U Thor <author@example.org>"
A=$(git rev-parse HEAD)
cd $T
lists_conf
$PG ingest >/dev/null
$PG report > none.txt 2>err || { cat err; fail "report without lists"; }
check "no linked mail: no list section" sh -c "! grep -q 'Visible on a list' none.txt"

{
	# v1 on day 3 (2024-01-04), v2 on day 5: the lead counts from the first version
	mail $A fix-a-v1@example.org "PATCH nf" "s/^Date: .*/Date: Thu, 04 Jan 2024 00:00:00 +0000/"
	mail $A fix-a-v2@example.org "PATCH nf v2"
} | inbox_write
$PG lists ingest --no-classify > li.txt || fail "lists ingest"
check "the commit is linked to its mail" grep -q "^linked 1 commits" li.txt
# the CVE of the fix, published on day 40 (2024-02-10)
cat > CVE-2024-90001.json <<JSON
{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "CVE-2024-90001", "assignerOrgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038", "state": "PUBLISHED",
                 "datePublished": "2024-02-10T00:00:00.000Z"},
 "containers": {"cna": {"providerMetadata": {"orgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038"},
   "title": "netfilter: fix uninitialised b",
   "descriptions": [{"lang": "en", "value": "In the Linux kernel, the following vulnerability has been resolved: b."}],
   "affected": [{"product": "Linux", "vendor": "Linux", "defaultStatus": "unaffected", "programFiles": ["a.c"],
     "repo": "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git",
     "versions": [{"version": "$BASE", "lessThan": "$A", "status": "affected", "versionType": "git"}]}],
   "references": [{"url": "https://git.kernel.org/stable/c/$A"}]}}}
JSON
$PG cve import CVE-2024-90001.json >/dev/null 2>err || { cat err; fail "cve import"; }

$PG report > r.txt 2>err || { cat err; fail "report"; }
check "text: days before the commit and before the CVE, per list and tree" \
	grep -Eq "^  netdev nf +1 commits: 12 days before the mainline commit \(max 12\), 37 days before the CVE \(1 with a CVE\)" r.txt
$PG lists lead --json > lead.json
$PG report --json > r.json 2>err || { cat err; fail "report --json"; }
check "json: list_lead is lists lead's rows" python3 -c "
import json; r=json.load(open('r.json'))['list_lead']; l=json.load(open('lead.json'))
l=l.get('lead', l) if isinstance(l, dict) else l
assert r==l, (r, l)
assert any(x['subsystem']=='netdev nf' and x['median_days_before_commit']==12 and x['median_days_before_cve']==37 for x in r), r"
$PG report --format html --out r.html 2>err || { cat err; fail "report html"; }
check "html: the table" grep -q "<td>netdev nf</td><td>1</td><td>12</td><td>12</td><td>1</td><td>37</td>" r.html
check "html: still standalone" sh -c '! grep -qiE "https?:|src=|href=" r.html'
finish
