/*
 * The agent (lib/algo/agent.h): creation, acting, action selection. Arguments were checked by
 * lib/api/agent.c; `who` names the public function the caller called, for the messages.
 */
#include "agent.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"

#define OPS (be->ops)
#define KRN (algo_kernels_of(be)) /* lib/algo/kernels.h */

void algo_agent_destroy(mfpo_agent *ag)
{
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    if (ag->ws.host_batch) core_free(&ctx->allocator, ag->ws.host_batch);
    ag->ws.host_batch = NULL;
    for (int k = 0; k < 2; k++)
        if (ag->graph[k]) OPS->graph_destroy(be, ag->graph[k]);
    algo_update_ws_free(&ag->ws, be);
    if (ag->policy.ctx) algo_policy_release_workspace(&ag->policy); /* wired only once creation got far */
    if (ag->critic.ctx) algo_critic_release_workspace(&ag->critic);
    algo_sampler_free(&ag->act_sampler, be);
    nn_cache_free(&ag->act_q_cache[0], be);
    nn_cache_free(&ag->act_q_cache[1], be);
    if (ag->act_io) OPS->free(be, ag->act_io);
    if (ag->state) OPS->free(be, ag->state);
    if (ag->backup) OPS->free(be, ag->backup);
    core_free(&ctx->allocator, ag);
}

/* Points the agent's embedded handles into its state buffer. */
static void wire_parts(mfpo_agent *ag)
{
    ag->policy = (struct mfpo_policy){
        .ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->ul, .params = ag->state + ag->off.u, .part_of_agent = 1
    };
    ag->divergence = (struct mfpo_divergence){
        .ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->dl, .params = ag->state + ag->off.d, .part_of_agent = 1
    };
    ag->critic = (struct mfpo_critic){ .ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->ql, .part_of_agent = 1 };
    for (int k = 0; k < 2; k++) {
        ag->critic.online[k] = ag->state + ag->off.q[k];
        ag->critic.target[k] = ag->state + ag->off.qt[k];
    }
}

mfpo_status algo_agent_create(mfpo_context *ctx, const char *who, const mfpo_agent_config *cfg, mfpo_agent **out)
{
    be_backend *be = ctx->be;
    mfpo_agent *ag = core_alloc(&ctx->allocator, sizeof *ag, 64);
    if (!ag) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    memset(ag, 0, sizeof *ag);
    ag->ctx = ctx;
    ag->cfg = *cfg;
    algo_flow_layout(&ag->ul, cfg, cfg->act_dim);
    algo_flow_layout(&ag->dl, cfg, 1);
    algo_critic_layout(&ag->ql, cfg);
    algo_state_layout_init(&ag->off, ag->ul.n_params, ag->dl.n_params, ag->ql.n_params);
    ag->state = OPS->alloc(be, ag->off.total * sizeof(float));
    ag->backup = OPS->alloc(be, ag->off.total * sizeof(float));
    if (!ag->state || !ag->backup || algo_update_ws_init(&ag->ws, ag) != 0) {
        algo_agent_destroy(ag);
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the agent's state and workspaces", who);
    }
    /* docs/algorithm.md §2 initialization; the targets start as copies of the online critics */
    mfpo_status s = algo_init_net_params(ctx, &ag->ul, cfg->fourier_init_std, ag->state + ag->off.u);
    if (s == MFPO_OK) s = algo_init_net_params(ctx, &ag->dl, cfg->fourier_init_std, ag->state + ag->off.d);
    for (int k = 0; k < 2 && s == MFPO_OK; k++) {
        s = algo_init_net_params(ctx, &ag->ql, 0.0f, ag->state + ag->off.q[k]);
        OPS->copy(be, ag->state + ag->off.qt[k], ag->state + ag->off.q[k], ag->ql.n_params * sizeof(float));
    }
    if (s != MFPO_OK) {
        algo_agent_destroy(ag);
        return s;
    }
    float log_alpha = logf(cfg->init_alpha);
    OPS->upload(be, ag->state + ag->off.log_alpha, &log_alpha, sizeof log_alpha);
    wire_parts(ag);
    *out = ag;
    return MFPO_OK;
}

float algo_agent_alpha(const mfpo_agent *ag)
{
    float la = 0.0f;
    ag->ctx->be->ops->download(ag->ctx->be, &la, ag->state + ag->off.log_alpha, sizeof la);
    return expf(la);
}

mfpo_status algo_agent_act(mfpo_agent *ag, const char *who, const float *obs, size_t n, float *actions)
{
    return algo_policy_sample(&ag->policy, NULL, obs, NULL, n, actions, NULL, who);
}

/* Grows the selection workspace to n states (n * candidates rows). */
static mfpo_status select_reserve(mfpo_agent *ag, size_t n, const char *who)
{
    be_backend *be = ag->ctx->be;
    size_t K = ag->cfg.eval_candidates, S = ag->cfg.obs_dim, A = ag->cfg.act_dim, rows = n * K;
    if (n <= ag->act_cap) return MFPO_OK;
    algo_sampler_free(&ag->act_sampler, be);
    nn_cache_free(&ag->act_q_cache[0], be);
    nn_cache_free(&ag->act_q_cache[1], be);
    if (ag->act_io) OPS->free(be, ag->act_io);
    ag->act_io = NULL;
    ag->act_cap = 0;
    if (algo_sampler_init(&ag->act_sampler, be, &ag->ul, NULL, rows, &ag->cfg) != 0 ||
        nn_cache_init(&ag->act_q_cache[0], be, &ag->ql, rows, 1, 0) != 0 ||
        nn_cache_init(&ag->act_q_cache[1], be, &ag->ql, rows, 1, 0) != 0 ||
        !(ag->act_io = OPS->alloc(be, (n * (S + A) + rows * (A + 3)) * sizeof(float))))
        return core_fail(ag->ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for n = %zu states", who, n);
    ag->act_cap = n;
    return MFPO_OK;
}

mfpo_status algo_agent_select(mfpo_agent *ag, const char *who, const float *obs, size_t n, float *actions)
{
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    size_t K = ag->cfg.eval_candidates, S = ag->cfg.obs_dim, A = ag->cfg.act_dim;
    mfpo_status s = select_reserve(ag, n, who);
    if (s != MFPO_OK) return s;
    size_t rows = n * K;
    float *obs_dev = ag->act_io, *best = obs_dev + n * S, *cand = best + n * A;
    float *q1 = cand + rows * A, *q2 = q1 + rows, *q = q2 + rows;
    float *targets[2] = { ag->state + ag->off.qt[0], ag->state + ag->off.qt[1] };
    OPS->upload(be, obs_dev, obs, n * S * sizeof(float));
    /* K plain samples per state, scored by the target critics, the best kept */
    algo_sampler_set_obs(&ag->act_sampler, obs_dev, S, K);
    algo_sampler_run(&ag->act_sampler, be, &ag->ul, ag->state + ag->off.u, NULL, NULL, rows, be_reserve_streams(ctx, 1),
                     0, cand, A, NULL);
    algo_critic_score(be, &ag->cfg, &ag->ql, targets, ag->act_q_cache, rows, cand, A, obs_dev, S, K, q1, q2, q);
    KRN->select_best(be, n, K, A, q, cand, A, best);
    OPS->download(be, actions, best, n * A * sizeof(float));
    return algo_check_outputs(ctx, who, "action", actions, n * A, A);
}
