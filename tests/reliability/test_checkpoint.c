/*
 * Checkpoints (include/mfpo/checkpoint.h, docs/checkpoint-format.md): byte-exact round trips of
 * agents and replay buffers, re-saving a loaded checkpoint reproduces the file, and every kind of
 * bad file (truncated, bit-flipped, wrong magic/version/kind, wrong configuration or shape,
 * inconsistent or non-finite contents) is refused with MFPO_ERR_FORMAT and a message naming the
 * section, leaving the object untouched bit for bit. I/O failures (missing files, directories,
 * a full disk simulated with RLIMIT_FSIZE) give MFPO_ERR_IO with the path and strerror's text and
 * never damage the previous file.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ckpt_file.h"
#include "rel_common.h"

#include "algo/replay.h"

enum { SEC_CONFIG = 1, SEC_COUNTERS = 2, SEC_STATE = 3, SEC_SHAPE = 16, SEC_OBS = 17, SEC_TERM = 21 };

typedef struct fixture {
    char dir[512];
    char agent_path[600], replay_path[600], tmp_path[600];
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *r;
    unsigned char *agent_file, *replay_file;
    size_t agent_len, replay_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    rel_tmpdir(f->dir, sizeof f->dir, "ckpt-test");
    snprintf(f->agent_path, sizeof f->agent_path, "%s/agent.ckpt", f->dir);
    snprintf(f->replay_path, sizeof f->replay_path, "%s/replay.ckpt", f->dir);
    snprintf(f->tmp_path, sizeof f->tmp_path, "%s/altered.ckpt", f->dir);
    f->ctx = cpu_context(5, NULL);
    f->ag = rel_agent(f->ctx, &c);
    f->r = rel_replay(f->ctx, 20);
    rel_fill(f->r, 33, 0); /* wrapped: size 20, next 13 */
    for (int i = 0; i < 3; i++) assert_status(mfpo_update(f->ag, f->r, NULL), MFPO_OK, f->ctx);
    assert_status(mfpo_agent_save(f->ag, f->agent_path), MFPO_OK, f->ctx);
    assert_status(mfpo_replay_save(f->r, f->replay_path), MFPO_OK, f->ctx);
    f->agent_file = ckf_read(f->agent_path, &f->agent_len);
    f->replay_file = ckf_read(f->replay_path, &f->replay_len);
    assert_non_null(f->agent_file);
    assert_non_null(f->replay_file);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mfpo_replay_destroy(f->r);
    mfpo_agent_destroy(f->ag);
    mfpo_context_destroy(f->ctx);
    free(f->agent_file);
    free(f->replay_file);
    rel_rmdir(f->dir);
    free(f);
    return 0;
}

/* ------------------------------------------------------------------ round trips */

