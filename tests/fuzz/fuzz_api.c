/*
 * Fuzz target: a sequence of public API calls with hostile arguments, decoded from the input.
 *
 * Each input byte string is read as up to 48 operations on a small world of handles (two context
 * slots, two agents, two replay buffers, a standalone policy, divergence net and critics): NULL
 * handles and pointers, zero and huge sizes, NaN and infinite values, handles of another context
 * or of other dimensions, wrong struct_size values, environments whose callbacks fail or return
 * NaN, allocation failures injected through the context's allocator. It must never crash, leak or
 * hit undefined behaviour, and every call that fails must leave a non-empty mfpo_last_error() on
 * its handle's context (or on the thread, when the handle itself was NULL).
 *
 * The harness respects the API's own contract: it never passes a destroyed handle, destroys
 * handles before their context, and gives every buffer the size the call documents for the
 * arguments it passes (a hostile row count is used only where the library must refuse it before
 * touching the buffers). Every context uses a capped allocator (fuzz_common.h), so that valid but
 * enormous configurations fail with MFPO_ERR_OUT_OF_MEMORY instead of exhausting the fuzzer.
 */
/* This file drives mfpo_policy_transport() (include/mfpo/experimental.h). */
#define MFPO_EXPERIMENTAL
#include <unistd.h>

#include "fuzz_common.h"

#include "algo/update.h"
#include "algo/replay.h"

#define MAX_OPS 48

typedef struct world {
    mfpo_context *ctx[2];
    fuzz_alloc alloc[2];
    mfpo_allocator iface[2];
    mfpo_agent *ag[2];
    int ag_ctx[2];
    mfpo_replay *rp[2];
    int rp_ctx[2];
    mfpo_policy *pol;
    mfpo_divergence *div;
    mfpo_critic *crit;
    int pol_ctx, div_ctx, crit_ctx;
} world;

static char tmp_path[4096];

/* ------------------------------------------------------------------ buffers */

/* count floats (NULL when absurdly many), a smooth pattern with an optional hostile value. */
static float *fz_floats(fuzz_in *in, size_t count, int allow_hostile)
{
    if (count == 0) count = 1;
    if (count > ((size_t)1 << 22)) return NULL;
    float *x = malloc(count * sizeof(float));
    if (!x) return NULL;
    float scale = 0.1f * (float)(1 + fz_pick(in, 10));
    for (size_t i = 0; i < count; i++) x[i] = scale * sinf(0.37f * (float)i + scale);
    if (allow_hostile && fz_pick(in, 4) == 0) {
        size_t at = fz_u32(in) % count;
        x[at] = fz_float(in);
    }
    return x;
}

/* Rows for calls limited to 2^20 or 2^24 rows: small counts, or counts they must refuse. */
static size_t fz_rows(fuzz_in *in, int *huge)
{
    static const size_t table[] = { 0, 1, 2, 3, 8, ((size_t)1 << 24) + 1, SIZE_MAX / 3, SIZE_MAX };
    unsigned k = fz_pick(in, sizeof table / sizeof table[0]);
    *huge = k >= 5;
    return table[k];
}

/* Rows for calls limited only by size_t overflow (replay batches and samples). */
static size_t fz_rows_overflow(fuzz_in *in, int *huge)
{
    static const size_t table[] = { 0, 1, 2, 3, 9, SIZE_MAX / 2, SIZE_MAX };
    unsigned k = fz_pick(in, sizeof table / sizeof table[0]);
    *huge = k >= 5;
    return table[k];
}

/* ------------------------------------------------------------------ configurations */

static void fz_config(fuzz_in *in, mfpo_agent_config *c)
{
    size_t S = 1 + fz_pick(in, 4), A = 1 + fz_pick(in, 3);
    mfpo_agent_config_init(c, S, A);
    c->hidden_width = 8;
    c->hidden_depth = 1;
    c->policy_samples = 2;
    c->gaussian_samples = 2;
    c->hutchinson_probes = 1;
    c->atoms = 5;
    c->batch_size = 4;
    c->fourier_features = 4;
    c->time_embed_dim = 4;
    c->eval_candidates = 2;
    unsigned muts = fz_pick(in, 4);
    for (unsigned m = 0; m < muts; m++) {
        unsigned field = fz_pick(in, 34);
        unsigned char *base = (unsigned char *)c;
        /* the fields in order: sizes, floats and ints, as config.h declares them */
        static const struct {
            size_t off;
            char type;
        } f[] = {
            { offsetof(mfpo_agent_config, struct_size), 's' },
            { offsetof(mfpo_agent_config, obs_dim), 's' },
            { offsetof(mfpo_agent_config, act_dim), 's' },
            { offsetof(mfpo_agent_config, hidden_width), 's' },
            { offsetof(mfpo_agent_config, hidden_depth), 's' },
            { offsetof(mfpo_agent_config, sampling_steps), 's' },
            { offsetof(mfpo_agent_config, policy_samples), 's' },
            { offsetof(mfpo_agent_config, gaussian_samples), 's' },
            { offsetof(mfpo_agent_config, hutchinson_probes), 's' },
            { offsetof(mfpo_agent_config, atoms), 's' },
            { offsetof(mfpo_agent_config, v_min), 'f' },
            { offsetof(mfpo_agent_config, v_max), 'f' },
            { offsetof(mfpo_agent_config, gamma), 'f' },
            { offsetof(mfpo_agent_config, tau), 'f' },
            { offsetof(mfpo_agent_config, lr_policy), 'f' },
            { offsetof(mfpo_agent_config, lr_divergence), 'f' },
            { offsetof(mfpo_agent_config, lr_critic), 'f' },
            { offsetof(mfpo_agent_config, lr_alpha), 'f' },
            { offsetof(mfpo_agent_config, init_alpha), 'f' },
            { offsetof(mfpo_agent_config, auto_alpha), 'i' },
            { offsetof(mfpo_agent_config, target_entropy_coef), 'f' },
            { offsetof(mfpo_agent_config, clipped_double_q), 'i' },
            { offsetof(mfpo_agent_config, actor_delay), 's' },
            { offsetof(mfpo_agent_config, eval_candidates), 's' },
            { offsetof(mfpo_agent_config, batch_size), 's' },
            { offsetof(mfpo_agent_config, flow_fraction), 'f' },
            { offsetof(mfpo_agent_config, time_mean), 'f' },
            { offsetof(mfpo_agent_config, time_std), 'f' },
            { offsetof(mfpo_agent_config, fourier_features), 's' },
            { offsetof(mfpo_agent_config, time_embed_dim), 's' },
            { offsetof(mfpo_agent_config, fourier_init_std), 'f' },
            { offsetof(mfpo_agent_config, adam_beta1), 'f' },
            { offsetof(mfpo_agent_config, adam_beta2), 'f' },
            { offsetof(mfpo_agent_config, adam_eps), 'f' },
        };
        if (f[field].type == 's') {
            size_t v = fz_size(in);
            if (field == 0) { /* struct_size: the known sizes and a few hostile ones (never above sizeof) */
                static const size_t ss[] = { 0,
                                             1,
                                             8,
                                             offsetof(mfpo_agent_config, adam_eps) + sizeof(float),
                                             sizeof(mfpo_agent_config) - 1,
                                             sizeof(mfpo_agent_config) };
                v = ss[fz_pick(in, sizeof ss / sizeof ss[0])];
            }
            memcpy(base + f[field].off, &v, sizeof v);
        } else if (f[field].type == 'f') {
            float v = fz_float(in);
            memcpy(base + f[field].off, &v, sizeof v);
        } else {
            int v = fz_int(in);
            memcpy(base + f[field].off, &v, sizeof v);
        }
    }
}

