/*
 * A backend built from the generic table alone runs MFPO through lib/algo's host implementation
 * of the row kernels (lib/algo/kernels.h: download, row loop, upload) and matches the CPU backend
 * bit for bit.
 *
 * The test backend wraps the CPU backend op by op, without the MFPO kernels (no extension) and
 * with memory that the host must not touch: every buffer it hands out is the CPU buffer's address
 * moved by 2^47, a non-canonical address on x86-64, so any direct host access (a missed
 * download) faults. Each op moves the addresses back and calls the CPU op. The same run (acting,
 * updates with statistics, selection) on a plain CPU context and on a context switched to this
 * backend must produce identical bytes, and the wrapped run must have moved data across.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mfpo.h>

#include "algo/agent.h"
#include "algo/kernels.h"
#include "backend/backend.h"
#include "core/ctx.h"

#define SHIFT ((uintptr_t)1 << 47)

typedef struct wrap_backend {
    be_backend base;
    be_backend *inner;
    size_t uploads, downloads;
} wrap_backend;

#define W(be) ((wrap_backend *)(be))
#define IN(be) (W(be)->inner)

/* Device address -> the CPU buffer behind it (NULL stays NULL). */
static void *D(const void *p)
{
    return p ? (void *)((uintptr_t)p - SHIFT) : NULL;
}

static void w_destroy(be_backend *be)
{
    free(be); /* the inner backend belongs to the context */
}

static void *w_alloc(be_backend *be, size_t bytes)
{
    void *p = IN(be)->ops->alloc(IN(be), bytes);
    return p ? (void *)((uintptr_t)p + SHIFT) : NULL;
}

static void w_free(be_backend *be, void *ptr)
{
    IN(be)->ops->free(IN(be), D(ptr));
}

static void w_upload(be_backend *be, void *dst, const void *src, size_t bytes)
{
    W(be)->uploads++;
    IN(be)->ops->upload(IN(be), D(dst), src, bytes);
}

static void w_download(be_backend *be, void *dst, const void *src, size_t bytes)
{
    W(be)->downloads++;
    IN(be)->ops->download(IN(be), dst, D(src), bytes);
}

static void w_copy(be_backend *be, void *dst, const void *src, size_t bytes)
{
    IN(be)->ops->copy(IN(be), D(dst), D(src), bytes);
}

static void w_fill(be_backend *be, float *x, float value, size_t n)
{
    IN(be)->ops->fill(IN(be), D(x), value, n);
}

static void w_synchronize(be_backend *be)
{
    IN(be)->ops->synchronize(IN(be));
}

static void w_gemm(be_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                   size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    IN(be)->ops->gemm(IN(be), trans_a, trans_b, m, n, k, alpha, D(a), lda, D(b), ldb, beta, D(c), ldc);
}

static void w_add_rows(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m)
{
    IN(be)->ops->add_rows(IN(be), n, cols, D(y), ldy, D(x), m);
}

static void w_fold_rows(be_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
                        int accumulate)
{
    IN(be)->ops->fold_rows(IN(be), n, cols, D(g), ldg, D(out), m, accumulate);
}

static void w_copy_rows(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds,
                        size_t repeat)
{
    IN(be)->ops->copy_rows(IN(be), n, cols, D(dst), ldd, D(src), lds, repeat);
}

static void w_scale(be_backend *be, float *x, float s, size_t n)
{
    IN(be)->ops->scale(IN(be), D(x), s, n);
}

static void w_fourier_fwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, float *out)
{
    IN(be)->ops->fourier_fwd(IN(be), n, f, D(x), D(w), D(out));
}

static void w_fourier_jvp(be_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot,
                          float *out_dot)
{
    IN(be)->ops->fourier_jvp(IN(be), n, f, D(x), D(w), xdot, D(out_dot));
}

static void w_fourier_bwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g, float *gw,
                          float *gx)
{
    IN(be)->ops->fourier_bwd(IN(be), n, f, D(x), D(w), D(g), D(gw), D(gx));
}

