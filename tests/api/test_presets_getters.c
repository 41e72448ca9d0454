/*
 * Additions for the Python package: the named presets (include/mfpo/presets.h), the getters of a
 * handle's dimensions and context, and the replay buffer's opt-in action range check. Every bad
 * argument is checked for its exact message and for leaving its target unchanged.
 */
#include <math.h>

#include "test_support.h"

static int group_setup(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    return 0;
}

/* ------------------------------------------------------------------ presets */

static void test_agent_presets(void **state)
{
    (void)state;
    mfpo_agent_config c, d;
    assert_status(mfpo_agent_config_preset(&c, "pendulum", 3, 1), MFPO_OK, NULL);
    /* the values tuned for the pendulum (formerly examples/common/pendulum_env.c) */
    mfpo_agent_config_init(&d, 3, 1);
    d.hidden_width = 64;
    d.hidden_depth = 2;
    d.batch_size = 64;
    d.policy_samples = 4;
    d.gaussian_samples = 8;
    d.atoms = 101;
    d.v_min = -1700.0f;
    d.v_max = 100.0f;
    d.gamma = 0.99f;
    d.lr_policy = d.lr_divergence = d.lr_critic = 1e-3f;
    d.lr_alpha = 3e-4f;
    d.eval_candidates = 32;
    assert_memory_equal(&c, &d, sizeof c);

    /* mujoco: exactly the paper's defaults; halfcheetah: the same with clipped double-Q off */
    assert_status(mfpo_agent_config_preset(&c, "mujoco", 17, 6), MFPO_OK, NULL);
    mfpo_agent_config_init(&d, 17, 6);
    assert_memory_equal(&c, &d, sizeof c);
    assert_status(mfpo_agent_config_preset(&c, "halfcheetah", 17, 6), MFPO_OK, NULL);
    assert_int_equal(c.clipped_double_q, 0);
    d.clipped_double_q = 0;
    assert_memory_equal(&c, &d, sizeof c);
}