/* ------------------------------------------------------------------ world bookkeeping */

static void drop_agent(world *w, int i)
{
    mfpo_agent_destroy(w->ag[i]);
    w->ag[i] = NULL;
}

static void drop_replay(world *w, int i)
{
    mfpo_replay_destroy(w->rp[i]);
    w->rp[i] = NULL;
}

/* Destroys context slot i and everything created from it. */
static void drop_context(world *w, int i)
{
    for (int k = 0; k < 2; k++) {
        if (w->ag[k] && w->ag_ctx[k] == i) drop_agent(w, k);
        if (w->rp[k] && w->rp_ctx[k] == i) drop_replay(w, k);
    }
    if (w->pol && w->pol_ctx == i) mfpo_policy_destroy(w->pol), w->pol = NULL;
    if (w->div && w->div_ctx == i) mfpo_divergence_destroy(w->div), w->div = NULL;
    if (w->crit && w->crit_ctx == i) mfpo_critic_destroy(w->crit), w->crit = NULL;
    mfpo_context_destroy(w->ctx[i]);
    w->ctx[i] = NULL;
    if (w->alloc[i].live != 0)
        fuzz_violation("context %d released, but %zu bytes of its allocator are live", i, w->alloc[i].live);
    w->alloc[i].fail_next = 0;
}

static void clear_all(world *w)
{
    fz_clear_errors(w->ctx, 2);
}

/* An agent (or NULL) with its context for the error check. */
static mfpo_agent *pick_agent(fuzz_in *in, world *w, mfpo_context **where)
{
    unsigned k = fz_pick(in, 5); /* NULL one time in five */
    if (k > 2) k -= 3;
    mfpo_agent *a = k < 2 ? w->ag[k] : NULL;
    *where = a ? a->ctx : NULL;
    return a;
}

static mfpo_replay *pick_replay(fuzz_in *in, world *w, mfpo_context **where)
{
    unsigned k = fz_pick(in, 5);
    if (k > 2) k -= 3;
    mfpo_replay *r = k < 2 ? w->rp[k] : NULL;
    if (r) {
        algo_replay_view v;
        algo_replay_raw(r, &v);
        *where = v.ctx;
    } else {
        *where = NULL;
    }
    return r;
}

static mfpo_policy *pick_policy(fuzz_in *in, world *w)
{
    unsigned k = fz_pick(in, 4);
    if (k < 2) return w->ag[k] ? mfpo_agent_policy(w->ag[k]) : NULL;
    return k == 2 ? w->pol : NULL;
}

static mfpo_divergence *pick_divergence(fuzz_in *in, world *w)
{
    unsigned k = fz_pick(in, 4);
    if (k < 2) return w->ag[k] ? mfpo_agent_divergence(w->ag[k]) : NULL;
    return k == 2 ? w->div : NULL;
}

static mfpo_critic *pick_critic(fuzz_in *in, world *w)
{
    unsigned k = fz_pick(in, 4);
    if (k < 2) return w->ag[k] ? mfpo_agent_critic(w->ag[k]) : NULL;
    return k == 2 ? w->crit : NULL;
}

/* A context slot's context, or NULL (also for an empty slot). */
static mfpo_context *pick_context(fuzz_in *in, world *w, int *slot)
{
    *slot = (int)fz_pick(in, 2);
    return fz_pick(in, 5) == 0 ? NULL : w->ctx[*slot];
}

static int slot_of(world *w, const mfpo_context *ctx)
{
    return ctx == w->ctx[0] ? 0 : 1;
}

/* ------------------------------------------------------------------ environment */

