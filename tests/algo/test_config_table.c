/*
 * The table of configuration fields (lib/algo/config_fields.h) against the struct it describes
 * and against the code generated from it: its rows cover mfpo_agent_config field by field (a
 * field missing from the table fails here), mfpo_agent_config_init() sets every default the
 * table states, and algo_config_check() accepts each bound and refuses the nearest value outside
 * it with a message naming the field, its value and the bounds.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algo/config_fields.h"
#include "algo/internal.h"

static mfpo_context *ctx;

static int setup(void **state)
{
    (void)state;
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    return mfpo_context_create(&o, &ctx) == MFPO_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mfpo_context_destroy(ctx);
    return 0;
}

static size_t type_size(config_type t)
{
    return t == CONFIG_TYPE_SIZE ? sizeof(size_t) : t == CONFIG_TYPE_FLOAT ? sizeof(float) : sizeof(int);
}

static size_t align_to(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

/* The rows are the struct's fields after struct_size, in order, without gaps. */
static void rows_cover_the_struct(void **state)
{
    (void)state;
    assert_int_equal(config_field_count, 33);
    size_t end = offsetof(mfpo_agent_config, struct_size) + sizeof(size_t);
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        size_t sz = type_size(f->type);
        if (f->offset != align_to(end, sz))
            fail_msg("row %zu (%s) is at offset %zu, but the previous row ends at %zu: a field of the struct is "
                     "missing from the table or out of order",
                     i, f->name, f->offset, end);
        end = f->offset + sz;
        for (size_t j = 0; j < i; j++)
            if (strcmp(config_fields[j].name, f->name) == 0) fail_msg("%s is in the table twice", f->name);
        assert_ptr_equal(config_field_find(f->name, strlen(f->name)), f);
    }
    if (align_to(end, _Alignof(mfpo_agent_config)) != sizeof(mfpo_agent_config))
        fail_msg("the rows end at %zu, the struct has %zu bytes: fields at its end are missing from the table", end,
                 sizeof(mfpo_agent_config));
    assert_null(config_field_find("gammax", 6));
    assert_null(config_field_find("gamm", 4));
}

static void init_sets_the_defaults(void **state)
{
    (void)state;
    mfpo_agent_config c;
    memset(&c, 0x5a, sizeof c);
    mfpo_agent_config_init(&c, 7, 3);
    assert_int_equal(c.struct_size, sizeof c);
    assert_int_equal(c.obs_dim, 7);
    assert_int_equal(c.act_dim, 3);
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        if (f->from_argument) continue;
        double got = config_field_get(f, &c);
        if (got != f->def) fail_msg("%s: init sets %.9g, the table says %.9g", f->name, got, f->def);
    }
    /* spot checks against the paper's values, independent of the table */
    assert_int_equal(c.hidden_width, 256);
    assert_int_equal(c.atoms, 101);
    assert_true(c.lr_policy == 3e-4f);
    assert_true(c.time_mean == -0.4f);
    assert_int_equal(c.clipped_double_q, 1);
    assert_int_equal(algo_config_check(ctx, "t", &c), MFPO_OK);
}

static void set_value(const config_field *f, mfpo_agent_config *c, double v)
{
    unsigned char *p = (unsigned char *)c + f->offset;
    if (f->type == CONFIG_TYPE_SIZE) {
        size_t x = (size_t)v;
        memcpy(p, &x, sizeof x);
    } else if (f->type == CONFIG_TYPE_FLOAT) {
        float x = (float)v;
        memcpy(p, &x, sizeof x);
    } else {
        int x = (int)v;
        memcpy(p, &x, sizeof x);
    }
}

static void expect_ok(const config_field *f, double v)
{
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, 3, 2);
    set_value(f, &c, v);
    if (algo_config_check(ctx, "who", &c) != MFPO_OK)
        fail_msg("%s = %.9g refused: %s", f->name, v, mfpo_last_error(ctx));
}

static void expect_refused(const config_field *f, double v, const char *value_text)
{
    mfpo_agent_config c;
    char want[256];
    mfpo_agent_config_init(&c, 3, 2);
    set_value(f, &c, v);
    if (algo_config_check(ctx, "who", &c) != MFPO_ERR_INVALID_ARGUMENT) fail_msg("%s = %.9g accepted", f->name, v);
    snprintf(want, sizeof want, "who: config->%s = %s ", f->name, value_text);
    if (strncmp(mfpo_last_error(ctx), want, strlen(want)) != 0)
        fail_msg("%s = %s: message \"%s\" does not start with \"%s\"", f->name, value_text, mfpo_last_error(ctx), want);
    if (f->check != CONFIG_CHECK_FINITE && f->check != CONFIG_CHECK_PAIR_LOW && f->check != CONFIG_CHECK_PAIR_HIGH &&
        !strstr(mfpo_last_error(ctx), f->bounds))
        fail_msg("%s: message \"%s\" lacks the bounds \"%s\"", f->name, mfpo_last_error(ctx), f->bounds);
}

static void checks_follow_the_bounds(void **state)
{
    (void)state;
    char text[64];
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        switch (f->check) {
        case CONFIG_CHECK_RANGE:
            if (f->type == CONFIG_TYPE_SIZE) {
                snprintf(text, sizeof text, "[%.0f, %.0f]", f->lo, f->hi);
                assert_string_equal(f->bounds, text);
                expect_ok(f, f->lo);
                expect_ok(f, f->hi);
                if (f->lo > 0) {
                    snprintf(text, sizeof text, "%.0f", f->lo - 1);
                    expect_refused(f, f->lo - 1, text);
                }
                snprintf(text, sizeof text, "%.0f", f->hi + 1);
                expect_refused(f, f->hi + 1, text);
            } else {
                expect_ok(f, f->lo);
                expect_ok(f, f->hi);
                double below = nextafterf((float)f->lo, -INFINITY), above = nextafterf((float)f->hi, INFINITY);
                snprintf(text, sizeof text, "%g", below);
                expect_refused(f, below, text);
                snprintf(text, sizeof text, "%g", above);
                expect_refused(f, above, text);
                expect_refused(f, NAN, "nan");
            }
            break;
        case CONFIG_CHECK_FINITE:
            expect_ok(f, -1e30);
            expect_refused(f, INFINITY, "inf");
            expect_refused(f, NAN, "nan");
            break;
        case CONFIG_CHECK_POSITIVE:
            expect_ok(f, 1e-30);
            expect_refused(f, 0.0, "0");
            expect_refused(f, -1.0, "-1");
            expect_refused(f, 1e30, "1e+30");
            break;
        case CONFIG_CHECK_FLAG:
            expect_ok(f, 0);
            expect_ok(f, 1);
            expect_refused(f, 2, "2");
            expect_refused(f, -1, "-1");
            break;
        case CONFIG_CHECK_PAIR_LOW:
            assert_int_equal(config_fields[i + 1].check, CONFIG_CHECK_PAIR_HIGH);
            expect_ok(f, config_fields[i + 1].def - 1);
            expect_refused(f, config_fields[i + 1].def, "1600");
            expect_refused(f, NAN, "nan");
            assert_non_null(strstr(mfpo_last_error(ctx), "must be finite with v_min < v_max"));
            break;
        case CONFIG_CHECK_PAIR_HIGH:
            break;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_cover_the_struct),
        cmocka_unit_test(init_sets_the_defaults),
        cmocka_unit_test(checks_follow_the_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
