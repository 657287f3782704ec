# lib-backport.sh - helpers for the t5xxx backport tests (sourced, not run).
# Builds small repositories with plain git in a temp dir.
set -eu
: "${PATCHGAP_BIN:?run through tests/run.sh (PATCHGAP_BIN unset)}"
command -v git >/dev/null || { echo "SKIP: git not installed"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pg-t5.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" \
	GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
mkdir -p "$HOME"
git config --global user.name "Test Author"
git config --global user.email "author@example.org"
git config --global init.defaultBranch master
git config --global advice.detachedHead false

fail() { echo "FAIL: $*" >&2; exit 1; }

# numbered lines "name N" for a C-like file: func_N() bodies
gen_c() { # name count
	local i
	for i in $(seq 1 "$2"); do
		printf 'static int %s_%d(int x)\n{\n\treturn x + %d;\n}\n\n' "$1" "$i" "$i"
	done
}

# new repo with a base commit of drivers/foo.c; cd into it
new_repo() {
	git init -q "$TMP/repo"
	cd "$TMP/repo"
	mkdir -p drivers
	gen_c foo 20 >drivers/foo.c
	gen_c bar 10 >drivers/bar.c
	git add . && git commit -qm "base"
	git branch stable
}

# replace line N of FILE with TEXT
set_line() { # file n text
	awk -v n="$2" -v t="$3" 'NR == n { print t; next } { print }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

commit_all() { git add -A && git commit -qm "$1"; git rev-parse HEAD; }

# the tree of ref after `git am` of MBOX onto BRANCH, in a scratch clone
am_tree() { # mbox branch
	rm -rf "$TMP/am"
	git clone -q "$TMP/repo" "$TMP/am" -b "$2"
	git -C "$TMP/am" am -q "$1" >/dev/null
	git -C "$TMP/am" rev-parse 'HEAD^{tree}'
}

# clone the repo at BRANCH into $TMP/hand and cd there (build an expected tree by hand)
hand_clone() { # branch
	rm -rf "$TMP/hand"
	git clone -q "$TMP/repo" "$TMP/hand" -b "$1"
	cd "$TMP/hand"
}
hand_tree() { git add -A >/dev/null && git write-tree; }

# cve_backport_fixture: mainline with two fixes of two introducers (F1, F2),
# linux-6.1.y from v6.1 with a stable-only change on the second fix's line
# (so F2 conflicts there), ingested, and two imported CVE records:
# CVE-2024-0001 -> F1 (5.5 MEDIUM), CVE-2024-0002 -> F2 (9.8 CRITICAL).
# Sets R, A, A2, F1, F2, PATCHGAP_CONFIG=$TMP/pg.conf; leaves the cwd in $R.
# (Body not indented: it holds here-documents.)
cve_backport_fixture() {
R=$TMP/repo
git init -q "$R"; cd "$R"
mkdir -p drivers
gen_c foo 20 >drivers/foo.c
git add . && git commit -qm "base" && git tag -a v6.0 -m v6.0
set_line drivers/foo.c 8 "	return x + 2 + len;"; A=$(commit_all "foo: use len")
set_line drivers/foo.c 13 "	return x + 3 + len;"; A2=$(commit_all "foo: use len in foo_3")
git tag -a v6.1 -m v6.1
git checkout -q -b linux-6.1.y v6.1
set_line drivers/foo.c 13 "	return x + 3 + len; /* stable */"; commit_all "stable: note" >/dev/null
git tag -a v6.1.1 -m v6.1.1
git checkout -q master
set_line drivers/foo.c 8 "	return x + 2 + min(len, 16);"
F1=$(commit_all "foo: bound len in foo_2

Fixes: ${A:0:12} (\"foo: use len\")")
set_line drivers/foo.c 13 "	return x + 3 + min(len, 16);"
F2=$(commit_all "foo: bound len in foo_3

Fixes: ${A2:0:12} (\"foo: use len in foo_3\")")
git tag -a v6.2-rc1 -m rc1

cat >"$TMP/pg.conf" <<CONF
[core]
	repository = $R
	database = $TMP/pg.db
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
CONF
export PATCHGAP_CONFIG=$TMP/pg.conf
# ingest is set-up here, not under test (its own tests cover it): its leak
# report must not decide this test (libgit2 objects kept by ingest under ASan)
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" "$PATCHGAP_BIN" ingest >"$TMP/ingest.out" 2>&1 \
	|| fail "ingest exited $?: $(tail -5 "$TMP/ingest.out")"
cve() { # id fix severity
	local d=$TMP/vulns/cve/published/2024
	mkdir -p "$d"
	cat >"$d/$1.json" <<JSON
{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "$1", "state": "PUBLISHED", "assignerOrgId": "416baaa9-dc9f-4396-8d5f-8c081fb06d67"},
 "containers": {"cna": {"providerMetadata": {"orgId": "416baaa9-dc9f-4396-8d5f-8c081fb06d67"},
   "title": "$1", "metrics": [{"cvssV3_1": {"baseScore": $3, "baseSeverity": "$4", "version": "3.1",
   "vectorString": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}]}}}
JSON
	echo "$2" >"$d/$1.sha1"
}
cve CVE-2024-0001 "$F1" 5.5 MEDIUM
cve CVE-2024-0002 "$F2" 9.8 CRITICAL
"$PATCHGAP_BIN" cve import "$TMP/vulns" >/dev/null 2>"$TMP/imp.err" || fail "cve import: $(cat "$TMP/imp.err")"
}
