/*
 * mujoco_locomotion: MFPO on a Gymnasium-v4 MuJoCo locomotion task (HalfCheetah, Hopper,
 * Walker2d, Ant, Humanoid) through the C task module examples/mujoco/, wrapped as an mfpo_env.
 *
 *   mujoco_locomotion [--task NAME] [--model PATH | --model-dir DIR] [--steps N] [--warmup N]
 *                     [--eval-every N] [--eval-episodes N] [--seed N] [--threads N]
 *                     [--backend cpu|cuda|auto] [--out PREFIX] [--hidden W] [--depth D] [--batch B]
 *                     [--k1 N] [--k2 N] [--lr LR] [--candidates N] [--cdq 0|1] [--stats PATH]
 *                     [--save PREFIX]
 *
 * Defaults are the paper's (docs/algorithm.md §2.5, §5): mfpo_agent_config_init() networks and update, 1 000 000
 * steps, 10 000 uniform-random warm-up steps, one update per step, evaluation every 10 000 steps
 * over 10 episodes on a second task instance, time limit 1000; clipped double-Q is off for
 * HalfCheetah only. --hidden/--depth/--batch/--k1/--k2/--lr (all four learning rates)/--candidates/
 * --cdq override those settings (a reduced size for side-by-side runs, bench/official/); --stats PATH
 * writes the last update's statistics every 100 steps after warm-up (CSV); --save PREFIX writes the
 * trained agent and its replay buffer to PREFIX.agent and PREFIX.replay (mfpo_agent_save,
 * mfpo_replay_save) at the end.
 *
 * The task's MuJoCo model (Gymnasium's XML file, e.g. half_cheetah.xml; not part of libmfpo) is
 * --model PATH, or <file>.xml in the first of: --model-dir DIR, the directory in the environment
 * variable MFPO_MUJOCO_MODELS, and the installed data directory <datadir>/mfpo/mujoco. Gymnasium's
 * Python package carries the files in gymnasium/envs/mujoco/assets/. Action bounds come from the model's actuator ctrlrange. Writes PREFIX.csv (step, wall seconds,
 * mean evaluation return) and PREFIX.png, and ends with
 *
 *   RESULT mujoco task=<name> steps=<n> eval_return=<f> seconds=<f> steps_per_second=<f>
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>

#include <mfpo.h>

#include "common/cli.h"
#include "common/curve.h"
#include "locomotion.h"

/* Where `meson install` puts data (examples/meson.build); models are looked for there last. */
#ifndef MFPO_MUJOCO_DATADIR
#define MFPO_MUJOCO_DATADIR "/usr/local/share/mfpo/mujoco"
#endif

static const struct {
    const char *name, *file;
} tasks[] = {
    { "HalfCheetah", "half_cheetah.xml" }, { "Hopper", "hopper.xml" },
    { "Walker2d", "walker2d.xml" },        { "Ant", "ant.xml" },
    { "Humanoid", "humanoid.xml" },
};

/* ------------------------------------------------------------------ the task as an mfpo_env */

typedef struct loco_env {
    loco_task *task;
    float *low, *high;
} loco_env;

static mfpo_status loco_reset_cb(void *user, uint64_t seed, float *obs)
{
    loco_env *e = user;
    return loco_task_reset(e->task, seed, obs) == 0 ? MFPO_OK : MFPO_ERR_ENV;
}

static mfpo_status loco_step_cb(void *user, const float *action, float *obs, float *reward, int *terminated,
                                int *truncated)
{
    loco_env *e = user;
    return loco_task_step(e->task, action, obs, reward, terminated, truncated) == 0 ? MFPO_OK : MFPO_ERR_ENV;
}

static void loco_close_cb(void *user)
{
    loco_env *e = user;
    loco_task_destroy(e->task);
    free(e->low);
    free(e->high);
    e->task = NULL;
    e->low = e->high = NULL;
}

/* Creates the task and wraps it; returns 0, or -1 with a message printed. */
static int loco_env_open(const char *task, const char *xml, loco_env *e, mfpo_env *env)
{
    char err[512] = "";
    memset(e, 0, sizeof *e);
    if (loco_task_create(task, xml, &e->task, err, sizeof err) != 0) {
        fprintf(stderr, "mujoco_locomotion: %s\n", err);
        return -1;
    }
    size_t A = loco_task_act_dim(e->task);
    e->low = malloc(A * sizeof(float));
    e->high = malloc(A * sizeof(float));
    if (!e->low || !e->high) {
        loco_close_cb(e);
        fprintf(stderr, "mujoco_locomotion: out of memory\n");
        return -1;
    }
    loco_task_action_bounds(e->task, e->low, e->high);
    mfpo_env_init(env);
    env->obs_dim = loco_task_obs_dim(e->task);
    env->act_dim = A;
    env->action_low = e->low;
    env->action_high = e->high;
    env->user = e;
    env->reset = loco_reset_cb;
    env->step = loco_step_cb;
    env->close = loco_close_cb;
    return 0;
}

