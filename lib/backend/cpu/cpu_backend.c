/*
 * The CPU backend: OpenBLAS cblas_sgemm for dense algebra, plain loops over the shared row kernels
 * (kernels_common.h, kernels_mfpo.h) for everything else. Buffers are host memory from the
 * context's allocator.
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
#include "../kernels_mfpo.h"
#include "cpu_kernels.h"

typedef struct cpu_backend {
    mfpo_backend base;
    const mfpo_allocator *allocator;
    float *scratch; /* per-chunk partial sums; grows on first use of a shape, then stays */
    size_t scratch_len;
    const cpu_kernels *k; /* the hot loops for this CPU's instruction set (cpu_kernels.h) */
} cpu_backend;

#define KERN(be) (CPU(be)->k)

#define CPU(be) ((cpu_backend *)(be))

/* The remaining elementwise loops (left to the auto-vectoriser) are compiled for AVX-512, AVX2 and
 * baseline x86-64, and the loader picks the best the CPU supports (GNU ifunc). The hottest ones are
 * written with explicit vectors in cpu_kernels.c, compiled per instruction set the same way. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(MFPO_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/*
 * Row-parallel loops. OpenMP splits rows [0, n) into one contiguous chunk per thread and each
 * chunk runs a HOT (per-ISA) worker: the OpenMP-outlined body itself would be compiled for the
 * baseline ISA only. Work below `min_rows * cols` elements stays on the calling thread, where
 * a fork would cost more than it saves. Results do not depend on the split: every row is
 * computed by itself, and cross-row sums are formed per chunk and added in chunk order.
 */
#define PAR_MIN_WORK 16384

static int chunk_count(const mfpo_backend *be, size_t rows, size_t work_per_row)
{
#ifdef _OPENMP
    size_t work = rows * (work_per_row ? work_per_row : 1);
    if (be->threads <= 1 || rows < 2 || work < PAR_MIN_WORK) return 1;
    return be->threads < (int)rows ? be->threads : (int)rows;
#else
    (void)be, (void)rows, (void)work_per_row;
    return 1;
#endif
}

#ifdef _OPENMP
#define PARALLEL_CHUNKS _Pragma("omp parallel for schedule(static, 1) num_threads(chunks_)")
#else
#define PARALLEL_CHUNKS
#endif

/* Runs CALL (which sees lo, hi, chunk) for each chunk of [0, N) rows. */
#define FOR_CHUNKS(be, N, WORK_PER_ROW, CALL)                                  \
    do {                                                                        \
        size_t n_rows_ = (N);                                                   \
        int chunks_ = chunk_count((be), n_rows_, (WORK_PER_ROW));               \
        if (chunks_ <= 1) {                                                     \
            size_t lo = 0, hi = n_rows_;                                        \
            int chunk = 0;                                                      \
            (void)chunk;                                                        \
            CALL;                                                               \
        } else {                                                                \
            PARALLEL_CHUNKS                                                     \
            for (int chunk = 0; chunk < chunks_; chunk++) {                     \
                size_t lo = n_rows_ * (size_t)chunk / (size_t)chunks_;          \
                size_t hi = n_rows_ * (size_t)(chunk + 1) / (size_t)chunks_;    \
                CALL;                                                           \
            }                                                                   \
        }                                                                       \
    } while (0)
#define ALIGN 64

static void cpu_destroy(mfpo_backend *be)
{
    const mfpo_allocator *a = CPU(be)->allocator;
    mfpo_host_free(a, CPU(be)->scratch);
    mfpo_host_free(a, be);
}

/* n floats of zeroed scratch, or NULL when memory is short (callers then run on one chunk). */
static float *cpu_scratch(mfpo_backend *be, size_t n)
{
    cpu_backend *cb = CPU(be);
    if (n > cb->scratch_len) {
        float *p = mfpo_host_alloc(cb->allocator, n * sizeof(float), ALIGN);
        if (!p) return NULL;
        mfpo_host_free(cb->allocator, cb->scratch);
        cb->scratch = p;
        cb->scratch_len = n;
    }
    memset(cb->scratch, 0, n * sizeof(float));
    return cb->scratch;
}

static void *cpu_alloc(mfpo_backend *be, size_t bytes)
{
    void *p = mfpo_host_alloc(CPU(be)->allocator, bytes ? bytes : 1, ALIGN);
    if (p) memset(p, 0, bytes);
    return p;
}

static void cpu_free(mfpo_backend *be, void *ptr)
{
    if (ptr) mfpo_host_free(CPU(be)->allocator, ptr);
}

static void cpu_copy(mfpo_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes && dst != src) memmove(dst, src, bytes);
}

