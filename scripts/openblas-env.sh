# shellcheck shell=sh
# Sourced (not run) by the benchmark scripts: `. scripts/openblas-env.sh`.
#
# Debian's OpenBLAS 0.3.21 does not know some recent Intel CPUs (e.g. family 6, model 207, with
# AVX-512) and falls back to its "Prescott" kernels, which run sgemm about 8x slower. When the
# caller has not chosen a core and the CPU has AVX-512F, select the SkylakeX kernels. A value the
# caller set is never overridden. OpenBLAS reads the variable when it is loaded, so this must be
# sourced before any program (or Python interpreter) that loads it starts.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
