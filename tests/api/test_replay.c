/*
 * The replay buffer through the public API: argument errors, non-finite refusal, the ring, the
 * field layout of samples, sampling uniformity and reproducibility, memory accounting, and a
 * buffer of the paper's size.
 */
#include <math.h>

#include "test_support.h"

static int group_setup(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    return 0;
}

/* Transition number `id` of a buffer with obs_dim S and act_dim A: every field encodes id, so a
 * sampled row can be checked field by field. */
#define S 3
#define A 2
static void make_transition(int id, float *obs, float *act, float *rew, float *next_obs, int *term)
{
    for (int k = 0; k < S; k++) {
        obs[k] = (float)id + 0.125f * (float)k;
        next_obs[k] = 1000.0f + (float)id + 0.125f * (float)k;
    }
    for (int k = 0; k < A; k++) act[k] = (float)((id % 7) - 3) / 4.0f + 0.0625f * (float)k;
    *rew = -(float)id;
    *term = id % 3 == 0;
}

static void add_id(mfpo_replay *r, mfpo_context *ctx, int id)
{
    float obs[S], act[A], rew, next_obs[S];
    int term;
    make_transition(id, obs, act, &rew, next_obs, &term);
    assert_status(mfpo_replay_add(r, obs, act, rew, next_obs, term), MFPO_OK, ctx);
}

/* Checks that sample row i is exactly transition `id` (recovered from obs[0]) and returns id. */
static int check_row(const float *obs, const float *act, const float *rew, const float *next_obs, const float *mask,
                     size_t i)
{
    float eo[S], ea[A], er, en[S];
    int et;
    int id = (int)obs[i * S];
    make_transition(id, eo, ea, &er, en, &et);
    assert_memory_equal(obs + i * S, eo, sizeof eo);
    assert_memory_equal(act + i * A, ea, sizeof ea);
    assert_true(rew[i] == er);
    assert_memory_equal(next_obs + i * S, en, sizeof en);
    assert_true(mask[i] == (et ? 0.0f : 1.0f));
    return id;
}

/* Samples n rows and marks which ids were seen; every row must be a whole stored transition with an
 * id in [lo, hi]. */
static void sample_ids(mfpo_replay *r, mfpo_context *ctx, size_t n, int lo, int hi, int *seen)
{
    float *obs = malloc(n * S * sizeof *obs), *act = malloc(n * A * sizeof *act);
    float *rew = malloc(n * sizeof *rew), *next_obs = malloc(n * S * sizeof *next_obs),
          *mask = malloc(n * sizeof *mask);
    assert_true(obs && act && rew && next_obs && mask);
    assert_status(mfpo_replay_sample(r, n, obs, act, rew, next_obs, mask), MFPO_OK, ctx);
    for (size_t i = 0; i < n; i++) {
        int id = check_row(obs, act, rew, next_obs, mask, i);
        if (id < lo || id > hi) fail_msg("sampled id %d outside [%d, %d]", id, lo, hi);
        if (seen) seen[id - lo]++;
    }
    free(obs);
    free(act);
    free(rew);
    free(next_obs);
    free(mask);
}

/* ---------------------------------------------------------------- creation errors */

