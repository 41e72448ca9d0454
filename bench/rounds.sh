#!/usr/bin/env bash
# Several builds and instruction-set paths of bench_update in alternating rounds, so that every
# combination sees the same machine state; one line per round and combination.
#
#   bash bench/rounds.sh ROUNDS LABEL=BUILD_DIR:PATH [LABEL=BUILD_DIR:PATH ...] -- [bench_update args]
#
# PATH is "native" (the best kernels of this CPU, OpenBLAS's own choice or openblas-env.sh's) or
# "avx2" (MFPO_CPU_ISA=avx2 and OPENBLAS_CORETYPE=Haswell: what an AVX2-only machine runs; build
# the library with -Dc_args="-DMFPO_NO_CLONES -march=x86-64-v3" for the rest of it to be AVX2
# code as well). Example, before/after on both paths, 1 and 2 threads (docs/performance.md):
#
#   bash bench/rounds.sh 3 old=/tmp/old/build:native new=build:native \
#        old-v3=/tmp/old/build-v3:avx2 new-v3=build-v3:avx2 -- --sizes 17x6 --threads 1 --updates 10
#
# Output: ROUND <r> <label> <path> <the RESULT bench_update fields>
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,15p' "$0" >&2
    exit 2
fi
rounds=$1
shift
combos=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    combos+=("$1")
    shift
done
[ "${1:-}" = -- ] && shift
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/openblas-env.sh"
native_core=${OPENBLAS_CORETYPE:-}
for ((r = 1; r <= rounds; r++)); do
    for c in "${combos[@]}"; do
        label=${c%%=*}
        rest=${c#*=}
        build=${rest%:*}
        path=${rest##*:}
        case "$path" in
        native)
            env=(-u MFPO_CPU_ISA)
            if [ -n "$native_core" ]; then env+=("OPENBLAS_CORETYPE=$native_core"); else env+=(-u OPENBLAS_CORETYPE); fi
            ;;
        avx2) env=(MFPO_CPU_ISA=avx2 OPENBLAS_CORETYPE=Haswell) ;;
        *)
            echo "rounds.sh: path '$path' of '$c' is neither native nor avx2" >&2
            exit 2
            ;;
        esac
        line=$(env "${env[@]}" "$build/bench/bench_update" --phase-updates 0 --sgemm-reps 0 "$@" |
            sed -n 's/^RESULT bench_update //p' | tr '\n' ' ')
        echo "ROUND $r $label $path $line"
    done
done
