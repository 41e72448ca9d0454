/*
 * Argument errors of the agent, network and update functions: each returns the documented status
 * and a message naming the function and the argument (and the value, where there is one).
 */
/* This file checks the arguments of mfpo_policy_transport() (include/mfpo/experimental.h). */
#define MFPO_EXPERIMENTAL
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mfpo.h>

static mfpo_context *g_ctx;
static mfpo_agent *g_agent;

#define S 3
#define A 2

/* The status and that the last error mentions each of the given fragments. */
#define EXPECT_ERR(ctx, call, status, ...)                                                                             \
    do {                                                                                                               \
        assert_int_equal((call), (status));                                                                            \
        const char *frag_[] = { __VA_ARGS__ };                                                                         \
        for (size_t k_ = 0; k_ < sizeof frag_ / sizeof frag_[0]; k_++)                                                 \
            if (!strstr(mfpo_last_error(ctx), frag_[k_]))                                                              \
                fail_msg("message '%s' lacks '%s'", mfpo_last_error(ctx), frag_[k_]);                                  \
    } while (0)

static void small_config(mfpo_agent_config *c)
{
    mfpo_agent_config_init(c, S, A);
    c->hidden_width = 16;
    c->hidden_depth = 1;
    c->batch_size = 8;
    c->policy_samples = 2;
    c->gaussian_samples = 2;
    c->fourier_features = 4;
    c->time_embed_dim = 8;
}

static int setup(void **state)
{
    (void)state;
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    mfpo_agent_config c;
    small_config(&c);
    if (mfpo_context_create(&o, &g_ctx) != MFPO_OK) return -1;
    return mfpo_agent_create(g_ctx, &c, &g_agent) == MFPO_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mfpo_agent_destroy(g_agent);
    mfpo_context_destroy(g_ctx);
    return 0;
}

static void test_config_errors(void **state)
{
    (void)state;
    mfpo_agent *ag = (mfpo_agent *)0x1;
    mfpo_agent_config c;
    small_config(&c);
    EXPECT_ERR(NULL, mfpo_agent_create(NULL, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_create", "'ctx'");
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, NULL, &ag), MFPO_ERR_INVALID_ARGUMENT, "'config'");
    assert_null(ag);
    small_config(&c);
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, NULL), MFPO_ERR_INVALID_ARGUMENT, "'out'");
    c.struct_size = 4;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "struct_size = 4");
    small_config(&c);
    c.obs_dim = 0;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->obs_dim = 0");
    small_config(&c);
    c.hidden_depth = 99;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->hidden_depth = 99");
    small_config(&c);
    c.v_min = 5.0f;
    c.v_max = -5.0f;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->v_min = 5");
    small_config(&c);
    c.gamma = NAN;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->gamma");
    small_config(&c);
    c.init_alpha = 0.0f;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->init_alpha = 0");
    small_config(&c);
    c.batch_size = (size_t)1 << 20;
    c.policy_samples = 1024;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->batch_size");
    small_config(&c);
    c.clipped_double_q = 2;
    EXPECT_ERR(g_ctx, mfpo_agent_create(g_ctx, &c, &ag), MFPO_ERR_INVALID_ARGUMENT, "config->clipped_double_q = 2");
    EXPECT_ERR(g_ctx, mfpo_policy_create(g_ctx, &c, NULL), MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_create", "'out'");
    mfpo_divergence *d;
    EXPECT_ERR(g_ctx, mfpo_divergence_create(g_ctx, &c, &d), MFPO_ERR_INVALID_ARGUMENT, "mfpo_divergence_create",
               "config->clipped_double_q");
    mfpo_critic *q;
    EXPECT_ERR(NULL, mfpo_critic_create(NULL, &c, &q), MFPO_ERR_INVALID_ARGUMENT, "mfpo_critic_create", "'ctx'");
}

