#!/bin/sh
# deps.sh - make sure the Debian packages patchgap needs are installed.
# The packages are listed in tools/deps.d/*, one file per feature and one
# package per line ('#' starts a comment), so features add their own file.
# As root: installs what is missing with apt-get.  Otherwise: prints the exact
# apt-get line and fails, so nothing half-works.
# Usage: tools/deps.sh [extra-package...]
set -eu
dir=$(dirname "$0")/deps.d
PKGS="$(sed -e 's/#.*//' "$dir"/* | tr -s ' \n' ' ') $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	apt-get install -y -qq $missing >&2
else
	echo "deps: missing Debian packages; run as root:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
