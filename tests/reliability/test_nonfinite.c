/*
 * The non-finite guard of mfpo_update() (include/mfpo/agent.h): when a loss or gradient becomes
 * NaN or infinite, the call returns MFPO_ERR_NON_FINITE with a message, and every float of the
 * agent's state (parameters, targets, Adam moments, log alpha), its counters and the context's
 * random-stream position are exactly as before the call.
 *
 * The non-finite values are injected with the update's test hook (lib/algo/update.h: called after
 * each stage with the workspace), which poisons one workspace buffer that the following stages
 * read: the batch's rewards (critic targets) or actions, the observations the actor stage reads, the policy
 * samples the divergence stage reads, the entropy estimate the temperature stage reads, or only a
 * reported statistic. The huge-reward route does not work: the C51 projection clips every target
 * to [v_min, v_max], so a reward of 1e30 leaves the update finite (checked below too); even an
 * infinite reward in the batch is clipped to the support (the buffer refuses one anyway).
 *
 * Run with an argument "stream" (the meson test reliability_nonfinite_stream), only the
 * random-stream position is checked; without, everything else is.
 */
#include "rel_common.h"

typedef struct poison {
    int stage;        /* hook stage after which to poison */
    const char *what; /* description for messages */
    float value;
} poison;

static const poison *active;

static void poison_hook(void *user, int stage, const struct algo_update_ws *ws)
{
    (void)user;
    if (!active || stage != active->stage) return;
    float *target = NULL;
    size_t index = 0;
    switch (stage) {
    case 0: /* the batch: rewards (critic targets) or actions (online critics' input) */
        target = active->value != active->value ? ws->r : ws->a, index = 3;
        break;
    case 1:
        target = ws->s, index = 1;
        break; /* observations the actor stage reads */
    case 2:
        target = ws->pol_a, index = 0;
        break; /* policy samples the divergence stage reads */
    case 3:
        target = ws->scalars, index = SC_MEAN_LOGP;
        break; /* entropy estimate of the temperature step */
    case 4:
        target = ws->scalars, index = SC_ESS_POL;
        break; /* a statistic only */
    }
    if (target) target[index] = active->value;
}

static const poison cases[] = {
    { 0, "reward of the batch (critic stage)", NAN },
    { 0, "action of the batch, infinite", INFINITY },
    { 1, "observation read by the actor stage", NAN },
    { 2, "policy sample read by the divergence stage", -INFINITY },
    { 3, "entropy estimate read by the temperature stage", NAN },
    { 4, "a reported statistic only", INFINITY },
};
#define NCASES (sizeof cases / sizeof cases[0])

static int check_stream_only;

typedef struct world {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *r;
} world;

static world make_world(void)
{
    world w;
    mfpo_agent_config c = rel_config();
    w.ctx = cpu_context(41, NULL);
    w.ag = rel_agent(w.ctx, &c);
    w.r = rel_replay(w.ctx, 64);
    rel_fill(w.r, 40, 0);
    for (int i = 0; i < 2; i++) assert_status(mfpo_update(w.ag, w.r, NULL), MFPO_OK, w.ctx);
    return w;
}

static void drop_world(world *w)
{
    mfpo_replay_destroy(w->r);
    mfpo_agent_destroy(w->ag);
    mfpo_context_destroy(w->ctx);
}

static void guard_restores_everything(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCASES; k++) {
        world w = make_world();
        rel_snapshot before = rel_take(w.ag);
        rel_params pb = rel_get_params(w.ag);
        w.ag->hook = poison_hook;
        active = &cases[k];
        mfpo_update_stats st;
        memset(&st, 0x5a, sizeof st);
        st.struct_size = sizeof st;
        mfpo_update_stats st_before = st;
        mfpo_status s = mfpo_update(w.ag, w.r, &st);
        active = NULL;
        w.ag->hook = NULL;
        if (s != MFPO_ERR_NON_FINITE)
            fail_msg("poisoned %s: mfpo_update returned %s (%s)", cases[k].what, mfpo_status_string(s),
                     mfpo_last_error(w.ctx));
        assert_contains(mfpo_last_error(w.ctx), "mfpo_update: a loss or gradient became non-finite");
        assert_memory_equal(&st, &st_before, sizeof st); /* stats untouched on failure */
        rel_snapshot after = rel_take(w.ag);
        if (check_stream_only) {
            if (before.counters[4] != after.counters[4])
                fail_msg("poisoned %s: the context's stream moved from %llu to %llu", cases[k].what,
                         (unsigned long long)before.counters[4], (unsigned long long)after.counters[4]);
        } else {
            after.counters[4] = before.counters[4]; /* checked by the "stream" run */
            rel_assert_same(&before, &after, cases[k].what);
            rel_params pa = rel_get_params(w.ag);
            rel_assert_same_params(&pb, &pa, cases[k].what);
            rel_params_free(&pa);
            assert_true(mfpo_agent_update_count(w.ag) == 2);
            /* and the agent goes on as if nothing happened */
            assert_status(mfpo_update(w.ag, w.r, NULL), MFPO_OK, w.ctx);
        }
        rel_free(&before);
        rel_free(&after);
        rel_params_free(&pb);
        drop_world(&w);
    }
}

/* The update that follows a refused one is the update that would have come without it. */
static void refused_update_leaves_no_trace(void **state)
{
    (void)state;
    world a = make_world(), b = make_world();
    a.ag->hook = poison_hook;
    active = &cases[0];
    assert_status(mfpo_update(a.ag, a.r, NULL), MFPO_ERR_NON_FINITE, a.ctx);
    active = NULL;
    a.ag->hook = NULL;
    assert_status(mfpo_update(a.ag, a.r, NULL), MFPO_OK, a.ctx);
    assert_status(mfpo_update(b.ag, b.r, NULL), MFPO_OK, b.ctx);
    rel_snapshot sa = rel_take(a.ag), sb = rel_take(b.ag);
    rel_assert_same(&sa, &sb, "after a refused update and a good one, vs one good one");
    rel_free(&sa);
    rel_free(&sb);
    drop_world(&a);
    drop_world(&b);
}

/* Huge but finite rewards do not trip the guard: the C51 projection clips the targets. */
static void huge_rewards_stay_finite(void **state)
{
    (void)state;
    mfpo_agent_config c = rel_config();
    mfpo_context *ctx = cpu_context(2, NULL);
    mfpo_agent *ag = rel_agent(ctx, &c);
    mfpo_replay *r = rel_replay(ctx, 16);
    float obs[REL_S] = { 0.1f, 0.2f, 0.3f }, act[REL_A] = { 0.5f, -0.5f };
    for (int i = 0; i < 16; i++)
        assert_status(mfpo_replay_add(r, obs, act, i % 2 ? 1e30f : -1e30f, obs, 0), MFPO_OK, ctx);
    mfpo_update_stats st;
    st.struct_size = sizeof st;
    assert_status(mfpo_update(ag, r, &st), MFPO_OK, ctx);
    assert_true(isfinite(st.critic_loss));
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    unsetenv("MFPO_BACKEND");
    check_stream_only = argc > 1 && !strcmp(argv[1], "stream");
    if (check_stream_only) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(guard_restores_everything),
            cmocka_unit_test(refused_update_leaves_no_trace),
        };
        return cmocka_run_group_tests_name("reliability_nonfinite_stream", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_restores_everything),
        cmocka_unit_test(huge_rewards_stay_finite),
    };
    return cmocka_run_group_tests_name("reliability_nonfinite", tests, NULL, NULL);
}
