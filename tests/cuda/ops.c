/*
 * Every op of the CUDA backend against the CPU backend (lib/backend/backend.h), on random inputs
 * and awkward shapes (tails of the 16-lane sums, leading dimensions above the width, m < n row
 * broadcasts, aliased outputs, accumulate flags), then a recorded sequence (graph_begin/end/launch)
 * replayed with fresh keys and Adam steps against the same ops run directly.
 *
 *   cuda_ops [--verbose] [--cpu-vs-cpu]   exit 77 (skipped) without a usable CUDA device
 *
 * --cpu-vs-cpu compares two CPU backends instead, the second wrapped by the recording test backend
 * (record_backend.h) so that the graph checks run too; everything must then be bit-identical. A
 * check of this program on machines without a GPU (test cuda_ops_harness).
 *
 * Tolerances: ops whose CUDA kernels follow the CPU's arithmetic order are held to a few ulp
 * (EXACTISH; 0 expected, libm calls may differ by an ulp); gemm to a bound proportional to the
 * sum of |terms| (cuBLAS sums in another order); the outputs of double-precision libm work
 * (truncated normal, Box-Muller) to 1e-6 relative.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/select.h"
#include "core/alloc.h"
#include "record_backend.h"

static be_backend *cpu, *gpu;
static int failures, checks, verbose;

typedef struct pair {
    float *c, *g;
    size_t n;
} pair;

static unsigned long long rs = 88172645463325252ull;
static float urand(float lo, float hi)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return lo + (hi - lo) * (float)((rs >> 11) * (1.0 / 9007199254740992.0));
}

static float *host(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) exit(1);
    return p;
}

/* n floats on both backends, filled with `init` (or uniform in [lo, hi) when init is NULL). */
static pair mk_init(size_t n, const float *init)
{
    pair p = { cpu->ops->alloc(cpu, n * sizeof(float)), gpu->ops->alloc(gpu, n * sizeof(float)), n };
    if (!p.c || !p.g) {
        fprintf(stderr, "allocation of %zu floats failed\n", n);
        exit(1);
    }
    if (init && n) {
        cpu->ops->upload(cpu, p.c, init, n * sizeof(float));
        gpu->ops->upload(gpu, p.g, init, n * sizeof(float));
    }
    return p;
}

static pair mk(size_t n, float lo, float hi)
{
    float *h = host(n);
    for (size_t i = 0; i < n; i++) h[i] = urand(lo, hi);
    pair p = mk_init(n, h);
    free(h);
    return p;
}

static void rel(pair p)
{
    cpu->ops->free(cpu, p.c);
    gpu->ops->free(gpu, p.g);
}

/* Compares n floats of p from offset 0: |c - g| <= atol + rtol |c| (NaN must match NaN). */
static void cmp(const char *what, pair p, size_t n, double atol, double rtol)
{
    float *a = host(n), *b = host(n);
    cpu->ops->download(cpu, a, p.c, n * sizeof(float));
    gpu->ops->download(gpu, b, p.g, n * sizeof(float));
    size_t bad = 0, same = 0, worst_i = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i], d = fabs(x - y);
        if (memcmp(&a[i], &b[i], sizeof(float)) == 0) {
            same++;
            continue;
        }
        if (x != x && y != y) {
            same++;
            continue;
        }
        double lim = atol + rtol * fabs(x);
        if (!(d <= lim)) bad++;
        double r = d / (lim > 0 ? lim : 1e-30);
        if (!(r <= worst)) {
            worst = r;
            worst_i = i;
        }
    }
    checks++;
    if (bad || verbose)
        printf("%-4s %-34s n=%-8zu bit-identical %6.2f%%  worst err/tol %.3g at %zu (cpu %.9g cuda %.9g)\n",
               bad ? "FAIL" : "ok", what, n, n ? 100.0 * (double)same / (double)n : 100.0, worst, worst_i,
               n ? (double)a[worst_i] : 0.0, n ? (double)b[worst_i] : 0.0);
    if (bad) failures++;
    free(a);
    free(b);
}

#define EXACTISH 1e-6, 4e-7 /* atol, rtol: a few ulp */
#define ULP2 0, 2.5e-7      /* two ulp of a float, relative */

/* Gives the CUDA side the CPU's values of p, so that a later op is compared on identical inputs
 * (and an ulp of difference upstream, e.g. from libm's expf, is not amplified downstream). */
static void sync_gpu(pair p)
{
    float *h = host(p.n);
    cpu->ops->download(cpu, h, p.c, p.n * sizeof(float));
    gpu->ops->upload(gpu, p.g, h, p.n * sizeof(float));
    free(h);
}

