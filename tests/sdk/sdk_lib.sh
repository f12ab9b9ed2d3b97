# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the tests of tests/sdk: the SDK as a third party sees it
# (staging install, out-of-tree build with pkg-config only), and a spad
# knocked over loopback.
# Usage: . sdk_lib.sh <source-dir> <build-dir> <spad> <spa-client>
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
die() {
  echo "FAIL: $*"
  [ -f "${spad_log:-}" ] && { echo "--- spad log"; tail -n 60 "$spad_log"; }
  exit 1
}
wait_for() { # <tenths> <cmd...>
  local n=$1 _; shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

spad_pid=""
sdk_pids=() # what else the test starts in the background, stopped after spad
sdk_cleanup() {
  local p
  for p in "$spad_pid" "${sdk_pids[@]}"; do
    if [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; then wait "$p" 2>/dev/null; fi
  done
  if [ -n "${SPA_TEST_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

# Skips (exit 77) without one of the tools or the binaries; otherwise makes
# $tmp, removed at exit with whatever the test started.
sdk_setup() { # <name> <tool...>
  local t
  for t in "${@:2}"; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
  done
  [ -x "$spad" ] || skip "spad not built ($spad)"
  [ -x "$client" ] || skip "spa-client not built ($client)"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "mktemp"
  trap sdk_cleanup EXIT
}

# Installs the SDK into $tmp/stage and points pkg-config at it.
sdk_stage() {
  local stage=$tmp/stage pc incdir
  echo "== install the SDK into a staging prefix"
  cmake --install "$build" --prefix "$stage" --component sdk >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "cmake --install --component sdk"; }
  pc=$(find "$stage" -name spa-plugin.pc | head -n 1)
  [ -n "$pc" ] || die "no spa-plugin.pc installed under $stage"
  check test -f "$stage/include/spa/plugin.h"
  export PKG_CONFIG_PATH=${pc%/*}
  sdk_cflags=$(pkg-config --cflags spa-plugin) || die "pkg-config --cflags spa-plugin"
  echo "pkg-config --cflags spa-plugin: $sdk_cflags"
  # Relocatable: the flags must point into the staging prefix, not at the
  # build's configured prefix.
  incdir=$(pkg-config --variable=includedir spa-plugin)
  check test "$(cd "$incdir" 2>/dev/null && pwd -P)" = "$(cd "$stage/include" && pwd -P)"
}

# Builds sdk/examples/<name> in a copy and installs <plugin>.so into
# $tmp/plugins: nothing from the source tree may leak into the build, only
# the staging prefix provides <spa/plugin.h>.
sdk_build_example() { # <name> <plugin>
  local dir=$tmp/$1
  echo "== build sdk/examples/$1 out of tree"
  cp -r "$src/sdk/examples/$1" "$dir"
  make -C "$dir" clean >/dev/null 2>&1 # a build left in the source tree
  make -C "$dir" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; die "make"; }
  grep -F -- "${sdk_cflags% }" "$tmp/make.log" >/dev/null ||
    { cat "$tmp/make.log"; die "make did not use pkg-config's flags"; }
  plugins=$tmp/plugins
  mkdir -p "$plugins"
  make -C "$dir" install PLUGINDIR="$plugins" >>"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log"; die "make install"; }
  check test "$(stat -c %a "$plugins/$2.so")" = 644
}

# A free port (ss -u: UDP, -t: TCP) in free_port: random, then confirmed
# unused.
sdk_free_port() { # <-u|-t>
  local p _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Hln "$1" "sport = :$p" | grep -q .; then free_port=$p; return 0; fi
  done
  die "no free port (ss $1)"
}

# Writes $tmp/fwknopd.conf (with <lines> after the common ones) and an
# access.conf opening <open_ports> for every source, with fresh keys.
sdk_write_conf() { # <open_ports> <fw_access_timeout> <lines>
  sdk_free_port -u
  port=$free_port
  key=$(head -c 32 /dev/urandom | base64 -w0)
  hmac=$(head -c 64 /dev/urandom | base64 -w0)
  mkdir -m 700 "$tmp/run"
  cat >"$tmp/fwknopd.conf" <<CONF
ENABLE_UDP_SERVER Y
UDPSERV_PORT $port
FWKNOP_RUN_DIR $tmp/run
PLUGIN_DIR $plugins
$3
CONF
  cat >"$tmp/access.conf" <<CONF
SOURCE ANY
OPEN_PORTS $1
KEY_BASE64 $key
HMAC_KEY_BASE64 $hmac
FW_ACCESS_TIMEOUT $2
MAX_FW_TIMEOUT 600
CONF
  chmod 600 "$tmp/fwknopd.conf" "$tmp/access.conf"
  spad_args=(-c "$tmp/fwknopd.conf" -a "$tmp/access.conf" -r "$tmp/run")
  spad_log=$tmp/spad.log
}

# Starts spad in the foreground (log appended to $spad_log) and waits until
# it listens.
spad_start() {
  "$spad" -f -U -v "${spad_args[@]}" 2>>"$spad_log" &
  spad_pid=$!
  for _ in $(seq 1 300); do
    ss -Hlun "sport = :$port" | grep -q . && return 0
    kill -0 "$spad_pid" 2>/dev/null || break
    sleep 0.1
  done
  die "spad did not start"
}

# SIGUSR1 (reconciliation) until <cmd> holds, or about a minute: one
# reconciliation may find the backend busy.
usr1_until() { # <cmd...>
  local _
  for _ in $(seq 1 20); do
    kill -USR1 "$spad_pid"
    wait_for 30 "$@" && return 0
  done
  return 1
}

knock() { # <allow-ip> <proto/port> [spa-client options]
  local ip=$1 access=$2
  shift 2
  "$client" --no-rc-file -A "$access" -a "$ip" -D 127.0.0.1 -p "$port" \
    --key-base64-rijndael "$key" --key-base64-hmac "$hmac" "$@" >"$tmp/client.log" 2>&1 ||
    { cat "$tmp/client.log"; die "spa-client $ip $access"; }
}

sdk_finish() {
  if [ "$fails" -ne 0 ]; then
    echo "--- spad log"; cat "$spad_log"
    echo "$fails check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}
