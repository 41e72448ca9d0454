/*
 * Vectorised training (include/mfpo/train_vec.h): n environment instances in lockstep, one batched
 * policy call per vector step, n transitions per step, per-instance random streams and episodes.
 * Host buffers are allocated once per call; the step loop allocates nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mfpo/train_vec.h>

#include "../backend/kernels_common.h"
#include "../core/alloc.h"
#include "agent.h"
#include "internal.h"
#include "replay.h"
#include "train.h"
#include "update.h"

/* splitmix64 (the same finaliser as lib/algo/train.c uses for its episode seeds) */
static uint64_t vmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double vnow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ one instance */

static mfpo_status vreset(mfpo_context *ctx, const char *who, size_t i, const mfpo_env *env, uint64_t seed, float *obs,
                          const char *what)
{
    mfpo_status cs = env->reset(env->user, seed, obs);
    if (cs != MFPO_OK)
        return core_fail(ctx, MFPO_ERR_ENV, "%s: %s[%zu]->reset returned status %d (%s) with seed %" PRIu64, who, what,
                         i, (int)cs, mfpo_status_string(cs), seed);
    for (size_t k = 0; k < env->obs_dim; k++)
        if (!isfinite(obs[k]))
            return core_fail(ctx, MFPO_ERR_ENV,
                             "%s: %s[%zu]->reset returned a non-finite observation with seed %" PRIu64
                             ": obs[%zu] = %g",
                             who, what, i, seed, k, (double)obs[k]);
    return MFPO_OK;
}

static mfpo_status vstep(mfpo_context *ctx, const char *who, size_t i, const mfpo_env *env, const float *action,
                         float *scaled, float *next, float *reward, int *term, int *trunc, const char *what,
                         uint64_t at)
{
    algo_env_map_action(env, action, scaled);
    *reward = NAN;
    *term = 0;
    *trunc = 0;
    mfpo_status cs = env->step(env->user, scaled, next, reward, term, trunc);
    if (cs != MFPO_OK)
        return core_fail(ctx, MFPO_ERR_ENV, "%s: %s[%zu]->step returned status %d (%s) at its step %" PRIu64, who, what,
                         i, (int)cs, mfpo_status_string(cs), at);
    for (size_t k = 0; k < env->obs_dim; k++)
        if (!isfinite(next[k]))
            return core_fail(ctx, MFPO_ERR_ENV,
                             "%s: %s[%zu]->step returned a non-finite observation at its step %" PRIu64
                             ": obs[%zu] = %g",
                             who, what, i, at, k, (double)next[k]);
    if (!isfinite(*reward))
        return core_fail(ctx, MFPO_ERR_ENV,
                         "%s: %s[%zu]->step returned a non-finite reward at its step %" PRIu64 ": reward = %g", who,
                         what, i, at, (double)*reward);
    return MFPO_OK;
}

/* ------------------------------------------------------------------ evaluation */

typedef struct vec_buf {
    float *obs, *next, *act, *noise, *scaled, *reward, *term_f; /* term_f: unused spare */
    int *term, *trunc, *active;
    double *ret;
    uint64_t *steps, *episodes, *seeds;
} vec_buf;

static size_t vec_buf_bytes(size_t rows, size_t S, size_t A)
{
    size_t floats = 2 * rows * S + 2 * rows * A + A + 2 * rows;
    return ((floats * sizeof(float) + 63) & ~(size_t)63) + 4 * rows * 8 + 3 * rows * sizeof(int) + 64;
}

/* Points b's arrays into mem (vec_buf_bytes(rows, S, A) bytes, 64-byte aligned). */
static void vec_buf_carve(vec_buf *b, char *mem, size_t rows, size_t S, size_t A)
{
    float *f = (float *)mem;
    b->obs = f, f += rows * S;
    b->next = f, f += rows * S;
    b->act = f, f += rows * A;
    b->noise = f, f += rows * A;
    b->scaled = f, f += A;
    b->reward = f, f += rows;
    b->term_f = f, f += rows;
    size_t floats = 2 * rows * S + 2 * rows * A + A + 2 * rows;
    uint64_t *u = (uint64_t *)(mem + ((floats * sizeof(float) + 63) & ~(size_t)63));
    b->ret = (double *)u, u += rows;
    b->steps = u, u += rows;
    b->episodes = u, u += rows;
    b->seeds = u, u += rows;
    int *ip = (int *)u;
    b->term = ip, ip += rows;
    b->trunc = ip, ip += rows;
    b->active = ip;
}