typedef struct fz_env_user {
    size_t S, A;
    uint64_t calls, fail_reset_at, fail_step_at, nan_at, term_every;
    mfpo_status fail_status;
} fz_env_user;

static mfpo_status env_reset(void *user, uint64_t seed, float *obs)
{
    fz_env_user *u = user;
    u->calls++;
    if (u->calls == u->fail_reset_at) return u->fail_status;
    for (size_t i = 0; i < u->S; i++) obs[i] = 0.1f * (float)((seed + i) % 7);
    return MFPO_OK;
}

static mfpo_status env_step(void *user, const float *action, float *obs, float *reward, int *terminated, int *truncated)
{
    fz_env_user *u = user;
    u->calls++;
    if (u->calls == u->fail_step_at) return u->fail_status;
    for (size_t i = 0; i < u->S; i++) obs[i] = action[i % u->A] * 0.5f + 0.01f * (float)(u->calls % 5);
    if (u->calls == u->nan_at) obs[0] = NAN;
    *reward = u->calls == u->nan_at + 1 ? INFINITY : -action[0] * action[0];
    *terminated = u->calls % u->term_every == 0;
    *truncated = 0;
    return MFPO_OK;
}

static void env_close(void *user)
{
    (void)user;
}

typedef struct progress_budget {
    int left;
} progress_budget;

static int progress_cb(void *user, const mfpo_progress *p)
{
    progress_budget *b = user;
    if (!p || p->struct_size < sizeof(size_t)) fuzz_violation("progress callback got a bad report");
    return --b->left <= 0;
}

/* Builds an environment for an agent of dims (S, A), possibly hostile. Callbacks always end an
 * episode within 20 steps, so that training and evaluation stay short. */
static void fz_env(fuzz_in *in, mfpo_env *env, fz_env_user *u, float *low, float *high, size_t S, size_t A)
{
    mfpo_env_init(env);
    memset(u, 0, sizeof *u);
    env->obs_dim = fz_pick(in, 6) == 0 ? fz_size(in) : S;
    env->act_dim = fz_pick(in, 6) == 0 ? fz_size(in) : A;
    if (env->act_dim <= 8 && fz_pick(in, 3) == 0) {
        for (size_t i = 0; i < env->act_dim; i++) {
            low[i] = fz_pick(in, 4) ? -2.0f : fz_float(in);
            high[i] = fz_pick(in, 4) ? 3.0f : fz_float(in);
        }
        env->action_low = low;
        env->action_high = fz_pick(in, 2) ? high : NULL;
    }
    u->S = env->obs_dim;
    u->A = env->act_dim;
    u->fail_reset_at = fz_pick(in, 4) == 0 ? 1 + fz_pick(in, 8) : 0;
    u->fail_step_at = fz_pick(in, 4) == 0 ? 1 + fz_pick(in, 30) : 0;
    u->nan_at = fz_pick(in, 5) == 0 ? 1 + fz_pick(in, 30) : UINT64_MAX - 1;
    u->term_every = 1 + fz_pick(in, 20);
    u->fail_status = fz_pick(in, 2) ? MFPO_ERR_ENV : (mfpo_status)(fz_pick(in, 2) ? 99 : -5);
    env->user = u;
    env->reset = fz_pick(in, 8) ? env_reset : NULL;
    env->step = fz_pick(in, 8) ? env_step : NULL;
    env->close = env_close;
    if (fz_pick(in, 8) == 0) env->struct_size = fz_pick(in, 2) ? 0 : sizeof(size_t);
}

/* ------------------------------------------------------------------ operations */

static void op_context_create(fuzz_in *in, world *w)
{
    int i = (int)fz_pick(in, 2);
    if (w->ctx[i]) drop_context(w, i);
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    static const mfpo_backend_kind kinds[] = { MFPO_BACKEND_CPU,     MFPO_BACKEND_CPU,     MFPO_BACKEND_CPU,
                                               MFPO_BACKEND_CPU,     MFPO_BACKEND_AUTO,    MFPO_BACKEND_CUDA,
                                               (mfpo_backend_kind)3, (mfpo_backend_kind)-1 };
    o.backend = kinds[fz_pick(in, 8)];
    static const int threads[] = { 1, 1, 2, 0, -1, 5000 };
    o.threads = threads[fz_pick(in, 6)];
    o.seed = fz_u64(in);
    o.device = fz_pick(in, 6) == 0 ? fz_int(in) : 0;
    mfpo_allocator bad = { NULL, NULL, NULL };
    w->iface[i].alloc = fuzz_alloc_tracked;
    w->iface[i].free = fuzz_free_tracked;
    w->iface[i].user = &w->alloc[i];
    o.allocator = fz_pick(in, 10) == 0 ? &bad : &w->iface[i];
    static const size_t sizes[] = { sizeof(mfpo_context_options),
                                    sizeof(mfpo_context_options),
                                    0,
                                    1,
                                    offsetof(mfpo_context_options, device) + sizeof(int),
                                    sizeof(size_t) };
    o.struct_size = sizes[fz_pick(in, 6)];
    if (fz_pick(in, 10) == 0) { /* all defaults (the C library's allocator): created and destroyed at once */
        mfpo_context *tmp = NULL;
        clear_all(w);
        mfpo_status s = mfpo_context_create(NULL, &tmp);
        fz_check("mfpo_context_create(NULL)", s, NULL);
        mfpo_context_destroy(tmp);
        return;
    }
    mfpo_context **out = fz_pick(in, 12) == 0 ? NULL : &w->ctx[i];
    clear_all(w);
    mfpo_status s = mfpo_context_create(&o, out);
    fz_check("mfpo_context_create", s, NULL);
    if (s == MFPO_OK && (!w->ctx[i] || mfpo_context_backend(w->ctx[i]) != MFPO_BACKEND_CPU))
        fuzz_violation("mfpo_context_create succeeded without a CPU context");
    if (s != MFPO_OK && out && *out) fuzz_violation("mfpo_context_create failed but set *out");
}

