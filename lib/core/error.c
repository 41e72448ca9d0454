#include <stdarg.h>
#include <stdio.h>

#include <mfpo/status.h>

#include "ctx.h"

static _Thread_local char thread_error[MFPO_ERROR_SIZE];

mfpo_status core_fail(mfpo_context *ctx, mfpo_status status, const char *fmt, ...)
{
    char *buf = ctx ? ctx->error : thread_error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, MFPO_ERROR_SIZE, fmt, ap);
    va_end(ap);
    return status;
}

void core_clear_error(mfpo_context *ctx)
{
    (ctx ? ctx->error : thread_error)[0] = '\0';
}

const char *mfpo_last_error(const mfpo_context *ctx)
{
    return ctx ? ctx->error : thread_error;
}

const char *mfpo_status_string(mfpo_status status)
{
    switch (status) {
    case MFPO_OK:
        return "success";
    case MFPO_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case MFPO_ERR_OUT_OF_MEMORY:
        return "out of memory";
    case MFPO_ERR_BACKEND_UNAVAILABLE:
        return "backend unavailable";
    case MFPO_ERR_NON_FINITE:
        return "non-finite value";
    case MFPO_ERR_IO:
        return "input/output error";
    case MFPO_ERR_FORMAT:
        return "bad file format";
    case MFPO_ERR_ENV:
        return "environment callback failed";
    case MFPO_ERR_CANCELLED:
        return "cancelled";
    case MFPO_ERR_STATE:
        return "invalid state";
    case MFPO_ERR_COMM:
        return "collective communication failed";
    }
    return "unknown status";
}
