/*
 * A fixed short run for the bit-identical comparison (tests/refactor/bit_identical.sh): a small
 * agent on the CPU backend with one thread, a replay buffer filled by the agent acting on a
 * deterministic toy task, 24 updates, then the agent and the buffer saved. Prints every update's
 * statistics as exact hexadecimal floats, then the first actions of the trained policy.
 *
 * usage: ckpt_run OUTDIR   (writes OUTDIR/agent.ckpt and OUTDIR/replay.ckpt)
 *
 * Public API only, so that the same source builds against any version being compared.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#define S 3
#define A 2

static void die(mfpo_context *ctx, const char *what)
{
    fprintf(stderr, "ckpt_run: %s: %s\n", what, mfpo_last_error(ctx));
    exit(1);
}

static void obs_at(unsigned t, float *o)
{
    o[0] = sinf(0.1f * (float)t);
    o[1] = cosf(0.13f * (float)t);
    o[2] = 0.01f * (float)(t % 17);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ckpt_run OUTDIR\n");
        return 2;
    }
    char path[4096];
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = 20261201;
    mfpo_context *ctx = NULL;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) die(NULL, "context");
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    c.hidden_width = 16;
    c.hidden_depth = 2;
    c.policy_samples = 4;
    c.gaussian_samples = 4;
    c.hutchinson_probes = 2;
    c.atoms = 11;
    c.v_min = -20.0f;
    c.v_max = 20.0f;
    c.batch_size = 8;
    c.fourier_features = 8;
    c.time_embed_dim = 8;
    c.eval_candidates = 4;
    c.actor_delay = 2;
    mfpo_agent *ag = NULL;
    mfpo_replay *r = NULL;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK) die(ctx, "agent");
    if (mfpo_replay_create(ctx, S, A, 64, &r) != MFPO_OK) die(ctx, "replay");
    for (unsigned t = 0; t < 80; t++) { /* wraps the 64-row ring */
        float obs[S], next[S], act[A];
        obs_at(t, obs);
        obs_at(t + 1, next);
        if (mfpo_agent_act(ag, obs, 1, act) != MFPO_OK) die(ctx, "act");
        float reward = obs[0] - act[0] * act[0] - 0.5f * act[1] * act[1];
        if (mfpo_replay_add(r, obs, act, reward, next, t % 13 == 12) != MFPO_OK) die(ctx, "add");
        if (t >= 16) {
            mfpo_update_stats st;
            memset(&st, 0, sizeof st);
            st.struct_size = sizeof st;
            if (mfpo_update(ag, r, &st) != MFPO_OK) die(ctx, "update");
            printf("update %u critic %a actor %a div %a alpha %a H %a q %a ess %a %a actor_updated %d\n", t,
                   (double)st.critic_loss, (double)st.actor_loss, (double)st.divergence_loss, (double)st.alpha,
                   (double)st.entropy, (double)st.mean_q, (double)st.ess_policy, (double)st.ess_gaussian,
                   st.actor_updated);
        }
    }
    float obs[4 * S], act[4 * A];
    for (unsigned i = 0; i < 4; i++) obs_at(100 + i, obs + i * S);
    if (mfpo_agent_select_action(ag, obs, 4, act) != MFPO_OK) die(ctx, "select");
    for (unsigned i = 0; i < 4 * A; i++) printf("select %u %a\n", i, (double)act[i]);
    snprintf(path, sizeof path, "%s/agent.ckpt", argv[1]);
    if (mfpo_agent_save(ag, path) != MFPO_OK) die(ctx, "save agent");
    snprintf(path, sizeof path, "%s/replay.ckpt", argv[1]);
    if (mfpo_replay_save(r, path) != MFPO_OK) die(ctx, "save replay");
    printf("updates %llu alpha %a\n", (unsigned long long)mfpo_agent_update_count(ag), (double)mfpo_agent_alpha(ag));
    mfpo_replay_destroy(r);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}
