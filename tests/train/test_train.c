/*
 * The environment interface and the training driver (lib/api/env.c, lib/algo/train.c), linked
 * against the library's objects so that the agent's whole state (parameters, targets, Adam
 * moments, log alpha) and the replay rings can be compared byte for byte:
 *
 * - mfpo_env_init / close / scale_action, and the exact error texts of bad environments;
 * - mfpo_train's argument errors;
 * - a step callback failing at step k, a NaN observation, an infinite reward, a failing reset:
 *   MFPO_ERR_ENV naming the callback, the step and the value, the buffer holding exactly the
 *   k - 1 transitions before it (row for row what the env saw), and the agent's state equal to
 *   its snapshot after step k - 1;
 * - cancelling from the progress callback;
 * - bootstrap masks: true terminations store terminated = 1, the env's truncation and the
 *   episode_limit cut store 0, and every episode end resets;
 * - warm-up actions, action scaling, fractional update-to-data ratios, warm-up skipped when the
 *   buffer is already full enough, evaluation seeds, progress reports;
 * - no host allocation per step;
 * - a ~300-step pendulum run (all suites, so the sanitizers and valgrind cover mfpo_train).
 */
#include <math.h>

#include "../api/test_support.h"

#include "algo/update.h"
#include "algo/replay.h"

enum { S = 3, A = 2, LOG_CAP = 4096 };

/* ------------------------------------------------------------------ a scripted environment */

typedef struct script_env {
    float low[A], high[A];
    float state[S];
    uint64_t steps;         /* step() calls so far, all episodes */
    uint64_t episode_steps; /* since the last reset */
    uint64_t resets;        /* reset() calls */
    uint64_t reset_seeds[LOG_CAP];
    uint64_t fail_step;    /* step() returns MFPO_ERR_IO on this call (1-based); 0: never */
    uint64_t nan_obs_step; /* next_obs[1] = NaN on this call */
    uint64_t inf_reward_step;
    uint64_t fail_reset; /* reset() number (1-based) that fails */
    uint64_t nan_reset;  /* reset() number whose obs[2] is NaN */
    int episode_rules;   /* 1: terminations and truncations by reset index (test_masks) */
    double episode_return, returns_sum;
    uint64_t episodes_ended;
    /* logs, one row per step() call */
    float obs[LOG_CAP][S], act[LOG_CAP][A], rew[LOG_CAP], next[LOG_CAP][S];
    int term[LOG_CAP], trunc[LOG_CAP];
    float first_obs[LOG_CAP][S]; /* the observation of each reset */
} script_env;

static mfpo_status script_reset(void *user, uint64_t seed, float *obs)
{
    script_env *e = user;
    e->resets++;
    if (e->resets < LOG_CAP) e->reset_seeds[e->resets - 1] = seed;
    if (e->fail_reset == e->resets) return MFPO_ERR_IO;
    for (int i = 0; i < S; i++) e->state[i] = (float)(seed % 97) * 0.01f + 0.1f * (float)i;
    memcpy(obs, e->state, sizeof e->state);
    if (e->nan_reset == e->resets) obs[2] = NAN;
    if (e->resets < LOG_CAP) memcpy(e->first_obs[e->resets - 1], obs, sizeof e->state);
    e->episode_steps = 0;
    e->episode_return = 0.0;
    return MFPO_OK;
}

static mfpo_status script_step(void *user, const float *action, float *obs, float *reward, int *terminated,
                               int *truncated)
{
    script_env *e = user;
    uint64_t k = e->steps++;
    if (e->fail_step == k + 1) return MFPO_ERR_IO;
    assert_true(k < LOG_CAP);
    memcpy(e->obs[k], e->state, sizeof e->state);
    memcpy(e->act[k], action, A * sizeof(float));
    float r = 0.0f;
    for (int i = 0; i < S; i++) {
        e->state[i] = 0.9f * e->state[i] + 0.1f * action[i % A] + 0.01f * (float)i;
        r -= e->state[i] * e->state[i];
    }
    e->episode_steps++;
    memcpy(obs, e->state, sizeof e->state);
    *reward = r;
    *terminated = 0;
    *truncated = 0;
    if (e->episode_rules) {
        /* reset index % 3: 0 terminates after 4 steps (and also says truncated on that step:
         * termination must win); 1 is truncated by the env after 3; 2 never ends on its own (the
         * driver's episode_limit cuts it) */
        uint64_t kind = (e->resets - 1) % 3;
        if (kind == 0 && e->episode_steps == 4) *terminated = *truncated = 1;
        if (kind == 1 && e->episode_steps == 3) *truncated = 1;
    }
    if (e->nan_obs_step == k + 1) obs[1] = NAN;
    if (e->inf_reward_step == k + 1) *reward = INFINITY;
    memcpy(e->next[k], obs, sizeof e->state);
    e->rew[k] = *reward;
    e->term[k] = *terminated;
    e->trunc[k] = *truncated;
    e->episode_return += *reward;
    return MFPO_OK;
}

