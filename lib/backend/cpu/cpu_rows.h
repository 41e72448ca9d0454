/*
 * The CPU backend's hot row kernels, written with the explicit vectors of simd.h: the fused
 * LayerNorm + GELU rows (forward, backward, JVP), the GELU passes and the C51 expectation.
 *
 * Each function is the vector form of a scalar row function of kernels_common.h (or, for the
 * softmax mean, lib/algo/kernels_mfpo.h; named beside it) and returns bit-identical results: the same operations in the
 * same order per lane, the same 16-lane partial sums, and the scalar twin on the tail. The CUDA
 * module keeps using the scalar forms. Included by cpu_kernels.c only, once per instruction set
 * (SIMD_BYTES).
 */
#ifndef MFPO_CPU_ROWS_H
#define MFPO_CPU_ROWS_H

#include <math.h>

#include "../kernels_common.h"
#include "simd.h"

/* x[j] += a[j] */
SIMD_INLINE void rows_add(size_t n, float *x, const float *a)
{
    size_t j = 0;
    for (; j + SIMD_W <= n; j += SIMD_W) vf_store(x + j, vf_load(x + j) + vf_load(a + j));
    for (; j < n; j++) x[j] += a[j];
}

/* be_ln_gelu_row: pre += add; LayerNorm; GELU (act may alias pre when xhat is NULL) */
SIMD_INLINE void rows_ln_gelu(size_t h, float *pre, const float *add, const float *scale, const float *shift,
                              float *xhat, float *rstd_out, float *y, float *act)
{
    size_t j = 0;
    if (add) rows_add(h, pre, add);
    float mean = vf_sum(h, pre) / (float)h;
    float var = vf_sum_sq_dev(h, pre, mean) / (float)h;
    float rstd = 1.0f / sqrtf(var + MFPO_LN_EPS);
    if (rstd_out) *rstd_out = rstd;
    if (xhat && y) {
        for (; j + SIMD_W <= h; j += SIMD_W) {
            vf xh = (vf_load(pre + j) - mean) * rstd;
            vf yy = vf_load(scale + j) * xh + vf_load(shift + j);
            vf_store(xhat + j, xh);
            vf_store(y + j, yy);
            vf_store(act + j, vf_gelu(yy));
        }
        for (; j < h; j++) {
            xhat[j] = (pre[j] - mean) * rstd;
            y[j] = scale[j] * xhat[j] + shift[j];
            act[j] = be_gelu(y[j]);
        }
    } else {
        for (; j + SIMD_W <= h; j += SIMD_W)
            vf_store(act + j, vf_gelu(vf_load(scale + j) * ((vf_load(pre + j) - mean) * rstd) + vf_load(shift + j)));
        for (; j < h; j++) act[j] = be_gelu(scale[j] * ((pre[j] - mean) * rstd) + shift[j]);
    }
}

/* be_ln_apply_jacobian: out = rstd (t - mean(t) - xhat mean(xhat t)); out may alias t */
SIMD_INLINE void rows_ln_jacobian(size_t h, const float *t, const float *xhat, float rstd, float *out)
{
    float mt = vf_sum(h, t) / (float)h;
    float mxt = vf_dot(h, xhat, t) / (float)h;
    size_t j = 0;
    for (; j + SIMD_W <= h; j += SIMD_W) vf_store(out + j, rstd * (vf_load(t + j) - mt - vf_load(xhat + j) * mxt));
    for (; j < h; j++) out[j] = rstd * (t[j] - mt - xhat[j] * mxt);
}

/* One row of the LayerNorm + GELU backward: g_pre, and the scale/shift gradients accumulated */
SIMD_INLINE void rows_ln_gelu_bwd(size_t h, const float *ga, const float *xh, float rstd, const float *yy,
                                  const float *scale, float *gp, float *g_scale, float *g_shift)
{
    size_t j = 0;
    for (; j + SIMD_W <= h; j += SIMD_W) {
        vf gy = vf_load(ga + j) * vf_gelu_grad(vf_load(yy + j));
        vf_store(g_scale + j, vf_load(g_scale + j) + gy * vf_load(xh + j));
        vf_store(g_shift + j, vf_load(g_shift + j) + gy);
        vf_store(gp + j, gy * vf_load(scale + j));
    }
    for (; j < h; j++) {
        float gy = ga[j] * be_gelu_grad(yy[j]);
        g_scale[j] += gy * xh[j];
        g_shift[j] += gy;
        gp[j] = gy * scale[j];
    }
    rows_ln_jacobian(h, gp, xh, rstd, gp);
}

/* One row of the LayerNorm + GELU JVP */
SIMD_INLINE void rows_ln_gelu_jvp(size_t h, const float *t_pre, const float *xh, float rstd, const float *yy,
                                  const float *scale, float *ta)
{
    size_t j = 0;
    rows_ln_jacobian(h, t_pre, xh, rstd, ta);
    for (; j + SIMD_W <= h; j += SIMD_W)
        vf_store(ta + j, vf_gelu_grad(vf_load(yy + j)) * vf_load(scale + j) * vf_load(ta + j));
    for (; j < h; j++) ta[j] = be_gelu_grad(yy[j]) * scale[j] * ta[j];
}

/* out[i] = g[i] * gelu'(x[i]) */
SIMD_INLINE void rows_gelu_grad_mul(size_t n, const float *g, const float *x, float *out)
{
    size_t i = 0;
    for (; i + SIMD_W <= n; i += SIMD_W) vf_store(out + i, vf_load(g + i) * vf_gelu_grad(vf_load(x + i)));
    for (; i < n; i++) out[i] = g[i] * be_gelu_grad(x[i]);
}

