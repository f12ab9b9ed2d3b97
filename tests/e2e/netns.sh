# SPDX-License-Identifier: MIT
# Sourced by the end-to-end tests: two network namespaces joined by a veth
# pair, a TCP listener standing in for sshd on the server side, connection
# probes that choose their source address, and default-drop policies for
# each firewall backend. Everything lives inside namespaces this shell
# creates, so the host firewall is never touched.
#
# Usage:
#   . "$(dirname "$0")/netns.sh"
#   e2e_require_root; e2e_require_tools socat iptables
#   e2e_setup                 # installs the EXIT trap
#   e2e_start_listener 22
#   tcp_connect_ok "$E2E_CLI4" "$E2E_SRV4" 22 || ...
#
# Test scripts that need their own cleanup append a function name to
# E2E_CLEANUP_HOOKS; hooks run before the namespaces are deleted.

E2E_SKIP_RC=77

E2E_NS_SRV="spa-e2e-srv-$$"
E2E_NS_CLI="spa-e2e-cli-$$"
E2E_IF_SRV="spa-srv0"
E2E_IF_CLI="spa-cli0"

E2E_SRV4=198.51.100.1
E2E_CLI4=198.51.100.2
E2E_CLI4_OTHER=198.51.100.3
E2E_SRV6=2001:db8:1::1
E2E_CLI6=2001:db8:1::2
E2E_CLI6_OTHER=2001:db8:1::3

# The listener answers every connection with this line, so a probe can tell
# our listener apart from anything else that might complete a handshake.
E2E_BANNER="SPA-E2E-LISTENER"
E2E_CONNECT_TIMEOUT="${E2E_CONNECT_TIMEOUT:-1.5}"
# Once connected, how long a probe waits for the banner: the listener forks
# and runs echo for it, which takes a while on a loaded machine. A blocked
# probe never connects, so this costs nothing there.
E2E_READ_TIMEOUT="${E2E_READ_TIMEOUT:-10}"
# Generous deadlines (tenths of a second) for states the tests wait for:
# they return as soon as the state holds, so only a failure pays them.
E2E_WAIT_TENTHS="${E2E_WAIT_TENTHS:-300}"

E2E_PIDS=()
E2E_CLEANUP_HOOKS=()
E2E_NS_CREATED=()
E2E_TMPDIR=""
E2E_FAILS=0

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

e2e_skip() {
  echo "SKIP: $*"
  exit "$E2E_SKIP_RC"
}

e2e_require_root() {
  [ "$(id -u)" -eq 0 ] || e2e_skip "needs root to create network namespaces"
  command -v ip >/dev/null 2>&1 || e2e_skip "ip (iproute2) not installed"
  # Probe with a throwaway namespace: containers often forbid unshare(2)
  # even for root, and that must read as a skip, not a failure.
  local probe="spa-e2e-probe-$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    e2e_skip "ip netns is not available here (no CAP_SYS_ADMIN or no netns support)"
  fi
  ip netns del "$probe" 2>/dev/null
  return 0
}

e2e_require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || e2e_skip "$t not installed (run scripts/install-deps.sh)"
  done
}

# e2e_netns_etc NS FILE TEXT: /etc/FILE as programs that `ip netns exec`
# starts in NS see it (ip-netns(8) bind-mounts /etc/netns/NS/FILE over
# /etc/FILE), e.g. a resolv.conf naming a test's own nameserver. NS must
# be one of this test's namespaces: the cleanup removes /etc/netns/NS.
E2E_NETNS_ETC=()
e2e_netns_etc() {
  local ns=$1 file=$2
  [ "${#E2E_NETNS_ETC[@]}" = 0 ] && E2E_CLEANUP_HOOKS+=(e2e_netns_etc_remove)
  [[ " ${E2E_NETNS_ETC[*]} " == *" $ns "* ]] || E2E_NETNS_ETC+=("$ns")
  mkdir -p "/etc/netns/$ns" && printf '%s\n' "$3" >"/etc/netns/$ns/$file"
}
e2e_netns_etc_remove() {
  local ns
  for ns in "${E2E_NETNS_ETC[@]}"; do
    rm -rf "/etc/netns/${ns:?}"
  done
  # only when no other test's namespace has files there
  rmdir /etc/netns 2>/dev/null
  return 0
}

