#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# EXTERNAL_CMD_* (fwknopd.conf's never-built feature, run by the cmdcycle
# plugin) with the real daemon inside network namespaces, the commands
# being fwknopd.conf's own example: iptables -I / -D INPUT -s $SRC ...
# Part 1: FIREWALL_TYPE external_cmd. tcp/22 dropped -> knock from
# 198.51.100.2 (spa-client, then Debian's fwknop) -> EXTERNAL_CMD_OPEN adds
# the rule -> open from .2 only -> EXTERNAL_CMD_CLOSE removes it after
# EXTERNAL_CMD_ALARM -> closed; a grant still open when spad stops is
# closed at the stop; after a kill -9 and a restart the re-open does not
# double iptables -I's rule, and the grant still closes. Part 2, a mixed deployment: global FIREWALL_TYPE
# iptables, one stanza with its own EXTERNAL_CMD_* (prefix on, a stanza
# variable in the rule's comment), another served by the iptables plugin;
# each knock lands in its own backend and each closes on its own time.
# Usage: test_extcmd.sh <spad> <plugin-dir> [spa-client]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}
spa_client=${3:-}

e2e_require_root
e2e_require_tools socat ss timeout base64 iptables iptables-save ip6tables
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
[ -f "$plugin_dir/cmdcycle.so" ] || e2e_skip "cmdcycle plugin not built"
[ -f "$plugin_dir/iptables.so" ] || e2e_skip "iptables plugin not built"
fwknop=$(command -v fwknop) || e2e_skip "fwknop client not available (fwknop-client)"
clients=("$fwknop")
if [ -n "$spa_client" ] && [ -x "$spa_client" ]; then
  clients=("$spa_client" "$fwknop")
fi
ipt=$(command -v iptables)

# A blocked probe costs its whole connect timeout. The alarm is short; a
# close gets ALARM + MARGIN s and must not come before ALARM - 1.
E2E_CONNECT_TIMEOUT=1
ALARM=4
MARGIN=10
WAIT=300
CLOSE_WAIT=$(( (ALARM + MARGIN) * 10 ))
PORT=62201

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }

dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
key2=$(head -c 32 /dev/urandom | base64 -w0)
hmac2=$(head -c 64 /dev/urandom | base64 -w0)

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
# how many INPUT rules the external commands hold for <addr> [comment]
ext_rules() {
  local match="^-A INPUT -s $1/32 -p tcp -m tcp --dport 22"
  [ -n "${2:-}" ] && match="$match -m comment --comment \"\\?$2\"\\?"
  e2e_srv iptables-save | grep -c -- "$match -j ACCEPT\$"
}
plugin_rules() { e2e_srv iptables-save | grep -c -- "^-A FWKNOP_INPUT -s $1/32 "; }
# <count> <max-tenths> <command...>: a deadline for a state, not a poll count
wait_for() {
  local want=$1 tenths=$2 end
  shift 2
  end=$(( $(date +%s%N) / 100000000 + tenths ))
  while :; do
    [ "$("$@")" = "$want" ] && return 0
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || return 1
    sleep 0.1
  done
}

spad_pid=""
start_spad() {
  chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
  e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -U -v -c "$dir/fwknopd.conf" \
    -a "$dir/access.conf" -r "$dir/run" 2>>"$dir/spad.log"
  spad_pid=$E2E_LAST_PID
  local end=$((SECONDS + WAIT / 10))
  while [ "$SECONDS" -le "$end" ]; do
    e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && return 0
    kill -0 "$spad_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: spad did not start"
  tail -20 "$dir/spad.log"
  return 1
}
knock() { # <client> <allow-ip> <key> <hmac-key>
  local rc
  case "$1" in
    */fwknop)
      HOME=$dir e2e_cli "$1" --no-save-args -A tcp/22 -a "$2" -D "$E2E_SRV4" \
        --key-base64-rijndael "$3" --key-base64-hmac "$4" >/dev/null 2>&1 ;;
    *)
      e2e_cli "$1" --no-rc-file -A tcp/22 -a "$2" -D "$E2E_SRV4" \
        --key-base64-rijndael "$3" --key-base64-hmac "$4" >/dev/null 2>&1 ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] || echo "knock failed: $rc"
  return "$rc"
}

echo "== part 1: FIREWALL_TYPE external_cmd, fwknopd.conf's iptables example"
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE external_cmd
ENABLE_EXTERNAL_CMDS Y
EXTERNAL_CMD_OPEN $ipt -w -I INPUT -s \$SRC -p \$PROTO --dport \$PORT -j ACCEPT
EXTERNAL_CMD_CLOSE $ipt -w -D INPUT -s \$SRC -p \$PROTO --dport \$PORT -j ACCEPT
EXTERNAL_CMD_ALARM $ALARM
CONF
cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT 60
CONF
start_spad || exit 1
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
for client in "${clients[@]}"; do
  echo "== knock for $E2E_CLI4 (client: $client)"
  t0=$(date +%s)
  check knock "$client" "$E2E_CLI4" "$key" "$hmac"
  check wait_for 1 "$WAIT" ext_rules "$E2E_CLI4"
  e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
  e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
  echo "== EXTERNAL_CMD_CLOSE after EXTERNAL_CMD_ALARM ($ALARM s; FW_ACCESS_TIMEOUT 60)"
  check wait_for 0 "$CLOSE_WAIT" ext_rules "$E2E_CLI4"
  t1=$(date +%s)
  echo "closed after $((t1 - t0)) s"
  check test $((t1 - t0)) -ge $((ALARM - 1))
  e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
