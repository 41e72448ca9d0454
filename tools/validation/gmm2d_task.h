/*
 * The 2-D mixture check of docs/algorithm.md §7 as a reusable module (the harness
 * tools/validation/gmm2d.c and the test tests/algo/test_gmm2d.c both use it): a one-step task whose reward is the log-density of a
 * Gaussian mixture, trained with alpha fixed to 1 so that the MaxEnt-optimal policy is the
 * mixture itself, and the measurements that say whether MFPO reproduced it.
 */
#ifndef GMM2D_TASK_H
#define GMM2D_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <mfpo.h>

typedef struct gmm2d_spec {
    int components; /* equal-weight components on a circle */
    double radius;  /* circle radius */
    double sigma;   /* isotropic std of each component */
} gmm2d_spec;

/* log-density of the mixture at (x, y) */
double gmm2d_log_density(const gmm2d_spec *g, double x, double y);

/* Fills a replay buffer with n one-step transitions (constant observation 0, uniform actions on
 * [-1, 1]^2, reward = log-density, terminated). */
mfpo_status gmm2d_fill_replay(const gmm2d_spec *g, mfpo_replay *replay, size_t n, uint64_t seed);

/* The agent configuration used for the check (obs 1, act 2, alpha fixed to 1). */
void gmm2d_config(mfpo_agent_config *c, size_t hidden, size_t depth);

/* Which log-likelihood to score: the library's, or the deliberately broken ones that the test
 * uses to show its checks can fail. */
typedef enum { GMM2D_LOGP_LIBRARY, GMM2D_LOGP_NO_DIVERGENCE, GMM2D_LOGP_FLIPPED_DIVERGENCE } gmm2d_logp_mode;

typedef struct gmm2d_metrics {
    double centre_mass_min; /* (a) smallest share of samples within 3 sigma of a centre */
    double centre_mass_max;
    double far;                       /* (b) share farther than 3 sigma from every centre */
    double logp_corr, logp_mae;       /* (c) library log p vs exact mixture log-density */
    double sampler_corr, sampler_mae; /* (d) library log p vs the sampler's exact density */
    size_t sampler_points;            /* points used for (d): those not clipped at the box */
    double critic_mae;                /* diagnosis: mean |Q - log-density| on a grid, where log-density > -8 */
} gmm2d_metrics;

/* Draws n samples with likelihood from noise of the given seed and measures (a)–(d). If xy_logp is
 * non-NULL it receives n rows (x, y, library log p) for plotting. */
mfpo_status gmm2d_evaluate(const gmm2d_spec *g, mfpo_agent *agent, size_t n, uint64_t seed, gmm2d_logp_mode mode,
                           gmm2d_metrics *m, float *xy_logp);

/* The measurements (a)-(d) of gmm2d_evaluate for any sampler: a policy and divergence net pair,
 * for instance standalone copies of an agent's networks built with more sampling steps (the
 * example's --flow-steps diagnosis). critic_mae is left NaN. */
mfpo_status gmm2d_measure(const gmm2d_spec *g, mfpo_policy *policy, const mfpo_divergence *divergence, size_t n,
                          uint64_t seed, gmm2d_logp_mode mode, gmm2d_metrics *m, float *xy_logp);

#endif