# Run a command inside the server or client namespace.
e2e_srv() { ip netns exec "$E2E_NS_SRV" "$@"; }
e2e_cli() { ip netns exec "$E2E_NS_CLI" "$@"; }

# Start a long-running command in the background and remember its pid so
# cleanup can stop exactly it. The pid is left in E2E_LAST_PID.
e2e_spawn() {
  "$@" &
  E2E_LAST_PID=$!
  E2E_PIDS+=("$E2E_LAST_PID")
}

# e2e_kill_pid PID [SIGNAL]: SIGNAL (TERM) first, SIGKILL after
# E2E_WAIT_TENTHS, then reaped. A stopped process (SIGSTOP, a hung etcd
# member in the cluster tests) is continued so that it acts on the
# signal. stderr is off meanwhile: bash reports a killed job it reaps.
e2e_kill_pid() {
  local pid=$1 sig=${2:-TERM} i
  {
    kill -0 "$pid" || return 0
    kill -"$sig" "$pid"
    kill -CONT "$pid"
    # a graceful stop (spad closing its grants through firewall-cmd under
    # ASan) can take seconds on a loaded machine: SIGKILL only after 30 s
    for ((i = 0; i < E2E_WAIT_TENTHS; i++)); do
      kill -0 "$pid" || break
      sleep 0.1
    done
    kill -0 "$pid" && kill -KILL "$pid"
    wait "$pid"
  } 2>/dev/null
  return 0
}

# e2e_reap_netns NS...: whatever is still inside these namespaces, which
# are ours (uniquely named), was started by the test (e.g. a forked socat
# child): stopped by pid, then the namespaces deleted.
e2e_reap_netns() {
  local ns leftover
  for ns in "$@"; do
    for leftover in $(ip netns pids "$ns" 2>/dev/null); do
      e2e_kill_pid "$leftover"
    done
    ip netns del "$ns" 2>/dev/null || e2e_log "could not delete namespace $ns"
  done
}

e2e_cleanup() {
  local rc=$? hook pid
  trap - EXIT INT TERM
  for hook in "${E2E_CLEANUP_HOOKS[@]}"; do
    "$hook" || true
  done
  for pid in "${E2E_PIDS[@]}"; do
    e2e_kill_pid "$pid"
  done
  e2e_reap_netns "${E2E_NS_CREATED[@]}"
  [ -n "$E2E_TMPDIR" ] && rm -rf "$E2E_TMPDIR"
  exit "$rc"
}

