/*
 * Checkpoints of an agent and of a replay buffer: what goes into each section and what a loader
 * checks (docs/checkpoint-format.md). The container itself (header, section table, CRCs, atomic
 * saving) is lib/io/container.c; the configuration section is encoded from the table of fields by
 * config_codec.c. The exported calls (lib/api/checkpoint.c) check their arguments and call these.
 *
 * Loading reads and verifies every section into temporary host memory first (header, table,
 * CRCs, configuration or shape, every value), and only then writes the agent or buffer: a file
 * that fails any check leaves the object exactly as it was.
 */
#include "checkpoint.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../io/container.h"
#include "../io/le.h"
#include "config_codec.h"
#include "replay.h"
#include "update.h"

#define OPS (be->ops)

/* ------------------------------------------------------------------ kinds and sections */

enum { KIND_AGENT = 1, KIND_REPLAY = 2 };

enum {
    SEC_CONFIG = 1,
    SEC_COUNTERS = 2,
    SEC_STATE = 3,
    SEC_REPLAY_SHAPE = 16,
    SEC_OBS = 17,
    SEC_ACT = 18,
    SEC_REWARD = 19,
    SEC_NEXT_OBS = 20,
    SEC_TERMINATED = 21,
};

static const char *section_name(uint32_t id)
{
    switch (id) {
    case SEC_CONFIG:
        return "config";
    case SEC_COUNTERS:
        return "counters";
    case SEC_STATE:
        return "state";
    case SEC_REPLAY_SHAPE:
        return "replay-shape";
    case SEC_OBS:
        return "obs";
    case SEC_ACT:
        return "actions";
    case SEC_REWARD:
        return "rewards";
    case SEC_NEXT_OBS:
        return "next-obs";
    case SEC_TERMINATED:
        return "terminated";
    }
    return "unknown";
}

static const char *kind_name(uint32_t kind)
{
    return kind == KIND_AGENT    ? "an agent checkpoint"
           : kind == KIND_REPLAY ? "a replay checkpoint"
                                 : "of an unknown kind";
}

static const io_ckpt_names NAMES = { section_name, kind_name };

#define COUNTERS_BYTES 40u   /* updates, critic_steps, actor_steps, seed, stream */
#define STATE_HEAD_BYTES 32u /* u64 floats, u64 policy params, u64 divergence params, u64 critic params */
#define SHAPE_BYTES 40u      /* obs_dim, act_dim, capacity, size, next */
#define RING_HEAD_BYTES 16u  /* u64 rows, u64 cols */

#define FORMAT_FAIL IO_CKPT_FAIL

/* Index of the first non-finite float, or n. */
static size_t first_non_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/* ------------------------------------------------------------------ agent and replay */

mfpo_status algo_agent_save(const mfpo_agent *ag, const char *who, const char *path)
{
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    mfpo_status s;
    float *state = core_alloc(&ctx->allocator, ag->off.total * sizeof(float), 64);
    if (!state)
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for a host copy of the %zu-float state", who,
                         ag->off.total);
    OPS->download(be, state, ag->state, ag->off.total * sizeof(float));

    const size_t config_len = config_codec_size();
    unsigned char *config = core_alloc(&ctx->allocator, config_len, 64);
    if (!config) {
        core_free(&ctx->allocator, state);
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the %zu-byte configuration section", who,
                         config_len);
    }
    config_codec_encode(config, &ag->cfg);
    unsigned char counters[COUNTERS_BYTES], state_head[STATE_HEAD_BYTES];
    le_put_u64(counters, ag->updates);
    le_put_u64(counters + 8, ag->critic_steps);
    le_put_u64(counters + 16, ag->actor_steps);
    le_put_u64(counters + 24, ctx->seed);
    le_put_u64(counters + 32, ctx->stream);
    le_put_u64(state_head, ag->off.total);
    le_put_u64(state_head + 8, ag->ul.n_params);
    le_put_u64(state_head + 16, ag->dl.n_params);
    le_put_u64(state_head + 24, ag->ql.n_params);
    const io_ckpt_out sec[3] = {
        { SEC_CONFIG, config, config_len, NULL, 0 },
        { SEC_COUNTERS, counters, COUNTERS_BYTES, NULL, 0 },
        { SEC_STATE, state_head, STATE_HEAD_BYTES, state, ag->off.total },
    };
    s = io_ckpt_write(ctx, who, path, KIND_AGENT, sec, 3);
    core_free(&ctx->allocator, config);
    core_free(&ctx->allocator, state);
    return s;
}

