/*
 * One variant of the CPU backend's hot loops (cpu_kernels.h). The build compiles this file once
 * per instruction set with CPU_ISA and SIMD_BYTES defined, and -march set to match:
 *   CPU_ISA=avx512 SIMD_BYTES=64 -march=x86-64-v4
 *   CPU_ISA=avx2   SIMD_BYTES=32 -march=x86-64-v3
 *   CPU_ISA=baseline SIMD_BYTES=16 (the build's own -march)
 */
#include "cpu_kernels.h"
#include "cpu_rows.h"

#if !defined(CPU_ISA) || !defined(SIMD_BYTES)
#error "compile with -DCPU_ISA=<name> -DSIMD_BYTES=<register bytes>"
#endif

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#define K(name) CAT(name, CPU_ISA)

static void K(bias_gelu)(size_t n, size_t h, float *pre, const float *bias, float *act)
{
    for (size_t i = 0; i < n; i++) rows_bias_gelu(h, pre + i * h, bias, act + i * h);
}

static void K(gelu_grad_mul)(size_t n, const float *g, const float *x, float *out)
{
    rows_gelu_grad_mul(n, g, x, out);
}

static void K(ln_gelu_fwd)(size_t lo, size_t hi, size_t h, float *pre, const float *add, size_t m, const float *scale,
                           const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    for (size_t i = lo; i < hi; i++)
        rows_ln_gelu(h, pre + i * h, add ? add + (i % m) * h : NULL, scale, shift, xhat ? xhat + i * h : NULL,
                     rstd ? rstd + i : NULL, y ? y + i * h : NULL, act + i * h);
}

static void K(ln_gelu_bwd)(size_t lo, size_t hi, size_t h, const float *g_act, const float *xhat, const float *rstd,
                           const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift)
{
    for (size_t i = lo; i < hi; i++)
        rows_ln_gelu_bwd(h, g_act + i * h, xhat + i * h, rstd[i], y + i * h, scale, g_pre + i * h, g_scale, g_shift);
}

static void K(ln_gelu_jvp)(size_t lo, size_t hi, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                           const float *y, const float *scale, float *t_act)
{
    for (size_t i = lo; i < hi; i++)
        rows_ln_gelu_jvp(h, t_pre + i * h, xhat + i * h, rstd[i], y + i * h, scale, t_act + i * h);
}

static void K(softmax_mean)(size_t lo, size_t hi, size_t atoms, float v_min, float v_max, const float *logits, float *q)
{
    for (size_t i = lo; i < hi; i++) q[i] = rows_softmax_mean(atoms, v_min, v_max, logits + i * atoms);
}

static void K(adam)(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2, float eps,
                    float c1, float c2)
{
    rows_adam(n, p, g, m, v, lr, b1, b2, eps, c1, c2);
}

static int K(all_finite)(size_t n, const float *x)
{
    return rows_all_finite(n, x);
}

const cpu_kernels CAT(cpu_kernels, CPU_ISA) = {
    .isa = STR(CPU_ISA),
    .bias_gelu = K(bias_gelu),
    .gelu_grad_mul = K(gelu_grad_mul),
    .ln_gelu_fwd = K(ln_gelu_fwd),
    .ln_gelu_bwd = K(ln_gelu_bwd),
    .ln_gelu_jvp = K(ln_gelu_jvp),
    .softmax_mean = K(softmax_mean),
    .adam = K(adam),
    .all_finite = K(all_finite),
};
