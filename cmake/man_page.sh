#!/usr/bin/env bash
# Writes the man page of a netpool program from its own --help and --version
# with help2man, so the page cannot drift from the program. For netpool, each
# subcommand's --help goes in a SUBCOMMANDS section.
#   man_page.sh PROGRAM DESCRIPTION OUT
set -euo pipefail
program=$1
description=$2
out=$3
include=$(mktemp)
trap 'rm -f "$include"' EXIT
extra=()

subcommands=$("$program" --help | sed -n '/^Subcommands:/,$p' | sed -nE 's/^  ([a-z][a-z-]*) .*/\1/p')
if [ -n "$subcommands" ]; then
  echo "[SUBCOMMANDS]" >"$include"
  for sub in $subcommands; do
    printf '.SS %s\n.nf\n' "$sub"
    # roff: a backslash is \e, and a line may not start with . or '.
    "$program" "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^[.']/\\\\\&&/"
    printf '.fi\n'
  done >>"$include"
  extra=(--include="$include")
fi
help2man --no-info --name="$description" "${extra[@]}" --output="$out" "$program"
