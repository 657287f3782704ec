# lib-dyad.sh - a small kernel-shaped repository for the dyad rule fixtures
# (t3103...): mainline `master` with release tags, stable branches forked at
# their `vX.Y` tag, backports annotated "commit X upstream.", and a vulns.git
# style CNA folder.  Source lib.sh first.
#
#   repo_init                    fresh repository in $T/repo, cwd there
#   mk NAME SUBJECT [BODY]       commit on the current branch touching its own
#                                file; sets the variable NAME to its id
#   pick NAME SHA                backport SHA to the current branch (same file,
#                                subject and body, "commit SHA upstream."), sets NAME
#   rv NAME SHA [BODY]           revert SHA on the current branch, sets NAME
#   cna CVE SHA... [-- VULN...]  a published record: .sha1 (and .vulnerable)
#   conf BRANCH:KIND...          writes $T/patchgap.conf

declare -A PG_FILE PG_SUBJ
PG_N=0

repo_init() {
	mkdir -p "$T/repo" "$T/vulns/cve/published/2026"
	cd "$T/repo"
	git init -q -b master .
}

_commit() { # subject body
	tick
	if [ -n "$2" ]; then git commit -q -m "$1" -m "$2"; else git commit -q -m "$1"; fi
}

mk() {
	local name=$1 subj=$2 body=${3:-}
	PG_N=$((PG_N + 1))
	echo "$PG_N $subj" >"f$PG_N.c"
	git add "f$PG_N.c"
	_commit "$subj" "$body"
	printf -v "$name" '%s' "$(git rev-parse HEAD)"
	PG_FILE[${!name}]=f$PG_N.c
	PG_SUBJ[${!name}]=$subj
}

pick() {
	local name=$1 up=$2 f=${PG_FILE[$2]} body
	body=$(git log -1 --format=%b "$up")
	if [ -e "$f" ]; then git rm -q "$f"; else echo "${PG_SUBJ[$up]}" >"$f"; git add "$f"; fi
	_commit "${PG_SUBJ[$up]}" "commit $up upstream.${body:+

$body}"
	printf -v "$name" '%s' "$(git rev-parse HEAD)"
	PG_FILE[${!name}]=$f
	PG_SUBJ[${!name}]=${PG_SUBJ[$up]}
}

rv() {
	local name=$1 what=$2 body=${3:-This reverts commit $2.} f=${PG_FILE[$2]}
	if [ -e "$f" ]; then git rm -q "$f"; else echo "back" >"$f"; git add "$f"; fi
	_commit "Revert \"${PG_SUBJ[$what]}\"" "$body"
	printf -v "$name" '%s' "$(git rev-parse HEAD)"
	PG_FILE[${!name}]=$f
	PG_SUBJ[${!name}]="Revert \"${PG_SUBJ[$what]}\""
}

cna() {
	local id=$1 d=$T/vulns/cve/published/2026
	shift
	: >"$d/$id.sha1"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do echo "$1" >>"$d/$id.sha1"; shift; done
	if [ "${1:-}" = -- ]; then
		shift
		: >"$d/$id.vulnerable"
		for v in "$@"; do echo "$v" >>"$d/$id.vulnerable"; done
	fi
}

conf() {
	{
		printf '[core]\n\trepository = %s\n\tdatabase = %s\n' "$T/repo" "$T/patchgap.db"
		for b in "$@"; do printf '[branch "%s"]\n\tkind = %s\n' "${b%%:*}" "${b#*:}"; done
	} >"$T/patchgap.conf"
}

# expect_dyad CVE LINE...: `patchgap affected CVE` prints exactly these lines, in this order
expect_dyad() {
	local id=$1 got want
	shift
	got=$(cd "$T" && $PG affected "$id" 2>&1) || true
	want=$(printf '%s\n' "$@")
	if [ "$got" = "$want" ]; then
		ok "$id: dyad lines"
	else
		fail "$id: dyad lines"
		diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
	fi
}
