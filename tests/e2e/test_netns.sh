#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-test of netns.sh: the probes must see the listener with no policy,
# must stop seeing it under each backend's default-drop policy (from both
# client addresses, IPv4 and IPv6), and cleanup must remove the namespaces
# even when a test dies.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

e2e_require_root
e2e_require_tools socat ss timeout

# Cleanup on failure, checked in a child shell that sets up and then dies.
child_out=$(bash -c '. "$1"; e2e_setup || exit 3; e2e_start_listener 22 || exit 4
                     echo "$E2E_NS_SRV $E2E_NS_CLI $E2E_LAST_PID"; exit 1' _ "$here/netns.sh")
child_rc=$?
read -r child_srv child_cli child_pid <<<"$child_out"
if [ "$child_rc" -ne 1 ] || [ -z "${child_pid:-}" ]; then
  echo "FAIL: child setup did not get as far as the listener (rc=$child_rc)"
  E2E_FAILS=$((E2E_FAILS + 1))
else
  if ip netns list | grep -qE "^($child_srv|$child_cli)( |$)"; then
    echo "FAIL: namespaces of a failed test were left behind"
    E2E_FAILS=$((E2E_FAILS + 1))
    ip netns del "$child_srv" 2>/dev/null
    ip netns del "$child_cli" 2>/dev/null
  else
    echo "ok: namespaces removed after a failing test"
  fi
  if kill -0 "$child_pid" 2>/dev/null; then
    echo "FAIL: listener pid $child_pid survived the failing test"
    E2E_FAILS=$((E2E_FAILS + 1))
  else
    echo "ok: listener stopped after a failing test"
  fi
fi

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }

pairs=(
  "$E2E_CLI4 $E2E_SRV4"
  "$E2E_CLI4_OTHER $E2E_SRV4"
  "$E2E_CLI6 $E2E_SRV6"
  "$E2E_CLI6_OTHER $E2E_SRV6"
)

expect_all() {
  local want=$1 p
  for p in "${pairs[@]}"; do
    # shellcheck disable=SC2086
    "e2e_expect_$want" $p 22
  done
}

# A probe that can only succeed is worthless: a port with nothing
# listening must read as blocked.
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 2222
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 2222

echo "== no policy"
expect_all open

if command -v iptables >/dev/null 2>&1 && command -v ip6tables >/dev/null 2>&1; then
  echo "== iptables default drop"
  if e2e_policy_iptables 62201; then
    expect_all blocked
    e2e_policy_iptables_clear
    expect_all open
  else
    echo "FAIL: could not install the iptables policy"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
else
  echo "SKIP: iptables/ip6tables not installed, iptables policy not checked"
fi

if command -v nft >/dev/null 2>&1; then
  echo "== nftables drop tcp/22"
  if e2e_policy_nftables 22 0x5350; then
    expect_all blocked
    # The reference rule must let marked packets through: mark .2 only.
    e2e_srv nft add table inet spa_e2e_mark
    e2e_srv nft add chain inet spa_e2e_mark pre \
      '{ type filter hook input priority -10; policy accept; }'
    e2e_srv nft add rule inet spa_e2e_mark pre ip saddr "$E2E_CLI4" meta mark set 0x5350
    e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
    e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
    e2e_srv nft delete table inet spa_e2e_mark
    e2e_policy_nftables_clear
    expect_all open
  else
    echo "FAIL: could not install the nftables policy"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
else
  echo "SKIP: nft not installed, nftables policy not checked"
fi

e2e_finish
