#!/bin/bash
# SPDX-License-Identifier: MIT
#
# interop_fwknopd_e2e.sh - packets built by our library, sent over UDP to
# the real fwknopd (Debian 2.6.10) running in test mode (-t: decodes, never
# touches a firewall) inside a private network namespace created here.
#
# Usage: interop_fwknopd_e2e.sh <path to interop_mkpacket>
# Exit: 0 pass, 1 fail, 77 skip.
set -u

MKPACKET=${1:?usage: $0 <interop_mkpacket>}
FWKNOPD=${SPA_FWKNOPD:-/usr/sbin/fwknopd}
NS=spa-interop-$$
# The namespace is private, so any port works; vary it anyway.
PORT=$((40000 + $$ % 20000))
PASS=0
FAIL=0
DAEMON_MODE=-t
DPID=
TMP=

skip() { echo "SKIP: $*"; exit 77; }

[ -x "$FWKNOPD" ] || skip "fwknop not installed ($FWKNOPD missing)"
[ -x "$MKPACKET" ] || { echo "FAIL: $MKPACKET not built"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root to create a network namespace"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) not installed"
command -v timeout >/dev/null 2>&1 || skip "coreutils timeout missing"

cleanup() {
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

TMP=$(mktemp -d /tmp/spa-interop-e2e.XXXXXX) || { echo "FAIL: mktemp"; exit 1; }
ip netns add "$NS" 2>/dev/null || skip "cannot create network namespace $NS"
ip netns exec "$NS" ip link set lo up || { echo "FAIL: lo up in $NS"; exit 1; }

check() { # check <description> <command...>
	local what=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
		echo "FAIL: [$SCEN] $what"
	fi
}

# Value of "<Label>: value" in the first successfully decoded block.
decoded_field() { # decoded_field <log> <label>
	awk -v lbl="$2" '
		/SPA Decode \(res=0\)/ { inblk = 1; next }
		inblk && /Final SPA Data:/ { exit }
		inblk {
			line = $0; sub(/^ +/, "", line)
			if (index(line, lbl ": ") == 1) { print substr(line, length(lbl) + 3); exit }
		}' "$1"
}

eq() { [ "$1" = "$2" ] || { echo "    expected '$2', got '$1'"; return 1; }; }
count_is() { # count_is <n> <fixed string> <file>
	local n
	n=$(grep -cF -- "$2" "$3")
	[ "$n" = "$1" ] || { echo "    '$2' seen $n times, expected $1"; return 1; }
}

udp_bound() {
	if command -v ss >/dev/null 2>&1; then
		ip netns exec "$NS" ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q .
	else
		sleep 0.5
	fi
}

start_daemon() { # start_daemon <dir> <packet limit>
	local d=$1
	# shellcheck disable=SC2086 # DAEMON_MODE is empty or one flag
	ip netns exec "$NS" timeout 30 "$FWKNOPD" -f $DAEMON_MODE -U -v \
		-c "$d/fwknopd.conf" -a "$d/access.conf" -d "$d/digest.cache" \
		-p "$d/fwknopd.pid" -C "$2" >"$d/fwknopd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		if grep -q 'Kicking off UDP server' "$d/fwknopd.log" 2>/dev/null &&
			udp_bound; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

wait_daemon() { # waits up to 10 s for the packet limit to make it exit
	local rc
	for _ in $(seq 100); do
		if ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID"
			rc=$?
			DPID=
			return $rc
		fi
		sleep 0.1
	done
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
	return 124
}

# scenario <name> <packets> <access.conf body> <verdict line> -- <mkpacket args...>
# The verdict is what fwknopd -t logs after a good decode: the firewall step
# it skipped, or the policy that stopped the request.
scenario() {
	SCEN=$1
	local n=$2 stanza=$3 verdict=$4 d="$TMP/$1" rc fail0=$FAIL
	shift 5
	mkdir -p "$d/run"
	cat >"$d/fwknopd.conf" <<-EOF
		FWKNOP_RUN_DIR $d/run
		ENABLE_UDP_SERVER Y
		UDPSERV_PORT $PORT
		PCAP_INTF lo
		ENABLE_SPA_PACKET_AGING Y
	EOF
	printf '%s\n' "$stanza" >"$d/access.conf"
	chmod 600 "$d/fwknopd.conf" "$d/access.conf"
	if ! start_daemon "$d" "$n"; then
		check "fwknopd did not start" false
		sed 's/^/    | /' "$d/fwknopd.log" | tail -20
		wait_daemon
		return
	fi
	if ! ip netns exec "$NS" "$MKPACKET" --port "$PORT" "$@" >"$d/pkt.txt"; then
		check "interop_mkpacket failed" false
		return
	fi
	wait_daemon
	rc=$?
	check "fwknopd exit status $rc after $n packets" [ "$rc" = 0 ]
	RAND=$(sed -n 's/^RAND //p' "$d/pkt.txt")
	LOG=$d/fwknopd.log
	check "one packet decoded (SPA Decode res=0)" count_is 1 'SPA Decode (res=0)' "$LOG"
	check "random value" eq "$(decoded_field "$LOG" 'Random Value')" "$RAND"
	check "verdict '$verdict'" grep -qF -- "$verdict" "$LOG"
	if [ "$FAIL" -gt "$fail0" ]; then
		echo "    --- fwknopd log ($SCEN) ---"
		sed -n '/Kicking off UDP server/,$p' "$LOG" | sed 's/^/    | /' | head -60
	fi
}

# A: OFB, SHA3-256 digest, HMAC-SHA384; a one-character-mutated copy first.
scenario ofb_hmac 2 "SOURCE ANY
KEY testkey-A-0123
HMAC_KEY hmac-A-key-456789
HMAC_DIGEST_TYPE sha384
ENCRYPTION_MODE OFB
FW_ACCESS_TIMEOUT 30" "test mode enabled, skipping firewall manipulation" -- \
	--key testkey-A-0123 --hmac-key hmac-A-key-456789 --hmac-type sha384 \
	--mode ofb --digest sha3_256 --user spa-interop \
	--message 203.0.113.5,tcp/22 --bad-first
L=$TMP/ofb_hmac/fwknopd.log
check "mutated copy refused by HMAC" count_is 1 'HMAC_COMPAREFAIL' "$L"
check "username" eq "$(decoded_field "$L" Username)" "spa-interop"
check "message type" eq "$(decoded_field "$L" 'Message Type')" "1 (Access msg)"
check "message" eq "$(decoded_field "$L" 'Message String')" "203.0.113.5,tcp/22"
check "digest type" eq "$(decoded_field "$L" 'Digest Type')" "6 (SHA3_256)"
check "hmac type" eq "$(decoded_field "$L" 'HMAC Type')" "4 (SHA384)"
check "mode" eq "$(decoded_field "$L" 'Encryption Mode')" "5 (OFB)"

# B: defaults (CBC, SHA-256/SHA-256), client timeout, multi-port.
scenario cbc_timeout 1 "SOURCE ANY
KEY_BASE64 a2V5LWZvci1zY2VuYXJpby1C
HMAC_KEY_BASE64 aG1hYy1rZXktZm9yLXNjZW5hcmlvLUIhIQ==
FW_ACCESS_TIMEOUT 30
MAX_FW_TIMEOUT 300" "test mode enabled, skipping firewall manipulation" -- \
	--key key-for-scenario-B --hmac-key 'hmac-key-for-scenario-B!!' \
	--user 'bob smith' --message 198.51.100.23,tcp/22,udp/53 --timeout 45
L=$TMP/cbc_timeout/fwknopd.log
check "username" eq "$(decoded_field "$L" Username)" "bob smith"
check "message type" eq "$(decoded_field "$L" 'Message Type')" "3 (Client timeout access msg)"
check "message" eq "$(decoded_field "$L" 'Message String')" "198.51.100.23,tcp/22,udp/53"
check "client timeout" eq "$(decoded_field "$L" 'Client Timeout')" "45"
check "mode" eq "$(decoded_field "$L" 'Encryption Mode')" "2 (CBC)"

# C: legacy IV mode (no HMAC) with a key longer than 16 bytes: fwknopd cuts
# it to 16, and so must we. Command message (not executed: -t).
scenario legacy_cmd 1 "SOURCE ANY
KEY legacy-key-longer-than-16
ENCRYPTION_MODE legacy
FW_ACCESS_TIMEOUT 30" "Command messages are not allowed" -- \
	--key legacy-key-longer-than-16 --mode legacy --digest md5 \
	--type 0 --message '203.0.113.9,echo hello world'
L=$TMP/legacy_cmd/fwknopd.log
check "message type" eq "$(decoded_field "$L" 'Message Type')" "0 (Command msg)"
check "message" eq "$(decoded_field "$L" 'Message String')" "203.0.113.9,echo hello world"
check "digest type" eq "$(decoded_field "$L" 'Digest Type')" "1 (MD5)"
check "mode" eq "$(decoded_field "$L" 'Encryption Mode')" "8 (legacy)"

# D: CTR, SHA-512 digest, HMAC-SHA3-512, NAT access with client timeout.
scenario ctr_nat 1 "SOURCE ANY
KEY ctr-key-D
HMAC_KEY ctr-hmac-key-D-0123456789
HMAC_DIGEST_TYPE sha3_512
ENCRYPTION_MODE CTR
FW_ACCESS_TIMEOUT 30" "requested NAT access, but is not enabled" -- \
	--key ctr-key-D --hmac-key ctr-hmac-key-D-0123456789 --hmac-type sha3_512 \
	--mode ctr --digest sha512 --type 2 --message 203.0.113.77,tcp/2222 \
	--nat 198.51.100.7,22 --timeout 120
L=$TMP/ctr_nat/fwknopd.log
check "message type" eq "$(decoded_field "$L" 'Message Type')" "4 (Client timeout NAT access msg)"
check "nat access" eq "$(decoded_field "$L" 'Nat Access')" "198.51.100.7,22"
check "client timeout" eq "$(decoded_field "$L" 'Client Timeout')" "120"
check "digest type" eq "$(decoded_field "$L" 'Digest Type')" "5 (SHA512)"
check "hmac type" eq "$(decoded_field "$L" 'HMAC Type')" "7 (SHA3_512)"
check "mode" eq "$(decoded_field "$L" 'Encryption Mode')" "6 (CTR)"

# E: replay detection, which fwknopd skips in test mode. It runs for real
# here, so its iptables rules go into the namespace's own (empty) tables,
# never the host's. The cache entry must equal spa_replay_digest().
if ip netns exec "$NS" iptables -w -L -n >/dev/null 2>&1; then
	DAEMON_MODE=
	scenario replay 2 "SOURCE ANY
KEY replay-key-E
HMAC_KEY replay-hmac-key-E-0123
FW_ACCESS_TIMEOUT 30" "Added access rule to FWKNOP_INPUT for 203.0.113.5" -- \
		--key replay-key-E --hmac-key replay-hmac-key-E-0123 \
		--message 203.0.113.5,tcp/22 --repeat 2
	DAEMON_MODE=-t
	L=$TMP/replay/fwknopd.log
	DIGEST=$(sed -n 's/^DIGEST //p' "$TMP/replay/pkt.txt")
	check "replay digest printed (43 chars)" [ "${#DIGEST}" = 43 ]
	check "second copy refused as a replay" count_is 1 'Replay detected' "$L"
	check "digest.cache holds spa_replay_digest() '$DIGEST'" \
		count_is 1 "$DIGEST 17 127.0.0.1 " "$TMP/replay/digest.cache"
else
	echo "SKIP: replay scenario (iptables unusable in the namespace)"
fi

echo "fwknopd e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
