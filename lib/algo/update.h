/*
 * The agent's trainable state and the workspace of one MFPO update (docs/algorithm.md §4), allocated once at
 * agent creation so that mfpo_update() never allocates.
 */
#ifndef MFPO_ALGO_UPDATE_H
#define MFPO_ALGO_UPDATE_H

#include "internal.h"
#include "reduce.h" /* data-parallel gradient reduction */

/* Offsets (floats) of every trainable quantity in the agent's one state buffer. Keeping all of it
 * in one buffer makes the non-finite guard's snapshot and the checkpoint single copies. */
typedef struct algo_state_layout {
    size_t u, d, q[2], qt[2], log_alpha;
    size_t m_u, v_u, m_d, v_d, m_q[2], v_q[2], m_alpha, v_alpha;
    size_t total;
} algo_state_layout;

void algo_state_layout_init(algo_state_layout *s, size_t n_u, size_t n_d, size_t n_q);

/* Indices of the scalars an update leaves in ws->scalars (one download at the end). */
enum {
    SC_LOSS_Q1,
    SC_LOSS_Q2,
    SC_ACTOR_LOSS,
    SC_DIV_LOSS,
    SC_MEAN_LOGP,
    SC_ALPHA_LOSS,
    SC_ALPHA_GRAD,
    SC_MEAN_Q,
    SC_ESS_POL,
    SC_ESS_GAUSS,
    SC_COUNT
};

/* Offsets of an update's random draws from its key: each draw has its own Philox stream. */
enum {
    RNG_CRIT_EPS,
    RNG_TIMES,
    RNG_POLICY,
    RNG_NOISY,
    RNG_GAUSS,
    RNG_TIMES2,
    RNG_DIV_EPS,
    RNG_PROBES,
    RNG_STREAMS_PER_UPDATE
};

typedef struct algo_update_ws {
    size_t B, S, A, K1, K2, P, N; /* batch, obs, act, proposals, probes, atoms */
    float *block;
    /* batch (§4 input) */
    float *s, *a, *r, *s2, *mask, *host_batch;
    /* (a) critic */
    float *crit_eps, *next_a, *next_logp, *xq, *target_dist, *g_logits[2], *g_q[2], *q_online[2], *q_batch;
    nn_cache q_train[2]; /* online critics on the batch */
    /* shared inference caches of the two critics (targets at s' and scoring in (b)) */
    nn_cache q_infer[2];
    /* (b) actor */
    float *tr_normal, *t, *r_time, *h;
    float *pol_a, *pol_logp;             /* B K1 x A, B K1 */
    float *eps_noisy, *z_t;              /* B x A */
    float *uniforms, *trunc_n, *gauss_a; /* B K2 x A */
    float *q1, *q2, *q;                  /* B (K1 + K2) */
    float *log_w, *w, *ess_pol, *ess_gauss, *v_hat;
    float *xu; /* B x (A + S): [z_t | s] */
    float *u_tgt, *g_u_out, *g_u;
    nn_cache u_train;
    /* (c) divergence */
    float *tr_normal2, *t2, *r2, *h2, *zeros, *div_eps, *z_t2, *probes, *div_est, *v;
    float *d_tgt, *g_d_out, *g_d;
    nn_cache d_train;
    /* (d) temperature */
    float *g_alpha;
    float *scalars; /* SC_COUNT */
    /* g_q[0], g_q[1], g_u, g_d and g_alpha are views of this one backend buffer, so that a
     * data-parallel update reduces them with one call per part (lib/algo/reduce.c) */
    float *grad;
    algo_grad_layout grad_layout;
    uint64_t *steps;      /* backend: Adam step counts {critic, actor} of this update */
    const uint64_t *key;  /* this update's random key (RNG_* offsets) */
    algo_sampler sampler; /* B K1 rows with likelihood */
} algo_update_ws;

struct mfpo_agent {
    mfpo_context *ctx;
    mfpo_agent_config cfg;
    nn_layout ul, dl, ql;
    algo_state_layout off;
    float *state, *backup; /* backend buffers of off.total floats */
    struct mfpo_policy policy;
    struct mfpo_divergence divergence;
    struct mfpo_critic critic;
    uint64_t updates, critic_steps, actor_steps;
    algo_update_ws ws;
    algo_sampler act_sampler; /* exploration and selection, grows on demand */
    float *act_io, *act_q[3];
    nn_cache act_q_cache[2];
    size_t act_cap;
    algo_update_hook hook;
    void *hook_user;
    /* recorded updates (backends with graph ops): [0] critic only, [1] full; see mfpo_update() */
    void *graph[2];
    int graph_direct[2]; /* that kind ran directly once (kernels and cuBLAS loaded before recording) */
    int graphs_off;      /* a recording failed once: run op by op from then on */
    algo_reduce reduce;  /* data-parallel gradient all-reduce (include/mfpo/parallel.h); fn NULL: none */
};

int algo_update_ws_init(algo_update_ws *ws, mfpo_agent *ag);
void algo_update_ws_free(algo_update_ws *ws, be_backend *be);

/* The four stages of §4 on the batch already in ws (a: critic; b: actor; c: divergence; d: alpha):
 * algo_update_prepare() then algo_update_stages(). */
mfpo_status algo_update_run(mfpo_agent *ag);

/* The host side of one update: advances the step counters, uploads the Adam steps and reserves the
 * update's random streams (uploading the key). Returns 1 when (b)-(d) run this time. */
int algo_update_prepare(mfpo_agent *ag);

/* The backend ops of one update, and nothing else: no transfers, nothing that differs between two
 * updates of the same kind except through backend memory, so that a backend may record them once
 * (graph_begin/graph_end) and replay them. The stage hook, when set, runs between stages. */
void algo_update_stages(mfpo_agent *ag, int actor);

#endif
