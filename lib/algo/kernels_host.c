/*
 * The host implementations of lib/algo's MFPO row kernels (kernels.h): the row loops over
 * kernels_mfpo.h on host memory (the CPU backend's buffers, threaded like the CPU backend's own
 * loops), and the generic version that any backend gets: download, the same loop, upload.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo/status.h>

#include "../backend/cpu/rows.h"
#include "../backend/error.h"
#include "kernels.h"
#include "kernels_mfpo.h"

/* ------------------------------------------------------------------ host memory */

static void host_sampler_init(be_backend *be, size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        memcpy(z + i * ldz, eps + i * a, a * sizeof(float));
        if (logp) logp[i] = algo_log_std_normal(a, eps + i * a);
    }
}

HOT static void host_sampler_step(be_backend *be, size_t n, size_t a, float h, const float *u, float *z, size_t ldz,
                                  const float *d, float *logp)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < a; c++) z[i * ldz + c] -= h * u[i * a + c];
        if (d && logp) logp[i] += h * d[i];
    }
}

static void host_clip_actions(be_backend *be, size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < a; c++) out[i * ldo + c] = be_clampf(z[i * ldz + c], -1.0f, 1.0f);
}

static void host_flow_times(be_backend *be, size_t n, const float *normals, float mean, float std, size_t flow_rows,
                            float *t, float *r, float *h)
{
    (void)be;
    for (size_t i = 0; i < n; i++) algo_flow_times_row(normals + 2 * i, mean, std, i < flow_rows, t + i, r + i, h + i);
}

static void host_noisy_point(be_backend *be, size_t n, size_t a, const float *act, size_t lda, const float *t,
                             const float *eps, float *z_t)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < a; c++) z_t[i * a + c] = (1.0f - t[i]) * act[i * lda + c] + t[i] * eps[i * a + c];
}

static void gaussian_range(size_t lo, size_t hi, size_t k, size_t a, const float *z_t, const float *t,
                           const float *uniforms, float *noise, float *out, size_t ldo)
{
    for (size_t i = lo; i < hi; i++)
        for (size_t j = 0; j < k; j++)
            for (size_t c = 0; c < a; c++) {
                size_t e = (i * k + j) * a + c;
                out[(i * k + j) * ldo + c] = algo_gaussian_candidate(z_t[i * a + c], t[i], uniforms[e], noise + e);
            }
}

typedef struct gaussian_args {
    size_t n, k, a, ldo;
    const float *z_t, *t, *uniforms;
    float *noise, *out;
} gaussian_args;

static void gaussian_chunk(void *args, int chunk, int chunks)
{
    const gaussian_args *g = args;
    CHUNK_ROWS(g->n);
    gaussian_range(lo, hi, g->k, g->a, g->z_t, g->t, g->uniforms, g->noise, g->out, g->ldo);
}

static void host_gaussian_proposal(be_backend *be, size_t n, size_t k, size_t a, const float *z_t, const float *t,
                                   const float *uniforms, float *noise, float *out, size_t ldo)
{
    gaussian_args g = { n, k, a, ldo, z_t, t, uniforms, noise, out };
    /* erfc and the quantile cost about as much as 64 multiply-adds per coordinate */
    be_cpu_run_rows(be, n, k * a * 64, gaussian_chunk, &g);
}

typedef struct expected_q_args {
    const cpu_kernels *k;
    size_t n, atoms;
    float v_min, v_max;
    const float *logits;
    float *q;
} expected_q_args;

/* the CPU's vector form of algo_expected_q_row, bit-identical to it (tests/engine/test_simd.c) */
static void expected_q_chunk(void *args, int chunk, int chunks)
{
    const expected_q_args *a = args;
    CHUNK_ROWS(a->n);
    a->k->softmax_mean(lo, hi, a->atoms, a->v_min, a->v_max, a->logits, a->q);
}

static void host_expected_q(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits,
                            float *q)
{
    expected_q_args a = { be_cpu_kernels(be), n, atoms, v_min, v_max, logits, q };
    be_cpu_run_rows(be, n, atoms * 2, expected_q_chunk, &a);
}

