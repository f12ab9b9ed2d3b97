#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs `spa-client -T -v` and Debian's `fwknop -T -v` with the same options
# and compares their whole output after masking what is random per run
# (random value, timestamp, digest, HMAC and ciphertext: those are compared
# by length only). Then checks the one-line errors of spa-client.
#
# usage: compare_fwknop.sh <path to spa-client>
set -u

SPA=${1:?usage: compare_fwknop.sh <spa-client>}
FWKNOP=${FWKNOP:-/usr/bin/fwknop}
fails=0
checks=0

work=$(mktemp -d "${TMPDIR:-/tmp}/spa-client-cmp.XXXXXX") || exit 1
trap 'gpgconf --homedir "$work/gnupg" --kill gpg-agent >/dev/null 2>&1; rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# Replaces per-run values by markers; the ciphertext-derived ones keep
# their length, which must match since the plaintexts have equal length.
mask() {
	awk '
	function lenmark(s) { return "<" length(s) " chars>" }
	/^ *Random Value: / { sub(/: .*/, ": <rand>"); print; next }
	/^ *Timestamp: /    { sub(/: .*/, ": <ts>"); print; next }
	/^ *Encoded Data: / {
		v = $0; sub(/^ *Encoded Data: /, "", v)
		n = split(v, f, ":")
		out = "<rand>:" f[2] ":<ts>"
		for (i = 4; i <= n; i++) out = out ":" f[i]
		print "   Encoded Data: " out; next
	}
	/^ *(SPA Data Digest|HMAC|Final SPA Data): / {
		label = $0; sub(/: .*/, "", label)
		v = $0; sub(/^[^:]*: /, "", v)
		if (v == "<NULL>") print label ": <NULL>"
		else print label ": " lenmark(v)
		next
	}
	/^GET \/[^ ]* HTTP\/1.0/ {
		v = $2; sub(/^\//, "", v)
		print "GET /" lenmark(v) " HTTP/1.0"; next
	}
	{ print }
	'
}

if [ ! -x "$FWKNOP" ]; then
	echo "SKIP: $FWKNOP not installed"
	exit 77
fi

# Each case is one line of options, split by the shell (quotes allowed).
cases=(
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael secretkey123 --key-hmac hmackey456"
	"-A tcp/22,udp/53,tcp/443 -s -D 198.51.100.1 --key-rijndael k -f 60 -m md5 -M ecb"
	"-A tcp/22 -a 10.0.0.1 -D 198.51.100.2 -N 192.168.1.2:22 -f 45 --key-rijndael k -m sha384 -M legacy"
	"-A tcp/22 -a 10.0.0.1 -D 198.51.100.2 -N 192.168.1.2,22 --key-rijndael k --key-hmac h --hmac-digest-type sha512"
	"-A tcp/22 -a 10.0.0.1 -D 198.51.100.2 -P http -v --key-rijndael k -u TestAgent/2"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --nat-local --nat-port 5555 --key-rijndael k --key-hmac h"
	"-A udp/53 -a 10.0.0.1 -D 127.0.0.1 --nat-local -f 30 --key-rijndael k"
	"-C 'echo hello' -a 10.0.0.1 -D 198.51.100.3 --key-rijndael k --key-hmac h -m sha1"
	"-A tcp/8080 -a 203.0.113.5 -D 2001:db8::1 -U alice -p 40000 -P tcp -m sha1 -M ofb --hmac-digest-type md5 --key-base64-rijndael c2VjcmV0a2V5 --key-base64-hmac aG1hY2tleWhtYWNrZXk"
	"-A tcp/22 -a 10.0.0.1 -D example.invalid -P http -M ctr -m sha3_256 --key-rijndael k --key-hmac h --hmac-digest-type sha3_512"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 -M cfb -m sha3_512 --key-rijndael 01234567890123456789012345678901 --key-hmac h --hmac-digest-type sha3_256 -f 0"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 -m sha512 --key-rijndael k --use-hmac --key-hmac h --hmac-digest-type sha1 --time-offset-plus 2h"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k --time-offset-minus 30m -U 'bob smith'"
	"-A tcp/2222 -a 10.0.0.1 -D 198.51.100.2 -N 192.168.1.2 --key-rijndael k"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k --time-offset-plus +1H"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k --time-offset-minus 60sec"
	"-A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k --time-offset-plus 2days"
)

for c in "${cases[@]}"; do
	eval "set -- $c"
	checks=$((checks + 1))
	mkdir -p "$work/home"
	HOME="$work/home" "$FWKNOP" --no-rc-file --no-save-args -T -v "$@" \
		>"$work/fwknop.out" 2>"$work/fwknop.err"
	frc=$?
	HOME="$work/home" "$SPA" --no-rc-file --no-save-args -T -v "$@" \
		>"$work/spa.out" 2>"$work/spa.err"
	src=$?
	if [ "$frc" -ne 0 ] || [ "$src" -ne 0 ]; then
		fail "[$c] exit fwknop=$frc spa-client=$src: $(cat "$work/spa.err")"
		continue
	fi
	mask <"$work/fwknop.out" >"$work/fwknop.masked"
	mask <"$work/spa.out" >"$work/spa.masked"
	if ! grep -q '^SPA Field Values:' "$work/spa.masked"; then
		fail "[$c] no field dump from spa-client"
		continue
	fi
	if ! diff -u "$work/fwknop.masked" "$work/spa.masked" >"$work/diff"; then
		fail "[$c] output differs from fwknop:"
		cat "$work/diff"
		continue
	fi
	echo "ok: $c"
done

# GnuPG mode, signed (fwknop's own -T decode wants a signature): one
# throwaway keyring holding both the server key and the client's, so both
# clients decode their packet again and print the signature fields.
# The ciphertext's length varies with gpg's output, so it is masked whole.
gpgb() { gpg --homedir "$work/gnupg" --batch --no-tty --quiet --pinentry-mode loopback "$@"; }
gfpr() { gpg --homedir "$work/gnupg" --batch --with-colons --list-keys "$1" 2>/dev/null |
	awk -F: '$1 == "fpr" { print $10; exit }'; }
if ! command -v gpg >/dev/null 2>&1; then
	echo "SKIP: gpg not installed: no GnuPG comparison"
elif mkdir -m 700 "$work/gnupg" &&
     gpgb --passphrase '' --quick-gen-key 'cmp-server <server@cmp.test>' rsa2048 sign,encr never &&
     gpgb --passphrase '' --quick-gen-key 'cmp-client <client@cmp.test>' ed25519 sign never &&
     sfpr=$(gfpr server@cmp.test) && cfpr=$(gfpr client@cmp.test) &&
     gpgb --passphrase '' --quick-lsign-key "$cfpr" >/dev/null 2>&1; then
	gcases=(
		"--gpg-signer-key $cfpr --gpg-no-signing-pw --key-hmac h"
		"--gpg-sign client@cmp.test --gpg-agent -m sha512 -f 30"
	)
	for g in "${gcases[@]}"; do
		eval "set -- $g"
		checks=$((checks + 1))
		common=(--no-rc-file --no-save-args -T -v -A tcp/22 -a 10.0.0.1
			-D 127.0.0.1 --gpg-recipient-key "$sfpr"
			--gpg-home-dir "$work/gnupg" --gpg-exe "$(command -v gpg)")
		HOME="$work/home" "$FWKNOP" "${common[@]}" "$@" </dev/null \
			>"$work/fwknop.out" 2>"$work/fwknop.err"
		frc=$?
		HOME="$work/home" "$SPA" "${common[@]}" "$@" </dev/null \
			>"$work/spa.out" 2>"$work/spa.err"
		src=$?
		if [ "$frc" -ne 0 ] || [ "$src" -ne 0 ]; then
			fail "[gpg $g] exit fwknop=$frc spa-client=$src: $(cat "$work/spa.err" "$work/fwknop.err")"
			continue
		fi
		for o in fwknop spa; do
			mask <"$work/$o.out" |
				sed -E 's/^( Final SPA Data): .*/\1: <gpg>/' >"$work/$o.masked"
		done
		if ! grep -q "GPG sig fpr: $cfpr" "$work/spa.masked"; then
			fail "[gpg $g] spa-client did not decode its packet again"
		elif ! diff -u "$work/fwknop.masked" "$work/spa.masked" >"$work/diff"; then
			fail "[gpg $g] output differs from fwknop:"
			cat "$work/diff"
		else
			echo "ok: gpg $g"
		fi
	done
else
	fail "GnuPG keyring could not be made"
fi

# -T without -v: dump and the test-mode line, nothing about sending.
checks=$((checks + 1))
HOME="$work/home" "$FWKNOP" --no-rc-file --no-save-args -T -A tcp/22 -a 10.0.0.1 \
	--key-rijndael k | mask >"$work/f2"
HOME="$work/home" "$SPA" --no-rc-file --no-save-args -T -A tcp/22 -a 10.0.0.1 \
	--key-rijndael k | mask >"$work/s2"
if diff -u "$work/f2" "$work/s2"; then echo "ok: -T without -v"; else fail "-T without -v"; fi

# -r: a random destination port in fwknop's range.
checks=$((checks + 1))
port=$(HOME="$work/home" "$SPA" --no-rc-file --no-save-args -T -v -r -A tcp/22 \
	-a 10.0.0.1 -D 127.0.0.1 --key-rijndael k | awk '/destination port:/ { print $3 }')
if [ -n "$port" ] && [ "$port" -ge 10000 ] && [ "$port" -le 65534 ]; then
	echo "ok: -r gave port $port"
else
	fail "-r gave port '$port'"
fi

# --key-gen has fwknop's layout.
checks=$((checks + 1))
HOME="$work/home" "$SPA" --no-rc-file --no-save-args -k >"$work/k.spa"
HOME="$work/home" "$FWKNOP" --no-rc-file --no-save-args -k >"$work/k.fwk"
shape() { sed -E 's/: [A-Za-z0-9+\/=]+$/: <&>/; s/<: ([A-Za-z0-9+\/=]+)>/<\1>/' "$1" |
	awk -F': ' '{ print $1 ": " length($2) }'; }
if diff <(shape "$work/k.fwk") <(shape "$work/k.spa"); then
	echo "ok: --key-gen layout"
else
	fail "--key-gen layout differs"
fi

# A missing --rc-file is created by both, private, with a [default] stanza.
checks=$((checks + 1))
HOME="$work/home" "$FWKNOP" --no-save-args -T -A tcp/22 -a 10.0.0.1 \
	--key-rijndael k --rc-file "$work/new.fwk" >/dev/null 2>&1
HOME="$work/home" "$SPA" --no-save-args -T -A tcp/22 -a 10.0.0.1 \
	--key-rijndael k --rc-file "$work/new.spa" >/dev/null 2>&1
if [ "$(stat -c %a "$work/new.fwk" 2>/dev/null)" = 600 ] &&
   [ "$(stat -c %a "$work/new.spa" 2>/dev/null)" = 600 ] &&
   grep -qx '\[default\]' "$work/new.fwk" && grep -qx '\[default\]' "$work/new.spa"; then
	echo "ok: missing --rc-file created"
else
	fail "missing --rc-file: fwknop $(stat -c %a "$work/new.fwk" 2>&1), spa-client $(stat -c %a "$work/new.spa" 2>&1)"
fi
mkdir -p "$work/open" && chmod 0777 "$work/open"

# Errors: non-zero exit and exactly one line on stderr. setsid and
# </dev/null make sure no terminal is there to prompt for a key.
err_cases=(
	"--bogus-option"
	"-T -A tcp/22, -a 10.0.0.1 --key-rijndael k"
	"-T -A tcp/0 -a 10.0.0.1 --key-rijndael k"
	"-T -A tcp/22 -a 10.0.0.300 --key-rijndael k"
	"-A tcp/22 -a 10.0.0.1 -D no-such-host.invalid --key-rijndael k"
	"-T -A tcp/22 -a 10.0.0.1"
	"-T -A tcp/22 -a 10.0.0.1 --use-hmac --key-rijndael k"
	"-T -A tcp/22 -a 10.0.0.1 --key-rijndael k --rc-file $work/open/rc"
	"-T -A tcp/22 -a 10.0.0.1 --key-rijndael k -n nosuchstanza"
	"-P icmp --icmp-type 41 -A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k"
	"-Q 10.0.0.300 -P udpraw -A tcp/22 -a 10.0.0.1 -D 127.0.0.1 --key-rijndael k"
	"-T -A tcp/22 -a 10.0.0.1 -M legacy --key-rijndael k --key-hmac h"
	"-T -A tcp/22 -a 10.0.0.1 --key-rijndael 012345678901234567890123456789012"
	"-T -A tcp/22 -a 10.0.0.1 -g"
	"-T -A tcp/22 -a 10.0.0.1 --gpg-home-dir $work/gnupg --gpg-recipient-key nobody@cmp.test"
	"-T -A tcp/22 -a 10.0.0.1 --gpg-home-dir $work/gnupg --gpg-recipient-key server@cmp.test --gpg-signer-key client@cmp.test"
)
for c in "${err_cases[@]}"; do
	eval "set -- $c"
	checks=$((checks + 1))
	HOME="$work/home" setsid "$SPA" --no-save-args "$@" </dev/null \
		>"$work/e.out" 2>"$work/e.err"
	rc=$?
	lines=$(wc -l <"$work/e.err")
	if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ]; then
		echo "ok: error [$c]: $(cat "$work/e.err")"
	else
		fail "error case [$c]: exit $rc, $lines stderr lines: $(cat "$work/e.err")"
	fi
done

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
