#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# -R over HTTPS against a local `openssl s_server`: the address is taken
# from a server whose certificate verifies for 127.0.0.1, and refused when
# the certificate is untrusted or made out for another address.
#
# usage: client_resolve_https.sh <path to spa-client>
set -u

SPA=${1:?usage: client_resolve_https.sh <spa-client>}
fails=0
SPID=

command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/spa-client-https.XXXXXX") || exit 1
cleanup() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

mkcert() { # mkcert <name> <subjectAltName>
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=spa-test" -addext "subjectAltName=$2" -days 1 \
		-keyout "$work/$1.key" -out "$work/$1.crt" >/dev/null 2>&1
}

serve() { # serve <cert name>; sets PORT
	local i
	stop
	for i in 1 2 3 4 5; do
		PORT=$((20000 + (RANDOM % 30000)))
		(cd "$work/www" && exec openssl s_server -quiet -HTTP \
			-accept "127.0.0.1:$PORT" -cert "$work/$1.crt" \
			-key "$work/$1.key") >"$work/server.log" 2>&1 &
		SPID=$!
		for _ in $(seq 50); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
				return 0
			fi
			kill -0 "$SPID" 2>/dev/null || break
			sleep 0.1
		done
		stop
	done
	return 1
}

stop() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		SPID=
	fi
}

run_client() { # run_client <CA file or ''>
	HOME="$work" SSL_CERT_FILE="${1:-/nonexistent}" SSL_CERT_DIR=/nonexistent \
		"$SPA" -T --no-rc-file --no-save-args -A tcp/22 --key-rijndael k \
		--resolve-url "https://127.0.0.1:$PORT/myip" >"$work/out" 2>"$work/err"
}

mkdir -p "$work/www"
# s_server -HTTP sends the file as the whole response, headers included.
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n203.0.113.88\n' \
	>"$work/www/myip"
mkcert good "IP:127.0.0.1" || { echo "SKIP: cannot make a test certificate"; exit 77; }
mkcert other "IP:127.0.0.2"

serve good || { echo "SKIP: openssl s_server did not start"; exit 77; }
if run_client "$work/good.crt" && grep -q 'Message String: 203.0.113.88,tcp/22$' "$work/out"; then
	echo "ok: trusted certificate, address taken"
else
	fail "trusted certificate: $(cat "$work/err")"
fi
if run_client ""; then
	fail "untrusted certificate accepted"
elif [ "$(wc -l <"$work/err")" -ne 1 ]; then
	fail "untrusted certificate: expected one error line, got: $(cat "$work/err")"
else
	echo "ok: untrusted certificate refused: $(cat "$work/err")"
fi

serve other || { echo "SKIP: openssl s_server did not start"; exit 77; }
if run_client "$work/other.crt"; then
	fail "certificate for 127.0.0.2 accepted for 127.0.0.1"
else
	echo "ok: wrong-address certificate refused: $(cat "$work/err")"
fi

[ "$fails" -eq 0 ]
