/* The agent (include/mfpo/agent.h): creation, acting, action selection and mfpo_update(). */
#include <math.h>
#include <string.h>

#include "../algo/update.h"
#include "../core/alloc.h"
#include "checks.h"
#include "../algo/replay.h"

#define OPS (be->ops)

static void agent_free(mfpo_agent *ag)
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
    ag->policy = (struct mfpo_policy){.ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->ul,
                                      .params = ag->state + ag->off.u, .part_of_agent = 1};
    ag->divergence = (struct mfpo_divergence){.ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->dl,
                                              .params = ag->state + ag->off.d, .part_of_agent = 1};
    ag->critic = (struct mfpo_critic){.ctx = ag->ctx, .cfg = ag->cfg, .layout = ag->ql, .part_of_agent = 1};
    for (int k = 0; k < 2; k++) {
        ag->critic.online[k] = ag->state + ag->off.q[k];
        ag->critic.target[k] = ag->state + ag->off.qt[k];
    }
}

mfpo_status mfpo_agent_create(mfpo_context *ctx, const mfpo_agent_config *config, mfpo_agent **out)
{
    static const char who[] = "mfpo_agent_create";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, out);
    *out = NULL;
    mfpo_agent_config cfg;
    mfpo_status s = algo_config_import(ctx, who, config, &cfg);
    if (s != MFPO_OK) return s;

    be_backend *be = ctx->be;
    mfpo_agent *ag = core_alloc(&ctx->allocator, sizeof *ag, 64);
    if (!ag) return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    memset(ag, 0, sizeof *ag);
    ag->ctx = ctx;
    ag->cfg = cfg;
    algo_flow_layout(&ag->ul, &cfg, cfg.act_dim);
    algo_flow_layout(&ag->dl, &cfg, 1);
    algo_critic_layout(&ag->ql, &cfg);
    algo_state_layout_init(&ag->off, ag->ul.n_params, ag->dl.n_params, ag->ql.n_params);
    ag->state = OPS->alloc(be, ag->off.total * sizeof(float));
    ag->backup = OPS->alloc(be, ag->off.total * sizeof(float));
    if (!ag->state || !ag->backup || algo_update_ws_init(&ag->ws, ag) != 0) {
        agent_free(ag);
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the agent's state and workspaces", who);
    }
    /* spec §2 initialization; the targets start as copies of the online critics */
    s = algo_init_net_params(ctx, &ag->ul, cfg.fourier_init_std, ag->state + ag->off.u);
    if (s == MFPO_OK) s = algo_init_net_params(ctx, &ag->dl, cfg.fourier_init_std, ag->state + ag->off.d);
    for (int k = 0; k < 2 && s == MFPO_OK; k++) {
        s = algo_init_net_params(ctx, &ag->ql, 0.0f, ag->state + ag->off.q[k]);
        OPS->copy(be, ag->state + ag->off.qt[k], ag->state + ag->off.q[k], ag->ql.n_params * sizeof(float));
    }
    if (s != MFPO_OK) {
        agent_free(ag);
        return s;
    }
    float log_alpha = logf(cfg.init_alpha);
    OPS->upload(be, ag->state + ag->off.log_alpha, &log_alpha, sizeof log_alpha);
    wire_parts(ag);
    *out = ag;
    return MFPO_OK;
}

void mfpo_agent_destroy(mfpo_agent *ag)
{
    if (ag) agent_free(ag);
}

mfpo_status mfpo_agent_get_config(const mfpo_agent *ag, mfpo_agent_config *config)
{
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_get_config: argument 'agent' is NULL");
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, "mfpo_agent_get_config", config);
    if (config->struct_size < offsetof(mfpo_agent_config, adam_eps) + sizeof(float))
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_agent_get_config: config->struct_size = %zu is smaller than any known version",
                         config->struct_size);
    size_t n = config->struct_size < sizeof ag->cfg ? config->struct_size : sizeof ag->cfg;
    memcpy(config, &ag->cfg, n);
    config->struct_size = n;
    return MFPO_OK;
}

mfpo_policy *mfpo_agent_policy(mfpo_agent *ag)
{
    return ag ? &ag->policy : NULL;
}

mfpo_divergence *mfpo_agent_divergence(mfpo_agent *ag)
{
    return ag ? &ag->divergence : NULL;
}

mfpo_critic *mfpo_agent_critic(mfpo_agent *ag)
{
    return ag ? &ag->critic : NULL;
}

