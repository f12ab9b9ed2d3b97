#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The iptables plugin's NAT grants (ABI 1.5) on real iptables/ip6tables in
# three namespaces: a client with a granted and a non-granted address, a
# gateway that forwards with a default-drop FORWARD policy, and an
# internal host whose service answers with the source it sees. Driven by
# spa_plugin_drive (no engine): the internal service is reachable through
# the gateway only after the open, only from the granted source, and not
# after the close; SNAT and MASQUERADE show in the source the internal
# host sees; the local NAT form reaches a service of the gateway; the
# FORWARD_ALL and no-DNAT forms; IPv6 through ip6tables' nat table; a
# re-knock of a grant leaves one set of rules; list gives one
# grant, with its NAT form, however many rules it has (also read back by
# a fresh process, whose view comes from iptables-save); another form for
# the same source and port is another grant (as the engine has it), and
# closing one leaves the other; open_batch; and flush leaves no chain of
# ours in any table.
# Usage: test_iptables_nat.sh <spa_plugin_drive> <iptables.so>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}

e2e_require_root
e2e_require_tools socat ss timeout iptables-save iptables-restore ip6tables-save ip6tables-restore
e2e_setup_nat || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_peer_listener "$E2E_NS_INT" 22 || { echo "FAIL: internal listener"; exit 1; }
e2e_start_peer_listener "$E2E_NS_SRV" 2222 || { echo "FAIL: gateway listener"; exit 1; }

# The gateway's own policy: nothing in, nothing through, except replies
# (fwknop's NAT rules open the first packet's way only, as here). The
# policies drop; a last REJECT rule says so at once, so that a blocked
# probe costs no connect timeout.
for ipt in iptables ip6tables; do
  [ "$ipt" = ip6tables ] && e2e_srv ip6tables -w -A INPUT -p ipv6-icmp -j ACCEPT
  e2e_srv "$ipt" -w -A INPUT -i lo -j ACCEPT
  e2e_srv "$ipt" -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  e2e_srv "$ipt" -w -A INPUT -p tcp -j REJECT
  e2e_srv "$ipt" -w -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  e2e_srv "$ipt" -w -A FORWARD -p tcp -j REJECT
  e2e_srv "$ipt" -w -P INPUT DROP
  e2e_srv "$ipt" -w -P FORWARD DROP
done

opts=(-o FLUSH_IPT_AT_INIT=N -o FLUSH_IPT_AT_EXIT=N)
drv() { e2e_srv "$drive" "${opts[@]}" "$plugin" "$@"; }
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
# rules of ours (a _exp_ comment) in every table of a family
ours() { e2e_srv "$1" | grep -c -- '--comment _exp_'; }
listed_is() { # the listing, exactly (sorted)
  local got
  got=$(drv list | sort)
  if [ "$got" = "$(printf '%s\n' "$@" | sort)" ]; then
    echo "ok: list is $*"
  else
    echo "FAIL: list: want '$*', got '$got'"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
}

C=$E2E_NAT_CLI4 X=$E2E_NAT_CLI4_OTHER GW=$E2E_NAT_GW_OUT4 INT=$E2E_NAT_INT4
exp=$(($(date +%s) + 600))

echo "== before any grant: nothing through the gateway"
e2e_expect_nat_blocked "$C" "$GW" 5555
e2e_expect_nat_blocked "$C" "$INT" 22

echo "== forward: gateway tcp/5555 to the internal host's tcp/22"
check drv open "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$C"
e2e_expect_nat_blocked "$X" "$GW" 5555
check test "$(e2e_srv iptables-save -t nat | grep -c '^-A PREROUTING -j FWKNOP_PREROUTING$')" = 1
check test "$(e2e_srv iptables-save -t filter | grep -c '^-A FORWARD -j FWKNOP_FORWARD$')" = 1
check test "$(e2e_srv iptables-save -t filter | grep -c "^-A FWKNOP_FORWARD -s $C/32 -d $INT/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_${exp}_tcp_5555_f_t198-51-100-10_p22 -j ACCEPT\$")" = 1
check test "$(e2e_srv iptables-save -t nat | grep -c "^-A FWKNOP_PREROUTING -s $C/32 -p tcp -m tcp --dport 5555 -m comment --comment _exp_${exp}_tcp_5555_f_t198-51-100-10_p22 -j DNAT --to-destination $INT:22\$")" = 1
listed_is "$C tcp 5555 $exp nat=forward to=$INT,22"

