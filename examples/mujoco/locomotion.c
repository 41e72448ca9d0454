/* Gymnasium v4 MuJoCo locomotion tasks on the MuJoCo C API.
 *
 * The definitions follow Gymnasium's half_cheetah_v4.py, hopper_v4.py,
 * walker2d_v4.py, ant_v4.py, humanoid_v4.py and mujoco_env.py (MujocoEnv),
 * with each task's default constructor arguments, plus the TimeLimit of 1000
 * steps that gymnasium.make adds for these ids.  See locomotion.h.
 */
#include "locomotion.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>

typedef enum { LOCO_HALF_CHEETAH, LOCO_HOPPER, LOCO_WALKER2D, LOCO_ANT, LOCO_HUMANOID } loco_kind;

/* Where the forward velocity is measured. */
typedef enum {
    POS_QPOS0,      /* qpos[0] (root x slide joint) */
    POS_TORSO_XPOS, /* data.xpos of body "torso" (Ant: get_body_com("torso")) */
    POS_MASS_CENTER /* sum(body_mass * xipos) / sum(body_mass) (Humanoid) */
} loco_pos_kind;

typedef struct {
    const char *name;
    loco_kind kind;
    int nq, nv, nu;
    int nbody; /* required body count, 0 = any */
    int frame_skip;
    double forward_reward_weight;
    double ctrl_cost_weight;
    double healthy_reward; /* 0 for tasks without a healthy reward */
    int can_terminate;     /* terminate_when_unhealthy (v4 default True) */
    double reset_noise_scale;
    int qvel_noise_normal; /* 1: qvel += scale * N(0,1); 0: qvel += U(-scale, scale) */
    int qpos_excluded;     /* leading qpos entries left out of the observation */
    double qvel_clip;      /* > 0: observation velocities clipped to +-qvel_clip */
    loco_pos_kind pos_kind;
} loco_spec;

/* Values are the v4 constructor defaults. */
static const loco_spec loco_specs[] = {
    /* HalfCheetah-v4: forward_reward_weight=1.0, ctrl_cost_weight=0.1,
       reset_noise_scale=0.1 (qpos uniform, qvel normal), never terminates. */
    { "HalfCheetah", LOCO_HALF_CHEETAH, 9, 9, 6, 0, 5, 1.0, 0.1, 0.0, 0, 0.1, 1, 1, 0.0, POS_QPOS0 },
    /* Hopper-v4: ctrl_cost_weight=1e-3, healthy_reward=1.0,
       reset_noise_scale=5e-3 (uniform), obs qvel clipped to +-10. */
    { "Hopper", LOCO_HOPPER, 6, 6, 3, 0, 4, 1.0, 1e-3, 1.0, 1, 5e-3, 0, 1, 10.0, POS_QPOS0 },
    /* Walker2d-v4: same weights/noise as Hopper, own health ranges. */
    { "Walker2d", LOCO_WALKER2D, 9, 9, 6, 0, 4, 1.0, 1e-3, 1.0, 1, 5e-3, 0, 1, 10.0, POS_QPOS0 },
    /* Ant-v4: forward_reward = x_velocity (no weight), ctrl_cost_weight=0.5,
       use_contact_forces=False (no contact cost, obs 27), healthy_reward=1.0,
       reset_noise_scale=0.1 (qpos uniform, qvel normal). */
    { "Ant", LOCO_ANT, 15, 14, 8, 0, 5, 1.0, 0.5, 1.0, 1, 0.1, 1, 2, 0.0, POS_TORSO_XPOS },
    /* Humanoid-v4: forward_reward_weight=1.25, ctrl_cost_weight=0.1,
       healthy_reward=5.0, reset_noise_scale=1e-2 (uniform), no contact cost. */
    { "Humanoid", LOCO_HUMANOID, 24, 23, 17, 14, 5, 1.25, 0.1, 5.0, 1, 1e-2, 0, 2, 0.0, POS_MASS_CENTER },
};

#define LOCO_NSPECS (sizeof loco_specs / sizeof loco_specs[0])