float mfpo_agent_alpha(const mfpo_agent *ag)
{
    float la = 0.0f;
    if (!ag) return 0.0f;
    ag->ctx->be->ops->download(ag->ctx->be, &la, ag->state + ag->off.log_alpha, sizeof la);
    return expf(la);
}

uint64_t mfpo_agent_update_count(const mfpo_agent *ag)
{
    return ag ? ag->updates : 0;
}

mfpo_status mfpo_agent_act(mfpo_agent *ag, const float *obs, size_t n, float *actions)
{
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_act: argument 'agent' is NULL");
    return mfpo_policy_sample(&ag->policy, obs, n, actions);
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

mfpo_status mfpo_agent_select_action(mfpo_agent *ag, const float *obs, size_t n, float *actions)
{
    static const char who[] = "mfpo_agent_select_action";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    size_t K = ag->cfg.eval_candidates, S = ag->cfg.obs_dim, A = ag->cfg.act_dim;
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, obs);
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, actions);
    if (n == 0 || n > ((size_t)1 << 20))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: n = %zu is outside [1, 2^20]", who, n);
    for (size_t i = 0; i < n * S; i++)
        if (!isfinite(obs[i]))
            return core_fail(ctx, MFPO_ERR_NON_FINITE, "%s: obs[%zu] (row %zu) = %g is not finite", who, i, i / S,
                             (double)obs[i]);
    mfpo_status s = select_reserve(ag, n, who);
    if (s != MFPO_OK) return s;
    size_t rows = n * K;
    float *obs_dev = ag->act_io, *best = obs_dev + n * S, *cand = best + n * A;
    float *q1 = cand + rows * A, *q2 = q1 + rows, *q = q2 + rows;
    float *targets[2] = {ag->state + ag->off.qt[0], ag->state + ag->off.qt[1]};
    OPS->upload(be, obs_dev, obs, n * S * sizeof(float));
    /* K plain samples per state, scored by the target critics, the best kept */
    algo_sampler_set_obs(&ag->act_sampler, obs_dev, S, K);
    algo_sampler_run(&ag->act_sampler, be, &ag->ul, ag->state + ag->off.u, NULL, NULL, rows,
                     be_reserve_streams(ctx, 1), 0, cand, A, NULL);
    algo_critic_score(be, &ag->cfg, &ag->ql, targets, ag->act_q_cache, rows, cand, A, obs_dev, S, K, q1, q2, q);
    OPS->select_best(be, n, K, A, q, cand, A, best);
    OPS->download(be, actions, best, n * A * sizeof(float));
    return algo_check_outputs(ctx, who, "action", actions, n * A, A);
}

/* ------------------------------------------------------------------ update */

/*
 * Runs one update's ops. A backend with graph ops (CUDA) runs the first update of each kind (critic
 * only, full) directly, records the second and replays that recording from then on; the host
 * bookkeeping (counters, Adam steps, random key) stays outside the recording, and everything a
 * recording reads that changes between updates is in backend memory. Without graph ops, with the
 * test hook set, or after a recording failed, the ops run one by one (the same ops either way).
 */
static void run_update(mfpo_agent *ag)
{
    be_backend *be = ag->ctx->be;
    if (!OPS->graph_begin || ag->hook || ag->graphs_off) {
        algo_update_run(ag);
        return;
    }
    int actor = algo_update_prepare(ag);
    void **g = &ag->graph[actor ? 1 : 0];
    if (!ag->graph_direct[actor ? 1 : 0]) {
        /* the first update of a kind runs directly: lazily loaded kernels and cuBLAS's first-call
         * set-up then happen outside any recording */
        ag->graph_direct[actor ? 1 : 0] = 1;
        algo_update_stages(ag, actor);
        return;
    }
    if (!*g) {
        if (OPS->graph_begin(be) != 0) {
            ag->graphs_off = 1;
        } else {
            algo_update_stages(ag, actor);
            if (OPS->graph_end(be, g) != 0) {
                *g = NULL;
                ag->graphs_off = 1;
            }
        }
        if (!*g) { /* nothing was run while recording: run the ops now */
            algo_update_stages(ag, actor);
            return;
        }
    }
    if (OPS->graph_launch(be, *g) != 0) {
        OPS->graph_destroy(be, *g);
        *g = NULL;
        ag->graphs_off = 1;
        algo_update_stages(ag, actor);
    }
}

