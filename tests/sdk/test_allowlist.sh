#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sdk/examples/allowlist, a third party's command module, as the SDK's
# users see it: staging install, out-of-tree build, loaded into spad as
# COMMAND_MODULE. A command message naming an action runs that action's
# fixed argv (a file appears); any other text is refused and runs nothing;
# a malformed ALLOWLIST_FILE is refused at --exit-parse-config.
# Usage: test_allowlist.sh <source-dir> <build-dir> <spad> <spa-client>
# shellcheck source=sdk_lib.sh
. "$(dirname "$0")/sdk_lib.sh" "$@"
sdk_setup spa-allowlist cmake pkg-config make cc ss base64

sdk_stage
sdk_build_example allowlist allowlist

mkdir "$tmp/out"
cat >"$tmp/actions" <<ACTIONS
# name  program             arguments
mark    /usr/bin/touch      $tmp/out/marked
ACTIONS
sdk_write_conf "tcp/22" 30 "FIREWALL_TYPE allowlist
ALLOWLIST_FILE $tmp/actions"
cat >>"$tmp/access.conf" <<CONF
ENABLE_CMD_EXEC Y
COMMAND_MODULE allowlist
CONF

echo "== a bad actions file is refused with its file:line"
cp "$tmp/actions" "$tmp/actions.good"
echo "evil relative/prog" >>"$tmp/actions"
out=$("$spad" --exit-parse-config "${spad_args[@]}" 2>&1)
echo "$out" | tail -n 2
check grep -q "$tmp/actions:3: action evil: the program must be an absolute path" <<<"$out"
cp "$tmp/actions.good" "$tmp/actions"
check "$spad" --exit-parse-config "${spad_args[@]}"

spad_start
check grep -q "plugin allowlist: 1 action" "$spad_log"

cmd() { # <text>
  "$client" --no-rc-file -s -D 127.0.0.1 -p "$port" --server-cmd "$1" \
    --key-base64-rijndael "$key" --key-base64-hmac "$hmac" >"$tmp/client.log" 2>&1 ||
    { cat "$tmp/client.log"; die "spa-client --server-cmd $1"; }
}

echo "== an action the file names runs its argv"
cmd mark
check wait_for 300 test -e "$tmp/out/marked"
check wait_for 100 grep -q "action mark exited with status 0" "$spad_log"
check wait_for 100 grep -q "decision=command .*\\\\\"mark\\\\\" id 1 to allowlist" "$spad_log"

echo "== anything else is refused"
cmd "/usr/bin/touch $tmp/out/evil"
check wait_for 300 grep -q "no action named '(not an action name)'; refused" "$spad_log"
cmd nosuch
check wait_for 300 grep -q "no action named 'nosuch'; refused" "$spad_log"
check grep -q "module allowlist failed: Operation not permitted" "$spad_log"
check test ! -e "$tmp/out/evil"

sdk_finish
