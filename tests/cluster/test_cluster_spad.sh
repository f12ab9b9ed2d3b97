#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cluster mode end to end (docs/CLUSTER.md): a real 3-member etcd cluster
# (TLS, client certificates) and 3 spad nodes, each in a network namespace
# of its own with its own iptables, knocked from a client namespace.
#   0. configurations spad refuses (a store as a backend, a backend as a
#      store, a plain-http endpoint, a store not installed);
#   1. a packet accepted on node a is refused when replayed to b and c;
#   2. a GRANT_SCOPE cluster grant opens on all three, closes on all three
#      at its expiry (a reload on a meanwhile keeps it; one renaming the
#      node is refused); a GRANT_SCOPE local grant opens on its node only;
#   3. one etcd member down: knocks and replay refusals still work;
#   4. a node stopped (kill -9) during a grant catches up when it starts;
#   5. two members down: node a (CLUSTER_FAIL_MODE closed) refuses knocks,
#      node c (CLUSTER_FAIL_MODE local) accepts them with a warning; then
#      the members come back and node a accepts again;
#   6. the etcd member an idle node's watch streams from hangs (SIGSTOP):
#      a cluster grant made on another node still opens on it;
#   6b. a reload while a knock waits for the store: that knock is refused;
#   7. a clean stop of every node: exit 0, no sanitizer report.
# Usage: test_cluster_spad.sh <spad> <plugin-dir> <spa-client>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/etcd_lib.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}
client=${3:?spa-client binary}

cl_require
for t in iptables-save socat ss; do
  command -v "$t" >/dev/null || cl_skip "$t not installed"
done
[ -x "$spad" ] || cl_skip "spad not built ($spad)"
[ -x "$client" ] || cl_skip "spa-client not built ($client)"
for p in etcd iptables; do
  [ -f "$plugin_dir/$p.so" ] || cl_skip "$p plugin not built ($plugin_dir/$p.so)"
done

PORT=62201
TIMEOUT=6          # a cluster grant's life
WAIT=150           # tenths: how long anything may take that should be quick
NODES=(a b c)
declare -A IP=([a]=198.51.100.11 [b]=198.51.100.12 [c]=198.51.100.13)
CLI=198.51.100.21
FAILS=0

trap cl_cleanup EXIT
cl_setup || { echo "FAIL: etcd cluster setup"; exit 1; }
for n in "${NODES[@]}"; do
  cl_node_ns "$n" "${IP[$n]}" || { echo "FAIL: namespace $n"; exit 1; }
done
cl_node_ns cli "$CLI" || { echo "FAIL: client namespace"; exit 1; }

dir=$CL_DIR/spad
mkdir -m 700 "$dir"
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
lkey=$(head -c 32 /dev/urandom | base64 -w0)
lhmac=$(head -c 64 /dev/urandom | base64 -w0)
# the same access.conf on every node: the cluster stanza, then a local one
cat >"$dir/access.conf" <<CONF
SOURCE $CLI
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $TIMEOUT
GRANT_SCOPE cluster

SOURCE $CLI
OPEN_PORTS tcp/2222
KEY_BASE64 $lkey
HMAC_KEY_BASE64 $lhmac
FW_ACCESS_TIMEOUT $TIMEOUT
CONF
chmod 600 "$dir/access.conf"
for n in "${NODES[@]}"; do
  mkdir -m 700 "$dir/$n" "$dir/$n/run"
  mode=closed
  [ "$n" = c ] && mode=local
  cat >"$dir/$n/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/$n/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE iptables
STATE_STORE etcd
ETCD_ENDPOINTS $(cl_endpoints)
ETCD_CA_FILE $CL_CA
ETCD_CERT_FILE $CL_CERT
ETCD_KEY_FILE $CL_KEY
ETCD_PREFIX /spa-test/
ETCD_TIMEOUT 1000
CLUSTER_NODE_NAME $n
CLUSTER_FAIL_MODE $mode
CONF
  chmod 600 "$dir/$n/fwknopd.conf"
