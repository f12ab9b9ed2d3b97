#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ENABLE_NAT_DNS under resolver faults (engine/spa_daemon_natdns.c, spad(8)
# NAT AND FORWARDING), in netns.sh's NAT namespaces: the gateway's
# /etc/resolv.conf (e2e_netns_etc) names a nameserver of the test's own on
# the gateway's loopback, which answers an A record for one name and never
# answers the others; its /etc/hosts holds none of them. spa-client knocks
# with -N NAME:22 --nat-port 5555.
#   1. the name it answers: the knock is granted with the answered address,
#      in the log and the DNAT rule, and the forward reaches the internal
#      host;
#   2. names it never answers, 18 knocks at once: 16 names are resolved,
#      the two knocks beyond are refused at once ("16 names are being
#      resolved already"), each of the 16 with "no answer within 5 s", the
#      first 4 to 15 s after the knocks were sent; a plain knock sent
#      meanwhile is granted before that (the loop never waits);
#   3. a name spad gave up on still counts while the resolver waits for it
#      (its thread, spad-natdns, lives until then): one more knock is
#      refused the same way; then every such thread ends;
#   4. a reload (SIGHUP) while a name is resolved: that knock is refused
#      with "reloaded while it was resolved", and the new configuration
#      (ENABLE_NAT_DNS N) is in force: a name is refused as a name; a stop
#      while the resolver still waits for that name is a clean exit.
# Usage: test_nat_dns_faults.sh <spad> <plugin-dir> <spa-client>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

spad=${1:?spad binary}
plugin_dir=${2:?plugin directory}
client=${3:?spa-client binary}
[ -x "$spad" ] || e2e_skip "spad not built ($spad)"
[ -x "$client" ] || e2e_skip "spa-client not built ($client)"
[ -f "$plugin_dir/iptables.so" ] || e2e_skip "iptables plugin not built"
e2e_require_root
e2e_require_tools socat ss timeout base64 iptables-save python3
e2e_setup_nat || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_peer_listener "$E2E_NS_INT" 22 || { echo "FAIL: internal listener"; exit 1; }

PORT=62201
NAME=internal.spa-test.invalid   # answered with the internal host's address
HANG=hang                        # $HANG<n>.spa-test.invalid: never answered
C=$E2E_NAT_CLI4 GW=$E2E_NAT_GW_OUT4 INT=$E2E_NAT_INT4
dir=$E2E_TMPDIR
mkdir -m 700 "$dir/run"

