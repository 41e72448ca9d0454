#!/usr/bin/env bash
# Every benchmark of bench/, then the RESULT lines together (docs/performance.md).
#
#   bash bench/run_all.sh [--smoke]
#
# Builds build-bench/ (MFPO_BENCH_BUILD overrides), then runs bench_update, bench_infer,
# bench_replay, the PyTorch reference's numerics check against a fresh dump of one update
# (tests/algo/reference_dump, paper sizes) and bench/compare.sh. The PyTorch parts are skipped,
# with a note, when PYTHON (default /usr/bin/python3) cannot import torch, or with SKIP_TORCH=1.
# The full log goes to $MFPO_BENCH_BUILD/bench-results/run-<date>.log; the last lines printed are
# the RESULT lines. --smoke runs every program in its smoke mode (seconds; not for figures).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/openblas-env.sh
build=${MFPO_BENCH_BUILD:-$root/build-bench}
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3
smoke=
[ "${1:-}" = --smoke ] && smoke=--smoke

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" >/dev/null
fi
meson compile -C "$build" bench/bench_update bench/bench_infer bench/bench_replay tests/algo/reference_dump >/dev/null
mkdir -p "$build/bench-results"
log="$build/bench-results/run-$(date +%Y%m%d-%H%M%S).log"

{
    echo "INFO machine cpu=\"$(lscpu | sed -n 's/^Model name: *//p')\" cpus=$(nproc) kernel=$(uname -r)"
    echo "INFO load_before=\"$(cut -d' ' -f1-3 /proc/loadavg)\" commit=$(git rev-parse --short HEAD 2>/dev/null || echo ?)" \
        "dirty=$(git status --porcelain 2>/dev/null | grep -c . || true) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}" \
        "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}"
    "$build/bench/bench_update" $smoke
    "$build/bench/bench_infer" $smoke
    "$build/bench/bench_replay" $smoke
    if [ "${SKIP_TORCH:-0}" != 1 ] && "$py" -c 'import torch' 2>/dev/null; then
        dump=$(mktemp -d)
        "$build/tests/algo/reference_dump" "$dump" paper
        "$py" bench/reference/mfpo_torch.py --check-dump "$dump" || echo "WARNING: the PyTorch numerics check failed"
        rm -rf "$dump"
        if [ -n "$smoke" ]; then
            ROUNDS=1 UPDATES=2 WARMUP=1 MFPO_BENCH_BUILD="$build" PYTHON="$py" bash bench/compare.sh
        else
            MFPO_BENCH_BUILD="$build" PYTHON="$py" bash bench/compare.sh
        fi
    else
        echo "NOTE: PyTorch parts skipped (SKIP_TORCH=1 or $py cannot import torch: apt-get install -y python3-torch)"
    fi
    echo "INFO load_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
} 2>&1 | tee "$log"

echo
echo "==== RESULT lines (log: $log)"
grep '^RESULT ' "$log"
