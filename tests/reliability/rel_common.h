/*
 * Shared pieces of the tests/reliability suites: a small agent configuration, a deterministic
 * toy environment, and byte snapshots of everything an agent's trajectory depends on (the whole
 * state vector read straight from the agent's internals, the counters, and the context's
 * random-stream position), so that tests compare with memcmp.
 *
 * The suites link the library's objects (mfpo_internal) to reach these internals; the CPU
 * backend keeps the state in host memory.
 */
#ifndef MFPO_TESTS_REL_COMMON_H
#define MFPO_TESTS_REL_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/test_support.h"

#include "algo/update.h"
#include "core/ctx.h"

enum { REL_S = 3, REL_A = 2 };

/* A small configuration: one update takes about a millisecond. */
static inline mfpo_agent_config rel_config(void)
{
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, REL_S, REL_A);
    c.hidden_width = 16;
    c.hidden_depth = 2;
    c.policy_samples = 4;
    c.gaussian_samples = 4;
    c.hutchinson_probes = 2;
    c.atoms = 11;
    c.v_min = -20.0f;
    c.v_max = 20.0f;
    c.batch_size = 8;
    c.fourier_features = 8;
    c.time_embed_dim = 8;
    c.eval_candidates = 4;
    return c;
}

static inline mfpo_agent *rel_agent(mfpo_context *ctx, const mfpo_agent_config *c)
{
    mfpo_agent *ag = NULL;
    if (mfpo_agent_create(ctx, c, &ag) != MFPO_OK) fail_msg("agent: %s", mfpo_last_error(ctx));
    return ag;
}

static inline mfpo_replay *rel_replay(mfpo_context *ctx, size_t capacity)
{
    mfpo_replay *r = NULL;
    if (mfpo_replay_create(ctx, REL_S, REL_A, capacity, &r) != MFPO_OK) fail_msg("replay: %s", mfpo_last_error(ctx));
    return r;
}

/* The toy environment's observation at step t (a deterministic function of t). */
static inline void rel_obs(uint64_t t, float *obs)
{
    obs[0] = sinf(0.1f * (float)t);
    obs[1] = cosf(0.13f * (float)t);
    obs[2] = 0.01f * (float)(t % 17);
}

/* One environment step at time t: the agent acts (drawing from the context's stream), the
 * transition goes into the buffer. */
static inline void rel_env_step(mfpo_agent *ag, mfpo_replay *r, uint64_t t)
{
    float obs[REL_S], next[REL_S], act[REL_A];
    rel_obs(t, obs);
    rel_obs(t + 1, next);
    if (mfpo_agent_act(ag, obs, 1, act) != MFPO_OK) fail_msg("act: %s", mfpo_last_error(ag->ctx));
    float reward = obs[0] - act[0] * act[0] - 0.5f * act[1] * act[1];
    if (mfpo_replay_add(r, obs, act, reward, next, t % 13 == 12) != MFPO_OK)
        fail_msg("add: %s", mfpo_last_error(ag->ctx));
}

/* Fills a buffer with n transitions that do not depend on any agent. */
static inline void rel_fill(mfpo_replay *r, size_t n, int salt)
{
    float obs[REL_S], next[REL_S], act[REL_A];
    for (size_t t = 0; t < n; t++) {
        rel_obs(t + (size_t)salt, obs);
        rel_obs(t + 1 + (size_t)salt, next);
        act[0] = sinf(0.7f * (float)t + (float)salt);
        act[1] = cosf(0.3f * (float)t);
        if (mfpo_replay_add(r, obs, act, obs[1] - act[0] * act[0], next, t % 11 == 10) != MFPO_OK)
            fail_msg("add: %s", mfpo_last_error(NULL));
    }
}

/* Training steps [from, to): one env step each, then one update once the buffer holds `warmup`. */
static inline void rel_train(mfpo_agent *ag, mfpo_replay *r, uint64_t from, uint64_t to, size_t warmup)
{
    for (uint64_t t = from; t < to; t++) {
        rel_env_step(ag, r, t);
        if (mfpo_replay_size(r) >= warmup && mfpo_update(ag, r, NULL) != MFPO_OK)
            fail_msg("update at step %llu: %s", (unsigned long long)t, mfpo_last_error(ag->ctx));
    }
}

