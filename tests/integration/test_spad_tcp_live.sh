#!/bin/sh
# SPDX-License-Identifier: MIT
# SPA over TCP and HTTP in capture mode, as fwknopd does it: spad captures
# live on a veth pair between two network namespaces this script creates,
# its TCP server (ENABLE_TCP_SERVER) only accepts, and the capture reads
# the knocks of Debian's fwknop client and of spa-client, -P tcp and -P http.
# Then a reload moves the TCP server to another port.
# Usage: test_spad_tcp_live.sh SPAD PLUGIN_DIR SPA_CLIENT
set -u
SPAD=$1
PLUGINS=$2
SPA_CLIENT=$3
KEY=dGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGVzLi4uLi4=
HMAC=dGVzdC1obWFjLWtleS1mb3ItdGhlLWludGVncmF0aW9uLXRlc3Qtb2Ytc3BhZC1vaw==
NS_S=spa-tcp-srv-$$
NS_C=spa-tcp-cli-$$

skip() { echo "SKIP: $1"; exit 77; }
fail() { echo "FAIL: $1"; echo "--- spad log:"; cat "$DIR/log"; echo "--- calls:"; cat "$DIR/calls" 2>/dev/null; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
FWKNOP=$(command -v fwknop) || FWKNOP=
[ -n "$FWKNOP" ] || echo "SKIP: no fwknop client (its knocks are left out)"

DIR=$(mktemp -d /tmp/spa-tcplive-XXXXXX)
SPID=
cleanup() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

ip netns add "$NS_S" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$NS_C" || fail "netns add"
ip -n "$NS_S" link add spa0 type veth peer name spa1 netns "$NS_C" || fail "veth"
ip -n "$NS_S" addr add 198.51.100.1/24 dev spa0
ip -n "$NS_C" addr add 198.51.100.2/24 dev spa1
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set spa0 up
ip -n "$NS_C" link set spa1 up

cat >"$DIR/fwknopd.conf" <<CONF
PCAP_INTF spa0
PCAP_FILTER udp port 62201 or tcp port 62201 or tcp port 62203
ENABLE_TCP_SERVER Y
ENABLE_SPA_OVER_HTTP Y
FIREWALL_TYPE recorder
PLUGIN_DIR $PLUGINS
FWKNOP_RUN_DIR $DIR/run
RECORDER_FILE $DIR/calls
CONF
cat >"$DIR/access.conf" <<CONF
SOURCE 198.51.100.0/24
KEY_BASE64 $KEY
HMAC_KEY_BASE64 $HMAC
FW_ACCESS_TIMEOUT 30
CONF
chmod 600 "$DIR/fwknopd.conf" "$DIR/access.conf"

knock() { # client, -P proto, port asked for, [server port]
	HOME=$DIR ip netns exec "$NS_C" "$1" -P "$2" -A "tcp/$3" -a 198.51.100.2 \
		-D 198.51.100.1 -p "${4:-62201}" -U alice --no-rc-file \
		--key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
		>>"$DIR/client.out" 2>&1 || fail "$1 -P $2 failed: $(cat "$DIR/client.out")"
}

wait_for() { # file, text, count
	i=0
	while c=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${c:-0}" -lt "$3" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
	return 0
}

ip netns exec "$NS_S" "$SPAD" -f -v -c "$DIR/fwknopd.conf" -a "$DIR/access.conf" \
	>"$DIR/log" 2>&1 &
SPID=$!
wait_for "$DIR/log" "listening on TCP port 62201 (SPA read by the capture)" 1 ||
	fail "spad did not start its TCP server"

n=0
for cl in "$SPA_CLIENT" $FWKNOP; do
	for proto in tcp http; do
		n=$((n + 1))
		knock "$cl" "$proto" $((1000 + n))
		wait_for "$DIR/calls" "^open .* src=198.51.100.2 proto=6 port=$((1000 + n)) " 1 ||
			fail "no grant for $cl -P $proto"
	done
done
# one decision per knock: the server reads nothing, empty segments are not knocks
[ "$(grep -c 'decision=' "$DIR/log")" = $n ] || fail "expected $n decisions"

# a reload moves the TCP server: new port open before the old one closes
echo "TCPSERV_PORT 62203" >>"$DIR/fwknopd.conf"
kill -HUP "$SPID"
wait_for "$DIR/log" "now listening on TCP port 62203" 1 || fail "TCP server not moved on SIGHUP"
knock "$SPA_CLIENT" tcp 2001 62203
wait_for "$DIR/calls" "^open .* port=2001 " 1 || fail "no grant on the new TCP port"
HOME=$DIR ip netns exec "$NS_C" "$SPA_CLIENT" -P tcp -A tcp/2002 -a 198.51.100.2 \
	-D 198.51.100.1 -p 62201 -U alice --no-rc-file --key-base64-rijndael "$KEY" \
	--key-base64-hmac "$HMAC" >>"$DIR/client.out" 2>&1 &&
	fail "the old TCP port still accepts after the reload"

kill -TERM "$SPID"
wait "$SPID"
rc=$?
SPID=
[ $rc = 0 ] || fail "spad exited $rc on SIGTERM"
echo "PASS: SPA over TCP and HTTP, live capture in $NS_S ($n knocks)"
