/*
 * The CUDA implementation of lib/algo's MFPO row kernels (lib/algo/kernels.h; docs/algorithm.md §3–§4), offered
 * by the module's `extension` op: one thread per row or per element, each calling the shared row
 * function of lib/algo/kernels_mfpo.h, so that the
 * formulas and their evaluation order are those of the CPU backend. Losses and means are reduced
 * deterministically (cuda_internal.cuh: block_reduce_store).
 */
#include "cuda_internal.cuh"
extern "C" {
#include "../lib/algo/kernels.h"
}
#include "../lib/algo/kernels_mfpo.h"

#define BLOCK 256
#define RED_BLOCK 64
#define GRID_STRIDE(i, n)                                                                                              \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* ------------------------------------------------------------------ sampler (§3) */

__global__ void k_sampler_init(size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp)
{
    GRID_STRIDE(i, n)
    {
        for (size_t c = 0; c < a; c++) z[i * ldz + c] = eps[i * a + c];
        if (logp) logp[i] = algo_log_std_normal(a, eps + i * a);
    }
}

static void cu_sampler_init(be_backend *be, size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_sampler_init<<<cu_grid(n, 128), 128, 0, CB(be)->stream>>>(n, a, eps, z, ldz, logp);
    MFPO_CUDA_LAUNCHED(CB(be), "sampler_init");
}

__global__ void k_sampler_step(size_t n, size_t a, float h, const float *u, float *z, size_t ldz, const float *d,
                               float *logp)
{
    GRID_STRIDE(e, n * a)
    {
        size_t i = e / a, c = e % a;
        z[i * ldz + c] -= h * u[e];
        if (c == 0 && d && logp) logp[i] += h * d[i];
    }
}

static void cu_sampler_step(be_backend *be, size_t n, size_t a, float h, const float *u, float *z, size_t ldz,
                            const float *d, float *logp)
{
    cu_use_device(CB(be));
    if (!n || !a) return;
    k_sampler_step<<<cu_grid(n * a, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, a, h, u, z, ldz, d, logp);
    MFPO_CUDA_LAUNCHED(CB(be), "sampler_step");
}

__global__ void k_clip_actions(size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo)
{
    GRID_STRIDE(e, n * a)
    {
        size_t i = e / a, c = e % a;
        out[i * ldo + c] = be_clampf(z[i * ldz + c], -1.0f, 1.0f);
    }
}

static void cu_clip_actions(be_backend *be, size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo)
{
    cu_use_device(CB(be));
    if (!n || !a) return;
    k_clip_actions<<<cu_grid(n * a, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, a, z, ldz, out, ldo);
    MFPO_CUDA_LAUNCHED(CB(be), "clip_actions");
}

/* ------------------------------------------------------------------ (b), (c): times, noisy points, proposals */

__global__ void k_flow_times(size_t n, const float *normals, float mean, float std, size_t flow_rows, float *t,
                             float *r, float *h)
{
    GRID_STRIDE(i, n) algo_flow_times_row(normals + 2 * i, mean, std, i < flow_rows, t + i, r + i, h + i);
}

static void cu_flow_times(be_backend *be, size_t n, const float *normals, float mean, float std, size_t flow_rows,
                          float *t, float *r, float *h)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_flow_times<<<cu_grid(n, 128), 128, 0, CB(be)->stream>>>(n, normals, mean, std, flow_rows, t, r, h);
    MFPO_CUDA_LAUNCHED(CB(be), "flow_times");
}

__global__ void k_noisy_point(size_t n, size_t a, const float *act, size_t lda, const float *t, const float *eps,
                              float *z_t)
{
    GRID_STRIDE(e, n * a)
    {
        size_t i = e / a, c = e % a;
        z_t[e] = (1.0f - t[i]) * act[i * lda + c] + t[i] * eps[e];
    }
}

