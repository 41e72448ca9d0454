/*
 * Dense helpers, layer passes (Fourier embedding, GELU, fused LayerNorm + GELU) and optimizers
 * of the CUDA backend. Semantics, aliasing allowances and accumulate flags are those of
 * lib/backend/backend.h and the reference implementation lib/backend/cpu/cpu_backend.c.
 */
#include "cuda_internal.cuh"

#define BLOCK 256
#define GRID_STRIDE(i, n)                                                                                              \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* ------------------------------------------------------------------ dense helpers */

__global__ void k_add_rows(size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    GRID_STRIDE(e, n * cols)
    {
        size_t i = e / cols, j = e % cols;
        y[i * ldy + j] += x[(i % m) * cols + j];
    }
}

void cu_add_rows(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    cu_use_device(CB(be));
    if (!n || !cols) return;
    k_add_rows<<<cu_grid(n * cols, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, cols, y, ldy, x, m);
    MFPO_CUDA_LAUNCHED(CB(be), "add_rows");
}

/* One thread per output element, rows folded in increasing order: the CPU's summation order. */
__global__ void k_fold_rows(size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m, int accumulate)
{
    GRID_STRIDE(e, m * cols)
    {
        size_t r = e / cols, j = e % cols;
        float acc = accumulate ? out[e] : 0.0f;
        size_t i = r;
        /* loads issued eight at a time, added in order */
        for (; i + 7 * m < n; i += 8 * m) {
            float v[8];
#pragma unroll
            for (int u = 0; u < 8; u++) v[u] = g[(i + (size_t)u * m) * ldg + j];
#pragma unroll
            for (int u = 0; u < 8; u++) acc += v[u];
        }
        for (; i < n; i += m) acc += g[i * ldg + j];
        out[e] = acc;
    }
}

void cu_fold_rows(be_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
                  int accumulate)
{
    cu_use_device(CB(be));
    if (!m || !cols) return;
    k_fold_rows<<<cu_grid(m * cols, 64), 64, 0, CB(be)->stream>>>(n, cols, g, ldg, out, m, accumulate);
    MFPO_CUDA_LAUNCHED(CB(be), "fold_rows");
}

__global__ void k_copy_rows(size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds, size_t repeat)
{
    GRID_STRIDE(e, n * cols)
    {
        size_t i = e / cols, j = e % cols;
        dst[i * ldd + j] = src[(i / repeat) * lds + j];
    }
}

void cu_copy_rows(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds,
                  size_t repeat)
{
    cu_use_device(CB(be));
    if (!n || !cols) return;
    k_copy_rows<<<cu_grid(n * cols, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, cols, dst, ldd, src, lds, repeat);
    MFPO_CUDA_LAUNCHED(CB(be), "copy_rows");
}

__global__ void k_scale(float *x, float s, size_t n)
{
    GRID_STRIDE(i, n) x[i] *= s;
}

void cu_scale(be_backend *be, float *x, float s, size_t n)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_scale<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(x, s, n);
    MFPO_CUDA_LAUNCHED(CB(be), "scale");
}

__global__ void k_fill(float *x, float value, size_t n)
{
    GRID_STRIDE(i, n) x[i] = value;
}

void cu_fill(be_backend *be, float *x, float value, size_t n)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_fill<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(x, value, n);
    MFPO_CUDA_LAUNCHED(CB(be), "fill");
}

