#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Full cycle with the real daemon and a firewall plugin, inside network
# namespaces: tcp/22 filtered -> SPA knock from 198.51.100.2 -> open from
# .2 only -> closed again after FW_ACCESS_TIMEOUT; then the same after a
# kill -9 of spad with a live grant (the hole must not outlive its expiry).
# Usage: test_spad_cycle.sh <iptables|nftables|ipset|firewalld> <spad> <plugin-dir> [spa-client]
# Without spa-client, Debian's fwknop client (wire-compatible) knocks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

backend=${1:?backend}
spad=${2:?spad binary}
plugin_dir=${3:?plugin directory}
client=${4:-}

e2e_require_root
e2e_require_tools socat ss timeout base64
case "$backend" in
  iptables) e2e_require_tools iptables-save iptables-restore ip6tables-save ip6tables-restore ;;
  nftables) e2e_require_tools nft ;;
  ipset) e2e_require_tools ipset iptables ip6tables ;;
  firewalld) e2e_require_tools dbus-daemon firewalld firewall-cmd ;;
  *) echo "FAIL: unknown backend $backend"; exit 1 ;;
esac
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
[ -f "$plugin_dir/$backend.so" ] || e2e_skip "$backend plugin not built"
if [ -z "$client" ] || [ ! -x "$client" ]; then
  client=$(command -v fwknop) || e2e_skip "neither spa-client nor fwknop available"
fi

# Short connect timeout: a blocked probe costs its whole timeout. The grant
# lives long enough for a re-knock, --fw-list and a probe to happen while it
# is open on a loaded machine (ASan, firewall-cmd); a state the test waits
# for gets WAIT tenths of a second, a grant that must close gets its
# timeout + MARGIN s (and must close by then). firewalld is slower: every
# change and every look is a firewall-cmd (Python, over D-Bus), seconds
# each on a loaded machine.
E2E_CONNECT_TIMEOUT=1
TIMEOUT=10
MARGIN=10
if [ "$backend" = firewalld ]; then
  TIMEOUT=20
  MARGIN=20
fi
WAIT=300
CLOSE_WAIT=$(( (TIMEOUT + MARGIN) * 10 ))
PORT=62201

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
# iptables: the admin's INPUT policy drops, our chain's jump opens holes.
# nftables: standalone mode, our own table drops tcp/22 (NFT_PROTECT_PORTS).
# ipset: the same iptables policy plus the documented consuming rules.
if [ "$backend" = iptables ] || [ "$backend" = ipset ]; then
  e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }
fi

dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
# firewalld: a real daemon on a private system bus in the server namespace,
# with a dedicated zone "spa" on the server interface (rejects all but the
# knock port). The cycle runs on the D-Bus transport: spad's own sd-bus
# connection finds the private bus through DBUS_SYSTEM_BUS_ADDRESS in its
# environment (spad_env). spad runs commands with an empty environment, so
# FIREWD_EXE, for the exec transport of the faults below, is a test-only
# wrapper that names the private bus.
fwcmd="$dir/fwd/firewall-cmd"
spad_env=()
if [ "$backend" = firewalld ]; then
  e2e_firewalld_prepare "$dir/fwd" || { echo "FAIL: firewalld files"; exit 1; }
  printf '<?xml version="1.0" encoding="utf-8"?>\n<zone><short>spa</short><interface name="%s"/><port port="%s" protocol="udp"/></zone>\n' \
    "$E2E_IF_SRV" "$PORT" >"$E2E_FWD_DIR/etc/zones/spa.xml"
  e2e_firewalld_start || { echo "FAIL: firewalld did not come up"; exit 1; }
  [ "$(e2e_srv "$fwcmd" --get-zone-of-interface="$E2E_IF_SRV" 2>/dev/null)" = spa ] ||
    { echo "FAIL: firewalld not up with zone spa"; tail -20 "$dir/fwd/firewalld.log"; exit 1; }
  spad_env=(env DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS")
fi
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE $backend
NFT_PROTECT_PORTS tcp/22
FIREWD_EXE $fwcmd
FIREWD_ZONE spa
FIREWD_TRANSPORT dbus
CONF
[ "$backend" = nftables ] || sed -i '/^NFT_/d' "$dir/fwknopd.conf"
[ "$backend" = firewalld ] || sed -i '/^FIREWD_/d' "$dir/fwknopd.conf"
cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $TIMEOUT
CONF
chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
rules() { # [4|6]: grants the firewall holds right now
  local fam=${1:-4} save=iptables-save
  [ "$fam" = 6 ] && save=ip6tables-save
  if [ "$backend" = iptables ]; then
    e2e_srv "$save" | grep -c -- '^-A FWKNOP_INPUT '
  elif [ "$backend" = ipset ]; then
    e2e_srv ipset save "spa$fam" | grep -c '^add '
  elif [ "$backend" = firewalld ]; then
    e2e_srv "$fwcmd" --zone=spa --list-rich-rules | grep -c "^rule family=\"ipv$fam\" "
  else
    e2e_srv nft -j list set inet spa "allow$fam" | grep -o '"val"' | wc -l
  fi
}

spad_pid=""
start_spad() {
  e2e_spawn ip netns exec "$E2E_NS_SRV" "${spad_env[@]}" "$spad" -f -U -v -c "$dir/fwknopd.conf" \
    -a "$dir/access.conf" -r "$dir/run"
  spad_pid=$E2E_LAST_PID
  local end=$((SECONDS + WAIT / 10))
  while [ "$SECONDS" -le "$end" ]; do
    e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && return 0
    kill -0 "$spad_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: spad did not start"
  return 1
}
stop_spad() { # graceful: spad closes its grants, then fini
  e2e_kill_pid "$spad_pid"
}
spad_admin() { # --fw-list / --fw-flush, a second process beside the daemon
  e2e_srv "${spad_env[@]}" "$spad" "$1" -c "$dir/fwknopd.conf" -a "$dir/access.conf" -r "$dir/run" 2>&1
}
knock() { # <allow-ip> | -6 (over IPv6, the packet's source is granted)
  local rc
  if [ "$1" = -6 ]; then
    e2e_cli "$client" --no-rc-file -A tcp/22 -s -D "$E2E_SRV6" \
      --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || echo "knock failed: $rc"
    return "$rc"
  fi
  case "$client" in
    */fwknop)
      HOME=$dir e2e_cli "$client" --no-save-args -A tcp/22 -a "$1" -D "$E2E_SRV4" \
        --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1 ;;
    *)
      e2e_cli "$client" --no-rc-file -A tcp/22 -a "$1" -D "$E2E_SRV4" \
        --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >/dev/null 2>&1 ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] || echo "knock failed: $rc"
  return "$rc"
}
wait_rules() { # <count> <max-tenths> [4|6]: a deadline, not a number of
  # polls (one poll can take a second under load: firewall-cmd, ASan)
  local end=$(( $(date +%s%N) / 100000000 + $2 ))
  while :; do
    [ "$(rules "${3:-4}")" = "$1" ] && return 0
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || return 1
    sleep 0.1
  done
}

