/*
 * The CPU backend's hot loops, compiled once per x86-64 instruction set (cpu_kernels.c with
 * SIMD_BYTES = 64, 32, 16; see simd.h for why) and chosen once, when a backend is created, for the
 * CPU at hand. Every variant computes bit-identical results.
 *
 * MFPO_CPU_ISA=avx512|avx2|baseline (environment) forces a variant the CPU supports, for
 * benchmarks of the path another machine would take; an unsupported or unknown value is ignored
 * (cpu_kernels_select reports which variant it chose).
 */
#ifndef MFPO_CPU_KERNELS_H
#define MFPO_CPU_KERNELS_H

#include <stddef.h>

typedef struct cpu_kernels {
    const char *isa; /* "avx512", "avx2" or "baseline" */
    /* pre += bias; act = GELU(pre), n rows of h */
    void (*bias_gelu)(size_t n, size_t h, float *pre, const float *bias, float *act);
    /* out = g * GELU'(x), n elements */
    void (*gelu_grad_mul)(size_t n, const float *g, const float *x, float *out);
    /* rows [lo, hi) of the fused LayerNorm + GELU forward, backward and JVP (backend.h) */
    void (*ln_gelu_fwd)(size_t lo, size_t hi, size_t h, float *pre, const float *add, size_t m, const float *scale,
                        const float *shift, float *xhat, float *rstd, float *y, float *act);
    void (*ln_gelu_bwd)(size_t lo, size_t hi, size_t h, const float *g_act, const float *xhat, const float *rstd,
                        const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift);
    void (*ln_gelu_jvp)(size_t lo, size_t hi, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                        const float *y, const float *scale, float *t_act);
    /* rows [lo, hi): the mean of a categorical distribution over the evenly spaced support
     * [v_min, v_max] given by its logits (lib/algo's C51 expectation) */
    void (*softmax_mean)(size_t lo, size_t hi, size_t atoms, float v_min, float v_max, const float *logits, float *q);
    /* one Adam step on n parameters */
    void (*adam)(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2, float eps,
                 float c1, float c2);
    /* 1 when all n values are finite */
    int (*all_finite)(size_t n, const float *x);
} cpu_kernels;

extern const cpu_kernels cpu_kernels_baseline;
#if defined(__x86_64__) && defined(__GNUC__)
#define CPU_KERNELS_X86 1
extern const cpu_kernels cpu_kernels_avx2;
extern const cpu_kernels cpu_kernels_avx512;
#endif

/* The fastest variant this CPU runs (or the one MFPO_CPU_ISA names, when the CPU runs it). */
const cpu_kernels *cpu_kernels_select(void);

/* 1 when this CPU runs the variant named isa ("avx512", "avx2", "baseline") */
int cpu_kernels_supported(const char *isa);

#endif