static void cpu_fill(mfpo_backend *be, float *x, float value, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) x[i] = value;
}

static void cpu_synchronize(mfpo_backend *be)
{
    (void)be;
}

static void cpu_gemm(mfpo_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
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

static void cpu_add_rows(mfpo_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    FOR_CHUNKS(be, n, cols, add_rows_range(lo, hi, cols, y, ldy, x, m));
}

HOT static void cpu_fold_rows(mfpo_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
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

static void cpu_copy_rows(mfpo_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src,
                          size_t lds, size_t repeat)
{
    (void)be;
    for (size_t i = 0; i < n; i++) memcpy(dst + i * ldd, src + (i / repeat) * lds, cols * sizeof(float));
}

static void cpu_scale(mfpo_backend *be, float *x, float s, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

/* ------------------------------------------------------------------ layer passes */

static void cpu_fourier_fwd(mfpo_backend *be, size_t n, size_t f, const float *x, const float *w, float *out)
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

static void cpu_fourier_jvp(mfpo_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot,
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

static void cpu_fourier_bwd(mfpo_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g,
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

static void cpu_bias_gelu_fwd(mfpo_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act)
{
    KERN(be)->bias_gelu(n, h, pre, bias, act);
}

static void cpu_gelu_bwd(mfpo_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre)
{
    KERN(be)->gelu_grad_mul(n * h, g_act, pre, g_pre);
}

static void cpu_gelu_jvp(mfpo_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act)
{
    KERN(be)->gelu_grad_mul(n * h, t_pre, pre, t_act);
}

static void cpu_ln_gelu_fwd(mfpo_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m,
                            const float *scale, const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    FOR_CHUNKS(be, n, h, KERN(be)->ln_gelu_fwd(lo, hi, h, pre, add, m, scale, shift, xhat, rstd, y, act));
}

HOT static void add_into(size_t n, float *dst, const float *src)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

static void cpu_ln_gelu_bwd(mfpo_backend *be, size_t n, size_t h, const float *g_act, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *g_pre, float *g_scale,
                            float *g_shift)
{
    int chunks = chunk_count(be, n, h);
    float *part = chunks > 1 ? cpu_scratch(be, (size_t)chunks * 2 * h) : NULL;
    if (!part) {
        KERN(be)->ln_gelu_bwd(0, n, h, g_act, xhat, rstd, y, scale, g_pre, g_scale, g_shift);
        return;
    }
    /* each chunk sums its rows' scale/shift gradients privately; chunks are then added in order */
    FOR_CHUNKS(be, n, h,
               KERN(be)->ln_gelu_bwd(lo, hi, h, g_act, xhat, rstd, y, scale, g_pre, part + (size_t)chunk * 2 * h,
                                     part + (size_t)chunk * 2 * h + h));
    for (int c = 0; c < chunks; c++) {
        add_into(h, g_scale, part + (size_t)c * 2 * h);
        add_into(h, g_shift, part + (size_t)c * 2 * h + h);
    }
}

static void cpu_ln_gelu_jvp(mfpo_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *t_act)
{
    FOR_CHUNKS(be, n, h, KERN(be)->ln_gelu_jvp(lo, hi, h, t_pre, xhat, rstd, y, scale, t_act));
}

/* ------------------------------------------------------------------ random draws */

HOT static void uniform_range(size_t lo, size_t hi, float *out, uint64_t seed, uint64_t stream)
{
    for (size_t i = lo; i < hi; i++) out[i] = mfpo_uniform_at(seed, stream, i);
}

HOT static void normal_range(size_t lo, size_t hi, float *out, uint64_t seed, uint64_t stream)
{
    for (size_t i = lo; i < hi; i++) out[i] = mfpo_normal_at(seed, stream, i);
}

static void cpu_rng_uniform(mfpo_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    FOR_CHUNKS(be, n, 16, uniform_range(lo, hi, out, seed, stream));
}

static void cpu_rng_normal(mfpo_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    FOR_CHUNKS(be, n, 32, normal_range(lo, hi, out, seed, stream));
}

/* ------------------------------------------------------------------ MFPO rows */

static void cpu_sampler_init(mfpo_backend *be, size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        memcpy(z + i * ldz, eps + i * a, a * sizeof(float));
        if (logp) logp[i] = mfpo_log_std_normal(a, eps + i * a);
    }
}

HOT static void cpu_sampler_step(mfpo_backend *be, size_t n, size_t a, float h, const float *u, float *z, size_t ldz,
                             const float *d, float *logp)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < a; c++) z[i * ldz + c] -= h * u[i * a + c];
        if (d && logp) logp[i] += h * d[i];
    }
}

static void cpu_clip_actions(mfpo_backend *be, size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < a; c++) out[i * ldo + c] = mfpo_clampf(z[i * ldz + c], -1.0f, 1.0f);
}

