/**
 * @file checkpoint.h
 * @brief Crash-safe checkpoints of an agent and of a replay buffer (format: docs/checkpoint-format.md).
 *
 * An agent and its buffer are saved to two files; together they resume training exactly. Files
 * are little-endian and the same on every platform; a library reads every format version up to
 * its own.
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
 * @return #MFPO_OK; #MFPO_ERR_IO (with the path and the system's reason) when the file cannot be
 *         created, written, synced or renamed, the previous file then being intact;
 *         #MFPO_ERR_INVALID_ARGUMENT for a NULL or empty path; #MFPO_ERR_OUT_OF_MEMORY.
 */
MFPO_API mfpo_status mfpo_agent_save(const mfpo_agent *agent, const char *path);

/**
 * Loads a checkpoint into an existing agent of the same configuration (every field equal; create
 * the agent with the configuration first). The context's seed and random-stream position are
 * restored too, so that a resumed run draws the numbers the uninterrupted run would have drawn.
 * A truncated, corrupt, wrong-version or wrong-shape file returns #MFPO_ERR_FORMAT and leaves the
 * agent untouched; the message names the section and what was expected.
 * @return #MFPO_OK, #MFPO_ERR_FORMAT, #MFPO_ERR_IO (the file cannot be opened or read),
 *         #MFPO_ERR_INVALID_ARGUMENT or #MFPO_ERR_OUT_OF_MEMORY; on any error nothing changed.
 */
MFPO_API mfpo_status mfpo_agent_load(mfpo_agent *agent, const char *path);

/** Saves the replay buffer's stored transitions and position, atomically as mfpo_agent_save(). */
MFPO_API mfpo_status mfpo_replay_save(const mfpo_replay *replay, const char *path);

/**
 * Loads a replay buffer saved with the same dimensions and capacity (its transitions, fill level
 * and write position). Errors as mfpo_agent_load(); the buffer is untouched on any error.
 */
MFPO_API mfpo_status mfpo_replay_load(mfpo_replay *replay, const char *path);

MFPO_END_DECLS

#endif
