/*
 * The CPU backend: OpenBLAS cblas_sgemm for dense algebra, split across the backend's worker pool,
 * and loops over the shared row kernels (kernels_common.h, cpu_kernels.h) for everything else.
 * Buffers are host memory from the context's allocator (base.host_memory = 1: lib/algo runs its
 * MFPO row kernels on them directly).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../backend.h"
#include "../kernels_common.h"
#include "cpu_kernels.h"
#include "cpu_pool.h"
#include "rows.h"

typedef struct cpu_backend {
    be_backend base;
    const mfpo_allocator *allocator;
    float *scratch; /* per-chunk partial sums; grows on first use of a shape, then stays */
    size_t scratch_len;
    const cpu_kernels *k; /* the hot loops for this CPU's instruction set (cpu_kernels.h) */
    cpu_pool *pool;       /* threads - 1 workers (cpu_pool.h) */
} cpu_backend;

#define KERN(be) (CPU(be)->k)

#define CPU(be) ((cpu_backend *)(be))

static const be_ops cpu_ops;

int be_cpu_chunks(be_backend *be, size_t rows, size_t work_per_row)
{
    size_t work = rows * (work_per_row ? work_per_row : 1);
    int threads = be->ops == &cpu_ops ? cpu_pool_threads(CPU(be)->pool) : 1;
    if (threads <= 1 || rows < 2 || work < PAR_MIN_WORK) return 1;
    return threads < (int)rows ? threads : (int)rows;
}

void be_cpu_run(be_backend *be, int chunks, cpu_task_fn fn, void *args)
{
    cpu_pool_run(be->ops == &cpu_ops ? CPU(be)->pool : NULL, chunks, fn, args);
}

const cpu_kernels *be_cpu_kernels(be_backend *be)
{
    return be->ops == &cpu_ops ? CPU(be)->k : cpu_kernels_select();
}

#define ALIGN 64

