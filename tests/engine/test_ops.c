/*
 * Dense and row operations of the backend against naive loops: gemm with every transpose flag,
 * padded leading dimensions, alpha/beta (beta = 0 must ignore whatever C held, NaN included) and
 * k = 0; add_rows / fold_rows with m == 1 and m == n; copy_rows with repeat; all_finite; fill,
 * scale, copy. Padding between rows (ld > cols) holds a sentinel that must survive every call.
 *
 * Tolerance for gemm: relerr <= 1e-5 with floor 1 (inputs in [-1, 1], at most 19 products per
 * element, so the float32 error is below 19 * 2 ulp ~ 5e-6 of the O(1) result). The row operations
 * are single float additions and are checked to 1e-6 / exactly.
 */
#include "engine_common.h"

#include <float.h>

#define SENTINEL 12345.0f

typedef struct gemm_case {
    int ta, tb;
    size_t m, n, k, pad;
    float alpha, beta;
} gemm_case;

static void run_gemm(be_backend *be, const gemm_case *gc, test_rng *rng)
{
    char name[96];
    size_t m = gc->m, n = gc->n, k = gc->k;
    size_t ar = gc->ta ? k : m, ac = gc->ta ? m : k; /* A as stored */
    size_t br = gc->tb ? n : k, bc = gc->tb ? k : n;
    size_t lda = ac + gc->pad, ldb = bc + gc->pad + 1, ldc = n + gc->pad + 2;
    size_t na = ar * lda, nb = br * ldb, nc = m * ldc;
    float *a = malloc((na ? na : 1) * sizeof(float)), *b = malloc((nb ? nb : 1) * sizeof(float));
    float *c = malloc(nc * sizeof(float)), *got = malloc(m * n * sizeof(float)), *after = malloc(nc * sizeof(float));
    double *want = malloc(m * n * sizeof(double));
    assert_true(a && b && c && got && after && want);
    test_fill(rng, a, na, -1.0, 1.0);
    test_fill(rng, b, nb, -1.0, 1.0);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++)
            c[i * ldc + j] = j < n ? (gc->beta == 0.0f ? NAN : (float)test_unif(rng, -1.0, 1.0)) : SENTINEL;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t l = 0; l < k; l++) {
                double av = gc->ta ? a[l * lda + i] : a[i * lda + l];
                double bv = gc->tb ? b[j * ldb + l] : b[l * ldb + j];
                s += av * bv;
            }
            want[i * n + j] = gc->alpha * s + (gc->beta == 0.0f ? 0.0 : (double)gc->beta * c[i * ldc + j]);
        }
    float *da = be->ops->alloc(be, (na ? na : 1) * sizeof(float)),
          *db = be->ops->alloc(be, (nb ? nb : 1) * sizeof(float));
    float *dc = be->ops->alloc(be, nc * sizeof(float));
    assert_true(da && db && dc);
    be->ops->upload(be, da, a, na * sizeof(float));
    be->ops->upload(be, db, b, nb * sizeof(float));
    be->ops->upload(be, dc, c, nc * sizeof(float));
    be->ops->gemm(be, gc->ta, gc->tb, m, n, k, gc->alpha, da, lda, db, ldb, gc->beta, dc, ldc);
    be->ops->download(be, after, dc, nc * sizeof(float));
    size_t bad_pad = 0;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) got[i * n + j] = after[i * ldc + j];
        for (size_t j = n; j < ldc; j++) bad_pad += after[i * ldc + j] != SENTINEL;
    }
    snprintf(name, sizeof name, "gemm[ta=%d,tb=%d,%zux%zux%zu,beta=%g]", gc->ta, gc->tb, m, n, k, (double)gc->beta);
    check_close(name, got, want, m * n, 1e-5, 1.0);
    assert_int_equal(bad_pad, 0);
    be->ops->free(be, da);
    be->ops->free(be, db);
    be->ops->free(be, dc);
    free(a);
    free(b);
    free(c);
    free(got);
    free(after);
    free(want);
}

