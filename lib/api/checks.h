/*
 * Argument checks shared by the exported functions: each names the function and the argument.
 * Every exported function that returns an mfpo_status clears its context's error text
 * (core_clear_error) as soon as it has the context, so that mfpo_last_error holds "" after a
 * success and the failure's message after a failure (include/mfpo/context.h).
 */
#ifndef MFPO_API_CHECKS_H
#define MFPO_API_CHECKS_H

#include <mfpo/env.h>
#include <mfpo/train.h>

#include "../core/ctx.h"

#define MFPO_CHECK_NOT_NULL_WHO(ctx, who, arg)                                                                         \
    do {                                                                                                               \
        if ((arg) == NULL)                                                                                             \
            return core_fail((ctx), MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", (who), #arg);              \
    } while (0)

/*
 * Validates an environment: not NULL, a struct_size this library knows, obs_dim and act_dim >= 1
 * (and <= 2^20), and bounds that are finite with low < high in every coordinate. With
 * `need_callbacks`, reset and step must be set too. Errors are recorded on ctx (NULL: the thread's
 * error text) as "<who>: <name>->field ... " so that the message names the argument and the value.
 */
/* Copies the caller's training options (of their struct_size) over the defaults into *out and checks
 * the size and updates_per_step; `name` is how messages call them ("options", "options->train").
 * NULL gives the defaults. (lib/api/train.c; mfpo_train and mfpo_train_vec share it.) */
mfpo_status api_train_options_import(mfpo_context *ctx, const char *who, const char *name, const mfpo_train_options *in,
                                     mfpo_train_options *out);

mfpo_status api_env_validate(mfpo_context *ctx, const char *who, const char *name, const mfpo_env *env,
                             int need_callbacks);

/* Handle bookkeeping: every handle made from a context holds a reference to it (retain after a
 * successful creation, release after the handle is freed); mfpo_context_destroy() drops the
 * caller's, and the last release frees the context. */
void api_context_retain(mfpo_context *ctx);
void api_context_release(mfpo_context *ctx);

#endif