static void agent_round_trip(void **state)
{
    fixture *f = *state;
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    rel_snapshot want = rel_take(f->ag);
    rel_params wp = rel_get_params(f->ag);

    /* another context, another seed, fresh weights: everything comes from the file */
    mfpo_context *ctx = cpu_context(999, NULL);
    mfpo_agent *ag = rel_agent(ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_OK, ctx);
    rel_snapshot got = rel_take(ag);
    rel_assert_same(&want, &got, "loaded agent");
    rel_params gp = rel_get_params(ag);
    rel_assert_same_params(&wp, &gp, "loaded agent");
    assert_true(mfpo_agent_update_count(ag) == 3);

    /* a loaded agent saves to the very same bytes */
    char again[700];
    snprintf(again, sizeof again, "%s/again.ckpt", f->dir);
    assert_status(mfpo_agent_save(ag, again), MFPO_OK, ctx);
    size_t len;
    unsigned char *bytes = ckf_read(again, &len);
    assert_int_equal(len, f->agent_len);
    assert_memory_equal(bytes, f->agent_file, len);
    free(bytes);

    /* and both continue identically */
    assert_status(mfpo_update(f->ag, f->r, NULL), MFPO_OK, f->ctx);
    mfpo_replay *r = rel_replay(ctx, 20);
    assert_status(mfpo_replay_load(r, f->replay_path), MFPO_OK, ctx);
    assert_status(mfpo_update(ag, r, NULL), MFPO_OK, ctx);
    rel_free(&want);
    rel_free(&got);
    want = rel_take(f->ag);
    got = rel_take(ag);
    rel_assert_same(&want, &got, "one update after loading");

    rel_free(&want);
    rel_free(&got);
    rel_params_free(&wp);
    rel_params_free(&gp);
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

/* Byte copy of a buffer's rings (all capacity rows) and position. */
typedef struct ring_copy {
    size_t size, next, bytes;
    unsigned char *rings;
} ring_copy;

/* Gives every byte of the rings a defined value (rows past `size` are otherwise uninitialized),
 * so that whole rings can be compared before and after a refused load. Call before filling. */
static void ring_define(mfpo_replay *r)
{
    algo_replay_view v;
    algo_replay_raw(r, &v);
    memset(v.obs, 0xa5, v.capacity * v.obs_dim * 4);
    memset(v.next_obs, 0xa5, v.capacity * v.obs_dim * 4);
    memset(v.act, 0xa5, v.capacity * v.act_dim * 4);
    memset(v.reward, 0xa5, v.capacity * 4);
    memset(v.terminated, 0xa5, v.capacity * 4);
}

static ring_copy ring_take(const mfpo_replay *r)
{
    algo_replay_view v;
    ring_copy c;
    algo_replay_raw(r, &v);
    c.size = v.size;
    c.next = v.next;
    c.bytes = v.capacity * (2 * v.obs_dim + v.act_dim + 2) * sizeof(float);
    c.rings = malloc(c.bytes);
    unsigned char *p = c.rings;
    memcpy(p, v.obs, v.capacity * v.obs_dim * 4), p += v.capacity * v.obs_dim * 4;
    memcpy(p, v.next_obs, v.capacity * v.obs_dim * 4), p += v.capacity * v.obs_dim * 4;
    memcpy(p, v.act, v.capacity * v.act_dim * 4), p += v.capacity * v.act_dim * 4;
    memcpy(p, v.reward, v.capacity * 4), p += v.capacity * 4;
    memcpy(p, v.terminated, v.capacity * 4);
    return c;
}

static void ring_assert_same(const ring_copy *a, const ring_copy *b)
{
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->next, b->next);
    assert_int_equal(a->bytes, b->bytes);
    assert_memory_equal(a->rings, b->rings, a->bytes);
}

