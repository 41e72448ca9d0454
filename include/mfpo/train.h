/**
 * @file train.h
 * @brief The training driver (docs/algorithm.md §5): warm-up, one update per step, periodic evaluation.
 */
#ifndef MFPO_TRAIN_H
#define MFPO_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "env.h"
#include "export.h"
#include "replay.h"
#include "status.h"

MFPO_BEGIN_DECLS

/** What the progress callback is told; the struct only grows at its end. */
typedef struct mfpo_progress {
    size_t struct_size;         /**< sizeof(mfpo_progress). */
    uint64_t step;              /**< Environment steps taken so far. */
    uint64_t total_steps;       /**< Steps this call will take in all. */
    uint64_t episodes;          /**< Episodes finished. */
    double last_episode_return; /**< Return of the last finished training episode (NaN before one). */
    double last_eval_return;    /**< Mean return of the last evaluation (NaN before one). */
    int evaluated;              /**< 1 when this report follows a fresh evaluation. */
    mfpo_update_stats stats;    /**< The last update's statistics (zero during warm-up). */
    double steps_per_second;    /**< Environment steps per wall second since the start of the call. */
    double elapsed_seconds;     /**< Wall time since the start of the call. */
} mfpo_progress;

/** Return non-zero to cancel training (mfpo_train() then returns #MFPO_ERR_CANCELLED). */
typedef int (*mfpo_progress_fn)(void *user, const mfpo_progress *progress);

/** Options of mfpo_train(); fill with mfpo_train_options_init(). The struct only grows at its end. */
typedef struct mfpo_train_options {
    size_t struct_size;        /**< sizeof(mfpo_train_options). */
    uint64_t total_steps;      /**< Environment steps to take. Default 1 000 000. */
    uint64_t warmup_steps;     /**< Uniform-random steps before the first update. Default 10 000. */
    double updates_per_step;   /**< Update-to-data ratio (> 0). Default 1. */
    uint64_t eval_every;       /**< Evaluate every this many steps (0 = never). Default 10 000. */
    size_t eval_episodes;      /**< Episodes per evaluation. Default 10. */
    uint64_t episode_limit;    /**< Time limit in steps (truncation); 0 = only the env's. Default 1000. */
    uint64_t seed;             /**< Seeds episode resets (train and eval; see mfpo_train()). Default 0. */
    const mfpo_env *eval_env;  /**< Separate instance for evaluation; NULL = no evaluation. */
    mfpo_progress_fn progress; /**< Called after every episode, evaluation, and `progress_every` steps. */
    void *progress_user;       /**< Passed to @p progress. */
    uint64_t progress_every;   /**< Extra progress reports every this many steps (0 = none). Default 1000. */
} mfpo_train_options;

/** Fills @p options with the defaults (the paper's MuJoCo loop). */
MFPO_API void mfpo_train_options_init(mfpo_train_options *options);

/**
 * Runs the training loop of docs/algorithm.md §5 on @p env, storing transitions in @p replay and updating
 * @p agent. Calls can be repeated to continue training (the step counter restarts per call;
 * warm-up is skipped when the buffer already holds warmup_steps transitions); the episode seeds
 * and the evaluation schedule restart too, unless the calls go through mfpo_train_continue().
 * On #MFPO_ERR_ENV the agent and buffer stay as they were after the last good step.
 *
 * Each step (counted from 1 within a call): while the buffer holds fewer than warmup_steps
 * transitions (counted at the start of the call) the action is uniform in [-1, 1]^A, drawn from
 * the context's random stream; after that it is one mfpo_agent_act() sample. The action is mapped
 * to the env's bounds as by mfpo_env_scale_action() and passed to `step`; the observation and
 * reward that come back are checked to be finite *before* the transition (with the normalized
 * action, and terminated = 1 only on a true termination) is stored. After n policy steps,
 * floor(n * updates_per_step) updates have run (fractional ratios accumulate). An episode ends on
 * `terminated`, on `truncated`, or after episode_limit steps (a truncation: mask 1), and the next
 * step starts with `reset`. Every eval_every steps, eval_episodes episodes run on eval_env with
 * mfpo_agent_select_action() (cut at episode_limit too).
 *
 * Seeds: training episode k of a call (k = 0, 1, ...) is reset with S_train + k, and episode i of
 * the call's evaluation j (j = 0, 1, ...) with S_eval + j * eval_episodes + i, where S_train and
 * S_eval are two fixed hashes (splitmix64) of options->seed. The same options and context seed give
 * the same run; every evaluation sees fresh episodes, as from one evaluation env left running.
 *
 * The progress callback is called after the steps that end an episode, run an evaluation, or are a
 * multiple of progress_every; at most once per step.
 *
 * @param agent the agent to train.
 * @param replay the buffer transitions go to (its dimensions must match the agent's).
 * @param env the training environment.
 * @param options the options, or NULL for the defaults of mfpo_train_options_init().
 * @return #MFPO_OK; #MFPO_ERR_INVALID_ARGUMENT for a bad argument (named in the message);
 *         #MFPO_ERR_ENV when a callback returned another status or a non-finite observation or
 *         reward (the message names the callback, the step and the value); #MFPO_ERR_CANCELLED when
 *         the progress callback asked to stop; #MFPO_ERR_NON_FINITE from mfpo_update() (the agent
 *         is restored by it); #MFPO_ERR_OUT_OF_MEMORY. Host buffers are allocated once per call
 *         through the context's allocator, never per step.
 */
