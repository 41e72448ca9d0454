/**
 * @file context.h
 * @brief The context: backend, threads, allocator, random stream and last-error text.
 *
 * Every other handle is created from a context and must be destroyed before it.
 * A context and everything created from it must be used by one thread at a time
 * (see docs/threads.md); distinct contexts are independent.
 */
#ifndef MFPO_CONTEXT_H
#define MFPO_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/** Opaque context handle. */
typedef struct mfpo_context mfpo_context;

/** Which compute backend a context uses. */
typedef enum mfpo_backend_kind {
    MFPO_BACKEND_AUTO = 0, /**< CUDA when its module loads and a device is present, else CPU. */
    MFPO_BACKEND_CPU = 1,  /**< OpenBLAS and C loops on the host. */
    MFPO_BACKEND_CUDA = 2  /**< cuBLAS and CUDA kernels, loaded at run time from a separate module. */
} mfpo_backend_kind;

/**
 * A user-supplied allocator for host memory. Both functions must be set, or the struct not given.
 * `alloc` must return memory aligned to at least @p align bytes (a power of two, at most 4096)
 * or NULL; `free` receives exactly the pointers `alloc` returned (never NULL).
 */
typedef struct mfpo_allocator {
    void *(*alloc)(void *user, size_t size, size_t align); /**< Allocate @p size bytes. */
    void (*free)(void *user, void *ptr);                   /**< Release a block. */
    void *user;                                            /**< Passed back to both. */
} mfpo_allocator;

/**
 * Options for mfpo_context_create(). Fill with mfpo_context_options_init() first; the struct only
 * ever grows at its end, and `struct_size` tells the library which fields the caller knows.
 */
typedef struct mfpo_context_options {
    size_t struct_size;              /**< sizeof(mfpo_context_options), set by the init call. */
    mfpo_backend_kind backend;       /**< Default #MFPO_BACKEND_AUTO. The environment variable
                                            MFPO_BACKEND=cpu|cuda|auto, when set, overrides it. */
    int threads;                     /**< Host threads for BLAS and loops; 0 = library default (all cores). */
    uint64_t seed;                   /**< Seed of the context's Philox4x32-10 stream; default 0. */
    const mfpo_allocator *allocator; /**< Host allocator, or NULL for the C library's. Copied. */
    int device;                      /**< CUDA device ordinal; default 0. */
} mfpo_context_options;

/** Fills @p options with the defaults listed at each field. */
MFPO_API void mfpo_context_options_init(mfpo_context_options *options);

/**
 * Creates a context. @p options may be NULL for all defaults. On failure `*out` is set to NULL and
 * the reason is available from mfpo_last_error(NULL) on the calling thread.
 * @return #MFPO_OK, #MFPO_ERR_INVALID_ARGUMENT, #MFPO_ERR_OUT_OF_MEMORY or #MFPO_ERR_BACKEND_UNAVAILABLE.
 */
MFPO_API mfpo_status mfpo_context_create(const mfpo_context_options *options, mfpo_context **out);

/**
 * Destroys a context; NULL is ignored. Handles created from it (agents, replay buffers, stand-alone
 * networks) may outlive this call: the context then stays alive for them, usable through them
 * alone, and is freed with the last of them (as sqlite3_close_v2() defers a close). The caller's
 * @p ctx pointer is invalid after the call either way; pass it to nothing else.
 */
MFPO_API void mfpo_context_destroy(mfpo_context *ctx);

/**
 * @return the message of the last call made on @p ctx (directly or through one of its handles):
 * which function, which argument, which value, what was expected. The rule: every call that
 * returns an mfpo_status and reaches a context starts by clearing its text, so after #MFPO_OK it
 * is "" and after a failure it is that failure's message, until the next such call. With @p ctx
 * NULL: the thread's slot, for failures that have no context to go to (mfpo_context_create(), a
 * NULL handle, mfpo_env_scale_action(), mfpo_backend_probe() writes its own buffer instead);
 * mfpo_context_create() clears it when it starts. The pointer stays valid as long as the context.
 */
MFPO_API const char *mfpo_last_error(const mfpo_context *ctx);

/** @return the backend a context actually runs on (never #MFPO_BACKEND_AUTO); CPU for NULL. */
MFPO_API mfpo_backend_kind mfpo_context_backend(const mfpo_context *ctx);

/** @return a description of the device in use, e.g. "cpu (openblas, 2 threads)"; "" for NULL. */
MFPO_API const char *mfpo_context_device_name(const mfpo_context *ctx);

/** Resets the context's random stream to @p seed (the draw counter restarts at zero). */
MFPO_API mfpo_status mfpo_context_set_seed(mfpo_context *ctx, uint64_t seed);

/**
 * Checks whether a backend could be used here without creating a context.
 * @return #MFPO_OK, or #MFPO_ERR_BACKEND_UNAVAILABLE with the reason written to @p reason
 *         (if non-NULL, at most @p reason_size bytes including the terminating NUL).
 */
MFPO_API mfpo_status mfpo_backend_probe(mfpo_backend_kind kind, char *reason, size_t reason_size);

MFPO_END_DECLS

#endif
