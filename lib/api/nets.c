/* The network handles: mfpo_policy, mfpo_divergence, mfpo_critic (include/mfpo/nets.h): argument
 * checks and handle bookkeeping; sampling and scoring are lib/algo/nets.c. */
/* This file defines mfpo_policy_transport(), declared in include/mfpo/experimental.h. */
#define MFPO_EXPERIMENTAL
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <mfpo/experimental.h>

#include "../algo/internal.h"
#include "../core/alloc.h"
#include "checks.h"

/* ------------------------------------------------------------------ parameters */

static mfpo_status get_params(mfpo_context *ctx, const char *who, const float *src, size_t n, float *params,
                              size_t count)
{
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, params);
    if (count != n)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: count = %zu does not match the parameter count %zu", who,
                         count, n);
    ctx->be->ops->download(ctx->be, params, src, n * sizeof(float));
    return MFPO_OK;
}

static mfpo_status set_params(mfpo_context *ctx, const char *who, float *dst, size_t n, const float *params,
                              size_t count)
{
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, params);
    if (count != n)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: count = %zu does not match the parameter count %zu", who,
                         count, n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(params[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: params[%zu] = %g is not finite", who, i, (double)params[i]);
    ctx->be->ops->upload(ctx->be, dst, params, n * sizeof(float));
    return MFPO_OK;
}

/* ------------------------------------------------------------------ policy */

mfpo_status mfpo_policy_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_policy **out)
{
    static const char who[] = "mfpo_policy_create";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    core_clear_error(ctx);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, out);
    *out = NULL;
    mfpo_policy *p = core_alloc(&ctx->allocator, sizeof *p, 64);
    if (!p) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    mfpo_status s = algo_config_import(ctx, who, config, &p->cfg);
    if (s != MFPO_OK) {
        core_free(&ctx->allocator, p);
        return s;
    }
    algo_flow_layout(&p->layout, &p->cfg, p->cfg.act_dim);
    p->params = ctx->be->ops->alloc(ctx->be, p->layout.n_params * sizeof(float));
    if (!p->params) {
        core_free(&ctx->allocator, p);
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu parameters", who, p->layout.n_params);
    }
    s = algo_init_net_params(ctx, &p->layout, p->cfg.fourier_init_std, p->params);
    if (s != MFPO_OK) {
        ctx->be->ops->free(ctx->be, p->params);
        core_free(&ctx->allocator, p);
        return s;
    }
    *out = p;
    api_context_retain(ctx);
    return MFPO_OK;
}

void mfpo_policy_destroy(mfpo_policy *p)
{
    if (!p || p->part_of_agent) return;
    mfpo_context *ctx = p->ctx;
    algo_policy_release_workspace(p);
    ctx->be->ops->free(ctx->be, p->params);
    core_free(&ctx->allocator, p);
    api_context_release(ctx);
}

mfpo_context *mfpo_policy_context(const mfpo_policy *p)
{
    return p ? p->ctx : NULL;
}

size_t mfpo_policy_param_count(const mfpo_policy *p)
{
    return p ? p->layout.n_params : 0;
}

mfpo_status mfpo_policy_get_params(const mfpo_policy *p, float *params, size_t count)
{
    if (!p) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_get_params: argument 'policy' is NULL");
    core_clear_error(p->ctx);
    return get_params(p->ctx, "mfpo_policy_get_params", p->params, p->layout.n_params, params, count);
}

mfpo_status mfpo_policy_set_params(mfpo_policy *p, const float *params, size_t count)
{
    if (!p) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_set_params: argument 'policy' is NULL");
    core_clear_error(p->ctx);
    return set_params(p->ctx, "mfpo_policy_set_params", p->params, p->layout.n_params, params, count);
}

static mfpo_status check_obs(mfpo_context *ctx, const char *who, const float *obs, size_t n, size_t S)
{
    for (size_t i = 0; i < n * S; i++)
        if (!isfinite(obs[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: obs[%zu] (row %zu) = %g is not finite", who, i, i / S,
                             (double)obs[i]);
    return MFPO_OK;
}

/* The sampling calls' checks: noise NULL draws it from the context stream. */
static mfpo_status sample_common(mfpo_policy *p, const mfpo_divergence *d, const float *obs, const float *noise,
                                 size_t n, float *actions, float *logp, const char *who)
{
    mfpo_context *ctx = p->ctx;
    size_t A = p->cfg.act_dim, S = p->cfg.obs_dim;
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, obs);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, actions);
    if (n == 0 || n > ((size_t)1 << 24))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: n = %zu is outside [1, 2^24]", who, n);
    mfpo_status s = check_obs(ctx, who, obs, n, S);
    for (size_t i = 0; noise && s == MFPO_OK && i < n * A; i++)
        if (!isfinite(noise[i]))
            s = core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: noise[%zu] = %g is not finite", who, i, (double)noise[i]);
    if (s != MFPO_OK) return s;
    return algo_policy_sample(p, d, obs, noise, n, actions, logp, who);
}

