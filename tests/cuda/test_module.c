/*
 * Selection with the real CUDA module (MFPO_TEST_CUDA_MODULE, the built libmfpo-cuda.so):
 *   without a usable driver or device (this suite's usual CI machine): CUDA fails with
 *   MFPO_ERR_BACKEND_UNAVAILABLE and a reason saying that no driver/device is usable; the probe says
 *   the same; AUTO falls back to the CPU; MFPO_BACKEND overrides;
 *   with a device: CUDA and AUTO select it, the device name reads "cuda (<name>, sm_<cc>)", an
 *   out-of-range ordinal is refused with a reason, and a tiny agent acts and updates.
 */
#include <math.h>
#include <sys/stat.h>

#include "../api/test_support.h"

static const char *module_path(void)
{
    const char *v = getenv("MFPO_TEST_CUDA_MODULE");
    if (!v || !*v) fail_msg("MFPO_TEST_CUDA_MODULE is not set (run through meson test)");
    return v;
}

static int setup(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    /* modules are found by name in the directories of MFPO_MODULE_PATH: the module's own */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", module_path());
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    setenv("MFPO_MODULE_PATH", dir, 1);
    return 0;
}

static int device_present(char *why, size_t n)
{
    return mfpo_backend_probe(MFPO_BACKEND_CUDA, why, n) == MFPO_OK;
}

static void without_device(void **state)
{
    char why[512] = "";
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    struct stat st;
    (void)state;
    if (device_present(why, sizeof why)) skip();
    printf("  probe: %s\n", why);
    assert_contains(why, "CUDA backend unavailable: ");
    /* no /dev/nvidiactl: the driver is missing, and the reason must say so */
    if (stat("/dev/nvidiactl", &st) != 0) assert_contains(why, "no usable CUDA driver or device");

    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_null(ctx);
    assert_contains(mfpo_last_error(NULL), why);

    o.backend = MFPO_BACKEND_AUTO;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
    ctx = NULL;

    setenv("MFPO_BACKEND", "cuda", 1);
    o.backend = MFPO_BACKEND_CPU;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_contains(mfpo_last_error(NULL), "no usable CUDA driver or device");
    setenv("MFPO_BACKEND", "cpu", 1);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
    unsetenv("MFPO_BACKEND");
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_AUTO, why, sizeof why), MFPO_OK);
}

static void with_device(void **state)
{
    char why[512] = "";
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    (void)state;
    if (!device_present(why, sizeof why)) skip();

    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    o.seed = 5;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CUDA);
    const char *name = mfpo_context_device_name(ctx);
    printf("  device: %s\n", name);
    assert_true(strncmp(name, "cuda (", 6) == 0);
    assert_contains(name, ", sm_");

    /* a tiny agent acts, selects and updates */
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, 3, 2);
    c.hidden_width = 32;
    c.batch_size = 16;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_status(mfpo_agent_create(ctx, &c, &ag), MFPO_OK, ctx);
    assert_status(mfpo_replay_create(ctx, 3, 2, 64, &rb), MFPO_OK, ctx);
    float obs[3] = { 0.1f, -0.2f, 0.3f }, act[2], next[3] = { 0.2f, -0.1f, 0.3f };
    for (int i = 0; i < 32; i++) {
        act[0] = (float)(i % 5) * 0.2f - 0.4f;
        act[1] = -act[0];
        assert_status(mfpo_replay_add(rb, obs, act, 0.5f, next, 0), MFPO_OK, ctx);
    }
    for (int i = 0; i < 4; i++) {
        mfpo_update_stats s;
        s.struct_size = sizeof s;
        assert_status(mfpo_update(ag, rb, &s), MFPO_OK, ctx);
        assert_true(isfinite(s.critic_loss) && isfinite(s.actor_loss) && isfinite(s.alpha));
    }
    assert_status(mfpo_agent_act(ag, obs, 1, act), MFPO_OK, ctx);
    assert_true(act[0] >= -1.0f && act[0] <= 1.0f && act[1] >= -1.0f && act[1] <= 1.0f);
    assert_status(mfpo_agent_select_action(ag, obs, 1, act), MFPO_OK, ctx);
    assert_true(act[0] >= -1.0f && act[0] <= 1.0f);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    ctx = NULL;

    /* AUTO picks CUDA; an ordinal past the last device is refused with a reason */
    o.backend = MFPO_BACKEND_AUTO;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CUDA);
    mfpo_context_destroy(ctx);
    ctx = NULL;
    o.backend = MFPO_BACKEND_CUDA;
    o.device = 4096;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_contains(mfpo_last_error(NULL), "CUDA device ordinal 4096 is out of range");
    o.backend = MFPO_BACKEND_AUTO;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_device),
        cmocka_unit_test(with_device),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