done

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; FAILS=$((FAILS + 1)); fi
}
now_tenths() { echo $(( $(date +%s%N) / 100000000 )); }
# rules for the client in node n's FWKNOP_INPUT chain, port given
rules() { cl_in "$1" iptables-save 2>/dev/null | grep -- '^-A FWKNOP_INPUT ' |
  grep -- "-s $CLI/32" | grep -c -- "--dport $2\b" || true; }
wait_rules() { # <node> <port> <count> <tenths>
  local end=$(( $(now_tenths) + $4 ))
  while [ "$(rules "$1" "$2")" != "$3" ]; do
    [ "$(now_tenths)" -lt "$end" ] || { echo "  node $1 port $2: $(rules "$1" "$2") rules"; return 1; }
    sleep 0.1
  done
}
log_of() { echo "$dir/$1/spad.log"; }
log_count() { grep -c -- "$2" "$(log_of "$1")" 2>/dev/null || true; }
wait_log() { # <node> <text> <count> <tenths>
  local end=$(( $(now_tenths) + $4 ))
  while [ "$(log_count "$1" "$2")" -lt "$3" ]; do
    [ "$(now_tenths)" -lt "$end" ] || return 1
    sleep 0.1
  done
}

declare -A PID
start_node() { # <node>
  local n=$1 end
  cl_spawn ip netns exec "$(cl_ns "$n")" "$spad" -f -U -v -c "$dir/$n/fwknopd.conf" -a "$dir/access.conf" \
    -r "$dir/$n/run" >>"$(log_of "$n")" 2>&1
  PID[$n]=$CL_LAST_PID
  end=$(( $(now_tenths) + WAIT ))
  while [ "$(now_tenths)" -lt "$end" ]; do
    cl_in "$n" ss -Hlun "sport = :$PORT" | grep -q . && return 0
    kill -0 "${PID[$n]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: spad on node $n did not start"; tail -20 "$(log_of "$n")"
  return 1
}
stop_nodes() {
  local n
  for n in "${NODES[@]}"; do
    [ -n "${PID[$n]:-}" ] && cl_kill_pid "${PID[$n]}"
  done
  return 0
}
CL_CLEANUP_HOOKS+=(stop_nodes)

# knock <node> <port> <key> <hmac> <save-file>: one packet, kept for replays
knock() {
  cl_in cli "$client" --no-rc-file -A "tcp/$2" -a "$CLI" -D "${IP[$1]}" -p "$PORT" \
    --key-base64-rijndael "$3" --key-base64-hmac "$4" -B "$5" >/dev/null 2>&1 ||
    echo "  knock to $1 failed"
}
# replay <node> <file>: the very bytes of a saved packet, again
replay() {
  tr -d '\n' <"$2" | cl_in cli socat -u - "UDP-SENDTO:${IP[$1]}:$PORT" ||
    echo "  replay to $1 failed"
}

echo "== 0. configurations spad must refuse, naming the problem"
# refused <text expected> <fwknopd.conf lines...>: spad --exit-parse-config
# exits 2 and says why; the rest of node a's file as it is
refused() {
  local want=$1 out rc; shift
  { grep -vE '^(FIREWALL_TYPE|STATE_STORE|ETCD_ENDPOINTS) ' "$dir/a/fwknopd.conf"
    printf '%s\n' "$@"; } >"$dir/bad.conf"
  grep -q '^FIREWALL_TYPE ' "$dir/bad.conf" || echo "FIREWALL_TYPE iptables" >>"$dir/bad.conf"
  grep -q '^STATE_STORE ' "$dir/bad.conf" || echo "STATE_STORE etcd" >>"$dir/bad.conf"
  grep -q '^ETCD_ENDPOINTS ' "$dir/bad.conf" || echo "ETCD_ENDPOINTS $(cl_endpoints)" >>"$dir/bad.conf"
  chmod 600 "$dir/bad.conf"
  out=$("$spad" --exit-parse-config -c "$dir/bad.conf" -a "$dir/access.conf" 2>&1)
  rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- "$want" <<<"$out"; then
    echo "ok: refused ($want)"
  else
    echo "FAIL: expected exit 2 and '$want', got $rc: $out"; FAILS=$((FAILS + 1))
  fi
}
refused "is a state store (STATE_STORE), not a firewall backend" "FIREWALL_TYPE etcd"
refused "not a state store" "STATE_STORE iptables"
refused "ETCD_ENDPOINTS" "ETCD_ENDPOINTS http://198.51.100.1:2379"
refused "STATE_STORE 'nosuchstore'" "STATE_STORE nosuchstore"

