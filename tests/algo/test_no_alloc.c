/*
 * mfpo_update and the sampling calls allocate nothing after their first call: every allocation
 * of the library goes through the context's allocator, which this test counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <mfpo.h>

typedef struct counter {
    size_t allocs, frees;
} counter;

static void *count_alloc(void *user, size_t size, size_t align)
{
    void *p = NULL;
    ((counter *)user)->allocs++;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0) return NULL;
    return p;
}

static void count_free(void *user, void *ptr)
{
    ((counter *)user)->frees++;
    free(ptr);
}

static void test_no_allocation_after_first_call(void **state)
{
    (void)state;
    counter cnt = { 0, 0 };
    mfpo_allocator a = { count_alloc, count_free, &cnt };
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 2; /* the row-parallel paths too (their scratch grows on first use) */
    o.allocator = &a;
    mfpo_context *ctx = NULL;
    assert_int_equal(mfpo_context_create(&o, &ctx), MFPO_OK);

    const size_t S = 5, A = 3;
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    c.hidden_width = 32;
    c.hidden_depth = 2;
    c.batch_size = 32;
    c.policy_samples = 4;
    c.gaussian_samples = 8;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    assert_int_equal(mfpo_agent_create(ctx, &c, &ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(ctx, S, A, 256, &rb), MFPO_OK);
    float obs[5 * 8], act[3 * 8], nobs[5], logp[8];
    for (int i = 0; i < 200; i++) {
        for (size_t j = 0; j < S; j++) obs[j] = nobs[j] = (float)((i * 7 + (int)j) % 11) / 11.0f - 0.5f;
        for (size_t j = 0; j < A; j++) act[j] = (float)((i + (int)j) % 5) / 5.0f - 0.4f;
        assert_int_equal(mfpo_replay_add(rb, obs, act, obs[0], nobs, i % 13 == 0), MFPO_OK);
    }
    for (size_t j = 0; j < 5 * 8; j++) obs[j] = (float)j / 40.0f;

    /* first calls: workspaces are sized here */
    mfpo_update_stats st = { .struct_size = sizeof st };
    assert_int_equal(mfpo_update(ag, rb, &st), MFPO_OK);
    assert_int_equal(mfpo_policy_sample_logp(mfpo_agent_policy(ag), mfpo_agent_divergence(ag), obs, 8, act, logp),
                     MFPO_OK);
    assert_int_equal(mfpo_agent_act(ag, obs, 8, act), MFPO_OK);
    assert_int_equal(mfpo_agent_select_action(ag, obs, 8, act), MFPO_OK);

    size_t before = cnt.allocs;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(mfpo_update(ag, rb, &st), MFPO_OK);
        assert_int_equal(mfpo_policy_sample_logp(mfpo_agent_policy(ag), mfpo_agent_divergence(ag), obs, 8, act, logp),
                         MFPO_OK);
        assert_int_equal(mfpo_agent_act(ag, obs, 8, act), MFPO_OK);
        assert_int_equal(mfpo_agent_act(ag, obs, 1, act), MFPO_OK); /* fewer rows reuse the workspace */
        assert_int_equal(mfpo_agent_select_action(ag, obs, 8, act), MFPO_OK);
    }
    assert_int_equal(cnt.allocs, before);

    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    assert_int_equal(cnt.allocs, cnt.frees); /* and everything was given back */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_no_allocation_after_first_call) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