static int closed_count;
static void script_close(void *user)
{
    (void)user;
    closed_count++;
}

static script_env *script_new(mfpo_env *env)
{
    script_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->low[0] = -2.0f;
    e->high[0] = 2.0f;
    e->low[1] = 0.0f;
    e->high[1] = 10.0f;
    mfpo_env_init(env);
    env->obs_dim = S;
    env->act_dim = A;
    env->action_low = e->low;
    env->action_high = e->high;
    env->user = e;
    env->reset = script_reset;
    env->step = script_step;
    return e;
}

/* ------------------------------------------------------------------ agent helpers */

static void tiny_config(mfpo_agent_config *c, size_t obs_dim, size_t act_dim)
{
    mfpo_agent_config_init(c, obs_dim, act_dim);
    c->hidden_width = 16;
    c->hidden_depth = 1;
    c->batch_size = 16;
    c->policy_samples = 4;
    c->gaussian_samples = 4;
    c->atoms = 11;
    c->v_min = -50.0f;
    c->v_max = 10.0f;
    c->fourier_features = 8;
    c->time_embed_dim = 8;
    c->eval_candidates = 3;
}

typedef struct fixture {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *rb;
    mfpo_env env, eval_env;
    script_env *se, *eval_se;
} fixture;

static fixture *fixture_new(const mfpo_allocator *alloc)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = cpu_context(7, alloc);
    mfpo_agent_config c;
    tiny_config(&c, S, A);
    assert_status(mfpo_agent_create(f->ctx, &c, &f->ag), MFPO_OK, f->ctx);
    assert_status(mfpo_replay_create(f->ctx, S, A, 10000, &f->rb), MFPO_OK, f->ctx);
    f->se = script_new(&f->env);
    f->eval_se = script_new(&f->eval_env);
    return f;
}

static void fixture_free(fixture *f)
{
    mfpo_replay_destroy(f->rb);
    mfpo_agent_destroy(f->ag);
    mfpo_context_destroy(f->ctx);
    free(f->se);
    free(f->eval_se);
    free(f);
}

static void quick_options(mfpo_train_options *o, uint64_t total, uint64_t warmup)
{
    mfpo_train_options_init(o);
    o->total_steps = total;
    o->warmup_steps = warmup;
    o->eval_every = 0;
    o->episode_limit = 50;
    o->progress_every = 0;
}

/* The agent's whole trainable state (parameters, targets, moments, log alpha) on the host. */
typedef struct agent_snapshot {
    float *state;
    size_t n;
    uint64_t updates;
    size_t replay_size;
    uint64_t step;
} agent_snapshot;

static void snapshot_take(mfpo_agent *ag, mfpo_replay *rb, agent_snapshot *s)
{
    if (!s->state) {
        s->n = ag->off.total;
        s->state = malloc(s->n * sizeof(float));
        assert_non_null(s->state);
    }
    ag->ctx->be->ops->download(ag->ctx->be, s->state, ag->state, s->n * sizeof(float));
    s->updates = mfpo_agent_update_count(ag);
    s->replay_size = mfpo_replay_size(rb);
}

static void assert_agent_equals(mfpo_agent *ag, const agent_snapshot *s)
{
    float *now = malloc(s->n * sizeof(float));
    assert_non_null(now);
    ag->ctx->be->ops->download(ag->ctx->be, now, ag->state, s->n * sizeof(float));
    assert_memory_equal(now, s->state, s->n * sizeof(float));
    assert_int_equal(mfpo_agent_update_count(ag), s->updates);
    free(now);
}

/* Snapshots the agent after every step (progress_every = 1). */
typedef struct snap_user {
    mfpo_agent *ag;
    mfpo_replay *rb;
    agent_snapshot snap;
    uint64_t cancel_at; /* return 1 at this step */
    uint64_t calls, evaluations;
    mfpo_progress last;
} snap_user;

static int snap_progress(void *user, const mfpo_progress *p)
{
    snap_user *u = user;
    u->calls++;
    u->evaluations += p->evaluated ? 1 : 0;
    u->last = *p;
    snapshot_take(u->ag, u->rb, &u->snap);
    u->snap.step = p->step;
    return u->cancel_at && p->step == u->cancel_at;
}

