/*
 * The agent's algorithm side: creation and destruction, acting, action selection and the update
 * driver. lib/api/agent.c checks the public calls' arguments and calls these; lib/algo/train.c
 * calls them directly. Nothing here checks arguments; `who` is the public function the caller
 * called, and names it in every message.
 */
#ifndef MFPO_ALGO_AGENT_H
#define MFPO_ALGO_AGENT_H

#include "update.h"

/* A new agent of the (validated) configuration, initialized from the context's stream. */
mfpo_status algo_agent_create(mfpo_context *ctx, const char *who, const mfpo_agent_config *cfg, mfpo_agent **out);
void algo_agent_destroy(mfpo_agent *ag);

/* exp(log alpha), read from backend memory. */
float algo_agent_alpha(const mfpo_agent *ag);

/* One plain policy sample for each of n finite observations (exploration). */
mfpo_status algo_agent_act(mfpo_agent *ag, const char *who, const float *obs, size_t n, float *actions);

/* The best of eval_candidates policy samples under the target critics, for each of n finite
 * observations (1 <= n <= 2^20). */
mfpo_status algo_agent_select(mfpo_agent *ag, const char *who, const float *obs, size_t n, float *actions);

/*
 * One update (docs/algorithm.md §4) on a batch drawn from `replay` (same context and dimensions as the agent,
 * not empty). A non-finite loss, gradient or parameter restores the agent and the context's
 * stream as before the call and returns MFPO_ERR_NON_FINITE. On success fills *stats (the
 * current version, whole; may be NULL).
 */
mfpo_status algo_update(mfpo_agent *ag, const char *who, mfpo_replay *replay, mfpo_update_stats *stats);

#endif
