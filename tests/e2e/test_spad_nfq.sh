#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NFQUEUE capture (ENABLE_NFQ_CAPTURE) inside network namespaces: the
# server's firewall drops the SPA port (and a UDP listener on it hears
# nothing), spad installs its NFQUEUE rule in mangle/INPUT and still sees
# the knocks through the queue: a knock from the client namespace
# (spa-client) opens tcp/22 for that address only, over IPv4 and IPv6,
# garbage on the port opens nothing, every queued packet gets its verdict
# (the queue is empty afterwards), a reload and a killed packet process
# keep the queue working, and the rule is gone after spad stops.
# Usage: test_spad_nfq.sh <spad> <plugin-dir> <spa-client>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}
client=${3:-}

e2e_require_root
e2e_require_tools socat ss timeout base64 iptables iptables-save iptables-restore ip6tables ip6tables-save
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
[ -f "$plugin_dir/iptables.so" ] || e2e_skip "iptables plugin not built"
[ -n "$client" ] && [ -x "$client" ] || e2e_skip "spa-client not built"

E2E_CONNECT_TIMEOUT=1
TIMEOUT=60
WAIT=300
PORT=62201
QUEUE=7
CHAIN=SPA_TEST_NFQ

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
# The admin's firewall: default drop, and the SPA port dropped outright
# (the shared policy accepts it: that rule becomes a DROP).
e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }
for ipt in iptables ip6tables; do
  e2e_srv "$ipt" -w -D INPUT -p udp --dport "$PORT" -j ACCEPT || exit 1
  e2e_srv "$ipt" -w -I INPUT 1 -p udp --dport "$PORT" -j DROP || exit 1
done

dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
# Whatever reaches a socket on the SPA port lands in this file.
heard="$dir/udp-heard"
: >"$heard"
e2e_spawn ip netns exec "$E2E_NS_SRV" socat -u "UDP4-RECV:$PORT,reuseaddr" "OPEN:$heard,append"

key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_NFQ_CAPTURE Y
NFQ_INTERFACE $E2E_IF_SRV
NFQ_PORT $PORT
NFQ_CHAIN $CHAIN
NFQ_QUEUE_NUMBER $QUEUE
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE iptables
CONF
cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $TIMEOUT
CONF
printf 'PCAP_INTF lo\nFWKNOP_RUN_DIR %s/run\nPLUGIN_DIR %s\n' "$dir" "$plugin_dir" >"$dir/probe.conf"
chmod 600 "$dir/fwknopd.conf" "$dir/access.conf" "$dir/probe.conf"
# a spad built without libnetfilter_queue says so in -D
if "$spad" -D -c "$dir/probe.conf" -a "$dir/access.conf" 2>&1 | grep -q 'ENABLE_NFQ_CAPTURE.*not in this build'; then
  e2e_skip "spad was built without libnetfilter_queue (NFQUEUE capture)"
fi

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
grants() { e2e_srv iptables-save | grep -c -- '^-A FWKNOP_INPUT ' ; }
grants6() { e2e_srv ip6tables-save | grep -c -- '^-A FWKNOP_INPUT ' ; }
# packets waiting in our queue for a verdict (3rd field of the kernel's table)
queued() { e2e_srv awk -v q="$QUEUE" '$1 == q { print $3 }' /proc/net/netfilter/nfnetlink_queue; }
nfq_rule() { e2e_srv iptables-save -t mangle | grep -c -- "^-A $CHAIN -i $E2E_IF_SRV -p udp -m udp --dport $PORT -j NFQUEUE --queue-num $QUEUE\$"; }
nfq_jump() { e2e_srv iptables-save -t mangle | grep -c -- "^-A INPUT -j $CHAIN\$"; }
wait_for() { # <tenths> <command...>: until the command succeeds
  local end=$(( $(date +%s%N) / 100000000 + $1 ))
  shift
  while :; do
    "$@" && return 0
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || return 1
    sleep 0.1
  done
}
logged() { grep -q -- "$1" "$dir/spad.log"; }
count_is() { [ "$("${@:2}")" = "$1" ]; }

