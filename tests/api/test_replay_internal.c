/*
 * The replay buffer's internal interface (lib/algo/replay.h), linked against the
 * library's objects: the raw view, byte-exact immutability on refusal, batch vs single adds on
 * the rings themselves, sample_into == the public sample, the documented index formula, and
 * position restore for checkpoints.
 */
#include <math.h>

#include "test_support.h"

#include "algo/replay.h"
#include "core/ctx.h"
#include "backend/kernels_common.h"

enum { S = 4, A = 3 };

static void fill_row(int id, float *obs, float *act, float *rew, float *next_obs, int *term)
{
    for (int k = 0; k < S; k++) {
        obs[k] = (float)id * 10 + (float)k;
        next_obs[k] = -(float)id * 10 - (float)k;
    }
    for (int k = 0; k < A; k++) act[k] = (float)k / 4.0f - 0.25f * (float)(id % 3);
    *rew = (float)id * 0.5f;
    *term = id % 4 == 1;
}

/* Copies every initialized row of the rings (and the position) for a byte comparison. */
typedef struct snapshot {
    size_t size, next;
    float *obs, *act, *rew, *next_obs, *term;
} snapshot;

static snapshot take(const mfpo_replay *r)
{
    algo_replay_view v;
    snapshot s;
    algo_replay_raw(r, &v);
    s.size = v.size;
    s.next = v.next;
    s.obs = malloc(v.capacity * v.obs_dim * sizeof(float) + 1);
    s.act = malloc(v.capacity * v.act_dim * sizeof(float) + 1);
    s.rew = malloc(v.capacity * sizeof(float) + 1);
    s.next_obs = malloc(v.capacity * v.obs_dim * sizeof(float) + 1);
    s.term = malloc(v.capacity * sizeof(float) + 1);
    assert_true(s.obs && s.act && s.rew && s.next_obs && s.term);
    memcpy(s.obs, v.obs, v.size * v.obs_dim * sizeof(float));
    memcpy(s.act, v.act, v.size * v.act_dim * sizeof(float));
    memcpy(s.rew, v.reward, v.size * sizeof(float));
    memcpy(s.next_obs, v.next_obs, v.size * v.obs_dim * sizeof(float));
    memcpy(s.term, v.terminated, v.size * sizeof(float));
    return s;
}

static void assert_same(const snapshot *a, const snapshot *b)
{
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->next, b->next);
    assert_memory_equal(a->obs, b->obs, a->size * S * sizeof(float));
    assert_memory_equal(a->act, b->act, a->size * A * sizeof(float));
    assert_memory_equal(a->rew, b->rew, a->size * sizeof(float));
    assert_memory_equal(a->next_obs, b->next_obs, a->size * S * sizeof(float));
    assert_memory_equal(a->term, b->term, a->size * sizeof(float));
}

static void drop(snapshot *s)
{
    free(s->obs);
    free(s->act);
    free(s->rew);
    free(s->next_obs);
    free(s->term);
}

static void raw_view_layout(void **state)
{
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *r = NULL;
    algo_replay_view v;
    float obs[S], act[A], rew, nobs[S];
    int term;
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 5, &r), MFPO_OK, ctx);
    algo_replay_raw(r, &v);
    assert_ptr_equal(v.ctx, ctx);
    assert_int_equal(v.obs_dim, S);
    assert_int_equal(v.act_dim, A);
    assert_int_equal(v.capacity, 5);
    assert_int_equal(v.size, 0);
    assert_int_equal(v.next, 0);
    /* every ring is 64-byte aligned */
    assert_int_equal((uintptr_t)v.obs % 64, 0);
    assert_int_equal((uintptr_t)v.act % 64, 0);
    assert_int_equal((uintptr_t)v.reward % 64, 0);
    assert_int_equal((uintptr_t)v.next_obs % 64, 0);
    assert_int_equal((uintptr_t)v.terminated % 64, 0);
    assert_int_equal(algo_replay_ring_bytes(r) + 0 < mfpo_replay_memory_bytes(r), 1);
    for (int id = 0; id < 7; id++) {
        fill_row(id, obs, act, &rew, nobs, &term);
        assert_status(mfpo_replay_add(r, obs, act, rew, nobs, term), MFPO_OK, ctx);
    }
    algo_replay_raw(r, &v);
    assert_int_equal(v.size, 5);
    assert_int_equal(v.next, 2);
    /* slot j holds id j + 5 for j < 2, id j otherwise */
    for (int j = 0; j < 5; j++) {
        int id = j < 2 ? j + 5 : j;
        fill_row(id, obs, act, &rew, nobs, &term);
        assert_memory_equal(v.obs + j * S, obs, sizeof obs);
        assert_memory_equal(v.act + j * A, act, sizeof act);
        assert_true(v.reward[j] == rew);
        assert_memory_equal(v.next_obs + j * S, nobs, sizeof nobs);
        assert_true(v.terminated[j] == (term ? 1.0f : 0.0f));
    }
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

