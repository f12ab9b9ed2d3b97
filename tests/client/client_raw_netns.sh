#!/bin/bash
# SPDX-License-Identifier: MIT
# -P udpraw/tcpraw/icmp with -Q: spa-client sends from one network namespace
# to another over a veth pair; a small AF_PACKET receiver on the far side
# checks source address, ports / ICMP type, TTL and every checksum, and the
# payload is opened with the wire library (client_wire_open).
# Needs root, ip and python3; prints SKIP and exits 77 otherwise.
# Usage: client_raw_netns.sh <spa-client> <client_wire_open>
set -u
SPA=$1
OPEN=$2
ENC_KEY=raw-test-key
HMAC_KEY=raw-test-hmac-key

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (raw sockets, network namespaces)"
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v python3 >/dev/null || skip "python3 not installed"

NS_C=spa-raw-c-$$
NS_S=spa-raw-s-$$
VC=sparc$$
VS=spars$$
work=$(mktemp -d)
rpid=
dpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$NS_C" || skip "cannot create network namespaces here"
ip netns add "$NS_S" || exit 1
ip link add "$VC" netns "$NS_C" type veth peer name "$VS" netns "$NS_S" || exit 1
ip -n "$NS_C" addr add 198.51.100.1/24 dev "$VC"
ip -n "$NS_S" addr add 198.51.100.2/24 dev "$VS"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$VC" up
ip -n "$NS_S" link set "$VS" up

cat >"$work/recv.py" <<'PY'
# SPDX-License-Identifier: MIT
# Waits (10 s at most) for one IPv4 packet of the given protocol from the
# given source on iface, checks its checksums, saves its payload, prints
# one summary line.
import socket, struct, sys, time

iface, want, want_src, out, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind((iface, 0))
s.settimeout(0.5)
open(ready, "w").close()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return (~t) & 0xFFFF


deadline = time.time() + 10
while time.time() < deadline:
    try:
        pkt = s.recv(65535)
    except socket.timeout:
        continue
    if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != want:
        continue
    src = socket.inet_ntoa(pkt[12:16])
    if src != want_src:
        continue
    ihl = (pkt[0] & 15) * 4
    pkt = pkt[: struct.unpack("!H", pkt[2:4])[0]]
    l4 = pkt[ihl:]
    ok = lambda v: "ok" if v else "bad"
    pseudo = pkt[12:20] + struct.pack("!BBH", 0, want, len(l4))
    if want == 17:
        hl = 8
        l4ok = csum(pseudo + l4) == 0 and l4[6:8] != b"\0\0"
        extra = "sport=%d dport=%d" % struct.unpack("!HH", l4[:4])
    elif want == 6:
        hl = (l4[12] >> 4) * 4
        l4ok = csum(pseudo + l4) == 0
        extra = "sport=%d dport=%d flags=0x%02x" % (struct.unpack("!HH", l4[:4]) + (l4[13],))
    else:
        hl = 8
        l4ok = csum(l4) == 0
        extra = "type=%d code=%d" % (l4[0], l4[1])
    with open(out, "wb") as f:
        f.write(l4[hl:])
    print("src=%s dst=%s ttl=%d ipsum=%s l4sum=%s %s" % (
        src, socket.inet_ntoa(pkt[16:20]), pkt[8], ok(csum(pkt[:ihl]) == 0), ok(l4ok), extra))
    sys.exit(0)
sys.exit(1)
PY

# Debian's fwknopd in pcap mode, test mode (-t: no firewall changes), sees
# the same packets: each must come out as a valid SPA message there too.
dpid=
if [ -x /usr/sbin/fwknopd ]; then
	mkdir -p "$work/run"
	cat >"$work/fwknopd.conf" <<EOC
FWKNOP_RUN_DIR $work/run
PCAP_INTF $VS
PCAP_FILTER udp port 62201 or tcp port 62202 or icmp
ENABLE_PCAP_PROMISC N
FIREWALL_EXE $(command -v iptables)
EOC
	printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nKEY %s\nHMAC_KEY %s\n' \
		"$ENC_KEY" "$HMAC_KEY" >"$work/access.conf"
	chmod 600 "$work/fwknopd.conf" "$work/access.conf"
	ip netns exec "$NS_S" /usr/sbin/fwknopd -f -t -v -i "$VS" \
		-c "$work/fwknopd.conf" -a "$work/access.conf" \
		-d "$work/digest.cache" -p "$work/fwknopd.pid" \
		>"$work/fwknopd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do
		grep -q 'Starting fwknopd main event loop' "$work/fwknopd.log" && break
		sleep 0.1
	done