static void cpu_destroy(be_backend *be)
{
    const mfpo_allocator *a = CPU(be)->allocator;
    cpu_pool_destroy(CPU(be)->pool);
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

/* C = alpha op(A) op(B) + beta C on one thread (OpenBLAS is held at one thread: cpu_pool.h) */
static void gemm_block(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (blasint)m,
                (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

typedef struct gemm_args {
    int trans_a, trans_b, split_rows;
    size_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
} gemm_args;

/* One chunk of a product: a band of C's rows (A's rows), or of C's columns (B's columns). Every
 * element of C is the same dot product, in the same order, whatever the split. */
static void gemm_chunk(void *args, int chunk, int chunks)
{
    const gemm_args *g = args;
    if (g->split_rows) {
        CHUNK_ROWS(g->m);
        const float *a = g->trans_a ? g->a + lo : g->a + lo * g->lda;
        gemm_block(g->trans_a, g->trans_b, hi - lo, g->n, g->k, g->alpha, a, g->lda, g->b, g->ldb, g->beta,
                   g->c + lo * g->ldc, g->ldc);
    } else {
        CHUNK_ROWS(g->n);
        const float *b = g->trans_b ? g->b + lo * g->ldb : g->b + lo;
        gemm_block(g->trans_a, g->trans_b, g->m, hi - lo, g->k, g->alpha, g->a, g->lda, b, g->ldb, g->beta, g->c + lo,
                   g->ldc);
    }
}

/* Products below this many multiply-adds stay on the calling thread */
#define GEMM_PAR_MIN (1u << 20)

static void cpu_gemm(be_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    gemm_args g = { trans_a, trans_b, m >= n, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c };
    int threads = cpu_pool_threads(CPU(be)->pool);
    size_t split = g.split_rows ? m : n;
    int chunks = (double)m * (double)n * (double)k < (double)GEMM_PAR_MIN || split < 2 ? 1
                 : (size_t)threads < split                                             ? threads
                                                                                       : (int)split;
    be_cpu_run(be, chunks, gemm_chunk, &g);
}

HOT static void add_rows_range(size_t lo, size_t hi, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    for (size_t i = lo; i < hi; i++) {
        const float *xr = x + (i % m) * cols;
        float *yr = y + i * ldy;
        for (size_t j = 0; j < cols; j++) yr[j] += xr[j];
    }
}

typedef struct add_rows_args {
    size_t n, cols, ldy, m;
    float *y;
    const float *x;
} add_rows_args;

static void add_rows_chunk(void *args, int chunk, int chunks)
{
    const add_rows_args *a = args;
    CHUNK_ROWS(a->n);
    add_rows_range(lo, hi, a->cols, a->y, a->ldy, a->x, a->m);
}

static void cpu_add_rows(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    add_rows_args a = { n, cols, ldy, m, y, x };
    be_cpu_run_rows(be, n, cols, add_rows_chunk, &a);
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

static void cpu_copy_rows(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds,
                          size_t repeat)
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

static void cpu_bias_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act)
{
    KERN(be)->bias_gelu(n, h, pre, bias, act);
}

static void cpu_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre)
{
    KERN(be)->gelu_grad_mul(n * h, g_act, pre, g_pre);
}

static void cpu_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act)
{
    KERN(be)->gelu_grad_mul(n * h, t_pre, pre, t_act);
}

/* The fused LayerNorm + GELU passes: forward (pre, add, shift -> xhat_out, rstd_out, y_out, act),
 * backward (g_act -> g_pre, g_scale, g_shift) and JVP (t_pre -> act) */
typedef struct ln_gelu_args {
    const cpu_kernels *k;
    size_t n, h, m;
    const float *add, *scale, *shift, *g_act, *t_pre, *xhat, *rstd, *y;
    float *pre, *xhat_out, *rstd_out, *y_out, *act, *g_pre, *g_scale, *g_shift, *part;
} ln_gelu_args;

static void ln_gelu_fwd_chunk(void *args, int chunk, int chunks)
{
    const ln_gelu_args *a = args;
    CHUNK_ROWS(a->n);
    a->k->ln_gelu_fwd(lo, hi, a->h, a->pre, a->add, a->m, a->scale, a->shift, a->xhat_out, a->rstd_out, a->y_out,
                      a->act);
}

static void cpu_ln_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m,
                            const float *scale, const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    ln_gelu_args a = { .k = KERN(be),
                       .n = n,
                       .h = h,
                       .m = m,
                       .pre = pre,
                       .add = add,
                       .scale = scale,
                       .shift = shift,
                       .xhat_out = xhat,
                       .rstd_out = rstd,
                       .y_out = y,
                       .act = act };
    be_cpu_run_rows(be, n, h, ln_gelu_fwd_chunk, &a);
}

HOT static void add_into(size_t n, float *dst, const float *src)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

/* each chunk sums its rows' scale/shift gradients privately into part (2 h per chunk) */
static void ln_gelu_bwd_chunk(void *args, int chunk, int chunks)
{
    const ln_gelu_args *a = args;
    CHUNK_ROWS(a->n);
    float *gs = a->part ? a->part + (size_t)chunk * 2 * a->h : a->g_scale;
    float *gh = a->part ? gs + a->h : a->g_shift;
    a->k->ln_gelu_bwd(lo, hi, a->h, a->g_act, a->xhat, a->rstd, a->y, a->scale, a->g_pre, gs, gh);
}

static void cpu_ln_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *g_pre, float *g_scale,
                            float *g_shift)
{
    int chunks = be_cpu_chunks(be, n, h);
    float *part = chunks > 1 ? cpu_scratch(be, (size_t)chunks * 2 * h) : NULL;
    ln_gelu_args a = { .k = KERN(be),
                       .n = n,
                       .h = h,
                       .g_act = g_act,
                       .xhat = xhat,
                       .rstd = rstd,
                       .y = y,
                       .scale = scale,
                       .g_pre = g_pre,
                       .g_scale = g_scale,
                       .g_shift = g_shift,
                       .part = part };
    /* without scratch memory the rows run on one chunk, accumulating directly */
    be_cpu_run(be, part ? chunks : 1, ln_gelu_bwd_chunk, &a);
    if (!part) return;
    /* chunks are added in order, so the result depends only on the number of chunks */
    for (int c = 0; c < chunks; c++) {
        add_into(h, g_scale, part + (size_t)c * 2 * h);
        add_into(h, g_shift, part + (size_t)c * 2 * h + h);
    }
}

