/* Shared helpers of the bench/ programs: clock, order statistics, flags, BLAS description. */
#ifndef MFPO_BENCH_COMMON_H
#define MFPO_BENCH_COMMON_H

#include <stddef.h>

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* The q-quantile (0 <= q <= 1, linear interpolation between order statistics) of x[0..n);
 * x is sorted in place. NAN for n == 0. */
double bench_quantile(double *x, size_t n, double q);

/* Removes every occurrence of the valueless flag @p flag from argv; returns 1 when it was there. */
int bench_take_flag(int *argc, char **argv, const char *flag);

/* Prints "INFO openblas core=<openblas_get_corename()> config=<openblas_get_config()>" and the
 * OPENBLAS_CORETYPE the process saw, and warns when OpenBLAS runs its Prescott kernels on a CPU
 * with AVX-512F (Debian 0.3.21 misdetects recent Intel models: source scripts/openblas-env.sh). */
void bench_print_blas(void);

/* Fills x[0..n) with uniform floats in [lo, hi) from a small xorshift generator. */
void bench_fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long *state);

/* Exits with a message naming the call when @p status is not MFPO_OK. */
#define BENCH_CHECK(ctx, call)                                                                                         \
    do {                                                                                                               \
        mfpo_status bench_s_ = (call);                                                                                 \
        if (bench_s_ != MFPO_OK) bench_die_status(#call, bench_s_, (ctx));                                             \
    } while (0)

struct mfpo_context;
void bench_die_status(const char *what, int status, const struct mfpo_context *ctx);

#endif
