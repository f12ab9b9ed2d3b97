#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: a guided Single Packet Authorization cycle on this machine,
# entirely inside two throwaway network namespaces (the host firewall is
# never touched):
#   tcp/22 filtered -> spa-client knock -> open from the knocking address
#   only -> grant expires -> filtered again.
# Usage: scripts/demo.sh <build-dir>     (as root, after `make build`)
# SPA_DEMO_FIREWALL=iptables selects the iptables plugin instead of nftables.
set -u

build=${1:-build}
backend=${SPA_DEMO_FIREWALL:-nftables}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$root/$build" ;; esac

die() { printf '\ndemo: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  die "must run as root: it creates network namespaces and firewall rules inside them (try: sudo make demo)"
fi

spad="$build/engine/spad"
client="$build/client/spa-client"
plugins="$build/plugins"
[ -x "$spad" ] || die "$spad not found: run 'make build' first"
[ -x "$client" ] || die "$client not found: run 'make build' first"
case "$backend" in
  nftables) need=(nft) ;;
  iptables) need=(iptables iptables-save iptables-restore ip6tables-save ip6tables-restore) ;;
  *) die "SPA_DEMO_FIREWALL must be nftables or iptables, not '$backend'" ;;
esac
[ -f "$plugins/$backend.so" ] || die "$plugins/$backend.so not built"
for t in ip socat ss timeout "${need[@]}"; do
  command -v "$t" >/dev/null 2>&1 || die "$t is not installed (run scripts/install-deps.sh)"
done

# The namespace, veth, listener and probe helpers of the end-to-end tests.
. "$root/tests/e2e/netns.sh"
# Separate names from a concurrently running test suite.
E2E_NS_SRV="spa-demo-srv-$$"
E2E_NS_CLI="spa-demo-cli-$$"
E2E_CONNECT_TIMEOUT=1

TIMEOUT=5
SPA_PORT=62201
STEP=0

step() {
  STEP=$((STEP + 1))
  printf '\n\033[1m==== Step %d: %s\033[0m\n' "$STEP" "$*"
}
show() { printf '  $ %s\n' "$*"; }
say() { printf '  %s\n' "$*"; }
# probe <src> <expect open|blocked>: prints the result; a surprise aborts.
probe() {
  local src=$1 want=$2 got
  if tcp_connect_ok "$src" "$E2E_SRV4" 22; then got=open; else got=blocked; fi
  if [ "$got" = open ]; then
    say "connect $src -> $E2E_SRV4:22 ... OPEN (got the listener's banner)"
  else
    say "connect $src -> $E2E_SRV4:22 ... FILTERED (no answer within ${E2E_CONNECT_TIMEOUT}s)"
  fi
  [ "$got" = "$want" ] || die "expected $want from $src, got $got"
}

if ! ip netns add "spa-demo-probe-$$" 2>/dev/null; then
  die "cannot create network namespaces here (no CAP_SYS_ADMIN or no netns support)"
fi
ip netns del "spa-demo-probe-$$"

t_start=$(date +%s)
step "two network namespaces joined by a veth pair"
e2e_setup || die "namespace setup failed"
say "server namespace $E2E_NS_SRV: $E2E_SRV4"
say "client namespace $E2E_NS_CLI: $E2E_CLI4 (will knock) and $E2E_CLI4_OTHER (will not)"
say "cleanup on exit removes both namespaces and every process started here"

step "a listener stands in for sshd on tcp/22, behind a default-drop policy"
e2e_start_listener 22 || die "listener did not start"
if [ "$backend" = nftables ]; then
  # The admin's own table drops tcp/22; the plugin's table marks what it
  # accepts and the admin's one reference rule lets marked packets through.
  e2e_policy_nftables 22 0x5350 || die "nftables policy"
  e2e_srv nft list table inet "$E2E_NFT_POLICY_TABLE" | sed 's/^/  | /'