/* C = beta C for an empty inner dimension (C = 0 when beta is 0, whatever C held). */
__global__ void k_gemm_k0(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    GRID_STRIDE(e, m * n)
    {
        size_t i = e / n, j = e % n;
        c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
}

void cu_gemm_k0(be_backend *be, size_t m, size_t n, float beta, float *c, size_t ldc)
{
    cu_use_device(CB(be));
    k_gemm_k0<<<cu_grid(m * n, BLOCK), BLOCK, 0, CB(be)->stream>>>(m, n, beta, c, ldc);
    MFPO_CUDA_LAUNCHED(CB(be), "gemm (k = 0)");
}

/* ------------------------------------------------------------------ Fourier features */

#define TWO_PI_F ((float)(2.0 * MFPO_PI))

__global__ void k_fourier_fwd(size_t n, size_t f, const float *x, const float *w, float *out)
{
    GRID_STRIDE(e, n * f)
    {
        size_t i = e / f, k = e % f;
        float a = TWO_PI_F * x[i] * w[k];
        out[i * 2 * f + k] = cr_cosf(a);
        out[i * 2 * f + f + k] = cr_sinf(a);
    }
}

void cu_fourier_fwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, float *out)
{
    cu_use_device(CB(be));
    if (!n || !f) return;
    k_fourier_fwd<<<cu_grid(n * f, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, f, x, w, out);
    MFPO_CUDA_LAUNCHED(CB(be), "fourier_fwd");
}

__global__ void k_fourier_jvp(size_t n, size_t f, const float *x, const float *w, float xdot, float *out_dot)
{
    GRID_STRIDE(e, n * f)
    {
        size_t i = e / f, k = e % f;
        float a = TWO_PI_F * x[i] * w[k];
        float da = TWO_PI_F * w[k] * xdot;
        out_dot[i * 2 * f + k] = -cr_sinf(a) * da;
        out_dot[i * 2 * f + f + k] = cr_cosf(a) * da;
    }
}

void cu_fourier_jvp(be_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot, float *out_dot)
{
    cu_use_device(CB(be));
    if (!n || !f) return;
    k_fourier_jvp<<<cu_grid(n * f, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, f, x, w, xdot, out_dot);
    MFPO_CUDA_LAUNCHED(CB(be), "fourier_jvp");
}

/* gw[k] = sum over rows in increasing order, the CPU's order. One warp per frequency: the lanes
 * evaluate 32 rows' terms at once (the sin/cos), and every lane adds them up in row order from
 * shuffles, so the sum is sequential but the expensive part is not. */
__global__ void k_fourier_bwd_w(size_t n, size_t f, const float *x, const float *w, const float *g, float *gw)
{
    size_t k = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    unsigned lane = threadIdx.x & 31;
    if (k >= f) return; /* k is the same for the whole warp */
    float acc = 0.0f;
    for (size_t base = 0; base < n; base += 32) {
        size_t i = base + lane;
        float term = 0.0f;
        if (i < n) {
            const float *gr = g + i * 2 * f;
            float a = TWO_PI_F * x[i] * w[k];
            float da = -cr_sinf(a) * gr[k] + cr_cosf(a) * gr[f + k];
            term = da * TWO_PI_F * x[i];
        }
        unsigned cnt = n - base < 32 ? (unsigned)(n - base) : 32u;
        for (unsigned j = 0; j < cnt; j++) acc += __shfl_sync(MFPO_FULL_MASK, term, j);
    }
    if (lane == 0) gw[k] = acc;
}

/* gx[i] = sum over frequencies in order (one thread per row). */
__global__ void k_fourier_bwd_x(size_t n, size_t f, const float *x, const float *w, const float *g, float *gx)
{
    GRID_STRIDE(i, n)
    {
        const float *gr = g + i * 2 * f;
        float acc = 0.0f;
        for (size_t k = 0; k < f; k++) {
            float a = TWO_PI_F * x[i] * w[k];
            float da = -cr_sinf(a) * gr[k] + cr_cosf(a) * gr[f + k];
            acc += da * TWO_PI_F * w[k];
        }
        gx[i] = acc;
    }
}

void cu_fourier_bwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g, float *gw,
                    float *gx)
{
    cu_use_device(CB(be));
    if (!f) return;
    k_fourier_bwd_w<<<(unsigned)((f + 3) / 4), 128, 0, CB(be)->stream>>>(n, f, x, w, g, gw);
    MFPO_CUDA_LAUNCHED(CB(be), "fourier_bwd");
    if (gx && n) {
        k_fourier_bwd_x<<<cu_grid(n, 64), 64, 0, CB(be)->stream>>>(n, f, x, w, g, gx);
        MFPO_CUDA_LAUNCHED(CB(be), "fourier_bwd");
    }
}

