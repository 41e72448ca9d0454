/*
 * One MFPO update, docs/algorithm.md §4 (a)–(d), on the backend interface. The batch is already in ws->s, a,
 * r, s2, mask (see algo_update in lib/algo/driver.c). Stages run in the order of docs/algorithm.md §4, each one on the
 * parameters the previous left: (b) scores with the critics (a) just stepped, (c) uses the u that
 * (b) just stepped, (d) uses the entropy estimate of (b).
 */
#include <string.h>

#include "update.h"

#include "../core/alloc.h"

#define OPS (be->ops)
#define KRN (algo_kernels_of(be)) /* lib/algo/kernels.h */

void algo_state_layout_init(algo_state_layout *s, size_t n_u, size_t n_d, size_t n_q)
{
    size_t at = 0;
#define PLACE(field, n) (s->field = at, at += ((n) + 15) & ~(size_t)15)
    PLACE(u, n_u);
    PLACE(d, n_d);
    PLACE(q[0], n_q);
    PLACE(q[1], n_q);
    PLACE(qt[0], n_q);
    PLACE(qt[1], n_q);
    PLACE(log_alpha, 1);
    PLACE(m_u, n_u);
    PLACE(v_u, n_u);
    PLACE(m_d, n_d);
    PLACE(v_d, n_d);
    PLACE(m_q[0], n_q);
    PLACE(v_q[0], n_q);
    PLACE(m_q[1], n_q);
    PLACE(v_q[1], n_q);
    PLACE(m_alpha, 1);
    PLACE(v_alpha, 1);
#undef PLACE
    s->total = at;
}

/* ------------------------------------------------------------------ workspace */

typedef struct carver {
    float *base;
    size_t used;
} carver;

static float *carve(carver *cv, size_t n)
{
    float *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += (n + 15) & ~(size_t)15;
    return p;
}

static void ws_carve(algo_update_ws *w, carver *cv)
{
    size_t B = w->B, S = w->S, A = w->A, K1 = w->K1, K2 = w->K2, P = w->P, N = w->N, K = K1 + K2;
    w->s = carve(cv, B * S);
    w->a = carve(cv, B * A);
    w->r = carve(cv, B);
    w->s2 = carve(cv, B * S);
    w->mask = carve(cv, B);
    w->crit_eps = carve(cv, B * A);
    w->next_a = carve(cv, B * A);
    w->next_logp = carve(cv, B);
    w->xq = carve(cv, B * (S + A));
    w->target_dist = carve(cv, B * N);
    for (int k = 0; k < 2; k++) {
        w->g_logits[k] = carve(cv, B * N);
        w->q_online[k] = carve(cv, B);
    }
    w->q_batch = carve(cv, B);
    w->tr_normal = carve(cv, 2 * B);
    w->t = carve(cv, B);
    w->r_time = carve(cv, B);
    w->h = carve(cv, B);
    w->pol_a = carve(cv, B * K1 * A);
    w->pol_logp = carve(cv, B * K1);
    w->eps_noisy = carve(cv, B * A);
    w->z_t = carve(cv, B * A);
    w->uniforms = carve(cv, B * K2 * A);
    w->trunc_n = carve(cv, B * K2 * A);
    w->gauss_a = carve(cv, B * K2 * A);
    w->q1 = carve(cv, B * K);
    w->q2 = carve(cv, B * K);
    w->q = carve(cv, B * K);
    w->log_w = carve(cv, B * K);
    w->w = carve(cv, B * K);
    w->ess_pol = carve(cv, B);
    w->ess_gauss = carve(cv, B);
    w->v_hat = carve(cv, B * A);
    w->xu = carve(cv, B * (A + S));
    w->u_tgt = carve(cv, B * A);
    w->g_u_out = carve(cv, B * A);
    w->tr_normal2 = carve(cv, 2 * B);
    w->t2 = carve(cv, B);
    w->r2 = carve(cv, B);
    w->h2 = carve(cv, B);
    w->zeros = carve(cv, B);
    w->div_eps = carve(cv, B * A);
    w->z_t2 = carve(cv, B * A);
    w->probes = carve(cv, P * B * A);
    w->div_est = carve(cv, B);
    w->v = carve(cv, B * A);
    w->d_tgt = carve(cv, B);
    w->g_d_out = carve(cv, B);
    w->scalars = carve(cv, SC_COUNT);
}

