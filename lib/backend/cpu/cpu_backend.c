/*
 * The CPU backend: OpenBLAS cblas_sgemm for dense algebra, plain loops over the shared row kernels
 * (kernels_common.h) for everything else. Buffers are host memory from the context's allocator
 * (base.host_memory = 1: lib/algo runs its MFPO row kernels on them directly).
 */
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../backend.h"
#include "../kernels_common.h"
#include "rows.h"

typedef struct cpu_backend {
    be_backend base;
    const mfpo_allocator *allocator;
    float *scratch; /* per-chunk partial sums; grows on first use of a shape, then stays */
    size_t scratch_len;
} cpu_backend;

#define CPU(be) ((cpu_backend *)(be))

#define ALIGN 64

static void cpu_destroy(be_backend *be)
{
    const mfpo_allocator *a = CPU(be)->allocator;
    core_free(a, CPU(be)->scratch);
    core_free(a, be);
}

/* n floats of zeroed scratch, or NULL when memory is short (callers then run on one chunk). */
static float *cpu_scratch(be_backend *be, size_t n)
{
    cpu_backend *cb = CPU(be);
    if (n > cb->scratch_len) {
        float *p = core_alloc(cb->allocator, n * sizeof(float), ALIGN);
        if (!p) return NULL;
        core_free(cb->allocator, cb->scratch);
        cb->scratch = p;
        cb->scratch_len = n;
    }
    memset(cb->scratch, 0, n * sizeof(float));
    return cb->scratch;
}

static void *cpu_alloc(be_backend *be, size_t bytes)
{
    void *p = core_alloc(CPU(be)->allocator, bytes ? bytes : 1, ALIGN);
    if (p) memset(p, 0, bytes);
    return p;
}

static void cpu_free(be_backend *be, void *ptr)
{
    if (ptr) core_free(CPU(be)->allocator, ptr);
}

static void cpu_copy(be_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes && dst != src) memmove(dst, src, bytes);
}

static void cpu_fill(be_backend *be, float *x, float value, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) x[i] = value;
}

static void cpu_synchronize(be_backend *be)
{
    (void)be;
}

static void cpu_gemm(be_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    (void)be;
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

HOT static void add_rows_range(size_t lo, size_t hi, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    for (size_t i = lo; i < hi; i++) {
        const float *xr = x + (i % m) * cols;
        float *yr = y + i * ldy;
        for (size_t j = 0; j < cols; j++) yr[j] += xr[j];
    }
}

static void cpu_add_rows(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    FOR_CHUNKS(be, n, cols, add_rows_range(lo, hi, cols, y, ldy, x, m));
}

HOT static void cpu_fold_rows(be_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
                          int accumulate)
{
    (void)be;
    if (!accumulate) memset(out, 0, m * cols * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *gr = g + i * ldg;
        float *o = out + (i % m) * cols;
        for (size_t j = 0; j < cols; j++) o[j] += gr[j];
    }
}

static void cpu_copy_rows(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src,
                          size_t lds, size_t repeat)
{
    (void)be;
    for (size_t i = 0; i < n; i++) memcpy(dst + i * ldd, src + (i / repeat) * lds, cols * sizeof(float));
}

static void cpu_scale(be_backend *be, float *x, float s, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

/* ------------------------------------------------------------------ layer passes */

static void cpu_fourier_fwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, float *out)
{
    (void)be;
    const float two_pi = (float)(2.0 * MFPO_PI);
    for (size_t i = 0; i < n; i++) {
        float *o = out + i * 2 * f;
        for (size_t k = 0; k < f; k++) {
            float a = two_pi * x[i] * w[k];
            o[k] = cosf(a);
            o[f + k] = sinf(a);
        }
    }
}

static void cpu_fourier_jvp(be_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot,
                            float *out_dot)
{
    (void)be;
    const float two_pi = (float)(2.0 * MFPO_PI);
    for (size_t i = 0; i < n; i++) {
        float *o = out_dot + i * 2 * f;
        for (size_t k = 0; k < f; k++) {
            float a = two_pi * x[i] * w[k];
            float da = two_pi * w[k] * xdot;
            o[k] = -sinf(a) * da;
            o[f + k] = cosf(a) * da;
        }
    }
}

static void cpu_fourier_bwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g,
                            float *gw, float *gx)
{
    (void)be;
    const float two_pi = (float)(2.0 * MFPO_PI);
    memset(gw, 0, f * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *gr = g + i * 2 * f;
        float acc_x = 0.0f;
        for (size_t k = 0; k < f; k++) {
            float a = two_pi * x[i] * w[k];
            float da = -sinf(a) * gr[k] + cosf(a) * gr[f + k]; /* d out / d a, contracted with g */
            gw[k] += da * two_pi * x[i];
            acc_x += da * two_pi * w[k];
        }
        if (gx) gx[i] = acc_x;
    }
}

