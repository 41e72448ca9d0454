/*
 * The recording protocol of mfpo_update() (lib/algo/driver.c, run_update) on any machine: a CPU
 * context whose backend is wrapped by the recording test backend (record_backend.h, which behaves
 * like CUDA stream capture) must give bit-identical statistics and state to a plain CPU context,
 * update after update, while
 *   - the first update of each kind (critic only / full; actor_delay 2 alternates them) runs
 *     directly, the second is recorded and launched, later ones are replays: 2 recordings;
 *   - acting and selection between updates (which upload fresh random keys) change nothing;
 *   - a recording that fails (as when a transfer slips into the recorded ops) makes the agent run
 *     its updates directly from then on, with the same results;
 *   - with the stage hook set nothing is recorded.
 * Since a replay reuses every argument of the recorded ops, any value that changes between
 * updates but is not read from backend memory (a host-side step count, a random offset) would
 * make the runs differ here, and on a GPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#include "algo/update.h"
#include "core/ctx.h"
#include "record_backend.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

typedef struct run {
    mfpo_context *ctx;
    mfpo_agent *ag;
    mfpo_replay *rb;
    rec_backend *rec; /* NULL for the plain CPU run */
} run;

static void must(mfpo_status s, const char *what, mfpo_context *ctx)
{
    if (s != MFPO_OK) {
        fprintf(stderr, "%s: %s\n", what, mfpo_last_error(ctx));
        exit(1);
    }
}

static void open_run(run *r, int recording)
{
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.seed = 99;
    o.threads = 1;
    memset(r, 0, sizeof *r);
    must(mfpo_context_create(&o, &r->ctx), "mfpo_context_create", NULL);
    if (recording) {
        r->rec = rec_wrap(r->ctx->be);
        if (!r->rec) exit(1);
        r->ctx->be = &r->rec->base; /* the context destroys the wrapper, which destroys the CPU backend */
    }
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, 5, 2);
    c.hidden_width = 32;
    c.batch_size = 32;
    c.actor_delay = 2;
    must(mfpo_agent_create(r->ctx, &c, &r->ag), "mfpo_agent_create", r->ctx);
    must(mfpo_replay_create(r->ctx, 5, 2, 256, &r->rb), "mfpo_replay_create", r->ctx);
    float obs[5], act[2], next[5];
    for (int i = 0; i < 200; i++) {
        for (int j = 0; j < 5; j++) obs[j] = (float)((i * 7 + j * 3) % 11) * 0.2f - 1.0f;
        for (int j = 0; j < 5; j++) next[j] = obs[j] * 0.9f;
        act[0] = (float)(i % 9) * 0.2f - 0.8f;
        act[1] = (float)(i % 5) * 0.4f - 0.8f;
        must(mfpo_replay_add(r->rb, obs, act, (float)(i % 13) * 0.1f, next, i % 50 == 49), "mfpo_replay_add", r->ctx);
    }
}

static void close_run(run *r)
{
    mfpo_replay_destroy(r->rb);
    mfpo_agent_destroy(r->ag);
    mfpo_context_destroy(r->ctx);
}

static float *state(run *r)
{
    be_backend *be = r->ctx->be;
    float *s = malloc(r->ag->off.total * sizeof(float));
    if (!s) exit(1);
    be->ops->download(be, s, r->ag->state, r->ag->off.total * sizeof(float));
    return s;
}

