#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The firewalld plugin's NAT grants (ABI 1.5) with a real firewalld
# (nftables backend) on the gateway of netns.sh's three namespaces, on a
# private system bus: the outside interface in zone public, the inside
# one in zone internal (FIREWD_MASQ_ZONE), so firewalld's own policy
# drops what no rule allows. Driven by spa_plugin_drive: a forward-port
# rich rule makes the internal service reachable through the gateway only
# from the granted source and only until the close; masquerade shows in
# the source the internal host sees; the LOCAL form reaches a service of
# the gateway; list gives one grant with its form; the forms rich rules
# cannot express are refused with the reason; flush leaves no rule of
# ours and the admin's. One firewalld for every case (it takes seconds to
# start); the D-Bus transport, and one leg through firewall-cmd. The end
# of a grant at its timeout: e2e.nat_knock_spad_firewalld (spad, fwknop's
# client) and, for firewalld's timed rules, e2e.plugin_firewalld.
# Usage: test_firewalld_nat.sh <spa_plugin_drive> <firewalld.so>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}

e2e_require_root
e2e_require_tools socat ss timeout dbus-daemon firewalld firewall-cmd nft
e2e_setup_nat || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_peer_listener "$E2E_NS_INT" 22 || { echo "FAIL: internal listener"; exit 1; }
e2e_start_peer_listener "$E2E_NS_SRV" 2222 || { echo "FAIL: gateway listener"; exit 1; }
e2e_firewalld_prepare "$E2E_TMPDIR/fwd" && chmod 755 "$E2E_TMPDIR" ||
  { echo "FAIL: firewalld files"; exit 1; }
e2e_firewalld_start || { echo "FAIL: firewalld did not come up in the namespace"; exit 1; }
fcmd() { e2e_srv "$E2E_FWD_CMD" "$@"; }
ifname_of() { e2e_srv ip -o addr show to "$1" | awk '{ print $2; exit }'; }
fcmd --zone=public --change-interface="$(ifname_of "$E2E_NAT_GW_OUT4")" >/dev/null &&
  fcmd --zone=internal --change-interface="$(ifname_of "$E2E_NAT_GW_IN4")" >/dev/null ||
  { echo "FAIL: zones"; exit 1; }

opts=(-o FIREWD_ZONE=public -o FIREWD_MASQ_ZONE=internal -o FIREWD_TRANSPORT=dbus)
drv() { e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS" "$drive" "${opts[@]}" "$plugin" "$@"; }
check() { e2e_check "$@"; }
# rich rules naming the granted or the other client address, both zones
ours() {
  { fcmd --zone=public --list-rich-rules; fcmd --zone=internal --list-rich-rules; } |
    grep -c 'source address="203\.0\.113\.[23]"'
}
listed_is() { e2e_expect_lines list "$(drv list)" "$@"; }

C=$E2E_NAT_CLI4 X=$E2E_NAT_CLI4_OTHER GW=$E2E_NAT_GW_OUT4 INT=$E2E_NAT_INT4
exp=$(($(date +%s) + 600))
admin='rule family="ipv4" source address="203.0.113.0/24" port port="2223" protocol="tcp" accept'
check fcmd --zone=public --add-rich-rule="$admin"

echo "== before any grant: nothing through the gateway"
e2e_expect_nat_blocked "$C" "$GW" 5555
e2e_expect_nat_blocked "$C" "$INT" 22

echo "== forward + masquerade: gateway tcp/5555 to the internal host's tcp/22"
check drv open "$C" tcp 5555 "$exp" nat=forward+masq "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$E2E_NAT_GW_IN4"
e2e_expect_nat_blocked "$X" "$GW" 5555
check test "$(fcmd --zone=internal --list-rich-rules | grep -c masquerade)" = 1
check test "$(ours)" = 2
# firewalld does not say what a timed rule has left: expires 0
listed_is "$C tcp 5555 0 nat=forward+masq to=$INT,22"

echo "== close: the path is gone, and both rules"
check drv close "$C" tcp 5555 "$exp" nat=forward+masq "to=$INT,22"
e2e_expect_nat_blocked "$C" "$GW" 5555
check test "$(ours)" = 0

echo "== forward without masquerade, through firewall-cmd: the client's own address"
exec_opts=(-o FIREWD_ZONE=public -o FIREWD_MASQ_ZONE=internal -o FIREWD_TRANSPORT=exec
           -o "FIREWD_EXE=$E2E_FWD_CMD")
check e2e_srv "$drive" "${exec_opts[@]}" "$plugin" open "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$C"
check e2e_srv "$drive" "${exec_opts[@]}" "$plugin" close "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
check test "$(ours)" = 0

echo "== local: gateway tcp/6666 to its own tcp/2222, which is accepted too"
check drv open "$C" tcp 6666 "$exp" nat=local "to=$GW,2222"
e2e_expect_nat_open "$C" "$GW" 6666 "$C"
e2e_expect_nat_open "$C" "$GW" 2222 "$C"
e2e_expect_nat_blocked "$X" "$GW" 6666
listed_is "$C tcp 6666 0 nat=local to=$GW,2222"

echo "== what rich rules cannot express is refused, saying why"
out=$(drv open "$X" tcp 7000 "$exp" nat=forward+snat "to=$INT,22" "snat=$E2E_NAT_GW_SNAT4" 2>&1)
check test $? -ne 0
check grep -q 'cannot SNAT to an address' <<<"$out"
out=$(drv open "$X" tcp 7000 "$exp" nat=forward+all 2>&1)
check test $? -ne 0
check grep -q 'FORWARD_ALL' <<<"$out"

echo "== flush: no rule of ours left, the admin's kept"
check drv flush
check test "$(ours)" = 0
check test "$(fcmd --zone=public --list-rich-rules | grep -cxF -- "$admin")" = 1
listed_is ""
e2e_expect_nat_blocked "$C" "$GW" 6666

e2e_finish
