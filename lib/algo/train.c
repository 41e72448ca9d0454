/*
 * The training loop of docs/algorithm.md §5 (include/mfpo/train.h; lib/api/train.c checks the arguments and
 * calls algo_train / algo_evaluate): uniform-random warm-up, a fractional
 * update-to-data ratio, periodic evaluation with action selection on a separate environment,
 * bootstrap masks from termination vs truncation, and progress reports that can cancel.
 *
 * Every host buffer a call needs (observations and actions, training and evaluation) is allocated
 * once at its start through the context's allocator; the step loop allocates nothing (the agent's
 * own workspaces are sized by its first act/select/update and reused after that).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <mfpo/train.h>

#include "../backend/kernels_common.h"
#include "../core/alloc.h"
#include "agent.h"
#include "replay.h"
#include "train.h"

/* ------------------------------------------------------------------ environments */

void algo_env_map_action(const mfpo_env *env, const float *in, float *out)
{
    for (size_t i = 0; i < env->act_dim; i++) {
        double lo = env->action_low ? env->action_low[i] : -1.0;
        double hi = env->action_high ? env->action_high[i] : 1.0;
        double f = 0.5 * ((double)in[i] + 1.0);
        out[i] = (float)(lo + f * (hi - lo));
    }
}

/* Index of the first non-finite value of x[0..n), or n. */
static size_t first_non_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/* Resets an episode and checks the observation. `at` describes where (for the message). */
static mfpo_status reset_env(mfpo_context *ctx, const char *who, const char *name, const mfpo_env *env, uint64_t seed,
                             float *obs, const char *what, uint64_t at)
{
    mfpo_status cs = env->reset(env->user, seed, obs);
    if (cs != MFPO_OK)
        return core_fail(ctx, MFPO_ERR_ENV, "%s: %s->reset returned status %d (%s) with seed %" PRIu64 " %s %" PRIu64,
                         who, name, (int)cs, mfpo_status_string(cs), seed, what, at);
    size_t k = first_non_finite(obs, env->obs_dim);
    if (k < env->obs_dim)
        return core_fail(ctx, MFPO_ERR_ENV,
                         "%s: %s->reset returned a non-finite observation with seed %" PRIu64 " %s %" PRIu64
                         ": obs[%zu] = %g",
                         who, name, seed, what, at, k, (double)obs[k]);
    return MFPO_OK;
}

/* One environment step: maps the normalized action, calls step and checks what came back.
 * On any failure nothing else has happened yet (the caller adds the transition afterwards). */
static mfpo_status step_env(mfpo_context *ctx, const char *who, const char *name, const mfpo_env *env,
                            const float *action, float *scaled, float *next_obs, float *reward, int *terminated,
                            int *truncated, const char *what, uint64_t at)
{
    algo_env_map_action(env, action, scaled);
    *reward = NAN;
    *terminated = 0;
    *truncated = 0;
    mfpo_status cs = env->step(env->user, scaled, next_obs, reward, terminated, truncated);
    if (cs != MFPO_OK)
        return core_fail(ctx, MFPO_ERR_ENV, "%s: %s->step returned status %d (%s) %s %" PRIu64, who, name, (int)cs,
                         mfpo_status_string(cs), what, at);
    size_t k = first_non_finite(next_obs, env->obs_dim);
    if (k < env->obs_dim)
        return core_fail(ctx, MFPO_ERR_ENV,
                         "%s: %s->step returned a non-finite observation %s %" PRIu64 ": obs[%zu] = %g", who, name,
                         what, at, k, (double)next_obs[k]);
    if (!isfinite(*reward))
        return core_fail(ctx, MFPO_ERR_ENV, "%s: %s->step returned a non-finite reward %s %" PRIu64 ": reward = %g",
                         who, name, what, at, (double)*reward);
    return MFPO_OK;
}

/* ------------------------------------------------------------------ evaluation */