mfpo_status mfpo_policy_sample(mfpo_policy *p, const float *obs, size_t n, float *actions)
{
    if (!p) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_sample: argument 'policy' is NULL");
    core_clear_error(p->ctx);
    return sample_common(p, NULL, obs, NULL, n, actions, NULL, "mfpo_policy_sample");
}

/* A divergence net usable with this policy: same context and dimensions. */
static mfpo_status check_pair(const mfpo_policy *p, const mfpo_divergence *d, const char *who)
{
    if (d->ctx != p->ctx)
        return core_fail(p->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: 'divergence' belongs to another context", who);
    if (d->cfg.obs_dim != p->cfg.obs_dim || d->cfg.act_dim != p->cfg.act_dim ||
        d->cfg.sampling_steps != p->cfg.sampling_steps)
        return core_fail(p->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: 'divergence' has obs_dim %zu, act_dim %zu, steps %zu but the policy has %zu, %zu, %zu",
                         who, d->cfg.obs_dim, d->cfg.act_dim, d->cfg.sampling_steps, p->cfg.obs_dim, p->cfg.act_dim,
                         p->cfg.sampling_steps);
    return MFPO_OK;
}

mfpo_status mfpo_policy_sample_logp(mfpo_policy *p, const mfpo_divergence *d, const float *obs, size_t n,
                                    float *actions, float *logp)
{
    static const char who[] = "mfpo_policy_sample_logp";
    if (!p) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'policy' is NULL", who);
    core_clear_error(p->ctx);
    if (!d) return core_fail(p->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'divergence' is NULL", who);
    MFPO_CHECK_NOT_NULL_WHO(p->ctx, who, logp);
    mfpo_status s = check_pair(p, d, who);
    return s != MFPO_OK ? s : sample_common(p, d, obs, NULL, n, actions, logp, who);
}

mfpo_status mfpo_policy_transport(mfpo_policy *p, const mfpo_divergence *d, const float *obs, const float *noise,
                                  size_t n, float *actions, float *logp)
{
    static const char who[] = "mfpo_policy_transport";
    if (!p) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'policy' is NULL", who);
    core_clear_error(p->ctx);
    MFPO_CHECK_NOT_NULL_WHO(p->ctx, who, noise);
    if (d) {
        MFPO_CHECK_NOT_NULL_WHO(p->ctx, who, logp);
        mfpo_status s = check_pair(p, d, who);
        if (s != MFPO_OK) return s;
    }
    return sample_common(p, d, obs, noise, n, actions, logp, who);
}

/* ------------------------------------------------------------------ divergence */

mfpo_status mfpo_divergence_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_divergence **out)
{
    static const char who[] = "mfpo_divergence_create";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    core_clear_error(ctx);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, out);
    *out = NULL;
    mfpo_divergence *d = core_alloc(&ctx->allocator, sizeof *d, 64);
    if (!d) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    memset(d, 0, sizeof *d);
    d->ctx = ctx;
    mfpo_status s = algo_config_import(ctx, who, config, &d->cfg);
    if (s == MFPO_OK) {
        algo_flow_layout(&d->layout, &d->cfg, 1);
        d->params = ctx->be->ops->alloc(ctx->be, d->layout.n_params * sizeof(float));
        s = d->params ? algo_init_net_params(ctx, &d->layout, d->cfg.fourier_init_std, d->params)
                      : core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    }
    if (s != MFPO_OK) {
        if (d->params) ctx->be->ops->free(ctx->be, d->params);
        core_free(&ctx->allocator, d);
        return s;
    }
    *out = d;
    api_context_retain(ctx);
    return MFPO_OK;
}