static void host_combine_q(be_backend *be, size_t n, const float *q1, const float *q2, int clipped, float *out)
{
    (void)be;
    for (size_t i = 0; i < n; i++) out[i] = clipped ? (q1[i] < q2[i] ? q1[i] : q2[i]) : 0.5f * (q1[i] + q2[i]);
}

HOT static void host_c51_target(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                                const float *logits2, const float *reward, const float *mask, const float *next_logp,
                                const float *log_alpha, float gamma, int clipped, float *target)
{
    float scratch[1024];
    float alpha = expf(log_alpha[0]);
    (void)be;
    /* atoms <= 1024 is enforced at configuration time */
    for (size_t i = 0; i < n; i++)
        algo_c51_target_row(atoms, v_min, v_max, logits1 + i * atoms, logits2 + i * atoms, reward[i], mask[i],
                            next_logp[i], alpha, gamma, clipped, target + i * atoms, scratch);
}

HOT static void host_softmax_xent(be_backend *be, size_t n, size_t atoms, const float *logits, const float *target,
                                  float *grad, float *loss)
{
    double acc = 0.0;
    (void)be;
    for (size_t i = 0; i < n; i++)
        acc += algo_xent_row(atoms, logits + i * atoms, target + i * atoms, 1.0f / (float)n, grad + i * atoms);
    *loss = (float)(acc / (double)n);
}

HOT static void host_snis(be_backend *be, size_t n, size_t k1, size_t k2, size_t a, const float *q_pol,
                          const float *q_gauss, const float *pol_a, const float *pol_logp, const float *gauss_a,
                          const float *z_t, const float *t, const float *log_alpha, float *log_w, float *w,
                          float *ess_pol, float *ess_gauss, float *v_hat)
{
    float alpha = expf(log_alpha[0]);
    (void)be;
    for (size_t i = 0; i < n; i++)
        algo_snis_row(k1, k2, a, q_pol + i * k1, q_gauss + i * k2, pol_a + i * k1 * a, pol_logp + i * k1,
                      gauss_a + i * k2 * a, z_t + i * a, t[i], alpha, log_w + i * (k1 + k2), w + i * (k1 + k2),
                      ess_pol + i, ess_gauss + i, v_hat + i * a);
}

HOT static void host_meanflow_loss(be_backend *be, size_t n, size_t w, const float *pred, const float *dot,
                                   const float *vel, const float *h, float *tgt, float *grad, float *loss)
{
    double acc = 0.0;
    float gs = 2.0f / (float)(n * w);
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float hc = be_clampf(h[i], 0.0f, 1.0f);
        for (size_t c = 0; c < w; c++) {
            size_t e = i * w + c;
            float tg = vel[e] - hc * dot[e];
            float diff = pred[e] - tg;
            tgt[e] = tg;
            grad[e] = gs * diff;
            acc += (double)diff * diff;
        }
    }
    *loss = (float)(acc / (double)(n * w));
}

static void host_row_dot(be_backend *be, size_t n, size_t a, const float *e, const float *jv, float scale, float *acc,
                         int accumulate)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (size_t c = 0; c < a; c++) s += e[i * a + c] * jv[i * a + c];
        acc[i] = (accumulate ? acc[i] : 0.0f) + scale * s;
    }
}

static void host_mean(be_backend *be, size_t n, const float *x, float *out)
{
    double s = 0.0;
    (void)be;
    for (size_t i = 0; i < n; i++) s += x[i];
    *out = (float)(s / (double)n);
}

static void host_temperature_grad(be_backend *be, const float *mean_logp, const float *log_alpha, float target_entropy,
                                  float *loss, float *grad)
{
    float alpha = expf(log_alpha[0]);
    float l = alpha * (-mean_logp[0] - target_entropy);
    (void)be;
    *loss = l;
    *grad = l; /* d/d log_alpha of exp(log_alpha) * c is the same expression */
}

static void host_select_best(be_backend *be, size_t n, size_t k, size_t a, const float *q, const float *cand,
                             size_t ldc, float *out)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t j = 1; j < k; j++)
            if (q[i * k + j] > q[i * k + best]) best = j;
        memcpy(out + i * a, cand + (i * k + best) * ldc, a * sizeof(float));
    }
}