start_spad || exit 1
if [ "$backend" = ipset ]; then # the sets exist once the plugin ran init
  e2e_srv iptables -w -I INPUT 1 -m set --match-set spa4 src,dst -j ACCEPT
  e2e_srv ip6tables -w -I INPUT 1 -m set --match-set spa6 src,dst -j ACCEPT
fi
echo "== before the knock"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== knock for $E2E_CLI4 (client: $client)"
t0=$(date +%s)
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
[ "$backend" = iptables ] && e2e_srv iptables-save | grep -- '-A FWKNOP_INPUT'
has_rule() { e2e_srv iptables-save | grep -q -- "$1"; }
[ "$backend" = iptables ] && check has_rule "^-A FWKNOP_INPUT -s $E2E_CLI4/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_[0-9]* -j ACCEPT\$"

echo "== expiry"
check wait_rules 0 "$CLOSE_WAIT"
t1=$(date +%s)
echo "closed after $((t1 - t0)) s"
check test $((t1 - t0)) -ge $((TIMEOUT - 1))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== a re-knock refreshes without a second rule"
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
sleep 1
check knock "$E2E_CLI4"
# a refresh may replace the rule (firewalld: remove, add): wait for one
# rule again, well before the refreshed grant could expire
sleep 2
check wait_rules 1 $(( (TIMEOUT - 3) * 10 ))

echo "== --fw-list beside the daemon shows the grant and changes nothing"
listed=$(spad_admin --fw-list)
echo "$listed"
check grep -q "$E2E_CLI4" <<<"$listed"
check test "$(rules)" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== --fw-flush removes it"
check spad_admin --fw-flush
check test "$(rules)" = 0
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
sleep "$TIMEOUT" # let the daemon's timer for that grant run out

if [ "${client##*/}" = fwknop ]; then
  echo "SKIP: IPv6 knock (checked with spa-client only)"
else
  echo "== IPv6: knock from $E2E_CLI6"
  check knock -6
  check wait_rules 1 "$WAIT" 6
  e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
  e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22
  check wait_rules 0 "$CLOSE_WAIT" 6
  e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22
fi

echo "== kill -9 with a live grant, restart"
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
t0=$(date +%s)
kill -KILL "$spad_pid"
wait "$spad_pid" 2>/dev/null
start_spad || exit 1
check wait_rules 0 "$CLOSE_WAIT"
t1=$(date +%s)
check test $((t1 - t0)) -le $((TIMEOUT + MARGIN))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== clean stop removes our grants, keeps the drop policy"
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
stop_spad
check test "$(rules)" = 0
if [ "$backend" = iptables ]; then
  check test "$(e2e_srv iptables-save | grep -c -- '-j FWKNOP_INPUT')" -le 1
  check test "$(e2e_srv iptables-save | grep -c -- "--dport $PORT -j ACCEPT")" = 1
fi
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

. "$here/spad_cycle_faults.sh"

e2e_finish