static void op_replay_create(fuzz_in *in, world *w)
{
    int i = (int)fz_pick(in, 2), slot;
    mfpo_context *ctx = pick_context(in, w, &slot);
    if (w->rp[i]) drop_replay(w, i);
    size_t S = fz_pick(in, 3) ? 1 + fz_pick(in, 4) : fz_size(in);
    size_t A = fz_pick(in, 3) ? 1 + fz_pick(in, 3) : fz_size(in);
    size_t cap = fz_pick(in, 3) ? 1 + fz_pick(in, 40) : fz_size(in);
    if (w->ag[i] && fz_pick(in, 4)) { /* mostly the dimensions of the agent of the same index */
        S = w->ag[i]->cfg.obs_dim;
        A = w->ag[i]->cfg.act_dim;
    }
    clear_all(w);
    mfpo_status s = mfpo_replay_create(ctx, S, A, cap, fz_pick(in, 16) ? &w->rp[i] : NULL);
    fz_check("mfpo_replay_create", s, ctx);
    if (s == MFPO_OK)
        w->rp_ctx[i] = slot_of(w, ctx);
    else
        w->rp[i] = NULL;
}

static void op_replay_add(fuzz_in *in, world *w, int batch)
{
    mfpo_context *where;
    mfpo_replay *r = pick_replay(in, w, &where);
    size_t S = 3, A = 2;
    if (r) {
        algo_replay_view v;
        algo_replay_raw(r, &v);
        S = v.obs_dim;
        A = v.act_dim;
    }
    int huge = 0;
    size_t n = batch ? fz_rows_overflow(in, &huge) : 1;
    size_t rows = huge ? 1 : (n ? n : 1);
    float *obs = fz_floats(in, rows * S, 1), *act = fz_floats(in, rows * A, 1), *next = fz_floats(in, rows * S, 1);
    float *rew = fz_floats(in, rows, 1);
    int *term = calloc(rows, sizeof(int));
    if (obs && act && next && rew && term) {
        for (size_t k = 0; k < rows; k++) term[k] = fz_int(in);
        const float *o = fz_pick(in, 10) ? obs : NULL, *a = fz_pick(in, 10) ? act : NULL;
        const float *nx = fz_pick(in, 10) ? next : NULL;
        clear_all(w);
        mfpo_status s;
        if (batch) {
            const float *rw = fz_pick(in, 10) ? rew : NULL;
            const int *tm = fz_pick(in, 10) ? term : NULL;
            s = mfpo_replay_add_batch(r, n, o, a, rw, nx, tm);
            fz_check("mfpo_replay_add_batch", s, where);
        } else {
            s = mfpo_replay_add(r, o, a, rew[0], nx, term[0]);
            fz_check("mfpo_replay_add", s, where);
        }
        if (r && mfpo_replay_size(r) > mfpo_replay_capacity(r)) fuzz_violation("replay size above capacity");
    }
    free(obs), free(act), free(next), free(rew), free(term);
}

static void op_replay_sample(fuzz_in *in, world *w)
{
    mfpo_context *where;
    mfpo_replay *r = pick_replay(in, w, &where);
    size_t S = 3, A = 2;
    if (r) {
        algo_replay_view v;
        algo_replay_raw(r, &v);
        S = v.obs_dim;
        A = v.act_dim;
    }
    int huge;
    size_t n = fz_rows_overflow(in, &huge), rows = huge || n == 0 ? 1 : n;
    float *obs = malloc(rows * S * 4), *act = malloc(rows * A * 4), *rew = malloc(rows * 4);
    float *next = malloc(rows * S * 4), *mask = malloc(rows * 4);
    if (obs && act && rew && next && mask) {
        unsigned nulls = fz_u8(in);
        clear_all(w);
        mfpo_status s = mfpo_replay_sample(r, n, nulls & 1 ? NULL : obs, nulls & 2 ? NULL : act, nulls & 4 ? NULL : rew,
                                           nulls & 8 ? NULL : next, nulls & 16 ? NULL : mask);
        fz_check("mfpo_replay_sample", s, where);
        if (s == MFPO_OK && !(nulls & 16))
            for (size_t k = 0; k < n; k++)
                if (mask[k] != 0.0f && mask[k] != 1.0f) fuzz_violation("sampled mask %g", (double)mask[k]);
    }
    free(obs), free(act), free(rew), free(next), free(mask);
}

static void op_agent_create(fuzz_in *in, world *w)
{
    int i = (int)fz_pick(in, 2), slot;
    mfpo_context *ctx = pick_context(in, w, &slot);
    if (w->ag[i]) drop_agent(w, i);
    mfpo_agent_config c;
    fz_config(in, &c);
    if (w->rp[i] && fz_pick(in, 4)) { /* mostly the dimensions of the buffer of the same index */
        algo_replay_view v;
        algo_replay_raw(w->rp[i], &v);
        c.obs_dim = v.obs_dim;
        c.act_dim = v.act_dim;
    }
    clear_all(w);
    const mfpo_agent_config *cp = fz_pick(in, 16) ? &c : NULL;
    mfpo_agent **out = fz_pick(in, 16) ? &w->ag[i] : NULL;
    mfpo_status s = mfpo_agent_create(ctx, cp, out);
    fz_check("mfpo_agent_create", s, ctx);
    if (s == MFPO_OK)
        w->ag_ctx[i] = slot_of(w, ctx);
    else
        w->ag[i] = NULL;
}

