#!/usr/bin/env bash
# Side-by-side training runs of libmfpo and the paper's official JAX code (issue 16).
#
#   bash bench/official/compare.sh OFFICIAL_CHECKOUT TASK [--seeds "0 1 2"] [--steps N] [--jobs N]
#        [--out DIR] [--only libmfpo|official] [--analyze-only] [--max-step N]
#
# TASK: pendulum     Pendulum-v1 at examples/pendulum's shipped settings (20 000 steps)
#       halfcheetah  HalfCheetah-v4 at a reduced size, the same for both (2x128, batch 128; 50 000 steps)
#       gmm2d        the 2-D mixture at tools/validation/gmm2d's settings (3x128, batch 64, K1/K2 32/64, lr 1e-3)
#       gmm2d-paper  the 2-D mixture at the official defaults (3x256, batch 256, K1/K2 16/32, lr 3e-4)
# (--steps counts environment steps, or updates for the 2-D mixture.)
#
# The official code has no licence: nothing of it is in this repository. OFFICIAL_CHECKOUT is a path to
# a checkout of it (github.com/dongxiaoyi-xyz/MFPO); without one the script exits 77. Its learner runs
# under bench/official/official_driver.py with $PYTHON (a venv with jax==0.4.30 jaxlib==0.4.30
# flax==0.8.5 optax==0.2.3 chex ml_collections numpy==1.26.4 gym==0.23.1 gymnasium[mujoco]==0.29.1
# scipy matplotlib; README.md). libmfpo runs as its examples (pendulum, mujoco_locomotion, gmm2d) from
# $MFPO_BUILD_DIR (default build/, a release build). Both single-threaded, each run under nice -n $NICE
# (default 10), --jobs (default 1) runs at once.
#
# Writes DIR/TASK/{libmfpo,official}_seedS.{csv,log} (one CSV per run: RL tasks step,seconds,eval_return;
# the 2-D mixture updates,seconds,centre_mass_min,far,...), DIR/TASK/unmatched.txt (every setting that
# cannot be matched exactly, also printed), and through compare.py DIR/TASK/summary.md (table and
# statistics, docs/results.md "Against the paper's code" states them) and DIR/TASK/curves.png.
# DIR defaults to out/official-compare.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/bench/official"

usage() { sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
if [ $# -lt 1 ] || [ -z "${1:-}" ] || [ ! -f "$1/jaxrl5/agents/mean_flow_learner.py" ]; then
    echo "compare.sh: no checkout of the official MFPO code given (first argument '${1:-}' has no" \
        "jaxrl5/agents/mean_flow_learner.py); skipping" >&2
    usage >&2
    exit 77
fi
official=$(cd "$1" && pwd)
shift
[ $# -ge 1 ] || { usage >&2; exit 2; }
task=$1
shift
seeds="0 1 2" steps="" jobs=1 out="$root/out/official-compare" only="" analyze_only=0 max_step=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --analyze-only) analyze_only=1; shift ;;
    --max-step) max_step=(--max-step "$2"); shift 2 ;; # analyse up to this step only (runs cut short)
    *) echo "compare.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case "$only" in "" | libmfpo | official) ;; *) echo "compare.sh: --only must be libmfpo or official (got '$only')" >&2; exit 2 ;; esac
py=${PYTHON:-python3}
build=${MFPO_BUILD_DIR:-$root/build}
nice_level=${NICE:-10}

# ---------------------------------------------------------------- per-task settings
# common: the official driver's flags and libmfpo's example with its flags; `unmatched` lists what
# differs between the two sides and cannot be made equal.
common_unmatched="- random streams: the same seed number, but JAX's PRNG (initial parameters, noise, replay sampling
  through numpy) and libmfpo's counter-based generator draw different numbers; no run is a replay of the other.
- arithmetic: float32 on both, but XLA's fused kernels and libmfpo's OpenBLAS/AVX-512 kernels round differently.
- warm-up actions: both uniform on [-1, 1] per dimension (official: gym Box.sample seeded with the run's seed)."
rl_unmatched="- environment: the official side runs Gymnasium 0.29.1's environment (Python, MuJoCo Python bindings for
  HalfCheetah); libmfpo runs its C port of the same environment (examples/common/pendulum_env.c; examples/mujoco
  with libmujoco and the Gymnasium-v4 model file). Same dynamics, reward and time limit; different reset streams.
