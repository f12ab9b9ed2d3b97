#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages `make package` builds (cmake/packaging.cmake):
#  1. one per component, lintian without errors;
#  2. their metadata: what each depends on (found by dpkg-shlibdeps or
#     declared), conffiles, modes, the FHS layout;
#  3. installed with apt-get install ./*.deb into a fresh, minimal Debian
#     root (mmdebstrap from the configured apt source): spad --version,
#     the example configuration refused for its placeholder keys, then with
#     real keys spad -D, and every installed plugin loaded by
#     spad --exit-parse-config; removal leaves no spad running.
# usage: test_debs.sh DEB_DIR
set -u
debdir=$1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mmdebstrap, chroot)"; exit 77; }
for t in dpkg-deb lintian mmdebstrap; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
shopt -s nullglob
debs=("$debdir"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
  echo "SKIP: no packages in $debdir (make package builds them)"
  exit 77
fi

want=(spa-server spa-client libspa-plugin-dev spa-plugin-iptables spa-plugin-nftables
      spa-plugin-ipset spa-plugin-firewalld spa-plugin-cmdcycle spa-plugin-cmdexec
      spa-plugin-etcd)
declare -A deb_of
for d in "${debs[@]}"; do
  deb_of[$(dpkg-deb -f "$d" Package)]=$d
done
for p in "${want[@]}"; do
  [ -n "${deb_of[$p]:-}" ] || fail "no $p package"
done
((fails == 0)) || exit 1

# 1. lintian: errors fail, the rest is shown
out=$(lintian --tag-display-limit 0 "${debs[@]}" 2>&1 | grep -v '^running with root')
[ -n "$out" ] && echo "$out"
if grep -q '^E: ' <<<"$out"; then fail "lintian reports errors"; else ok "lintian: no errors"; fi

# 2. metadata
depends() { dpkg-deb -f "${deb_of[$1]}" Depends; }
has_dep() { # package dependency
  if depends "$1" | tr ',' '\n' | grep -q "^ *$2\b"; then ok "$1 depends on $2"
  else fail "$1 does not depend on $2 ($(depends "$1"))"; fi
}
has_dep spa-plugin-nftables libnftables1
has_dep spa-plugin-ipset libipset13
has_dep spa-plugin-firewalld firewalld
has_dep spa-plugin-firewalld libsystemd0
has_dep spa-plugin-iptables iptables
has_dep spa-server libssl3
has_dep spa-server adduser
for p in "${want[@]}"; do
  case $p in spa-plugin-*) has_dep "$p" spa-server ;; esac
done
contents() { dpkg-deb -c "${deb_of[$1]}"; }
has_file() { # package mode-regex path
  if contents "$1" | grep -E "^$2 .* \./${3#/}$" >/dev/null; then ok "$1 has $3"
  else fail "$1 lacks $3 ($2)"; fi
}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
has_file spa-server '-rwxr-xr-x' /usr/sbin/spad
has_file spa-server '-rw-r--r--' /lib/systemd/system/spad.service
has_file spa-server '-rw-------' /etc/spa/spad.conf
has_file spa-server '-rw-------' /etc/spa/access.conf
has_file spa-server '-rw-r--r--' /usr/share/man/man8/spad.8.gz
has_file spa-server '-rw-r--r--' /usr/share/bash-completion/completions/spad
has_file spa-client '-rwxr-xr-x' /usr/bin/spa-client
has_file spa-client '-rw-r--r--' /usr/share/bash-completion/completions/spa-client
has_file libspa-plugin-dev '-rw-r--r--' /usr/include/spa/plugin.h
has_file libspa-plugin-dev '-rw-r--r--' "/usr/lib/$multiarch/pkgconfig/spa-plugin.pc"
for p in iptables nftables ipset firewalld cmdcycle cmdexec etcd; do
  has_file "spa-plugin-$p" '-rw-r--r--' "/usr/lib/$multiarch/spa/plugins/$p.so"
done
conffiles=$(dpkg-deb --ctrl-tarfile "${deb_of[spa-server]}" | tar -xOf - ./conffiles 2>/dev/null)
if [ "$conffiles" = $'/etc/spa/spad.conf\n/etc/spa/access.conf' ]; then ok "conffiles"
else fail "conffiles: '$conffiles'"; fi

