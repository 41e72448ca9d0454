/* The environment interface (include/mfpo/env.h): initialization, closing and the action map. */
#include <string.h>

#include <mfpo/env.h>

#include "../algo/train.h"
#include "checks.h"

void mfpo_env_init(mfpo_env *env)
{
    if (!env) return;
    memset(env, 0, sizeof *env);
    env->struct_size = sizeof *env;
}

void mfpo_env_close(const mfpo_env *env)
{
    if (env && env->struct_size >= offsetof(mfpo_env, close) + sizeof env->close && env->close) env->close(env->user);
}

mfpo_status mfpo_env_scale_action(const mfpo_env *env, const float *in, float *out)
{
    static const char who[] = "mfpo_env_scale_action";
    /* no context here: the messages go to the thread's error text, mfpo_last_error(NULL) */
    mfpo_status s = api_env_validate(NULL, who, "env", env, 0);
    if (s != MFPO_OK) return s;
    MFPO_CHECK_NOT_NULL_WHO(NULL, who, in);
    MFPO_CHECK_NOT_NULL_WHO(NULL, who, out);
    algo_env_map_action(env, in, out);
    return MFPO_OK;
}
