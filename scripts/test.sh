#!/usr/bin/env bash
# The whole test run of libmfpo, as CI runs it (`bash scripts/test.sh`, from any directory).
#
#   1. Debian packages (scripts/install-deps.sh) and the Python venv build/venv for the
#      reference and cross-check tests (tests/*/requirements.txt, when present).
#   2. build/ (release): every meson test.
#   3. build/asan (ASan + UBSan): every suite except 'slow', 'consumer' and 'nosan' (script-driven
#      tests included: the programs they start are instrumented).
#   4. build/ under valgrind memcheck: every suite except 'slow', 'consumer' and 'novalgrind',
#      native test programs only (scripts/test-wrap.sh); errors and definite/indirect leaks fail.
#   5. The Doxygen reference (warnings are errors).
#   6. fuzz: the libFuzzer targets of tests/fuzz (clang, build/fuzz), MFPO_FUZZ_SECONDS each
#      (default 60) via tests/fuzz/run.sh; any crash, leak or invariant violation fails the step.
#   7. pip: the Python package as a user installs it: a fresh venv (build/pip-venv), `pip install .`
#      (meson-python builds libmfpo into the package), the package's fast pytest suite against the
#      installed package, and examples/python/pendulum.py for 1500 steps. (The release stage
#      already ran the same pytest suite against build/'s library: meson suite 'python'.)
#
# Suite conventions (docs: README.md, "Tests"): 'slow' keeps a test out of stages 3 and 4;
# 'nosan' keeps it out of stage 3; 'novalgrind' keeps it out of stage 4.
# Environment: MFPO_TEST_JOBS (parallel tests, default nproc), MFPO_TEST_SKIP_DEPS=1 (no apt),
# MFPO_TEST_STAGES (default "release asan valgrind docs fuzz pip").
#
# The last line printed is "N passed, M failed"; the exit status is 0 only when M is 0.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# OpenBLAS kernels for this CPU (Debian's 0.3.21 misdetects some AVX-512 CPUs; see the script)
# shellcheck source=openblas-env.sh
. "$root/scripts/openblas-env.sh"
# nvcc for the CUDA backend module (cuda/meson.build looks on PATH): the toolkit's default folder,
# when a non-login shell left it out of PATH
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH"
fi
start=$(date +%s)
jobs=${MFPO_TEST_JOBS:-$(nproc)}
stages=${MFPO_TEST_STAGES:-release asan valgrind docs fuzz pip}
results="$root/build/test-results"
build="$root/build"
asan="$root/build/asan"