e2e_setup() {
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  E2E_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/spa-e2e.XXXXXX") || return 1

  ip netns add "$E2E_NS_SRV" || return 1
  E2E_NS_CREATED+=("$E2E_NS_SRV")
  ip netns add "$E2E_NS_CLI" || return 1
  E2E_NS_CREATED+=("$E2E_NS_CLI")

  # Both ends are created directly inside the namespaces, so no interface
  # name ever exists in the host namespace and parallel runs cannot clash.
  ip link add name "$E2E_IF_SRV" netns "$E2E_NS_SRV" type veth \
    peer name "$E2E_IF_CLI" netns "$E2E_NS_CLI" || return 1

  ip -n "$E2E_NS_SRV" link set lo up || return 1
  ip -n "$E2E_NS_CLI" link set lo up || return 1
  ip -n "$E2E_NS_SRV" addr add "$E2E_SRV4/24" dev "$E2E_IF_SRV" || return 1
  ip -n "$E2E_NS_CLI" addr add "$E2E_CLI4/24" dev "$E2E_IF_CLI" || return 1
  ip -n "$E2E_NS_CLI" addr add "$E2E_CLI4_OTHER/24" dev "$E2E_IF_CLI" || return 1
  # nodad: duplicate address detection would keep the addresses tentative
  # (unusable) for a second or two after the link comes up.
  ip -n "$E2E_NS_SRV" addr add "$E2E_SRV6/64" dev "$E2E_IF_SRV" nodad || return 1
  ip -n "$E2E_NS_CLI" addr add "$E2E_CLI6/64" dev "$E2E_IF_CLI" nodad || return 1
  # preferred_lft 0 (deprecated): still usable when bound explicitly,
  # never picked as a source, so unbound clients speak from CLI6.
  ip -n "$E2E_NS_CLI" addr add "$E2E_CLI6_OTHER/64" dev "$E2E_IF_CLI" nodad preferred_lft 0 || return 1
  ip -n "$E2E_NS_SRV" link set "$E2E_IF_SRV" up || return 1
  ip -n "$E2E_NS_CLI" link set "$E2E_IF_CLI" up || return 1
  e2e_wait_link
}

# Wait until both veth ends report UP and no address is still tentative;
# a probe sent earlier would fail for reasons unrelated to any firewall.
e2e_wait_link() {
  local i
  for i in $(seq 1 "$E2E_WAIT_TENTHS"); do
    if ip -n "$E2E_NS_SRV" -o link show "$E2E_IF_SRV" | grep -q 'state UP' &&
       ip -n "$E2E_NS_CLI" -o link show "$E2E_IF_CLI" | grep -q 'state UP' &&
       ! ip -n "$E2E_NS_SRV" -o addr show tentative | grep -q . &&
       ! ip -n "$E2E_NS_CLI" -o addr show tentative | grep -q .; then
      return 0
    fi
    sleep 0.1
  done
  e2e_log "veth link did not come up"
  return 1
}

# e2e_start_listener [port]: a TCP listener on the server, IPv4 and IPv6,
# that greets every connection with $E2E_BANNER.
# firewalld for a test: a real daemon (nftables backend) inside the server
# namespace on a private system bus, with a private copy of /etc/firewalld
# so nothing it saves reaches the host. spad's runner gives commands an
# empty environment, so E2E_FWD_CMD is a firewall-cmd wrapper that names
# the bus. e2e_firewalld_prepare DIR writes the files (a caller may add
# zones under $E2E_FWD_DIR/etc/zones), e2e_firewalld_start runs the bus and
# the daemon (stopped by the cleanup, daemon first so it can tidy up its
# nft table) and waits until it answers.
e2e_firewalld_prepare() {
  E2E_FWD_DIR=$1
  E2E_FWD_BUS="unix:path=$E2E_FWD_DIR/bus.sock"
  E2E_FWD_CMD="$E2E_FWD_DIR/firewall-cmd"
  mkdir -p "$E2E_FWD_DIR" && chmod 755 "$E2E_FWD_DIR" || return 1
  cat >"$E2E_FWD_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$E2E_FWD_BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
  cat >"$E2E_FWD_CMD" <<WRAP
#!/bin/sh
DBUS_SYSTEM_BUS_ADDRESS='$E2E_FWD_BUS'
export DBUS_SYSTEM_BUS_ADDRESS
exec /usr/bin/firewall-cmd "\$@"
WRAP
  chmod 755 "$E2E_FWD_CMD" && cp -a /etc/firewalld "$E2E_FWD_DIR/etc"
}

E2E_FWD_PID=""
E2E_FWD_BUS_PID=""
e2e_firewalld_stop() {
  [ -n "$E2E_FWD_PID" ] && e2e_kill_pid "$E2E_FWD_PID"
  [ -n "$E2E_FWD_BUS_PID" ] && e2e_kill_pid "$E2E_FWD_BUS_PID"
  E2E_FWD_PID=""
  E2E_FWD_BUS_PID=""
  return 0
}

