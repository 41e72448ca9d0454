/*
 * The CPU backend's worker pool (lib/backend/cpu/cpu_pool.h) and what runs on it:
 *  - every chunk of a run executes exactly once, chunk 0 on the caller and the others on workers,
 *    over many back-to-back runs (the spinning hand-off) and after pauses longer than the spin
 *    (the sleeping hand-off);
 *  - the row- or column-split matrix products of a 2-thread backend equal the 1-thread ones, for
 *    both split directions and all transpositions, to within float rounding (OpenBLAS picks its
 *    kernel, and so its summation order, by the shape of the call, so halves of a product need
 *    not round like the whole; a wrong band offset would be off by the size of the values);
 *  - the row loops of a 2-thread backend equal the 1-thread ones bit for bit (LayerNorm + GELU
 *    forward and JVP, lib/algo's C51 expectation on the pool, Adam, random draws).
 */
#include <pthread.h>
#include <time.h>

#include "algo/kernels.h"
#include "backend/cpu/cpu_pool.h"
#include "engine_common.h"

typedef struct count_args {
    int hits[8];
    pthread_t who[8];
} count_args;

static void count_chunk(void *args, int chunk, int chunks)
{
    count_args *a = args;
    (void)chunks;
    a->hits[chunk]++;
    a->who[chunk] = pthread_self();
}

static void run_and_check(cpu_pool *pool, int chunks)
{
    count_args a;
    memset(&a, 0, sizeof a);
    cpu_pool_run(pool, chunks, count_chunk, &a);
    for (int c = 0; c < chunks; c++) assert_int_equal(a.hits[c], 1);
    assert_true(pthread_equal(a.who[0], pthread_self()));
    for (int c = 1; c < chunks; c++) assert_false(pthread_equal(a.who[c], pthread_self()));
    for (int c = 1; c < chunks; c++)
        for (int d = c + 1; d < chunks; d++) assert_false(pthread_equal(a.who[c], a.who[d]));
}

static void test_pool_runs(void **state)
{
    char reason[256] = { 0 };
    (void)state;
    /* one worker, as on this 2-core machine, then more threads than cores */
    cpu_pool *pool = cpu_pool_create(&core_default_allocator, 1, reason, sizeof reason);
    assert_non_null(pool);
    assert_int_equal(cpu_pool_threads(pool), 2);
    for (int i = 0; i < 20000; i++) run_and_check(pool, 1 + i % 2);
    cpu_pool_destroy(pool);
    pool = cpu_pool_create(&core_default_allocator, 3, reason, sizeof reason);
    assert_non_null(pool);
    assert_int_equal(cpu_pool_threads(pool), 4);
    for (int i = 0; i < 2000; i++) run_and_check(pool, 1 + i % 4);
    /* after a pause the workers sleep: the run must wake them */
    for (int i = 0; i < 5; i++) {
        struct timespec pause = { 0, 5 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        run_and_check(pool, 4);
    }
    cpu_pool_destroy(pool);

    pool = cpu_pool_create(&core_default_allocator, 0, reason, sizeof reason);
    assert_non_null(pool);
    assert_int_equal(cpu_pool_threads(pool), 1);
    count_args a;
    memset(&a, 0, sizeof a);
    cpu_pool_run(pool, 1, count_chunk, &a);
    assert_int_equal(a.hits[0], 1);
    cpu_pool_destroy(pool);
    assert_int_equal(cpu_pool_threads(NULL), 1);
}

static be_backend *backend_threads(int threads)
{
    char reason[256] = { 0 };
    be_backend *be = be_cpu_create(&core_default_allocator, threads, reason, sizeof reason);
    if (!be) fail_msg("cannot create a %d-thread CPU backend: %s", threads, reason);
    assert_int_equal(be->threads, threads);
    return be;
}

static void assert_same_bits(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            fail_msg("%s: element %zu differs between 1 and 2 threads: %.9g vs %.9g", what, i, (double)a[i],
                     (double)b[i]);
}

static void test_gemm_split(void **state)
{
    /* m x n x k: the update's shapes (candidate rows, weight gradients, narrow heads) */
    static const size_t shapes[][3] = { { 3072, 256, 256 }, { 256, 256, 1024 }, { 1024, 6, 256 },
                                        { 17, 256, 1024 },  { 256, 17, 1024 },  { 777, 129, 65 } };
    be_backend *one = backend_threads(1), *two = backend_threads(2);
    test_rng rng = { 42 };
    (void)state;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
                float *c1 = malloc(m * n * sizeof(float)), *c2 = malloc(m * n * sizeof(float));
                assert_true(a && b && c1 && c2);
                test_fill(&rng, a, m * k, -1.0, 1.0);
                test_fill(&rng, b, k * n, -1.0, 1.0);
                test_fill(&rng, c1, m * n, -1.0, 1.0);
                memcpy(c2, c1, m * n * sizeof(float));
                size_t lda = ta ? m : k, ldb = tb ? k : n;
                one->ops->gemm(one, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c1, n);
                two->ops->gemm(two, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c2, n);
                /* |a|, |b|, |c| <= 1: each element's rounding error is below k * 2^-22 */
                double tol = (double)k * 2.4e-7 + 1e-6;
                for (size_t i = 0; i < m * n; i++)
                    if (fabs((double)c1[i] - (double)c2[i]) > tol)
                        fail_msg("gemm %zux%zux%zu ta=%d tb=%d: element %zu: %.9g (1 thread) vs %.9g (2 threads)", m, n,
                                 k, ta, tb, i, (double)c1[i], (double)c2[i]);
                free(a), free(b), free(c1), free(c2);
            }
    one->ops->destroy(one);
    two->ops->destroy(two);
}