/* Rows [0, n) of the buffer are, row for row, what the env saw (actions through the env's map). */
static void assert_replay_matches_env(mfpo_replay *rb, const script_env *e, size_t n)
{
    algo_replay_view v;
    algo_replay_raw(rb, &v);
    assert_int_equal(v.size, n);
    for (size_t j = 0; j < n; j++) {
        assert_memory_equal(v.obs + j * S, e->obs[j], S * sizeof(float));
        assert_memory_equal(v.next_obs + j * S, e->next[j], S * sizeof(float));
        assert_true(v.reward[j] == e->rew[j]);
        assert_true(v.terminated[j] == (e->term[j] ? 1.0f : 0.0f));
        for (int i = 0; i < A; i++) {
            float a = v.act[j * A + i];
            assert_true(a >= -1.0f && a <= 1.0f);
            double want = (double)e->low[i] + 0.5 * ((double)a + 1.0) * ((double)e->high[i] - (double)e->low[i]);
            assert_true(fabs(want - (double)e->act[j][i]) <= 1e-5 * (1.0 + fabs(want)));
        }
    }
}

/* ------------------------------------------------------------------ mfpo_env */

static void test_env_init_close(void **state)
{
    (void)state;
    mfpo_env env;
    memset(&env, 0xab, sizeof env);
    mfpo_env_init(&env);
    assert_int_equal(env.struct_size, sizeof env);
    assert_int_equal(env.obs_dim, 0);
    assert_int_equal(env.act_dim, 0);
    assert_null(env.action_low);
    assert_null(env.action_high);
    assert_null(env.user);
    assert_null(env.reset);
    assert_null(env.step);
    assert_null(env.close);
    mfpo_env_init(NULL);
    mfpo_env_close(NULL);
    closed_count = 0;
    mfpo_env_close(&env); /* no close callback: nothing */
    env.close = script_close;
    mfpo_env_close(&env);
    assert_int_equal(closed_count, 1);
}

static void test_env_scale_action(void **state)
{
    (void)state;
    mfpo_env env;
    float low[3] = { -2.0f, 0.0f, 5.0f }, high[3] = { 2.0f, 10.0f, 6.0f };
    mfpo_env_init(&env);
    env.obs_dim = 1;
    env.act_dim = 3;
    env.action_low = low;
    env.action_high = high;
    float in[3] = { -1.0f, 0.0f, 1.0f }, out[3];
    assert_int_equal(mfpo_env_scale_action(&env, in, out), MFPO_OK);
    assert_float_equal(out[0], -2.0f, 0.0f);
    assert_float_equal(out[1], 5.0f, 0.0f);
    assert_float_equal(out[2], 6.0f, 0.0f);
    /* in and out may alias */
    float x[3] = { 0.5f, -0.5f, 0.0f };
    assert_int_equal(mfpo_env_scale_action(&env, x, x), MFPO_OK);
    assert_float_equal(x[0], 1.0f, 1e-6f);
    assert_float_equal(x[1], 2.5f, 1e-6f);
    assert_float_equal(x[2], 5.5f, 1e-6f);
    /* NULL bounds mean [-1, 1]: the identity */
    env.action_low = NULL;
    env.action_high = NULL;
    float y[3] = { 0.25f, -0.75f, 1.0f }, z[3];
    assert_int_equal(mfpo_env_scale_action(&env, y, z), MFPO_OK);
    assert_memory_equal(y, z, sizeof y);
    /* only the high bound given */
    env.action_high = high;
    float w[3] = { -1.0f, -1.0f, 1.0f };
    assert_int_equal(mfpo_env_scale_action(&env, w, z), MFPO_OK);
    assert_float_equal(z[0], -1.0f, 0.0f);
    assert_float_equal(z[1], -1.0f, 0.0f);
    assert_float_equal(z[2], 6.0f, 0.0f);
}

#define assert_thread_error(call, status, text)                                                                        \
    do {                                                                                                               \
        assert_int_equal((call), (status));                                                                            \
        assert_string_equal(mfpo_last_error(NULL), (text));                                                            \
    } while (0)

