/* Random streams of backend draws: the context's stream counter and its backend-memory key. */
#ifndef MFPO_BACKEND_STREAMS_H
#define MFPO_BACKEND_STREAMS_H

#include <stdint.h>

#include "../core/ctx.h"
#include "backend.h"

/* Reserves `count` consecutive streams for backend draws: uploads {seed, first stream} to the
 * context's key buffer and returns it; draw k of the caller uses offset k. */
static inline const uint64_t *be_reserve_streams(mfpo_context *ctx, uint64_t count)
{
    uint64_t key[2] = { ctx->seed, ctx->stream };
    ctx->stream += count;
    ctx->be->ops->upload(ctx->be, ctx->key, key, sizeof key);
    return ctx->key;
}

#endif