/* The state of an agent is finite (checked after each successful update). */
static int all_finite(const mfpo_agent *a)
{
    return a->ctx->be->ops->all_finite(a->ctx->be, a->state, a->off.total);
}

static void op_update(fuzz_in *in, world *w)
{
    mfpo_context *where, *rwhere;
    mfpo_agent *a = pick_agent(in, w, &where);
    mfpo_replay *r = pick_replay(in, w, &rwhere);
    mfpo_update_stats st;
    memset(&st, 0, sizeof st);
    static const size_t sizes[] = { sizeof(mfpo_update_stats),
                                    sizeof(mfpo_update_stats),
                                    0,
                                    1,
                                    sizeof(size_t),
                                    offsetof(mfpo_update_stats, actor_updated) + sizeof(int) };
    st.struct_size = sizes[fz_pick(in, 6)];
    unsigned reps = 1 + fz_pick(in, 3);
    for (unsigned k = 0; k < reps; k++) {
        clear_all(w);
        mfpo_status s = mfpo_update(a, r, fz_pick(in, 4) ? &st : NULL);
        fz_check("mfpo_update", s, where);
        if (s == MFPO_OK && !all_finite(a)) fuzz_violation("mfpo_update succeeded with a non-finite state");
    }
}

static void op_act(fuzz_in *in, world *w, int select)
{
    mfpo_context *where;
    mfpo_agent *a = pick_agent(in, w, &where);
    size_t S = a ? a->cfg.obs_dim : 3, A = a ? a->cfg.act_dim : 2;
    int huge;
    size_t n = fz_rows(in, &huge), rows = huge || n == 0 ? 1 : n;
    float *obs = fz_floats(in, rows * S, 1), *act = malloc(rows * A * sizeof(float));
    if (obs && act) {
        clear_all(w);
        const float *o = fz_pick(in, 12) ? obs : NULL;
        float *ac = fz_pick(in, 12) ? act : NULL;
        mfpo_status s = select ? mfpo_agent_select_action(a, o, n, ac) : mfpo_agent_act(a, o, n, ac);
        fz_check(select ? "mfpo_agent_select_action" : "mfpo_agent_act", s, where);
        if (s == MFPO_OK)
            for (size_t k = 0; k < n * A; k++)
                if (!(act[k] >= -1.0f && act[k] <= 1.0f)) fuzz_violation("action %g outside [-1, 1]", (double)act[k]);
    }
    free(obs);
    free(act);
}

static void op_get_config(fuzz_in *in, world *w)
{
    mfpo_context *where;
    mfpo_agent *a = pick_agent(in, w, &where);
    mfpo_agent_config c;
    memset(&c, 0, sizeof c);
    static const size_t sizes[] = { sizeof(mfpo_agent_config), 0, 8, sizeof(mfpo_agent_config) - 1,
                                    offsetof(mfpo_agent_config, adam_eps) + sizeof(float) };
    c.struct_size = sizes[fz_pick(in, 5)];
    clear_all(w);
    mfpo_status s = mfpo_agent_get_config(a, fz_pick(in, 10) ? &c : NULL);
    fz_check("mfpo_agent_get_config", s, where);
    if (s == MFPO_OK && (c.obs_dim != a->cfg.obs_dim || c.struct_size > sizeof c))
        fuzz_violation("mfpo_agent_get_config returned another configuration");
}

static void op_accessors(fuzz_in *in, world *w)
{
    mfpo_context *where;
    mfpo_agent *a = pick_agent(in, w, &where);
    mfpo_replay *r = pick_replay(in, w, &where);
    int slot;
    mfpo_context *ctx = pick_context(in, w, &slot);
    float alpha = mfpo_agent_alpha(a);
    if (a && !(alpha > 0.0f)) fuzz_violation("alpha %g is not positive", (double)alpha);
    (void)mfpo_agent_update_count(a);
    (void)mfpo_agent_policy(a);
    (void)mfpo_agent_divergence(a);
    (void)mfpo_agent_critic(a);
    if (mfpo_replay_size(r) > mfpo_replay_capacity(r)) fuzz_violation("size above capacity");
    (void)mfpo_replay_memory_bytes(r);
    const char *t = mfpo_status_string((mfpo_status)fz_int(in));
    if (!t || !t[0]) fuzz_violation("empty status string");
    if (!mfpo_context_device_name(ctx)) fuzz_violation("NULL device name");
    (void)mfpo_context_backend(ctx);
    if (mfpo_version_number() != MFPO_VERSION_NUMBER) fuzz_violation("version mismatch");
    if (strcmp(mfpo_version_string(), MFPO_VERSION_STRING)) fuzz_violation("version string mismatch");
    (void)mfpo_policy_param_count(pick_policy(in, w));
    (void)mfpo_divergence_param_count(pick_divergence(in, w));
    (void)mfpo_critic_param_count(pick_critic(in, w));
    clear_all(w);
    mfpo_status s = mfpo_context_set_seed(ctx, fz_u64(in));
    fz_check("mfpo_context_set_seed", s, ctx);
}

