/**
 * @file mfpo.h
 * @brief libmfpo: Mean Flow Policy Optimization in C. Include this one header.
 *
 * The library trains and runs multi-modal MeanFlow policies (spec: docs/algorithm.md).
 * Start with mfpo_context_create(), then mfpo_agent_create() and mfpo_replay_create(), and either
 * drive mfpo_update() yourself or hand an environment to mfpo_train().
 */
#ifndef MFPO_H
#define MFPO_H

#include "mfpo/version.h"
#include "mfpo/status.h"
#include "mfpo/context.h"
#include "mfpo/config.h"
#include "mfpo/nets.h"
#include "mfpo/replay.h"
#include "mfpo/agent.h"
#include "mfpo/env.h"
#include "mfpo/train.h"
#include "mfpo/checkpoint.h"
#include "mfpo/presets.h"
#include "mfpo/parallel.h"
#include "mfpo/train_vec.h"
/* Diagnostics, declared only under MFPO_EXPERIMENTAL (include/mfpo/experimental.h). */
#include "mfpo/experimental.h"

#endif
