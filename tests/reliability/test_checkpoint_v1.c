/*
 * Checkpoints of format version 1 still load: fixtures/agent_v1.ckpt and replay_v1.ckpt were
 * written by libmfpo at commit 1925aad (fixtures/write_v1.c: test_checkpoint.c's agent after three
 * updates, and its wrapped buffer). The test loads them and checks the values against an
 * independent reading of the files and against the transitions recomputed here; it checks the
 * version-1 configuration refusals (fields by position), and that re-saving writes the current
 * version with the same contents.
 *
 * Usage: reliability_checkpoint_v1 FIXTURE_DIR
 */
#include "ckpt_file.h"
#include "rel_common.h"

#include "algo/replay.h"

enum { SEC_CONFIG = 1, SEC_COUNTERS = 2, SEC_STATE = 3, SEC_SHAPE = 16 };

static const char *fixture_dir;

typedef struct fixture {
    char dir[512], agent_v1[1024], replay_v1[1024], tmp[600];
    unsigned char *agent_file, *replay_file;
    size_t agent_len, replay_len;
    mfpo_context *ctx;
} fixture;

static mfpo_agent_config v1_config(void)
{
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    return c;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->agent_v1, sizeof f->agent_v1, "%s/agent_v1.ckpt", fixture_dir);
    snprintf(f->replay_v1, sizeof f->replay_v1, "%s/replay_v1.ckpt", fixture_dir);
    rel_tmpdir(f->dir, sizeof f->dir, "ckpt-v1-test");
    snprintf(f->tmp, sizeof f->tmp, "%s/file.ckpt", f->dir);
    f->agent_file = ckf_read(f->agent_v1, &f->agent_len);
    f->replay_file = ckf_read(f->replay_v1, &f->replay_len);
    if (!f->agent_file || !f->replay_file) fail_msg("cannot read the fixtures in %s", fixture_dir);
    /* they are version 1: the test would prove nothing if they were re-written in another version */
    assert_int_equal(ckf_u32(f->agent_file + 8), 1);
    assert_int_equal(ckf_u32(f->replay_file + 8), 1);
    f->ctx = cpu_context(9, NULL); /* another seed than the file's: the load restores it */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mfpo_context_destroy(f->ctx);
    free(f->agent_file);
    free(f->replay_file);
    rel_rmdir(f->dir);
    free(f);
    return 0;
}

static void agent_values(void **state)
{
    fixture *f = *state;
    mfpo_agent_config c = v1_config();
    mfpo_agent *ag = rel_agent(f->ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_v1), MFPO_OK, f->ctx);

    /* counters: three updates, the actor stepped on the second (actor_delay 2), context seed 5 */
    rel_snapshot got = rel_take(ag);
    size_t lk = 0, ls = 0;
    const unsigned char *pk = ckf_payload(f->agent_file, f->agent_len, SEC_COUNTERS, &lk);
    const unsigned char *ps = ckf_payload(f->agent_file, f->agent_len, SEC_STATE, &ls);
    assert_non_null(pk);
    assert_non_null(ps);
    assert_int_equal(got.counters[0], 3);
    assert_int_equal(got.counters[1], 3);
    assert_int_equal(got.counters[2], 1);
    assert_int_equal(got.counters[3], 5);
    assert_int_equal(got.counters[4], ckf_u64(pk + 32));
    assert_true(got.counters[4] > 0);
    assert_int_equal(mfpo_agent_update_count(ag), 3);

    /* the state vector is the file's, float for float, in the agent's layout */
    assert_int_equal(ckf_u64(ps), got.n);
    assert_int_equal(ckf_u64(ps + 8), ag->ul.n_params);
    assert_int_equal(ckf_u64(ps + 16), ag->dl.n_params);
    assert_int_equal(ckf_u64(ps + 24), ag->ql.n_params);
    assert_int_equal(ls, 32 + 4 * got.n);
    for (size_t i = 0; i < got.n; i++) {
        uint32_t u = ckf_u32(ps + 32 + 4 * i);
        float want;
        memcpy(&want, &u, 4);
        if (memcmp(&want, &got.state[i], 4) != 0)
            fail_msg("state float %zu: %.9g loaded, %.9g in the file", i, (double)got.state[i], (double)want);
    }
    /* alpha after one temperature step from 0.01 (the writer printed 0.00999700092) */
    assert_float_equal(mfpo_agent_alpha(ag), 0.00999700092, 1e-10);
    /* the configuration it was loaded into is unchanged */
    mfpo_agent_config back = { .struct_size = sizeof back };
    assert_status(mfpo_agent_get_config(ag, &back), MFPO_OK, f->ctx);
    assert_int_equal(back.hidden_width, 16);
    assert_int_equal(back.actor_delay, 2);
    rel_free(&got);
    mfpo_agent_destroy(ag);
}

