/* mfpo_context: argument checking, backend choice, random stream. */
#include <stdio.h>
#include <string.h>

#include <mfpo/context.h>

#include "../backend/select.h"
#include "../core/alloc.h"
#include "../core/ctx.h"
#include "checks.h"

void mfpo_context_options_init(mfpo_context_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->backend = MFPO_BACKEND_AUTO;
}

mfpo_status mfpo_context_create(const mfpo_context_options *options, mfpo_context **out)
{
    mfpo_context_options o;
    char reason[256] = "";
    core_clear_error(NULL);
    if (!out) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_context_create: argument 'out' is NULL");
    *out = NULL;
    mfpo_context_options_init(&o);
    if (options) {
        if (options->struct_size < offsetof(mfpo_context_options, device) + sizeof(int) ||
            options->struct_size > (1u << 20))
            return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT,
                             "mfpo_context_create: options->struct_size = %zu is not a size this library knows "
                             "(expected %zu; call mfpo_context_options_init first)",
                             options->struct_size, sizeof o);
        memcpy(&o, options, options->struct_size < sizeof o ? options->struct_size : sizeof o);
    }
    if (o.backend != MFPO_BACKEND_AUTO && o.backend != MFPO_BACKEND_CPU && o.backend != MFPO_BACKEND_CUDA)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_context_create: options->backend = %d is not an mfpo_backend_kind", (int)o.backend);
    if (o.threads < 0 || o.threads > 1024)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_context_create: options->threads = %d is outside [0, 1024]", o.threads);
    if (o.device < 0)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_context_create: options->device = %d is negative",
                         o.device);
    if (o.allocator && (!o.allocator->alloc || !o.allocator->free))
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT,
                         "mfpo_context_create: options->allocator must set both alloc and free");
    if (be_parse_env(&o.backend, reason, sizeof reason) < 0)
        return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_context_create: %s", reason);

    const mfpo_allocator *a = o.allocator ? o.allocator : &core_default_allocator;
    mfpo_context *ctx = core_alloc(a, sizeof *ctx, 64);
    if (!ctx) return core_fail(NULL, MFPO_ERR_OUT_OF_MEMORY, "mfpo_context_create: out of memory");
    memset(ctx, 0, sizeof *ctx);
    ctx->allocator = *a;
    ctx->seed = o.seed;
    mfpo_status st = be_open(o.backend, &ctx->allocator, o.threads, o.device, &ctx->be, &ctx->module, &ctx->kind,
                             reason, sizeof reason);
    if (st != MFPO_OK) {
        core_free(a, ctx);
        return core_fail(NULL, st, "mfpo_context_create: %s", reason);
    }
    ctx->key = ctx->be->ops->alloc(ctx->be, 2 * sizeof(uint64_t));
    if (!ctx->key) {
        be_close(ctx->be, ctx->module);
        core_free(a, ctx);
        return core_fail(NULL, MFPO_ERR_OUT_OF_MEMORY, "mfpo_context_create: out of memory");
    }
    atomic_init(&ctx->refs, 1);
    *out = ctx;
    return MFPO_OK;
}

static void context_free(mfpo_context *ctx)
{
    ctx->be->ops->free(ctx->be, ctx->key);
    be_close(ctx->be, ctx->module);
    mfpo_allocator a = ctx->allocator;
    core_free(&a, ctx);
}

void api_context_retain(mfpo_context *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void api_context_release(mfpo_context *ctx)
{
    if (atomic_fetch_sub(&ctx->refs, 1) == 1) context_free(ctx);
}

/* With handles still alive the context stays usable through them and is freed with the last
 * one (as sqlite3_close_v2 does); the caller's pointer is invalid from here on either way. */
void mfpo_context_destroy(mfpo_context *ctx)
{
    if (ctx) api_context_release(ctx);
}

mfpo_backend_kind mfpo_context_backend(const mfpo_context *ctx)
{
    return ctx ? ctx->kind : MFPO_BACKEND_CPU;
}

const char *mfpo_context_device_name(const mfpo_context *ctx)
{
    return ctx ? ctx->be->device_name : "";
}

mfpo_status mfpo_context_set_seed(mfpo_context *ctx, uint64_t seed)
{
    if (!ctx) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "mfpo_context_set_seed: argument 'ctx' is NULL");
    core_clear_error(ctx);
    ctx->seed = seed;
    ctx->stream = 0;
    return MFPO_OK;
}

mfpo_status mfpo_backend_probe(mfpo_backend_kind kind, char *reason, size_t reason_size)
{
    char why[256] = "";
    be_backend *be = NULL;
    void *module = NULL;
    mfpo_backend_kind chosen;
    if (kind != MFPO_BACKEND_AUTO && kind != MFPO_BACKEND_CPU && kind != MFPO_BACKEND_CUDA) {
        if (reason && reason_size) snprintf(reason, reason_size, "kind = %d is not an mfpo_backend_kind", (int)kind);
        return MFPO_ERR_INVALID_ARGUMENT;
    }
    mfpo_status st = be_open(kind, &core_default_allocator, 1, 0, &be, &module, &chosen, why, sizeof why);
    if (reason && reason_size) snprintf(reason, reason_size, "%s", st == MFPO_OK ? "" : why);
    be_close(be, module);
    return st;
}
