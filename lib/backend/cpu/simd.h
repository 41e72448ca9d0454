/*
 * Explicit float vectors for the CPU backend's elementwise kernels, at the width of the
 * instruction set the including file is compiled for.
 *
 * Why explicit: the loops over be_expf/be_gelu (kernels_common.h) were left to GCC's
 * auto-vectoriser, which vectorised them for AVX-512 and left them scalar for AVX2 (its cost model
 * rejects the integer part of the exponential there): on an AVX2 machine, LayerNorm + GELU took
 * half of an update. Why one width per instruction set: a 64-byte vector on an AVX2 target is not
 * a register but a stack object (GCC 12 keeps loop-carried ones in memory and scalarises their
 * comparisons), so cpu_kernels.c is compiled once per instruction set with SIMD_BYTES set to the
 * register size (64 for x86-64-v4, 32 for x86-64-v3, 16 for the baseline).
 *
 * Every function performs, lane by lane, exactly the IEEE operations of its scalar twin in
 * kernels_common.h / kernels_mfpo.h, in the same order (the library is built as ISO C11, so GCC
 * contracts nothing into FMAs), and sums keep the scalar code's 16 interleaved partial sums, so
 * results are bit-identical to the scalar code, to the CUDA module and across instruction sets.
 * tests/engine/test_simd.c checks that for every variant this CPU runs.
 */
#ifndef MFPO_CPU_SIMD_H
#define MFPO_CPU_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../kernels_common.h"

#ifndef SIMD_BYTES
#error "define SIMD_BYTES (16, 32 or 64) before including simd.h"
#endif

#define SIMD_W (SIMD_BYTES / 4)       /* float lanes of one register */
#define SIMD_NV (MFPO_LANES / SIMD_W) /* registers that hold the 16 partial sums */

_Static_assert(SIMD_W *SIMD_NV == MFPO_LANES, "16 partial sums must fill whole registers");

typedef float vf __attribute__((vector_size(SIMD_BYTES)));
typedef int32_t vi __attribute__((vector_size(SIMD_BYTES)));

#define SIMD_INLINE static inline __attribute__((always_inline))

SIMD_INLINE vf vf_load(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

SIMD_INLINE void vf_store(float *p, vf v)
{
    memcpy(p, &v, sizeof v);
}

SIMD_INLINE vf vf_splat(float x)
{
    vf zero = { 0 };
    return zero + x;
}

/* The first n < SIMD_W elements of p, the other lanes zero */
SIMD_INLINE vf vf_load_part(const float *p, size_t n)
{
    vf v = { 0 };
    memcpy(&v, p, n * sizeof(float));
    return v;
}

/* lanes 0..SIMD_W-1 plus i0, as floats (exact for the small integers used here) */
SIMD_INLINE vf vf_iota(float i0)
{
    vf v;
    for (int k = 0; k < SIMD_W; k++) v[k] = (float)k;
    return v + i0;
}

/* mask ? a : b, where mask lanes are all-ones or all-zeros */
SIMD_INLINE vf vf_select(vi mask, vf a, vf b)
{
    return (vf)(((vi)a & mask) | ((vi)b & ~mask));
}

/* all-ones where a < b, for a and b not NaN: a - b is negative exactly then (IEEE subtraction of
 * two different finite floats is never zero, and x - x is +0). Written without a vector comparison
 * so that the same source serves every width. */
SIMD_INLINE vi vf_less(vf a, vf b)
{
    return (vi)(a - b) >> 31;
}

/* all-ones where x is not NaN: |x|'s bits are at most those of infinity */
SIMD_INLINE vi vf_not_nan(vf x)
{
    return ~((0x7f800000 - ((vi)x & 0x7fffffff)) >> 31);
}

/* sqrtf per lane: IEEE square roots are correctly rounded, so a packed square root equals the
 * scalar one; GCC turns the lane loop into one instruction because the library is built with
 * -fno-math-errno (sqrtf of a negative number would otherwise have to set errno, lane by lane). */
SIMD_INLINE vf vf_sqrt(vf x)
{
    vf r;
    for (int k = 0; k < SIMD_W; k++) r[k] = __builtin_sqrtf(x[k]);
    return r;
}

/* be_expf, lane by lane */
SIMD_INLINE vf vf_exp(vf x)
{
    const vf shifter = vf_splat(12582912.0f);
    const vf lo = vf_splat(-87.0f), hi = vf_splat(88.0f);
    vi is_num = vf_not_nan(x);
    /* the clamp's masks may be anything in NaN lanes: those lanes take 0 on the next line */
    vf xc = vf_select(vf_less(x, lo), lo, vf_select(vf_less(hi, x), hi, x));
    xc = vf_select(is_num, xc, vf_splat(0.0f));
    vf t = xc * 1.44269504088896341f + shifter;
    vf k = t - shifter;
    vf r = xc - k * 0.693359375f - k * -2.12194440e-4f;
    vf p = vf_splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* the scalar code multiplies by 2^23; the exponent field stays in [1, 254], so a shift is the
     * same value and needs no 32-bit multiply (which SSE2 lacks) */
    vi sc = ((vi)t - 0x4B400000 + 127) << 23;
    return vf_select(is_num, p * (vf)sc, x);
}

/* be_gelu, lane by lane */
SIMD_INLINE vf vf_gelu(vf x)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    vf y2 = k2 * (x + 0.044715f * x * x * x);
    return x / (1.0f + vf_exp(-y2));
}

