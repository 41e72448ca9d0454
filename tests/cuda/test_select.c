/*
 * Backend selection when the CUDA module is unusable, with stand-in modules (no CUDA runtime is
 * ever loaded, so this suite also runs under ASan and valgrind):
 *   - MFPO_CUDA_MODULE names a missing file: the reason names the path;
 *   - it names a file that is not a shared object: the reason says it cannot be loaded;
 *   - a shared object without the entry point: the reason names the entry point;
 *   - a module whose entry point refuses: its reason is passed on;
 * and in each case CUDA fails with MFPO_ERR_BACKEND_UNAVAILABLE, AUTO falls back to the CPU, the
 * MFPO_BACKEND environment variable overrides the option, and mfpo_backend_probe() reports the
 * same reason as mfpo_context_create().
 *
 * Environment (tests/cuda/meson.build): MFPO_TEST_NO_ENTRY_MODULE, MFPO_TEST_FAKE_MODULE,
 * MFPO_TEST_NOT_A_MODULE.
 */
#include "../api/test_support.h"

#define MISSING "/nonexistent/mfpo-cuda-test/libmfpo-cuda.so"

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("environment variable %s is not set (run through meson test)", name);
    return v;
}

static int reset_env(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    unsetenv("MFPO_CUDA_MODULE");
    return 0;
}

/* With MFPO_CUDA_MODULE = path: CUDA is unavailable with a reason containing every needle; the
 * probe says the same; AUTO gives the CPU; MFPO_BACKEND overrides the options both ways. */
static void check_unusable(const char *path, const char *needle1, const char *needle2)
{
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    char probe[512] = "";
    setenv("MFPO_CUDA_MODULE", path, 1);
    unsetenv("MFPO_BACKEND");

    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_null(ctx);
    const char *err = mfpo_last_error(NULL);
    printf("  CUDA: %s\n", err);
    assert_contains(err, "mfpo_context_create: ");
    assert_contains(err, needle1);
    if (needle2) assert_contains(err, needle2);

    /* the probe reports the same reason (without the function's prefix) */
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CUDA, probe, sizeof probe), MFPO_ERR_BACKEND_UNAVAILABLE);
    assert_contains(probe, needle1);
    if (needle2) assert_contains(probe, needle2);
    char expect[600];
    snprintf(expect, sizeof expect, "mfpo_context_create: %s", probe);
    assert_string_equal(mfpo_last_error(NULL), expect);
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_AUTO, probe, sizeof probe), MFPO_OK);
    assert_string_equal(probe, "");

    /* AUTO falls back to the CPU */
    o.backend = MFPO_BACKEND_AUTO;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    assert_contains(mfpo_context_device_name(ctx), "cpu");
    mfpo_context_destroy(ctx);
    ctx = NULL;

    /* MFPO_BACKEND=cpu overrides a CUDA request; =cuda overrides a CPU request; =auto falls back */
    setenv("MFPO_BACKEND", "cpu", 1);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
    ctx = NULL;
    setenv("MFPO_BACKEND", "cuda", 1);
    o.backend = MFPO_BACKEND_CPU;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_null(ctx);
    assert_contains(mfpo_last_error(NULL), needle1);
    setenv("MFPO_BACKEND", "auto", 1);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
    unsetenv("MFPO_BACKEND");
}

static void missing_module(void **state)
{
    (void)state;
    check_unusable(MISSING, "cannot load '" MISSING "'", NULL);
}

static void not_a_module(void **state)
{
    (void)state;
    const char *path = need_env("MFPO_TEST_NOT_A_MODULE");
    char needle[1024];
    snprintf(needle, sizeof needle, "CUDA module not usable: cannot load '%s'", path);
    check_unusable(path, needle, NULL);
}

static void module_without_entry_point(void **state)
{
    (void)state;
    const char *path = need_env("MFPO_TEST_NO_ENTRY_MODULE");
    char needle[1024];
    snprintf(needle, sizeof needle, "CUDA module '%s'", path);
    check_unusable(path, needle, "lacks the entry point mfpo_cuda_backend_create_v1");
}

static void module_refuses(void **state)
{
    (void)state;
    check_unusable(need_env("MFPO_TEST_FAKE_MODULE"), "CUDA backend unavailable: fake module refuses device 0", NULL);
}

/* The device ordinal reaches the module's entry point. */
static void device_ordinal_passed(void **state)
{
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    (void)state;
    setenv("MFPO_CUDA_MODULE", need_env("MFPO_TEST_FAKE_MODULE"), 1);
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    o.device = 3;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_contains(mfpo_last_error(NULL), "fake module refuses device 3");
}

/* An empty MFPO_CUDA_MODULE means "the installed path", not "a file named ''". */
static void empty_module_variable(void **state)
{
    char probe[512] = "";
    (void)state;
    setenv("MFPO_CUDA_MODULE", "", 1);
    mfpo_status s = mfpo_backend_probe(MFPO_BACKEND_CUDA, probe, sizeof probe);
    if (s != MFPO_OK) {
        assert_int_equal(s, MFPO_ERR_BACKEND_UNAVAILABLE);
        assert_contains(probe, "libmfpo-cuda.so");
        assert_true(strstr(probe, "''") == NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(missing_module, reset_env),
        cmocka_unit_test_teardown(not_a_module, reset_env),
        cmocka_unit_test_teardown(module_without_entry_point, reset_env),
        cmocka_unit_test_teardown(module_refuses, reset_env),
        cmocka_unit_test_teardown(device_ordinal_passed, reset_env),
        cmocka_unit_test_teardown(empty_module_variable, reset_env),
    };
    return cmocka_run_group_tests(tests, reset_env, NULL);
}
