/*
 * Fuzz target: the checkpoint loaders (mfpo_agent_load, mfpo_replay_load) fed arbitrary bytes
 * through a temporary file.
 *
 * Input: byte 0 selects the loader (bit 0: 0 agent, 1 replay buffer) and whether the harness first
 * recomputes every CRC of the container (bit 1), so that mutated files also reach the semantic
 * checks behind the CRCs; the remaining bytes are the file. Invariants:
 *   - the load returns MFPO_OK or MFPO_ERR_FORMAT (the file exists and is readable), and a
 *     refusal comes with a message naming the file;
 *   - a refused load leaves the agent (whole state vector, counters, the context's seed and
 *     stream) or the buffer (rings, size, position) exactly as they were;
 *   - a successful load leaves a consistent object: a finite state, size <= capacity, finite
 *     transitions and 0/1 terminal flags.
 *
 * With MFPO_FUZZ_WRITE_SEEDS=<dir> in the environment, initialization writes valid checkpoints of
 * the harness's agent and buffer there as seed inputs (tests/fuzz/corpus/checkpoint/).
 */
#include <math.h>
#include <unistd.h>

#include "fuzz_common.h"

#include "../reliability/ckpt_file.h"
#include "algo/update.h"
#include "algo/replay.h"

static mfpo_context *ctx;
static fuzz_alloc alloc;
static mfpo_agent *agent;
static mfpo_replay *replay;
static char path[4096];
static float *state_before, *state_after;
static unsigned char *rings_before;
static size_t rings_bytes;

enum { S = 3, A = 2, CAPACITY = 6 };

static void rings_copy(unsigned char *out, size_t *size, size_t *next)
{
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    size_t o = CAPACITY * S * 4, a = CAPACITY * A * 4, c = CAPACITY * 4;
    memcpy(out, v.obs, o);
    memcpy(out + o, v.next_obs, o);
    memcpy(out + 2 * o, v.act, a);
    memcpy(out + 2 * o + a, v.reward, c);
    memcpy(out + 2 * o + a + c, v.terminated, c);
    *size = v.size;
    *next = v.next;
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const char *src)
{
    size_t len;
    unsigned char *b = ckf_read(src, &len);
    if (!b) fuzz_violation("cannot read %s", src);
    unsigned char *seed = malloc(len + 1);
    seed[0] = mode;
    memcpy(seed + 1, b, len);
    char out[4200];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    if (ckf_write(out, seed, len + 1) != 0) fuzz_violation("cannot write %s", out);
    free(seed);
    free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("MFPO_MODULE_PATH", "/nonexistent/mfpo-fuzz", 1);
    unsetenv("MFPO_BACKEND");
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 3;
    static mfpo_allocator iface;
    iface.alloc = fuzz_alloc_tracked;
    iface.free = fuzz_free_tracked;
    iface.user = &alloc;
    o.allocator = &iface;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) fuzz_violation("context: %s", mfpo_last_error(NULL));
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    c.hidden_width = 4;
    c.hidden_depth = 1;
    c.policy_samples = 2;
    c.gaussian_samples = 2;
    c.hutchinson_probes = 1;
    c.atoms = 3;
    c.batch_size = 2;
    c.fourier_features = 2;
    c.time_embed_dim = 2;
    c.eval_candidates = 2;
    if (mfpo_agent_create(ctx, &c, &agent) != MFPO_OK) fuzz_violation("agent: %s", mfpo_last_error(ctx));
    if (mfpo_replay_create(ctx, S, A, CAPACITY, &replay) != MFPO_OK) fuzz_violation("replay: %s", mfpo_last_error(ctx));
    {
        algo_replay_view v;
        algo_replay_raw(replay, &v);
        memset(v.obs, 0, CAPACITY * S * 4);
        memset(v.next_obs, 0, CAPACITY * S * 4);
        memset(v.act, 0, CAPACITY * A * 4);
        memset(v.reward, 0, CAPACITY * 4);
        memset(v.terminated, 0, CAPACITY * 4);
    }
    for (int t = 0; t < 8; t++) { /* wraps: size 6, next 2 */
        float obs[S] = { 0.1f * (float)t, -0.2f, 0.3f }, act[A] = { 0.5f, -0.25f * (float)(t % 3) },
              next[S] = { 0, 1, 2 };
        if (mfpo_replay_add(replay, obs, act, (float)t - 3.0f, next, t % 3 == 2) != MFPO_OK) fuzz_violation("add");
    }
    if (mfpo_update(agent, replay, NULL) != MFPO_OK) fuzz_violation("update: %s", mfpo_last_error(ctx));
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/mfpo-fuzz-ckpt-%ld.bin", dir && dir[0] ? dir : "/tmp", (long)getpid());
    state_before = malloc(agent->off.total * sizeof(float));
    state_after = malloc(agent->off.total * sizeof(float));
    rings_bytes = CAPACITY * (2 * S + A + 2) * 4;
    rings_before = malloc(rings_bytes);

    const char *seeds = getenv("MFPO_FUZZ_WRITE_SEEDS");
    if (seeds && seeds[0]) {
        if (mfpo_agent_save(agent, path) != MFPO_OK) fuzz_violation("%s", mfpo_last_error(ctx));
        write_seed(seeds, "agent-valid", 0, path);
        write_seed(seeds, "agent-valid-fixcrc", 2, path);
        if (mfpo_replay_save(replay, path) != MFPO_OK) fuzz_violation("%s", mfpo_last_error(ctx));
        write_seed(seeds, "replay-valid", 1, path);
        write_seed(seeds, "replay-valid-fixcrc", 3, path);
        unlink(path);
    }
    return 0;
}

