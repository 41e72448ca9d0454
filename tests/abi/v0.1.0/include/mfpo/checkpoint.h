/**
 * @file checkpoint.h
 * @brief Crash-safe checkpoints of an agent and of a replay buffer (format: docs/checkpoint-format.md).
 */
#ifndef MFPO_CHECKPOINT_H
#define MFPO_CHECKPOINT_H

#include "agent.h"
#include "export.h"
#include "replay.h"
#include "status.h"

MFPO_BEGIN_DECLS

/**
 * Saves the whole agent (networks, targets, Adam moments, alpha, update counter, configuration and
 * the context's random-stream position) to @p path atomically: a temporary file in the same
 * directory, fsync, rename, fsync of the directory. A crash leaves either the old or the new file.
 */
MFPO_API mfpo_status mfpo_agent_save(const mfpo_agent *agent, const char *path);

/**
 * Loads a checkpoint into an existing agent of the same configuration. A truncated, corrupt,
 * wrong-version or wrong-shape file returns #MFPO_ERR_FORMAT and leaves the agent untouched.
 */
MFPO_API mfpo_status mfpo_agent_load(mfpo_agent *agent, const char *path);

/** Saves the replay buffer's contents and position, atomically as mfpo_agent_save(). */
MFPO_API mfpo_status mfpo_replay_save(const mfpo_replay *replay, const char *path);

/** Loads a replay buffer saved with the same dimensions and capacity; untouched on error. */
MFPO_API mfpo_status mfpo_replay_load(mfpo_replay *replay, const char *path);

MFPO_END_DECLS

#endif