start_spad() {
  e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -v -c "$dir/fwknopd.conf" \
    -a "$dir/access.conf" -r "$dir/run" 2>>"$dir/spad.log"
  spad_pid=$E2E_LAST_PID
  local n=$1
  started() { [ "$(grep -c 'packet process [0-9]*: uid' "$dir/spad.log")" -ge "$n" ] ||
              ! kill -0 "$spad_pid" 2>/dev/null; }
  if ! wait_for "$WAIT" started || ! kill -0 "$spad_pid" 2>/dev/null; then
    echo "FAIL: spad did not start"; cat "$dir/spad.log"; exit 1
  fi
}
: >"$dir/spad.log"
start_spad 1
check logged "capturing through NFQUEUE $QUEUE"
check count_is 1 nfq_rule
check count_is 1 nfq_jump
check logged 'seccomp on'

knock() { # <allow-ip> | -6 (the packet's IPv6 source is granted)
  if [ "$1" = -6 ]; then
    e2e_cli "$client" --no-rc-file -A tcp/22 -s -D "$E2E_SRV6" \
      --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1
    return
  fi
  e2e_cli "$client" --no-rc-file -A tcp/22 -a "$1" -D "$E2E_SRV4" \
    --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1
}

echo "== before the knock"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== garbage on the SPA port"
for _ in 1 2 3; do
  head -c 200 /dev/urandom | base64 -w0 | e2e_cli socat -u - "UDP4:$E2E_SRV4:$PORT"
done
check wait_for "$WAIT" logged 'decision=reject'
check count_is 0 grants
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== knock for $E2E_CLI4 through the queue"
check knock "$E2E_CLI4"
check wait_for "$WAIT" count_is 1 grants
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22

echo "== every queued packet got its verdict"
check wait_for "$WAIT" count_is 0 queued

echo "== IPv6 knock through the queue"
check knock -6
check wait_for "$WAIT" count_is 1 grants6
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22

echo "== after a reload and a killed packet process, the queue still feeds spad"
n_pp=$(grep -c 'packet process [0-9]*: uid' "$dir/spad.log")
kill -HUP "$spad_pid"
check wait_for "$WAIT" count_is $((n_pp + 1)) grep -c 'packet process [0-9]*: uid' "$dir/spad.log"
pp=$(grep -o 'packet process [0-9]*: uid' "$dir/spad.log" | tail -1 | grep -o '[0-9][0-9]*')
check test -n "$pp"
[ -n "$pp" ] && kill -KILL "$pp"
check wait_for "$WAIT" count_is $((n_pp + 2)) grep -c 'packet process [0-9]*: uid' "$dir/spad.log"
check knock "$E2E_CLI4_OTHER"
check wait_for "$WAIT" count_is 2 grants
e2e_expect_open "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
check wait_for "$WAIT" count_is 0 queued

echo "== the SPA port itself stays closed"
check test ! -s "$heard"

echo "== a killed spad's rule is replaced at the next start, not doubled"
kill -KILL "$spad_pid"
wait "$spad_pid" 2>/dev/null
check count_is 1 nfq_jump
start_spad $(( $(grep -c 'packet process [0-9]*: uid' "$dir/spad.log") + 1 ))
check count_is 1 nfq_jump
check count_is 1 nfq_rule

echo "== rule removed at stop"
e2e_kill_pid "$spad_pid"
check count_is 0 nfq_jump
check count_is 0 nfq_rule
check count_is 0 grants
for save in iptables-save ip6tables-save; do
  if e2e_srv "$save" -t mangle | grep -q -- ":$CHAIN "; then
    echo "FAIL: chain $CHAIN left behind ($save)"; E2E_FAILS=$((E2E_FAILS + 1))
  else
    echo "ok: chain $CHAIN removed ($save)"
  fi
done
if [ "$E2E_FAILS" -ne 0 ]; then
  echo "--- spad log"; cat "$dir/spad.log"
fi
e2e_finish