- MuJoCo version: the official side runs the mujoco wheel pip resolves for gymnasium 0.29.1 (4.0.0 in the fifth
  session), libmfpo Debian's libmujoco (2.2.2). One HalfCheetah step from the same state differs by <= 3e-7 in qvel
  between 4.0.0 and 2.3.1 (bench/official/mujoco_versions.py), and 2.3.1 and libmfpo's 2.2.2 task agree at float32
  rounding (tests/mujoco/crosscheck.py): rounding, not a different model.
- evaluation episodes: both reset fresh episodes from seeds no training episode uses, but the seeds differ in value
  (official: Gymnasium reset(seed=10^6 (seed+1) + k); libmfpo: mfpo_train's hashed evaluation seed).
- training loop: the official train_online.py takes start_training-1 random steps and then updates every step; the
  driver uses libmfpo's convention (warm-up steps random, updates from the next step), so the update counts match."
case "$task" in
pendulum)
    steps=${steps:-20000}
    lib_cmd=(pendulum --steps "$steps" --threads 1)
    off_args=(--task pendulum --steps "$steps" --warmup 1000 --eval-every 1000 --eval-episodes 10 --hidden 64
        --depth 2 --batch 64 --k1 4 --k2 8 --atoms 101 --vmin -1700 --vmax 100 --lr 1e-3 --lr-critic 1e-3
        --lr-alpha 3e-4 --alpha0 0.01 --candidates 32 --cdq 1)
    settings="networks 2x64, batch 64, K1/K2 4/8, 101 atoms on [-1700, 100], lr 1e-3 (alpha 3e-4), alpha0 0.01,
  1000 warm-up steps, 1 update/step, evaluation every 1000 steps over 10 episodes, 32 candidates, clipped double-Q on"
    unmatched="$common_unmatched
$rl_unmatched"
    ;;
halfcheetah)
    steps=${steps:-50000}
    lib_cmd=(mujoco_locomotion --task HalfCheetah --backend cpu --threads 1 --steps "$steps" --warmup 5000
        --eval-every 2500 --eval-episodes 5 --hidden 128 --depth 2 --batch 128 --k1 16 --k2 32 --lr 3e-4
        --candidates 10 --cdq 0 --model-dir "${MFPO_MUJOCO_MODELS:-$root/../shared/mujoco}")
    off_args=(--task halfcheetah --steps "$steps" --warmup 5000 --eval-every 2500 --eval-episodes 5 --hidden 128
        --depth 2 --batch 128 --k1 16 --k2 32 --atoms 101 --vmin -1600 --vmax 1600 --lr 3e-4 --lr-critic 3e-4
        --lr-alpha 3e-4 --alpha0 0.01 --candidates 10 --cdq 0)
    settings="networks 2x128 (reduced from 3x256), batch 128 (reduced from 256), K1/K2 16/32, 101 atoms on [-1600, 1600],
  lr 3e-4 (all), alpha0 0.01, 5000 warm-up steps, 1 update/step, evaluation every 2500 steps over 5 episodes,
  10 candidates, clipped double-Q off (the paper's HalfCheetah setting)"
    unmatched="$common_unmatched
$rl_unmatched"
    ;;
gmm2d | gmm2d-paper)
    steps=${steps:-10000}
    if [ "$task" = gmm2d ]; then
        h=128 b=64 k1=32 k2=64 lr=1e-3
    else
        h=256 b=256 k1=16 k2=32 lr=3e-4
    fi
    every=$((steps / 10 > 0 ? steps / 10 : 1))
    lib_cmd=(gmm2d --updates "$steps" --eval-every "$every" --threads 1 --hidden "$h" --depth 3 --batch "$b"
        --k1 "$k1" --k2 "$k2" --lr "$lr" --v-min -40 --v-max 5)
    off_args=(--task gmm2d --steps "$steps" --eval-every "$every" --hidden "$h" --depth 3 --batch "$b" --k1 "$k1"
        --k2 "$k2" --lr "$lr" --lr-critic "$lr" --auto-alpha 0 --alpha0 1 --vmin -40 --vmax 5 --atoms 101)
    settings="6 components on radius 0.6, sigma 0.08; networks 3x$h, batch $b, K1/K2 $k1/$k2, lr $lr (all), alpha fixed at 1,
  101 atoms on [-40, 5], 100 000 uniform one-step transitions, measurement every $every updates on 10 000 samples"
    unmatched="$common_unmatched
- replay contents: both 100 000 uniform actions on [-1, 1]^2 with reward = the mixture's log-density, drawn by
  different generators (libmfpo: splitmix64 of seed; official side: numpy default_rng(7919 seed + 1)).
