# SPDX-License-Identifier: MIT
# Sourced by the cluster tests: a real 3-member etcd 3.4 cluster, TLS with
# client certificates on every URL, each member in a network namespace of
# its own, plus namespaces for the spad nodes and clients of a test, all on
# one bridge. Nothing runs in the host's namespace and nothing outlives the
# test: every process is stopped by pid, every namespace deleted, the temp
# dir removed.
#
# Usage:
#   . "$SPA_SOURCE_DIR/tests/cluster/etcd_lib.sh"
#   cl_require                      # SKIP (exit 77) without root/etcd/openssl/ip
#   trap cl_cleanup EXIT            # before cl_setup (it refuses otherwise)
#   cl_setup || exit 1              # CA, certs, namespaces, 3 members, healthy
#   cl_node_ns a 198.51.100.11      # another namespace on the bridge
#   cl_in a some-command ...        # run inside it
#   cl_spawn cl_in a spad ...       # in the background, stopped by cl_cleanup
#   cl_etcdctl put k v              # etcdctl with the client cert, running members
#   cl_member_stop 1               # kill -9, then wait for a leader
#   cl_member_start 1 && cl_wait_healthy
#   cl_member_freeze 2; cl_member_thaw 2   # a hung member (SIGSTOP/SIGCONT)
#   cl_not_leader 2                 # leadership moved off member 2 first
#   cl_member_partition 3; cl_member_heal 3  # cut off from its peers (iptables)
#   cl_leader                       # prints the leading member's number
#
# Cleanup contract: cl_cleanup runs the functions in CL_CLEANUP_HOOKS (in
# order; append yours, e.g. to stop a daemon gracefully first), then stops
# every pid in CL_PIDS (cl_spawn and the members), then kills whatever is
# still inside our namespaces, deletes them and the temp dir, and exits
# with the status the script had. A test with cleanup of its own either
# appends to CL_CLEANUP_HOOKS or installs `trap 'mine; cl_cleanup' EXIT`.
#
# Address plan, all in 198.51.100.0/24 (TEST-NET-2):
#   .1 .2 .3    etcd members 1..3 (client port 2379, peer port 2380)
#   .11 - .19   spad nodes (cl_node_ns)
#   .21 - .29   clients (cl_node_ns)
#   .254        the bridge in the hub namespace, where cl_etcdctl runs
# Namespaces: spacl<pid>-hub, spacl<pid>-m1..m3, spacl<pid>-<NAME>.
#
# Variables after cl_setup:
#   CL_DIR        the temp dir (mode 700)
#   CL_CA         CA certificate (PEM) the members and clients trust
#   CL_CERT/CL_KEY  a client certificate and key signed by it
#   CL_ROGUE_CA, CL_ROGUE_CERT, CL_ROGUE_KEY  another CA and a client cert
#                 signed by it, which the cluster must refuse
#   CL_ETCD_TIMEOUT_MS  (caller may set before cl_setup) election timeout

# the namespace and process helpers the e2e tests use (e2e_kill_pid,
# e2e_reap_netns); only definitions, no namespace of its own is made
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/netns.sh"

CL_SKIP_RC=77
CL_PREFIX="spacl$$"
CL_NET=198.51.100
CL_HUB_IP=$CL_NET.254
CL_CLIENT_PORT=2379
CL_PEER_PORT=2380
CL_HEARTBEAT_MS=${CL_HEARTBEAT_MS:-100}
CL_ELECTION_MS=${CL_ELECTION_MS:-500}
# bounded waits, in tenths of a second
CL_WAIT_TENTHS=${CL_WAIT_TENTHS:-300}

CL_DIR=""
CL_CA=""
CL_CERT=""
CL_KEY=""
CL_ROGUE_CA=""
CL_ROGUE_CERT=""
CL_ROGUE_KEY=""
CL_PIDS=()
CL_CLEANUP_HOOKS=()
CL_NS_CREATED=()
CL_MEMBER_PID=("" "" "" "")
CL_NODE_IDX=0
CL_LAST_PID=""

cl_log() { printf 'cluster: %s\n' "$*" >&2; }