static void create_argument_errors(void **state)
{
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *r = (mfpo_replay *)(uintptr_t)0x1;
    (void)state;

    assert_status(mfpo_replay_create(NULL, 1, 1, 1, &r), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_null(r);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_create: argument 'ctx' is NULL");

    assert_status(mfpo_replay_create(ctx, 1, 1, 1, NULL), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "mfpo_replay_create: argument 'out' is NULL");

    r = (mfpo_replay *)(uintptr_t)0x1;
    assert_status(mfpo_replay_create(ctx, 0, 1, 1, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    assert_contains(mfpo_last_error(ctx), "obs_dim = 0");

    r = (mfpo_replay *)(uintptr_t)0x1;
    assert_status(mfpo_replay_create(ctx, 1, 0, 1, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    assert_contains(mfpo_last_error(ctx), "act_dim = 0");

    r = (mfpo_replay *)(uintptr_t)0x1;
    assert_status(mfpo_replay_create(ctx, 1, 1, 0, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    assert_contains(mfpo_last_error(ctx), "capacity = 0");
    mfpo_context_destroy(ctx);
}

static void create_overflowing_sizes(void **state)
{
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *r = (mfpo_replay *)(uintptr_t)0x1;
    char expect[96];
    (void)state;

    /* capacity * obs_dim overflows */
    assert_status(mfpo_replay_create(ctx, (size_t)1 << 20, 1, SIZE_MAX / 2, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    snprintf(expect, sizeof expect, "capacity = %zu", SIZE_MAX / 2);
    assert_contains(mfpo_last_error(ctx), expect);
    assert_contains(mfpo_last_error(ctx), "obs_dim = 1048576");

    /* capacity * act_dim overflows */
    assert_status(mfpo_replay_create(ctx, 1, SIZE_MAX / 3, 4, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    assert_contains(mfpo_last_error(ctx), "capacity = 4");

    /* each ring fits, their sum does not: (SIZE_MAX / 8) * 4 bytes twice, plus the rest */
    assert_status(mfpo_replay_create(ctx, 1, 1, SIZE_MAX / 8, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    snprintf(expect, sizeof expect, "capacity = %zu", SIZE_MAX / 8);
    assert_contains(mfpo_last_error(ctx), expect);

    /* the float size overflows on its own: capacity * obs_dim fits, times 4 does not */
    assert_status(mfpo_replay_create(ctx, 2, 1, SIZE_MAX / 4, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_null(r);
    mfpo_context_destroy(ctx);
}

/* A size that fits size_t but not in memory is OUT_OF_MEMORY (through an allocator that refuses
 * large blocks, so that no real allocation of terabytes is attempted). */
static void create_out_of_memory(void **state)
{
    counting_allocator *c = calloc(1, sizeof *c);
    mfpo_allocator a;
    mfpo_replay *r = (mfpo_replay *)(uintptr_t)0x1;
    (void)state;
    assert_non_null(c);
    c->refuse_above = (size_t)1 << 30;
    a = counting_allocator_iface(c);
    mfpo_context *ctx = cpu_context(1, &a);
    assert_status(mfpo_replay_create(ctx, 4, 4, (size_t)1 << 40, &r), MFPO_ERR_OUT_OF_MEMORY, ctx);
    assert_null(r);
    assert_contains(mfpo_last_error(ctx), "out of memory");
    assert_contains(mfpo_last_error(ctx), "capacity = 1099511627776");
    /* the struct allocation failing is reported too */
    c->fail_after = c->allocs + 1;
    assert_status(mfpo_replay_create(ctx, 4, 4, 8, &r), MFPO_ERR_OUT_OF_MEMORY, ctx);
    c->fail_after = c->allocs;
    assert_status(mfpo_replay_create(ctx, 4, 4, 8, &r), MFPO_ERR_OUT_OF_MEMORY, ctx);
    c->fail_after = 0;
    mfpo_context_destroy(ctx);
    assert_counting_balanced(c);
    free(c);
}

static void null_replay(void **state)
{
    float x[4] = { 0 };
    int t = 0;
    (void)state;
    mfpo_replay_destroy(NULL);
    assert_int_equal(mfpo_replay_size(NULL), 0);
    assert_int_equal(mfpo_replay_capacity(NULL), 0);
    assert_int_equal(mfpo_replay_memory_bytes(NULL), 0);
    assert_status(mfpo_replay_add(NULL, x, x, 0, x, 0), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_add: argument 'replay' is NULL");
    assert_status(mfpo_replay_add_batch(NULL, 1, x, x, x, x, &t), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_add_batch: argument 'replay' is NULL");
    assert_status(mfpo_replay_sample(NULL, 1, x, x, x, x, x), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_sample: argument 'replay' is NULL");
}

static void add_null_arguments(void **state)
{
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *r = NULL;
    float x[S] = { 0 }, rew[1] = { 0 };
    int t = 0;
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 4, &r), MFPO_OK, ctx);
    assert_status(mfpo_replay_add(r, NULL, x, 0, x, 0), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "mfpo_replay_add: argument 'obs' is NULL");
    assert_status(mfpo_replay_add(r, x, NULL, 0, x, 0), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "mfpo_replay_add: argument 'action' is NULL");
    assert_status(mfpo_replay_add(r, x, x, 0, NULL, 0), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "mfpo_replay_add: argument 'next_obs' is NULL");

    assert_status(mfpo_replay_add_batch(r, 1, NULL, x, rew, x, &t), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "mfpo_replay_add_batch: argument 'obs' is NULL");
    assert_status(mfpo_replay_add_batch(r, 1, x, NULL, rew, x, &t), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "argument 'actions' is NULL");
    assert_status(mfpo_replay_add_batch(r, 1, x, x, NULL, x, &t), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "argument 'rewards' is NULL");
    assert_status(mfpo_replay_add_batch(r, 1, x, x, rew, NULL, &t), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "argument 'next_obs' is NULL");
    assert_status(mfpo_replay_add_batch(r, 1, x, x, rew, x, NULL), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "argument 'terminated' is NULL");
    /* a batch too large for the address space */
    assert_status(mfpo_replay_add_batch(r, SIZE_MAX / 2, x, x, rew, x, &t), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "n = ");
    assert_int_equal(mfpo_replay_size(r), 0);

    /* n = 0 is a no-op */
    assert_status(mfpo_replay_add_batch(r, 0, x, x, rew, x, &t), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(r), 0);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

static void sample_errors(void **state)
{
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *r = NULL;
    float x[S];
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 4, &r), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 1, x, NULL, NULL, NULL, NULL), MFPO_ERR_STATE, ctx);
    assert_contains(mfpo_last_error(ctx), "empty");
    add_id(r, ctx, 5);
    assert_status(mfpo_replay_sample(r, SIZE_MAX / 4, x, NULL, NULL, NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, ctx);
    /* every output may be NULL; n = 0 is fine */
    assert_status(mfpo_replay_sample(r, 3, NULL, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 0, NULL, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

/* ---------------------------------------------------------------- non-finite refusal */

/* A full buffer of capacity 2 holding ids 1 and 2 (next write at slot 0): a partial write by a
 * refused call would replace id 1 or 2 in some slot, which sampling would reveal. */
static void assert_untouched(mfpo_replay *r, mfpo_context *ctx)
{
    int seen[2] = { 0, 0 };
    assert_int_equal(mfpo_replay_size(r), 2);
    sample_ids(r, ctx, 400, 1, 2, seen);
    assert_true(seen[0] > 0 && seen[1] > 0);
}

static void add_refuses_non_finite(void **state)
{
    mfpo_context *ctx = cpu_context(2, NULL);
    mfpo_replay *r = NULL;
    float obs[S], act[A], rew, next_obs[S];
    int term;
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 2, &r), MFPO_OK, ctx);
    add_id(r, ctx, 1);
    add_id(r, ctx, 2);
    for (int b = 0; b < 3; b++) {
        make_transition(9, obs, act, &rew, next_obs, &term);
        obs[2] = bad[b];
        assert_status(mfpo_replay_add(r, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
        assert_contains(mfpo_last_error(ctx), "obs[2]");
        assert_untouched(r, ctx);

        make_transition(9, obs, act, &rew, next_obs, &term);
        act[1] = bad[b];
        assert_status(mfpo_replay_add(r, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
        assert_contains(mfpo_last_error(ctx), "action[1]");
        assert_untouched(r, ctx);

        make_transition(9, obs, act, &rew, next_obs, &term);
        assert_status(mfpo_replay_add(r, obs, act, bad[b], next_obs, term), MFPO_ERR_NON_FINITE, ctx);
        assert_contains(mfpo_last_error(ctx), "reward");
        assert_untouched(r, ctx);

        make_transition(9, obs, act, &rew, next_obs, &term);
        next_obs[0] = bad[b];
        assert_status(mfpo_replay_add(r, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
        assert_contains(mfpo_last_error(ctx), "next_obs[0]");
        assert_untouched(r, ctx);
    }
    /* the next good add lands where it would have without the refusals: slot 0 (id 1 goes) */
    add_id(r, ctx, 3);
    int seen[3] = { 0, 0, 0 };
    sample_ids(r, ctx, 400, 1, 3, seen);
    assert_int_equal(seen[0], 0);
    assert_true(seen[1] > 0 && seen[2] > 0);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

static void add_batch_refuses_non_finite(void **state)
{
    enum { N = 5 };
    mfpo_context *ctx = cpu_context(3, NULL);
    mfpo_replay *r = NULL;
    float obs[N * S], act[N * A], rew[N], next_obs[N * S];
    int term[N];
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 2, &r), MFPO_OK, ctx);
    add_id(r, ctx, 1);
    add_id(r, ctx, 2);
#define FILL()                                                                                                         \
    for (int i = 0; i < N; i++) make_transition(10 + i, obs + i * S, act + i * A, rew + i, next_obs + i * S, term + i)

    FILL();
    obs[3 * S + 1] = NAN;
    assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
    assert_contains(mfpo_last_error(ctx), "obs[3][1]");
    assert_untouched(r, ctx);

    FILL();
    act[4 * A + 0] = INFINITY;
    assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
    assert_contains(mfpo_last_error(ctx), "actions[4][0]");
    assert_untouched(r, ctx);

    FILL();
    rew[2] = -INFINITY;
    assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
    assert_contains(mfpo_last_error(ctx), "rewards[2]");
    assert_untouched(r, ctx);

    /* the last value of the last row: everything before it would already have been written by
     * a buffer that checked row by row */
    FILL();
    next_obs[N * S - 1] = NAN;
    assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, next_obs, term), MFPO_ERR_NON_FINITE, ctx);
    assert_contains(mfpo_last_error(ctx), "next_obs[4][2]");
    assert_untouched(r, ctx);

    FILL();
    assert_status(mfpo_replay_add_batch(r, N, obs, act, rew, next_obs, term), MFPO_OK, ctx);
    int seen[2] = { 0, 0 };
    sample_ids(r, ctx, 200, 13, 14, seen);
    assert_true(seen[0] > 0 && seen[1] > 0);
#undef FILL
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

/* ---------------------------------------------------------------- ring */

static void ring_wraps_around(void **state)
{
    mfpo_context *ctx = cpu_context(4, NULL);
    mfpo_replay *r = NULL;
    int seen[12];
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 5, &r), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_capacity(r), 5);
    for (int id = 0; id < 12; id++) {
        add_id(r, ctx, id);
        assert_int_equal(mfpo_replay_size(r), id + 1 < 5 ? id + 1 : 5);
        /* exactly the newest min(id + 1, 5) transitions are present */
        int lo = id - 4 > 0 ? id - 4 : 0;
        memset(seen, 0, sizeof seen);
        sample_ids(r, ctx, 300, lo, id, seen);
        for (int k = 0; k <= id - lo; k++) assert_true(seen[k] > 0);
    }
    assert_int_equal(mfpo_replay_capacity(r), 5);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

/* add_batch in chunks of every size (wrapping mid-chunk, longer than the ring) leaves the same
 * buffer as one add per transition: same size, and identical samples from identically seeded
 * contexts. */
static void batch_equals_single_adds(void **state)
{
    enum { CAP = 7, TOTAL = 60 };
    static const size_t chunks[] = { 1, 3, 6, 2, 9, 7, 14, 4, 5, 9 };
    (void)state;
    mfpo_context *c1 = cpu_context(77, NULL), *c2 = cpu_context(77, NULL);
    mfpo_replay *r1 = NULL, *r2 = NULL;
    assert_status(mfpo_replay_create(c1, S, A, CAP, &r1), MFPO_OK, c1);
    assert_status(mfpo_replay_create(c2, S, A, CAP, &r2), MFPO_OK, c2);
    float obs[TOTAL * S], act[TOTAL * A], rew[TOTAL], next_obs[TOTAL * S];
    int term[TOTAL];
    for (int i = 0; i < TOTAL; i++) make_transition(i, obs + i * S, act + i * A, rew + i, next_obs + i * S, term + i);
    size_t done = 0;
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        size_t n = chunks[c];
        assert_true(done + n <= TOTAL);
        assert_status(
            mfpo_replay_add_batch(r2, n, obs + done * S, act + done * A, rew + done, next_obs + done * S, term + done),
            MFPO_OK, c2);
        for (size_t i = done; i < done + n; i++) add_id(r1, c1, (int)i);
        done += n;
        assert_int_equal(mfpo_replay_size(r1), mfpo_replay_size(r2));

        enum { M = 64 };
        float o1[M * S], o2[M * S], a1[M * A], a2[M * A], w1[M], w2[M], n1[M * S], n2[M * S], m1[M], m2[M];
        assert_status(mfpo_replay_sample(r1, M, o1, a1, w1, n1, m1), MFPO_OK, c1);
        assert_status(mfpo_replay_sample(r2, M, o2, a2, w2, n2, m2), MFPO_OK, c2);
        assert_memory_equal(o1, o2, sizeof o1);
        assert_memory_equal(a1, a2, sizeof a1);
        assert_memory_equal(w1, w2, sizeof w1);
        assert_memory_equal(n1, n2, sizeof n1);
        assert_memory_equal(m1, m2, sizeof m1);
    }
    assert_int_equal(done, TOTAL);
    int seen[CAP] = { 0 };
    sample_ids(r2, c2, 500, TOTAL - CAP, TOTAL - 1, seen);
    for (int k = 0; k < CAP; k++) assert_true(seen[k] > 0);
    mfpo_replay_destroy(r1);
    mfpo_replay_destroy(r2);
    mfpo_context_destroy(c1);
    mfpo_context_destroy(c2);
}

/* ---------------------------------------------------------------- sampling */

/* Field layout: each sampled row is one whole transition, mask = 1 - terminated. */
static void sample_fields_consistent(void **state)
{
    mfpo_context *ctx = cpu_context(5, NULL);
    mfpo_replay *r = NULL;
    int seen[20] = { 0 };
    (void)state;
    assert_status(mfpo_replay_create(ctx, S, A, 32, &r), MFPO_OK, ctx);
    for (int id = 0; id < 20; id++) add_id(r, ctx, id);
    sample_ids(r, ctx, 1000, 0, 19, seen); /* checks every field of every row */
    int masked = 0;
    for (int id = 0; id < 20; id++) {
        assert_true(seen[id] > 0);
        if (id % 3 == 0) masked += seen[id];
    }
    assert_true(masked > 0);

    /* the terminated flag: any non-zero int is a termination */
    mfpo_replay *t = NULL;
    float x[S] = { 1, 2, 3 }, a[A] = { 0, 0 }, mask[8];
    assert_status(mfpo_replay_create(ctx, S, A, 1, &t), MFPO_OK, ctx);
    assert_status(mfpo_replay_add(t, x, a, 0, x, 7), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(t, 8, NULL, NULL, NULL, NULL, mask), MFPO_OK, ctx);
    for (int i = 0; i < 8; i++) assert_true(mask[i] == 0.0f);
    mfpo_replay_destroy(t);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

/* Same seed, same draws; another seed, other draws. */
static void sampling_reproducible(void **state)
{
    enum { M = 256 };
    float a[M * S], b[M * S];
    (void)state;
    for (int pass = 0; pass < 3; pass++) {
        mfpo_context *ctx = cpu_context(pass == 2 ? 1235 : 1234, NULL);
        mfpo_replay *r = NULL;
        assert_status(mfpo_replay_create(ctx, S, A, 100, &r), MFPO_OK, ctx);
        for (int id = 0; id < 100; id++) add_id(r, ctx, id);
        assert_status(mfpo_replay_sample(r, M, pass == 0 ? a : b, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
        if (pass == 1) assert_memory_equal(a, b, sizeof a);
        if (pass == 2) assert_memory_not_equal(a, b, sizeof a);
        mfpo_replay_destroy(r);
        mfpo_context_destroy(ctx);
    }
}

/*
 * Uniformity: Pearson's chi-square of the index counts against the uniform distribution.
 * Buffer of 10 (9 degrees of freedom): 100 000 draws as one call and as 1000 calls of 100
 * (each call takes a fresh Philox stream). The bound 33.72 is the 1 - 1e-4 quantile of
 * chi-square(9); a correct sampler exceeds it with probability 1e-4 (the seeds are fixed, so
 * the outcome is deterministic). A buffer of 7 (6 dof, bound 27.86, the 1 - 1e-4 quantile of
 * chi-square(6)) checks a size that does not divide 2^k.
 */
static double chi_square(const int *count, int k, double draws)
{
    double e = draws / k, x = 0;
    for (int i = 0; i < k; i++) x += (count[i] - e) * (count[i] - e) / e;
    return x;
}

static void sampling_uniform(void **state)
{
    (void)state;
    struct {
        int k;
        double bound;
    } cases[] = { { 10, 33.72 }, { 7, 27.86 } };
    for (size_t c = 0; c < 2; c++) {
        int k = cases[c].k;
        mfpo_context *ctx = cpu_context(2024 + c, NULL);
        mfpo_replay *r = NULL;
        int count[10];
        assert_status(mfpo_replay_create(ctx, S, A, (size_t)k, &r), MFPO_OK, ctx);
        for (int id = 0; id < k; id++) add_id(r, ctx, id);

        memset(count, 0, sizeof count);
        sample_ids(r, ctx, 100000, 0, k - 1, count);
        double x1 = chi_square(count, k, 100000);
        print_message("chi-square, buffer of %d, one call of 100000: %.3f (bound %.2f)\n", k, x1, cases[c].bound);
        assert_true(x1 < cases[c].bound);

        memset(count, 0, sizeof count);
        for (int call = 0; call < 1000; call++) sample_ids(r, ctx, 100, 0, k - 1, count);
        double x2 = chi_square(count, k, 100000);
        print_message("chi-square, buffer of %d, 1000 calls of 100: %.3f (bound %.2f)\n", k, x2, cases[c].bound);
        assert_true(x2 < cases[c].bound);
        mfpo_replay_destroy(r);
        mfpo_context_destroy(ctx);
    }
}

/* ---------------------------------------------------------------- memory */

static void memory_bytes_value(void **state)
{
    counting_allocator *c = calloc(1, sizeof *c);
    mfpo_allocator a;
    (void)state;
    assert_non_null(c);
    a = counting_allocator_iface(c);
    mfpo_context *ctx = cpu_context(6, &a);
    static const size_t dims[][3] = { { 1, 1, 1 }, { 17, 6, 1000 }, { 3, 2, 5 }, { 11, 1, 333 } };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        size_t s = dims[i][0], act = dims[i][1], cap = dims[i][2];
        size_t before = c->live_bytes;
        mfpo_replay *r = NULL;
        assert_status(mfpo_replay_create(ctx, s, act, cap, &r), MFPO_OK, ctx);
        size_t held = c->live_bytes - before;
        size_t bytes = mfpo_replay_memory_bytes(r);
        size_t ring = cap * (2 * s + act + 2) * sizeof(float);
        print_message("obs %zu act %zu cap %zu: memory_bytes %zu, ring payload %zu, allocated %zu\n", s, act, cap,
                      bytes, ring, held);
        /* exactly what the buffer took from the allocator ... */
        assert_int_equal(bytes, held);
        /* ... which is the five rings plus at most 64 bytes of padding each and a small header */
        assert_true(bytes >= ring);
        assert_true(bytes <= ring + 5 * 64 + 1024);
        /* adding and sampling take nothing more */
        float *row = calloc(2 * s + act, sizeof *row);
        assert_non_null(row);
        size_t allocs = c->allocs;
        assert_status(mfpo_replay_add(r, row, row + s, 0, row + s + act, 0), MFPO_OK, ctx);
        assert_status(mfpo_replay_sample(r, 4, NULL, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
        assert_int_equal(c->allocs, allocs);
        assert_int_equal(mfpo_replay_memory_bytes(r), bytes);
        free(row);
        mfpo_replay_destroy(r);
        assert_int_equal(c->live_bytes, before);
    }
    mfpo_context_destroy(ctx);
    assert_counting_balanced(c);
    free(c);
}

/* The paper's buffer: 1e6 transitions of HalfCheetah's sizes (17, 6), about 168 MB. */
static void million_capacity(void **state)
{
    mfpo_context *ctx = cpu_context(7, NULL);
    mfpo_replay *r = NULL;
    (void)state;
    assert_status(mfpo_replay_create(ctx, 17, 6, 1000000, &r), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_capacity(r), 1000000);
    assert_int_equal(mfpo_replay_size(r), 0);
    assert_true(mfpo_replay_memory_bytes(r) >= (size_t)1000000 * (2 * 17 + 6 + 2) * sizeof(float));
    assert_true(mfpo_replay_memory_bytes(r) < (size_t)170 * 1000 * 1000);
    float row[17 + 6 + 17];
    for (int i = 0; i < 40; i++) row[i] = (float)i;
    for (int i = 0; i < 1000; i++) {
        row[0] = (float)i;
        assert_status(mfpo_replay_add(r, row, row + 17, (float)i, row + 23, 0), MFPO_OK, ctx);
    }
    assert_int_equal(mfpo_replay_size(r), 1000);
    float obs[256 * 17], rew[256];
    assert_status(mfpo_replay_sample(r, 256, obs, NULL, rew, NULL, NULL), MFPO_OK, ctx);
    for (int i = 0; i < 256; i++) {
        assert_true(obs[i * 17] == rew[i]);
        assert_true(rew[i] >= 0 && rew[i] < 1000);
    }
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_argument_errors),   cmocka_unit_test(create_overflowing_sizes),
        cmocka_unit_test(create_out_of_memory),     cmocka_unit_test(null_replay),
        cmocka_unit_test(add_null_arguments),       cmocka_unit_test(sample_errors),
        cmocka_unit_test(add_refuses_non_finite),   cmocka_unit_test(add_batch_refuses_non_finite),
        cmocka_unit_test(ring_wraps_around),        cmocka_unit_test(batch_equals_single_adds),
        cmocka_unit_test(sample_fields_consistent), cmocka_unit_test(sampling_reproducible),
        cmocka_unit_test(sampling_uniform),         cmocka_unit_test(memory_bytes_value),
        cmocka_unit_test(million_capacity),
    };
    return cmocka_run_group_tests_name("api_replay", tests, group_setup, NULL);
}
