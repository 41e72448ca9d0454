/* The replay ring: host rings of transitions, uniform sampling from the context's Philox stream. */
#include "replay.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../backend/kernels_common.h"
#include "../core/alloc.h"
#include "../core/ctx.h"

/* Every ring starts on a cache line. */
#define RING_ALIGN 64

/* Bytes of a ring of rows x cols floats rounded up to RING_ALIGN; 0 with *overflow set. */
static size_t ring_bytes(size_t rows, size_t cols, int *overflow)
{
    size_t n = core_mul_size(rows, cols, overflow);
    n = core_mul_size(n, sizeof(float), overflow);
    if (*overflow || n > SIZE_MAX - (RING_ALIGN - 1)) {
        *overflow = 1;
        return 0;
    }
    return (n + RING_ALIGN - 1) / RING_ALIGN * RING_ALIGN;
}

static size_t add_size(size_t a, size_t b, int *overflow)
{
    if (a > SIZE_MAX - b) {
        *overflow = 1;
        return 0;
    }
    return a + b;
}

mfpo_status algo_replay_create(mfpo_context *ctx, const char *who, size_t obs_dim, size_t act_dim, size_t capacity,
                               mfpo_replay **out)
{
    int overflow = 0;
    size_t obs_b, act_b, col_b, total;
    obs_b = ring_bytes(capacity, obs_dim, &overflow);
    act_b = ring_bytes(capacity, act_dim, &overflow);
    col_b = ring_bytes(capacity, 1, &overflow);
    total = add_size(obs_b, obs_b, &overflow);
    total = add_size(total, act_b, &overflow);
    total = add_size(total, col_b, &overflow);
    total = add_size(total, col_b, &overflow);
    if (overflow)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: capacity = %zu with obs_dim = %zu and act_dim = %zu needs more "
                         "bytes than size_t can count",
                         who, capacity, obs_dim, act_dim);

    mfpo_replay *r = core_alloc(&ctx->allocator, sizeof *r, RING_ALIGN);
    if (!r) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory (%zu bytes)", who, sizeof *r);
    memset(r, 0, sizeof *r);
    r->block = core_alloc(&ctx->allocator, total, RING_ALIGN);
    if (!r->block) {
        core_free(&ctx->allocator, r);
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory allocating %zu bytes for capacity = %zu", who,
                         total, capacity);
    }
    r->ctx = ctx;
    r->obs_dim = obs_dim;
    r->act_dim = act_dim;
    r->capacity = capacity;
    r->block_bytes = total;
    {
        char *p = r->block;
        r->obs = (float *)p;
        p += obs_b;
        r->next_obs = (float *)p;
        p += obs_b;
        r->act = (float *)p;
        p += act_b;
        r->reward = (float *)p;
        p += col_b;
        r->terminated = (float *)p;
    }
    *out = r;
    return MFPO_OK;
}

void algo_replay_destroy(mfpo_replay *r)
{
    mfpo_allocator a = r->ctx->allocator;
    core_free(&a, r->block);
    core_free(&a, r);
}

/* ------------------------------------------------------------------ writing */

/* Copies rows [0, n) of src (cols floats each) into the ring at positions start, start + 1, ...
 * modulo capacity, in at most two contiguous pieces. n <= capacity. */
static void ring_write(float *ring, size_t capacity, size_t cols, size_t start, const float *src, size_t n)
{
    size_t first = capacity - start < n ? capacity - start : n;
    memcpy(ring + start * cols, src, first * cols * sizeof(float));
    if (n > first) memcpy(ring, src + first * cols, (n - first) * cols * sizeof(float));
}

static void advance(mfpo_replay *r, size_t n)
{
    size_t next = r->next + n % r->capacity; /* < 2 capacity: fits, the ring was allocated */
    r->next = next < r->capacity ? next : next - r->capacity;
    r->size = r->capacity - r->size <= n ? r->capacity : r->size + n;
}