static void test_env_scale_action_errors(void **state)
{
    (void)state;
    mfpo_env env;
    float low[2] = { -1.0f, -1.0f }, high[2] = { 1.0f, 1.0f }, in[2] = { 0, 0 }, out[2];
    char want[256];
    mfpo_env_init(&env);
    env.obs_dim = 4;
    env.act_dim = 2;
    env.action_low = low;
    env.action_high = high;
    assert_int_equal(mfpo_env_scale_action(&env, in, out), MFPO_OK);

    assert_thread_error(mfpo_env_scale_action(NULL, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: argument 'env' is NULL");
    assert_thread_error(mfpo_env_scale_action(&env, NULL, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: argument 'in' is NULL");
    assert_thread_error(mfpo_env_scale_action(&env, in, NULL), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: argument 'out' is NULL");

    env.struct_size = 0;
    snprintf(want, sizeof want,
             "mfpo_env_scale_action: env->struct_size = 0 is not a size this library knows (expected %zu; call "
             "mfpo_env_init first)",
             sizeof(mfpo_env));
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT, want);
    env.struct_size = sizeof env;

    env.act_dim = 0;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->act_dim = 0 is outside [1, 1048576]");
    env.act_dim = 2;
    env.obs_dim = 0;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->obs_dim = 0 is outside [1, 1048576]");
    env.obs_dim = 4;

    low[1] = NAN;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->action_low[1] = nan is not finite");
    low[1] = -1.0f;
    high[0] = INFINITY;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->action_high[0] = inf is not finite");
    high[0] = 1.0f;
    low[0] = 1.0f;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->action_low[0] = 1 is not below env->action_high[0] = 1");
    low[0] = 3.5f;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->action_low[0] = 3.5 is not below env->action_high[0] = 1");
    /* a NULL bound stands for -1 / +1 and is checked against the other */
    low[0] = -1.0f;
    env.action_high = NULL;
    low[1] = 2.0f;
    assert_thread_error(mfpo_env_scale_action(&env, in, out), MFPO_ERR_INVALID_ARGUMENT,
                        "mfpo_env_scale_action: env->action_low[1] = 2 is not below env->action_high[1] = 1");
}

/* ------------------------------------------------------------------ mfpo_train arguments */

static void test_train_argument_errors(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    char want[512];
    quick_options(&o, 10, 5);

    assert_int_equal(mfpo_train(NULL, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_train: argument 'agent' is NULL");
#define EXPECT(call, status, text)                                                                                     \
    do {                                                                                                               \
        assert_status((call), (status), f->ctx);                                                                       \
        assert_string_equal(mfpo_last_error(f->ctx), (text));                                                          \
    } while (0)
    EXPECT(mfpo_train(f->ag, NULL, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT, "mfpo_train: argument 'replay' is NULL");
    EXPECT(mfpo_train(f->ag, f->rb, NULL, &o), MFPO_ERR_INVALID_ARGUMENT, "mfpo_train: argument 'env' is NULL");

    o.struct_size = 8;
    snprintf(want, sizeof want,
             "mfpo_train: options->struct_size = 8 is not a size this library knows (expected %zu; call "
             "mfpo_train_options_init first)",
             sizeof(mfpo_train_options));
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT, want);
    o.struct_size = sizeof o;
    o.updates_per_step = 0.0;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: options->updates_per_step = 0 is outside (0, 1e6]");
    o.updates_per_step = NAN;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: options->updates_per_step = nan is outside (0, 1e6]");
    o.updates_per_step = 1.0;
    o.eval_env = &f->eval_env;
    o.eval_every = 5;
    o.eval_episodes = 0;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: options->eval_episodes = 0 must be >= 1 when options->eval_env is set and "
           "options->eval_every = 5");
    o.eval_episodes = 1;

    f->env.obs_dim = 4;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: env has obs_dim 4, act_dim 2 but the agent has obs_dim 3, act_dim 2");
    f->env.obs_dim = S;
    f->env.step = NULL;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT, "mfpo_train: env->step is NULL");
    f->env.step = script_step;
    f->env.reset = NULL;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT, "mfpo_train: env->reset is NULL");
    f->env.reset = script_reset;
    f->eval_se->low[1] = 20.0f;
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: options->eval_env->action_low[1] = 20 is not below options->eval_env->action_high[1] = 10");
    f->eval_se->low[1] = 0.0f;
    f->eval_env.struct_size = 0;
    snprintf(want, sizeof want,
             "mfpo_train: options->eval_env->struct_size = 0 is not a size this library knows (expected %zu; call "
             "mfpo_env_init first)",
             sizeof(mfpo_env));
    EXPECT(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT, want);
    f->eval_env.struct_size = sizeof f->eval_env;

    mfpo_replay *other = NULL;
    assert_status(mfpo_replay_create(f->ctx, S, A + 1, 10, &other), MFPO_OK, f->ctx);
    EXPECT(mfpo_train(f->ag, other, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: replay has obs_dim 3, act_dim 3 but the agent has obs_dim 3, act_dim 2");
    mfpo_replay_destroy(other);
    mfpo_context *ctx2 = cpu_context(1, NULL);
    assert_status(mfpo_replay_create(ctx2, S, A, 10, &other), MFPO_OK, ctx2);
    EXPECT(mfpo_train(f->ag, other, &f->env, &o), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_train: 'replay' belongs to another context than 'agent'");
    mfpo_replay_destroy(other);
    mfpo_context_destroy(ctx2);

    /* nothing was stepped by any refused call */
    assert_int_equal(f->se->resets, 0);
    assert_int_equal(f->se->steps, 0);
    assert_int_equal(mfpo_replay_size(f->rb), 0);

    /* zero steps: fine, and no reset either; NULL options: the defaults (checked, not run) */
    o.total_steps = 0;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(f->se->resets, 0);

    double mean = 0.0;
    EXPECT(mfpo_evaluate(f->ag, &f->env, 0, 10, 0, &mean), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_evaluate: episodes = 0 must be >= 1");
    EXPECT(mfpo_evaluate(f->ag, &f->env, 1, 10, 0, NULL), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_evaluate: argument 'mean_return' is NULL");
    EXPECT(mfpo_evaluate(f->ag, NULL, 1, 10, 0, &mean), MFPO_ERR_INVALID_ARGUMENT,
           "mfpo_evaluate: argument 'env' is NULL");
    assert_int_equal(mfpo_evaluate(NULL, &f->env, 1, 10, 0, &mean), MFPO_ERR_INVALID_ARGUMENT);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_evaluate: argument 'agent' is NULL");
#undef EXPECT
    fixture_free(f);
}

/* ------------------------------------------------------------------ failures mid-training */

/* Runs training with the env rigged by `rig`, a snapshot after every step; expects `status` with
 * `text` and the buffer and agent exactly as after step `good` (the last good one). */
static void run_failure(void (*rig)(script_env *), uint64_t good, mfpo_status status, const char *text)
{
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 200, 10);
    o.episode_limit = 15;
    snap_user u = { .ag = f->ag, .rb = f->rb };
    o.progress = snap_progress;
    o.progress_user = &u;
    o.progress_every = 1;
    rig(f->se);
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), status, f->ctx);
    assert_string_equal(mfpo_last_error(f->ctx), text);
    /* the last report was after the last good step, and nothing moved since */
    assert_int_equal(u.snap.step, good);
    assert_int_equal(u.snap.replay_size, good);
    assert_true(u.snap.updates > 0); /* the failure came after updates had started */
    assert_agent_equals(f->ag, &u.snap);
    assert_replay_matches_env(f->rb, f->se, good);
    free(u.snap.state);
    fixture_free(f);
}

static void rig_fail_step(script_env *e)
{
    e->fail_step = 37;
}
static void rig_nan_obs(script_env *e)
{
    e->nan_obs_step = 23;
}
static void rig_inf_reward(script_env *e)
{
    e->inf_reward_step = 31;
}
static void rig_fail_reset(script_env *e)
{
    e->fail_reset = 3;
} /* after 2 episodes of 15 steps */
static void rig_nan_reset(script_env *e)
{
    e->nan_reset = 2;
}

static void test_step_callback_fails(void **state)
{
    (void)state;
    run_failure(rig_fail_step, 36, MFPO_ERR_ENV,
                "mfpo_train: env->step returned status 5 (input/output error) at step 37");
}

static void test_nan_observation(void **state)
{
    (void)state;
    run_failure(rig_nan_obs, 22, MFPO_ERR_ENV,
                "mfpo_train: env->step returned a non-finite observation at step 23: obs[1] = nan");
}

static void test_infinite_reward(void **state)
{
    (void)state;
    run_failure(rig_inf_reward, 30, MFPO_ERR_ENV,
                "mfpo_train: env->step returned a non-finite reward at step 31: reward = inf");
}

static void test_reset_fails(void **state)
{
    (void)state;
    char want[256];
    /* the driver's training seeds are a hash of options.seed: read the one it used back */
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 40, 10);
    o.episode_limit = 15;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    uint64_t seed2 = f->se->reset_seeds[2];
    assert_int_equal(f->se->reset_seeds[1], f->se->reset_seeds[0] + 1); /* episode k: base + k */
    assert_int_equal(seed2, f->se->reset_seeds[0] + 2);
    fixture_free(f);
    snprintf(want, sizeof want,
             "mfpo_train: env->reset returned status 5 (input/output error) with seed %llu before step 31",
             (unsigned long long)seed2);
    run_failure(rig_fail_reset, 30, MFPO_ERR_ENV, want);
}

static void test_nan_reset_observation(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 20, 10);
    o.episode_limit = 15;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    uint64_t seed1 = f->se->reset_seeds[1];
    fixture_free(f);
    char want[256];
    snprintf(want, sizeof want,
             "mfpo_train: env->reset returned a non-finite observation with seed %llu before step 16: obs[2] = nan",
             (unsigned long long)seed1);
    run_failure(rig_nan_reset, 15, MFPO_ERR_ENV, want);
}

static void test_eval_env_fails(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 100, 10);
    o.eval_env = &f->eval_env;
    o.eval_every = 20;
    o.eval_episodes = 2;
    o.episode_limit = 8;
    f->eval_se->fail_step = 12; /* second evaluation episode, its 4th step */
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_ENV, f->ctx);
    assert_string_equal(mfpo_last_error(f->ctx),
                        "mfpo_train: options->eval_env->step returned status 5 (input/output error) in evaluation "
                        "episode 1");
    assert_int_equal(mfpo_replay_size(f->rb), 20);
    fixture_free(f);
}

static void test_cancel(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 200, 10);
    snap_user u = { .ag = f->ag, .rb = f->rb, .cancel_at = 30 };
    o.progress = snap_progress;
    o.progress_user = &u;
    o.progress_every = 1;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_ERR_CANCELLED, f->ctx);
    assert_string_equal(mfpo_last_error(f->ctx), "mfpo_train: cancelled by the progress callback after step 30");
    assert_int_equal(u.calls, 30);
    assert_int_equal(mfpo_replay_size(f->rb), 30);
    assert_int_equal(f->se->steps, 30);
    assert_int_equal(mfpo_agent_update_count(f->ag), 20);
    assert_agent_equals(f->ag, &u.snap);
    /* training continues where it stopped: the buffer is past warm-up, so every step updates */
    u.cancel_at = 0;
    o.total_steps = 5;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_replay_size(f->rb), 35);
    assert_int_equal(mfpo_agent_update_count(f->ag), 25);
    free(u.snap.state);
    fixture_free(f);
}

