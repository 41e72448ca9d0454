#!/usr/bin/env bash
# The refactoring guard of issue 11: recomputes outputs that a move of code must not change and
# compares them byte for byte with a recorded set.
#
#   bit_identical.sh record [--quick] BUILD_DIR OUT_DIR   compute the outputs of BUILD_DIR into OUT_DIR
#   bit_identical.sh compare EXPECT_DIR ACTUAL_DIR         cmp every file of EXPECT_DIR/MANIFEST
#   bit_identical.sh check BUILD_DIR EXPECT_DIR            record --quick into a temporary dir, then compare
#
# What is recorded (the full set, ~25 s on an idle machine; --quick leaves out gmm2d, ~10 s):
#   ckpt.stdout, agent.ckpt, replay.ckpt   tests/refactor/ckpt_run.c: a fixed 64-update run, every
#                                          update's statistics as hex floats, then both checkpoints
#   refdump_small.sha256, refdump_paper.sha256
#                                          SHA-256 of every file tests/algo/reference_dump writes
#                                          (every input and intermediate of one update, small and
#                                          paper size)
#   pendulum.norm, pendulum.csv.norm       examples/pendulum --seed 0 --steps 3000 --threads 1: stdout
#                                          and the CSV with the wall-clock fields replaced by '#'
#                                          (pendulum.stdout / pendulum.csv keep them, not compared)
#   gmm2d.norm, gmm2d.dat                  examples/gmm2d --updates 300 --threads 1: stdout with
#                                          wall-clock fields masked, and the sample file
# Floating-point results depend on the OpenBLAS kernels, the C library and the compiler: the
# script pins OpenBLAS's Haswell kernels (any x86-64 CPU with AVX2 runs them), OUT_DIR/fingerprint
# records the rest, and `check` skips (exit 77) when this machine's fingerprint differs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export OPENBLAS_CORETYPE=Haswell

fingerprint() {
    local blas libc comp
    blas=$(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null || echo unknown)
    # sed reads all of its input: `head -1` could exit first, and with pipefail the writer's SIGPIPE
    # would then add "unknown" to the fingerprint on some runs and skip the check by chance
    libc=$( (ldd --version 2>/dev/null || echo unknown) | sed -n 1p)
    comp=$( (cc --version 2>/dev/null || echo unknown) | sed -n 1p)
    printf 'openblas=%s coretype=%s avx2=%s libc=%s cc=%s\n' "$blas" "$OPENBLAS_CORETYPE" \
        "$(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)" "$libc" "$comp"
}

# Masks the wall-clock fields of the examples' output.
mask_pendulum() {
    sed -E -e 's/ +[0-9.]+ steps\/s +ETA +[0-9.]+s/ # steps\/s ETA #s/' \
           -e 's/solved_seconds=[0-9.-]+/solved_seconds=#/; s/ seconds=[0-9.]+/ seconds=#/' \
           -e 's/learning curve .*/learning curve #/' \
           -e 's/, cpu \(.*\)$/, cpu (#)/'
}
mask_gmm2d() {
    sed -E -e 's/^(updates +[0-9]+) +[0-9.]+s/\1 #s/' -e 's/, [0-9.]+ s of training/, # s of training/' \
           -e 's/seconds=[0-9.]+/seconds=#/g' -e 's/wrote .*/wrote #/' \
           -e 's/, cpu \(.*\)$/, cpu (#)/'
}

record() {
    local quick=0
    if [ "$1" = --quick ]; then quick=1; shift; fi
    local build out src
    build=$(cd "$1" && pwd)
    mkdir -p "$2"
    out=$(cd "$2" && pwd)
    src=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
        "$build/meson-info/meson-info.json")
    fingerprint > "$out/fingerprint"
    local names=(ckpt.stdout agent.ckpt replay.ckpt refdump_small.sha256 refdump_paper.sha256 pendulum.norm
        pendulum.csv.norm)
    # the checkpoint run: the build's own, or (a build of a tree without it, such as the baseline)
    # compiled here against the build's shared library and its tree's headers
    local tmp ckpt_run
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    ckpt_run=$build/tests/refactor/ckpt_run
    if [ ! -x "$ckpt_run" ]; then
        ckpt_run=$tmp/ckpt_run
        cc -std=c11 -O2 -I"$src/include" "$here/ckpt_run.c" -o "$ckpt_run" -L"$build/lib" -lmfpo -lm \
            -Wl,-rpath,"$build/lib"
    fi
    "$ckpt_run" "$out" > "$out/ckpt.stdout"
    # every input and intermediate of one update
    for size in small paper; do
        mkdir "$tmp/dump_$size"
        "$build/tests/algo/reference_dump" "$tmp/dump_$size" $size > /dev/null
        (cd "$tmp/dump_$size" && LC_ALL=C sha256sum -- * | LC_ALL=C sort -k2) > "$out/refdump_$size.sha256"
    done
    (cd "$tmp" && "$build/examples/pendulum" --seed 0 --steps 3000 --threads 1 --out "$tmp/pendulum") \
        > "$out/pendulum.stdout"
    cp "$tmp/pendulum.csv" "$out/pendulum.csv"
    mask_pendulum < "$out/pendulum.stdout" > "$out/pendulum.norm"
    awk -F, 'NR == 1 { print; next } { print $1 ",#," $3 }' "$out/pendulum.csv" > "$out/pendulum.csv.norm"
    if [ $quick = 0 ]; then
        names+=(gmm2d.norm gmm2d.dat)
        gmm2d=$build/tools/validation/gmm2d
        [ -x "$gmm2d" ] || gmm2d=$build/examples/gmm2d # trees before the harness moved
        (cd "$tmp" && "$gmm2d" --updates 300 --threads 1 --out "$tmp/gmm2d") > "$out/gmm2d.stdout"
        cp "$tmp/gmm2d.dat" "$out/gmm2d.dat"
        mask_gmm2d < "$out/gmm2d.stdout" > "$out/gmm2d.norm"
    fi
    printf '%s\n' "${names[@]}" > "$out/MANIFEST"
}

compare() {
    local expect=$1 actual=$2 bad=0 n=0
    while read -r f; do
        [ -n "$f" ] || continue
        if [ ! -e "$actual/$f" ]; then
            [ -e "$actual/MANIFEST" ] && grep -qx "$f" "$actual/MANIFEST" && { echo "MISSING $f"; bad=1; }
            continue
        fi
        n=$((n + 1))
        if cmp -s "$expect/$f" "$actual/$f"; then
            echo "same      $f"
        else
            echo "DIFFERENT $f"
            diff <(od -An -tx1 "$expect/$f" | head -c 100000) <(od -An -tx1 "$actual/$f" | head -c 100000) | head -5 || true
            bad=1
        fi
    done < "$expect/MANIFEST"
    [ $n -gt 0 ] || { echo "nothing compared"; exit 1; }
    if [ $bad = 0 ]; then echo "OK: $n files bit-identical"; else echo "FAIL: outputs differ"; exit 1; fi
}

case "${1:-}" in
record) shift; record "$@" ;;
compare) shift; compare "$@" ;;
check)
    shift
    mine=$(fingerprint)
    theirs=$(cat "$2/fingerprint")
    if [ "$mine" != "$theirs" ]; then
        echo "SKIP: the expected outputs were recorded on another machine or OpenBLAS:"
        echo "  expected: $theirs"
        echo "  here:     $mine"
        exit 77
    fi
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    record --quick "$1" "$t"
    compare "$2" "$t"
    ;;
*) sed -n '2,8p' "$0"; exit 2 ;;
esac
