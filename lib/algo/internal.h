/*
 * Internals of the MFPO handles (policy, divergence, critic, agent) and the algorithm's entry
 * points. Everything here runs on the backend interface; nothing here knows which backend it is.
 */
#ifndef MFPO_ALGO_INTERNAL_H
#define MFPO_ALGO_INTERNAL_H

#include <mfpo/agent.h>
#include <mfpo/config.h>
#include <mfpo/nets.h>

#include "../core/ctx.h"
#include "../backend/streams.h"
#include "kernels.h"
#include "../nn/net.h"

/* ------------------------------------------------------------------ configuration */

/* Validates a configuration; on error records a message naming the field (prefixed by `who`). */
mfpo_status algo_config_check(mfpo_context *ctx, const char *who, const mfpo_agent_config *cfg);
/* Copies a caller's config (of its struct_size) over the defaults into *out. */
mfpo_status algo_config_import(mfpo_context *ctx, const char *who, const mfpo_agent_config *in, mfpo_agent_config *out);

void algo_flow_layout(nn_layout *l, const mfpo_agent_config *cfg, size_t out);
void algo_critic_layout(nn_layout *l, const mfpo_agent_config *cfg);

/* ------------------------------------------------------------------ sampler (docs/algorithm.md §3) */

/* Workspace of the T-step sampler for up to `cap` rows. Row i's state is obs[i / group]: the
 * networks' state columns are computed once per state (nn_forward_grouped). */
typedef struct algo_sampler {
    size_t act_dim, steps;
    nn_cache u_cache, d_cache; /* inference caches, one time row */
    float *z;                  /* cap x A: the sample as it moves from noise to action */
    float *eps;                /* cap x A */
    float *times;              /* 2 T values: (t, h) of each step, i = T..1 */
    const float *obs;          /* set by algo_sampler_set_obs */
    size_t lds, group;
} algo_sampler;

int algo_sampler_init(algo_sampler *s, be_backend *be, const nn_layout *u, const nn_layout *d, size_t cap,
                      const mfpo_agent_config *cfg);
void algo_sampler_free(algo_sampler *s, be_backend *be);

/* Sets the observations the next run conditions on: backend rows of S with leading dimension lds;
 * sample row i uses observation i / repeat. The buffer must stay valid during the run. */
void algo_sampler_set_obs(algo_sampler *s, const float *obs, size_t lds, size_t repeat);

/* Runs §3 on the first n rows. The noise is drawn into s->eps from random key `key` at `offset`
 * (be_reserve_streams), or, with key NULL, taken as the caller left it in s->eps. Writes
 * actions (n x A, leading dimension ldo) and, when d_params is given, log-likelihoods. */
void algo_sampler_run(algo_sampler *s, be_backend *be, const nn_layout *ul, const float *u_params, const nn_layout *dl,
                      const float *d_params, size_t n, const uint64_t *key, uint64_t offset, float *actions, size_t ldo,
                      float *logp);

/* ------------------------------------------------------------------ handles */

struct mfpo_policy {
    mfpo_context *ctx;
    mfpo_agent_config cfg;
    nn_layout layout;
    float *params;        /* backend buffer */
    int part_of_agent;    /* then params points into the agent's state and destroy ignores it */
    algo_sampler sampler; /* grows on demand for the public sampling calls */
    float *io;            /* backend staging for obs in / actions and logp out */
    size_t io_cap;
};

struct mfpo_divergence {
    mfpo_context *ctx;
    mfpo_agent_config cfg;
    nn_layout layout;
    float *params;
    int part_of_agent;
};

struct mfpo_critic {
    mfpo_context *ctx;
    mfpo_agent_config cfg;
    nn_layout layout;
    float *online[2], *target[2];
    int part_of_agent;
    nn_cache cache[2]; /* inference, grows on demand for mfpo_critic_q */
    float *io;
    size_t io_cap;
};

/* Frees the workspaces the public sampling/scoring calls grew (not the parameters). */
void algo_policy_release_workspace(struct mfpo_policy *p);
void algo_critic_release_workspace(struct mfpo_critic *c);

/* Initializes backend memory dst with a fresh network of layout l (docs/algorithm.md §2 init, context stream). */
mfpo_status algo_init_net_params(mfpo_context *ctx, const nn_layout *l, float fourier_std, float *dst);

/* Outputs that leave the library must be finite: extreme (if finite) inputs can overflow a
 * network to NaN, which no clamp repairs. Returns MFPO_ERR_NON_FINITE naming the output row, or
 * first the status of a failure the backend recorded while computing them (lib/backend/error.h). */
mfpo_status algo_check_outputs(mfpo_context *ctx, const char *who, const char *what, const float *x, size_t n,
                               size_t row_width);

/* Samples actions (and, with d, log-likelihoods) for n finite observations; noise NULL draws it
 * from the context stream. Grows the policy's workspace on demand. Arguments checked by the caller. */
mfpo_status algo_policy_sample(struct mfpo_policy *p, const struct mfpo_divergence *d, const float *obs,
                               const float *noise, size_t n, float *actions, float *logp, const char *who);

/* Q of n (s, a) pairs with the online (use_targets 0) or target critics. Arguments checked by the caller. */
mfpo_status algo_critic_q(struct mfpo_critic *c, const float *obs, const float *actions, size_t n, int use_targets,
                          float *q, const char *who);

/* Scores n (s, a) pairs with both critics of a set (online or target) and combines them per the
 * configuration into q (n): row i pairs action row i (n x A, leading dimension lda) with state
 * row i / group (leading dimension lds), so a state's share of the first layer is formed once.
 * Uses the two given inference caches. */
void algo_critic_score(be_backend *be, const mfpo_agent_config *cfg, const nn_layout *l, float *const params[2],
                       nn_cache cache[2], size_t n, const float *act, size_t lda, const float *obs, size_t lds,
                       size_t group, float *q1, float *q2, float *q);

/* Stage hook for tests: called after each stage of an update (0 = batch drawn, 1..4 = §4 a..d). */
struct algo_update_ws;
typedef void (*algo_update_hook)(void *user, int stage, const struct algo_update_ws *ws);

#endif