mfpo_status algo_replay_save(const mfpo_replay *replay, const char *who, const char *path)
{
    algo_replay_view v;
    algo_replay_raw(replay, &v);

    const struct {
        uint32_t id;
        const float *ring;
        size_t cols;
    } rings[5] = {
        { SEC_OBS, v.obs, v.obs_dim },           { SEC_ACT, v.act, v.act_dim },       { SEC_REWARD, v.reward, 1 },
        { SEC_NEXT_OBS, v.next_obs, v.obs_dim }, { SEC_TERMINATED, v.terminated, 1 },
    };
    unsigned char shape[SHAPE_BYTES], ring_head[5][RING_HEAD_BYTES];
    io_ckpt_out sec[6];
    le_put_u64(shape, v.obs_dim);
    le_put_u64(shape + 8, v.act_dim);
    le_put_u64(shape + 16, v.capacity);
    le_put_u64(shape + 24, v.size);
    le_put_u64(shape + 32, v.next);
    sec[0] = (io_ckpt_out){ SEC_REPLAY_SHAPE, shape, SHAPE_BYTES, NULL, 0 };
    for (int i = 0; i < 5; i++) {
        le_put_u64(ring_head[i], v.size);
        le_put_u64(ring_head[i] + 8, rings[i].cols);
        /* v.size * cols fits: the ring was allocated */
        sec[i + 1] = (io_ckpt_out){ rings[i].id, ring_head[i], RING_HEAD_BYTES, rings[i].ring, v.size * rings[i].cols };
    }
    return io_ckpt_write(v.ctx, who, path, KIND_REPLAY, sec, 6);
}

