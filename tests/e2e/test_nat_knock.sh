#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NAT knocks end to end, in the three namespaces of netns.sh's
# e2e_setup_nat (client, forwarding gateway with default-drop policies,
# internal host whose service answers with the source it sees):
#   spad:    Debian's fwknop client (-N, --nat-port, --nat-local,
#            --nat-rand-port) against spad with the iptables plugin (or
#            BACKEND: nftables, firewalld) and ENABLE_IPT_FORWARDING /
#            ENABLE_IPT_LOCAL_NAT;
#   fwknopd: spa-client's same options against Debian's fwknopd 2.6.10.
# Each form: the service is reachable through the gateway after the
# knock, from the granted source only, and no longer once the access
# expired; ENABLE_IPT_SNAT with SNAT_TRANSLATE_IP is what the internal host
# sees as the source of what is forwarded; spad only: after a kill -9 with
# a live NAT grant and a restart (no start-up flush: the listing must
# match the journal) the grant is one set of rules and still expires;
# iptables (spad and fwknopd) only: a stanza's FORCE_NAT with
# FORCE_MASQUERADE forwards a plain knock, masqueraded; a clean stop
# removes a live grant.
# firewalld cannot SNAT to an address: its leg masquerades (ENABLE_IPT_SNAT
# without SNAT_TRANSLATE_IP), which the internal host sees as the
# gateway's inside address.
# Usage: test_nat_knock.sh spad <spad> <plugin-dir> [BACKEND]
#        test_nat_knock.sh fwknopd <spa-client>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

mode=${1:?spad or fwknopd}
case "$mode" in
  spad)
    spad=${2:?spad binary}
    plugin_dir=${3:?plugin directory}
    backend=${4:-iptables}
    [ -x "$spad" ] || e2e_skip "spad not built ($spad)"
    [ -f "$plugin_dir/$backend.so" ] || e2e_skip "$backend plugin not built"
    client=$(command -v fwknop) || e2e_skip "Debian's fwknop client (fwknop-client) not installed"
    ;;
  fwknopd)
    backend=iptables
    client=${2:?spa-client binary}
    fwknopd=${SPA_FWKNOPD:-/usr/sbin/fwknopd}
    [ -x "$fwknopd" ] || e2e_skip "$fwknopd (fwknop-server) not installed"
    ;;
  *) echo "FAIL: unknown mode $mode"; exit 1 ;;
esac

e2e_require_root
e2e_require_tools socat ss timeout base64 iptables-save iptables-restore
case "$backend" in
  nftables) e2e_require_tools nft ;;
  firewalld) e2e_require_tools nft dbus-daemon firewalld firewall-cmd ;;
esac
e2e_setup_nat || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_peer_listener "$E2E_NS_INT" 22 || { echo "FAIL: internal listener"; exit 1; }
e2e_start_peer_listener "$E2E_NS_SRV" 2222 || { echo "FAIL: gateway listener"; exit 1; }

PORT=62201
TIMEOUT=6
WAIT_TENTHS=$(( (TIMEOUT + 15) * 10 ))
# The gateway's policy: the knock port in, replies through, nothing else
# (REJECT, so that a blocked probe answers at once).
spad_env=()
# the engine's flush switch of the backend, and what one forwarded grant
# with SNAT (firewalld: masquerade) is in it
case "$backend" in
  iptables) flush_key=IPT one_grant=3 ;;   # FORWARD, DNAT, SNAT rules
  nftables) flush_key=NFT one_grant=4 ;;   # fwd, dnat_addr, dnat_port, snat elements
  firewalld) flush_key=FIREWD one_grant=2 ;; # forward-port, masquerade rules
esac
case "$backend" in
iptables)
  e2e_srv iptables -w -A INPUT -i lo -j ACCEPT
  e2e_srv iptables -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  e2e_srv iptables -w -A INPUT -p udp --dport "$PORT" -j ACCEPT
  e2e_srv iptables -w -A INPUT -p tcp -j REJECT
  e2e_srv iptables -w -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  e2e_srv iptables -w -A FORWARD -p tcp -j REJECT
  e2e_srv iptables -w -P INPUT DROP
  e2e_srv iptables -w -P FORWARD DROP
  ;;
nftables) # the admin's table, honouring the mark of the plugin's accepts
  e2e_srv nft -f - <<EOF || { echo "FAIL: gateway policy"; exit 1; }
table inet admin {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    udp dport $PORT accept
    meta mark & 0x5350 == 0x5350 accept
    meta l4proto tcp reject with tcp reset
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    meta mark & 0x5350 == 0x5350 accept
    meta l4proto tcp reject with tcp reset
  }
}
EOF
  ;;
