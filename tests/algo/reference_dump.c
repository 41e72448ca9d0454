/*
 * Writes every input and intermediate of one MFPO update to a directory, in the format that
 * tests/reference/mfpo_reference.py reads (its README), so that an independent autodiff
 * implementation can recompute them.
 *
 * usage: reference_dump DIR small|paper
 * The agent first runs a few updates (so that Adam moments are not zero), then the dumped one.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mfpo.h>

#include "algo/update.h"

typedef struct dumper {
    const char *dir;
    FILE *manifest;
    mfpo_agent *ag;
    float *host;
    size_t host_cap;
} dumper;

static void die(const char *what)
{
    fprintf(stderr, "reference_dump: %s\n", what);
    exit(1);
}

/* Writes n floats from backend memory under `name` with the given shape. */
static void put(dumper *d, const char *name, const float *dev, size_t n, int rank, size_t d0, size_t d1, size_t d2)
{
    be_backend *be = d->ag->ctx->be;
    char path[1024];
    if (n > d->host_cap) {
        free(d->host);
        d->host = malloc(n * sizeof(float));
        d->host_cap = n;
        if (!d->host) die("out of memory");
    }
    be->ops->download(be, d->host, dev, n * sizeof(float));
    snprintf(path, sizeof path, "%s/%s.bin", d->dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d->host, sizeof(float), n, f) != n || fclose(f) != 0) die(path);
    fprintf(d->manifest, "%s", name);
    if (rank == 0) fprintf(d->manifest, " 1");
    if (rank >= 1) fprintf(d->manifest, " %zu", d0);
    if (rank >= 2) fprintf(d->manifest, " %zu", d1);
    if (rank >= 3) fprintf(d->manifest, " %zu", d2);
    fprintf(d->manifest, "\n");
}

/* Host-side arrays (already on the host) go through the same writer via a temporary upload. */
static void put_host(dumper *d, const char *name, const float *host, size_t n, int rank, size_t d0, size_t d1)
{
    be_backend *be = d->ag->ctx->be;
    float *dev = be->ops->alloc(be, n * sizeof(float));
    if (!dev) die("out of memory");
    be->ops->upload(be, dev, host, n * sizeof(float));
    put(d, name, dev, n, rank, d0, d1, 0);
    be->ops->free(be, dev);
}

/* Interleaves two per-row blocks (n x k1 and n x k2) into n x (k1 + k2). */
static void put_joined(dumper *d, const char *name, const float *a, size_t k1, const float *b, size_t k2, size_t n)
{
    be_backend *be = d->ag->ctx->be;
    float *ha = malloc(n * k1 * sizeof(float)), *hb = malloc(n * k2 * sizeof(float));
    float *j = malloc(n * (k1 + k2) * sizeof(float));
    if (!ha || !hb || !j) die("out of memory");
    be->ops->download(be, ha, a, n * k1 * sizeof(float));
    be->ops->download(be, hb, b, n * k2 * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        memcpy(j + i * (k1 + k2), ha + i * k1, k1 * sizeof(float));
        memcpy(j + i * (k1 + k2) + k1, hb + i * k2, k2 * sizeof(float));
    }
    put_host(d, name, j, n * (k1 + k2), 2, n, k1 + k2);
    free(ha);
    free(hb);
    free(j);
}

static void put_state(dumper *d, const char *name, size_t off, size_t n)
{
    put(d, name, d->ag->state + off, n, 1, n, 0, 0);
}

static void put_scalar(dumper *d, const char *name, const float *dev)
{
    put(d, name, dev, 1, 0, 0, 0, 0);
}

