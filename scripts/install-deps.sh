#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages spa needs to build and test. Idempotent and
# quiet when everything is already present. Never starts services.
set -eu

packages=(
  build-essential dpkg-dev cmake pkg-config clang libclang-rt-14-dev valgrind
  libssl-dev libpcap-dev libseccomp-dev libgpgme-dev gnupg libjansson-dev libcmocka-dev
  fwknop-client fwknop-server libfko3-dev
  iproute2 iptables nftables ipset libipset-dev libnftables-dev socat libnetfilter-queue-dev
  firewalld dbus libsystemd-dev groff-base
  lintian mmdebstrap
  etcd-server etcd-client libcurl4-openssl-dev openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package maintainer scripts must not start daemons (fwknopd) on this host.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { [ "$created_policy" -eq 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
