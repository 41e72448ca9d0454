/* The agent (include/mfpo/agent.h): argument checks; the work is lib/algo/agent.c and driver.c. */
#include <math.h>
#include <string.h>

#include "../algo/agent.h"
#include "../algo/replay.h"
#include "checks.h"

mfpo_status mfpo_agent_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_agent **out)
{
    static const char who[] = "mfpo_agent_create";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    core_clear_error(ctx);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, out);
    *out = NULL;
    mfpo_agent_config cfg;
    mfpo_status s = algo_config_import(ctx, who, config, &cfg);
    if (s != MFPO_OK) return s;
    s = algo_agent_create(ctx, who, &cfg, out);
    if (s == MFPO_OK) api_context_retain(ctx);
    return s;
}

void mfpo_agent_destroy(mfpo_agent *ag)
{
    if (!ag) return;
    mfpo_context *ctx = ag->ctx;
    algo_agent_destroy(ag);
    api_context_release(ctx);
}

void mfpo_update_stats_init(mfpo_update_stats *stats)
{
    if (!stats) return;
    memset(stats, 0, sizeof *stats);
    stats->struct_size = sizeof *stats;
}

mfpo_context *mfpo_agent_context(const mfpo_agent *ag)
{
    return ag ? ag->ctx : NULL;
}

mfpo_status mfpo_agent_get_config(const mfpo_agent *ag, mfpo_agent_config *config)
{
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_get_config: argument 'agent' is NULL");
    core_clear_error(ag->ctx);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, "mfpo_agent_get_config", config);
    if (config->struct_size < offsetof(mfpo_agent_config, adam_eps) + sizeof(float) || config->struct_size > (1u << 20))
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_agent_get_config: config->struct_size = %zu is not a size this library knows "
                         "(expected %zu; call mfpo_agent_config_init first)",
                         config->struct_size, sizeof ag->cfg);
    size_t n = config->struct_size < sizeof ag->cfg ? config->struct_size : sizeof ag->cfg;
    memcpy(config, &ag->cfg, n);
    config->struct_size = n;
    return MFPO_OK;
}

mfpo_policy *mfpo_agent_policy(mfpo_agent *ag)
{
    return ag ? &ag->policy : NULL;
}

mfpo_divergence *mfpo_agent_divergence(mfpo_agent *ag)
{
    return ag ? &ag->divergence : NULL;
}

mfpo_critic *mfpo_agent_critic(mfpo_agent *ag)
{
    return ag ? &ag->critic : NULL;
}

float mfpo_agent_alpha(const mfpo_agent *ag)
{
    return ag ? algo_agent_alpha(ag) : 0.0f;
}

uint64_t mfpo_agent_update_count(const mfpo_agent *ag)
{
    return ag ? ag->updates : 0;
}

/* The observations of the acting calls: n in [1, max_n], every value finite. */
static mfpo_status check_obs(mfpo_context *ctx, const char *who, const float *obs, size_t n, size_t max_n,
                             const char *max_text, size_t S)
{
    if (n == 0 || n > max_n)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: n = %zu is outside [1, %s]", who, n, max_text);
    for (size_t i = 0; i < n * S; i++)
        if (!isfinite(obs[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: obs[%zu] (row %zu) = %g is not finite", who, i, i / S,
                             (double)obs[i]);
    return MFPO_OK;
}

mfpo_status mfpo_agent_act(mfpo_agent *ag, const float *obs, size_t n, float *actions)
{
    static const char who[] = "mfpo_agent_act";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, obs);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, actions);
    mfpo_status s = check_obs(ag->ctx, who, obs, n, (size_t)1 << 24, "2^24", ag->cfg.obs_dim);
    return s != MFPO_OK ? s : algo_agent_act(ag, who, obs, n, actions);
}

mfpo_status mfpo_agent_select_action(mfpo_agent *ag, const float *obs, size_t n, float *actions)
{
    static const char who[] = "mfpo_agent_select_action";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, obs);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, actions);
    mfpo_status s = check_obs(ag->ctx, who, obs, n, (size_t)1 << 20, "2^20", ag->cfg.obs_dim);
    return s != MFPO_OK ? s : algo_agent_select(ag, who, obs, n, actions);
}

mfpo_status mfpo_update(mfpo_agent *ag, mfpo_replay *replay, mfpo_update_stats *stats)
{
    static const char who[] = "mfpo_update";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx);
    mfpo_context *ctx = ag->ctx;
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, replay);
    if (stats && (stats->struct_size < offsetof(mfpo_update_stats, actor_updated) + sizeof(int) ||
                  stats->struct_size > (1u << 20)))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: stats->struct_size = %zu is not a size this library knows (expected %zu)", who,
                         stats->struct_size, sizeof *stats);
    if (replay->ctx != ctx)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: 'replay' belongs to another context", who);
    if (replay->obs_dim != ag->cfg.obs_dim || replay->act_dim != ag->cfg.act_dim)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: replay has obs_dim %zu, act_dim %zu but the agent has %zu, %zu", who, replay->obs_dim,
                         replay->act_dim, ag->cfg.obs_dim, ag->cfg.act_dim);
    if (replay->size == 0)
        return core_fail(ctx, MFPO_ERR_STATE, "%s: the replay buffer is empty; add transitions first", who);
    mfpo_update_stats o;
    mfpo_status s = algo_update(ag, who, replay, stats ? &o : NULL);
    if (s == MFPO_OK && stats) {
        o.struct_size = stats->struct_size < sizeof o ? stats->struct_size : sizeof o;
        memcpy(stats, &o, o.struct_size);
    }
    return s;
}