struct loco_task {
    const loco_spec *spec;
    mjModel *m;
    mjData *d;
    double dt;         /* timestep * frame_skip */
    double *init_qpos; /* data.qpos of a fresh MjData (qpos0) */
    double *init_qvel; /* zeros */
    double *qpos_tmp;
    double *qvel_tmp;
    size_t obs_dim;
    int torso_id;      /* Ant */
    double total_mass; /* Humanoid */
    double ref_xy[2];
    long elapsed_steps;
    int needs_reset;
    /* reset RNG: xoshiro256** seeded with splitmix64 */
    uint64_t rng[4];
    int have_spare_normal;
    double spare_normal;
};

/* ---------------------------------------------------------------- errors */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* MuJoCo's parser messages span several lines; make them one line. */
static void one_line(char *msg)
{
    size_t n;
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == ' ') msg[--n] = '\0';
}

/* ---------------------------------------------------------------- RNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static void rng_seed(loco_task *t, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) t->rng[i] = splitmix64(&x);
    t->have_spare_normal = 0;
}

static uint64_t rng_next(loco_task *t)
{
    uint64_t *s = t->rng;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t tmp = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= tmp;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* uniform in [0, 1) with 53 random bits */
static double rng_uniform01(loco_task *t)
{
    return (double)(rng_next(t) >> 11) * (1.0 / 9007199254740992.0);
}

/* like numpy's uniform(low, high): low + (high - low) * U[0, 1) */
static double rng_uniform(loco_task *t, double low, double high)
{
    return low + (high - low) * rng_uniform01(t);
}

/* standard normal, Box-Muller */
static double rng_normal(loco_task *t)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1, u2, r;
    if (t->have_spare_normal) {
        t->have_spare_normal = 0;
        return t->spare_normal;
    }
    u1 = 1.0 - rng_uniform01(t); /* (0, 1] so log() is finite */
    u2 = rng_uniform01(t);
    r = sqrt(-2.0 * log(u1));
    t->spare_normal = r * sin(two_pi * u2);
    t->have_spare_normal = 1;
    return r * cos(two_pi * u2);
}

/* ---------------------------------------------------------------- task */

static const loco_spec *find_spec(const char *name)
{
    for (size_t i = 0; i < LOCO_NSPECS; i++)
        if (strcmp(loco_specs[i].name, name) == 0) return &loco_specs[i];
    return NULL;
}

static size_t compute_obs_dim(const loco_spec *s, const mjModel *m)
{
    size_t n = (size_t)(m->nq - s->qpos_excluded) + (size_t)m->nv;
    if (s->kind == LOCO_HUMANOID) /* cinert (10) + cvel (6) + cfrc_ext (6) per body, qfrc_actuator */
        n += (size_t)m->nbody * (10 + 6 + 6) + (size_t)m->nv;
    return n;
}

