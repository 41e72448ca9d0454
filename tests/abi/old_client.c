/*
 * An "old" client: compiled against the headers of v0.1.0 (a verbatim copy under
 * tests/abi/v0.1.0/include/, never edited) and run against the library of this build. It uses
 * every option struct with the struct_size its headers give, inside a larger buffer whose tail is
 * a canary, and checks that the library
 *   - accepts the old sizes (and the smallest size each struct documents),
 *   - never writes past the old struct (the *_init functions, mfpo_agent_get_config, the update
 *     statistics), and never reports a struct_size larger than the old one to a caller,
 *   - hands the progress callback a report at least as large as the old struct,
 *   - keeps the numeric values of the old enumerations (status codes, backend kinds),
 * while a short training run with save and load goes through. When an option struct grows in a
 * later version, this is the test that proves old binaries still work (docs/abi.md).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mfpo.h>

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "old_client: %s:%d: ", __FILE__, __LINE__);                                                \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

#define CANARY 0xA5
#define TAIL 128

/* An old struct followed by a canary tail: the library must not touch the tail. */
#define PADDED(type)                                                                                                   \
    struct {                                                                                                           \
        type s;                                                                                                        \
        unsigned char tail[TAIL];                                                                                      \
    }

static int tail_intact(const unsigned char *tail)
{
    for (int i = 0; i < TAIL; i++)
        if (tail[i] != CANARY) return 0;
    return 1;
}

/* ------------------------------------------------------------------ a tiny environment */

typedef struct toy {
    float x, v;
    int t;
} toy;

static mfpo_status toy_reset(void *user, uint64_t seed, float *obs)
{
    toy *e = user;
    e->x = 0.1f * (float)(seed % 5);
    e->v = 0.0f;
    e->t = 0;
    obs[0] = e->x;
    obs[1] = e->v;
    return MFPO_OK;
}

static mfpo_status toy_step(void *user, const float *action, float *obs, float *reward, int *terminated, int *truncated)
{
    toy *e = user;
    e->v += 0.1f * action[0];
    e->x += 0.1f * e->v;
    e->t++;
    obs[0] = e->x;
    obs[1] = e->v;
    *reward = -e->x * e->x;
    *terminated = e->x > 3.0f || e->x < -3.0f;
    *truncated = 0;
    return MFPO_OK;
}

static int progress_reports;

static int on_progress(void *user, const mfpo_progress *p)
{
    (void)user;
    progress_reports++;
    CHECK(p->struct_size >= sizeof(mfpo_progress), "progress report of %zu bytes, the old struct has %zu",
          p->struct_size, sizeof(mfpo_progress));
    CHECK(p->stats.struct_size >= sizeof(mfpo_update_stats) || p->stats.struct_size == 0, "progress stats of %zu bytes",
          p->stats.struct_size);
    return 0;
}

