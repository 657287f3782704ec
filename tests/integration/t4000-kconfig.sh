#!/bin/bash
# t4000-kconfig: `patchgap kconfig` end to end - path and patch verdicts on a
# hand-made tree (directory and git), exit codes for bad input, and real
# verdicts on Debian's 6.1 Kbuild files when ../shared/data is present.
set -u
BIN=${PATCHGAP_BIN:?PATCHGAP_BIN not set}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/pg-t4000-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { # want cmd...
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"; local rc=$?
	[ "$rc" = "$want" ] || { cat "$T/out" "$T/err"; fail "'$*' exited $rc, expected $want"; }
}
# JSON checks by grep: output is jansson-indented with sorted keys, one key per line
jhas() { grep -q -- "$2" "$1" || { cat "$1"; fail "JSON has no '$2'"; }; }

# --- a small tree -------------------------------------------------------
mkdir -p "$T/tree/kernel" "$T/tree/drivers/foo" "$T/tree/arch/x86"
echo '# top' >"$T/tree/Makefile"
printf 'obj-y += kernel/\nobj-$(CONFIG_FOO) += drivers/foo/\n' >"$T/tree/Kbuild"
printf 'BITS := 64\nexport BITS\n' >"$T/tree/arch/x86/Makefile"
printf 'obj-y += core.o\nobj-$(CONFIG_BAR) += bar.o\nobj-$(CONFIG_FOO) += foo.o\n' >"$T/tree/kernel/Makefile"
printf 'obj-y += foo.o\n' >"$T/tree/drivers/foo/Makefile"
cat >"$T/tree/kernel/core.c" <<'C'
int a(void)
{
	return 1;
}
#ifdef CONFIG_FOO
int b(void)
{
	return 2;
}
#endif
C
printf 'CONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_BAR=m\n# CONFIG_FOO is not set\n' >"$T/config"

expect_rc 0 "$BIN" kconfig --help
grep -q '^usage: patchgap kconfig' "$T/out" || fail "--help prints no usage"
expect_rc 2 "$BIN" kconfig --tree "$T/tree" kernel/core.c
expect_rc 2 "$BIN" kconfig --config "$T/config" kernel/core.c
expect_rc 2 "$BIN" kconfig --config "$T/config" --tree "$T/tree" --repo "$T/tree" kernel/core.c
expect_rc 2 "$BIN" kconfig --config "$T/config" --tree "$T/tree"

# not a .config: exit 4, the message names file:line and why
expect_rc 4 "$BIN" kconfig --config "$T/tree/kernel/Makefile" --tree "$T/tree" kernel/core.c
grep -q "kernel/Makefile:1: not a .config" "$T/err" || { cat "$T/err"; fail "bad config message"; }
head -c 3000 /dev/urandom >"$T/random.bin"; printf 'CONFIG_A=y\n' | cat - "$T/random.bin" >"$T/junk.config"
expect_rc 4 "$BIN" kconfig --config "$T/junk.config" --tree "$T/tree" kernel/core.c
grep -q "not a .config" "$T/err" || fail "junk config message"
expect_rc 1 "$BIN" kconfig --config "$T/nonexistent" --tree "$T/tree" kernel/core.c
expect_rc 4 "$BIN" kconfig --config "$T/config" --tree "$T/kernel-not-here" kernel/core.c

# path verdicts, text and JSON
expect_rc 0 "$BIN" kconfig --config "$T/config" --tree "$T/tree" kernel/core.c kernel/bar.c kernel/foo.c drivers/foo/foo.c
grep -qP '^kernel/core.c\tbuilt-in\taffected' "$T/out" || { cat "$T/out"; fail "core.c"; }
grep -qP '^kernel/bar.c\tmodule\taffected' "$T/out" || fail "bar.c"
grep -qP '^kernel/foo.c\tnot-built\tnot_affected/code_not_present' "$T/out" || fail "foo.c"
grep -q 'obj-$(CONFIG_FOO) += drivers/foo/ \[CONFIG_FOO is not set\]' "$T/out" || fail "drivers/foo reason"
expect_rc 0 "$BIN" kconfig --json --config "$T/config" --tree "$T/tree" kernel/bar.c
jhas "$T/out" '"build": "module"'
jhas "$T/out" '"srcarch": "x86"'
jhas "$T/out" '"path": "kernel/bar.c"'

# a patch: the only changed hunk is inside #ifdef CONFIG_FOO (not set)
cat >"$T/fix.patch" <<'P'
Subject: [PATCH] fix b

