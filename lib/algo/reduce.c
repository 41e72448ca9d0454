/*
 * The data-parallel gradient reduction of an update (lib/algo/reduce.h). One call of the caller's
 * all-reduce per part; see include/mfpo/parallel.h for why an update needs up to three.
 */
#include "reduce.h"

#include "update.h"

#define OPS (be->ops)

static size_t pad16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

void algo_grad_layout_init(algo_grad_layout *g, size_t n_q, size_t n_u, size_t n_d)
{
    g->q[0] = 0;
    g->q[1] = pad16(n_q);
    g->u = 2 * pad16(n_q);
    g->d = g->u + pad16(n_u);
    g->alpha = g->d + pad16(n_d);
    g->total = g->alpha + 16;
    g->part[REDUCE_CRITIC] = 0;
    g->part[REDUCE_ACTOR] = g->u;
    g->part[REDUCE_DIVERGENCE] = g->d;
    g->part[REDUCE_PARTS] = g->total;
}

void algo_reduce_grads(struct mfpo_agent *ag, int part)
{
    algo_reduce *r = &ag->reduce;
    if (!r->fn || r->failed_part >= 0) return; /* single process, or this update already failed */
    be_backend *be = ag->ctx->be;
    const algo_grad_layout *g = &ag->ws.grad_layout;
    float *buf = ag->ws.grad + g->part[part];
    size_t n = g->part[part + 1] - g->part[part];
    int rc = r->fn(r->user, buf, n);
    if (rc != 0) {
        /* the update runs on to its end on this rank's unreduced gradient; mfpo_update() then
         * restores the snapshot taken before it and reports the failure */
        r->failed_part = part;
        r->failed_rc = rc;
        return;
    }
    if (r->world > 1) OPS->scale(be, buf, 1.0f / (float)r->world, n);
}
