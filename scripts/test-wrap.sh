#!/usr/bin/env bash
# meson test --wrap helper for the valgrind stage of scripts/test.sh.
#
#   test-wrap.sh MODE BUILD_ROOT COMMAND [ARGS...]
#
# Only native test programs built in BUILD_ROOT are checked; anything else (Python or shell
# drivers, system programs) is reported as skipped (exit 77), since the stage is about the
# C code and an interpreter under valgrind or without the ASan runtime says nothing useful.
# MODE: native  - run the program as is (e.g. for an ASan/UBSan build that instruments it already)
#       valgrind - run it under memcheck; errors and definite/indirect leaks fail the test
set -uo pipefail

mode=$1
build=$(cd "$2" && pwd)
shift 2
exe=$1
case "$exe" in
*/*) exe=$(realpath -m "$exe") ;;
*) exe=$(command -v "$exe" || echo "$exe") ;;
esac

case "$exe" in
"$build"/*) ;;
*)
    echo "test-wrap: $(basename "$exe") is not a program of $build: skipped in the $mode stage"
    exit 77
    ;;
esac
if [ "$(head -c 4 "$exe" 2>/dev/null | od -An -c | tr -d ' ')" != '177ELF' ]; then
    echo "test-wrap: $(basename "$exe") is not a native executable: skipped in the $mode stage"
    exit 77
fi

case "$mode" in
native) exec "$@" ;;
valgrind)
    exec valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --track-origins=no "$@"
    ;;
*)
    echo "test-wrap: unknown mode $mode" >&2
    exit 2
    ;;
esac