/* Re-saving a loaded version-1 checkpoint writes the current version with the same contents. */
static void agent_resave(void **state)
{
    fixture *f = *state;
    mfpo_agent_config c = v1_config();
    mfpo_agent *ag = rel_agent(f->ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_v1), MFPO_OK, f->ctx);
    rel_snapshot want = rel_take(ag);
    assert_status(mfpo_agent_save(ag, f->tmp), MFPO_OK, f->ctx);
    size_t len = 0, l1 = 0, l2 = 0;
    unsigned char *b = ckf_read(f->tmp, &len);
    assert_non_null(b);
    assert_int_equal(ckf_u32(b + 8), CKF_VERSION);
    const unsigned char *s1 = ckf_payload(f->agent_file, f->agent_len, SEC_STATE, &l1);
    const unsigned char *s2 = ckf_payload(b, len, SEC_STATE, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    s1 = ckf_payload(f->agent_file, f->agent_len, SEC_COUNTERS, &l1);
    s2 = ckf_payload(b, len, SEC_COUNTERS, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    free(b);

    mfpo_context *ctx2 = cpu_context(77, NULL);
    mfpo_agent *ag2 = rel_agent(ctx2, &c);
    assert_status(mfpo_agent_load(ag2, f->tmp), MFPO_OK, ctx2);
    rel_snapshot got = rel_take(ag2);
    rel_assert_same(&want, &got, "agent re-saved from version 1");
    rel_free(&want);
    rel_free(&got);
    mfpo_agent_destroy(ag2);
    mfpo_context_destroy(ctx2);
    mfpo_agent_destroy(ag);
}

static void expect_refusal(fixture *f, const mfpo_agent_config *c, const unsigned char *bytes, size_t len,
                           const char *needle)
{
    mfpo_agent *ag = rel_agent(f->ctx, c);
    rel_snapshot before = rel_take(ag);
    assert_int_equal(ckf_write(f->tmp, bytes, len), 0);
    mfpo_status s = mfpo_agent_load(ag, f->tmp);
    if (s != MFPO_ERR_FORMAT)
        fail_msg("load returned %s (needle \"%s\"): %s", mfpo_status_string(s), needle, mfpo_last_error(f->ctx));
    assert_contains(mfpo_last_error(f->ctx), needle);
    rel_snapshot after = rel_take(ag);
    rel_assert_same(&before, &after, "agent after a refused version-1 load");
    rel_free(&before);
    rel_free(&after);
    mfpo_agent_destroy(ag);
}

/* Version 1 stores the fields by position: obs_dim at 8, act_dim 16, hidden_width 24 (u64), and
 * after the nine u64 fields (byte 80) v_min, v_max, gamma (f32). */
static void agent_v1_refusals(void **state)
{
    fixture *f = *state;
    mfpo_agent_config c = v1_config();
    unsigned char *b = malloc(f->agent_len);

    c.hidden_width = 24;
    expect_refusal(f, &c, f->agent_file, f->agent_len,
                   "section 'config': hidden_width is 16 in the file but 24 in this agent");
    c = v1_config();
    c.lr_critic = 1e-3f;
    expect_refusal(f, &c, f->agent_file, f->agent_len,
                   "section 'config': lr_critic is 0.000300000014 in the file but 0.00100000005 in this agent");
    c = v1_config();
    c.clipped_double_q = 0;
    expect_refusal(f, &c, f->agent_file, f->agent_len,
                   "section 'config': clipped_double_q is 1 in the file but 0 in this agent");
    c = v1_config();

    memcpy(b, f->agent_file, f->agent_len);
    ckf_put_u32(ckf_payload(b, f->agent_len, SEC_CONFIG, NULL), 32);
    ckf_fix_crcs(b, f->agent_len);
    expect_refusal(f, &c, b, f->agent_len, "section 'config': 32 fields, format version 1 has 33");

    memcpy(b, f->agent_file, f->agent_len);
    ckf_put_u64(ckf_payload(b, f->agent_len, SEC_CONFIG, NULL) + 24, 17);
    ckf_fix_crcs(b, f->agent_len);
    expect_refusal(f, &c, b, f->agent_len, "section 'config': hidden_width is 17 in the file but 16 in this agent");

    memcpy(b, f->agent_file, f->agent_len);
    float g = 0.5f;
    uint32_t u;
    memcpy(&u, &g, 4);
    ckf_put_u32(ckf_payload(b, f->agent_len, SEC_CONFIG, NULL) + 80 + 8, u);
    ckf_fix_crcs(b, f->agent_len);
    expect_refusal(f, &c, b, f->agent_len, "section 'config': gamma is 0.5 in the file but 0.99");

    /* the version-1 config section is 196 bytes: a rebuilt file with 4 bytes less is refused */
    size_t lc = 0, lk = 0, ls = 0, len = 0;
    unsigned char *pc = ckf_payload(f->agent_file, f->agent_len, SEC_CONFIG, &lc);
    unsigned char *pk = ckf_payload(f->agent_file, f->agent_len, SEC_COUNTERS, &lk);
    unsigned char *ps = ckf_payload(f->agent_file, f->agent_len, SEC_STATE, &ls);
    assert_int_equal(lc, 196);
    const ckf_section short_cfg[] = { { SEC_CONFIG, pc, lc - 4 }, { SEC_COUNTERS, pk, lk }, { SEC_STATE, ps, ls } };
    unsigned char *built = ckf_build_version(1, 1, short_cfg, 3, &len);
    expect_refusal(f, &c, built, len,
                   "section 'config' is 192 bytes, expected 196 (format version 1 stores 33 configuration fields)");
    free(built);

    /* a version-1 payload labelled version 2 is read as version 2, and refused */
    const ckf_section as_v2[] = { { SEC_CONFIG, pc, lc }, { SEC_COUNTERS, pk, lk }, { SEC_STATE, ps, ls } };
    built = ckf_build_version(2, 1, as_v2, 3, &len);
    expect_refusal(f, &c, built, len, "section 'config': field 1 has a name of 0 bytes");
    free(built);
    free(b);
}

/* The replay fixture: 33 transitions of test_checkpoint.c's rel_fill into 20 rows. */
static void replay_values(void **state)
{
    fixture *f = *state;
    mfpo_replay *r = rel_replay(f->ctx, 20);
    assert_status(mfpo_replay_load(r, f->replay_v1), MFPO_OK, f->ctx);
    assert_int_equal(mfpo_replay_size(r), 20);
    algo_replay_view v;
    algo_replay_raw(r, &v);
    assert_int_equal(v.next, 13);
    for (size_t j = 0; j < 20; j++) {
        size_t t = j < 13 ? j + 20 : j; /* rows 0..12 were overwritten by transitions 20..32 */
        float obs[REL_S], next[REL_S], act[REL_A];
        rel_obs(t, obs);
        rel_obs(t + 1, next);
        act[0] = sinf(0.7f * (float)t);
        act[1] = cosf(0.3f * (float)t);
        assert_memory_equal(v.obs + j * REL_S, obs, sizeof obs);
        assert_memory_equal(v.next_obs + j * REL_S, next, sizeof next);
        assert_memory_equal(v.act + j * REL_A, act, sizeof act);
        float reward = obs[1] - act[0] * act[0];
        assert_memory_equal(&v.reward[j], &reward, sizeof reward);
        assert_true(v.terminated[j] == (t % 11 == 10 ? 1.0f : 0.0f));
    }
    /* re-saved: the current version, the same shape and rings */
    assert_status(mfpo_replay_save(r, f->tmp), MFPO_OK, f->ctx);
    size_t len = 0;
    unsigned char *b = ckf_read(f->tmp, &len);
    assert_int_equal(ckf_u32(b + 8), CKF_VERSION);
    assert_int_equal(len, f->replay_len);
    assert_memory_equal(b + 12, f->replay_file + 12, 8);        /* kind, count */
    assert_memory_equal(b + 24, f->replay_file + 24, len - 24); /* file size, table and payloads */
    free(b);
    mfpo_replay_destroy(r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fixture_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(agent_values, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_resave, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_v1_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
