/* Version macros against the run-time query; the fixed text of every status code. */
#include "test_support.h"

static void version_number_matches_macros(void **state)
{
    (void)state;
    assert_int_equal(MFPO_VERSION_NUMBER, MFPO_VERSION_MAJOR * 10000 + MFPO_VERSION_MINOR * 100 + MFPO_VERSION_PATCH);
    assert_int_equal(mfpo_version_number(), MFPO_VERSION_NUMBER);
}

static void version_string_matches_macros(void **state)
{
    char expect[32];
    (void)state;
    snprintf(expect, sizeof expect, "%d.%d.%d", MFPO_VERSION_MAJOR, MFPO_VERSION_MINOR, MFPO_VERSION_PATCH);
    assert_string_equal(MFPO_VERSION_STRING, expect);
    assert_non_null(mfpo_version_string());
    assert_string_equal(mfpo_version_string(), MFPO_VERSION_STRING);
    /* the same pointer every time, not a buffer that changes */
    assert_ptr_equal(mfpo_version_string(), mfpo_version_string());
}

static void status_strings(void **state)
{
    static const struct {
        mfpo_status code;
        int value;
        const char *text;
    } expect[] = {
        { MFPO_OK, 0, "success" },
        { MFPO_ERR_INVALID_ARGUMENT, 1, "invalid argument" },
        { MFPO_ERR_OUT_OF_MEMORY, 2, "out of memory" },
        { MFPO_ERR_BACKEND_UNAVAILABLE, 3, "backend unavailable" },
        { MFPO_ERR_NON_FINITE, 4, "non-finite value" },
        { MFPO_ERR_IO, 5, "input/output error" },
        { MFPO_ERR_FORMAT, 6, "bad file format" },
        { MFPO_ERR_ENV, 7, "environment callback failed" },
        { MFPO_ERR_CANCELLED, 8, "cancelled" },
        { MFPO_ERR_STATE, 9, "invalid state" },
        { MFPO_ERR_COMM, 10, "collective communication failed" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        /* the numeric values are ABI */
        assert_int_equal((int)expect[i].code, expect[i].value);
        const char *s = mfpo_status_string(expect[i].code);
        assert_non_null(s);
        assert_string_equal(s, expect[i].text);
        /* every text distinct */
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, mfpo_status_string(expect[j].code));
    }
}

static void status_string_of_unknown_code(void **state)
{
    (void)state;
    const char *s = mfpo_status_string((mfpo_status)12345);
    assert_non_null(s);
    assert_string_equal(s, "unknown status");
    s = mfpo_status_string((mfpo_status)-1);
    assert_non_null(s);
    assert_string_equal(s, "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_number_matches_macros),
        cmocka_unit_test(version_string_matches_macros),
        cmocka_unit_test(status_strings),
        cmocka_unit_test(status_string_of_unknown_code),
    };
    return cmocka_run_group_tests_name("api_version_status", tests, NULL, NULL);
}
