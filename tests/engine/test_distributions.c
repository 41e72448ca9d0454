/*
 * Moments of the backend's random fills and accuracy of the normal CDF, its inverse and the
 * truncated normal sampler of kernels_common.h.
 *
 * Sample-moment bounds are 5 standard errors for n = 1e6 (the fills are deterministic for a fixed
 * seed, so this is not flaky; 5 SE is what a correct generator satisfies and a biased one, e.g. a
 * wrong Box-Muller constant or a uniform on [0, 1/2), does not):
 *   uniform: mean 1/2 (SE sqrt(1/12/n) = 2.9e-4), variance 1/12 (SE sqrt(1/180)/sqrt(n) = 7.5e-5);
 *   normal: mean 0 (SE 1e-3), variance 1 (SE sqrt(2/n) = 1.4e-3), skewness 0 (SE sqrt(6/n) = 2.4e-3),
 *           kurtosis 3 (SE sqrt(24/n) = 4.9e-3), P(|z| > 2) = 0.0455 (SE 2.1e-4),
 *           P(|z| > 3) = 0.0027 (SE 5.2e-5);
 *   both: lag-1..4 autocorrelation 0 (SE 1/sqrt(n) = 1e-3).
 * Truncated normal: with stratified uniforms u_k = (k + 1/2)/N, N = 1e5, the sample mean and
 * variance are midpoint-rule integrals of the sampler's quantile function, exact to O(1/N^2); they
 * are compared with the analytic truncated-normal mean (phi(a) - phi(b))/Z and variance to 1e-6 of
 * the interval's width (squared for the variance). Measured: <= 1e-9 of the width where the density
 * is comparable at both ends, up to ~1.5e-7 where it falls by e^-20 or more across the interval
 * ([2, 8], [10, 12]: the quantile is steep near u = 1, so the midpoint rule converges slower);
 * sampling without the reflection to the lower tail, or a quantile without its refinement, is off
 * by far more. With N = 2e5 independent uniforms the mean is compared to 5 SE of the analytic
 * standard deviation. Intervals include the far tails [6, 7], [-9, -8.5], [8.5, 9], [10, 12].
 * Quantile round trip: |q(Phi(x)) - x| <= 1e-12 max(1, |x|) + 4 eps Phi(x)/phi(x): the second term
 * is the conditioning of rounding p = Phi(x) to double (for x > 0, p is near 1 and its rounding
 * dominates; at x = 8 it allows 0.2, at x = 0 4e-16).
 */
#include "engine_common.h"

#include <float.h>

#include "backend/kernels_common.h"

#define NS 1000000

static double phi(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * TEST_PI);
}

/* Phi(b) - Phi(a) without cancellation in either tail */
static double mass(double a, double b)
{
    const double r = 0.70710678118654752440;
    if (a >= 0.0) return 0.5 * (erfc(a * r) - erfc(b * r));
    if (b <= 0.0) return 0.5 * (erfc(-b * r) - erfc(-a * r));
    return 1.0 - 0.5 * erfc(-a * r) - 0.5 * erfc(b * r);
}

/* Lag-k autocorrelations for k = 1..4 (element i and i + k share a Philox block for some i, so a
 * reuse of lanes shows up here); each within 5 SE = 5/sqrt(n) of 0. */
static void check_autocorr(const char *what, const float *x, size_t n, double mean, double var)
{
    char name[64];
    for (size_t k = 1; k <= 4; k++) {
        double s = 0.0;
        for (size_t i = 0; i + k < n; i++) s += ((double)x[i] - mean) * ((double)x[i + k] - mean);
        snprintf(name, sizeof name, "%s.autocorr_lag%zu", what, k);
        check_scalar(name, s / ((double)(n - k) * var), 0.0, 5.0 / sqrt((double)n));
    }
}

static void test_uniform_moments(void **state)
{
    (void)state;
    be_backend *be = test_backend();
    float *d = be->ops->alloc(be, NS * sizeof(float)), *u = malloc(NS * sizeof(float));
    assert_true(d && u);
    CHECKS_BEGIN();
    test_rng_fill(be, 0, d, NS, 1234, 7);
    be->ops->download(be, u, d, NS * sizeof(float));
    double s = 0.0, s2 = 0.0;
    size_t outside = 0;
    for (size_t i = 0; i < NS; i++) {
        if (!(u[i] > 0.0f && u[i] < 1.0f)) outside++;
        s += u[i];
    }
    double mean = s / NS;
    for (size_t i = 0; i < NS; i++) s2 += (u[i] - mean) * (u[i] - mean);
    double var = s2 / NS;
    check_scalar("uniform.outside_open_01", (double)outside, 0.0, 0.0);
    check_scalar("uniform.mean", mean, 0.5, 5.0 * sqrt(1.0 / 12.0 / NS));
    check_scalar("uniform.var", var, 1.0 / 12.0, 5.0 * sqrt(1.0 / 180.0 / NS));
    check_autocorr("uniform", u, NS, mean, var);
    be->ops->free(be, d);
    free(u);
    be->ops->destroy(be);
    CHECKS_END();
}

