/*
 * The update driver (lib/algo/agent.h, algo_update): draws the batch, snapshots the state, runs
 * the update (recorded and replayed where the backend can), refuses a non-finite result by
 * restoring the snapshot, and reports the statistics. The stages themselves are lib/algo/update.c.
 */
#include "agent.h"

#include <math.h>
#include <string.h>

#include "../backend/error.h"
#include "reduce.h"
#include "replay.h"

#define OPS (be->ops)

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
    /* the generic kernels move data across between ops: nothing a recording could hold */
    /* a data-parallel all-reduce (ag->reduce) is a host call between ops: never recorded */
    if (!OPS->graph_begin || ag->hook || ag->graphs_off || ag->reduce.fn ||
        algo_kernels_of(be) == &algo_kernels_generic) {
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

/* Draws the batch from the (non-empty, matching) buffer into the workspace. */
static void load_batch(mfpo_agent *ag, mfpo_replay *replay)
{
    algo_update_ws *w = &ag->ws;
    be_backend *be = ag->ctx->be;
    size_t B = w->B, S = w->S, A = w->A;
    float *h = w->host_batch, *hs = h, *ha = hs + B * S, *hr = ha + B * A, *hs2 = hr + B, *hm = hs2 + B * S;
    algo_replay_sample(replay, B, hs, ha, hr, hs2, hm);
    OPS->upload(be, w->s, hs, B * S * sizeof(float));
    OPS->upload(be, w->a, ha, B * A * sizeof(float));
    OPS->upload(be, w->r, hr, B * sizeof(float));
    OPS->upload(be, w->s2, hs2, B * S * sizeof(float));
    OPS->upload(be, w->mask, hm, B * sizeof(float));
}

mfpo_status algo_update(mfpo_agent *ag, const char *who, mfpo_replay *replay, mfpo_update_stats *stats)
{
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    /* the non-finite guard restores this snapshot: parameters, moments, alpha, counters and the
     * random-stream position as it was before the batch was drawn */
    uint64_t saved[3] = { ag->critic_steps, ag->actor_steps, ctx->stream };
    load_batch(ag, replay);
    OPS->copy(be, ag->backup, ag->state, ag->off.total * sizeof(float));
    uint64_t actor_before = ag->actor_steps;
    ag->reduce.failed_part = -1;
    run_update(ag);

    float sc[SC_COUNT];
    OPS->download(be, sc, ag->ws.scalars, sizeof sc);
    int ok = OPS->all_finite(be, ag->state, ag->off.total);
    /* data parallel: the losses are this rank's own; only the (shared) state may decide, or the
     * ranks could take different branches here (include/mfpo/parallel.h) */
    for (int i = 0; i < SC_COUNT && !ag->reduce.fn; i++) ok = ok && isfinite(sc[i]);
    char why[256];
    int failed = be_take_error(be, why, sizeof why);
    int reduce_failed = ag->reduce.failed_part >= 0; /* the all-reduce hook failed (lib/algo/reduce.c) */
    if (failed || !ok || reduce_failed) {
        OPS->copy(be, ag->state, ag->backup, ag->off.total * sizeof(float));
        ag->critic_steps = saved[0];
        ag->actor_steps = saved[1];
        ctx->stream = saved[2];
    }
    if (failed)
        return core_fail(ctx, (mfpo_status)failed, "%s: the backend failed: %s; the agent was left as before the call",
                         who, why);
    if (reduce_failed)
        return core_fail(ctx, MFPO_ERR_COMM,
                         "%s: the all-reduce hook returned %d on the %s gradients (update %llu); the agent was "
                         "left as before the call",
                         who, ag->reduce.failed_rc,
                         ag->reduce.failed_part == REDUCE_CRITIC  ? "critic"
                         : ag->reduce.failed_part == REDUCE_ACTOR ? "actor"
                                                                  : "divergence and temperature",
                         (unsigned long long)ag->updates + 1);
    if (!ok)
        return core_fail(ctx, MFPO_ERR_NON_FINITE,
                         "%s: a loss or gradient became non-finite (critic %g/%g, actor %g, divergence %g); the "
                         "agent was left as before the call",
                         who, (double)sc[SC_LOSS_Q1], (double)sc[SC_LOSS_Q2], (double)sc[SC_ACTOR_LOSS],
                         (double)sc[SC_DIV_LOSS]);
    ag->updates++;
    if (stats) {
        int actor = ag->actor_steps != actor_before;
        memset(stats, 0, sizeof *stats);
        stats->struct_size = sizeof *stats;
        stats->critic_loss = 0.5f * (sc[SC_LOSS_Q1] + sc[SC_LOSS_Q2]);
        stats->actor_loss = actor ? sc[SC_ACTOR_LOSS] : 0.0f;
        stats->divergence_loss = actor ? sc[SC_DIV_LOSS] : 0.0f;
        stats->alpha = algo_agent_alpha(ag);
        stats->entropy = actor ? -sc[SC_MEAN_LOGP] : 0.0f;
        stats->mean_q = sc[SC_MEAN_Q];
        stats->ess_policy = actor ? sc[SC_ESS_POL] : 0.0f;
        stats->ess_gaussian = actor ? sc[SC_ESS_GAUSS] : 0.0f;
        stats->actor_updated = actor;
    }
    return MFPO_OK;
}