int main(void)
{
    /* ---- version and enumerations ---- */
    CHECK(mfpo_version_number() / 10000 == MFPO_VERSION_MAJOR, "library major %u, headers %d",
          mfpo_version_number() / 10000, MFPO_VERSION_MAJOR);
    CHECK(mfpo_version_number() >= MFPO_VERSION_NUMBER, "library %u older than the headers %d", mfpo_version_number(),
          MFPO_VERSION_NUMBER);
    CHECK(strstr(mfpo_status_string(MFPO_ERR_FORMAT), "format") != NULL, "status 6 is no longer the format error");
    CHECK(strstr(mfpo_status_string(MFPO_ERR_IO), "output") != NULL, "status 5 is no longer the I/O error");
    CHECK(strstr(mfpo_status_string(MFPO_ERR_NON_FINITE), "finite") != NULL, "status 4 is no longer non-finite");

    /* ---- context options ---- */
    PADDED(mfpo_context_options) po;
    memset(&po, CANARY, sizeof po);
    mfpo_context_options_init(&po.s);
    CHECK(tail_intact(po.tail), "mfpo_context_options_init wrote past the old struct (%zu bytes)", sizeof po.s);
    CHECK(po.s.struct_size == sizeof po.s, "mfpo_context_options_init set struct_size %zu, the old struct has %zu",
          po.s.struct_size, sizeof po.s);
    po.s.backend = MFPO_BACKEND_CPU;
    po.s.threads = 1;
    po.s.seed = 11;
    mfpo_context *ctx = NULL;
    mfpo_status s = mfpo_context_create(&po.s, &ctx);
    CHECK(s == MFPO_OK, "context with the old options: %s", mfpo_last_error(NULL));
    if (!ctx) return 1;
    CHECK(mfpo_context_backend(ctx) == MFPO_BACKEND_CPU, "backend kind %d", (int)mfpo_context_backend(ctx));
    {
        mfpo_context_options smallest = po.s;
        mfpo_context *c2 = NULL;
        smallest.struct_size = offsetof(mfpo_context_options, device) + sizeof(int);
        CHECK(mfpo_context_create(&smallest, &c2) == MFPO_OK, "smallest context options refused: %s",
              mfpo_last_error(NULL));
        mfpo_context_destroy(c2);
    }

    /* ---- agent configuration ---- */
    PADDED(mfpo_agent_config) pc;
    memset(&pc, CANARY, sizeof pc);
    mfpo_agent_config_init(&pc.s, 2, 1);
    CHECK(tail_intact(pc.tail), "mfpo_agent_config_init wrote past the old struct");
    CHECK(pc.s.struct_size == sizeof pc.s, "config struct_size %zu, old %zu", pc.s.struct_size, sizeof pc.s);
    pc.s.hidden_width = 16;
    pc.s.hidden_depth = 1;
    pc.s.batch_size = 16;
    pc.s.policy_samples = 4;
    pc.s.gaussian_samples = 4;
    pc.s.atoms = 11;
    pc.s.v_min = -50.0f;
    pc.s.v_max = 50.0f;
    pc.s.fourier_features = 8;
    pc.s.time_embed_dim = 8;
    pc.s.eval_candidates = 4;
    mfpo_agent *ag = NULL;
    s = mfpo_agent_create(ctx, &pc.s, &ag);
    CHECK(s == MFPO_OK, "agent with the old config: %s", mfpo_last_error(ctx));
    if (!ag) return 1;
    {
        mfpo_agent_config smallest = pc.s;
        mfpo_agent *a2 = NULL;
        smallest.struct_size = offsetof(mfpo_agent_config, adam_eps) + sizeof(float);
        CHECK(mfpo_agent_create(ctx, &smallest, &a2) == MFPO_OK, "smallest config refused: %s", mfpo_last_error(ctx));
        mfpo_agent_destroy(a2);
    }
    PADDED(mfpo_agent_config) got;
    memset(&got, CANARY, sizeof got);
    got.s.struct_size = sizeof got.s;
    CHECK(mfpo_agent_get_config(ag, &got.s) == MFPO_OK, "get_config: %s", mfpo_last_error(ctx));
    CHECK(tail_intact(got.tail), "mfpo_agent_get_config wrote past the old struct");
    CHECK(got.s.struct_size <= sizeof got.s, "get_config reported struct_size %zu > %zu", got.s.struct_size,
          sizeof got.s);
    CHECK(got.s.hidden_width == 16 && got.s.adam_eps == pc.s.adam_eps, "get_config returned other values");

    /* ---- replay, updates and their statistics ---- */
    mfpo_replay *r = NULL;
    CHECK(mfpo_replay_create(ctx, 2, 1, 256, &r) == MFPO_OK, "replay: %s", mfpo_last_error(ctx));
    if (!r) return 1;
    for (int i = 0; i < 40; i++) {
        float obs[2] = { 0.05f * (float)i, -0.02f * (float)i }, act[1] = { (float)(i % 7) / 7.0f - 0.5f };
        float next[2] = { obs[0] + 0.01f, obs[1] };
        CHECK(mfpo_replay_add(r, obs, act, -obs[0] * obs[0], next, i % 13 == 12) == MFPO_OK, "add");
    }
    PADDED(mfpo_update_stats) ps;
    memset(&ps, CANARY, sizeof ps);
    ps.s.struct_size = sizeof ps.s;
    CHECK(mfpo_update(ag, r, &ps.s) == MFPO_OK, "update: %s", mfpo_last_error(ctx));
    CHECK(tail_intact(ps.tail), "mfpo_update wrote statistics past the old struct");
    CHECK(ps.s.struct_size <= sizeof ps.s, "stats struct_size %zu", ps.s.struct_size);
    CHECK(ps.s.alpha > 0.0f, "alpha %g", (double)ps.s.alpha);

    /* ---- environment and training options ---- */
    toy state;
    PADDED(mfpo_env) pe;
    memset(&pe, CANARY, sizeof pe);
    mfpo_env_init(&pe.s);
    CHECK(tail_intact(pe.tail), "mfpo_env_init wrote past the old struct");
    CHECK(pe.s.struct_size == sizeof pe.s, "env struct_size %zu", pe.s.struct_size);
    pe.s.obs_dim = 2;
    pe.s.act_dim = 1;
    pe.s.user = &state;
    pe.s.reset = toy_reset;
    pe.s.step = toy_step;
    PADDED(mfpo_train_options) pt;
    memset(&pt, CANARY, sizeof pt);
    mfpo_train_options_init(&pt.s);
    CHECK(tail_intact(pt.tail), "mfpo_train_options_init wrote past the old struct");
    CHECK(pt.s.struct_size == sizeof pt.s, "train options struct_size %zu", pt.s.struct_size);
    pt.s.total_steps = 40;
    pt.s.warmup_steps = 20;
    pt.s.eval_every = 0;
    pt.s.episode_limit = 15;
    pt.s.progress = on_progress;
    pt.s.progress_every = 10;
    s = mfpo_train(ag, r, &pe.s, &pt.s);
    CHECK(s == MFPO_OK, "train with the old structs: %s", mfpo_last_error(ctx));
    CHECK(progress_reports > 0, "no progress report");
    double mean = 0.0;
    CHECK(mfpo_evaluate(ag, &pe.s, 1, 10, 5, &mean) == MFPO_OK, "evaluate: %s", mfpo_last_error(ctx));

    /* ---- checkpoints, and an old status value returned ---- */
    char path[64];
    snprintf(path, sizeof path, "abi-old-client-%ld.ckpt", (long)getpid());
    CHECK(mfpo_agent_save(ag, path) == MFPO_OK, "save: %s", mfpo_last_error(ctx));
    CHECK(mfpo_agent_load(ag, path) == MFPO_OK, "load: %s", mfpo_last_error(ctx));
    CHECK(mfpo_replay_load(r, path) == MFPO_ERR_FORMAT, "a replay load of an agent file is not MFPO_ERR_FORMAT (6)");
    remove(path);
    CHECK(mfpo_update(NULL, r, NULL) == MFPO_ERR_INVALID_ARGUMENT, "NULL agent is not MFPO_ERR_INVALID_ARGUMENT (1)");

    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    printf("old_client (v%s headers, library %s): %s\n", MFPO_VERSION_STRING, mfpo_version_string(),
           failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
