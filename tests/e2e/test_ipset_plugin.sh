#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ipset plugin on the real kernel inside a network namespace, driven by
# spa_plugin_drive: the admin's iptables drop policy plus the one rule that
# consumes our sets; open/refresh/close, kernel expiry, IPv4 and IPv6.
# Run once per transport: "library" (libipset in-process) and "exec" (the
# ipset command through the runner).
# Usage: test_ipset_plugin.sh <spa_plugin_drive> <ipset.so> [library|exec]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}
transport=${3:-exec}

e2e_require_root
e2e_require_tools socat ss timeout ipset iptables ip6tables
e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
e2e_policy_iptables 62201 || { echo "FAIL: drop policy"; exit 1; }

echo "== transport: $transport"
# The library transport must never run a command: give it no ipset to run.
if [ "$transport" = library ]; then
  base=(-o IPSET_TRANSPORT=library -o IPSET_EXE=/nonexistent/ipset)
else
  base=(-o IPSET_TRANSPORT=exec)
fi
drv() { e2e_srv "$drive" "${base[@]}" "$plugin" "$@"; }
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
elements() { e2e_srv ipset save "$1" | grep -c '^add '; }

# init creates the sets (through the transport asked for); then the
# documented consuming rules
check grep -q "transport $transport" <<<"$(drv list 2>&1)"
e2e_srv iptables -w -I INPUT 1 -m set --match-set spa4 src,dst -j ACCEPT
e2e_srv ip6tables -w -I INPUT 1 -m set --match-set spa6 src,dst -j ACCEPT

e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
now=$(date +%s)
check drv open "$E2E_CLI4" tcp 22 $((now + 60)) -- open "$E2E_CLI6" tcp 22 $((now + 60))
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22

echo "== refresh: same element, new timeout"
check drv refresh "$E2E_CLI4" tcp 22 $((now + 120))
check test "$(elements spa4)" = 1
t=$(e2e_srv ipset save spa4 | awk '/^add/ { print $NF }')
check test "${t:-0}" -gt 100
listed=$(drv list)
echo "$listed"
check test "$(wc -l <<<"$listed")" = 2

echo "== close, then kernel expiry"
check drv close "$E2E_CLI6" tcp 22 0
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22
now=$(date +%s)
check drv open "$E2E_CLI4_OTHER" tcp 22 $((now + 2))
e2e_expect_open "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
sleep 3
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== flush"
check drv flush
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
check test "$(elements spa4)" = 0

e2e_finish
