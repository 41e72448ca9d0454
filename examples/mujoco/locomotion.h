/* Gymnasium v4 MuJoCo locomotion tasks (HalfCheetah-v4, Hopper-v4,
 * Walker2d-v4, Ant-v4, Humanoid-v4) on the MuJoCo C API.
 *
 * Plain C11; depends only on MuJoCo (<mujoco/mujoco.h>, -lmujoco).
 * Every task uses Gymnasium's v4 defaults: observations exclude the root x
 * (and y) position, Ant does not use contact forces (obs dim 27), all tasks
 * that can fall terminate when unhealthy, and episodes are truncated after
 * 1000 steps (Gymnasium's TimeLimit for these ids).
 *
 * Observations and actions are float; the simulation runs in double.
 */
#ifndef LOCO_LOCOMOTION_H
#define LOCO_LOCOMOTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct loco_task loco_task;

/* Episode length after which loco_task_step reports truncated = 1. */
#define LOCO_MAX_EPISODE_STEPS 1000

/* task_name: "HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid".
 * xml_path: the MuJoCo model file (Gymnasium's half_cheetah.xml, ...).
 * Returns 0 on success; on failure returns -1, sets *out to NULL and writes a
 * message naming the bad argument/value into err (if err != NULL && errlen > 0). */
int loco_task_create(const char *task_name, const char *xml_path, loco_task **out, char *err, size_t errlen);
void loco_task_destroy(loco_task *t);

size_t loco_task_obs_dim(const loco_task *t);
size_t loco_task_act_dim(const loco_task *t);
/* The model's actuator ctrlrange (Gymnasium's action_space). */
void loco_task_action_bounds(const loco_task *t, float *low, float *high);

/* Reset with Gymnasium v4's reset noise (uniform or normal per task, scaled by
 * the task's reset_noise_scale) drawn from the task's own RNG seeded by seed
 * (the same seed gives the same start state; the stream is not numpy's).
 * Writes the initial observation. Returns 0, or -1 on bad arguments. */
int loco_task_reset(loco_task *t, uint64_t seed, float *obs);

/* One environment step: frame_skip MuJoCo steps with ctrl = action (MuJoCo
 * clamps to ctrlrange as in Gymnasium, the reward uses the unclamped action).
 * terminated: unhealthy (never for HalfCheetah); truncated: the
 * LOCO_MAX_EPISODE_STEPS-th step since the last reset.
 * Returns 0, or -1 on NULL arguments or if the task was never reset. */
int loco_task_step(loco_task *t, const float *action, float *obs, float *reward, int *terminated, int *truncated);

/* Writes the observation of the current state (as reset/step would). */
void loco_task_get_obs(const loco_task *t, float *obs);

/* State access for cross-checking. */
size_t loco_task_nq(const loco_task *t);
size_t loco_task_nv(const loco_task *t);
/* Like Gymnasium's MujocoEnv.set_state: sets qpos/qvel and runs mj_forward.
 * Also refreshes the reference position (see below) from the new state. */
void loco_task_set_state(loco_task *t, const double *qpos, const double *qvel);
void loco_task_get_state(const loco_task *t, double *qpos, double *qvel);

/* Reference position: the x (and y) position the next step's forward velocity
 * is measured from.  Gymnasium v4 reads it at the start of step(): qpos[0]
 * for HalfCheetah/Hopper/Walker2d, the torso's xpos for Ant, the mass centre
 * from xipos for Humanoid.  After an mj_step, xpos/xipos still hold the
 * kinematics of the last sub-step's start, so for Ant and Humanoid it is one
 * MuJoCo sub-step stale; this module reproduces that.  set_state (like
 * Gymnasium's) makes it fresh, so a cross-check that copies Gymnasium's state
 * mid-episode must also copy this value.  xy[1] is 0 for the planar tasks. */
void loco_task_get_ref_position(const loco_task *t, double xy[2]);
void loco_task_set_ref_position(loco_task *t, const double xy[2]);

/* The constraint solver's warm start (mjData.qacc_warmstart, nv values): the
 * accelerations of the previous sub-step, which seed the next solve.  The
 * solver stops at a tolerance, so where contacts are active a different warm
 * start changes the result slightly (~1e-5 relative in Humanoid's cfrc_ext).
 * set_state leaves it alone; the cross-check copies Gymnasium's. */
void loco_task_get_warmstart(const loco_task *t, double *qacc_warmstart);
void loco_task_set_warmstart(loco_task *t, const double *qacc_warmstart);

#ifdef __cplusplus
}
#endif

#endif /* LOCO_LOCOMOTION_H */