int loco_task_create(const char *task_name, const char *xml_path, loco_task **out, char *err, size_t errlen)
{
    char mjerr[1024];
    const loco_spec *s;
    mjModel *m;
    loco_task *t;

    if (out == NULL) {
        set_err(err, errlen, "loco_task_create: out is NULL");
        return -1;
    }
    *out = NULL;
    if (task_name == NULL) {
        set_err(err, errlen, "loco_task_create: task_name is NULL");
        return -1;
    }
    s = find_spec(task_name);
    if (s == NULL) {
        set_err(err, errlen,
                "loco_task_create: unknown task_name \"%s\" (expected one of HalfCheetah, "
                "Hopper, Walker2d, Ant, Humanoid)",
                task_name);
        return -1;
    }
    if (xml_path == NULL || xml_path[0] == '\0') {
        set_err(err, errlen, "loco_task_create: xml_path is %s", xml_path ? "empty" : "NULL");
        return -1;
    }

    mjerr[0] = '\0';
    m = mj_loadXML(xml_path, NULL, mjerr, (int)sizeof mjerr);
    if (m == NULL) {
        one_line(mjerr);
        set_err(err, errlen, "loco_task_create: cannot load xml_path \"%s\": %s", xml_path,
                mjerr[0] ? mjerr : "unknown MuJoCo error");
        return -1;
    }
    if (m->nq != s->nq || m->nv != s->nv || m->nu != s->nu) {
        set_err(err, errlen,
                "loco_task_create: xml_path \"%s\" does not fit task %s: model has nq=%d nv=%d "
                "nu=%d, %s-v4 needs nq=%d nv=%d nu=%d",
                xml_path, s->name, m->nq, m->nv, m->nu, s->name, s->nq, s->nv, s->nu);
        mj_deleteModel(m);
        return -1;
    }
    if (s->nbody != 0 && m->nbody != s->nbody) {
        set_err(err, errlen,
                "loco_task_create: xml_path \"%s\" does not fit task %s: model has nbody=%d, "
                "%s-v4 needs nbody=%d",
                xml_path, s->name, m->nbody, s->name, s->nbody);
        mj_deleteModel(m);
        return -1;
    }

    t = calloc(1, sizeof *t);
    if (t == NULL) {
        set_err(err, errlen, "loco_task_create: out of memory");
        mj_deleteModel(m);
        return -1;
    }
    t->spec = s;
    t->m = m;
    t->torso_id = -1;
    if (s->pos_kind == POS_TORSO_XPOS) {
        t->torso_id = mj_name2id(m, mjOBJ_BODY, "torso");
        if (t->torso_id < 0) {
            set_err(err, errlen,
                    "loco_task_create: xml_path \"%s\" does not fit task %s: no body named "
                    "\"torso\"",
                    xml_path, s->name);
            loco_task_destroy(t);
            return -1;
        }
    }
    t->d = mj_makeData(m);
    t->init_qpos = calloc((size_t)m->nq, sizeof(double));
    t->init_qvel = calloc((size_t)m->nv, sizeof(double));
    t->qpos_tmp = calloc((size_t)m->nq, sizeof(double));
    t->qvel_tmp = calloc((size_t)m->nv, sizeof(double));
    if (t->d == NULL || !t->init_qpos || !t->init_qvel || !t->qpos_tmp || !t->qvel_tmp) {
        set_err(err, errlen, "loco_task_create: out of memory");
        loco_task_destroy(t);
        return -1;
    }
    /* MujocoEnv: init_qpos/init_qvel are copies of a fresh MjData's qpos/qvel */
    memcpy(t->init_qpos, t->d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(t->init_qvel, t->d->qvel, (size_t)m->nv * sizeof(double));
    t->dt = m->opt.timestep * s->frame_skip;
    t->obs_dim = compute_obs_dim(s, m);
    for (int b = 0; b < m->nbody; b++) t->total_mass += m->body_mass[b];
    t->needs_reset = 1;
    *out = t;
    return 0;
}

void loco_task_destroy(loco_task *t)
{
    if (t == NULL) return;
    if (t->d) mj_deleteData(t->d);
    if (t->m) mj_deleteModel(t->m);
    free(t->init_qpos);
    free(t->init_qvel);
    free(t->qpos_tmp);
    free(t->qvel_tmp);
    free(t);
}

size_t loco_task_obs_dim(const loco_task *t)
{
    return t->obs_dim;
}
size_t loco_task_act_dim(const loco_task *t)
{
    return (size_t)t->m->nu;
}
size_t loco_task_nq(const loco_task *t)
{
    return (size_t)t->m->nq;
}
size_t loco_task_nv(const loco_task *t)
{
    return (size_t)t->m->nv;
}

void loco_task_action_bounds(const loco_task *t, float *low, float *high)
{
    for (int i = 0; i < t->m->nu; i++) {
        if (low) low[i] = (float)t->m->actuator_ctrlrange[2 * i];
        if (high) high[i] = (float)t->m->actuator_ctrlrange[2 * i + 1];
    }
}

/* The position the forward velocity is measured on, from the current data. */
static void current_position(const loco_task *t, double xy[2])
{
    const mjModel *m = t->m;
    const mjData *d = t->d;
    switch (t->spec->pos_kind) {
    case POS_QPOS0:
        xy[0] = d->qpos[0];
        xy[1] = 0.0;
        break;
    case POS_TORSO_XPOS:
        xy[0] = d->xpos[3 * t->torso_id];
        xy[1] = d->xpos[3 * t->torso_id + 1];
        break;
    case POS_MASS_CENTER: {
        double sx = 0.0, sy = 0.0;
        for (int b = 0; b < m->nbody; b++) {
            sx += m->body_mass[b] * d->xipos[3 * b];
            sy += m->body_mass[b] * d->xipos[3 * b + 1];
        }
        xy[0] = sx / t->total_mass;
        xy[1] = sy / t->total_mass;
        break;
    }
    }
}

void loco_task_get_ref_position(const loco_task *t, double xy[2])
{
    xy[0] = t->ref_xy[0];
    xy[1] = t->ref_xy[1];
}

void loco_task_set_ref_position(loco_task *t, const double xy[2])
{
    t->ref_xy[0] = xy[0];
    t->ref_xy[1] = xy[1];
}

void loco_task_get_warmstart(const loco_task *t, double *qacc_warmstart)
{
    memcpy(qacc_warmstart, t->d->qacc_warmstart, (size_t)t->m->nv * sizeof(double));
}

void loco_task_set_warmstart(loco_task *t, const double *qacc_warmstart)
{
    memcpy(t->d->qacc_warmstart, qacc_warmstart, (size_t)t->m->nv * sizeof(double));
}

void loco_task_set_state(loco_task *t, const double *qpos, const double *qvel)
{
    memcpy(t->d->qpos, qpos, (size_t)t->m->nq * sizeof(double));
    memcpy(t->d->qvel, qvel, (size_t)t->m->nv * sizeof(double));
    mj_forward(t->m, t->d);
    current_position(t, t->ref_xy);
}

void loco_task_get_state(const loco_task *t, double *qpos, double *qvel)
{
    if (qpos) memcpy(qpos, t->d->qpos, (size_t)t->m->nq * sizeof(double));
    if (qvel) memcpy(qvel, t->d->qvel, (size_t)t->m->nv * sizeof(double));
}

static void put_block(float **o, const double *src, int n)
{
    for (int i = 0; i < n; i++) *(*o)++ = (float)src[i];
}

void loco_task_get_obs(const loco_task *t, float *obs)
{
    const loco_spec *s = t->spec;
    const mjModel *m = t->m;
    const mjData *d = t->d;
    float *o = obs;

    put_block(&o, d->qpos + s->qpos_excluded, m->nq - s->qpos_excluded);
    if (s->qvel_clip > 0.0) {
        for (int i = 0; i < m->nv; i++) {
            double v = d->qvel[i];
            /* np.clip: NaN stays NaN */
            if (v < -s->qvel_clip)
                v = -s->qvel_clip;
            else if (v > s->qvel_clip)
                v = s->qvel_clip;
            *o++ = (float)v;
        }
    } else {
        put_block(&o, d->qvel, m->nv);
    }
    if (s->kind == LOCO_HUMANOID) {
        put_block(&o, d->cinert, 10 * m->nbody);
        put_block(&o, d->cvel, 6 * m->nbody);
        put_block(&o, d->qfrc_actuator, m->nv);
        put_block(&o, d->cfrc_ext, 6 * m->nbody);
    }
}

/* In (lo, hi), false for NaN. */
static int open_in(double x, double lo, double hi)
{
    return lo < x && x < hi;
}

static int is_healthy(const loco_task *t)
{
    const mjModel *m = t->m;
    const double *qpos = t->d->qpos;
    const double *qvel = t->d->qvel;

    switch (t->spec->kind) {
    case LOCO_HALF_CHEETAH:
        return 1;
    case LOCO_HOPPER:
        /* healthy_state_range (-100, 100) on state_vector()[2:], i.e. qpos[2:] and
           all of qvel; healthy_z_range (0.7, inf) on qpos[1]; healthy_angle_range
           (-0.2, 0.2) on qpos[2]; all bounds exclusive. */
        for (int i = 2; i < m->nq; i++)
            if (!open_in(qpos[i], -100.0, 100.0)) return 0;
        for (int i = 0; i < m->nv; i++)
            if (!open_in(qvel[i], -100.0, 100.0)) return 0;
        return open_in(qpos[1], 0.7, INFINITY) && open_in(qpos[2], -0.2, 0.2);
    case LOCO_WALKER2D:
        /* healthy_z_range (0.8, 2.0), healthy_angle_range (-1, 1), exclusive */
        return open_in(qpos[1], 0.8, 2.0) && open_in(qpos[2], -1.0, 1.0);
    case LOCO_ANT:
        /* state_vector() all finite and 0.2 <= qpos[2] <= 1.0 (inclusive) */
        for (int i = 0; i < m->nq; i++)
            if (!isfinite(qpos[i])) return 0;
        for (int i = 0; i < m->nv; i++)
            if (!isfinite(qvel[i])) return 0;
        return 0.2 <= qpos[2] && qpos[2] <= 1.0;
    case LOCO_HUMANOID:
        /* healthy_z_range (1.0, 2.0) on qpos[2], exclusive */
        return open_in(qpos[2], 1.0, 2.0);
    }
    return 1;
}

int loco_task_reset(loco_task *t, uint64_t seed, float *obs)
{
    const loco_spec *s;
    const mjModel *m;
    double scale;

    if (t == NULL || obs == NULL) return -1;
    s = t->spec;
    m = t->m;
    scale = s->reset_noise_scale;

    mj_resetData(m, t->d);
    rng_seed(t, seed);
    for (int i = 0; i < m->nq; i++) t->qpos_tmp[i] = t->init_qpos[i] + rng_uniform(t, -scale, scale);
    for (int i = 0; i < m->nv; i++)
        t->qvel_tmp[i] =
            t->init_qvel[i] + (s->qvel_noise_normal ? scale * rng_normal(t) : rng_uniform(t, -scale, scale));
    loco_task_set_state(t, t->qpos_tmp, t->qvel_tmp);
    t->elapsed_steps = 0;
    t->needs_reset = 0;
    loco_task_get_obs(t, obs);
    return 0;
}

int loco_task_step(loco_task *t, const float *action, float *obs, float *reward, int *terminated, int *truncated)
{
    const loco_spec *s;
    const mjModel *m;
    mjData *d;
    double before[2], after[2], x_velocity, ctrl_cost, healthy_reward, r;
    int healthy;

    if (t == NULL || action == NULL || obs == NULL || reward == NULL || terminated == NULL || truncated == NULL ||
        t->needs_reset)
        return -1;
    s = t->spec;
    m = t->m;
    d = t->d;

    /* before: what Gymnasium reads at the start of step() (see header) */
    before[0] = t->ref_xy[0];
    before[1] = t->ref_xy[1];

    /* MujocoEnv.do_simulation: ctrl = action, frame_skip mj_steps, then
       mj_rnePostConstraint so that cfrc_ext is filled in. */
    for (int i = 0; i < m->nu; i++) d->ctrl[i] = (double)action[i];
    for (int k = 0; k < s->frame_skip; k++) mj_step(m, d);
    mj_rnePostConstraint(m, d);

    current_position(t, after);
    t->ref_xy[0] = after[0];
    t->ref_xy[1] = after[1];
    x_velocity = (after[0] - before[0]) / t->dt;

    /* ctrl_cost_weight * sum(action^2) (Humanoid: sum(data.ctrl^2), the same values) */
    ctrl_cost = 0.0;
    for (int i = 0; i < m->nu; i++) ctrl_cost += (double)action[i] * (double)action[i];
    ctrl_cost *= s->ctrl_cost_weight;

    healthy = is_healthy(t);
    /* healthy_reward property: float(is_healthy or terminate_when_unhealthy) * healthy_reward */
    healthy_reward = (healthy || s->can_terminate) ? s->healthy_reward : 0.0;

    r = s->forward_reward_weight * x_velocity + healthy_reward - ctrl_cost;

    loco_task_get_obs(t, obs);
    *reward = (float)r;
    *terminated = s->can_terminate ? !healthy : 0;
    t->elapsed_steps++;
    *truncated = t->elapsed_steps >= LOCO_MAX_EPISODE_STEPS;
    return 0;
}