static void refusal_is_byte_exact(void **state)
{
    enum { N = 6 };
    mfpo_context *ctx = cpu_context(2, NULL);
    mfpo_replay *r = NULL;
    float obs[N * S], act[N * A], rew[N], nobs[N * S];
    int term[N];
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 4, &r), MFPO_OK, ctx);
    for (int stage = 0; stage < 3; stage++) {
        /* empty, partly filled, full and wrapped */
        for (int i = 0; i < N; i++)
            fill_row(100 * stage + i, obs + i * S, act + i * A, rew + i, nobs + i * S, term + i);
        snapshot before = take(r);
        nobs[N * S - 1] = NAN;
        assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, nobs, term), MFPO_ERR_NON_FINITE, ctx);
        snapshot after = take(r);
        assert_same(&before, &after);
        drop(&after);
        assert_status(mfpo_replay_add(r, obs, act, NAN, nobs, 0), MFPO_ERR_NON_FINITE, ctx);
        after = take(r);
        assert_same(&before, &after);
        drop(&after);
        drop(&before);
        nobs[N * S - 1] = 0;
        assert_status(mfpo_replay_add_batch(r, (size_t)(stage + 1), obs, act, rew, nobs, term), MFPO_OK, ctx);
    }
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

static void batch_rings_equal_single_adds(void **state)
{
    enum { CAP = 6, TOTAL = 50 };
    static const size_t chunks[] = { 2, 5, 1, 6, 13, 3, 4, 7, 9 };
    mfpo_context *ctx = cpu_context(3, NULL);
    mfpo_replay *r1 = NULL, *r2 = NULL;
    float obs[TOTAL * S], act[TOTAL * A], rew[TOTAL], nobs[TOTAL * S];
    int term[TOTAL];
    (void)state;
    for (int i = 0; i < TOTAL; i++) fill_row(i, obs + i * S, act + i * A, rew + i, nobs + i * S, term + i);
    assert_status(mfpo_replay_create(ctx, S, A, CAP, &r1), MFPO_OK, ctx);
    assert_status(mfpo_replay_create(ctx, S, A, CAP, &r2), MFPO_OK, ctx);
    size_t done = 0;
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        size_t n = chunks[c];
        for (size_t i = done; i < done + n; i++)
            assert_status(mfpo_replay_add(r1, obs + i * S, act + i * A, rew[i], nobs + i * S, term[i]), MFPO_OK, ctx);
        assert_status(
            mfpo_replay_add_batch(r2, n, obs + done * S, act + done * A, rew + done, nobs + done * S, term + done),
            MFPO_OK, ctx);
        done += n;
        snapshot a = take(r1), b = take(r2);
        assert_same(&a, &b);
        drop(&a);
        drop(&b);
    }
    mfpo_replay_destroy(r1);
    mfpo_replay_destroy(r2);
    mfpo_context_destroy(ctx);
}

/* sample_into is the public sample, and both follow the documented index formula:
 * one fresh stream per call, draw i = floor(uniform_at(seed, stream, i) * size). */
