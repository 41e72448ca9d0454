/*
 * gmm2d: the 2-D mixture check of the MFPO paper (docs/algorithm.md §7), a validation harness.
 * MFPO with alpha = 1 on a one-step task whose reward is a mixture's log-density must learn to
 * sample the mixture, and its divergence net must estimate the log-likelihood of its own samples.
 *
 *   gmm2d [--components K] [--radius R] [--sigma S] [--seed N] [--updates N] [--eval-every N]
 *         [--hidden W] [--depth D] [--batch B] [--k1 K] [--k2 K] [--lr LR] [--time-mean M]
 *         [--time-std S] [--flow-fraction F] [--probes N] [--v-min V] [--v-max V] [--flow-steps N]
 *         [--threads N] [--backend cpu|cuda|auto] [--out PREFIX]
 *
 * Prints the targets' progress, writes PREFIX.png (samples coloured by estimated log-likelihood,
 * like the paper's Figure 5) and PREFIX.dat, and ends with one RESULT line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mfpo.h>

#include "common/cli.h"
#include "common/curve.h"
#include "gmm2d_task.h"

/* The targets of the issue: (a) >= 0.10 of the samples within 3 sigma of every centre; (b) < 0.05
 * farther than 3 sigma from all; (c) corr >= 0.9 and MAE <= 0.5 against the mixture; (d) corr >=
 * 0.95 and MAE <= 0.3 against the sampler's own density. */
static int met_a(const gmm2d_metrics *m)
{
    return m->centre_mass_min >= 0.10;
}
static int met_b(const gmm2d_metrics *m)
{
    return m->far < 0.05;
}
static int met_c(const gmm2d_metrics *m)
{
    return m->logp_corr >= 0.9 && m->logp_mae <= 0.5;
}
static int met_d(const gmm2d_metrics *m)
{
    return m->sampler_corr >= 0.95 && m->sampler_mae <= 0.3;
}

static void plot(const char *prefix, const float *xy, size_t n)
{
    char dat[1024], png[1024], script[4096];
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    snprintf(png, sizeof png, "%s.png", prefix);
    FILE *f = fopen(dat, "w");
    if (!f) {
        fprintf(stderr, "gmm2d: cannot write %s\n", dat);
        return;
    }
    fprintf(f, "# x y estimated_log_likelihood\n");
    for (size_t i = 0; i < n; i++) fprintf(f, "%g %g %g\n", xy[3 * i], xy[3 * i + 1], xy[3 * i + 2]);
    fclose(f);
    snprintf(script, sizeof script,
             "set terminal pngcairo size 700,640; set output '%s'; set size ratio -1;"
             " set xrange [-1:1]; set yrange [-1:1]; set title 'MFPO samples, colour = estimated log-likelihood';"
             " set cbrange [-4:2]; set palette rgb 33,13,10;"
             " plot '%s' using 1:2:3 with points pt 7 ps 0.3 palette notitle",
             png, dat);
    if (plot_gnuplot(script) != 0)
        fprintf(stderr, "gmm2d: gnuplot failed or is not installed; the samples are in %s\n", dat);
    else
        printf("gmm2d: wrote %s and %s\n", png, dat);
}

/* --flow-steps N: the same networks sampled with N steps instead of T (copies built in a context of
 * their own, so the training run's random stream is untouched). With many steps u is used near
 * h = 0, i.e. the learned instantaneous velocity, and d near its instantaneous divergence; comparing
 * with the T-step sampler separates "the flow is wrong" from "the average velocity over h = 1/T
 * does not match the flow". Prints (a)-(d) of the N-step sampler and the mean distance
 * between its actions and the T-step sampler's from the same noise (xy_t: T-step rows x, y, logp). */
