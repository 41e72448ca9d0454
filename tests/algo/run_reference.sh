#!/usr/bin/env bash
# Dumps one MFPO update (C library) and checks every intermediate against the JAX reference.
# usage: run_reference.sh DUMP_EXE REFERENCE_PY small|paper
set -euo pipefail
exe=$1 ref=$2 size=$3
if ! python3 -c 'import jax' 2>/dev/null; then
  echo "jax is not installed for $(command -v python3); scripts/test.sh installs it (tests/reference/requirements.txt)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" "$dir" "$size"
python3 "$ref" "$dir"
