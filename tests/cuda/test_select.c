/*
 * Backend selection when the CUDA module is unusable, with stand-in modules (no CUDA runtime is
 * ever loaded, so this suite also runs under ASan and valgrind):
 *   - no libmfpo-cuda.so in the directories of MFPO_MODULE_PATH: the reason names them;
 *   - a file of that name that is not a shared object: the reason says it cannot be loaded;
 *   - a shared object without the descriptor: the reason names the descriptor;
 *   - a module of another module ABI version: refused, the reason gives both versions;
 *   - a module whose probe refuses: its reason is passed on;
 * and in each case CUDA fails with MFPO_ERR_BACKEND_UNAVAILABLE, AUTO falls back to the CPU, the
 * MFPO_BACKEND environment variable overrides the option, and mfpo_backend_probe() reports the
 * same reason as mfpo_context_create().
 *
 * Environment (tests/cuda/meson.build): MFPO_TEST_NO_ENTRY_MODULE, MFPO_TEST_FAKE_MODULE,
 * MFPO_TEST_WRONG_ABI_MODULE, MFPO_TEST_NOT_A_MODULE; each is linked as libmfpo-cuda.so into a
 * scratch directory of its own, which MFPO_MODULE_PATH then names.
 */
#include <unistd.h>

#include "../api/test_support.h"

#define MISSING "/nonexistent/mfpo-cuda-test"

static char scratch[256];

/* A fresh directory holding `target` under the name libmfpo-cuda.so; returns the directory and
 * writes the module's path to `path`. */
static const char *module_dir(const char *target, char *path, size_t n)
{
    if (scratch[0]) {
        char old[400];
        snprintf(old, sizeof old, "%s/libmfpo-cuda.so", scratch);
        unlink(old);
        rmdir(scratch);
    }
    snprintf(scratch, sizeof scratch, "/tmp/mfpo-select-XXXXXX");
    if (!mkdtemp(scratch)) fail_msg("mkdtemp failed");
    snprintf(path, n, "%s/libmfpo-cuda.so", scratch);
    if (symlink(target, path) != 0) fail_msg("symlink %s -> %s failed", path, target);
    return scratch;
}

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
    unsetenv("MFPO_MODULE_PATH");
    if (scratch[0]) {
        char old[400];
        snprintf(old, sizeof old, "%s/libmfpo-cuda.so", scratch);
        unlink(old);
        rmdir(scratch);
        scratch[0] = '\0';
    }
    return 0;
}

/* With MFPO_MODULE_PATH = dir: CUDA is unavailable with a reason containing every needle; the
 * probe says the same; AUTO gives the CPU; MFPO_BACKEND overrides the options both ways. */
static void check_unusable(const char *dir, const char *needle1, const char *needle2)
{
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    char probe[512] = "";
    setenv("MFPO_MODULE_PATH", dir, 1);
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
    check_unusable(MISSING, "CUDA module not usable: no libmfpo-cuda.so in " MISSING " (MFPO_MODULE_PATH)", NULL);
    /* every directory of the list is searched, empty entries skipped; the first that has it wins */
    char path[400], dirs[800];
    const char *dir = module_dir(need_env("MFPO_TEST_FAKE_MODULE"), path, sizeof path);
    snprintf(dirs, sizeof dirs, "%s::%s", MISSING, dir);
    check_unusable(dirs, "CUDA backend unavailable: fake module refuses device 0", NULL);
}

static void not_a_module(void **state)
{
    (void)state;
    char path[400], needle[1024];
    const char *dir = module_dir(need_env("MFPO_TEST_NOT_A_MODULE"), path, sizeof path);
    snprintf(needle, sizeof needle, "CUDA module not usable: cannot load '%s'", path);
    check_unusable(dir, needle, NULL);
}

static void module_without_descriptor(void **state)
{
    (void)state;
    char path[400], needle[1024];
    const char *dir = module_dir(need_env("MFPO_TEST_NO_ENTRY_MODULE"), path, sizeof path);
    snprintf(needle, sizeof needle, "CUDA module '%s'", path);
    check_unusable(dir, needle, "lacks the descriptor mfpo_backend_module");
}

static void module_of_another_version(void **state)
{
    (void)state;
    char path[400], needle[1024];
    const char *dir = module_dir(need_env("MFPO_TEST_WRONG_ABI_MODULE"), path, sizeof path);
    snprintf(needle, sizeof needle, "CUDA module '%s' was built for backend module ABI 9", path);
    check_unusable(dir, needle, "but this library needs ABI 2");
}

static void module_refuses(void **state)
{
    (void)state;
    char path[400];
    const char *dir = module_dir(need_env("MFPO_TEST_FAKE_MODULE"), path, sizeof path);
    check_unusable(dir, "CUDA backend unavailable: fake module refuses device 0", NULL);
}

/* The device ordinal reaches the module's probe. */
static void device_ordinal_passed(void **state)
{
    mfpo_context *ctx = NULL;
    mfpo_context_options o;
    char path[400];
    (void)state;
    setenv("MFPO_MODULE_PATH", module_dir(need_env("MFPO_TEST_FAKE_MODULE"), path, sizeof path), 1);
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    o.device = 3;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_ERR_BACKEND_UNAVAILABLE, NULL);
    assert_contains(mfpo_last_error(NULL), "fake module refuses device 3");
}

/* An empty MFPO_MODULE_PATH means "the install's module directory", not "no directory". */
static void empty_module_variable(void **state)
{
    char probe[512] = "";
    (void)state;
    setenv("MFPO_MODULE_PATH", "", 1);
    mfpo_status s = mfpo_backend_probe(MFPO_BACKEND_CUDA, probe, sizeof probe);
    if (s != MFPO_OK) {
        assert_int_equal(s, MFPO_ERR_BACKEND_UNAVAILABLE);
        assert_contains(probe, "libmfpo-cuda.so");
        assert_contains(probe, "/mfpo");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(missing_module, reset_env),
        cmocka_unit_test_teardown(not_a_module, reset_env),
        cmocka_unit_test_teardown(module_without_descriptor, reset_env),
        cmocka_unit_test_teardown(module_of_another_version, reset_env),
        cmocka_unit_test_teardown(module_refuses, reset_env),
        cmocka_unit_test_teardown(device_ordinal_passed, reset_env),
        cmocka_unit_test_teardown(empty_module_variable, reset_env),
    };
    return cmocka_run_group_tests(tests, reset_env, NULL);
}
