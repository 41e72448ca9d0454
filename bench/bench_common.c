#include "bench_common.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mfpo.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *x, size_t n, double q)
{
    if (n == 0) return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo >= n - 1) return x[n - 1];
    double frac = pos - (double)lo;
    return x[lo] + frac * (x[lo + 1] - x[lo]);
}

int bench_take_flag(int *argc, char **argv, const char *flag)
{
    int found = 0, out = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], flag)) {
            found = 1;
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    return found;
}

static int cpu_has_avx512f(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int yes = 0;
    if (!f) return 0;
    while (!yes && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5) && strstr(line, " avx512f")) yes = 1;
    fclose(f);
    return yes;
}

void bench_print_blas(void)
{
    const char *core = openblas_get_corename();
    const char *env = getenv("OPENBLAS_CORETYPE");
    printf("INFO openblas core=%s coretype_env=%s config=\"%s\"\n", core ? core : "?", env ? env : "(unset)",
           openblas_get_config());
    if (core && !strcmp(core, "Prescott") && cpu_has_avx512f())
        printf("WARNING OpenBLAS runs its Prescott kernels on a CPU with AVX-512F (sgemm about 8x slower): "
               "export OPENBLAS_CORETYPE=SkylakeX (source scripts/openblas-env.sh) before running\n");
    fflush(stdout);
}

void bench_fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long *state)
{
    unsigned long long s = *state ? *state : 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((double)(s >> 11) * (1.0 / 9007199254740992.0));
    }
    *state = s;
}

void bench_die_status(const char *what, int status, const struct mfpo_context *ctx)
{
    fprintf(stderr, "bench: %s failed: %s: %s\n", what, mfpo_status_string((mfpo_status)status), mfpo_last_error(ctx));
    exit(1);
}
