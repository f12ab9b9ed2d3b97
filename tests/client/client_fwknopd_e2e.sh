#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# spa-client against Debian's fwknopd 2.6.10 with real iptables rules, in
# two network namespaces created here (client 198.51.100.1, server
# 198.51.100.2, joined by a veth pair). For each scenario: tcp/22 on the
# server is dropped, spa-client knocks, and the connection must pass
# afterwards and not before. The host's firewall is never touched.
# With gpg installed, GnuPG knocks too: throwaway keyrings for both sides
# (their gpg-agents are killed at the end), signed and unsigned, with and
# without HMAC.
#
# usage: client_fwknopd_e2e.sh <path to spa-client>
# exit: 0 pass, 1 fail, 77 skip
set -u

SPA=${1:?usage: client_fwknopd_e2e.sh <spa-client>}
FWKNOPD=${SPA_FWKNOPD:-/usr/sbin/fwknopd}
NS_S=spa-clisrv-$$
NS_C=spa-clicli-$$
VS=spas$$
VC=spac$$
SRV=198.51.100.2
CLI=198.51.100.1
PASS=0
FAIL=0
DPID=
LPID=
TMP=
GPG=$(command -v gpg 2>/dev/null)
GPGH=
CLIENT_RC=(--no-rc-file)
CLIENT_IN=/dev/null
WANT_LOG=    # a line fwknopd must have logged for an open scenario

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
[ -x "$FWKNOPD" ] || skip "$FWKNOPD not installed"
for t in ip iptables socat timeout; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done

stop_daemon() {
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	fi
}

