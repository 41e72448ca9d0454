/**
 * @file presets.h
 * @brief Named settings shipped with the library: the tuned Pendulum and the paper's MuJoCo ones.
 *
 * The same names are used by the C examples and by the Python package (mfpo.AgentConfig.preset).
 */
#ifndef MFPO_PRESETS_H
#define MFPO_PRESETS_H

#include <stddef.h>

#include "config.h"
#include "export.h"
#include "status.h"
#include "train.h"

MFPO_BEGIN_DECLS

/**
 * Fills the whole of @p config (as mfpo_agent_config_init() does) with the preset @p name for the
 * given dimensions. Names:
 *  - "pendulum": the settings tuned for the pendulum swing-up (Gymnasium's Pendulum-v1, obs_dim 3,
 *    act_dim 1): 2 x 64 networks, batch 64, K1/K2 4/8, 101 atoms on [-1700, 100], learning rates
 *    1e-3 (alpha 3e-4), 32 evaluation candidates;
 *  - "mujoco": the paper's settings, exactly mfpo_agent_config_init();
 *  - "halfcheetah": "mujoco" with clipped double-Q off (the paper turns it off there only).
 * On an unknown name or zero dimensions returns #MFPO_ERR_INVALID_ARGUMENT, leaves @p config
 * unchanged, and the message (mfpo_last_error(NULL)) names the argument, its value and the choices.
 */
MFPO_API mfpo_status mfpo_agent_config_preset(mfpo_agent_config *config, const char *name, size_t obs_dim,
                                              size_t act_dim);

/**
 * Fills @p options with the training loop of preset @p name: "pendulum" (20 000 steps, 1000 warm-up,
 * evaluation every 1000 steps over 10 episodes, episode limit 200), "mujoco" and "halfcheetah"
 * (the paper's: exactly mfpo_train_options_init(), 1 000 000 steps, 10 000 warm-up, evaluation every
 * 10 000 steps over 10 episodes, episode limit 1000). Errors as mfpo_agent_config_preset().
 */
MFPO_API mfpo_status mfpo_train_options_preset(mfpo_train_options *options, const char *name);

MFPO_END_DECLS

#endif