static void replay_round_trip(void **state)
{
    fixture *f = *state;
    static const size_t fills[] = { 0, 1, 7, 20, 33, 40 };
    for (size_t k = 0; k < sizeof fills / sizeof fills[0]; k++) {
        mfpo_replay *src = rel_replay(f->ctx, 20), *dst = rel_replay(f->ctx, 20);
        rel_fill(src, fills[k], 3);
        rel_fill(dst, 5, 9); /* something to overwrite */
        assert_status(mfpo_replay_save(src, f->tmp_path), MFPO_OK, f->ctx);
        assert_status(mfpo_replay_load(dst, f->tmp_path), MFPO_OK, f->ctx);
        algo_replay_view vs, vd;
        algo_replay_raw(src, &vs);
        algo_replay_raw(dst, &vd);
        assert_int_equal(vs.size, vd.size);
        assert_int_equal(vs.next, vd.next);
        assert_memory_equal(vs.obs, vd.obs, vs.size * REL_S * 4);
        assert_memory_equal(vs.next_obs, vd.next_obs, vs.size * REL_S * 4);
        assert_memory_equal(vs.act, vd.act, vs.size * REL_A * 4);
        assert_memory_equal(vs.reward, vd.reward, vs.size * 4);
        assert_memory_equal(vs.terminated, vd.terminated, vs.size * 4);
        /* saving the loaded buffer reproduces the file */
        size_t l1, l2;
        unsigned char *b1 = ckf_read(f->tmp_path, &l1);
        assert_status(mfpo_replay_save(dst, f->tmp_path), MFPO_OK, f->ctx);
        unsigned char *b2 = ckf_read(f->tmp_path, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        /* and the same draws come out of both */
        if (vs.size) {
            float o1[4 * REL_S], o2[4 * REL_S];
            uint64_t stream = f->ctx->stream;
            assert_status(mfpo_replay_sample(src, 4, o1, NULL, NULL, NULL, NULL), MFPO_OK, f->ctx);
            f->ctx->stream = stream;
            assert_status(mfpo_replay_sample(dst, 4, o2, NULL, NULL, NULL, NULL), MFPO_OK, f->ctx);
            assert_memory_equal(o1, o2, sizeof o1);
        }
        free(b1);
        free(b2);
        mfpo_replay_destroy(src);
        mfpo_replay_destroy(dst);
    }
}

/* ------------------------------------------------------------------ refusals */

/* Loads `bytes` (written to the fixture's scratch path) into the fixture's agent; expects `status`
 * with `needle` in the message, and the agent untouched. */
static void expect_agent_refusal(fixture *f, const unsigned char *bytes, size_t len, mfpo_status status,
                                 const char *needle)
{
    rel_snapshot before = rel_take(f->ag);
    assert_int_equal(ckf_write(f->tmp_path, bytes, len), 0);
    mfpo_status s = mfpo_agent_load(f->ag, f->tmp_path);
    if (s != status)
        fail_msg("load of a %zu-byte file returned %s, expected %s (needle \"%s\"); message: %s", len,
                 mfpo_status_string(s), mfpo_status_string(status), needle, mfpo_last_error(f->ctx));
    assert_contains(mfpo_last_error(f->ctx), needle);
    if (status == MFPO_ERR_FORMAT) assert_contains(mfpo_last_error(f->ctx), f->tmp_path);
    rel_snapshot after = rel_take(f->ag);
    rel_assert_same(&before, &after, "agent after a refused load");
    rel_free(&before);
    rel_free(&after);
}

static unsigned char *copy_of(const unsigned char *b, size_t len)
{
    unsigned char *c = malloc(len + 1);
    memcpy(c, b, len);
    return c;
}

static void agent_truncated(void **state)
{
    fixture *f = *state;
    for (size_t len = 0; len < f->agent_len; len += (len < 160 ? 1 : 97)) {
        expect_agent_refusal(f, f->agent_file, len, MFPO_ERR_FORMAT, len < 32 ? "truncated" : "");
    }
    expect_agent_refusal(f, f->agent_file, f->agent_len - 1, MFPO_ERR_FORMAT, "truncated");
    /* bytes appended */
    unsigned char *b = malloc(f->agent_len + 8);
    memcpy(b, f->agent_file, f->agent_len);
    memset(b + f->agent_len, 0, 8);
    expect_agent_refusal(f, b, f->agent_len + 8, MFPO_ERR_FORMAT, "wrong length");
    free(b);
}

static void agent_bit_flips(void **state)
{
    fixture *f = *state;
    unsigned char *b = copy_of(f->agent_file, f->agent_len);
    size_t state_off = (size_t)ckf_u64(ckf_entry(b, f->agent_len, (uint32_t)ckf_find(b, f->agent_len, SEC_STATE)) + 8);
    for (size_t i = 0; i < f->agent_len; i += (i < state_off + 64 ? 1 : 89)) {
        int bit = (int)(i % 8);
        b[i] ^= (unsigned char)(1u << bit);
        const char *needle = i < 8 ? "magic" : i < 32 + 3 * 32 ? "" : "(corrupt file)";
        expect_agent_refusal(f, b, f->agent_len, MFPO_ERR_FORMAT, needle);
        b[i] ^= (unsigned char)(1u << bit);
    }
    free(b);
}

/* Alters the file with `edit`, fixes every CRC, and expects a refusal naming `needle`. */
static void agent_semantic(fixture *f, void (*edit)(unsigned char *, size_t), const char *needle)
{
    unsigned char *b = copy_of(f->agent_file, f->agent_len);
    edit(b, f->agent_len);
    ckf_fix_crcs(b, f->agent_len);
    expect_agent_refusal(f, b, f->agent_len, MFPO_ERR_FORMAT, needle);
    free(b);
}

static void ed_version3(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 8, 3);
}
static void ed_version0(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 8, 0);
}
static void ed_kind(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 12, 2);
}
static void ed_kind9(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 12, 9);
}
static void ed_count0(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 16, 0);
}
static void ed_count17(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 16, 17);
}
static void ed_size(unsigned char *b, size_t n)
{
    ckf_put_u64(b + 24, n + 1);
}
static void ed_duplicate(unsigned char *b, size_t n)
{
    ckf_put_u32(ckf_entry(b, n, 1), SEC_CONFIG);
}
static void ed_offset(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_entry(b, n, 2) + 8, n - 8);
}
static void ed_offset_low(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_entry(b, n, 0) + 8, 8);
}
static void ed_length(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_entry(b, n, 1) + 16, UINT64_MAX - 4);
}
static void ed_cfg_count(unsigned char *b, size_t n)
{
    ckf_put_u32(ckf_payload(b, n, SEC_CONFIG, NULL), 32);
}
/* config fields are found by name (format version 2) */
static unsigned char *cfg_value(unsigned char *b, size_t n, const char *name)
{
    size_t len = 0;
    unsigned char *p = ckf_payload(b, n, SEC_CONFIG, &len);
    unsigned char *v = ckf_config_value(p, len, name);
    assert_non_null(v);
    return v;
}
static unsigned char *cfg_entry(unsigned char *b, size_t n, const char *name)
{
    size_t len = 0;
    unsigned char *p = ckf_payload(b, n, SEC_CONFIG, &len);
    unsigned char *e = ckf_config_entry(p, len, name);
    assert_non_null(e);
    return e;
}
static void ed_cfg_width(unsigned char *b, size_t n)
{
    ckf_put_u64(cfg_value(b, n, "hidden_width"), 17);
}
static void ed_cfg_gamma(unsigned char *b, size_t n)
{
    float g = 0.5f;
    uint32_t u;
    memcpy(&u, &g, 4);
    ckf_put_u32(cfg_value(b, n, "gamma"), u);
}
static void ed_cfg_unknown(unsigned char *b, size_t n)
{
    cfg_entry(b, n, "gamma")[2 + 4] = 'b'; /* "gammb" */
}
static void ed_cfg_twice(unsigned char *b, size_t n)
{
    memcpy(cfg_entry(b, n, "lr_critic") + 2, "lr_policy", 9);
}
static void ed_cfg_tag(unsigned char *b, size_t n)
{
    cfg_entry(b, n, "gamma")[0] = 3;
}
static void ed_cfg_tag9(unsigned char *b, size_t n)
{
    cfg_entry(b, n, "tau")[0] = 9;
}
static void ed_cfg_name0(unsigned char *b, size_t n)
{
    cfg_entry(b, n, "obs_dim")[1] = 0;
}
static void ed_cfg_name_char(unsigned char *b, size_t n)
{
    cfg_entry(b, n, "atoms")[2] = 'A';
}
static void ed_cfg_reserved(unsigned char *b, size_t n)
{
    ckf_put_u32(ckf_payload(b, n, SEC_CONFIG, NULL) + 4, 1);
}
static void ed_counters(unsigned char *b, size_t n)
{
    unsigned char *p = ckf_payload(b, n, SEC_COUNTERS, NULL);
    ckf_put_u64(p + 16, ckf_u64(p + 8) + 1); /* actor_steps > critic_steps */
}
static void ed_state_layout(unsigned char *b, size_t n)
{
    unsigned char *p = ckf_payload(b, n, SEC_STATE, NULL);
    ckf_put_u64(p + 8, ckf_u64(p + 8) + 1);
}
static void ed_state_nan(unsigned char *b, size_t n)
{
    ckf_put_u32(ckf_payload(b, n, SEC_STATE, NULL) + 32 + 4 * 5, 0x7fc00000u);
}
static void ed_state_inf(unsigned char *b, size_t n)
{
    size_t len = 0;
    unsigned char *p = ckf_payload(b, n, SEC_STATE, &len);
    ckf_put_u32(p + len - 4, 0xff800000u);
}

