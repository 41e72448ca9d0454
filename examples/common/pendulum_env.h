/*
 * The classic pendulum swing-up (Gymnasium's Pendulum-v1) as an mfpo_env, in C.
 *
 *   g = 10, m = l = 1, dt = 0.05, |theta_dot| <= 8, |u| <= 2;
 *   theta_dot += (3 g / (2 l) sin(theta) + 3 / (m l^2) u) dt, clipped; theta += theta_dot dt;
 *   reward = -(wrap(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2), wrap to [-pi, pi);
 *   start: theta ~ U[-pi, pi], theta_dot ~ U[-1, 1] (from the reset seed alone);
 *   observation (cos theta, sin theta, theta_dot); action: one torque in [-2, 2];
 *   never terminates; truncated after PENDULUM_EPISODE_STEPS steps.
 *
 * The state is simulated in double, the reward is computed from the state before the step (as in
 * Gymnasium). Upright (theta = 0) is the goal; a good policy scores about -150 per episode, a
 * random one about -1200.
 */
#ifndef EXAMPLES_PENDULUM_ENV_H
#define EXAMPLES_PENDULUM_ENV_H

#include <stdint.h>

#include <mfpo.h>

#define PENDULUM_EPISODE_STEPS 200
#define PENDULUM_OBS_DIM 3
#define PENDULUM_ACT_DIM 1

typedef struct pendulum {
    double theta, theta_dot; /* state */
    int steps;               /* steps since the last reset; -1 before the first reset */
    int episode_steps;       /* truncation length, PENDULUM_EPISODE_STEPS by default */
    float low[1], high[1];   /* action bounds [-2, 2] */
} pendulum;

/* Initializes a pendulum and points *env at it (bounds, callbacks, user = p). */
void pendulum_env(pendulum *p, mfpo_env *env);

/* The callbacks, for programs that drive the pendulum themselves (user is a pendulum *). */
mfpo_status pendulum_reset(void *user, uint64_t seed, float *obs);
mfpo_status pendulum_step(void *user, const float *action, float *obs, float *reward, int *terminated, int *truncated);

/*
 * The agent settings shipped for the pendulum (examples/pendulum.c's defaults, tuned so that seeds
 * 0, 1, 2 reach a mean evaluation return >= -200 by 10 000 steps): the library's preset
 * "pendulum" (mfpo_agent_config_preset(), include/mfpo/presets.h). The training options that go
 * with them are in pendulum_train_options() (mfpo_train_options_preset(o, "pendulum")).
 */
void pendulum_agent_config(mfpo_agent_config *c);
void pendulum_train_options(mfpo_train_options *o);

#endif