const algo_kernels algo_kernels_host = {
    .sampler_init = host_sampler_init,
    .sampler_step = host_sampler_step,
    .clip_actions = host_clip_actions,
    .flow_times = host_flow_times,
    .noisy_point = host_noisy_point,
    .gaussian_proposal = host_gaussian_proposal,
    .expected_q = host_expected_q,
    .combine_q = host_combine_q,
    .c51_target = host_c51_target,
    .softmax_xent = host_softmax_xent,
    .snis = host_snis,
    .meanflow_loss = host_meanflow_loss,
    .row_dot = host_row_dot,
    .mean = host_mean,
    .temperature_grad = host_temperature_grad,
    .select_best = host_select_best,
};

/* ------------------------------------------------------------------ generic: download, loop, upload */

/* Host copies of one op's buffers. Each op downloads what it reads (and the outputs it updates in
 * part: strided rows, accumulators), runs the host loop, uploads what it wrote, and frees. A
 * failed allocation records MFPO_ERR_OUT_OF_MEMORY on the backend (be_set_error) and skips the op;
 * the update driver reports it and restores the agent. */
typedef struct stage {
    be_backend *be;
    float *host[16]; /* the most buffers of one op: snis, 13 */
    int n, failed;
} stage;

static float *take(stage *s, const float *dev, size_t count)
{
    float *h = NULL;
    if (!s->failed && s->n < 16) h = malloc((count ? count : 1) * sizeof(float));
    if (!h) {
        if (!s->failed) be_set_error(s->be, MFPO_ERR_OUT_OF_MEMORY, "out of host memory staging %zu floats", count);
        s->failed = 1;
        return NULL;
    }
    s->host[s->n++] = h;
    if (dev && count) s->be->ops->download(s->be, h, dev, count * sizeof(float));
    return h;
}

#define IN(dev, count) ((dev) ? take(&st_, (dev), (count)) : NULL)
#define OUT(count) take(&st_, NULL, (count))
#define PUT(dev, host, count) put(&st_, (dev), (host), (count))

static void put(stage *s, float *dev, const float *host, size_t count)
{
    if (!s->failed && dev && count) s->be->ops->upload(s->be, dev, host, count * sizeof(float));
}

static void finish(stage *s)
{
    for (int i = 0; i < s->n; i++) free(s->host[i]);
}

/* Floats spanned by n rows of width w at leading dimension ld. */
static size_t span(size_t n, size_t w, size_t ld)
{
    return n ? (n - 1) * ld + w : 0;
}

#define BEGIN stage st_ = { .be = be }
#define END finish(&st_)
#define OK (!st_.failed)

static void gen_sampler_init(be_backend *be, size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp)
{
    BEGIN;
    const float *h_eps = IN(eps, n * a);
    float *h_z = IN(z, span(n, a, ldz)), *h_logp = logp ? OUT(n) : NULL;
    if (OK) host_sampler_init(be, n, a, h_eps, h_z, ldz, h_logp);
    PUT(z, h_z, span(n, a, ldz));
    PUT(logp, h_logp, n);
    END;
}

static void gen_sampler_step(be_backend *be, size_t n, size_t a, float h, const float *u, float *z, size_t ldz,
                             const float *d, float *logp)
{
    BEGIN;
    const float *h_u = IN(u, n * a), *h_d = IN(d, n);
    float *h_z = IN(z, span(n, a, ldz)), *h_logp = IN(logp, n);
    if (OK) host_sampler_step(be, n, a, h, h_u, h_z, ldz, h_d, h_logp);
    PUT(z, h_z, span(n, a, ldz));
    if (d) PUT(logp, h_logp, n);
    END;
}

static void gen_clip_actions(be_backend *be, size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo)
{
    BEGIN;
    const float *h_z = IN(z, span(n, a, ldz));
    float *h_out = IN(out, span(n, a, ldo));
    if (OK) host_clip_actions(be, n, a, h_z, ldz, h_out, ldo);
    PUT(out, h_out, span(n, a, ldo));
    END;
}

