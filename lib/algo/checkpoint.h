/*
 * The agent and replay-buffer checkpoint codecs (checkpoint.c, docs/checkpoint-format.md). `who`
 * is the exported function's name, for messages; the caller has checked the handle and the path.
 * Every call is atomic in the sense of the format page: a save leaves the old file or the new
 * one, a refused load leaves the object as it was.
 */
#ifndef MFPO_ALGO_CHECKPOINT_H
#define MFPO_ALGO_CHECKPOINT_H

#include <mfpo/agent.h>
#include <mfpo/replay.h>
#include <mfpo/status.h>

mfpo_status algo_agent_save(const mfpo_agent *ag, const char *who, const char *path);
mfpo_status algo_agent_load(mfpo_agent *ag, const char *who, const char *path);
mfpo_status algo_replay_save(const mfpo_replay *replay, const char *who, const char *path);
mfpo_status algo_replay_load(mfpo_replay *replay, const char *who, const char *path);

#endif
