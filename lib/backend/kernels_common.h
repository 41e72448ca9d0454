/*
 * The per-element and per-row math of every backend, written once.
 *
 * This header is included by the CPU backend (plain C11) and by the CUDA module (nvcc), so that
 * both compute the same formulas in the same order: the CPU loops over rows, CUDA maps rows to
 * threads. Nothing here allocates or knows about buffers' ownership.
 */
#ifndef MFPO_KERNELS_COMMON_H
#define MFPO_KERNELS_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <Random123/philox.h>

#ifdef __CUDACC__
#define MFPO_HD __host__ __device__ static inline
#elif defined(__GNUC__)
/* always inlined, so that each CPU clone (AVX-512, AVX2, baseline) gets its own vectorized copy */
#define MFPO_HD static inline __attribute__((always_inline))
#else
#define MFPO_HD static inline
#endif

#define MFPO_PI 3.14159265358979323846
#define MFPO_LN_EPS 1e-6f
/* Guard of every division by t or 1 - t in §4b/§4c (docs/algorithm.md leaves the value to us): both are
 * clamped to at least this value inside divisions only. */
#define MFPO_T_EPS 1e-5f

/* ---------------------------------------------------------------- exp
 *
 * The library's own float exp (Cody-Waite reduction and the Cephes minimax polynomial, relative
 * error about 2e-7): libm's expf/tanhf are calls the compiler cannot vectorize, and they made
 * GELU and softmax the most expensive part of an update. Written with plain arithmetic and
 * selects only, so loops over it vectorize, and the CUDA module computes bit-identical values.
 * NaN propagates; +-inf saturate to exp(88) and exp(-87).
 */
MFPO_HD float be_expf(float x)
{
    union {
        float f;
        int32_t i;
    } t, sc;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    xc = x == x ? xc : 0.0f;
    t.f = xc * 1.44269504088896341f + shifter;
    float k = t.f - shifter;
    float r = xc - k * 0.693359375f - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    sc.i = (t.i - 0x4B400000 + 127) * (1 << 23); /* 2^k from the integer in t's mantissa */
    return x == x ? p * sc.f : x;
}

/* ---------------------------------------------------------------- GELU (tanh form, docs/algorithm.md §2)
 *
 * 0.5 x (1 + tanh(y)) = x sigmoid(2 y) with y = sqrt(2/pi) (x + 0.044715 x^3): the same function,
 * computed with one exp and one division. */

MFPO_HD float be_gelu(float x)
{
    const float k2 = 2.0f * 0.7978845608028654f; /* 2 sqrt(2/pi) */
    float y2 = k2 * (x + 0.044715f * x * x * x);
    return x / (1.0f + be_expf(-y2));
}

MFPO_HD float be_gelu_grad(float x)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    float x2 = x * x;
    float s = 1.0f / (1.0f + be_expf(-k2 * (x + 0.044715f * x2 * x)));
    float dy2 = k2 * (1.0f + 3.0f * 0.044715f * x2);
    return s + x * s * (1.0f - s) * dy2;
}

/* ---------------------------------------------------------------- Philox draws */

/* Block `block` of stream `stream` under key `seed`: four 32-bit words. */
MFPO_HD philox4x32_ctr_t be_philox_block(uint64_t seed, uint64_t stream, uint64_t block)
{
    philox4x32_ctr_t c = { { (uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream, (uint32_t)(stream >> 32) } };
    philox4x32_key_t k = { { (uint32_t)seed, (uint32_t)(seed >> 32) } };
    return philox4x32(c, k);
}

/* A 32-bit word to a double strictly inside (0, 1): (x + 0.5) / 2^32. */
MFPO_HD double be_u32_to_open01(uint32_t x)
{
    return ((double)x + 0.5) * (1.0 / 4294967296.0);
}

/* Element i of a uniform fill: lane i % 4 of block i / 4, rounded to float (stays in (0, 1)). */
MFPO_HD float be_uniform_at(uint64_t seed, uint64_t stream, uint64_t i)
{
    philox4x32_ctr_t r = be_philox_block(seed, stream, i >> 2);
    float u = (float)be_u32_to_open01(r.v[i & 3]);
    /* rounding to float can reach 1.0f; keep the interval open */
    return u < 1.0f ? u : 0.99999994f;
}

/* Element i of a normal fill: Box-Muller on lanes (0,1) or (2,3) of block i / 4, in double so that
 * host and device agree to the last float bit in practice. */
MFPO_HD float be_normal_at(uint64_t seed, uint64_t stream, uint64_t i)
{
    philox4x32_ctr_t r = be_philox_block(seed, stream, i >> 2);
    unsigned lane = (unsigned)(i & 3);
    unsigned pair = lane >> 1;
    double u0 = be_u32_to_open01(r.v[2 * pair]);
    double u1 = be_u32_to_open01(r.v[2 * pair + 1]);
    double rad = sqrt(-2.0 * log(u0));
    double ang = 2.0 * MFPO_PI * u1;
    return (float)((lane & 1) ? rad * sin(ang) : rad * cos(ang));
}

/* ---------------------------------------------------------------- normal CDF and its inverse */

MFPO_HD double be_normal_cdf(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

/* Inverse normal CDF: Acklam's rational approximation refined by one Halley step on erfc,
 * accurate to about 1e-15 relative over (0, 1). */
MFPO_HD double be_normal_quantile(double p)
{
    const double a0 = -3.969683028665376e+01, a1 = 2.209460984245205e+02, a2 = -2.759285104469687e+02,
                 a3 = 1.383577518672690e+02, a4 = -3.066479806614716e+01, a5 = 2.506628277459239e+00;
    const double b0 = -5.447609879822406e+01, b1 = 1.615858368580409e+02, b2 = -1.556989798598866e+02,
                 b3 = 6.680131188771972e+01, b4 = -1.328068155288572e+01;
    const double c0 = -7.784894002430293e-03, c1 = -3.223964580411365e-01, c2 = -2.400758277161838e+00,
                 c3 = -2.549732539343734e+00, c4 = 4.374664141464968e+00, c5 = 2.938163982698783e+00;
    const double d0 = 7.784695709041462e-03, d1 = 3.224671290700398e-01, d2 = 2.445134137142996e+00,
                 d3 = 3.754408661907416e+00;
    const double p_low = 0.02425;
    double x;
    if (p <= 0.0) return -INFINITY;
    if (p >= 1.0) return INFINITY;
    if (p < p_low) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0);
    } else if (p <= 1.0 - p_low) {
        double q = p - 0.5, r = q * q;
        x = (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q /
            (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1.0);
    } else {
        double q = sqrt(-2.0 * log1p(-p));
        x = -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
            ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0);
    }
    {
        double e = be_normal_cdf(x) - p;
        double u = e * 2.50662827463100050242 * exp(0.5 * x * x);
        x = x - u / (1.0 + 0.5 * x * u);
    }
    return x;
}

