/*
 * The training calls (include/mfpo/train.h): option defaults and the argument checks of
 * mfpo_train() and mfpo_evaluate(); the loops are lib/algo/train.c.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <mfpo/train.h>

#include "../algo/agent.h"
#include "../algo/replay.h"
#include "../algo/train.h"
#include "checks.h"

#define ENV_MAX_DIM ((size_t)1 << 20)

mfpo_status api_env_validate(mfpo_context *ctx, const char *who, const char *name, const mfpo_env *env,
                             int need_callbacks)
{
    if (!env) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", who, name);
    if (env->struct_size < sizeof(mfpo_env) || env->struct_size > (1u << 20))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: %s->struct_size = %zu is not a size this library knows (expected %zu; call "
                         "mfpo_env_init first)",
                         who, name, env->struct_size, sizeof(mfpo_env));
    if (env->obs_dim < 1 || env->obs_dim > ENV_MAX_DIM)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->obs_dim = %zu is outside [1, %zu]", who, name,
                         env->obs_dim, ENV_MAX_DIM);
    if (env->act_dim < 1 || env->act_dim > ENV_MAX_DIM)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->act_dim = %zu is outside [1, %zu]", who, name,
                         env->act_dim, ENV_MAX_DIM);
    for (size_t i = 0; i < env->act_dim; i++) {
        float lo = env->action_low ? env->action_low[i] : -1.0f;
        float hi = env->action_high ? env->action_high[i] : 1.0f;
        if (!isfinite(lo))
            return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->action_low[%zu] = %g is not finite", who, name, i,
                             (double)lo);
        if (!isfinite(hi))
            return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->action_high[%zu] = %g is not finite", who, name,
                             i, (double)hi);
        if (!(lo < hi))
            return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                             "%s: %s->action_low[%zu] = %g is not below %s->action_high[%zu] = %g", who, name, i,
                             (double)lo, name, i, (double)hi);
    }
    if (need_callbacks && !env->reset)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->reset is NULL", who, name);
    if (need_callbacks && !env->step)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->step is NULL", who, name);
    return MFPO_OK;
}

/* The environment must match the agent's dimensions. */
static mfpo_status check_env_for_agent(mfpo_agent *ag, const char *who, const char *name, const mfpo_env *env)
{
    mfpo_status s = api_env_validate(ag->ctx, who, name, env, 1);
    if (s != MFPO_OK) return s;
    if (env->obs_dim != ag->cfg.obs_dim || env->act_dim != ag->cfg.act_dim)
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: %s has obs_dim %zu, act_dim %zu but the agent has obs_dim %zu, act_dim %zu", who, name,
                         env->obs_dim, env->act_dim, ag->cfg.obs_dim, ag->cfg.act_dim);
    return MFPO_OK;
}

void mfpo_train_options_init(mfpo_train_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->total_steps = 1000000;
    o->warmup_steps = 10000;
    o->updates_per_step = 1.0;
    o->eval_every = 10000;
    o->eval_episodes = 10;
    o->episode_limit = 1000;
    o->seed = 0;
    o->eval_env = NULL;
    o->progress = NULL;
    o->progress_user = NULL;
    o->progress_every = 1000;
}

mfpo_status api_train_options_import(mfpo_context *ctx, const char *who, const char *name, const mfpo_train_options *in,
                                     mfpo_train_options *o)
{
    mfpo_train_options_init(o);
    if (!in) return MFPO_OK;
    if (in->struct_size < offsetof(mfpo_train_options, progress_every) + sizeof(uint64_t) ||
        in->struct_size > (1u << 20))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: %s->struct_size = %zu is not a size this library knows (expected %zu; call "
                         "mfpo_train_options_init first)",
                         who, name, in->struct_size, sizeof *o);
    memcpy(o, in, in->struct_size < sizeof *o ? in->struct_size : sizeof *o);
    o->struct_size = sizeof *o;
    if (!(o->updates_per_step > 0.0) || !(o->updates_per_step <= 1e6))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: %s->updates_per_step = %g is outside (0, 1e6]", who, name,
                         o->updates_per_step);
    return MFPO_OK;
}