done
check grep -q "running EXTERNAL_CMD_OPEN: $ipt -w -I INPUT -s $E2E_CLI4 -p tcp --dport 22 -j ACCEPT" "$dir/spad.log"
check grep -q "running EXTERNAL_CMD_CLOSE: $ipt -w -D INPUT -s $E2E_CLI4 -p tcp --dport 22 -j ACCEPT" "$dir/spad.log"

echo "== a grant open when spad stops is closed at the stop"
check knock "${clients[0]}" "$E2E_CLI4" "$key" "$hmac"
check wait_for 1 "$WAIT" ext_rules "$E2E_CLI4"
e2e_kill_pid "$spad_pid"
check test "$(ext_rules "$E2E_CLI4")" = 0
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== kill -9 with a grant open, then a restart: the re-open does not double the rule"
# fwknopd.conf's example opens with iptables -I, which is not idempotent: a
# second open would leave a rule that the one close does not remove. A
# longer alarm, so the grant is still live when spad is back.
sed -i "s/^EXTERNAL_CMD_ALARM .*/EXTERNAL_CMD_ALARM $((ALARM + MARGIN))/" "$dir/fwknopd.conf"
start_spad || exit 1
check knock "${clients[0]}" "$E2E_CLI4" "$key" "$hmac"
check wait_for 1 "$WAIT" ext_rules "$E2E_CLI4"
kill -KILL "$spad_pid"
wait "$spad_pid" 2>/dev/null
check test "$(ext_rules "$E2E_CLI4")" = 1
opens() { grep -c "running EXTERNAL_CMD_OPEN" "$dir/spad.log"; }
n_open=$(opens)
start_spad || exit 1
check wait_for $((n_open + 1)) "$WAIT" opens
check grep -q "was opened before (restart or retry): EXTERNAL_CMD_CLOSE first" "$dir/spad.log"
# the close ran before the open: the rule is back (a deadline, however
# busy the machine), and a moment later there is still one, not two (a
# doubled open would have added its second by then)
check wait_for 1 "$WAIT" ext_rules "$E2E_CLI4"
sleep 2
check test "$(ext_rules "$E2E_CLI4")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
echo "== ... and it closes at its expiry: nothing left"
check wait_for 0 "$(( (2 * (ALARM + MARGIN)) * 10 ))" ext_rules "$E2E_CLI4"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_kill_pid "$spad_pid"

echo "== part 2: mixed deployment (one stanza external commands, one the iptables plugin)"
find "$dir/run" -maxdepth 1 -type f -delete
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE iptables
CONF
cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
ENABLE_EXTERNAL_CMDS Y
ENABLE_EXT_CMD_PREFIX Y
EXTERNAL_CMD_OPEN $ipt -w -I INPUT -s \$FWKNOP_SRC -p \$FWKNOP_PROTO --dport \$FWKNOP_PORT -m comment --comment ext-\$FWKNOP_OPEN_PORTS -j ACCEPT
EXTERNAL_CMD_CLOSE $ipt -w -D INPUT -s \$FWKNOP_SRC -p \$FWKNOP_PROTO --dport \$FWKNOP_PORT -m comment --comment ext-\$FWKNOP_OPEN_PORTS -j ACCEPT
EXTERNAL_CMD_ALARM $ALARM

SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key2
HMAC_KEY_BASE64 $hmac2
FW_ACCESS_TIMEOUT $((ALARM + MARGIN + 10))
CONF
out=$(e2e_srv "$spad" --exit-parse-config -c "$dir/fwknopd.conf" -a "$dir/access.conf" -r "$dir/run" 2>&1)
check grep -q "plugin cmdcycle .* serves: access.conf:1 (EXTERNAL_CMD_\*)" <<<"$out"
check grep -q "plugin iptables .* serves: access.conf:11" <<<"$out"
start_spad || exit 1
t0=$(date +%s)
check knock "${clients[-1]}" "$E2E_CLI4" "$key" "$hmac"
check knock "${clients[0]}" "$E2E_CLI4_OTHER" "$key2" "$hmac2"
check wait_for 1 "$WAIT" ext_rules "$E2E_CLI4" ext-tcp/22
check wait_for 1 "$WAIT" plugin_rules "$E2E_CLI4_OTHER"
# each grant in its own backend only
check test "$(plugin_rules "$E2E_CLI4")" = 0
check test "$(ext_rules "$E2E_CLI4_OTHER")" = 0
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
echo "== the external stanza closes after its alarm, the other stays"
check wait_for 0 "$CLOSE_WAIT" ext_rules "$E2E_CLI4" ext-tcp/22
t1=$(date +%s)
echo "external grant closed after $((t1 - t0)) s"
check test $((t1 - t0)) -ge $((ALARM - 1))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
check test "$(plugin_rules "$E2E_CLI4_OTHER")" = 1
e2e_expect_open "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
echo "== the plugin's grant closes after its FW_ACCESS_TIMEOUT"
check wait_for 0 $(( (ALARM + 2 * MARGIN + 10) * 10 )) plugin_rules "$E2E_CLI4_OTHER"
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_kill_pid "$spad_pid"

[ "$E2E_FAILS" -eq 0 ] || { echo "== spad log"; tail -40 "$dir/spad.log"; }
e2e_finish