cl_skip() {
  echo "SKIP: $*"
  exit "$CL_SKIP_RC"
}

# Exits 77 with a SKIP line when the cluster cannot be built here.
cl_require() {
  local t
  [ "$(id -u)" -eq 0 ] || cl_skip "needs root to create network namespaces"
  for t in etcd etcdctl openssl ip; do
    command -v "$t" >/dev/null 2>&1 || cl_skip "$t not installed (run scripts/install-deps.sh)"
  done
  local probe="${CL_PREFIX}-probe"
  ip netns add "$probe" 2>/dev/null ||
    cl_skip "ip netns is not available here (no CAP_SYS_ADMIN or no netns support)"
  ip netns del "$probe" 2>/dev/null
  return 0
}

cl_ns() { printf '%s-%s' "$CL_PREFIX" "$1"; }
cl_in() { local n=$1; shift; ip netns exec "$(cl_ns "$n")" "$@"; }
cl_member_ip() { printf '%s.%s' "$CL_NET" "$1"; }
cl_member_url() { printf 'https://%s:%s' "$(cl_member_ip "$1")" "$CL_CLIENT_PORT"; }
cl_member_log() { printf '%s/m%s.log' "$CL_DIR" "$1"; }
cl_member_pid() { printf '%s' "${CL_MEMBER_PID[$1]}"; }
cl_endpoints() { printf '%s,%s,%s' "$(cl_member_url 1)" "$(cl_member_url 2)" "$(cl_member_url 3)"; }

# Starts "$@" in the background, remembered for cl_cleanup (CL_LAST_PID).
cl_spawn() {
  "$@" &
  CL_LAST_PID=$!
  CL_PIDS+=("$CL_LAST_PID")
}

# Stops one pid: a signal (TERM), SIGKILL after CL_WAIT_TENTHS, reaped
# (tests/e2e/netns.sh's e2e_kill_pid, which also continues a frozen member).
cl_kill_pid() { E2E_WAIT_TENTHS=$CL_WAIT_TENTHS e2e_kill_pid "$@"; }

cl_cleanup() {
  local rc=$? hook pid
  trap - EXIT INT TERM
  for hook in "${CL_CLEANUP_HOOKS[@]}"; do
    "$hook" || true
  done
  for pid in "${CL_PIDS[@]}"; do
    cl_kill_pid "$pid"
  done
  E2E_WAIT_TENTHS=$CL_WAIT_TENTHS e2e_reap_netns "${CL_NS_CREATED[@]}"
  CL_NS_CREATED=()
  [ -n "$CL_DIR" ] && rm -rf "$CL_DIR"
  CL_DIR=""
  exit "$rc"
}

# --- certificates -----------------------------------------------------------

# _cl_ca NAME: a self-signed CA, NAME.crt and NAME.key in CL_DIR.
_cl_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CL_DIR/$1.key" -out "$CL_DIR/$1.crt" -days 2 \
    -subj "/CN=spa test CA $1 $$" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>"$CL_DIR/openssl.err"
}

# _cl_cert CA NAME CN [IP]: a leaf signed by CA; with IP a server (and peer)
# certificate whose SAN is that address, else a client certificate.
_cl_cert() {
  local ca=$1 name=$2 cn=$3 ip=${4:-} ext
  ext="$CL_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$ip" ]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=IP:$ip"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CL_DIR/$name.key" -out "$CL_DIR/$name.csr" -subj "/CN=$cn" \
    2>>"$CL_DIR/openssl.err" &&
  openssl x509 -req -in "$CL_DIR/$name.csr" -CA "$CL_DIR/$ca.crt" -CAkey "$CL_DIR/$ca.key" \
    -CAcreateserial -days 2 -extfile "$ext" -out "$CL_DIR/$name.crt" \
    2>>"$CL_DIR/openssl.err"
}