/* ------------------------------------------------------------------ GELU */

__global__ void k_bias_gelu_fwd(size_t n, size_t h, float *pre, const float *bias, float *act)
{
    GRID_STRIDE(e, n * h)
    {
        float v = pre[e] + bias[e % h];
        pre[e] = v;
        act[e] = be_gelu(v);
    }
}

void cu_bias_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_bias_gelu_fwd<<<cu_grid(n * h, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, h, pre, bias, act);
    MFPO_CUDA_LAUNCHED(CB(be), "bias_gelu_fwd");
}

/* out = a * gelu'(pre); out may alias a. */
__global__ void k_gelu_grad_mul(size_t n, const float *a, const float *pre, float *out)
{
    GRID_STRIDE(i, n) out[i] = a[i] * be_gelu_grad(pre[i]);
}

void cu_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_gelu_grad_mul<<<cu_grid(n * h, BLOCK), BLOCK, 0, CB(be)->stream>>>(n * h, g_act, pre, g_pre);
    MFPO_CUDA_LAUNCHED(CB(be), "gelu_bwd");
}

void cu_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_gelu_grad_mul<<<cu_grid(n * h, BLOCK), BLOCK, 0, CB(be)->stream>>>(n * h, t_pre, pre, t_act);
    MFPO_CUDA_LAUNCHED(CB(be), "gelu_jvp");
}

/* ------------------------------------------------------------------ LayerNorm + GELU rows
 *
 * A half warp per row (8 rows per block of 128). Row i is handled by lanes 16 (i % 2) ..; both
 * halves of a warp run the shuffles together, an out-of-range half with an empty row. */

#define LN_BLOCK 128
#define LN_ROWS_PER_BLOCK (LN_BLOCK / 16)

static inline unsigned ln_grid(size_t n)
{
    size_t g = (n + LN_ROWS_PER_BLOCK - 1) / LN_ROWS_PER_BLOCK;
    return (unsigned)(g > 0x7fffffff ? 0x7fffffff : g);
}

__global__ void k_ln_gelu_fwd(size_t n, size_t h, float *pre, const float *add, size_t m, const float *scale,
                              const float *shift, float *xhat, float *rstd_out, float *y, float *act)
{
    size_t i = (size_t)blockIdx.x * LN_ROWS_PER_BLOCK + threadIdx.x / 16;
    unsigned lane = threadIdx.x & 15;
    int valid = i < n;
    size_t hh = valid ? h : 0, j;
    float *p = pre + (valid ? i * h : 0);
    if (add) {
        const float *ad = add + (valid ? (i % m) * h : 0);
        for (j = lane; j < hh; j += 16) p[j] += ad[j];
        __syncwarp();
    }
    float mean = hw_sum(hh, p, lane) / (float)h;
    float var = hw_sum_sq_dev(hh, p, mean, lane) / (float)h;
    float rstd = 1.0f / sqrtf(var + MFPO_LN_EPS);
    __syncwarp();
    if (!valid) return;
    if (rstd_out && lane == 0) rstd_out[i] = rstd;
    float *a = act + i * h;
    if (xhat && y) {
        float *xh = xhat + i * h, *yy = y + i * h;
        for (j = lane; j < h; j += 16) {
            float xv = (p[j] - mean) * rstd;
            float yv = scale[j] * xv + shift[j];
            xh[j] = xv;
            yy[j] = yv;
            a[j] = be_gelu(yv);
        }
    } else {
        for (j = lane; j < h; j += 16) a[j] = be_gelu(scale[j] * ((p[j] - mean) * rstd) + shift[j]);
    }
}

