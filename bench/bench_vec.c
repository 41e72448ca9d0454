/*
 * bench_vec: environment steps per second of mfpo_train_vec() on the pendulum (examples/common)
 * with N = 1, 4 and 16 instances, at the shipped pendulum settings (pendulum_agent_config(), one
 * update per environment step) and with acting alone (no update: the batched policy call and the
 * simulators). Rounds alternate N so that a load change on a shared machine touches every N alike.
 *
 *   bench_vec [--smoke] [--rounds 3] [--steps 480] [--act-steps 4800]
 *
 * Prints per round and N one line, and at the end (medians over the rounds)
 *   RESULT bench_vec n=<N> utd1_env_steps_per_s=<f> act_env_steps_per_s=<f>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mfpo.h>

#include "common/pendulum_env.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* env steps/s of one run: a buffer pre-filled with 1000 warm-up steps (not timed), then `steps`
 * environment steps over n instances at the given update-to-data ratio */
static double one_run(size_t n, long steps, double utd)
{
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = MFPO_BACKEND_CPU;
    co.threads = 1;
    mfpo_context *ctx = NULL;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    if (mfpo_context_create(&co, &ctx) != MFPO_OK || mfpo_agent_create(ctx, &c, &ag) != MFPO_OK ||
        mfpo_replay_create(ctx, 3, 1, 100000, &rb) != MFPO_OK) {
        fprintf(stderr, "bench_vec: set-up failed: %s\n", mfpo_last_error(ctx));
        exit(1);
    }
    pendulum p[16];
    mfpo_env env[16];
    for (size_t i = 0; i < n; i++) pendulum_env(&p[i], &env[i]);
    mfpo_vec_options o;
    mfpo_vec_options_init(&o);
    mfpo_train_options to;
    mfpo_train_options_init(&to);
    o.train = &to;
    to.total_steps = 1000;
    to.warmup_steps = 1000;
    to.eval_every = 0;
    to.progress_every = 0;
    to.episode_limit = PENDULUM_EPISODE_STEPS;
    if (mfpo_train_vec(ag, rb, env, n, &o) != MFPO_OK) exit(1);
    to.total_steps = (uint64_t)steps;
    to.updates_per_step = utd;
    double t0 = now();
    if (mfpo_train_vec(ag, rb, env, n, &o) != MFPO_OK) {
        fprintf(stderr, "bench_vec: %s\n", mfpo_last_error(ctx));
        exit(1);
    }
    double rate = (double)steps / (now() - t0);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return rate;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int smoke = 0, rounds = 3;
    long steps = 480, act_steps = 4800;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--smoke"))
            smoke = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--act-steps") && i + 1 < argc)
            act_steps = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_vec [--smoke] [--rounds R] [--steps N] [--act-steps N]\n");
            return 2;
        }
    }
    if (smoke) rounds = 1, steps = 32, act_steps = 64;
    if (rounds < 1 || rounds > 50 || steps < 16 || act_steps < 16) {
        fprintf(stderr, "bench_vec: --rounds in [1, 50], --steps and --act-steps >= 16\n");
        return 2;
    }
    const size_t ns[3] = { 1, 4, 16 };
    double utd1[3][50], act[3][50];
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 3; k++) {
            /* steps a multiple of 16, so every N runs whole vector steps */
            utd1[k][r] = one_run(ns[k], steps / 16 * 16, 1.0);
            act[k][r] = one_run(ns[k], act_steps / 16 * 16, 1e-9);
            printf("round %d n=%2zu  utd 1: %8.1f env steps/s  acting only: %9.1f env steps/s\n", r + 1, ns[k],
                   utd1[k][r], act[k][r]);
            fflush(stdout);
        }
    for (int k = 0; k < 3; k++) {
        qsort(utd1[k], (size_t)rounds, sizeof(double), cmp);
        qsort(act[k], (size_t)rounds, sizeof(double), cmp);
        printf("RESULT bench_vec n=%zu utd1_env_steps_per_s=%.1f act_env_steps_per_s=%.1f\n", ns[k],
               utd1[k][rounds / 2], act[k][rounds / 2]);
    }
    return 0;
}
