/*
 * step_loop: the pendulum task of pendulum.c written with the step-level calls instead of
 * mfpo_train(), to show the loop the driver runs (docs/algorithm.md §5):
 *
 *   warm-up:   uniform random actions in [-1, 1]            (here from the program's own generator)
 *   acting:    mfpo_agent_act()                              one plain policy sample
 *   env step:  mfpo_env_scale_action() to the env's bounds, then the simulator (called directly)
 *   storing:   mfpo_replay_add(..., terminated)              mask 0 only on a true termination
 *   learning:  mfpo_update()                                 one per environment step after warm-up
 *   eval:      mfpo_agent_select_action()                    best of eval_candidates by the target critics
 *
 *   step_loop [--seed N] [--steps N] [--warmup N] [--eval-every N] [--eval-episodes N] [--threads N]
 *             [--backend cpu|cuda|auto]
 *
 * Uses the shipped pendulum settings (pendulum_agent_config()). Ends with
 *   RESULT step_loop seed=<n> steps=<n> eval_return=<f> seconds=<f>
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mfpo.h>

#include "common/cli.h"
#include "common/pendulum_env.h"

/* Every failure goes to the cleanup at the end of main(), which releases what exists. */
#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        mfpo_status s_ = (call);                                                                                       \
        if (s_ != MFPO_OK) {                                                                                           \
            fprintf(stderr, "step_loop: %s failed: %s\n", #call, mfpo_last_error(ctx));                                \
            goto cleanup;                                                                                              \
        }                                                                                                              \
    } while (0)

