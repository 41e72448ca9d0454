/*
 * Explicit 16-wide float vectors for the CPU backend's elementwise loops.
 *
 * Why: the loops over mfpo_expf/mfpo_gelu (kernels_common.h) were left to GCC's auto-vectoriser,
 * which vectorised them in the AVX-512 clone and left them scalar in the AVX2 clone (its cost model
 * rejects the integer part of the exponential there); on an AVX2 machine that made LayerNorm +
 * GELU half of an update. GCC/Clang vector extensions state the vector width in the source: a
 * 64-byte vector is one zmm register in the x86-64-v4 clone, two ymm in the v3 clone and four xmm
 * in the baseline one, whatever the cost model thinks.
 *
 * Every function here performs, lane by lane, exactly the IEEE operations of its scalar twin in
 * kernels_common.h / kernels_mfpo.h, in the same order (the library is built as ISO C11, so GCC
 * contracts nothing into FMAs), so results are bit-identical to the scalar code and to the CUDA
 * module. tests/engine/test_simd.c checks that lane by lane, special values included.
 */
#ifndef MFPO_CPU_SIMD_H
#define MFPO_CPU_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../kernels_common.h"

#define SIMD_W 16 /* lanes; equal to MFPO_LANES so that lane sums keep their order */

/* The helpers below are always inlined, so no 64-byte vector ever crosses a call boundary and the
 * "vector return changes the ABI" note GCC gives for the non-AVX-512 clones does not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));

_Static_assert(SIMD_W == MFPO_LANES, "vector lanes must match the scalar lane sums");

#define SIMD_INLINE static inline __attribute__((always_inline))

SIMD_INLINE vf16 vf_load(const float *p)
{
    vf16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

SIMD_INLINE void vf_store(float *p, vf16 v)
{
    memcpy(p, &v, sizeof v);
}

SIMD_INLINE vf16 vf_splat(float x)
{
    return (vf16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

/* mask ? a : b, where mask lanes are all-ones or all-zeros (a vector comparison's result) */
SIMD_INLINE vf16 vf_select(vi16 mask, vf16 a, vf16 b)
{
    return (vf16)(((vi16)a & mask) | ((vi16)b & ~mask));
}

/* sqrtf per lane: IEEE square roots are correctly rounded, so a packed square root equals the
 * scalar one; GCC turns the lane loop into one instruction because the library is built with
 * -fno-math-errno (sqrtf of a negative number would otherwise have to set errno, lane by lane). */
SIMD_INLINE vf16 vf_sqrt(vf16 x)
{
    vf16 r;
    for (int k = 0; k < SIMD_W; k++) r[k] = __builtin_sqrtf(x[k]);
    return r;
}

/* The first n < SIMD_W elements of p, the other lanes zero: the tail of a row in one vector. */
SIMD_INLINE vf16 vf_load_tail(const float *p, size_t n)
{
    vf16 v = vf_splat(0.0f);
    memcpy(&v, p, n * sizeof(float));
    return v;
}

/* mfpo_expf, lane by lane */
SIMD_INLINE vf16 vf_exp(vf16 x)
{
    const vf16 shifter = vf_splat(12582912.0f);
    const vf16 lo = vf_splat(-87.0f), hi = vf_splat(88.0f);
    vi16 is_num = x == x;
    vf16 xc = vf_select(x < lo, lo, vf_select(x > hi, hi, x));
    xc = vf_select(is_num, xc, vf_splat(0.0f));
    vf16 t = xc * 1.44269504088896341f + shifter;
    vf16 k = t - shifter;
    vf16 r = xc - k * 0.693359375f - k * -2.12194440e-4f;
    vf16 p = vf_splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* the scalar code multiplies by 2^23; the exponent field stays in [1, 254], so a shift is the
     * same value and needs no 32-bit multiply (which SSE2 lacks) */
    vi16 sc = ((vi16)t - 0x4B400000 + 127) << 23;
    return vf_select(is_num, p * (vf16)sc, x);
}

/* mfpo_gelu, lane by lane */
SIMD_INLINE vf16 vf_gelu(vf16 x)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    vf16 y2 = k2 * (x + 0.044715f * x * x * x);
    return x / (1.0f + vf_exp(-y2));
}

/* mfpo_gelu_grad, lane by lane */
SIMD_INLINE vf16 vf_gelu_grad(vf16 x)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    vf16 x2 = x * x;
    vf16 s = 1.0f / (1.0f + vf_exp(-k2 * (x + 0.044715f * x2 * x)));
    vf16 dy2 = k2 * (1.0f + 3.0f * 0.044715f * x2);
    return s + x * s * (1.0f - s) * dy2;
}

/* The scalar mfpo_lane_total of a vector of lane sums */
SIMD_INLINE float vf_lane_total(vf16 p, float tail)
{
    float s = tail;
    for (int k = 0; k < SIMD_W; k++) s += p[k];
    return s;
}

/* mfpo_sum */
SIMD_INLINE float vf_sum(size_t n, const float *x)
{
    vf16 p = vf_splat(0.0f);
    float tail = 0.0f;
    size_t j = 0;
    for (; j + SIMD_W <= n; j += SIMD_W) p += vf_load(x + j);
    for (; j < n; j++) tail += x[j];
    return vf_lane_total(p, tail);
}

/* mfpo_sum_sq_dev */
SIMD_INLINE float vf_sum_sq_dev(size_t n, const float *x, float c)
{
    vf16 p = vf_splat(0.0f);
    float tail = 0.0f;
    size_t j = 0;
    for (; j + SIMD_W <= n; j += SIMD_W) {
        vf16 d = vf_load(x + j) - c;
        p += d * d;
    }
    for (; j < n; j++) tail += (x[j] - c) * (x[j] - c);
    return vf_lane_total(p, tail);
}

/* mfpo_dot */
SIMD_INLINE float vf_dot(size_t n, const float *a, const float *b)
{
    vf16 p = vf_splat(0.0f);
    float tail = 0.0f;
    size_t j = 0;
    for (; j + SIMD_W <= n; j += SIMD_W) p += vf_load(a + j) * vf_load(b + j);
    for (; j < n; j++) tail += a[j] * b[j];
    return vf_lane_total(p, tail);
}

#endif
