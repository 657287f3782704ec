# lib-kconfig.sh - the .config fixture of the t31xx status/cells tests
# (sourced after lib.sh, not run): a tree whose Kbuild builds kernel/ always
# and drivers/foo/ only with CONFIG_FOO, three bugs and their fixes (CVEs
# 2024-0001 kernel/core.c, 0002 inside #ifdef CONFIG_CORE_DEBUG, 0003
# drivers/foo), tags v6.0 v6.1 v6.2, branch linux-6.1.y at v6.1, records in
# $T/vulns and $T/amd64.config (x86-64, neither FOO nor CORE_DEBUG), and
# $T/patchgap.conf tracking master and linux-6.1.y; kconfig_fixture KCONFIG
# gives linux-6.1.y that .config (kconfig = KCONFIG).
kconfig_fixture() {
	R=$T/repo
	git init -q -b master "$R"
	mk() { mkdir -p "$R/$(dirname "$1")"; printf "$2" > "$R/$1"; }
	mk Makefile '# top\n'
	mk Kbuild 'obj-y += kernel/\nobj-$(CONFIG_FOO) += drivers/foo/\n'
	mk arch/x86/Makefile 'BITS := 64\nexport BITS\n'
	mk kernel/Makefile 'obj-y += core.o\n'
	mk drivers/foo/Makefile 'obj-y += foo.o\n'
	mk kernel/core.c 'int a(void)\n{\n\treturn 1;\n}\n#ifdef CONFIG_CORE_DEBUG\nint dbg(void)\n{\n\treturn 0;\n}\n#endif\n'
	mk drivers/foo/foo.c 'int foo(void)\n{\n\treturn 1;\n}\n'
	tick; g add -A; g commit -q -m "initial"; g tag -a v6.0 -m v6.0
	tick; sed -i 's/return 1;/return 11;/' "$R/kernel/core.c"; g commit -qam "core: add bug"; B1=$(g rev-parse HEAD)
	tick; sed -i 's/return 0;/return 10;/' "$R/kernel/core.c"; g commit -qam "core: add debug bug"; B2=$(g rev-parse HEAD)
	tick; sed -i 's/return 1;/return 12;/' "$R/drivers/foo/foo.c"; g commit -qam "foo: add bug"; B3=$(g rev-parse HEAD)
	g tag -a v6.1 -m v6.1
	g branch linux-6.1.y v6.1
	tick; sed -i 's/return 11;/return 1;/' "$R/kernel/core.c"; g commit -qam "core: fix bug

Fixes: ${B1:0:12} (\"core: add bug\")"; F1=$(g rev-parse HEAD)
	tick; sed -i 's/return 10;/return 0;/' "$R/kernel/core.c"; g commit -qam "core: fix debug bug

Fixes: ${B2:0:12} (\"core: add debug bug\")"; F2=$(g rev-parse HEAD)
	tick; sed -i 's/return 12;/return 1;/' "$R/drivers/foo/foo.c"; g commit -qam "foo: fix bug

Fixes: ${B3:0:12} (\"foo: add bug\")"; F3=$(g rev-parse HEAD)
	g tag -a v6.2 -m v6.2
	mkdir -p $T/vulns/cve/published/2024
	echo $F1 > $T/vulns/cve/published/2024/CVE-2024-0001.sha1
	echo $F2 > $T/vulns/cve/published/2024/CVE-2024-0002.sha1
	echo $F3 > $T/vulns/cve/published/2024/CVE-2024-0003.sha1
	printf 'CONFIG_X86_64=y\nCONFIG_X86=y\n# CONFIG_FOO is not set\n# CONFIG_CORE_DEBUG is not set\n' > $T/amd64.config
	printf '[core]\n\trepository = repo\n[branch "master"]\n\tkind = mainline\n[branch "linux-6.1.y"]\n\tkind = stable\n%s' \
		"${1:+	kconfig = $1
}" > $T/patchgap.conf
}