static void test_normal_moments(void **state)
{
    (void)state;
    be_backend *be = test_backend();
    float *d = be->ops->alloc(be, NS * sizeof(float)), *z = malloc(NS * sizeof(float));
    assert_true(d && z);
    CHECKS_BEGIN();
    test_rng_fill(be, 1, d, NS, 99, 3);
    be->ops->download(be, z, d, NS * sizeof(float));
    double s = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0;
    size_t beyond2 = 0, beyond3 = 0, nonfinite = 0;
    for (size_t i = 0; i < NS; i++) {
        if (!isfinite(z[i])) nonfinite++;
        s += z[i];
        beyond2 += fabsf(z[i]) > 2.0f;
        beyond3 += fabsf(z[i]) > 3.0f;
    }
    double mean = s / NS;
    for (size_t i = 0; i < NS; i++) {
        double c = z[i] - mean, c2 = c * c;
        m2 += c2;
        m3 += c2 * c;
        m4 += c2 * c2;
    }
    m2 /= NS;
    m3 /= NS;
    m4 /= NS;
    double p2 = 2.0 * (1.0 - be_normal_cdf(2.0)), p3 = 2.0 * (1.0 - be_normal_cdf(3.0));
    check_scalar("normal.nonfinite", (double)nonfinite, 0.0, 0.0);
    check_scalar("normal.mean", mean, 0.0, 5.0 / sqrt(NS));
    check_scalar("normal.var", m2, 1.0, 5.0 * sqrt(2.0 / NS));
    check_scalar("normal.skew", m3 / pow(m2, 1.5), 0.0, 5.0 * sqrt(6.0 / NS));
    check_scalar("normal.kurtosis", m4 / (m2 * m2), 3.0, 5.0 * sqrt(24.0 / NS));
    check_scalar("normal.P(|z|>2)", (double)beyond2 / NS, p2, 5.0 * sqrt(p2 * (1 - p2) / NS));
    check_scalar("normal.P(|z|>3)", (double)beyond3 / NS, p3, 5.0 * sqrt(p3 * (1 - p3) / NS));
    check_autocorr("normal", z, NS, mean, m2);
    be->ops->free(be, d);
    free(z);
    be->ops->destroy(be);
    CHECKS_END();
}

static void test_streams(void **state)
{
    (void)state;
    enum { N = 4096 };
    be_backend *be = test_backend();
    float *d = be->ops->alloc(be, N * sizeof(float));
    float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
    assert_true(d && a && b);
    for (int kind = 0; kind < 2; kind++) {
        test_rng_fill(be, kind, d, N, 5, 9);
        be->ops->download(be, a, d, N * sizeof(float));
        be->ops->fill(be, d, 0.0f, N);
        test_rng_fill(be, kind, d, N, 5, 9);
        be->ops->download(be, b, d, N * sizeof(float));
        assert_memory_equal(a, b, N * sizeof(float)); /* same seed and stream: the same draws */
        /* a prefix is the same draws too (element i depends on i only) */
        test_rng_fill(be, kind, d, 10, 5, 9);
        be->ops->download(be, b, d, 10 * sizeof(float));
        assert_memory_equal(a, b, 10 * sizeof(float));
        /* {seed, stream}: another stream, another seed, a stream differing only in its high word */
        uint64_t others[3][2] = { { 5, 10 }, { 6, 9 }, { 5, 9ull | (1ull << 32) } };
        for (int o = 0; o < 3; o++) {
            test_rng_fill(be, kind, d, N, others[o][0], others[o][1]);
            be->ops->download(be, b, d, N * sizeof(float));
            size_t same = 0;
            for (size_t i = 0; i < N; i++) same += a[i] == b[i];
            printf("  %s seed/stream variant %d: %zu of %d equal\n", kind ? "normal" : "uniform", o, same, N);
            assert_true(same <= 2); /* float coincidences only */
        }
    }
    be->ops->free(be, d);
    free(a);
    free(b);
    be->ops->destroy(be);
}

