/* The context's internals, and the error-reporting helpers every exported function uses. */
#ifndef MFPO_CORE_CTX_H
#define MFPO_CORE_CTX_H

#include <stdatomic.h>
#include <stdint.h>

#include <mfpo/context.h>

/* The context holds its backend by pointer; what a backend is, lib/backend says (core sits below
 * every other layer and includes none of them). */
struct be_backend;

#define MFPO_ERROR_SIZE 512

struct mfpo_context {
    mfpo_allocator allocator;
    struct be_backend *be;
    mfpo_backend_kind kind;
    void *module; /* dlopen handle of the CUDA module, or NULL */
    uint64_t seed;
    uint64_t stream; /* next Philox stream: every draw takes a fresh one */
    uint64_t *key;   /* backend memory: {seed, first stream} of the latest reservation */
    char error[MFPO_ERROR_SIZE];
    /* References: one held by the caller until mfpo_context_destroy(), one per live handle
     * (agent, replay buffer, stand-alone network). The context is freed when the last goes, so
     * destroying it before its handles defers the free (lib/api/context.c). */
    atomic_size_t refs;
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

/* Argument checks that name the argument in the message. */
#define MFPO_CHECK_NOT_NULL(ctx, arg)                                                                                  \
    do {                                                                                                               \
        if ((arg) == NULL)                                                                                             \
            return core_fail((ctx), MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", __func__, #arg);           \
    } while (0)

#endif