/* n updates on both, acting and selecting in between; everything must be bit-identical. */
static void lockstep(run *a, run *b, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        mfpo_update_stats sa, sb;
        memset(&sa, 0, sizeof sa);
        memset(&sb, 0, sizeof sb);
        sa.struct_size = sb.struct_size = sizeof sa;
        must(mfpo_update(a->ag, a->rb, &sa), "mfpo_update", a->ctx);
        must(mfpo_update(b->ag, b->rb, &sb), "mfpo_update", b->ctx);
        CHECK(!memcmp(&sa, &sb, sizeof sa),
              "%s: update %d: statistics differ (critic %.9g vs %.9g, actor %.9g vs %.9g)", what, i + 1,
              (double)sa.critic_loss, (double)sb.critic_loss, (double)sa.actor_loss, (double)sb.actor_loss);
        if (i % 3 == 1) {
            float obs[10] = { 0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.1f, 0.0f, 0.3f, 0.2f, -0.6f }, xa[4], xb[4];
            must(mfpo_agent_act(a->ag, obs, 2, xa), "mfpo_agent_act", a->ctx);
            must(mfpo_agent_act(b->ag, obs, 2, xb), "mfpo_agent_act", b->ctx);
            CHECK(!memcmp(xa, xb, sizeof xa), "%s: act after update %d differs", what, i + 1);
            must(mfpo_agent_select_action(a->ag, obs, 2, xa), "mfpo_agent_select_action", a->ctx);
            must(mfpo_agent_select_action(b->ag, obs, 2, xb), "mfpo_agent_select_action", b->ctx);
            CHECK(!memcmp(xa, xb, sizeof xa), "%s: select_action after update %d differs", what, i + 1);
        }
    }
    float *x = state(a), *y = state(b);
    size_t diff = 0;
    for (size_t i = 0; i < a->ag->off.total; i++) diff += memcmp(&x[i], &y[i], sizeof(float)) != 0;
    CHECK(diff == 0, "%s: %zu of %zu state values differ after %d updates", what, diff, a->ag->off.total, n);
    free(x);
    free(y);
}

static void stage_hook(void *user, int stage, const struct algo_update_ws *ws)
{
    (void)stage, (void)ws;
    ++*(int *)user;
}

int main(void)
{
    run ref, rec;
    unsetenv("MFPO_BACKEND");

    /* recorded and replayed updates */
    open_run(&ref, 0);
    open_run(&rec, 1);
    lockstep(&ref, &rec, 12, "replay");
    printf("replay: %d recordings of %zu ops in all, %d launches\n", rec.rec->recordings, rec.rec->recorded_ops,
           rec.rec->launches);
    CHECK(rec.rec->recordings == 2, "expected 2 recordings (critic-only and full update), got %d", rec.rec->recordings);
    CHECK(rec.rec->launches == 10, "expected 10 launches (updates 3..12), got %d", rec.rec->launches);
    CHECK(rec.rec->failed_ends == 0, "%d recordings failed (a transfer or allocation inside the update's ops?)",
          rec.rec->failed_ends);
    CHECK(rec.rec->recorded_ops > 100, "only %zu ops recorded", rec.rec->recorded_ops);
    CHECK(rec.rec->live_graphs == 2, "%d graphs alive", rec.rec->live_graphs);
    /* a refused update (non-finite guard) does not disturb the recordings: not exercised here */
    rec_backend *keep = rec.rec;
    close_run(&ref);
    close_run(&rec);
    (void)keep; /* freed with the context; the agent destroyed its graphs first (checked by ASan/valgrind) */

    /* a failed recording: the agent runs its updates directly from then on, with the same results */
    open_run(&ref, 0);
    open_run(&rec, 1);
    rec.rec->fail_next_end = 1;
    lockstep(&ref, &rec, 8, "failed recording");
    CHECK(rec.rec->failed_ends == 1 && rec.rec->recordings == 0 && rec.rec->launches == 0,
          "after a failed recording: %d failed, %d recorded, %d launched (expected 1, 0, 0)", rec.rec->failed_ends,
          rec.rec->recordings, rec.rec->launches);
    close_run(&ref);
    close_run(&rec);

    /* with the stage hook set, nothing is recorded */
    open_run(&ref, 0);
    open_run(&rec, 1);
    int calls = 0;
    rec.ag->hook = stage_hook;
    rec.ag->hook_user = &calls;
    lockstep(&ref, &rec, 6, "hook");
    CHECK(rec.rec->recordings == 0 && rec.rec->launches == 0, "hook set: %d recordings, %d launches",
          rec.rec->recordings, rec.rec->launches);
    CHECK(calls == 6 * 2 + 3 * 3, "hook called %d times, expected %d", calls,
          6 * 2 + 3 * 3); /* stages 0, 1 always; 2-4 on full updates */
    close_run(&ref);
    close_run(&rec);

    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
