#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cmdcycle plugin driving ipset, as in the fwknop guide's ipset example,
# with the real daemon inside network namespaces: tcp/22 dropped -> knock
# from 198.51.100.2 -> CMD_CYCLE_OPEN adds it to the set -> open from .2
# only -> closed after expiry. Part 1: CMD_CYCLE_CLOSE NONE, ipset's own
# timeout ($CLIENT_TIMEOUT) removes the member. Part 2: a permanent member
# removed by CMD_CYCLE_CLOSE after CMD_CYCLE_TIMER (not FW_ACCESS_TIMEOUT).
# Part 3: the plugin alone through spa_plugin_drive (next to the plugin
# directory in the build tree): check refuses a stanza without
# CMD_CYCLE_CLOSE or with a relative command; a close command that succeeds
# when the member is already gone makes close return 0; a close command
# that exits non-zero makes close fail.
# Usage: test_cmdcycle_ipset.sh <spad> <plugin-dir>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}

e2e_require_root
e2e_require_tools socat ss timeout base64 ipset iptables ip6tables
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
[ -f "$plugin_dir/cmdcycle.so" ] || e2e_skip "cmdcycle plugin not built"
client=$(command -v fwknop) || e2e_skip "fwknop client not available"
ipset_exe=$(command -v ipset)

E2E_CONNECT_TIMEOUT=1
TIMEOUT=3
PORT=62201

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }
# the guide's set and consuming rule, in the server namespace only
e2e_srv "$ipset_exe" create spa_set hash:ip,port timeout 30 || { echo "FAIL: ipset create"; exit 1; }
e2e_srv iptables -w -I INPUT 1 -m set --match-set spa_set src,dst -j ACCEPT ||
  { echo "FAIL: set rule"; exit 1; }

dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE cmdcycle
CONF
write_access() { # <open> <close> [timer-line]
  cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $4
CMD_CYCLE_OPEN $1
CMD_CYCLE_CLOSE $2
$3
CONF
  chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
}

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
members() { e2e_srv "$ipset_exe" save spa_set | grep -c '^add '; }
has_member() { e2e_srv "$ipset_exe" save spa_set | grep -q "^add spa_set $1"; }
wait_members() { # <count> <max-tenths>
  local i
  for i in $(seq 1 "$2"); do
    [ "$(members)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
spad_pid=""
start_spad() {
  e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -U -v -c "$dir/fwknopd.conf" \
    -a "$dir/access.conf" -r "$dir/run"
  spad_pid=$E2E_LAST_PID
  local i
  for i in $(seq 1 50); do
    e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && return 0
    kill -0 "$spad_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: spad did not start"
  return 1
}
knock() {
  HOME=$dir e2e_cli "$client" --no-save-args -A tcp/22 -a "$1" -D "$E2E_SRV4" \
    --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1
}

echo "== part 1: the guide's example, CMD_CYCLE_CLOSE NONE"
write_access "$ipset_exe add spa_set \$SRC,\$PROTO:\$PORT timeout \$CLIENT_TIMEOUT" NONE "" "$TIMEOUT"
start_spad || exit 1
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
t0=$(date +%s)
check knock "$E2E_CLI4"
check wait_members 1 20
check has_member "$E2E_CLI4,tcp:22 timeout"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
check wait_members 0 $(( (TIMEOUT + 3) * 10 ))
t1=$(date +%s)
check test $((t1 - t0)) -ge $((TIMEOUT - 1))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_kill_pid "$spad_pid"

echo "== part 2: permanent member, CMD_CYCLE_CLOSE after CMD_CYCLE_TIMER"
rm -f "$dir/run/"*
write_access "$ipset_exe add spa_set \$SRC,\$PROTO:\$PORT timeout 0" \
  "$ipset_exe del spa_set \$SRC,\$PROTO:\$PORT" "CMD_CYCLE_TIMER $TIMEOUT" 60
start_spad || exit 1
t0=$(date +%s)
check knock "$E2E_CLI4"
check wait_members 1 20
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
check wait_members 0 $(( (TIMEOUT + 3) * 10 ))
t1=$(date +%s)
echo "closed after $((t1 - t0)) s (CMD_CYCLE_TIMER $TIMEOUT, FW_ACCESS_TIMEOUT 60)"
check test $((t1 - t0)) -ge $((TIMEOUT - 1))
check test $((t1 - t0)) -le $((TIMEOUT + 3))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_kill_pid "$spad_pid"

echo "== part 3: the plugin alone (spa_plugin_drive): check, idempotent and failing close"
drive=$(cd "$plugin_dir/.." && pwd)/tests/e2e/spa_plugin_drive
if [ -x "$drive" ]; then
  # cmdcycle has no executable key: the stanza's CMD_CYCLE_CLOSE is the
  # backend, so the failing close is a wrapper given as that command. The
  # runner's environment is empty: absolute paths only.
  wrap=$dir/close-wrap
  flag=$dir/close-fail
  cat >"$wrap" <<EOF
#!/bin/bash
if [ -e "$flag" ]; then
  echo "injected failure" >&2
  exit 3
fi
exec "$ipset_exe" "\$@"
EOF
  chmod 755 "$wrap"
  cdrv() { # <open> <close> <drive ops...>
    local open=$1 close=$2
    shift 2
    e2e_srv "$drive" -s "CMD_CYCLE_OPEN=$open" -s "CMD_CYCLE_CLOSE=$close" \
      -s CMD_CYCLE_TIMER=30 "$plugin_dir/cmdcycle.so" "$@"
  }
  add="$ipset_exe -exist add spa_set \$SRC,\$PROTO:\$PORT timeout 0"
  del="$wrap -exist del spa_set \$SRC,\$PROTO:\$PORT"
  exp=$(( $(date +%s) + 60 ))

  out=$(e2e_srv "$drive" -s "CMD_CYCLE_OPEN=$add" "$plugin_dir/cmdcycle.so" list 2>&1)
  check test $? -ne 0
  check grep -q "check failed" <<<"$out"
  check grep -q "CMD_CYCLE_CLOSE is missing" <<<"$out"
  out=$(cdrv "ipset add spa_set \$SRC" NONE list 2>&1)
  check test $? -ne 0
  check grep -q "CMD_CYCLE_OPEN 'ipset add spa_set \$SRC' must start with an absolute path" <<<"$out"

  check cdrv "$add" "$del" open "$E2E_CLI4" tcp 22 "$exp"
  check has_member "$E2E_CLI4,tcp:22"
  # deleted behind the plugin's back: a close command written to succeed
  # when the member is gone (-exist) makes the close succeed
  check e2e_srv "$ipset_exe" del spa_set "$E2E_CLI4,tcp:22"
  check cdrv "$add" "$del" close "$E2E_CLI4" tcp 22 "$exp"
  check test "$(members)" = 0
  # the close command's non-zero exit is the plugin's failure
  check cdrv "$add" "$del" open "$E2E_CLI4" tcp 22 "$exp"
  touch "$flag"
  out=$(cdrv "$add" "$del" close "$E2E_CLI4" tcp 22 "$exp" 2>&1)
  check test $? -ne 0
  check grep -q "^close failed" <<<"$out"
  check grep -q "CMD_CYCLE_CLOSE exited with 3" <<<"$out"
  check has_member "$E2E_CLI4,tcp:22"
  rm -f "$flag"
  check cdrv "$add" "$del" close "$E2E_CLI4" tcp 22 "$exp"
  check test "$(members)" = 0
else
  echo "SKIP part 3: no $drive"
fi

e2e_finish