for n in "${NODES[@]}"; do
  start_node "$n" || exit 1
done

echo "== 1. replay across nodes"
knock a 22 "$key" "$hmac" "$dir/p1"
check wait_log a "decision=grant" 1 "$WAIT"
replay b "$dir/p1"
replay c "$dir/p1"
check wait_log b "replay: the cluster has seen this packet" 1 "$WAIT"
check wait_log c "replay: the cluster has seen this packet" 1 "$WAIT"
# and the node that took it refuses it by its own cache, as before
replay a "$dir/p1"
check wait_log a "decision=reject.*replay" 1 "$WAIT"

echo "== 2. a cluster grant opens on every node and closes on every node"
for n in "${NODES[@]}"; do
  check wait_rules "$n" 22 1 "$WAIT"
done
knock b 2222 "$lkey" "$lhmac" "$dir/p2"
check wait_rules b 2222 1 "$WAIT"
check wait_log b "decision=grant.*tcp/2222" 1 "$WAIT"
sleep 1
check test "$(rules a 2222)" = 0
check test "$(rules c 2222)" = 0
# a reload during the grant keeps it (and its close); one that renames
# the node is refused, the running configuration kept
sed -i 's/^CLUSTER_NODE_NAME a$/CLUSTER_NODE_NAME a2/' "$dir/a/fwknopd.conf"
kill -HUP "${PID[a]}"
check wait_log a "reload refused.*CLUSTER_NODE_NAME changed.*restart needed" 1 "$WAIT"
sed -i 's/^CLUSTER_NODE_NAME a2$/CLUSTER_NODE_NAME a/' "$dir/a/fwknopd.conf"
kill -HUP "${PID[a]}"
check wait_log a "configuration reloaded" 1 "$WAIT"
# the grant of step 1 ends TIMEOUT s after its knock, on every node
for n in "${NODES[@]}"; do
  check wait_rules "$n" 22 0 $(( (TIMEOUT + 6) * 10 ))
done
check wait_rules b 2222 0 $(( (TIMEOUT + 6) * 10 ))

echo "== 3. one etcd member down"
cl_member_stop 1
knock b 22 "$key" "$hmac" "$dir/p3"
check wait_log b "decision=grant" 2 "$WAIT"
for n in "${NODES[@]}"; do
  check wait_rules "$n" 22 1 "$WAIT"
done
# step 1's replay to a was its own cache's refusal: this one is the cluster's
replay a "$dir/p3"
check wait_log a "replay: the cluster has seen this packet" 1 "$WAIT"
for n in "${NODES[@]}"; do
  check wait_rules "$n" 22 0 $(( (TIMEOUT + 6) * 10 ))
done

echo "== 4. a node killed during a grant catches up when it starts again"
cl_kill_pid "${PID[b]}" KILL
PID[b]=""
knock c 22 "$key" "$hmac" "$dir/p4"
check wait_rules c 22 1 "$WAIT"
check wait_rules a 22 1 "$WAIT"
synced=$(log_count b "in step with the state store")
start_node b || exit 1
# opened from the listing before b listened: there when the port is
check test "$(rules b 22)" = 1
check wait_log b "in step with the state store" $((synced + 1)) "$WAIT"
for n in "${NODES[@]}"; do
  check wait_rules "$n" 22 0 $(( (TIMEOUT + 6) * 10 ))
done

echo "== 5. two members down: closed refuses, local accepts with a warning"
cl_member_stop 2
knock a 22 "$key" "$hmac" "$dir/p5"
check wait_log a "state store unavailable.*CLUSTER_FAIL_MODE closed" 1 "$WAIT"
check test "$(rules a 22)" = 0
knock c 22 "$key" "$hmac" "$dir/p6"
check wait_log c "accepted on this node's replay cache only" 1 "$WAIT"
check wait_rules c 22 1 "$WAIT"
cl_member_start 1 && cl_member_start 2 && cl_wait_healthy ||
  { echo "FAIL: members did not come back"; exit 1; }
