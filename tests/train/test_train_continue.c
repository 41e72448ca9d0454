/*
 * Continuing a training run across calls (mfpo_train_continue, mfpo_train_state):
 *  - two calls of 300 steps with a state equal one call of 600 (and a plain mfpo_train()) bit for bit (replay rings, every
 *    parameter, update count) and reset exactly the same training and evaluation episode seeds;
 *  - without a state, the second call replays the first call's seeds (the behaviour a state fixes);
 *  - a call cut in the middle of an episode: the next call starts the next episode seed, and the
 *    state counts steps, episodes started and evaluations;
 *  - a state of an unknown size is refused with the argument named and nothing run.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mfpo.h>

#include "../../lib/algo/replay.h"
#include "common/pendulum_env.h"

#define MAX_SEEDS 256

/* A pendulum that records the seed of every reset. */
typedef struct recording {
    pendulum p;
    uint64_t seeds[MAX_SEEDS];
    size_t n;
} recording;

static mfpo_status rec_reset(void *user, uint64_t seed, float *obs)
{
    recording *r = user;
    if (r->n < MAX_SEEDS) r->seeds[r->n] = seed;
    r->n++;
    return pendulum_reset(&r->p, seed, obs);
}

static mfpo_status rec_step(void *user, const float *action, float *obs, float *reward, int *term, int *trunc)
{
    recording *r = user;
    return pendulum_step(&r->p, action, obs, reward, term, trunc);
}

static void recording_env(recording *r, mfpo_env *env)
{
    memset(r, 0, sizeof *r);
    pendulum_env(&r->p, env);
    env->user = r;
    env->reset = rec_reset;
    env->step = rec_step;
}

typedef struct run {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *rb;
    recording train_rec, eval_rec;
    mfpo_env env, eval_env;
    uint64_t progress_steps[64];
    size_t n_progress;
} run;

static int on_progress(void *user, const mfpo_progress *p)
{
    run *r = user;
    if (p->evaluated && r->n_progress < 64) r->progress_steps[r->n_progress++] = p->step;
    return 0;
}

static run *run_new(void)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 7;
    assert_int_equal(mfpo_context_create(&o, &r->ctx), MFPO_OK);
    mfpo_agent_config c;
    assert_int_equal(mfpo_agent_config_preset(&c, "pendulum", PENDULUM_OBS_DIM, PENDULUM_ACT_DIM), MFPO_OK);
    c.hidden_width = 16;
    c.hidden_depth = 1;
    c.batch_size = 16;
    c.atoms = 21;
    c.fourier_features = 8;
    c.time_embed_dim = 8;
    c.eval_candidates = 3;
    assert_int_equal(mfpo_agent_create(r->ctx, &c, &r->ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(r->ctx, PENDULUM_OBS_DIM, PENDULUM_ACT_DIM, 1000, &r->rb), MFPO_OK);
    recording_env(&r->train_rec, &r->env);
    recording_env(&r->eval_rec, &r->eval_env);
    return r;
}

static void run_free(run *r)
{
    mfpo_replay_destroy(r->rb);
    mfpo_agent_destroy(r->ag);
    mfpo_context_destroy(r->ctx);
    free(r);
}

static void options(run *r, mfpo_train_options *o, uint64_t steps)
{
    mfpo_train_options_preset(o, "pendulum");
    o->total_steps = steps;
    o->warmup_steps = 100;
    o->eval_every = 150;
    o->eval_episodes = 2;
    o->episode_limit = 50;
    o->seed = 3;
    o->eval_env = &r->eval_env;
    o->progress = on_progress;
    o->progress_user = r;
}

static void train(run *r, uint64_t steps, mfpo_train_state *state)
{
    mfpo_train_options o;
    options(r, &o, steps);
    mfpo_status s =
        state ? mfpo_train_continue(r->ag, r->rb, &r->env, &o, state) : mfpo_train(r->ag, r->rb, &r->env, &o);
    if (s != MFPO_OK) fail_msg("mfpo_train: %s", mfpo_last_error(r->ctx));
}

