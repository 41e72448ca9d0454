/**
 * @file replay.h
 * @brief Replay buffer: a ring of transitions with uniform sampling from the context's stream.
 */
#ifndef MFPO_REPLAY_H
#define MFPO_REPLAY_H

#include <stddef.h>

#include "context.h"
#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/** Opaque replay buffer. Lives in host memory; created from a context. */
typedef struct mfpo_replay mfpo_replay;

/**
 * Creates a buffer holding up to @p capacity transitions of the given sizes (all >= 1).
 * The whole ring is allocated here, never later.
 */
MFPO_API mfpo_status mfpo_replay_create(mfpo_context *ctx, size_t obs_dim, size_t act_dim, size_t capacity,
                                        mfpo_replay **out);
/** Destroys a buffer. NULL is ignored. */
MFPO_API void mfpo_replay_destroy(mfpo_replay *replay);

/**
 * Appends one transition (overwriting the oldest once full). @p action is in [-1, 1]^A (the
 * library's normalized box); @p terminated is 1 only on a true termination (mask 0 in §4), 0 on
 * a time-limit truncation or a continuing step. Non-finite values are refused
 * (#MFPO_ERR_NON_FINITE) and leave the buffer unchanged.
 */
MFPO_API mfpo_status mfpo_replay_add(mfpo_replay *replay, const float *obs, const float *action, float reward,
                                     const float *next_obs, int terminated);

/** Appends @p n transitions stored row after row; all are checked before any is written. */
MFPO_API mfpo_status mfpo_replay_add_batch(mfpo_replay *replay, size_t n, const float *obs, const float *actions,
                                           const float *rewards, const float *next_obs, const int *terminated);

/** Number of transitions stored (<= capacity); 0 for NULL. */
MFPO_API size_t mfpo_replay_size(const mfpo_replay *replay);
/** @return the context the buffer was created from; NULL for NULL. */
MFPO_API mfpo_context *mfpo_replay_context(const mfpo_replay *replay);
/** Capacity given at creation; 0 for NULL. */
MFPO_API size_t mfpo_replay_capacity(const mfpo_replay *replay);
/** Bytes of host memory the buffer holds, ring and bookkeeping; 0 for NULL. */
MFPO_API size_t mfpo_replay_memory_bytes(const mfpo_replay *replay);

/**
 * Draws @p n transitions uniformly (with replacement) using the context's random stream and
 * copies them out: obs and next_obs n x S, actions n x A, rewards and masks n (mask = 1 - terminated).
 * Any output pointer may be NULL to skip it. The buffer must hold at least one transition.
 */
MFPO_API mfpo_status mfpo_replay_sample(mfpo_replay *replay, size_t n, float *obs, float *actions, float *rewards,
                                        float *next_obs, float *masks);

/** @return the buffer's observation size; 0 for NULL. */
MFPO_API size_t mfpo_replay_obs_dim(const mfpo_replay *replay);
/** @return the buffer's action size; 0 for NULL. */
MFPO_API size_t mfpo_replay_act_dim(const mfpo_replay *replay);
/**
 * Turns the action range check on (@p enabled = 1) or off (0, the default). While it is on,
 * mfpo_replay_add() and mfpo_replay_add_batch() refuse an action with an element outside [-1, 1]
 * (the library's normalized box; a simulator's raw action must be mapped back first) with
 * #MFPO_ERR_INVALID_ARGUMENT, a message naming the element and its value, and nothing stored.
 * @return #MFPO_OK; #MFPO_ERR_INVALID_ARGUMENT for a NULL @p replay or @p enabled other than 0 or 1.
 */
MFPO_API mfpo_status mfpo_replay_set_action_check(mfpo_replay *replay, int enabled);
/** @return 1 when the action range check of @p replay is on, else 0 (also for NULL). */
MFPO_API int mfpo_replay_action_check(const mfpo_replay *replay);

MFPO_END_DECLS

#endif
