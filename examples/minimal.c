/* A minimal trainer: MFPO on a small simulator of your own through mfpo_train(). This is the
 * README's snippet (a test keeps the two identical); the build compiles it and the tests run it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <mfpo.h>

/* Your simulator: a cart on a 4 m rail, pushed by a force in [-1, 1]; the reward asks for it to
 * rest at the centre. Leaving the rail ends the episode (a termination); mfpo_train() cuts
 * episodes at its time limit (a truncation). */
typedef struct cart {
    double x, v; /* position and velocity */
} cart;

static mfpo_status cart_reset(void *user, uint64_t seed, float *obs)
{
    cart *c = user;
    c->x = (double)(seed * 2654435761u % 1000) / 500.0 - 1.0; /* a start in [-1, 1) from the seed */
    c->v = 0.0;
    obs[0] = (float)c->x;
    obs[1] = (float)c->v;
    return MFPO_OK;
}

static mfpo_status cart_step(void *user, const float *action, float *obs, float *reward, int *terminated,
                             int *truncated)
{
    cart *c = user;
    c->v += 0.05 * action[0];
    c->x += 0.05 * c->v;
    obs[0] = (float)c->x;
    obs[1] = (float)c->v;
    *reward = (float)(-c->x * c->x - 0.1 * c->v * c->v);
    *terminated = fabs(c->x) > 2.0;
    *truncated = 0;
    return MFPO_OK;
}

int main(int argc, char **argv)
{
    /* environment steps to train: 20 000, or the first argument */
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;

    mfpo_context_options copt;
    mfpo_context_options_init(&copt);
    copt.seed = 1;
    mfpo_context *ctx;
    if (mfpo_context_create(&copt, &ctx) != MFPO_OK) {
        fprintf(stderr, "minimal: %s\n", mfpo_last_error(NULL));
        return 1;
    }

    cart sim;
    mfpo_env env;
    mfpo_env_init(&env);
    env.obs_dim = 2;
    env.act_dim = 1; /* actions in [-1, 1]: the default bounds */
    env.reset = cart_reset;
    env.step = cart_step;
    env.user = &sim;

    /* the paper's defaults, with networks and batch sized for a small task */
    mfpo_agent_config cfg;
    mfpo_agent_config_init(&cfg, env.obs_dim, env.act_dim);
    cfg.hidden_width = 64;
    cfg.hidden_depth = 2;
    cfg.batch_size = 64;
    cfg.policy_samples = 4;
    cfg.gaussian_samples = 8;

    mfpo_train_options topt;
    mfpo_train_options_init(&topt);
    topt.total_steps = steps;
    topt.warmup_steps = steps / 4 < 1000 ? steps / 4 : 1000;
    topt.episode_limit = 200;
    topt.eval_env = NULL; /* evaluated once at the end instead */

    mfpo_agent *agent = NULL;
    mfpo_replay *replay = NULL;
    double mean_return = 0.0;
    mfpo_status s = mfpo_agent_create(ctx, &cfg, &agent);
    if (s == MFPO_OK) s = mfpo_replay_create(ctx, env.obs_dim, env.act_dim, 100000, &replay);
    if (s == MFPO_OK) s = mfpo_train(agent, replay, &env, &topt);
    if (s == MFPO_OK) s = mfpo_evaluate(agent, &env, 10, 200, 12345, &mean_return);
    if (s == MFPO_OK) s = mfpo_agent_save(agent, "minimal_agent.mfpo");
    if (s == MFPO_OK)
        printf("minimal: %llu steps, mean return %.1f over 10 episodes, agent saved to minimal_agent.mfpo\n",
               (unsigned long long)steps, mean_return);
    else
        fprintf(stderr, "minimal: %s\n", mfpo_last_error(ctx));

    mfpo_replay_destroy(replay);
    mfpo_agent_destroy(agent);
    mfpo_context_destroy(ctx);
    return s == MFPO_OK ? 0 : 1;
}