/* Every parameter of the policy and the divergence net, and the critics' Q on fixed inputs. */
static void assert_same_agent(run *a, run *b)
{
    mfpo_policy *pa = mfpo_agent_policy(a->ag), *pb = mfpo_agent_policy(b->ag);
    size_t n = mfpo_policy_param_count(pa);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_int_equal(mfpo_policy_get_params(pa, x, n), MFPO_OK);
    assert_int_equal(mfpo_policy_get_params(pb, y, n), MFPO_OK);
    assert_memory_equal(x, y, n * sizeof *x);
    free(x);
    free(y);
    mfpo_divergence *da = mfpo_agent_divergence(a->ag), *db = mfpo_agent_divergence(b->ag);
    n = mfpo_divergence_param_count(da);
    x = malloc(n * sizeof *x);
    y = malloc(n * sizeof *y);
    assert_int_equal(mfpo_divergence_get_params(da, x, n), MFPO_OK);
    assert_int_equal(mfpo_divergence_get_params(db, y, n), MFPO_OK);
    assert_memory_equal(x, y, n * sizeof *x);
    free(x);
    free(y);
    const float obs[6] = { 1, 0, 0.5f, 0, 1, -2 }, act[2] = { 0.25f, -0.75f };
    float qa[2], qb[2];
    assert_int_equal(mfpo_critic_q(mfpo_agent_critic(a->ag), obs, act, 2, 0, qa), MFPO_OK);
    assert_int_equal(mfpo_critic_q(mfpo_agent_critic(b->ag), obs, act, 2, 0, qb), MFPO_OK);
    assert_memory_equal(qa, qb, sizeof qa);
    assert_int_equal(mfpo_agent_update_count(a->ag), mfpo_agent_update_count(b->ag));
    algo_replay_view va, vb;
    algo_replay_raw(a->rb, &va);
    algo_replay_raw(b->rb, &vb);
    assert_int_equal(va.size, vb.size);
    assert_memory_equal(va.obs, vb.obs, va.size * va.obs_dim * sizeof(float));
    assert_memory_equal(va.act, vb.act, va.size * va.act_dim * sizeof(float));
    assert_memory_equal(va.reward, vb.reward, va.size * sizeof(float));
    assert_memory_equal(va.next_obs, vb.next_obs, va.size * va.obs_dim * sizeof(float));
}

static void test_two_calls_equal_one(void **state)
{
    (void)state;
    run *one = run_new(), *two = run_new();
    mfpo_train_state s1, s2;
    mfpo_train_state_init(&s1);
    mfpo_train_state_init(&s2);
    train(one, 600, &s1);
    train(two, 300, &s2);
    assert_int_equal(s2.steps, 300);
    assert_int_equal(s2.episodes, 6);
    assert_int_equal(s2.evaluations, 2);
    train(two, 300, &s2);
    assert_memory_equal(&s1, &s2, sizeof s1);
    assert_int_equal(s1.steps, 600);
    assert_int_equal(s1.episodes, 12);
    assert_int_equal(s1.evaluations, 4);
    assert_same_agent(one, two);
    /* the same episode seeds, all distinct, training and evaluation */
    assert_int_equal(one->train_rec.n, 12);
    assert_int_equal(two->train_rec.n, 12);
    assert_memory_equal(one->train_rec.seeds, two->train_rec.seeds, 12 * sizeof(uint64_t));
    assert_int_equal(one->eval_rec.n, 8);
    assert_int_equal(two->eval_rec.n, 8);
    assert_memory_equal(one->eval_rec.seeds, two->eval_rec.seeds, 8 * sizeof(uint64_t));
    for (size_t i = 1; i < 12; i++) assert_true(one->train_rec.seeds[i] == one->train_rec.seeds[i - 1] + 1);
    for (size_t i = 1; i < 8; i++) assert_true(one->eval_rec.seeds[i] == one->eval_rec.seeds[i - 1] + 1);
    /* evaluations at run steps 150, 300, 450, 600 in both, reported with the run's step */
    assert_int_equal(one->n_progress, 4);
    assert_int_equal(two->n_progress, 4);
    assert_memory_equal(one->progress_steps, two->progress_steps, 4 * sizeof(uint64_t));
    assert_int_equal(two->progress_steps[3], 600);
    /* a fresh state is a plain mfpo_train() call */
    run *plain = run_new();
    train(plain, 600, NULL);
    assert_same_agent(one, plain);
    assert_memory_equal(one->train_rec.seeds, plain->train_rec.seeds, 12 * sizeof(uint64_t));
    assert_memory_equal(one->eval_rec.seeds, plain->eval_rec.seeds, 8 * sizeof(uint64_t));
    run_free(plain);
    run_free(one);
    run_free(two);
}