fi

fails=0
checks=0
# one_case <name> <ip proto> <source> <expected line regex> <client args...>
one_case() {
	local name=$1 proto=$2 src=$3 want=$4 line msg
	shift 4
	checks=$((checks + 1))
	rm -f "$work/ready" "$work/payload"
	ip netns exec "$NS_S" python3 "$work/recv.py" "$VS" "$proto" "$src" \
		"$work/payload" "$work/ready" >"$work/recv.out" 2>"$work/recv.err" &
	rpid=$!
	for _ in $(seq 50); do [ -e "$work/ready" ] && break; sleep 0.1; done
	if ! HOME="$work" ip netns exec "$NS_C" "$SPA" "$@" -D 198.51.100.2 \
		-A tcp/22 -a 198.51.100.9 --key-rijndael "$ENC_KEY" \
		--key-hmac "$HMAC_KEY" --no-rc-file --no-save-args 2>"$work/cli.err"; then
		echo "FAIL: $name: spa-client: $(cat "$work/cli.err")"
		fails=$((fails + 1))
		kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rpid=
		return
	fi
	wait "$rpid"; rpid=
	line=$(cat "$work/recv.out")
	if ! [[ "$line" =~ ^$want$ ]]; then
		echo "FAIL: $name: got '$line' $(cat "$work/recv.err"), want '$want'"
		fails=$((fails + 1))
		return
	fi
	msg=$("$OPEN" "$ENC_KEY" "$HMAC_KEY" "$work/payload")
	if [ "$msg" != "198.51.100.9,tcp/22" ]; then
		echo "FAIL: $name: payload did not decode (got '$msg')"
		fails=$((fails + 1))
		return
	fi
	echo "ok: $name: $line"
}

base='src=198\.51\.100\.77 dst=198\.51\.100\.2 ttl=255 ipsum=ok l4sum=ok'
one_case udpraw 17 198.51.100.77 "$base sport=40001 dport=62201" \
	-P udpraw -Q 198.51.100.77 -S 40001
one_case tcpraw 6 198.51.100.77 "$base sport=40002 dport=62202 flags=0x02" \
	-P tcpraw --spoof-source 198.51.100.77 -S 40002 -p 62202
one_case icmp-echo 1 198.51.100.77 "$base type=8 code=0" \
	-P icmp -Q 198.51.100.77 --icmp-type 8
one_case icmp-default 1 198.51.100.77 "$base type=0 code=0" -P icmp -Q 198.51.100.77
one_case icmp-type-code 1 198.51.100.77 "$base type=13 code=7" \
	-P icmp -Q 198.51.100.77 --icmp-type 13 --icmp-code 7
# no -Q/-S: the routed source address and some source port
one_case udpraw-unspoofed 17 198.51.100.1 \
	'src=198\.51\.100\.1 dst=198\.51\.100\.2 ttl=255 ipsum=ok l4sum=ok sport=[0-9]+ dport=62201' \
	-P udpraw

if [ -n "$dpid" ]; then
	checks=$((checks + 1))
	sleep 0.5
	n=$(grep -c 'SPA Decode (res=0)' "$work/fwknopd.log")
	m=$(grep -c '198\.51\.100\.9,tcp/22' "$work/fwknopd.log")
	if [ "$n" -eq 6 ] && [ "$m" -ge 6 ]; then
		echo "ok: fwknopd (pcap) decoded all 6 raw packets"
	else
		echo "FAIL: fwknopd decoded $n of 6 raw packets ($m messages seen)"
		grep -iE 'spa|error|hmac|decode|packet' "$work/fwknopd.log" | tail -20 | sed 's/^/    | /'
		fails=$((fails + 1))
	fi
fi

# Without the privilege: one clear line, exit 1.
if command -v setpriv >/dev/null; then
	checks=$((checks + 1))
	cp "$SPA" "$work/spa-client" && chmod 755 "$work" "$work/spa-client"
	out=$(HOME=/nonexistent setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$work/spa-client" -P icmp \
		-Q 198.51.100.77 -D 198.51.100.2 -A tcp/22 -a 198.51.100.9 \
		--key-rijndael k --no-rc-file --no-save-args 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	   [[ "$out" == *"needs root"* ]]; then
		echo "ok: non-root: $out"
	else
		echo "FAIL: non-root: exit $rc: $out"
		fails=$((fails + 1))
	fi
fi

echo "client_raw_netns: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