int algo_update_ws_init(algo_update_ws *w, mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    const mfpo_agent_config *c = &ag->cfg;
    carver cv = { NULL, 0 };
    memset(w, 0, sizeof *w);
    w->B = c->batch_size;
    w->S = c->obs_dim;
    w->A = c->act_dim;
    w->K1 = c->policy_samples;
    w->K2 = c->gaussian_samples;
    w->P = c->hutchinson_probes;
    w->N = c->atoms;
    ws_carve(w, &cv);
    w->block = OPS->alloc(be, cv.used * sizeof(float));
    w->host_batch = core_alloc(&ag->ctx->allocator, w->B * (2 * w->S + w->A + 2) * sizeof(float), 64);
    /* all gradients in one buffer (lib/algo/reduce.h): a data-parallel update reduces it in parts */
    algo_grad_layout_init(&w->grad_layout, ag->ql.n_params, ag->ul.n_params, ag->dl.n_params);
    w->grad = OPS->alloc(be, w->grad_layout.total * sizeof(float));
    w->steps = OPS->alloc(be, 2 * sizeof(uint64_t));
    if (!w->block || !w->host_batch || !w->grad || !w->steps) return -1;
    w->g_q[0] = w->grad + w->grad_layout.q[0];
    w->g_q[1] = w->grad + w->grad_layout.q[1];
    w->g_u = w->grad + w->grad_layout.u;
    w->g_d = w->grad + w->grad_layout.d;
    w->g_alpha = w->grad + w->grad_layout.alpha;
    cv = (carver){ w->block, 0 };
    ws_carve(w, &cv);
    size_t rows = w->B * (w->K1 > w->K2 ? w->K1 : w->K2); /* the larger of the two scoring blocks */
    for (int k = 0; k < 2; k++) {
        if (nn_cache_init(&w->q_train[k], be, &ag->ql, w->B, 1, 1) != 0) return -1;
        if (nn_cache_init(&w->q_infer[k], be, &ag->ql, rows, 1, 0) != 0) return -1;
    }
    if (nn_cache_init(&w->u_train, be, &ag->ul, w->B, w->B, 1) != 0) return -1;
    if (nn_cache_init(&w->d_train, be, &ag->dl, w->B, w->B, 1) != 0) return -1;
    if (algo_sampler_init(&w->sampler, be, &ag->ul, &ag->dl, w->B * w->K1, c) != 0) return -1;
    return 0;
}