# The resolver gives up after 12 s, later than spad (5 s): the knock's
# refusal is spad's timeout, never the resolver's own.
e2e_netns_etc "$E2E_NS_SRV" resolv.conf $'nameserver 127.0.0.1\noptions timeout:12 attempts:1'
e2e_netns_etc "$E2E_NS_SRV" hosts '127.0.0.1 localhost'
e2e_netns_etc "$E2E_NS_SRV" nsswitch.conf 'hosts: files dns'
cat >"$dir/dns.py" <<'PY'
# A UDP nameserver: A records for argv[1] (argv[2]), NODATA for its other
# types, silence for every other name; each question logged to argv[3].
import socket, sys
name, addr = sys.argv[1].lower(), socket.inet_aton(sys.argv[2])
log = open(sys.argv[3], "a", buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    q, peer = s.recvfrom(512)
    labels, i = [], 12
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qname, qtype = ".".join(labels).lower(), int.from_bytes(q[i + 1:i + 3], "big")
    log.write(f"{qname} {qtype}\n")
    if qname != name or i + 5 > len(q):
        continue
    an = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + addr if qtype == 1 else b""
    s.sendto(q[:2] + b"\x81\x80\x00\x01" + (1 if an else 0).to_bytes(2, "big") +
             b"\x00\x00\x00\x00" + q[12:i + 5] + an, peer)
PY
: >"$dir/dns.log"
e2e_spawn ip netns exec "$E2E_NS_SRV" python3 -u "$dir/dns.py" "$NAME" "$INT" "$dir/dns.log"
for _ in $(seq 1 "$E2E_WAIT_TENTHS"); do
  e2e_srv ss -Hlun 'sport = :53' | grep -q . && break
  sleep 0.1
done
e2e_srv ss -Hlun 'sport = :53' | grep -q . || { echo "FAIL: the test's nameserver did not start"; exit 1; }

key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
printf 'SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 30\n' \
  "$key" "$hmac" >"$dir/access.conf"
write_conf() { # ENABLE_NAT_DNS Y|N
  cat >"$dir/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $dir/run
PLUGIN_DIR $plugin_dir
FIREWALL_TYPE iptables
ENABLE_IPT_FORWARDING Y
ENABLE_NAT_DNS $1
CONF
  chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
}
write_conf Y
: >"$dir/spad.log"
e2e_spawn ip netns exec "$E2E_NS_SRV" "$spad" -f -U -v -c "$dir/fwknopd.conf" -a "$dir/access.conf" -r "$dir/run" \
  >"$dir/spad.log" 2>&1
spad_pid=$E2E_LAST_PID
for _ in $(seq 1 "$E2E_WAIT_TENTHS"); do
  e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && break
  sleep 0.1
done

# knock [ARGS...]: a knock for tcp/22 from C, with the NAT options given
knock() {
  e2e_cli "$client" --no-rc-file -A tcp/22 -a "$C" -D "$GW" \
    --key-base64-rijndael "$key" --key-base64-hmac "$hmac" "$@" >/dev/null 2>&1
}
# seen N PATTERN: the spad log has N lines matching PATTERN (grep -E)
seen() { [ "$(grep -cE -- "$2" "$dir/spad.log")" -ge "$1" ]; }
# wait_seen N PATTERN: seen, within 20 s
wait_seen() {
  local _
  for _ in $(seq 1 200); do
    seen "$@" && return 0
    sleep 0.1
  done
  return 1
}
# line_of PATTERN: the spad log's line number of PATTERN's first match
line_of() { grep -nE -m1 -- "$1" "$dir/spad.log" | cut -d: -f1; }
now_ms() { date +%s%3N; }
# threads: how many lookup threads spad runs (named spad-natdns)
threads() { cat /proc/"$spad_pid"/task/*/comm 2>/dev/null | grep -cx spad-natdns; }
# wait_threads: none, within 20 s
wait_threads() {
  local _
  for _ in $(seq 1 200); do
    [ "$(threads)" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

echo "== 1. a name the nameserver answers: granted with its address"
e2e_check knock -N "$NAME:22" --nat-port 5555
e2e_check wait_seen 1 "decision=grant .*tcp/5555 for $C, .*nat=forward to=$INT,22\""
e2e_expect_nat_open "$C" "$GW" 5555 "$C"
e2e_check test "$(e2e_srv iptables-save -t nat | grep -c -- "--to-destination $INT:22")" -ge 1

echo "== 2, 3. 18 names never answered at once: 16 resolved, refused at 5 s; the loop serves meanwhile"
t0=$(now_ms)
pids=()
for n in $(seq 0 17); do
  knock -N "$HANG$n.spa-test.invalid:22" --nat-port $((5556 + n)) &
  pids+=($!)
done
# when the first refusal for no answer comes
( wait_seen 1 "not resolved: no answer within 5 s" && now_ms >"$dir/t_first" ) &
watcher=$!
# a plain knock as soon as the resolver has been asked for a name
for _ in $(seq 1 100); do
  grep -q "^$HANG" "$dir/dns.log" && break
  sleep 0.05
done
tp=$(now_ms)
e2e_check knock
e2e_check wait_seen 2 "decision=grant "
tg=$(now_ms)
unsent=0
for p in "${pids[@]}"; do wait "$p" || unsent=$((unsent + 1)); done
e2e_check test "$unsent" = 0   # every one of the 18 knocks was sent
e2e_check wait_seen 2 "16 names are being resolved already; knock refused"
e2e_check wait "$watcher"
t1=$(cat "$dir/t_first" 2>/dev/null || echo 0)
echo "plain knock granted $((tg - tp)) ms after it was sent; first name refused $((t1 - t0)) ms after the knocks"
e2e_check test $((t1 - t0)) -ge 4000
e2e_check test $((t1 - t0)) -le 15000
# the name given up on still counts while the resolver waits for it (12 s):
# its thread lives, and one more knock is refused
e2e_check test "$(threads)" = 16
e2e_check knock -N "${HANG}50.spa-test.invalid:22" --nat-port 5590
e2e_check wait_seen 1 "'${HANG}50\.spa-test\.invalid': 16 names are being resolved already"
e2e_check wait_seen 16 "not resolved: no answer within 5 s"
# the plain knock was granted, and the two knocks beyond the 16 refused,
# before any name timed out
first_timeout=$(line_of "no answer within 5 s")
e2e_check test "$(line_of "decision=grant .*tcp/22 for $C, 30 s, opened\"$")" -lt "$first_timeout"
e2e_check test "$(grep -nE "'${HANG}([0-9]|1[0-7])\.spa-test\.invalid': 16 names are being resolved" \
  "$dir/spad.log" | tail -1 | cut -d: -f1)" -lt "$first_timeout"
sleep 0.5
e2e_check test "$(grep -c "names are being resolved already" "$dir/spad.log")" = 3
e2e_check test "$(grep -c "no answer within 5 s" "$dir/spad.log")" = 16
# and every lookup's thread ends when the resolver gives up
e2e_check wait_threads
echo "no lookup thread left $(($(now_ms) - t0)) ms after the knocks"
# the faults were real: the nameserver was asked for the names
# for the 16 it resolved, never for the two it refused
e2e_check test "$(grep -E "^${HANG}[0-9]+\.spa-test\.invalid 1$" "$dir/dns.log" | sort -u | wc -l)" = 16

echo "== 4. a reload while a name is resolved"
write_conf N
t0=$(now_ms)
e2e_check knock -N "${HANG}99.spa-test.invalid:22" --nat-port 5600
for _ in $(seq 1 100); do
  grep -q "^${HANG}99\.spa-test\.invalid 1$" "$dir/dns.log" && break
  sleep 0.1
done
kill -HUP "$spad_pid"
e2e_check wait_seen 1 "configuration reloaded"
e2e_check wait_seen 1 "'${HANG}99\.spa-test\.invalid': the configuration was reloaded while it was resolved"
echo "refused after $(($(now_ms) - t0)) ms"
e2e_check knock -N "$NAME:22" --nat-port 5601
e2e_check wait_seen 1 "'$NAME' is a name and ENABLE_NAT_DNS is N"
e2e_check test "$(grep -c "no answer within 5 s" "$dir/spad.log")" = 16
e2e_check kill -0 "$spad_pid"

echo "== a stop while the resolver still waits for ${HANG}99: a clean exit"
kill -TERM "$spad_pid"
wait "$spad_pid"
e2e_check test "$?" = 0
e2e_check test "$(grep -cE "Sanitizer|runtime error" "$dir/spad.log")" = 0

[ "$E2E_FAILS" = 0 ] || { tail -40 "$dir/spad.log"; cat "$dir/dns.log"; }
e2e_finish
