/* mfpo_replay (include/mfpo/replay.h): the argument checks; the ring is lib/algo/replay.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <mfpo/replay.h>

#include "../algo/replay.h"
#include "../core/alloc.h"
#include "../core/ctx.h"
#include "checks.h"

mfpo_status mfpo_replay_create(mfpo_context *ctx, size_t obs_dim, size_t act_dim, size_t capacity, mfpo_replay **out)
{
    static const char who[] = "mfpo_replay_create";
    if (out) *out = NULL;
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    core_clear_error(ctx);
    if (!out) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", who, "out");
    if (obs_dim == 0) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: obs_dim = 0 (expected >= 1)", who);
    if (act_dim == 0) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: act_dim = 0 (expected >= 1)", who);
    if (capacity == 0) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: capacity = 0 (expected >= 1)", who);
    mfpo_status s = algo_replay_create(ctx, who, obs_dim, act_dim, capacity, out);
    if (s == MFPO_OK) api_context_retain(ctx);
    return s;
}

void mfpo_replay_destroy(mfpo_replay *r)
{
    if (!r) return;
    mfpo_context *ctx = r->ctx;
    algo_replay_destroy(r);
    api_context_release(ctx);
}

size_t mfpo_replay_size(const mfpo_replay *r)
{
    return r ? r->size : 0;
}

mfpo_context *mfpo_replay_context(const mfpo_replay *r)
{
    return r ? r->ctx : NULL;
}

size_t mfpo_replay_capacity(const mfpo_replay *r)
{
    return r ? r->capacity : 0;
}

size_t mfpo_replay_memory_bytes(const mfpo_replay *r)
{
    return r ? sizeof *r + r->block_bytes : 0;
}

/* ------------------------------------------------------------------ checks */

/* Index of the first non-finite value of x[0..n), or n. */
static size_t first_non_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/* Refuses a non-finite element of a rows x cols array, naming the field, the row (when the
 * array holds several rows) and the column. */
static mfpo_status check_finite(mfpo_context *ctx, const char *fn, const char *field, const float *x, size_t rows,
                                size_t cols, int batched)
{
    size_t total = rows * cols; /* callers checked that this fits */
    size_t i = first_non_finite(x, total);
    if (i == total) return MFPO_OK;
    if (!batched || cols == 1)
        return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: %s[%zu] = %g is not finite; nothing was stored", fn, field, i,
                         (double)x[i]);
    return core_fail(ctx, MFPO_ERR_NON_FINITE,
                     "%s: %s[%zu][%zu] (row %zu, element %zu) = %g is not finite; nothing was stored", fn, field,
                     i / cols, i % cols, i / cols, i % cols, (double)x[i]);
}

/* n rows of obs_dim and of act_dim floats must fit size_t. */
static mfpo_status check_rows(const mfpo_replay *r, const char *fn, size_t n)
{
    int overflow = 0;
    core_mul_size(n, r->obs_dim * sizeof(float), &overflow);
    core_mul_size(n, r->act_dim * sizeof(float), &overflow);
    if (overflow)
        return core_fail(r->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: n = %zu rows of obs_dim = %zu or act_dim = %zu floats exceed the address space", fn, n,
                         r->obs_dim, r->act_dim);
    return MFPO_OK;
}

/* ------------------------------------------------------------------ writing */

