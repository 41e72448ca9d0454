#!/usr/bin/env bash
# The GPU check of libmfpo, as one command on a machine with an NVIDIA GPU (docs/cuda.md):
#
#   bash bench/gpu.sh [BUILD_DIR]          (default: build-gpu in the repository root)
#
#   1. configure and build: release, -Dcuda=enabled (fails loudly without nvcc), docs and the
#      other bench programs off;
#      only the targets needed below are compiled;
#   2. the CUDA test programs: cuda_module (selection with the real module), cuda_ops (every op
#      against the CPU backend, and graph replay), cuda_parity (100 updates CPU vs CUDA, CUDA
#      graphs on; then 30 updates with MFPO_CUDA_GRAPHS=0);
#   3. bench/gpu_bench: update time at HalfCheetah (17x6) and Humanoid (376x17) sizes with the
#      paper's settings, CUDA graphs on and off, batch-1 inference and 10-candidate selection,
#      and the CPU backend's update time on the same machine; RESULT lines at the end.
#
# Logs go to $MFPO_GPU_OUT, else $OUT (the device runner's result folder), else BUILD_DIR/gpu-results.
# Environment: MFPO_GPU_BENCH_ARGS (extra gpu_bench arguments), MFPO_GPU_SKIP_BUILD=1 (reuse BUILD_DIR).
# Exit status: 0 when every step passed; the last line is "gpu.sh: N passed, M failed".
# Budget: about 1-2 minutes of build on 16 cores, then well under 2 minutes of runs on an H100.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
build=${1:-$root/build-gpu}
out=${MFPO_GPU_OUT:-${OUT:-$build/gpu-results}}
mkdir -p "$out"
start=$(date +%s)
pass=0
fail=0
log() { printf '\n==== [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }
step() { # step NAME TIMEOUT COMMAND... : runs, logs to $out/NAME.log, counts
    local name=$1 limit=$2
    shift 2
    log "$name: $*"
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1))
        echo "---- $name: ok"
    elif [ "$rc" = 77 ]; then
        fail=$((fail + 1))
        echo "---- $name: SKIPPED: no usable CUDA device (this script is meant for a GPU machine)" |
            tee -a "$out/failures.txt"
    else
        fail=$((fail + 1))
        echo "---- $name: FAILED (exit $rc)" | tee -a "$out/failures.txt"
    fi
    return 0
}

if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
# OpenBLAS core-type workaround for the CPU columns (scripts/openblas-env.sh), when present
if [ -f "$root/scripts/openblas-env.sh" ]; then
    # shellcheck disable=SC1091
    . "$root/scripts/openblas-env.sh" || true
fi

log "machine"
{
    uname -a
    nproc
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    command -v nvcc >/dev/null && nvcc --version | tail -n 2
} 2>&1 | tee "$out/machine.txt"

# ------------------------------------------------------------------ 1. build
if [ "${MFPO_GPU_SKIP_BUILD:-0}" != 1 ]; then
    log "configure $build"
    if [ -f "$build/meson-private/coredata.dat" ]; then
        setup=(meson setup --reconfigure "$build")
    else
        setup=(meson setup "$build")
    fi
    if ! "${setup[@]}" -Dbuildtype=release -Dcuda=enabled -Ddocs=disabled -Dbench=false >"$out/configure.log" 2>&1; then
        tail -n 30 "$out/configure.log"
        echo "gpu.sh: configure failed (see $out/configure.log)"
        echo "gpu.sh: 0 passed, 1 failed"
        exit 1
    fi
    grep -E "CUDA backend module|Cuda compiler" "$out/configure.log" || true
    log "build"
    if ! ninja -C "$build" cuda/libmfpo-cuda.so cuda/gpu_bench tests/cuda/cuda_module tests/cuda/cuda_ops \
        tests/cuda/cuda_parity >"$out/build.log" 2>&1; then
        tail -n 40 "$out/build.log"
        echo "gpu.sh: build failed (see $out/build.log)"
        echo "gpu.sh: 0 passed, 1 failed"
        exit 1
    fi
    pass=$((pass + 1))
fi

module="$build/cuda/libmfpo-cuda.so"
export MFPO_MODULE_PATH="$build/cuda" MFPO_TEST_CUDA_MODULE="$module"
export CMOCKA_MESSAGE_OUTPUT=stdout
unset MFPO_BACKEND

# ------------------------------------------------------------------ 2. tests
step cuda_module 120 "$build/tests/cuda/cuda_module"
step cuda_ops 300 "$build/tests/cuda/cuda_ops" --verbose
step cuda_parity 300 env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$build/tests/cuda/cuda_parity"
step cuda_parity_nograph 300 env MFPO_CUDA_GRAPHS=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    "$build/tests/cuda/cuda_parity" --updates 30

# ------------------------------------------------------------------ 3. benchmark
# shellcheck disable=SC2086 # word splitting of the extra arguments is intended
step gpu_bench 240 "$build/cuda/gpu_bench" ${MFPO_GPU_BENCH_ARGS:-}
grep '^RESULT ' "$out/gpu_bench.log" >"$out/results.txt" 2>/dev/null || true

log "summary (logs in $out)"
[ -s "$out/results.txt" ] && cat "$out/results.txt"
[ -s "$out/failures.txt" ] && cat "$out/failures.txt"
echo "gpu.sh: $pass passed, $fail failed ($(($(date +%s) - start)) s)"
[ "$fail" -eq 0 ]