static void test_agent_preset_errors(void **state)
{
    (void)state;
    mfpo_agent_config c, before;
    memset(&c, 0x5a, sizeof c);
    before = c;
    assert_status(mfpo_agent_config_preset(&c, "cartpole", 3, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL),
                        "mfpo_agent_config_preset: name = \"cartpole\" is not a preset (expected one of "
                        "\"pendulum\", \"mujoco\", \"halfcheetah\")");
    assert_memory_equal(&c, &before, sizeof c);
    assert_status(mfpo_agent_config_preset(&c, "pendulum", 0, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_agent_config_preset: obs_dim = 0 (expected >= 1)");
    assert_status(mfpo_agent_config_preset(&c, "pendulum", 3, 0), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_agent_config_preset: act_dim = 0 (expected >= 1)");
    assert_status(mfpo_agent_config_preset(&c, NULL, 3, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_agent_config_preset: argument 'name' is NULL");
    assert_memory_equal(&c, &before, sizeof c);
    assert_status(mfpo_agent_config_preset(NULL, "pendulum", 3, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_agent_config_preset: argument 'config' is NULL");
}

static void test_train_presets(void **state)
{
    (void)state;
    mfpo_train_options o, d;
    assert_status(mfpo_train_options_preset(&o, "pendulum"), MFPO_OK, NULL);
    mfpo_train_options_init(&d);
    d.total_steps = 20000;
    d.warmup_steps = 1000;
    d.eval_every = 1000;
    d.eval_episodes = 10;
    d.episode_limit = 200;
    d.progress_every = 1000;
    assert_memory_equal(&o, &d, sizeof o);
    mfpo_train_options_init(&d);
    assert_status(mfpo_train_options_preset(&o, "mujoco"), MFPO_OK, NULL);
    assert_memory_equal(&o, &d, sizeof o);
    assert_status(mfpo_train_options_preset(&o, "halfcheetah"), MFPO_OK, NULL);
    assert_memory_equal(&o, &d, sizeof o);
    assert_int_equal(o.total_steps, 1000000);
    assert_int_equal(o.warmup_steps, 10000);

    mfpo_train_options before = o;
    assert_status(mfpo_train_options_preset(&o, "Pendulum-v1"), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL),
                        "mfpo_train_options_preset: name = \"Pendulum-v1\" is not a preset (expected one of "
                        "\"pendulum\", \"mujoco\", \"halfcheetah\")");
    assert_memory_equal(&o, &before, sizeof o);
    assert_status(mfpo_train_options_preset(&o, NULL), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_train_options_preset: argument 'name' is NULL");
    assert_status(mfpo_train_options_preset(NULL, "pendulum"), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_train_options_preset: argument 'options' is NULL");
}

/* ------------------------------------------------------------------ getters */

static void test_getters(void **state)
{
    (void)state;
    mfpo_context *ctx = cpu_context(0, NULL);
    mfpo_agent_config c;
    assert_status(mfpo_agent_config_preset(&c, "pendulum", 5, 2), MFPO_OK, NULL);
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_status(mfpo_agent_create(ctx, &c, &ag), MFPO_OK, ctx);
    assert_status(mfpo_replay_create(ctx, 7, 3, 10, &rb), MFPO_OK, ctx);
    assert_ptr_equal(mfpo_agent_context(ag), ctx);
    assert_int_equal(mfpo_agent_obs_dim(ag), 5);
    assert_int_equal(mfpo_agent_act_dim(ag), 2);
    assert_ptr_equal(mfpo_replay_context(rb), ctx);
    assert_int_equal(mfpo_replay_obs_dim(rb), 7);
    assert_int_equal(mfpo_replay_act_dim(rb), 3);
    assert_null(mfpo_agent_context(NULL));
    assert_int_equal(mfpo_agent_obs_dim(NULL), 0);
    assert_int_equal(mfpo_agent_act_dim(NULL), 0);
    assert_null(mfpo_replay_context(NULL));
    assert_int_equal(mfpo_replay_obs_dim(NULL), 0);
    assert_int_equal(mfpo_replay_act_dim(NULL), 0);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

/* ------------------------------------------------------------------ replay action check */

static void test_action_check(void **state)
{
    (void)state;
    mfpo_context *ctx = cpu_context(0, NULL);
    mfpo_replay *rb = NULL;
    assert_status(mfpo_replay_create(ctx, 2, 2, 8, &rb), MFPO_OK, ctx);
    const float obs[2] = { 0.5f, -0.5f }, next[2] = { 0.25f, 0.75f };
    const float out_of_box[2] = { 0.5f, 1.5f }, edge[2] = { -1.0f, 1.0f };

    /* off by default: the old behaviour, any finite action is stored */
    assert_int_equal(mfpo_replay_action_check(rb), 0);
    assert_status(mfpo_replay_add(rb, obs, out_of_box, -1.0f, next, 0), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(rb), 1);

    assert_status(mfpo_replay_set_action_check(rb, 1), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_action_check(rb), 1);
    assert_status(mfpo_replay_add(rb, obs, out_of_box, -1.0f, next, 0), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_string_equal(mfpo_last_error(ctx),
                        "mfpo_replay_add: action[1] = 1.5 is outside [-1, 1] (the buffer's action check is on: "
                        "store the normalized action, not the environment's); nothing was stored");
    assert_int_equal(mfpo_replay_size(rb), 1);
    assert_status(mfpo_replay_add(rb, obs, edge, -1.0f, next, 0), MFPO_OK, ctx); /* the bounds are inside */
    assert_int_equal(mfpo_replay_size(rb), 2);

    /* a batch: every row is checked before any is written */
    const float bobs[6] = { 0, 0, 0, 0, 0, 0 }, bnext[6] = { 0, 0, 0, 0, 0, 0 }, rew[3] = { 0, 0, 0 };
    const float bact[6] = { 0.0f, 0.0f, 1.0f, -1.0f, -2.0f, 0.0f };
    const int term[3] = { 0, 0, 1 };
    assert_status(mfpo_replay_add_batch(rb, 3, bobs, bact, rew, bnext, term), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_string_equal(mfpo_last_error(ctx),
                        "mfpo_replay_add_batch: actions[2][0] = -2 is outside [-1, 1] (the buffer's action check "
                        "is on: store the normalized action, not the environment's); nothing was stored");
    assert_int_equal(mfpo_replay_size(rb), 2);

    /* off again */
    assert_status(mfpo_replay_set_action_check(rb, 0), MFPO_OK, ctx);
    assert_status(mfpo_replay_add_batch(rb, 3, bobs, bact, rew, bnext, term), MFPO_OK, ctx);
    assert_int_equal(mfpo_replay_size(rb), 5);

    /* bad arguments */
    assert_status(mfpo_replay_set_action_check(rb, 2), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_string_equal(mfpo_last_error(ctx), "mfpo_replay_set_action_check: enabled = 2 (expected 0 or 1)");
    assert_int_equal(mfpo_replay_action_check(rb), 0);
    assert_status(mfpo_replay_set_action_check(NULL, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_replay_set_action_check: argument 'replay' is NULL");
    assert_int_equal(mfpo_replay_action_check(NULL), 0);
    mfpo_replay_destroy(rb);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_presets), cmocka_unit_test(test_agent_preset_errors),
        cmocka_unit_test(test_train_presets), cmocka_unit_test(test_getters),
        cmocka_unit_test(test_action_check),
    };
    return cmocka_run_group_tests_name("api_presets_getters", tests, group_setup, NULL);
}
