/*
 * pendulum: MFPO on the classic pendulum swing-up (Gymnasium's Pendulum-v1, written in C in
 * examples/common/pendulum_env.c), trained with the library's driver mfpo_train().
 *
 *   pendulum [--seed N] [--steps N] [--eval-every N] [--eval-episodes N] [--threads N]
 *            [--backend cpu|cuda|auto] [--out PREFIX]
 *            [--hidden W] [--depth D] [--batch B] [--k1 N] [--k2 N] [--atoms N] [--vmin V] [--vmax V]
 *            [--gamma G] [--lr LR] [--lr-critic LR] [--lr-alpha LR] [--alpha0 A] [--tau T]
 *            [--warmup N] [--utd R] [--candidates N] [--fourier N] [--embed N] [--auto-alpha 0|1]
 *            [--target-entropy COEF]
 *
 * The defaults are the shipped settings (pendulum_agent_config() and pendulum_train_options()).
 * Prints a progress line per 1000 steps and per evaluation, writes PREFIX.csv (step, wall seconds,
 * mean evaluation return) and PREFIX.png (gnuplot), and ends with one line
 *
 *   RESULT pendulum seed=<n> steps=<n> eval_return=<f> solved_step=<n> solved_seconds=<f> seconds=<f>
 *
 * where "solved" is the first evaluation whose mean return is >= -200 (-1 when none was).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mfpo.h>

#include "common/cli.h"
#include "common/curve.h"
#include "common/pendulum_env.h"

#define SOLVED_RETURN (-200.0)

typedef struct run_state {
    curve curve;
    long solved_step;
    double solved_seconds;
    double last_eval;
} run_state;

static int on_progress(void *user, const mfpo_progress *p)
{
    run_state *r = user;
    if (p->evaluated) {
        r->last_eval = p->last_eval_return;
        curve_add(&r->curve, p->step, p->elapsed_seconds, p->last_eval_return);
        if (r->solved_step < 0 && p->last_eval_return >= SOLVED_RETURN) {
            r->solved_step = (long)p->step;
            r->solved_seconds = p->elapsed_seconds;
        }
    }
    /* one line per evaluation and per progress_every steps; episode ends alone stay quiet */
    if (!p->evaluated && p->step % 1000 != 0) return 0;
    double eta = p->steps_per_second > 0 ? (double)(p->total_steps - p->step) / p->steps_per_second : 0.0;
    printf("step %6llu/%llu  %6.1f steps/s  ETA %5.0fs  episode %8.1f  eval %8.1f  alpha %.4f  H %5.2f  "
           "critic %.3f  actor %.4f  div %.4f  ess %.1f/%.1f%s\n",
           (unsigned long long)p->step, (unsigned long long)p->total_steps, p->steps_per_second, eta,
           p->last_episode_return, p->last_eval_return, (double)p->stats.alpha, (double)p->stats.entropy,
           (double)p->stats.critic_loss, (double)p->stats.actor_loss, (double)p->stats.divergence_loss,
           (double)p->stats.ess_policy, (double)p->stats.ess_gaussian,
           r->solved_step == (long)p->step ? "  <- solved" : "");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    mfpo_agent_config c;
    mfpo_train_options t;
    pendulum_agent_config(&c);
    pendulum_train_options(&t);
    long seed = 0, steps = (long)t.total_steps, eval_every = (long)t.eval_every, eval_episodes = (long)t.eval_episodes;
    long threads = 0, hidden = (long)c.hidden_width, depth = (long)c.hidden_depth, batch = (long)c.batch_size;
    long k1 = (long)c.policy_samples, k2 = (long)c.gaussian_samples, atoms = (long)c.atoms;
    long warmup = (long)t.warmup_steps, candidates = (long)c.eval_candidates;
    long fourier = (long)c.fourier_features, embed = (long)c.time_embed_dim, auto_alpha = c.auto_alpha;
    double target_entropy = c.target_entropy_coef;
    double vmin = c.v_min, vmax = c.v_max, gamma = c.gamma, lr = c.lr_policy, lr_critic = c.lr_critic;
    double lr_alpha = c.lr_alpha, alpha0 = c.init_alpha, tau = c.tau, utd = t.updates_per_step;
    const char *backend = "cpu", *out = "pendulum";
    cli_arg args[] = {
        { "--seed", CLI_LONG, &seed },
        { "--steps", CLI_LONG, &steps },
        { "--eval-every", CLI_LONG, &eval_every },
        { "--eval-episodes", CLI_LONG, &eval_episodes },
        { "--threads", CLI_LONG, &threads },
        { "--backend", CLI_STRING, &backend },
        { "--out", CLI_STRING, &out },
        { "--hidden", CLI_LONG, &hidden },
        { "--depth", CLI_LONG, &depth },
        { "--batch", CLI_LONG, &batch },
        { "--k1", CLI_LONG, &k1 },
        { "--k2", CLI_LONG, &k2 },
        { "--atoms", CLI_LONG, &atoms },
        { "--vmin", CLI_DOUBLE, &vmin },
        { "--vmax", CLI_DOUBLE, &vmax },
        { "--gamma", CLI_DOUBLE, &gamma },
        { "--lr", CLI_DOUBLE, &lr },
        { "--lr-critic", CLI_DOUBLE, &lr_critic },
        { "--lr-alpha", CLI_DOUBLE, &lr_alpha },
        { "--alpha0", CLI_DOUBLE, &alpha0 },
        { "--tau", CLI_DOUBLE, &tau },
        { "--warmup", CLI_LONG, &warmup },
        { "--utd", CLI_DOUBLE, &utd },
        { "--candidates", CLI_LONG, &candidates },
        { "--fourier", CLI_LONG, &fourier },
        { "--embed", CLI_LONG, &embed },
        { "--auto-alpha", CLI_LONG, &auto_alpha },
        { "--target-entropy", CLI_DOUBLE, &target_entropy },
    };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) return 2;
    if (seed < 0 || steps < 0 || eval_every < 0 || eval_episodes < 1 || threads < 0 || hidden < 1 || depth < 1 ||
        batch < 1 || k1 < 1 || k2 < 1 || atoms < 2 || warmup < 0 || candidates < 1 || fourier < 1 || embed < 1) {
        fprintf(stderr, "pendulum: counts must be positive (--seed, --steps, --eval-every, --warmup >= 0)\n");
        return 2;
    }
    c.hidden_width = (size_t)hidden;
    c.hidden_depth = (size_t)depth;
    c.batch_size = (size_t)batch;
    c.policy_samples = (size_t)k1;
    c.gaussian_samples = (size_t)k2;
    c.atoms = (size_t)atoms;
    c.v_min = (float)vmin;
    c.v_max = (float)vmax;
    c.gamma = (float)gamma;
    c.lr_policy = c.lr_divergence = (float)lr;
    c.lr_critic = (float)lr_critic;
    c.lr_alpha = (float)lr_alpha;
    c.init_alpha = (float)alpha0;
    c.tau = (float)tau;
    c.eval_candidates = (size_t)candidates;
    c.fourier_features = (size_t)fourier;
    c.time_embed_dim = (size_t)embed;
    c.auto_alpha = auto_alpha != 0;
    c.target_entropy_coef = (float)target_entropy;

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    if (cli_backend(backend, &o.backend) != 0) return 2;
    mfpo_context *ctx = NULL;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) {
        fprintf(stderr, "pendulum: %s\n", mfpo_last_error(NULL));
        return 1;
    }
    pendulum train_p, eval_p;
    mfpo_env env, eval_env;
    pendulum_env(&train_p, &env);
    pendulum_env(&eval_p, &eval_env);
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK ||
        mfpo_replay_create(ctx, env.obs_dim, env.act_dim, (size_t)(steps > 0 ? steps : 1), &rb) != MFPO_OK) {
        fprintf(stderr, "pendulum: %s\n", mfpo_last_error(ctx));
        mfpo_agent_destroy(ag);
        mfpo_context_destroy(ctx);
        return 1;
    }

    run_state r = { .solved_step = -1, .solved_seconds = -1.0, .last_eval = NAN };
    curve_open(&r.curve, "pendulum", out);

    t.total_steps = (uint64_t)steps;
    t.warmup_steps = (uint64_t)warmup;
    t.updates_per_step = utd;
    t.eval_every = (uint64_t)eval_every;
    t.eval_episodes = (size_t)eval_episodes;
    t.seed = (uint64_t)seed;
    t.eval_env = &eval_env;
    t.progress = on_progress;
    t.progress_user = &r;
    printf("pendulum: seed %ld, %ld steps (%ld warm-up), networks %ldx%ld, batch %ld, K1/K2 %ld/%ld, %ld atoms on "
           "[%g, %g], lr %g/%g, %ld eval candidates, %s\n",
           seed, steps, warmup, depth, hidden, batch, k1, k2, atoms, vmin, vmax, lr, lr_critic, candidates,
           mfpo_context_device_name(ctx));
    fflush(stdout);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mfpo_status s = mfpo_train(ag, rb, &env, &t);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int rc = 0;
    if (s != MFPO_OK) {
        fprintf(stderr, "pendulum: training stopped: %s\n", mfpo_last_error(ctx));
        rc = 1;
    }
    char title[64], series[64];
    snprintf(title, sizeof title, "MFPO on Pendulum (seed %ld)", seed);
    snprintf(series, sizeof series, "evaluation (%ld episodes)", eval_episodes);
    curve_finish(&r.curve, title, series, ", -200 with lines dt 2 lc rgb 'gray40' title 'solved (-200)'");
    printf("RESULT pendulum seed=%ld steps=%ld eval_return=%.1f solved_step=%ld solved_seconds=%.1f seconds=%.1f\n",
           seed, steps, r.last_eval, r.solved_step, r.solved_step >= 0 ? r.solved_seconds : -1.0, seconds);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return rc;
}