static void cu_noisy_point(be_backend *be, size_t n, size_t a, const float *act, size_t lda, const float *t,
                           const float *eps, float *z_t)
{
    cu_use_device(CB(be));
    if (!n || !a) return;
    k_noisy_point<<<cu_grid(n * a, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, a, act, lda, t, eps, z_t);
    MFPO_CUDA_LAUNCHED(CB(be), "noisy_point");
}

__global__ void k_gaussian_proposal(size_t n, size_t k, size_t a, const float *z_t, const float *t,
                                    const float *uniforms, float *noise, float *out, size_t ldo)
{
    GRID_STRIDE(e, n * k * a)
    {
        size_t c = e % a, row = e / a, i = row / k; /* row = i k + j */
        out[row * ldo + c] = algo_gaussian_candidate(z_t[i * a + c], t[i], uniforms[e], noise + e);
    }
}

static void cu_gaussian_proposal(be_backend *be, size_t n, size_t k, size_t a, const float *z_t, const float *t,
                                 const float *uniforms, float *noise, float *out, size_t ldo)
{
    cu_use_device(CB(be));
    if (!n || !k || !a) return;
    k_gaussian_proposal<<<cu_grid(n * k * a, 128), 128, 0, CB(be)->stream>>>(n, k, a, z_t, t, uniforms, noise, out,
                                                                             ldo);
    MFPO_CUDA_LAUNCHED(CB(be), "gaussian_proposal");
}

/* ------------------------------------------------------------------ critics */

__global__ void k_expected_q(size_t n, size_t atoms, float v_min, float v_max, const float *logits, float *q)
{
    GRID_STRIDE(i, n) q[i] = algo_expected_q_row(atoms, v_min, v_max, logits + i * atoms);
}

static void cu_expected_q(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits,
                          float *q)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_expected_q<<<cu_grid(n, 64), 64, 0, CB(be)->stream>>>(n, atoms, v_min, v_max, logits, q);
    MFPO_CUDA_LAUNCHED(CB(be), "expected_q");
}

__global__ void k_combine_q(size_t n, const float *q1, const float *q2, int clipped, float *out)
{
    GRID_STRIDE(i, n) out[i] = clipped ? (q1[i] < q2[i] ? q1[i] : q2[i]) : 0.5f * (q1[i] + q2[i]);
}

static void cu_combine_q(be_backend *be, size_t n, const float *q1, const float *q2, int clipped, float *out)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_combine_q<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(n, q1, q2, clipped, out);
    MFPO_CUDA_LAUNCHED(CB(be), "combine_q");
}

/* One row per thread; each thread's scratch row (atoms floats) lives in shared memory. */
__global__ void k_c51_target(size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                             const float *logits2, const float *reward, const float *mask, const float *next_logp,
                             const float *log_alpha, float gamma, int clipped, float *target)
{
    extern __shared__ float c51_scratch[];
    float alpha = cr_expf(log_alpha[0]);
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    algo_c51_target_row(atoms, v_min, v_max, logits1 + i * atoms, logits2 + i * atoms, reward[i], mask[i], next_logp[i],
                        alpha, gamma, clipped, target + i * atoms, c51_scratch + threadIdx.x * atoms);
}

static void cu_c51_target(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                          const float *logits2, const float *reward, const float *mask, const float *next_logp,
                          const float *log_alpha, float gamma, int clipped, float *target)
{
    cu_use_device(CB(be));
    if (!n || !atoms) return;
    /* at most 32 KiB of scratch per block (atoms <= 1024 is enforced at configuration time) */
    size_t rows = 8192 / atoms;
    if (rows > 64) rows = 64;
    if (rows < 1) rows = 1;
    size_t grid = (n + rows - 1) / rows;
    k_c51_target<<<(unsigned)grid, (unsigned)rows, rows * atoms * sizeof(float), CB(be)->stream>>>(
        n, atoms, v_min, v_max, logits1, logits2, reward, mask, next_logp, log_alpha, gamma, clipped, target);
    MFPO_CUDA_LAUNCHED(CB(be), "c51_target");
}

