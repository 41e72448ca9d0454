/* Getters of a handle's dimensions (include/mfpo/agent.h, include/mfpo/replay.h); the handles'
 * contexts are returned by mfpo_agent_context() (agent.c) and mfpo_replay_context() (replay.c). */
#include <mfpo/agent.h>
#include <mfpo/replay.h>

#include "../algo/agent.h"
#include "../algo/replay.h"

size_t mfpo_agent_obs_dim(const mfpo_agent *agent)
{
    return agent ? agent->cfg.obs_dim : 0;
}

size_t mfpo_agent_act_dim(const mfpo_agent *agent)
{
    return agent ? agent->cfg.act_dim : 0;
}

size_t mfpo_replay_obs_dim(const mfpo_replay *replay)
{
    if (!replay) return 0;
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    return v.obs_dim;
}

size_t mfpo_replay_act_dim(const mfpo_replay *replay)
{
    if (!replay) return 0;
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    return v.act_dim;
}