e2e_firewalld_start() {
  local _
  E2E_CLEANUP_HOOKS+=(e2e_firewalld_stop)
  E2E_FWD_BUS_PID=$(e2e_srv dbus-daemon --config-file="$E2E_FWD_DIR/bus.conf" --fork \
    --print-pid --nosyslog) || return 1
  E2E_PIDS+=("$E2E_FWD_BUS_PID")
  e2e_spawn e2e_srv env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS" \
    firewalld --nofork --nopid --system-config "$E2E_FWD_DIR/etc" --log-target console \
    >"$E2E_FWD_DIR/firewalld.log" 2>&1
  E2E_FWD_PID=$E2E_LAST_PID
  for _ in $(seq 1 180); do
    [ "$(e2e_srv "$E2E_FWD_CMD" --state 2>/dev/null)" = running ] && return 0
    sleep 0.5
  done
  e2e_log "firewalld did not come up in the namespace; log tail:"
  tail -20 "$E2E_FWD_DIR/firewalld.log" >&2
  return 1
}

e2e_start_listener() {
  local port=${1:-22} i
  e2e_spawn ip netns exec "$E2E_NS_SRV" socat \
    "TCP6-LISTEN:$port,ipv6only=0,reuseaddr,fork" "EXEC:echo $E2E_BANNER"
  for i in $(seq 1 "$E2E_WAIT_TENTHS"); do
    if e2e_srv ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then
      return 0
    fi
    sleep 0.1
  done
  e2e_log "listener on port $port did not start"
  return 1
}

# tcp_connect_ok <src-addr> <dst-addr> <port>: succeeds only when a TCP
# connection from src (an address of the client namespace) reaches our
# listener within E2E_CONNECT_TIMEOUT seconds and reads its banner within
# E2E_READ_TIMEOUT more.
tcp_connect_ok() {
  local src=$1 dst=$2 port=$3 target bind out
  case "$dst" in
    *:*) target="TCP6:[$dst]:$port"; bind="[$src]" ;;
    *)   target="TCP4:$dst:$port"; bind="$src" ;;
  esac
  out=$(timeout $((${E2E_READ_TIMEOUT%.*} + 10)) ip netns exec "$E2E_NS_CLI" socat -T "$E2E_READ_TIMEOUT" -u \
    "$target,bind=$bind,connect-timeout=$E2E_CONNECT_TIMEOUT" STDOUT 2>/dev/null)
  [ "$out" = "$E2E_BANNER" ]
}

tcp_connect_blocked() { ! tcp_connect_ok "$@"; }

# Assertion helpers: report and count, so a test shows every failed check
# rather than stopping at the first one.
e2e_expect_open() {
  # a second try: one probe can lose its SYN to a loaded machine
  if tcp_connect_ok "$@" || tcp_connect_ok "$@"; then
    echo "ok: $1 -> $2:$3 open"
  else
    echo "FAIL: $1 -> $2:$3 expected open, was blocked"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
}

e2e_expect_blocked() {
  if tcp_connect_ok "$@"; then
    echo "FAIL: $1 -> $2:$3 expected blocked, was open"
    E2E_FAILS=$((E2E_FAILS + 1))
  else
    echo "ok: $1 -> $2:$3 blocked"
  fi
}