static void w_bias_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act)
{
    IN(be)->ops->bias_gelu_fwd(IN(be), n, h, D(pre), D(bias), D(act));
}

static void w_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre)
{
    IN(be)->ops->gelu_bwd(IN(be), n, h, D(g_act), D(pre), D(g_pre));
}

static void w_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act)
{
    IN(be)->ops->gelu_jvp(IN(be), n, h, D(t_pre), D(pre), D(t_act));
}

static void w_ln_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m,
                          const float *scale, const float *shift, float *xhat, float *rstd, float *y, float *act)
{
    IN(be)->ops->ln_gelu_fwd(IN(be), n, h, D(pre), D(add), m, D(scale), D(shift), D(xhat), D(rstd), D(y), D(act));
}

static void w_ln_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat, const float *rstd,
                          const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift)
{
    IN(be)->ops->ln_gelu_bwd(IN(be), n, h, D(g_act), D(xhat), D(rstd), D(y), D(scale), D(g_pre), D(g_scale),
                             D(g_shift));
}

static void w_ln_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                          const float *y, const float *scale, float *t_act)
{
    IN(be)->ops->ln_gelu_jvp(IN(be), n, h, D(t_pre), D(xhat), D(rstd), D(y), D(scale), D(t_act));
}

static void w_rng_uniform(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    IN(be)->ops->rng_uniform(IN(be), D(out), n, D(key), offset);
}

static void w_rng_normal(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    IN(be)->ops->rng_normal(IN(be), D(out), n, D(key), offset);
}

static void w_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
                   float eps, const uint64_t *step)
{
    IN(be)->ops->adam(IN(be), n, D(p), D(g), D(m), D(v), lr, b1, b2, eps, D(step));
}

static void w_polyak(be_backend *be, size_t n, float *target, const float *online, float tau)
{
    IN(be)->ops->polyak(IN(be), n, D(target), D(online), tau);
}

static int w_all_finite(be_backend *be, const float *x, size_t n)
{
    return IN(be)->ops->all_finite(IN(be), D(x), n);
}

static const be_ops wrap_ops = {
    .destroy = w_destroy,
    .alloc = w_alloc,
    .free = w_free,
    .upload = w_upload,
    .download = w_download,
    .copy = w_copy,
    .fill = w_fill,
    .synchronize = w_synchronize,
    .gemm = w_gemm,
    .add_rows = w_add_rows,
    .fold_rows = w_fold_rows,
    .copy_rows = w_copy_rows,
    .scale = w_scale,
    .fourier_fwd = w_fourier_fwd,
    .fourier_jvp = w_fourier_jvp,
    .fourier_bwd = w_fourier_bwd,
    .bias_gelu_fwd = w_bias_gelu_fwd,
    .gelu_bwd = w_gelu_bwd,
    .gelu_jvp = w_gelu_jvp,
    .ln_gelu_fwd = w_ln_gelu_fwd,
    .ln_gelu_bwd = w_ln_gelu_bwd,
    .ln_gelu_jvp = w_ln_gelu_jvp,
    .rng_uniform = w_rng_uniform,
    .rng_normal = w_rng_normal,
    .adam = w_adam,
    .polyak = w_polyak,
    .all_finite = w_all_finite,
};

enum { S = 3, A = 2, STEPS = 40, UPDATES = 6 };

static mfpo_agent_config config(void)
{
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    c.hidden_width = 16;
    c.hidden_depth = 2;
    c.policy_samples = 4;
    c.gaussian_samples = 4;
    c.hutchinson_probes = 2;
    c.atoms = 11;
    c.v_min = -20.0f;
    c.v_max = 20.0f;
    c.batch_size = 8;
    c.fourier_features = 8;
    c.time_embed_dim = 8;
    c.eval_candidates = 4;
    return c;
}

static void obs_at(unsigned t, float *o)
{
    o[0] = 0.5f * (float)(t % 7) - 1.0f;
    o[1] = 0.1f * (float)(t % 11);
    o[2] = (t % 3) ? 0.25f : -0.75f;
}

