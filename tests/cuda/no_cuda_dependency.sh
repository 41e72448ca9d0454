#!/usr/bin/env bash
# libmfpo.so must never depend on the CUDA runtime or cuBLAS (the CUDA backend is a module opened
# with dlopen): no NEEDED entry and no undefined symbol from them.
#   usage: no_cuda_dependency.sh LIBMFPO_SO
set -euo pipefail
lib=${1:?usage: no_cuda_dependency.sh LIBMFPO_SO}
command -v readelf >/dev/null || { echo "SKIP: readelf not found"; exit 77; }
needed=$(readelf -d "$lib" | awk '/\(NEEDED\)/ {print $NF}' | tr -d '[]')
echo "NEEDED of $(basename "$lib"): $(echo $needed)"
bad=0
for n in $needed; do
    case "$n" in
    libcuda.so* | libcudart* | libcublas* | libcublasLt* | libnvrtc* | libcurand*)
        echo "FAIL: $(basename "$lib") needs $n"
        bad=1
        ;;
    esac
done
undef=$(nm -D --undefined-only "$lib" | awk '{print $NF}' | grep -E '^(cuda|cublas|cu[A-Z])' || true)
if [ -n "$undef" ]; then
    echo "FAIL: undefined CUDA symbols in $(basename "$lib"): $undef"
    bad=1
fi
if command -v ldd >/dev/null && ldd "$lib" | grep -E 'libcudart|libcublas|libcuda\.so'; then
    echo "FAIL: ldd resolves a CUDA library for $(basename "$lib")"
    bad=1
fi
[ "$bad" = 0 ] && echo "ok: no CUDA runtime dependency"
exit "$bad"
