#!/bin/bash
# commit <-> mail links: a commit whose Link: names a stored mail, one whose
# diff has the patch-id of a mail sent by someone else, one that only shares
# subject and author.  `show` names the mail and its first-version date;
# `lists lead` gives the days from the first version to the commit.
. "$(dirname "$0")/lib-lists.sh"
cd $T
git init -q -b master repo
cd repo
day $D0 $D0
printf 'int a;\nint b;\nint c;\n' > a.c; printf 'x\ny\n' > b.c; printf 'u\nv\n' > c.c
git add . && git commit -q -m "base"
# each fix: authored on day N, committed 10 days later
day $((D0 + 86400 * 5)) $((D0 + 86400 * 15))
sed -i 's/int b;/int b = 0;/' a.c
git commit -q -am "netfilter: fix uninitialised b" -m "Link: https://lore.kernel.org/r/fix-a-v2@example.org
Signed-off-by: A U Thor <author@example.org>"
A=$(git rev-parse HEAD)
day $((D0 + 86400 * 6)) $((D0 + 86400 * 16))
sed -i 's/^y$/y2/' b.c
GIT_AUTHOR_NAME=Maint GIT_AUTHOR_EMAIL=maint@example.org git commit -q -am "net: fix overflow in b" \
	-m "Signed-off-by: Maint <maint@example.org>"
B=$(git rev-parse HEAD)
day $((D0 + 86400 * 7)) $((D0 + 86400 * 17))
sed -i 's/^v$/v2/' c.c
git commit -q -am "usb: fix leak in c" -m "Signed-off-by: A U Thor <author@example.org>"
C=$(git rev-parse HEAD)
day $((D0 + 86400 * 8)) $((D0 + 86400 * 18))
echo z >> c.c
git commit -q -am "misc: no mail for this one"
cd $T
{
	# v1 of fix A, two days before v2 (same author, same subject after the tags)
	mail $A fix-a-v1@example.org "PATCH nf" "s/^Date: .*/Date: Wed, 04 Jan 2024 00:00:00 +0000/"
	mail $A fix-a-v2@example.org "PATCH nf v2"
	# fix B sent by its original author; the maintainer committed it under his name
	mail $B fix-b@example.org "PATCH net" "s/^From: .*/From: Orig Dev <orig@example.org>/"
	# fix C: same subject and author, different diff
	mail $C fix-c@example.org "PATCH" "s/^+v2$/+v3/"
} | inbox_write
lists_conf
$PG ingest >/dev/null
$PG lists ingest --no-classify > out.txt
check "four mails, three commits linked" sh -c "grep -q '^netdev: 4 new mails' out.txt && grep -q '^linked 3 commits' out.txt"
how() { sqlite3 pg.db "SELECT m.message_id || ' ' || cm.how FROM commit_mails cm JOIN mails m ON m.id = cm.mail_id WHERE cm.sha = '$1'"; }
check "Link: trailer -> the mail it names" test "$(how $A)" = "fix-a-v2@example.org link"
check "patch-id across authors" test "$(how $B)" = "fix-b@example.org patch-id"
check "subject + author when the diff differs" test "$(how $C)" = "fix-c@example.org subject"
$PG show $A > show.txt
check "show names the mail and the first version's date" \
	grep -q "^mail: <fix-a-v2@example.org> on netdev (link), first version 2024-01-04, 12 days before the commit" show.txt
$PG show $B > showb.txt
check "show: patch-id link, 10 days" grep -q "^mail: <fix-b@example.org> on netdev (patch-id), first version 2024-01-07, 10 days before" showb.txt
$PG lists show fix-a-v1@example.org > v1.txt
check "v1 superseded by v2" sh -c "grep -q '^kind: *patch, version 1 (superseded)' v1.txt && grep -q '^version 1: ' v1.txt && grep -q '^version 2: ' v1.txt"
$PG lists lead > lead.txt
check "lead time per list and tree" sh -c "grep -Eq '^netdev nf +1 +12 ' lead.txt && grep -Eq '^netdev net +1 +10 ' lead.txt && grep -Eq '^netdev +1 +10 ' lead.txt"
$PG lists ingest --no-classify > again.txt
check "rerun links nothing twice" grep -q "^linked 0 commits" again.txt
finish