static void gen_flow_times(be_backend *be, size_t n, const float *normals, float mean, float std, size_t flow_rows,
                           float *t, float *r, float *h)
{
    BEGIN;
    const float *h_normals = IN(normals, 2 * n);
    float *h_t = OUT(n), *h_r = OUT(n), *h_h = OUT(n);
    if (OK) host_flow_times(be, n, h_normals, mean, std, flow_rows, h_t, h_r, h_h);
    PUT(t, h_t, n);
    PUT(r, h_r, n);
    PUT(h, h_h, n);
    END;
}

static void gen_noisy_point(be_backend *be, size_t n, size_t a, const float *act, size_t lda, const float *t,
                            const float *eps, float *z_t)
{
    BEGIN;
    const float *h_act = IN(act, span(n, a, lda)), *h_t = IN(t, n), *h_eps = IN(eps, n * a);
    float *h_z = OUT(n * a);
    if (OK) host_noisy_point(be, n, a, h_act, lda, h_t, h_eps, h_z);
    PUT(z_t, h_z, n * a);
    END;
}

static void gen_gaussian_proposal(be_backend *be, size_t n, size_t k, size_t a, const float *z_t, const float *t,
                                  const float *uniforms, float *noise, float *out, size_t ldo)
{
    BEGIN;
    const float *h_z = IN(z_t, n * a), *h_t = IN(t, n), *h_u = IN(uniforms, n * k * a);
    float *h_noise = OUT(n * k * a), *h_out = IN(out, span(n * k, a, ldo));
    if (OK) host_gaussian_proposal(be, n, k, a, h_z, h_t, h_u, h_noise, h_out, ldo);
    PUT(noise, h_noise, n * k * a);
    PUT(out, h_out, span(n * k, a, ldo));
    END;
}

static void gen_expected_q(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits,
                           float *q)
{
    BEGIN;
    const float *h_logits = IN(logits, n * atoms);
    float *h_q = OUT(n);
    if (OK) host_expected_q(be, n, atoms, v_min, v_max, h_logits, h_q);
    PUT(q, h_q, n);
    END;
}

static void gen_combine_q(be_backend *be, size_t n, const float *q1, const float *q2, int clipped, float *out)
{
    BEGIN;
    const float *h_q1 = IN(q1, n), *h_q2 = IN(q2, n);
    float *h_out = OUT(n);
    if (OK) host_combine_q(be, n, h_q1, h_q2, clipped, h_out);
    PUT(out, h_out, n);
    END;
}

static void gen_c51_target(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                           const float *logits2, const float *reward, const float *mask, const float *next_logp,
                           const float *log_alpha, float gamma, int clipped, float *target)
{
    BEGIN;
    const float *h_l1 = IN(logits1, n * atoms), *h_l2 = IN(logits2, n * atoms), *h_r = IN(reward, n);
    const float *h_m = IN(mask, n), *h_nl = IN(next_logp, n), *h_la = IN(log_alpha, 1);
    float *h_target = OUT(n * atoms);
    if (OK) host_c51_target(be, n, atoms, v_min, v_max, h_l1, h_l2, h_r, h_m, h_nl, h_la, gamma, clipped, h_target);
    PUT(target, h_target, n * atoms);
    END;
}

static void gen_softmax_xent(be_backend *be, size_t n, size_t atoms, const float *logits, const float *target,
                             float *grad, float *loss)
{
    BEGIN;
    const float *h_logits = IN(logits, n * atoms), *h_target = IN(target, n * atoms);
    float *h_grad = OUT(n * atoms), *h_loss = OUT(1);
    if (OK) host_softmax_xent(be, n, atoms, h_logits, h_target, h_grad, h_loss);
    PUT(grad, h_grad, n * atoms);
    PUT(loss, h_loss, 1);
    END;
}

