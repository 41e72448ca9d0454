/*
 * The training driver's internals (lib/algo/train.c), shared with lib/api/env.c: the one check of
 * an mfpo_env that both mfpo_env_scale_action() and mfpo_train() run, and the affine action map.
 */
#ifndef MFPO_ALGO_TRAIN_H
#define MFPO_ALGO_TRAIN_H

#include <stddef.h>

#include <mfpo/env.h>
#include <mfpo/status.h>

#include "../core/ctx.h"

/*
 * Validates an environment: not NULL, a struct_size this library knows, obs_dim and act_dim >= 1
 * (and <= 2^20), and bounds that are finite with low < high in every coordinate. With
 * `need_callbacks`, reset and step must be set too. Errors are recorded on ctx (NULL: the thread's
 * error text) as "<who>: <name>->field ... " so that the message names the argument and the value.
 */
mfpo_status api_env_validate(mfpo_context *ctx, const char *who, const char *name, const mfpo_env *env,
                              int need_callbacks);

/* out[i] = low + (in[i] + 1) / 2 (high - low), with NULL bounds meaning -1 / +1; in and out may alias.
 * No checks: the env was validated. */
void algo_env_map_action(const mfpo_env *env, const float *in, float *out);

#endif
