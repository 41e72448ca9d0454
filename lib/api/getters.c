/* Getters of a handle's dimensions and context (include/mfpo/agent.h, include/mfpo/replay.h). */
#include <mfpo/agent.h>
#include <mfpo/replay.h>

#include "../algo/update.h"
#include "replay_internal.h"

mfpo_context *mfpo_agent_context(const mfpo_agent *agent)
{
    return agent ? agent->ctx : NULL;
}

size_t mfpo_agent_obs_dim(const mfpo_agent *agent)
{
    return agent ? agent->cfg.obs_dim : 0;
}

size_t mfpo_agent_act_dim(const mfpo_agent *agent)
{
    return agent ? agent->cfg.act_dim : 0;
}

mfpo_context *mfpo_replay_context(const mfpo_replay *replay)
{
    if (!replay) return NULL;
    mfpo_replay_view v;
    mfpo_replay_raw(replay, &v);
    return v.ctx;
}

size_t mfpo_replay_obs_dim(const mfpo_replay *replay)
{
    if (!replay) return 0;
    mfpo_replay_view v;
    mfpo_replay_raw(replay, &v);
    return v.obs_dim;
}

size_t mfpo_replay_act_dim(const mfpo_replay *replay)
{
    if (!replay) return 0;
    mfpo_replay_view v;
    mfpo_replay_raw(replay, &v);
    return v.act_dim;
}
