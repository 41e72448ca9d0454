#!/bin/sh
# Fails unless the C block that follows the line "<!-- examples/minimal.c -->" in README.md is
# examples/minimal.c, byte for byte (the README shows the program the tests compile and run).
# Usage: check_readme_snippet.sh README.md examples/minimal.c
set -eu
readme=$1 source=$2
snippet=$(mktemp)
trap 'rm -f "$snippet"' EXIT
awk '/^<!-- examples\/minimal\.c -->$/ { marked = 1; next }
     marked && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$readme" > "$snippet"
if [ ! -s "$snippet" ]; then
    echo "$readme: no C block after the line '<!-- examples/minimal.c -->'" >&2
    exit 1
fi
if ! diff -u "$source" "$snippet"; then
    echo "the README's minimal trainer differs from $source (diff above: - the file, + the README)" >&2
    exit 1
fi
echo "the README's minimal trainer is $source"