/* Row losses summed in double by a fixed tree; *loss = mean (the CPU sums the same doubles in row
 * order: equal after rounding to float in all but vanishingly rare cases). */
__global__ void k_softmax_xent(size_t n, size_t atoms, const float *logits, const float *target, float *grad,
                               float *loss, double *partials, unsigned *counter)
{
    double acc = 0.0;
    float gscale = 1.0f / (float)n;
    GRID_STRIDE(i, n)
    acc += algo_xent_row(atoms, logits + i * atoms, target + i * atoms, gscale, grad + i * atoms);
    block_reduce_store<RED_BLOCK>(acc, partials, counter, loss, (double)n);
}

static void cu_softmax_xent(be_backend *be, size_t n, size_t atoms, const float *logits, const float *target,
                            float *grad, float *loss)
{
    cu_use_device(CB(be));
    cuda_backend *cb = CB(be);
    k_softmax_xent<<<cu_reduce_grid(n, RED_BLOCK), RED_BLOCK, 0, cb->stream>>>(n, atoms, logits, target, grad, loss,
                                                                               cb->partials, cb->counter);
    MFPO_CUDA_LAUNCHED(cb, "softmax_xent");
}

/* ------------------------------------------------------------------ (b) SNIS and the MeanFlow loss */

__global__ void k_snis(size_t n, size_t k1, size_t k2, size_t a, const float *q_pol, const float *q_gauss,
                       const float *pol_a, const float *pol_logp, const float *gauss_a, const float *z_t,
                       const float *t, const float *log_alpha, float *log_w, float *w, float *ess_pol, float *ess_gauss,
                       float *v_hat)
{
    float alpha = cr_expf(log_alpha[0]);
    GRID_STRIDE(i, n)
    algo_snis_row(k1, k2, a, q_pol + i * k1, q_gauss + i * k2, pol_a + i * k1 * a, pol_logp + i * k1,
                  gauss_a + i * k2 * a, z_t + i * a, t[i], alpha, log_w + i * (k1 + k2), w + i * (k1 + k2), ess_pol + i,
                  ess_gauss + i, v_hat + i * a);
}

static void cu_snis(be_backend *be, size_t n, size_t k1, size_t k2, size_t a, const float *q_pol, const float *q_gauss,
                    const float *pol_a, const float *pol_logp, const float *gauss_a, const float *z_t, const float *t,
                    const float *log_alpha, float *log_w, float *w, float *ess_pol, float *ess_gauss, float *v_hat)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_snis<<<cu_grid(n, 32), 32, 0, CB(be)->stream>>>(n, k1, k2, a, q_pol, q_gauss, pol_a, pol_logp, gauss_a, z_t, t,
                                                      log_alpha, log_w, w, ess_pol, ess_gauss, v_hat);
    MFPO_CUDA_LAUNCHED(CB(be), "snis");
}

__global__ void k_meanflow_loss(size_t n, size_t w, const float *pred, const float *dot, const float *vel,
                                const float *h, float *tgt, float *grad, float *loss, float gs, double *partials,
                                unsigned *counter)
{
    double acc = 0.0;
    GRID_STRIDE(e, n * w)
    {
        float hc = be_clampf(h[e / w], 0.0f, 1.0f);
        float tg = vel[e] - hc * dot[e];
        float diff = pred[e] - tg;
        tgt[e] = tg;
        grad[e] = gs * diff;
        acc += (double)diff * diff;
    }
    block_reduce_store<BLOCK>(acc, partials, counter, loss, (double)(n * w));
}

static void cu_meanflow_loss(be_backend *be, size_t n, size_t w, const float *pred, const float *dot, const float *vel,
                             const float *h, float *tgt, float *grad, float *loss)
{
    cu_use_device(CB(be));
    cuda_backend *cb = CB(be);
    float gs = 2.0f / (float)(n * w);
    k_meanflow_loss<<<cu_reduce_grid(n * w, BLOCK * 4), BLOCK, 0, cb->stream>>>(n, w, pred, dot, vel, h, tgt, grad,
                                                                                loss, gs, cb->partials, cb->counter);
    MFPO_CUDA_LAUNCHED(cb, "meanflow_loss");
}