static void truncated_case(double lo, double hi, char *name_buf, size_t name_size)
{
    enum { NSTRAT = 100000, NRAND = 200000 };
    double z = mass(lo, hi);
    double mu = (phi(lo) - phi(hi)) / z;
    double var = 1.0 + (lo * phi(lo) - hi * phi(hi)) / z - mu * mu;
    double s = 0.0, s2 = 0.0;
    size_t outside = 0;
    for (size_t k = 0; k < NSTRAT; k++) {
        double x = be_truncated_normal(lo, hi, ((double)k + 0.5) / NSTRAT);
        if (!(x >= lo && x <= hi)) outside++;
        s += x;
        s2 += x * x;
    }
    double mean = s / NSTRAT, v = s2 / NSTRAT - mean * mean;
    snprintf(name_buf, name_size, "truncnorm[%g,%g].outside", lo, hi);
    check_scalar(name_buf, (double)outside, 0.0, 0.0);
    snprintf(name_buf, name_size, "truncnorm[%g,%g].stratified_mean", lo, hi);
    check_scalar(name_buf, mean, mu, 1e-6 * (hi - lo));
    snprintf(name_buf, name_size, "truncnorm[%g,%g].stratified_var", lo, hi);
    check_scalar(name_buf, v, var, 1e-6 * (hi - lo) * (hi - lo));

    test_rng rng = { (uint64_t)(lo * 1000.0 + hi * 7.0 + 100000.0) };
    s = 0.0;
    for (size_t k = 0; k < NRAND; k++) {
        double u = ((double)(test_next(&rng) >> 11) + 0.5) / 9007199254740992.0; /* in (0, 1) */
        double x = be_truncated_normal(lo, hi, u);
        if (!(x >= lo && x <= hi)) outside++;
        s += x;
    }
    snprintf(name_buf, name_size, "truncnorm[%g,%g].random_outside", lo, hi);
    check_scalar(name_buf, (double)outside, 0.0, 0.0);
    snprintf(name_buf, name_size, "truncnorm[%g,%g].random_mean", lo, hi);
    check_scalar(name_buf, s / NRAND, mu, 5.0 * sqrt(var / NRAND));
}

static void test_truncated_normal(void **state)
{
    (void)state;
    static const double iv[][2] = { { -1.0, 2.0 }, { 0.5, 0.6 }, { -3.0, -2.5 }, { 2.0, 8.0 },
                                    { -0.1, 0.1 }, { 6.0, 7.0 }, { -9.0, -8.5 }, { -8.0, 8.0 },
                                    { 4.0, 30.0 }, { 8.5, 9.0 }, { 10.0, 12.0 } };
    char name[96];
    CHECKS_BEGIN();
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++) truncated_case(iv[i][0], iv[i][1], name, sizeof name);
    /* the endpoints of u map to the interval's ends */
    assert_true(be_truncated_normal(6.0, 7.0, 1e-300) >= 6.0);
    assert_true(be_truncated_normal(-9.0, -8.5, 1.0 - 1e-16) <= -8.5);
    CHECKS_END();
}

static void test_quantile_roundtrip(void **state)
{
    (void)state;
    double worst = 0.0; /* in units of the allowed error */
    double worst_abs = 0.0;
    int shown = 0;
    CHECKS_BEGIN();
    for (int k = -512; k <= 512; k++) {
        double x = k / 64.0;
        double p = be_normal_cdf(x);
        double q = be_normal_quantile(p);
        double tol = 1e-12 * fmax(1.0, fabs(x)) + 4.0 * DBL_EPSILON * p / phi(x);
        double e = fabs(q - x);
        if (e / tol > worst) worst = e / tol;
        if (x <= 0.0 && e > worst_abs) worst_abs = e;
        if (!(e <= tol)) {
            if (shown++ < 5) printf("  MISMATCH quantile(cdf(%g)) = %.17g (|diff| %.3g > %.3g)\n", x, q, e, tol);
            g_check_failures++;
        }
    }
    printf("WORST quantile_roundtrip.ratio_to_tolerance %.3e\n", worst);
    printf("WORST quantile_roundtrip.abs_error_x<=0 %.3e\n", worst_abs);
    /* the CDF itself against erfc identities at a few points */
    check_scalar("normal_cdf(0)", be_normal_cdf(0.0), 0.5, 1e-16);
    check_scalar("normal_cdf(-8)/6.220960574271784e-16", be_normal_cdf(-8.0) / 6.220960574271784e-16, 1.0, 1e-12);
    check_scalar("normal_cdf(1.96)", be_normal_cdf(1.96), 0.97500210485177957, 1e-15);
    assert_true(be_normal_quantile(0.0) == -INFINITY);
    assert_true(be_normal_quantile(1.0) == INFINITY);
    CHECKS_END();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_truncated_normal),
        cmocka_unit_test(test_quantile_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
