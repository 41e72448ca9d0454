#!/usr/bin/env bash
# Runs one data-parallel test of tests/mpi/mpi_dp.c under mpirun with 2 ranks.
#   run.sh MODE PROGRAM     (PROGRAM empty: the MPI component was not built -> skipped, exit 77)
set -u
mode=$1
prog=${2:-}
if [ -z "$prog" ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP: libmfpo-mpi not built (configure with -Dmpi=enabled; Debian: libopenmpi-dev openmpi-bin)"
    exit 77
fi
# root in CI containers; more ranks than cores on a 2-core machine; no network interfaces needed
mpi=(mpirun -np 2 --allow-run-as-root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
export OMPI_MCA_rmaps_base_oversubscribe=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mfpo-mpi-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

case "$mode" in
identical | halfbatch)
    "${mpi[@]}" "$prog" "$mode"
    exit $?
    ;;
learn)
    "${mpi[@]}" "$prog" learn "${MFPO_MPI_LEARN_STEPS:-4000}"
    exit $?
    ;;
resume)
    # run A: train, checkpoint, train on; run B (new processes): load, train on as A did
    "${mpi[@]}" "$prog" resume-a "$tmp" >"$tmp/a.log" 2>&1 || { cat "$tmp/a.log"; exit 1; }
    "${mpi[@]}" "$prog" resume-b "$tmp" >"$tmp/b.log" 2>&1 || { cat "$tmp/b.log"; exit 1; }
    cat "$tmp/a.log" "$tmp/b.log"
    a_saved=$(grep '^HASH saved' "$tmp/a.log"); b_saved=$(grep '^HASH saved' "$tmp/b.log")
    a_final=$(grep '^HASH final' "$tmp/a.log"); b_final=$(grep '^HASH final' "$tmp/b.log")
    [ -n "$a_final" ] || { echo "FAIL: no final hash"; exit 1; }
    [ "$a_saved" = "$b_saved" ] || { echo "FAIL: the loaded state differs from the saved one"; exit 1; }
    [ "$a_final" = "$b_final" ] || { echo "FAIL: the resumed run ends elsewhere: '$a_final' vs '$b_final'"; exit 1; }
    [ "$a_saved" != "$a_final" ] || { echo "FAIL: training after the checkpoint changed nothing"; exit 1; }
    echo "PASS resume: the resumed 2-rank run ends bit-identical (state and every rank's random position)"
    ;;
kill)
    # Start training with a checkpoint per chunk; after the second checkpoint kill rank 1 with
    # SIGKILL. The job must stop within BOUND seconds, non-zero, rank 0 saying it stopped and the
    # runtime naming rank 1; the checkpoint LATEST names must load on 2 new ranks.
    bound=60
    "${mpi[@]}" "$prog" kill "$tmp" >"$tmp/kill.log" 2>&1 &
    job=$!
    for _ in $(seq 1 600); do
        grep -q '^checkpoint 2$' "$tmp/kill.log" 2>/dev/null && break
        kill -0 "$job" 2>/dev/null || break
        sleep 0.5
    done
    if ! grep -q '^checkpoint 2$' "$tmp/kill.log"; then
        cat "$tmp/kill.log"; echo "FAIL: no second checkpoint"; kill "$job" 2>/dev/null; exit 1
    fi
    victim=$(cat "$tmp/pid.1")
    start=$(date +%s%N)
    kill -9 "$victim"
    rc=0
    for _ in $(seq 1 $((bound * 10))); do
        kill -0 "$job" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$job" 2>/dev/null; then
        cat "$tmp/kill.log"; echo "FAIL: the job still runs $bound s after rank 1 was killed"; kill -9 "$job"; exit 1
    fi
    wait "$job" || rc=$?
    took=$((($(date +%s%N) - start) / 1000000))
    cat "$tmp/kill.log"
    [ "$rc" -ne 0 ] || { echo "FAIL: mpirun exited 0 after a rank was killed"; exit 1; }
    grep -q 'mfpo-mpi: rank 0 of 2 stopped by signal' "$tmp/kill.log" ||
        { echo "FAIL: rank 0 did not report that it stopped"; exit 1; }
    grep -Eq 'rank 1 .*(exited on signal 9|Killed)|process rank 1' "$tmp/kill.log" ||
        { echo "FAIL: the output does not name the failed rank 1"; exit 1; }
    echo "job stopped $took ms after rank 1 was killed (exit status $rc)"
    ls "$tmp"
    "${mpi[@]}" "$prog" loadcheck "$tmp" || { echo "FAIL: the last checkpoint does not load"; exit 1; }
    echo "PASS kill"
    ;;
envfail)
    # rank 1's environment callback fails: rank 1 stops the whole job (mfpo_mpi_abort) with a
    # message naming itself and the callback, within the bound, mpirun non-zero
    start=$(date +%s)
    timeout 120 "${mpi[@]}" "$prog" envfail >"$tmp/fail.log" 2>&1
    rc=$?
    cat "$tmp/fail.log"
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { echo "FAIL: exit status $rc (0: no failure seen; 124: hung)"; exit 1; }
    grep -q 'mfpo-mpi: rank 1 of 2 failed: mfpo_train, chunk 1: mfpo_train: env->step returned status 5' "$tmp/fail.log" ||
        { echo "FAIL: no message naming rank 1 and the failing callback"; exit 1; }
    echo "PASS envfail: the job stopped after $(($(date +%s) - start)) s with exit status $rc"
    ;;
*)
    echo "run.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