static void check_agent(mfpo_status s)
{
    be_backend *be = ctx->be;
    if (s == MFPO_OK) {
        if (!be->ops->all_finite(be, agent->state, agent->off.total)) fuzz_violation("a loaded state is not finite");
        if (agent->actor_steps > agent->critic_steps) fuzz_violation("loaded actor_steps > critic_steps");
        return;
    }
    be->ops->download(be, state_after, agent->state, agent->off.total * sizeof(float));
    if (memcmp(state_before, state_after, agent->off.total * sizeof(float)) != 0)
        fuzz_violation("a refused agent load changed the state (%s)", mfpo_last_error(ctx));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t mode = data[0];
    size_t len = size - 1;
    unsigned char *file = malloc(len + 1);
    memcpy(file, data + 1, len);
    if (mode & 2) ckf_fix_crcs(file, len);
    if (ckf_write(path, file, len) != 0) fuzz_violation("cannot write %s", path);
    free(file);

    core_clear_error(ctx);
    mfpo_status s;
    if (!(mode & 1)) {
        be_backend *be = ctx->be;
        be->ops->download(be, state_before, agent->state, agent->off.total * sizeof(float));
        uint64_t counters[5] = { agent->updates, agent->critic_steps, agent->actor_steps, ctx->seed, ctx->stream };
        s = mfpo_agent_load(agent, path);
        fz_check("mfpo_agent_load", s, ctx);
        if (s != MFPO_OK && s != MFPO_ERR_FORMAT)
            fuzz_violation("mfpo_agent_load returned %s: %s", mfpo_status_string(s), mfpo_last_error(ctx));
        check_agent(s);
        uint64_t now[5] = { agent->updates, agent->critic_steps, agent->actor_steps, ctx->seed, ctx->stream };
        if (s != MFPO_OK && memcmp(counters, now, sizeof now) != 0) fuzz_violation("a refused load changed a counter");
    } else {
        size_t size0, next0, size1, next1;
        rings_copy(rings_before, &size0, &next0);
        s = mfpo_replay_load(replay, path);
        fz_check("mfpo_replay_load", s, ctx);
        if (s != MFPO_OK && s != MFPO_ERR_FORMAT)
            fuzz_violation("mfpo_replay_load returned %s: %s", mfpo_status_string(s), mfpo_last_error(ctx));
        unsigned char *after = malloc(rings_bytes);
        rings_copy(after, &size1, &next1);
        if (s != MFPO_OK && (size0 != size1 || next0 != next1 || memcmp(after, rings_before, rings_bytes) != 0))
            fuzz_violation("a refused replay load changed the buffer (%s)", mfpo_last_error(ctx));
        if (s == MFPO_OK) {
            algo_replay_view v;
            algo_replay_raw(replay, &v);
            if (v.size > v.capacity || v.next >= v.capacity) fuzz_violation("loaded an inconsistent position");
            for (size_t j = 0; j < v.size; j++)
                if (!isfinite(v.reward[j]) || (v.terminated[j] != 0.0f && v.terminated[j] != 1.0f))
                    fuzz_violation("loaded a bad transition");
        }
        free(after);
    }
    if (s == MFPO_ERR_FORMAT && !strstr(mfpo_last_error(ctx), path))
        fuzz_violation("the message does not name the file: %s", mfpo_last_error(ctx));
    return 0;
}