/* A standard normal truncated to [lo, hi] by inversion of the uniform u in (0, 1). Works on the
 * lower tail (reflecting when the interval lies above 0) so that CDF values keep their precision. */
MFPO_HD double be_truncated_normal(double lo, double hi, double u)
{
    int flip = lo > 0.0;
    double l = flip ? -hi : lo, h = flip ? -lo : hi;
    double pl = be_normal_cdf(l), ph = be_normal_cdf(h);
    double x = be_normal_quantile(pl + u * (ph - pl));
    if (!(x >= l)) x = l; /* also catches NaN from an empty double interval */
    if (x > h) x = h;
    return flip ? -x : x;
}

/* ---------------------------------------------------------------- clamps used in §4 */

MFPO_HD float be_clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

MFPO_HD float be_sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* ---------------------------------------------------------------- LayerNorm + GELU rows */

/* Sums in 16 interleaved partial sums: a fixed summation order (the same on every backend) that
 * the compiler can vectorize without -ffast-math. */
#define MFPO_LANES 16

MFPO_HD float be_lane_total(const float *p, float tail)
{
    float s = tail;
    for (int k = 0; k < MFPO_LANES; k++) s += p[k];
    return s;
}

/* sum_j x_j */
MFPO_HD float be_sum(size_t n, const float *x)
{
    float p[MFPO_LANES] = { 0 }, tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++) p[k] += x[j + k];
    for (; j < n; j++) tail += x[j];
    return be_lane_total(p, tail);
}

/* sum_j (x_j - c)^2 */
MFPO_HD float be_sum_sq_dev(size_t n, const float *x, float c)
{
    float p[MFPO_LANES] = { 0 }, tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++) p[k] += (x[j + k] - c) * (x[j + k] - c);
    for (; j < n; j++) tail += (x[j] - c) * (x[j] - c);
    return be_lane_total(p, tail);
}

/* sum_j a_j b_j */
MFPO_HD float be_dot(size_t n, const float *a, const float *b)
{
    float p[MFPO_LANES] = { 0 }, tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++) p[k] += a[j + k] * b[j + k];
    for (; j < n; j++) tail += a[j] * b[j];
    return be_lane_total(p, tail);
}

/* One row of the fused forward: pre += add; LN; GELU. With xhat (training) also stores xhat, the
 * LN output y and rstd; without (inference) act may alias pre. */
MFPO_HD void be_ln_gelu_row(size_t h, float *pre, const float *add, const float *scale, const float *shift, float *xhat,
                            float *rstd_out, float *y, float *act)
{
    size_t j;
    if (add)
        for (j = 0; j < h; j++) pre[j] += add[j];
    float mean = be_sum(h, pre) / (float)h;
    float var = be_sum_sq_dev(h, pre, mean) / (float)h;
    float rstd = 1.0f / sqrtf(var + MFPO_LN_EPS);
    if (rstd_out) *rstd_out = rstd;
    if (xhat && y) {
        for (j = 0; j < h; j++) xhat[j] = (pre[j] - mean) * rstd;
        for (j = 0; j < h; j++) y[j] = scale[j] * xhat[j] + shift[j];
        for (j = 0; j < h; j++) act[j] = be_gelu(y[j]);
    } else {
        for (j = 0; j < h; j++) act[j] = be_gelu(scale[j] * ((pre[j] - mean) * rstd) + shift[j]);
    }
}

/* rstd (t - mean(t) - xhat mean(xhat t)): the LayerNorm Jacobian applied to t, which is also its
 * transpose applied to t (the Jacobian is symmetric), so backward and JVP share it. out may alias t. */
MFPO_HD void be_ln_apply_jacobian(size_t h, const float *t, const float *xhat, float rstd, float *out)
{
    float mt = be_sum(h, t) / (float)h;
    float mxt = be_dot(h, xhat, t) / (float)h;
    for (size_t j = 0; j < h; j++) out[j] = rstd * (t[j] - mt - xhat[j] * mxt);
}

#endif