/* eval_episodes episodes in waves of m instances, one selection call per step for the running ones
 * (their observations packed in order). */
static mfpo_status vec_evaluate(mfpo_agent *ag, const char *who, const mfpo_env *envs, size_t m, size_t episodes,
                                uint64_t limit, uint64_t seed0, vec_buf *b, double *mean)
{
    mfpo_context *ctx = ag->ctx;
    size_t S = ag->cfg.obs_dim, A = ag->cfg.act_dim;
    double total = 0.0;
    for (size_t first = 0; first < episodes; first += m) {
        size_t w = episodes - first < m ? episodes - first : m;
        for (size_t i = 0; i < w; i++) {
            mfpo_status s =
                vreset(ctx, who, i, &envs[i], vmix(seed0 + first + i), b->obs + i * S, "options->eval_envs");
            if (s != MFPO_OK) return s;
            b->active[i] = 1;
            b->ret[i] = 0.0;
        }
        for (uint64_t t = 1;; t++) {
            size_t live = 0;
            for (size_t i = 0; i < w; i++)
                if (b->active[i]) memcpy(b->next + live++ * S, b->obs + i * S, S * sizeof(float));
            if (live == 0) break;
            mfpo_status s = algo_agent_select(ag, who, b->next, live, b->act);
            if (s != MFPO_OK) return s;
            size_t k = 0;
            for (size_t i = 0; i < w; i++) {
                if (!b->active[i]) continue;
                float r;
                int term, trunc;
                s = vstep(ctx, who, i, &envs[i], b->act + k++ * A, b->scaled, b->obs + i * S, &r, &term, &trunc,
                          "options->eval_envs", t);
                if (s != MFPO_OK) return s;
                b->ret[i] += r;
                if (term || trunc || (limit && t >= limit)) b->active[i] = 0;
            }
        }
        for (size_t i = 0; i < w; i++) total += b->ret[i];
    }
    *mean = total / (double)episodes;
    return MFPO_OK;
}

/* ------------------------------------------------------------------ training */

