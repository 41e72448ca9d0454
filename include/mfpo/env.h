/**
 * @file env.h
 * @brief The environment interface: the caller's simulator, plugged in through callbacks.
 *
 * See docs/writing-an-environment.md for a guide with C and C++ examples.
 */
#ifndef MFPO_ENV_H
#define MFPO_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/**
 * An environment. The library acts in [-1, 1]^A and maps actions affinely to
 * [action_low, action_high] before calling `step`. Callbacks return #MFPO_OK, or any other status
 * to stop training with #MFPO_ERR_ENV.
 */
typedef struct mfpo_env {
    size_t struct_size;       /**< sizeof(mfpo_env), set by mfpo_env_init(). */
    size_t obs_dim;           /**< Observation size. */
    size_t act_dim;           /**< Action size. */
    const float *action_low;  /**< act_dim lower bounds, or NULL for -1. */
    const float *action_high; /**< act_dim upper bounds, or NULL for +1. */
    void *user;               /**< Passed to every callback. */
    /** Starts an episode from a state drawn with @p seed; writes obs_dim floats. */
    mfpo_status (*reset)(void *user, uint64_t seed, float *obs_out);
    /**
     * Applies @p action (act_dim floats, in the env's bounds); writes the next observation, the
     * reward, and whether the episode ended by a true termination (`terminated`, bootstrap mask 0)
     * or was cut off (`truncated`, mask 1).
     */
    mfpo_status (*step)(void *user, const float *action, float *obs_out, float *reward, int *terminated,
                        int *truncated);
    /** Optional: called by mfpo_env_close(). */
    void (*close)(void *user);
} mfpo_env;

/** Zeroes @p env and sets its struct_size. */
MFPO_API void mfpo_env_init(mfpo_env *env);
/** Calls env->close(env->user) if set. NULL is ignored. */
MFPO_API void mfpo_env_close(const mfpo_env *env);

/**
 * Maps one action (act_dim floats) from [-1, 1] to the env's bounds, elementwise:
 * low + (in + 1) / 2 * (high - low). @p in and @p out may alias.
 */
MFPO_API mfpo_status mfpo_env_scale_action(const mfpo_env *env, const float *in, float *out);

MFPO_END_DECLS

#endif