static void op_params(fuzz_in *in, world *w, int divergence, int set)
{
    mfpo_policy *p = divergence ? NULL : pick_policy(in, w);
    mfpo_divergence *d = divergence ? pick_divergence(in, w) : NULL;
    size_t exact = divergence ? mfpo_divergence_param_count(d) : mfpo_policy_param_count(p);
    mfpo_context *where = divergence ? (d ? d->ctx : NULL) : (p ? p->ctx : NULL);
    static const int deltas[] = { 0, 0, 0, -1, 1 };
    size_t count = exact + (size_t)(long)deltas[fz_pick(in, 5)];
    if (fz_pick(in, 8) == 0) count = fz_size(in);
    float *buf = fz_floats(in, exact, set);
    if (!buf) return;
    float *arg = fz_pick(in, 10) ? buf : NULL;
    clear_all(w);
    mfpo_status s;
    if (divergence)
        s = set ? mfpo_divergence_set_params(d, arg, count) : mfpo_divergence_get_params(d, arg, count);
    else
        s = set ? mfpo_policy_set_params(p, arg, count) : mfpo_policy_get_params(p, arg, count);
    fz_check(set ? "set_params" : "get_params", s, where);
    free(buf);
}

static void op_sample(fuzz_in *in, world *w)
{
    mfpo_policy *p = pick_policy(in, w);
    mfpo_divergence *d = pick_divergence(in, w);
    mfpo_context *where = p ? p->ctx : NULL;
    size_t S = p ? p->cfg.obs_dim : 3, A = p ? p->cfg.act_dim : 2;
    int huge;
    size_t n = fz_rows(in, &huge), rows = huge || n == 0 ? 1 : n;
    float *obs = fz_floats(in, rows * S, 1), *noise = fz_floats(in, rows * A, 1);
    float *act = malloc(rows * A * 4), *logp = malloc(rows * 4);
    if (obs && noise && act && logp) {
        unsigned which = fz_pick(in, 3), nulls = fz_u8(in);
        const float *o = nulls & 1 ? NULL : obs;
        float *ac = nulls & 2 ? NULL : act, *lp = nulls & 4 ? NULL : logp;
        clear_all(w);
        mfpo_status s;
        if (which == 0)
            s = mfpo_policy_sample(p, o, n, ac);
        else if (which == 1)
            s = mfpo_policy_sample_logp(p, d, o, n, ac, lp);
        else
            s = mfpo_policy_transport(p, d, o, nulls & 8 ? NULL : noise, n, ac, lp);
        fz_check("mfpo_policy_sample*", s, where);
        if (s == MFPO_OK)
            for (size_t k = 0; k < n * A; k++)
                if (!(act[k] >= -1.0f && act[k] <= 1.0f)) fuzz_violation("sampled action %g", (double)act[k]);
    }
    free(obs), free(noise), free(act), free(logp);
}

static void op_critic_q(fuzz_in *in, world *w)
{
    mfpo_critic *c = pick_critic(in, w);
    mfpo_context *where = c ? c->ctx : NULL;
    size_t S = c ? c->cfg.obs_dim : 3, A = c ? c->cfg.act_dim : 2;
    int huge;
    size_t n = fz_rows(in, &huge), rows = huge || n == 0 ? 1 : n;
    float *obs = fz_floats(in, rows * S, 1), *act = fz_floats(in, rows * A, 1), *q = malloc(rows * 4);
    if (obs && act && q) {
        unsigned nulls = fz_u8(in);
        clear_all(w);
        mfpo_status s = mfpo_critic_q(c, nulls & 1 ? NULL : obs, nulls & 2 ? NULL : act, n,
                                      fz_pick(in, 6) ? (int)fz_pick(in, 2) : fz_int(in), nulls & 4 ? NULL : q);
        fz_check("mfpo_critic_q", s, where);
    }
    free(obs), free(act), free(q);
}

static void op_nets(fuzz_in *in, world *w)
{
    int slot;
    mfpo_context *ctx = pick_context(in, w, &slot);
    mfpo_agent_config c;
    fz_config(in, &c);
    unsigned which = fz_pick(in, 6);
    clear_all(w);
    mfpo_status s = MFPO_OK;
    switch (which) {
    case 0:
        if (w->pol) mfpo_policy_destroy(w->pol), w->pol = NULL;
        s = mfpo_policy_create(ctx, &c, &w->pol);
        if (s == MFPO_OK) w->pol_ctx = slot_of(w, ctx);
        break;
    case 1:
        if (w->div) mfpo_divergence_destroy(w->div), w->div = NULL;
        s = mfpo_divergence_create(ctx, &c, &w->div);
        if (s == MFPO_OK) w->div_ctx = slot_of(w, ctx);
        break;
    case 2:
        if (w->crit) mfpo_critic_destroy(w->crit), w->crit = NULL;
        s = mfpo_critic_create(ctx, &c, &w->crit);
        if (s == MFPO_OK) w->crit_ctx = slot_of(w, ctx);
        break;
    default: { /* destroying an agent's parts (or NULL) must do nothing */
        int k = (int)fz_pick(in, 2);
        if (w->ag[k]) {
            mfpo_policy_destroy(mfpo_agent_policy(w->ag[k]));
            mfpo_divergence_destroy(mfpo_agent_divergence(w->ag[k]));
            mfpo_critic_destroy(mfpo_agent_critic(w->ag[k]));
        }
        mfpo_policy_destroy(NULL);
        mfpo_divergence_destroy(NULL);
        mfpo_critic_destroy(NULL);
        return;
    }
    }
    fz_check("mfpo_*_create", s, ctx);
}

