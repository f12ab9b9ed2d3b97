#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SDK as a third party sees it: install the SDK into a staging prefix,
# build sdk/examples/cloud-sg out of tree with pkg-config only, load the
# result into spad, knock over loopback and watch the example's state file
# gain the grant and lose it at expiry.
# Usage: test_sdk_example.sh <source-dir> <build-dir> <spad> <spa-client>
set -u
src=${1:?source dir}
build=${2:?build dir}
spad=${3:?spad}
client=${4:?spa-client}

skip() { echo "SKIP: $*"; exit 77; }
fails=0
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; fails=$((fails + 1)); fi
}
die() { echo "FAIL: $*"; exit 1; }

for t in cmake pkg-config make cc ss base64; do
  command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
[ -x "$spad" ] || skip "spad not built ($spad)"
[ -x "$client" ] || skip "spa-client not built ($client)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spa-sdk.XXXXXX") || die "mktemp"
spad_pid=""
cleanup() {
  if [ -n "$spad_pid" ] && kill -0 "$spad_pid" 2>/dev/null; then
    kill -TERM "$spad_pid"
    wait "$spad_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== install the SDK into a staging prefix"
stage=$tmp/stage
cmake --install "$build" --prefix "$stage" --component sdk >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; die "cmake --install --component sdk"; }
pc=$(find "$stage" -name spa-plugin.pc | head -n 1)
[ -n "$pc" ] || die "no spa-plugin.pc installed under $stage"
check test -f "$stage/include/spa/plugin.h"
export PKG_CONFIG_PATH=${pc%/*}
cflags=$(pkg-config --cflags spa-plugin) || die "pkg-config --cflags spa-plugin"
echo "pkg-config --cflags spa-plugin: $cflags"
# Relocatable: the flags must point into the staging prefix, not at the
# build's configured prefix.
incdir=$(pkg-config --variable=includedir spa-plugin)
check test "$(cd "$incdir" 2>/dev/null && pwd -P)" = "$(cd "$stage/include" && pwd -P)"

echo "== build the example out of tree"
cp -r "$src/sdk/examples/cloud-sg" "$tmp/cloud-sg"
# Nothing from the source tree may leak into the build: only the staging
# prefix provides <spa/plugin.h>.
make -C "$tmp/cloud-sg" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; die "make"; }
grep -F -- "${cflags% }" "$tmp/make.log" >/dev/null || { cat "$tmp/make.log"; die "make did not use pkg-config's flags"; }
plugins=$tmp/plugins
mkdir "$plugins"
make -C "$tmp/cloud-sg" install PLUGINDIR="$plugins" >>"$tmp/make.log" 2>&1 ||
  { cat "$tmp/make.log"; die "make install"; }
check test "$(stat -c %a "$plugins/cloudsg.so")" = 644

# A free loopback port: random, then confirmed unused.
port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 40000))
  if ! ss -Hlun "sport = :$p" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || die "no free UDP port"

state=$tmp/sg.rules
key=$(head -c 32 /dev/urandom | base64 -w0)
hmac=$(head -c 64 /dev/urandom | base64 -w0)
mkdir -m 700 "$tmp/run"
cat >"$tmp/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $port
FWKNOP_RUN_DIR $tmp/run
PLUGIN_DIR $plugins
FIREWALL_TYPE cloudsg
CLOUDSG_STATE_FILE $state
CLOUDSG_GROUP sg-test
CONF
cat >"$tmp/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS tcp/22
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT 2
CONF
chmod 600 "$tmp/fwknopd.conf" "$tmp/access.conf"
spad_args=(-c "$tmp/fwknopd.conf" -a "$tmp/access.conf" -r "$tmp/run")

echo "== spad refuses a group-writable plugin"
chmod 0664 "$plugins/cloudsg.so"
out=$("$spad" --exit-parse-config "${spad_args[@]}" 2>&1)
echo "$out" | tail -n 2
check grep -q "writable" <<<"$out"
chmod 0644 "$plugins/cloudsg.so"

echo "== spad loads the example"
"$spad" -f -U -v "${spad_args[@]}" 2>"$tmp/spad.log" &
spad_pid=$!
for _ in $(seq 1 50); do
  ss -Hlun "sport = :$port" | grep -q . && break
  kill -0 "$spad_pid" 2>/dev/null || break
  sleep 0.1
done
ss -Hlun "sport = :$port" | grep -q . || { cat "$tmp/spad.log"; die "spad did not start"; }
check grep -q "plugin cloudsg: group sg-test" "$tmp/spad.log"

has_grant() { grep -qx "sg-test ingress tcp 22 198.51.100.7/32 expires=[0-9]* id=[0-9]*" "$state" 2>/dev/null; }
no_grant() { [ -f "$state" ] && ! grep -q "198.51.100.7" "$state"; }
wait_for() { # <tenths> <cmd...>
  local n=$1 _; shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

echo "== knock: the grant appears in the state file"
before_knock() { ! has_grant; }
check before_knock
"$client" --no-rc-file -A tcp/22 -a 198.51.100.7 -D 127.0.0.1 -p "$port" \
  --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >"$tmp/client.log" 2>&1 ||
  { cat "$tmp/client.log"; die "spa-client"; }
t0=$(date +%s)
check wait_for 30 has_grant
cat "$state" 2>/dev/null

echo "== a re-knock refreshes the rule in place"
exp1=$(sed -n 's/.*198\.51\.100\.7\/32 expires=\([0-9]*\).*/\1/p' "$state")
sleep 1.1
"$client" --no-rc-file -A tcp/22 -a 198.51.100.7 -D 127.0.0.1 -p "$port" \
  --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >"$tmp/client.log" 2>&1 ||
  { cat "$tmp/client.log"; die "spa-client (re-knock)"; }
later() { local e; e=$(sed -n 's/.*198\.51\.100\.7\/32 expires=\([0-9]*\).*/\1/p' "$state"); [ -n "$e" ] && [ "$e" -gt "$exp1" ]; }
check wait_for 30 later
check test "$(grep -c 198.51.100.7 "$state")" = 1

echo "== --fw-list beside the daemon reads it back"
listed=$("$spad" --fw-list "${spad_args[@]}" 2>&1)
echo "$listed"
check grep -q "198.51.100.7" <<<"$listed"

echo "== expiry removes it"
check wait_for 50 no_grant
t1=$(date +%s)
echo "removed after $((t1 - t0)) s"
check test $((t1 - t0)) -ge 1
check grep -q "closed (expired)" "$tmp/spad.log"
cat "$state"

if [ "$fails" -ne 0 ]; then
  echo "--- spad log"; cat "$tmp/spad.log"
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