diff --git a/kernel/core.c b/kernel/core.c
--- a/kernel/core.c
+++ b/kernel/core.c
@@ -6,4 +6,4 @@ int a(void)
 int b(void)
 {
-	return 2;
+	return 0;
 }
P
expect_rc 0 "$BIN" kconfig --json --config "$T/config" --tree "$T/tree" --diff "$T/fix.patch"
jhas "$T/out" '^    "status": "not_affected"'
jhas "$T/out" '^    "justification": "vulnerable_code_not_in_execute_path"'
jhas "$T/out" '"evidence": "kernel/core.c:5: #ifdef CONFIG_FOO \[CONFIG_FOO is not set\]"'
jhas "$T/out" '"condition": "disabled"'
expect_rc 0 "$BIN" kconfig --config "$T/config" --tree "$T/tree" --diff "$T/fix.patch"
grep -qP '^patch\tnot_affected/vulnerable_code_not_in_execute_path' "$T/out" || { cat "$T/out"; fail "text patch"; }
printf 'CONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_FOO=y\n' >"$T/config-foo"
expect_rc 0 "$BIN" kconfig --json --config "$T/config-foo" --tree "$T/tree" --diff "$T/fix.patch"
jhas "$T/out" '^    "status": "affected"'
printf 'not a diff\n' >"$T/bad.patch"
expect_rc 4 "$BIN" kconfig --config "$T/config" --tree "$T/tree" --diff "$T/bad.patch"
grep -q "bad.patch: no unified diff" "$T/err" || { cat "$T/err"; fail "bad diff message"; }

# the same from a git repository, at two revisions
( cd "$T/tree" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm one &&
  sed -i 's/obj-\$(CONFIG_BAR)/obj-y/' kernel/Makefile && git -c user.name=t -c user.email=t@t commit -qam two ) || fail "git"
expect_rc 0 "$BIN" kconfig --config "$T/config" --repo "$T/tree" --rev HEAD~1 kernel/bar.c
grep -qP '^kernel/bar.c\tmodule' "$T/out" || fail "git HEAD~1"
expect_rc 0 "$BIN" kconfig --config "$T/config" --repo "$T/tree" kernel/bar.c
grep -qP '^kernel/bar.c\tbuilt-in' "$T/out" || fail "git HEAD"
expect_rc 3 "$BIN" kconfig --config "$T/config" --repo "$T/tree" --rev nosuchrev kernel/bar.c
expect_rc 3 "$BIN" kconfig --config "$T/config" --repo "$T/nope" kernel/bar.c

# --- real Debian 6.1 Kbuild files ----------------------------------------
DATA=${PATCHGAP_SHARED_DATA:-$ROOT/../shared/data}
if [ ! -r "$DATA/kbuild-6.1.tar.xz" ]; then
	echo "SKIP: $DATA/kbuild-6.1.tar.xz not present (hand-made checks passed)"
	exit 0
fi
# only the Makefiles on the way to the files checked (extracting all 4,655
# files costs more than the check; the unit test evaluates the whole tree)
L=linux-source-6.1
tar -xJf "$DATA/kbuild-6.1.tar.xz" -C "$T" debian-config/config.amd64_none_amd64 $L/Makefile $L/Kbuild \
	$L/arch/x86/Makefile $L/arch/x86/Makefile_32.cpu $L/arch/x86/Kbuild $L/drivers/Makefile \
	$L/drivers/net/Makefile $L/mm/Makefile $L/kernel/Makefile $L/fs/Makefile $L/fs/ext4/Makefile || fail "tar"
SRC=$T/linux-source-6.1 CFG=$T/debian-config/config.amd64_none_amd64
expect_rc 0 "$BIN" kconfig --config "$CFG" --tree "$SRC" \
	drivers/net/tun.c mm/slab.c arch/arm64/kernel/setup.c kernel/fork.c fs/ext4/inode.c
for want in 'drivers/net/tun.c	module' 'mm/slab.c	not-built' 'arch/arm64/kernel/setup.c	not-built' \
	    'kernel/fork.c	built-in' 'fs/ext4/inode.c	module'; do
	grep -q "^$want	" "$T/out" || { cat "$T/out"; fail "real: expected '$want'"; }
done
grep -q 'mm/Makefile:[0-9]*: obj-$(CONFIG_SLAB) += slab.o \[CONFIG_SLAB is not set\]' "$T/out" || fail "slab reason"
expect_rc 0 "$BIN" kconfig --json --config "$CFG" --tree "$SRC" mm/slab.c
jhas "$T/out" '"justification": "code_not_present"'
echo "ok"
