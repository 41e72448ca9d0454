#!/usr/bin/env bash
# CI check of bench/official/compare.sh without the official code (which is never in this
# repository): it must exit 77 (skip) when no checkout is given or the path is not one, and reject
# a bad task with exit 2 and a message naming it. Runs no training.
set -uo pipefail
cmp=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/compare.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect RC PATTERN -- ARGS...: compare.sh ARGS exits RC and prints PATTERN on stderr
    local rc=$1 pat=$2
    shift 3
    bash "$cmp" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" != "$rc" ] || ! grep -q -- "$pat" "$tmp/err"; then
        echo "FAIL: compare.sh $* exited $got (want $rc) with stderr:"
        cat "$tmp/err"
        fail=1
    else
        echo "ok: compare.sh $* -> $got"
    fi
}
expect 77 "no checkout of the official MFPO code given (first argument ''" --
expect 77 "first argument '$tmp/none'" -- "$tmp/none" pendulum
mkdir -p "$tmp/fake/jaxrl5/agents"
expect 77 "first argument '$tmp/fake'" -- "$tmp/fake" pendulum
: >"$tmp/fake/jaxrl5/agents/mean_flow_learner.py"
expect 2 "TASK must be pendulum, halfcheetah, gmm2d or gmm2d-paper (got 'walker')" -- "$tmp/fake" walker
expect 2 "unknown argument '--bogus'" -- "$tmp/fake" pendulum --bogus
expect 2 "--only must be libmfpo or official (got 'both')" -- "$tmp/fake" pendulum --only both
exit $fail