/* ------------------------------------------------------------------ dense */

static void test_gemm(void)
{
    static const size_t shapes[][3] = {
        { 64, 256, 23 }, { 256, 64, 256 }, { 1, 101, 256 }, { 37, 5, 1 }, { 300, 17, 300 }
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 2; bi++) {
                    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                    size_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                    size_t ra = ta ? k : m, rb = tb ? n : k;
                    pair A = mk(ra * lda, -1, 1), B = mk(rb * ldb, -1, 1), C = mk(m * ldc, -1, 1);
                    float beta = bi ? 0.5f : 0.0f;
                    cpu->ops->gemm(cpu, ta, tb, m, n, k, 0.75f, A.c, lda, B.c, ldb, beta, C.c, ldc);
                    gpu->ops->gemm(gpu, ta, tb, m, n, k, 0.75f, A.g, lda, B.g, ldb, beta, C.g, ldc);
                    char name[96];
                    snprintf(name, sizeof name, "gemm %zux%zux%zu ta%d tb%d beta%.1f", m, n, k, ta, tb, (double)beta);
                    cmp(name, C, m * ldc, 2e-6 * (double)k, 1e-5);
                    rel(A), rel(B), rel(C);
                }
    /* k = 0: C = beta C, and 0 (not NaN) when beta = 0 */
    float nanv[12];
    for (int i = 0; i < 12; i++) nanv[i] = i % 3 ? NAN : 2.0f;
    pair C = mk_init(12, nanv);
    cpu->ops->gemm(cpu, 0, 0, 3, 4, 0, 1.0f, C.c, 4, C.c, 4, 0.0f, C.c, 4);
    gpu->ops->gemm(gpu, 0, 0, 3, 4, 0, 1.0f, C.g, 4, C.g, 4, 0.0f, C.g, 4);
    cmp("gemm k=0 beta=0", C, 12, 0, 0);
    rel(C);
}

static void test_rows(void)
{
    size_t n = 300, cols = 37, ld = 41;
    for (size_t m = 1; m <= n; m = m == 1 ? 7 : (m == 7 ? n : n + 1)) {
        pair y = mk(n * ld, -1, 1), x = mk(m * cols, -1, 1);
        cpu->ops->add_rows(cpu, n, cols, y.c, ld, x.c, m);
        gpu->ops->add_rows(gpu, n, cols, y.g, ld, x.g, m);
        char name[64];
        snprintf(name, sizeof name, "add_rows m=%zu", m);
        cmp(name, y, n * ld, EXACTISH);
        for (int acc = 0; acc < 2; acc++) {
            pair out = mk(m * cols, -1, 1);
            cpu->ops->fold_rows(cpu, n, cols, y.c, ld, out.c, m, acc);
            gpu->ops->fold_rows(gpu, n, cols, y.g, ld, out.g, m, acc);
            snprintf(name, sizeof name, "fold_rows m=%zu accumulate=%d", m, acc);
            cmp(name, out, m * cols, 1e-5, 1e-5);
            rel(out);
        }
        rel(y), rel(x);
    }
    pair src = mk(20 * 9, -1, 1), dst = mk(60 * 11, -1, 1);
    cpu->ops->copy_rows(cpu, 60, 7, dst.c, 11, src.c, 9, 3);
    gpu->ops->copy_rows(gpu, 60, 7, dst.g, 11, src.g, 9, 3);
    cmp("copy_rows repeat=3", dst, 60 * 11, 0, 0);
    cpu->ops->scale(cpu, dst.c, -0.3f, 660);
    gpu->ops->scale(gpu, dst.g, -0.3f, 660);
    cmp("scale", dst, 660, 0, 0);
    cpu->ops->fill(cpu, dst.c + 5, 2.5f, 100);
    gpu->ops->fill(gpu, dst.g + 5, 2.5f, 100);
    cmp("fill", dst, 660, 0, 0);
    /* copy with overlapping ranges (memmove semantics), both directions */
    cpu->ops->copy(cpu, dst.c + 10, dst.c, 300 * sizeof(float));
    gpu->ops->copy(gpu, dst.g + 10, dst.g, 300 * sizeof(float));
    cmp("copy overlapping forward", dst, 660, 0, 0);
    cpu->ops->copy(cpu, dst.c, dst.c + 7, 400 * sizeof(float));
    gpu->ops->copy(gpu, dst.g, dst.g + 7, 400 * sizeof(float));
    cmp("copy overlapping backward", dst, 660, 0, 0);
    rel(src), rel(dst);
}