MFPO_API mfpo_status mfpo_train(mfpo_agent *agent, mfpo_replay *replay, const mfpo_env *env,
                                const mfpo_train_options *options);

/**
 * Runs @p episodes evaluation episodes on @p env with action selection and writes their mean
 * undiscounted return to @p mean_return. Episode i is reset with seed + i. An episode ends on
 * `terminated`, `truncated`, or after @p episode_limit steps (0: only the env's end; the env must
 * then end every episode itself). Errors as for mfpo_train() (#MFPO_ERR_ENV names the callback and
 * the evaluation episode); @p mean_return is written only on success.
 */
MFPO_API mfpo_status mfpo_evaluate(mfpo_agent *agent, const mfpo_env *env, size_t episodes, uint64_t episode_limit,
                                   uint64_t seed, double *mean_return);

/**
 * Where a training run stands across mfpo_train() calls: plain data the caller keeps (and saves
 * next to the agent's and the buffer's checkpoints to resume later). Zero it and set struct_size
 * (mfpo_train_state_init()) for a fresh run; pass it as options->state to every call of the run.
 * The struct only grows at its end.
 */
typedef struct mfpo_train_state {
    size_t struct_size;   /**< sizeof(mfpo_train_state). */
    uint64_t steps;       /**< Environment steps taken by the run's earlier calls. */
    uint64_t episodes;    /**< Training episodes started (reset) by the run's earlier calls. */
    uint64_t evaluations; /**< Evaluations run by the run's earlier calls. */
} mfpo_train_state;

/** Zeroes @p state (a fresh run) and sets its struct_size. NULL is ignored. */
MFPO_API void mfpo_train_state_init(mfpo_train_state *state);

/**
 * mfpo_train() as one call of the run @p state describes (mfpo_train_state_init() for a fresh
 * run): this call's step n counts as step state->steps + n for eval_every, progress_every and the
 * progress reports (whose total_steps is then state->steps plus this call's; progress->episodes
 * still counts this call's finished episodes); its training episode k is reset with
 * S_train + state->episodes + k, and episode i of its evaluation j with
 * S_eval + (state->evaluations + j) * eval_episodes + i (S_train, S_eval as in mfpo_train()).
 * So consecutive calls with one state reset exactly the episodes, and evaluate at exactly the
 * steps, of one call as long as all of them; with the same buffer and agent they are that call
 * bit for bit when each call ends at an episode's end. An episode cut by the end of a call is not
 * continued: the next call starts the next episode (the cut one's transitions are stored, with
 * mask 1 as after a truncation).
 * On return, success or not, @p state counts what this call did (steps stored, episodes reset,
 * evaluations run) on top of what it held. Errors as mfpo_train(); also
 * #MFPO_ERR_INVALID_ARGUMENT for a NULL @p state or one whose struct_size this library does not
 * know (then nothing ran).
 */
MFPO_API mfpo_status mfpo_train_continue(mfpo_agent *agent, mfpo_replay *replay, const mfpo_env *env,
                                         const mfpo_train_options *options, mfpo_train_state *state);

MFPO_END_DECLS

#endif