cleanup() {
	stop_daemon
	if [ -n "$LPID" ]; then
		kill "$LPID" 2>/dev/null
		wait "$LPID" 2>/dev/null
	fi
	if [ -n "$GPGH" ]; then
		for h in "$GPGH/srv" "$GPGH/cli"; do
			gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
		done
	fi
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/spa-client-e2e.XXXXXX") || exit 1
ip netns add "$NS_S" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NS_C" || exit 1
ip link add "$VC" netns "$NS_C" type veth peer name "$VS" netns "$NS_S" ||
	skip "cannot create a veth pair"
ip -n "$NS_S" addr add "$SRV/24" dev "$VS"
ip -n "$NS_C" addr add "$CLI/24" dev "$VC"
for ns in "$NS_S" "$NS_C"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set "$VS" up
ip -n "$NS_C" link set "$VC" up

# The service the knock should open, and the rule that hides it.
ip netns exec "$NS_S" socat -u TCP-LISTEN:22,fork,reuseaddr OPEN:/dev/null &
LPID=$!
ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport 22 -j DROP ||
	skip "iptables does not work inside a network namespace"

can_connect() {
	ip netns exec "$NS_C" timeout 3 socat -u OPEN:/dev/null \
		"TCP:$SRV:22,connect-timeout=1" 2>/dev/null
}

wait_connect() {
	local i
	for i in $(seq 30); do
		can_connect && return 0
		sleep 0.2
	done
	return 1
}

start_daemon() { # start_daemon <dir>
	local d=$1 i
	ip netns exec "$NS_S" "$FWKNOPD" -f -v -i "$VS" \
		-c "$d/fwknopd.conf" -a "$d/access.conf" -d "$d/digest.cache" \
		-p "$d/fwknopd.pid" >"$d/fwknopd.log" 2>&1 &
	DPID=$!
	for i in $(seq 100); do
		grep -q 'Starting fwknopd main event loop' "$d/fwknopd.log" 2>/dev/null &&
			return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# scenario <open|closed> <name> <access.conf lines> -- <spa-client options...>
scenario() {
	local want=$1 name=$2 stanza=$3 d="$TMP/$2" ok=1
	shift 4
	mkdir -p "$d/run"
	cat >"$d/fwknopd.conf" <<-EOF
		FWKNOP_RUN_DIR $d/run
		PCAP_INTF $VS
		PCAP_FILTER udp port 62201 or tcp port 62201
		ENABLE_PCAP_PROMISC N
		ENABLE_TCP_SERVER Y
		ENABLE_SPA_OVER_HTTP Y
		ENABLE_SPA_PACKET_AGING Y
		FIREWALL_EXE $(command -v iptables)
	EOF
	printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nFW_ACCESS_TIMEOUT 30\n%s\n' \
		"$stanza" >"$d/access.conf"
	chmod 600 "$d/fwknopd.conf" "$d/access.conf"
	if ! start_daemon "$d"; then
		echo "FAIL: [$name] fwknopd did not start"
		tail -20 "$d/fwknopd.log" | sed 's/^/    | /'
		stop_daemon
		FAIL=$((FAIL + 1))
		return
	fi
	if can_connect; then
		echo "FAIL: [$name] tcp/22 reachable before the knock"
		ok=0
	fi
	if ! HOME="$d" ip netns exec "$NS_C" "$SPA" "${CLIENT_RC[@]}" --no-save-args \
		-D "$SRV" "$@" <"$CLIENT_IN" >"$d/client.out" 2>&1; then
		echo "FAIL: [$name] spa-client failed: $(cat "$d/client.out")"
		ok=0
	elif [ "$want" = open ] && ! wait_connect; then
		echo "FAIL: [$name] tcp/22 still closed after the knock"
		ok=0
	elif [ "$want" = open ] && [ -n "$WANT_LOG" ] &&
	     ! grep -qF -- "$WANT_LOG" "$d/fwknopd.log"; then
		echo "FAIL: [$name] fwknopd did not log '$WANT_LOG'"
		ok=0
	elif [ "$want" = closed ]; then
		sleep 2
		if can_connect; then
			echo "FAIL: [$name] a bad knock opened tcp/22"
			ok=0
		fi
	fi
	stop_daemon
	if [ "$ok" = 1 ]; then
		echo "ok: $name"
		PASS=$((PASS + 1))
	else
		grep -iE 'spa|error|hmac|decode' "$d/fwknopd.log" | tail -15 | sed 's/^/    | /'
		FAIL=$((FAIL + 1))
	fi
	# fwknopd flushed its chain on exit: the port must be closed again.
	if can_connect; then
		echo "FAIL: [$name] tcp/22 still open after fwknopd exit"
		FAIL=$((FAIL + 1))
	fi
}

K1=$(printf 'e2e-key-one' | base64)
H1=$(printf 'e2e-hmac-key-one-0123456789' | base64)

scenario open udp_cbc_sha256 "KEY_BASE64 $K1
HMAC_KEY_BASE64 $H1" -- \
	-A tcp/22 -a "$CLI" --key-base64-rijndael "$K1" --key-base64-hmac "$H1"

scenario open tcp_cfb_sha512 "KEY e2e-key-two
HMAC_KEY e2e-hmac-two
HMAC_DIGEST_TYPE sha512
ENCRYPTION_MODE CFB" -- \
	-P tcp -A tcp/22 -s -m md5 -M cfb --hmac-digest-type sha512 \
	--key-rijndael e2e-key-two --key-hmac e2e-hmac-two

scenario open http_ctr_sha1 "KEY e2e-key-three
HMAC_KEY e2e-hmac-three
HMAC_DIGEST_TYPE sha1
ENCRYPTION_MODE CTR" -- \
	-P http -A tcp/22 -a "$CLI" -m sha384 -M ctr --hmac-digest-type sha1 \
	--key-rijndael e2e-key-three --key-hmac e2e-hmac-three

scenario open udp_ofb_sha384_timeout "KEY e2e-key-four
HMAC_KEY e2e-hmac-four
HMAC_DIGEST_TYPE sha384
ENCRYPTION_MODE OFB" -- \
	-A tcp/22 -a "$CLI" -f 20 -m sha512 -M ofb --hmac-digest-type sha384 \
	--key-rijndael e2e-key-four --key-hmac e2e-hmac-four

scenario open udp_legacy_nohmac "KEY e2e-key-five
ENCRYPTION_MODE legacy" -- \
	-A tcp/22 -a "$CLI" -M legacy --key-rijndael e2e-key-five

scenario open udp_ecb_sha3 "KEY e2e-key-six
HMAC_KEY e2e-hmac-six
HMAC_DIGEST_TYPE sha3_256
ENCRYPTION_MODE ECB" -- \
	-A tcp/22 -a "$CLI" -m sha3_512 -M ecb --hmac-digest-type sha3_256 \
	--key-rijndael e2e-key-six --key-hmac e2e-hmac-six

# -R: the allow address comes from a "what is my IP" page served in the
# server namespace (socat drains the request before answering).
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n' "$CLI" >"$TMP/myip"
ip netns exec "$NS_S" socat TCP-LISTEN:8080,fork,reuseaddr \
	SYSTEM:"sleep 0.2; cat $TMP/myip" &
HPID=$!
scenario open udp_resolve_http "KEY e2e-key-nine
HMAC_KEY e2e-hmac-nine" -- \
	-A tcp/22 --resolve-url "http://$SRV:8080/myip" \
	--key-rijndael e2e-key-nine --key-hmac e2e-hmac-nine
kill "$HPID" 2>/dev/null
wait "$HPID" 2>/dev/null

# The server must ignore knocks it cannot authenticate.
scenario closed udp_wrong_hmac_key "KEY e2e-key-seven
HMAC_KEY e2e-hmac-seven" -- \
	-A tcp/22 -a "$CLI" --key-rijndael e2e-key-seven --key-hmac not-the-key

scenario closed udp_wrong_mode "KEY e2e-key-eight
HMAC_KEY e2e-hmac-eight
ENCRYPTION_MODE CBC" -- \
	-A tcp/22 -a "$CLI" -M ofb --key-rijndael e2e-key-eight --key-hmac e2e-hmac-eight

# ---- GnuPG ----
# fwknopd decrypts through libfko, which cannot answer gpg-agent in
# loopback mode: the server key has no passphrase (GPG_ALLOW_NO_PW). The
# client's signing key has one, given to spa-client on --stdin or in the
# rc file; a second client key has none (for --gpg-agent).
gpgb() { # gpgb <home> <gpg args...>
	local h=$1
	shift
	"$GPG" --homedir "$h" --batch --no-tty --quiet --pinentry-mode loopback "$@"
}
fpr_of() { # fpr_of <home> <uid>
	"$GPG" --homedir "$1" --batch --with-colons --list-keys "$2" 2>/dev/null |
		awk -F: '$1 == "fpr" { print $10; exit }'
}

gpg_setup() {
	local h
	GPGH=$TMP/gpg
	mkdir -p "$GPGH/srv" "$GPGH/cli" && chmod 700 "$GPGH/srv" "$GPGH/cli" || return 1
	for h in "$GPGH/srv" "$GPGH/cli"; do
		printf 'allow-loopback-pinentry\n' >"$h/gpg-agent.conf"
	done
	gpgb "$GPGH/srv" --passphrase '' --quick-gen-key \
		'spa-e2e-server <server@e2e.test>' rsa2048 sign,encr never &&
	gpgb "$GPGH/cli" --passphrase "$CLIENT_PW" --quick-gen-key \
		'spa-e2e-client <client@e2e.test>' ed25519 sign never &&
	gpgb "$GPGH/cli" --passphrase '' --quick-gen-key \
		'spa-e2e-agent <agent@e2e.test>' ed25519 sign never &&
	gpgb "$GPGH/cli" --passphrase '' --quick-gen-key \
		'spa-e2e-stranger <stranger@e2e.test>' ed25519 sign never || return 1
	SFPR=$(fpr_of "$GPGH/srv" server@e2e.test)
	CFPR=$(fpr_of "$GPGH/cli" client@e2e.test)
	AFPR=$(fpr_of "$GPGH/cli" agent@e2e.test)
	XFPR=$(fpr_of "$GPGH/cli" stranger@e2e.test)
	[ -n "$SFPR" ] && [ -n "$CFPR" ] && [ -n "$AFPR" ] && [ -n "$XFPR" ] || return 1
	gpgb "$GPGH/srv" --export "$SFPR" >"$GPGH/srv.pub" &&
	gpgb "$GPGH/cli" --import "$GPGH/srv.pub" &&
	gpgb "$GPGH/cli" --export "$CFPR" "$AFPR" "$XFPR" >"$GPGH/cli.pub" &&
	gpgb "$GPGH/srv" --import "$GPGH/cli.pub" || return 1
	# fwknopd wants at least marginal validity: the server certifies the
	# clients it knows (the stranger too: refused by id, not by trust)
	for h in "$CFPR" "$AFPR" "$XFPR"; do
		gpgb "$GPGH/srv" --passphrase '' --quick-lsign-key "$h" \
			>>"$GPGH/setup.log" 2>&1 || return 1
	done
}

CLIENT_PW='e2e client signing pw'
if [ -z "$GPG" ]; then
	echo "SKIP: gpg not installed: no GnuPG scenarios"
elif ! gpg_setup; then
	echo "FAIL: GnuPG keyrings could not be made"
	FAIL=$((FAIL + 1))
else
	GSTANZA="GPG_HOME_DIR $GPGH/srv
GPG_DECRYPT_ID $SFPR
GPG_ALLOW_NO_PW Y"
	GH1=$(printf 'e2e-gpg-hmac-key-0123456789' | base64)
	GCLI=(--gpg-home-dir "$GPGH/cli" --gpg-recipient-key "$SFPR")

	# signed with a passphrase read from stdin, then the HMAC key (line 2)
	printf '%s\n%s\n' "$CLIENT_PW" e2e-gpg-hmac-key-0123456789 >"$TMP/gpg.in"
	CLIENT_IN=$TMP/gpg.in
	WANT_LOG="GPG sig fpr: $CFPR"
	scenario open gpg_signed_hmac "$GSTANZA
GPG_REMOTE_ID ${CFPR: -8}
HMAC_KEY_BASE64 $GH1" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}" --gpg-signer-key "$CFPR" \
		--use-hmac --stdin
	CLIENT_IN=/dev/null

	# signed, no HMAC, everything from a stanza of the rc file
	# (the passphrase base64 encoded), full fingerprint on the server
	mkdir -p "$TMP/rc"
	cat >"$TMP/rc/fwknoprc" <<-EOF
		[default]
		[gpgsrv]
		USE_GPG                 Y
		GPG_HOMEDIR             $GPGH/cli
		GPG_RECIPIENT           $SFPR
		GPG_SIGNER              client@e2e.test
		GPG_SIGNING_PW_BASE64   $(printf '%s' "$CLIENT_PW" | base64)
		ACCESS                  tcp/22
		ALLOW_IP                $CLI
	EOF
	chmod 600 "$TMP/rc/fwknoprc"
	CLIENT_RC=(--rc-file "$TMP/rc/fwknoprc")
	scenario open gpg_signed_rc_nohmac "$GSTANZA
GPG_FINGERPRINT_ID $CFPR" -- -n gpgsrv
	CLIENT_RC=(--no-rc-file)

	# a key without passphrase through --gpg-agent, with HMAC
	WANT_LOG="GPG sig fpr: $AFPR"
	scenario open gpg_agent_signed_hmac "$GSTANZA
GPG_REMOTE_ID ${AFPR: -8}
HMAC_KEY_BASE64 $GH1" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}" --gpg-signer-key "$AFPR" \
		--gpg-agent --key-base64-hmac "$GH1"

	# unsigned, where the stanza does not want a signature
	WANT_LOG="Encryption Type: 2 (GPG)"
	scenario open gpg_unsigned_hmac "$GSTANZA
GPG_DISABLE_SIG Y
HMAC_KEY_BASE64 $GH1" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}" --key-base64-hmac "$GH1"
	scenario open gpg_unsigned_nohmac "$GSTANZA
GPG_DISABLE_SIG Y" -- \
		-A tcp/22 -s "${GCLI[@]}"

	WANT_LOG=
	# refused by fwknopd: a signer it does not list, an unsigned packet
	# where a signature is required, a wrong HMAC key
	scenario closed gpg_signer_not_listed "$GSTANZA
GPG_REMOTE_ID ${CFPR: -8}" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}" --gpg-signer-key "$XFPR" \
		--gpg-no-signing-pw
	scenario closed gpg_unsigned_sig_required "$GSTANZA
GPG_REMOTE_ID ${CFPR: -8}" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}"
	scenario closed gpg_wrong_hmac "$GSTANZA
GPG_DISABLE_SIG Y
HMAC_KEY_BASE64 $GH1" -- \
		-A tcp/22 -a "$CLI" "${GCLI[@]}" --key-hmac not-the-key
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