/* ------------------------------------------------------------------ layers */

static void test_layers(void)
{
    size_t n = 256, f = 64, d = 64;
    pair x = mk(n, 0, 1), w = mk(f, -0.6f, 0.6f), out = mk(n * 2 * f, 0, 0), g = mk(n * 2 * f, -1, 1);
    pair gw = mk(f, 0, 0), gx = mk(n, 0, 0);
    cpu->ops->fourier_fwd(cpu, n, f, x.c, w.c, out.c);
    gpu->ops->fourier_fwd(gpu, n, f, x.g, w.g, out.g);
    cmp("fourier_fwd", out, n * 2 * f, EXACTISH);
    cpu->ops->fourier_jvp(cpu, n, f, x.c, w.c, 0.7f, out.c);
    gpu->ops->fourier_jvp(gpu, n, f, x.g, w.g, 0.7f, out.g);
    cmp("fourier_jvp", out, n * 2 * f, EXACTISH);
    cpu->ops->fourier_bwd(cpu, n, f, x.c, w.c, g.c, gw.c, gx.c);
    gpu->ops->fourier_bwd(gpu, n, f, x.g, w.g, g.g, gw.g, gx.g);
    cmp("fourier_bwd gw", gw, f, 1e-4, 1e-5);
    cmp("fourier_bwd gx", gx, n, 1e-4, 1e-5);
    rel(x), rel(w), rel(out), rel(g), rel(gw), rel(gx);

    pair pre = mk(n * d, -4, 4), bias = mk(d, -1, 1), act = mk(n * d, 0, 0), ga = mk(n * d, -1, 1);
    cpu->ops->bias_gelu_fwd(cpu, n, d, pre.c, bias.c, act.c);
    gpu->ops->bias_gelu_fwd(gpu, n, d, pre.g, bias.g, act.g);
    cmp("bias_gelu_fwd pre", pre, n * d, 0, 0);
    cmp("bias_gelu_fwd act", act, n * d, EXACTISH);
    cpu->ops->gelu_bwd(cpu, n, d, ga.c, pre.c, ga.c);
    gpu->ops->gelu_bwd(gpu, n, d, ga.g, pre.g, ga.g);
    cmp("gelu_bwd (aliased)", ga, n * d, EXACTISH);
    cpu->ops->gelu_jvp(cpu, n, d, ga.c, pre.c, act.c);
    gpu->ops->gelu_jvp(gpu, n, d, ga.g, pre.g, act.g);
    cmp("gelu_jvp", act, n * d, EXACTISH);
    rel(pre), rel(bias), rel(act), rel(ga);

    /* LayerNorm + GELU: widths with and without a 16-lane tail, broadcast adds, aliasing */
    static const size_t hs[] = { 256, 37, 5 };
    for (size_t hi = 0; hi < 3; hi++) {
        size_t h = hs[hi], rows = 301;
        for (size_t m = 1; m <= rows; m = m == 1 ? rows : rows + 1) {
            pair p = mk(rows * h, -3, 3), add = mk(m * h, -1, 1), sc = mk(h, 0.5f, 1.5f), sh = mk(h, -0.5f, 0.5f);
            pair xh = mk(rows * h, 0, 0), rs_ = mk(rows, 0, 0), y = mk(rows * h, 0, 0), a = mk(rows * h, 0, 0);
            pair p2 = mk(rows * h, -3, 3);
            char name[80];
            cpu->ops->ln_gelu_fwd(cpu, rows, h, p.c, add.c, m, sc.c, sh.c, xh.c, rs_.c, y.c, a.c);
            gpu->ops->ln_gelu_fwd(gpu, rows, h, p.g, add.g, m, sc.g, sh.g, xh.g, rs_.g, y.g, a.g);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu m=%zu pre", h, m);
            cmp(name, p, rows * h, 0, 0);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu m=%zu xhat", h, m);
            cmp(name, xh, rows * h, EXACTISH);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu m=%zu rstd", h, m);
            cmp(name, rs_, rows, EXACTISH);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu m=%zu y", h, m);
            cmp(name, y, rows * h, EXACTISH);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu m=%zu act", h, m);
            cmp(name, a, rows * h, EXACTISH);
            /* inference form: no add, act aliasing pre */
            cpu->ops->ln_gelu_fwd(cpu, rows, h, p2.c, NULL, 1, sc.c, sh.c, NULL, NULL, NULL, p2.c);
            gpu->ops->ln_gelu_fwd(gpu, rows, h, p2.g, NULL, 1, sc.g, sh.g, NULL, NULL, NULL, p2.g);
            snprintf(name, sizeof name, "ln_gelu_fwd h=%zu inference aliased", h);
            cmp(name, p2, rows * h, EXACTISH);
            /* backward (g_pre aliasing g_act; g_scale/g_shift accumulate onto non-zero values) */
            pair g = mk(rows * h, -1, 1), gs = mk(h, -1, 1), gb = mk(h, -1, 1), t = mk(rows * h, -1, 1);
            cpu->ops->ln_gelu_bwd(cpu, rows, h, g.c, xh.c, rs_.c, y.c, sc.c, g.c, gs.c, gb.c);
            gpu->ops->ln_gelu_bwd(gpu, rows, h, g.g, xh.g, rs_.g, y.g, sc.g, g.g, gs.g, gb.g);
            snprintf(name, sizeof name, "ln_gelu_bwd h=%zu g_pre", h);
            cmp(name, g, rows * h, 1e-6, 2e-6);
            snprintf(name, sizeof name, "ln_gelu_bwd h=%zu g_scale", h);
            cmp(name, gs, h, 1e-5, 1e-5);
            snprintf(name, sizeof name, "ln_gelu_bwd h=%zu g_shift", h);
            cmp(name, gb, h, 1e-5, 1e-5);
            cpu->ops->ln_gelu_jvp(cpu, rows, h, t.c, xh.c, rs_.c, y.c, sc.c, t.c);
            gpu->ops->ln_gelu_jvp(gpu, rows, h, t.g, xh.g, rs_.g, y.g, sc.g, t.g);
            snprintf(name, sizeof name, "ln_gelu_jvp h=%zu (aliased)", h);
            cmp(name, t, rows * h, 1e-6, 2e-6);
            rel(p), rel(add), rel(sc), rel(sh), rel(xh), rel(rs_), rel(y), rel(a), rel(p2);
            rel(g), rel(gs), rel(gb), rel(t);
        }
    }
}

