#!/usr/bin/env bash
# CI smoke run of one benchmark program: it must exit 0 and print each named RESULT line.
# usage: smoke.sh EXE RESULT_NAME...
set -euo pipefail
exe=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/openblas-env.sh
. "$here/../scripts/openblas-env.sh"
out=$("$exe" --smoke)
printf '%s\n' "$out"
for name in "$@"; do
    if ! grep -q "^RESULT $name " <<<"$out"; then
        echo "FAIL: $(basename "$exe") --smoke printed no 'RESULT $name' line"
        exit 1
    fi
done
echo "OK: $(basename "$exe") --smoke printed RESULT $*"
