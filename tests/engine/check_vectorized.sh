#!/usr/bin/env bash
# Build check: the CPU backend's hot loops are vectorised in every instruction-set clone.
#
#   check_vectorized.sh LIBRARY
#
# The LayerNorm + GELU passes, the softmax mean (the C51 expectation) and Adam are compiled once per instruction set
# (lib/backend/cpu/cpu_kernels.c: avx512, avx2, baseline). Each variant must divide packed floats
# at its full width: zmm for avx512, ymm for avx2, xmm (divps) for the baseline. A variant without
# them means a loop went scalar again, as the AVX2 copy of the LayerNorm + GELU forward once did,
# unnoticed, at half the speed of the update on AVX2 machines.
# Exit 77 (skipped) off x86-64 or without objdump.
set -euo pipefail
lib=${1:?usage: check_vectorized.sh LIBRARY}
[ "$(uname -m)" = x86_64 ] || { echo "not x86-64: skipped"; exit 77; }
command -v objdump >/dev/null || { echo "no objdump: skipped"; exit 77; }
dis=$(mktemp)
trap 'rm -f "$dis"' EXIT
objdump -d --no-show-raw-insn "$lib" >"$dis"
grep -q '<ln_gelu_fwd_avx2>:' "$dis" || { echo "no per-ISA kernels (or no symbols) in $lib"; exit 1; }

# body FUNCTION: the disassembly of one function
body() { awk -v f="$1" '$0 ~ "<" f ">:" {p = 1; next} p && /^$/ {p = 0} p' "$dis"; }

failed=0
for fn in ln_gelu_fwd ln_gelu_bwd ln_gelu_jvp softmax_mean adam; do
    for variant in "avx512 vdivps.*%zmm" "avx2 vdivps.*%ymm" "baseline divps.*%xmm"; do
        set -- $variant
        n=$(body "${fn}_$1" | grep -cE "$2" || true)
        if [ "$n" -eq 0 ]; then
            echo "FAIL ${fn}_$1: no packed division ($2): the loop is not vectorised"
            failed=1
        else
            echo "ok   ${fn}_$1: $n packed divisions ($2)"
        fi
    done
done
exit $failed
