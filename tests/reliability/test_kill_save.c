/*
 * SIGKILL during save: 100 times, a child process saves checkpoints to one path in a loop,
 * alternating two agents' contents (A, B, A, ...), and is killed with SIGKILL after a random delay
 * of a few hundred microseconds to a few milliseconds. Afterwards the file at the path must load,
 * and its bytes must be exactly those of A or of B: never a mix, never missing, never truncated.
 * The same then holds for replay buffers (fewer rounds). Temporary files the killed child left
 * behind are counted (each one is a kill that landed inside a save) and removed.
 *
 * The delays are scaled to the measured duration of one save (fsync included), so that kills
 * land before, inside and between saves on any disk.
 */
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_file.h"
#include "rel_common.h"

#include "algo/replay.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* xorshift64*: the test's own delays, reproducible from MFPO_KILL_SEED */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Removes "<name>.tmp-*" files in dir; returns how many there were. */
static int remove_temporaries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
            n++;
        }
    if (d) closedir(d);
    return n;
}

typedef mfpo_status (*save_fn)(const void *obj, const char *path);
typedef mfpo_status (*load_fn)(void *obj, const char *path);

static mfpo_status save_agent(const void *o, const char *p)
{
    return mfpo_agent_save(o, p);
}
static mfpo_status load_agent(void *o, const char *p)
{
    return mfpo_agent_load(o, p);
}
static mfpo_status save_replay(const void *o, const char *p)
{
    return mfpo_replay_save(o, p);
}
static mfpo_status load_replay(void *o, const char *p)
{
    return mfpo_replay_load(o, p);
}

typedef struct kill_stats {
    int rounds, was_a, was_b, mid_save;
    double save_us, max_delay_us;
} kill_stats;

/* The experiment on two objects a and b (saved alternately by the child) and a scratch object of
 * the same shape that each surviving file is loaded into. */
static kill_stats kill_rounds(const char *dir, const char *name, int rounds, const void *a, const void *b,
                              void *scratch, mfpo_context *ctx, save_fn save, load_fn load)
{
    char path[4096], pa[4096], pb[4096];
    kill_stats st = { 0 };
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(pa, sizeof pa, "%s/expect-a-%s", dir, name);
    snprintf(pb, sizeof pb, "%s/expect-b-%s", dir, name);
    assert_status(save(a, pa), MFPO_OK, ctx);
    assert_status(save(b, pb), MFPO_OK, ctx);
    size_t la, lb;
    unsigned char *bytes_a = ckf_read(pa, &la), *bytes_b = ckf_read(pb, &lb);
    assert_non_null(bytes_a);
    assert_non_null(bytes_b);
    assert_true(la != lb || memcmp(bytes_a, bytes_b, la) != 0);

    /* how long one save takes here */
    double t0 = now_us();
    for (int i = 0; i < 5; i++) assert_status(save(i % 2 ? b : a, path), MFPO_OK, ctx);
    st.save_us = (now_us() - t0) / 5;
    st.max_delay_us = 4 * st.save_us + 200;
    assert_status(save(a, path), MFPO_OK, ctx);

    for (int round = 0; round < rounds; round++) {
        unsigned delay = (unsigned)((double)(rng_next() % 1000000) / 1e6 * st.max_delay_us);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (unsigned long i = 0;; i++)
                if (save(i % 2 ? a : b, path) != MFPO_OK) _exit(2);
        }
        struct timespec ts = { (time_t)(delay / 1000000), (long)(delay % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0) continue;
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("round %d: the saving child ended by itself (status 0x%x)", round, status);

        size_t len;
        unsigned char *got = ckf_read(path, &len);
        if (!got) fail_msg("round %d (delay %u us): the file is missing", round, (unsigned)delay);
        int is_a = len == la && memcmp(got, bytes_a, la) == 0;
        int is_b = len == lb && memcmp(got, bytes_b, lb) == 0;
        free(got);
        if (!is_a && !is_b)
            fail_msg("round %d (delay %u us): the file (%zu bytes) is neither A nor B", round, (unsigned)delay, len);
        if (load(scratch, path) != MFPO_OK)
            fail_msg("round %d: the surviving file does not load: %s", round, mfpo_last_error(ctx));
        st.was_a += is_a;
        st.was_b += is_b;
        st.mid_save += remove_temporaries(dir) > 0;
        st.rounds++;
    }
    free(bytes_a);
    free(bytes_b);
    return st;
}

static void report(const char *what, const kill_stats *st)
{
    printf("%s: %d kills, all loaded: %d times A, %d times B; %d kills inside a save (temporary file left); "
           "one save %.0f us, delays 0..%.0f us\n",
           what, st->rounds, st->was_a, st->was_b, st->mid_save, st->save_us, st->max_delay_us);
}

static void kill_during_agent_save(void **state)
{
    (void)state;
    char dir[512];
    rel_tmpdir(dir, sizeof dir, "kill-test");
    mfpo_agent_config c = rel_config();
    mfpo_context *ca = cpu_context(1, NULL), *cb = cpu_context(2, NULL), *cs = cpu_context(3, NULL);
    mfpo_agent *a = rel_agent(ca, &c), *b = rel_agent(cb, &c), *s = rel_agent(cs, &c);
    kill_stats st = kill_rounds(dir, "agent.ckpt", 100, a, b, s, cs, save_agent, load_agent);
    report("agent", &st);
    assert_int_equal(st.rounds, 100);
    assert_true(st.was_a > 0 && st.was_b > 0); /* kills landed after saves of both contents */
    mfpo_agent_destroy(a);
    mfpo_agent_destroy(b);
    mfpo_agent_destroy(s);
    mfpo_context_destroy(ca);
    mfpo_context_destroy(cb);
    mfpo_context_destroy(cs);
    rel_rmdir(dir);
}

static void kill_during_replay_save(void **state)
{
    (void)state;
    char dir[512];
    rel_tmpdir(dir, sizeof dir, "kill-test");
    mfpo_context *ctx = cpu_context(1, NULL);
    mfpo_replay *a = rel_replay(ctx, 512), *b = rel_replay(ctx, 512), *s = rel_replay(ctx, 512);
    rel_fill(a, 700, 1);
    rel_fill(b, 300, 2);
    kill_stats st = kill_rounds(dir, "replay.ckpt", 30, a, b, s, ctx, save_replay, load_replay);
    report("replay", &st);
    assert_int_equal(st.rounds, 30);
    mfpo_replay_destroy(a);
    mfpo_replay_destroy(b);
    mfpo_replay_destroy(s);
    mfpo_context_destroy(ctx);
    rel_rmdir(dir);
}

int main(void)
{
    unsetenv("MFPO_BACKEND");
    const char *seed = getenv("MFPO_KILL_SEED");
    if (seed && seed[0]) rng_state = strtoull(seed, NULL, 0) | 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_during_agent_save),
        cmocka_unit_test(kill_during_replay_save),
    };
    return cmocka_run_group_tests_name("reliability_kill_save", tests, NULL, NULL);
}