static void cpu_flow_times(mfpo_backend *be, size_t n, const float *normals, float mean, float std, size_t flow_rows,
                           float *t, float *r, float *h)
{
    (void)be;
    for (size_t i = 0; i < n; i++) mfpo_flow_times_row(normals + 2 * i, mean, std, i < flow_rows, t + i, r + i, h + i);
}

static void cpu_noisy_point(mfpo_backend *be, size_t n, size_t a, const float *act, size_t lda, const float *t,
                            const float *eps, float *z_t)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < a; c++) z_t[i * a + c] = (1.0f - t[i]) * act[i * lda + c] + t[i] * eps[i * a + c];
}

static void gaussian_range(size_t lo, size_t hi, size_t k, size_t a, const float *z_t, const float *t,
                           const float *uniforms, float *noise, float *out, size_t ldo)
{
    for (size_t i = lo; i < hi; i++)
        for (size_t j = 0; j < k; j++)
            for (size_t c = 0; c < a; c++) {
                size_t e = (i * k + j) * a + c;
                out[(i * k + j) * ldo + c] = mfpo_gaussian_candidate(z_t[i * a + c], t[i], uniforms[e], noise + e);
            }
}

static void cpu_gaussian_proposal(mfpo_backend *be, size_t n, size_t k, size_t a, const float *z_t, const float *t,
                                  const float *uniforms, float *noise, float *out, size_t ldo)
{
    /* erfc and the quantile cost about as much as 64 multiply-adds per coordinate */
    FOR_CHUNKS(be, n, k * a * 64, gaussian_range(lo, hi, k, a, z_t, t, uniforms, noise, out, ldo));
}

static void cpu_expected_q(mfpo_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits,
                           float *q)
{
    FOR_CHUNKS(be, n, atoms * 2, KERN(be)->expected_q(lo, hi, atoms, v_min, v_max, logits, q));
}

static void cpu_combine_q(mfpo_backend *be, size_t n, const float *q1, const float *q2, int clipped, float *out)
{
    (void)be;
    for (size_t i = 0; i < n; i++) out[i] = clipped ? (q1[i] < q2[i] ? q1[i] : q2[i]) : 0.5f * (q1[i] + q2[i]);
}

HOT static void cpu_c51_target(mfpo_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                           const float *logits2, const float *reward, const float *mask, const float *next_logp,
                           const float *log_alpha, float gamma, int clipped, float *target)
{
    float scratch[1024];
    float alpha = expf(log_alpha[0]);
    (void)be;
    /* atoms <= 1024 is enforced at configuration time */
    for (size_t i = 0; i < n; i++)
        mfpo_c51_target_row(atoms, v_min, v_max, logits1 + i * atoms, logits2 + i * atoms, reward[i], mask[i],
                            next_logp[i], alpha, gamma, clipped, target + i * atoms, scratch);
}

HOT static void cpu_softmax_xent(mfpo_backend *be, size_t n, size_t atoms, const float *logits, const float *target,
                             float *grad, float *loss)
{
    double acc = 0.0;
    (void)be;
    for (size_t i = 0; i < n; i++)
        acc += mfpo_xent_row(atoms, logits + i * atoms, target + i * atoms, 1.0f / (float)n, grad + i * atoms);
    *loss = (float)(acc / (double)n);
}

HOT static void cpu_snis(mfpo_backend *be, size_t n, size_t k1, size_t k2, size_t a, const float *q_pol,
                     const float *q_gauss, const float *pol_a, const float *pol_logp, const float *gauss_a,
                     const float *z_t, const float *t, const float *log_alpha, float *log_w, float *w, float *ess_pol,
                     float *ess_gauss, float *v_hat)
{
    float alpha = expf(log_alpha[0]);
    (void)be;
    for (size_t i = 0; i < n; i++)
        mfpo_snis_row(k1, k2, a, q_pol + i * k1, q_gauss + i * k2, pol_a + i * k1 * a, pol_logp + i * k1,
                      gauss_a + i * k2 * a, z_t + i * a, t[i], alpha, log_w + i * (k1 + k2), w + i * (k1 + k2),
                      ess_pol + i, ess_gauss + i, v_hat + i * a);
}

