#!/bin/sh
# deps.sh - make sure the Debian build dependencies are installed.
# As root: installs what is missing with apt-get.  Otherwise: prints the exact
# apt-get line and fails, so nothing half-works.
# Usage: tools/deps.sh [extra-package...]
set -eu
PKGS="build-essential meson ninja-build pkg-config libgit2-dev libsqlite3-dev libjansson-dev zlib1g-dev git python3 sqlite3 $*"
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