void cu_ln_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m, const float *scale,
                    const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_ln_gelu_fwd<<<ln_grid(n), LN_BLOCK, 0, CB(be)->stream>>>(n, h, pre, add, m ? m : 1, scale, shift, xhat, rstd, y,
                                                               act);
    MFPO_CUDA_LAUNCHED(CB(be), "ln_gelu_fwd");
}

/* The scale/shift gradients: rows added in increasing order per column (the CPU's order with one
 * thread; deterministic). One warp per column: the lanes evaluate 32 rows' GELU derivatives at
 * once and every lane adds the terms in row order from shuffles. Runs before the row pass, which
 * may overwrite g_act. */
__global__ void k_ln_gelu_bwd_cols(size_t n, size_t h, const float *g_act, const float *xhat, const float *y,
                                   float *g_scale, float *g_shift)
{
    size_t j = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    unsigned lane = threadIdx.x & 31;
    if (j >= h) return; /* j is the same for the whole warp */
    float gs = g_scale[j], gb = g_shift[j];
    for (size_t base = 0; base < n; base += 32) {
        size_t i = base + lane;
        float ts = 0.0f, tb = 0.0f;
        if (i < n) {
            float gy = g_act[i * h + j] * be_gelu_grad(y[i * h + j]);
            ts = gy * xhat[i * h + j];
            tb = gy;
        }
        unsigned cnt = n - base < 32 ? (unsigned)(n - base) : 32u;
        for (unsigned r = 0; r < cnt; r++) {
            gs += __shfl_sync(MFPO_FULL_MASK, ts, r);
            gb += __shfl_sync(MFPO_FULL_MASK, tb, r);
        }
    }
    if (lane == 0) {
        g_scale[j] = gs;
        g_shift[j] = gb;
    }
}

/* LayerNorm Jacobian of be_ln_apply_jacobian on a half-warp row: out = rstd (t - mean(t) - xhat
 * mean(xhat t)); out may alias t. */
__device__ __forceinline__ void hw_ln_jacobian(size_t hh, size_t h, const float *t, const float *xh, float rstd,
                                               float *out, unsigned lane, int valid)
{
    float mt = hw_sum(hh, t, lane) / (float)h;
    float mxt = hw_dot(hh, xh, t, lane) / (float)h;
    __syncwarp();
    if (!valid) return;
    for (size_t j = lane; j < h; j += 16) out[j] = rstd * (t[j] - mt - xh[j] * mxt);
}

__global__ void k_ln_gelu_bwd_rows(size_t n, size_t h, const float *g_act, const float *xhat, const float *rstd,
                                   const float *y, const float *scale, float *g_pre)
{
    size_t i = (size_t)blockIdx.x * LN_ROWS_PER_BLOCK + threadIdx.x / 16;
    unsigned lane = threadIdx.x & 15;
    int valid = i < n;
    size_t hh = valid ? h : 0, off = valid ? i * h : 0;
    const float *ga = g_act + off, *xh = xhat + off, *yy = y + off;
    float *gp = g_pre + off;
    for (size_t j = lane; j < hh; j += 16) {
        float gy = ga[j] * be_gelu_grad(yy[j]);
        gp[j] = gy * scale[j];
    }
    __syncwarp();
    hw_ln_jacobian(hh, h, gp, xh, valid ? rstd[i] : 0.0f, gp, lane, valid);
}

void cu_ln_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat, const float *rstd,
                    const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_ln_gelu_bwd_cols<<<(unsigned)((h + 3) / 4), 128, 0, CB(be)->stream>>>(n, h, g_act, xhat, y, g_scale, g_shift);
    MFPO_CUDA_LAUNCHED(CB(be), "ln_gelu_bwd");
    k_ln_gelu_bwd_rows<<<ln_grid(n), LN_BLOCK, 0, CB(be)->stream>>>(n, h, g_act, xhat, rstd, y, scale, g_pre);
    MFPO_CUDA_LAUNCHED(CB(be), "ln_gelu_bwd");
}