/* ------------------------------------------------------------------ the model file */

static int readable(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* Finds `file` in the model directories (see the top of this file); 0 and the path in out, or -1
 * with a message listing where it looked. */
static int find_model(const char *file, const char *model_dir, char *out, size_t size)
{
    const char *env = getenv("MFPO_MUJOCO_MODELS");
    /* an explicit --model-dir must hold the file; otherwise the variable, then the data directory */
    const char *dirs[2] = { model_dir, NULL }, *what[2] = { "--model-dir", NULL };
    int n = 1;
    if (!model_dir) {
        n = 0;
        if (env && env[0]) {
            dirs[n] = env;
            what[n++] = "MFPO_MUJOCO_MODELS";
        }
        dirs[n] = MFPO_MUJOCO_DATADIR;
        what[n++] = "the installed data directory";
    }
    for (int i = 0; i < n; i++) {
        snprintf(out, size, "%s/%s", dirs[i], file);
        if (readable(out)) return 0;
    }
    fprintf(stderr, "mujoco_locomotion: cannot find the model %s; looked in", file);
    for (int i = 0; i < n; i++) fprintf(stderr, "%s %s (%s)", i ? "," : "", dirs[i], what[i]);
    fprintf(stderr, ".\nGive the file with --model PATH, or its directory with --model-dir DIR or MFPO_MUJOCO_MODELS "
                    "(Gymnasium's are in gymnasium/envs/mujoco/assets/ of its Python package).\n");
    return -1;
}

/* ------------------------------------------------------------------ progress, curve */

#define NOT_GIVEN LONG_MIN /* an override option that was not on the command line */

typedef struct run_state {
    curve curve;
    FILE *stats; /* --stats: one row per 100 steps after warm-up */
    uint64_t warmup;
    double last_eval;
    uint64_t last_line;
} run_state;

static int on_progress(void *user, const mfpo_progress *p)
{
    run_state *r = user;
    if (p->evaluated) {
        r->last_eval = p->last_eval_return;
        curve_add(&r->curve, p->step, p->elapsed_seconds, p->last_eval_return);
    }
    if (r->stats && p->step > r->warmup && p->step % 100 == 0) {
        const mfpo_update_stats *u = &p->stats;
        fprintf(r->stats, "%llu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", (unsigned long long)(p->step - r->warmup),
                (double)u->critic_loss, (double)u->mean_q, (double)u->entropy, (double)u->alpha, (double)u->actor_loss,
                (double)u->divergence_loss, (double)u->ess_policy, (double)u->ess_gaussian);
        fflush(r->stats); /* a run stopped from outside keeps its rows */
    }
    if (!p->evaluated && p->step - r->last_line < 1000) return 0;
    r->last_line = p->step;
    double eta = p->steps_per_second > 0 ? (double)(p->total_steps - p->step) / p->steps_per_second : 0.0;
    printf("step %8llu/%llu  %7.1f steps/s  ETA %7.0fs  episode %9.1f  eval %9.1f  alpha %.4f  critic %.3f  "
           "actor %.4f  q %.1f\n",
           (unsigned long long)p->step, (unsigned long long)p->total_steps, p->steps_per_second, eta,
           p->last_episode_return, p->last_eval_return, (double)p->stats.alpha, (double)p->stats.critic_loss,
           (double)p->stats.actor_loss, (double)p->stats.mean_q);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *task = "HalfCheetah", *model = NULL, *model_dir = NULL, *backend = "auto", *out = NULL, *stats = NULL;
    const char *save = NULL;
    long steps = 1000000, warmup = 10000, eval_every = 10000, eval_episodes = 10, seed = 0, threads = 0;
    /* NOT_GIVEN / NaN: keep the paper's setting (mfpo_agent_config_init, clipped double-Q off on HalfCheetah) */
    long hidden = NOT_GIVEN, depth = NOT_GIVEN, batch = NOT_GIVEN, k1 = NOT_GIVEN, k2 = NOT_GIVEN;
    long candidates = NOT_GIVEN, cdq = NOT_GIVEN;
    double lr = NAN;
    cli_arg args[] = {
        { "--task", CLI_STRING, &task },
        { "--model", CLI_STRING, &model },
        { "--model-dir", CLI_STRING, &model_dir },
        { "--steps", CLI_LONG, &steps },
        { "--warmup", CLI_LONG, &warmup },
        { "--eval-every", CLI_LONG, &eval_every },
        { "--eval-episodes", CLI_LONG, &eval_episodes },
        { "--seed", CLI_LONG, &seed },
        { "--threads", CLI_LONG, &threads },
        { "--backend", CLI_STRING, &backend },
        { "--out", CLI_STRING, &out },
        { "--hidden", CLI_LONG, &hidden },
        { "--depth", CLI_LONG, &depth },
        { "--batch", CLI_LONG, &batch },
        { "--k1", CLI_LONG, &k1 },
        { "--k2", CLI_LONG, &k2 },
        { "--lr", CLI_DOUBLE, &lr },
        { "--candidates", CLI_LONG, &candidates },
        { "--cdq", CLI_LONG, &cdq },
        { "--stats", CLI_STRING, &stats },
        { "--save", CLI_STRING, &save },
    };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) return 2;
    int which = -1;
    for (int i = 0; i < (int)(sizeof tasks / sizeof tasks[0]); i++)
        if (!strcmp(task, tasks[i].name)) which = i;
    if (which < 0) {
        fprintf(stderr, "mujoco_locomotion: --task must be HalfCheetah, Hopper, Walker2d, Ant or Humanoid (got '%s')\n",
                task);
        return 2;
    }
    if (steps < 0 || warmup < 0 || eval_every < 0 || eval_episodes < 1 || seed < 0 || threads < 0) {
        fprintf(stderr, "mujoco_locomotion: counts must be >= 0 (--eval-episodes >= 1)\n");
        return 2;
    }
    /* overrides: each given one must be a positive count (--cdq 0 or 1, --lr in (0, 1]) */
    const struct {
        const char *name;
        long value;
    } counts[] = { { "--hidden", hidden }, { "--depth", depth }, { "--batch", batch },
                   { "--k1", k1 },         { "--k2", k2 },       { "--candidates", candidates } };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (counts[i].value != NOT_GIVEN && counts[i].value < 1) {
            fprintf(stderr, "mujoco_locomotion: %s %ld must be >= 1\n", counts[i].name, counts[i].value);
            return 2;
        }
    if (cdq != NOT_GIVEN && cdq != 0 && cdq != 1) {
        fprintf(stderr, "mujoco_locomotion: --cdq %ld must be 0 or 1\n", cdq);
        return 2;
    }
    if (!isnan(lr) && !(lr > 0.0 && lr <= 1.0)) {
        fprintf(stderr, "mujoco_locomotion: --lr %g must be in (0, 1]\n", lr);
        return 2;
    }
    char xml[4096], prefix[256];
    if (model && model_dir) {
        fprintf(stderr, "mujoco_locomotion: give --model or --model-dir, not both\n");
        return 2;
    }
    if (model)
        snprintf(xml, sizeof xml, "%s", model);
    else if (find_model(tasks[which].file, model_dir, xml, sizeof xml) != 0)
        return 2;
    if (!out) {
        snprintf(prefix, sizeof prefix, "mujoco_%s", tasks[which].name);
        out = prefix;
    }

    loco_env train_e, eval_e;
    mfpo_env env, eval_env;
    if (loco_env_open(task, xml, &train_e, &env) != 0) return 1;
    if (loco_env_open(task, xml, &eval_e, &eval_env) != 0) {
        mfpo_env_close(&env);
        return 1;
    }

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    if (cli_backend(backend, &o.backend) != 0) return 2;
    mfpo_context *ctx = NULL;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) {
        fprintf(stderr, "mujoco_locomotion: %s\n", mfpo_last_error(NULL));
        mfpo_env_close(&env);
        mfpo_env_close(&eval_env);
        return 1;
    }
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, env.obs_dim, env.act_dim);     /* the paper's settings (docs/algorithm.md §2.5) */
    if (!strcmp(task, "HalfCheetah")) c.clipped_double_q = 0; /* the paper turns it off there only */
    /* overrides; mfpo_agent_create checks each value and names a bad one */
    if (hidden != NOT_GIVEN) c.hidden_width = (size_t)hidden;
    if (depth != NOT_GIVEN) c.hidden_depth = (size_t)depth;
    if (batch != NOT_GIVEN) c.batch_size = (size_t)batch;
    if (k1 != NOT_GIVEN) c.policy_samples = (size_t)k1;
    if (k2 != NOT_GIVEN) c.gaussian_samples = (size_t)k2;
    if (candidates != NOT_GIVEN) c.eval_candidates = (size_t)candidates;
    if (cdq != NOT_GIVEN) c.clipped_double_q = cdq != 0;
    if (!isnan(lr)) c.lr_policy = c.lr_divergence = c.lr_critic = c.lr_alpha = (float)lr;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    size_t capacity = steps > 1000000 ? 1000000 : (size_t)(steps > 0 ? steps : 1);
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK ||
        mfpo_replay_create(ctx, env.obs_dim, env.act_dim, capacity, &rb) != MFPO_OK) {
        fprintf(stderr, "mujoco_locomotion: %s\n", mfpo_last_error(ctx));
        mfpo_agent_destroy(ag);
        mfpo_context_destroy(ctx);
        mfpo_env_close(&env);
        mfpo_env_close(&eval_env);
        return 1;
    }
    run_state r = { .last_eval = NAN, .warmup = (uint64_t)warmup };
    if (stats) {
        r.stats = fopen(stats, "w");
        if (r.stats)
            fprintf(r.stats,
                    "update,critic_loss,mean_q,entropy,alpha,actor_loss,divergence_loss,ess_policy,ess_gaussian\n");
        else
            fprintf(stderr, "mujoco_locomotion: cannot write --stats %s; continuing without it\n", stats);
    }
    curve_open(&r.curve, "mujoco_locomotion", out);

    mfpo_train_options t;
    mfpo_train_options_init(&t);
    t.total_steps = (uint64_t)steps;
    t.warmup_steps = (uint64_t)warmup;
    t.eval_every = (uint64_t)eval_every;
    t.eval_episodes = (size_t)eval_episodes;
    t.episode_limit = LOCO_MAX_EPISODE_STEPS;
    t.seed = (uint64_t)seed;
    t.eval_env = &eval_env;
    t.progress = on_progress;
    t.progress_user = &r;
    t.progress_every = r.stats ? 100 : 1000;
    printf("mujoco_locomotion: %s (obs %zu, act %zu) from %s, seed %ld, %ld steps (%ld warm-up), clipped double-Q "
           "%s, networks %zux%zu, batch %zu, K1/K2 %zu/%zu, lr %g, %zu eval candidates, %s\n",
           task, env.obs_dim, env.act_dim, xml, seed, steps, warmup, c.clipped_double_q ? "on" : "off", c.hidden_depth,
           c.hidden_width, c.batch_size, c.policy_samples, c.gaussian_samples, (double)c.lr_policy, c.eval_candidates,
           mfpo_context_device_name(ctx));
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mfpo_status s = mfpo_train(ag, rb, &env, &t);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int rc = 0;
    if (s != MFPO_OK) {
        fprintf(stderr, "mujoco_locomotion: training stopped: %s\n", mfpo_last_error(ctx));
        rc = 1;
    }
    /* a run shorter than one evaluation period still reports a return */
    if (s == MFPO_OK && isnan(r.last_eval) && steps > 0) {
        double mean;
        if (mfpo_evaluate(ag, &eval_env, (size_t)eval_episodes, LOCO_MAX_EPISODE_STEPS, 1000000007u, &mean) ==
            MFPO_OK) {
            r.last_eval = mean;
            curve_add(&r.curve, (uint64_t)steps, seconds, mean);
        }
    }
    if (r.stats) fclose(r.stats);
    /* --save: the trained agent and its replay, to continue from or to inspect (docs/checkpoint-format.md) */
    if (save && s == MFPO_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s.agent", save);
        mfpo_status ss = mfpo_agent_save(ag, path);
        if (ss == MFPO_OK) {
            snprintf(path, sizeof path, "%s.replay", save);
            ss = mfpo_replay_save(rb, path);
        }
        if (ss != MFPO_OK) {
            fprintf(stderr, "mujoco_locomotion: --save %s: %s\n", save, mfpo_last_error(ctx));
            rc = 1;
        } else
            printf("mujoco_locomotion: saved %s.agent and %s.replay\n", save, save);
    }
    char title[64];
    snprintf(title, sizeof title, "MFPO on %s", task);
    curve_finish(&r.curve, title, "evaluation", NULL);
    printf("RESULT mujoco task=%s steps=%ld eval_return=%.1f seconds=%.1f steps_per_second=%.1f\n", task, steps,
           r.last_eval, seconds, seconds > 0 ? (double)steps / seconds : 0.0);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    mfpo_env_close(&env);
    mfpo_env_close(&eval_env);
    return rc;
}