static void op_checkpoint(fuzz_in *in, world *w)
{
    static const char *bad_paths[] = { NULL, "", "/nonexistent-mfpo-fuzz/dir/file", "/" };
    unsigned pk = fz_pick(in, 8);
    const char *path = pk < 4 ? bad_paths[pk] : tmp_path;
    mfpo_context *where;
    if (fz_pick(in, 2)) {
        mfpo_agent *a = pick_agent(in, w, &where);
        clear_all(w);
        mfpo_status s = mfpo_agent_save(a, path);
        fz_check("mfpo_agent_save", s, where);
        mfpo_agent *b = pick_agent(in, w, &where);
        clear_all(w);
        s = mfpo_agent_load(b, path);
        fz_check("mfpo_agent_load", s, where);
    } else {
        mfpo_replay *r = pick_replay(in, w, &where);
        clear_all(w);
        mfpo_status s = mfpo_replay_save(r, path);
        fz_check("mfpo_replay_save", s, where);
        mfpo_replay *q = pick_replay(in, w, &where);
        clear_all(w);
        s = mfpo_replay_load(q, path);
        fz_check("mfpo_replay_load", s, where);
    }
}

static void op_env(fuzz_in *in, world *w)
{
    mfpo_env env;
    fz_env_user u;
    float low[8], high[8];
    size_t A = 1 + fz_pick(in, 3);
    fz_env(in, &env, &u, low, high, 2, A);
    float x[8], y[8];
    for (int i = 0; i < 8; i++) x[i] = fz_float(in);
    clear_all(w);
    const mfpo_env *e = fz_pick(in, 10) ? &env : NULL;
    int ok_dims = env.act_dim <= 8;
    mfpo_status s = mfpo_env_scale_action(e, ok_dims ? x : NULL, ok_dims ? y : NULL);
    fz_check("mfpo_env_scale_action", s, NULL);
    mfpo_env_close(e);
    mfpo_env_init(fz_pick(in, 2) ? &env : NULL);
}

static void op_train(fuzz_in *in, world *w, int evaluate)
{
    mfpo_context *where, *rw;
    mfpo_agent *a = pick_agent(in, w, &where);
    mfpo_replay *r = pick_replay(in, w, &rw);
    size_t S = a ? a->cfg.obs_dim : 2, A = a ? a->cfg.act_dim : 1;
    mfpo_env env, eval_env;
    fz_env_user u, ue;
    float low[8], high[8], low2[8], high2[8];
    fz_env(in, &env, &u, low, high, S, A);
    fz_env(in, &eval_env, &ue, low2, high2, S, A);
    progress_budget budget = { 1 + (int)fz_pick(in, 6) };
    mfpo_train_options o;
    mfpo_train_options_init(&o);
    static const uint64_t steps[] = { 0, 1, 3, 12, 25, UINT64_MAX };
    o.total_steps = steps[fz_pick(in, 6)];
    o.warmup_steps = steps[fz_pick(in, 6)];
    static const double ratios[] = { 1.0, 0.5, 2.0, 0.0, -1.0, NAN, INFINITY, 1e7, 1e-9 };
    o.updates_per_step = ratios[fz_pick(in, 9)];
    o.eval_every = fz_pick(in, 3) ? 0 : 1 + fz_pick(in, 10);
    o.eval_episodes = fz_pick(in, 3);
    o.episode_limit = fz_pick(in, 2) ? 0 : 1 + fz_pick(in, 10);
    o.seed = fz_u64(in);
    o.eval_env = fz_pick(in, 2) ? &eval_env : NULL;
    o.progress = progress_cb; /* always: a budget of reports bounds the run's length */
    o.progress_user = &budget;
    o.progress_every = fz_pick(in, 2) ? 1 : 0;
    static const size_t sizes[] = { sizeof(mfpo_train_options), sizeof(mfpo_train_options), 0, 1,
                                    offsetof(mfpo_train_options, progress_every) + sizeof(uint64_t) };
    o.struct_size = sizes[fz_pick(in, 5)];
    clear_all(w);
    mfpo_status s;
    if (evaluate) {
        double mean = 0.0;
        size_t episodes = fz_pick(in, 4); /* at most 3: each episode ends within 20 steps */
        const mfpo_env *e = fz_pick(in, 10) ? &env : NULL;
        double *m = fz_pick(in, 10) ? &mean : NULL;
        s = mfpo_evaluate(a, e, episodes, o.episode_limit, o.seed, m);
        fz_check("mfpo_evaluate", s, where);
        if (s == MFPO_OK && !isfinite(mean)) fuzz_violation("mfpo_evaluate returned a non-finite mean");
    } else {
        s = mfpo_train(a, r, fz_pick(in, 10) ? &env : NULL, &o);
        fz_check("mfpo_train", s, where);
    }
}

static void op_probe(fuzz_in *in, world *w)
{
    (void)w;
    char reason[64];
    static const size_t sizes[] = { 0, 1, 8, sizeof reason };
    size_t rs = sizes[fz_pick(in, 4)];
    static const mfpo_backend_kind kinds[] = { MFPO_BACKEND_CPU, MFPO_BACKEND_CUDA, MFPO_BACKEND_AUTO,
                                               (mfpo_backend_kind)7, (mfpo_backend_kind)-3 };
    memset(reason, 0, sizeof reason);
    char *arg = fz_pick(in, 4) ? reason : NULL;
    mfpo_status s = mfpo_backend_probe(kinds[fz_pick(in, 5)], arg, rs);
    if ((int)s < 0 || (int)s > (int)MFPO_ERR_STATE) fuzz_violation("mfpo_backend_probe returned %d", (int)s);
    if (s != MFPO_OK && arg && rs > 1 && reason[0] == '\0')
        fuzz_violation("mfpo_backend_probe failed without a reason");
}

/* A ready pair: a small valid agent and a filled buffer of its dimensions on one context, so that
 * short inputs reach updates, training and checkpoints. */