knock a 22 "$key" "$hmac" "$dir/p7"
check wait_log a "state store .* answers again" 1 "$(( WAIT * 2 ))"
check wait_rules a 22 1 "$WAIT"

echo "== 6. the member an idle node watches from hangs: its cluster grants still open"
s6=$SECONDS
# Node b, restarted with member 3 first in its list, watches from member 3
# (a new process starts at the first endpoint). Member 3 then hangs
# (SIGSTOP: the connection stays up, nothing flows). b has no knock of its
# own that would fail on member 3: only the watch's probe finds it, within
# 2 x ETCD_TIMEOUT (of 1 s), and b watches again from another member. One member
# hung at a time: members 1 and 2 are the quorum.
cl_kill_pid "${PID[b]}"
PID[b]=""
sed -i "s|^ETCD_ENDPOINTS .*|ETCD_ENDPOINTS $(cl_member_url 3),$(cl_member_url 1),$(cl_member_url 2)|" \
  "$dir/b/fwknopd.conf"
for n in a c; do      # step 5's grants end first: the count below is the new one's
  check wait_rules "$n" 22 0 $(( (TIMEOUT + 6) * 10 ))
done
synced=$(log_count b "in step with the state store")
start_node b || exit 1
check wait_log b "in step with the state store" $((synced + 1)) "$WAIT"
check wait_rules b 22 0 "$WAIT"
cl_not_leader 3 || echo "  (leadership not moved off member 3)"
cl_member_freeze 3
t0=$(now_tenths)
knock a 22 "$key" "$hmac" "$dir/p8"
check wait_rules a 22 1 "$WAIT"
# about 2.5 s here when the machine is quiet (the probe's interval and
# timeout, a pause, the listing); 8 s allowed for a loaded one
check wait_rules b 22 1 $(( t0 + 80 - $(now_tenths) ))
[ "$(rules b 22)" = 1 ] && echo "  node b: the grant open $(( $(now_tenths) - t0 )) tenths after member 3 hung"
cl_member_thaw 3
cl_wait_healthy || { echo "FAIL: member 3 back after the freeze"; FAILS=$((FAILS + 1)); }
echo "  step 6: $((SECONDS - s6)) s"

echo "== 6b. a reload while a knock waits for the store"
# members 1 and 2 hung: no quorum, so node a's claim waits out its budget
# (2 x ETCD_TIMEOUT); the reload comes meanwhile, and the knock, decided
# under the replaced configuration, is refused when the answer comes
cl_member_freeze 1
cl_member_freeze 2
before=$(log_count a "configuration reloaded")
knock a 22 "$key" "$hmac" "$dir/p9"
sleep 0.3
kill -HUP "${PID[a]}"
check wait_log a "configuration reloaded" $((before + 1)) "$WAIT"
check wait_log a "configuration was reloaded while the state store was asked" 1 "$WAIT"
cl_member_thaw 1
cl_member_thaw 2
cl_wait_healthy || { echo "FAIL: members 1 and 2 back after the freeze"; FAILS=$((FAILS + 1)); }

echo "== 7. a clean stop of every node: exit 0, no sanitizer report"
for n in "${NODES[@]}"; do
  kill -TERM "${PID[$n]}" 2>/dev/null
done
for n in "${NODES[@]}"; do
  wait "${PID[$n]}"
  rc=$?
  PID[$n]=""
  check test "$rc" = 0
  check eval "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|Tracer caught' \"\$(log_of $n)\""
done

# whatever a failed step left: each node's log, for the reader
if [ "$FAILS" -ne 0 ]; then
  for n in "${NODES[@]}"; do
    echo "--- node $n"; tail -40 "$(log_of "$n")"
  done
  echo "FAIL: $FAILS checks failed"
  exit 1
fi
echo "PASS"