firewalld) # firewalld's zones: outside public, inside internal
  e2e_firewalld_prepare "$E2E_TMPDIR/fwd" && chmod 755 "$E2E_TMPDIR" ||
    { echo "FAIL: firewalld files"; exit 1; }
  e2e_firewalld_start || { echo "FAIL: firewalld did not come up"; exit 1; }
  for z in "public:$E2E_NAT_GW_OUT4" "internal:$E2E_NAT_GW_IN4"; do
    e2e_srv "$E2E_FWD_CMD" --zone="${z%%:*}" --change-interface="$(e2e_srv ip -o addr show \
      to "${z#*:}" | awk '{ print $2; exit }')" >/dev/null || { echo "FAIL: zones"; exit 1; }
  done
  e2e_srv "$E2E_FWD_CMD" --zone=public --add-port="$PORT/udp" >/dev/null ||
    { echo "FAIL: knock port"; exit 1; }
  spad_env=(env DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS")
  ;;
esac
# what is left of the grants in the firewall
leftovers() {
  case "$backend" in
    iptables) e2e_srv iptables-save | grep -c -- '--comment _exp_' ;;
    nftables) e2e_srv nft list table inet spa | grep -c 'comment "spa-nat' ;;
    firewalld) for z in public internal; do e2e_srv "$E2E_FWD_CMD" --zone=$z --list-rich-rules
               done | grep -c 'source address="203\.0\.113\.' ;;
  esac
}

C=$E2E_NAT_CLI4 X=$E2E_NAT_CLI4_OTHER GW=$E2E_NAT_GW_OUT4 INT=$E2E_NAT_INT4
dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
cat >"$dir/access.conf" <<CONF
SOURCE ANY
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $TIMEOUT
CONF

write_conf() { # the server's configuration
  if [ "$mode" = spad ]; then
    cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE $backend
FLUSH_${flush_key}_AT_INIT N
CONF
    [ "$backend" = firewalld ] &&
      printf 'FIREWD_TRANSPORT dbus\nFIREWD_MASQ_ZONE internal\n' >>"$dir/fwknopd.conf"
  else
    cat >"$dir/fwknopd.conf" <<CONF
FWKNOP_RUN_DIR $dir/run
PCAP_INTF spa-gwo0
PCAP_FILTER udp port $PORT
ENABLE_PCAP_PROMISC N
FIREWALL_EXE $(command -v iptables)
CONF
  fi
  cat >>"$dir/fwknopd.conf" <<CONF
ENABLE_IPT_FORWARDING Y
ENABLE_IPT_LOCAL_NAT Y
CONF
  printf 'ENABLE_IPT_SNAT Y\n' >>"$dir/fwknopd.conf"
  [ "$backend" = firewalld ] ||
    printf 'SNAT_TRANSLATE_IP %s\n' "$E2E_NAT_GW_SNAT4" >>"$dir/fwknopd.conf"
  chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
}