static void agent_semantic_errors(void **state)
{
    fixture *f = *state;
    agent_semantic(f, ed_version3, "format version 3, but this library reads versions 1 to 2 (written by a newer");
    agent_semantic(f, ed_version0, "format version 0, but this library reads versions 1 to 2");
    agent_semantic(f, ed_kind, "is a replay checkpoint");
    agent_semantic(f, ed_kind9, "unknown kind");
    agent_semantic(f, ed_count0, "section count 0");
    agent_semantic(f, ed_count17, "section count 17");
    agent_semantic(f, ed_size, "header records");
    agent_semantic(f, ed_duplicate, "section 'config' (id 1) appears twice");
    agent_semantic(f, ed_offset, "section 'state' (id 3) at byte");
    agent_semantic(f, ed_offset_low, "lies outside");
    agent_semantic(f, ed_length, "section 'counters' (id 2)");
    agent_semantic(f, ed_cfg_count, "section 'config': ");
    agent_semantic(f, ed_cfg_count, "bytes follow the last of 32 fields");
    agent_semantic(f, ed_cfg_unknown, "section 'config': field 'gammb' is not one this library knows");
    agent_semantic(f, ed_cfg_twice, "section 'config': field 'lr_policy' appears twice");
    agent_semantic(f, ed_cfg_tag, "section 'config': field 'gamma' is stored as i32, expected f32");
    agent_semantic(f, ed_cfg_tag9, "section 'config': field 13 has type tag 9, expected 1 (u64), 2 (f32) or 3 (i32)");
    agent_semantic(f, ed_cfg_name0, "section 'config': field 1 has a name of 0 bytes, expected 1 to 64");
    agent_semantic(f, ed_cfg_name_char, "section 'config': field 9 has a name with byte 0x41, expected [a-z0-9_]");
    agent_semantic(f, ed_cfg_reserved, "section 'config': reserved word is 1, expected 0");
    agent_semantic(f, ed_cfg_width, "section 'config': hidden_width is 17 in the file but 16 in this agent");
    agent_semantic(f, ed_cfg_gamma, "section 'config': gamma is 0.5 in the file but");
    agent_semantic(f, ed_counters, "section 'counters': actor_steps");
    agent_semantic(f, ed_state_layout, "section 'state': layout");
    agent_semantic(f, ed_state_nan, "section 'state': float 5 = nan is not finite");
    agent_semantic(f, ed_state_inf, "is not finite");

    /* rebuilt containers: a section missing, an unknown section, sections in another order */
    size_t lc = 0, lk = 0, ls = 0, len = 0;
    unsigned char *pc = ckf_payload(f->agent_file, f->agent_len, SEC_CONFIG, &lc);
    unsigned char *pk = ckf_payload(f->agent_file, f->agent_len, SEC_COUNTERS, &lk);
    unsigned char *ps = ckf_payload(f->agent_file, f->agent_len, SEC_STATE, &ls);
    const ckf_section two[] = { { SEC_CONFIG, pc, lc }, { SEC_COUNTERS, pk, lk } };
    unsigned char *built = ckf_build(1, two, 2, &len);
    expect_agent_refusal(f, built, len, MFPO_ERR_FORMAT, "section 'state' is missing");
    free(built);
    const ckf_section four[] = {
        { SEC_CONFIG, pc, lc }, { SEC_COUNTERS, pk, lk }, { 99, pk, 3 }, { SEC_STATE, ps, ls }
    };
    built = ckf_build(1, four, 4, &len);
    expect_agent_refusal(f, built, len, MFPO_ERR_FORMAT, "unknown section id 99");
    free(built);
    const ckf_section shuffled[] = { { SEC_STATE, ps, ls }, { SEC_CONFIG, pc, lc }, { SEC_COUNTERS, pk, lk } };
    built = ckf_build(1, shuffled, 3, &len);
    assert_int_equal(ckf_write(f->tmp_path, built, len), 0);
    assert_status(mfpo_agent_load(f->ag, f->tmp_path), MFPO_OK, f->ctx); /* the table's order is free */
    free(built);

    /* a field absent from the file stands for its default (the file was written before it existed):
     * loaded when the agent has the default, refused naming the field when not */
    size_t lw = 0;
    unsigned char *without = ckf_config_without(pc, lc, "adam_eps", &lw);
    assert_int_equal(lw, lc - (2 + 8 + 4));
    const ckf_section no_eps[] = { { SEC_CONFIG, without, lw }, { SEC_COUNTERS, pk, lk }, { SEC_STATE, ps, ls } };
    built = ckf_build(1, no_eps, 3, &len);
    assert_int_equal(ckf_write(f->tmp_path, built, len), 0);
    assert_status(mfpo_agent_load(f->ag, f->tmp_path), MFPO_OK, f->ctx);
    free(built);
    free(without);
    without = ckf_config_without(pc, lc, "actor_delay", &lw);
    const ckf_section no_delay[] = { { SEC_CONFIG, without, lw }, { SEC_COUNTERS, pk, lk }, { SEC_STATE, ps, ls } };
    built = ckf_build(1, no_delay, 3, &len);
    expect_agent_refusal(f, built, len, MFPO_ERR_FORMAT,
                         "section 'config': actor_delay is absent from the file (written before it existed: the "
                         "default 1) but 2 in this agent");
    free(built);
    free(without);
    without = ckf_config_without(pc, lc, "obs_dim", &lw);
    const ckf_section no_obs[] = { { SEC_CONFIG, without, lw }, { SEC_COUNTERS, pk, lk }, { SEC_STATE, ps, ls } };
    built = ckf_build(1, no_obs, 3, &len);
    expect_agent_refusal(f, built, len, MFPO_ERR_FORMAT, "section 'config': field 'obs_dim' is missing");
    free(built);
    free(without);

    /* wrong magic */
    unsigned char *b = copy_of(f->agent_file, f->agent_len);
    memcpy(b, "MFPOCKPX", 8);
    expect_agent_refusal(f, b, f->agent_len, MFPO_ERR_FORMAT, "not a libmfpo checkpoint");
    free(b);
    /* a replay checkpoint given to the agent */
    expect_agent_refusal(f, f->replay_file, f->replay_len, MFPO_ERR_FORMAT,
                         "the file is a replay checkpoint (kind 2), expected an agent checkpoint");
}

