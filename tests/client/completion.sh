#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bash completion (scripts/bash-completion/spa) against the built
# programs: every long option of each --help completes from its prefix,
# options that take a value complete that value, not another option.
# usage: completion.sh SPA_CLIENT SPAD COMPLETION_FILE
set -u
client=$1 spad=$2 file=$3
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
ln -s "$client" "$dir/spa-client" && ln -s "$spad" "$dir/spad" || exit 1
PATH=$dir:$PATH
# shellcheck source=/dev/null
. "$file" || { echo "FAIL: cannot source $file"; exit 1; }
fails=0

# WORDS... -> COMPREPLY; in this shell, not a subshell, as bash does it
# (so the completion's per-shell cache of --help is exercised too)
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_spa_complete "$1"
}

expect() # DESCRIPTION WANTED-WORD WORDS...
{
	local what=$1 want=$2 got
	shift 2
	complete_words "$@"
	got=${COMPREPLY[*]}
	if [[ " $got " != *" $want "* ]]; then
		echo "FAIL: $what: [$*] gave [$got], no '$want'"
		fails=$((fails + 1))
	fi
}

for cmd in spa-client spad; do
	n=0
	# the option column of --help: indented lines that start with a dash,
	# up to the first double blank (the description)
	for opt in $("$cmd" --help 2>&1 | sed -n 's/^ *\(-[^ ].*\)$/\1/p' | sed 's/  .*//' |
		     grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
		expect "$cmd option" "$opt" "$cmd" "${opt:0:5}"
		n=$((n + 1))
	done
	if ((n < 15)); then
		echo "FAIL: $cmd --help lists only $n long options"
		fails=$((fails + 1))
	fi
	echo "$cmd: $n long options complete"
done

expect "protocol value" http spa-client -P h
expect "digest value" sha3_256 spa-client --digest-type sha3_
expect "mode value" legacy spa-client -M le
expect "interface value" lo spad -i l
touch "$dir/conf-file"
expect "file value" "$dir/conf-file" spad -c "$dir/conf-"
# a value, not an option: -A takes a port list, so nothing is offered
complete_words spa-client -A ""
got=${COMPREPLY[*]}
[[ -z $got ]] || { echo "FAIL: -A offered [$got]"; fails=$((fails + 1)); }
# an option that takes no value is followed by options
expect "after a flag" --verbose spa-client --test --verb

((fails == 0)) || { echo "FAIL: $fails completion checks"; exit 1; }
echo "PASS: completion"
