/*
 * The exported checkpoint calls (include/mfpo/checkpoint.h): argument checks, then the codecs of
 * lib/algo/checkpoint.c (docs/checkpoint-format.md).
 */
#include <string.h>

#include <mfpo/checkpoint.h>

#include "../algo/checkpoint.h"
#include "../algo/replay.h"
#include "../algo/update.h"
#include "../core/ctx.h"

static mfpo_status check_path(mfpo_context *ctx, const char *who, const char *path)
{
    if (!path) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is NULL", who);
    if (!path[0]) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is empty", who);
    if (strlen(path) > 4000)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is %zu bytes long (at most 4000)", who,
                         strlen(path));
    return MFPO_OK;
}

mfpo_status mfpo_agent_save(const mfpo_agent *ag, const char *path)
{
    static const char who[] = "mfpo_agent_save";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx); /* the rule of mfpo_last_error (context.h) */
    mfpo_status s = check_path(ag->ctx, who, path);
    return s == MFPO_OK ? algo_agent_save(ag, who, path) : s;
}

mfpo_status mfpo_agent_load(mfpo_agent *ag, const char *path)
{
    static const char who[] = "mfpo_agent_load";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    core_clear_error(ag->ctx); /* the rule of mfpo_last_error (context.h) */
    mfpo_status s = check_path(ag->ctx, who, path);
    return s == MFPO_OK ? algo_agent_load(ag, who, path) : s;
}

mfpo_status mfpo_replay_save(const mfpo_replay *replay, const char *path)
{
    static const char who[] = "mfpo_replay_save";
    if (!replay) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    mfpo_context *ctx = v.ctx;
    core_clear_error(ctx); /* the rule of mfpo_last_error (context.h) */
    mfpo_status s = check_path(ctx, who, path);
    return s == MFPO_OK ? algo_replay_save(replay, who, path) : s;
}

mfpo_status mfpo_replay_load(mfpo_replay *replay, const char *path)
{
    static const char who[] = "mfpo_replay_load";
    if (!replay) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    mfpo_context *ctx = v.ctx;
    core_clear_error(ctx); /* the rule of mfpo_last_error (context.h) */
    mfpo_status s = check_path(ctx, who, path);
    return s == MFPO_OK ? algo_replay_load(replay, who, path) : s;
}
