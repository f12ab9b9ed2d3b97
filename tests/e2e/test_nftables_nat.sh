#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nftables plugin's NAT grants (ABI 1.5) on the real kernel, in the
# three namespaces of netns.sh's e2e_setup_nat: a client with a granted
# and a non-granted address, a gateway whose own nftables policy drops
# input and forwarding (except replies and what our table marks: the
# one-line reference of the plugin's README), and an internal host whose
# service answers with the source it sees. Driven by spa_plugin_drive
# (no engine): the internal service is reachable through the gateway only
# after the open, only from the granted source, and not after the close;
# SNAT and masquerade show in the source the internal host sees; the
# LOCAL form reaches a service of the gateway; FORWARD_ALL and no-DNAT;
# IPv6; a re-knock changing the form leaves only the new one; the kernel
# expires every element of a grant at once; list gives one grant with its
# form; open_batch; the exec transport writes the same; flush leaves no
# element.
# Usage: test_nftables_nat.sh <spa_plugin_drive> <nftables.so>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}

e2e_require_root
e2e_require_tools socat ss timeout nft
e2e_setup_nat || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_peer_listener "$E2E_NS_INT" 22 || { echo "FAIL: internal listener"; exit 1; }
e2e_start_peer_listener "$E2E_NS_SRV" 2222 || { echo "FAIL: gateway listener"; exit 1; }

# The gateway's own policy, in a table of the admin's: nothing in,
# nothing through, except replies and packets our table marked (TCP
# refused with a reset, so that a blocked probe answers at once).
e2e_srv nft -f - <<'EOF' || { echo "FAIL: gateway policy"; exit 1; }
table inet admin {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    meta l4proto ipv6-icmp accept
    meta mark & 0x5350 == 0x5350 accept
    meta l4proto tcp reject with tcp reset
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    meta l4proto ipv6-icmp accept
    meta mark & 0x5350 == 0x5350 accept
    meta l4proto tcp reject with tcp reset
  }
}
EOF

opts=(-o NFT_EXE=/nonexistent/nft)
drv() { e2e_srv "$drive" "${opts[@]}" "$plugin" "$@"; }
check() { e2e_check "$@"; }
# elements of ours: each carries the grant's "spa-nat ..." comment
tagged() { e2e_srv nft list table inet spa | grep -o 'comment "spa-nat' | wc -l; }
in_set() { e2e_srv nft list set inet spa "$1" 2>/dev/null | grep -c 'comment "spa-nat'; }
in_map() { e2e_srv nft list map inet spa "$1" 2>/dev/null | grep -c 'comment "spa-nat'; }
# The listing without the expiry field (the kernel counts in ms), sorted.
listed_is() { e2e_expect_lines list "$(drv list | awk '{ $4 = "E"; print }')" "$@"; }

C=$E2E_NAT_CLI4 X=$E2E_NAT_CLI4_OTHER GW=$E2E_NAT_GW_OUT4 INT=$E2E_NAT_INT4
exp=$(($(date +%s) + 600))

echo "== before any grant: nothing through the gateway, nothing into it"
e2e_expect_nat_blocked "$C" "$GW" 5555
e2e_expect_nat_blocked "$C" "$INT" 22

echo "== forward + masquerade: gateway tcp/5555 to the internal host's tcp/22"
check drv open "$C" tcp 5555 "$exp" nat=forward+masq "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$E2E_NAT_GW_IN4"
e2e_expect_nat_blocked "$X" "$GW" 5555
check test "$(in_set fwd4)" = 1
check test "$(in_map dnat_addr4)" = 1
check test "$(in_map dnat_port4)" = 1
check test "$(in_set masq4)" = 1
check test "$(tagged)" = 4
listed_is "$C tcp 5555 E nat=forward+masq to=$INT,22"
# the chains came with the first NAT grant, rules and all
check test "$(e2e_srv nft list chain inet spa nat_pre | grep -c 'dnat ip to')" = 2

echo "== re-knock with SNAT: the old form's elements go, the SNAT address is seen"
check drv refresh "$C" tcp 5555 "$exp" nat=forward+snat "to=$INT,22" "snat=$E2E_NAT_GW_SNAT4"
e2e_expect_nat_open "$C" "$GW" 5555 "$E2E_NAT_GW_SNAT4"
check test "$(in_set masq4)" = 0
check test "$(in_map snat4)" = 1
check test "$(tagged)" = 4
listed_is "$C tcp 5555 E nat=forward+snat to=$INT,22 snat=$E2E_NAT_GW_SNAT4"

echo "== re-knock to another target port: one DNAT element, the new one"
check drv open "$C" tcp 5555 "$exp" nat=forward "to=$INT,2222"
check test "$(e2e_srv nft list map inet spa dnat_port4 | grep -c ': 2222')" = 1
check test "$(tagged)" = 3
check drv open "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$C"

echo "== close: the path is gone, and every element with it"
check drv close "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
e2e_expect_nat_blocked "$C" "$GW" 5555
check test "$(tagged)" = 0