/* ------------------------------------------------------------------ masks, warm-up, ratios */

static void test_masks(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 60, 60); /* warm-up only: the masks do not depend on the policy */
    o.episode_limit = 6;
    f->se->episode_rules = 1;
    snap_user u = { .ag = f->ag, .rb = f->rb };
    o.progress = snap_progress;
    o.progress_user = &u;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_replay_matches_env(f->rb, f->se, 60);

    /* walk the episodes: kinds 0, 1, 2 end after 4 (terminated + truncated), 3 (truncated by the
     * env), 6 (cut by episode_limit) steps; 13 steps per cycle of three */
    algo_replay_view v;
    algo_replay_raw(f->rb, &v);
    size_t row = 0, terminations = 0;
    uint64_t ep = 0;
    static const size_t len[3] = { 4, 3, 6 };
    while (row < 60) {
        /* each episode starts from its reset's observation */
        assert_memory_equal(v.obs + row * S, f->se->first_obs[ep], S * sizeof(float));
        size_t n = len[ep % 3];
        for (size_t i = 0; i < n && row < 60; i++, row++) {
            int last = i == n - 1;
            float want = (last && ep % 3 == 0) ? 1.0f : 0.0f; /* only the true termination */
            assert_true(v.terminated[row] == want);
            terminations += want == 1.0f;
        }
        ep++;
    }
    assert_int_equal(terminations, 5); /* episodes 0, 3, 6, 9, 12 */
    /* 60 = 4 cycles of 13 + 4 + 3 + 1: 14 episodes ended, the 15th is running */
    assert_int_equal(u.last.episodes, 14);
    assert_int_equal(f->se->resets, 15);
    assert_int_equal(u.calls, 14);
    /* the sampled masks agree: 1 - terminated */
    float masks[64];
    float rew[64];
    assert_status(mfpo_replay_sample(f->rb, 64, NULL, NULL, rew, NULL, masks), MFPO_OK, f->ctx);
    for (int i = 0; i < 64; i++) assert_true(masks[i] == 0.0f || masks[i] == 1.0f);
    free(u.snap.state);
    fixture_free(f);
}