static void ln_gelu_jvp_chunk(void *args, int chunk, int chunks)
{
    const ln_gelu_args *a = args;
    CHUNK_ROWS(a->n);
    a->k->ln_gelu_jvp(lo, hi, a->h, a->t_pre, a->xhat, a->rstd, a->y, a->scale, a->act);
}

static void cpu_ln_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat,
                            const float *rstd, const float *y, const float *scale, float *t_act)
{
    ln_gelu_args a = {
        .k = KERN(be), .n = n, .h = h, .t_pre = t_pre, .xhat = xhat, .rstd = rstd, .y = y, .scale = scale, .act = t_act
    };
    be_cpu_run_rows(be, n, h, ln_gelu_jvp_chunk, &a);
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

typedef struct rng_args {
    size_t n;
    float *out;
    uint64_t seed, stream;
} rng_args;

static void uniform_chunk(void *args, int chunk, int chunks)
{
    const rng_args *a = args;
    CHUNK_ROWS(a->n);
    uniform_range(lo, hi, a->out, a->seed, a->stream);
}

static void normal_chunk(void *args, int chunk, int chunks)
{
    const rng_args *a = args;
    CHUNK_ROWS(a->n);
    normal_range(lo, hi, a->out, a->seed, a->stream);
}

static void cpu_rng_uniform(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    rng_args a = { n, out, key[0], key[1] + offset };
    be_cpu_run_rows(be, n, 16, uniform_chunk, &a);
}

static void cpu_rng_normal(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    rng_args a = { n, out, key[0], key[1] + offset };
    be_cpu_run_rows(be, n, 32, normal_chunk, &a);
}

/* ------------------------------------------------------------------ optimizers */

typedef struct adam_args {
    const cpu_kernels *k;
    size_t n;
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, c1, c2;
} adam_args;

static void adam_chunk(void *args, int chunk, int chunks)
{
    const adam_args *a = args;
    CHUNK_ROWS(a->n);
    a->k->adam(hi - lo, a->p + lo, a->g + lo, a->m + lo, a->v + lo, a->lr, a->b1, a->b2, a->eps, a->c1, a->c2);
}

static void cpu_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                     float b2, float eps, const uint64_t *step)
{
    adam_args a = { KERN(be),
                    n,
                    p,
                    m,
                    v,
                    g,
                    lr,
                    b1,
                    b2,
                    eps,
                    1.0f / (1.0f - powf(b1, (float)*step)),
                    1.0f / (1.0f - powf(b2, (float)*step)) };
    be_cpu_run_rows(be, n, 8, adam_chunk, &a);
}

HOT static void cpu_polyak(be_backend *be, size_t n, float *target, const float *online, float tau)
{
    (void)be;
    for (size_t i = 0; i < n; i++) target[i] = tau * online[i] + (1.0f - tau) * target[i];
}

static int cpu_all_finite(be_backend *be, const float *x, size_t n)
{
    return KERN(be)->all_finite(n, x);
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
    be->allocator = allocator;
    be->k = cpu_kernels_select();
    if (threads <= 0) threads = openblas_get_num_procs();
    if (threads <= 0) threads = 1;
    /* OpenBLAS runs on the calling thread; the backend's own pool splits the products (cpu_pool.h) */
    openblas_set_num_threads(1);
    be->pool = cpu_pool_create(allocator, threads - 1, reason, reason_size);
    if (!be->pool) {
        core_free(allocator, be);
        return NULL;
    }
    be->base.threads = threads;
    be->base.host_memory = 1;
    snprintf(be->base.device_name, sizeof be->base.device_name, "cpu (%s kernels, OpenBLAS %s, %d thread%s)",
             be->k->isa, openblas_get_config(), threads, threads == 1 ? "" : "s");
    return &be->base;
}