static mfpo_status load_batch(mfpo_agent *ag, mfpo_replay *replay, const char *who)
{
    algo_update_ws *w = &ag->ws;
    be_backend *be = ag->ctx->be;
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    if (v.ctx != ag->ctx)
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: 'replay' belongs to another context", who);
    if (v.obs_dim != w->S || v.act_dim != w->A)
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: replay has obs_dim %zu, act_dim %zu but the agent has %zu, %zu", who, v.obs_dim,
                         v.act_dim, w->S, w->A);
    if (v.size == 0)
        return core_fail(ag->ctx, MFPO_ERR_STATE, "%s: the replay buffer is empty; add transitions first", who);
    size_t B = w->B, S = w->S, A = w->A;
    float *h = w->host_batch, *hs = h, *ha = hs + B * S, *hr = ha + B * A, *hs2 = hr + B, *hm = hs2 + B * S;
    algo_replay_sample(replay, B, hs, ha, hr, hs2, hm);
    OPS->upload(be, w->s, hs, B * S * sizeof(float));
    OPS->upload(be, w->a, ha, B * A * sizeof(float));
    OPS->upload(be, w->r, hr, B * sizeof(float));
    OPS->upload(be, w->s2, hs2, B * S * sizeof(float));
    OPS->upload(be, w->mask, hm, B * sizeof(float));
    return MFPO_OK;
}

mfpo_status mfpo_update(mfpo_agent *ag, mfpo_replay *replay, mfpo_update_stats *stats)
{
    static const char who[] = "mfpo_update";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    MFPO_CHECK_NOT_NULL_WHO(ctx, who, replay);
    if (stats && (stats->struct_size < offsetof(mfpo_update_stats, actor_updated) + sizeof(int) ||
                  stats->struct_size > (1u << 20)))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: stats->struct_size = %zu is not a size this library knows (expected %zu)", who,
                         stats->struct_size, sizeof *stats);
    /* the non-finite guard restores this snapshot: parameters, moments, alpha, counters and the
     * random-stream position as it was before the batch was drawn */
    uint64_t saved[3] = {ag->critic_steps, ag->actor_steps, ctx->stream};
    mfpo_status s = load_batch(ag, replay, who);
    if (s != MFPO_OK) {
        ctx->stream = saved[2];
        return s;
    }
    OPS->copy(be, ag->backup, ag->state, ag->off.total * sizeof(float));
    uint64_t actor_before = ag->actor_steps;
    run_update(ag);

    float sc[SC_COUNT];
    OPS->download(be, sc, ag->ws.scalars, sizeof sc);
    int ok = OPS->all_finite(be, ag->state, ag->off.total);
    for (int i = 0; i < SC_COUNT; i++) ok = ok && isfinite(sc[i]);
    if (!ok) {
        OPS->copy(be, ag->state, ag->backup, ag->off.total * sizeof(float));
        ag->critic_steps = saved[0];
        ag->actor_steps = saved[1];
        ctx->stream = saved[2];
        return core_fail(ctx, MFPO_ERR_NON_FINITE,
                         "%s: a loss or gradient became non-finite (critic %g/%g, actor %g, divergence %g); the "
                         "agent was left as before the call",
                         who, (double)sc[SC_LOSS_Q1], (double)sc[SC_LOSS_Q2], (double)sc[SC_ACTOR_LOSS],
                         (double)sc[SC_DIV_LOSS]);
    }
    ag->updates++;
    if (stats) {
        mfpo_update_stats o;
        memset(&o, 0, sizeof o);
        int actor = ag->actor_steps != actor_before;
        o.struct_size = stats->struct_size < sizeof o ? stats->struct_size : sizeof o;
        o.critic_loss = 0.5f * (sc[SC_LOSS_Q1] + sc[SC_LOSS_Q2]);
        o.actor_loss = actor ? sc[SC_ACTOR_LOSS] : 0.0f;
        o.divergence_loss = actor ? sc[SC_DIV_LOSS] : 0.0f;
        o.alpha = mfpo_agent_alpha(ag);
        o.entropy = actor ? -sc[SC_MEAN_LOGP] : 0.0f;
        o.mean_q = sc[SC_MEAN_Q];
        o.ess_policy = actor ? sc[SC_ESS_POL] : 0.0f;
        o.ess_gaussian = actor ? sc[SC_ESS_GAUSS] : 0.0f;
        o.actor_updated = actor;
        memcpy(stats, &o, o.struct_size);
    }
    return MFPO_OK;
}
