#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Command messages (fwknop -C / spa-client --server-cmd) through the cmdexec
# command module, with the real daemon in a network namespace created here
# (loopback only; the host's network and firewall are never touched):
#  - the command runs as CMD_EXEC_USER / CMD_EXEC_GROUP (a file it creates
#    has that owner and group; its groups, directory and environment are
#    what spad.8 says), knocked by spa-client and by Debian's fwknop 2.6.10;
#  - a replayed command packet is refused and runs nothing;
#  - ENABLE_CMD_EXEC N refuses, and the next stanza is tried;
#  - CMD_EXEC_TIMEOUT kills a command that runs too long;
#  - ENABLE_CMD_SUDO_EXEC: the argv SUDO_EXE gets (a recording script);
#  - an unknown CMD_EXEC_USER is refused at load, naming file:line;
#  - spa-client --server-cmd against Debian's fwknopd 2.6.10 (UDP server
#    mode) runs the command there.
# Usage: test_spad_cmd.sh <spad> <dir with recorder.so> <dir with cmdexec.so> [spa-client]
# exit: 0 pass, 1 fail, 77 skip
set -u

spad=${1:?spad}
rec_dir=${2:?recorder plugin dir}
cx_dir=${3:?cmdexec plugin dir}
client=${4:-}
FWKNOPD=${SPA_FWKNOPD:-/usr/sbin/fwknopd}
NS=spa-cmd-$$
PORT=62281
FAILS=0
SPAD_PID=
FPID=
dir=

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, commands run as another user)"
for t in ip socat timeout stat; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
[ -x "$spad" ] || skip "spad not built"
[ -f "$rec_dir/recorder.so" ] || skip "recorder plugin not built"
[ -f "$cx_dir/cmdexec.so" ] || skip "cmdexec module not built"
rec_dir=$(cd "$rec_dir" && pwd)
cx_dir=$(cd "$cx_dir" && pwd)
getent passwd nobody >/dev/null && getent group daemon >/dev/null ||
	skip "needs user nobody and group daemon"
FWKNOP=$(command -v fwknop 2>/dev/null)