HOT static void cpu_bias_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < h; j++) {
            float v = pre[i * h + j] + bias[j];
            pre[i * h + j] = v;
            act[i * h + j] = be_gelu(v);
        }
}

HOT static void cpu_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre)
{
    (void)be;
    for (size_t i = 0; i < n * h; i++) g_pre[i] = g_act[i] * be_gelu_grad(pre[i]);
}

HOT static void cpu_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act)
{
    (void)be;
    for (size_t i = 0; i < n * h; i++) t_act[i] = t_pre[i] * be_gelu_grad(pre[i]);
}

HOT static void ln_gelu_fwd_range(size_t lo, size_t hi, size_t h, float *pre, const float *add, size_t m,
                              const float *scale, const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    for (size_t i = lo; i < hi; i++)
        be_ln_gelu_row(h, pre + i * h, add ? add + (i % m) * h : NULL, scale, shift, xhat ? xhat + i * h : NULL,
                         rstd ? rstd + i : NULL, y ? y + i * h : NULL, act + i * h);
}

static void cpu_ln_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m,
                            const float *scale, const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    FOR_CHUNKS(be, n, h, ln_gelu_fwd_range(lo, hi, h, pre, add, m, scale, shift, xhat, rstd, y, act));
}

HOT static void ln_gelu_bwd_range(size_t lo, size_t hi, size_t h, const float *g_act, const float *xhat,
                              const float *rstd, const float *y, const float *scale, float *g_pre, float *g_scale,
                              float *g_shift)
{
    for (size_t i = lo; i < hi; i++) {
        const float *ga = g_act + i * h, *xh = xhat + i * h, *yy = y + i * h;
        float *gp = g_pre + i * h;
        for (size_t j = 0; j < h; j++) {
            float gy = ga[j] * be_gelu_grad(yy[j]); /* through GELU */
            g_scale[j] += gy * xh[j];
            g_shift[j] += gy;
            gp[j] = gy * scale[j]; /* gradient w.r.t. xhat */
        }
        be_ln_apply_jacobian(h, gp, xh, rstd[i], gp);
    }
}

HOT static void add_into(size_t n, float *dst, const float *src)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

static void cpu_ln_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *g_pre, float *g_scale,
                            float *g_shift)
{
    int chunks = chunk_count(be, n, h);
    float *part = chunks > 1 ? cpu_scratch(be, (size_t)chunks * 2 * h) : NULL;
    if (!part) {
        ln_gelu_bwd_range(0, n, h, g_act, xhat, rstd, y, scale, g_pre, g_scale, g_shift);
        return;
    }
    /* each chunk sums its rows' scale/shift gradients privately; chunks are then added in order */
    FOR_CHUNKS(be, n, h,
               ln_gelu_bwd_range(lo, hi, h, g_act, xhat, rstd, y, scale, g_pre, part + (size_t)chunk * 2 * h,
                                 part + (size_t)chunk * 2 * h + h));
    for (int c = 0; c < chunks; c++) {
        add_into(h, g_scale, part + (size_t)c * 2 * h);
        add_into(h, g_shift, part + (size_t)c * 2 * h + h);
    }
}

HOT static void ln_gelu_jvp_range(size_t lo, size_t hi, size_t h, const float *t_pre, const float *xhat,
                              const float *rstd, const float *y, const float *scale, float *t_act)
{
    for (size_t i = lo; i < hi; i++) {
        const float *xh = xhat + i * h, *yy = y + i * h;
        float *ta = t_act + i * h;
        be_ln_apply_jacobian(h, t_pre + i * h, xh, rstd[i], ta);
        for (size_t j = 0; j < h; j++) ta[j] = be_gelu_grad(yy[j]) * scale[j] * ta[j];
    }
}

