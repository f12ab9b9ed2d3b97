#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ipset plugin on the real kernel inside a network namespace, driven by
# spa_plugin_drive: the admin's iptables drop policy plus the one rule that
# consumes our sets; open/refresh/close, kernel expiry, IPv4 and IPv6;
# close of an element already gone is 0, a close ipset refuses is not (exec:
# IPSET_EXE is a wrapper failing on demand); old IPSET_FLUSH_AT_* refused.
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

echo "== close succeeds when the element is already gone"
# the kernel expired it (above), or an admin deleted it
check drv close "$E2E_CLI4_OTHER" tcp 22 0
now=$(date +%s)
check drv open "$E2E_CLI4_OTHER" tcp 22 $((now + 60))
check e2e_srv ipset del spa4 "$E2E_CLI4_OTHER,tcp:22"
check drv close "$E2E_CLI4_OTHER" tcp 22 0
check test "$(elements spa4)" = 1

echo "== close succeeds when the set was destroyed behind our back (created again)"
# spa4d holds grants with a destination; no rule of this test references
# it, so it can be destroyed
check drv open "$E2E_CLI4_OTHER" tcp 22 $((now + 60)) "$E2E_SRV4"
check test "$(elements spa4d)" = 1
# destroyed after init (which would create it again), right before the close
check drv admin "$(command -v ipset)" destroy spa4d -- close "$E2E_CLI4_OTHER" tcp 22 0 "$E2E_SRV4"
check test "$(elements spa4d)" = 0

if [ "$transport" = exec ]; then
  echo "== a close ipset refuses fails (IPSET_EXE is a wrapper failing on demand)"
  # The runner gives it an empty environment: absolute paths only.
  wrap=$E2E_TMPDIR/ipset-wrap
  flag=$E2E_TMPDIR/ipset-fail
  cat >"$wrap" <<EOF
#!/bin/bash
if [ -e "$flag" ] && [[ " \$* " == *" del "* ]]; then
  echo "injected failure" >&2
  exit 1
fi
exec "$(command -v ipset)" "\$@"
EOF
  chmod 755 "$wrap"
  wdrv() { e2e_srv "$drive" -o IPSET_TRANSPORT=exec -o IPSET_EXE="$wrap" "$plugin" "$@"; }
  check wdrv open "$E2E_CLI4_OTHER" tcp 22 $((now + 60))
  touch "$flag"
  out=$(wdrv close "$E2E_CLI4_OTHER" tcp 22 0 2>&1)
  check test $? -ne 0
  check grep -q "^close failed" <<<"$out"
  check test "$(elements spa4)" = 2
  rm -f "$flag"
  check wdrv close "$E2E_CLI4_OTHER" tcp 22 0
  check test "$(elements spa4)" = 1
else
  echo "== (library transport: it runs no command, so no failing close through IPSET_EXE)"
fi

echo "== the old IPSET_FLUSH_AT_* keys are refused by check, naming the engine's"
refused=$(e2e_srv "$drive" "${base[@]}" -o IPSET_FLUSH_AT_INIT=N "$plugin" list 2>&1)
check test $? -ne 0
check grep -q "IPSET_FLUSH_AT_INIT 'N' is no longer read: use FLUSH_IPSET_AT_INIT" <<<"$refused"

echo "== flush"
check drv flush
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
check test "$(elements spa4)" = 0

e2e_finish