/* Agents of another configuration refuse the file, naming the field. */
static void agent_config_mismatch(void **state)
{
    fixture *f = *state;
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    c.hidden_width = 24;
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_agent *ag = rel_agent(ctx, &c);
    rel_snapshot before = rel_take(ag);
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_ERR_FORMAT, ctx);
    assert_contains(mfpo_last_error(ctx), "hidden_width is 16 in the file but 24 in this agent");
    rel_snapshot after = rel_take(ag);
    rel_assert_same(&before, &after, "agent of another width");
    rel_free(&before);
    rel_free(&after);
    mfpo_agent_destroy(ag);

    c = rel_config();
    c.actor_delay = 2;
    c.lr_critic = 1e-3f;
    ag = rel_agent(ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_ERR_FORMAT, ctx);
    assert_contains(mfpo_last_error(ctx), "lr_critic is 0.000300000014 in the file but 0.00100000005 in this agent");
    mfpo_agent_destroy(ag);

    c = rel_config();
    c.actor_delay = 2;
    c.clipped_double_q = 0;
    ag = rel_agent(ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_ERR_FORMAT, ctx);
    assert_contains(mfpo_last_error(ctx), "clipped_double_q is 1 in the file but 0 in this agent");
    mfpo_agent_destroy(ag);

    c = rel_config();
    c.actor_delay = 2;
    c.obs_dim = 4;
    ag = rel_agent(ctx, &c);
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_ERR_FORMAT, ctx);
    assert_contains(mfpo_last_error(ctx), "obs_dim is 3 in the file but 4 in this agent");
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

