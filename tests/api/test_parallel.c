/*
 * The data-parallel hooks of include/mfpo/parallel.h in one process (no MPI): the reduction is
 * called once per part with the documented sizes and order, a world of 1 with an identity hook is
 * bit-identical to no hook, a world of 2 with a hook that doubles the buffer (what a sum over two
 * equal ranks gives) is bit-identical too, a failing hook restores the agent and names the part,
 * the broadcast and the random position, and argument errors name the argument.
 */
/* This file compares agents through mfpo_agent_get_state() (include/mfpo/experimental.h). */
#define MFPO_EXPERIMENTAL
#include "test_support.h"

typedef struct rig {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *rb;
    size_t n;
} rig;

static void rig_open(rig *r, size_t actor_delay)
{
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 5;
    assert_status(mfpo_context_create(&o, &r->ctx), MFPO_OK, NULL);
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, 3, 2);
    c.hidden_width = 16;
    c.hidden_depth = 2;
    c.batch_size = 8;
    c.policy_samples = 2;
    c.gaussian_samples = 2;
    c.atoms = 11;
    c.actor_delay = actor_delay;
    assert_status(mfpo_agent_create(r->ctx, &c, &r->ag), MFPO_OK, r->ctx);
    assert_status(mfpo_replay_create(r->ctx, 3, 2, 64, &r->rb), MFPO_OK, r->ctx);
    for (int i = 0; i < 64; i++) {
        float s[3] = { 0.1f * i, -0.05f * i, 0.3f }, a[2] = { 0.01f * i - 0.3f, 0.5f },
              s2[3] = { 0.1f * i + 0.1f, 0.2f, 0.f };
        assert_status(mfpo_replay_add(r->rb, s, a, -0.1f * (float)(i % 7), s2, i % 13 == 0), MFPO_OK, r->ctx);
    }
    r->n = mfpo_agent_state_size(r->ag);
}

static void rig_close(rig *r)
{
    mfpo_replay_destroy(r->rb);
    mfpo_agent_destroy(r->ag);
    mfpo_context_destroy(r->ctx);
}

static float *state_of(rig *r)
{
    float *s = malloc(r->n * sizeof(float));
    assert_non_null(s);
    assert_status(mfpo_agent_get_state(r->ag, s, r->n), MFPO_OK, r->ctx);
    return s;
}

typedef struct recorder {
    size_t calls, sizes[16];
    float factor; /* multiplies the buffer: 1 = a world of one, 2 = two equal ranks summed */
    int fail_at;  /* call index that returns an error (-1: none) */
} recorder;

static int record(void *user, float *buf, size_t n)
{
    recorder *r = user;
    size_t k = r->calls++;
    if (k < 16) r->sizes[k] = n;
    if ((int)k == r->fail_at) return 42;
    for (size_t i = 0; i < n; i++) buf[i] *= r->factor;
    return 0;
}

/* Three calls per full update, one per critic-only update, the parts summing to the buffer size. */
static void calls_per_update(void **state)
{
    (void)state;
    rig r;
    rig_open(&r, 2); /* update 1: critic only; update 2: full */
    recorder rec = { .factor = 1.0f, .fail_at = -1 };
    assert_status(mfpo_agent_set_allreduce(r.ag, record, &rec, 1), MFPO_OK, r.ctx);
    assert_status(mfpo_update(r.ag, r.rb, NULL), MFPO_OK, r.ctx);
    assert_int_equal(rec.calls, 1);
    assert_status(mfpo_update(r.ag, r.rb, NULL), MFPO_OK, r.ctx);
    assert_int_equal(rec.calls, 4);
    assert_int_equal(rec.sizes[0], rec.sizes[1]); /* the critic part, both times */
    assert_int_equal(rec.sizes[1] + rec.sizes[2] + rec.sizes[3], mfpo_agent_gradient_size(r.ag));
    assert_true(rec.sizes[2] > 0 && rec.sizes[3] > 16);
    rig_close(&r);
}

/* No hook, an identity hook with world 1, and a doubling hook with world 2 end bit-identical. */
static void hooks_that_change_nothing(void **state)
{
    (void)state;
    float *ref = NULL;
    for (int variant = 0; variant < 3; variant++) {
        rig r;
        rig_open(&r, 1);
        recorder rec = { .factor = variant == 2 ? 2.0f : 1.0f, .fail_at = -1 };
        if (variant > 0) assert_status(mfpo_agent_set_allreduce(r.ag, record, &rec, variant), MFPO_OK, r.ctx);
        for (int i = 0; i < 5; i++) assert_status(mfpo_update(r.ag, r.rb, NULL), MFPO_OK, r.ctx);
        float *s = state_of(&r);
        if (!ref) {
            ref = s;
        } else {
            assert_memory_equal(ref, s, r.n * sizeof(float));
            assert_int_equal(rec.calls, 15);
            free(s);
        }
        rig_close(&r);
    }
    free(ref);
}

/* A hook that sums without the library dividing would double the step's moments: check that the
 * world size is honoured (the doubling hook with world 1 must NOT match). */
static void world_size_is_used(void **state)
{
    (void)state;
    rig a, b;
    rig_open(&a, 1);
    rig_open(&b, 1);
    recorder rec = { .factor = 2.0f, .fail_at = -1 };
    assert_status(mfpo_agent_set_allreduce(b.ag, record, &rec, 1), MFPO_OK, b.ctx);
    assert_status(mfpo_update(a.ag, a.rb, NULL), MFPO_OK, a.ctx);
    assert_status(mfpo_update(b.ag, b.rb, NULL), MFPO_OK, b.ctx);
    float *sa = state_of(&a), *sb = state_of(&b);
    assert_true(memcmp(sa, sb, a.n * sizeof(float)) != 0);
    free(sa);
    free(sb);
    rig_close(&a);
    rig_close(&b);
}