static void test_gemm(void **state)
{
    (void)state;
    test_rng rng = { 77 };
    be_backend *be = test_backend();
    CHECKS_BEGIN();
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_case small = { ta, tb, 5, 4, 3, 3, 1.5f, -0.5f };
            gemm_case big = { ta, tb, 37, 29, 19, 2, -0.75f, 0.25f };
            gemm_case nobeta = { ta, tb, 6, 7, 8, 1, 1.0f, 0.0f };
            run_gemm(be, &small, &rng);
            run_gemm(be, &big, &rng);
            run_gemm(be, &nobeta, &rng);
        }
    /* k == 0: C = beta C (and 0 for beta = 0 even over NaN) */
    gemm_case k0 = { 0, 0, 3, 4, 0, 1, 2.0f, 0.5f };
    gemm_case k0b = { 1, 1, 3, 4, 0, 1, 2.0f, 0.0f };
    run_gemm(be, &k0, &rng);
    run_gemm(be, &k0b, &rng);
    be->ops->destroy(be);
    CHECKS_END();
}

static void test_add_fold_rows(void **state)
{
    (void)state;
    enum { N = 5, COLS = 3, LD = 6 };
    test_rng rng = { 5 };
    float y[N * LD], x[N * COLS], g[N * LD], out[N * COLS], base[N * COLS];
    double want[N * COLS];
    float got[N * COLS];
    be_backend *be = test_backend();
    float *dy = be->ops->alloc(be, sizeof y), *dx = be->ops->alloc(be, sizeof x);
    float *dg = be->ops->alloc(be, sizeof g), *dout = be->ops->alloc(be, sizeof out);
    assert_true(dy && dx && dg && dout);
    CHECKS_BEGIN();
    for (size_t m = 1; m <= N; m += N - 1) { /* m = 1 and m = n */
        char name[64];
        /* add_rows: y[i, :] += x[i mod m, :] */
        test_fill(&rng, y, N * LD, -1.0, 1.0);
        for (size_t i = 0; i < N; i++)
            for (size_t j = COLS; j < LD; j++) y[i * LD + j] = SENTINEL;
        test_fill(&rng, x, m * COLS, -1.0, 1.0);
        be->ops->upload(be, dy, y, sizeof y);
        be->ops->upload(be, dx, x, m * COLS * sizeof(float));
        be->ops->add_rows(be, N, COLS, dy, LD, dx, m);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < COLS; j++) want[i * COLS + j] = (double)y[i * LD + j] + x[(i % m) * COLS + j];
        be->ops->download(be, y, dy, sizeof y);
        for (size_t i = 0; i < N; i++) {
            for (size_t j = 0; j < COLS; j++) got[i * COLS + j] = y[i * LD + j];
            for (size_t j = COLS; j < LD; j++) assert_true(y[i * LD + j] == SENTINEL);
        }
        snprintf(name, sizeof name, "add_rows[m=%zu]", m);
        check_close(name, got, want, N * COLS, 1e-6, 1.0);

        /* fold_rows: out[i mod m, :] (+)= g[i, :], overwrite then accumulate */
        test_fill(&rng, g, N * LD, -1.0, 1.0);
        test_fill(&rng, base, m * COLS, -1.0, 1.0);
        be->ops->upload(be, dg, g, sizeof g);
        for (int acc = 0; acc < 2; acc++) {
            be->ops->upload(be, dout, base, m * COLS * sizeof(float));
            be->ops->fold_rows(be, N, COLS, dg, LD, dout, m, acc);
            for (size_t r = 0; r < m * COLS; r++) want[r] = acc ? base[r] : 0.0;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < COLS; j++) want[(i % m) * COLS + j] += g[i * LD + j];
            be->ops->download(be, out, dout, m * COLS * sizeof(float));
            snprintf(name, sizeof name, "fold_rows[m=%zu,accumulate=%d]", m, acc);
            check_close(name, out, want, m * COLS, 1e-6, 1.0);
        }
    }
    be->ops->free(be, dy);
    be->ops->free(be, dx);
    be->ops->free(be, dg);
    be->ops->free(be, dout);
    be->ops->destroy(be);
    CHECKS_END();
}