/* Everything that determines an agent's future, as bytes. */
typedef struct rel_snapshot {
    size_t n;             /* floats of state */
    float *state;         /* off.total floats */
    uint64_t counters[5]; /* updates, critic_steps, actor_steps, ctx seed, ctx stream */
} rel_snapshot;

static inline rel_snapshot rel_take(const mfpo_agent *ag)
{
    rel_snapshot s;
    s.n = ag->off.total;
    s.state = malloc(s.n * sizeof(float));
    assert_non_null(s.state);
    ag->ctx->be->ops->download(ag->ctx->be, s.state, ag->state, s.n * sizeof(float));
    s.counters[0] = ag->updates;
    s.counters[1] = ag->critic_steps;
    s.counters[2] = ag->actor_steps;
    s.counters[3] = ag->ctx->seed;
    s.counters[4] = ag->ctx->stream;
    return s;
}

static inline void rel_free(rel_snapshot *s)
{
    free(s->state);
    s->state = NULL;
}

/* Fails unless both snapshots are identical bit for bit, naming the first difference. */
static inline void rel_assert_same(const rel_snapshot *a, const rel_snapshot *b, const char *what)
{
    static const char *names[5] = { "updates", "critic_steps", "actor_steps", "context seed", "context stream" };
    for (int i = 0; i < 5; i++)
        if (a->counters[i] != b->counters[i])
            fail_msg("%s: %s differs: %llu vs %llu", what, names[i], (unsigned long long)a->counters[i],
                     (unsigned long long)b->counters[i]);
    assert_int_equal(a->n, b->n);
    if (memcmp(a->state, b->state, a->n * sizeof(float)) != 0) {
        size_t i = 0;
        while (memcmp(&a->state[i], &b->state[i], sizeof(float)) == 0) i++;
        fail_msg("%s: state float %zu of %zu differs: %.9g vs %.9g", what, i, a->n, (double)a->state[i],
                 (double)b->state[i]);
    }
}

/* The public view of the parameters: policy, divergence, alpha. */
typedef struct rel_params {
    size_t nu, nd;
    float *u, *d;
    float alpha;
} rel_params;

static inline rel_params rel_get_params(mfpo_agent *ag)
{
    rel_params p;
    p.nu = mfpo_policy_param_count(mfpo_agent_policy(ag));
    p.nd = mfpo_divergence_param_count(mfpo_agent_divergence(ag));
    p.u = malloc(p.nu * sizeof(float));
    p.d = malloc(p.nd * sizeof(float));
    assert_non_null(p.u);
    assert_non_null(p.d);
    assert_status(mfpo_policy_get_params(mfpo_agent_policy(ag), p.u, p.nu), MFPO_OK, ag->ctx);
    assert_status(mfpo_divergence_get_params(mfpo_agent_divergence(ag), p.d, p.nd), MFPO_OK, ag->ctx);
    p.alpha = mfpo_agent_alpha(ag);
    return p;
}

static inline void rel_params_free(rel_params *p)
{
    free(p->u);
    free(p->d);
}

static inline void rel_assert_same_params(const rel_params *a, const rel_params *b, const char *what)
{
    assert_int_equal(a->nu, b->nu);
    assert_int_equal(a->nd, b->nd);
    if (memcmp(a->u, b->u, a->nu * sizeof(float)) != 0) fail_msg("%s: policy parameters differ", what);
    if (memcmp(a->d, b->d, a->nd * sizeof(float)) != 0) fail_msg("%s: divergence parameters differ", what);
    if (memcmp(&a->alpha, &b->alpha, sizeof(float)) != 0) fail_msg("%s: alpha differs", what);
}

/* A scratch directory for one test run, under $MFPO_TEST_TMPDIR or the working directory. */
static inline void rel_tmpdir(char *out, size_t size, const char *tag)
{
    const char *base = getenv("MFPO_TEST_TMPDIR");
    snprintf(out, size, "%s/%s-XXXXXX", base && base[0] ? base : ".", tag);
    if (!mkdtemp(out)) fail_msg("mkdtemp(%s) failed", out);
}

/* Removes a scratch directory and the plain files in it. */
#include <dirent.h>
#include <unistd.h>
static inline void rel_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

#endif
