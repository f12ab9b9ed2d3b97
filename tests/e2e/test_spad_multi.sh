#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One spad, three plugins at once, in network namespaces: the global
# FIREWALL_TYPE iptables, a stanza with FIREWALL_TYPE nftables, and a stanza
# whose CMD_CYCLE_OPEN/CLOSE commands replace the firewall rules (cmdcycle).
# Each knock (its own key, so its own stanza) must open its own backend's
# grant and nothing in the others, and each grant must close on time.
# Then cmdcycle's faults: a grant opened before reloads (same files, then a
# stanza inserted above it) closes on time with its own close command, and
# a close command that fails is retried until it succeeds.
# Usage: test_spad_multi.sh <spad> <plugin-dir> [spa-client]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}
client=${3:-}

e2e_require_root
e2e_require_tools socat ss timeout base64 nft iptables-save iptables-restore
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
for p in iptables nftables cmdcycle; do
  [ -f "$plugin_dir/$p.so" ] || e2e_skip "$p plugin not built"
done
if [ -z "$client" ] || [ ! -x "$client" ]; then
  client=$(command -v fwknop) || e2e_skip "neither spa-client nor fwknop available"
fi

TIMEOUT=10
PORT=62201
WAIT=300
CLOSE_WAIT=$(( (TIMEOUT + 10) * 10 ))

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }
dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run" "$dir/cc"

# cmdcycle's commands: marker files, and a close that fails while $flag
# exists (a backend that refuses to close)
flag="$dir/cc-down"
cat >"$dir/cc-close" <<EOF
#!/bin/sh
[ -e "$flag" ] && { echo "injected failure" >&2; exit 1; }
exec /bin/rm -f "\$1"
EOF
chmod 700 "$dir/cc-close"

for s in ipt nft cc; do
  eval "key_$s=\$(head -c 32 /dev/urandom | base64 -w0)"
  eval "hmac_$s=\$(head -c 64 /dev/urandom | base64 -w0)"
done
cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE iptables
CONF
write_access() { # [stanza above the others]
  {
    # $(...) strips trailing newlines: end the stanza here
    [ -n "${1:-}" ] && printf '%s\n\n' "$1"
    cat <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key_ipt
HMAC_KEY_BASE64 $hmac_ipt
FW_ACCESS_TIMEOUT $TIMEOUT

SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key_nft
HMAC_KEY_BASE64 $hmac_nft
FW_ACCESS_TIMEOUT $TIMEOUT
FIREWALL_TYPE nftables

SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key_cc
HMAC_KEY_BASE64 $hmac_cc
FIREWALL_TYPE cmdcycle
CMD_CYCLE_OPEN /usr/bin/touch $dir/cc/\$SRC-\$PORT
CMD_CYCLE_CLOSE $dir/cc-close $dir/cc/\$SRC-\$PORT
CMD_CYCLE_TIMER $TIMEOUT
CONF
  } >"$dir/access.conf"
  chmod 600 "$dir/access.conf"
}
write_access
chmod 600 "$dir/fwknopd.conf"

check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
count_ipt() { e2e_srv iptables-save | grep -c -- '^-A FWKNOP_INPUT ' || true; }
count_nft() { e2e_srv nft -j list set inet spa allow4 2>/dev/null | grep -o '"val"' | wc -l; }
count_cc() { find "$dir/cc" -type f | wc -l; }
counts() { echo "$(count_ipt) $(count_nft) $(count_cc)"; }
wait_counts() { # <"ipt nft cc"> <tenths>
  local end=$(( $(date +%s%N) / 100000000 + $2 ))
  while [ "$(counts)" != "$1" ]; do
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || { echo "counts: $(counts)"; return 1; }
    sleep 0.1
  done
}
log="$dir/spad.log"
log_count() { grep -c -- "$1" "$log" 2>/dev/null || true; }
wait_log() { # <text> <count> <tenths>
  local end=$(( $(date +%s%N) / 100000000 + $3 ))
  while [ "$(log_count "$1")" -lt "$2" ]; do
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || return 1
    sleep 0.1
  done
}

spad_pid=""
start_spad() {
  e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -U -v -c "$dir/fwknopd.conf" \
    -a "$dir/access.conf" -r "$dir/run" > >(tee -a "$log") 2>&1
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
reload() {
  local before
  before=$(log_count "configuration reloaded")
  kill -HUP "$spad_pid"
  wait_log "configuration reloaded" $((before + 1)) "$WAIT"
}
knock() { # <ipt|nft|cc>
  local k h rc
  eval "k=\$key_$1; h=\$hmac_$1"
  case "$client" in
    */fwknop)
      HOME=$dir e2e_cli "$client" --no-save-args -A tcp/22 -a "$E2E_CLI4" -D "$E2E_SRV4" \
        --key-base64-rijndael "$k" --key-base64-hmac "$h" >/dev/null 2>&1 ;;
    *)
      e2e_cli "$client" --no-rc-file -A tcp/22 -a "$E2E_CLI4" -D "$E2E_SRV4" \
        --key-base64-rijndael "$k" --key-base64-hmac "$h" >/dev/null 2>&1 ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] || echo "knock failed: $rc"
  return "$rc"
}

start_spad || exit 1
echo "== each knock opens its own backend's grant only"
check test "$(counts)" = "0 0 0"
check knock ipt
check wait_counts "1 0 0" "$WAIT"
check knock nft
check wait_counts "1 1 0" "$WAIT"
check knock cc
check wait_counts "1 1 1" "$WAIT"
check test -f "$dir/cc/$E2E_CLI4-22"
echo "== and each closes on time"
check wait_counts "0 0 0" "$CLOSE_WAIT"
check test "$(log_count "closed (expired)")" = 3

echo "== cmdcycle: a grant opened before reloads closes with its own command"
check knock cc
check wait_counts "0 0 1" "$WAIT"
t0=$(date +%s)
check reload
write_access "$(printf 'SOURCE 203.0.113.0/24\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFIREWALL_TYPE cmdcycle\nCMD_CYCLE_OPEN /usr/bin/touch %s/cc/other\nCMD_CYCLE_CLOSE NONE\n\n' \
  "$key_nft" "$hmac_nft" "$dir")"
check reload
check wait_counts "0 0 0" "$CLOSE_WAIT"
t1=$(date +%s)
check test $((t1 - t0)) -le $((TIMEOUT + 10))
check test ! -e "$dir/cc/other"

echo "== cmdcycle: a failing close command is retried until it succeeds"
check knock cc
check wait_counts "0 0 1" "$WAIT"
touch "$flag"
check wait_log "failed to close $E2E_CLI4 tcp/22" 2 "$CLOSE_WAIT"
check test "$(count_cc)" = 1
rm -f "$flag"
check wait_counts "0 0 0" "$CLOSE_WAIT"
check wait_log "closed (retry)" 1 50

e2e_kill_pid "$spad_pid"
e2e_finish
