#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Usage: check_options.sh SPAD SPA_CLIENT MAN_DIR SOURCE_DIR
# Fails when a man page falls behind the code: every option printed by
# "spad --help" / "spa-client --help" must appear in spad.8 / spa-client.1,
# and every fwknopd.conf and access.conf variable the engine's parsers name
# must appear in spad.8.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 SPAD SPA_CLIENT MAN_DIR SOURCE_DIR" >&2
	exit 2
fi
spad=$1 client=$2 mandir=$3 src=$4
failed=0

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The page as a reader sees the words: roff escapes for minus signs, fonts
# and zero-width breaks removed.
page_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g' \
	    -e 's/\\&//g' -e 's/\\c$//' "$1"
}

# Long options ("--name"; "--gpg-*" yields the prefix "--gpg-") and short
# ones ("-x" standing alone after a blank, "(" or "|").
options_of() {
	grep -oE -- '--[a-z0-9][a-z0-9-]*' "$1"
	grep -oE -- '(^|[ (|])-[A-Za-z0-9]([ ,|]|$)' "$1" | grep -oE -- '-[A-Za-z0-9]'
}

# Whole-word search; a name ending in '-' or '_' is a prefix and matches
# as one.
in_page() {
	local word=$1 text=$2 tail='([^A-Za-z0-9_-]|$)'

	case $word in *- | *_) tail='' ;; esac
	grep -qE -- "(^|[^A-Za-z0-9_-])${word}${tail}" "$text"
}

# check NAME TEXT LIST: every line of LIST must be in TEXT; LIST must not
# be nearly empty, or a changed --help format would pass silently.
check() {
	local name=$1 text=$2 list=$3 min=$4 n missing=0

	n=$(sort -u "$list" | grep -c .)
	if [ "$n" -lt "$min" ]; then
		echo "FAIL: $name: only $n names extracted (expected at least $min)"
		failed=1
		return
	fi
	while read -r word; do
		if ! in_page "$word" "$text"; then
			echo "FAIL: $name: '$word' is not documented"
			missing=$((missing + 1))
		fi
	done < <(sort -u "$list")
	if [ "$missing" -eq 0 ]; then
		echo "ok: $name: all $n names documented"
	else
		failed=1
	fi
}

run_help() {
	# HOME points at an empty directory: --help must not need (or write) one.
	if ! HOME="$tmp" "$1" --help > "$2" 2>&1; then
		echo "FAIL: $1 --help exited non-zero"
		cat "$2"
		failed=1
	fi
}

for f in spad.8 spa-client.1; do
	[ -r "$mandir/$f" ] || { echo "FAIL: $mandir/$f: not readable"; exit 1; }
done
page_text "$mandir/spad.8" > "$tmp/spad.txt"
page_text "$mandir/spa-client.1" > "$tmp/client.txt"

run_help "$spad" "$tmp/spad.help"
options_of "$tmp/spad.help" > "$tmp/spad.opts"
check "spad.8 options" "$tmp/spad.txt" "$tmp/spad.opts" 25

run_help "$client" "$tmp/client.help"
options_of "$tmp/client.help" > "$tmp/client.opts"
check "spa-client.1 options" "$tmp/client.txt" "$tmp/client.opts" 80

# fwknopd.conf: the names of the server variable table.
grep -oE '^[[:space:]]*\{ "[A-Z][A-Z0-9_]+", V_' "$src/engine/spa_conf_server.c" |
	grep -oE '[A-Z][A-Z0-9_]+' | grep -v '^V_' > "$tmp/server.vars"
check "spad.8 fwknopd.conf variables" "$tmp/spad.txt" "$tmp/server.vars" 30

# access.conf: every upper-case name the stanza parser compares against.
cat "$src/engine/spa_conf_access.c" "$src/engine/spa_conf_gpg.c" |
	grep -oE '"[A-Z][A-Z0-9_]+"' | tr -d '"' > "$tmp/access.vars"
check "spad.8 access.conf variables" "$tmp/spad.txt" "$tmp/access.vars" 20

exit $failed
