#!/usr/bin/env bash
# Pendulum benchmark: the shipped settings of examples/pendulum on seeds 0, 1, 2, single-threaded,
# one run after another. A benchmark, not a test: nothing here fails on time.
#
#   bash bench/pendulum.sh [--seeds "0 1 2"] [--steps 20000] [--threads 1] [-- extra pendulum args]
#
# Environment: MFPO_BUILD_DIR (default build-bench; configured as a release build when missing),
# MFPO_BENCH_OUT (default out/bench-pendulum). OPENBLAS_CORETYPE is set by scripts/openblas-env.sh
# when unset and the CPU has AVX-512F.
#
# Prints every run's progress, then a summary table (solved = the first evaluation with mean
# return >= -200 over 10 episodes; the target is every seed solved by 10 000 steps and still
# >= -200 at the end), then the runs' RESULT lines, one per seed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../scripts/openblas-env.sh
. "$root/scripts/openblas-env.sh"

seeds="0 1 2"
steps=20000
threads=1
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "bench/pendulum.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

build=${MFPO_BUILD_DIR:-$root/build-bench}
out=${MFPO_BENCH_OUT:-$root/out/bench-pendulum}
if [ ! -f "$build/meson-private/coredata.dat" ]; then
    meson setup "$build" -Dbuildtype=release -Dtests=false -Ddocs=disabled >/dev/null
fi
meson compile -C "$build" pendulum >/dev/null
mkdir -p "$out"
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads

echo "bench/pendulum: seeds $seeds, $steps steps, $threads thread(s), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
results=()
for s in $seeds; do
    echo "---- seed $s"
    "$build/examples/pendulum" --seed "$s" --steps "$steps" --threads "$threads" --out "$out/seed$s" \
        ${extra[@]+"${extra[@]}"} | tee "$out/seed$s.log"
    results+=("$(grep '^RESULT pendulum' "$out/seed$s.log" | tail -n 1)")
done

echo
echo "==== summary (solved: first evaluation >= -200)"
printf '%-5s %12s %15s %15s %13s %10s %10s\n' seed solved_step solved_seconds eval@10000 final_eval seconds steps/s
all_ok=1
for s in $seeds; do
    line=$(grep '^RESULT pendulum' "$out/seed$s.log" | tail -n 1)
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    at10k=$(awk -F, '$1 == 10000 { print $3 }' "$out/seed$s.csv" 2>/dev/null)
    sps=$(awk -v n="$(get steps)" -v t="$(get seconds)" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print "-" }')
    printf '%-5s %12s %15s %15s %13s %10s %10s\n' "$s" "$(get solved_step)" "$(get solved_seconds)" "${at10k:--}" \
        "$(get eval_return)" "$(get seconds)" "$sps"
    solved=$(get solved_step)
    final=$(get eval_return)
    if [ "$solved" = -1 ] || [ "$solved" -gt 10000 ] || awk -v f="$final" 'BEGIN { exit !(f < -200) }'; then
        all_ok=0
    fi
done
if [ "$all_ok" = 1 ]; then
    echo "target met: every seed solved by 10000 steps and >= -200 at the end"
else
    echo "target NOT met on every seed (solved by 10000 steps and >= -200 at the end)"
fi
echo
printf '%s\n' "${results[@]}"
