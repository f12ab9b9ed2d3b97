#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nftables plugin against the real kernel inside a network namespace,
# driven without the engine by spa_plugin_drive. Covers both documented
# modes (standalone drop policy in our table; the admin's own drop table
# with a one-line mark reference), kernel-side expiry, refresh without
# duplicates, restart without losing live grants, that flush touches
# nothing of the admin's, that close succeeds when the element is already
# gone and fails when nft does (exec: NFT_EXE is a wrapper failing on
# demand), and that check refuses the old NFT_FLUSH_AT_* keys. Run once
# per transport: "library" (libnftables in-process) and "exec"
# (`nft -j -f -`).
# Usage: test_nftables_plugin.sh <spa_plugin_drive> <nftables.so> [library|exec]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}
transport=${3:-exec}

e2e_require_root
e2e_require_tools socat ss timeout nft
e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
echo "== transport: $transport"

# The library transport must never run a command: give it no nft to run.
if [ "$transport" = library ]; then
  base=(-o NFT_TRANSPORT=library -o NFT_EXE=/nonexistent/nft)
else
  base=(-o NFT_TRANSPORT=exec -o "NFT_EXE=$(command -v nft)")
fi
opts=("${base[@]}")
drv() { e2e_srv "$drive" "${opts[@]}" "$plugin" "$@"; }
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
elements() { # number of elements in one of our sets (each has a "val")
  e2e_srv nft -j list set inet spa "$1" | grep -o '"val"' | wc -l
}

# Something of the admin's that flush must leave alone.
e2e_srv nft add table inet admin
e2e_srv nft add set inet admin keep '{ type ipv4_addr; }'
e2e_srv nft add element inet admin keep '{ 203.0.113.9 }'

echo "== standalone mode: our table drops tcp/22"
opts+=(-o "NFT_PROTECT_PORTS=tcp/22")
check drv list
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22

now=$(date +%s)
check drv open "$E2E_CLI4" tcp 22 $((now + 60)) -- open "$E2E_CLI6" tcp 22 $((now + 60))
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22

echo "== re-knock refreshes the element, no duplicate"
check drv refresh "$E2E_CLI4" tcp 22 $((now + 120)) -- open "$E2E_CLI6" tcp 22 $((now + 120))
check test "$(elements allow4)" = 1
check test "$(elements allow6)" = 1
listed=$(drv list)
echo "$listed"
check test "$(wc -l <<<"$listed")" = 2
# the kernel reports whole seconds left: allow a little drift
exp4=$(awk -v a="$E2E_CLI4" '$1 == a { print $4 }' <<<"$listed")
check test "${exp4:-0}" -ge $((now + 110))

echo "== restart (init again) keeps live grants"
check drv list
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
check test "$(elements allow4)" = 1

echo "== the kernel closes the hole at expiry"
now=$(date +%s)
check drv open "$E2E_CLI4_OTHER" tcp 22 $((now + 3))
e2e_expect_open "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
sleep 4
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
echo "== closing what the kernel already expired succeeds"
check drv close "$E2E_CLI4_OTHER" tcp 22 0
check test "$(elements allow4)" = 1

echo "== close succeeds when the element was deleted behind our back"
now=$(date +%s)
check drv open "$E2E_CLI4_OTHER" tcp 22 $((now + 60))
check test "$(elements allow4)" = 2
check e2e_srv nft delete element inet spa allow4 "{ $E2E_CLI4_OTHER . tcp . 22 }"
check test "$(elements allow4)" = 1
check drv close "$E2E_CLI4_OTHER" tcp 22 0
check test "$(elements allow4)" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

if [ "$transport" = exec ]; then
  echo "== a close nft refuses fails (NFT_EXE is a wrapper failing on demand)"
  # The runner gives it an empty environment: bash builtins and absolute
  # paths only. Setup documents carry no "delete"; open and close do.
  wrap=$E2E_TMPDIR/nft-wrap
  flag=$E2E_TMPDIR/nft-fail
  cat >"$wrap" <<EOF
#!/bin/bash
if [ "\${*: -1}" = - ]; then
  doc=\$(</dev/stdin)
  if [ -e "$flag" ] && [[ \$doc == *'"delete"'* ]]; then
    echo "injected failure" >&2
    exit 1
  fi
  exec "$(command -v nft)" "\$@" <<<"\$doc"
fi
exec "$(command -v nft)" "\$@"
EOF
  chmod 755 "$wrap"
  wdrv() {
    e2e_srv "$drive" -o NFT_TRANSPORT=exec -o NFT_EXE="$wrap" -o "NFT_PROTECT_PORTS=tcp/22" \
      "$plugin" "$@"
  }
  now=$(date +%s)
  check wdrv open "$E2E_CLI4_OTHER" tcp 22 $((now + 60))
  touch "$flag"
  out=$(wdrv close "$E2E_CLI4_OTHER" tcp 22 0 2>&1)
  check test $? -ne 0
  check grep -q "^close failed" <<<"$out"
  check test "$(elements allow4)" = 2
  rm -f "$flag"
  check wdrv close "$E2E_CLI4_OTHER" tcp 22 0
  check test "$(elements allow4)" = 1
else
  echo "== (library transport: it runs no command, so no failing close through NFT_EXE)"
fi

echo "== the old NFT_FLUSH_AT_* keys are refused by check, naming the engine's"
refused=$(e2e_srv "$drive" "${base[@]}" -o NFT_FLUSH_AT_INIT=Y "$plugin" list 2>&1)
check test $? -ne 0
check grep -q "check failed" <<<"$refused"
check grep -q "NFT_FLUSH_AT_INIT 'Y' is no longer read: use FLUSH_NFT_AT_INIT" <<<"$refused"
check test "$(elements allow4)" = 1

echo "== an unknown transport is refused"
refused=$(e2e_srv "$drive" -o NFT_TRANSPORT=shell "$plugin" list 2>&1)
check test $? -ne 0
check grep -q "NFT_TRANSPORT: 'shell' is not one of" <<<"$refused"

echo "== close and flush"
check drv close "$E2E_CLI6" tcp 22 0
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
check drv flush
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
check test "$(elements allow4)" = 0
check test "$(e2e_srv nft list set inet admin keep | grep -c 203.0.113.9)" = 1

echo "== close succeeds after our whole table was deleted behind our back"
# deleted after init (which would rebuild it), right before the close
now=$(date +%s)
check drv open "$E2E_CLI4" tcp 22 $((now + 60)) -- \
  admin "$(command -v nft)" delete table inet spa -- close "$E2E_CLI4" tcp 22 0
check test "$(elements allow4)" = 0

echo "== mark mode: the admin's own drop table honours our mark"
e2e_srv nft delete table inet spa
opts=("${base[@]}")
e2e_policy_nftables 22 0x5350 || { echo "FAIL: admin policy"; exit 1; }
check drv list
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
now=$(date +%s)
check drv open "$E2E_CLI4" tcp 22 $((now + 60)) -- open "$E2E_CLI6" tcp 22 $((now + 60)) "$E2E_SRV6"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22
check test "$(elements allow6d)" = 1

echo "== a listing alone (as spad --fw-list does) changes nothing"
check e2e_srv "$drive" "${base[@]}" "$plugin" list
check test "$(elements allow4)" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== the engine's FLUSH_NFT_AT_EXIT=Y (flush before fini) empties our sets"
check e2e_srv "$drive" "${base[@]}" -o FLUSH_NFT_AT_EXIT=Y "$plugin" list
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22

e2e_finish