static void test_warmup_actions_and_ratio(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 40, 30);
    o.updates_per_step = 0.5;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_agent_update_count(f->ag), 5); /* 10 policy steps at ratio 1/2 */
    assert_replay_matches_env(f->rb, f->se, 40);
    /* warm-up actions: uniform in (-1, 1), so spread out over the box */
    algo_replay_view v;
    algo_replay_raw(f->rb, &v);
    for (int i = 0; i < A; i++) {
        float lo = 1.0f, hi = -1.0f;
        double mean = 0.0;
        for (int j = 0; j < 30; j++) {
            float a = v.act[j * A + i];
            assert_true(a > -1.0f && a < 1.0f);
            lo = a < lo ? a : lo;
            hi = a > hi ? a : hi;
            mean += a / 30.0;
        }
        assert_true(lo < -0.6f && hi > 0.6f);
        assert_true(fabs(mean) < 0.4);
    }
    /* a fresh context with the same seed draws the same warm-up actions */
    fixture *g = fixture_new(NULL);
    assert_status(mfpo_train(g->ag, g->rb, &g->env, &o), MFPO_OK, g->ctx);
    algo_replay_view w;
    algo_replay_raw(g->rb, &w);
    assert_memory_equal(v.act, w.act, 40 * A * sizeof(float));
    fixture_free(g);

    /* the buffer holds >= warm-up transitions now: no warm-up, updates from the first step */
    o.total_steps = 8;
    o.updates_per_step = 2.5;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_agent_update_count(f->ag), 5 + 20);
    o.total_steps = 10;
    o.updates_per_step = 0.3; /* 3 in 10: fractional ratios accumulate without rounding loss */
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_agent_update_count(f->ag), 25 + 3);
    /* a warm-up longer than the buffer: only the missing part is random */
    o.warmup_steps = 60; /* buffer holds 58 */
    o.total_steps = 4;
    o.updates_per_step = 1.0;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_agent_update_count(f->ag), 28 + 2);
    fixture_free(f);
}