static void test_copy_rows(void **state)
{
    (void)state;
    enum { N = 7, COLS = 3, LDD = 5, LDS = 4 };
    test_rng rng = { 9 };
    float src[N * LDS], dst[N * LDD];
    be_backend *be = test_backend();
    float *ds = be->ops->alloc(be, sizeof src), *dd = be->ops->alloc(be, sizeof dst);
    assert_true(ds && dd);
    test_fill(&rng, src, N * LDS, -1.0, 1.0);
    be->ops->upload(be, ds, src, sizeof src);
    for (size_t repeat = 1; repeat <= 3; repeat++) {
        for (size_t i = 0; i < N * LDD; i++) dst[i] = SENTINEL;
        be->ops->upload(be, dd, dst, sizeof dst);
        be->ops->copy_rows(be, N, COLS, dd, LDD, ds, LDS, repeat);
        be->ops->download(be, dst, dd, sizeof dst);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < LDD; j++)
                assert_true(dst[i * LDD + j] == (j < COLS ? src[(i / repeat) * LDS + j] : SENTINEL));
    }
    be->ops->free(be, ds);
    be->ops->free(be, dd);
    be->ops->destroy(be);
}

static void test_all_finite(void **state)
{
    (void)state;
    enum { N = 1000 };
    const float bad[] = { NAN, -NAN, INFINITY, -INFINITY };
    const size_t where[] = { 0, 1, N / 2, N - 1 };
    float x[N];
    be_backend *be = test_backend();
    float *d = be->ops->alloc(be, sizeof x);
    assert_non_null(d);
    test_rng rng = { 3 };
    test_fill(&rng, x, N, -1e3, 1e3);
    x[3] = FLT_MAX;
    x[4] = -FLT_MAX;
    x[5] = FLT_MIN / 4.0f; /* subnormal */
    x[6] = -0.0f;
    be->ops->upload(be, d, x, sizeof x);
    assert_int_equal(be->ops->all_finite(be, d, N), 1);
    assert_int_equal(be->ops->all_finite(be, d, 0), 1);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            float keep = x[where[w]];
            x[where[w]] = bad[b];
            be->ops->upload(be, d, x, sizeof x);
            if (be->ops->all_finite(be, d, N) != 0) fail_msg("all_finite missed %g at %zu", (double)bad[b], where[w]);
            /* outside the checked range it does not count */
            if (where[w] == N - 1) assert_int_equal(be->ops->all_finite(be, d, N - 1), 1);
            x[where[w]] = keep;
        }
    /* +inf and -inf together (their x - x are both NaN; no cancellation) */
    x[10] = INFINITY;
    x[20] = -INFINITY;
    be->ops->upload(be, d, x, sizeof x);
    assert_int_equal(be->ops->all_finite(be, d, N), 0);
    be->ops->free(be, d);
    be->ops->destroy(be);
}

static void test_fill_scale_copy(void **state)
{
    (void)state;
    enum { N = 33 };
    float h[N], h2[N];
    be_backend *be = test_backend();
    float *a = be->ops->alloc(be, sizeof h), *b = be->ops->alloc(be, sizeof h);
    assert_true(a && b);
    be->ops->download(be, h, a, sizeof h);
    for (size_t i = 0; i < N; i++) assert_true(h[i] == 0.0f); /* alloc zero-fills */
    be->ops->fill(be, a, 2.5f, N);
    be->ops->scale(be, a, -0.5f, N - 1);
    be->ops->copy(be, b, a, sizeof h);
    be->ops->download(be, h, a, sizeof h);
    be->ops->download(be, h2, b, sizeof h);
    for (size_t i = 0; i < N; i++) {
        assert_true(h[i] == (i < N - 1 ? -1.25f : 2.5f));
        assert_true(h2[i] == h[i]);
    }
    be->ops->free(be, a);
    be->ops->free(be, b);
    be->ops->destroy(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),       cmocka_unit_test(test_add_fold_rows),   cmocka_unit_test(test_copy_rows),
        cmocka_unit_test(test_all_finite), cmocka_unit_test(test_fill_scale_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