static void hook(void *user, int stage, const struct algo_update_ws *w)
{
    dumper *d = user;
    mfpo_agent *ag = d->ag;
    size_t B = w->B, S = w->S, A = w->A, K1 = w->K1, K2 = w->K2, P = w->P, N = w->N;
    size_t nu = ag->ul.n_params, nd = ag->dl.n_params, nq = ag->ql.n_params;
    switch (stage) {
    case 0:
        put(d, "s", w->s, B * S, 2, B, S, 0);
        put(d, "a", w->a, B * A, 2, B, A, 0);
        put(d, "r", w->r, B, 1, B, 0, 0);
        put(d, "s2", w->s2, B * S, 2, B, S, 0);
        put(d, "mask", w->mask, B, 1, B, 0, 0);
        break;
    case 1: {
        put(d, "crit_eps", w->crit_eps, B * A, 2, B, A, 0);
        put(d, "crit_next_a", w->next_a, B * A, 2, B, A, 0);
        put(d, "crit_next_logp", w->next_logp, B, 1, B, 0, 0);
        put(d, "crit_target_dist", w->target_dist, B * N, 2, B, N, 0);
        put(d, "crit_loss", w->scalars + SC_LOSS_Q1, 2, 1, 2, 0, 0);
        put(d, "grad_q1", w->g_q[0], nq, 1, nq, 0, 0);
        put(d, "grad_q2", w->g_q[1], nq, 1, nq, 0, 0);
        put_state(d, "params_q1_new", ag->off.q[0], nq);
        put_state(d, "params_q2_new", ag->off.q[1], nq);
        put_state(d, "params_q1t_new", ag->off.qt[0], nq);
        put_state(d, "params_q2t_new", ag->off.qt[1], nq);
        break;
    }
    case 2:
        put(d, "act_tr_normal", w->tr_normal, 2 * B, 2, B, 2, 0);
        put(d, "act_t", w->t, B, 1, B, 0, 0);
        put(d, "act_r", w->r_time, B, 1, B, 0, 0);
        put(d, "act_eps_pol", w->sampler.eps, B * K1 * A, 3, B, K1, A);
        put(d, "pol_a", w->pol_a, B * K1 * A, 3, B, K1, A);
        put(d, "pol_logp", w->pol_logp, B * K1, 2, B, K1, 0);
        put(d, "act_eps_noisy", w->eps_noisy, B * A, 2, B, A, 0);
        put(d, "z_t", w->z_t, B * A, 2, B, A, 0);
        put(d, "act_trunc_n", w->trunc_n, B * K2 * A, 3, B, K2, A);
        put(d, "gauss_a", w->gauss_a, B * K2 * A, 3, B, K2, A);
        put_joined(d, "q_all", w->q, K1, w->q + B * K1, K2, B);
        put(d, "log_w", w->log_w, B * (K1 + K2), 2, B, K1 + K2, 0);
        put(d, "w", w->w, B * (K1 + K2), 2, B, K1 + K2, 0);
        put_joined(d, "ess", w->ess_pol, 1, w->ess_gauss, 1, B);
        put(d, "v_hat", w->v_hat, B * A, 2, B, A, 0);
        put(d, "u_pred", w->u_train.out, B * A, 2, B, A, 0);
        put(d, "u_dot", w->u_train.tout, B * A, 2, B, A, 0);
        put(d, "u_tgt", w->u_tgt, B * A, 2, B, A, 0);
        put_scalar(d, "actor_loss", w->scalars + SC_ACTOR_LOSS);
        put(d, "grad_u", w->g_u, nu, 1, nu, 0, 0);
        put_state(d, "params_u_new", ag->off.u, nu);
        break;
    case 3:
        put(d, "div_tr_normal", w->tr_normal2, 2 * B, 2, B, 2, 0);
        put(d, "div_t", w->t2, B, 1, B, 0, 0);
        put(d, "div_r", w->r2, B, 1, B, 0, 0);
        put(d, "div_eps", w->div_eps, B * A, 2, B, A, 0);
        put(d, "div_probes", w->probes, P * B * A, 3, P, B, A);
        put(d, "div_z_t", w->z_t2, B * A, 2, B, A, 0);
        put(d, "div_v", w->v, B * A, 2, B, A, 0);
        put(d, "div_est", w->div_est, B, 1, B, 0, 0);
        put(d, "d_pred", w->d_train.out, B, 1, B, 0, 0);
        put(d, "d_dot", w->d_train.tout, B, 1, B, 0, 0);
        put(d, "d_tgt", w->d_tgt, B, 1, B, 0, 0);
        put_scalar(d, "div_loss", w->scalars + SC_DIV_LOSS);
        put(d, "grad_d", w->g_d, nd, 1, nd, 0, 0);
        put_state(d, "params_d_new", ag->off.d, nd);
        break;
    case 4: {
        float mean_logp;
        ag->ctx->be->ops->download(ag->ctx->be, &mean_logp, w->scalars + SC_MEAN_LOGP, sizeof mean_logp);
        float entropy = -mean_logp;
        put_host(d, "entropy", &entropy, 1, 0, 0, 0);
        put_scalar(d, "alpha_loss", w->scalars + SC_ALPHA_LOSS);
        put_scalar(d, "grad_log_alpha", w->g_alpha);
        put_state(d, "log_alpha_new", ag->off.log_alpha, 1);
        break;
    }
    default:
        break;
    }
}

