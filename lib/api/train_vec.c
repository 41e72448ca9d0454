/*
 * mfpo_train_vec() (include/mfpo/train_vec.h): the argument checks; the loop is algo_train_vec()
 * (lib/algo/train_vec.c).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <mfpo/train_vec.h>

#include "../algo/agent.h"
#include "../algo/replay.h"
#include "../algo/train.h"
#include "checks.h"

#define MAX_INSTANCES ((size_t)1 << 16)

void mfpo_vec_options_init(mfpo_vec_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
}

/* ------------------------------------------------------------------ checks */

static mfpo_status check_envs(mfpo_agent *ag, const char *who, const char *what, const mfpo_env *envs, size_t n)
{
    char name[48];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s[%zu]", what, i);
        mfpo_status s = api_env_validate(ag->ctx, who, name, &envs[i], 1);
        if (s != MFPO_OK) return s;
        if (envs[i].obs_dim != ag->cfg.obs_dim || envs[i].act_dim != ag->cfg.act_dim)
            return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                             "%s: %s has obs_dim %zu, act_dim %zu but the agent has obs_dim %zu, act_dim %zu", who,
                             name, envs[i].obs_dim, envs[i].act_dim, ag->cfg.obs_dim, ag->cfg.act_dim);
    }
    return MFPO_OK;
}

/* Copies the caller's options (of their struct_size) over the defaults; `t` gets the train options. */
static mfpo_status import_vec_options(mfpo_context *ctx, const char *who, const mfpo_vec_options *in,
                                      mfpo_vec_options *o, mfpo_train_options *t)
{
    mfpo_vec_options_init(o);
    if (in) {
        if (in->struct_size < offsetof(mfpo_vec_options, eval_seed) + sizeof(uint64_t) || in->struct_size > (1u << 20))
            return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                             "%s: options->struct_size = %zu is not a size this library knows (expected %zu; call "
                             "mfpo_vec_options_init first)",
                             who, in->struct_size, sizeof *o);
        memcpy(o, in, in->struct_size < sizeof *o ? in->struct_size : sizeof *o);
        o->struct_size = sizeof *o;
    }
    /* the training options inside, checked as mfpo_train checks its own */
    mfpo_status s = api_train_options_import(ctx, who, "options->train", o->train, t);
    o->train = t;
    if (s != MFPO_OK) return s;
    if (o->eval_envs && (o->n_eval_envs < 1 || o->n_eval_envs > MAX_INSTANCES))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: options->n_eval_envs = %zu is outside [1, %zu]", who,
                         o->n_eval_envs, MAX_INSTANCES);
    if (o->eval_envs && t->eval_every > 0 && t->eval_episodes < 1)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: options->train->eval_episodes = 0 must be >= 1 when options->eval_envs is set", who);
    return MFPO_OK;
}

mfpo_status mfpo_train_vec(mfpo_agent *ag, mfpo_replay *replay, const mfpo_env *envs, size_t n,
                           const mfpo_vec_options *options)
{
    static const char who[] = "mfpo_train_vec";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    mfpo_context *ctx = ag->ctx;
    if (!replay) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    if (!envs) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'envs' is NULL", who);
    if (n < 1 || n > MAX_INSTANCES)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: n = %zu is outside [1, %zu]", who, n, MAX_INSTANCES);
    mfpo_vec_options o;
    mfpo_train_options topt;
    mfpo_status s = import_vec_options(ctx, who, options, &o, &topt);
    if (s != MFPO_OK) return s;
    const mfpo_train_options *t = &topt;
    if ((s = check_envs(ag, who, "envs", envs, n)) != MFPO_OK) return s;
    const mfpo_env *eval_envs = t->eval_every > 0 ? o.eval_envs : NULL;
    if (eval_envs && (s = check_envs(ag, who, "options->eval_envs", eval_envs, o.n_eval_envs)) != MFPO_OK) return s;
    algo_replay_view rv;
    algo_replay_raw(replay, &rv);
    if (rv.ctx != ctx)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: 'replay' belongs to another context than 'agent'", who);
    if (rv.obs_dim != ag->cfg.obs_dim || rv.act_dim != ag->cfg.act_dim)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: replay has obs_dim %zu, act_dim %zu but the agent has obs_dim %zu, act_dim %zu", who,
                         rv.obs_dim, rv.act_dim, ag->cfg.obs_dim, ag->cfg.act_dim);
    return algo_train_vec(ag, who, replay, envs, n, &o);
}
