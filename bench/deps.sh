#!/usr/bin/env bash
# bench/deps.sh: install the Debian 12 packages the benchmark needs on top of
# scripts/deps.sh (the peers it compares arca with, and /usr/bin/time for peak
# RSS).  The test suite does not need these, so they live here.  Run as root
# (or with sudo available); installs only what is missing.
set -euo pipefail

PKGS=(
	restic borgbackup duplicity gnupg gpg-agent
	time python3 coreutils linux-perf
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
