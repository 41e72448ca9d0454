/**
 * @file experimental.h
 * @brief Diagnostic calls, outside the stable API: declared only when the user defines
 *        MFPO_EXPERIMENTAL before including `mfpo.h` (or this header).
 *
 * Without MFPO_EXPERIMENTAL this header declares nothing, so a program that builds against the
 * stable API alone cannot call these by accident. With it:
 * @code
 * #define MFPO_EXPERIMENTAL
 * #include <mfpo.h>
 * @endcode
 *
 * The symbols are exported like every other (lib/mfpo.map lists them; the ABI check covers them),
 * so that a program built with the macro keeps linking. What is not promised is their interface:
 * a later minor release may change or remove a call declared here, with a CHANGELOG entry, where
 * the stable API only grows (docs/abi.md, "Stable and experimental").
 *
 * What is here, and why it is a diagnostic rather than a stable call:
 *  - mfpo_policy_transport(): the sampler as a deterministic map from caller-given noise. It exists
 *    to differentiate the sampler numerically, to reproduce one draw exactly, and for validation
 *    tools (tools/validation); a trainer or a deployed policy uses mfpo_agent_act(),
 *    mfpo_agent_select_action() or mfpo_policy_sample(). Its arguments expose the sampler's inner
 *    structure (the noise, the divergence net's likelihood), which a change of sampler would change.
 *  - mfpo_agent_get_state(): a raw copy of the agent's trainable state in an internal layout. It
 *    exists to compare data-parallel ranks bit for bit and for tests; the stable ways to move an
 *    agent's state are checkpoints (mfpo_agent_save()/mfpo_agent_load()) and
 *    mfpo_agent_broadcast_state(). Its layout is the library's, not a format.
 *
 * Kept stable on purpose: mfpo_agent_state_size() and mfpo_agent_gradient_size() (parallel.h) give
 * the sizes of the buffers the collective hooks receive, which a transport needs to plan its
 * buffers; the parameter get/set calls of nets.h have a documented layout (the network's own).
 */
#ifndef MFPO_EXPERIMENTAL_H
#define MFPO_EXPERIMENTAL_H

#ifdef MFPO_EXPERIMENTAL

#include <stddef.h>

#include "agent.h"
#include "export.h"
#include "nets.h"
#include "status.h"

MFPO_BEGIN_DECLS

/**
 * The sampler of docs/algorithm.md §3 as a deterministic map from caller-given noise: for each of the @p n
 * observations, runs the T steps from @p noise (n x A, standard-normal draws) and writes the
 * action (n x A) and, when @p divergence is non-NULL, log p(a | s) to @p logp (n). Useful to
 * differentiate the sampler numerically or to reproduce a draw exactly. Experimental.
 */
MFPO_API mfpo_status mfpo_policy_transport(mfpo_policy *policy, const mfpo_divergence *divergence, const float *obs,
                                           const float *noise, size_t n, float *actions, float *logp);

/**
 * Copies the agent's trainable state (mfpo_agent_state_size() floats, the layout internal but the
 * same for every agent of one configuration) to @p out. For comparing ranks and for tests.
 * Experimental.
 * @return #MFPO_OK, or #MFPO_ERR_INVALID_ARGUMENT when @p count differs from the state size.
 */
MFPO_API mfpo_status mfpo_agent_get_state(const mfpo_agent *agent, float *out, size_t count);

MFPO_END_DECLS

#endif /* MFPO_EXPERIMENTAL */

#endif
