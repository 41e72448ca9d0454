/*
 * Helpers shared by the engine suites: a CPU backend per test, a small deterministic generator for
 * test data (independent of the library's Philox), and the comparison that tracks and prints the
 * worst relative error of each check as `WORST <check> <relerr>`.
 */
#ifndef MFPO_TESTS_ENGINE_COMMON_H
#define MFPO_TESTS_ENGINE_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "core/alloc.h"

#define TEST_PI 3.14159265358979323846

/* ------------------------------------------------------------------ backend */

static inline be_backend *test_backend(void)
{
    char reason[256] = { 0 };
    be_backend *be = be_cpu_create(&core_default_allocator, 1, reason, sizeof reason);
    if (!be) fail_msg("cannot create the CPU backend: %s", reason);
    return be;
}

/* ------------------------------------------------------------------ test data */

typedef struct test_rng {
    uint64_t s;
} test_rng;

/* splitmix64: a generator with no relation to the library's Philox draws */
static inline uint64_t test_next(test_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi) */
static inline double test_unif(test_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(test_next(r) >> 11) * (1.0 / 9007199254740992.0));
}

static inline void test_fill(test_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)test_unif(r, lo, hi);
}

/* ------------------------------------------------------------------ comparisons */

/* Failed checks of the running test; each test asserts it is 0 at its end, so that every check of
 * a test runs (and prints its WORST line) even when an earlier one fails. */
static int g_check_failures;

/*
 * Compares the library's float results `got` with double references `want`, element by element:
 * relerr = |got - want| / max(|want|, floor). Prints `WORST <check> <max relerr>` and the first
 * few offending elements; counts a failure when the worst exceeds rtol.
 */
static inline double check_close(const char *check, const float *got, const double *want, size_t n, double rtol,
                                 double floor)
{
    double worst = 0.0;
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(fabs(want[i]), floor);
        if (!(e <= worst)) worst = e; /* NaN propagates as the worst */
        if (!(e <= rtol) && shown < 5) {
            printf("  MISMATCH %s[%zu]: got %.9g want %.9g (relerr %.3g > %.3g)\n", check, i, (double)got[i], want[i],
                   e, rtol);
            shown++;
        }
    }
    printf("WORST %s %.3e\n", check, worst);
    fflush(stdout);
    if (!(worst <= rtol)) g_check_failures++;
    return worst;
}

/* The same for a scalar computed in double by the library or the test. */
static inline double check_scalar(const char *check, double got, double want, double tol_abs)
{
    double e = fabs(got - want);
    printf("WORST %s %.3e\n", check, e);
    if (!(e <= tol_abs)) {
        printf("  MISMATCH %s: got %.12g want %.12g (|diff| %.3g > %.3g)\n", check, got, want, e, tol_abs);
        g_check_failures++;
    }
    fflush(stdout);
    return e;
}

/* The backend's random fills and Adam read their key / step from backend memory; these wrappers
 * take plain values, as the tests think of them. */
static inline void test_rng_fill(be_backend *be, int normal, float *out, size_t n, uint64_t seed, uint64_t stream)
{
    uint64_t key[2] = { seed, stream };
    uint64_t *dkey = be->ops->alloc(be, sizeof key);
    be->ops->upload(be, dkey, key, sizeof key);
    (normal ? be->ops->rng_normal : be->ops->rng_uniform)(be, out, n, dkey, 0);
    be->ops->free(be, dkey);
}

static inline void test_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                             float b2, float eps, uint64_t step)
{
    uint64_t *dstep = be->ops->alloc(be, sizeof step);
    be->ops->upload(be, dstep, &step, sizeof step);
    be->ops->adam(be, n, p, g, m, v, lr, b1, b2, eps, dstep);
    be->ops->free(be, dstep);
}

#define CHECKS_BEGIN() (g_check_failures = 0)
#define CHECKS_END() assert_int_equal(g_check_failures, 0)

#endif