_cl_certs() {
  local n
  (
    umask 077
    _cl_ca ca && _cl_ca rogue || exit 1
    for n in 1 2 3; do
      _cl_cert ca "m$n" "m$n" "$(cl_member_ip "$n")" || exit 1
    done
    _cl_cert ca client spa-node && _cl_cert rogue rogue-client spa-node
  ) || { cl_log "openssl failed:"; cat "$CL_DIR/openssl.err" >&2; return 1; }
  chmod 600 "$CL_DIR"/*.key "$CL_DIR"/*.crt
  CL_CA=$CL_DIR/ca.crt
  CL_CERT=$CL_DIR/client.crt
  CL_KEY=$CL_DIR/client.key
  CL_ROGUE_CA=$CL_DIR/rogue.crt
  CL_ROGUE_CERT=$CL_DIR/rogue-client.crt
  CL_ROGUE_KEY=$CL_DIR/rogue-client.key
}

# --- network ----------------------------------------------------------------

_cl_ns_add() {
  local ns
  ns=$(cl_ns "$1")
  ip netns add "$ns" || return 1
  CL_NS_CREATED+=("$ns")
  ip -n "$ns" link set lo up
}

# _cl_attach NAME IP: a veth pair from namespace NAME (eth0, IP/24) to the
# hub's bridge. Both ends are created inside namespaces, so no interface
# name ever exists in the host's namespace.
_cl_attach() {
  local name=$1 ip=$2 ns hub port
  ns=$(cl_ns "$name")
  hub=$(cl_ns hub)
  CL_NODE_IDX=$((CL_NODE_IDX + 1))
  port="p$CL_NODE_IDX"
  ip link add name eth0 netns "$ns" type veth peer name "$port" netns "$hub" || return 1
  ip -n "$hub" link set "$port" master br0 up || return 1
  ip -n "$ns" addr add "$ip/24" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
  _cl_wait_up "$ns" eth0
}

_cl_wait_up() {
  local ns=$1 dev=$2 i
  for ((i = 0; i < CL_WAIT_TENTHS; i++)); do
    ip -n "$ns" -o link show "$dev" | grep -q 'state UP' && return 0
    sleep 0.1
  done
  cl_log "link $dev in $ns did not come up"
  return 1
}

# cl_node_ns NAME IP: one more namespace on the bridge (a spad node at
# .11-.19, a client at .21-.29). NAME: letters and digits, not hub or m1-m3.
cl_node_ns() {
  local name=$1 ip=$2
  [[ $name =~ ^[A-Za-z0-9]+$ ]] || { cl_log "cl_node_ns: bad name '$name'"; return 1; }
  case $name in hub|m1|m2|m3) cl_log "cl_node_ns: $name is reserved"; return 1 ;; esac
  [[ $ip =~ ^198\.51\.100\.([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 4 ] &&
    [ "${BASH_REMATCH[1]}" -le 253 ] ||
    { cl_log "cl_node_ns: $ip is not a free address of $CL_NET.0/24"; return 1; }
  _cl_ns_add "$name" && _cl_attach "$name" "$ip"
}

_cl_network() {
  local hub n
  _cl_ns_add hub || return 1
  hub=$(cl_ns hub)
  ip -n "$hub" link add br0 type bridge || return 1
  ip -n "$hub" addr add "$CL_HUB_IP/24" dev br0 || return 1
  ip -n "$hub" link set br0 up || return 1
  for n in 1 2 3; do
    _cl_ns_add "m$n" && _cl_attach "m$n" "$(cl_member_ip "$n")" || return 1
  done
}

# --- etcd -------------------------------------------------------------------

# The https URLs of the members running now (cl_member_stop'ped ones left
# out), comma-separated.
cl_running_endpoints() {
  local n eps=""
  for n in 1 2 3; do
    [ -n "${CL_MEMBER_PID[$n]}" ] && eps+="${eps:+,}$(cl_member_url "$n")"
  done
  printf '%s' "$eps"
}

# etcdctl with the client certificate, from the hub, against the members
# running now: etcdctl 3.4 does not move a write to another endpoint when
# the one its balancer picked is down.
cl_etcdctl() {
  ETCDCTL_API=3 ip netns exec "$(cl_ns hub)" etcdctl --endpoints="$(cl_running_endpoints)" \
    --cacert="$CL_CA" --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=2s \
    --command-timeout=5s "$@"
}

# cl_member_start N: starts member N (again, on its data dir: a restart
# rejoins; --initial-cluster-state is ignored once the dir exists).
cl_member_start() {
  local n=$1 ip cluster m
  ip=$(cl_member_ip "$n")
  [ -z "${CL_MEMBER_PID[$n]}" ] || { cl_log "member $n already running"; return 1; }
  cluster=""
  for m in 1 2 3; do
    cluster+="${cluster:+,}m$m=https://$(cl_member_ip "$m"):$CL_PEER_PORT"
  done
  cl_spawn ip netns exec "$(cl_ns "m$n")" etcd --name "m$n" \
    --data-dir "$CL_DIR/m$n.data" \
    --listen-client-urls "https://$ip:$CL_CLIENT_PORT" \
    --advertise-client-urls "https://$ip:$CL_CLIENT_PORT" \
    --listen-peer-urls "https://$ip:$CL_PEER_PORT" \
    --initial-advertise-peer-urls "https://$ip:$CL_PEER_PORT" \
    --initial-cluster "$cluster" --initial-cluster-token "$CL_PREFIX" \
    --initial-cluster-state new \
    --cert-file "$CL_DIR/m$n.crt" --key-file "$CL_DIR/m$n.key" \
    --client-cert-auth --trusted-ca-file "$CL_CA" \
    --peer-cert-file "$CL_DIR/m$n.crt" --peer-key-file "$CL_DIR/m$n.key" \
    --peer-client-cert-auth --peer-trusted-ca-file "$CL_CA" \
    --heartbeat-interval "$CL_HEARTBEAT_MS" --election-timeout "$CL_ELECTION_MS" \
    --logger zap --log-outputs stderr >>"$(cl_member_log "$n")" 2>&1
  CL_MEMBER_PID[$n]=$CL_LAST_PID
}

# cl_running_count: how many members run.
cl_running_count() {
  local n c=0
  for n in 1 2 3; do
    [ -n "${CL_MEMBER_PID[$n]}" ] && c=$((c + 1))
  done
  echo "$c"
}

# cl_leader: prints the number of the leading member when every running
# member names the same leader and it is one of them; fails otherwise.
cl_leader() {
  local out n id leaders ids
  out=$(cl_etcdctl --command-timeout=1s endpoint status -w json 2>/dev/null) || return 1
  leaders=$(grep -o '"leader":[0-9]*' <<<"$out" | sort -u)
  [ "$(wc -l <<<"$leaders")" -eq 1 ] && [ -n "$leaders" ] || return 1
  id=${leaders#*:}
  for n in 1 2 3; do
    [ -n "${CL_MEMBER_PID[$n]}" ] || continue
    ids=$(grep -o "\"Endpoint\":\"$(cl_member_url "$n")\",\"Status\":{\"header\":{[^}]*" <<<"$out")
    if grep -q "\"member_id\":$id," <<<"$ids"; then
      echo "$n"
      return 0
    fi
  done
  return 1
}

# cl_wait_leader: until the running members agree on a running leader
# (bounded). A write sent while a leader is being elected is dropped by
# etcd and times out, so tests that kill a member wait for this before
# they expect writes to succeed.
cl_wait_leader() {
  local i
  for ((i = 0; i < CL_WAIT_TENTHS; i++)); do
    cl_leader >/dev/null && return 0
    sleep 0.1
  done
  cl_log "no etcd leader among the running members after $((CL_WAIT_TENTHS / 10)) s"
  return 1
}

# cl_member_stop N [SIGNAL]: stops member N (default SIGKILL: a crash, as
# a lost machine would be) and waits until it is gone, then, while a
# quorum is left, until the others have a leader (cl_wait_leader).
cl_member_stop() {
  local n=$1 sig=${2:-KILL} pid
  pid=${CL_MEMBER_PID[$n]}
  [ -n "$pid" ] || { cl_log "member $n is not running"; return 1; }
  cl_kill_pid "$pid" "$sig"
  CL_MEMBER_PID[$n]=""
  [ "$(cl_running_count)" -lt 2 ] || cl_wait_leader
}

# cl_not_leader N: moves the leadership off member N when it holds it
# (etcdctl move-leader, sent to N), then waits for the new leader. A test
# that hangs a member to see a client move on must not also get an
# election: writes sent meanwhile are dropped and time out.
cl_not_leader() {
  local n=$1 lead m id
  lead=$(cl_leader) || { cl_wait_leader && lead=$(cl_leader); } || return 1
  [ "$lead" = "$n" ] || return 0
  for m in 1 2 3; do
    [ "$m" != "$n" ] && [ -n "${CL_MEMBER_PID[$m]}" ] && break
  done
  id=$(cl_etcdctl member list 2>/dev/null | awk -F', ' -v name="m$m" '$3 == name { print $1 }')
  [ -n "$id" ] || { cl_log "cl_not_leader: no id for member $m"; return 1; }
  ETCDCTL_API=3 ip netns exec "$(cl_ns hub)" etcdctl --endpoints="$(cl_member_url "$n")" \
    --cacert="$CL_CA" --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=2s \
    --command-timeout=5s move-leader "$id" >/dev/null ||
    { cl_log "cl_not_leader: move-leader to member $m failed"; return 1; }
  cl_wait_leader && [ "$(cl_leader)" != "$n" ]
}

# cl_member_freeze N / cl_member_thaw N: SIGSTOP / SIGCONT member N, a
# member that hangs: its connections stay open, nothing answers.
cl_member_freeze() { [ -n "${CL_MEMBER_PID[$1]}" ] && kill -STOP "${CL_MEMBER_PID[$1]}"; }
cl_member_thaw() { [ -n "${CL_MEMBER_PID[$1]}" ] && kill -CONT "${CL_MEMBER_PID[$1]}"; }

# cl_member_partition N / cl_member_heal N: member N cut off from its
# peers (their port dropped by iptables inside its own namespace) while its
# clients still reach it: it loses its leader and says so ("no leader").
cl_member_partition() {
  cl_in "m$1" iptables -w -A INPUT -p tcp --dport "$CL_PEER_PORT" -j DROP &&
    cl_in "m$1" iptables -w -A INPUT -p tcp --sport "$CL_PEER_PORT" -j DROP
}
cl_member_heal() { cl_in "m$1" iptables -w -F INPUT; }

# cl_wait_healthy [N...]: until each member named (default: all running)
# answers endpoint health with the client certificate; a bounded wait,
# with the members' log tails on failure.
cl_wait_healthy() {
  local members=("$@") eps="" n i
  if [ ${#members[@]} -eq 0 ]; then
    for n in 1 2 3; do
      [ -n "${CL_MEMBER_PID[$n]}" ] && members+=("$n")
    done
  fi
  for n in "${members[@]}"; do
    eps+="${eps:+,}$(cl_member_url "$n")"
  done
  for ((i = 0; i < CL_WAIT_TENTHS; i += 2)); do
    if ETCDCTL_API=3 ip netns exec "$(cl_ns hub)" etcdctl --endpoints="$eps" \
         --cacert="$CL_CA" --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=1s \
         --command-timeout=2s endpoint health >"$CL_DIR/health.out" 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  cl_log "etcd members ${members[*]} not healthy after $((CL_WAIT_TENTHS / 10)) s:"
  sed 's/^/  /' "$CL_DIR/health.out" >&2
  for n in 1 2 3; do
    cl_log "member $n (pid ${CL_MEMBER_PID[$n]:-none}) log tail:"
    tail -n 15 "$(cl_member_log "$n")" 2>/dev/null | sed 's/^/  /' >&2
  done
  return 1
}

# cl_setup: the temp dir, certificates, namespaces, and 3 healthy members.
cl_setup() {
  local n
  case $(trap -p EXIT) in
    *cl_cleanup*) ;;
    *) cl_log "cl_setup: install 'trap cl_cleanup EXIT' first"; return 1 ;;
  esac
  CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spa-cluster.XXXXXX") || return 1
  chmod 700 "$CL_DIR"
  _cl_certs || return 1
  _cl_network || return 1
  for n in 1 2 3; do
    cl_member_start "$n" || return 1
  done
  cl_wait_healthy 1 2 3
}
