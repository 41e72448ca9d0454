#!/usr/bin/env bash
# Build check: the CPU backend's hot loops are vectorised in every instruction-set clone.
#
#   check_vectorized.sh LIBRARY
#
# The LayerNorm + GELU passes and the C51 expectation are compiled three times (x86-64-v4,
# x86-64-v3, baseline; see HOT in lib/backend/cpu/cpu_backend.c). Each clone must divide packed
# floats at its full width (the GELU's division): zmm in the v4 clone, ymm in the v3 clone, xmm
# (divps) in the baseline one. A clone without them means a loop went scalar again, as the v3
# clone of ln_gelu_fwd_range once did, unnoticed, at half the speed of the update on AVX2 machines.
# Exit 77 (skipped) off x86-64, without objdump, or when the library was built without clones.
set -euo pipefail
lib=${1:?usage: check_vectorized.sh LIBRARY}
[ "$(uname -m)" = x86_64 ] || { echo "not x86-64: skipped"; exit 77; }
command -v objdump >/dev/null || { echo "no objdump: skipped"; exit 77; }
dis=$(mktemp)
trap 'rm -f "$dis"' EXIT
objdump -d --no-show-raw-insn "$lib" >"$dis"
grep -q '<ln_gelu_fwd_range\.arch_x86_64_v3>:' "$dis" || { echo "no target clones in $lib: skipped"; exit 77; }

# body FUNCTION: the disassembly of one function
body() { awk -v f="$1" '$0 ~ "<" f ">:" {p = 1; next} p && /^$/ {p = 0} p' "$dis"; }

failed=0
for fn in ln_gelu_fwd_range ln_gelu_bwd_range ln_gelu_jvp_range expected_q_range; do
    for clone in "arch_x86_64_v4 vdivps.*%zmm" "arch_x86_64_v3 vdivps.*%ymm" "default divps.*%xmm"; do
        set -- $clone
        n=$(body "$fn.$1" | grep -cE "$2" || true)
        if [ "$n" -eq 0 ]; then
            echo "FAIL $fn.$1: no packed division ($2): the loop is not vectorised"
            failed=1
        else
            echo "ok   $fn.$1: $n packed divisions ($2)"
        fi
    done
done
exit $failed
