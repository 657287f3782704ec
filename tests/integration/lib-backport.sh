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
