#!/bin/sh
# How mujoco_locomotion finds its model: a missing one is refused (exit 2) naming where it looked;
# --model-dir and MFPO_MUJOCO_MODELS are searched for the task's file. A zero-step run only loads
# the model and creates the agent.
# Usage: check_mujoco_models.sh MUJOCO_LOCOMOTION MODEL_DIR
set -u
exe=$1 models=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

MFPO_MUJOCO_MODELS= "$exe" --model-dir "$tmp/none" --steps 0 --out "$tmp/a" > "$tmp/out" 2> "$tmp/err"
[ $? = 2 ] || fail "a missing --model-dir did not exit with 2"
grep -qF "cannot find the model half_cheetah.xml; looked in $tmp/none (--model-dir)." "$tmp/err" ||
    fail "unexpected message: $(cat "$tmp/err")"
MFPO_MUJOCO_MODELS="$tmp/none" "$exe" --task Hopper --steps 0 --out "$tmp/a" > "$tmp/out" 2> "$tmp/err"
[ $? = 2 ] || fail "a missing MFPO_MUJOCO_MODELS did not exit with 2"
grep -qF "looked in $tmp/none (MFPO_MUJOCO_MODELS), " "$tmp/err" || fail "unexpected message: $(cat "$tmp/err")"

if [ ! -f "$models/half_cheetah.xml" ]; then
    echo "no models in $models: only the refusals were checked"
    exit 0
fi
MFPO_MUJOCO_MODELS= "$exe" --model-dir "$models" --steps 0 --threads 1 --backend cpu --out "$tmp/b" > "$tmp/out" 2> "$tmp/err" ||
    fail "--model-dir $models: $(cat "$tmp/err")"
grep -qF "HalfCheetah (obs 17, act 6) from $models/half_cheetah.xml" "$tmp/out" || fail "unexpected output: $(cat "$tmp/out")"
MFPO_MUJOCO_MODELS="$models" "$exe" --task Hopper --steps 0 --threads 1 --backend cpu --out "$tmp/c" > "$tmp/out" 2> "$tmp/err" ||
    fail "MFPO_MUJOCO_MODELS=$models: $(cat "$tmp/err")"
grep -qF "Hopper (obs 11, act 3) from $models/hopper.xml" "$tmp/out" || fail "unexpected output: $(cat "$tmp/out")"
echo "models found by --model-dir and MFPO_MUJOCO_MODELS; missing ones refused"
