# lib-lists.sh - helpers for the t80xx mailing-list tests (sourced, not run):
# dated commits, patch mails made from commits as a list would carry them,
# a public-inbox archive written from them, the config naming that archive.
. "$(dirname "$0")/lib.sh"
L=$SRC/tests/integration/lib
D0=1704067200   # 2024-01-01
day() { export GIT_AUTHOR_DATE="@$1 +0000" GIT_COMMITTER_DATE="@$2 +0000"; } # author-time commit-time
# the mail of a commit: format-patch output as sent to the list, NUL-terminated
mail() { # commit message-id subject-prefix [sed-expression]
	git -C repo format-patch -1 --stdout --subject-prefix="$3" $1 |
		sed -e "1a Message-ID: <$2>" -e "${4:-s/^//}"
	printf '\0'
}
# NUL-separated mails on stdin -> the public-inbox archive ./inbox
inbox_write() {
	git init -q --bare inbox/git/0.git
	python3 "$L/pi-write.py" inbox/git/0.git
}
# ./patchgap.conf: ./repo as mainline, ./pg.db, the list "netdev" in ./inbox
lists_conf() {
	cat > patchgap.conf <<CONF
[core]
	repository = repo
	database = pg.db
[branch "master"]
	kind = mainline
[list "netdev"]
	inbox = inbox
CONF
}
