#!/usr/bin/env bash
# Installs every Debian package libmfpo's build, tests, examples and docs need.
# Idempotent and quiet: does nothing (not even apt-get update) when all are present.
# Runs as root, or through sudo when available.
set -euo pipefail

PACKAGES=(
    build-essential meson ninja-build pkg-config   # toolchain
    libopenblas-dev librandom123-dev zlib1g-dev    # library dependencies
    libcmocka-dev valgrind clang libclang-rt-14-dev abigail-tools  # tests, sanitizers, ABI check
    clang-format                                   # the format check (tools/check_format.sh)
    doxygen                                        # API reference
    gnuplot-nox                                    # learning-curve plots of the examples
    libmujoco-dev                                  # MuJoCo examples
    python3 python3-pip python3-venv               # reference and cross-check tests
    libopenmpi-dev openmpi-bin                     # libmfpo-mpi: data-parallel training (mpi/, tests/mpi)
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: missing ${missing[*]} and not root (no sudo)" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