log() { printf '\n==== [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }
has_stage() { [[ " $stages " == *" $1 "* ]]; }

# Failures of steps that are not meson tests (configure, build, docs) count as one test each.
extra_pass=0
extra_fail=0
step_ok() { extra_pass=$((extra_pass + 1)); }
step_failed() {
    echo "FAILED: $*"
    extra_fail=$((extra_fail + 1))
}

# ------------------------------------------------------------------ 1. dependencies
log "Debian packages"
if [ "${MFPO_TEST_SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install-deps.sh
fi

mkdir -p "$build" "$results"
rm -f "$results"/*.json

log "Python venv (build/venv)"
venv="$build/venv"
reqs=()
for f in tests/reference/requirements.txt tests/mujoco/requirements.txt tests/python/requirements.txt; do
    [ -f "$f" ] && reqs+=("$f")
done
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, not a user's pyenv
if [ ! -x "$venv/bin/python3" ]; then
    "$py" -m venv "$venv" || step_failed "python3 -m venv $venv"
fi
if [ -x "$venv/bin/python3" ]; then
    if [ "${#reqs[@]}" -gt 0 ]; then
        stamp="$venv/.requirements.sha256"
        want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
        if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
            pip=("$venv/bin/python3" -m pip install -q --disable-pip-version-check)
            pip_args=()
            for f in "${reqs[@]}"; do pip_args+=(-r "$f"); done
            if "${pip[@]}" "${pip_args[@]}"; then
                echo "$want" >"$stamp"
            else
                # Pins that conflict across files: install file by file (the later file's pins
                # win), and say so loudly. Tests missing a package report themselves skipped.
                echo "WARNING: ${reqs[*]} cannot be installed together; installing them one by one"
                ok=1
                for f in "${reqs[@]}"; do "${pip[@]}" -r "$f" || { ok=0; echo "WARNING: pip install -r $f failed"; }; done
                [ "$ok" = 1 ] && echo "$want" >"$stamp"
            fi
        else
            echo "requirements unchanged (${reqs[*]})"
        fi
    else
        echo "no requirements files yet"
    fi
    # find_program('python3') in meson finds the venv's interpreter first.
    export PATH="$venv/bin:$PATH"
fi

# Sets up (or reconfigures) a meson build directory; never wipes it (build/venv lives in build/).
setup() {
    local dir=$1
    shift
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$dir" "$@" >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log"; return 1; }
    else
        mkdir -p "$dir"
        meson setup "$dir" "$@" >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log"; return 1; }
    fi
}

# Runs meson test with a log base name; a non-zero exit is recorded from the JSON log.
run_tests() {
    local dir=$1 name=$2
    shift 2
    local json
    rm -f "$dir/meson-logs/$name"*.json
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" --logbase "$name" "$@" || true
    # meson appends the wrapper's name to the log base when --wrap is given
    json=$(ls -t "$dir/meson-logs/$name"*.json 2>/dev/null | head -n 1)
    if [ -n "$json" ]; then
        cp "$json" "$results/$name.json"
    else
        step_failed "meson test ($name) produced no log"
    fi
}

# ------------------------------------------------------------------ 2. release
release_built=0
if has_stage release || has_stage valgrind || has_stage docs; then
    log "release build (build/)"
    # -Dmpi=enabled: libmfpo-mpi and its mpirun tests (tests/mpi) must build here (install-deps.sh)
    if setup "$build" -Dbuildtype=release -Ddocs=enabled -Dmpi=enabled && meson compile -C "$build" -j "$jobs"; then
        release_built=1
        step_ok
    else
        step_failed "release build"
    fi
fi
if has_stage release && [ "$release_built" = 1 ]; then
    log "release tests"
    run_tests "$build" release
fi

# ------------------------------------------------------------------ 3. ASan + UBSan
if has_stage asan; then
    log "ASan + UBSan build (build/asan)"
    if setup "$asan" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
        -Ddocs=disabled && meson compile -C "$asan" -j "$jobs"; then
        step_ok
        log "ASan + UBSan tests (suites except slow, consumer, nosan)"
        # Script-driven tests run too: the programs they start are the instrumented ones.
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
            run_tests "$asan" asan --no-suite slow --no-suite consumer --no-suite nosan --timeout-multiplier 3
    else
        step_failed "ASan + UBSan build"
    fi
fi

# ------------------------------------------------------------------ 4. valgrind
if has_stage valgrind && [ "$release_built" = 1 ]; then
    log "valgrind memcheck (suites except slow, consumer, novalgrind)"
    # valgrind 3.19 does not emulate AVX-512: OpenBLAS must not be forced onto its SkylakeX
    # kernels there (the library's own loops pick their clone from valgrind's CPUID, AVX2 at most)
    if [ "${OPENBLAS_CORETYPE:-}" = SkylakeX ]; then export OPENBLAS_CORETYPE=Haswell; fi
    run_tests "$build" valgrind --no-suite slow --no-suite consumer --no-suite novalgrind \
        --wrap="$root/scripts/test-wrap.sh valgrind $build" --timeout-multiplier 10
fi

# ------------------------------------------------------------------ 5. docs
if has_stage docs && [ "$release_built" = 1 ]; then
    log "Doxygen reference (warnings are errors)"
    if meson compile -C "$build" docs; then
        echo "docs: $build/docs/html/index.html"
        step_ok
    else
        step_failed "docs"
    fi
fi

# ------------------------------------------------------------------ 6. fuzz
if has_stage fuzz; then
    log "fuzzing (tests/fuzz/run.sh, ${MFPO_FUZZ_SECONDS:-60} s per target, build/fuzz)"
    if MFPO_FUZZ_BUILD="$build/fuzz" bash tests/fuzz/run.sh "${MFPO_FUZZ_SECONDS:-60}"; then
        step_ok
    else
        step_failed "fuzz (artifacts in build/fuzz/fuzz-artifacts)"
    fi
fi

# ------------------------------------------------------------------ 7. pip install .
if has_stage pip; then
    log "pip install . in a fresh venv (build/pip-venv), the package's tests, examples/python/pendulum.py"
    pipvenv="$build/pip-venv"
    rm -rf "$pipvenv"
    pip_ok=0
    # meson-python (and its meson and ninja) by name in the venv, then a build without isolation,
    # at most $jobs compile jobs
    if "$py" -m venv "$pipvenv" &&
        "$pipvenv/bin/pip" install -q --disable-pip-version-check meson-python pytest &&
        "$pipvenv/bin/pip" install -q --disable-pip-version-check --no-build-isolation \
            --config-settings=compile-args="-j$jobs" "$root"; then
        pip_ok=1
        step_ok
    else
        step_failed "pip install . (build/pip-venv)"
    fi
    if [ "$pip_ok" = 1 ]; then
        # from outside the source tree, so that the installed package is the one imported
        if (cd "$build" && env -u MFPO_LIBRARY -u PYTHONPATH OPENBLAS_NUM_THREADS=1 \
            "$pipvenv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" "$root/tests/python"); then
            step_ok
        else
            step_failed "pytest tests/python against the pip-installed package"
        fi
        if (cd "$build" && env -u MFPO_LIBRARY -u PYTHONPATH OPENBLAS_NUM_THREADS=1 \
            "$pipvenv/bin/python" "$root/examples/python/pendulum.py" --steps 1500 --quiet --out "$build/pendulum-py"); then
            step_ok
        else
            step_failed "examples/python/pendulum.py with the pip-installed package"
        fi
    fi
fi

# ------------------------------------------------------------------ summary
log "summary"
summary=$(python3 - "$results" "$extra_pass" "$extra_fail" <<'PY'
import glob, json, os, sys

results, extra_pass, extra_fail = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
passed, failed, skipped = extra_pass, extra_fail, 0
for path in sorted(glob.glob(os.path.join(results, "*.json"))):
    stage = os.path.basename(path)[:-5]
    counts = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            r = t.get("result", "ERROR")
            counts[r] = counts.get(r, 0) + 1
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
                print(f"  {stage}: {t.get('name')} {r}", file=sys.stderr)
    print(f"  {stage:9s} " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
print(f"  other steps (builds, docs): {extra_pass} ok, {extra_fail} failed; {skipped} tests skipped", file=sys.stderr)
print(passed, failed)
PY
)
read -r npass nfail <<<"$summary"
echo "  wall time: $(($(date +%s) - start)) s"
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