/* ------------------------------------------------------------------ random draws, MFPO rows */

static void *key_pair(uint64_t seed, uint64_t stream, void **gk)
{
    uint64_t k[2] = { seed, stream };
    void *ck = cpu->ops->alloc(cpu, sizeof k);
    *gk = gpu->ops->alloc(gpu, sizeof k);
    cpu->ops->upload(cpu, ck, k, sizeof k);
    gpu->ops->upload(gpu, *gk, k, sizeof k);
    return ck;
}

static void test_rng_and_rows(void)
{
    void *gk, *ck = key_pair(0x1234567890abcdefull, 77, &gk);
    size_t n = 100003;
    pair u = mk(n, 0, 0), z = mk(n, 0, 0);
    cpu->ops->rng_uniform(cpu, u.c, n, ck, 3);
    gpu->ops->rng_uniform(gpu, u.g, n, gk, 3);
    cmp("rng_uniform", u, n, 0, 1e-7);
    cpu->ops->rng_normal(cpu, z.c, n, ck, 5);
    gpu->ops->rng_normal(gpu, z.g, n, gk, 5);
    cmp("rng_normal", z, n, 1e-7, 1e-6);
    sync_gpu(z);

    size_t B = 256, A = 6, K1 = 16, K2 = 32, N = 101;
    pair eps = mk(B * A, -2, 2), zz = mk(B * (A + 3), 0, 0), logp = mk(B, 0, 0), uu = mk(B * A, -1, 1),
         dd = mk(B, -1, 1), out = mk(B * (A + 2), 0, 0);
    algo_kernels_of(cpu)->sampler_init(cpu, B, A, eps.c, zz.c, A + 3, logp.c);
    algo_kernels_of(gpu)->sampler_init(gpu, B, A, eps.g, zz.g, A + 3, logp.g);
    cmp("sampler_init z", zz, B * (A + 3), 0, 0);
    cmp("sampler_init logp", logp, B, EXACTISH);
    algo_kernels_of(cpu)->sampler_step(cpu, B, A, 0.5f, uu.c, zz.c, A + 3, dd.c, logp.c);
    algo_kernels_of(gpu)->sampler_step(gpu, B, A, 0.5f, uu.g, zz.g, A + 3, dd.g, logp.g);
    cmp("sampler_step z", zz, B * (A + 3), 0, 0);
    cmp("sampler_step logp", logp, B, 0, 0);
    algo_kernels_of(cpu)->clip_actions(cpu, B, A, zz.c, A + 3, out.c, A + 2);
    algo_kernels_of(gpu)->clip_actions(gpu, B, A, zz.g, A + 3, out.g, A + 2);
    cmp("clip_actions", out, B * (A + 2), 0, 0);

    pair nrm = mk(2 * B, -3, 3), t = mk(B, 0, 0), r = mk(B, 0, 0), h = mk(B, 0, 0);
    algo_kernels_of(cpu)->flow_times(cpu, B, nrm.c, -0.4f, 1.0f, 192, t.c, r.c, h.c);
    algo_kernels_of(gpu)->flow_times(gpu, B, nrm.g, -0.4f, 1.0f, 192, t.g, r.g, h.g);
    cmp("flow_times t", t, B, EXACTISH);
    cmp("flow_times r", r, B, EXACTISH);
    cmp("flow_times h", h, B, 1e-6, 1e-5);
    sync_gpu(t), sync_gpu(r), sync_gpu(h);
    pair pol = mk(B * K1 * A, -1, 1), zt = mk(B * A, 0, 0);
    algo_kernels_of(cpu)->noisy_point(cpu, B, A, pol.c, K1 * A, t.c, eps.c, zt.c);
    algo_kernels_of(gpu)->noisy_point(gpu, B, A, pol.g, K1 * A, t.g, eps.g, zt.g);
    cmp("noisy_point", zt, B * A, EXACTISH);
    sync_gpu(zt);
    pair un = mk(B * K2 * A, 0.001f, 0.999f), noise = mk(B * K2 * A, 0, 0), ga = mk(B * K2 * (A + 1), 0, 0);
    algo_kernels_of(cpu)->gaussian_proposal(cpu, B, K2, A, zt.c, t.c, un.c, noise.c, ga.c, A + 1);
    algo_kernels_of(gpu)->gaussian_proposal(gpu, B, K2, A, zt.g, t.g, un.g, noise.g, ga.g, A + 1);
    cmp("gaussian_proposal noise", noise, B * K2 * A, 1e-6, 1e-6);
    cmp("gaussian_proposal actions", ga, B * K2 * (A + 1), 1e-6, 1e-6);
    sync_gpu(noise), sync_gpu(ga);

    pair lg1 = mk(B * N, -5, 5), lg2 = mk(B * N, -5, 5), q1 = mk(B, 0, 0), q2 = mk(B, 0, 0), q = mk(B, 0, 0);
    algo_kernels_of(cpu)->expected_q(cpu, B, N, -1600, 1600, lg1.c, q1.c);
    algo_kernels_of(gpu)->expected_q(gpu, B, N, -1600, 1600, lg1.g, q1.g);
    cmp("expected_q", q1, B, 1e-4, 1e-6);
    algo_kernels_of(cpu)->expected_q(cpu, B, N, -1600, 1600, lg2.c, q2.c);
    algo_kernels_of(gpu)->expected_q(gpu, B, N, -1600, 1600, lg2.g, q2.g);
    for (int clipped = 0; clipped < 2; clipped++) {
        algo_kernels_of(cpu)->combine_q(cpu, B, q1.c, q2.c, clipped, q.c);
        algo_kernels_of(gpu)->combine_q(gpu, B, q1.g, q2.g, clipped, q.g);
        cmp(clipped ? "combine_q min" : "combine_q mean", q, B, 1e-4, 1e-6);
    }
    float la = logf(0.05f);
    pair rew = mk(B, -5, 5), mask = mk(B, 1, 1), nlp = mk(B, -8, 2), lalpha = mk_init(1, &la), tgt = mk(B * N, 0, 0);
    for (int clipped = 0; clipped < 2; clipped++) {
        algo_kernels_of(cpu)->c51_target(cpu, B, N, -1600, 1600, lg1.c, lg2.c, rew.c, mask.c, nlp.c, lalpha.c, 0.99f,
                                         clipped, tgt.c);
        algo_kernels_of(gpu)->c51_target(gpu, B, N, -1600, 1600, lg1.g, lg2.g, rew.g, mask.g, nlp.g, lalpha.g, 0.99f,
                                         clipped, tgt.g);
        cmp(clipped ? "c51_target clipped" : "c51_target average", tgt, B * N, 1e-6, 1e-5);
    }
    pair grad = mk(B * N, 0, 0), loss = mk(4, 0, 0);
    sync_gpu(tgt);
    algo_kernels_of(cpu)->softmax_xent(cpu, B, N, lg1.c, tgt.c, grad.c, loss.c);
    algo_kernels_of(gpu)->softmax_xent(gpu, B, N, lg1.g, tgt.g, grad.g, loss.g);
    cmp("softmax_xent grad", grad, B * N, 1e-8, 1e-5);
    cmp("softmax_xent loss", loss, 1, 0, 1e-6);
    sync_gpu(grad);

    pair qp = mk(B * K1, -50, 50), qg = mk(B * K2, -50, 50), plogp = mk(B * K1, -10, 2);
    pair lw = mk(B * (K1 + K2), 0, 0), wt = mk(B * (K1 + K2), 0, 0), e1 = mk(B, 0, 0), e2 = mk(B, 0, 0),
         vh = mk(B * A, 0, 0);
    algo_kernels_of(cpu)->snis(cpu, B, K1, K2, A, qp.c, qg.c, pol.c, plogp.c, ga.c, zt.c, t.c, lalpha.c, lw.c, wt.c,
                               e1.c, e2.c, vh.c);
    /* gauss_a with leading dimension A + 1 above is read as B K2 x A here: the same on both */
    algo_kernels_of(gpu)->snis(gpu, B, K1, K2, A, qp.g, qg.g, pol.g, plogp.g, ga.g, zt.g, t.g, lalpha.g, lw.g, wt.g,
                               e1.g, e2.g, vh.g);
    cmp("snis log_w", lw, B * (K1 + K2), 1e-4, 1e-5);
    cmp("snis w", wt, B * (K1 + K2), 1e-6, 1e-4);
    cmp("snis ess_pol", e1, B, 1e-5, 1e-4);
    cmp("snis ess_gauss", e2, B, 1e-5, 1e-4);
    cmp("snis v_hat", vh, B * A, 1e-4, 1e-4);

    for (size_t w = 1; w <= A; w += A - 1) {
        pair pred = mk(B * w, -1, 1), dot = mk(B * w, -1, 1), vel = mk(B * w, -1, 1), hh = mk(B, -0.5f, 1.5f);
        pair tg = mk(B * w, 0, 0), gr = mk(B * w, 0, 0), ls = mk(1, 0, 0);
        algo_kernels_of(cpu)->meanflow_loss(cpu, B, w, pred.c, dot.c, vel.c, hh.c, tg.c, gr.c, ls.c);
        algo_kernels_of(gpu)->meanflow_loss(gpu, B, w, pred.g, dot.g, vel.g, hh.g, tg.g, gr.g, ls.g);
        cmp(w == 1 ? "meanflow_loss w=1 tgt" : "meanflow_loss w=A tgt", tg, B * w, 0, 0);
        cmp(w == 1 ? "meanflow_loss w=1 grad" : "meanflow_loss w=A grad", gr, B * w, 0, 0);
        cmp(w == 1 ? "meanflow_loss w=1 loss" : "meanflow_loss w=A loss", ls, 1, ULP2);
        rel(pred), rel(dot), rel(vel), rel(hh), rel(tg), rel(gr), rel(ls);
    }
    pair acc = mk(B, -1, 1);
    for (int a2 = 0; a2 < 2; a2++) {
        algo_kernels_of(cpu)->row_dot(cpu, B, A, eps.c, uu.c, 0.5f, acc.c, a2);
        algo_kernels_of(gpu)->row_dot(gpu, B, A, eps.g, uu.g, 0.5f, acc.g, a2);
        cmp(a2 ? "row_dot accumulate" : "row_dot", acc, B, 0, 0);
    }
    pair mn = mk(1, 0, 0);
    size_t sizes[] = { 1, 256, 4096, 100003 };
    for (int i = 0; i < 4; i++) {
        algo_kernels_of(cpu)->mean(cpu, sizes[i], z.c, mn.c);
        algo_kernels_of(gpu)->mean(gpu, sizes[i], z.g, mn.g);
        char name[40];
        snprintf(name, sizeof name, "mean n=%zu", sizes[i]);
        cmp(name, mn, 1, ULP2);
    }
    pair tl = mk(1, 0, 0), tgd = mk(1, 0, 0);
    sync_gpu(mn);
    algo_kernels_of(cpu)->temperature_grad(cpu, mn.c, lalpha.c, -3.0f, tl.c, tgd.c);
    algo_kernels_of(gpu)->temperature_grad(gpu, mn.g, lalpha.g, -3.0f, tl.g, tgd.g);
    cmp("temperature_grad loss", tl, 1, ULP2);
    cmp("temperature_grad grad", tgd, 1, ULP2);

    /* select_best, with ties (the first maximum wins) */
    size_t K = 10;
    float *qh = host(B * K);
    for (size_t i = 0; i < B * K; i++) qh[i] = (float)((i * 7919) % 13);
    pair qs = mk_init(B * K, qh), cand = mk(B * K * (A + 4), -1, 1), best = mk(B * A, 0, 0);
    algo_kernels_of(cpu)->select_best(cpu, B, K, A, qs.c, cand.c, A + 4, best.c);
    algo_kernels_of(gpu)->select_best(gpu, B, K, A, qs.g, cand.g, A + 4, best.g);
    cmp("select_best", best, B * A, 0, 0);
    free(qh);

    rel(u), rel(z), rel(eps), rel(zz), rel(logp), rel(uu), rel(dd), rel(out), rel(nrm), rel(t), rel(r), rel(h);
    rel(pol), rel(zt), rel(un), rel(noise), rel(ga), rel(lg1), rel(lg2), rel(q1), rel(q2), rel(q), rel(rew);
    rel(mask), rel(nlp), rel(lalpha), rel(tgt), rel(grad), rel(loss), rel(qp), rel(qg), rel(plogp), rel(lw);
    rel(wt), rel(e1), rel(e2), rel(vh), rel(acc), rel(mn), rel(tl), rel(tgd), rel(qs), rel(cand), rel(best);
    cpu->ops->free(cpu, ck);
    gpu->ops->free(gpu, gk);
}

