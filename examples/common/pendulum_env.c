#include "pendulum_env.h"

#include <math.h>
#include <stddef.h>

#define PENDULUM_PI 3.14159265358979323846

static const double G = 10.0, M = 1.0, L = 1.0, DT = 0.05, MAX_SPEED = 8.0, MAX_TORQUE = 2.0;

/* splitmix64: the start state is a pure function of the reset seed. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi] from 53 random bits. */
static double uniform(uint64_t *state, double lo, double hi)
{
    double u = (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
    return lo + u * (hi - lo);
}

/* Python's ((x + pi) % (2 pi)) - pi: the result lies in [-pi, pi). */
static double wrap_angle(double x)
{
    double y = fmod(x + PENDULUM_PI, 2.0 * PENDULUM_PI);
    if (y < 0.0) y += 2.0 * PENDULUM_PI;
    return y - PENDULUM_PI;
}

static void observe(const pendulum *p, float *obs)
{
    obs[0] = (float)cos(p->theta);
    obs[1] = (float)sin(p->theta);
    obs[2] = (float)p->theta_dot;
}

void pendulum_env(pendulum *p, mfpo_env *env)
{
    p->theta = 0.0;
    p->theta_dot = 0.0;
    p->steps = -1;
    p->episode_steps = PENDULUM_EPISODE_STEPS;
    p->low[0] = (float)-MAX_TORQUE;
    p->high[0] = (float)MAX_TORQUE;
    mfpo_env_init(env);
    env->obs_dim = PENDULUM_OBS_DIM;
    env->act_dim = PENDULUM_ACT_DIM;
    env->action_low = p->low;
    env->action_high = p->high;
    env->user = p;
    env->reset = pendulum_reset;
    env->step = pendulum_step;
}

mfpo_status pendulum_reset(void *user, uint64_t seed, float *obs)
{
    pendulum *p = user;
    if (!p || !obs) return MFPO_ERR_INVALID_ARGUMENT;
    uint64_t state = seed;
    p->theta = uniform(&state, -PENDULUM_PI, PENDULUM_PI);
    p->theta_dot = uniform(&state, -1.0, 1.0);
    p->steps = 0;
    observe(p, obs);
    return MFPO_OK;
}

mfpo_status pendulum_step(void *user, const float *action, float *obs, float *reward, int *terminated, int *truncated)
{
    pendulum *p = user;
    if (!p || !action || !obs || !reward || !terminated || !truncated) return MFPO_ERR_INVALID_ARGUMENT;
    if (p->steps < 0 || !isfinite(action[0])) return MFPO_ERR_ENV; /* never reset, or a broken caller */
    double u = action[0];
    u = u < -MAX_TORQUE ? -MAX_TORQUE : u > MAX_TORQUE ? MAX_TORQUE : u;
    double th = wrap_angle(p->theta);
    double cost = th * th + 0.1 * p->theta_dot * p->theta_dot + 0.001 * u * u;
    double thd = p->theta_dot + (3.0 * G / (2.0 * L) * sin(p->theta) + 3.0 / (M * L * L) * u) * DT;
    thd = thd < -MAX_SPEED ? -MAX_SPEED : thd > MAX_SPEED ? MAX_SPEED : thd;
    p->theta += thd * DT;
    p->theta_dot = thd;
    p->steps++;
    observe(p, obs);
    *reward = (float)-cost;
    *terminated = 0;
    *truncated = p->steps >= p->episode_steps;
    return MFPO_OK;
}

void pendulum_agent_config(mfpo_agent_config *c)
{
    /* the library's preset (lib/api/presets.c: the settings tuned on seeds 0-2, bench/pendulum.sh);
     * it cannot fail for these dimensions */
    mfpo_agent_config_preset(c, "pendulum", PENDULUM_OBS_DIM, PENDULUM_ACT_DIM);
}

void pendulum_train_options(mfpo_train_options *o)
{
    mfpo_train_options_preset(o, "pendulum"); /* episode_limit = PENDULUM_EPISODE_STEPS */
}