/* ------------------------------------------------------------------ (c), (d), reductions, selection */

__global__ void k_row_dot(size_t n, size_t a, const float *e, const float *jv, float scale, float *acc, int accumulate)
{
    GRID_STRIDE(i, n)
    {
        float s = 0.0f;
        for (size_t c = 0; c < a; c++) s += e[i * a + c] * jv[i * a + c];
        acc[i] = (accumulate ? acc[i] : 0.0f) + scale * s;
    }
}

static void cu_row_dot(be_backend *be, size_t n, size_t a, const float *e, const float *jv, float scale, float *acc,
                       int accumulate)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_row_dot<<<cu_grid(n, 128), 128, 0, CB(be)->stream>>>(n, a, e, jv, scale, acc, accumulate);
    MFPO_CUDA_LAUNCHED(CB(be), "row_dot");
}

__global__ void k_mean(size_t n, const float *x, float *out, double *partials, unsigned *counter)
{
    double acc = 0.0;
    GRID_STRIDE(i, n) acc += x[i];
    block_reduce_store<BLOCK>(acc, partials, counter, out, (double)n);
}

static void cu_mean(be_backend *be, size_t n, const float *x, float *out)
{
    cu_use_device(CB(be));
    cuda_backend *cb = CB(be);
    k_mean<<<cu_reduce_grid(n, BLOCK * 4), BLOCK, 0, cb->stream>>>(n, x, out, cb->partials, cb->counter);
    MFPO_CUDA_LAUNCHED(cb, "mean");
}

__global__ void k_temperature_grad(const float *mean_logp, const float *log_alpha, float target_entropy, float *loss,
                                   float *grad)
{
    float alpha = cr_expf(log_alpha[0]);
    float l = alpha * (-mean_logp[0] - target_entropy);
    *loss = l;
    *grad = l; /* d/d log_alpha of exp(log_alpha) * c is the same expression */
}

static void cu_temperature_grad(be_backend *be, const float *mean_logp, const float *log_alpha, float target_entropy,
                                float *loss, float *grad)
{
    cu_use_device(CB(be));
    k_temperature_grad<<<1, 1, 0, CB(be)->stream>>>(mean_logp, log_alpha, target_entropy, loss, grad);
    MFPO_CUDA_LAUNCHED(CB(be), "temperature_grad");
}

__global__ void k_select_best(size_t n, size_t k, size_t a, const float *q, const float *cand, size_t ldc, float *out)
{
    GRID_STRIDE(i, n)
    {
        size_t best = 0;
        for (size_t j = 1; j < k; j++)
            if (q[i * k + j] > q[i * k + best]) best = j;
        for (size_t c = 0; c < a; c++) out[i * a + c] = cand[(i * k + best) * ldc + c];
    }
}

static void cu_select_best(be_backend *be, size_t n, size_t k, size_t a, const float *q, const float *cand, size_t ldc,
                           float *out)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_select_best<<<cu_grid(n, 64), 64, 0, CB(be)->stream>>>(n, k, a, q, cand, ldc, out);
    MFPO_CUDA_LAUNCHED(CB(be), "select_best");
}

static const algo_kernels cu_kernels_table = {
    cu_sampler_init, cu_sampler_step, cu_clip_actions,     cu_flow_times,   cu_noisy_point, cu_gaussian_proposal,
    cu_expected_q,   cu_combine_q,    cu_c51_target,       cu_softmax_xent, cu_snis,        cu_meanflow_loss,
    cu_row_dot,      cu_mean,         cu_temperature_grad, cu_select_best,
};

const void *cu_mfpo_kernels(void)
{
    return &cu_kernels_table;
}
