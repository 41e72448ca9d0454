/*
 * Exact resume: a run of N + M training steps is compared with a run interrupted after N steps,
 * checkpointed (agent and replay buffer), and continued for M steps in a NEW PROCESS (this program
 * re-executed with "--resume"), which starts from another seed and other initial weights, so that
 * everything it continues with must come from the files. The final parameters (public getters),
 * the whole state vector, the counters and the random-stream position must be equal bit for bit,
 * and so must the final checkpoints of both runs. CPU backend, one thread in both processes.
 *
 * The training loop is the toy environment of rel_common.h: each step the agent acts (drawing
 * from the context's stream), the transition is stored (the 24-row ring wraps), and one update
 * runs once 8 transitions are stored; actor_delay 2 exercises the actor-step counter.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_file.h"
#include "rel_common.h"

enum { N_STEPS = 14, M_STEPS = 16, CAPACITY = 24, WARMUP = 8 };

static const char *self_path;

static mfpo_agent_config resume_config(void)
{
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    return c;
}

/* Writes the public parameters (policy, divergence, alpha) as raw floats. */
static void dump_params(mfpo_agent *ag, const char *path)
{
    rel_params p = rel_get_params(ag);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p.u, sizeof(float), p.nu, f), p.nu);
    assert_int_equal(fwrite(p.d, sizeof(float), p.nd, f), p.nd);
    assert_int_equal(fwrite(&p.alpha, sizeof(float), 1, f), 1);
    assert_int_equal(fclose(f), 0);
    rel_params_free(&p);
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

/* The second process: loads the checkpoints written after N steps and trains M more. */
static int resume_child(const char *dir)
{
    char p[4096];
    mfpo_agent_config c = resume_config();
    mfpo_context *ctx = cpu_context(987654321, NULL); /* not the original seed: the file restores it */
    mfpo_agent *ag = rel_agent(ctx, &c);
    mfpo_replay *r = rel_replay(ctx, CAPACITY);
    rel_fill(r, 3, 7); /* contents the load must replace */
    path_in(p, sizeof p, dir, "agent-N.ckpt");
    if (mfpo_agent_load(ag, p) != MFPO_OK) {
        fprintf(stderr, "child: %s\n", mfpo_last_error(ctx));
        return 2;
    }
    path_in(p, sizeof p, dir, "replay-N.ckpt");
    if (mfpo_replay_load(r, p) != MFPO_OK) {
        fprintf(stderr, "child: %s\n", mfpo_last_error(ctx));
        return 2;
    }
    rel_train(ag, r, N_STEPS, N_STEPS + M_STEPS, WARMUP);
    path_in(p, sizeof p, dir, "agent-child.ckpt");
    if (mfpo_agent_save(ag, p) != MFPO_OK) return 3;
    path_in(p, sizeof p, dir, "replay-child.ckpt");
    if (mfpo_replay_save(r, p) != MFPO_OK) return 3;
    path_in(p, sizeof p, dir, "params-child.bin");
    dump_params(ag, p);
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}

static void assert_same_file(const char *dir, const char *a, const char *b)
{
    char pa[4096], pb[4096];
    size_t la, lb;
    path_in(pa, sizeof pa, dir, a);
    path_in(pb, sizeof pb, dir, b);
    unsigned char *x = ckf_read(pa, &la), *y = ckf_read(pb, &lb);
    if (!x || !y) fail_msg("cannot read %s or %s", pa, pb);
    if (la != lb || memcmp(x, y, la) != 0) fail_msg("%s and %s differ (%zu and %zu bytes)", a, b, la, lb);
    free(x);
    free(y);
}

static void resume_in_new_process(void **state)
{
    (void)state;
    char dir[512], p[4096];
    rel_tmpdir(dir, sizeof dir, "resume-test");
    mfpo_agent_config c = resume_config();
    mfpo_context *ctx = cpu_context(2024, NULL);
    mfpo_agent *ag = rel_agent(ctx, &c);
    mfpo_replay *r = rel_replay(ctx, CAPACITY);

    /* N steps, checkpoint, M more: the uninterrupted reference (saving draws nothing) */
    rel_train(ag, r, 0, N_STEPS, WARMUP);
    path_in(p, sizeof p, dir, "agent-N.ckpt");
    assert_status(mfpo_agent_save(ag, p), MFPO_OK, ctx);
    path_in(p, sizeof p, dir, "replay-N.ckpt");
    assert_status(mfpo_replay_save(r, p), MFPO_OK, ctx);
    rel_train(ag, r, N_STEPS, N_STEPS + M_STEPS, WARMUP);
    assert_true(mfpo_agent_update_count(ag) == N_STEPS + M_STEPS - (WARMUP - 1));
    path_in(p, sizeof p, dir, "agent-ref.ckpt");
    assert_status(mfpo_agent_save(ag, p), MFPO_OK, ctx);
    path_in(p, sizeof p, dir, "replay-ref.ckpt");
    assert_status(mfpo_replay_save(r, p), MFPO_OK, ctx);
    path_in(p, sizeof p, dir, "params-ref.bin");
    dump_params(ag, p);

    /* the resumed run, in a new process */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self_path, self_path, "--resume", dir, (char *)NULL);
        perror("execl");
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("the resumed process failed (status 0x%x)", status);

    /* public parameters, both checkpoints, and the whole state through a load */
    assert_same_file(dir, "params-ref.bin", "params-child.bin");
    assert_same_file(dir, "agent-ref.ckpt", "agent-child.ckpt");
    assert_same_file(dir, "replay-ref.ckpt", "replay-child.ckpt");
    mfpo_context *ctx2 = cpu_context(1, NULL);
    mfpo_agent *other = rel_agent(ctx2, &c);
    path_in(p, sizeof p, dir, "agent-child.ckpt");
    assert_status(mfpo_agent_load(other, p), MFPO_OK, ctx2);
    rel_snapshot want = rel_take(ag), got = rel_take(other);
    rel_assert_same(&want, &got, "resumed run vs uninterrupted run");
    printf("resume: %d + %d steps (%llu updates, %llu actor steps, stream at %llu): state of %zu floats equal bit "
           "for bit\n",
           N_STEPS, M_STEPS, (unsigned long long)want.counters[0], (unsigned long long)want.counters[2],
           (unsigned long long)want.counters[4], want.n);
    rel_free(&want);
    rel_free(&got);

    mfpo_agent_destroy(other);
    mfpo_context_destroy(ctx2);
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    rel_rmdir(dir);
}

int main(int argc, char **argv)
{
    unsetenv("MFPO_BACKEND");
    if (argc == 3 && !strcmp(argv[1], "--resume")) return resume_child(argv[2]);
    /* re-executing ourselves: argv[0] as meson gives it (a path), else /proc/self/exe */
    static char exe[4096];
    if (strchr(argv[0], '/')) {
        self_path = argv[0];
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return 1;
        exe[n] = '\0';
        self_path = exe;
    }
    const struct CMUnitTest tests[] = { cmocka_unit_test(resume_in_new_process) };
    return cmocka_run_group_tests_name("reliability_resume", tests, NULL, NULL);
}