static int flow_diagnosis(const gmm2d_spec *g, mfpo_agent *agent, const mfpo_agent_config *config, size_t steps,
                          size_t n, uint64_t seed, const float *xy_t)
{
    mfpo_agent_config c = *config;
    c.sampling_steps = steps;
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.threads = 1;
    mfpo_context *ctx = NULL;
    mfpo_policy *pol = NULL;
    mfpo_divergence *div = NULL;
    size_t np = mfpo_policy_param_count(mfpo_agent_policy(agent));
    size_t nd = mfpo_divergence_param_count(mfpo_agent_divergence(agent));
    float *params = malloc((np > nd ? np : nd) * sizeof(float)), *xy = malloc(3 * n * sizeof(float));
    gmm2d_metrics m;
    int ok = params && xy && mfpo_context_create(&o, &ctx) == MFPO_OK && mfpo_policy_create(ctx, &c, &pol) == MFPO_OK &&
             mfpo_divergence_create(ctx, &c, &div) == MFPO_OK &&
             mfpo_policy_get_params(mfpo_agent_policy(agent), params, np) == MFPO_OK &&
             mfpo_policy_set_params(pol, params, np) == MFPO_OK &&
             mfpo_divergence_get_params(mfpo_agent_divergence(agent), params, nd) == MFPO_OK &&
             mfpo_divergence_set_params(div, params, nd) == MFPO_OK &&
             gmm2d_measure(g, pol, div, n, seed, GMM2D_LOGP_LIBRARY, &m, xy) == MFPO_OK;
    if (ok) {
        double dist = 0.0;
        for (size_t i = 0; i < n; i++) dist += hypot(xy[3 * i] - xy_t[3 * i], xy[3 * i + 1] - xy_t[3 * i + 1]);
        printf("  %zu-step sampler: centre_mass_min %.3f  far %.3f  logp corr %.3f mae %.3f  sampler corr %.3f "
               "mae %.3f  mean |a_T - a_%zu| %.4f\n",
               steps, m.centre_mass_min, m.far, m.logp_corr, m.logp_mae, m.sampler_corr, m.sampler_mae, steps,
               dist / (double)n);
    } else {
        fprintf(stderr, "gmm2d: --flow-steps diagnosis failed: %s\n",
                params && xy ? mfpo_last_error(ctx) : "out of memory");
    }
    mfpo_policy_destroy(pol);
    mfpo_divergence_destroy(div);
    mfpo_context_destroy(ctx);
    free(params);
    free(xy);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    gmm2d_spec g = { 6, 0.6, 0.08 };
    /* Defaults: the best settings found so far (docs/results.md: the full targets are not yet met). */
    double v_min = -40.0, v_max = 5.0;
    long seed = 0, updates = 100000, eval_every = 5000, hidden = 128, depth = 3, threads = 0, batch = 64;
    double lr = 1e-3, time_mean = -0.4, time_std = 1.0;
    /* K1/K2 32/64, twice the paper's: the self-normalised estimates are biased towards their
     * proposals, and at 8/16 and 16/32 the modes separate visibly slower (docs/results.md). */
    long k1 = 32, k2 = 64, probes = 2, flow_steps = 0;
    double flow_fraction = 0.75;
    const char *backend = "cpu", *out = "gmm2d";
    cli_arg args[] = {
        { "--components", CLI_INT, &g.components },
        { "--radius", CLI_DOUBLE, &g.radius },
        { "--sigma", CLI_DOUBLE, &g.sigma },
        { "--seed", CLI_LONG, &seed },
        { "--updates", CLI_LONG, &updates },
        { "--eval-every", CLI_LONG, &eval_every },
        { "--hidden", CLI_LONG, &hidden },
        { "--depth", CLI_LONG, &depth },
        { "--threads", CLI_LONG, &threads },
        { "--backend", CLI_STRING, &backend },
        { "--out", CLI_STRING, &out },
        { "--lr", CLI_DOUBLE, &lr },
        { "--batch", CLI_LONG, &batch },
        { "--k1", CLI_LONG, &k1 },
        { "--k2", CLI_LONG, &k2 },
        { "--time-mean", CLI_DOUBLE, &time_mean },
        { "--time-std", CLI_DOUBLE, &time_std },
        { "--v-min", CLI_DOUBLE, &v_min },
        { "--v-max", CLI_DOUBLE, &v_max },
        { "--probes", CLI_LONG, &probes },
        { "--flow-fraction", CLI_DOUBLE, &flow_fraction },
        { "--flow-steps", CLI_LONG, &flow_steps },
    };
    if (cli_parse(argc, argv, args, sizeof args / sizeof args[0]) != 0) return 2;
    if (g.components < 1 || g.components > 64 || !(g.radius >= 0) || !(g.sigma > 0) || updates < 0 || eval_every < 1 ||
        hidden < 1 || depth < 1 || flow_steps < 0) {
        fprintf(stderr, "gmm2d: --components must be in [1, 64], --sigma > 0, --updates >= 0, --eval-every >= 1, "
                        "--flow-steps >= 0\n");
        return 2;
    }

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    if (cli_backend(backend, &o.backend) != 0) return 2;
    mfpo_context *ctx;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) {
        fprintf(stderr, "gmm2d: %s\n", mfpo_last_error(NULL));
        return 1;
    }
    mfpo_agent_config c;
    gmm2d_config(&c, (size_t)hidden, (size_t)depth);
    c.batch_size = (size_t)batch;
    c.lr_policy = c.lr_divergence = c.lr_critic = (float)lr;
    c.policy_samples = (size_t)k1;
    c.gaussian_samples = (size_t)k2;
    c.time_mean = (float)time_mean;
    c.hutchinson_probes = (size_t)probes;
    c.flow_fraction = (float)flow_fraction;
    c.time_std = (float)time_std;
    c.v_min = (float)v_min;
    c.v_max = (float)v_max;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK || mfpo_replay_create(ctx, 1, 2, 100000, &rb) != MFPO_OK ||
        gmm2d_fill_replay(&g, rb, 100000, (uint64_t)seed) != MFPO_OK) {
        fprintf(stderr, "gmm2d: %s\n", mfpo_last_error(ctx));
        return 1;
    }
    printf("gmm2d: %d components, radius %g, sigma %g, seed %ld, networks %ldx%ld, %s\n", g.components, g.radius,
           g.sigma, seed, depth, hidden, mfpo_context_device_name(ctx));

    const size_t n_eval = 10000;
    float *xy = malloc(3 * n_eval * sizeof(float));
    long first[4] = { -1, -1, -1, -1 };
    double first_s[4] = { 0, 0, 0, 0 }, train_seconds = 0.0;
    gmm2d_metrics m;
    mfpo_update_stats st = { .struct_size = sizeof st };
    long done = 0;
    for (;;) {
        if (gmm2d_evaluate(&g, ag, n_eval, 1000 + (uint64_t)seed, GMM2D_LOGP_LIBRARY, &m, xy) != MFPO_OK) {
            fprintf(stderr, "gmm2d: %s\n", mfpo_last_error(ctx));
            return 1;
        }
        int met[4] = { met_a(&m), met_b(&m), met_c(&m), met_d(&m) };
        for (int i = 0; i < 4; i++)
            if (met[i] && first[i] < 0) {
                first[i] = done;
                first_s[i] = train_seconds;
            }
        printf("updates %6ld  %6.1fs  centre_mass_min %.3f  far %.3f  logp corr %.3f mae %.3f  sampler corr %.3f "
               "mae %.3f  targets %c%c%c%c  critic %.3f (|Q-r| %.2f) actor %.4f div %.4f\n",
               done, train_seconds, m.centre_mass_min, m.far, m.logp_corr, m.logp_mae, m.sampler_corr, m.sampler_mae,
               met[0] ? 'a' : '-', met[1] ? 'b' : '-', met[2] ? 'c' : '-', met[3] ? 'd' : '-', (double)st.critic_loss,
               m.critic_mae, (double)st.actor_loss, (double)st.divergence_loss);
        if (flow_steps > 0 && flow_diagnosis(&g, ag, &c, (size_t)flow_steps, n_eval, 1000 + (uint64_t)seed, xy) != 0)
            return 1;
        fflush(stdout);
        if (done >= updates) break;
        long chunk = updates - done < eval_every ? updates - done : eval_every;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < chunk; i++)
            if (mfpo_update(ag, rb, &st) != MFPO_OK) {
                fprintf(stderr, "gmm2d: %s\n", mfpo_last_error(ctx));
                return 1;
            }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        train_seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        done += chunk;
    }
    static const char *names[4] = { "(a) centre mass", "(b) far share", "(c) logp vs mixture", "(d) logp vs sampler" };
    for (int i = 0; i < 4; i++)
        if (first[i] >= 0)
            printf("gmm2d: target %-20s first met at %ld updates, %.1f s of training\n", names[i], first[i],
                   first_s[i]);
        else
            printf("gmm2d: target %-20s not met in %ld updates\n", names[i], done);
    plot(out, xy, n_eval);
    printf("RESULT gmm2d updates=%ld centre_mass_min=%.4f far=%.4f logp_corr=%.4f logp_mae=%.4f sampler_corr=%.4f "
           "sampler_mae=%.4f seconds=%.1f\n",
           done, m.centre_mass_min, m.far, m.logp_corr, m.logp_mae, m.sampler_corr, m.sampler_mae, train_seconds);
    free(xy);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}
