#!/bin/bash
# status with a kernel .config: open fixes whose code is not compiled move to
# not_affected_by_config with the VEX justification (file not built; or every
# changed hunk inside a disabled #ifdef), the rest stay open with a verdict.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-kconfig.sh"
kconfig_fixture
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
