/* Argument checks shared by the exported functions: each names the function and the argument. */
#ifndef MFPO_API_CHECKS_H
#define MFPO_API_CHECKS_H

#include "../core/ctx.h"

#define MFPO_CHECK_NOT_NULL_WHO(ctx, who, arg)                                                                  \
    do {                                                                                                        \
        if ((arg) == NULL)                                                                                      \
            return core_fail((ctx), MFPO_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", (who), #arg);       \
    } while (0)

#endif