void algo_update_ws_free(algo_update_ws *w, be_backend *be)
{
    if (w->block) OPS->free(be, w->block);
    if (w->grad) OPS->free(be, w->grad); /* g_q, g_u, g_d, g_alpha point into it */
    if (w->steps) OPS->free(be, w->steps);
    for (int k = 0; k < 2; k++) {
        nn_cache_free(&w->q_train[k], be);
        nn_cache_free(&w->q_infer[k], be);
    }
    nn_cache_free(&w->u_train, be);
    nn_cache_free(&w->d_train, be);
    algo_sampler_free(&w->sampler, be);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------------ shared pieces */

void algo_critic_score(be_backend *be, const mfpo_agent_config *cfg, const nn_layout *l, float *const params[2],
                       nn_cache cache[2], size_t n, const float *act, size_t lda, const float *obs, size_t lds,
                       size_t group, float *q1, float *q2, float *q)
{
    size_t S = cfg->obs_dim, A = cfg->act_dim;
    float *qk[2] = { q1, q2 };
    for (int k = 0; k < 2; k++) {
        /* input columns [s | a]: a per row, s once per group */
        nn_forward_grouped(be, l, params[k], &cache[k], n, act, lda, S, A, obs, lds, group, NULL, NULL, 1);
        KRN->expected_q(be, n, cfg->atoms, cfg->v_min, cfg->v_max, cache[k].out, qk[k]);
    }
    KRN->combine_q(be, n, q1, q2, cfg->clipped_double_q, q);
}

static float *st(mfpo_agent *ag, size_t off)
{
    return ag->state + off;
}

/* Rows < flow_rows of (b) and (c) use r = t (h = 0): plain flow matching on 75 % of the batch. */
static size_t flow_rows(const mfpo_agent_config *c)
{
    return (size_t)((double)c->flow_fraction * (double)c->batch_size);
}

/* ------------------------------------------------------------------ (a) critic */

static void critic_stage(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    algo_update_ws *w = &ag->ws;
    const mfpo_agent_config *c = &ag->cfg;
    size_t B = w->B, S = w->S, A = w->A, N = w->N, ld = S + A;
    float *online[2] = { st(ag, ag->off.q[0]), st(ag, ag->off.q[1]) };
    float *target[2] = { st(ag, ag->off.qt[0]), st(ag, ag->off.qt[1]) };

    /* (a', logp') at s' with the current u and d */
    OPS->rng_normal(be, w->crit_eps, B * A, w->key, RNG_CRIT_EPS);
    OPS->copy(be, w->sampler.eps, w->crit_eps, B * A * sizeof(float));
    algo_sampler_set_obs(&w->sampler, w->s2, S, 1);
    algo_sampler_run(&w->sampler, be, &ag->ul, st(ag, ag->off.u), &ag->dl, st(ag, ag->off.d), B, NULL, 0, w->next_a, A,
                     w->next_logp);

    /* target critics at (s', a') -> projected target distribution */
    for (int k = 0; k < 2; k++)
        nn_forward_grouped(be, &ag->ql, target[k], &w->q_infer[k], B, w->next_a, A, S, A, w->s2, S, 1, NULL, NULL, 1);
    KRN->c51_target(be, B, N, c->v_min, c->v_max, w->q_infer[0].out, w->q_infer[1].out, w->r, w->mask, w->next_logp,
                    st(ag, ag->off.log_alpha), c->gamma, c->clipped_double_q, w->target_dist);

    /* online critics at (s, a): cross-entropy, one Adam step each */
    OPS->copy_rows(be, B, S, w->xq, ld, w->s, S, 1);
    OPS->copy_rows(be, B, A, w->xq + S, ld, w->a, A, 1);
    for (int k = 0; k < 2; k++) {
        nn_forward(be, &ag->ql, online[k], &w->q_train[k], B, w->xq, ld, NULL, NULL, 1);
        KRN->expected_q(be, B, N, c->v_min, c->v_max, w->q_train[k].out, w->q_online[k]);
        KRN->softmax_xent(be, B, N, w->q_train[k].out, w->target_dist, w->g_logits[k], w->scalars + SC_LOSS_Q1 + k);
        nn_backward(be, &ag->ql, online[k], &w->q_train[k], w->g_logits[k], w->g_q[k], NULL, NULL, NULL);
    }
    /* data parallel: both critics' gradients summed over the ranks before either step (reduce.c);
     * critic 2's pass does not read critic 1's parameters, so the split loop changes no result */
    algo_reduce_grads(ag, REDUCE_CRITIC);
    for (int k = 0; k < 2; k++)
        OPS->adam(be, ag->ql.n_params, online[k], w->g_q[k], st(ag, ag->off.m_q[k]), st(ag, ag->off.v_q[k]),
                  c->lr_critic, c->adam_beta1, c->adam_beta2, c->adam_eps, w->steps);
    KRN->combine_q(be, B, w->q_online[0], w->q_online[1], c->clipped_double_q, w->q_batch);
    KRN->mean(be, B, w->q_batch, w->scalars + SC_MEAN_Q);
    for (int k = 0; k < 2; k++) OPS->polyak(be, ag->ql.n_params, target[k], online[k], c->tau);
}

/* ------------------------------------------------------------------ (b) actor */

static void actor_stage(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    algo_update_ws *w = &ag->ws;
    const mfpo_agent_config *c = &ag->cfg;
    size_t B = w->B, S = w->S, A = w->A, K1 = w->K1, K2 = w->K2;
    float *online[2] = { st(ag, ag->off.q[0]), st(ag, ag->off.q[1]) };
    float *u = st(ag, ag->off.u);

    /* (t, r) per row */
    OPS->rng_normal(be, w->tr_normal, 2 * B, w->key, RNG_TIMES);
    KRN->flow_times(be, B, w->tr_normal, c->time_mean, c->time_std, flow_rows(c), w->t, w->r_time, w->h);

    /* policy proposal: K1 samples with likelihood at each s */
    algo_sampler_set_obs(&w->sampler, w->s, S, K1);
    algo_sampler_run(&w->sampler, be, &ag->ul, u, &ag->dl, st(ag, ag->off.d), B * K1, w->key, RNG_POLICY, w->pol_a, A,
                     w->pol_logp);

    /* noisy point from the first policy sample; Gaussian proposal around it */
    OPS->rng_normal(be, w->eps_noisy, B * A, w->key, RNG_NOISY);
    KRN->noisy_point(be, B, A, w->pol_a, K1 * A, w->t, w->eps_noisy, w->z_t);
    OPS->rng_uniform(be, w->uniforms, B * K2 * A, w->key, RNG_GAUSS);
    KRN->gaussian_proposal(be, B, K2, A, w->z_t, w->t, w->uniforms, w->trunc_n, w->gauss_a, A);

    /* score all B (K1 + K2) candidates with the online critics (q: policy block, then Gaussian) */
    algo_critic_score(be, c, &ag->ql, online, w->q_infer, B * K1, w->pol_a, A, w->s, S, K1, w->q1, w->q2, w->q);
    algo_critic_score(be, c, &ag->ql, online, w->q_infer, B * K2, w->gauss_a, A, w->s, S, K2, w->q1 + B * K1,
                      w->q2 + B * K1, w->q + B * K1);

    /* self-normalized importance weights and the combined velocity target */
    KRN->snis(be, B, K1, K2, A, w->q, w->q + B * K1, w->pol_a, w->pol_logp, w->gauss_a, w->z_t, w->t,
              st(ag, ag->off.log_alpha), w->log_w, w->w, w->ess_pol, w->ess_gauss, w->v_hat);
    KRN->mean(be, B, w->ess_pol, w->scalars + SC_ESS_POL);
    KRN->mean(be, B, w->ess_gauss, w->scalars + SC_ESS_GAUSS);
    KRN->mean(be, B * K1, w->pol_logp, w->scalars + SC_MEAN_LOGP);

    /* MeanFlow loss: (u, du) along (v_hat, dt = 1, dr = 0), i.e. dh = 1 */
    OPS->copy_rows(be, B, A, w->xu, A + S, w->z_t, A, 1);
    OPS->copy_rows(be, B, S, w->xu + A, A + S, w->s, S, 1);
    nn_forward(be, &ag->ul, u, &w->u_train, B, w->xu, A + S, w->t, w->h, B);
    nn_jvp(be, &ag->ul, u, &w->u_train, w->v_hat, A, 1.0f, 1.0f);
    KRN->meanflow_loss(be, B, A, w->u_train.out, w->u_train.tout, w->v_hat, w->h, w->u_tgt, w->g_u_out,
                       w->scalars + SC_ACTOR_LOSS);
    nn_backward(be, &ag->ul, u, &w->u_train, w->g_u_out, w->g_u, NULL, NULL, NULL);
    algo_reduce_grads(ag, REDUCE_ACTOR); /* data parallel: u's gradient over the ranks */
    OPS->adam(be, ag->ul.n_params, u, w->g_u, st(ag, ag->off.m_u), st(ag, ag->off.v_u), c->lr_policy, c->adam_beta1,
              c->adam_beta2, c->adam_eps, w->steps + 1);
}

/* ------------------------------------------------------------------ (c) divergence */

static void temperature_gradient(mfpo_agent *ag);

static void divergence_stage(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    algo_update_ws *w = &ag->ws;
    const mfpo_agent_config *c = &ag->cfg;
    size_t B = w->B, S = w->S, A = w->A, P = w->P, K1 = w->K1;
    float *u = st(ag, ag->off.u), *d = st(ag, ag->off.d);

    OPS->rng_normal(be, w->tr_normal2, 2 * B, w->key, RNG_TIMES2);
    KRN->flow_times(be, B, w->tr_normal2, c->time_mean, c->time_std, flow_rows(c), w->t2, w->r2, w->h2);
    OPS->rng_normal(be, w->div_eps, B * A, w->key, RNG_DIV_EPS);
    KRN->noisy_point(be, B, A, w->pol_a, K1 * A, w->t2, w->div_eps, w->z_t2);
    OPS->rng_normal(be, w->probes, P * B * A, w->key, RNG_PROBES);

    /* v = u(s, z_t, t, 0) and the Hutchinson estimate of div v from forward-mode JVPs */
    OPS->copy_rows(be, B, A, w->xu, A + S, w->z_t2, A, 1);
    nn_forward(be, &ag->ul, u, &w->u_train, B, w->xu, A + S, w->t2, w->zeros, B);
    OPS->copy(be, w->v, w->u_train.out, B * A * sizeof(float));
    for (size_t p = 0; p < P; p++) {
        nn_jvp(be, &ag->ul, u, &w->u_train, w->probes + p * B * A, A, 0.0f, 0.0f);
        KRN->row_dot(be, B, A, w->probes + p * B * A, w->u_train.tout, 1.0f / (float)P, w->div_est, p > 0);
    }

    /* (d, dd) along (v, 1, 0); target div - clip(t - r) dd; MSE; one Adam step */
    nn_forward(be, &ag->dl, d, &w->d_train, B, w->xu, A + S, w->t2, w->h2, B);
    nn_jvp(be, &ag->dl, d, &w->d_train, w->v, A, 1.0f, 1.0f);
    KRN->meanflow_loss(be, B, 1, w->d_train.out, w->d_train.tout, w->div_est, w->h2, w->d_tgt, w->g_d_out,
                       w->scalars + SC_DIV_LOSS);
    nn_backward(be, &ag->dl, d, &w->d_train, w->g_d_out, w->g_d, NULL, NULL, NULL);
    /* data parallel: d's and log alpha's gradients in one call; the temperature gradient (d) is
     * formed here, before d's step, which it does not read (mean log p of (b), log alpha) */
    temperature_gradient(ag);
    algo_reduce_grads(ag, REDUCE_DIVERGENCE);
    OPS->adam(be, ag->dl.n_params, d, w->g_d, st(ag, ag->off.m_d), st(ag, ag->off.v_d), c->lr_divergence, c->adam_beta1,
              c->adam_beta2, c->adam_eps, w->steps + 1);
}

/* ------------------------------------------------------------------ (d) temperature */

/* The gradient of (d), formed in divergence_stage() before the reduction it shares with d. */
static void temperature_gradient(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    algo_update_ws *w = &ag->ws;
    const mfpo_agent_config *c = &ag->cfg;
    float target_entropy = c->target_entropy_coef * (float)c->act_dim;
    KRN->temperature_grad(be, w->scalars + SC_MEAN_LOGP, st(ag, ag->off.log_alpha), target_entropy,
                          w->scalars + SC_ALPHA_LOSS, w->g_alpha);
}

static void temperature_stage(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    algo_update_ws *w = &ag->ws;
    const mfpo_agent_config *c = &ag->cfg;
    if (c->auto_alpha)
        OPS->adam(be, 1, st(ag, ag->off.log_alpha), w->g_alpha, st(ag, ag->off.m_alpha), st(ag, ag->off.v_alpha),
                  c->lr_alpha, c->adam_beta1, c->adam_beta2, c->adam_eps, w->steps + 1);
}

static void hook(mfpo_agent *ag, int stage)
{
    if (ag->hook) ag->hook(ag->hook_user, stage, &ag->ws);
}

int algo_update_prepare(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    int actor = (ag->critic_steps + 1) % ag->cfg.actor_delay == 0;
    ag->critic_steps++;
    ag->actor_steps += (uint64_t)actor;
    uint64_t steps[2] = { ag->critic_steps, ag->actor_steps };
    OPS->upload(be, ag->ws.steps, steps, sizeof steps);
    ag->ws.key = be_reserve_streams(ag->ctx, RNG_STREAMS_PER_UPDATE);
    return actor;
}

void algo_update_stages(mfpo_agent *ag, int actor)
{
    hook(ag, 0);
    critic_stage(ag);
    hook(ag, 1);
    if (actor) {
        actor_stage(ag);
        hook(ag, 2);
        divergence_stage(ag);
        hook(ag, 3);
        temperature_stage(ag);
        hook(ag, 4);
    }
}

mfpo_status algo_update_run(mfpo_agent *ag)
{
    algo_update_stages(ag, algo_update_prepare(ag));
    return MFPO_OK;
}
