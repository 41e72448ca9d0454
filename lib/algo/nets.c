/*
 * The algorithm side of the network handles (policy, divergence, critic): parameter
 * initialization, sampling and scoring with their on-demand workspaces. lib/api/nets.c checks the
 * public calls' arguments and calls these.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#include "../backend/error.h"

#include "../core/alloc.h"

#define OPS (be->ops)

/* Initializes n_params floats of backend memory with docs/algorithm.md §2's scheme from the context stream. */
mfpo_status algo_init_net_params(mfpo_context *ctx, const nn_layout *l, float fourier_std, float *dst)
{
    float *host = core_alloc(&ctx->allocator, l->n_params * sizeof(float), 64);
    if (!host) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "out of memory initializing %zu parameters", l->n_params);
    nn_init_params(l, host, fourier_std, ctx->seed, core_next_stream(ctx));
    ctx->be->ops->upload(ctx->be, dst, host, l->n_params * sizeof(float));
    core_free(&ctx->allocator, host);
    return MFPO_OK;
}

mfpo_status algo_check_outputs(mfpo_context *ctx, const char *who, const char *what, const float *x, size_t n,
                               size_t row_width)
{
    char why[256];
    int failed = be_take_error(ctx->be, why, sizeof why);
    if (failed) return core_fail(ctx, (mfpo_status)failed, "%s: the backend failed: %s", who, why);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE,
                             "%s: the networks produced a non-finite %s for row %zu (are the inputs of that row "
                             "within a range the networks can take?)",
                             who, what, i / row_width);
    return MFPO_OK;
}

/* ------------------------------------------------------------------ policy */

void algo_policy_release_workspace(mfpo_policy *p)
{
    be_backend *be = p->ctx->be;
    algo_sampler_free(&p->sampler, be);
    if (p->io) OPS->free(be, p->io);
    p->io = NULL;
    p->io_cap = 0;
}

/* Grows the policy's sampling workspace to n rows (the only allocation of the sampling calls). */
static mfpo_status policy_reserve(mfpo_policy *p, const nn_layout *dl, size_t n, const char *who)
{
    be_backend *be = p->ctx->be;
    size_t A = p->cfg.act_dim, S = p->cfg.obs_dim;
    if (n <= p->io_cap && (!dl || p->sampler.d_cache.block)) return MFPO_OK;
    algo_policy_release_workspace(p);
    if (algo_sampler_init(&p->sampler, be, &p->layout, dl, n, &p->cfg) != 0 ||
        !(p->io = OPS->alloc(be, n * (S + A + 1) * sizeof(float)))) {
        algo_policy_release_workspace(p);
        return core_fail(p->ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for a workspace of n = %zu rows", who, n);
    }
    p->io_cap = n;
    return MFPO_OK;
}

mfpo_status algo_policy_sample(mfpo_policy *p, const mfpo_divergence *d, const float *obs, const float *noise, size_t n,
                               float *actions, float *logp, const char *who)
{
    mfpo_context *ctx = p->ctx;
    be_backend *be = ctx->be;
    size_t A = p->cfg.act_dim, S = p->cfg.obs_dim;
    mfpo_status s = policy_reserve(p, d ? &d->layout : NULL, n, who);
    if (s != MFPO_OK) return s;
    float *obs_dev = p->io, *act_dev = p->io + n * S, *logp_dev = act_dev + n * A;
    OPS->upload(be, obs_dev, obs, n * S * sizeof(float));
    if (noise) OPS->upload(be, p->sampler.eps, noise, n * A * sizeof(float));
    algo_sampler_set_obs(&p->sampler, obs_dev, S, 1);
    algo_sampler_run(&p->sampler, be, &p->layout, p->params, d ? &d->layout : NULL, d ? d->params : NULL, n,
                     noise ? NULL : be_reserve_streams(ctx, 1), 0, act_dev, A, d ? logp_dev : NULL);
    OPS->download(be, actions, act_dev, n * A * sizeof(float));
    if (d) OPS->download(be, logp, logp_dev, n * sizeof(float));
    s = algo_check_outputs(ctx, who, "action", actions, n * A, A);
    if (s == MFPO_OK && d) s = algo_check_outputs(ctx, who, "log-likelihood", logp, n, 1);
    return s;
}

/* ------------------------------------------------------------------ critic */

void algo_critic_release_workspace(mfpo_critic *c)
{
    be_backend *be = c->ctx->be;
    nn_cache_free(&c->cache[0], be);
    nn_cache_free(&c->cache[1], be);
    if (c->io) OPS->free(be, c->io);
    c->io = NULL;
    c->io_cap = 0;
}

mfpo_status algo_critic_q(mfpo_critic *c, const float *obs, const float *actions, size_t n, int use_targets, float *q,
                          const char *who)
{
    mfpo_context *ctx = c->ctx;
    be_backend *be = ctx->be;
    size_t S = c->cfg.obs_dim, A = c->cfg.act_dim;
    if (n > c->io_cap) {
        algo_critic_release_workspace(c);
        if (nn_cache_init(&c->cache[0], be, &c->layout, n, 1, 0) != 0 ||
            nn_cache_init(&c->cache[1], be, &c->layout, n, 1, 0) != 0 ||
            !(c->io = OPS->alloc(be, n * (S + A + 3) * sizeof(float)))) {
            algo_critic_release_workspace(c);
            return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for n = %zu rows", who, n);
        }
        c->io_cap = n;
    }
    float *obs_dev = c->io, *act_dev = obs_dev + n * S;
    float *q1 = act_dev + n * A, *q2 = q1 + n, *qq = q2 + n;
    OPS->upload(be, obs_dev, obs, n * S * sizeof(float));
    OPS->upload(be, act_dev, actions, n * A * sizeof(float));
    algo_critic_score(be, &c->cfg, &c->layout, use_targets ? c->target : c->online, c->cache, n, act_dev, A, obs_dev, S,
                      1, q1, q2, qq);
    OPS->download(be, q, qq, n * sizeof(float));
    return algo_check_outputs(ctx, who, "Q value", q, n, 1);
}
