/* The context's internals, and the error-reporting helpers every exported function uses. */
#ifndef MFPO_CORE_CTX_H
#define MFPO_CORE_CTX_H

#include <stdint.h>

#include <mfpo/context.h>

#include "../backend/backend.h"

#define MFPO_ERROR_SIZE 512

struct mfpo_context {
    mfpo_allocator allocator;
    be_backend *be;
    mfpo_backend_kind kind;
    void *module; /* dlopen handle of the CUDA module, or NULL */
    uint64_t seed;
    uint64_t stream; /* next Philox stream: every draw takes a fresh one */
    uint64_t *key;   /* backend memory: {seed, first stream} of the latest reservation */
    char error[MFPO_ERROR_SIZE];
};

/* Records a formatted message on ctx (which may be NULL: then the thread's creation error) and
 * returns status, so that `return core_fail(ctx, MFPO_ERR_..., "...", ...);` reads naturally. */
mfpo_status core_fail(mfpo_context *ctx, mfpo_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears the last error. */
void core_clear_error(mfpo_context *ctx);

/* The next Philox stream of the context, for draws made on the host (the replay buffer). */
static inline uint64_t core_next_stream(mfpo_context *ctx)
{
    return ctx->stream++;
}

/* Reserves `count` consecutive streams for backend draws: uploads {seed, first stream} to the
 * context's key buffer and returns it; draw k of the caller uses offset k. */
static inline const uint64_t *be_reserve_streams(mfpo_context *ctx, uint64_t count)
{
    uint64_t key[2] = {ctx->seed, ctx->stream};
    ctx->stream += count;
    ctx->be->ops->upload(ctx->be, ctx->key, key, sizeof key);
    return ctx->key;
}

/* Argument checks that name the argument in the message. */
#define MFPO_CHECK_NOT_NULL(ctx, arg)                                                                        \
    do {                                                                                                     \
        if ((arg) == NULL) return core_fail((ctx), MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", \
                                            __func__, #arg);                                                 \
    } while (0)

#endif
