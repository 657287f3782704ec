#!/bin/bash
# need-ajv.sh ROOT - print the node_modules directory holding ajv, ajv-formats
# and ajv-cli, installing them from the npm registry on first use into
# ROOT/build/ajv (shared by the normal and the ASan run: node does not
# depend on the build).  Tests run in parallel, so the install holds a lock.
# Exit 1 (and a reason on stdout) when node/npm or the registry is missing.
set -u
root=$1
dir=${PATCHGAP_AJV_DIR:-$root/build/ajv}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not installed"; exit 1; }
mkdir -p "$dir" || { echo "cannot create $dir"; exit 1; }
(
	flock 9
	[ -x "$dir/node_modules/.bin/ajv" ] && exit 0
	cd "$dir" && timeout 300 npm install --silent --no-audit --no-fund --prefix "$dir" ajv ajv-formats ajv-cli >/dev/null 2>&1
) 9>"$dir.lock" || { echo "cannot install ajv from the npm registry"; exit 1; }
[ -x "$dir/node_modules/.bin/ajv" ] || { echo "ajv not installed"; exit 1; }
echo "$dir/node_modules"
