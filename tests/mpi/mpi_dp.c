/*
 * Data-parallel training under MPI (mpi/mfpo_mpi.h, include/mfpo/parallel.h), one program with a
 * mode per test; tests/mpi/run.sh starts it under mpirun. Each mode prints "PASS <mode>" on rank 0
 * and exits 0, or prints what failed and exits 1.
 *
 *   identical        every rank draws its own batches; after 50 updates the agents are equal bit
 *                    for bit on all ranks (and without the reduction they would differ)
 *   halfbatch        2 ranks with half of one fixed batch each, one update, against one process
 *                    with the whole batch (within the tolerance justified at halfbatch())
 *   learn STEPS      the 2-rank pendulum run learns: rank 0's evaluation beats a random policy by
 *                    the margin of tests/train/test_pendulum_smoke.c
 *   kill DIR         trains in chunks with a checkpoint after each, rank r writing DIR/pid.r
 *                    (run.sh kills one rank and checks the others stop)
 *   loadcheck DIR    loads the checkpoint DIR/LATEST names and checks the ranks agree
 *   resume-a DIR     train, checkpoint, train on; print the final state's hash
 *   resume-b DIR     load that checkpoint, train on as resume-a did; print the hash
 *   envfail          rank 1's environment fails mid-run: the job must stop with its message
 *
 * Linked with the library's objects (the stage hook of halfbatch sets the batch) and the
 * component's source.
 */
/* This file compares ranks through mfpo_agent_get_state() (include/mfpo/experimental.h). */
#define MFPO_EXPERIMENTAL
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>

#include <mfpo.h>

#include "algo/update.h"
#include "common/pendulum_env.h"
#include "mfpo_mpi.h"

static int rank, size;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "rank %d: %s:%d: ", rank, __FILE__, __LINE__);                                             \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                                              \
        }                                                                                                              \
    } while (0)

#define OK(call, ctx) CHECK((call) == MFPO_OK, "%s: %s", #call, mfpo_last_error(ctx))

static mfpo_context *make_ctx(uint64_t seed)
{
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = seed;
    mfpo_context *ctx = NULL;
    CHECK(mfpo_context_create(&o, &ctx) == MFPO_OK, "context: %s", mfpo_last_error(NULL));
    return ctx;
}

/* Fills a buffer with `n` pendulum transitions of uniformly random actions, from `seed`. */
static void fill_random(mfpo_context *ctx, mfpo_replay *rb, size_t n, uint64_t seed)
{
    pendulum p;
    mfpo_env env;
    pendulum_env(&p, &env);
    float obs[3], next[3], a[1], u[1], r;
    int term, trunc;
    uint64_t x = seed * 2654435761u + 1;
    OK(env.reset(env.user, seed, obs), ctx);
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        a[0] = (float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        mfpo_env_scale_action(&env, a, u);
        env.step(env.user, u, next, &r, &term, &trunc);
        OK(mfpo_replay_add(rb, obs, a, r, next, term), ctx);
        memcpy(obs, next, sizeof obs);
        if (trunc) OK(env.reset(env.user, seed + i + 1, obs), ctx);
    }
}