/* The simulator's own failures (it reports no text). */
#define SIM_CHECK(call)                                                                                                \
    do {                                                                                                               \
        if ((call) != MFPO_OK) {                                                                                       \
            fprintf(stderr, "step_loop: the simulator failed: %s\n", #call);                                           \
            goto cleanup;                                                                                              \
        }                                                                                                              \
    } while (0)

/* The program's own generator for warm-up actions (any will do). */
static uint64_t rng_state;
static float uniform_pm1(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* Mean return of `episodes` episodes with evaluation-time action selection on the simulator `p`
 * (bounds from `env`); episode i uses seed base + i. */
static mfpo_status evaluate(mfpo_agent *ag, pendulum *p, const mfpo_env *env, int episodes, uint64_t base, double *mean)
{
    float obs[PENDULUM_OBS_DIM], next[PENDULUM_OBS_DIM], a[PENDULUM_ACT_DIM], torque[PENDULUM_ACT_DIM];
    double total = 0.0;
    for (int e = 0; e < episodes; e++) {
        if (pendulum_reset(p, base + (uint64_t)e, obs) != MFPO_OK) {
            fprintf(stderr, "step_loop: the evaluation simulator failed to reset\n");
            return MFPO_ERR_ENV;
        }
        for (;;) {
            float r;
            int term = 0, trunc = 0;
            mfpo_status s = mfpo_agent_select_action(ag, obs, 1, a);
            if (s != MFPO_OK) return s;
            if ((s = mfpo_env_scale_action(env, a, torque)) != MFPO_OK) return s;
            if (pendulum_step(p, torque, next, &r, &term, &trunc) != MFPO_OK) {
                fprintf(stderr, "step_loop: the evaluation simulator failed to step\n");
                return MFPO_ERR_ENV;
            }
            total += r;
            if (term || trunc) break;
            for (int i = 0; i < PENDULUM_OBS_DIM; i++) obs[i] = next[i];
        }
    }
    *mean = total / episodes;
    return MFPO_OK;
}

int main(int argc, char **argv)
{
    long seed = 0, steps = 20000, warmup = 1000, eval_every = 1000, eval_episodes = 10, threads = 0;
    const char *backend = "cpu";
    cli_arg args[] = {
        { "--seed", CLI_LONG, &seed },
        { "--steps", CLI_LONG, &steps },
        { "--warmup", CLI_LONG, &warmup },
        { "--eval-every", CLI_LONG, &eval_every },
        { "--eval-episodes", CLI_LONG, &eval_episodes },
        { "--threads", CLI_LONG, &threads },
        { "--backend", CLI_STRING, &backend },
    };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) return 2;
    if (seed < 0 || steps < 0 || warmup < 0 || eval_every < 1 || eval_episodes < 1 || threads < 0) {
        fprintf(stderr, "step_loop: --eval-every and --eval-episodes must be >= 1, the rest >= 0\n");
        return 2;
    }
    rng_state = (uint64_t)seed;

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    if (cli_backend(backend, &o.backend) != 0) return 2;
    mfpo_context *ctx = NULL;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    int rc = 1;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) {
        fprintf(stderr, "step_loop: %s\n", mfpo_last_error(NULL));
        return 1;
    }
    /* the simulators, called directly below; the mfpo_env only describes their action bounds for
     * mfpo_env_scale_action() */
    pendulum train_p, eval_p;
    mfpo_env env, eval_env;
    pendulum_env(&train_p, &env);
    pendulum_env(&eval_p, &eval_env);
    mfpo_agent_config cfg;
    pendulum_agent_config(&cfg);
    CHECK(mfpo_agent_create(ctx, &cfg, &ag));
    CHECK(mfpo_replay_create(ctx, env.obs_dim, env.act_dim, (size_t)(steps > 0 ? steps : 1), &rb));

    float obs[PENDULUM_OBS_DIM], next[PENDULUM_OBS_DIM], a[PENDULUM_ACT_DIM], torque[PENDULUM_ACT_DIM];
    mfpo_update_stats st = { .struct_size = sizeof st };
    uint64_t episode = 0;
    double episode_return = 0.0, last_return = NAN, eval_return = NAN;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    SIM_CHECK(pendulum_reset(&train_p, (uint64_t)seed * 1000003u + episode, obs));
    for (long step = 1; step <= steps; step++) {
        /* 1. act in the normalized box [-1, 1]^A */
        if (step <= warmup)
            for (int i = 0; i < PENDULUM_ACT_DIM; i++) a[i] = uniform_pm1();
        else
            CHECK(mfpo_agent_act(ag, obs, 1, a));
        /* 2. map to the simulator's torque range and step it */
        CHECK(mfpo_env_scale_action(&env, a, torque));
        float r;
        int terminated = 0, truncated = 0;
        SIM_CHECK(pendulum_step(&train_p, torque, next, &r, &terminated, &truncated));
        /* 3. store the normalized action; only a true termination cuts the bootstrap (the
         *    pendulum never terminates: its 200-step limit is a truncation, mask 1) */
        CHECK(mfpo_replay_add(rb, obs, a, r, next, terminated));
        episode_return += r;
        /* 4. learn */
        if (step > warmup) CHECK(mfpo_update(ag, rb, &st));
        /* 5. next state, or a new episode */
        if (terminated || truncated) {
            last_return = episode_return;
            episode_return = 0.0;
            episode++;
            SIM_CHECK(pendulum_reset(&train_p, (uint64_t)seed * 1000003u + episode, obs));
        } else {
            for (int i = 0; i < PENDULUM_OBS_DIM; i++) obs[i] = next[i];
        }
        /* 6. evaluate on the separate instance, same start states every time */
        if (step % eval_every == 0) {
            CHECK(evaluate(ag, &eval_p, &eval_env, (int)eval_episodes, 1000000007u, &eval_return));
            double sec = seconds_since(&t0);
            printf("step %6ld  %6.1f steps/s  episode %8.1f  eval %8.1f  alpha %.4f  critic %.3f  actor %.4f\n", step,
                   (double)step / sec, last_return, eval_return, (double)mfpo_agent_alpha(ag), (double)st.critic_loss,
                   (double)st.actor_loss);
            fflush(stdout);
        }
    }
    printf("RESULT step_loop seed=%ld steps=%ld eval_return=%.1f seconds=%.1f\n", seed, steps, eval_return,
           seconds_since(&t0));
    rc = 0;
cleanup:
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return rc;
}