/* Episodes with action selection; buf holds 2 S + 2 A floats. */
static mfpo_status run_evaluation(mfpo_agent *ag, const char *who, const char *name, const mfpo_env *env,
                                  size_t episodes, uint64_t episode_limit, uint64_t seed, float *buf,
                                  double *mean_return)
{
    mfpo_context *ctx = ag->ctx;
    size_t S = env->obs_dim, A = env->act_dim;
    float *obs = buf, *next = obs + S, *act = next + S, *scaled = act + A;
    double total = 0.0;
    for (size_t e = 0; e < episodes; e++) {
        mfpo_status s = reset_env(ctx, who, name, env, seed + e, obs, "in evaluation episode", (uint64_t)e);
        if (s != MFPO_OK) return s;
        double ret = 0.0;
        for (uint64_t t = 1;; t++) {
            s = algo_agent_select(ag, who, obs, 1, act);
            if (s != MFPO_OK) return s;
            float reward;
            int term, trunc;
            s = step_env(ctx, who, name, env, act, scaled, next, &reward, &term, &trunc, "in evaluation episode",
                         (uint64_t)e);
            if (s != MFPO_OK) return s;
            ret += reward;
            if (term || trunc || (episode_limit && t >= episode_limit)) break;
            float *tmp = obs;
            obs = next;
            next = tmp;
        }
        total += ret;
    }
    *mean_return = total / (double)episodes;
    return MFPO_OK;
}

mfpo_status algo_evaluate(mfpo_agent *ag, const char *who, const mfpo_env *env, size_t episodes, uint64_t episode_limit,
                          uint64_t seed, double *mean_return)
{
    mfpo_context *ctx = ag->ctx;
    float *buf = core_alloc(&ctx->allocator, (2 * env->obs_dim + 2 * env->act_dim) * sizeof(float), 64);
    if (!buf) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    mfpo_status s = run_evaluation(ag, who, "env", env, episodes, episode_limit, seed, buf, mean_return);
    core_free(&ctx->allocator, buf);
    return s;
}

/* ------------------------------------------------------------------ training */