static void sample_into_matches_formula(void **state)
{
    enum { CAP = 13, M = 200 };
    mfpo_context *ctx = cpu_context(0x5eedULL, NULL);
    mfpo_replay *r = NULL;
    float obs[S], act[A], rew, nobs[S];
    int term;
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, CAP, &r), MFPO_OK, ctx);
    for (int id = 0; id < 11; id++) {
        fill_row(id, obs, act, &rew, nobs, &term);
        assert_status(mfpo_replay_add(r, obs, act, rew, nobs, term), MFPO_OK, ctx);
    }
    float o1[M * S], a1[M * A], w1[M], n1[M * S], m1[M];
    float o2[M * S], a2[M * A], w2[M], n2[M * S], m2[M];
    uint64_t stream = ctx->stream;
    algo_replay_sample(r, M, o1, a1, w1, n1, m1);
    assert_true(ctx->stream == stream + 1);
    algo_replay_view v;
    algo_replay_raw(r, &v);
    for (size_t i = 0; i < M; i++) {
        size_t j = (size_t)floor((double)be_uniform_at(ctx->seed, stream, i) * (double)v.size);
        assert_true(j < v.size);
        assert_memory_equal(o1 + i * S, v.obs + j * S, S * sizeof(float));
        assert_memory_equal(a1 + i * A, v.act + j * A, A * sizeof(float));
        assert_true(w1[i] == v.reward[j]);
        assert_memory_equal(n1 + i * S, v.next_obs + j * S, S * sizeof(float));
        assert_true(m1[i] == 1.0f - v.terminated[j]);
    }
    /* the public call from the same stream position draws the same rows */
    ctx->stream = stream;
    assert_status(mfpo_replay_sample(r, M, o2, a2, w2, n2, m2), MFPO_OK, ctx);
    assert_memory_equal(o1, o2, sizeof o1);
    assert_memory_equal(a1, a2, sizeof a1);
    assert_memory_equal(w1, w2, sizeof w1);
    assert_memory_equal(n1, n2, sizeof n1);
    assert_memory_equal(m1, m2, sizeof m1);
    /* n = 0 and an empty buffer take no stream */
    stream = ctx->stream;
    assert_status(mfpo_replay_sample(r, 0, NULL, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_true(ctx->stream == stream);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

static void set_position_checks(void **state)
{
    mfpo_context *ctx = cpu_context(4, NULL);
    mfpo_replay *r = NULL;
    algo_replay_view v;
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 8, &r), MFPO_OK, ctx);
    algo_replay_raw(r, &v);
    for (size_t j = 0; j < 8; j++) {
        for (int k = 0; k < S; k++) v.obs[j * S + k] = v.next_obs[j * S + k] = (float)j;
        for (int k = 0; k < A; k++) v.act[j * A + k] = 0;
        v.reward[j] = (float)j;
        v.terminated[j] = 0;
    }
    assert_status(algo_replay_set_position(r, 9, 1), MFPO_ERR_FORMAT, ctx);
    assert_contains(mfpo_last_error(ctx), "size = 9");
    assert_status(algo_replay_set_position(r, 8, 8), MFPO_ERR_FORMAT, ctx);
    assert_status(algo_replay_set_position(r, 3, 5), MFPO_ERR_FORMAT, ctx);
    assert_int_equal(mfpo_replay_size(r), 0);
    assert_status(algo_replay_set_position(NULL, 0, 0), MFPO_ERR_INVALID_ARGUMENT, NULL);

    assert_status(algo_replay_set_position(r, 3, 3), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(r), 3);
    float rew[64];
    assert_status(mfpo_replay_sample(r, 64, NULL, NULL, rew, NULL, NULL), MFPO_OK, ctx);
    for (int i = 0; i < 64; i++) assert_true(rew[i] < 3);

    assert_status(algo_replay_set_position(r, 8, 5), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(r), 8);
    float obs[S] = { 42, 42, 42, 42 }, act[A] = { 0, 0, 0 };
    assert_status(mfpo_replay_add(r, obs, act, 42, obs, 0), MFPO_OK, ctx);
    algo_replay_raw(r, &v);
    assert_true(v.reward[5] == 42);
    assert_int_equal(v.next, 6);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raw_view_layout),
        cmocka_unit_test(refusal_is_byte_exact),
        cmocka_unit_test(batch_rings_equal_single_adds),
        cmocka_unit_test(sample_into_matches_formula),
        cmocka_unit_test(set_position_checks),
    };
    unsetenv("MFPO_BACKEND");
    return cmocka_run_group_tests_name("api_replay_internal", tests, NULL, NULL);
}