else
  e2e_policy_iptables "$SPA_PORT" || die "iptables policy"
  e2e_srv iptables -S INPUT | sed 's/^/  | /'
fi
probe "$E2E_CLI4" blocked

step "keys: spa-client --key-gen"
show "spa-client --key-gen"
keys=$("$client" --key-gen) || die "spa-client --key-gen failed"
key=$(sed -n 's/^KEY_BASE64:[[:space:]]*//p' <<<"$keys")
hmac=$(sed -n 's/^HMAC_KEY_BASE64:[[:space:]]*//p' <<<"$keys")
[ -n "$key" ] && [ -n "$hmac" ] || die "could not read the keys from: $keys"
say "KEY_BASE64:      ${key:0:12}...  (shared by client and server)"
say "HMAC_KEY_BASE64: ${hmac:0:12}..."

step "spad in the server namespace with the $backend plugin"
dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $SPA_PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugins
FIREWALL_TYPE $backend
CONF
cat >"$dir/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $TIMEOUT
CONF
chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
say "fwknopd.conf:"; sed 's/^/  | /' "$dir/fwknopd.conf"
say "access.conf:";  sed -e 's/\(KEY_BASE64 \).*/\1.../' -e 's/^/  | /' "$dir/access.conf"
show "spad -f -U -c fwknopd.conf -a access.conf"
e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -U -c "$dir/fwknopd.conf" \
  -a "$dir/access.conf" -r "$dir/run" 2>"$dir/spad.log"
spad_pid=$E2E_LAST_PID
for _ in $(seq 1 50); do
  e2e_srv ss -Hlun "sport = :$SPA_PORT" | grep -q . && break
  kill -0 "$spad_pid" 2>/dev/null || break
  sleep 0.1
done
e2e_srv ss -Hlun "sport = :$SPA_PORT" | grep -q . ||
  { cat "$dir/spad.log" >&2; die "spad did not start"; }
say "spad (pid $spad_pid) listens on udp/$SPA_PORT; tcp/22 is still filtered:"
probe "$E2E_CLI4" blocked

step "knock from $E2E_CLI4 with spa-client"
show "spa-client -A tcp/22 -a $E2E_CLI4 -D $E2E_SRV4 --key-base64-rijndael <key> --key-base64-hmac <hmac>"
e2e_cli "$client" --no-rc-file -A tcp/22 -a "$E2E_CLI4" -D "$E2E_SRV4" \
  --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >"$dir/client.log" 2>&1 ||
  { cat "$dir/client.log" >&2; die "spa-client failed"; }
t_knock=$(date +%s)
say "one encrypted, HMAC-signed UDP packet sent; spad verified it and asked the plugin to open"
sleep 0.3

step "tcp/22 is open from $E2E_CLI4 only"
probe "$E2E_CLI4" open
probe "$E2E_CLI4_OTHER" blocked
say "what the firewall holds now:"
if [ "$backend" = nftables ]; then
  e2e_srv nft list set inet spa allow4 | grep -E 'elements|timeout [0-9]' | sed 's/^/  | /'
else
  e2e_srv iptables-save | grep -- '-A FWKNOP_INPUT' | sed 's/^/  | /'
fi

step "wait for the grant to expire (FW_ACCESS_TIMEOUT $TIMEOUT)"
left=$(( t_knock + TIMEOUT + 1 - $(date +%s) ))
if [ "$left" -gt 0 ]; then
  say "sleeping ${left}s..."
  sleep "$left"
fi
probe "$E2E_CLI4" blocked
say "spad's log of this cycle:"
grep -Ei 'open|clos|expir|grant' "$dir/spad.log" | sed 's/^/  | /' | tail -n 6

step "clean up"
say "stopping spad, deleting both namespaces (done by the EXIT trap)"
printf '\nDemo finished in %d s: filtered -> knock -> open for %s only -> expired -> filtered.\n' \
  "$(( $(date +%s) - t_start ))" "$E2E_CLI4"
exit 0
