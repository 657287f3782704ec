#!/bin/bash
# status with a kernel .config: open fixes whose code is not compiled move to
# not_affected_by_config with the VEX justification (file not built; or every
# changed hunk inside a disabled #ifdef), the rest stay open with a verdict.
. "$(dirname "$0")/lib.sh"
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
cat > $T/patchgap.conf <<CONF
[core]
	repository = repo
[branch "master"]
	kind = mainline
[branch "linux-6.1.y"]
	kind = stable
CONF
cd $T
$PG ingest >/dev/null
$PG cve import vulns >/dev/null
$PG status linux-6.1.y --json > plain.json
check "without a .config all three fixes are open" python3 -c "
import json; o=json.load(open('plain.json')); assert sorted(e['id'] for e in o['unfixed'])==['CVE-2024-0001','CVE-2024-0002','CVE-2024-0003'], o"
$PG status linux-6.1.y --config amd64.config --json > cfg.json
check "built fix stays open with an 'affected' verdict" python3 -c "
import json; o=json.load(open('cfg.json'))
assert [e['id'] for e in o['unfixed']]==['CVE-2024-0001'], o['unfixed']
assert o['unfixed'][0]['vex']['status']=='affected'"
check "fix in a file that is not built: code_not_present" python3 -c "
import json; o=json.load(open('cfg.json')); e={x['id']:x for x in o['not_affected_by_config']}
assert e['CVE-2024-0003']['vex']['justification']=='code_not_present', e"
check "fix inside a disabled #ifdef: vulnerable_code_not_in_execute_path" python3 -c "
import json; o=json.load(open('cfg.json')); e={x['id']:x for x in o['not_affected_by_config']}
v=e['CVE-2024-0002']['vex']; assert v['justification']=='vulnerable_code_not_in_execute_path', v
assert 'CONFIG_CORE_DEBUG' in json.dumps(v), v"
# the branch's configured kconfig is used by default
printf '\tkconfig = amd64.config\n' >> patchgap.conf
$PG status linux-6.1.y --json > conf2.json
check "branch kconfig from the config file is used" python3 -c "
import json; o=json.load(open('conf2.json')); assert o['counts']['not_affected_by_config']==2, o['counts']"
printf 'this is not a config\n\x00\x01' > bad.config
set +e; $PG status linux-6.1.y --config bad.config >/dev/null 2>err.txt; rc=$?; set -e
check "a file that is not a .config: exit 4 naming it" sh -c "test $rc = 4 && grep -q bad.config err.txt"
finish