e2e_finish() {
  if [ "$E2E_FAILS" -ne 0 ]; then
    echo "$E2E_FAILS check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

# --- default-drop policies (server namespace only) -------------------------

# e2e_policy_iptables [spa-udp-port]: INPUT policy DROP for IPv4 and IPv6,
# except loopback, established traffic, the SPA port, and the ICMPv6 that
# neighbour discovery needs (without it IPv6 would fail for the wrong
# reason). A plugin's jump rule inserted at the top of INPUT opens holes.
e2e_policy_iptables() {
  local spa_port=${1:-62201} ipt
  for ipt in iptables ip6tables; do
    e2e_srv "$ipt" -w -A INPUT -i lo -j ACCEPT || return 1
    e2e_srv "$ipt" -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT || return 1
    e2e_srv "$ipt" -w -A INPUT -p udp --dport "$spa_port" -j ACCEPT || return 1
  done
  e2e_srv ip6tables -w -A INPUT -p ipv6-icmp -j ACCEPT || return 1
  e2e_srv iptables -w -P INPUT DROP || return 1
  e2e_srv ip6tables -w -P INPUT DROP || return 1
}

e2e_policy_iptables_clear() {
  local ipt
  for ipt in iptables ip6tables; do
    e2e_srv "$ipt" -w -P INPUT ACCEPT
    e2e_srv "$ipt" -w -F INPUT
  done
}

# e2e_policy_nftables [port] [mark]: a table of the admin's own that drops
# tcp/<port> (default 22) for IPv4 and IPv6. With a mark, packets carrying
# it are accepted first: that is the one-line reference rule an admin adds
# when a plugin's table marks the packets it allows.
E2E_NFT_POLICY_TABLE="spa_e2e_policy"
e2e_policy_nftables() {
  local port=${1:-22} mark=${2:-} accept_rule=""
  if [ -n "$mark" ]; then
    accept_rule="meta mark & $mark == $mark accept"
  fi
  e2e_srv nft -f - <<EOF
table inet $E2E_NFT_POLICY_TABLE {
  chain input {
    type filter hook input priority filter; policy accept;
    $accept_rule
    tcp dport $port drop
  }
}
EOF
}

e2e_policy_nftables_clear() {
  e2e_srv nft delete table inet "$E2E_NFT_POLICY_TABLE" 2>/dev/null
  return 0
}

# --- three namespaces for NAT: client, gateway, internal host --------------
#
# e2e_setup_nat, instead of e2e_setup: the client namespace ($E2E_NS_CLI,
# 203.0.113.2 granted and .3 not, 2001:db8:2::2 and ::3) reaches the
# gateway ($E2E_NS_SRV: 203.0.113.1 and 2001:db8:2::1 outside,
# 198.51.100.1 and 2001:db8:1::1 inside, forwarding on) and through it
# the internal host ($E2E_NS_INT: 198.51.100.10, 2001:db8:1::10, default
# route via the gateway). The client routes the internal networks via the
# gateway too, so that forwarding without DNAT can be tried. e2e_srv runs
# on the gateway, e2e_int on the internal host. $E2E_NAT_GW_SNAT4 is one
# more gateway address inside, a target for SNAT that the internal host
# can answer.
E2E_NS_INT="spa-e2e-int-$$"
E2E_NAT_CLI4=203.0.113.2
E2E_NAT_CLI4_OTHER=203.0.113.3
E2E_NAT_GW_OUT4=203.0.113.1
E2E_NAT_GW_IN4=198.51.100.1
E2E_NAT_GW_SNAT4=198.51.100.5
E2E_NAT_INT4=198.51.100.10
E2E_NAT_CLI6=2001:db8:2::2
E2E_NAT_CLI6_OTHER=2001:db8:2::3
E2E_NAT_GW_OUT6=2001:db8:2::1
E2E_NAT_GW_IN6=2001:db8:1::1
E2E_NAT_INT6=2001:db8:1::10

e2e_int() { ip netns exec "$E2E_NS_INT" "$@"; }

e2e_setup_nat() {
  local ns
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  E2E_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/spa-e2e.XXXXXX") || return 1
  for ns in "$E2E_NS_SRV" "$E2E_NS_CLI" "$E2E_NS_INT"; do
    ip netns add "$ns" || return 1
    E2E_NS_CREATED+=("$ns")
    ip -n "$ns" link set lo up || return 1
  done
  ip link add name spa-gwo0 netns "$E2E_NS_SRV" type veth peer name "$E2E_IF_CLI" netns "$E2E_NS_CLI" || return 1
  ip link add name spa-gwi0 netns "$E2E_NS_SRV" type veth peer name spa-int0 netns "$E2E_NS_INT" || return 1
  ip -n "$E2E_NS_CLI" addr add "$E2E_NAT_CLI4/24" dev "$E2E_IF_CLI" &&
  ip -n "$E2E_NS_CLI" addr add "$E2E_NAT_CLI4_OTHER/24" dev "$E2E_IF_CLI" &&
  ip -n "$E2E_NS_CLI" addr add "$E2E_NAT_CLI6/64" dev "$E2E_IF_CLI" nodad &&
  ip -n "$E2E_NS_CLI" addr add "$E2E_NAT_CLI6_OTHER/64" dev "$E2E_IF_CLI" nodad preferred_lft 0 &&
  ip -n "$E2E_NS_SRV" addr add "$E2E_NAT_GW_OUT4/24" dev spa-gwo0 &&
  ip -n "$E2E_NS_SRV" addr add "$E2E_NAT_GW_OUT6/64" dev spa-gwo0 nodad &&
  ip -n "$E2E_NS_SRV" addr add "$E2E_NAT_GW_IN4/24" dev spa-gwi0 &&
  ip -n "$E2E_NS_SRV" addr add "$E2E_NAT_GW_SNAT4/24" dev spa-gwi0 &&
  ip -n "$E2E_NS_SRV" addr add "$E2E_NAT_GW_IN6/64" dev spa-gwi0 nodad &&
  ip -n "$E2E_NS_INT" addr add "$E2E_NAT_INT4/24" dev spa-int0 &&
  ip -n "$E2E_NS_INT" addr add "$E2E_NAT_INT6/64" dev spa-int0 nodad || return 1
  for ns in "$E2E_NS_SRV:spa-gwo0" "$E2E_NS_SRV:spa-gwi0" "$E2E_NS_CLI:$E2E_IF_CLI" "$E2E_NS_INT:spa-int0"; do
    ip -n "${ns%%:*}" link set "${ns#*:}" up || return 1
  done
  ip -n "$E2E_NS_CLI" route add 198.51.100.0/24 via "$E2E_NAT_GW_OUT4" &&
  ip -n "$E2E_NS_CLI" -6 route add 2001:db8:1::/64 via "$E2E_NAT_GW_OUT6" &&
  ip -n "$E2E_NS_INT" route add default via "$E2E_NAT_GW_IN4" &&
  ip -n "$E2E_NS_INT" -6 route add default via "$E2E_NAT_GW_IN6" || return 1
  e2e_srv sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
  e2e_wait_nat_links
}

# As e2e_wait_link, for the three namespaces.
e2e_wait_nat_links() {
  local i ns busy
  for i in $(seq 1 "$E2E_WAIT_TENTHS"); do
    busy=0
    for ns in "$E2E_NS_SRV" "$E2E_NS_CLI" "$E2E_NS_INT"; do
      if ip -n "$ns" -o link show | grep -v 'lo:' | grep -qv 'state UP' ||
         ip -n "$ns" -o addr show tentative | grep -q .; then
        busy=1
      fi
    done
    [ "$busy" = 0 ] && return 0
    sleep 0.1
  done
  e2e_log "veth links did not come up"
  return 1
}

# e2e_start_peer_listener NS PORT: TCP listeners (IPv4, IPv6) that answer
# "$E2E_BANNER <peer address>", so that a probe sees the source its
# connection arrived with (SNAT, MASQUERADE). socat writes IPv6 peers in
# full, in brackets (e2e_ip6_full).
e2e_start_peer_listener() {
  local ns=$1 port=$2 i
  e2e_spawn ip netns exec "$ns" socat "TCP4-LISTEN:$port,reuseaddr,fork" \
    "SYSTEM:echo $E2E_BANNER \$SOCAT_PEERADDR"
  e2e_spawn ip netns exec "$ns" socat "TCP6-LISTEN:$port,ipv6only=1,reuseaddr,fork" \
    "SYSTEM:echo $E2E_BANNER \$SOCAT_PEERADDR"
  for i in $(seq 1 "$E2E_WAIT_TENTHS"); do
    [ "$(ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -c LISTEN)" = 2 ] && return 0
    sleep 0.1
  done
  e2e_log "listener on port $port in $ns did not start"
  return 1
}

# 2001:db8::1 as 2001:0db8:0000:0000:0000:0000:0000:0001
e2e_ip6_full() {
  local a=$1 head tail g out="" i
  local -a h=() t=() all=()
  if [[ $a == *::* ]]; then head=${a%%::*}; tail=${a#*::}; else head=$a; tail=""; fi
  [ -n "$head" ] && IFS=: read -ra h <<<"$head"
  [ -n "$tail" ] && IFS=: read -ra t <<<"$tail"
  all=("${h[@]}")
  for ((i = ${#h[@]} + ${#t[@]}; i < 8; i++)); do all+=(0); done
  all+=("${t[@]}")
  for g in "${all[@]}"; do out+=$(printf '%04x:' "0x$g"); done
  echo "${out%:}"
}

# e2e_nat_probe SRC DST PORT: the line a connection from the client's SRC
# reads (empty when it does not connect).
e2e_nat_probe() {
  local src=$1 dst=$2 port=$3 target bind
  case "$dst" in
    *:*) target="TCP6:[$dst]:$port"; bind="[$src]" ;;
    *)   target="TCP4:$dst:$port"; bind="$src" ;;
  esac
  timeout $((${E2E_READ_TIMEOUT%.*} + 10)) ip netns exec "$E2E_NS_CLI" socat -T "$E2E_READ_TIMEOUT" -u \
    "$target,bind=$bind,connect-timeout=$E2E_CONNECT_TIMEOUT" STDOUT 2>/dev/null
}

# e2e_expect_nat_open SRC DST PORT [PEER]: reaches a peer listener (twice
# tried), which saw the connection come from PEER when given.
e2e_expect_nat_open() {
  local out want="$E2E_BANNER ${4:-}"
  case "${4:-}" in *:*) want="$E2E_BANNER [$(e2e_ip6_full "$4")]" ;; esac
  out=$(e2e_nat_probe "$1" "$2" "$3")
  [ -z "$out" ] && out=$(e2e_nat_probe "$1" "$2" "$3")
  [ -n "${4:-}" ] || want="$E2E_BANNER ${out#* }"
  if [ "${out%% *}" = "$E2E_BANNER" ] && [ "$out" = "$want" ]; then
    echo "ok: $1 -> $2:$3 open${4:+, seen from $4}"
  else
    echo "FAIL: $1 -> $2:$3 expected open${4:+ seen from $4}, got '${out:-nothing}'"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
}

# e2e_check CMD [ARGS]: reports "ok: CMD" or "FAIL: CMD" and counts the
# failure, so that a test goes on and shows every failed check.
e2e_check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}

# e2e_expect_lines WHAT TEXT [LINE...]: TEXT is exactly the LINEs, in any
# order (no LINE: empty), e.g. a plugin's listing.
e2e_expect_lines() {
  local what=$1 got
  got=$(sort <<<"$2")
  shift 2
  if [ "$got" = "$(printf '%s\n' "$@" | sort)" ]; then
    echo "ok: $what is $*"
  else
    echo "FAIL: $what: want '$*', got '$got'"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
}

e2e_expect_nat_blocked() {
  local out
  out=$(e2e_nat_probe "$1" "$2" "$3")
  if [ -n "$out" ]; then
    echo "FAIL: $1 -> $2:$3 expected blocked, got '$out'"
    E2E_FAILS=$((E2E_FAILS + 1))
  else
    echo "ok: $1 -> $2:$3 blocked"
  fi
}