/* A failing hook: MFPO_ERR_COMM naming the part, the agent as before the call. */
static void failing_hook_restores(void **state)
{
    (void)state;
    rig r;
    rig_open(&r, 1);
    assert_status(mfpo_update(r.ag, r.rb, NULL), MFPO_OK, r.ctx);
    float *before = state_of(&r);
    recorder rec = { .factor = 1.0f, .fail_at = 1 }; /* the actor's part */
    assert_status(mfpo_agent_set_allreduce(r.ag, record, &rec, 2), MFPO_OK, r.ctx);
    assert_status(mfpo_update(r.ag, r.rb, NULL), MFPO_ERR_COMM, r.ctx);
    assert_string_equal(mfpo_last_error(r.ctx), "mfpo_update: the all-reduce hook returned 42 on the actor gradients "
                                                "(update 2); the agent was left as before the call");
    assert_int_equal(rec.calls, 2); /* the later part was not reduced */
    float *after = state_of(&r);
    assert_memory_equal(before, after, r.n * sizeof(float));
    assert_int_equal(mfpo_agent_update_count(r.ag), 1);
    free(before);
    free(after);
    rig_close(&r);
}

static int bcast_from(void *user, float *buf, size_t n)
{
    memcpy(buf, user, n * sizeof(float));
    return 0;
}

static int bcast_fail(void *user, float *buf, size_t n)
{
    (void)user;
    buf[0] = 1e9f; /* a partial write before the failure */
    (void)n;
    return 7;
}

static void broadcast_and_position(void **state)
{
    (void)state;
    rig a, b;
    rig_open(&a, 1);
    rig_open(&b, 1);
    assert_status(mfpo_update(a.ag, a.rb, NULL), MFPO_OK, a.ctx);
    float *sa = state_of(&a), *sb = state_of(&b);
    assert_true(memcmp(sa, sb, a.n * sizeof(float)) != 0);
    assert_status(mfpo_agent_broadcast_state(b.ag, bcast_fail, NULL), MFPO_ERR_COMM, b.ctx);
    assert_string_equal(mfpo_last_error(b.ctx),
                        "mfpo_agent_broadcast_state: the broadcast hook returned 7; the agent is unchanged");
    float *sb2 = state_of(&b);
    assert_memory_equal(sb, sb2, b.n * sizeof(float));
    assert_status(mfpo_agent_broadcast_state(b.ag, bcast_from, sa), MFPO_OK, b.ctx);
    free(sb2);
    sb2 = state_of(&b);
    assert_memory_equal(sa, sb2, a.n * sizeof(float));

    uint64_t seed = 0, stream = 0;
    assert_status(mfpo_context_get_random_position(a.ctx, &seed, &stream), MFPO_OK, a.ctx);
    assert_int_equal(seed, 5);
    assert_true(stream > 0);
    assert_status(mfpo_context_set_random_position(b.ctx, 99, 1234), MFPO_OK, b.ctx);
    assert_status(mfpo_context_get_random_position(b.ctx, &seed, &stream), MFPO_OK, b.ctx);
    assert_int_equal(seed, 99);
    assert_int_equal(stream, 1234);
    free(sa);
    free(sb);
    free(sb2);
    rig_close(&a);
    rig_close(&b);
}

static void argument_errors(void **state)
{
    (void)state;
    rig r;
    rig_open(&r, 1);
    assert_status(mfpo_agent_set_allreduce(r.ag, record, NULL, 0), MFPO_ERR_INVALID_ARGUMENT, r.ctx);
    assert_string_equal(mfpo_last_error(r.ctx), "mfpo_agent_set_allreduce: world_size = 0 must be >= 1");
    assert_status(mfpo_agent_set_allreduce(NULL, record, NULL, 1), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_string_equal(mfpo_last_error(NULL), "mfpo_agent_set_allreduce: argument 'agent' is NULL");
    float x[4];
    assert_status(mfpo_agent_get_state(r.ag, x, 4), MFPO_ERR_INVALID_ARGUMENT, r.ctx);
    char want[128];
    snprintf(want, sizeof want, "mfpo_agent_get_state: count = 4 but the state has %zu floats", r.n);
    assert_string_equal(mfpo_last_error(r.ctx), want);
    assert_status(mfpo_agent_broadcast_state(r.ag, NULL, NULL), MFPO_ERR_INVALID_ARGUMENT, r.ctx);
    assert_string_equal(mfpo_last_error(r.ctx), "mfpo_agent_broadcast_state: argument 'broadcast' is NULL");
    uint64_t v;
    assert_status(mfpo_context_get_random_position(r.ctx, NULL, &v), MFPO_ERR_INVALID_ARGUMENT, r.ctx);
    assert_string_equal(mfpo_last_error(r.ctx), "mfpo_context_get_random_position: argument 'seed' is NULL");
    assert_int_equal(mfpo_agent_gradient_size(NULL), 0);
    assert_int_equal(mfpo_agent_state_size(NULL), 0);
    rig_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_per_update),       cmocka_unit_test(hooks_that_change_nothing),
        cmocka_unit_test(world_size_is_used),     cmocka_unit_test(failing_hook_restores),
        cmocka_unit_test(broadcast_and_position), cmocka_unit_test(argument_errors),
    };
    return cmocka_run_group_tests_name("api_parallel", tests, NULL, NULL);
}