/* 1 when `state` is the same bit for bit on every rank (rank 0's copy is broadcast). */
static int same_on_all_ranks(const float *state, size_t n)
{
    float *ref = malloc(n * sizeof(float));
    CHECK(ref != NULL, "out of memory");
    memcpy(ref, state, n * sizeof(float));
    MPI_Bcast(ref, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    int mine = memcmp(ref, state, n * sizeof(float)) == 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    free(ref);
    return all;
}

static float *get_state(mfpo_agent *ag, mfpo_context *ctx)
{
    size_t n = mfpo_agent_state_size(ag);
    float *s = malloc(n * sizeof(float));
    CHECK(s != NULL, "out of memory");
    OK(mfpo_agent_get_state(ag, s, n), ctx);
    return s;
}

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* ------------------------------------------------------------------ identical */

static int identical(void)
{
    mfpo_context *ctx = make_ctx(mfpo_mpi_rank_seed(7, rank));
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    mfpo_agent *ag = NULL, *solo = NULL;
    mfpo_replay *rb = NULL;
    OK(mfpo_agent_create(ctx, &c, &ag), ctx);
    OK(mfpo_replay_create(ctx, 3, 1, 1000, &rb), ctx);
    fill_random(ctx, rb, 1000, 100 + (uint64_t)rank); /* each rank its own data */
    mfpo_mpi *m = NULL;
    CHECK(mfpo_mpi_setup(ctx, ag, MPI_COMM_WORLD, &m) == MFPO_OK, "%s", mfpo_mpi_last_error(NULL));
    size_t n = mfpo_agent_state_size(ag);
    float *s0 = get_state(ag, ctx);
    CHECK(same_on_all_ranks(s0, n), "the broadcast left the ranks' initial states different");
    for (int i = 0; i < 50; i++) CHECK(mfpo_update(ag, rb, NULL) == MFPO_OK, "update %d: %s", i, mfpo_last_error(ctx));
    float *s = get_state(ag, ctx);
    CHECK(memcmp(s, s0, n * sizeof(float)) != 0, "50 updates left the state unchanged");
    CHECK(same_on_all_ranks(s, n), "after 50 updates the ranks' states differ");
    CHECK(mfpo_agent_update_count(ag) == 50, "update count %llu", (unsigned long long)mfpo_agent_update_count(ag));

    /* the test can fail: the same start without the reduction ends different on each rank */
    mfpo_context *ctx2 = make_ctx(mfpo_mpi_rank_seed(7, rank));
    OK(mfpo_agent_create(ctx2, &c, &solo), ctx2);
    mfpo_replay *rb2 = NULL;
    OK(mfpo_replay_create(ctx2, 3, 1, 1000, &rb2), ctx2);
    fill_random(ctx2, rb2, 1000, 100 + (uint64_t)rank);
    /* the same start as the reduced run (broadcast from rank 0), then the hook removed */
    mfpo_mpi *m2 = NULL;
    CHECK(mfpo_mpi_setup(ctx2, solo, MPI_COMM_WORLD, &m2) == MFPO_OK, "%s", mfpo_mpi_last_error(NULL));
    OK(mfpo_agent_set_allreduce(solo, NULL, NULL, 1), ctx2);
    float *t0 = get_state(solo, ctx2);
    CHECK(same_on_all_ranks(t0, n), "the second broadcast left the ranks different");
    free(t0);
    for (int i = 0; i < 5; i++) OK(mfpo_update(solo, rb2, NULL), ctx2);
    float *t = get_state(solo, ctx2);
    CHECK(!same_on_all_ranks(t, n), "without the reduction the ranks still agree: the test could not fail");
    if (rank == 0)
        printf("PASS identical: %d ranks, %zu state floats equal after 50 updates; gradient buffer %zu floats\n", size,
               n, mfpo_agent_gradient_size(ag));
    free(s0);
    free(s);
    free(t);
    mfpo_mpi_destroy(m2);
    mfpo_mpi_destroy(m);
    mfpo_agent_destroy(ag);
    mfpo_agent_destroy(solo);
    mfpo_replay_destroy(rb);
    mfpo_replay_destroy(rb2);
    mfpo_context_destroy(ctx);
    mfpo_context_destroy(ctx2);
    return 0;
}

/* ------------------------------------------------------------------ halfbatch */

#define HB_B 32 /* per rank; the single process gets 2 HB_B */

/* The fixed batch: 2 HB_B transitions from a random pendulum walk, all terminal (mask 0), so that
 * the critic's target is r alone and the critic update draws nothing at random. */
static float hb_s[2 * HB_B * 3], hb_a[2 * HB_B], hb_r[2 * HB_B], hb_s2[2 * HB_B * 3], hb_mask[2 * HB_B];

static void hb_make(void)
{
    pendulum p;
    mfpo_env env;
    pendulum_env(&p, &env);
    float u[1];
    int term, trunc;
    uint64_t x = 99;
    env.reset(env.user, 5, hb_s);
    for (int i = 0; i < 2 * HB_B; i++) {
        if (i > 0) memcpy(hb_s + 3 * i, hb_s2 + 3 * (i - 1), 3 * sizeof(float));
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        hb_a[i] = (float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        mfpo_env_scale_action(&env, hb_a + i, u);
        env.step(env.user, u, hb_s2 + 3 * i, hb_r + i, &term, &trunc);
        hb_mask[i] = 0.0f;
    }
}

typedef struct hb_user {
    size_t first, rows; /* the rows of the fixed batch this agent trains on */
} hb_user;

/* Stage hook 0 (batch drawn): replaces the drawn batch by rows [first, first + rows) of the fixed one. */
static void hb_hook(void *user, int stage, const struct algo_update_ws *ws)
{
    const hb_user *h = user;
    if (stage != 0) return;
    memcpy(ws->s, hb_s + 3 * h->first, 3 * h->rows * sizeof(float));
    memcpy(ws->a, hb_a + h->first, h->rows * sizeof(float));
    memcpy(ws->r, hb_r + h->first, h->rows * sizeof(float));
    memcpy(ws->s2, hb_s2 + 3 * h->first, 3 * h->rows * sizeof(float));
    memcpy(ws->mask, hb_mask + h->first, h->rows * sizeof(float));
}

/* One critic-only update of an agent with batch `rows` on rows [first, first + rows), its weights
 * those of seed 0 (as rank 0's), its draws from `seed`. */
static float *hb_single(uint64_t seed, size_t first, size_t rows, size_t *n)
{
    mfpo_context *ctx = make_ctx(0);
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    c.batch_size = rows;
    c.actor_delay = 2; /* the first update is (a) only */
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    OK(mfpo_agent_create(ctx, &c, &ag), ctx);
    OK(mfpo_context_set_seed(ctx, seed), ctx);
    OK(mfpo_replay_create(ctx, 3, 1, 10, &rb), ctx);
    fill_random(ctx, rb, 10, 1);
    hb_user h = { first, rows };
    ag->hook = hb_hook;
    ag->hook_user = &h;
    OK(mfpo_update(ag, rb, NULL), ctx);
    *n = mfpo_agent_state_size(ag);
    float *s = get_state(ag, ctx);
    mfpo_agent_destroy(ag);
    mfpo_replay_destroy(rb);
    mfpo_context_destroy(ctx);
    return s;
}

static void hb_compare(const mfpo_agent *ag, const float *ref, const float *got, const float *alone, const char *what,
                       double *worst_m_out, double *worst_v_out, double *worst_p_out, double *worst_alone_out)
{
    /*
     * Tolerance. The critics' gradients are means over the batch: the single process sums 64 rows
     * (in OpenBLAS's GEMM order) and divides by 64; the ranks each sum 32 and divide by 32, MPI adds
     * the two and the library halves the sum. Both are float32 sums of the same 64 terms in another
     * order, so they differ by at most about 64 u sum|terms| (u = 2^-24 = 6e-8): 4e-6 of the
     * gradient's scale (its largest magnitude in the tensor) in the worst case. The Adam moments
     * after one step are m = (1 - b1) g and v = (1 - b2) g^2, so each element of m is checked
     * within 1e-5 of its tensor's largest |m| (and v within 2e-5 of its largest v); the stepped
     * parameters p - lr m_hat / (sqrt(v_hat) + eps) within 1e-6 + lr |dm| / (|m| + eps) of the
     * reference (the sign of a gradient that is zero up to rounding may differ).
     */
    float lr = ag->cfg.lr_critic;
    const algo_state_layout *L = &ag->off;
    size_t nq = ag->ql.n_params;
    double worst_m = 0.0, worst_v = 0.0, worst_p = 0.0, worst_alone = 0.0;
    for (int k = 0; k < 2; k++) {
        const float *mr = ref + L->m_q[k], *mg = got + L->m_q[k], *vr = ref + L->v_q[k], *vg = got + L->v_q[k];
        const float *pr = ref + L->q[k], *pg = got + L->q[k], *ma = alone ? alone + L->m_q[k] : NULL;
        double mmax = 0.0, vmax = 0.0;
        for (size_t i = 0; i < nq; i++) {
            mmax = fmax(mmax, fabs(mr[i]));
            vmax = fmax(vmax, fabs(vr[i]));
        }
        CHECK(mmax > 0.0, "critic %d has a zero gradient", k);
        for (size_t i = 0; i < nq; i++) {
            double dm = fabs((double)mg[i] - mr[i]), dv = fabs((double)vg[i] - vr[i]);
            worst_m = fmax(worst_m, dm / mmax);
            worst_v = fmax(worst_v, dv / vmax);
            if (ma) worst_alone = fmax(worst_alone, fabs((double)ma[i] - mr[i]) / mmax);
            CHECK(dm <= 1e-5 * mmax, "%s: critic %d m[%zu]: %.9g vs %.9g (max |m| %g)", what, k, i, mg[i], mr[i], mmax);
            CHECK(dv <= 2e-5 * vmax, "%s: critic %d v[%zu]: %.9g vs %.9g (max v %g)", what, k, i, vg[i], vr[i], vmax);
            double allow = 1e-6 + (double)lr * 10.0 * dm / (fabs(mr[i]) + 1e-8);
            double dp = fabs((double)pg[i] - pr[i]);
            worst_p = fmax(worst_p, dp);
            CHECK(dp <= allow, "%s: critic %d param[%zu]: %.9g vs %.9g", what, k, i, pg[i], pr[i]);
        }
    }
    *worst_m_out = worst_m;
    *worst_v_out = worst_v;
    *worst_p_out = worst_p;
    *worst_alone_out = worst_alone;
}

static int halfbatch(void)
{
    CHECK(size == 2, "halfbatch needs 2 ranks, not %d", size);
    hb_make();
    /* reference: one process, the whole batch; run twice with other random streams to show that
     * the draws of this update (a' at s', whose distribution the zero mask multiplies away) reach
     * the result through rounding only (checked below with the same tolerance) */
    size_t n = 0;
    float *ref = hb_single(0, 0, 2 * HB_B, &n);
    float *ref2 = hb_single(12345, 0, 2 * HB_B, &n);

    /* two ranks: rows [rank HB_B, (rank + 1) HB_B) each, reduced */
    mfpo_context *ctx = make_ctx(mfpo_mpi_rank_seed(3, rank));
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    c.batch_size = HB_B;
    c.actor_delay = 2;
    mfpo_agent *ag = NULL;
    mfpo_context *init = make_ctx(0);
    mfpo_agent *seed0 = NULL;
    OK(mfpo_agent_create(ctx, &c, &ag), ctx);
    OK(mfpo_agent_create(init, &c, &seed0), init);
    /* rank 0's agent gets seed 0's weights (the reference's); the broadcast gives them to rank 1 */
    if (rank == 0) memcpy(ag->state, seed0->state, n * sizeof(float));
    mfpo_replay *rb = NULL;
    OK(mfpo_replay_create(ctx, 3, 1, 10, &rb), ctx);
    fill_random(ctx, rb, 10, 1);
    mfpo_mpi *m = NULL;
    CHECK(mfpo_mpi_setup(ctx, ag, MPI_COMM_WORLD, &m) == MFPO_OK, "%s", mfpo_mpi_last_error(NULL));
    hb_user h = { (size_t)rank * HB_B, HB_B };
    ag->hook = hb_hook;
    ag->hook_user = &h;
    OK(mfpo_update(ag, rb, NULL), ctx);
    float *got = get_state(ag, ctx);
    CHECK(same_on_all_ranks(got, n), "the ranks disagree after the update");

    /* A half-batch without the reduction must be far off, or the comparison proves nothing. */
    size_t n1 = 0;
    float *alone = hb_single(0, 0, HB_B, &n1);

    double worst_m, worst_v, worst_p, worst_alone, noise_m, noise_v, noise_p, unused;
    hb_compare(ag, ref, ref2, NULL, "the same process with other random streams", &noise_m, &noise_v, &noise_p,
               &unused);
    hb_compare(ag, ref, got, alone, "2 ranks with half the batch each", &worst_m, &worst_v, &worst_p, &worst_alone);
    CHECK(worst_alone > 1e-2, "one half-batch alone matches the whole batch (%g): the test could not fail",
          worst_alone);
    if (rank == 0)
        printf("PASS halfbatch: 2 ranks x %d rows vs 1 x %d: worst |dm|/max|m| %.3g, |dv|/max v %.3g, |dp| %.3g; "
               "other random streams: %.3g, %.3g, %.3g; half batch alone: |dm|/max|m| %.3g\n",
               HB_B, 2 * HB_B, worst_m, worst_v, worst_p, noise_m, noise_v, noise_p, worst_alone);
    free(ref);
    free(ref2);
    free(got);
    free(alone);
    mfpo_mpi_destroy(m);
    mfpo_agent_destroy(ag);
    mfpo_agent_destroy(seed0);
    mfpo_replay_destroy(rb);
    mfpo_context_destroy(ctx);
    mfpo_context_destroy(init);
    return 0;
}

/* ------------------------------------------------------------------ learn */

#define SMOKE_MARGIN 600.0 /* tests/train/test_pendulum_smoke.c */
#define SMOKE_EVAL_SEED 424242u

static double random_policy_return(void)
{
    pendulum p;
    mfpo_env env;
    pendulum_env(&p, &env);
    uint64_t state = 12345;
    double total = 0.0;
    for (int e = 0; e < 10; e++) {
        float obs[3], a[1], u[1], r;
        int term, trunc;
        env.reset(env.user, SMOKE_EVAL_SEED + (uint64_t)e, obs);
        for (int t = 0; t < PENDULUM_EPISODE_STEPS; t++) {
            uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            a[0] = (float)((double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0);
            mfpo_env_scale_action(&env, a, u);
            env.step(env.user, u, obs, &r, &term, &trunc);
            total += r;
        }
    }
    return total / 10;
}

static int learn(uint64_t steps)
{
    mfpo_context *ctx = make_ctx(mfpo_mpi_rank_seed(0, rank));
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    OK(mfpo_agent_create(ctx, &c, &ag), ctx);
    OK(mfpo_replay_create(ctx, 3, 1, steps, &rb), ctx);
    mfpo_mpi *m = NULL;
    CHECK(mfpo_mpi_setup(ctx, ag, MPI_COMM_WORLD, &m) == MFPO_OK, "%s", mfpo_mpi_last_error(NULL));
    pendulum tp, ep;
    mfpo_env env, eval_env;
    pendulum_env(&tp, &env);
    pendulum_env(&ep, &eval_env);
    mfpo_train_options t;
    pendulum_train_options(&t);
    t.total_steps = steps;
    t.eval_every = 0;
    t.seed = mfpo_mpi_rank_seed(0, rank);
    double t0 = MPI_Wtime();
    mfpo_status s = mfpo_train(ag, rb, &env, &t);
    if (s != MFPO_OK) mfpo_mpi_abort(m, 1, "mfpo_train: %s", mfpo_last_error(ctx));
    double secs = MPI_Wtime() - t0;
    size_t n = mfpo_agent_state_size(ag);
    float *st = get_state(ag, ctx);
    CHECK(same_on_all_ranks(st, n), "the ranks' agents differ after training");
    double after = 0.0;
    OK(mfpo_evaluate(ag, &eval_env, 10, PENDULUM_EPISODE_STEPS, SMOKE_EVAL_SEED, &after), ctx);
    double random = random_policy_return();
    if (rank == 0) {
        printf("learn: %d ranks x %llu steps (%llu updates each) in %.1f s: return %.1f, random %.1f, required %.1f\n",
               size, (unsigned long long)steps, (unsigned long long)mfpo_agent_update_count(ag), secs, after, random,
               random + SMOKE_MARGIN);
        CHECK(after >= random + SMOKE_MARGIN, "the 2-rank run did not learn");
        printf("PASS learn\n");
    }
    free(st);
    mfpo_mpi_destroy(m);
    mfpo_agent_destroy(ag);
    mfpo_replay_destroy(rb);
    mfpo_context_destroy(ctx);
    return 0;
}

/* ------------------------------------------------------------------ checkpoints */

typedef struct run {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *rb;
    mfpo_mpi *m;
    pendulum p;
    mfpo_env env;
} run;

static void run_open(run *r)
{
    r->ctx = make_ctx(mfpo_mpi_rank_seed(11, rank));
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    c.batch_size = 32;
    OK(mfpo_agent_create(r->ctx, &c, &r->ag), r->ctx);
    OK(mfpo_replay_create(r->ctx, 3, 1, 5000, &r->rb), r->ctx);
    CHECK(mfpo_mpi_setup(r->ctx, r->ag, MPI_COMM_WORLD, &r->m) == MFPO_OK, "%s", mfpo_mpi_last_error(NULL));
    pendulum_env(&r->p, &r->env);
}

static void run_close(run *r)
{
    mfpo_mpi_destroy(r->m);
    mfpo_agent_destroy(r->ag);
    mfpo_replay_destroy(r->rb);
    mfpo_context_destroy(r->ctx);
}

/* One chunk of training: the same options on every rank (so the same number of updates), the
 * episode seeds the rank's own. */
static void run_chunk(run *r, uint64_t steps, uint64_t chunk)
{
    mfpo_train_options t;
    pendulum_train_options(&t);
    t.total_steps = steps;
    t.warmup_steps = 50;
    t.eval_every = 0;
    t.progress_every = 0;
    t.seed = mfpo_mpi_rank_seed(1000 + chunk, rank);
    mfpo_status s = mfpo_train(r->ag, r->rb, &r->env, &t);
    if (s != MFPO_OK)
        mfpo_mpi_abort(r->m, 1, "mfpo_train, chunk %llu: %s", (unsigned long long)chunk, mfpo_last_error(r->ctx));
}

static void run_save(run *r, const char *dir, uint64_t tag)
{
    if (mfpo_mpi_save(r->m, r->ag, r->rb, dir, tag) != MFPO_OK)
        mfpo_mpi_abort(r->m, 1, "checkpoint %llu: %s", (unsigned long long)tag, mfpo_mpi_last_error(r->m));
}

/* Prints the hash of rank 0's state, after checking the ranks agree. */
static void print_hash(run *r, const char *what)
{
    size_t n = mfpo_agent_state_size(r->ag);
    float *s = get_state(r->ag, r->ctx);
    CHECK(same_on_all_ranks(s, n), "%s: the ranks disagree", what);
    uint64_t seed = 0, stream = 0;
    mfpo_context_get_random_position(r->ctx, &seed, &stream);
    uint64_t h[2] = { fnv(s, n * sizeof(float)), seed ^ (stream * 0x9e3779b97f4a7c15ull) }, all[4];
    MPI_Gather(h, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("HASH %s state %016llx rng %016llx %016llx updates %llu\n", what, (unsigned long long)all[0],
               (unsigned long long)all[1], (unsigned long long)(size > 1 ? all[3] : 0),
               (unsigned long long)mfpo_agent_update_count(r->ag));
    free(s);
}

static int kill_run(const char *dir)
{
    run r;
    run_open(&r);
    char path[1024];
    snprintf(path, sizeof path, "%s/pid.%d", dir, rank);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    /* chunks with a checkpoint after each, until run.sh kills a rank (bounded: 200 chunks) */
    for (uint64_t k = 1; k <= 200; k++) {
        run_chunk(&r, 100, k);
        run_save(&r, dir, k);
        if (rank == 0) {
            printf("checkpoint %llu\n", (unsigned long long)k);
            fflush(stdout);
        }
    }
    run_close(&r);
    return 0;
}

static int loadcheck(const char *dir)
{
    run r;
    run_open(&r);
    uint64_t tag = 0;
    if (mfpo_mpi_load(r.m, r.ag, r.rb, dir, &tag) != MFPO_OK)
        mfpo_mpi_abort(r.m, 1, "load: %s", mfpo_mpi_last_error(r.m));
    CHECK(mfpo_replay_size(r.rb) > 0, "the loaded replay shard is empty");
    CHECK(mfpo_agent_update_count(r.ag) > 0, "the loaded agent has run no update");
    print_hash(&r, "loaded");
    if (rank == 0) printf("PASS loadcheck: checkpoint %llu loads on %d ranks\n", (unsigned long long)tag, size);
    run_close(&r);
    return 0;
}

static int resume(const char *dir, int second)
{
    run r;
    run_open(&r);
    if (!second) {
        run_chunk(&r, 150, 1);
        run_save(&r, dir, 1);
        print_hash(&r, "saved");
    } else {
        uint64_t tag = 0;
        if (mfpo_mpi_load(r.m, r.ag, r.rb, dir, &tag) != MFPO_OK)
            mfpo_mpi_abort(r.m, 1, "load: %s", mfpo_mpi_last_error(r.m));
        print_hash(&r, "saved");
    }
    run_chunk(&r, 100, 2);
    print_hash(&r, "final");
    run_close(&r);
    return 0;
}

/* ------------------------------------------------------------------ envfail */

/* Rank 1's environment fails at its 150th step; rank 0's never does. */
static int steps_left = 150;
static mfpo_status failing_step(void *user, const float *action, float *obs, float *reward, int *terminated,
                                int *truncated)
{
    if (--steps_left == 0) return MFPO_ERR_IO;
    return pendulum_step(user, action, obs, reward, terminated, truncated);
}

static int envfail(void)
{
    run r;
    run_open(&r);
    if (rank == 1) r.env.step = failing_step;
    run_chunk(&r, 400, 1); /* rank 1 stops the job from inside (mfpo_mpi_abort) */
    run_close(&r);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = 2;
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "identical"))
        rc = identical();
    else if (!strcmp(mode, "halfbatch"))
        rc = halfbatch();
    else if (!strcmp(mode, "learn") && argc > 2)
        rc = learn(strtoull(argv[2], NULL, 10));
    else if (!strcmp(mode, "kill") && argc > 2)
        rc = kill_run(argv[2]);
    else if (!strcmp(mode, "loadcheck") && argc > 2)
        rc = loadcheck(argv[2]);
    else if (!strcmp(mode, "resume-a") && argc > 2)
        rc = resume(argv[2], 0);
    else if (!strcmp(mode, "resume-b") && argc > 2)
        rc = resume(argv[2], 1);
    else if (!strcmp(mode, "envfail"))
        rc = envfail();
    else if (rank == 0)
        fprintf(stderr,
                "usage: mpi_dp identical|halfbatch|learn STEPS|kill DIR|loadcheck DIR|resume-a DIR|resume-b DIR\n");
    MPI_Finalize();
    return rc;
}
