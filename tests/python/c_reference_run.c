/*
 * The C side of the Python binding's cross-check (tests/python/test_crosscheck.py): one short run
 * of mfpo_train_continue() on the C pendulum (examples/common/pendulum_env.c), in two calls of one
 * mfpo_train_state, then the agent's and the buffer's checkpoints, the evaluation returns and
 * a batch of actions on fixed observations. The Python test makes the same run through the
 * binding, with a Python port of the same pendulum as a gymnasium.Env, and compares every byte.
 *
 *   c_reference_run OUT_DIR
 *
 * The settings here and in test_crosscheck.py must stay equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#include "common/pendulum_env.h"

static int on_progress(void *user, const mfpo_progress *p)
{
    FILE *f = user;
    if (p->evaluated) fprintf(f, "%llu %.17g\n", (unsigned long long)p->step, p->last_eval_return);
    return 0;
}

static int fail(mfpo_context *ctx, const char *what)
{
    fprintf(stderr, "c_reference_run: %s: %s\n", what, mfpo_last_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: c_reference_run OUT_DIR\n");
        return 2;
    }
    char path[4096];
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = MFPO_BACKEND_CPU;
    co.threads = 1;
    co.seed = 11;
    mfpo_context *ctx = NULL;
    if (mfpo_context_create(&co, &ctx) != MFPO_OK) return fail(NULL, "context");
    mfpo_agent_config c;
    if (mfpo_agent_config_preset(&c, "pendulum", PENDULUM_OBS_DIM, PENDULUM_ACT_DIM) != MFPO_OK)
        return fail(NULL, "preset");
    c.hidden_width = 32;
    c.batch_size = 32;
    c.eval_candidates = 8;
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK) return fail(ctx, "agent");
    if (mfpo_replay_create(ctx, PENDULUM_OBS_DIM, PENDULUM_ACT_DIM, 1000, &rb) != MFPO_OK) return fail(ctx, "replay");
    pendulum tp, ep;
    mfpo_env env, eval_env;
    pendulum_env(&tp, &env);
    pendulum_env(&ep, &eval_env);
    snprintf(path, sizeof path, "%s/evals.txt", argv[1]);
    FILE *evals = fopen(path, "w");
    if (!evals) return fail(ctx, "evals.txt");
    mfpo_train_options o;
    mfpo_train_options_preset(&o, "pendulum");
    o.warmup_steps = 150;
    o.eval_every = 150;
    o.eval_episodes = 2;
    o.seed = 5;
    o.eval_env = &eval_env;
    o.progress = on_progress;
    o.progress_user = evals;
    mfpo_train_state st;
    mfpo_train_state_init(&st);
    const uint64_t calls[2] = { 250, 200 }; /* the first call ends in the middle of an episode */
    for (int k = 0; k < 2; k++) {
        o.total_steps = calls[k];
        if (mfpo_train_continue(ag, rb, &env, &o, &st) != MFPO_OK) return fail(ctx, "train");
    }
    fprintf(evals, "state %llu %llu %llu\n", (unsigned long long)st.steps, (unsigned long long)st.episodes,
            (unsigned long long)st.evaluations);
    fclose(evals);
    /* actions on fixed observations, exploration and selection */
    float obs[4 * 3] = { 1, 0, 0, 0, 1, 1, -1, 0, -2, 0.6f, -0.8f, 3 };
    float act[4], sel[4];
    if (mfpo_agent_act(ag, obs, 4, act) != MFPO_OK) return fail(ctx, "act");
    if (mfpo_agent_select_action(ag, obs, 4, sel) != MFPO_OK) return fail(ctx, "select");
    snprintf(path, sizeof path, "%s/actions.bin", argv[1]);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(act, sizeof act, 1, f) != 1 || fwrite(sel, sizeof sel, 1, f) != 1) return fail(ctx, "actions.bin");
    fclose(f);
    snprintf(path, sizeof path, "%s/agent.mfpo", argv[1]);
    if (mfpo_agent_save(ag, path) != MFPO_OK) return fail(ctx, "agent save");
    snprintf(path, sizeof path, "%s/replay.mfpo", argv[1]);
    if (mfpo_replay_save(rb, path) != MFPO_OK) return fail(ctx, "replay save");
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}
