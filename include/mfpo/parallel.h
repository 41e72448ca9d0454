/**
 * @file parallel.h
 * @brief Data-parallel training: a gradient all-reduce hook, the agent's state as one buffer, and
 *        the context's random-stream position (docs/distributed.md).
 *
 * The library itself knows no transport. The caller (or libmfpo-mpi, mpi/mfpo_mpi.h) supplies an
 * in-place sum over a float buffer; every rank then takes the identical optimizer step on the
 * mean gradient, so that the agents of all ranks stay equal bit for bit.
 */
#ifndef MFPO_PARALLEL_H
#define MFPO_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "context.h"
#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/**
 * An in-place collective over @p count floats at @p buffer: for the all-reduce, the element-wise
 * sum over all ranks, the same result on every rank; for the broadcast, rank 0's values on every
 * rank. The buffer is in the agent's backend memory (host memory for the CPU backend, device memory
 * for CUDA). Returns 0 on success; any other value makes the calling library function fail with
 * #MFPO_ERR_COMM and that value in the message.
 */
typedef int (*mfpo_collective_fn)(void *user, float *buffer, size_t count);

/**
 * Installs (or with @p allreduce NULL removes) the gradient reduction of @p agent.
 *
 * With it, every mfpo_update() (and so mfpo_train()) gathers the gradients into one contiguous
 * buffer of mfpo_agent_gradient_size() floats laid out [critic 1 | critic 2 | u | d | log alpha]
 * (each part padded to 16 floats, the padding zero) and calls @p allreduce on parts of it in the
 * order the update needs them:
 *   1. after the critics' backward pass: [critic 1 | critic 2], before their Adam steps;
 *   2. after u's backward pass: [u], before its Adam step (the actor stage scores with the critics
 *      step 1 just moved, so it cannot start before step 1's reduction);
 *   3. after d's backward pass and the temperature gradient: [d | log alpha], before their Adam
 *      steps (d trains on the velocity of the u that step 2 just moved).
 * An update in which the actor does not run (actor_delay) makes call 1 only. After each call the
 * part is multiplied by 1 / @p world_size (exact for powers of two), so the step is taken on the
 * mean of the ranks' gradients: each rank's loss is a mean over its own batch, so with equal
 * batch sizes this is the gradient of the loss over the union of the batches.
 *
 * Every rank must run the same number of updates in the same order (mfpo_train() does, given the
 * same total_steps, warmup_steps and updates_per_step on every rank). With the hook installed the
 * non-finite guard of mfpo_update() looks at the state only (the same on every rank after the
 * reduction), not at the rank's own losses, so that every rank takes the same decision.
 * A recorded update (CUDA graphs) is not used while a hook is installed.
 *
 * @param agent the agent.
 * @param allreduce the in-place sum over the ranks, or NULL to remove the hook.
 * @param user passed to @p allreduce.
 * @param world_size the number of ranks (>= 1; 1 with a hook that returns the buffer unchanged is
 *        bit-identical to no hook).
 * @return #MFPO_OK, or #MFPO_ERR_INVALID_ARGUMENT (agent NULL, world_size < 1).
 */
MFPO_API mfpo_status mfpo_agent_set_allreduce(mfpo_agent *agent, mfpo_collective_fn allreduce, void *user,
                                              int world_size);

/** Floats of the gradient buffer the all-reduce sees in one full update (all three parts); 0 for NULL. */
MFPO_API size_t mfpo_agent_gradient_size(const mfpo_agent *agent);

/** Floats of the agent's trainable state: networks, target critics, Adam moments, log alpha; 0 for NULL. */
MFPO_API size_t mfpo_agent_state_size(const mfpo_agent *agent);

/* mfpo_agent_get_state(), a raw copy of that state for comparing ranks and for tests, is a
 * diagnostic call: include/mfpo/experimental.h declares it when MFPO_EXPERIMENTAL is defined. */

/**
 * Calls @p broadcast once over the agent's whole trainable state in place (rank 0's values to
 * every rank), so that ranks created with different seeds start from one agent. The update
 * counters are not touched: call it on agents that have run the same number of updates (fresh
 * ones, or ones loaded from one checkpoint). On failure the state is restored.
 * @return #MFPO_OK, #MFPO_ERR_INVALID_ARGUMENT, #MFPO_ERR_COMM (the hook failed), or
 *         #MFPO_ERR_NON_FINITE (the broadcast delivered a non-finite value).
 */
MFPO_API mfpo_status mfpo_agent_broadcast_state(mfpo_agent *agent, mfpo_collective_fn broadcast, void *user);

/**
 * The context's random-number position: its seed and the next Philox stream. Every draw (weights,
 * replay sampling, exploration, updates) takes the next stream, so that (seed, stream) determines
 * all that follows. A checkpoint stores it; data-parallel ranks, which share one agent checkpoint
 * but draw from their own seeds, store theirs beside their replay shard.
 */
MFPO_API mfpo_status mfpo_context_get_random_position(const mfpo_context *ctx, uint64_t *seed, uint64_t *stream);

/** Sets the context's seed and next stream (see mfpo_context_get_random_position()). */
MFPO_API mfpo_status mfpo_context_set_random_position(mfpo_context *ctx, uint64_t seed, uint64_t stream);

MFPO_END_DECLS

#endif
