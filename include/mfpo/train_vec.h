/**
 * @file train_vec.h
 * @brief Vectorised training: N environment instances in lockstep feeding one agent.
 */
#ifndef MFPO_TRAIN_VEC_H
#define MFPO_TRAIN_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "env.h"
#include "export.h"
#include "replay.h"
#include "status.h"
#include "train.h"

MFPO_BEGIN_DECLS

/** Options of mfpo_train_vec(); fill with mfpo_vec_options_init(). The struct only grows at its end. */
typedef struct mfpo_vec_options {
    size_t struct_size; /**< sizeof(mfpo_vec_options). */
    /** The loop's options as for mfpo_train(), or NULL for mfpo_train_options_init()'s defaults;
     *  every count is in environment steps summed over the instances (total_steps, warmup_steps,
     *  eval_every, progress_every) and updates_per_step is per environment step; its eval_env and
     *  seed are not used (see below). A pointer, so that either struct can grow at its end. */
    const mfpo_train_options *train;
    /** One seed per training instance, or NULL for 0, 1, ..., n - 1: instance i's episodes, its
     *  warm-up actions and its exploration noise depend on its seed alone, not on n. */
    const uint64_t *instance_seeds;
    /** Evaluation instances (run in lockstep too), or NULL for no evaluation. */
    const mfpo_env *eval_envs;
    size_t n_eval_envs; /**< Number of @p eval_envs. */
    uint64_t eval_seed; /**< Evaluation episode e of evaluation j is reset with a hash of
                                         this + j * eval_episodes + e. Default 0. */
} mfpo_vec_options;

/** Fills @p options with the defaults (train NULL: mfpo_train_options_init()'s). */
MFPO_API void mfpo_vec_options_init(mfpo_vec_options *options);

/**
 * Trains @p agent on @p n environment instances stepped in lockstep (docs/algorithm.md §5 with N actors).
 *
 * Each vector step: every instance that needs one is reset; during warm-up (the first
 * ceil(warmup / n) vector steps, warmup = warmup_steps less the transitions already in @p replay)
 * each instance's action is uniform in [-1, 1]^A, else ONE batched policy call
 * (mfpo_policy_transport(), experimental.h) maps the n instances' noise to n actions; the n instances are
 * stepped; the n transitions are appended with mfpo_replay_add_batch() (instance order); then
 * updates run so that after E environment steps past the warm-up floor(E * updates_per_step)
 * updates have run. The loop runs ceil(total_steps / n) vector steps.
 *
 * Random streams: instance i with seed s_i has its own Philox stream s_i under a key derived from
 * the context's seed and stream position at the call: its warm-up action at its step t is drawn at
 * counter t A + j, its exploration noise likewise from a second key, and its episode k is reset
 * with hash(s_i) + k. So instance i's transitions do not depend on n or on the other instances:
 * with the policy held fixed (no update in between), n = 4 instances with seeds {a, b, c, d}
 * produce exactly the transitions of four n = 1 runs with seeds a, b, c and d (tests/train).
 *
 * Evaluation (every eval_every environment steps, when eval_envs is set): eval_episodes episodes
 * with action selection, run in waves of n_eval_envs instances in lockstep (one
 * mfpo_agent_select_action() call per step for the instances still running), cut at
 * episode_limit; the mean return is reported through the progress callback.
 *
 * Errors as mfpo_train(); a failing callback is named with its instance ("envs[2]->step ...").
 */
MFPO_API mfpo_status mfpo_train_vec(mfpo_agent *agent, mfpo_replay *replay, const mfpo_env *envs, size_t n,
                                    const mfpo_vec_options *options);

MFPO_END_DECLS

#endif