server_pid=""
start_server() {
  local i
  : >"$dir/server.log"
  if [ "$mode" = spad ]; then
    e2e_spawn ip netns exec "$E2E_NS_SRV" "${spad_env[@]}" "$spad" -f -U -v -c "$dir/fwknopd.conf" \
      -a "$dir/access.conf" -r "$dir/run" >"$dir/server.log" 2>&1
  else
    e2e_spawn ip netns exec "$E2E_NS_SRV" "$fwknopd" -f -v -c "$dir/fwknopd.conf" \
      -a "$dir/access.conf" -d "$dir/run/digest.cache" -p "$dir/run/fwknopd.pid" \
      >"$dir/server.log" 2>&1
  fi
  server_pid=$E2E_LAST_PID
  for i in $(seq 1 "$E2E_WAIT_TENTHS"); do
    if [ "$mode" = spad ]; then
      e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && return 0
    else
      grep -q 'Starting fwknopd main event loop' "$dir/server.log" && return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: $mode did not start"
  tail -20 "$dir/server.log"
  return 1
}
stop_server() { e2e_kill_pid "$server_pid"; }

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
# knock ARGS...: -A and the NAT options; the allow IP is the granted one
knock() {
  local out rc
  if [ "$mode" = spad ]; then
    out=$(HOME=$dir e2e_cli "$client" --no-save-args -a "$C" -D "$GW" \
      --key-base64-rijndael "$key" --key-base64-hmac "$hmac" "$@" 2>&1)
  else
    out=$(e2e_cli "$client" --no-rc-file -a "$C" -D "$GW" \
      --key-base64-rijndael "$key" --key-base64-hmac "$hmac" "$@" 2>&1)
  fi
  rc=$?
  [ "$rc" -eq 0 ] || echo "knock $* failed ($rc): $out" >&2
  KNOCK_OUT=$out
  return "$rc"
}
# wait_open SRC DST PORT PEER: the state a knock leads to, on a deadline
wait_open() {
  local i want="$E2E_BANNER $4"
  for i in $(seq 1 "$WAIT_TENTHS"); do
    [ "$(e2e_nat_probe "$1" "$2" "$3")" = "$want" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_closed() {
  local i
  for i in $(seq 1 "$WAIT_TENTHS"); do
    [ -z "$(e2e_nat_probe "$1" "$2" "$3")" ] && return 0
    sleep 0.2
  done
  return 1
}

write_conf
start_server || exit 1

echo "== before the knocks"
e2e_expect_nat_blocked "$C" "$GW" 5555
e2e_expect_nat_blocked "$C" "$INT" 22

echo "== -N $INT:22 --nat-port 5555, --nat-local --nat-port 5556, -N --nat-rand-port"
t0=$(date +%s)
check knock -A tcp/22 -N "$INT:22" --nat-port 5555
check knock -A tcp/2222 --nat-local --nat-port 5556
check knock -A tcp/22 -N "$INT:22" --nat-rand-port
# "[+] Randomly assigned port '21126' for NAT access."
rport=$(grep -o -i "assigned port '[0-9]*'" <<<"$KNOCK_OUT" | grep -o '[0-9][0-9]*')
echo "random NAT port: ${rport:-none} ($KNOCK_OUT)"
check test -n "$rport"
# forwarded: SNAT to SNAT_TRANSLATE_IP (firewalld: masquerade); local: no
# translation
S=$E2E_NAT_GW_SNAT4
[ "$backend" = firewalld ] && S=$E2E_NAT_GW_IN4
check wait_open "$C" "$GW" 5555 "$S"
check wait_open "$C" "$GW" 5556 "$C"
[ -n "$rport" ] && check wait_open "$C" "$GW" "$rport" "$S"
e2e_expect_nat_blocked "$X" "$GW" 5555
e2e_expect_nat_blocked "$X" "$GW" 5556
[ "$backend" = iptables ] && { e2e_srv iptables-save | grep -- '--comment _exp_' || true; }

echo "== expiry closes every path"
check wait_closed "$C" "$GW" 5555
check wait_closed "$C" "$GW" 5556
[ -n "$rport" ] && check wait_closed "$C" "$GW" "$rport"
t1=$(date +%s)
echo "closed after $((t1 - t0)) s"
check test $((t1 - t0)) -ge $((TIMEOUT - 1))
check test "$(leftovers)" = 0

if [ "$mode" = spad ]; then
  echo "== kill -9 with a live NAT grant, restart: one set of rules, closed at expiry"
  check knock -A tcp/22 -N "$INT:22" --nat-port 5555
  check wait_open "$C" "$GW" 5555 "$S"
  t0=$(date +%s)
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null
  start_server || exit 1
  check wait_open "$C" "$GW" 5555 "$S"
  # FORWARD, DNAT and SNAT: the journal's grant again, not a second one;
  # without the start-up flush, the listing matched the journal (no
  # re-open, no removal of a rule no grant covers)
  sleep 1
  check test "$(leftovers)" = "$one_grant"
  check test "$(grep -c 'reconciled' "$dir/server.log")" = 0
  check wait_closed "$C" "$GW" 5555
  check test "$(leftovers)" = 0
  echo "closed $(($(date +%s) - t0)) s after the kill"
fi

live=5555
if [ "$backend" = iptables ]; then
  echo "== FORCE_NAT and FORCE_MASQUERADE: a plain knock is forwarded and masqueraded"
  stop_server
  printf 'FORCE_NAT %s 22\nFORCE_MASQUERADE Y\n' "$INT" >>"$dir/access.conf"
  start_server || exit 1
  check knock -A tcp/22
  check wait_open "$C" "$GW" 22 "$E2E_NAT_GW_IN4"
  e2e_expect_nat_blocked "$X" "$GW" 22
  live=22
else
  check knock -A tcp/22 -N "$INT:22" --nat-port 5555
  check wait_open "$C" "$GW" 5555 "$S"
fi

echo "== a clean stop closes a live grant's every rule"
stop_server
check test "$(leftovers)" = 0
e2e_expect_nat_blocked "$C" "$GW" "$live"

[ "$E2E_FAILS" = 0 ] || tail -30 "$dir/server.log"
e2e_finish