/* ------------------------------------------------------------------ replay refusals */

static void expect_replay_refusal(fixture *f, mfpo_replay *r, const unsigned char *bytes, size_t len,
                                  const char *needle)
{
    ring_copy before = ring_take(r);
    assert_int_equal(ckf_write(f->tmp_path, bytes, len), 0);
    mfpo_status s = mfpo_replay_load(r, f->tmp_path);
    if (s != MFPO_ERR_FORMAT)
        fail_msg("replay load of a %zu-byte file returned %s (needle \"%s\"); message: %s", len, mfpo_status_string(s),
                 needle, mfpo_last_error(f->ctx));
    assert_contains(mfpo_last_error(f->ctx), needle);
    ring_copy after = ring_take(r);
    ring_assert_same(&before, &after);
    free(before.rings);
    free(after.rings);
}

static void replay_semantic(fixture *f, mfpo_replay *r, void (*edit)(unsigned char *, size_t), const char *needle)
{
    unsigned char *b = copy_of(f->replay_file, f->replay_len);
    edit(b, f->replay_len);
    ckf_fix_crcs(b, f->replay_len);
    expect_replay_refusal(f, r, b, f->replay_len, needle);
    free(b);
}

static void rd_size(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_payload(b, n, SEC_SHAPE, NULL) + 24, 21);
}
static void rd_next(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_payload(b, n, SEC_SHAPE, NULL) + 32, 20);
}
static void rd_partial(unsigned char *b, size_t n)
{
    /* size 19 with next 13 is inconsistent (next must equal size before the ring is full) */
    ckf_put_u64(ckf_payload(b, n, SEC_SHAPE, NULL) + 24, 19);
}
static void rd_obs_nan(unsigned char *b, size_t n)
{
    ckf_put_u32(ckf_payload(b, n, SEC_OBS, NULL) + 16 + 4 * 7, 0x7f800001u);
}
static void rd_term(unsigned char *b, size_t n)
{
    float h = 0.5f;
    uint32_t u;
    memcpy(&u, &h, 4);
    ckf_put_u32(ckf_payload(b, n, SEC_TERM, NULL) + 16 + 4 * 3, u);
}
static void rd_rows(unsigned char *b, size_t n)
{
    ckf_put_u64(ckf_payload(b, n, SEC_OBS, NULL) + 8, 2);
}
static void rd_kind(unsigned char *b, size_t n)
{
    (void)n;
    ckf_put_u32(b + 12, 1);
}