# 3. a fresh Debian root
root=$(mktemp -d /tmp/spa-debs-root.XXXXXX) || exit 1
cleanup() {
  for m in proc; do umount "$root/$m" 2>/dev/null; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "== mmdebstrap $suite (apt variant) into $root"
if ! mmdebstrap --variant=apt --quiet --skip=cleanup/apt/lists "$suite" "$root" >"$root.log" 2>&1; then
  tail -20 "$root.log"; rm -f "$root.log"
  fail "mmdebstrap"; exit 1
fi
rm -f "$root.log"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
mount -t proc proc "$root/proc"
# no init runs in the root: the packages' scripts must cope (no systemd)
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
echo "== apt-get install ./*.deb"
if in_root sh -c 'cd /tmp/debs && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./*.deb' \
    >"$root/tmp/apt.log" 2>&1; then
  ok "apt-get install ./*.deb"
else
  tail -30 "$root/tmp/apt.log"; fail "apt-get install"; exit 1
fi
grep -i 'spad is not started' "$root/tmp/apt.log" && ok "postinst leaves an unconfigured spad stopped"
in_root getent passwd _spad >/dev/null && ok "user _spad created" || fail "no _spad user"
[ "$(stat -c %a "$root/var/lib/spa" 2>/dev/null)" = 700 ] && ok "/var/lib/spa 0700" || fail "/var/lib/spa"

v=$(in_root spad --version 2>&1)
if grep -q "plugins: /usr/lib/$multiarch/spa/plugins" <<<"$v" || grep -q "/usr/lib/$multiarch/spa/plugins" <<<"$v"; then
  ok "spad --version: $(head -1 <<<"$v")"
else
  echo "$v"; fail "spad --version does not name /usr/lib/$multiarch/spa/plugins"
fi
out=$(in_root spad --exit-parse-config 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "placeholder key" <<<"$out"; then ok "example config refused: $out"
else fail "example config: exit $rc: $out"; fi

# real keys, as an administrator would put them
keys=$(in_root spa-client --key-gen --no-rc-file 2>&1)
k=$(sed -n 's/^KEY_BASE64: *//p' <<<"$keys")
h=$(sed -n 's/^HMAC_KEY_BASE64: *//p' <<<"$keys")
[ -n "$k" ] && [ -n "$h" ] || { echo "$keys"; fail "spa-client --key-gen"; exit 1; }
sed -i "s|^KEY_BASE64 .*|KEY_BASE64 $k|; s|^HMAC_KEY_BASE64 .*|HMAC_KEY_BASE64 $h|" \
  "$root/etc/spa/access.conf"
out=$(in_root spad -D 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "FIREWALL_TYPE" <<<"$out"; then ok "spad -D on the example"
else echo "$out"; fail "spad -D: exit $rc"; fi
for p in iptables nftables ipset firewalld cmdcycle; do
  conf=/etc/spa/check-$p.conf
  sed "s|^FIREWALL_TYPE .*|FIREWALL_TYPE $p|" "$root/etc/spa/spad.conf" >"$root$conf"
  case $p in
    cmdcycle) printf 'CMD_CYCLE_OPEN /bin/true $IP\nCMD_CYCLE_CLOSE /bin/true $IP\nCMD_CYCLE_TIMER 30\n' \
                >>"$root/etc/spa/access.conf" ;;
  esac
  chmod 600 "$root$conf"
  out=$(in_root spad -c "$conf" -a /etc/spa/access.conf --exit-parse-config 2>&1); rc=$?
  if [ $rc = 0 ] && grep -q "plugin $p" <<<"$out"; then ok "plugin $p loads"
  else echo "$out"; fail "plugin $p: exit $rc"; fi
  [ $p = cmdcycle ] && sed -i '/^CMD_CYCLE_/d' "$root/etc/spa/access.conf"
done
# the command module: a stanza allowing commands loads cmdexec
echo "ENABLE_CMD_EXEC Y" >>"$root/etc/spa/access.conf"
out=$(in_root spad --exit-parse-config 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "cmdexec" <<<"$out"; then ok "command module cmdexec loads"
else echo "$out"; fail "cmdexec: exit $rc"; fi
sed -i '/^ENABLE_CMD_EXEC/d' "$root/etc/spa/access.conf"
# cluster mode: the etcd state store loads (libcurl resolved) and checks
# its keys; no connection is made by a check
conf=/etc/spa/check-etcd.conf
{ cat "$root/etc/spa/spad.conf"
  printf 'STATE_STORE etcd\nETCD_ENDPOINTS https://198.51.100.1:2379\nCLUSTER_NODE_NAME gw1\n'
} >"$root$conf"
chmod 600 "$root$conf"
out=$(in_root spad -c "$conf" -a /etc/spa/access.conf --exit-parse-config 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "state store etcd" <<<"$out"; then ok "state store etcd loads"
else echo "$out"; fail "state store etcd: exit $rc"; fi

echo "== apt-get purge"
if in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q spa-server' >"$root/tmp/purge.log" 2>&1 &&
   [ ! -e "$root/usr/sbin/spad" ] && [ ! -e "$root/var/lib/spa" ]; then
  ok "purge removes spad and its state (plugins with it)"
else
  tail -20 "$root/tmp/purge.log"; fail "purge"
fi

((fails == 0)) || { echo "FAIL: $fails package checks"; exit 1; }
echo "PASS: Debian packages"