static mfpo_status import_options(mfpo_context *ctx, const char *who, const mfpo_train_options *in,
                                  mfpo_train_options *o)
{
    mfpo_status s = api_train_options_import(ctx, who, "options", in, o);
    if (s != MFPO_OK) return s;
    if (o->eval_env && o->eval_every > 0 && o->eval_episodes < 1)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: options->eval_episodes = 0 must be >= 1 when options->eval_env is set and "
                         "options->eval_every = %" PRIu64,
                         who, o->eval_every);
    return MFPO_OK;
}

/* mfpo_train() and mfpo_train_continue(): `run` is NULL for a call that is a run of its own. */
static mfpo_status train_checked(const char *who, mfpo_agent *ag, mfpo_replay *replay, const mfpo_env *env,
                                 const mfpo_train_options *options, mfpo_train_state *run)
{
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    mfpo_context *ctx = ag->ctx;
    if (!replay) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    mfpo_train_options opt;
    mfpo_status s = import_options(ctx, who, options, &opt);
    if (s != MFPO_OK) return s;
    s = check_env_for_agent(ag, who, "env", env);
    if (s != MFPO_OK) return s;
    const mfpo_env *eval_env = opt.eval_every > 0 ? opt.eval_env : NULL;
    if (eval_env) {
        s = check_env_for_agent(ag, who, "options->eval_env", eval_env);
        if (s != MFPO_OK) return s;
    }
    if (replay->ctx != ctx)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: 'replay' belongs to another context than 'agent'", who);
    if (replay->obs_dim != ag->cfg.obs_dim || replay->act_dim != ag->cfg.act_dim)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: replay has obs_dim %zu, act_dim %zu but the agent has obs_dim %zu, act_dim %zu", who,
                         replay->obs_dim, replay->act_dim, ag->cfg.obs_dim, ag->cfg.act_dim);
    return algo_train(ag, who, replay, env, &opt, run);
}

mfpo_status mfpo_train(mfpo_agent *ag, mfpo_replay *replay, const mfpo_env *env, const mfpo_train_options *options)
{
    return train_checked("mfpo_train", ag, replay, env, options, NULL);
}

void mfpo_train_state_init(mfpo_train_state *state)
{
    if (!state) return;
    memset(state, 0, sizeof *state);
    state->struct_size = sizeof *state;
}

mfpo_status mfpo_train_continue(mfpo_agent *ag, mfpo_replay *replay, const mfpo_env *env,
                                const mfpo_train_options *options, mfpo_train_state *state)
{
    static const char who[] = "mfpo_train_continue";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    if (!state) return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'state' is NULL", who);
    if (state->struct_size < sizeof(mfpo_train_state) || state->struct_size > (1u << 20))
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: state->struct_size = %zu is not a size this library knows (expected %zu; call "
                         "mfpo_train_state_init first)",
                         who, state->struct_size, sizeof(mfpo_train_state));
    return train_checked(who, ag, replay, env, options, state);
}

mfpo_status mfpo_evaluate(mfpo_agent *ag, const mfpo_env *env, size_t episodes, uint64_t episode_limit, uint64_t seed,
                          double *mean_return)
{
    static const char who[] = "mfpo_evaluate";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    mfpo_context *ctx = ag->ctx;
    mfpo_status s = check_env_for_agent(ag, who, "env", env);
    if (s != MFPO_OK) return s;
    if (episodes < 1) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: episodes = 0 must be >= 1", who);
    if (!mean_return) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'mean_return' is NULL", who);
    double mean = 0.0;
    s = algo_evaluate(ag, who, env, episodes, episode_limit, seed, &mean);
    if (s == MFPO_OK) *mean_return = mean;
    return s;
}
