/**
 * @file agent.h
 * @brief The MFPO agent: policy, divergence net, critics, temperature and optimizers; one update.
 */
#ifndef MFPO_AGENT_H
#define MFPO_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "context.h"
#include "export.h"
#include "nets.h"
#include "replay.h"
#include "status.h"

MFPO_BEGIN_DECLS

/** Opaque agent. */
typedef struct mfpo_agent mfpo_agent;

/** What one mfpo_update() measured. The struct only grows at its end. */
typedef struct mfpo_update_stats {
    size_t struct_size;    /**< Set by the caller to sizeof(mfpo_update_stats). */
    float critic_loss;     /**< Mean of the two critics' cross-entropy losses (§4a). */
    float actor_loss;      /**< MeanFlow loss of u (§4b); 0 when the actor was not updated. */
    float divergence_loss; /**< Loss of d (§4c). */
    float alpha;           /**< Temperature after this update. */
    float entropy;         /**< Entropy estimate H = -mean(log p) over the policy proposal. */
    float mean_q;          /**< Mean Q of the batch's (s, a) under the online critics (min or mean). */
    float ess_policy;      /**< Mean effective sample size of the policy proposal (of K1). */
    float ess_gaussian;    /**< Mean effective sample size of the Gaussian proposal (of K2). */
    int actor_updated;     /**< 1 when (b)–(d) ran in this update (actor_delay). */
} mfpo_update_stats;

/** Creates an agent; the configuration is validated and copied. Weights come from the context stream. */
MFPO_API mfpo_status mfpo_agent_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_agent **out);
/** Destroys an agent and the parts it handed out. NULL is ignored. */
MFPO_API void mfpo_agent_destroy(mfpo_agent *agent);

/** Sets @p stats->struct_size to sizeof(mfpo_update_stats) and every other member to 0. NULL is ignored. */
MFPO_API void mfpo_update_stats_init(mfpo_update_stats *stats);

/** @return the context the agent was created from; NULL for NULL. */
MFPO_API mfpo_context *mfpo_agent_context(const mfpo_agent *agent);

/**
 * Copies the agent's configuration to @p config, whose struct_size must be set (by
 * mfpo_agent_config_init()): at most struct_size bytes are written. A struct_size below the
 * first version's or above 1 MiB is refused with #MFPO_ERR_INVALID_ARGUMENT (docs/abi.md).
 */
MFPO_API mfpo_status mfpo_agent_get_config(const mfpo_agent *agent, mfpo_agent_config *config);
/** @return the agent's policy (owned by the agent). */
MFPO_API mfpo_policy *mfpo_agent_policy(mfpo_agent *agent);
/** @return the agent's divergence net (owned by the agent). */
MFPO_API mfpo_divergence *mfpo_agent_divergence(mfpo_agent *agent);
/** @return the agent's critics (owned by the agent). */
MFPO_API mfpo_critic *mfpo_agent_critic(mfpo_agent *agent);
/** @return the current temperature alpha; 0 for NULL. */
MFPO_API float mfpo_agent_alpha(const mfpo_agent *agent);
/** @return the number of mfpo_update() calls completed; 0 for NULL. */
MFPO_API uint64_t mfpo_agent_update_count(const mfpo_agent *agent);

/** Exploration: one plain policy sample per observation (n x S in, n x A out, in [-1, 1]). */
MFPO_API mfpo_status mfpo_agent_act(mfpo_agent *agent, const float *obs, size_t n, float *actions);

/**
 * Evaluation-time action selection (docs/algorithm.md §3): for each observation draws `eval_candidates`
 * plain samples, scores them with the target critics and returns the best.
 */
MFPO_API mfpo_status mfpo_agent_select_action(mfpo_agent *agent, const float *obs, size_t n, float *actions);

/**
 * One full MFPO update (docs/algorithm.md §4 a–d) on a batch of `batch_size` transitions drawn uniformly from
 * @p replay. @p stats may be NULL. The first call sizes every workspace; later calls allocate
 * nothing. If any loss or gradient is non-finite, returns #MFPO_ERR_NON_FINITE and every
 * parameter, optimizer moment and counter is exactly as before the call.
 */
MFPO_API mfpo_status mfpo_update(mfpo_agent *agent, mfpo_replay *replay, mfpo_update_stats *stats);

/** @return the agent's observation size S; 0 for NULL. */
MFPO_API size_t mfpo_agent_obs_dim(const mfpo_agent *agent);
/** @return the agent's action size A; 0 for NULL. */
MFPO_API size_t mfpo_agent_act_dim(const mfpo_agent *agent);

MFPO_END_DECLS

#endif