/* Everything a run produces, as bytes. */
typedef struct trace {
    float acts[STEPS * A];
    mfpo_update_stats stats[UPDATES];
    float selected[4 * A];
    float *state;
    size_t state_n;
} trace;

static void run(mfpo_context *ctx, trace *tr)
{
    mfpo_agent_config c = config();
    mfpo_agent *ag = NULL;
    mfpo_replay *r = NULL;
    assert_int_equal(mfpo_agent_create(ctx, &c, &ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(ctx, S, A, 64, &r), MFPO_OK);
    for (unsigned t = 0; t < STEPS; t++) {
        float obs[S], next[S];
        obs_at(t, obs);
        obs_at(t + 1, next);
        assert_int_equal(mfpo_agent_act(ag, obs, 1, tr->acts + t * A), MFPO_OK);
        float reward = obs[0] - tr->acts[t * A] * tr->acts[t * A];
        assert_int_equal(mfpo_replay_add(r, obs, tr->acts + t * A, reward, next, t % 9 == 8), MFPO_OK);
    }
    for (int u = 0; u < UPDATES; u++) {
        mfpo_update_stats_init(&tr->stats[u]);
        if (mfpo_update(ag, r, &tr->stats[u]) != MFPO_OK) fail_msg("update: %s", mfpo_last_error(ctx));
    }
    float obs[4 * S];
    for (unsigned i = 0; i < 4; i++) obs_at(50 + i, obs + i * S);
    assert_int_equal(mfpo_agent_select_action(ag, obs, 4, tr->selected), MFPO_OK);
    tr->state_n = ag->off.total;
    tr->state = malloc(tr->state_n * sizeof(float));
    assert_non_null(tr->state);
    ctx->be->ops->download(ctx->be, tr->state, ag->state, tr->state_n * sizeof(float));
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
}

static mfpo_context *cpu_context(void)
{
    mfpo_context_options o;
    mfpo_context *ctx = NULL;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 424242;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) fail_msg("context: %s", mfpo_last_error(NULL));
    return ctx;
}

static void generic_matches_cpu(void **state)
{
    (void)state;
    trace ref, gen;
    memset(&ref, 0, sizeof ref);
    memset(&gen, 0, sizeof gen);

    mfpo_context *a = cpu_context();
    assert_ptr_equal(algo_kernels_of(a->be), &algo_kernels_host);
    run(a, &ref);
    mfpo_context_destroy(a);

    /* the same context, switched to the wrapping backend before anything else is made */
    mfpo_context *b = cpu_context();
    be_backend *inner = b->be;
    wrap_backend *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->base.ops = &wrap_ops;
    w->base.threads = inner->threads;
    w->inner = inner;
    inner->ops->free(inner, b->key);
    b->be = &w->base;
    b->key = w_alloc(b->be, 2 * sizeof(uint64_t));
    assert_non_null(b->key);
    assert_ptr_equal(algo_kernels_of(b->be), &algo_kernels_generic); /* no host memory, no extension */
    run(b, &gen);
    assert_true(w->downloads > 100 * UPDATES); /* every MFPO op moved its inputs across */
    w_free(b->be, b->key);
    b->be = inner;
    b->key = inner->ops->alloc(inner, 2 * sizeof(uint64_t));
    w_destroy(&w->base);
    mfpo_context_destroy(b);

    assert_memory_equal(ref.acts, gen.acts, sizeof ref.acts);
    for (int u = 0; u < UPDATES; u++) assert_memory_equal(&ref.stats[u], &gen.stats[u], sizeof ref.stats[u]);
    assert_int_equal(ref.stats[UPDATES - 1].actor_updated, 1);
    assert_memory_equal(ref.selected, gen.selected, sizeof ref.selected);
    assert_int_equal(ref.state_n, gen.state_n);
    assert_memory_equal(ref.state, gen.state, ref.state_n * sizeof(float));
    free(ref.state);
    free(gen.state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generic_matches_cpu),
    };
    return cmocka_run_group_tests_name("algo_generic_backend", tests, NULL, NULL);
}