static void test_without_state_seeds_restart(void **state)
{
    (void)state;
    run *r = run_new();
    train(r, 300, NULL);
    train(r, 300, NULL);
    assert_int_equal(r->train_rec.n, 12);
    assert_memory_equal(r->train_rec.seeds, r->train_rec.seeds + 6, 6 * sizeof(uint64_t));
    assert_memory_equal(r->eval_rec.seeds, r->eval_rec.seeds + 4, 4 * sizeof(uint64_t));
    run_free(r);
}

static void test_cut_mid_episode(void **state)
{
    (void)state;
    run *r = run_new();
    mfpo_train_state s;
    mfpo_train_state_init(&s);
    train(r, 275, &s); /* 5 full episodes and 25 steps of a sixth */
    assert_int_equal(s.steps, 275);
    assert_int_equal(s.episodes, 6);
    assert_int_equal(s.evaluations, 1);
    train(r, 325, &s); /* the eval schedule carries on: run steps 300, 450, 600 */
    assert_int_equal(s.steps, 600);
    assert_int_equal(s.episodes, 13);
    assert_int_equal(s.evaluations, 4);
    assert_int_equal(r->train_rec.n, 13);
    for (size_t i = 1; i < 13; i++) assert_true(r->train_rec.seeds[i] == r->train_rec.seeds[i - 1] + 1);
    assert_int_equal(r->n_progress, 4);
    assert_int_equal(r->progress_steps[0], 150);
    assert_int_equal(r->progress_steps[1], 300);
    assert_int_equal(r->progress_steps[3], 600);
    run_free(r);
}

static void test_bad_state(void **state)
{
    (void)state;
    run *r = run_new();
    mfpo_train_state s;
    mfpo_train_state_init(&s);
    s.struct_size = 3;
    mfpo_train_options o;
    options(r, &o, 100);
    assert_int_equal(mfpo_train_continue(r->ag, r->rb, &r->env, &o, &s), MFPO_ERR_INVALID_ARGUMENT);
    char want[256];
    snprintf(want, sizeof want,
             "mfpo_train_continue: state->struct_size = 3 is not a size this library knows (expected %zu; call "
             "mfpo_train_state_init first)",
             sizeof(mfpo_train_state));
    assert_string_equal(mfpo_last_error(r->ctx), want);
    assert_int_equal(mfpo_train_continue(r->ag, r->rb, &r->env, &o, NULL), MFPO_ERR_INVALID_ARGUMENT);
    assert_string_equal(mfpo_last_error(r->ctx), "mfpo_train_continue: argument 'state' is NULL");
    assert_int_equal(mfpo_train_continue(NULL, r->rb, &r->env, &o, &s), MFPO_ERR_INVALID_ARGUMENT);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_train_continue: argument 'agent' is NULL");
    /* the other arguments are checked as by mfpo_train, named under the new function's name */
    s.struct_size = sizeof s;
    assert_int_equal(mfpo_train_continue(r->ag, NULL, &r->env, &o, &s), MFPO_ERR_INVALID_ARGUMENT);
    assert_string_equal(mfpo_last_error(r->ctx), "mfpo_train_continue: argument 'replay' is NULL");
    assert_int_equal(s.steps, 0);
    assert_int_equal(mfpo_replay_size(r->rb), 0);
    assert_int_equal(r->train_rec.n, 0);
    mfpo_train_state_init(NULL); /* ignored */
    run_free(r);
}

int main(void)
{
    setenv("MFPO_BACKEND", "cpu", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_calls_equal_one),
        cmocka_unit_test(test_without_state_seeds_restart),
        cmocka_unit_test(test_cut_mid_episode),
        cmocka_unit_test(test_bad_state),
    };
    return cmocka_run_group_tests_name("train_continue", tests, NULL, NULL);
}