/* ------------------------------------------------------------------ optimizers, all_finite */

static void *steps_pair(uint64_t step, void **gs)
{
    void *cs = cpu->ops->alloc(cpu, sizeof step);
    *gs = gpu->ops->alloc(gpu, sizeof step);
    cpu->ops->upload(cpu, cs, &step, sizeof step);
    gpu->ops->upload(gpu, *gs, &step, sizeof step);
    return cs;
}

static void test_optim(void)
{
    size_t n = 70001;
    pair p = mk(n, -1, 1), g = mk(n, -1e-3f, 1e-3f), m = mk(n, -1e-4f, 1e-4f), v = mk(n, 0, 1e-6f), t = mk(n, -1, 1);
    void *gs, *cs = steps_pair(1, &gs);
    for (uint64_t step = 1; step <= 7; step += 6) {
        cpu->ops->upload(cpu, cs, &step, sizeof step);
        gpu->ops->upload(gpu, gs, &step, sizeof step);
        cpu->ops->adam(cpu, n, p.c, g.c, m.c, v.c, 3e-4f, 0.9f, 0.999f, 1e-8f, cs);
        gpu->ops->adam(gpu, n, p.g, g.g, m.g, v.g, 3e-4f, 0.9f, 0.999f, 1e-8f, gs);
        cmp(step == 1 ? "adam p step 1" : "adam p step 7", p, n, 1e-9, 2.5e-7);
        cmp("adam m", m, n, 0, 0);
        cmp("adam v", v, n, 0, 0);
    }
    cpu->ops->polyak(cpu, n, t.c, p.c, 0.005f);
    gpu->ops->polyak(gpu, n, t.g, p.g, 0.005f);
    cmp("polyak", t, n, 1e-9, 2.5e-7);
    checks++;
    int fc = cpu->ops->all_finite(cpu, p.c, n), fg = gpu->ops->all_finite(gpu, p.g, n);
    float bad[2] = { NAN, INFINITY };
    int ok = fc == 1 && fg == 1;
    for (int k = 0; k < 2; k++) {
        cpu->ops->upload(cpu, p.c + n - 1 - k * 5000, &bad[k], sizeof(float));
        gpu->ops->upload(gpu, p.g + n - 1 - k * 5000, &bad[k], sizeof(float));
        ok = ok && cpu->ops->all_finite(cpu, p.c, n) == 0 && gpu->ops->all_finite(gpu, p.g, n) == 0;
    }
    if (!ok) {
        printf("FAIL all_finite\n");
        failures++;
    } else if (verbose) {
        printf("ok   all_finite\n");
    }
    rel(p), rel(g), rel(m), rel(v), rel(t);
    cpu->ops->free(cpu, cs);
    gpu->ops->free(gpu, gs);
}