mfpo_status algo_agent_load(mfpo_agent *ag, const char *who, const char *path)
{
    static const uint32_t ids[] = { SEC_CONFIG, SEC_COUNTERS, SEC_STATE };
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    mfpo_status s;

    io_ckpt_reader in;
    unsigned char small[COUNTERS_BYTES];
    unsigned char *state = NULL, *config = NULL;
    uint64_t counters[5];
    const size_t n = ag->off.total;
    s = io_ckpt_open(&in, ctx, who, path, KIND_AGENT, &NAMES);
    if (s == MFPO_OK) s = io_ckpt_expect_sections(&in, ids, 3);

    /* configuration: every field equal to the agent's */
    const io_ckpt_section *c = s == MFPO_OK ? io_ckpt_find(&in, SEC_CONFIG) : NULL;
    if (c && in.version == 1) {
        char why[96];
        snprintf(why, sizeof why, "format version 1 stores %zu configuration fields", config_codec_v1_count());
        s = io_ckpt_expect_length(&in, c, config_codec_v1_size(), why);
    } else if (c && (c->length < 8 || c->length > CONFIG_CODEC_MAX_BYTES)) {
        s = FORMAT_FAIL(&in, "section 'config' is %llu bytes, expected 8 to %u", (unsigned long long)c->length,
                        CONFIG_CODEC_MAX_BYTES);
    }
    if (c && s == MFPO_OK) {
        config = core_alloc(&ctx->allocator, (size_t)c->length, 64);
        if (!config)
            s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the %llu-byte configuration section", who,
                          (unsigned long long)c->length);
    }
    if (c && s == MFPO_OK) s = io_ckpt_read(&in, c, config);
    if (c && s == MFPO_OK) {
        char why[256];
        if (config_codec_compare(config, (size_t)c->length, in.version, &ag->cfg, why, sizeof why) != 0)
            s = FORMAT_FAIL(&in, "section 'config': %s", why);
    }

    /* counters */
    c = s == MFPO_OK ? io_ckpt_find(&in, SEC_COUNTERS) : NULL;
    if (c) s = io_ckpt_expect_length(&in, c, COUNTERS_BYTES, "five u64 counters");
    if (c && s == MFPO_OK) s = io_ckpt_read(&in, c, small);
    if (c && s == MFPO_OK) {
        for (int i = 0; i < 5; i++) counters[i] = le_get_u64(small + 8 * i);
        if (counters[2] > counters[1])
            s = FORMAT_FAIL(&in, "section 'counters': actor_steps = %llu exceeds critic_steps = %llu",
                            (unsigned long long)counters[2], (unsigned long long)counters[1]);
    }

    /* the state vector: same layout, every value finite */
    c = s == MFPO_OK ? io_ckpt_find(&in, SEC_STATE) : NULL;
    if (c) {
        char why[160];
        snprintf(why, sizeof why, "a %zu-byte header and the agent's %zu state floats", (size_t)STATE_HEAD_BYTES, n);
        s = io_ckpt_expect_length(&in, c, STATE_HEAD_BYTES + (uint64_t)n * sizeof(float), why);
    }
    if (c && s == MFPO_OK) {
        state = core_alloc(&ctx->allocator, STATE_HEAD_BYTES + n * sizeof(float), 64);
        if (!state)
            s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for a host copy of the %zu-float state", who,
                          n);
    }
    if (c && s == MFPO_OK) s = io_ckpt_read(&in, c, state);
    if (c && s == MFPO_OK) {
        uint64_t total = le_get_u64(state), nu = le_get_u64(state + 8), nd = le_get_u64(state + 16),
                 nq = le_get_u64(state + 24);
        if (total != n || nu != ag->ul.n_params || nd != ag->dl.n_params || nq != ag->ql.n_params)
            s = FORMAT_FAIL(&in,
                            "section 'state': layout of %llu floats (policy %llu, divergence %llu, critic %llu "
                            "parameters), but this agent has %zu (policy %zu, divergence %zu, critic %zu)",
                            (unsigned long long)total, (unsigned long long)nu, (unsigned long long)nd,
                            (unsigned long long)nq, n, ag->ul.n_params, ag->dl.n_params, ag->ql.n_params);
    }
    if (c && s == MFPO_OK) {
        unsigned char *data = state + STATE_HEAD_BYTES;
        le_floats_to_host(data, n);
        size_t i = first_non_finite((const float *)(void *)data, n);
        if (i < n) {
            float bad;
            memcpy(&bad, data + 4 * i, 4);
            s = FORMAT_FAIL(&in, "section 'state': float %zu = %g is not finite", i, (double)bad);
        }
    }
    io_ckpt_close(&in);

    /* everything verified: commit */
    if (s == MFPO_OK) {
        OPS->upload(be, ag->state, state + STATE_HEAD_BYTES, n * sizeof(float));
        ag->updates = counters[0];
        ag->critic_steps = counters[1];
        ag->actor_steps = counters[2];
        ctx->seed = counters[3];
        ctx->stream = counters[4];
    }
    if (state) core_free(&ctx->allocator, state);
    if (config) core_free(&ctx->allocator, config);
    return s;
}