static void test_rows_split(void **state)
{
    enum { N = 1024, H = 256, ATOMS = 101, P = 100003 };
    be_backend *be[2] = { backend_threads(1), backend_threads(2) };
    static float pre0[N * H], add[H], scale[H], shift[H], t_pre[N * H], logits[N * ATOMS];
    static float xhat[2][N * H], y[2][N * H], act[2][N * H], rstd[2][N], t_act[2][N * H], q[2][N];
    static float p[2][P], g[P], m[2][P], v[2][P], u[2][N * 8], z[2][N * 8];
    static float pre[2][N * H];
    test_rng rng = { 7 };
    uint64_t key[2] = { 123, 456 }, step = 3;
    (void)state;
    test_fill(&rng, pre0, N * H, -3.0, 3.0);
    test_fill(&rng, add, H, -1.0, 1.0);
    test_fill(&rng, scale, H, 0.5, 1.5);
    test_fill(&rng, shift, H, -0.5, 0.5);
    test_fill(&rng, t_pre, N * H, -1.0, 1.0);
    test_fill(&rng, logits, N * ATOMS, -20.0, 20.0);
    test_fill(&rng, g, P, -1.0, 1.0);
    for (int i = 0; i < 2; i++) {
        test_fill(&rng, p[i], P, 0.0, 0.0);
        memset(m[i], 0, sizeof m[i]);
        memset(v[i], 0, sizeof v[i]);
    }
    for (int i = 0; i < 2; i++) {
        be_backend *b = be[i];
        memcpy(pre[i], pre0, sizeof pre0);
        b->ops->ln_gelu_fwd(b, N, H, pre[i], add, 1, scale, shift, xhat[i], rstd[i], y[i], act[i]);
        b->ops->ln_gelu_jvp(b, N, H, t_pre, xhat[i], rstd[i], y[i], scale, t_act[i]);
        algo_kernels_host.expected_q(b, N, ATOMS, -40.0f, 5.0f, logits, q[i]); /* lib/algo, on the pool */
        b->ops->adam(b, P, p[i], g, m[i], v[i], 3e-4f, 0.9f, 0.999f, 1e-8f, &step);
        b->ops->rng_uniform(b, u[i], N * 8, key, 1);
        b->ops->rng_normal(b, z[i], N * 8, key, 2);
    }
    assert_same_bits("ln_gelu_fwd act", act[0], act[1], N * H);
    assert_same_bits("ln_gelu_fwd xhat", xhat[0], xhat[1], N * H);
    assert_same_bits("ln_gelu_fwd rstd", rstd[0], rstd[1], N);
    assert_same_bits("ln_gelu_jvp", t_act[0], t_act[1], N * H);
    assert_same_bits("expected_q", q[0], q[1], N);
    assert_same_bits("adam p", p[0], p[1], P);
    assert_same_bits("adam v", v[0], v[1], P);
    assert_same_bits("rng_uniform", u[0], u[1], N * 8);
    assert_same_bits("rng_normal", z[0], z[1], N * 8);
    be[0]->ops->destroy(be[0]);
    be[1]->ops->destroy(be[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs),
        cmocka_unit_test(test_gemm_split),
        cmocka_unit_test(test_rows_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