/* splitmix64: the episode seeds of training and of evaluation are two hashes of options->seed. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

mfpo_status algo_train(mfpo_agent *ag, const char *who, mfpo_replay *replay, const mfpo_env *env,
                       const mfpo_train_options *options, mfpo_train_state *run)
{
    mfpo_context *ctx = ag->ctx;
    const mfpo_train_options opt = *options;
    const mfpo_env *eval_env = opt.eval_every > 0 ? opt.eval_env : NULL;
    mfpo_status s;
    const size_t S = env->obs_dim, A = env->act_dim;
    /* training: obs, next, action, scaled action; evaluation: the same again */
    float *buf = core_alloc(&ctx->allocator, 2 * (2 * S + 2 * A) * sizeof(float), 64);
    if (!buf) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the step buffers", who);
    float *obs = buf, *next = obs + S, *act = next + S, *scaled = act + A, *eval_buf = scaled + A;

    const double t0 = now_seconds();
    const uint64_t size0 = replay->size;
    const uint64_t warm = opt.warmup_steps > size0 ? opt.warmup_steps - size0 : 0;
    const uint64_t warm_stream = warm ? core_next_stream(ctx) : 0;
    const uint64_t train_seed = mix64(2 * opt.seed), eval_seed = mix64(2 * opt.seed + 1);
    /* Continuing a run (mfpo_train_continue): the run's earlier calls took step0 steps, started ep0
     * training episodes and ran ev0 evaluations; this call's seeds and schedule carry on from there.
     * Without a state all three are 0 and the call is a run of its own. */
    const uint64_t step0 = run ? run->steps : 0, ep0 = run ? run->episodes : 0, ev0 = run ? run->evaluations : 0;
    double episode_return = 0.0;
    uint64_t episodes = 0, episodes_started = 0, episode_steps = 0, updates_done = 0, evaluations = 0;
    uint64_t steps_done = 0;
    int need_reset = 1;
    mfpo_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.total_steps = step0 + opt.total_steps;
    p.last_episode_return = NAN;
    p.last_eval_return = NAN;
    p.stats.struct_size = sizeof p.stats;

    s = MFPO_OK;
    for (uint64_t step = 1; step <= opt.total_steps; step++) {
        if (need_reset) {
            s = reset_env(ctx, who, "env", env, train_seed + ep0 + episodes_started, obs, "before step", step0 + step);
            if (s != MFPO_OK) break;
            episodes_started++;
            need_reset = 0;
            episode_return = 0.0;
            episode_steps = 0;
        }
        /* act: uniform in (-1, 1) during warm-up, else one plain policy sample */
        if (step <= warm) {
            for (size_t j = 0; j < A; j++)
                act[j] = 2.0f * be_uniform_at(ctx->seed, warm_stream, (step - 1) * A + j) - 1.0f;
        } else if ((s = algo_agent_act(ag, who, obs, 1, act)) != MFPO_OK) {
            break;
        }
        float reward;
        int term, trunc;
        s = step_env(ctx, who, "env", env, act, scaled, next, &reward, &term, &trunc, "at step", step);
        if (s != MFPO_OK) break;
        /* the mask is 0 only on a true termination; a time limit cuts the episode with mask 1 */
        algo_replay_add(replay, obs, act, reward, next, term ? 1 : 0);
        steps_done = step;
        episode_return += reward;
        episode_steps++;
        int ended = term || trunc || (opt.episode_limit && episode_steps >= opt.episode_limit);
        if (step > warm) {
            /* after n policy steps, floor(n * ratio) updates in all: fractional ratios accumulate
             * (0.25: one update every 4th step; 1.5: 1, 2, 1, 2, ...); the 1e-9 absorbs rounding */
            uint64_t due = (uint64_t)floor((double)(step - warm) * opt.updates_per_step + 1e-9);
            while (updates_done < due) {
                s = algo_update(ag, who, replay, &p.stats);
                if (s != MFPO_OK) break;
                updates_done++;
            }
            if (s != MFPO_OK) break;
        }
        int report = 0;
        p.evaluated = 0;
        if (ended) {
            episodes++;
            p.last_episode_return = episode_return;
            need_reset = 1;
            report = 1;
        } else {
            float *tmp = obs;
            obs = next;
            next = tmp;
        }
        if (eval_env && (step0 + step) % opt.eval_every == 0) {
            double mean = 0.0;
            /* fresh episodes at every evaluation, as from one evaluation env that keeps running:
             * evaluation j resets its episode i with eval_seed + j * eval_episodes + i */
            s = run_evaluation(ag, who, "options->eval_env", eval_env, opt.eval_episodes, opt.episode_limit,
                               eval_seed + (ev0 + evaluations) * (uint64_t)opt.eval_episodes, eval_buf, &mean);
            evaluations++;
            if (s != MFPO_OK) break;
            p.last_eval_return = mean;
            p.evaluated = 1;
            report = 1;
        }
        if (opt.progress_every && (step0 + step) % opt.progress_every == 0) report = 1;
        if (report && opt.progress) {
            p.step = step0 + step;
            p.episodes = episodes;
            p.elapsed_seconds = now_seconds() - t0;
            p.steps_per_second = p.elapsed_seconds > 0.0 ? (double)step / p.elapsed_seconds : 0.0;
            if (opt.progress(opt.progress_user, &p) != 0) {
                s = core_fail(ctx, MFPO_ERR_CANCELLED, "%s: cancelled by the progress callback after step %" PRIu64,
                              who, step);
                break;
            }
        }
    }
    core_free(&ctx->allocator, buf);
    if (run) { /* what this call did, success or not: the next call carries on from here */
        run->steps = step0 + steps_done;
        run->episodes = ep0 + episodes_started;
        run->evaluations = ev0 + evaluations;
    }
    return s;
}