__global__ void k_ln_gelu_jvp(size_t n, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                              const float *y, const float *scale, float *t_act)
{
    size_t i = (size_t)blockIdx.x * LN_ROWS_PER_BLOCK + threadIdx.x / 16;
    unsigned lane = threadIdx.x & 15;
    int valid = i < n;
    size_t hh = valid ? h : 0, off = valid ? i * h : 0;
    const float *tp = t_pre + off, *xh = xhat + off, *yy = y + off;
    float *ta = t_act + off;
    hw_ln_jacobian(hh, h, tp, xh, valid ? rstd[i] : 0.0f, ta, lane, valid);
    if (!valid) return;
    /* each lane rereads only the elements it wrote itself */
    for (size_t j = lane; j < h; j += 16) ta[j] = be_gelu_grad(yy[j]) * scale[j] * ta[j];
}

void cu_ln_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                    const float *y, const float *scale, float *t_act)
{
    cu_use_device(CB(be));
    if (!n || !h) return;
    k_ln_gelu_jvp<<<ln_grid(n), LN_BLOCK, 0, CB(be)->stream>>>(n, h, t_pre, xhat, rstd, y, scale, t_act);
    MFPO_CUDA_LAUNCHED(CB(be), "ln_gelu_jvp");
}

/* ------------------------------------------------------------------ optimizers */

/* The bias corrections are read from backend memory at execution time (a recorded update
 * replays with the step uploaded anew); one thread per block computes them. */
__global__ void k_adam(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2, float eps,
                       const uint64_t *step)
{
    __shared__ float corr[2];
    if (threadIdx.x == 0) {
        float s = (float)*step;
        corr[0] = 1.0f / (1.0f - cr_powf(b1, s));
        corr[1] = 1.0f / (1.0f - cr_powf(b2, s));
    }
    __syncthreads();
    float c1 = corr[0], c2 = corr[1];
    GRID_STRIDE(i, n)
    {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi * c1) / (sqrtf(vi * c2) + eps);
    }
}

void cu_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
             float eps, const uint64_t *step)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_adam<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, p, g, m, v, lr, b1, b2, eps, step);
    MFPO_CUDA_LAUNCHED(CB(be), "adam");
}

__global__ void k_polyak(size_t n, float *target, const float *online, float tau)
{
    GRID_STRIDE(i, n) target[i] = tau * online[i] + (1.0f - tau) * target[i];
}

void cu_polyak(be_backend *be, size_t n, float *target, const float *online, float tau)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_polyak<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, target, online, tau);
    MFPO_CUDA_LAUNCHED(CB(be), "polyak");
}

/* ------------------------------------------------------------------ all_finite */

__global__ void k_any_nonfinite(const float *x, size_t n, int *flag)
{
    int bad = 0;
    GRID_STRIDE(i, n) bad |= (x[i] - x[i]) != 0.0f;                            /* NaN for inf and NaN, as on the CPU */
    if (__any_sync(MFPO_FULL_MASK, bad) && (threadIdx.x & 31) == 0) *flag = 1; /* only ever 1: order-free */
}

int cu_all_finite(be_backend *be, const float *x, size_t n)
{
    cu_use_device(CB(be));
    cuda_backend *cb = CB(be);
    if (cb->failed) return 0;
    cudaError_t e = cudaMemsetAsync(cb->d_flag, 0, sizeof(int), cb->stream);
    cu_note(cb, e, "all_finite");
    if (n) {
        k_any_nonfinite<<<cu_grid(n, BLOCK), BLOCK, 0, cb->stream>>>(x, n, cb->d_flag);
        MFPO_CUDA_LAUNCHED(cb, "all_finite");
    }
    e = cudaMemcpyAsync(cb->h_flag, cb->d_flag, sizeof(int), cudaMemcpyDeviceToHost, cb->stream);
    cu_note(cb, e, "all_finite");
    e = cudaStreamSynchronize(cb->stream);
    cu_note(cb, e, "all_finite");
    return !cb->failed && *cb->h_flag == 0;
}
