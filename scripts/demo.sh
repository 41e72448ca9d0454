#!/usr/bin/env bash
# The README's main command: trains the Pendulum example with its shipped settings.
#
#   bash scripts/demo.sh [extra examples/pendulum arguments, e.g. --seed 1]
#
# On a fresh Debian 12 machine (as root, or with sudo) it installs the Debian packages it needs
# (scripts/install-deps.sh), builds a release copy of the library and examples in build-demo/,
# selects OpenBLAS's SkylakeX kernels where Debian's OpenBLAS would misdetect an AVX-512 CPU
# (scripts/openblas-env.sh), trains MFPO on the pendulum swing-up for 20 000 steps with a progress
# line per 1000 steps, and ends with the learning curve's paths and the RESULT line.
#
# Environment: MFPO_DEMO_THREADS (default 1: the pendulum's small networks run fastest on one
# thread), MFPO_DEMO_OUT (default out/demo), MFPO_TEST_SKIP_DEPS=1 to skip apt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
log() { printf '==== [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }

log "Debian packages (scripts/install-deps.sh)"
if [ "${MFPO_TEST_SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install-deps.sh
fi

# shellcheck source=openblas-env.sh
. "$root/scripts/openblas-env.sh"

build="$root/build-demo"
log "release build ($build)"
if [ -f "$build/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$build" -Dbuildtype=release >/dev/null
else
    meson setup "$build" -Dbuildtype=release -Dtests=false -Ddocs=disabled >/dev/null
fi
meson compile -C "$build" pendulum >/dev/null
echo "built $build/examples/pendulum"

threads=${MFPO_DEMO_THREADS:-1}
out=${MFPO_DEMO_OUT:-$root/out/demo}
mkdir -p "$out"
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
log "training MFPO on Pendulum (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}, $threads thread(s))"
status=0
"$build/examples/pendulum" --threads "$threads" --out "$out/pendulum" "$@" | tee "$out/pendulum.log" || status=$?
result=$(grep '^RESULT pendulum' "$out/pendulum.log" | tail -n 1 || true)

log "done"
echo "learning curve: $out/pendulum.png"
echo "curve data:     $out/pendulum.csv"
echo "log:            $out/pendulum.log"
[ "$status" = 0 ] || echo "demo: the pendulum example exited with status $status"
echo "${result:-RESULT pendulum missing (see the log)}"
[ "$status" = 0 ] && [ -n "$result" ]
