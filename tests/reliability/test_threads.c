/*
 * Distinct contexts are independent (docs/threads.md): two agents, each with its own context and
 * replay buffer, trained concurrently in two pthreads, end bit for bit where the same two end when
 * trained one after the other on the main thread. A second round gives both threads the same seed,
 * so that their results must also equal each other.
 *
 * Contexts are created on the main thread before the workers start, as docs/threads.md advises:
 * creating a CPU context sets OpenBLAS's process-wide thread count. Every context uses 1 thread.
 */
#include <pthread.h>

#include "rel_common.h"

enum { UPDATES = 6, ACTS = 3 };

typedef struct job {
    uint64_t seed;
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *r;
    pthread_barrier_t *start;
    mfpo_status status;
    char error[512];
} job;

static void job_create(job *j, uint64_t seed)
{
    mfpo_agent_config c = rel_config();
    c.actor_delay = 2;
    j->seed = seed;
    j->ctx = cpu_context(seed, NULL);
    j->ag = rel_agent(j->ctx, &c);
    j->r = rel_replay(j->ctx, 64);
    j->start = NULL;
    j->status = MFPO_OK;
    j->error[0] = '\0';
}

/* The work of one thread: interleaved acting, storing and updating, no cmocka calls. */
static void *job_run(void *arg)
{
    job *j = arg;
    float obs[REL_S], next[REL_S], act[REL_A];
    if (j->start) pthread_barrier_wait(j->start);
    for (uint64_t t = 0; t < 24 && j->status == MFPO_OK; t++) {
        rel_obs(t + j->seed, obs);
        rel_obs(t + 1 + j->seed, next);
        j->status = mfpo_agent_act(j->ag, obs, 1, act);
        if (j->status == MFPO_OK) j->status = mfpo_replay_add(j->r, obs, act, obs[0] - act[0], next, 0);
    }
    for (int i = 0; i < UPDATES && j->status == MFPO_OK; i++) {
        j->status = mfpo_update(j->ag, j->r, NULL);
        if (j->status == MFPO_OK && i % 2 == 0) {
            float a[ACTS * REL_A], o[ACTS * REL_S] = { 0 };
            j->status = mfpo_agent_select_action(j->ag, o, ACTS, a);
        }
    }
    if (j->status != MFPO_OK) snprintf(j->error, sizeof j->error, "%s", mfpo_last_error(j->ctx));
    return NULL;
}

static void job_destroy(job *j)
{
    mfpo_replay_destroy(j->r);
    mfpo_agent_destroy(j->ag);
    mfpo_context_destroy(j->ctx);
}

static void check_ok(const job *j)
{
    if (j->status != MFPO_OK) fail_msg("seed %llu: %s", (unsigned long long)j->seed, j->error);
}

static void run_pair(uint64_t seed1, uint64_t seed2)
{
    job par[2], seq[2];
    pthread_barrier_t start;
    pthread_t th[2];
    pthread_barrier_init(&start, NULL, 2);
    job_create(&par[0], seed1);
    job_create(&par[1], seed2);
    for (int k = 0; k < 2; k++) {
        par[k].start = &start;
        assert_int_equal(pthread_create(&th[k], NULL, job_run, &par[k]), 0);
    }
    for (int k = 0; k < 2; k++) assert_int_equal(pthread_join(th[k], NULL), 0);
    pthread_barrier_destroy(&start);

    for (int k = 0; k < 2; k++) {
        job_create(&seq[k], k == 0 ? seed1 : seed2);
        job_run(&seq[k]);
    }
    for (int k = 0; k < 2; k++) {
        check_ok(&par[k]);
        check_ok(&seq[k]);
        rel_snapshot a = rel_take(par[k].ag), b = rel_take(seq[k].ag);
        rel_assert_same(&a, &b, k == 0 ? "agent 1, threaded vs sequential" : "agent 2, threaded vs sequential");
        rel_params pa = rel_get_params(par[k].ag), pb = rel_get_params(seq[k].ag);
        rel_assert_same_params(&pa, &pb, "public parameters, threaded vs sequential");
        assert_true(a.counters[0] == UPDATES);
        rel_free(&a);
        rel_free(&b);
        rel_params_free(&pa);
        rel_params_free(&pb);
    }
    if (seed1 == seed2) {
        rel_snapshot a = rel_take(par[0].ag), b = rel_take(par[1].ag);
        rel_assert_same(&a, &b, "two threads with the same seed");
        rel_free(&a);
        rel_free(&b);
    }
    for (int k = 0; k < 2; k++) {
        job_destroy(&par[k]);
        job_destroy(&seq[k]);
    }
}

static void two_threads_distinct_seeds(void **state)
{
    (void)state;
    run_pair(11, 22);
}

static void two_threads_same_seed(void **state)
{
    (void)state;
    run_pair(7, 7);
}

int main(void)
{
    unsetenv("MFPO_BACKEND");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_threads_distinct_seeds),
        cmocka_unit_test(two_threads_same_seed),
    };
    return cmocka_run_group_tests_name("reliability_threads", tests, NULL, NULL);
}
