/*
 * Context creation and destruction, option validation with the exact error texts, the
 * MFPO_BACKEND override, the CUDA fallback and mfpo_backend_probe().
 *
 * The suite runs with MFPO_MODULE_PATH naming a directory that does not exist (set here and in
 * tests/api/meson.build), so that "CUDA" deterministically means "module missing" on every machine.
 */
#include "test_support.h"

#define MISSING_MODULE "/nonexistent/mfpo-api-test"

static int group_setup(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    setenv("MFPO_MODULE_PATH", MISSING_MODULE, 1);
    return 0;
}

static int unset_backend_env(void **state)
{
    (void)state;
    unsetenv("MFPO_BACKEND");
    return 0;
}

/* Creation with these options must fail with `status`, set *out to NULL and leave a message
 * containing `needle` in mfpo_last_error(NULL). */
static void expect_create_failure(const mfpo_context_options *o, mfpo_status status, const char *needle)
{
    mfpo_context *ctx = (mfpo_context *)(uintptr_t)0x1; /* must be overwritten with NULL */
    assert_status(mfpo_context_create(o, &ctx), status, NULL);
    assert_null(ctx);
    assert_contains(mfpo_last_error(NULL), needle);
}

/* ---------------------------------------------------------------- defaults */

static void options_init_defaults(void **state)
{
    mfpo_context_options o;
    (void)state;
    memset(&o, 0xab, sizeof o);
    mfpo_context_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.backend, MFPO_BACKEND_AUTO);
    assert_int_equal(o.threads, 0);
    assert_true(o.seed == 0);
    assert_null(o.allocator);
    assert_int_equal(o.device, 0);
    mfpo_context_options_init(NULL); /* ignored */
}

static void create_destroy_defaults(void **state)
{
    mfpo_context *ctx = NULL;
    (void)state;
    assert_status(mfpo_context_create(NULL, &ctx), MFPO_OK, NULL);
    assert_non_null(ctx);
    assert_string_equal(mfpo_last_error(NULL), "");
    assert_string_equal(mfpo_last_error(ctx), "");
    /* AUTO without a loadable CUDA module is the CPU */
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    assert_contains(mfpo_context_device_name(ctx), "cpu");
    mfpo_context_destroy(ctx);

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);
}