/* pre += bias; act = GELU(pre) */
SIMD_INLINE void rows_bias_gelu(size_t h, float *pre, const float *bias, float *act)
{
    size_t j = 0;
    for (; j + SIMD_W <= h; j += SIMD_W) {
        vf v = vf_load(pre + j) + vf_load(bias + j);
        vf_store(pre + j, v);
        vf_store(act + j, vf_gelu(v));
    }
    for (; j < h; j++) {
        float v = pre[j] + bias[j];
        pre[j] = v;
        act[j] = be_gelu(v);
    }
}

/* Sum, in order, of f(l[j] - c) * atom(j) (or of f(l[j] - c) when atoms == 0) over the r < 16
 * tail elements starting at j: the terms are computed SIMD_W at a time and added one by one, as
 * the scalar tail loop adds them. */
SIMD_INLINE float rows_exp_tail(const float *l, size_t j, size_t r, float c, size_t atoms, float v_min, float v_max)
{
    float tail = 0.0f;
    for (size_t o = 0; o < r; o += SIMD_W) {
        size_t len = r - o < SIMD_W ? r - o : SIMD_W;
        vf term = vf_exp(vf_load_part(l + j + o, len) - c);
        if (atoms) term *= v_min + (v_max - v_min) * vf_iota((float)(j + o)) / (float)(atoms - 1);
        for (size_t k = 0; k < len; k++) tail += term[k];
    }
    return tail;
}

/* The row's max and the sum of exp(l - max), as algo_softmax_stats (lib/algo/kernels_mfpo.h) */
SIMD_INLINE void rows_softmax_stats(size_t n, const float *l, float *mx, float *sum)
{
    lanes16 pm, ps = lanes_zero();
    float m = l[0];
    size_t j = 0;
    for (int q = 0; q < SIMD_NV; q++) pm.r[q] = vf_splat(l[0]);
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) {
            vf v = vf_load(l + j + (size_t)q * SIMD_W);
            /* v > pm; a NaN logit may win a lane here where the scalar code skips it, which changes
             * nothing: the row's outputs are NaN either way (exp(NaN - m) enters every sum) */
            pm.r[q] = vf_select(vf_less(pm.r[q], v), v, pm.r[q]);
        }
    for (size_t i = j; i < n; i++) m = l[i] > m ? l[i] : m;
    for (int q = 0; q < SIMD_NV; q++)
        for (int k = 0; k < SIMD_W; k++) m = pm.r[q][k] > m ? pm.r[q][k] : m;
    j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) ps.r[q] += vf_exp(vf_load(l + j + (size_t)q * SIMD_W) - m);
    *mx = m;
    *sum = lanes_total(&ps, rows_exp_tail(l, j, n - j, m, 0, 0.0f, 0.0f));
}

/* sum_k softmax(l)_k c_k over the evenly spaced support c_k = v_min + (v_max - v_min) k / (atoms - 1):
 * the mean of a categorical distribution given by its logits; bit-identical to lib/algo's scalar
 * algo_expected_q_row (the C51 expectation, docs/algorithm.md §2), which tests/engine/test_simd.c checks */
SIMD_INLINE float rows_softmax_mean(size_t atoms, float v_min, float v_max, const float *l)
{
    float mx, sum;
    lanes16 p = lanes_zero();
    size_t j = 0;
    rows_softmax_stats(atoms, l, &mx, &sum);
    for (; j + MFPO_LANES <= atoms; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) {
            size_t o = j + (size_t)q * SIMD_W;
            /* the support at the indices o..o+SIMD_W-1 */
            vf atom = v_min + (v_max - v_min) * vf_iota((float)o) / (float)(atoms - 1);
            p.r[q] += vf_exp(vf_load(l + o) - mx) * atom;
        }
    return lanes_total(&p, rows_exp_tail(l, j, atoms - j, mx, atoms, v_min, v_max)) / sum;
}

/* One Adam step on n parameters (the formula of adam_range in cpu_backend.c, lane by lane) */
SIMD_INLINE void rows_adam(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
                           float eps, float c1, float c2)
{
    size_t i = 0;
    for (; i + SIMD_W <= n; i += SIMD_W) {
        vf gi = vf_load(g + i);
        vf mi = b1 * vf_load(m + i) + (1.0f - b1) * gi;
        vf vi = b2 * vf_load(v + i) + (1.0f - b2) * gi * gi;
        vf_store(m + i, mi);
        vf_store(v + i, vi);
        vf_store(p + i, vf_load(p + i) - lr * (mi * c1) / (vf_sqrt(vi * c2) + eps));
    }
    for (; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

/* 1 when every x[i] is finite: x - x is 0 for finite x and NaN for inf or NaN, and a sum of zeros
 * and NaNs is zero only without NaNs, in any order (so 16 lanes may sum independently). */
SIMD_INLINE int rows_all_finite(size_t n, const float *x)
{
    vf acc = vf_splat(0.0f);
    float tail = 0.0f;
    size_t i = 0;
    for (; i + SIMD_W <= n; i += SIMD_W) {
        vf v = vf_load(x + i);
        acc += v - v;
    }
    for (; i < n; i++) tail += x[i] - x[i];
    for (int k = 0; k < SIMD_W; k++) tail += acc[k];
    return tail == 0.0f;
}

#endif