echo "== another form for the same source and port is another grant, beside the first"
S=$E2E_NAT_GW_SNAT4
check drv open "$C" tcp 5555 "$exp" nat=forward+snat "to=$INT,22" "snat=$S"
e2e_expect_nat_open "$C" "$GW" 5555 "$S"
check test "$(ours iptables-save)" = 5
listed_is "$C tcp 5555 $exp nat=forward to=$INT,22" \
  "$C tcp 5555 $exp nat=forward+snat to=$INT,22 snat=$S"
echo "== closing one leaves the other (a fresh process: its view read from iptables-save)"
check drv close "$C" tcp 5555 "$exp" nat=forward "to=$INT,22"
e2e_expect_nat_open "$C" "$GW" 5555 "$S"
check test "$(ours iptables-save)" = 3

echo "== a re-knock of the same grant: one set of rules, the later expiry"
check drv refresh "$C" tcp 5555 "$((exp + 60))" nat=forward+snat "to=$INT,22" "snat=$S"
check test "$(ours iptables-save)" = 3
listed_is "$C tcp 5555 $((exp + 60)) nat=forward+snat to=$INT,22 snat=$S"

echo "== MASQUERADE: the gateway's inside address"
check drv open "$C" tcp 5555 "$exp" nat=forward+masq "to=$INT,22" \
  -- close "$C" tcp 5555 "$((exp + 60))" nat=forward+snat "to=$INT,22" "snat=$S"
e2e_expect_nat_open "$C" "$GW" 5555 "$E2E_NAT_GW_IN4"
check test "$(ours iptables-save)" = 3
listed_is "$C tcp 5555 $exp nat=forward+masq to=$INT,22"
check drv close "$C" tcp 5555 "$exp" nat=forward+masq "to=$INT,22"
e2e_expect_nat_blocked "$C" "$GW" 5555
check test "$(ours iptables-save)" = 0

echo "== local NAT: gateway tcp/5555 to its own tcp/2222"
check drv open "$C" tcp 5555 "$exp" nat=local "to=$GW,2222"
e2e_expect_nat_open "$C" "$GW" 5555 "$C"
e2e_expect_nat_blocked "$X" "$GW" 5555
e2e_expect_nat_blocked "$C" "$INT" 22
listed_is "$C tcp 5555 $exp nat=local to=$GW,2222"
check drv close "$C" tcp 5555 "$exp" nat=local "to=$GW,2222"
e2e_expect_nat_blocked "$C" "$GW" 5555

echo "== forward all, no DNAT: everything from the source through, nothing else"
check drv open "$C" tcp 5555 "$exp" nat=forward+all+nodnat
e2e_expect_nat_open "$C" "$INT" 22 "$C"
e2e_expect_nat_blocked "$X" "$INT" 22
e2e_expect_nat_blocked "$C" "$GW" 5555
listed_is "$C tcp 5555 $exp nat=forward+all+nodnat"

echo "== forward all with DNAT of everything to the internal host, and MASQUERADE"
check drv close "$C" tcp 5555 "$exp" nat=forward+all+nodnat \
  -- open "$C" tcp 5555 "$exp" nat=forward+all+masq "to=$INT"