static void replay_refusals(void **state)
{
    fixture *f = *state;
    mfpo_replay *r = rel_replay(f->ctx, 20);
    ring_define(r);
    rel_fill(r, 4, 1);
    replay_semantic(f, r, rd_size, "section 'replay-shape': size 21 and next position 13 are inconsistent");
    replay_semantic(f, r, rd_next, "next position 20");
    replay_semantic(f, r, rd_partial, "size 19 and next position 13");
    replay_semantic(f, r, rd_obs_nan, "section 'obs': row 2, column 1 = nan is not finite");
    replay_semantic(f, r, rd_term, "section 'terminated': row 3 = 0.5 is neither 0 nor 1");
    replay_semantic(f, r, rd_rows, "section 'obs': 20 rows of 2 columns, expected 20 rows of 3");
    replay_semantic(f, r, rd_kind, "the file is an agent checkpoint (kind 1), expected a replay checkpoint");
    for (size_t len = 0; len < f->replay_len; len += 37)
        expect_replay_refusal(f, r, f->replay_file, len, len < 32 ? "truncated" : "");
    unsigned char *b = copy_of(f->replay_file, f->replay_len);
    for (size_t i = 0; i < f->replay_len; i += 13) {
        b[i] ^= 0x10;
        expect_replay_refusal(f, r, b, f->replay_len, "");
        b[i] ^= 0x10;
    }
    free(b);
    expect_replay_refusal(f, r, f->agent_file, f->agent_len, "expected a replay checkpoint");

    /* other shapes */
    mfpo_replay *other = rel_replay(f->ctx, 21);
    ring_define(other);
    rel_fill(other, 3, 2);
    assert_int_equal(ckf_write(f->tmp_path, f->replay_file, f->replay_len), 0);
    ring_copy before = ring_take(other);
    assert_status(mfpo_replay_load(other, f->tmp_path), MFPO_ERR_FORMAT, f->ctx);
    assert_contains(mfpo_last_error(f->ctx),
                    "capacity 20 in the file, but the buffer has obs_dim 3, act_dim 2, capacity 21");
    ring_copy after = ring_take(other);
    ring_assert_same(&before, &after);
    free(before.rings);
    free(after.rings);
    mfpo_replay_destroy(other);
    assert_status(mfpo_replay_create(f->ctx, REL_S + 1, REL_A, 20, &other), MFPO_OK, f->ctx);
    assert_status(mfpo_replay_load(other, f->tmp_path), MFPO_ERR_FORMAT, f->ctx);
    assert_contains(mfpo_last_error(f->ctx),
                    "obs_dim 3, act_dim 2, capacity 20 in the file, but the buffer has obs_dim 4");
    assert_int_equal(mfpo_replay_size(other), 0);
    mfpo_replay_destroy(other);
    mfpo_replay_destroy(r);
}

/* ------------------------------------------------------------------ I/O errors and arguments */