mfpo_status algo_train_vec(mfpo_agent *ag, const char *who, mfpo_replay *replay, const mfpo_env *envs, size_t n,
                           const mfpo_vec_options *options)
{
    mfpo_context *ctx = ag->ctx;
    const mfpo_vec_options o = *options;
    const mfpo_train_options *t = o.train;
    const mfpo_env *eval_envs = t->eval_every > 0 ? o.eval_envs : NULL;
    algo_replay_view rv;
    algo_replay_raw(replay, &rv);
    mfpo_status s = MFPO_OK;

    const size_t S = ag->cfg.obs_dim, A = ag->cfg.act_dim;
    const size_t m = eval_envs ? o.n_eval_envs : 0;
    /* training and evaluation buffers, one allocation */
    char *mem = core_alloc(&ctx->allocator, vec_buf_bytes(n, S, A) + vec_buf_bytes(m, S, A), 64);
    if (!mem) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu instances", who, n);
    vec_buf b, eb;
    vec_buf_carve(&b, mem, n, S, A);
    vec_buf_carve(&eb, mem + vec_buf_bytes(n, S, A), m, S, A);

    /* per-instance streams: two keys from the context's seed and a stream reserved for this call */
    const uint64_t call = core_next_stream(ctx);
    const uint64_t key_warm = vmix(ctx->seed ^ vmix(2 * call)), key_noise = vmix(ctx->seed ^ vmix(2 * call + 1));
    for (size_t i = 0; i < n; i++) {
        b.seeds[i] = o.instance_seeds ? o.instance_seeds[i] : (uint64_t)i;
        b.episodes[i] = 0;
        b.active[i] = 0; /* 0: needs a reset */
    }
    const uint64_t size0 = rv.size;
    const uint64_t warm = t->warmup_steps > size0 ? t->warmup_steps - size0 : 0;
    const uint64_t warm_vsteps = (warm + n - 1) / n, vsteps = (t->total_steps + n - 1) / n;
    uint64_t updates_done = 0, episodes = 0, evaluations = 0;
    mfpo_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.total_steps = vsteps * n;
    p.last_episode_return = NAN;
    p.last_eval_return = NAN;
    p.stats.struct_size = sizeof p.stats;
    const double t0 = vnow();

    for (uint64_t v = 1; v <= vsteps && s == MFPO_OK; v++) {
        const uint64_t step_of_instance = v - 1; /* the instances' own step counter in this call */
        for (size_t i = 0; i < n && s == MFPO_OK; i++)
            if (!b.active[i]) {
                s = vreset(ctx, who, i, &envs[i], vmix(2 * b.seeds[i] + 1) + b.episodes[i], b.obs + i * S, "envs");
                b.active[i] = 1;
                b.ret[i] = 0.0;
                b.steps[i] = 0;
            }
        if (s != MFPO_OK) break;
        if (v <= warm_vsteps) {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < A; j++)
                    b.act[i * A + j] = 2.0f * be_uniform_at(key_warm, b.seeds[i], step_of_instance * A + j) - 1.0f;
        } else {
            /* one batched policy call: row i transports instance i's own noise */
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < A; j++)
                    b.noise[i * A + j] = be_normal_at(key_noise, b.seeds[i], step_of_instance * A + j);
            s = algo_policy_sample(&ag->policy, NULL, b.obs, b.noise, n, b.act, NULL, who);
            if (s != MFPO_OK) break;
        }
        for (size_t i = 0; i < n && s == MFPO_OK; i++) {
            s = vstep(ctx, who, i, &envs[i], b.act + i * A, b.scaled, b.next + i * S, b.reward + i, b.term + i,
                      b.trunc + i, "envs", b.steps[i] + 1);
            b.term_f[i] = 0.0f;
        }
        if (s != MFPO_OK) break;
        /* the mask is 0 only on a true termination (the ring takes int flags); the observations and
         * rewards were checked finite by vreset/vstep, the actions come from the policy or [-1, 1) */
        algo_replay_add_batch(replay, n, b.obs, b.act, b.reward, b.next, b.term);
        int report = 0;
        p.evaluated = 0;
        for (size_t i = 0; i < n; i++) {
            b.ret[i] += b.reward[i];
            b.steps[i]++;
            if (b.term[i] || b.trunc[i] || (t->episode_limit && b.steps[i] >= t->episode_limit)) {
                b.active[i] = 0;
                b.episodes[i]++;
                episodes++;
                p.last_episode_return = b.ret[i];
                report = 1;
            } else {
                memcpy(b.obs + i * S, b.next + i * S, S * sizeof(float));
            }
        }
        if (v > warm_vsteps) {
            uint64_t past = (v - warm_vsteps) * n; /* environment steps after the warm-up */
            uint64_t due = (uint64_t)floor((double)past * t->updates_per_step + 1e-9);
            while (updates_done < due && s == MFPO_OK) {
                s = algo_update(ag, who, replay, &p.stats);
                if (s == MFPO_OK) updates_done++;
            }
            if (s != MFPO_OK) break;
        }
        const uint64_t done = v * n, before = (v - 1) * n;
        if (eval_envs && done / t->eval_every != before / t->eval_every) {
            double mean = 0.0;
            s = vec_evaluate(ag, who, eval_envs, m, t->eval_episodes, t->episode_limit,
                             o.eval_seed + evaluations * (uint64_t)t->eval_episodes, &eb, &mean);
            evaluations++;
            if (s != MFPO_OK) break;
            p.last_eval_return = mean;
            p.evaluated = 1;
            report = 1;
        }
        if (t->progress_every && done / t->progress_every != before / t->progress_every) report = 1;
        if (report && t->progress) {
            p.step = done;
            p.episodes = episodes;
            p.elapsed_seconds = vnow() - t0;
            p.steps_per_second = p.elapsed_seconds > 0.0 ? (double)done / p.elapsed_seconds : 0.0;
            if (t->progress(t->progress_user, &p) != 0)
                s = core_fail(ctx, MFPO_ERR_CANCELLED,
                              "%s: cancelled by the progress callback after %" PRIu64 " environment steps", who, done);
        }
    }
    core_free(&ctx->allocator, mem);
    return s;
}