- fixed alpha: libmfpo turns the temperature update off (auto_alpha 0); the official learner has no such switch, so
  the driver gives its temperature optimiser learning rate 0 (Adam with lr 0 leaves log alpha at log 1 exactly).
- measurement noise: the same measurements (a)-(d) of tools/validation/gmm2d_task.c on 10 000 samples, from
  different standard-normal draws."
    ;;
*)
    echo "compare.sh: TASK must be pendulum, halfcheetah, gmm2d or gmm2d-paper (got '$task')" >&2
    exit 2
    ;;
esac

dir="$out/$task"
jobdir="$dir/jobs-${only:-both}-$(echo $seeds | tr " " _)" # per --only and seeds: invocations can share DIR
mkdir -p "$jobdir"
{
    echo "task $task, $steps $([ "${task#gmm2d}" != "$task" ] && echo updates || echo steps), seeds $seeds"
    echo "settings (both sides): $settings"
    echo "cannot be matched exactly:"
    echo "$unmatched"
} | tee "$dir/unmatched.txt"

if [ "$analyze_only" = 0 ]; then
    lib_exe=$build/examples/${lib_cmd[0]}
    [ -x "$lib_exe" ] || lib_exe=$build/tools/validation/${lib_cmd[0]} # the 2-D harness
    [ -x "$lib_exe" ] || {
        echo "compare.sh: ${lib_cmd[0]} is not in $build/examples or $build/tools/validation; build first (meson setup build && ninja -C build)" >&2
        exit 1
    }
    "$py" -c 'import jax, flax, optax, gym, gymnasium' 2>/dev/null || {
        echo "compare.sh: $py cannot import jax, flax, optax, gym and gymnasium; set PYTHON to the venv of README.md" >&2
        exit 1
    }
    rm -f "$jobdir"/*.sh
    # seed by seed, the official run (the longer one) before libmfpo's: a queue stopped early still
    # leaves matched pairs of seeds
    n=0
    for s in $seeds; do
        for impl in official libmfpo; do
            [ -n "$only" ] && [ "$only" != "$impl" ] && continue
            n=$((n + 1))
            job="$jobdir/$(printf %02d "$n")_${impl}_seed$s.sh"
            {
                echo "set -o pipefail"
                echo "cd $(printf %q "$dir")"
                echo ". $(printf %q "$root/scripts/openblas-env.sh")"
                echo "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
                if [ "$impl" = official ]; then
                    printf 'nice -n %d %q %q --official %q --seed %d --out official_seed%d.csv --stats official_seed%d.stats.csv' \
                        "$nice_level" "$py" "$here/official_driver.py" "$official" "$s" "$s" "$s"
                    printf ' %q' "${off_args[@]}"
                else
                    printf 'nice -n %d %q --seed %d' "$nice_level" "$lib_exe" "$s"
                    printf ' %q' "${lib_cmd[@]:1}"
                    printf ' --out libmfpo_seed%d' "$s"
                    # per-update statistics (mujoco_locomotion --stats), for bisecting a difference
                    [ "$task" = halfcheetah ] && printf ' --stats libmfpo_seed%d.stats.csv' "$s"
                fi
                printf ' >%s_seed%d.log 2>&1\n' "$impl" "$s"
                if [ "$impl" = libmfpo ] && [ "${task#gmm2d}" != "$task" ]; then
                    # gmm2d prints its measurements; the CSV is taken from its log
                    printf '%q %q --gmm-log libmfpo_seed%d.log libmfpo_seed%d.csv\n' "$py" "$here/compare.py" "$s" "$s"
                fi
            } >"$job"
        done
    done
    echo "compare.sh: $(ls "$jobdir"/*.sh | wc -l) runs, $jobs at a time, logs in $dir (load $(cut -d' ' -f1-3 /proc/loadavg))"
    t0=$(date +%s)
    ls "$jobdir"/*.sh | xargs -P "$jobs" -I{} bash -c 'echo "start $(basename {} .sh) $(date +%T)"; bash {}; echo "end   $(basename {} .sh) $(date +%T) rc $?"'
    echo "compare.sh: all runs ended after $(($(date +%s) - t0)) s"
    grep -h '^RESULT' "$dir"/*_seed*.log || true
fi
"$py" "$here/compare.py" --task "$task" --dir "$dir" --seeds "$seeds" ${max_step[@]+"${max_step[@]}"}