stop_spad() {
	if [ -n "$SPAD_PID" ]; then
		kill "$SPAD_PID" 2>/dev/null
		wait "$SPAD_PID" 2>/dev/null
		SPAD_PID=
		# a sanitizer build reports leaks and errors at exit
		if grep -q "Sanitizer" "$dir/spad.log"; then
			echo "FAIL: sanitizer report in spad's log"
			grep -A20 "Sanitizer" "$dir/spad.log" | head -40
			FAILS=$((FAILS + 1))
		fi
	fi
}
cleanup() {
	stop_spad
	if [ -n "$FPID" ]; then
		kill "$FPID" 2>/dev/null
		wait "$FPID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	[ -n "$dir" ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
dir=$(mktemp -d "${TMPDIR:-/tmp}/spa-cmd.XXXXXX") || exit 1
# the commands run as nobody: they must reach their scripts and out/
chmod 755 "$dir"
mkdir -m 1777 "$dir/out"
mkdir -m 700 "$dir/run" "$dir/plugins"
ln -s "$rec_dir/recorder.so" "$dir/plugins/recorder.so"
ln -s "$cx_dir/cmdexec.so" "$dir/plugins/cmdexec.so"
KEY=$(head -c 32 /dev/urandom | base64 -w0)
HMAC=$(head -c 64 /dev/urandom | base64 -w0)

# who it runs as, where, with what environment; $1 names the output file
cat >"$dir/ids.sh" <<'EOF'
#!/bin/sh
{ id -u; id -g; id -G; pwd; /usr/bin/env | /usr/bin/wc -l; echo "args $#"; } >"$1"
EOF
# SUDO_EXE stand-in: records its argv, one per line, then runs nothing
cat >"$dir/sudo.sh" <<EOF
#!/bin/sh
for a in "\$@"; do echo "\$a"; done >$dir/out/sudo.argv
EOF
chmod 755 "$dir/ids.sh" "$dir/sudo.sh"

check() {
	if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; FAILS=$((FAILS + 1)); fi
}
# <file> <deadline in tenths>: it exists and is complete (closed by
# its writer: non-empty, or an empty file that touch made)
wait_file() {
	local i
	for i in $(seq "$2"); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_exists() {
	local i
	for i in $(seq "$2"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# <needle> <deadline in tenths>: the log holds it
wait_log() {
	local i
	for i in $(seq "$2"); do
		grep -qF -- "$1" "$dir/spad.log" && return 0
		sleep 0.1
	done
	return 1
}

# <regex> <deadline in tenths>
wait_log_re() {
	local i
	for i in $(seq "$2"); do
		grep -q -- "$1" "$dir/spad.log" && return 0
		sleep 0.1
	done
	return 1
}

write_conf() { # extra fwknopd.conf lines
	cat >"$dir/fwknopd.conf" <<EOF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FIREWALL_TYPE recorder
RECORDER_FILE $dir/calls.log
PLUGIN_DIR $dir/plugins
FWKNOP_RUN_DIR $dir/run
SPA_JSON_LOG $dir/run/decisions.json
$1
EOF
}
write_access() { # stanza lines after the keys; a second stanza may follow
	printf 'SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\n%s\n' "$KEY" "$HMAC" "$1" \
		>"$dir/access.conf"
}
start_spad() {
	local i
	: >"$dir/spad.log"
	chmod 600 "$dir/fwknopd.conf" "$dir/access.conf"
	ip netns exec "$NS" "$spad" -f -U -v -c "$dir/fwknopd.conf" -a "$dir/access.conf" \
		2>>"$dir/spad.log" &
	SPAD_PID=$!
	for i in $(seq 300); do
		grep -q "listening on UDP" "$dir/spad.log" && return 0
		kill -0 "$SPAD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: spad did not start"
	tail -20 "$dir/spad.log"
	FAILS=$((FAILS + 1))
	return 1
}
send_cmd() { # <client> <command>
	case "$1" in
	*/fwknop)
		HOME=$dir ip netns exec "$NS" "$1" --no-save-args -s -D 127.0.0.1 -p "$PORT" \
			-C "$2" --key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
			>"$dir/client.out" 2>&1 ;;
	*)
		ip netns exec "$NS" "$1" --no-rc-file -s -D 127.0.0.1 -p "$PORT" \
			--server-cmd "$2" --key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" \
			>"$dir/client.out" 2>&1 ;;
	esac || { echo "client $1 failed: $(cat "$dir/client.out")"; return 1; }
}
owner_is() { [ "$(stat -c %U:%G "$1")" = "$2" ]; }
line_is() { [ "$(sed -n "$2p" "$1")" = "$3" ]; }

clients=()
[ -n "$client" ] && [ -x "$client" ] && clients+=("$client")
[ -n "$FWKNOP" ] && clients+=("$FWKNOP")
[ "${#clients[@]}" -gt 0 ] || skip "no client (spa-client not built, fwknop-client not installed)"
[ -n "$FWKNOP" ] || echo "note: fwknop-client not installed: Debian's client is left out"

echo "== an unknown CMD_EXEC_USER is refused at load, naming file:line"
write_conf ""
write_access "ENABLE_CMD_EXEC Y
CMD_EXEC_USER spa-no-such-user-$$"
out=$("$spad" -c "$dir/fwknopd.conf" -a "$dir/access.conf" --exit-parse-config 2>&1)
check test $? -ne 0
check grep -q "access.conf:5: .*no such user 'spa-no-such-user-$$'" <<<"$out"

echo "== runs as CMD_EXEC_USER / CMD_EXEC_GROUP"
write_conf ""
write_access "ENABLE_CMD_EXEC Y
CMD_EXEC_USER nobody
CMD_EXEC_GROUP daemon"
out=$("$spad" -c "$dir/fwknopd.conf" -a "$dir/access.conf" -D 2>&1)
check grep -q "CMD_EXEC_USER  *nobody (uid $(id -u nobody), gid $(getent group daemon | cut -d: -f3))" <<<"$out"
start_spad || exit 1
n=0
for c in "${clients[@]}"; do
	n=$((n + 1))
	out="$dir/out/ids.$n"
	echo "-- client $c"
	check send_cmd "$c" "$dir/ids.sh $out"
	check wait_file "$out" 300
	check owner_is "$out" nobody:daemon
	check line_is "$out" 1 "$(id -u nobody)"
	check line_is "$out" 2 "$(getent group daemon | cut -d: -f3)"
	check line_is "$out" 3 "$(getent group daemon | cut -d: -f3)"
	check line_is "$out" 4 /
	check line_is "$out" 6 "args 1"
done
check wait_log "decision=command" 100
check grep -q "\"decision\":\"command\",.*\"command\":\"$dir/ids.sh $dir/out/ids.1\"" "$dir/run/decisions.json"
check grep -q "plugin cmdexec: command [0-9]* (access.conf:1, user [^)]*): $dir/ids.sh exited with status 0; 0 bytes of output, 0 on stderr" "$dir/spad.log"

if [ -n "$FWKNOP" ]; then
	echo "== a command too long for the 400-character split (fwknop's client sends it)"
	long=$(printf 'l%.0s' $(seq 100))
	check send_cmd "$FWKNOP" "$dir/ids.sh $dir/out/$long"
	check wait_file "$dir/out/$long" 300
	check wait_log_re "decision=command .*$long" 100
fi

echo "== a bare program name is found on spad's fixed PATH"
check send_cmd "${clients[0]}" "touch $dir/out/bare"
check wait_exists "$dir/out/bare" 300
check owner_is "$dir/out/bare" nobody:daemon

echo "== a replayed command packet is refused and runs nothing"
rm -f "$dir/out/replay"
if [ -n "$client" ] && [ -x "$client" ]; then
	ip netns exec "$NS" "$client" --no-rc-file -s -D 127.0.0.1 -p "$PORT" -T \
		-B "$dir/pkt" --server-cmd "$dir/ids.sh $dir/out/replay" \
		--key-base64-rijndael "$KEY" --key-base64-hmac "$HMAC" >/dev/null 2>&1
	pkt=$(head -n1 "$dir/pkt")
	printf '%s' "$pkt" | ip netns exec "$NS" socat -u - "UDP:127.0.0.1:$PORT"
	check wait_file "$dir/out/replay" 300
	rm -f "$dir/out/replay"
	printf '%s' "$pkt" | ip netns exec "$NS" socat -u - "UDP:127.0.0.1:$PORT"
	check wait_log "decision=reject" 100
	check grep -q "decision=reject .*reason=\"replay of a packet" "$dir/spad.log"
	sleep 1
	check test ! -e "$dir/out/replay"
fi
stop_spad

echo "== ENABLE_CMD_EXEC N refuses; the next stanza is tried"
write_access "FW_ACCESS_TIMEOUT 30"
start_spad || exit 1
check send_cmd "${clients[0]}" "$dir/ids.sh $dir/out/refused"
check wait_log "decision=reject" 100
check grep -q 'reason="command messages not enabled (ENABLE_CMD_EXEC N)"' "$dir/spad.log"
sleep 1
check test ! -e "$dir/out/refused"
# no stanza enabled commands: no module is loaded, and a reload that
# needs one is refused (a restart loads it)
check test "$(grep -c 'plugin cmdexec' "$dir/spad.log")" = 0
write_access "ENABLE_CMD_EXEC Y"
chmod 600 "$dir/access.conf"
kill -HUP "$SPAD_PID"
check wait_log "command module 'cmdexec' is not loaded; restart needed" 100
stop_spad
write_access "REQUIRE_USERNAME spa-nobody-$$
ENABLE_CMD_EXEC Y

SOURCE ANY
KEY_BASE64 $KEY
HMAC_KEY_BASE64 $HMAC
ENABLE_CMD_EXEC Y"
start_spad || exit 1
check send_cmd "${clients[0]}" "$dir/ids.sh $dir/out/second"
check wait_file "$dir/out/second" 300
check wait_log "decision=command" 100
check grep -q "decision=command .*stanza=access.conf:7 " "$dir/spad.log"
# no CMD_EXEC_USER: spad's own user (root here)
check owner_is "$dir/out/second" root:root
stop_spad

echo "== CMD_EXEC_TIMEOUT kills a command that runs too long"
write_conf "CMD_EXEC_TIMEOUT 2"
write_access "ENABLE_CMD_EXEC Y"
start_spad || exit 1
t0=$(date +%s)
check send_cmd "${clients[0]}" "sleep 60"
check wait_log "killed after CMD_EXEC_TIMEOUT (2000 ms)" 300
t1=$(date +%s)
echo "killed after $((t1 - t0)) s"
check test $((t1 - t0)) -ge 1
check test $((t1 - t0)) -le 20
check test -z "$(ip netns pids "$NS" | xargs -r ps -o comm= -p | grep -x sleep)"
stop_spad

echo "== ENABLE_CMD_SUDO_EXEC: SUDO_EXE -u CMD_SUDO_EXEC_USER -g CMD_SUDO_EXEC_GROUP <words>"
write_conf "SUDO_EXE $dir/sudo.sh"
write_access "ENABLE_CMD_EXEC Y
ENABLE_CMD_SUDO_EXEC Y
CMD_SUDO_EXEC_USER nobody
CMD_SUDO_EXEC_GROUP daemon"
start_spad || exit 1
check send_cmd "${clients[0]}" "touch  /x/y z"
check wait_file "$dir/out/sudo.argv" 300
check test "$(tr '\n' ' ' <"$dir/out/sudo.argv")" = "-u nobody -g daemon touch /x/y z "
stop_spad
rm -f "$dir/out/sudo.argv"
write_access "ENABLE_CMD_EXEC Y
ENABLE_CMD_SUDO_EXEC Y"
start_spad || exit 1
check send_cmd "${clients[0]}" "/usr/bin/id -u"
check wait_file "$dir/out/sudo.argv" 300
check test "$(tr '\n' ' ' <"$dir/out/sudo.argv")" = "/usr/bin/id -u "
stop_spad

echo "== spa-client --server-cmd against Debian's fwknopd 2.6.10"
if [ ! -x "$FWKNOPD" ] || ! command -v iptables >/dev/null 2>&1; then
	echo "note: fwknopd or iptables missing: this part is left out"
elif [ -z "$client" ] || [ ! -x "$client" ]; then
	echo "note: spa-client not built: this part is left out"
else
	f="$dir/fwknopd"
	mkdir -m 700 "$f"
	cat >"$f/fwknopd.conf" <<EOF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $PORT
FWKNOP_RUN_DIR $f
FIREWALL_EXE $(command -v iptables)
EOF
	printf 'SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nENABLE_CMD_EXEC Y\nCMD_EXEC_USER nobody\nCMD_EXEC_GROUP daemon\n' \
		"$KEY" "$HMAC" >"$f/access.conf"
	chmod 600 "$f/fwknopd.conf" "$f/access.conf"
	ip netns exec "$NS" "$FWKNOPD" -f -v -c "$f/fwknopd.conf" -a "$f/access.conf" \
		-d "$f/digest.cache" -p "$f/fwknopd.pid" >"$f/fwknopd.log" 2>&1 &
	FPID=$!
	ok=0
	for i in $(seq 100); do
		grep -q 'Kicking off UDP server' "$f/fwknopd.log" 2>/dev/null && ok=1 && break
		kill -0 "$FPID" 2>/dev/null || break
		sleep 0.1
	done
	check test "$ok" = 1
	check send_cmd "$client" "/usr/bin/touch $dir/out/fwknopd"
	check wait_exists "$dir/out/fwknopd" 300
	check owner_is "$dir/out/fwknopd" nobody:daemon
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
	FPID=
	[ "$FAILS" = 0 ] || tail -20 "$f/fwknopd.log"
fi

if [ "$FAILS" != 0 ]; then
	echo "--- spad log (last 40 lines)"
	tail -40 "$dir/spad.log"
	exit 1
fi
echo "all passed"