HOT static void cpu_meanflow_loss(mfpo_backend *be, size_t n, size_t w, const float *pred, const float *dot,
                              const float *vel, const float *h, float *tgt, float *grad, float *loss)
{
    double acc = 0.0;
    float gs = 2.0f / (float)(n * w);
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float hc = mfpo_clampf(h[i], 0.0f, 1.0f);
        for (size_t c = 0; c < w; c++) {
            size_t e = i * w + c;
            float tg = vel[e] - hc * dot[e];
            float diff = pred[e] - tg;
            tgt[e] = tg;
            grad[e] = gs * diff;
            acc += (double)diff * diff;
        }
    }
    *loss = (float)(acc / (double)(n * w));
}

static void cpu_row_dot(mfpo_backend *be, size_t n, size_t a, const float *e, const float *jv, float scale, float *acc,
                        int accumulate)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (size_t c = 0; c < a; c++) s += e[i * a + c] * jv[i * a + c];
        acc[i] = (accumulate ? acc[i] : 0.0f) + scale * s;
    }
}

static void cpu_mean(mfpo_backend *be, size_t n, const float *x, float *out)
{
    double s = 0.0;
    (void)be;
    for (size_t i = 0; i < n; i++) s += x[i];
    *out = (float)(s / (double)n);
}

static void cpu_temperature_grad(mfpo_backend *be, const float *mean_logp, const float *log_alpha,
                                 float target_entropy, float *loss, float *grad)
{
    float alpha = expf(log_alpha[0]);
    float l = alpha * (-mean_logp[0] - target_entropy);
    (void)be;
    *loss = l;
    *grad = l; /* d/d log_alpha of exp(log_alpha) * c is the same expression */
}

static void cpu_select_best(mfpo_backend *be, size_t n, size_t k, size_t a, const float *q, const float *cand,
                            size_t ldc, float *out)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t j = 1; j < k; j++)
            if (q[i * k + j] > q[i * k + best]) best = j;
        memcpy(out + i * a, cand + (i * k + best) * ldc, a * sizeof(float));
    }
}

/* ------------------------------------------------------------------ optimizers */

static void cpu_adam(mfpo_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                     float b2, float eps, const uint64_t *step)
{
    float c1 = 1.0f / (1.0f - powf(b1, (float)*step));
    float c2 = 1.0f / (1.0f - powf(b2, (float)*step));
    FOR_CHUNKS(be, n, 8, KERN(be)->adam(hi - lo, p + lo, g + lo, m + lo, v + lo, lr, b1, b2, eps, c1, c2));
}

HOT static void cpu_polyak(mfpo_backend *be, size_t n, float *target, const float *online, float tau)
{
    (void)be;
    for (size_t i = 0; i < n; i++) target[i] = tau * online[i] + (1.0f - tau) * target[i];
}

static int cpu_all_finite(mfpo_backend *be, const float *x, size_t n)
{
    return KERN(be)->all_finite(n, x);
}

static const mfpo_backend_ops cpu_ops = {
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
    .sampler_init = cpu_sampler_init,
    .sampler_step = cpu_sampler_step,
    .clip_actions = cpu_clip_actions,
    .flow_times = cpu_flow_times,
    .noisy_point = cpu_noisy_point,
    .gaussian_proposal = cpu_gaussian_proposal,
    .expected_q = cpu_expected_q,
    .combine_q = cpu_combine_q,
    .c51_target = cpu_c51_target,
    .softmax_xent = cpu_softmax_xent,
    .snis = cpu_snis,
    .meanflow_loss = cpu_meanflow_loss,
    .row_dot = cpu_row_dot,
    .mean = cpu_mean,
    .temperature_grad = cpu_temperature_grad,
    .select_best = cpu_select_best,
    .adam = cpu_adam,
    .polyak = cpu_polyak,
    .all_finite = cpu_all_finite,
};

mfpo_backend *mfpo_cpu_backend_create(const mfpo_allocator *allocator, int threads, char *reason, size_t reason_size)
{
    cpu_backend *be = mfpo_host_alloc(allocator, sizeof *be, ALIGN);
    if (!be) {
        snprintf(reason, reason_size, "out of memory creating the CPU backend");
        return NULL;
    }
    memset(be, 0, sizeof *be);
    be->base.ops = &cpu_ops;
    be->allocator = allocator;
    be->k = cpu_kernels_select();
    if (threads <= 0) threads = openblas_get_num_procs();
    if (threads <= 0) threads = 1;
    openblas_set_num_threads(threads);
    be->base.threads = threads;
    snprintf(be->base.device_name, sizeof be->base.device_name, "cpu (%s kernels, OpenBLAS %s, %d thread%s)",
             be->k->isa, openblas_get_config(), threads, threads == 1 ? "" : "s");
    return &be->base;
}
