/**
 * @file nets.h
 * @brief The three network handles: MeanFlow policy u, divergence net d, twin distributional critics.
 *
 * Each can be created on its own, or obtained from an agent (mfpo_agent_policy() and friends),
 * in which case the agent owns it and mfpo_*_destroy() on it does nothing.
 */
#ifndef MFPO_NETS_H
#define MFPO_NETS_H

#include <stddef.h>

#include "config.h"
#include "context.h"
#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/** Opaque MeanFlow average-velocity network u(s, z, t, h) with its sampler (docs/algorithm.md §2–§3). */
typedef struct mfpo_policy mfpo_policy;
/** Opaque average-divergence network d(s, z, t, h) (docs/algorithm.md §2). */
typedef struct mfpo_divergence mfpo_divergence;
/** Opaque pair of distributional critics with their target copies (docs/algorithm.md §2). */
typedef struct mfpo_critic mfpo_critic;

/** Creates a policy with freshly initialized weights (Xavier-uniform, context stream). */
MFPO_API mfpo_status mfpo_policy_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_policy **out);
/** Destroys a policy created by mfpo_policy_create(); NULL or an agent's policy is ignored. */
MFPO_API void mfpo_policy_destroy(mfpo_policy *policy);
/** Number of float parameters of u. */
MFPO_API size_t mfpo_policy_param_count(const mfpo_policy *policy);
/** @return the context the policy was created from (an agent's part: the agent's); NULL for NULL. */
MFPO_API mfpo_context *mfpo_policy_context(const mfpo_policy *policy);
/** Copies the parameters of u out to host memory (@p count must equal the parameter count). */
MFPO_API mfpo_status mfpo_policy_get_params(const mfpo_policy *policy, float *params, size_t count);
/** Replaces the parameters of u (all finite, @p count equal to the parameter count). */
MFPO_API mfpo_status mfpo_policy_set_params(mfpo_policy *policy, const float *params, size_t count);

/**
 * Plain T-step sampling (docs/algorithm.md §3 without the likelihood): for each of the @p n observations
 * (n x S, host memory) writes one action in [-1, 1]^A to @p actions (n x A).
 * Workspaces grow on the first call with a larger @p n; later calls allocate nothing.
 */
MFPO_API mfpo_status mfpo_policy_sample(mfpo_policy *policy, const float *obs, size_t n, float *actions);

/**
 * Sampling with log-likelihood (docs/algorithm.md §3): actions (n x A) and log p(a | s) (n) from the
 * divergence net's running estimate. @p divergence must have the policy's dimensions.
 */
MFPO_API mfpo_status mfpo_policy_sample_logp(mfpo_policy *policy, const mfpo_divergence *divergence, const float *obs,
                                             size_t n, float *actions, float *logp);

/* mfpo_policy_transport(), the sampler as a map from caller-given noise, is a diagnostic call:
 * include/mfpo/experimental.h declares it when MFPO_EXPERIMENTAL is defined. */

/** Creates a divergence net with freshly initialized weights. */
MFPO_API mfpo_status mfpo_divergence_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_divergence **out);
/** Destroys a divergence net created by mfpo_divergence_create(); NULL or an agent's is ignored. */
MFPO_API void mfpo_divergence_destroy(mfpo_divergence *divergence);
/** Number of float parameters of d. */
MFPO_API size_t mfpo_divergence_param_count(const mfpo_divergence *divergence);
/** @return the context the divergence net was created from (an agent's part: the agent's); NULL for NULL. */
MFPO_API mfpo_context *mfpo_divergence_context(const mfpo_divergence *divergence);
/** Copies the parameters of d out to host memory. */
MFPO_API mfpo_status mfpo_divergence_get_params(const mfpo_divergence *divergence, float *params, size_t count);
/** Replaces the parameters of d. */
MFPO_API mfpo_status mfpo_divergence_set_params(mfpo_divergence *divergence, const float *params, size_t count);

/** Creates twin critics (targets start equal to the online nets). */
MFPO_API mfpo_status mfpo_critic_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_critic **out);
/** Destroys critics created by mfpo_critic_create(); NULL or an agent's is ignored. */
MFPO_API void mfpo_critic_destroy(mfpo_critic *critic);
/** Number of float parameters of one critic network. */
MFPO_API size_t mfpo_critic_param_count(const mfpo_critic *critic);
/** @return the context the critics were created from (an agent's part: the agent's); NULL for NULL. */
MFPO_API mfpo_context *mfpo_critic_context(const mfpo_critic *critic);
/**
 * Q values of @p n (observation, action) pairs: the min of the two critics' means when clipped
 * double-Q is on, else their average. @p use_targets selects the target copies.
 */
MFPO_API mfpo_status mfpo_critic_q(mfpo_critic *critic, const float *obs, const float *actions, size_t n,
                                   int use_targets, float *q);

MFPO_END_DECLS

#endif
