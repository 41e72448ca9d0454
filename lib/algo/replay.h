/*
 * The replay ring (lib/algo/replay.c): host rings of transitions and uniform sampling from the
 * context's Philox stream. lib/api/replay.c checks the public calls' arguments and calls these;
 * the update (batch load), the training loop and the checkpoint codecs use them directly.
 * Nothing here checks arguments: every caller has.
 */
#ifndef MFPO_ALGO_REPLAY_H
#define MFPO_ALGO_REPLAY_H

#include <stddef.h>

#include <mfpo/context.h>
#include <mfpo/replay.h>
#include <mfpo/status.h>

struct mfpo_replay {
    mfpo_context *ctx;
    size_t obs_dim, act_dim, capacity;
    size_t size, next;
    void *block; /* the one ring allocation */
    size_t block_bytes;
    float *obs, *act, *reward, *next_obs, *terminated;
    int action_check; /* mfpo_replay_set_action_check(): lib/api refuses actions outside [-1, 1] */
};

/*
 * The rings of a buffer, row-major, `capacity` rows each. Row j of a ring is valid for j < size
 * (rows at and past `size` are uninitialized until first written). Once the buffer has wrapped
 * (size == capacity), `next` is the oldest row and the next one to be overwritten; before that,
 * next == size.
 */
typedef struct algo_replay_view {
    mfpo_context *ctx;
    size_t obs_dim, act_dim, capacity;
    size_t size;       /* transitions stored */
    size_t next;       /* next write position, in [0, capacity) */
    float *obs;        /* capacity x obs_dim */
    float *act;        /* capacity x act_dim */
    float *reward;     /* capacity */
    float *next_obs;   /* capacity x obs_dim */
    float *terminated; /* capacity, 1.0f on a true termination, else 0.0f */
} algo_replay_view;

/* Allocates an empty buffer (dimensions >= 1, checked by the caller). Errors (the sizes overflow,
 * out of memory) are recorded on ctx under `who`. */
mfpo_status algo_replay_create(mfpo_context *ctx, const char *who, size_t obs_dim, size_t act_dim, size_t capacity,
                               mfpo_replay **out);
void algo_replay_destroy(mfpo_replay *r);

/* Stores one transition (finite values, checked by the caller). */
void algo_replay_add(mfpo_replay *r, const float *obs, const float *action, float reward, const float *next_obs,
                     int terminated);

/* Stores n >= 1 transitions (checked by the caller); only the last `capacity` survive. */
void algo_replay_add_batch(mfpo_replay *r, size_t n, const float *obs, const float *actions, const float *rewards,
                           const float *next_obs, const int *terminated);

/*
 * n draws with replacement from the context's Philox stream (one fresh stream per call; draw i
 * uses element i of it); any output may be NULL; mask = 1 - terminated. The buffer must not be
 * empty and n rows of each output must fit size_t (the caller checked).
 */
void algo_replay_sample(mfpo_replay *r, size_t n, float *obs, float *act, float *rew, float *next_obs, float *mask);

/* Fills *view with the buffer's rings and position. The pointers stay valid for the buffer's
 * lifetime; writers (checkpoint loading) must call algo_replay_set_position() afterwards. */
void algo_replay_raw(const mfpo_replay *r, algo_replay_view *view);

/*
 * Sets the fill level and write position after the rings were written directly (checkpoint
 * loading). Requires size <= capacity, next < capacity, and next == size % capacity unless
 * size == capacity; otherwise MFPO_ERR_FORMAT (recorded on the context) and nothing changes.
 */
mfpo_status algo_replay_set_position(mfpo_replay *r, size_t size, size_t next);

/* Bytes of the ring allocation alone (what a checkpoint of a full buffer holds, roughly). */
size_t algo_replay_ring_bytes(const mfpo_replay *r);

#endif