mfpo_status algo_replay_load(mfpo_replay *replay, const char *who, const char *path)
{
    static const uint32_t ids[] = { SEC_REPLAY_SHAPE, SEC_OBS, SEC_ACT, SEC_REWARD, SEC_NEXT_OBS, SEC_TERMINATED };
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    mfpo_context *ctx = v.ctx;
    mfpo_status s;

    io_ckpt_reader in;
    unsigned char shape[SHAPE_BYTES];
    uint64_t size = 0, next = 0;
    s = io_ckpt_open(&in, ctx, who, path, KIND_REPLAY, &NAMES);
    if (s == MFPO_OK) s = io_ckpt_expect_sections(&in, ids, 6);

    const io_ckpt_section *c = s == MFPO_OK ? io_ckpt_find(&in, SEC_REPLAY_SHAPE) : NULL;
    if (c) s = io_ckpt_expect_length(&in, c, SHAPE_BYTES, "five u64 values");
    if (c && s == MFPO_OK) s = io_ckpt_read(&in, c, shape);
    if (c && s == MFPO_OK) {
        uint64_t od = le_get_u64(shape), ad = le_get_u64(shape + 8), cap = le_get_u64(shape + 16);
        size = le_get_u64(shape + 24);
        next = le_get_u64(shape + 32);
        if (od != v.obs_dim || ad != v.act_dim || cap != v.capacity)
            s = FORMAT_FAIL(&in,
                            "section 'replay-shape': obs_dim %llu, act_dim %llu, capacity %llu in the file, but the "
                            "buffer has obs_dim %zu, act_dim %zu, capacity %zu",
                            (unsigned long long)od, (unsigned long long)ad, (unsigned long long)cap, v.obs_dim,
                            v.act_dim, v.capacity);
        else if (size > cap || next >= cap || (size < cap && next != size))
            s = FORMAT_FAIL(&in,
                            "section 'replay-shape': size %llu and next position %llu are inconsistent with "
                            "capacity %llu (expected size <= capacity, next < capacity, next == size unless full)",
                            (unsigned long long)size, (unsigned long long)next, (unsigned long long)cap);
    }

    /* the rings: exactly `size` valid rows each, read into one temporary block */
    const struct {
        uint32_t id;
        float *ring;
        size_t cols;
    } rings[5] = {
        { SEC_OBS, v.obs, v.obs_dim },           { SEC_ACT, v.act, v.act_dim },       { SEC_REWARD, v.reward, 1 },
        { SEC_NEXT_OBS, v.next_obs, v.obs_dim }, { SEC_TERMINATED, v.terminated, 1 },
    };
    size_t start[5], total = 0;
    unsigned char *block = NULL;
    for (int i = 0; i < 5 && s == MFPO_OK; i++) {
        c = io_ckpt_find(&in, rings[i].id);
        /* size <= capacity and the ring exists, so these products fit */
        uint64_t want = RING_HEAD_BYTES + (uint64_t)size * rings[i].cols * sizeof(float);
        char why[160];
        snprintf(why, sizeof why, "a %u-byte header and %llu rows of %zu floats", RING_HEAD_BYTES,
                 (unsigned long long)size, rings[i].cols);
        s = io_ckpt_expect_length(&in, c, want, why);
        start[i] = total;
        total += (size_t)((want + 7) / 8 * 8);
    }
    if (s == MFPO_OK) {
        block = core_alloc(&ctx->allocator, total, 64);
        if (!block)
            s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu bytes of transitions", who, total);
    }
    for (int i = 0; i < 5 && s == MFPO_OK; i++) {
        c = io_ckpt_find(&in, rings[i].id);
        unsigned char *p = block + start[i];
        size_t nf = (size_t)size * rings[i].cols;
        s = io_ckpt_read(&in, c, p);
        if (s != MFPO_OK) break;
        uint64_t rows = le_get_u64(p), cols = le_get_u64(p + 8);
        if (rows != size || cols != rings[i].cols) {
            s = FORMAT_FAIL(&in, "section '%s': %llu rows of %llu columns, expected %llu rows of %zu",
                            section_name(rings[i].id), (unsigned long long)rows, (unsigned long long)cols,
                            (unsigned long long)size, rings[i].cols);
            break;
        }
        le_floats_to_host(p + RING_HEAD_BYTES, nf);
        const float *x = (const float *)(void *)(p + RING_HEAD_BYTES);
        size_t bad = first_non_finite(x, nf);
        if (bad < nf) {
            float val;
            memcpy(&val, p + RING_HEAD_BYTES + 4 * bad, 4);
            s = FORMAT_FAIL(&in, "section '%s': row %zu, column %zu = %g is not finite", section_name(rings[i].id),
                            bad / rings[i].cols, bad % rings[i].cols, (double)val);
            break;
        }
        if (rings[i].id == SEC_TERMINATED)
            for (size_t j = 0; j < nf; j++) {
                float val;
                memcpy(&val, p + RING_HEAD_BYTES + 4 * j, 4);
                if (val != 0.0f && val != 1.0f) {
                    s = FORMAT_FAIL(&in, "section 'terminated': row %zu = %g is neither 0 nor 1", j, (double)val);
                    break;
                }
            }
    }
    io_ckpt_close(&in);

    if (s == MFPO_OK) {
        for (int i = 0; i < 5; i++)
            if (size)
                memcpy(rings[i].ring, block + start[i] + RING_HEAD_BYTES, (size_t)size * rings[i].cols * sizeof(float));
        s = algo_replay_set_position(replay, (size_t)size, (size_t)next); /* checked above: cannot fail */
    }
    if (block) core_free(&ctx->allocator, block);
    return s;
}