/* ------------------------------------------------------------------ recording */

/* A recorded sequence reading a key and an Adam step from device memory replays fresh values. */
static void test_graphs(void)
{
    if (!gpu->ops->graph_begin) {
        printf("note: the CUDA backend has no graph ops (MFPO_CUDA_GRAPHS=0?): recording not tested\n");
        return;
    }
    size_t n = 5000;
    void *gk, *ck = key_pair(42, 1000, &gk);
    void *gs, *cs = steps_pair(1, &gs);
    pair z = mk(n, 0, 0), p = mk(n, -1, 1), m = mk(n, 0, 0), v = mk(n, 0, 0), mean = mk(1, 0, 0);
    void *graph = NULL;
    if (gpu->ops->graph_begin(gpu) != 0) {
        printf("FAIL graph_begin\n");
        failures++;
        return;
    }
    gpu->ops->rng_normal(gpu, z.g, n, gk, 2);
    gpu->ops->scale(gpu, z.g, 1e-3f, n);
    gpu->ops->adam(gpu, n, p.g, z.g, m.g, v.g, 3e-4f, 0.9f, 0.999f, 1e-8f, gs);
    algo_kernels_of(gpu)->mean(gpu, n, p.g, mean.g);
    if (gpu->ops->graph_end(gpu, &graph) != 0 || !graph) {
        printf("FAIL graph_end\n");
        failures++;
        return;
    }
    for (uint64_t it = 1; it <= 3; it++) {
        uint64_t key[2] = { 42, 1000 + 17 * it };
        cpu->ops->upload(cpu, ck, key, sizeof key);
        gpu->ops->upload(gpu, gk, key, sizeof key);
        cpu->ops->upload(cpu, cs, &it, sizeof it);
        gpu->ops->upload(gpu, gs, &it, sizeof it);
        cpu->ops->rng_normal(cpu, z.c, n, ck, 2);
        cpu->ops->scale(cpu, z.c, 1e-3f, n);
        cpu->ops->adam(cpu, n, p.c, z.c, m.c, v.c, 3e-4f, 0.9f, 0.999f, 1e-8f, cs);
        algo_kernels_of(cpu)->mean(cpu, n, p.c, mean.c);
        if (gpu->ops->graph_launch(gpu, graph) != 0) {
            printf("FAIL graph_launch\n");
            failures++;
            break;
        }
        char name[48];
        snprintf(name, sizeof name, "graph replay %d: draws", (int)it);
        cmp(name, z, n, 1e-9, 1e-6);
        snprintf(name, sizeof name, "graph replay %d: adam p", (int)it);
        cmp(name, p, n, 1e-7, 1e-6);
        snprintf(name, sizeof name, "graph replay %d: mean", (int)it);
        cmp(name, mean, 1, 1e-7, 1e-6);
    }
    gpu->ops->graph_destroy(gpu, graph);
    /* a transfer inside a recording makes graph_end fail (the caller then runs the ops itself) */
    if (gpu->ops->graph_begin(gpu) == 0) {
        float one = 1.0f;
        gpu->ops->upload(gpu, z.g, &one, sizeof one);
        graph = NULL;
        checks++;
        if (gpu->ops->graph_end(gpu, &graph) == 0) {
            printf("FAIL graph_end accepted a recording with an upload in it\n");
            failures++;
            gpu->ops->graph_destroy(gpu, graph);
        }
    }
    rel(z), rel(p), rel(m), rel(v), rel(mean);
    cpu->ops->free(cpu, ck);
    gpu->ops->free(gpu, gk);
    cpu->ops->free(cpu, cs);
    gpu->ops->free(gpu, gs);
}

