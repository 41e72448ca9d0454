#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz (clang, ASan + UBSan, libFuzzer coverage on the
# library too) and runs each for SECONDS.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]       TARGET: checkpoint, api (default: both)
#
# Environment: MFPO_FUZZ_BUILD (build directory, default <repo>/build-fuzz), CC (default clang),
# MFPO_FUZZ_JOBS (parallel fuzzing processes per target, default 1).
#
# Each target runs in libFuzzer's fork mode with -ignore_crashes, so that a known bug does not end
# the run: every crash, leak, timeout or out-of-memory is kept as an artifact under
# <build>/fuzz-artifacts/<target>/ and the run goes on. The working corpus <build>/fuzz-corpus/
# <target>/ starts from tests/fuzz/corpus/<target>/ and grows from run to run. Afterwards every
# artifact is run once more to print its first error line. The exit status is 0 only when no
# artifact was produced; the last line is "fuzz: N s per target, M artifacts".
set -euo pipefail

secs=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(checkpoint api)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${MFPO_FUZZ_BUILD:-$root/build-fuzz}
jobs=${MFPO_FUZZ_JOBS:-1}
export CC=${CC:-clang}

opts=(-Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
    -Dc_args=-fsanitize=fuzzer-no-link -Dexamples=false -Ddocs=disabled)
# options other engineers' meson_options.txt may or may not define yet
for o in bench=false cuda=disabled mpi=disabled; do
    grep -q "option('${o%%=*}'" "$root/meson_options.txt" && opts+=("-D$o")
done
if [ -f "$build/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$build" "${opts[@]}" >"$build/fuzz-setup.log" 2>&1 || { cat "$build/fuzz-setup.log"; exit 1; }
else
    mkdir -p "$build"
    meson setup "$build" "${opts[@]}" >"$build/fuzz-setup.log" 2>&1 || { cat "$build/fuzz-setup.log"; exit 1; }
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
meson compile -C "$build" "${exes[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
total=0
for t in "${targets[@]}"; do
    exe="$build/tests/fuzz/fuzz_$t"
    corpus="$build/fuzz-corpus/$t"
    art="$build/fuzz-artifacts/$t"
    work="$build/fuzz-tmp/$t"
    mkdir -p "$corpus" "$art" "$work"
    rm -f "$art"/*
    log="$build/fuzz-$t.log"
    echo "fuzz: $t for ${secs} s (corpus $corpus, artifacts $art, log $log)"
    # The fork-mode parent wraps up after max_total_time; the outer timeout is a safety net.
    TMPDIR="$work" timeout $((secs + 120)) "$exe" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || true
    grep -E '^#[0-9]+:' "$log" | tail -n 1 || true
    found=0
    for a in "$art"/*; do
        [ -e "$a" ] || continue
        found=$((found + 1))
        why=$({ TMPDIR="$work" "$exe" "$a" 2>&1 || true; } | grep -m 1 -E 'SUMMARY|FUZZ INVARIANT|ERROR: libFuzzer|runtime error' || true)
        [ -n "$why" ] || why='no longer reproduces'
        echo "  artifact $(basename "$a") ($(stat -c %s "$a") bytes): $why"
    done
    echo "fuzz: $t: $found artifact(s)"
    total=$((total + found))
done
echo "fuzz: ${secs} s per target, $total artifacts"
[ "$total" -eq 0 ]