void mfpo_divergence_destroy(mfpo_divergence *d)
{
    if (!d || d->part_of_agent) return;
    mfpo_context *ctx = d->ctx;
    ctx->be->ops->free(ctx->be, d->params);
    core_free(&ctx->allocator, d);
    api_context_release(ctx);
}

mfpo_context *mfpo_divergence_context(const mfpo_divergence *d)
{
    return d ? d->ctx : NULL;
}

size_t mfpo_divergence_param_count(const mfpo_divergence *d)
{
    return d ? d->layout.n_params : 0;
}

mfpo_status mfpo_divergence_get_params(const mfpo_divergence *d, float *params, size_t count)
{
    if (!d)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_divergence_get_params: argument 'divergence' is NULL");
    core_clear_error(d->ctx);
    return get_params(d->ctx, "mfpo_divergence_get_params", d->params, d->layout.n_params, params, count);
}

mfpo_status mfpo_divergence_set_params(mfpo_divergence *d, const float *params, size_t count)
{
    if (!d)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_divergence_set_params: argument 'divergence' is NULL");
    core_clear_error(d->ctx);
    return set_params(d->ctx, "mfpo_divergence_set_params", d->params, d->layout.n_params, params, count);
}

/* ------------------------------------------------------------------ critic */

mfpo_status mfpo_critic_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_critic **out)
{
    static const char who[] = "mfpo_critic_create";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    core_clear_error(ctx);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, out);
    *out = NULL;
    mfpo_critic *c = core_alloc(&ctx->allocator, sizeof *c, 64);
    if (!c) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    mfpo_status s = algo_config_import(ctx, who, config, &c->cfg);
    if (s == MFPO_OK) {
        algo_critic_layout(&c->layout, &c->cfg);
        size_t n = c->layout.n_params;
        for (int k = 0; k < 2 && s == MFPO_OK; k++) {
            c->online[k] = ctx->be->ops->alloc(ctx->be, n * sizeof(float));
            c->target[k] = ctx->be->ops->alloc(ctx->be, n * sizeof(float));
            if (!c->online[k] || !c->target[k]) s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
            if (s == MFPO_OK) s = algo_init_net_params(ctx, &c->layout, 0.0f, c->online[k]);
            if (s == MFPO_OK) ctx->be->ops->copy(ctx->be, c->target[k], c->online[k], n * sizeof(float));
        }
    }
    if (s != MFPO_OK) {
        for (int k = 0; k < 2; k++) {
            if (c->online[k]) ctx->be->ops->free(ctx->be, c->online[k]);
            if (c->target[k]) ctx->be->ops->free(ctx->be, c->target[k]);
        }
        core_free(&ctx->allocator, c);
        return s;
    }
    *out = c;
    api_context_retain(ctx);
    return MFPO_OK;
}

void mfpo_critic_destroy(mfpo_critic *c)
{
    if (!c || c->part_of_agent) return;
    mfpo_context *ctx = c->ctx;
    algo_critic_release_workspace(c);
    for (int k = 0; k < 2; k++) {
        ctx->be->ops->free(ctx->be, c->online[k]);
        ctx->be->ops->free(ctx->be, c->target[k]);
    }
    core_free(&ctx->allocator, c);
    api_context_release(ctx);
}

mfpo_context *mfpo_critic_context(const mfpo_critic *c)
{
    return c ? c->ctx : NULL;
}

size_t mfpo_critic_param_count(const mfpo_critic *c)
{
    return c ? c->layout.n_params : 0;
}

mfpo_status mfpo_critic_q(mfpo_critic *c, const float *obs, const float *actions, size_t n, int use_targets, float *q)
{
    static const char who[] = "mfpo_critic_q";
    if (!c) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'critic' is NULL", who);
    core_clear_error(c->ctx);
    mfpo_context *ctx = c->ctx;
    size_t S = c->cfg.obs_dim, A = c->cfg.act_dim;
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, obs);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, actions);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, q);
    if (n == 0 || n > ((size_t)1 << 24))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: n = %zu is outside [1, 2^24]", who, n);
    if (use_targets != 0 && use_targets != 1)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: use_targets = %d is not 0 or 1", who, use_targets);
    mfpo_status s = check_obs(ctx, who, obs, n, S);
    if (s != MFPO_OK) return s;
    for (size_t i = 0; i < n * A; i++)
        if (!isfinite(actions[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: actions[%zu] = %g is not finite", who, i,
                             (double)actions[i]);
    return algo_critic_q(c, obs, actions, n, use_targets, q, who);
}