static void null_handles(void **state)
{
    (void)state;
    mfpo_context_destroy(NULL);
    assert_int_equal(mfpo_context_backend(NULL), MFPO_BACKEND_CPU);
    assert_string_equal(mfpo_context_device_name(NULL), "");
    assert_status(mfpo_context_set_seed(NULL, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_context_set_seed: argument 'ctx' is NULL");
}

static void create_null_out(void **state)
{
    (void)state;
    assert_status(mfpo_context_create(NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_context_create: argument 'out' is NULL");
}

/* A successful creation clears the thread's creation error. */
static void success_clears_creation_error(void **state)
{
    mfpo_context *ctx = NULL;
    (void)state;
    assert_status(mfpo_context_create(NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_not_equal(mfpo_last_error(NULL), "");
    assert_status(mfpo_context_create(NULL, &ctx), MFPO_OK, NULL);
    assert_string_equal(mfpo_last_error(NULL), "");
    mfpo_context_destroy(ctx);
}

/* ---------------------------------------------------------------- bad options */

static void bad_struct_size(void **state)
{
    mfpo_context_options o;
    (void)state;
    mfpo_context_options_init(&o);
    o.struct_size = 0;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->struct_size = 0");
    assert_contains(mfpo_last_error(NULL), "mfpo_context_options_init");
    o.struct_size = 3;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->struct_size = 3");
    o.struct_size = (size_t)1 << 30;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->struct_size = 1073741824");
}

/* A caller compiled against a later header (a longer struct) is accepted. */
static void longer_struct_accepted(void **state)
{
    union {
        mfpo_context_options o;
        unsigned char bytes[sizeof(mfpo_context_options) + 64];
    } u;
    mfpo_context *ctx = NULL;
    (void)state;
    memset(&u, 0, sizeof u);
    mfpo_context_options_init(&u.o);
    u.o.struct_size = sizeof u;
    u.o.backend = MFPO_BACKEND_CPU;
    assert_status(mfpo_context_create(&u.o, &ctx), MFPO_OK, NULL);
    mfpo_context_destroy(ctx);
}

static void bad_backend_enum(void **state)
{
    mfpo_context_options o;
    (void)state;
    mfpo_context_options_init(&o);
    o.backend = (mfpo_backend_kind)7;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->backend = 7 is not an mfpo_backend_kind");
    o.backend = (mfpo_backend_kind)-1;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->backend = -1");
}

static void bad_threads(void **state)
{
    mfpo_context_options o;
    (void)state;
    mfpo_context_options_init(&o);
    o.threads = -1;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->threads = -1 is outside [0, 1024]");
    o.threads = 1025;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->threads = 1025");
}

static void bad_device(void **state)
{
    mfpo_context_options o;
    (void)state;
    mfpo_context_options_init(&o);
    o.device = -2;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->device = -2 is negative");
}

static void allocator_with_one_null_function(void **state)
{
    counting_allocator c;
    mfpo_allocator a;
    mfpo_context_options o;
    (void)state;
    memset(&c, 0, sizeof c);
    a = counting_allocator_iface(&c);
    mfpo_context_options_init(&o);
    o.allocator = &a;
    a.free = NULL;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->allocator must set both alloc and free");
    a = counting_allocator_iface(&c);
    a.alloc = NULL;
    expect_create_failure(&o, MFPO_ERR_INVALID_ARGUMENT, "options->allocator must set both alloc and free");
    assert_int_equal(c.allocs, 0);
}

/* ---------------------------------------------------------------- user allocator */

static void user_allocator_counts_match(void **state)
{
    counting_allocator *c = calloc(1, sizeof *c);
    mfpo_allocator a;
    mfpo_context *ctx = NULL;
    mfpo_replay *r = NULL;
    (void)state;
    assert_non_null(c);
    a = counting_allocator_iface(c);
    ctx = cpu_context(3, &a);
    assert_true(c->allocs >= 1); /* the context itself comes from the user's allocator */
    /* the allocator struct is copied: changing ours afterwards must not matter */
    a.alloc = NULL;
    a.free = NULL;
    assert_status(mfpo_replay_create(ctx, 3, 2, 100, &r), MFPO_OK, ctx);
    size_t before = c->allocs;
    assert_true(before >= 2);
    float obs[3] = { 1, 2, 3 }, act[2] = { 0.5f, -0.5f }, out[3];
    assert_status(mfpo_replay_add(r, obs, act, 1.0f, obs, 0), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 1, out, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_int_equal(c->allocs, before); /* adding and sampling allocate nothing */
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
    assert_counting_balanced(c);
    free(c);
}

/* Destroying the context before its handles defers the free to the last handle: the handles keep
 * working (no use after free, checked under ASan and valgrind), and everything is freed at the end. */
static void context_destroyed_before_handles(void **state)
{
    counting_allocator *c = calloc(1, sizeof *c);
    (void)state;
    assert_non_null(c);
    mfpo_allocator a = counting_allocator_iface(c);
    mfpo_context *ctx = cpu_context(5, &a);
    mfpo_agent_config cfg;
    mfpo_agent_config_init(&cfg, 3, 2);
    cfg.hidden_width = 16;
    cfg.hidden_depth = 1;
    cfg.batch_size = 4;
    cfg.policy_samples = 2;
    cfg.gaussian_samples = 2;
    cfg.fourier_features = 4;
    cfg.time_embed_dim = 8;
    mfpo_agent *ag = NULL;
    mfpo_replay *r = NULL;
    mfpo_policy *p = NULL;
    assert_status(mfpo_agent_create(ctx, &cfg, &ag), MFPO_OK, ctx);
    assert_status(mfpo_replay_create(ctx, 3, 2, 16, &r), MFPO_OK, ctx);
    assert_status(mfpo_policy_create(ctx, &cfg, &p), MFPO_OK, ctx);
    mfpo_context_destroy(ctx);
    assert_true(c->frees < c->allocs); /* nothing of the context was freed yet */
    float obs[3] = { 0.1f, -0.2f, 0.3f }, act[2];
    assert_int_equal(mfpo_agent_act(ag, obs, 1, act), MFPO_OK);
    assert_int_equal(mfpo_replay_add(r, obs, act, 1.0f, obs, 0), MFPO_OK);
    assert_int_equal(mfpo_update(ag, r, NULL), MFPO_OK);
    assert_int_equal(mfpo_policy_sample(p, obs, 1, act), MFPO_OK);
    /* errors still land on the (closing) context, reached through the handle */
    assert_int_equal(mfpo_agent_act(ag, obs, 0, act), MFPO_ERR_INVALID_ARGUMENT);
    mfpo_agent_destroy(ag);
    mfpo_policy_destroy(p);
    assert_true(c->frees < c->allocs); /* the replay buffer still holds the context */
    mfpo_replay_destroy(r);
    assert_counting_balanced(c); /* the last handle freed the context and its backend */
    free(c);
}

/* Every allocation failing in turn: OUT_OF_MEMORY, *out NULL, nothing leaked. */
static void user_allocator_failures(void **state)
{
    counting_allocator *c = calloc(1, sizeof *c);
    (void)state;
    assert_non_null(c);
    int succeeded = 0;
    for (size_t k = 1; k <= 16 && !succeeded; k++) {
        memset(c, 0, sizeof *c);
        c->fail_after = k; /* allocations 1..k-1 succeed, the k-th fails */
        mfpo_allocator a = counting_allocator_iface(c);
        mfpo_context_options o;
        mfpo_context *ctx = (mfpo_context *)(uintptr_t)0x1;
        mfpo_context_options_init(&o);
        o.backend = MFPO_BACKEND_CPU;
        o.allocator = &a;
        mfpo_status st = mfpo_context_create(&o, &ctx);
        if (st == MFPO_OK) {
            succeeded = 1;
            mfpo_context_destroy(ctx);
        } else {
            assert_int_equal(st, MFPO_ERR_OUT_OF_MEMORY);
            assert_null(ctx);
            assert_contains(mfpo_last_error(NULL), "out of memory");
        }
        assert_counting_balanced(c);
    }
    assert_true(succeeded);
    free(c);
}

/* ---------------------------------------------------------------- backend choice */

static void explicit_cuda_without_module(void **state)
{
    mfpo_context_options o;
    (void)state;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    expect_create_failure(&o, MFPO_ERR_BACKEND_UNAVAILABLE, MISSING_MODULE);
    assert_contains(mfpo_last_error(NULL), "CUDA module");
}

static void env_cuda_without_module(void **state)
{
    mfpo_context_options o;
    (void)state;
    setenv("MFPO_BACKEND", "cuda", 1);
    expect_create_failure(NULL, MFPO_ERR_BACKEND_UNAVAILABLE, MISSING_MODULE);
    /* the variable overrides the options too */
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    expect_create_failure(&o, MFPO_ERR_BACKEND_UNAVAILABLE, MISSING_MODULE);
}

static void env_bogus(void **state)
{
    (void)state;
    setenv("MFPO_BACKEND", "bogus", 1);
    expect_create_failure(NULL, MFPO_ERR_INVALID_ARGUMENT, "MFPO_BACKEND='bogus' is not one of cpu, cuda, auto");
}

static void env_cpu_overrides_options(void **state)
{
    mfpo_context_options o;
    mfpo_context *ctx = NULL;
    (void)state;
    setenv("MFPO_BACKEND", "cpu", 1);
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CUDA;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);

    setenv("MFPO_BACKEND", "auto", 1);
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    mfpo_context_destroy(ctx);

    /* empty means unset */
    setenv("MFPO_BACKEND", "", 1);
    o.backend = MFPO_BACKEND_CPU;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    mfpo_context_destroy(ctx);
}

static void auto_falls_back_to_cpu(void **state)
{
    mfpo_context_options o;
    mfpo_context *ctx = NULL;
    (void)state;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_AUTO;
    o.threads = 2;
    assert_status(mfpo_context_create(&o, &ctx), MFPO_OK, NULL);
    assert_int_equal(mfpo_context_backend(ctx), MFPO_BACKEND_CPU);
    assert_int_not_equal(mfpo_context_backend(ctx), MFPO_BACKEND_AUTO);
    assert_contains(mfpo_context_device_name(ctx), "cpu");
    mfpo_context_destroy(ctx);
}

static void backend_probe(void **state)
{
    char reason[256];
    (void)state;
    memset(reason, 'x', sizeof reason);
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CPU, reason, sizeof reason), MFPO_OK);
    assert_string_equal(reason, "");
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_AUTO, reason, sizeof reason), MFPO_OK);
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CPU, NULL, 0), MFPO_OK);

    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CUDA, reason, sizeof reason), MFPO_ERR_BACKEND_UNAVAILABLE);
    assert_contains(reason, MISSING_MODULE);
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CUDA, NULL, 0), MFPO_ERR_BACKEND_UNAVAILABLE);

    /* a short buffer gets a terminated prefix */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(mfpo_backend_probe(MFPO_BACKEND_CUDA, small, sizeof small), MFPO_ERR_BACKEND_UNAVAILABLE);
    assert_int_equal(strlen(small), sizeof small - 1);

    assert_int_equal(mfpo_backend_probe((mfpo_backend_kind)9, reason, sizeof reason), MFPO_ERR_INVALID_ARGUMENT);
    assert_contains(reason, "kind = 9");
}

