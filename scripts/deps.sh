#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages arca needs to build and test,
# only those that are missing.  Run as root (or with sudo available).
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config
	libgpgme-dev libgcrypt20-dev librsync-dev libarchive-dev zlib1g-dev
	libcurl4-openssl-dev libssh2-1-dev libjansson-dev libisal-dev libbz2-dev
	gnupg gpg-agent
	duplicity rdiff python3 tar gzip util-linux
	openssh-server openssh-client nginx libnginx-mod-http-dav-ext apache2
	python3-swift rclone python3-boto3 python3-dropbox openssl
	nftables python3-paramiko
	faketime python3-botocore
	valgrind cppcheck clang-tidy time
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