static size_t count_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void io_errors(void **state)
{
    fixture *f = *state;
    char path[700];
    rel_snapshot before = rel_take(f->ag);

    snprintf(path, sizeof path, "%s/does-not-exist.ckpt", f->dir);
    assert_status(mfpo_agent_load(f->ag, path), MFPO_ERR_IO, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "mfpo_agent_load: cannot open '");
    assert_contains(mfpo_last_error(f->ctx), path);
    assert_contains(mfpo_last_error(f->ctx), strerror(ENOENT));
    assert_status(mfpo_replay_load(f->r, path), MFPO_ERR_IO, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), strerror(ENOENT));

    assert_status(mfpo_agent_load(f->ag, f->dir), MFPO_ERR_IO, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "is not a regular file");

    snprintf(path, sizeof path, "%s/no-such-dir/agent.ckpt", f->dir);
    assert_status(mfpo_agent_save(f->ag, path), MFPO_ERR_IO, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "cannot create a temporary file next to");
    assert_contains(mfpo_last_error(f->ctx), path);
    assert_contains(mfpo_last_error(f->ctx), strerror(ENOENT));
    assert_status(mfpo_replay_save(f->r, path), MFPO_ERR_IO, f->ctx);

    /* the destination is a non-empty directory: refused before any temporary file is made */
    snprintf(path, sizeof path, "%s/occupied", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char inner[800];
    snprintf(inner, sizeof inner, "%s/x", path);
    assert_int_equal(ckf_write(inner, "x", 1), 0);
    size_t files = count_files(f->dir);
    assert_status(mfpo_agent_save(f->ag, path), MFPO_ERR_IO, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "exists and is not a regular file (a directory)");
    assert_int_equal(count_files(f->dir), files);
    unlink(inner);
    rmdir(path);

    /* arguments */
    assert_status(mfpo_agent_save(f->ag, NULL), MFPO_ERR_INVALID_ARGUMENT, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "mfpo_agent_save: argument 'path' is NULL");
    assert_status(mfpo_agent_load(f->ag, ""), MFPO_ERR_INVALID_ARGUMENT, f->ctx);
    assert_contains(mfpo_last_error(f->ctx), "mfpo_agent_load: argument 'path' is empty");
    assert_status(mfpo_replay_save(f->r, NULL), MFPO_ERR_INVALID_ARGUMENT, f->ctx);
    assert_status(mfpo_replay_load(f->r, NULL), MFPO_ERR_INVALID_ARGUMENT, f->ctx);
    assert_status(mfpo_agent_save(NULL, f->agent_path), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_agent_save: argument 'agent' is NULL");
    assert_status(mfpo_agent_load(NULL, f->agent_path), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_agent_load: argument 'agent' is NULL");
    assert_status(mfpo_replay_save(NULL, f->agent_path), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_save: argument 'replay' is NULL");
    assert_status(mfpo_replay_load(NULL, f->agent_path), MFPO_ERR_INVALID_ARGUMENT, NULL);
    assert_contains(mfpo_last_error(NULL), "mfpo_replay_load: argument 'replay' is NULL");

    rel_snapshot after = rel_take(f->ag);
    rel_assert_same(&before, &after, "agent after I/O errors");
    rel_free(&before);
    rel_free(&after);
}

/* A disk that fills up mid-write (RLIMIT_FSIZE in a child): MFPO_ERR_IO, the old file intact,
 * no temporary file left. */
static void write_failure_keeps_old_file(void **state)
{
    fixture *f = *state;
    char path[700];
    snprintf(path, sizeof path, "%s/full.ckpt", f->dir);
    assert_int_equal(ckf_write(path, "old contents", 12), 0);
    size_t files = count_files(f->dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = { 1000, 1000 };
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
        mfpo_status s = mfpo_agent_save(f->ag, path);
        int ok = s == MFPO_ERR_IO && strstr(mfpo_last_error(f->ctx), strerror(EFBIG)) &&
                 strstr(mfpo_last_error(f->ctx), "cannot write the temporary file");
        if (!ok) fprintf(stderr, "child: status %d, message %s\n", (int)s, mfpo_last_error(f->ctx));
        s = mfpo_replay_save(f->r, path);
        ok = ok && s == MFPO_ERR_IO;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    size_t len;
    unsigned char *b = ckf_read(path, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(b, "old contents", 12);
    free(b);
    assert_int_equal(count_files(f->dir), files);
    unlink(path);
}

/* A host allocation failing inside load and save: MFPO_ERR_OUT_OF_MEMORY, nothing changed. */
static void out_of_memory(void **state)
{
    fixture *f = *state;
    counting_allocator *ca = calloc(1, sizeof *ca);
    mfpo_allocator a = counting_allocator_iface(ca);
    mfpo_context *ctx = cpu_context(3, &a);
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    mfpo_agent *ag = rel_agent(ctx, &c);
    mfpo_replay *r = rel_replay(ctx, 20);
    ring_define(r);
    rel_fill(r, 2, 0);
    rel_snapshot before = rel_take(ag);
    ring_copy rb = ring_take(r);
    ca->refuse_above = ag->off.total * sizeof(float) - 1; /* the state's host copy */
    assert_status(mfpo_agent_load(ag, f->agent_path), MFPO_ERR_OUT_OF_MEMORY, ctx);
    assert_contains(mfpo_last_error(ctx), "out of memory");
    assert_status(mfpo_agent_save(ag, f->tmp_path), MFPO_ERR_OUT_OF_MEMORY, ctx);
    ca->refuse_above = 64; /* the transitions' temporary block and the temporary file name */
    assert_status(mfpo_replay_load(r, f->replay_path), MFPO_ERR_OUT_OF_MEMORY, ctx);
    assert_status(mfpo_replay_save(r, f->tmp_path), MFPO_ERR_OUT_OF_MEMORY, ctx);
    ca->refuse_above = 0;
    rel_snapshot after = rel_take(ag);
    rel_assert_same(&before, &after, "agent after allocation failures");
    ring_copy ra = ring_take(r);
    ring_assert_same(&rb, &ra);
    rel_free(&before);
    rel_free(&after);
    free(rb.rings);
    free(ra.rings);
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    assert_counting_balanced(ca);
    free(ca);
}

int main(void)
{
    unsetenv("MFPO_BACKEND");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(agent_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_bit_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_semantic_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_config_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(io_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(write_failure_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("reliability_checkpoint", tests, NULL, NULL);
}