static void test_sampling_errors(void **state)
{
    (void)state;
    float obs[S * 2] = { 0 }, act[A * 2], logp[2];
    mfpo_policy *p = mfpo_agent_policy(g_agent);
    mfpo_divergence *d = mfpo_agent_divergence(g_agent);
    EXPECT_ERR(NULL, mfpo_policy_sample(NULL, obs, 1, act), MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_sample",
               "'policy'");
    EXPECT_ERR(g_ctx, mfpo_policy_sample(p, NULL, 1, act), MFPO_ERR_INVALID_ARGUMENT, "'obs'");
    EXPECT_ERR(g_ctx, mfpo_policy_sample(p, obs, 1, NULL), MFPO_ERR_INVALID_ARGUMENT, "'actions'");
    EXPECT_ERR(g_ctx, mfpo_policy_sample(p, obs, 0, act), MFPO_ERR_INVALID_ARGUMENT, "n = 0");
    EXPECT_ERR(g_ctx, mfpo_policy_sample(p, obs, SIZE_MAX, act), MFPO_ERR_INVALID_ARGUMENT, "n = ");
    obs[S + 1] = INFINITY;
    EXPECT_ERR(g_ctx, mfpo_policy_sample(p, obs, 2, act), MFPO_ERR_NON_FINITE, "obs[4] (row 1)", "inf");
    obs[S + 1] = 0.0f;
    EXPECT_ERR(g_ctx, mfpo_policy_sample_logp(p, NULL, obs, 1, act, logp), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_policy_sample_logp", "'divergence'");
    EXPECT_ERR(g_ctx, mfpo_policy_sample_logp(p, d, obs, 1, act, NULL), MFPO_ERR_INVALID_ARGUMENT, "'logp'");
    EXPECT_ERR(g_ctx, mfpo_policy_transport(p, d, obs, NULL, 1, act, logp), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_policy_transport", "'noise'");
    float noise[A] = { NAN, 0.0f };
    EXPECT_ERR(g_ctx, mfpo_policy_transport(p, d, obs, noise, 1, act, logp), MFPO_ERR_NON_FINITE, "noise[0]");
    EXPECT_ERR(NULL, mfpo_agent_act(NULL, obs, 1, act), MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_act", "'agent'");
    /* the agent's errors are named after the call the caller made, not the policy call behind it */
    float bad_obs[S] = { 0.0f };
    bad_obs[1] = NAN;
    EXPECT_ERR(g_ctx, mfpo_agent_act(g_agent, bad_obs, 1, act), MFPO_ERR_NON_FINITE,
               "mfpo_agent_act: obs[1] (row 0) = nan is not finite");
    EXPECT_ERR(g_ctx, mfpo_agent_act(g_agent, bad_obs, 0, act), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_agent_act: n = 0 is outside [1, 2^24]");
    EXPECT_ERR(g_ctx, mfpo_agent_act(g_agent, NULL, 1, act), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_agent_act: argument 'obs' is NULL");
    EXPECT_ERR(g_ctx, mfpo_agent_act(g_agent, bad_obs, 1, NULL), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_agent_act: argument 'actions' is NULL");
    EXPECT_ERR(g_ctx, mfpo_agent_select_action(g_agent, obs, 0, act), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_agent_select_action", "n = 0");
    EXPECT_ERR(g_ctx, mfpo_critic_q(mfpo_agent_critic(g_agent), obs, act, 1, 2, logp), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_critic_q", "use_targets = 2");
    /* a divergence net of other dimensions does not fit the policy */
    mfpo_agent_config c;
    small_config(&c);
    c.act_dim = A + 1;
    mfpo_divergence *other = NULL;
    assert_int_equal(mfpo_divergence_create(g_ctx, &c, &other), MFPO_OK);
    EXPECT_ERR(g_ctx, mfpo_policy_sample_logp(p, other, obs, 1, act, logp), MFPO_ERR_INVALID_ARGUMENT,
               "'divergence' has obs_dim 3, act_dim 3");
    mfpo_divergence_destroy(other);
}

static void test_params_and_update_errors(void **state)
{
    (void)state;
    mfpo_policy *p = mfpo_agent_policy(g_agent);
    size_t n = mfpo_policy_param_count(p);
    float buf[4] = { 0 };
    EXPECT_ERR(g_ctx, mfpo_policy_get_params(p, buf, 4), MFPO_ERR_INVALID_ARGUMENT, "count = 4", "parameter count");
    EXPECT_ERR(g_ctx, mfpo_policy_set_params(p, NULL, n), MFPO_ERR_INVALID_ARGUMENT, "mfpo_policy_set_params",
               "'params'");
    EXPECT_ERR(g_ctx, mfpo_policy_get_params(p, NULL, n), MFPO_ERR_INVALID_ARGUMENT, "'params'");
    EXPECT_ERR(NULL, mfpo_update(NULL, NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, "mfpo_update", "'agent'");
    EXPECT_ERR(g_ctx, mfpo_update(g_agent, NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, "'replay'");
    mfpo_replay *r = NULL;
    assert_int_equal(mfpo_replay_create(g_ctx, S, A, 16, &r), MFPO_OK);
    EXPECT_ERR(g_ctx, mfpo_update(g_agent, r, NULL), MFPO_ERR_STATE, "replay buffer is empty");
    mfpo_update_stats st;
    st.struct_size = 3;
    EXPECT_ERR(g_ctx, mfpo_update(g_agent, r, &st), MFPO_ERR_INVALID_ARGUMENT, "stats->struct_size = 3");
    mfpo_replay_destroy(r);
    assert_int_equal(mfpo_replay_create(g_ctx, S + 1, A, 16, &r), MFPO_OK);
    float o[S + 1] = { 0 }, a[A] = { 0 };
    assert_int_equal(mfpo_replay_add(r, o, a, 0.0f, o, 0), MFPO_OK);
    EXPECT_ERR(g_ctx, mfpo_update(g_agent, r, NULL), MFPO_ERR_INVALID_ARGUMENT, "replay has obs_dim 4");
    mfpo_replay_destroy(r);
    assert_int_equal(mfpo_agent_update_count(g_agent), 0);
    mfpo_agent_config got;
    got.struct_size = 1;
    EXPECT_ERR(g_ctx, mfpo_agent_get_config(g_agent, &got), MFPO_ERR_INVALID_ARGUMENT, "config->struct_size = 1");
}

/* Every handle leads back to its context; the stats struct has an init call; the struct_size
 * bounds of mfpo_agent_get_config are those of every other call (docs/abi.md). */
static void test_handles_and_sizes(void **state)
{
    (void)state;
    assert_ptr_equal(mfpo_agent_context(g_agent), g_ctx);
    assert_ptr_equal(mfpo_policy_context(mfpo_agent_policy(g_agent)), g_ctx);
    assert_ptr_equal(mfpo_divergence_context(mfpo_agent_divergence(g_agent)), g_ctx);
    assert_ptr_equal(mfpo_critic_context(mfpo_agent_critic(g_agent)), g_ctx);
    assert_null(mfpo_agent_context(NULL));
    assert_null(mfpo_replay_context(NULL));
    assert_null(mfpo_policy_context(NULL));
    assert_null(mfpo_divergence_context(NULL));
    assert_null(mfpo_critic_context(NULL));
    mfpo_replay *r = NULL;
    assert_int_equal(mfpo_replay_create(g_ctx, S, A, 4, &r), MFPO_OK);
    assert_ptr_equal(mfpo_replay_context(r), g_ctx);
    mfpo_replay_destroy(r);

    mfpo_update_stats st;
    memset(&st, 0xff, sizeof st);
    mfpo_update_stats_init(&st);
    assert_int_equal(st.struct_size, sizeof st);
    assert_true(st.critic_loss == 0.0f && st.alpha == 0.0f && st.actor_updated == 0);
    mfpo_update_stats_init(NULL);

    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    c.struct_size = (size_t)2 << 20; /* 2 MiB: refused, and nothing written */
    c.hidden_width = 12345;
    EXPECT_ERR(g_ctx, mfpo_agent_get_config(g_agent, &c), MFPO_ERR_INVALID_ARGUMENT,
               "mfpo_agent_get_config: config->struct_size = 2097152 is not a size this library knows");
    assert_int_equal(c.hidden_width, 12345);
    c.struct_size = 4;
    EXPECT_ERR(g_ctx, mfpo_agent_get_config(g_agent, &c), MFPO_ERR_INVALID_ARGUMENT, "config->struct_size = 4");
    c.struct_size = sizeof c;
    assert_int_equal(mfpo_agent_get_config(g_agent, &c), MFPO_OK);
    assert_int_equal(c.hidden_width, 16);
    assert_string_equal(mfpo_last_error(g_ctx), ""); /* the success cleared the refusal's text */

    /* the rule of mfpo_last_error: a failure leaves its message, the next successful call "" */
    float obs[S] = { 0.1f, 0.2f, 0.3f }, act[A];
    EXPECT_ERR(g_ctx, mfpo_agent_act(g_agent, obs, 0, act), MFPO_ERR_INVALID_ARGUMENT, "mfpo_agent_act: n = 0");
    assert_int_equal(mfpo_agent_act(g_agent, obs, 1, act), MFPO_OK);
    assert_string_equal(mfpo_last_error(g_ctx), "");
    EXPECT_ERR(g_ctx, mfpo_policy_sample(mfpo_agent_policy(g_agent), obs, 0, act), MFPO_ERR_INVALID_ARGUMENT, "n = 0");
    assert_int_equal(mfpo_replay_create(g_ctx, S, A, 4, &r), MFPO_OK);
    assert_string_equal(mfpo_last_error(g_ctx), "");
    EXPECT_ERR(g_ctx, mfpo_replay_add(r, obs, act, NAN, obs, 0), MFPO_ERR_NON_FINITE, "reward = nan");
    assert_int_equal(mfpo_replay_add(r, obs, act, 1.0f, obs, 0), MFPO_OK);
    assert_string_equal(mfpo_last_error(g_ctx), "");
    mfpo_replay_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_sampling_errors),
        cmocka_unit_test(test_params_and_update_errors),
        cmocka_unit_test(test_handles_and_sizes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