/* ------------------------------------------------------------------ evaluation and reports */

typedef struct count_user {
    uint64_t calls, evaluations, last_step;
    double last_eval, sps;
    int saw_nan_before_eval;
} count_user;

static int count_progress(void *user, const mfpo_progress *p)
{
    count_user *u = user;
    assert_int_equal(p->struct_size, sizeof *p);
    assert_int_equal(p->total_steps, 90);
    assert_true(p->step > u->last_step);
    if (u->evaluations == 0 && !p->evaluated && isnan(p->last_eval_return)) u->saw_nan_before_eval = 1;
    u->calls++;
    u->last_step = p->step;
    if (p->evaluated) {
        u->evaluations++;
        assert_true(p->step % 30 == 0);
        u->last_eval = p->last_eval_return;
    }
    if (p->step > 20) assert_true(p->stats.critic_loss > 0.0f);
    u->sps = p->steps_per_second;
    assert_true(p->elapsed_seconds >= 0.0);
    return 0;
}

static void test_evaluation_and_progress(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    mfpo_train_options o;
    quick_options(&o, 90, 20);
    o.eval_env = &f->eval_env;
    o.eval_every = 30;
    o.eval_episodes = 2;
    o.episode_limit = 7;
    o.progress_every = 25;
    o.seed = 3;
    count_user u = { 0 };
    o.progress = count_progress;
    o.progress_user = &u;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    assert_int_equal(u.evaluations, 3);
    assert_true(u.saw_nan_before_eval);
    assert_true(u.sps > 0.0);
    /* reports: 12 episode ends (every 7 steps), 3 evaluations, 3 multiples of 25; step 75 is none
     * of the others, 30/60/90 are evaluations, 7k: 7 14 21 28 35 42 49 56 63 70 77 84 */
    assert_int_equal(u.calls, 12 + 3 + 3);
    /* each evaluation runs fresh episodes, as one env left running: seeds base, base + 1, ... */
    assert_int_equal(f->eval_se->resets, 6);
    assert_int_equal(f->eval_se->steps, 42);
    for (int k = 0; k < 6; k++) assert_int_equal(f->eval_se->reset_seeds[k], f->eval_se->reset_seeds[0] + k);
    /* and training episodes never use those seeds */
    for (uint64_t k = 0; k < f->se->resets; k++)
        for (int j = 0; j < 6; j++) assert_true(f->se->reset_seeds[k] != f->eval_se->reset_seeds[j]);

    /* mfpo_evaluate: episode i uses seed + i; the limit cuts episodes; mean of the returns */
    script_env *e = f->eval_se;
    uint64_t before = e->resets;
    double mean = NAN;
    e->episode_rules = 1; /* episode kinds by reset index: lengths 4, 3, then the limit 5 */
    e->returns_sum = 0.0;
    assert_status(mfpo_evaluate(f->ag, &f->eval_env, 3, 5, 1000, &mean), MFPO_OK, f->ctx);
    assert_int_equal(e->resets, before + 3);
    for (int k = 0; k < 3; k++) assert_int_equal(e->reset_seeds[before + k], 1000 + k);
    uint64_t steps = e->steps - 42;
    assert_true(steps >= 3 * 3 && steps <= 3 * 5);
    double sum = 0.0;
    for (uint64_t k = 42; k < e->steps; k++) sum += e->rew[k];
    assert_float_equal(mean, sum / 3.0, 1e-4);
    fixture_free(f);
}

