#!/bin/sh
# SPDX-License-Identifier: MIT
# spad capturing live with libpcap on a veth pair between two network
# namespaces this script creates; Debian's fwknop client sends the knocks.
# Usage: test_spad_pcap_live.sh SPAD PLUGIN_DIR
set -u
SPAD=$1
PLUGINS=$2
KEY=dGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGVzLi4uLi4=
HMAC=dGVzdC1obWFjLWtleS1mb3ItdGhlLWludGVncmF0aW9uLXRlc3Qtb2Ytc3BhZC1vaw==
NS_S=spa-pcap-srv-$$
NS_C=spa-pcap-cli-$$

skip() { echo "SKIP: $1"; exit 77; }
fail() { echo "FAIL: $1"; echo "--- spad log:"; cat "$DIR/log"; echo "--- calls:"; cat "$DIR/calls" 2>/dev/null; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
FWKNOP=$(command -v fwknop) || skip "no fwknop client"

DIR=$(mktemp -d /tmp/spa-pcaplive-XXXXXX)
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
PCAP_INTF eth9
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

knock() { # netns, allow ip, dest ip, port
	HOME=$DIR ip netns exec "$1" "$FWKNOP" -A "tcp/$4" -a "$2" -D "$3" -U alice \
		--key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" --no-save-args \
		>>"$DIR/fwknop.out" 2>&1 || fail "fwknop client failed: $(cat "$DIR/fwknop.out")"
}

wait_for() { # file, text, count
	i=0
	# grep -c prints nothing for a file not yet created: count that as 0
	while c=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${c:-0}" -lt "$3" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}

# -i twice overrides PCAP_INTF (eth9 does not exist in the namespace)
ip netns exec "$NS_S" "$SPAD" -f -v -c "$DIR/fwknopd.conf" -a "$DIR/access.conf" \
	-i lo -i spa0 >"$DIR/log" 2>&1 &
SPID=$!
wait_for "$DIR/log" "capturing on lo,spa0" 1 || fail "spad did not start capturing"

knock "$NS_C" 198.51.100.2 198.51.100.1 22
wait_for "$DIR/calls" "^open .* src=198.51.100.2 proto=6 port=22 " 1 || fail "no grant for the knock"
grep -q "decision=grant src=198.51.100.2 " "$DIR/log" || fail "no grant line"

# sent by the server itself: outbound, so not looked at
knock "$NS_S" 198.51.100.1 198.51.100.2 2222
knock "$NS_C" 198.51.100.2 198.51.100.1 80
wait_for "$DIR/calls" "^open .* port=80 " 1 || fail "no grant for the second knock"
grep -q "src=198.51.100.1 " "$DIR/log" && fail "an outbound packet was processed"
[ "$(grep -c '^open ' "$DIR/calls")" = 2 ] || fail "expected exactly two grants"

# SIGHUP with another capture filter: the captures are re-opened with it
echo "PCAP_FILTER udp port 62202" >>"$DIR/fwknopd.conf"
kill -HUP "$SPID"
wait_for "$DIR/log" "filter 'udp port 62202'" 1 || fail "captures not re-opened on SIGHUP: $(cat "$DIR/log")"
knock "$NS_C" 198.51.100.2 198.51.100.1 443
sleep 0.5
grep -q "^open .* port=443 " "$DIR/calls" && fail "the old filter still applies after SIGHUP"
HOME=$DIR ip netns exec "$NS_C" "$FWKNOP" -A tcp/8443 -a 198.51.100.2 -D 198.51.100.1 -U alice \
	--server-port 62202 --key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
	--no-save-args >>"$DIR/fwknop.out" 2>&1 || fail "fwknop client failed"
wait_for "$DIR/calls" "^open .* port=8443 " 1 || fail "no grant under the new filter"
# a filter that does not compile is refused; the running captures stay
echo "PCAP_FILTER udp port nonsense" >>"$DIR/fwknopd.conf"
kill -HUP "$SPID"
wait_for "$DIR/log" "reload refused" 1 || fail "a bad filter was not refused"
kill -0 "$SPID" || fail "spad died on a bad filter"
HOME=$DIR ip netns exec "$NS_C" "$FWKNOP" -A tcp/8444 -a 198.51.100.2 -D 198.51.100.1 -U alice \
	--server-port 62202 --key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
	--no-save-args >>"$DIR/fwknop.out" 2>&1 || fail "fwknop client failed"
wait_for "$DIR/calls" "^open .* port=8444 " 1 || fail "captures lost after a refused reload"

# ENABLE_PCAP_ANY_DIRECTION Y (fwknopd ignores it): packets the server
# sends are looked at too, after a reload re-opens the captures with it
# (decided, not granted: the monitor never lets in the host's own address)
sed -i '/nonsense/d' "$DIR/fwknopd.conf"
echo "ENABLE_PCAP_ANY_DIRECTION Y" >>"$DIR/fwknopd.conf"
n=$(grep -c "capturing on lo,spa0" "$DIR/log")
kill -HUP "$SPID"
wait_for "$DIR/log" "capturing on lo,spa0" $((n + 1)) || fail "captures not re-opened for ENABLE_PCAP_ANY_DIRECTION"
HOME=$DIR ip netns exec "$NS_S" "$FWKNOP" -A tcp/2223 -a 198.51.100.1 -D 198.51.100.2 -U alice \
	--server-port 62202 --key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
	--no-save-args >>"$DIR/fwknop.out" 2>&1 || fail "fwknop client failed"
wait_for "$DIR/log" "decision=.* src=198.51.100.1 " 1 ||
	fail "an outbound knock was not looked at with ENABLE_PCAP_ANY_DIRECTION Y"

kill -TERM "$SPID"
wait "$SPID"
rc=$?
SPID=
[ $rc = 0 ] || fail "spad exited $rc on SIGTERM"
[ "$(grep -c '^close ' "$DIR/calls")" = 4 ] || fail "grants not closed at exit"
echo "PASS: live pcap capture in $NS_S"