/* be_gelu_grad, lane by lane */
SIMD_INLINE vf vf_gelu_grad(vf x)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    vf x2 = x * x;
    vf s = 1.0f / (1.0f + vf_exp(-k2 * (x + 0.044715f * x2 * x)));
    vf dy2 = k2 * (1.0f + 3.0f * 0.044715f * x2);
    return s + x * s * (1.0f - s) * dy2;
}

/* ---------------------------------------------------------------- the 16 partial sums
 *
 * The scalar code sums in 16 interleaved lanes p[0..15] (element j goes to lane j % 16) and then
 * adds tail + p[0] + ... + p[15] in that order (be_lane_total). Here the 16 lanes are SIMD_NV
 * registers: lane q * SIMD_W + k is lane k of register q. */

typedef struct lanes16 {
    vf r[SIMD_NV];
} lanes16;

SIMD_INLINE lanes16 lanes_zero(void)
{
    lanes16 s;
    for (int q = 0; q < SIMD_NV; q++) s.r[q] = vf_splat(0.0f);
    return s;
}

/* be_lane_total */
SIMD_INLINE float lanes_total(const lanes16 *s, float tail)
{
    float t = tail;
    for (int q = 0; q < SIMD_NV; q++)
        for (int k = 0; k < SIMD_W; k++) t += s->r[q][k];
    return t;
}

/* be_sum */
SIMD_INLINE float vf_sum(size_t n, const float *x)
{
    lanes16 p = lanes_zero();
    float tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) p.r[q] += vf_load(x + j + (size_t)q * SIMD_W);
    for (; j < n; j++) tail += x[j];
    return lanes_total(&p, tail);
}

/* be_sum_sq_dev */
SIMD_INLINE float vf_sum_sq_dev(size_t n, const float *x, float c)
{
    lanes16 p = lanes_zero();
    float tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) {
            vf d = vf_load(x + j + (size_t)q * SIMD_W) - c;
            p.r[q] += d * d;
        }
    for (; j < n; j++) tail += (x[j] - c) * (x[j] - c);
    return lanes_total(&p, tail);
}

/* be_dot */
SIMD_INLINE float vf_dot(size_t n, const float *a, const float *b)
{
    lanes16 p = lanes_zero();
    float tail = 0.0f;
    size_t j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int q = 0; q < SIMD_NV; q++) {
            size_t o = j + (size_t)q * SIMD_W;
            p.r[q] += vf_load(a + o) * vf_load(b + o);
        }
    for (; j < n; j++) tail += a[j] * b[j];
    return lanes_total(&p, tail);
}

#endif