int main(int argc, char **argv)
{
    int cpu_vs_cpu = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[i], "--cpu-vs-cpu"))
            cpu_vs_cpu = 1; /* checks this harness itself */
        else {
            fprintf(stderr, "usage: %s [--verbose] [--cpu-vs-cpu]\n", argv[0]);
            return 2;
        }
    }
    char why[512] = "";
    void *module = NULL;
    mfpo_backend_kind chosen;
    unsetenv("MFPO_BACKEND");
    if (cpu_vs_cpu) {
        /* the second CPU backend records and replays like CUDA graphs (record_backend.h) */
        be_backend *inner = be_cpu_create(&core_default_allocator, 1, why, sizeof why);
        rec_backend *rec = inner ? rec_wrap(inner) : NULL;
        if (!rec) return 1;
        gpu = &rec->base;
    } else if (be_open(MFPO_BACKEND_CUDA, &core_default_allocator, 1, 0, &gpu, &module, &chosen, why, sizeof why) !=
               MFPO_OK) {
        printf("skipped: no CUDA device (%s)\n", why);
        return 77;
    }
    cpu = be_cpu_create(&core_default_allocator, 1, why, sizeof why);
    if (!cpu) {
        fprintf(stderr, "CPU backend: %s\n", why);
        return 1;
    }
    printf("cpu:  %s\ncuda: %s\n", cpu->device_name, gpu->device_name);
    test_gemm();
    test_rows();
    test_layers();
    test_rng_and_rows();
    test_optim();
    test_graphs();
    printf("%d checks, %d failed\n", checks, failures);
    cpu->ops->destroy(cpu);
    be_close(gpu, module);
    return failures ? 1 : 0;
}