/* ---------------------------------------------------------------- seed and error text */

static void set_seed_restarts_stream(void **state)
{
    mfpo_context *ctx = cpu_context(11, NULL);
    mfpo_replay *r = NULL;
    float obs[1], act[1];
    float a[64], b[64];
    (void)state;
    assert_status(mfpo_replay_create(ctx, 1, 1, 64, &r), MFPO_OK, ctx);
    for (int i = 0; i < 64; i++) {
        obs[0] = (float)i;
        act[0] = 0;
        assert_status(mfpo_replay_add(r, obs, act, 0, obs, 0), MFPO_OK, ctx);
    }
    assert_status(mfpo_context_set_seed(ctx, 99), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 64, a, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 64, b, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_memory_not_equal(a, b, sizeof a); /* a fresh stream per call */
    assert_status(mfpo_context_set_seed(ctx, 99), MFPO_OK, ctx);
    assert_status(mfpo_replay_sample(r, 64, b, NULL, NULL, NULL, NULL), MFPO_OK, ctx);
    assert_memory_equal(a, b, sizeof a);
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

/* Errors of calls on a context go to that context, not to the thread's creation error. */
static void errors_go_to_the_context(void **state)
{
    mfpo_context *ctx = cpu_context(0, NULL);
    mfpo_replay *r = NULL;
    (void)state;
    assert_string_equal(mfpo_last_error(NULL), "");
    assert_status(mfpo_replay_create(ctx, 0, 1, 1, &r), MFPO_ERR_INVALID_ARGUMENT, ctx);
    assert_contains(mfpo_last_error(ctx), "obs_dim = 0");
    assert_string_equal(mfpo_last_error(NULL), "");
    /* the next call that succeeds clears it (include/mfpo/context.h: the rule of mfpo_last_error) */
    assert_status(mfpo_replay_create(ctx, 1, 1, 1, &r), MFPO_OK, ctx);
    assert_string_equal(mfpo_last_error(ctx), "");
    mfpo_replay_destroy(r);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_init_defaults),
        cmocka_unit_test(context_destroyed_before_handles),
        cmocka_unit_test(create_destroy_defaults),
        cmocka_unit_test(null_handles),
        cmocka_unit_test(create_null_out),
        cmocka_unit_test(success_clears_creation_error),
        cmocka_unit_test(bad_struct_size),
        cmocka_unit_test(longer_struct_accepted),
        cmocka_unit_test(bad_backend_enum),
        cmocka_unit_test(bad_threads),
        cmocka_unit_test(bad_device),
        cmocka_unit_test(allocator_with_one_null_function),
        cmocka_unit_test(user_allocator_counts_match),
        cmocka_unit_test(user_allocator_failures),
        cmocka_unit_test(explicit_cuda_without_module),
        cmocka_unit_test_teardown(env_cuda_without_module, unset_backend_env),
        cmocka_unit_test_teardown(env_bogus, unset_backend_env),
        cmocka_unit_test_teardown(env_cpu_overrides_options, unset_backend_env),
        cmocka_unit_test(auto_falls_back_to_cpu),
        cmocka_unit_test(backend_probe),
        cmocka_unit_test(set_seed_restarts_stream),
        cmocka_unit_test(errors_go_to_the_context),
    };
    return cmocka_run_group_tests_name("api_context", tests, group_setup, NULL);
}
