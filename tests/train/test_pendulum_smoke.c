/*
 * Pendulum smoke run: MFPO with the shipped pendulum settings (examples/common/pendulum_env.c:
 * pendulum_agent_config(), 2 x 64 networks) trained by mfpo_train() for SMOKE_STEPS steps must
 * beat a uniformly random policy by SMOKE_MARGIN in mean return over the same ten evaluation
 * episodes (seeds SMOKE_EVAL_SEED + i, 200 steps each).
 *
 * For scale: a random policy scores about -1300 on these episodes, a solved pendulum about -150
 * (a dynamic-programming controller: about -120 on average). The shipped settings reach -200 at
 * 4000-5000 steps on seeds 0-2; this run scores about -185 after 4000 steps (3000 updates), and
 * the margin of 600 asks for a policy at least half of the way from random to solved, leaving
 * room for other BLAS kernels and summation orders (the run is deterministic for one build and
 * CPU, but not across them). About 15-25 s on one core; suite 'slow' (kept out of the sanitizer
 * and valgrind stages, which run the ~300-step variant in test_train.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <mfpo.h>

#include "common/pendulum_env.h"

#define SMOKE_STEPS 4000
#define SMOKE_MARGIN 600.0
#define SMOKE_EVAL_SEED 424242u
#define SMOKE_EPISODES 10

/* The random policy's mean return over the evaluation episodes (uniform torques in [-2, 2]). */
static double random_policy_return(void)
{
    pendulum p;
    mfpo_env env;
    pendulum_env(&p, &env);
    uint64_t state = 12345;
    double total = 0.0;
    for (int e = 0; e < SMOKE_EPISODES; e++) {
        float obs[PENDULUM_OBS_DIM], a[1], u[1];
        assert_int_equal(env.reset(env.user, SMOKE_EVAL_SEED + (uint64_t)e, obs), MFPO_OK);
        for (int t = 0; t < PENDULUM_EPISODE_STEPS; t++) {
            uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            a[0] = (float)((double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0);
            assert_int_equal(mfpo_env_scale_action(&env, a, u), MFPO_OK);
            float r;
            int term, trunc;
            assert_int_equal(env.step(env.user, u, obs, &r, &term, &trunc), MFPO_OK);
            total += r;
        }
    }
    return total / SMOKE_EPISODES;
}

static void test_pendulum_learns(void **state)
{
    (void)state;
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 0;
    mfpo_context *ctx = NULL;
    assert_int_equal(mfpo_context_create(&o, &ctx), MFPO_OK);
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_int_equal(mfpo_agent_create(ctx, &c, &ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(ctx, PENDULUM_OBS_DIM, PENDULUM_ACT_DIM, SMOKE_STEPS, &rb), MFPO_OK);
    pendulum tp, ep;
    mfpo_env env, eval_env;
    pendulum_env(&tp, &env);
    pendulum_env(&ep, &eval_env);

    double before = 0.0;
    assert_int_equal(mfpo_evaluate(ag, &eval_env, SMOKE_EPISODES, PENDULUM_EPISODE_STEPS, SMOKE_EVAL_SEED, &before),
                     MFPO_OK);
    mfpo_train_options t;
    pendulum_train_options(&t);
    t.total_steps = SMOKE_STEPS;
    t.eval_every = 0;
    t.seed = 0;
    mfpo_status s = mfpo_train(ag, rb, &env, &t);
    if (s != MFPO_OK) fail_msg("mfpo_train: %s", mfpo_last_error(ctx));
    double after = 0.0;
    assert_int_equal(mfpo_evaluate(ag, &eval_env, SMOKE_EPISODES, PENDULUM_EPISODE_STEPS, SMOKE_EVAL_SEED, &after),
                     MFPO_OK);
    double random = random_policy_return();
    printf("pendulum smoke: random policy %.1f, untrained agent %.1f, after %d steps %.1f (%llu updates); "
           "required >= %.1f (random + %.0f)\n",
           random, before, SMOKE_STEPS, after, (unsigned long long)mfpo_agent_update_count(ag), random + SMOKE_MARGIN,
           SMOKE_MARGIN);
    assert_true(random < -800.0); /* sanity: the episodes are not trivial */
    assert_true(after >= random + SMOKE_MARGIN);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_pendulum_learns) };
    return cmocka_run_group_tests_name("train_pendulum_smoke", tests, NULL, NULL);
}