echo "== local: gateway tcp/5555 to its own tcp/2222, which is accepted too"
check drv open "$C" tcp 5555 "$exp" nat=local "to=$GW,2222"
e2e_expect_nat_open "$C" "$GW" 5555 "$C"
e2e_expect_nat_open "$C" "$GW" 2222 "$C"
e2e_expect_nat_blocked "$X" "$GW" 5555
check test "$(in_set local4)" = 1
listed_is "$C tcp 5555 E nat=local to=$GW,2222"
check drv close "$C" tcp 5555 "$exp" nat=local "to=$GW,2222"
check test "$(tagged)" = 0

echo "== forward all without DNAT: everything from the source through"
check drv open "$C" tcp 5555 "$exp" nat=forward+all+nodnat
e2e_expect_nat_open "$C" "$INT" 22 "$C"
e2e_expect_nat_blocked "$X" "$INT" 22
listed_is "$C tcp 5555 E nat=forward+all+nodnat"
echo "== ... re-knocked as forward all, DNAT of everything, masquerade"
check drv open "$C" tcp 5555 "$exp" nat=forward+all+masq "to=$INT"
e2e_expect_nat_open "$C" "$GW" 22 "$E2E_NAT_GW_IN4"
listed_is "$C tcp 5555 E nat=forward+all+masq to=$INT"
check drv close "$C" tcp 5555 "$exp" nat=forward+all+masq "to=$INT"
e2e_expect_nat_blocked "$C" "$INT" 22
check test "$(tagged)" = 0

echo "== forward without DNAT: the internal address itself, nothing at the gateway"
check drv open "$C" tcp 5555 "$exp" nat=forward+nodnat "to=$INT,22"
e2e_expect_nat_open "$C" "$INT" 22 "$C"
e2e_expect_nat_blocked "$C" "$GW" 5555

echo "== IPv6"
check drv open "$E2E_NAT_CLI6" tcp 5555 "$exp" nat=forward+masq "to=$E2E_NAT_INT6,22"
e2e_expect_nat_open "$E2E_NAT_CLI6" "$E2E_NAT_GW_OUT6" 5555 "$E2E_NAT_GW_IN6"
e2e_expect_nat_blocked "$E2E_NAT_CLI6_OTHER" "$E2E_NAT_GW_OUT6" 5555

echo "== the kernel ends a grant, all of its elements at once"
now=$(date +%s)
check drv open "$X" tcp 7000 $((now + 3)) nat=forward+snat "to=$INT,22" "snat=$E2E_NAT_GW_SNAT4"
check test "$(in_map snat4)" = 1
sleep 4
check test "$(in_set fwd4)" = 1 # the no-DNAT grant above, not this one
check test "$(in_map snat4)" = 0
check test "$(in_map dnat_addr4)" = 0
e2e_expect_nat_blocked "$X" "$GW" 7000

echo "== a batch: plain and NAT grants of both families in one open_batch"
cat >"$E2E_TMPDIR/batch" <<EOF
$X tcp 22 $exp
$X tcp 6000 $exp nat=forward to=$INT,22
$E2E_NAT_CLI6_OTHER tcp 6000 $exp nat=forward to=$E2E_NAT_INT6,22
EOF
check drv batch open "$E2E_TMPDIR/batch"
e2e_expect_nat_open "$X" "$GW" 6000 "$X"
listed_is "$C tcp 5555 E nat=forward+nodnat to=$INT,22" \
  "$E2E_NAT_CLI6 tcp 5555 E nat=forward+masq to=$E2E_NAT_INT6,22" \
  "$X tcp 22 E" "$X tcp 6000 E nat=forward to=$INT,22" \
  "$E2E_NAT_CLI6_OTHER tcp 6000 E nat=forward to=$E2E_NAT_INT6,22"
check drv batch close "$E2E_TMPDIR/batch"
e2e_expect_nat_blocked "$X" "$GW" 6000
listed_is "$C tcp 5555 E nat=forward+nodnat to=$INT,22" \
  "$E2E_NAT_CLI6 tcp 5555 E nat=forward+masq to=$E2E_NAT_INT6,22"

echo "== the exec transport writes the same elements"
exec_opts=(-o NFT_TRANSPORT=exec -o "NFT_EXE=$(command -v nft)")
check e2e_srv "$drive" "${exec_opts[@]}" "$plugin" open "$X" tcp 6001 "$exp" nat=local "to=$GW,2222"
e2e_expect_nat_open "$X" "$GW" 6001 "$X"
listed_is "$C tcp 5555 E nat=forward+nodnat to=$INT,22" \
  "$E2E_NAT_CLI6 tcp 5555 E nat=forward+masq to=$E2E_NAT_INT6,22" \
  "$X tcp 6001 E nat=local to=$GW,2222"
check e2e_srv "$drive" "${exec_opts[@]}" "$plugin" close "$X" tcp 6001 "$exp" nat=local "to=$GW,2222"
check test "$(in_set local4)" = 0

echo "== refused forms leave the table as it was"
before=$(tagged)
out=$(drv open "$C" tcp 7001 "$exp" nat=forward+snat "to=$INT,22" 2>&1)
check test $? -ne 0
out=$(drv open "$C" tcp 7001 "$exp" nat=forward 2>&1)
check test $? -ne 0
check test "$(tagged)" = "$before"

echo "== flush: no element of ours left, the admin's table untouched"
check drv flush
check test "$(tagged)" = 0
listed_is ""
check test "$(e2e_srv nft list table inet admin | grep -c 'tcp reset')" = 2
e2e_expect_nat_blocked "$C" "$INT" 22

e2e_finish
