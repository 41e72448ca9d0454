/* Argument checks shared by the exported functions: each names the function and the argument. */
#ifndef MFPO_API_CHECKS_H
#define MFPO_API_CHECKS_H

#include "../core/ctx.h"

#define MFPO_CHECK_NOT_NULL_WHO(ctx, who, arg)                                                                  \
    do {                                                                                                        \
        if ((arg) == NULL)                                                                                      \
            return core_fail((ctx), MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", (who), #arg);       \
    } while (0)

/* Outputs that leave the library must be finite: extreme (if finite) inputs can overflow a
 * network to NaN, which no clamp repairs. Returns MFPO_ERR_NON_FINITE naming the output row. */
mfpo_status algo_check_outputs(mfpo_context *ctx, const char *who, const char *what, const float *x, size_t n,
                               size_t row_width);

/* Initializes backend memory dst with a fresh network of layout l (spec §2 init, context stream). */
struct nn_layout;
mfpo_status algo_init_net_params(mfpo_context *ctx, const struct nn_layout *l, float fourier_std, float *dst);

#endif