static void cpu_ln_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *t_act)
{
    FOR_CHUNKS(be, n, h, ln_gelu_jvp_range(lo, hi, h, t_pre, xhat, rstd, y, scale, t_act));
}

/* ------------------------------------------------------------------ random draws */

HOT static void uniform_range(size_t lo, size_t hi, float *out, uint64_t seed, uint64_t stream)
{
    for (size_t i = lo; i < hi; i++) out[i] = be_uniform_at(seed, stream, i);
}

HOT static void normal_range(size_t lo, size_t hi, float *out, uint64_t seed, uint64_t stream)
{
    for (size_t i = lo; i < hi; i++) out[i] = be_normal_at(seed, stream, i);
}

static void cpu_rng_uniform(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    FOR_CHUNKS(be, n, 16, uniform_range(lo, hi, out, seed, stream));
}

static void cpu_rng_normal(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    FOR_CHUNKS(be, n, 32, normal_range(lo, hi, out, seed, stream));
}

/* ------------------------------------------------------------------ optimizers */

HOT static void adam_range(size_t lo, size_t hi, float *p, const float *g, float *m, float *v, float lr, float b1,
                       float b2, float eps, float c1, float c2)
{
    for (size_t i = lo; i < hi; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

static void cpu_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                     float b2, float eps, const uint64_t *step)
{
    float c1 = 1.0f / (1.0f - powf(b1, (float)*step));
    float c2 = 1.0f / (1.0f - powf(b2, (float)*step));
    FOR_CHUNKS(be, n, 8, adam_range(lo, hi, p, g, m, v, lr, b1, b2, eps, c1, c2));
}

HOT static void cpu_polyak(be_backend *be, size_t n, float *target, const float *online, float tau)
{
    (void)be;
    for (size_t i = 0; i < n; i++) target[i] = tau * online[i] + (1.0f - tau) * target[i];
}

HOT static int cpu_all_finite(be_backend *be, const float *x, size_t n)
{
    (void)be;
    /* x - x is 0 for finite x and NaN for inf or NaN; summing keeps the loop branch-free */
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++) acc += x[i] - x[i];
    return acc == 0.0f;
}

static const be_ops cpu_ops = {
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .fill = cpu_fill,
    .synchronize = cpu_synchronize,
    .gemm = cpu_gemm,
    .add_rows = cpu_add_rows,
    .fold_rows = cpu_fold_rows,
    .copy_rows = cpu_copy_rows,
    .scale = cpu_scale,
    .fourier_fwd = cpu_fourier_fwd,
    .fourier_jvp = cpu_fourier_jvp,
    .fourier_bwd = cpu_fourier_bwd,
    .bias_gelu_fwd = cpu_bias_gelu_fwd,
    .gelu_bwd = cpu_gelu_bwd,
    .gelu_jvp = cpu_gelu_jvp,
    .ln_gelu_fwd = cpu_ln_gelu_fwd,
    .ln_gelu_bwd = cpu_ln_gelu_bwd,
    .ln_gelu_jvp = cpu_ln_gelu_jvp,
    .rng_uniform = cpu_rng_uniform,
    .rng_normal = cpu_rng_normal,
    .adam = cpu_adam,
    .polyak = cpu_polyak,
    .all_finite = cpu_all_finite,
};

be_backend *be_cpu_create(const mfpo_allocator *allocator, int threads, char *reason, size_t reason_size)
{
    cpu_backend *be = core_alloc(allocator, sizeof *be, ALIGN);
    if (!be) {
        snprintf(reason, reason_size, "out of memory creating the CPU backend");
        return NULL;
    }
    memset(be, 0, sizeof *be);
    be->base.ops = &cpu_ops;
    be->base.host_memory = 1;
    be->allocator = allocator;
    if (threads <= 0) threads = openblas_get_num_procs();
    if (threads <= 0) threads = 1;
    openblas_set_num_threads(threads);
    be->base.threads = threads;
    snprintf(be->base.device_name, sizeof be->base.device_name, "cpu (OpenBLAS %s, %d thread%s)",
             openblas_get_config(), threads, threads == 1 ? "" : "s");
    return &be->base;
}
