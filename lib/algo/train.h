/*
 * The training loop and evaluation (lib/algo/train.c), called by lib/api/train.c after its
 * argument checks, and the affine action map shared with lib/api/env.c.
 */
#ifndef MFPO_ALGO_TRAIN_H
#define MFPO_ALGO_TRAIN_H

#include <stddef.h>

#include <mfpo/agent.h>
#include <mfpo/env.h>
#include <mfpo/status.h>
#include <mfpo/train.h>
#include <mfpo/train_vec.h>

/* out[i] = low + (in[i] + 1) / 2 (high - low), with NULL bounds meaning -1 / +1; in and out may alias.
 * No checks: the env was validated. */
void algo_env_map_action(const mfpo_env *env, const float *in, float *out);

/* docs/algorithm.md §5 on validated arguments (env and options->eval_env fit the agent, the buffer
 * belongs to the agent's context and dimensions, *options complete and in range). Errors name `who`.
 * `run` (mfpo_train_continue) carries the episode seeds and the evaluation schedule on from the
 * run's earlier calls and is advanced by what this call did; NULL makes the call a run of its own. */
mfpo_status algo_train(mfpo_agent *ag, const char *who, mfpo_replay *replay, const mfpo_env *env,
                       const mfpo_train_options *options, mfpo_train_state *run);

/* mfpo_train_vec's loop on validated arguments (lib/api/train_vec.c): the environments fit the
 * agent, the buffer belongs to it, *options is complete with options->train set and in range. */
mfpo_status algo_train_vec(mfpo_agent *ag, const char *who, mfpo_replay *replay, const mfpo_env *envs, size_t n,
                           const mfpo_vec_options *options);

/* `episodes` (>= 1) episodes with action selection on a validated env; *mean_return on success. */
mfpo_status algo_evaluate(mfpo_agent *ag, const char *who, const mfpo_env *env, size_t episodes, uint64_t episode_limit,
                          uint64_t seed, double *mean_return);

#endif