static void gen_snis(be_backend *be, size_t n, size_t k1, size_t k2, size_t a, const float *q_pol, const float *q_gauss,
                     const float *pol_a, const float *pol_logp, const float *gauss_a, const float *z_t, const float *t,
                     const float *log_alpha, float *log_w, float *w, float *ess_pol, float *ess_gauss, float *v_hat)
{
    BEGIN;
    const float *h_qp = IN(q_pol, n * k1), *h_qg = IN(q_gauss, n * k2), *h_pa = IN(pol_a, n * k1 * a);
    const float *h_pl = IN(pol_logp, n * k1), *h_ga = IN(gauss_a, n * k2 * a), *h_z = IN(z_t, n * a);
    const float *h_t = IN(t, n), *h_la = IN(log_alpha, 1);
    float *h_lw = OUT(n * (k1 + k2)), *h_w = OUT(n * (k1 + k2)), *h_ep = OUT(n), *h_eg = OUT(n), *h_v = OUT(n * a);
    if (OK) host_snis(be, n, k1, k2, a, h_qp, h_qg, h_pa, h_pl, h_ga, h_z, h_t, h_la, h_lw, h_w, h_ep, h_eg, h_v);
    PUT(log_w, h_lw, n * (k1 + k2));
    PUT(w, h_w, n * (k1 + k2));
    PUT(ess_pol, h_ep, n);
    PUT(ess_gauss, h_eg, n);
    PUT(v_hat, h_v, n * a);
    END;
}

static void gen_meanflow_loss(be_backend *be, size_t n, size_t w, const float *pred, const float *dot, const float *vel,
                              const float *h, float *tgt, float *grad, float *loss)
{
    BEGIN;
    const float *h_pred = IN(pred, n * w), *h_dot = IN(dot, n * w), *h_vel = IN(vel, n * w), *h_h = IN(h, n);
    float *h_tgt = OUT(n * w), *h_grad = OUT(n * w), *h_loss = OUT(1);
    if (OK) host_meanflow_loss(be, n, w, h_pred, h_dot, h_vel, h_h, h_tgt, h_grad, h_loss);
    PUT(tgt, h_tgt, n * w);
    PUT(grad, h_grad, n * w);
    PUT(loss, h_loss, 1);
    END;
}

static void gen_row_dot(be_backend *be, size_t n, size_t a, const float *e, const float *jv, float scale, float *acc,
                        int accumulate)
{
    BEGIN;
    const float *h_e = IN(e, n * a), *h_jv = IN(jv, n * a);
    float *h_acc = accumulate ? IN(acc, n) : OUT(n);
    if (OK) host_row_dot(be, n, a, h_e, h_jv, scale, h_acc, accumulate);
    PUT(acc, h_acc, n);
    END;
}

static void gen_mean(be_backend *be, size_t n, const float *x, float *out)
{
    BEGIN;
    const float *h_x = IN(x, n);
    float *h_out = OUT(1);
    if (OK) host_mean(be, n, h_x, h_out);
    PUT(out, h_out, 1);
    END;
}

static void gen_temperature_grad(be_backend *be, const float *mean_logp, const float *log_alpha, float target_entropy,
                                 float *loss, float *grad)
{
    BEGIN;
    const float *h_ml = IN(mean_logp, 1), *h_la = IN(log_alpha, 1);
    float *h_loss = OUT(1), *h_grad = OUT(1);
    if (OK) host_temperature_grad(be, h_ml, h_la, target_entropy, h_loss, h_grad);
    PUT(loss, h_loss, 1);
    PUT(grad, h_grad, 1);
    END;
}

static void gen_select_best(be_backend *be, size_t n, size_t k, size_t a, const float *q, const float *cand, size_t ldc,
                            float *out)
{
    BEGIN;
    const float *h_q = IN(q, n * k), *h_cand = IN(cand, span(n * k, a, ldc));
    float *h_out = OUT(n * a);
    if (OK) host_select_best(be, n, k, a, h_q, h_cand, ldc, h_out);
    PUT(out, h_out, n * a);
    END;
}

const algo_kernels algo_kernels_generic = {
    .sampler_init = gen_sampler_init,
    .sampler_step = gen_sampler_step,
    .clip_actions = gen_clip_actions,
    .flow_times = gen_flow_times,
    .noisy_point = gen_noisy_point,
    .gaussian_proposal = gen_gaussian_proposal,
    .expected_q = gen_expected_q,
    .combine_q = gen_combine_q,
    .c51_target = gen_c51_target,
    .softmax_xent = gen_softmax_xent,
    .snis = gen_snis,
    .meanflow_loss = gen_meanflow_loss,
    .row_dot = gen_row_dot,
    .mean = gen_mean,
    .temperature_grad = gen_temperature_grad,
    .select_best = gen_select_best,
};
