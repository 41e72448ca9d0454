#!/usr/bin/env bash
# libmfpo's update against the PyTorch reference (bench/reference/mfpo_torch.py), side by side.
#
#   bash bench/compare.sh            (from anywhere; builds build-bench/ first)
#
# Both implement one MFPO update at the paper's settings for obs 17 / act 6 (HalfCheetah).
# ROUNDS rounds (default 5) alternate on the same machine, for each thread count in THREADS
# (default "1 2"): bench_update with UPDATES timed updates (default 20) after WARMUP (default 3),
# then the PyTorch update with the same counts and torch.set_num_threads (and OpenBLAS's pool,
# which PyTorch's BLAS calls use on Debian) at that thread count. Each setting's figure is the
# median of its per-round medians; each side is compared at its best setting:
#
#   RESULT compare torch_ms=<f> mfpo_ms=<f> speedup=<torch/mfpo> torch_threads=<n> mfpo_threads=<n>
#
# An INFO line also gives the ratio round by round at those settings (robust to load that
# changes between rounds).
#
# Environment: MFPO_BENCH_BUILD (build directory, default build-bench), PYTHON (default
# /usr/bin/python3, which needs Debian's python3-torch), ROUNDS, UPDATES, WARMUP, THREADS.
# Exits 77 when PyTorch is missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/openblas-env.sh
build=${MFPO_BENCH_BUILD:-$root/build-bench}
py=${PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3
rounds=${ROUNDS:-5} updates=${UPDATES:-20} warmup=${WARMUP:-3} threads=${THREADS:-1 2}
obs=17 act=6

if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "compare.sh: $py cannot import torch; install Debian's python3-torch (apt-get install -y python3-torch)"
    exit 77
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" >/dev/null
fi
meson compile -C "$build" bench/bench_update >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { sed -n "s/^RESULT $1 .* $2=\([^ ]*\).*/\1/p" | head -n1; }

echo "INFO compare obs=$obs act=$act rounds=$rounds updates=$updates warmup=$warmup threads=\"$threads\"" \
    "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)} load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
for ((r = 1; r <= rounds; r++)); do
    for th in $threads; do
        out=$("$build/bench/bench_update" --sizes "${obs}x${act}" --threads "$th" --updates "$updates" \
            --warmup "$warmup" --sgemm-reps 0)
        [ "$r" = 1 ] && grep -E '^INFO (openblas|device)' <<<"$out" | sed 's/^/mfpo: /'
        ms=$(field bench_update ms <<<"$out")
        echo "$ms" >>"$tmp/mfpo_$th"
        echo "ROUND $r mfpo threads=$th ms=$ms"

        out=$("$py" bench/reference/mfpo_torch.py --obs "$obs" --act "$act" --threads "$th" --updates "$updates" \
            --warmup "$warmup")
        [ "$r" = 1 ] && grep -E '^INFO (openblas|torch=)' <<<"$out" | sed 's/^/torch: /'
        ms=$(field torch_update ms <<<"$out")
        echo "$ms" >>"$tmp/torch_$th"
        echo "ROUND $r torch threads=$th ms=$ms"
    done
done

median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
best() { # side -> "ms threads" of the fastest thread setting
    for th in $threads; do echo "$(median "$tmp/$1_$th") $th"; done | sort -g | head -n1
}
for th in $threads; do
    echo "INFO compare threads=$th mfpo_ms=$(median "$tmp/mfpo_$th") torch_ms=$(median "$tmp/torch_$th")"
done
read -r mfpo_ms mfpo_th <<<"$(best mfpo)"
read -r torch_ms torch_th <<<"$(best torch)"
speedup=$(awk -v a="$torch_ms" -v b="$mfpo_ms" 'BEGIN {printf "%.2f", a / b}')
# the same at the chosen settings, round by round (each round's two runs saw the same load)
paste "$tmp/torch_$torch_th" "$tmp/mfpo_$mfpo_th" | awk '{printf "%.4f\n", $1 / $2}' >"$tmp/ratio"
echo "INFO compare per_round_speedup=\"$(tr '\n' ' ' <"$tmp/ratio" | sed 's/ $//')\" median=$(median "$tmp/ratio")"
echo "RESULT compare torch_ms=$torch_ms mfpo_ms=$mfpo_ms speedup=$speedup torch_threads=$torch_th mfpo_threads=$mfpo_th"