/* ------------------------------------------------------------------ allocation */

static void test_no_allocation_per_step(void **state)
{
    (void)state;
    counting_allocator *c = calloc(1, sizeof *c);
    assert_non_null(c);
    mfpo_allocator a = counting_allocator_iface(c);
    fixture *f = fixture_new(&a);
    mfpo_train_options o;
    quick_options(&o, 40, 10);
    o.eval_env = &f->eval_env;
    o.eval_every = 20;
    o.eval_episodes = 1;
    o.episode_limit = 10;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx); /* sizes every workspace */
    size_t a0 = c->allocs;
    o.total_steps = 20;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    size_t short_run = c->allocs - a0;
    size_t a1 = c->allocs;
    o.total_steps = 200;
    assert_status(mfpo_train(f->ag, f->rb, &f->env, &o), MFPO_OK, f->ctx);
    size_t long_run = c->allocs - a1;
    assert_int_equal(short_run, long_run); /* independent of the number of steps */
    assert_int_equal(short_run, 1);        /* the call's one block of step buffers */
    double mean;
    a1 = c->allocs;
    assert_status(mfpo_evaluate(f->ag, &f->eval_env, 3, 10, 0, &mean), MFPO_OK, f->ctx);
    assert_int_equal(c->allocs - a1, 1);
    fixture_free(f);
    assert_counting_balanced(c);
    free(c);
}

/* ------------------------------------------------------------------ a short pendulum run */

#include "common/pendulum_env.h"

static void test_pendulum_tiny(void **state)
{
    (void)state;
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_agent_config c;
    tiny_config(&c, PENDULUM_OBS_DIM, PENDULUM_ACT_DIM);
    c.v_min = -1700.0f;
    c.v_max = 100.0f;
    c.atoms = 21;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_status(mfpo_agent_create(ctx, &c, &ag), MFPO_OK, ctx);
    assert_status(mfpo_replay_create(ctx, PENDULUM_OBS_DIM, PENDULUM_ACT_DIM, 1000, &rb), MFPO_OK, ctx);
    pendulum tp, ep;
    mfpo_env env, eval_env;
    pendulum_env(&tp, &env);
    pendulum_env(&ep, &eval_env);
    mfpo_train_options o;
    pendulum_train_options(&o);
    o.total_steps = 300;
    o.warmup_steps = 100;
    o.eval_every = 150;
    o.eval_episodes = 1;
    o.episode_limit = 50;
    o.eval_env = &eval_env;
    assert_status(mfpo_train(ag, rb, &env, &o), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(rb), 300);
    assert_int_equal(mfpo_agent_update_count(ag), 200);
    /* the pendulum never terminates: every mask is 1 */
    algo_replay_view v;
    algo_replay_raw(rb, &v);
    for (size_t j = 0; j < v.size; j++) assert_true(v.terminated[j] == 0.0f);
    double mean = 0.0;
    assert_status(mfpo_evaluate(ag, &eval_env, 1, 50, 5, &mean), MFPO_OK, ctx);
    assert_true(isfinite(mean) && mean <= 0.0 && mean >= -50 * 16.3);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_init_close),
        cmocka_unit_test(test_env_scale_action),
        cmocka_unit_test(test_env_scale_action_errors),
        cmocka_unit_test(test_train_argument_errors),
        cmocka_unit_test(test_step_callback_fails),
        cmocka_unit_test(test_nan_observation),
        cmocka_unit_test(test_infinite_reward),
        cmocka_unit_test(test_reset_fails),
        cmocka_unit_test(test_nan_reset_observation),
        cmocka_unit_test(test_eval_env_fails),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_warmup_actions_and_ratio),
        cmocka_unit_test(test_evaluation_and_progress),
        cmocka_unit_test(test_no_allocation_per_step),
        cmocka_unit_test(test_pendulum_tiny),
    };
    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