void algo_replay_add(mfpo_replay *r, const float *obs, const float *action, float reward, const float *next_obs,
                     int terminated)
{
    size_t j = r->next;
    memcpy(r->obs + j * r->obs_dim, obs, r->obs_dim * sizeof(float));
    memcpy(r->act + j * r->act_dim, action, r->act_dim * sizeof(float));
    r->reward[j] = reward;
    memcpy(r->next_obs + j * r->obs_dim, next_obs, r->obs_dim * sizeof(float));
    r->terminated[j] = terminated ? 1.0f : 0.0f;
    advance(r, 1);
}

void algo_replay_add_batch(mfpo_replay *r, size_t n, const float *obs, const float *actions, const float *rewards,
                           const float *next_obs, const int *terminated)
{
    /* Only the last `capacity` rows can survive; skip the ones that would be overwritten. */
    size_t skip = n > r->capacity ? n - r->capacity : 0;
    size_t m = n - skip;
    size_t start = r->next + skip % r->capacity;
    if (start >= r->capacity) start -= r->capacity;
    ring_write(r->obs, r->capacity, r->obs_dim, start, obs + skip * r->obs_dim, m);
    ring_write(r->act, r->capacity, r->act_dim, start, actions + skip * r->act_dim, m);
    ring_write(r->reward, r->capacity, 1, start, rewards + skip, m);
    ring_write(r->next_obs, r->capacity, r->obs_dim, start, next_obs + skip * r->obs_dim, m);
    for (size_t i = 0; i < m; i++) {
        size_t j = start + i < r->capacity ? start + i : start + i - r->capacity;
        r->terminated[j] = terminated[skip + i] ? 1.0f : 0.0f;
    }
    advance(r, n);
}

/* ------------------------------------------------------------------ sampling */

void algo_replay_sample(mfpo_replay *r, size_t n, float *obs, float *act, float *rew, float *next_obs, float *mask)
{
    mfpo_context *ctx = r->ctx;
    const uint64_t seed = ctx->seed;
    const uint64_t stream = core_next_stream(ctx);
    const size_t S = r->obs_dim, A = r->act_dim, size = r->size;
    for (size_t i = 0; i < n; i++) {
        double x = floor((double)be_uniform_at(seed, stream, i) * (double)size);
        size_t j = x < (double)size ? (size_t)x : size - 1;
        if (obs) memcpy(obs + i * S, r->obs + j * S, S * sizeof(float));
        if (act) memcpy(act + i * A, r->act + j * A, A * sizeof(float));
        if (rew) rew[i] = r->reward[j];
        if (next_obs) memcpy(next_obs + i * S, r->next_obs + j * S, S * sizeof(float));
        if (mask) mask[i] = 1.0f - r->terminated[j];
    }
}

/* ------------------------------------------------------------------ internal access */

void algo_replay_raw(const mfpo_replay *r, algo_replay_view *v)
{
    v->ctx = r->ctx;
    v->obs_dim = r->obs_dim;
    v->act_dim = r->act_dim;
    v->capacity = r->capacity;
    v->size = r->size;
    v->next = r->next;
    v->obs = r->obs;
    v->act = r->act;
    v->reward = r->reward;
    v->next_obs = r->next_obs;
    v->terminated = r->terminated;
}

mfpo_status algo_replay_set_position(mfpo_replay *r, size_t size, size_t next)
{
    if (!r) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "algo_replay_set_position: argument 'replay' is NULL");
    if (size > r->capacity || next >= r->capacity || (size < r->capacity && next != size))
        return core_fail(r->ctx, MFPO_ERR_FORMAT,
                         "replay position size = %zu, next = %zu is inconsistent with capacity = %zu", size, next,
                         r->capacity);
    r->size = size;
    r->next = next;
    return MFPO_OK;
}

size_t algo_replay_ring_bytes(const mfpo_replay *r)
{
    return r ? r->block_bytes : 0;
}
