/*
 * Saving refuses an existing target that is not a regular file, as loading does: a symbolic link,
 * a FIFO, a directory or a device is left as it was, with MFPO_ERR_IO naming the path and the kind.
 * Loading from a FIFO is refused at once (it used to wait for a writer in open()).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

static char dir[64];

static void expect_refused(mfpo_context *ctx, mfpo_status s, const char *path, const char *kind)
{
    assert_int_equal(s, MFPO_ERR_IO);
    char want[512];
    snprintf(want, sizeof want, "'%s' exists and is not a regular file (%s); nothing was written", path, kind);
    assert_contains(mfpo_last_error(ctx), want);
}

static void save_refuses_special_targets(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mfpo-save-target-XXXXXX");
    assert_non_null(mkdtemp(dir));
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, 3, 2);
    c.hidden_width = 8;
    c.hidden_depth = 1;
    mfpo_agent *ag = NULL;
    mfpo_replay *r = NULL;
    assert_int_equal(mfpo_agent_create(ctx, &c, &ag), MFPO_OK);
    assert_int_equal(mfpo_replay_create(ctx, 3, 2, 4, &r), MFPO_OK);

    char regular[128], link[128], fifo[128], sub[128];
    snprintf(regular, sizeof regular, "%s/agent.ckpt", dir);
    snprintf(link, sizeof link, "%s/link.ckpt", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo.ckpt", dir);
    snprintf(sub, sizeof sub, "%s/sub.ckpt", dir);
    assert_int_equal(mfpo_agent_save(ag, regular), MFPO_OK); /* a regular file is replaced */
    assert_int_equal(mfpo_agent_save(ag, regular), MFPO_OK);
    assert_int_equal(symlink(regular, link), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(sub, 0700), 0);

    expect_refused(ctx, mfpo_agent_save(ag, link), link, "a symbolic link");
    expect_refused(ctx, mfpo_replay_save(r, link), link, "a symbolic link");
    expect_refused(ctx, mfpo_agent_save(ag, fifo), fifo, "a FIFO");
    expect_refused(ctx, mfpo_agent_save(ag, sub), sub, "a directory");
    expect_refused(ctx, mfpo_agent_save(ag, "/dev/null"), "/dev/null", "a device");
    /* loading from the FIFO: refused, not blocked (the test's timeout catches a hang) */
    char want[256];
    snprintf(want, sizeof want, "'%s' is not a regular file", fifo);
    assert_int_equal(mfpo_agent_load(ag, fifo), MFPO_ERR_IO);
    assert_contains(mfpo_last_error(ctx), want);
    assert_int_equal(mfpo_replay_load(r, fifo), MFPO_ERR_IO);
    assert_contains(mfpo_last_error(ctx), want);
    /* the rule for mfpo_last_error: a successful call leaves it empty */
    assert_int_equal(mfpo_agent_save(ag, regular), MFPO_OK);
    assert_string_equal(mfpo_last_error(ctx), "");
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* still the link */
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode)); /* still the FIFO */

    unlink(link);
    unlink(fifo);
    rmdir(sub);
    unlink(regular);
    rmdir(dir);
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_refuses_special_targets),
    };
    return cmocka_run_group_tests_name("api_save_target", tests, NULL, NULL);
}
