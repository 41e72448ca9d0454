/*
 * The CPU backend's hot loops (lib/backend/cpu/cpu_kernels.c, written with the explicit vectors of
 * simd.h and compiled once per instruction set) against their scalar twins in kernels_common.h /
 * kernels_mfpo.h: bit-identical, element by element, for every variant this CPU runs (AVX-512,
 * AVX2, baseline x86-64).
 *
 * Bit identity is the contract that keeps a run reproducible across machines and equal to the
 * CUDA module's results; a tolerance would hide a reordered sum or a contracted multiply-add.
 * The inputs cover exp's clamps (|x| > 87), NaN, infinities, signed zeros, subnormal results and
 * the GELU's saturated tails, plus rows whose widths are and are not multiples of 16.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/cpu/cpu_kernels.h"
#include "algo/kernels_mfpo.h"

#define N_VALUES 4096
#define MAX_H 300

static float values[N_VALUES];

static uint32_t bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Equal bits, or both NaN (NaN payloads are not part of the contract). */
static int same(float a, float b)
{
    return (isnan(a) && isnan(b)) || bits(a) == bits(b);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float uniform(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (float)((rng_state >> 40) * (1.0 / 16777216.0));
}

static void fill_values(void)
{
    const float special[] = { 0.0f,   -0.0f,   1.0f,   -1.0f,   87.0f,   -87.0f,   88.0f,    -88.0f,    88.5f, -103.0f,
                              200.0f, -200.0f, 1e-30f, -1e-30f, 1e30f,   -1e30f,   INFINITY, -INFINITY, NAN,   -NAN,
                              0.5f,   -0.5f,   10.0f,  -10.0f,  3.4e38f, -3.4e38f, 1e-45f,   -1e-45f };
    size_t n = sizeof special / sizeof special[0], i;
    for (i = 0; i < n; i++) values[i] = special[i];
    for (; i < N_VALUES / 2; i++) values[i] = uniform(-12.0f, 12.0f);
    for (; i < N_VALUES; i++) values[i] = uniform(-120.0f, 120.0f);
}

/* One LayerNorm + GELU row forward, backward and JVP, the GELU passes and the C51 expectation,
 * for width h. */
typedef struct row_out {
    float pre[MAX_H], xhat[MAX_H], y[MAX_H], act[MAX_H], rstd, act_inf[MAX_H];
    float g_pre[MAX_H], g_scale[MAX_H], g_shift[MAX_H], t_act[MAX_H], g_gelu[MAX_H], bias_pre[MAX_H], bias_act[MAX_H];
    float q;
} row_out;

typedef struct row_in {
    float pre[MAX_H], add[MAX_H], scale[MAX_H], shift[MAX_H], g[MAX_H], t[MAX_H], logits[MAX_H];
} row_in;

static void rows_variant(const cpu_kernels *k, size_t h, const row_in *in, row_out *o)
{
    memcpy(o->pre, in->pre, sizeof o->pre);
    k->ln_gelu_fwd(0, 1, h, o->pre, in->add, 1, in->scale, in->shift, o->xhat, &o->rstd, o->y, o->act);
    memcpy(o->act_inf, in->pre, sizeof o->act_inf);
    k->ln_gelu_fwd(0, 1, h, o->act_inf, in->add, 1, in->scale, in->shift, NULL, NULL, NULL, o->act_inf);
    memset(o->g_scale, 0, sizeof o->g_scale);
    memset(o->g_shift, 0, sizeof o->g_shift);
    k->ln_gelu_bwd(0, 1, h, in->g, o->xhat, &o->rstd, o->y, in->scale, o->g_pre, o->g_scale, o->g_shift);
    k->ln_gelu_jvp(0, 1, h, in->t, o->xhat, &o->rstd, o->y, in->scale, o->t_act);
    k->gelu_grad_mul(h, in->g, in->pre, o->g_gelu);
    memcpy(o->bias_pre, in->pre, sizeof o->bias_pre);
    k->bias_gelu(1, h, o->bias_pre, in->add, o->bias_act);
    k->softmax_mean(0, 1, h, -40.0f, 5.0f, in->logits, &o->q);
}

/* The scalar twins: the row functions the CUDA module runs. */
static void rows_scalar(size_t h, const row_in *in, row_out *o)
{
    memcpy(o->pre, in->pre, sizeof o->pre);
    be_ln_gelu_row(h, o->pre, in->add, in->scale, in->shift, o->xhat, &o->rstd, o->y, o->act);
    memcpy(o->act_inf, in->pre, sizeof o->act_inf);
    be_ln_gelu_row(h, o->act_inf, in->add, in->scale, in->shift, NULL, NULL, NULL, o->act_inf);
    memset(o->g_scale, 0, sizeof o->g_scale);
    memset(o->g_shift, 0, sizeof o->g_shift);
    for (size_t j = 0; j < h; j++) {
        float gy = in->g[j] * be_gelu_grad(o->y[j]);
        o->g_scale[j] += gy * o->xhat[j];
        o->g_shift[j] += gy;
        o->g_pre[j] = gy * in->scale[j];
    }
    be_ln_apply_jacobian(h, o->g_pre, o->xhat, o->rstd, o->g_pre);
    be_ln_apply_jacobian(h, in->t, o->xhat, o->rstd, o->t_act);
    for (size_t j = 0; j < h; j++) o->t_act[j] = be_gelu_grad(o->y[j]) * in->scale[j] * o->t_act[j];
    for (size_t j = 0; j < h; j++) o->g_gelu[j] = in->g[j] * be_gelu_grad(in->pre[j]);
    for (size_t j = 0; j < h; j++) {
        o->bias_pre[j] = in->pre[j] + in->add[j];
        o->bias_act[j] = be_gelu(o->bias_pre[j]);
    }
    o->q = algo_expected_q_row(h, -40.0f, 5.0f, in->logits);
}

/* The variants this CPU runs, best first */
static const cpu_kernels *variants[3];
static size_t n_variants;

static void find_variants(void)
{
    static const cpu_kernels *const all[] = {
#ifdef CPU_KERNELS_X86
        &cpu_kernels_avx512,
        &cpu_kernels_avx2,
#endif
        &cpu_kernels_baseline,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (cpu_kernels_supported(all[i]->isa)) variants[n_variants++] = all[i];
    print_message("variants tested:");
    for (size_t i = 0; i < n_variants; i++) print_message(" %s", variants[i]->isa);
    print_message("\n");
}

/* GELU and its derivative (hence exp) over the special and random values */
static void test_elementwise(void **state)
{
    static float pre[N_VALUES], act[N_VALUES], zero[N_VALUES], ones[N_VALUES], grad[N_VALUES];
    (void)state;
    for (size_t i = 0; i < N_VALUES; i++) ones[i] = 1.0f;
    for (size_t v = 0; v < n_variants; v++) {
        size_t mismatches = 0;
        memcpy(pre, values, sizeof pre);
        variants[v]->bias_gelu(1, N_VALUES, pre, zero, act); /* pre + 0 turns -0 into +0: compare on pre */
        variants[v]->gelu_grad_mul(N_VALUES, ones, values, grad);
        for (size_t i = 0; i < N_VALUES; i++) {
            float want_act = be_gelu(pre[i]), want_grad = 1.0f * be_gelu_grad(values[i]);
            if (!same(act[i], want_act) || !same(grad[i], want_grad)) {
                if (mismatches++ < 5)
                    print_error("%s at %.9g: gelu %.9g (0x%08x) vs scalar %.9g (0x%08x); gelu' %.9g vs %.9g\n",
                                variants[v]->isa, (double)values[i], (double)act[i], bits(act[i]), (double)want_act,
                                bits(want_act), (double)grad[i], (double)want_grad);
            }
        }
        assert_int_equal(mismatches, 0);
    }
}

static void compare_rows(const char *isa, size_t h, const row_out *got, const row_out *want)
{
    struct {
        const char *name;
        const float *g, *w;
        size_t n;
    } fields[] = {
        { "pre", got->pre, want->pre, h },
        { "xhat", got->xhat, want->xhat, h },
        { "y", got->y, want->y, h },
        { "act", got->act, want->act, h },
        { "rstd", &got->rstd, &want->rstd, 1 },
        { "act_inference", got->act_inf, want->act_inf, h },
        { "g_pre", got->g_pre, want->g_pre, h },
        { "g_scale", got->g_scale, want->g_scale, h },
        { "g_shift", got->g_shift, want->g_shift, h },
        { "t_act", got->t_act, want->t_act, h },
        { "gelu_grad_mul", got->g_gelu, want->g_gelu, h },
        { "bias_pre", got->bias_pre, want->bias_pre, h },
        { "bias_act", got->bias_act, want->bias_act, h },
        { "expected_q", &got->q, &want->q, 1 },
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (size_t j = 0; j < fields[f].n; j++)
            if (!same(fields[f].g[j], fields[f].w[j]))
                fail_msg("%s h=%zu %s[%zu]: vector %.9g, scalar %.9g", isa, h, fields[f].name, j,
                         (double)fields[f].g[j], (double)fields[f].w[j]);
}

static void test_rows(void **state)
{
    static row_in in;
    static row_out want, got;
    const size_t widths[] = { 1, 7, 16, 17, 64, 101, 128, 256, 300 };
    (void)state;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        size_t h = widths[w];
        for (size_t j = 0; j < MAX_H; j++) {
            in.pre[j] = uniform(-3.0f, 3.0f) + (j % 5 == 0 ? 4.0f : 0.0f);
            in.add[j] = uniform(-1.0f, 1.0f);
            in.scale[j] = uniform(0.5f, 1.5f);
            in.shift[j] = uniform(-0.5f, 0.5f);
            in.g[j] = uniform(-1.0f, 1.0f);
            in.t[j] = uniform(-2.0f, 2.0f);
            in.logits[j] = uniform(-30.0f, 30.0f);
        }
        rows_scalar(h, &in, &want);
        for (size_t v = 0; v < n_variants; v++) {
            rows_variant(variants[v], h, &in, &got);
            compare_rows(variants[v]->isa, h, &got, &want);
        }
    }
}

/* Adam on 16-lane blocks and a tail against the scalar formula of the CPU backend */
static void test_adam(void **state)
{
    enum { N = 1000 + 7 };
    static float p[N], g[N], m[N], v[N], p2[N], m2[N], v2[N];
    const float lr = 3e-4f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, c1 = 1.0f / (1.0f - 0.9f * 0.9f),
                c2 = 1.0f / (1.0f - 0.999f * 0.999f);
    (void)state;
    for (int i = 0; i < N; i++) {
        p[i] = p2[i] = uniform(-1.0f, 1.0f);
        g[i] = uniform(-1.0f, 1.0f) * (i % 3 ? 1.0f : 1e-4f);
        m[i] = m2[i] = uniform(-0.1f, 0.1f);
        v[i] = v2[i] = uniform(0.0f, 0.01f);
    }
    for (size_t k = 0; k < n_variants; k++) {
        for (int i = 0; i < N; i++) {
            p[i] = p2[i] = 0.001f * (float)(i % 97) - 0.05f;
            m[i] = m2[i] = 0.0f;
            v[i] = v2[i] = 0.0f;
        }
        for (int step = 0; step < 3; step++) {
            variants[k]->adam(N, p, g, m, v, lr, b1, b2, eps, c1, c2);
            for (int i = 0; i < N; i++) {
                m2[i] = b1 * m2[i] + (1.0f - b1) * g[i];
                v2[i] = b2 * v2[i] + (1.0f - b2) * g[i] * g[i];
                p2[i] -= lr * (m2[i] * c1) / (sqrtf(v2[i] * c2) + eps);
                if (!same(p[i], p2[i]) || !same(m[i], m2[i]) || !same(v[i], v2[i]))
                    fail_msg("%s adam element %d: vector p %.9g m %.9g v %.9g, scalar p %.9g m %.9g v %.9g",
                             variants[k]->isa, i, (double)p[i], (double)m[i], (double)v[i], (double)p2[i],
                             (double)m2[i], (double)v2[i]);
            }
        }
    }
}

/* The finiteness check finds one bad value wherever it sits: in a vector block or in the tail */
static void test_all_finite(void **state)
{
    enum { N = 100 };
    float x[N];
    const float bad[] = { NAN, INFINITY, -INFINITY };
    (void)state;
    for (int i = 0; i < N; i++) x[i] = uniform(-1.5e38f, 1.5e38f); /* spans 3e38 < FLT_MAX */
    for (size_t k = 0; k < n_variants; k++) {
        assert_int_equal(variants[k]->all_finite(N, x), 1);
        assert_int_equal(variants[k]->all_finite(0, x), 1);
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < N; i++) {
                float keep = x[i];
                x[i] = bad[b];
                if (variants[k]->all_finite(N, x))
                    fail_msg("%s: %g at index %d of %d not found", variants[k]->isa, (double)bad[b], i, N);
                x[i] = keep;
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_all_finite),
    };
    fill_values();
    find_variants();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
