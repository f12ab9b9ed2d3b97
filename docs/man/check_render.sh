#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: check_render.sh PAGE...
# Fails if a man page draws any warning from the formatter. First proves on
# a deliberately broken page that this formatter does report warnings, so a
# formatter that stays silent cannot turn the test into a pass.
set -u

if command -v groff >/dev/null 2>&1; then
	render() { groff -man -Tutf8 -ww -z "$1" 2>&1; }
	tool=groff
# man-db formats through nroff; mandoc's man has no --warnings.
elif command -v man >/dev/null 2>&1 && command -v nroff >/dev/null 2>&1 &&
	man --help 2>&1 | grep -q -- --warnings; then
	render() { man --warnings -l "$1" 2>&1 >/dev/null; }
	tool=man
else
	echo "SKIP: neither groff nor man-db is installed (Debian: groff-base)"
	exit 77
fi

[ $# -gt 0 ] || { echo "usage: $0 PAGE..." >&2; exit 2; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# An undefined request must be reported.
printf '.TH BROKEN 1\n.SH NAME\nbroken \\- control\n.XYZZY\n' > "$tmp/broken.1"
if [ -z "$(render "$tmp/broken.1")" ]; then
	echo "FAIL: $tool reported nothing for a broken page; cannot check warnings"
	exit 1
fi

status=0
for page in "$@"; do
	if [ ! -r "$page" ]; then
		echo "FAIL: $page: not readable"
		status=1
		continue
	fi
	out=$(render "$page")
	if [ -n "$out" ]; then
		echo "FAIL: $page: $tool warnings:"
		printf '%s\n' "$out"
		status=1
	else
		echo "ok: $page renders without warnings ($tool)"
	fi
done
exit $status