static void write_config(const char *dir, const mfpo_agent *ag)
{
    char path[1024];
    const mfpo_agent_config *c = &ag->cfg;
    snprintf(path, sizeof path, "%s/config.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) die(path);
    fprintf(f, "obs_dim=%zu\nact_dim=%zu\nhidden=%zu\ndepth=%zu\nsteps=%zu\nk1=%zu\nk2=%zu\nprobes=%zu\natoms=%zu\n",
            c->obs_dim, c->act_dim, c->hidden_width, c->hidden_depth, c->sampling_steps, c->policy_samples,
            c->gaussian_samples, c->hutchinson_probes, c->atoms);
    fprintf(f, "v_min=%.9g\nv_max=%.9g\ngamma=%.9g\ntau=%.9g\nlr_policy=%.9g\nlr_divergence=%.9g\nlr_critic=%.9g\n",
            (double)c->v_min, (double)c->v_max, (double)c->gamma, (double)c->tau, (double)c->lr_policy,
            (double)c->lr_divergence, (double)c->lr_critic);
    fprintf(f, "lr_alpha=%.9g\nclipped_double_q=%d\nauto_alpha=%d\ntarget_entropy=%.9g\nflow_fraction=%.9g\n",
            (double)c->lr_alpha, c->clipped_double_q, c->auto_alpha,
            (double)(c->target_entropy_coef * (float)c->act_dim), (double)c->flow_fraction);
    fprintf(f, "batch=%zu\nadam_beta1=%.9g\nadam_beta2=%.9g\nadam_eps=%.9g\nt_eps=%.9g\nfourier=%zu\ntime_dim=%zu\n",
            c->batch_size, (double)c->adam_beta1, (double)c->adam_beta2, (double)c->adam_eps, 1e-5, c->fourier_features,
            c->time_embed_dim);
    fprintf(f, "adam_step=%llu\n", (unsigned long long)ag->critic_steps);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "small") && strcmp(argv[2], "paper"))) {
        fprintf(stderr, "usage: %s DIR small|paper\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int paper = !strcmp(argv[2], "paper");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("cannot create the output directory");

    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = paper ? 2 : 1; /* the paper size also covers the backend's row-parallel paths */
    o.seed = 1234;
    mfpo_context *ctx;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) die(mfpo_last_error(NULL));

    size_t S = paper ? 17 : 4, A = paper ? 6 : 2;
    mfpo_agent_config c;
    mfpo_agent_config_init(&c, S, A);
    if (!paper) {
        c.hidden_width = 32;
        c.hidden_depth = 2;
        c.batch_size = 16;
        c.policy_samples = 4;
        c.gaussian_samples = 8;
        c.atoms = 21;
        c.v_min = -50.0f;
        c.v_max = 50.0f;
        c.init_alpha = 0.1f;
        c.fourier_features = 8;
        c.time_embed_dim = 16;
        c.clipped_double_q = 0;
    }
    mfpo_agent *ag;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK) die(mfpo_last_error(ctx));
    mfpo_replay *rb;
    if (mfpo_replay_create(ctx, S, A, 4096, &rb) != MFPO_OK) die(mfpo_last_error(ctx));

    /* transitions with some structure: reward prefers actions near a state-dependent point */
    srand(7);
    float *obs = malloc(S * sizeof(float)), *nobs = malloc(S * sizeof(float)), *act = malloc(A * sizeof(float));
    for (int i = 0; i < 2000; i++) {
        float rew = 0.0f;
        for (size_t j = 0; j < S; j++) obs[j] = 2.0f * rand() / (float)RAND_MAX - 1.0f;
        for (size_t j = 0; j < A; j++) {
            act[j] = 2.0f * rand() / (float)RAND_MAX - 1.0f;
            rew -= (act[j] - 0.5f * obs[j % S]) * (act[j] - 0.5f * obs[j % S]);
        }
        for (size_t j = 0; j < S; j++) nobs[j] = obs[j] + 0.1f * act[j % A];
        if (mfpo_replay_add(rb, obs, act, (paper ? 5.0f : 1.0f) * rew, nobs, i % 17 == 0) != MFPO_OK)
            die(mfpo_last_error(ctx));
    }
    for (int i = 0; i < 3; i++)
        if (mfpo_update(ag, rb, NULL) != MFPO_OK) die(mfpo_last_error(ctx));

    dumper d = { dir, NULL, ag, NULL, 0 };
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    d.manifest = fopen(path, "w");
    if (!d.manifest) die(path);
    write_config(dir, ag);
    size_t nu = ag->ul.n_params, nd = ag->dl.n_params, nq = ag->ql.n_params;
    put_state(&d, "params_u", ag->off.u, nu);
    put_state(&d, "params_d", ag->off.d, nd);
    put_state(&d, "params_q1", ag->off.q[0], nq);
    put_state(&d, "params_q2", ag->off.q[1], nq);
    put_state(&d, "params_q1t", ag->off.qt[0], nq);
    put_state(&d, "params_q2t", ag->off.qt[1], nq);
    put_state(&d, "log_alpha", ag->off.log_alpha, 1);
    put_state(&d, "m_u", ag->off.m_u, nu);
    put_state(&d, "v_u", ag->off.v_u, nu);
    put_state(&d, "m_d", ag->off.m_d, nd);
    put_state(&d, "v_d", ag->off.v_d, nd);
    put_state(&d, "m_q1", ag->off.m_q[0], nq);
    put_state(&d, "v_q1", ag->off.v_q[0], nq);
    put_state(&d, "m_q2", ag->off.m_q[1], nq);
    put_state(&d, "v_q2", ag->off.v_q[1], nq);
    put_state(&d, "m_alpha", ag->off.m_alpha, 1);
    put_state(&d, "v_alpha", ag->off.v_alpha, 1);

    ag->hook = hook;
    ag->hook_user = &d;
    if (mfpo_update(ag, rb, NULL) != MFPO_OK) die(mfpo_last_error(ctx));
    ag->hook = NULL;
    fclose(d.manifest);

    free(d.host);
    free(obs);
    free(nobs);
    free(act);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    printf("reference_dump: wrote %s (%s)\n", dir, argv[2]);
    return 0;
}