e2e_expect_nat_open "$C" "$GW" 22 "$E2E_NAT_GW_IN4"
e2e_expect_nat_blocked "$X" "$GW" 22
listed_is "$C tcp 5555 $exp nat=forward+all+masq to=$INT"
check drv close "$C" tcp 5555 "$exp" nat=forward+all+masq "to=$INT"
e2e_expect_nat_blocked "$C" "$INT" 22

echo "== forward without DNAT: the internal address itself, nothing at the gateway"
check drv open "$C" tcp 5555 "$exp" nat=forward+nodnat "to=$INT,22" \
  -- close "$C" tcp 5555 "$exp" nat=forward+nodnat "to=$INT,22" \
  -- open "$C" tcp 5555 "$exp" nat=forward+nodnat "to=$INT,22"
e2e_expect_nat_open "$C" "$INT" 22 "$C"
e2e_expect_nat_blocked "$C" "$GW" 5555

echo "== IPv6 through ip6tables' nat table"
check drv open "$E2E_NAT_CLI6" tcp 5555 "$exp" nat=forward+masq "to=$E2E_NAT_INT6,22"
e2e_expect_nat_open "$E2E_NAT_CLI6" "$E2E_NAT_GW_OUT6" 5555 "$E2E_NAT_GW_IN6"
e2e_expect_nat_blocked "$E2E_NAT_CLI6_OTHER" "$E2E_NAT_GW_OUT6" 5555

echo "== a batch: plain and NAT grants of both families in one open_batch"
cat >"$E2E_TMPDIR/batch" <<EOF
$X tcp 22 $exp
$X tcp 6000 $exp nat=forward to=$INT,22
$E2E_NAT_CLI6_OTHER tcp 6000 $exp nat=forward to=$E2E_NAT_INT6,22
EOF
check drv batch open "$E2E_TMPDIR/batch"
e2e_expect_nat_open "$X" "$GW" 6000 "$X"
e2e_expect_nat_open "$E2E_NAT_CLI6_OTHER" "$E2E_NAT_GW_OUT6" 6000 "$E2E_NAT_CLI6_OTHER"
listed_is "$C tcp 5555 $exp nat=forward+nodnat to=$INT,22" \
  "$E2E_NAT_CLI6 tcp 5555 $exp nat=forward+masq to=$E2E_NAT_INT6,22" \
  "$X tcp 22 $exp" "$X tcp 6000 $exp nat=forward to=$INT,22" \
  "$E2E_NAT_CLI6_OTHER tcp 6000 $exp nat=forward to=$E2E_NAT_INT6,22"
check drv batch close "$E2E_TMPDIR/batch"
e2e_expect_nat_blocked "$X" "$GW" 6000
listed_is "$C tcp 5555 $exp nat=forward+nodnat to=$INT,22" \
  "$E2E_NAT_CLI6 tcp 5555 $exp nat=forward+masq to=$E2E_NAT_INT6,22"

echo "== ENABLE_IPT_OUTPUT: a local grant's reply rule"
opts+=(-o ENABLE_IPT_OUTPUT=Y)
check drv open "$X" udp 5353 "$exp" nat=local "to=$GW,53"
check test "$(e2e_srv iptables-save -t filter | grep -c "^-A FWKNOP_OUTPUT -d $X/32 -p udp -m udp --sport 53 -m comment --comment _exp_${exp}_udp_5353_l_t203-0-113-1_p53 -j ACCEPT\$")" = 1

echo "== a refused form: SNAT without its address"
out=$(drv open "$C" tcp 7000 "$exp" nat=forward+snat "to=$INT,22" 2>&1)
check grep -q 'SNAT without an SNAT address' <<<"$out"

echo "== flush: no chain of ours left in any table"
check drv flush
for save in iptables-save ip6tables-save; do
  check test "$(e2e_srv "$save" | grep -c 'FWKNOP_')" = 0
done
listed_is ""
e2e_expect_nat_blocked "$C" "$INT" 22
e2e_expect_nat_blocked "$E2E_NAT_CLI6" "$E2E_NAT_GW_OUT6" 5555

e2e_finish