/* With the action check on, refuses an element outside [-1, 1] (NaN was refused before). */
static mfpo_status check_action_range(const mfpo_replay *r, const char *fn, const char *field, const float *x,
                                      size_t rows, int batched)
{
    if (!r->action_check) return MFPO_OK;
    size_t cols = r->act_dim;
    for (size_t i = 0; i < rows * cols; i++) {
        if (x[i] >= -1.0f && x[i] <= 1.0f) continue;
        if (!batched)
            return core_fail(r->ctx, MFPO_ERR_INVALID_ARGUMENT,
                             "%s: %s[%zu] = %g is outside [-1, 1] (the buffer's action check is on: store the "
                             "normalized action, not the environment's); nothing was stored",
                             fn, field, i, (double)x[i]);
        return core_fail(r->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: %s[%zu][%zu] = %g is outside [-1, 1] (the buffer's action check is on: store the "
                         "normalized action, not the environment's); nothing was stored",
                         fn, field, i / cols, i % cols, (double)x[i]);
    }
    return MFPO_OK;
}

mfpo_status mfpo_replay_set_action_check(mfpo_replay *r, int enabled)
{
    if (!r)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_replay_set_action_check: argument 'replay' is NULL");
    core_clear_error(r->ctx);
    if (enabled != 0 && enabled != 1)
        return core_fail(r->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_replay_set_action_check: enabled = %d (expected 0 or 1)", enabled);
    r->action_check = enabled;
    return MFPO_OK;
}

int mfpo_replay_action_check(const mfpo_replay *r)
{
    return r ? r->action_check : 0;
}

mfpo_status mfpo_replay_add(mfpo_replay *r, const float *obs, const float *action, float reward, const float *next_obs,
                            int terminated)
{
    static const char fn[] = "mfpo_replay_add";
    mfpo_status st;
    if (!r) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", fn);
    core_clear_error(r->ctx);
    mfpo_context *ctx = r->ctx;
    if (!obs) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'obs' is NULL", fn);
    if (!action) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'action' is NULL", fn);
    if (!next_obs) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'next_obs' is NULL", fn);
    if ((st = check_finite(ctx, fn, "obs", obs, 1, r->obs_dim, 0)) != MFPO_OK) return st;
    if ((st = check_finite(ctx, fn, "action", action, 1, r->act_dim, 0)) != MFPO_OK) return st;
    if ((st = check_action_range(r, fn, "action", action, 1, 0)) != MFPO_OK) return st;
    if (!isfinite(reward))
        return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: reward = %g is not finite; nothing was stored", fn,
                         (double)reward);
    if ((st = check_finite(ctx, fn, "next_obs", next_obs, 1, r->obs_dim, 0)) != MFPO_OK) return st;
    algo_replay_add(r, obs, action, reward, next_obs, terminated);
    return MFPO_OK;
}

mfpo_status mfpo_replay_add_batch(mfpo_replay *r, size_t n, const float *obs, const float *actions,
                                  const float *rewards, const float *next_obs, const int *terminated)
{
    static const char fn[] = "mfpo_replay_add_batch";
    mfpo_status st;
    if (!r) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", fn);
    core_clear_error(r->ctx);
    mfpo_context *ctx = r->ctx;
    if (!obs) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'obs' is NULL", fn);
    if (!actions) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'actions' is NULL", fn);
    if (!rewards) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'rewards' is NULL", fn);
    if (!next_obs) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'next_obs' is NULL", fn);
    if (!terminated) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'terminated' is NULL", fn);
    if ((st = check_rows(r, fn, n)) != MFPO_OK) return st;
    if (n == 0) return MFPO_OK;

    /* everything is checked before anything is written */
    if ((st = check_finite(ctx, fn, "obs", obs, n, r->obs_dim, 1)) != MFPO_OK) return st;
    if ((st = check_finite(ctx, fn, "actions", actions, n, r->act_dim, 1)) != MFPO_OK) return st;
    if ((st = check_action_range(r, fn, "actions", actions, n, 1)) != MFPO_OK) return st;
    if ((st = check_finite(ctx, fn, "rewards", rewards, n, 1, 1)) != MFPO_OK) return st;
    if ((st = check_finite(ctx, fn, "next_obs", next_obs, n, r->obs_dim, 1)) != MFPO_OK) return st;
    algo_replay_add_batch(r, n, obs, actions, rewards, next_obs, terminated);
    return MFPO_OK;
}

/* ------------------------------------------------------------------ sampling */

mfpo_status mfpo_replay_sample(mfpo_replay *r, size_t n, float *obs, float *actions, float *rewards, float *next_obs,
                               float *masks)
{
    static const char fn[] = "mfpo_replay_sample";
    if (!r) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", fn);
    core_clear_error(r->ctx);
    mfpo_status st = check_rows(r, fn, n);
    if (st != MFPO_OK) return st;
    if (r->size == 0)
        return core_fail(r->ctx, MFPO_ERR_STATE, "%s: the buffer is empty (add at least one transition first)", fn);
    if (n == 0) return MFPO_OK;
    algo_replay_sample(r, n, obs, actions, rewards, next_obs, masks);
    return MFPO_OK;
}
