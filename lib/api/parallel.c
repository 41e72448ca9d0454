/* Data-parallel training support (include/mfpo/parallel.h): the all-reduce hook, the state as one
 * buffer, and the context's random position. The reduction itself is lib/algo/reduce.c. */
/* This file defines mfpo_agent_get_state(), declared in include/mfpo/experimental.h. */
#define MFPO_EXPERIMENTAL
#include <math.h>
#include <string.h>

#include <mfpo/experimental.h>
#include <mfpo/parallel.h>

#include "../algo/update.h"
#include "checks.h"

#define OPS (be->ops)

mfpo_status mfpo_agent_set_allreduce(mfpo_agent *ag, mfpo_collective_fn allreduce, void *user, int world_size)
{
    static const char who[] = "mfpo_agent_set_allreduce";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    if (world_size < 1)
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: world_size = %d must be >= 1", who, world_size);
    ag->reduce.fn = allreduce;
    ag->reduce.user = allreduce ? user : NULL;
    ag->reduce.world = allreduce ? world_size : 1;
    ag->reduce.failed_part = -1;
    return MFPO_OK;
}

size_t mfpo_agent_gradient_size(const mfpo_agent *ag)
{
    return ag ? ag->ws.grad_layout.total : 0;
}

size_t mfpo_agent_state_size(const mfpo_agent *ag)
{
    return ag ? ag->off.total : 0;
}

mfpo_status mfpo_agent_get_state(const mfpo_agent *ag, float *out, size_t count)
{
    static const char who[] = "mfpo_agent_get_state";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, out);
    if (count != ag->off.total)
        return core_fail(ag->ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: count = %zu but the state has %zu floats", who, count,
                         ag->off.total);
    be_backend *be = ag->ctx->be;
    OPS->download(be, out, ag->state, count * sizeof(float));
    return MFPO_OK;
}

mfpo_status mfpo_agent_broadcast_state(mfpo_agent *ag, mfpo_collective_fn broadcast, void *user)
{
    static const char who[] = "mfpo_agent_broadcast_state";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    MFPO_CHECK_NOT_NULL_WHO(ag->ctx, who, broadcast);
    be_backend *be = ag->ctx->be;
    size_t n = ag->off.total;
    OPS->copy(be, ag->backup, ag->state, n * sizeof(float));
    int rc = broadcast(user, ag->state, n);
    if (rc != 0) {
        OPS->copy(be, ag->state, ag->backup, n * sizeof(float));
        return core_fail(ag->ctx, MFPO_ERR_COMM, "%s: the broadcast hook returned %d; the agent is unchanged", who, rc);
    }
    if (!OPS->all_finite(be, ag->state, n)) {
        OPS->copy(be, ag->state, ag->backup, n * sizeof(float));
        return core_fail(ag->ctx, MFPO_ERR_NON_FINITE,
                         "%s: the broadcast delivered a non-finite state; the agent is unchanged", who);
    }
    return MFPO_OK;
}

mfpo_status mfpo_context_get_random_position(const mfpo_context *ctx, uint64_t *seed, uint64_t *stream)
{
    static const char who[] = "mfpo_context_get_random_position";
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is NULL", who);
    MFPO_CHECK_NOT_NULL_WHO((mfpo_context *)ctx, who, seed);
    MFPO_CHECK_NOT_NULL_WHO((mfpo_context *)ctx, who, stream);
    *seed = ctx->seed;
    *stream = ctx->stream;
    return MFPO_OK;
}

mfpo_status mfpo_context_set_random_position(mfpo_context *ctx, uint64_t seed, uint64_t stream)
{
    if (!ctx)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_context_set_random_position: argument 'ctx' is NULL");
    ctx->seed = seed;
    ctx->stream = stream;
    return MFPO_OK;
}