static void op_prefab(fuzz_in *in, world *w)
{
    int i = (int)fz_pick(in, 2), slot = (int)fz_pick(in, 2);
    if (!w->ctx[slot]) return;
    if (w->ag[i]) drop_agent(w, i);
    if (w->rp[i]) drop_replay(w, i);
    mfpo_agent_config c;
    size_t S = 1 + fz_pick(in, 3);
    size_t A = 1 + fz_pick(in, 2);
    mfpo_agent_config_init(&c, S, A);
    c.hidden_width = 4 + 4 * fz_pick(in, 2);
    c.hidden_depth = 1 + fz_pick(in, 2);
    c.policy_samples = 2;
    c.gaussian_samples = 2;
    c.hutchinson_probes = 1;
    c.atoms = 3 + fz_pick(in, 4);
    c.batch_size = 1 + fz_pick(in, 4);
    c.fourier_features = 2;
    c.time_embed_dim = 2;
    c.eval_candidates = 1 + fz_pick(in, 2);
    c.actor_delay = 1 + fz_pick(in, 2);
    c.clipped_double_q = (int)fz_pick(in, 2);
    c.auto_alpha = (int)fz_pick(in, 2);
    clear_all(w);
    mfpo_status s = mfpo_agent_create(w->ctx[slot], &c, &w->ag[i]);
    fz_check("prefab agent", s, w->ctx[slot]);
    if (s != MFPO_OK) return;
    w->ag_ctx[i] = slot;
    s = mfpo_replay_create(w->ctx[slot], c.obs_dim, c.act_dim, 4 + fz_pick(in, 12), &w->rp[i]);
    fz_check("prefab replay", s, w->ctx[slot]);
    if (s != MFPO_OK) return;
    w->rp_ctx[i] = slot;
    size_t n = 1 + fz_pick(in, 10);
    float obs[4 * 16], act[4 * 16], rew[16];
    int term[16];
    for (size_t k = 0; k < n * c.obs_dim; k++) obs[k] = 0.1f * (float)(k % 7) - 0.2f;
    for (size_t k = 0; k < n * c.act_dim; k++) act[k] = 0.3f * (float)(k % 5) - 0.6f;
    for (size_t k = 0; k < n; k++) {
        rew[k] = (float)k - 2.0f;
        term[k] = k % 3 == 2;
    }
    s = mfpo_replay_add_batch(w->rp[i], n, obs, act, rew, obs, term);
    fz_check("prefab fill", s, w->ctx[slot]);
}

/* ------------------------------------------------------------------ entry points */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("MFPO_MODULE_PATH", "/nonexistent/mfpo-fuzz", 1);
    unsetenv("MFPO_BACKEND");
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%s/mfpo-fuzz-api-%ld.ckpt", dir && dir[0] ? dir : "/tmp", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = { data, size };
    world w;
    memset(&w, 0, sizeof w);
    /* every input starts with a working CPU context in slot 0 */
    {
        mfpo_context_options o;
        mfpo_context_options_init(&o);
        o.backend = MFPO_BACKEND_CPU;
        o.threads = 1;
        w.iface[0].alloc = fuzz_alloc_tracked;
        w.iface[0].free = fuzz_free_tracked;
        w.iface[0].user = &w.alloc[0];
        o.allocator = &w.iface[0];
        if (mfpo_context_create(&o, &w.ctx[0]) != MFPO_OK) fuzz_violation("cannot create the base context");
    }
    for (int op = 0; op < MAX_OPS && in.n > 0; op++) {
        switch (fz_pick(&in, 28)) {
        case 0:
            op_context_create(&in, &w);
            break;
        case 1: {
            int i = (int)fz_pick(&in, 2);
            if (w.ctx[i]) drop_context(&w, i);
            break;
        }
        case 2:
            op_replay_create(&in, &w);
            break;
        case 3: {
            int i = (int)fz_pick(&in, 2);
            if (w.rp[i]) drop_replay(&w, i);
            break;
        }
        case 4:
            op_replay_add(&in, &w, 0);
            break;
        case 5:
            op_replay_add(&in, &w, 1);
            break;
        case 6:
            op_replay_sample(&in, &w);
            break;
        case 7:
            op_agent_create(&in, &w);
            break;
        case 8: {
            int i = (int)fz_pick(&in, 2);
            if (w.ag[i]) drop_agent(&w, i);
            break;
        }
        case 9:
            op_update(&in, &w);
            break;
        case 10:
            op_act(&in, &w, 0);
            break;
        case 11:
            op_act(&in, &w, 1);
            break;
        case 12:
            op_get_config(&in, &w);
            break;
        case 13:
            op_accessors(&in, &w);
            break;
        case 14:
            op_params(&in, &w, 0, 0);
            break;
        case 15:
            op_params(&in, &w, 0, 1);
            break;
        case 16:
            op_params(&in, &w, 1, 0);
            break;
        case 17:
            op_params(&in, &w, 1, 1);
            break;
        case 18:
            op_sample(&in, &w);
            break;
        case 19:
            op_critic_q(&in, &w);
            break;
        case 20:
            op_nets(&in, &w);
            break;
        case 21:
            op_checkpoint(&in, &w);
            break;
        case 22:
            op_env(&in, &w);
            break;
        case 23:
            op_train(&in, &w, fz_pick(&in, 2));
            break;
        case 24:
            op_probe(&in, &w);
            break;
        case 26:
        case 27:
            op_prefab(&in, &w);
            break;
        case 25: { /* the next few allocations of a context fail */
            int i = (int)fz_pick(&in, 2);
            w.alloc[i].fail_next = 1 + (int)fz_pick(&in, 3);
            break;
        }
        }
    }
    for (int i = 0; i < 2; i++)
        if (w.ctx[i]) drop_context(&w, i);
    unlink(tmp_path);
    return 0;
}
