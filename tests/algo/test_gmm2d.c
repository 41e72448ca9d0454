/*
 * The 2-D mixture check (docs/algorithm.md §7) at a length CI affords: a short MFPO training on the one-step
 * mixture task, then
 *   (d) the library's log-likelihoods against the exact density of its own 2-step sampler
 *       (log N(eps) - log|det da/deps|), which checks the sampler-with-likelihood machinery;
 *   weak (a), (b): the samples moved from the initial blob towards the mixture, measurably better
 *       than a uniform policy on the box would score;
 * and that the (d) check rejects deliberately broken likelihoods: the divergence term dropped,
 * and its sign flipped. The full-length targets are the example's job (examples/gmm2d.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "gmm2d_task.h"

/* Training length and size: about 1 500 updates of 2 x 64 networks, batch 64, K1/K2 = 8/16. */
#define UPDATES 1500
#define SAMPLES 4000

/* (d) thresholds: the full targets are corr >= 0.95 and MAE <= 0.3 nats. */
#define D_CORR_MIN 0.95
#define D_MAE_MAX 0.3
/* Weak (a)/(b): a uniform policy on [-1, 1]^2 puts 0.045 of its mass within 3 sigma of each centre
 * and 0.73 farther than 3 sigma from all; the untrained policy scores about 0.002 and 0.97. */
#define A_MASS_MIN 0.02
#define B_FAR_MAX 0.70

static int d_passes(const gmm2d_metrics *m)
{
    return m->sampler_corr >= D_CORR_MIN && m->sampler_mae <= D_MAE_MAX;
}

static void test_gmm2d(void **state)
{
    (void)state;
    const gmm2d_spec g = { 6, 0.6, 0.08 };
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 3;
    mfpo_context *ctx = NULL;
    assert_int_equal(mfpo_context_create(&o, &ctx), MFPO_OK);
    mfpo_agent_config c;
    gmm2d_config(&c, 64, 2);
    c.batch_size = 64;
    c.policy_samples = 8;
    c.gaussian_samples = 16;
    c.lr_policy = c.lr_divergence = c.lr_critic = 1e-3f;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_int_equal(mfpo_agent_create(ctx, &c, &ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(ctx, 1, 2, 50000, &rb), MFPO_OK);
    assert_int_equal(gmm2d_fill_replay(&g, rb, 50000, 3), MFPO_OK);

    gmm2d_metrics before, after, dropped, flipped;
    assert_int_equal(gmm2d_evaluate(&g, ag, SAMPLES, 11, GMM2D_LOGP_LIBRARY, &before, NULL), MFPO_OK);
    for (int i = 0; i < UPDATES; i++) assert_int_equal(mfpo_update(ag, rb, NULL), MFPO_OK);
    assert_int_equal(gmm2d_evaluate(&g, ag, SAMPLES, 11, GMM2D_LOGP_LIBRARY, &after, NULL), MFPO_OK);
    assert_int_equal(gmm2d_evaluate(&g, ag, SAMPLES, 11, GMM2D_LOGP_NO_DIVERGENCE, &dropped, NULL), MFPO_OK);
    assert_int_equal(gmm2d_evaluate(&g, ag, SAMPLES, 11, GMM2D_LOGP_FLIPPED_DIVERGENCE, &flipped, NULL), MFPO_OK);
    printf("before:  centre_mass_min %.3f far %.3f sampler corr %.3f mae %.3f\n", before.centre_mass_min, before.far,
           before.sampler_corr, before.sampler_mae);
    printf("after:   centre_mass_min %.3f far %.3f sampler corr %.3f mae %.3f (points %zu) logp corr %.3f mae %.3f\n",
           after.centre_mass_min, after.far, after.sampler_corr, after.sampler_mae, after.sampler_points,
           after.logp_corr, after.logp_mae);
    printf("dropped: sampler corr %.3f mae %.3f\nflipped: sampler corr %.3f mae %.3f\n", dropped.sampler_corr,
           dropped.sampler_mae, flipped.sampler_corr, flipped.sampler_mae);

    assert_true(after.sampler_points > SAMPLES / 2);
    assert_true(d_passes(&after));
    assert_true(after.centre_mass_min >= A_MASS_MIN);
    assert_true(after.far <= B_FAR_MAX);
    /* the same check must reject likelihoods without, or with the wrong sign of, the divergence */
    assert_false(d_passes(&dropped));
    assert_false(d_passes(&flipped));

    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_gmm2d) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
